//! The registry (台帳): sites (拠点), terminals (端末) and the nodes of the 集約ネットワーク, with the rules
//! for valid records. Inputs arrive as text (forms, CSV, JSON) and leave as validated values.

use crate::error::{DomainError, FieldError};
use crate::text::{self, Line, Text};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

coded_enum!(
    /// What kind of office a site is.
    SiteKind {
        /// 県庁 (the prefectural office).
        Honcho = "honcho", "本庁", "Prefectural office";
        /// 県税事務所.
        Kenzei = "kenzei", "県税事務所", "Prefectural tax office";
        /// 土木事務所.
        Doboku = "doboku", "土木事務所", "Civil engineering office";
        /// 保健福祉事務所.
        Hofuku = "hofuku", "保健福祉事務所", "Health and welfare office";
        /// Any other office (整備事務所, センター, ...).
        Other = "other", "その他の機関", "Other office";
    }
);

coded_enum!(
    /// The role of a terminal in the Juki-Net operation.
    TerminalKind {
        /// 代表端末: the representative terminal at the prefectural office.
        Representative = "representative", "代表端末", "Representative terminal";
        /// 業務端末: a business terminal.
        Business = "business", "業務端末", "Business terminal";
    }
);

coded_enum!(
    /// What a node of the 集約ネットワーク is.
    NodeKind {
        /// ルータ.
        Router = "router", "ルータ", "Router";
        /// ファイアウォール.
        Firewall = "firewall", "ファイアウォール", "Firewall";
        /// スイッチ.
        Switch = "switch", "スイッチ", "Switch";
        /// サーバ (e.g. the prefecture server, 都道府県サーバ).
        Server = "server", "サーバ", "Server";
        /// Anything else on the path.
        Other = "other", "その他", "Other";
    }
);

/// A validated site, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteDraft {
    /// Short unique code, e.g. `KENCHO`.
    pub code: String,
    /// Display name, e.g. 県庁.
    pub name: Line<100>,
    /// Office kind.
    pub kind: SiteKind,
    /// Postal address.
    pub address: Line<200>,
    /// Contact phone.
    pub phone: Line<30>,
    /// The network node this site connects through (its first hop into the 集約ネットワーク).
    pub uplink_node_id: Option<i64>,
    /// Free remarks.
    pub note: Text<2000>,
}

/// A validated terminal, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalDraft {
    /// The site the terminal stands at.
    pub site_id: i64,
    /// Hostname, unique in the registry (case-insensitive).
    pub hostname: String,
    /// Representative or business terminal.
    pub kind: TerminalKind,
    /// Address on the 集約ネットワーク.
    pub ip_address: Option<String>,
    /// Operating system name, e.g. `Windows 11 Enterprise`.
    pub os_name: Line<100>,
    /// Operating system version/build, e.g. `23H2 (22631.4317)`.
    pub os_version: Line<100>,
    /// Manufacturer serial number.
    pub serial_number: Line<100>,
    /// The prefecture's asset number (備品番号).
    pub asset_number: Line<100>,
    /// Free remarks.
    pub note: Text<2000>,
}

/// A validated network node, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDraft {
    /// Unique name, e.g. `FW-県庁`.
    pub name: Line<100>,
    /// Router, firewall, ...
    pub kind: NodeKind,
    /// The site where the node is installed, if any.
    pub site_id: Option<i64>,
    /// Management address.
    pub ip_address: Option<String>,
    /// The next node toward the prefecture server; `None` for the root of the network.
    pub upstream_id: Option<i64>,
    /// Free remarks.
    pub note: Text<2000>,
}

/// Raw site input as typed by a person.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SiteInput {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub phone: String,
    pub uplink_node_id: Option<i64>,
    pub note: String,
}

/// Raw terminal input as typed by a person.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct TerminalInput {
    pub site_id: Option<i64>,
    pub hostname: String,
    pub kind: String,
    pub ip_address: String,
    pub os_name: String,
    pub os_version: String,
    pub serial_number: String,
    pub asset_number: String,
    pub note: String,
}

/// Raw network-node input as typed by a person.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct NodeInput {
    pub name: String,
    pub kind: String,
    pub site_id: Option<i64>,
    pub ip_address: String,
    pub upstream_id: Option<i64>,
    pub note: String,
}

/// Collects field errors so a person sees all of them at once.
#[derive(Default)]
struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// One line of free text ([`Line`]); `label` is the Japanese field name.
    fn line<const MAX: usize>(
        &mut self,
        field: &str,
        label: &str,
        value: &str,
        required: bool,
    ) -> Line<MAX> {
        text::line(&mut self.errors, field, label, value, required)
    }

    /// Free text that may span lines ([`Text`]).
    fn text<const MAX: usize>(&mut self, field: &str, label: &str, value: &str) -> Text<MAX> {
        text::text(&mut self.errors, field, label, value, false)
    }

    fn code(&mut self, field: &str, label: &str, value: &str) -> String {
        let v = value.trim().to_string();
        if v.is_empty() {
            self.fail(field, format!("{label}を入力してください。"));
        } else if v.len() > 32
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.fail(
                field,
                format!("{label}は半角英数字・ハイフン・下線の32文字以内で入力してください。"),
            );
        } else {
            text::guard(&mut self.errors, field, label, &v);
        }
        v
    }

    fn ip(&mut self, field: &str, value: &str) -> Option<String> {
        let v = value.trim();
        if v.is_empty() {
            return None;
        }
        match v.parse::<IpAddr>() {
            Ok(ip) => Some(ip.to_string()),
            Err(_) => {
                self.fail(
                    field,
                    format!("IPアドレス「{v}」の形式が正しくありません（例: 10.1.2.3）。"),
                );
                None
            }
        }
    }

    fn finish<T>(self, value: T) -> Result<T, DomainError> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(DomainError::Validation(self.errors))
        }
    }
}

/// Why a record is retired (廃止の理由): required, at most 1000 characters, line breaks allowed, no
/// other control character and no personal identifier. Every retirement (sites, terminals, nodes,
/// maintenance windows, notification channels) takes one.
pub type RetireReason = Text<1000>;

/// Validates a retirement's reason as a [`RetireReason`].
pub fn validate_retire_reason(raw: &str) -> Result<RetireReason, DomainError> {
    Text::required("reason", "廃止の理由", raw).map_err(|e| DomainError::Validation(vec![e]))
}

/// Whether `name` is a valid hostname (RFC 1123 labels separated by dots).
pub fn is_valid_hostname(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl SiteInput {
    /// Validates the input into a storable site.
    pub fn validate(&self) -> Result<SiteDraft, DomainError> {
        let mut c = Checker::default();
        let code = c.code("code", "拠点コード", &self.code);
        let name = c.line("name", "拠点名", &self.name, true);
        let kind = SiteKind::parse(&self.kind);
        if kind.is_none() {
            c.fail("kind", "拠点の種別を選択してください。");
        }
        let address = c.line("address", "所在地", &self.address, false);
        let phone: Line<30> = c.line("phone", "電話番号", &self.phone, false);
        if !phone
            .chars()
            .all(|ch| ch.is_ascii_digit() || "-() +".contains(ch))
        {
            c.fail("phone", "電話番号は半角数字とハイフンで入力してください。");
        }
        let note = c.text("note", "備考", &self.note);
        c.finish(SiteDraft {
            code,
            name,
            kind: kind.unwrap_or(SiteKind::Other),
            address,
            phone,
            uplink_node_id: self.uplink_node_id,
            note,
        })
    }
}

impl TerminalInput {
    /// Validates the input into a storable terminal.
    pub fn validate(&self) -> Result<TerminalDraft, DomainError> {
        let mut c = Checker::default();
        if self.site_id.is_none() {
            c.fail("site_id", "設置拠点を選択してください。");
        }
        let hostname = self.hostname.trim().to_string();
        if hostname.is_empty() {
            c.fail("hostname", "ホスト名を入力してください。");
        } else if !is_valid_hostname(&hostname) {
            c.fail(
                "hostname",
                "ホスト名は半角英数字とハイフン（先頭・末尾を除く）で、63文字以内の区切りで入力してください。",
            );
        } else {
            text::guard(&mut c.errors, "hostname", "ホスト名", &hostname);
        }
        let kind = TerminalKind::parse(&self.kind);
        if kind.is_none() {
            c.fail(
                "kind",
                "端末の種別（代表端末・業務端末）を選択してください。",
            );
        }
        let ip_address = c.ip("ip_address", &self.ip_address);
        let os_name = c.line("os_name", "OS", &self.os_name, false);
        let os_version = c.line("os_version", "OSバージョン", &self.os_version, false);
        let serial_number = c.line("serial_number", "製造番号", &self.serial_number, false);
        let asset_number = c.line("asset_number", "備品番号", &self.asset_number, false);
        let note = c.text("note", "備考", &self.note);
        c.finish(TerminalDraft {
            site_id: self.site_id.unwrap_or_default(),
            hostname,
            kind: kind.unwrap_or(TerminalKind::Business),
            ip_address,
            os_name,
            os_version,
            serial_number,
            asset_number,
            note,
        })
    }
}

impl NodeInput {
    /// Validates the input into a storable node. `self_id` is the node being edited, if any, so that a node
    /// cannot be its own upstream.
    pub fn validate(&self, self_id: Option<i64>) -> Result<NodeDraft, DomainError> {
        let mut c = Checker::default();
        let name = c.line("name", "機器名", &self.name, true);
        let kind = NodeKind::parse(&self.kind);
        if kind.is_none() {
            c.fail("kind", "機器の種別を選択してください。");
        }
        let ip_address = c.ip("ip_address", &self.ip_address);
        if self_id.is_some() && self.upstream_id == self_id {
            c.fail("upstream_id", "上位機器に自分自身は指定できません。");
        }
        let note = c.text("note", "備考", &self.note);
        c.finish(NodeDraft {
            name,
            kind: kind.unwrap_or(NodeKind::Other),
            site_id: self.site_id,
            ip_address,
            upstream_id: self.upstream_id,
            note,
        })
    }
}

/// Follows upstream links from `start` and returns the path (start first). Refuses a cycle, which would make
/// "the path to the prefecture server" meaningless. `upstream_of` answers a node's upstream.
pub fn upstream_path(
    start: i64,
    upstream_of: impl Fn(i64) -> Option<i64>,
) -> Result<Vec<i64>, DomainError> {
    let mut path = vec![start];
    let mut current = start;
    while let Some(next) = upstream_of(current) {
        if path.contains(&next) {
            return Err(DomainError::invalid(
                "upstream_id",
                "上位機器の指定が循環しています。経路が集約ネットワークの中心に到達するように指定してください。",
            ));
        }
        path.push(next);
        current = next;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terminal() -> TerminalInput {
        TerminalInput {
            site_id: Some(1),
            hostname: "saga-kencho-01".into(),
            kind: "代表端末".into(),
            ip_address: "10.41.0.11".into(),
            os_name: "Windows 11 Enterprise".into(),
            ..Default::default()
        }
    }

    #[test]
    fn valid_terminal_passes_and_is_normalised() {
        let t = terminal().validate().expect("valid");
        assert_eq!(t.kind, TerminalKind::Representative);
        assert_eq!(t.ip_address.as_deref(), Some("10.41.0.11"));
    }

    #[test]
    fn every_bad_field_is_reported_in_japanese() {
        let bad = TerminalInput {
            site_id: None,
            hostname: "-bad_host".into(),
            kind: "laptop".into(),
            ip_address: "10.0.0.999".into(),
            ..Default::default()
        };
        let Err(DomainError::Validation(errors)) = bad.validate() else {
            panic!("must fail");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["site_id", "hostname", "kind", "ip_address"]);
        assert!(errors[3].message.contains("IPアドレス"));
    }

    #[test]
    fn personal_identifier_in_note_is_refused() {
        let mut t = terminal();
        t.note = "利用者 1234 5678 9018 の件".into();
        let Err(DomainError::Validation(errors)) = t.validate() else {
            panic!("must fail");
        };
        assert_eq!(errors[0].field, "note");
        assert!(errors[0].message.contains("個人番号"));
    }

    #[test]
    fn hostnames() {
        for ok in ["a", "saga-01", "pc1.pref.saga.lg.jp"] {
            assert!(is_valid_hostname(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a..b", "端末", "a_b", &"x".repeat(64)] {
            assert!(!is_valid_hostname(bad), "{bad}");
        }
    }

    #[test]
    fn upstream_cycle_is_refused() {
        let ups = |n: i64| match n {
            1 => Some(2),
            2 => Some(3),
            _ => None,
        };
        assert_eq!(upstream_path(1, ups), Ok(vec![1, 2, 3]));
        let cyc = |n: i64| Some(if n == 3 { 1 } else { n + 1 });
        assert!(upstream_path(1, cyc).is_err());
    }

    #[test]
    fn enums_parse_codes_and_labels() {
        assert_eq!(SiteKind::parse("県税事務所"), Some(SiteKind::Kenzei));
        assert_eq!(SiteKind::parse("doboku"), Some(SiteKind::Doboku));
        assert_eq!(
            NodeKind::parse("ファイアウォール"),
            Some(NodeKind::Firewall)
        );
        assert_eq!(TerminalKind::parse("x"), None);
    }
}
