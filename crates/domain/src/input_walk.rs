//! Walks every input type: each text field must refuse a 個人番号, a 住民票コード, a control character
//! and an over-long text, naming the field (finding 8 of issue 13).
//!
//! An input type is walked through its JSON form (the shape forms and the API send), so a field added to
//! a type is walked without anyone listing it. The types themselves are listed in [`walk_every_input`];
//! [`every_input_type_is_walked`] reads the crate's sources and fails when a `…Input` type, an `impl`
//! with a `validate` or a `validate_…` function is not in the list, so a new input type cannot be
//! forgotten either.

use crate::DomainError;
use crate::account::{validate_agent_name, validate_display_name, validate_token_name};
use crate::campaign::validate_os_baseline;
use crate::campaign::{AttestInput, CampaignInput, ExcludeInput};
use crate::connectivity::{
    CheckInput, MaintenanceWindow, Recurrence, validate_channel, validate_channel_name,
    validate_window,
};
use crate::contract_registers::{
    CopyRequestInput, DecisionInput, MaterialInput, ReturnMaterialInput, StaffInput,
    SubcontractInput,
};
use crate::erasure::{CloseItemInput, ErasureInput};
use crate::incident::{
    AutoIncidentInput, EntryInput, IncidentInput, IncidentTransitionInput, KnownErrorInput,
    Severity, WitnessInput, check_incident_transition,
};
use crate::records::{ReturnInput, RouteStep, validate_addressee, validate_route};
use crate::registry::{NodeInput, SiteInput, TerminalInput, validate_retire_reason};
use crate::support::{
    ConsultationInput, ContractInput, RequestInput, TransitionInput, WorkInput,
    check_transition_input,
};
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeSet;

/// A 個人番号 with a valid check digit.
const MY_NUMBER: &str = "123456789018";
/// A 住民票コード with a valid check digit.
const RESIDENT_CODE: &str = "12345678903";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 30, 3, 0, 0)
        .single()
        .expect("valid")
}

/// One input type: valid samples (between them every text field is used) and its validation.
trait Walked: Serialize + DeserializeOwned {
    /// Valid values of the type.
    fn samples() -> Vec<Self>;
    /// The validation pages, the API and the store apply, keeping the verdict only.
    fn check(&self) -> Result<(), DomainError>;
    /// The field an error names for the JSON key `key` (the same, except where a form field differs).
    fn field(key: &str) -> String {
        key.to_string()
    }
}

fn verdict<T>(r: Result<T, DomainError>) -> Result<(), DomainError> {
    r.map(|_| ())
}

/// What became of `value` with `key` set to `text` in its JSON form.
#[derive(Debug)]
enum Outcome {
    /// Not a string in this sample, or a string the type itself refuses (a date-time, an enum).
    NotText,
    /// Validated.
    Accepted,
    /// Refused: (field, message) of each error.
    Refused(Vec<(String, String)>),
}

fn refusals<T: Walked>(value: &T, key: &str, text: &str) -> Outcome {
    let Ok(Value::Object(mut map)) = serde_json::to_value(value) else {
        return Outcome::NotText;
    };
    if !map.get(key).is_some_and(Value::is_string) {
        return Outcome::NotText;
    }
    map.insert(key.to_string(), Value::String(text.to_string()));
    let Ok(changed) = serde_json::from_value::<T>(Value::Object(map)) else {
        return Outcome::NotText;
    };
    match changed.check() {
        Ok(()) => Outcome::Accepted,
        Err(DomainError::Validation(errors)) => {
            Outcome::Refused(errors.into_iter().map(|e| (e.field, e.message)).collect())
        }
        Err(other) => Outcome::Refused(vec![(String::new(), other.to_string())]),
    }
}

/// Walks one type; returns what went wrong, one line each.
fn walk<T: Walked>(name: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let samples = T::samples();
    let mut keys = BTreeSet::new();
    for s in &samples {
        if let Err(e) = s.check() {
            problems.push(format!("{name}: a sample is refused: {e:?}"));
        }
        if let Ok(Value::Object(map)) = serde_json::to_value(s) {
            keys.extend(
                map.iter()
                    .filter(|(_, v)| v.is_string())
                    .map(|(k, _)| k.clone()),
            );
        }
    }
    if keys.is_empty() {
        problems.push(format!("{name}: no text field found"));
    }
    let long = "長".repeat(10_001);
    let injections: [(&str, String, &[&str]); 5] = [
        ("個人番号", MY_NUMBER.to_string(), &["個人番号"]),
        (
            "個人番号（カードの書き方）",
            "番号 1234 5678 9018".to_string(),
            &["個人番号"],
        ),
        ("住民票コード", RESIDENT_CODE.to_string(), &["住民票コード"]),
        ("制御文字", "確認\u{1b}[31m済".to_string(), &["制御文字"]),
        ("長すぎる文字列", long, &["文字以内"]),
    ];
    for key in &keys {
        let field = T::field(key);
        let plain: Vec<Outcome> = samples
            .iter()
            .map(|s| refusals(s, key, "本庁舎の確認"))
            .filter(|o| !matches!(o, Outcome::NotText))
            .collect();
        if plain.is_empty() {
            // Typed in the input itself (a time, an enum): no text reaches a validator.
            continue;
        }
        // A field that takes ordinary Japanese text wherever it is used is free text: its refusals must
        // also say why.
        let free_text = plain.iter().all(|o| matches!(o, Outcome::Accepted));
        for (what, text, says) in &injections {
            let outcomes: Vec<Outcome> = samples.iter().map(|s| refusals(s, key, text)).collect();
            let named = outcomes.iter().any(|o| match o {
                Outcome::Refused(errors) => errors.iter().any(|(f, m)| {
                    *f == field
                        && m.chars().any(|c| c >= '\u{3000}')
                        && (!free_text || says.iter().any(|s| m.contains(s)))
                }),
                _ => false,
            });
            if !named {
                problems.push(format!(
                    "{name}.{key}: {what} is not refused with the field named ({outcomes:?})"
                ));
            }
        }
    }
    problems
}

macro_rules! walked {
    ($($t:ident),+ $(,)?) => {
        /// The names of the walked types.
        const WALKED: &[&str] = &[$(stringify!($t)),+];

        #[test]
        fn walk_every_input() {
            let mut problems = Vec::new();
            $(problems.extend(walk::<$t>(stringify!($t)));)+
            assert!(problems.is_empty(), "\n{}", problems.join("\n"));
        }
    };
}

walked!(
    SiteInput,
    TerminalInput,
    NodeInput,
    RequestInput,
    TransitionInput,
    WorkInput,
    ContractInput,
    ConsultationInput,
    IncidentInput,
    AutoIncidentInput,
    IncidentTransitionInput,
    EntryInput,
    WitnessInput,
    KnownErrorInput,
    CampaignInput,
    AttestInput,
    ExcludeInput,
    ReturnInput,
    RouteStep,
    Addressee,
    CheckInput,
    MaintenanceWindow,
    ChannelName,
    SubcontractInput,
    MaterialInput,
    CopyRequestInput,
    DecisionInput,
    ReturnMaterialInput,
    StaffInput,
    ErasureInput,
    CloseItemInput,
    DisplayName,
    TokenName,
    AgentName,
    RetireReason,
    WindowBody,
    OsBaseline,
);

/// Types with a `validate` whose input holds no free text, each with the reason.
const NOT_FREE_TEXT: &[(&str, &str)] = &[(
    "ChannelConfig",
    "settings (host, addresses, URL) checked by their own syntax; the channel's name is walked",
)];

/// The crate's modules, read for [`every_input_type_is_walked`].
const SOURCES: &[(&str, &str)] = &[
    ("account", include_str!("account.rs")),
    ("campaign", include_str!("campaign.rs")),
    ("connectivity", include_str!("connectivity.rs")),
    ("contract_registers", include_str!("contract_registers.rs")),
    ("erasure", include_str!("erasure.rs")),
    ("error", include_str!("error.rs")),
    ("incident", include_str!("incident.rs")),
    ("inventory", include_str!("inventory.rs")),
    ("pii", include_str!("pii.rs")),
    ("records", include_str!("records.rs")),
    ("registry", include_str!("registry.rs")),
    ("role", include_str!("role.rs")),
    ("support", include_str!("support.rs")),
    ("text", include_str!("text.rs")),
    ("time", include_str!("time.rs")),
    ("wareki", include_str!("wareki.rs")),
];

/// The identifier at the start of `s`.
fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

#[test]
fn every_input_type_is_walked() {
    let lib = include_str!("lib.rs");
    for line in lib.lines() {
        if let Some(rest) = line.strip_prefix("pub mod ") {
            let module = ident(rest);
            assert!(
                SOURCES.iter().any(|(m, _)| *m == module),
                "module {module} is not read by this test"
            );
        }
    }
    let walked =
        |name: &str| WALKED.contains(&name) || NOT_FREE_TEXT.iter().any(|(n, _)| *n == name);
    let mut missing = BTreeSet::new();
    for (module, source) in SOURCES {
        let mut current_impl = "";
        for line in source.lines() {
            let line = line.trim_start();
            if line.starts_with("mod tests") {
                break;
            }
            if let Some(rest) = line.strip_prefix("pub struct ") {
                let name = ident(rest);
                if name.ends_with("Input") && !walked(name) {
                    missing.insert(format!("{module}::{name}"));
                }
            }
            if let Some(rest) = line.strip_prefix("impl ") {
                current_impl = ident(rest.trim_start_matches(['<', '\'']));
            }
            if line.starts_with("pub fn validate(") && !walked(current_impl) {
                missing.insert(format!("{module}::{current_impl}::validate"));
            }
            if let Some(rest) = line.strip_prefix("pub fn validate_") {
                let function = ident(rest);
                let covered = match function {
                    "route" => walked("RouteStep"),
                    "addressee" => walked("Addressee"),
                    "channel_name" | "channel" => walked("ChannelName"),
                    "window" => walked("WindowBody"),
                    "display_name" => walked("DisplayName"),
                    "token_name" => walked("TokenName"),
                    "agent_name" => walked("AgentName"),
                    "retire_reason" => walked("RetireReason"),
                    "os_baseline" => walked("OsBaseline"),
                    _ => false,
                };
                if !covered {
                    missing.insert(format!("{module}::validate_{function}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "input types not walked by walk_every_input: {missing:?}"
    );
}

// ------------------------------------------------------------------------------------------ samples

impl Walked for SiteInput {
    fn samples() -> Vec<Self> {
        vec![SiteInput {
            code: "KENCHO".into(),
            name: "県庁".into(),
            kind: "honcho".into(),
            address: "佐賀市城内1-1-59".into(),
            phone: "0952-24-2111".into(),
            uplink_node_id: None,
            note: "本庁舎\n4階".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for TerminalInput {
    fn samples() -> Vec<Self> {
        vec![TerminalInput {
            site_id: Some(1),
            hostname: "saga-kencho-01".into(),
            kind: "representative".into(),
            ip_address: "10.41.0.11".into(),
            os_name: "Windows 11 Enterprise".into(),
            os_version: "23H2".into(),
            serial_number: "SN-1".into(),
            asset_number: "備品-1".into(),
            note: "窓際".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for NodeInput {
    fn samples() -> Vec<Self> {
        vec![NodeInput {
            name: "FW-県庁".into(),
            kind: "firewall".into(),
            site_id: Some(1),
            ip_address: "10.41.0.1".into(),
            upstream_id: None,
            note: "ラック2".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate(None))
    }
}

impl Walked for RequestInput {
    fn samples() -> Vec<Self> {
        vec![RequestInput {
            title: "端末の更新".into(),
            category: "technical_support".into(),
            site_ids: vec![1],
            terminal_ids: vec![],
            wished_date: "2026-05-12".into(),
            description: "更新を依頼します。".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for TransitionInput {
    fn samples() -> Vec<Self> {
        vec![
            TransitionInput {
                action: "accept".into(),
                comment: "受け付けました".into(),
                planned_date: "令和8年5月12日".into(),
            },
            TransitionInput {
                action: "complete".into(),
                comment: "完了しました".into(),
                planned_date: String::new(),
            },
        ]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(check_transition_input(self))
    }
}

impl Walked for WorkInput {
    fn samples() -> Vec<Self> {
        vec![WorkInput {
            contract_id: Some(1),
            work_date: "2026-05-12".into(),
            start_time: "09:00".into(),
            end_time: "10:30".into(),
            worker_ids: vec![1],
            mode: "onsite".into(),
            site_id: Some(1),
            terminal_ids: vec![],
            category: "technical_support".into(),
            clause: "3".into(),
            description: "パッチ適用".into(),
            result: "正常".into(),
            follow_up: "なし".into(),
            request_id: None,
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for ContractInput {
    fn samples() -> Vec<Self> {
        vec![ContractInput {
            name: "住基ネット運用支援業務".into(),
            number: "R8-001".into(),
            term_start: "令和8年4月1日".into(),
            term_end: "令和9年3月31日".into(),
            contractor: "株式会社佐賀システム".into(),
            manager: "佐賀 太郎".into(),
            staff_ids: vec![1],
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for ConsultationInput {
    fn samples() -> Vec<Self> {
        vec![ConsultationInput {
            contract_id: Some(1),
            held_on: "2026-05-12".into(),
            participants: "県 市町村課、受託者".into(),
            topic: "更新計画".into(),
            agreed: "6月に実施".into(),
            request_ids: vec![],
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for IncidentInput {
    fn samples() -> Vec<Self> {
        vec![IncidentInput {
            title: "疎通不可".into(),
            severity: "high".into(),
            source: "monitoring".into(),
            occurred_at: "2026-06-29T09:00".into(),
            noticed_at: "2026-06-29T09:10".into(),
            site_ids: vec![1],
            terminal_ids: vec![],
            node_ids: vec![],
            description: "唐津の回線が不通".into(),
            probable_cause: "node:12:unreachable".into(),
            known_error_id: None,
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate(now()))
    }
}

impl Walked for AutoIncidentInput {
    fn samples() -> Vec<Self> {
        vec![AutoIncidentInput {
            probable_cause: "node:12:unreachable".into(),
            title: "唐津土木事務所 疎通不可".into(),
            severity: Severity::High,
            observed_at: now(),
            site_ids: vec![1],
            terminal_ids: vec![],
            node_ids: vec![12],
            detail: "ICMP 3回失敗".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate(now()))
    }
}

impl Walked for IncidentTransitionInput {
    fn samples() -> Vec<Self> {
        vec![IncidentTransitionInput {
            action: "workaround".into(),
            at: "2026-06-29T10:00".into(),
            comment: "迂回経路に切替".into(),
            guidance_to: "唐津土木事務所 総務課".into(),
            guidance: "再起動しないでください".into(),
            work_entry_ids: vec![],
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(check_incident_transition(self, now()))
    }
}

impl Walked for EntryInput {
    fn samples() -> Vec<Self> {
        vec![EntryInput {
            kind: "workaround".into(),
            at: "2026-06-29T10:00".into(),
            text: "迂回経路".into(),
            guidance_to: "総務課".into(),
            guidance: "待機".into(),
            work_entry_ids: vec![],
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate(now()))
    }
}

impl Walked for WitnessInput {
    fn samples() -> Vec<Self> {
        vec![WitnessInput {
            witness_name: "佐賀 花子".into(),
            witness_org: "市町村課".into(),
            witnessed_at: "2026-06-29T15:00".into(),
            remark: "復旧を確認".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate(now()))
    }
}

impl Walked for ErasureInput {
    fn samples() -> Vec<Self> {
        vec![ErasureInput {
            contract_id: Some(1),
            scope: "temporary_copy".into(),
            medium: "SSD".into(),
            identifier: "S3Z9NX0K".into(),
            capacity: "256GB".into(),
            target: "作業用の複製".into(),
            method: "purge".into(),
            tool: "消去ツール".into(),
            tool_version: "2.1".into(),
            performed_at: "2026-06-29T15:00".into(),
            operator: "運用 太郎".into(),
            witness: "佐賀 花子".into(),
            verification_method: "読み出し確認".into(),
            verified: true,
            verification_result: "読み出せないことを確認".into(),
            note: "特記なし".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate(now()))
    }
}

impl Walked for CloseItemInput {
    fn samples() -> Vec<Self> {
        vec![
            CloseItemInput {
                item: "export_handed_over".into(),
                state: "done".into(),
                manifest_sha256: "ab".repeat(32),
                erasure_id: None,
                evidence: "県 市町村課へ手渡し".into(),
                reason: String::new(),
            },
            CloseItemInput {
                item: "erasure_done".into(),
                state: "waived".into(),
                manifest_sha256: String::new(),
                erasure_id: None,
                evidence: String::new(),
                reason: "県の媒体で保管を継続".into(),
            },
        ]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for KnownErrorInput {
    fn samples() -> Vec<Self> {
        vec![KnownErrorInput {
            title: "更新後の停止".into(),
            symptoms: "起動しない".into(),
            cause: "ドライバ".into(),
            workaround: "再起動".into(),
            incident_ids: vec![],
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for CampaignInput {
    fn samples() -> Vec<Self> {
        let base = CampaignInput {
            title: "業務アプリ更新".into(),
            description: "説明".into(),
            target: "kind".into(),
            kind: "business".into(),
            ..Default::default()
        };
        vec![
            CampaignInput {
                goal_type: "app".into(),
                name_pattern: "住基アプリ".into(),
                min_version: "3.2.1".into(),
                ..base.clone()
            },
            CampaignInput {
                goal_type: "antivirus".into(),
                product_pattern: "Defender".into(),
                min_version: "1.403.0.0".into(),
                min_date: "2026-05-01".into(),
                ..base.clone()
            },
            CampaignInput {
                goal_type: "os_build".into(),
                min_build: "10.0.19045".into(),
                ..base.clone()
            },
            CampaignInput {
                goal_type: "free_task".into(),
                ..base
            },
        ]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for AttestInput {
    fn samples() -> Vec<Self> {
        vec![AttestInput {
            status: "done".into(),
            work_entry_id: Some(1),
            witness: "佐賀 花子".into(),
            note: "問題なし".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate(true))
    }
}

impl Walked for ExcludeInput {
    fn samples() -> Vec<Self> {
        vec![ExcludeInput {
            reason: "撤去予定".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for ReturnInput {
    fn samples() -> Vec<Self> {
        vec![ReturnInput {
            reason: "時間の誤り".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

/// One step of a contract's approval route: its label is checked by [`validate_route`].
impl Walked for RouteStep {
    fn samples() -> Vec<Self> {
        vec![RouteStep::new("係長")]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(validate_route(&[RouteStep::new("担当"), self.clone()]))
    }
    fn field(_key: &str) -> String {
        "route".into()
    }
}

/// The addressee of the monthly record, checked by [`validate_addressee`].
#[derive(Serialize, serde::Deserialize)]
struct Addressee {
    addressee: String,
}

impl Walked for Addressee {
    fn samples() -> Vec<Self> {
        vec![Addressee {
            addressee: "佐賀県知事　様".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(validate_addressee(&self.addressee))
    }
}

impl Walked for CheckInput {
    fn samples() -> Vec<Self> {
        let base = CheckInput {
            name: "県庁FW".into(),
            target_kind: "node".into(),
            target_id: 1,
            address: "127.0.0.1".into(),
            ..Default::default()
        };
        vec![
            CheckInput {
                kind: "icmp".into(),
                ..base.clone()
            },
            CheckInput {
                kind: "http".into(),
                scheme: "https".into(),
                host: "juki.pref.lg.jp".into(),
                path: "/health".into(),
                body_contains: "OK".into(),
                ..base.clone()
            },
            CheckInput {
                kind: "dns".into(),
                dns_name: "juki.pref.lg.jp".into(),
                dns_expect: "127.0.0.2".into(),
                ..base
            },
        ]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate(Some("127.0.0.1")))
    }
}

impl Walked for MaintenanceWindow {
    fn samples() -> Vec<Self> {
        vec![MaintenanceWindow {
            id: 0,
            title: "定期保守".into(),
            site_id: None,
            node_id: None,
            check_id: None,
            when: Recurrence::Weekly {
                weekday: 2,
                start_min: 22 * 60,
                duration_min: 120,
            },
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        self.validate()
    }
}

/// A notification channel's name, checked by [`validate_channel_name`] (the page, the API and the store).
#[derive(Serialize, serde::Deserialize)]
struct ChannelName {
    name: String,
}

impl Walked for ChannelName {
    fn samples() -> Vec<Self> {
        vec![ChannelName {
            name: "当番メール（夜間）".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(validate_channel_name(&self.name))
    }
}

/// An account's display name, checked by [`validate_display_name`] (the store, on every new account).
#[derive(Serialize, serde::Deserialize)]
struct DisplayName {
    display_name: String,
}

impl Walked for DisplayName {
    fn samples() -> Vec<Self> {
        vec![DisplayName {
            display_name: "佐賀 花子".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(validate_display_name(&self.display_name))
    }
}

/// An API token's 用途, checked by [`validate_token_name`] (the account page and the store).
#[derive(Serialize, serde::Deserialize)]
struct TokenName {
    name: String,
}

impl Walked for TokenName {
    fn samples() -> Vec<Self> {
        vec![TokenName {
            name: "監視スクリプト".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(validate_token_name(&self.name))
    }
}

/// An inventory agent credential's name, checked by [`validate_agent_name`] (the store).
#[derive(Serialize, serde::Deserialize)]
struct AgentName {
    name: String,
}

impl Walked for AgentName {
    fn samples() -> Vec<Self> {
        vec![AgentName {
            name: "唐津地区の端末".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(validate_agent_name(&self.name))
    }
}

/// The compliance view's OS-build baseline, checked by [`validate_os_baseline`].
#[derive(Serialize, serde::Deserialize)]
struct OsBaseline {
    os_build_baseline: String,
}

impl Walked for OsBaseline {
    fn samples() -> Vec<Self> {
        vec![OsBaseline {
            os_build_baseline: "10.0.26100.4652, 10.0.19044.6164".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(validate_os_baseline(&self.os_build_baseline))
    }
}

/// A retirement's reason, checked by [`validate_retire_reason`] (every retirement in the store).
#[derive(Serialize, serde::Deserialize)]
struct RetireReason {
    reason: String,
}

impl Walked for RetireReason {
    fn samples() -> Vec<Self> {
        vec![RetireReason {
            reason: "統合のため\n（4月1日付）".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(validate_retire_reason(&self.reason))
    }
}

/// A maintenance window as the API gives it, shaped by [`validate_window`] and judged by
/// [`MaintenanceWindow::validate`] (as the store does); and a channel's name
/// through [`validate_channel`] (the API's two validations of the 疎通確認 area).
#[derive(Serialize, serde::Deserialize)]
struct WindowBody {
    title: String,
    channel: String,
}

impl Walked for WindowBody {
    fn samples() -> Vec<Self> {
        vec![WindowBody {
            title: "回線工事".into(),
            channel: "当番メール".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        let when = Recurrence::Weekly {
            weekday: 5,
            start_min: 23 * 60,
            duration_min: 120,
        };
        validate_window(&self.title, None, None, None, Some(when))?.validate()?;
        let config = crate::connectivity::ChannelConfig::Syslog {
            addr: "127.0.0.1:514".into(),
        };
        validate_channel(&self.channel, Some(config)).map_err(|e| match e {
            DomainError::Validation(v) => DomainError::Validation(
                v.into_iter()
                    .map(|mut e| {
                        e.field = "channel".into();
                        e
                    })
                    .collect(),
            ),
            other => other,
        })?;
        Ok(())
    }
}

impl Walked for SubcontractInput {
    fn samples() -> Vec<Self> {
        vec![SubcontractInput {
            subcontractor: "有限会社唐津ネット".into(),
            work_part: "業務端末のリモート更新\n（唐津地区）".into(),
            clauses: vec!["2".into()],
            categories: vec!["remote_update".into()],
            approval_number: "佐情第123号".into(),
            approved_on: "令和8年5月20日".into(),
            period_start: "令和8年6月1日".into(),
            period_end: "令和8年9月30日".into(),
            note: "承認書は原本を保管".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for MaterialInput {
    fn samples() -> Vec<Self> {
        vec![MaterialInput {
            name: "住基ネット端末設定手順書".into(),
            kind: "document".into(),
            provided_by: "市町村課".into(),
            received_on: "令和8年4月1日".into(),
            medium: "paper".into(),
            classification: "c2".into(),
            storage: "県庁分室 施錠キャビネットA".into(),
            quantity: "1冊（42頁）".into(),
            note: "持出し禁止".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for CopyRequestInput {
    fn samples() -> Vec<Self> {
        vec![CopyRequestInput {
            requested_on: "令和8年4月10日".into(),
            copies: 1,
            purpose: "作業用の控え".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for DecisionInput {
    fn samples() -> Vec<Self> {
        vec![DecisionInput {
            granted: true,
            decided_on: "令和8年4月11日".into(),
            decided_by: "市町村課 佐賀".into(),
            note: "作業終了後に消去".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for ReturnMaterialInput {
    fn samples() -> Vec<Self> {
        vec![ReturnMaterialInput {
            disposition: "returned".into(),
            done_on: "令和9年3月31日".into(),
            method: "手渡しで返却".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}

impl Walked for StaffInput {
    fn samples() -> Vec<Self> {
        vec![StaffInput {
            name: "保守太郎".into(),
            employer: "株式会社佐賀システム".into(),
            role_on_contract: "作業責任者".into(),
            user_id: Some(3),
            subcontract_id: None,
            start_on: "令和8年4月1日".into(),
            end_on: "令和9年3月31日".into(),
            pledge_on: "令和8年3月25日".into(),
            training_dates: "令和8年4月3日".into(),
            note: "県庁分室に常駐".into(),
        }]
    }
    fn check(&self) -> Result<(), DomainError> {
        verdict(self.validate())
    }
}
