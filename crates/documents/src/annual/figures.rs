//! The pack's headline figures, each defined once: the summary's sentences, the figure table and the
//! sections all read them from [`PackFigures`] (or from the same method of [`AnnualData`]), never count
//! again on their own.

use super::AnnualData;
use super::outages::Explanation;
use unyo_domain::incident::{EntryKind, Figures};
use unyo_domain::support::{Clause, RequestStatus};
use unyo_store::audit::ChainReport;
use unyo_store::incidents::IncidentAccount;
use unyo_store::vulns::FindingStatus;

/// Cause groups of the incidents, in the order the pack lists them, each with the words that put a cause
/// in it (the first group whose word occurs wins). The groups are a reading aid for the council, not a
/// stored classification: the cause itself is quoted beside every incident.
pub const CAUSE_GROUPS: [(&str, &[&str]); 4] = [
    (
        "回線・ネットワーク機器",
        &[
            "回線",
            "通信事業者",
            "ルータ",
            "スイッチ",
            "ネットワーク",
            "ポート",
            "LAN",
        ],
    ),
    (
        "更新プログラム・ソフトウェア",
        &[
            "更新",
            "定義ファイル",
            "アップデート",
            "ソフト",
            "ドライバ",
            "証明書",
            "設定",
            "サービス",
        ],
    ),
    (
        "端末・周辺機器の故障",
        &[
            "故障",
            "ハード",
            "ディスク",
            "電源",
            "プリンタ",
            "機器",
            "部品",
        ],
    ),
    ("操作・手順", &["操作", "手順", "誤"]),
];

/// The group of an incident without a recorded cause.
pub const CAUSE_UNRECORDED: &str = "原因調査中（未記録）";
/// The group of a cause no word of [`CAUSE_GROUPS`] matches.
pub const CAUSE_OTHER: &str = "その他";

/// The latest recorded cause of an incident, if any.
pub fn cause_of(a: &IncidentAccount) -> Option<&str> {
    a.texts(EntryKind::Cause)
        .last()
        .copied()
        .map(|e| e.text.trim())
        .filter(|t| !t.is_empty())
}

/// The cause group of an incident (see [`CAUSE_GROUPS`]).
pub fn cause_group(a: &IncidentAccount) -> &'static str {
    match cause_of(a) {
        None => CAUSE_UNRECORDED,
        Some(c) => CAUSE_GROUPS
            .iter()
            .find(|(_, words)| words.iter().any(|w| c.contains(w)))
            .map_or(CAUSE_OTHER, |(label, _)| label),
    }
}

/// Whether a 再発防止策 is recorded for the incident.
pub fn has_prevention(a: &IncidentAccount) -> bool {
    a.texts(EntryKind::Prevention)
        .iter()
        .any(|e| !e.text.trim().is_empty())
}

/// Where an incident stands, in the three parts of [`Figures::by_progress`].
pub fn progress_of(a: &IncidentAccount) -> &'static str {
    let labels = unyo_domain::incident::PROGRESS_LABELS;
    match (a.incident.stage.as_str(), a.incident.recovered_at.is_some()) {
        ("closed", _) => labels[0],
        (_, true) => labels[1],
        (_, false) => labels[2],
    }
}

/// The headline figures.
#[derive(Debug, Clone, PartialEq)]
pub struct PackFigures {
    /// Work entries and their minutes in the year.
    pub work_count: i64,
    pub work_minutes: i64,
    /// (clause, entries, minutes), ①–⑤.
    pub work_by_clause: Vec<(Clause, i64, i64)>,
    /// Support requests filed, and of them confirmed.
    pub requests: i64,
    pub requests_confirmed: i64,
    /// Campaigns of the year, and of them closed; their terminals done and targeted.
    pub campaigns: i64,
    pub campaigns_closed: i64,
    pub rollout_done: i64,
    pub rollout_targets: i64,
    /// The year's incident figures (完了・確認待ち・対応中 partition the count).
    pub incidents: Figures,
    /// (cause group, incidents), groups with at least one incident, in [`CAUSE_GROUPS`] order then
    /// [`CAUSE_OTHER`] and [`CAUSE_UNRECORDED`].
    pub cause_groups: Vec<(&'static str, i64)>,
    /// Incidents with a 再発防止策 recorded.
    pub preventions: i64,
    /// (number, title, minutes 発生→復旧) of the three longest recovered incidents.
    pub longest: Vec<(String, String, i64)>,
    /// All-site availability (percent) and downtime minutes, from the same windows.
    pub availability: Option<f64>,
    pub down_minutes: i64,
    /// Outages listed (≥ the threshold), of them unexplained; outages still going on.
    pub outages_listed: i64,
    pub outages_unexplained: i64,
    pub outages_ongoing: i64,
    /// Accounts in use and with a second factor.
    pub accounts: i64,
    pub accounts_2fa: i64,
    /// Audit events of the year.
    pub login_failures: i64,
    pub lockouts: i64,
    pub exports: i64,
    pub downloads: i64,
    /// Requests refused because their text held a 個人番号 or 住民票コード.
    pub pii_refusals: i64,
    /// The audit chain: intact, and the entries verified.
    pub chain_intact: bool,
    pub chain_entries: i64,
    /// Findings by status ([`FindingStatus::ALL`] order) and active critical ones.
    pub findings_by_status: Vec<(FindingStatus, i64)>,
    pub findings_active_critical: i64,
    /// Feeds imported at least once, and of them those whose newest record is older than the stale age.
    pub feeds_imported: i64,
    pub feeds_stale: i64,
    /// Consultations held, and monthly records confirmed.
    pub consultations: i64,
    pub records_confirmed: i64,
}

impl PackFigures {
    /// Findings of a status.
    pub fn findings(&self, s: FindingStatus) -> i64 {
        self.findings_by_status
            .iter()
            .find(|(x, _)| *x == s)
            .map_or(0, |(_, n)| *n)
    }

    /// All findings.
    pub fn findings_total(&self) -> i64 {
        self.findings_by_status.iter().map(|(_, n)| n).sum()
    }
}

impl AnnualData {
    /// The figures, computed once from the data read.
    pub fn figures(&self) -> PackFigures {
        let (work_count, work_minutes) = self.work_total();
        let work_by_clause = Clause::ALL
            .iter()
            .map(|c| {
                let (n, m) = self
                    .work
                    .iter()
                    .filter(|f| f.clause == c.code())
                    .fold((0, 0), |(n, m), f| (n + f.count, m + f.minutes));
                (*c, n, m)
            })
            .collect();
        let requests = self.requests.iter().map(|r| r.count).sum();
        let requests_confirmed = self
            .requests
            .iter()
            .filter(|r| r.status == RequestStatus::Confirmed.code())
            .map(|r| r.count)
            .sum();
        let mut groups: Vec<&'static str> = CAUSE_GROUPS.iter().map(|(l, _)| *l).collect();
        groups.push(CAUSE_OTHER);
        groups.push(CAUSE_UNRECORDED);
        let cause_groups = groups
            .into_iter()
            .map(|g| {
                (
                    g,
                    self.accounts.iter().filter(|a| cause_group(a) == g).count() as i64,
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        let events = self.events();
        let sum = |g: usize| events.iter().map(|m| m[g]).sum::<i64>();
        let (chain_intact, chain_entries) = match &self.chain {
            ChainReport::Intact { entries, .. } => (true, *entries),
            ChainReport::Broken { .. } => (false, 0),
        };
        let findings_by_status = FindingStatus::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    self.vulns
                        .counts
                        .iter()
                        .filter(|(_, st, _)| st == s.code())
                        .map(|(_, _, n)| n)
                        .sum(),
                )
            })
            .collect();
        let findings_active_critical = self
            .vulns
            .counts
            .iter()
            .filter(|(sev, st, _)| {
                sev == "critical" && FindingStatus::parse(st).is_some_and(|s| s.is_active())
            })
            .map(|(_, _, n)| n)
            .sum();
        PackFigures {
            work_count,
            work_minutes,
            work_by_clause,
            requests,
            requests_confirmed,
            campaigns: self.campaigns.len() as i64,
            campaigns_closed: self.campaigns.iter().filter(|c| !c.is_open()).count() as i64,
            rollout_done: self.campaigns.iter().map(|c| c.progress.done).sum(),
            rollout_targets: self.campaigns.iter().map(|c| c.progress.total).sum(),
            incidents: self.incidents.year,
            cause_groups,
            preventions: self.accounts.iter().filter(|a| has_prevention(a)).count() as i64,
            longest: self
                .longest()
                .iter()
                .take(3)
                .filter_map(|a| {
                    Some((
                        a.incident.number.clone(),
                        a.incident.title.clone(),
                        a.incident.mttr_minutes?,
                    ))
                })
                .collect(),
            availability: self.outages.percent(),
            down_minutes: self.outages.down_minutes(),
            outages_listed: self.outages.listed().iter().filter(|o| o.counts()).count() as i64,
            outages_unexplained: self
                .outages
                .listed()
                .iter()
                .filter(|o| o.explanation == Explanation::Unexplained)
                .count() as i64,
            outages_ongoing: self.outages.ongoing() as i64,
            accounts: self.account_figures.active,
            accounts_2fa: self.account_figures.with_second_factor,
            login_failures: sum(1),
            lockouts: sum(2),
            exports: sum(3),
            downloads: sum(4),
            pii_refusals: sum(6),
            chain_intact,
            chain_entries,
            findings_by_status,
            findings_active_critical,
            feeds_imported: self
                .vulns
                .feeds
                .iter()
                .filter(|f| f.last_import_at.is_some())
                .count() as i64,
            feeds_stale: self
                .vulns
                .feeds
                .iter()
                .filter(|f| f.last_import_at.is_some() && f.stale)
                .count() as i64,
            consultations: self.consultations as i64,
            records_confirmed: self
                .records
                .iter()
                .filter(|r| r.status() == unyo_domain::records::RecordStatus::Confirmed)
                .count() as i64,
        }
    }

    /// Recovered incidents, longest 発生→復旧 first.
    pub fn longest(&self) -> Vec<&IncidentAccount> {
        let mut v: Vec<&IncidentAccount> = self
            .accounts
            .iter()
            .filter(|a| a.incident.mttr_minutes.is_some())
            .collect();
        v.sort_by(|a, b| {
            (
                b.incident.mttr_minutes,
                &a.incident.occurred_at,
                a.incident.id,
            )
                .cmp(&(
                    a.incident.mttr_minutes,
                    &b.incident.occurred_at,
                    b.incident.id,
                ))
        });
        v
    }
}
