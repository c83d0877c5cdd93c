//! Connectivity checks (疎通確認, R5): what a check is, how its results turn into states, path awareness and
//! maintenance windows. Pure rules: no I/O, no clock (time is passed in).
//!
//! * A check probes one registered target (a terminal or a network node) with ICMP, TCP, HTTP(S) or DNS; the
//!   address it probes must be the registered IP of that target ([`CheckInput::validate`]).
//! * Results ([`ProbeStatus`]) pass through a flap damper ([`Damper`]): the state changes only after `n`
//!   consecutive results agree; every change is a [`StateChange`] with its cause and the results behind it.
//! * Path awareness ([`probable_failure_point`]): when a node on the way to the prefecture is down, checks
//!   behind it are 影響 (impacted) and the event names that node as the probable point of failure.
//! * Maintenance windows ([`MaintenanceWindow`]) suppress alerts and are excluded from availability
//!   (the outage windows of the store's `outages` module).

use crate::text::{self, Line};
use crate::time::jst;
use crate::{DomainError, FieldError};
use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};
use std::net::IpAddr;

/// The message a check reports when the kernel lets it send no ICMP at all.
pub const ICMP_NOT_PERMITTED: &str =
    "ICMPを送信できません: ping_group_range に含まれず CAP_NET_RAW もありません";

/// What a check probes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// ICMP echo.
    Icmp,
    /// TCP connect (closed with RST).
    Tcp,
    /// HTTP or HTTPS request.
    Http,
    /// DNS query against the target as server.
    Dns,
}

impl CheckKind {
    /// All kinds in display order.
    pub const ALL: [CheckKind; 4] = [
        CheckKind::Icmp,
        CheckKind::Tcp,
        CheckKind::Http,
        CheckKind::Dns,
    ];

    /// Stored/API name.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Icmp => "icmp",
            CheckKind::Tcp => "tcp",
            CheckKind::Http => "http",
            CheckKind::Dns => "dns",
        }
    }

    /// Parses the stored/API name.
    pub fn parse(s: &str) -> Option<CheckKind> {
        CheckKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Label for screens.
    pub fn label_ja(self) -> &'static str {
        match self {
            CheckKind::Icmp => "ICMP (ping)",
            CheckKind::Tcp => "TCP接続",
            CheckKind::Http => "HTTP(S)",
            CheckKind::Dns => "DNS",
        }
    }
}

/// What a check is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A registered terminal.
    Terminal,
    /// A registered network node of the 集約ネットワーク.
    Node,
}

impl TargetKind {
    /// Stored/API name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Terminal => "terminal",
            TargetKind::Node => "node",
        }
    }

    /// Parses the stored/API name.
    pub fn parse(s: &str) -> Option<TargetKind> {
        match s {
            "terminal" => Some(TargetKind::Terminal),
            "node" => Some(TargetKind::Node),
            _ => None,
        }
    }
}

/// The kind-specific part of a check: what exactly is probed. Stored as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProbeSpec {
    /// ICMP echo to `addr`.
    Icmp { addr: IpAddr },
    /// TCP connect to `addr:port`.
    Tcp { addr: IpAddr, port: u16 },
    /// HTTP(S) GET of `https?://addr:port/path`.
    Http {
        addr: IpAddr,
        port: u16,
        tls: bool,
        /// Host header and TLS server name (defaults to the address).
        host: String,
        path: String,
        /// Expected status (e.g. 200).
        expect_status: u16,
        /// Text the body must contain (empty: no condition).
        body_contains: String,
        /// With TLS: degraded when the certificate expires within this many days (0: no condition).
        cert_warn_days: u32,
    },
    /// DNS query of `name` (A/AAAA) against the server `addr:port`.
    Dns {
        addr: IpAddr,
        port: u16,
        name: String,
        /// Address the answer must contain (None: any answer).
        expect: Option<IpAddr>,
    },
}

impl ProbeSpec {
    /// The kind of this spec.
    pub fn kind(&self) -> CheckKind {
        match self {
            ProbeSpec::Icmp { .. } => CheckKind::Icmp,
            ProbeSpec::Tcp { .. } => CheckKind::Tcp,
            ProbeSpec::Http { .. } => CheckKind::Http,
            ProbeSpec::Dns { .. } => CheckKind::Dns,
        }
    }

    /// The address the probe sends packets to.
    pub fn addr(&self) -> IpAddr {
        match self {
            ProbeSpec::Icmp { addr }
            | ProbeSpec::Tcp { addr, .. }
            | ProbeSpec::Http { addr, .. }
            | ProbeSpec::Dns { addr, .. } => *addr,
        }
    }

    /// A short human description (e.g. `tcp 10.1.2.3:443`).
    pub fn describe(&self) -> String {
        match self {
            ProbeSpec::Icmp { addr } => format!("ICMP {addr}"),
            ProbeSpec::Tcp { addr, port } => format!("TCP {addr}:{port}"),
            ProbeSpec::Http {
                addr,
                port,
                tls,
                path,
                ..
            } => format!(
                "{}://{}{}",
                if *tls { "https" } else { "http" },
                fmt_sock(*addr, *port),
                path
            ),
            ProbeSpec::Dns {
                addr, port, name, ..
            } => format!("DNS {name} @{}", fmt_sock(*addr, *port)),
        }
    }
}

fn fmt_sock(addr: IpAddr, port: u16) -> String {
    match addr {
        IpAddr::V6(a) => format!("[{a}]:{port}"),
        IpAddr::V4(a) => format!("{a}:{port}"),
    }
}

/// The input of a new check, as a form or the API sends it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckInput {
    pub name: String,
    /// `terminal` or `node`.
    pub target_kind: String,
    pub target_id: i64,
    /// `icmp`, `tcp`, `http`, `dns`.
    pub kind: String,
    /// The address to probe; must be the target's registered IP.
    pub address: String,
    pub port: Option<u16>,
    /// HTTP: `http` or `https` (default http).
    pub scheme: String,
    pub host: String,
    pub path: String,
    pub expect_status: Option<u16>,
    pub body_contains: String,
    pub cert_warn_days: Option<u32>,
    /// DNS: the name to resolve and the expected answer.
    pub dns_name: String,
    pub dns_expect: String,
    pub interval_s: Option<u32>,
    pub timeout_ms: Option<u32>,
    pub retries: Option<u32>,
    pub degraded_ms: Option<u32>,
    pub flap_n: Option<u32>,
}

/// A validated check, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckDraft {
    pub name: String,
    pub target_kind: TargetKind,
    pub target_id: i64,
    pub spec: ProbeSpec,
    pub settings: CheckSettings,
}

/// Timing and thresholds of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSettings {
    /// Seconds between runs (5..=86400).
    pub interval_s: u32,
    /// Hard timeout of one attempt in ms (50..=60000).
    pub timeout_ms: u32,
    /// Extra attempts before a run counts as down (0..=5).
    pub retries: u32,
    /// A run slower than this (ms) is degraded (0: never).
    pub degraded_ms: u32,
    /// Consecutive results needed to change state (1..=10).
    pub flap_n: u32,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            interval_s: 60,
            timeout_ms: 2000,
            retries: 1,
            degraded_ms: 500,
            flap_n: 3,
        }
    }
}

impl CheckInput {
    /// Validates the input. `registered_ip` is the IP registered for the target (terminal or node):
    /// a probe may reach only that address, so any other address is refused.
    pub fn validate(&self, registered_ip: Option<&str>) -> Result<CheckDraft, DomainError> {
        let mut errors = Vec::new();
        let name = text::line::<100>(&mut errors, "name", "名称", &self.name, true).into_string();
        let target_kind = TargetKind::parse(self.target_kind.trim());
        if target_kind.is_none() {
            errors.push(FieldError::new(
                "target_kind",
                "対象の種別（端末またはネットワーク機器）を選んでください。",
            ));
        }
        if self.target_id <= 0 {
            errors.push(FieldError::new("target_id", "対象を選んでください。"));
        }
        let kind = CheckKind::parse(self.kind.trim());
        if kind.is_none() {
            errors.push(FieldError::new(
                "kind",
                "種類は icmp / tcp / http / dns のいずれかです。",
            ));
        }
        let addr: Option<IpAddr> = match self.address.trim().parse() {
            Ok(a) => Some(a),
            Err(_) => {
                errors.push(FieldError::new(
                    "address",
                    "宛先はIPアドレスで入力してください。",
                ));
                None
            }
        };
        if let Some(a) = addr {
            let registered: Option<IpAddr> = registered_ip.and_then(|s| s.trim().parse().ok());
            match registered {
                None => errors.push(FieldError::new(
                    "address",
                    "対象にIPアドレスが登録されていません。台帳に登録された対象にだけ疎通確認できます。",
                )),
                Some(r) if r != a => errors.push(FieldError::new(
                    "address",
                    format!(
                        "宛先 {a} は対象の登録IPアドレス（{r}）と一致しません。台帳に登録された宛先にだけ疎通確認できます。"
                    ),
                )),
                Some(_) => {}
            }
        }
        let settings = CheckSettings {
            interval_s: self.interval_s.unwrap_or(60),
            timeout_ms: self.timeout_ms.unwrap_or(2000),
            retries: self.retries.unwrap_or(1),
            degraded_ms: self.degraded_ms.unwrap_or(500),
            flap_n: self.flap_n.unwrap_or(3),
        };
        if !(5..=86_400).contains(&settings.interval_s) {
            errors.push(FieldError::new(
                "interval_s",
                "間隔は5秒から86400秒の範囲で入力してください。",
            ));
        }
        if !(50..=60_000).contains(&settings.timeout_ms) {
            errors.push(FieldError::new(
                "timeout_ms",
                "タイムアウトは50msから60000msの範囲で入力してください。",
            ));
        }
        if settings.retries > 5 {
            errors.push(FieldError::new("retries", "再試行は0から5回です。"));
        }
        if !(1..=10).contains(&settings.flap_n) {
            errors.push(FieldError::new(
                "flap_n",
                "状態変化に必要な連続回数は1から10です。",
            ));
        }
        let port = |errors: &mut Vec<FieldError>, default: Option<u16>| -> u16 {
            match self.port.or(default) {
                Some(p) if p > 0 => p,
                _ => {
                    errors.push(FieldError::new("port", "ポート番号を入力してください。"));
                    0
                }
            }
        };
        let spec = match (kind, addr) {
            (Some(CheckKind::Icmp), Some(addr)) => Some(ProbeSpec::Icmp { addr }),
            (Some(CheckKind::Tcp), Some(addr)) => Some(ProbeSpec::Tcp {
                addr,
                port: port(&mut errors, None),
            }),
            (Some(CheckKind::Http), Some(addr)) => {
                let tls = match self.scheme.trim() {
                    "" | "http" => false,
                    "https" => true,
                    _ => {
                        errors.push(FieldError::new("scheme", "http または https です。"));
                        false
                    }
                };
                let path = if self.path.trim().is_empty() {
                    "/".to_string()
                } else {
                    self.path.trim().to_string()
                };
                if !path.starts_with('/')
                    || path.chars().count() > 2000
                    || path.chars().any(|c| c.is_control() || c == ' ')
                {
                    errors.push(FieldError::new(
                        "path",
                        "パスは / で始め、空白や制御文字を含めず2000文字以内で入力してください。",
                    ));
                } else {
                    text::guard(&mut errors, "path", "パス", &path);
                }
                let host = text::line::<253>(&mut errors, "host", "ホスト名", &self.host, false)
                    .into_string();
                if host.contains(' ') {
                    errors.push(FieldError::new("host", "ホスト名に空白は使えません。"));
                }
                let body_contains = text::line::<200>(
                    &mut errors,
                    "body_contains",
                    "応答に含む文字列",
                    &self.body_contains,
                    false,
                )
                .into_string();
                Some(ProbeSpec::Http {
                    addr,
                    port: port(&mut errors, Some(if tls { 443 } else { 80 })),
                    tls,
                    host,
                    path,
                    expect_status: self.expect_status.unwrap_or(200),
                    body_contains,
                    cert_warn_days: self.cert_warn_days.unwrap_or(0),
                })
            }
            (Some(CheckKind::Dns), Some(addr)) => {
                let name = self.dns_name.trim().to_string();
                if name.is_empty()
                    || name.len() > 253
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                {
                    errors.push(FieldError::new(
                        "dns_name",
                        "問い合わせる名前（例: juki.example.lg.jp）を253文字以内で入力してください。",
                    ));
                } else {
                    text::guard(&mut errors, "dns_name", "問い合わせる名前", &name);
                }
                let expect = if self.dns_expect.trim().is_empty() {
                    None
                } else {
                    match self.dns_expect.trim().parse() {
                        Ok(a) => Some(a),
                        Err(_) => {
                            errors.push(FieldError::new(
                                "dns_expect",
                                "期待する応答はIPアドレスで入力してください。",
                            ));
                            None
                        }
                    }
                };
                Some(ProbeSpec::Dns {
                    addr,
                    port: port(&mut errors, Some(53)),
                    name,
                    expect,
                })
            }
            _ => None,
        };
        match (errors.is_empty(), target_kind, spec) {
            (true, Some(target_kind), Some(spec)) => Ok(CheckDraft {
                name,
                target_kind,
                target_id: self.target_id,
                spec,
                settings,
            }),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// The result of one run of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    /// Answered within the degraded threshold and met every condition.
    Up,
    /// Answered, but slowly (or the TLS certificate expires soon).
    Degraded,
    /// No answer, refused, timed out, or a condition failed.
    Down,
    /// Could not be tried (e.g. ICMP not permitted on this host).
    Unknown,
}

impl ProbeStatus {
    /// Compact code stored with each result.
    pub fn code(self) -> i16 {
        match self {
            ProbeStatus::Up => 0,
            ProbeStatus::Degraded => 1,
            ProbeStatus::Down => 2,
            ProbeStatus::Unknown => 3,
        }
    }

    /// From the stored code.
    pub fn from_code(c: i64) -> ProbeStatus {
        match c {
            0 => ProbeStatus::Up,
            1 => ProbeStatus::Degraded,
            2 => ProbeStatus::Down,
            _ => ProbeStatus::Unknown,
        }
    }

    /// The state this result points to.
    pub fn state(self) -> State {
        match self {
            ProbeStatus::Up => State::Up,
            ProbeStatus::Degraded => State::Degraded,
            ProbeStatus::Down => State::Down,
            ProbeStatus::Unknown => State::Unknown,
        }
    }
}

/// The state of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Unknown,
    Up,
    Degraded,
    Down,
}

impl State {
    /// Stored/API name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Up => "up",
            State::Degraded => "degraded",
            State::Down => "down",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<State> {
        [State::Unknown, State::Up, State::Degraded, State::Down]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// Label for screens (readable without colour).
    pub fn label_ja(self) -> &'static str {
        match self {
            State::Unknown => "不明",
            State::Up => "正常",
            State::Degraded => "低下",
            State::Down => "停止",
        }
    }
}

/// One observed result (what the damper keeps as evidence for a change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// Unix seconds.
    pub ts: i64,
    pub status: ProbeStatus,
    pub latency_ms: Option<u32>,
    pub message: String,
}

/// A change of state, with its cause and the results behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    pub from: State,
    pub to: State,
    /// Unix seconds of the result that completed the change.
    pub ts: i64,
    /// Why (Japanese).
    pub cause: String,
    /// The consecutive results that made the change.
    pub results: Vec<Observation>,
}

/// Flap damping: the state changes only after `n` consecutive results agree on a new state, from
/// [`State::Unknown`] too: a first result that happens to be slow or lost (a busy host, a probe started
/// under load) must not set a wrong first state that the next results then reverse.
#[derive(Debug, Clone)]
pub struct Damper {
    state: State,
    streak: VecDeque<Observation>,
}

impl Default for Damper {
    fn default() -> Self {
        Damper::new(State::Unknown)
    }
}

impl Damper {
    /// Starts in `state` (e.g. restored from storage).
    pub fn new(state: State) -> Damper {
        Damper {
            state,
            streak: VecDeque::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Feeds one result; returns the change it completes, if any.
    pub fn observe(&mut self, obs: Observation, n: u32) -> Option<StateChange> {
        let n = n.max(1) as usize;
        let target = obs.status.state();
        if target == self.state {
            self.streak.clear();
            return None;
        }
        if self
            .streak
            .back()
            .is_some_and(|last| last.status.state() != target)
        {
            self.streak.clear();
        }
        self.streak.push_back(obs);
        if self.streak.len() < n {
            return None;
        }
        let results: Vec<Observation> = self.streak.drain(..).collect();
        let last = results.last().cloned().unwrap_or_else(|| Observation {
            ts: 0,
            status: ProbeStatus::Unknown,
            latency_ms: None,
            message: String::new(),
        });
        let from = self.state;
        self.state = target;
        let cause = match target {
            State::Up => format!("{}回連続で正常に応答しました", results.len()),
            State::Degraded => format!(
                "{}回連続で応答が遅延しました（{}）",
                results.len(),
                last.message
            ),
            State::Down => format!(
                "{}回連続で応答がありません（{}）",
                results.len(),
                last.message
            ),
            State::Unknown => format!(
                "{}回連続で確認できませんでした（{}）",
                results.len(),
                last.message
            ),
        };
        Some(StateChange {
            from,
            to: target,
            ts: last.ts,
            cause,
            results,
        })
    }
}

/// Decides a run's status from its answer: down on failure, degraded above `degraded_ms`, else up.
pub fn classify(answered: bool, latency_ms: u32, degraded_ms: u32) -> ProbeStatus {
    if !answered {
        ProbeStatus::Down
    } else if degraded_ms > 0 && latency_ms > degraded_ms {
        ProbeStatus::Degraded
    } else {
        ProbeStatus::Up
    }
}

/// Path awareness. `path` is the check's way to the prefecture, nearest node first (a terminal: its
/// site's uplink node and everything above; a node: the nodes above it, not itself). `down_nodes` are the
/// nodes whose own checks are down. Returns the probable point of failure: the down node nearest the root
/// (everything below it is cut off by it), or `None` when the path is clear.
pub fn probable_failure_point(path: &[i64], down_nodes: &HashSet<i64>) -> Option<i64> {
    path.iter().rev().find(|n| down_nodes.contains(n)).copied()
}

/// When a maintenance window applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Recurrence {
    /// Once, from `start` to `end` (UTC instants).
    Once {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    /// Every week on `weekday` (0 = Monday .. 6 = Sunday, JST) from `start_min` for `duration_min`
    /// minutes (minutes after JST midnight; may run past midnight).
    Weekly {
        weekday: u32,
        start_min: u32,
        duration_min: u32,
    },
}

/// A maintenance window's title (件名): one line, at most 200 characters, no personal identifier.
pub type WindowTitle = Line<200>;

/// A maintenance window: while it applies, its checks raise no alerts and their results count as
/// maintenance, not as availability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    pub id: i64,
    pub title: String,
    /// Which checks: `None` = all; else the window applies to checks on these sites / nodes / checks.
    pub site_id: Option<i64>,
    pub node_id: Option<i64>,
    pub check_id: Option<i64>,
    pub when: Recurrence,
}

impl MaintenanceWindow {
    /// Whether the window is in force at `at`.
    pub fn active_at(&self, at: DateTime<Utc>) -> bool {
        match &self.when {
            Recurrence::Once { start, end } => *start <= at && at < *end,
            Recurrence::Weekly {
                weekday,
                start_min,
                duration_min,
            } => {
                let local = at.with_timezone(&jst());
                let week_min = local.weekday().num_days_from_monday() * 1440
                    + local.hour() * 60
                    + local.minute();
                let start = (weekday % 7) * 1440 + start_min;
                let week = 7 * 1440;
                let since = (week_min + week - start % week) % week;
                since < *duration_min
            }
        }
    }

    /// Whether the window covers a check on `site` / behind the nodes on `path` / with id `check`.
    pub fn covers(&self, check_id: i64, site_id: Option<i64>, node_ids: &[i64]) -> bool {
        let any_scope = self.site_id.is_some() || self.node_id.is_some() || self.check_id.is_some();
        if !any_scope {
            return true;
        }
        self.check_id == Some(check_id)
            || (self.site_id.is_some() && self.site_id == site_id)
            || self.node_id.is_some_and(|n| node_ids.contains(&n))
    }

    /// Validates a window before storing: the title is one line of at most 200 characters without a
    /// personal identifier ([`WindowTitle`]), the time as below.
    pub fn validate(&self) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        if let Err(e) = WindowTitle::required("title", "件名", &self.title) {
            errors.push(e);
        }
        match &self.when {
            Recurrence::Once { start, end } => {
                if end <= start {
                    errors.push(FieldError::new("end", "終了は開始より後にしてください。"));
                } else if *end - *start > Duration::days(31) {
                    errors.push(FieldError::new("end", "一回の保守は31日以内です。"));
                }
            }
            Recurrence::Weekly {
                weekday,
                start_min,
                duration_min,
            } => {
                if *weekday > 6 || *start_min >= 1440 {
                    errors.push(FieldError::new(
                        "weekday",
                        "曜日・開始時刻が正しくありません。",
                    ));
                }
                if *duration_min == 0 || *duration_min > 7 * 1440 {
                    errors.push(FieldError::new(
                        "duration_min",
                        "時間は1分から1週間までです。",
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(errors))
        }
    }
}

/// Validates the shape of a maintenance window as the API gives it (title, scope, time): the time must be
/// given (`when`). Returns the window to store. Its rules ([`MaintenanceWindow::validate`]: title, end after
/// start, lengths) and its targets (the named site, node and check exist) are then judged together by the
/// store inside its write transaction, so one refusal names every problem.
pub fn validate_window(
    title: &str,
    site_id: Option<i64>,
    node_id: Option<i64>,
    check_id: Option<i64>,
    when: Option<Recurrence>,
) -> Result<MaintenanceWindow, DomainError> {
    let Some(when) = when else {
        return Err(DomainError::invalid(
            "when",
            "日時（when: 一回限り once または毎週 weekly）を指定してください。",
        ));
    };
    let w = MaintenanceWindow {
        id: 0,
        title: title.trim().to_string(),
        site_id,
        node_id,
        check_id,
        when,
    };
    Ok(w)
}

/// A notification channel as validated for storing: its name and its settings.
#[derive(Debug, Clone)]
pub struct ChannelDraft {
    /// The name (one line, at most 100 characters, no personal identifier).
    pub name: ChannelName,
    /// Where and how to notify.
    pub config: ChannelConfig,
}

/// Validates a notification channel as the API gives it: the name under [`validate_channel_name`], then
/// the settings, which must be given (`config`). Shared by the API and the page's name check.
pub fn validate_channel(
    name: &str,
    config: Option<ChannelConfig>,
) -> Result<ChannelDraft, DomainError> {
    let name = validate_channel_name(name)?;
    let Some(config) = config else {
        return Err(DomainError::invalid(
            "config",
            "通知の設定（config: kind が email・webhook・syslog のいずれか）を指定してください。",
        ));
    };
    Ok(ChannelDraft { name, config })
}

/// Where state changes are told. Stored as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelConfig {
    /// E-mail through an SMTP relay (plain SMTP on the closed network, or STARTTLS when `starttls`).
    Email {
        host: String,
        port: u16,
        starttls: bool,
        from: String,
        to: Vec<String>,
    },
    /// An HTTP POST of the event as JSON to `url` (`http://` or `https://`, checked by [`webhook_url`]).
    /// Over https the receiver's certificate is verified against `ca_pem` when it is given (the PEM of
    /// the CA that issued it, for a receiver on the closed network with its own CA), otherwise against
    /// the system's trust store.
    Webhook {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ca_pem: Option<String>,
    },
    /// An RFC 5424 message over UDP to `addr` (`host:port`).
    Syslog { addr: String },
}

/// Whether `s` holds a control character (C0, DEL, C1) or a Unicode line or paragraph separator: none
/// belongs in a name or an address, and each can end or split a line of a log or a protocol.
pub fn has_control_chars(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

/// A notification channel's name (名称): one line, at most 100 characters, no personal identifier.
pub type ChannelName = Line<100>;

/// Checks a notification channel's name as a [`ChannelName`]: given, one line of at most 100
/// characters, no control character, no personal identifier. Shared by the page, the API and the store.
pub fn validate_channel_name(name: &str) -> Result<ChannelName, DomainError> {
    ChannelName::required("name", "名称", name).map_err(|e| DomainError::Validation(vec![e]))
}

/// A webhook's URL checked and parsed: `http://` or `https://` only, with a host, without a user name or
/// password, and with no control character or space anywhere in the text as given (the URL parser would
/// drop a line break silently; here it is refused). The message names the field as the form labels it
/// (URL). The notifier checks a stored URL again before it sends anything.
pub fn webhook_url(raw: &str) -> Result<url::Url, FieldError> {
    let refuse = |m: &str| FieldError::new("url", m);
    if raw.is_empty() {
        return Err(refuse(
            "URL を入力してください（例: https://10.0.0.5:8443/hook）。",
        ));
    }
    if has_control_chars(raw) || raw.chars().any(char::is_whitespace) {
        return Err(refuse("URL に改行・空白・制御文字を含めないでください。"));
    }
    let url = url::Url::parse(raw)
        .map_err(|_| refuse("URL の形式が正しくありません（例: https://10.0.0.5:8443/hook）。"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse("URL は http:// または https:// で始めてください。"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "URL に利用者名やパスワード（…@ の部分）を含めないでください。",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(refuse("URL にホスト名またはIPアドレスを入れてください。"));
    }
    Ok(url)
}

/// A light check of pasted CA certificates (the notifier parses them in full): ASCII, at most 64 KiB,
/// with at least one BEGIN/END CERTIFICATE block.
fn looks_like_pem_certificates(pem: &str) -> bool {
    pem.len() <= 64 * 1024
        && pem.is_ascii()
        && pem
            .find("-----BEGIN CERTIFICATE-----")
            .is_some_and(|b| pem[b..].contains("-----END CERTIFICATE-----"))
}

impl ChannelConfig {
    /// Stored name of the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelConfig::Email { .. } => "email",
            ChannelConfig::Webhook { .. } => "webhook",
            ChannelConfig::Syslog { .. } => "syslog",
        }
    }

    /// Validates before storing.
    pub fn validate(&self) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        match self {
            ChannelConfig::Email { host, from, to, .. } => {
                if host.trim().is_empty() {
                    errors.push(FieldError::new(
                        "host",
                        "SMTPリレーのホストを入力してください。",
                    ));
                }
                if !from.contains('@') || to.is_empty() || to.iter().any(|t| !t.contains('@')) {
                    errors.push(FieldError::new(
                        "to",
                        "差出人と宛先のメールアドレスを入力してください。",
                    ));
                }
            }
            ChannelConfig::Webhook { url, ca_pem } => {
                let parsed = webhook_url(url);
                if let Err(e) = &parsed {
                    errors.push(e.clone());
                }
                if let Some(pem) = ca_pem.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                    if !looks_like_pem_certificates(pem) {
                        errors.push(FieldError::new(
                            "ca_pem",
                            "CA証明書は PEM 形式（-----BEGIN CERTIFICATE----- から -----END CERTIFICATE----- まで）で貼り付けてください。",
                        ));
                    } else if parsed.is_ok_and(|u| u.scheme() != "https") {
                        errors.push(FieldError::new(
                            "ca_pem",
                            "CA証明書は https:// の URL にだけ指定できます。",
                        ));
                    }
                }
            }
            ChannelConfig::Syslog { addr } => {
                if addr.parse::<std::net::SocketAddr>().is_err() {
                    errors.push(FieldError::new(
                        "addr",
                        "syslog の宛先は IPアドレス:ポート で入力してください。",
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(ts: i64, status: ProbeStatus) -> Observation {
        Observation {
            ts,
            status,
            latency_ms: Some(1),
            message: "m".into(),
        }
    }

    /// Table: a sequence of results and the states after each, with n = 3.
    #[test]
    fn damper_table() {
        use ProbeStatus::*;
        use State as S;
        let cases: &[(&[ProbeStatus], &[State])] = &[
            // From 不明, n agreeing results are needed as from any other state.
            (&[Up], &[S::Unknown]),
            (&[Down, Down], &[S::Unknown, S::Unknown]),
            (&[Up, Up, Up], &[S::Unknown, S::Unknown, S::Up]),
            (&[Down, Down, Down], &[S::Unknown, S::Unknown, S::Down]),
            // A slow first result does not decide the first state.
            (
                &[Degraded, Up, Up, Up],
                &[S::Unknown, S::Unknown, S::Unknown, S::Up],
            ),
            (&[Up, Down, Up, Down, Up, Down], &[S::Unknown; 6]),
            (
                &[Up, Up, Up, Down, Down, Down],
                &[S::Unknown, S::Unknown, S::Up, S::Up, S::Up, S::Down],
            ),
            // Once settled, a broken streak resets the count.
            (
                &[Up, Up, Up, Down, Up, Down, Down, Up],
                &[
                    S::Unknown,
                    S::Unknown,
                    S::Up,
                    S::Up,
                    S::Up,
                    S::Up,
                    S::Up,
                    S::Up,
                ],
            ),
            (
                &[Up, Up, Up, Down, Down, Degraded, Degraded, Degraded],
                &[
                    S::Unknown,
                    S::Unknown,
                    S::Up,
                    S::Up,
                    S::Up,
                    S::Up,
                    S::Up,
                    S::Degraded,
                ],
            ),
            (
                &[Down, Down, Down, Up, Up, Down, Up, Up, Up],
                &[
                    S::Unknown,
                    S::Unknown,
                    S::Down,
                    S::Down,
                    S::Down,
                    S::Down,
                    S::Down,
                    S::Down,
                    S::Up,
                ],
            ),
        ];
        for (i, (input, expect)) in cases.iter().enumerate() {
            let mut d = Damper::default();
            for (j, (s, e)) in input.iter().zip(expect.iter()).enumerate() {
                d.observe(obs(j as i64, *s), 3);
                assert_eq!(d.state(), *e, "case {i} step {j}");
            }
        }
    }

    #[test]
    fn change_carries_results_and_cause() {
        let mut d = Damper::new(State::Up);
        assert!(d.observe(obs(1, ProbeStatus::Down), 2).is_none());
        let c = d.observe(obs(2, ProbeStatus::Down), 2).unwrap();
        assert_eq!((c.from, c.to, c.ts), (State::Up, State::Down, 2));
        assert_eq!(c.results.len(), 2);
        assert!(c.cause.contains("2回連続"), "{}", c.cause);
    }

    #[test]
    fn classify_by_threshold() {
        assert_eq!(classify(false, 1, 100), ProbeStatus::Down);
        assert_eq!(classify(true, 101, 100), ProbeStatus::Degraded);
        assert_eq!(classify(true, 100, 100), ProbeStatus::Up);
        assert_eq!(classify(true, 9999, 0), ProbeStatus::Up);
    }

    #[test]
    fn failure_point_is_nearest_root() {
        let down: HashSet<i64> = [2, 3].into_iter().collect();
        assert_eq!(probable_failure_point(&[1, 2, 3, 4], &down), Some(3));
        assert_eq!(probable_failure_point(&[1, 4], &down), None);
        assert_eq!(probable_failure_point(&[], &down), None);
    }

    #[test]
    fn weekly_window_in_jst() {
        // Every Sunday 23:00 JST for 120 minutes (past midnight).
        let w = MaintenanceWindow {
            id: 1,
            title: "定期保守".into(),
            site_id: None,
            node_id: None,
            check_id: None,
            when: Recurrence::Weekly {
                weekday: 6,
                start_min: 23 * 60,
                duration_min: 120,
            },
        };
        // 2026-04-05 is a Sunday. 23:30 JST = 14:30 UTC.
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(w.active_at(at("2026-04-05T14:30:00Z")));
        assert!(w.active_at(at("2026-04-05T15:30:00Z"))); // Monday 00:30 JST
        assert!(!w.active_at(at("2026-04-05T16:00:00Z"))); // Monday 01:00 JST
        assert!(!w.active_at(at("2026-04-05T13:59:00Z")));
        assert!(w.validate().is_ok());
    }

    #[test]
    fn once_window_and_scope() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let w = MaintenanceWindow {
            id: 1,
            title: "回線工事".into(),
            site_id: Some(5),
            node_id: Some(9),
            check_id: None,
            when: Recurrence::Once {
                start: at("2026-05-01T00:00:00Z"),
                end: at("2026-05-01T02:00:00Z"),
            },
        };
        assert!(w.active_at(at("2026-05-01T01:00:00Z")));
        assert!(!w.active_at(at("2026-05-01T02:00:00Z")));
        assert!(w.covers(1, Some(5), &[]));
        assert!(w.covers(1, None, &[3, 9]));
        assert!(!w.covers(1, Some(6), &[3]));
    }

    #[test]
    fn refuses_unregistered_address() {
        let input = CheckInput {
            name: "県庁 ping".into(),
            target_kind: "terminal".into(),
            target_id: 1,
            kind: "icmp".into(),
            address: "10.0.0.9".into(),
            ..Default::default()
        };
        let err = input.validate(Some("10.0.0.1")).unwrap_err();
        assert!(format!("{err:?}").contains("一致しません"));
        assert!(input.validate(None).is_err());
        let ok = input.validate(Some("10.0.0.9")).unwrap();
        assert_eq!(ok.spec.kind(), CheckKind::Icmp);
    }

    #[test]
    fn http_and_dns_specs() {
        let input = CheckInput {
            name: "web".into(),
            target_kind: "node".into(),
            target_id: 2,
            kind: "http".into(),
            address: "127.0.0.1".into(),
            scheme: "https".into(),
            ..Default::default()
        };
        let d = input.validate(Some("127.0.0.1")).unwrap();
        assert!(matches!(
            d.spec,
            ProbeSpec::Http {
                port: 443,
                tls: true,
                expect_status: 200,
                ..
            }
        ));
        let dns = CheckInput {
            kind: "dns".into(),
            dns_name: "juki.example.lg.jp".into(),
            dns_expect: "10.1.1.1".into(),
            ..input
        };
        let d = dns.validate(Some("127.0.0.1")).unwrap();
        assert!(matches!(d.spec, ProbeSpec::Dns { port: 53, .. }));
    }

    fn hook(url: &str) -> ChannelConfig {
        ChannelConfig::Webhook {
            url: url.into(),
            ca_pem: None,
        }
    }

    /// The URL errors of a webhook channel, or none.
    fn url_errors(url: &str) -> Vec<String> {
        match hook(url).validate() {
            Ok(()) => Vec::new(),
            Err(DomainError::Validation(e)) => e.into_iter().map(|e| e.message).collect(),
            Err(e) => panic!("{e:?}"),
        }
    }

    /// Finding 1 of issue 13: a line break in a webhook URL is refused, not parsed away.
    #[test]
    fn webhook_url_refuses_line_breaks_and_what_is_not_http() {
        for ok in [
            "http://127.0.0.1:9/hook",
            "https://10.0.0.5:8443/hook?site=%E4%BD%90%E8%B3%80",
            "https://hook.pref.lg.jp/",
            "http://[::1]:8080/hook",
        ] {
            assert_eq!(url_errors(ok), Vec::<String>::new(), "{ok}");
        }
        let table: &[(&str, &str)] = &[
            (
                "http://127.0.0.1:9/hook\r\nX-Injected: yes\r\n\r\nSMUGGLED",
                "改行・空白・制御文字",
            ),
            ("http://127.0.0.1:9/hook\n", "改行・空白・制御文字"),
            ("http://127.0.0.1:9/ho\tok", "改行・空白・制御文字"),
            ("http://127.0.0.1:9/hook\u{0}", "改行・空白・制御文字"),
            ("http://127.0.0.1:9/hook\u{85}", "改行・空白・制御文字"),
            ("http://127.0.0.1:9/hook\u{2028}x", "改行・空白・制御文字"),
            (" http://127.0.0.1:9/hook", "改行・空白・制御文字"),
            ("http://127.0.0.1:9/a b", "改行・空白・制御文字"),
            ("http://127.0.0.1:9/a\u{3000}b", "改行・空白・制御文字"),
            ("", "URL を入力してください"),
            ("hook", "形式が正しくありません"),
            ("http://", "形式が正しくありません"),
            ("ftp://127.0.0.1/hook", "http:// または https://"),
            ("file:///etc/passwd", "http:// または https://"),
            ("https://user:secret@127.0.0.1/hook", "利用者名やパスワード"),
            ("http://user@127.0.0.1/hook", "利用者名やパスワード"),
        ];
        for (url, says) in table {
            let e = url_errors(url);
            assert!(e.len() == 1 && e[0].contains(says), "{url:?}: {e:?}");
        }
        match hook("http://127.0.0.1:9/hook\r\nX: y").validate() {
            Err(DomainError::Validation(e)) => assert_eq!(e[0].field, "url"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn webhook_ca_is_pem_and_for_https_only() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let with = |url: &str, ca: &str| ChannelConfig::Webhook {
            url: url.into(),
            ca_pem: Some(ca.into()),
        };
        assert!(with("https://10.0.0.5/hook", pem).validate().is_ok());
        assert!(with("http://10.0.0.5/hook", "  ").validate().is_ok());
        for (url, ca, says) in [
            ("http://10.0.0.5/hook", pem, "https:// の URL にだけ"),
            ("https://10.0.0.5/hook", "not a certificate", "PEM 形式"),
        ] {
            match with(url, ca).validate() {
                Err(DomainError::Validation(e)) => {
                    assert!(
                        e[0].field == "ca_pem" && e[0].message.contains(says),
                        "{e:?}"
                    )
                }
                other => panic!("{other:?}"),
            }
        }
        // Stored channels without the field still read.
        let old: ChannelConfig =
            serde_json::from_str(r#"{"kind":"webhook","url":"http://127.0.0.1:9/hook"}"#).unwrap();
        assert_eq!(old, hook("http://127.0.0.1:9/hook"));
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            r#"{"kind":"webhook","url":"http://127.0.0.1:9/hook"}"#
        );
    }

    /// Finding 2 of issue 13: names that end up in syslog refuse control characters.
    #[test]
    fn names_refuse_control_characters() {
        for bad in [
            "a\r\nb",
            "a\nb",
            "a\tb",
            "a\u{0}b",
            "a\u{1b}[31mb",
            "a\u{2029}b",
        ] {
            match validate_channel_name(bad) {
                Err(DomainError::Validation(e)) => {
                    assert!(
                        e[0].field == "name" && e[0].message.contains("制御文字"),
                        "{e:?}"
                    )
                }
                other => panic!("{bad:?}: {other:?}"),
            }
            let input = CheckInput {
                name: bad.into(),
                target_kind: "node".into(),
                target_id: 1,
                kind: "icmp".into(),
                address: "127.0.0.1".into(),
                ..Default::default()
            };
            match input.validate(Some("127.0.0.1")) {
                Err(DomainError::Validation(e)) => assert!(
                    e.iter()
                        .any(|e| e.field == "name" && e.message.contains("制御文字")),
                    "{e:?}"
                ),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(validate_channel_name(" 当番メール（夜間） ").is_ok());
        assert!(validate_channel_name(" ").is_err());
    }
}
