//! Rollout campaigns (展開) and the compliance view (準拠状況) (issue 4, R3/R4).
//!
//! A campaign has a goal — an application at a version or later, antivirus definitions at or after a
//! version/date, an OS build or later, or a free-form task — and a set of target terminals, each of which
//! is 未実施 / 実施済 / 失敗 / 対象外. A target reaches 実施済 either from an inventory that proves the goal
//! ([`evaluate`], evidence 「エージェント確認」) or from the SE's attestation with a linked work-log entry
//! (evidence 「SE申告」); the two are never confused. With stages, business terminals wait for every
//! representative terminal ([`check_stage`]); a campaign closes only when every target is 実施済 or 対象外
//! with a reason ([`check_close`]).
//!
//! The compliance view compares every terminal's latest inventory with what the open campaigns (and a
//! configurable OS-build baseline) expect: [`compliance_items`] builds the columns and [`compliance_cell`]
//! each cell, with the reason of a lagging or unknown cell in Japanese.
//!
//! No I/O and no clock: times are passed in.

use crate::error::{DomainError, FieldError};
use crate::inventory::{Antivirus, InventorySnapshot, Software, compare_versions};
use crate::registry::TerminalKind;
use crate::text::{self, Line, Text};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

coded_enum!(
    /// What a campaign's goal is about.
    GoalKind {
        /// An application at version ≥ X.
        App = "app", "アプリケーションのバージョン", "Application version";
        /// Antivirus definitions at or after a version / date (or reported up to date).
        Antivirus = "antivirus", "ウイルス対策ソフトの定義", "Antivirus definitions";
        /// OS build ≥ Y.
        OsBuild = "os_build", "OSビルド", "OS build";
        /// A free-form task: only the SE's attestation can prove it.
        FreeTask = "free_task", "自由作業（申告のみ）", "Free-form task";
    }
);

coded_enum!(
    /// Where a campaign stands.
    CampaignStatus {
        /// 実施中.
        Open = "open", "実施中", "Open";
        /// 完了: every target 実施済 or 対象外.
        Closed = "closed", "完了", "Closed";
    }
);

coded_enum!(
    /// Where one target terminal of a campaign stands.
    TargetStatus {
        /// 未実施.
        Pending = "pending", "未実施", "Pending";
        /// 実施済.
        Done = "done", "実施済", "Done";
        /// 失敗.
        Failed = "failed", "失敗", "Failed";
        /// 対象外 (always with a reason).
        Excluded = "excluded", "対象外", "Excluded";
    }
);

coded_enum!(
    /// How a target's status is evidenced. An attested status is never shown as agent-verified.
    Evidence {
        /// A newer inventory (received after the campaign started) proves the goal.
        Agent = "agent", "エージェント確認", "Verified by agent";
        /// The SE attests, with a linked work-log entry.
        Attested = "attested", "SE申告", "Attested by SE";
    }
);

coded_enum!(
    /// Which terminals a campaign targets.
    TargetMode {
        /// Every terminal in service.
        All = "all", "すべての端末", "All terminals";
        /// Terminals of one kind.
        Kind = "kind", "端末の種別で指定", "By terminal kind";
        /// Terminals at the chosen sites.
        Sites = "sites", "拠点で指定", "By site";
        /// Hand-picked terminals.
        Terminals = "terminals", "端末を個別に指定", "Hand-picked";
    }
);

/// A campaign's goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CampaignGoal {
    /// An installed application whose name matches `name_pattern` at `min_version` or later.
    #[serde(rename = "app")]
    AppAtLeast {
        /// Case-insensitive substring of the software name; `=Name` matches the whole name exactly
        /// (case-insensitively).
        name_pattern: String,
        /// The lowest acceptable version (ordered by [`compare_versions`]).
        min_version: String,
    },
    /// Antivirus definitions of a product matching `product_pattern`: at `min_version` or later and/or
    /// dated `min_date` or later; with neither, the product must report its definitions up to date.
    #[serde(rename = "antivirus")]
    AvDefinitionsAtLeast {
        /// Case-insensitive substring of the product name (`=Name` for an exact match).
        product_pattern: String,
        /// Lowest acceptable definition (signature) version.
        min_version: Option<String>,
        /// Earliest acceptable definition date.
        min_date: Option<NaiveDate>,
    },
    /// The OS build at `min_build` or later.
    #[serde(rename = "os_build")]
    OsBuildAtLeast {
        /// Lowest acceptable build (`10.0.19045`).
        min_build: String,
    },
    /// A task no inventory can prove (attested only).
    #[serde(rename = "free_task")]
    FreeTask {
        /// What is to be done.
        description: String,
    },
}

impl CampaignGoal {
    /// The kind of goal.
    pub fn kind(&self) -> GoalKind {
        match self {
            CampaignGoal::AppAtLeast { .. } => GoalKind::App,
            CampaignGoal::AvDefinitionsAtLeast { .. } => GoalKind::Antivirus,
            CampaignGoal::OsBuildAtLeast { .. } => GoalKind::OsBuild,
            CampaignGoal::FreeTask { .. } => GoalKind::FreeTask,
        }
    }

    /// Whether an inventory can ever prove this goal (not for free-form tasks).
    pub fn provable_by_inventory(&self) -> bool {
        !matches!(self, CampaignGoal::FreeTask { .. })
    }

    /// The goal in one Japanese line: 「Windows Defender の定義バージョン 1.403.0.0 以上」.
    pub fn summary_ja(&self) -> String {
        match self {
            CampaignGoal::AppAtLeast {
                name_pattern,
                min_version,
            } => format!(
                "{} のバージョン {min_version} 以上",
                pattern_label(name_pattern)
            ),
            CampaignGoal::AvDefinitionsAtLeast {
                product_pattern,
                min_version,
                min_date,
            } => {
                let p = pattern_label(product_pattern);
                match (min_version, min_date) {
                    (Some(v), Some(d)) => {
                        format!("{p} の定義バージョン {v} 以上かつ定義日付 {d} 以降")
                    }
                    (Some(v), None) => format!("{p} の定義バージョン {v} 以上"),
                    (None, Some(d)) => format!("{p} の定義日付 {d} 以降"),
                    (None, None) => format!("{p} の定義が最新（Windows の報告）"),
                }
            }
            CampaignGoal::OsBuildAtLeast { min_build } => format!("OSビルド {min_build} 以上"),
            CampaignGoal::FreeTask { description } => {
                format!("自由作業: {}", description.lines().next().unwrap_or(""))
            }
        }
    }

    /// The goal in one English line.
    pub fn summary_en(&self) -> String {
        match self {
            CampaignGoal::AppAtLeast {
                name_pattern,
                min_version,
            } => format!(
                "{} version {min_version} or later",
                pattern_label(name_pattern)
            ),
            CampaignGoal::AvDefinitionsAtLeast {
                product_pattern,
                min_version,
                min_date,
            } => {
                let p = pattern_label(product_pattern);
                match (min_version, min_date) {
                    (Some(v), Some(d)) => {
                        format!("{p} definitions {v} or later, dated {d} or later")
                    }
                    (Some(v), None) => format!("{p} definitions {v} or later"),
                    (None, Some(d)) => format!("{p} definitions dated {d} or later"),
                    (None, None) => format!("{p} definitions up to date (as Windows reports)"),
                }
            }
            CampaignGoal::OsBuildAtLeast { min_build } => format!("OS build {min_build} or later"),
            CampaignGoal::FreeTask { description } => {
                format!("Task: {}", description.lines().next().unwrap_or(""))
            }
        }
    }

    /// What is expected, short (a compliance cell): `≥ 1.403.0.0`, `≥ 2026-05-01`, `最新`.
    pub fn expected_short(&self) -> String {
        match self {
            CampaignGoal::AppAtLeast { min_version, .. } => format!("≥ {min_version}"),
            CampaignGoal::AvDefinitionsAtLeast {
                min_version,
                min_date,
                ..
            } => match (min_version, min_date) {
                (Some(v), Some(d)) => format!("≥ {v}（{d}以降）"),
                (Some(v), None) => format!("≥ {v}"),
                (None, Some(d)) => format!("{d}以降"),
                (None, None) => "最新".to_string(),
            },
            CampaignGoal::OsBuildAtLeast { min_build } => format!("≥ {min_build}"),
            CampaignGoal::FreeTask { .. } => String::new(),
        }
    }
}

/// `=Name` → 「Name」 (exact), anything else as typed; empty → 「すべて」.
fn pattern_label(p: &str) -> String {
    let p = p.trim();
    if p.is_empty() {
        "ウイルス対策ソフト".to_string()
    } else if let Some(exact) = p.strip_prefix('=') {
        exact.trim().to_string()
    } else {
        p.to_string()
    }
}

/// Whether `name` matches a pattern: case-insensitive substring, or with a leading `=` the whole name
/// (case-insensitively). An empty pattern matches everything.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let p = pattern.trim();
    if let Some(exact) = p.strip_prefix('=') {
        return exact.trim().to_lowercase() == name.trim().to_lowercase();
    }
    name.to_lowercase().contains(&p.to_lowercase())
}

/// What an inventory says about a goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalCheck {
    /// The inventory proves the goal.
    pub met: bool,
    /// The inventory reports enough to judge (false: the value is missing, or the goal is a free task).
    /// `met` implies `known`.
    pub known: bool,
    /// The value observed (`Windows Defender 定義 1.401.12.0`, `6.3.9600`), empty when none.
    pub observed: String,
    /// Why, in Japanese: 「Windows Defender の定義バージョン 1.401.12.0 は目標 1.403.0.0 未満です」.
    pub reason: String,
}

impl GoalCheck {
    fn met(observed: impl Into<String>, reason: impl Into<String>) -> GoalCheck {
        GoalCheck {
            met: true,
            known: true,
            observed: observed.into(),
            reason: reason.into(),
        }
    }

    fn lagging(observed: impl Into<String>, reason: impl Into<String>) -> GoalCheck {
        GoalCheck {
            met: false,
            known: true,
            observed: observed.into(),
            reason: reason.into(),
        }
    }

    fn unknown(observed: impl Into<String>, reason: impl Into<String>) -> GoalCheck {
        GoalCheck {
            met: false,
            known: false,
            observed: observed.into(),
            reason: reason.into(),
        }
    }
}

/// Whether `have` is at least `want` by [`compare_versions`].
fn at_least(have: &str, want: &str) -> bool {
    compare_versions(have, want) != Ordering::Less
}

/// Checks `goal` against one inventory. Uses [`compare_versions`] for every version; a free-form task is
/// never proven by an inventory.
pub fn evaluate(goal: &CampaignGoal, s: &InventorySnapshot) -> GoalCheck {
    match goal {
        CampaignGoal::AppAtLeast {
            name_pattern,
            min_version,
        } => evaluate_app(name_pattern, min_version, s),
        CampaignGoal::AvDefinitionsAtLeast {
            product_pattern,
            min_version,
            min_date,
        } => evaluate_av(product_pattern, min_version.as_deref(), *min_date, s),
        CampaignGoal::OsBuildAtLeast { min_build } => {
            let build =
                s.os.build
                    .as_deref()
                    .map(str::trim)
                    .filter(|b| !b.is_empty());
            match build {
                None => GoalCheck::unknown("", "OSビルドが報告されていません"),
                Some(b) if at_least(b, min_build) => {
                    GoalCheck::met(b, format!("OSビルド {b} は目標 {min_build} 以上です"))
                }
                Some(b) => {
                    GoalCheck::lagging(b, format!("OSビルド {b} は目標 {min_build} 未満です"))
                }
            }
        }
        CampaignGoal::FreeTask { .. } => GoalCheck::unknown(
            "",
            "自由作業はインベントリでは確認できません（SEの申告で記録します）",
        ),
    }
}

fn software_label(sw: &Software) -> String {
    match sw.version.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(v) => format!("{} {v}", sw.name),
        None => sw.name.clone(),
    }
}

fn evaluate_app(pattern: &str, min: &str, s: &InventorySnapshot) -> GoalCheck {
    let label = pattern_label(pattern);
    if s.partial && s.software.is_empty() {
        return GoalCheck::unknown(
            "",
            "部分的なインベントリのため、ソフトウェアの情報がありません",
        );
    }
    let matching: Vec<&Software> = s
        .software
        .iter()
        .filter(|sw| name_matches(pattern, &sw.name))
        .collect();
    if matching.is_empty() {
        return GoalCheck::lagging(
            "未インストール",
            format!("{label} がインストールされていません"),
        );
    }
    let versioned: Vec<(&Software, &str)> = matching
        .iter()
        .filter_map(|sw| {
            sw.version
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| (*sw, v))
        })
        .collect();
    let Some((best, v)) = versioned
        .iter()
        .copied()
        .max_by(|a, b| compare_versions(a.1, b.1))
    else {
        return GoalCheck::unknown(
            software_label(matching[0]),
            format!("{} のバージョンが報告されていません", matching[0].name),
        );
    };
    if at_least(v, min) {
        GoalCheck::met(
            software_label(best),
            format!("{} のバージョン {v} は目標 {min} 以上です", best.name),
        )
    } else {
        GoalCheck::lagging(
            software_label(best),
            format!("{} のバージョン {v} は目標 {min} 未満です", best.name),
        )
    }
}

/// A definition date as agents write it: `2026-05-01`, `2026/05/01`, `20260501`, optionally followed by a
/// time, or `01/05/2026` / `05/01/2026` when the day is unambiguous (greater than 12) or both parts agree.
pub fn parse_definition_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let head = t.split([' ', 'T']).next().unwrap_or("");
    for fmt in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(head, fmt) {
            return Some(d);
        }
    }
    let parts: Vec<&str> = head.split(['/', '-', '.']).collect();
    if let [a, b, y] = parts.as_slice() {
        let (a, b, y): (u32, u32, i32) = (a.parse().ok()?, b.parse().ok()?, y.parse().ok()?);
        if y < 1000 {
            return None;
        }
        let dmy = NaiveDate::from_ymd_opt(y, b, a);
        let mdy = NaiveDate::from_ymd_opt(y, a, b);
        return match (dmy, mdy) {
            (Some(d), None) | (None, Some(d)) => Some(d),
            (Some(d), Some(m)) if d == m => Some(d),
            _ => None,
        };
    }
    None
}

fn av_label(a: &Antivirus) -> String {
    let base = a
        .base_version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let date = a
        .base_date
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    match (base, date) {
        (Some(v), Some(d)) => format!("{} 定義 {v}（{d}）", a.name),
        (Some(v), None) => format!("{} 定義 {v}", a.name),
        (None, Some(d)) => format!("{} 定義日付 {d}", a.name),
        (None, None) => match a.up_to_date {
            Some(true) => format!("{}（定義は最新と報告）", a.name),
            Some(false) => format!("{}（定義は最新ではないと報告）", a.name),
            None => format!("{}（定義の情報なし）", a.name),
        },
    }
}

fn evaluate_one_av(
    a: &Antivirus,
    min_version: Option<&str>,
    min_date: Option<NaiveDate>,
) -> GoalCheck {
    let observed = av_label(a);
    let name = &a.name;
    let mut met_reasons = Vec::new();
    if let Some(min) = min_version {
        match a
            .base_version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => {
                return GoalCheck::unknown(
                    observed,
                    format!("{name} の定義バージョンが報告されていません"),
                );
            }
            Some(v) if !at_least(v, min) => {
                return GoalCheck::lagging(
                    observed,
                    format!("{name} の定義バージョン {v} は目標 {min} 未満です"),
                );
            }
            Some(v) => {
                met_reasons.push(format!("{name} の定義バージョン {v} は目標 {min} 以上です"))
            }
        }
    }
    if let Some(min) = min_date {
        let raw = a
            .base_date
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty());
        match raw {
            None => {
                return GoalCheck::unknown(
                    observed,
                    format!("{name} の定義日付が報告されていません"),
                );
            }
            Some(raw) => match parse_definition_date(raw) {
                None => {
                    return GoalCheck::unknown(
                        observed,
                        format!("{name} の定義日付「{raw}」を解釈できません"),
                    );
                }
                Some(d) if d < min => {
                    return GoalCheck::lagging(
                        observed,
                        format!("{name} の定義日付 {d} は目標 {min} より前です"),
                    );
                }
                Some(d) => met_reasons.push(format!("{name} の定義日付 {d} は目標 {min} 以降です")),
            },
        }
    }
    if min_version.is_none() && min_date.is_none() {
        return match a.up_to_date {
            Some(true) => GoalCheck::met(observed, format!("{name} は定義が最新と報告しています")),
            Some(false) => GoalCheck::lagging(
                observed,
                format!("{name} は定義が最新ではないと報告しています"),
            ),
            None => GoalCheck::unknown(
                observed,
                format!("{name} は定義が最新かどうかを報告していません"),
            ),
        };
    }
    GoalCheck::met(observed, met_reasons.join("、"))
}

fn evaluate_av(
    pattern: &str,
    min_version: Option<&str>,
    min_date: Option<NaiveDate>,
    s: &InventorySnapshot,
) -> GoalCheck {
    if s.partial && s.antivirus.is_empty() {
        return GoalCheck::unknown(
            "",
            "部分的なインベントリのため、ウイルス対策ソフトの情報がありません",
        );
    }
    let checks: Vec<GoalCheck> = s
        .antivirus
        .iter()
        .filter(|a| name_matches(pattern, &a.name))
        .map(|a| evaluate_one_av(a, min_version, min_date))
        .collect();
    if checks.is_empty() {
        return GoalCheck::lagging(
            "未検出",
            format!("{} が見つかりません", pattern_label(pattern)),
        );
    }
    // Any matching product proving the goal is enough; otherwise a known shortfall is reported before
    // a missing value.
    if let Some(c) = checks.iter().find(|c| c.met) {
        return c.clone();
    }
    checks
        .iter()
        .find(|c| c.known)
        .or_else(|| checks.first())
        .cloned()
        .unwrap_or_else(|| GoalCheck::unknown("", "判定できません"))
}

// ---------------------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------------------

/// Which terminals a campaign targets, as stored (resolved into target rows when it is created).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum TargetSpec {
    /// Every terminal in service.
    All,
    /// Every terminal in service of one kind.
    Kind {
        /// The kind.
        kind: TerminalKind,
    },
    /// Every terminal in service at these sites.
    Sites {
        /// The sites.
        site_ids: Vec<i64>,
    },
    /// These terminals.
    Terminals {
        /// The terminals.
        terminal_ids: Vec<i64>,
    },
}

impl TargetSpec {
    /// The mode.
    pub fn mode(&self) -> TargetMode {
        match self {
            TargetSpec::All => TargetMode::All,
            TargetSpec::Kind { .. } => TargetMode::Kind,
            TargetSpec::Sites { .. } => TargetMode::Sites,
            TargetSpec::Terminals { .. } => TargetMode::Terminals,
        }
    }
}

/// Raw input of a new campaign (form or API). Fields not used by the chosen goal type are ignored.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CampaignInput {
    /// 件名.
    pub title: String,
    /// Goal type code: `app`, `antivirus`, `os_build`, `free_task`.
    pub goal_type: String,
    /// `app`: the application name (substring; `=Name` for the exact name).
    pub name_pattern: String,
    /// `antivirus`: the product name (substring; `=Name` for the exact name).
    pub product_pattern: String,
    /// `app` (required), `antivirus` (optional): the lowest acceptable version.
    pub min_version: String,
    /// `antivirus` (optional): the earliest acceptable definition date (ISO or 和暦).
    pub min_date: String,
    /// `os_build`: the lowest acceptable OS build.
    pub min_build: String,
    /// Notes; for `free_task` the task itself (required).
    pub description: String,
    /// Target mode code: `all`, `kind`, `sites`, `terminals`.
    pub target: String,
    /// `kind`: the terminal kind code.
    pub kind: String,
    /// `sites`: the sites.
    pub site_ids: Vec<i64>,
    /// `terminals`: the terminals.
    pub terminal_ids: Vec<i64>,
    /// Representative terminals first: business terminals can be 実施済 only after every representative
    /// target is.
    pub staged: bool,
    /// The prefecture wants a witness (立会者) recorded with every attested 実施済.
    pub witness_required: bool,
}

/// A validated campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignDraft {
    pub title: Line<200>,
    pub goal: CampaignGoal,
    pub target: TargetSpec,
    pub staged: bool,
    pub witness_required: bool,
    pub description: Text<4000>,
}

/// A version as typed: one line, at most 100 characters, at least one digit.
fn version_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    label: &str,
    example: &str,
    value: &str,
    required: bool,
) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        if required {
            errors.push(FieldError::new(
                field,
                format!("{label}を入力してください（例: {example}）。"),
            ));
        }
        return None;
    }
    if v.chars().count() > 100
        || v.chars().any(char::is_control)
        || !v.chars().any(|c| c.is_ascii_digit())
    {
        errors.push(FieldError::new(
            field,
            format!("{label}の形式が正しくありません（例: {example}）。"),
        ));
        return None;
    }
    let before = errors.len();
    text::guard(errors, field, label, v);
    (errors.len() == before).then(|| v.to_string())
}

impl CampaignInput {
    /// Validates into a campaign (the targets' existence is checked by the store).
    pub fn validate(&self) -> Result<CampaignDraft, DomainError> {
        let mut errors = Vec::new();
        let title = text::line(&mut errors, "title", "件名", &self.title, true);
        let kind = GoalKind::parse(&self.goal_type);
        let description: Text<4000> = text::text(
            &mut errors,
            "description",
            if kind == Some(GoalKind::FreeTask) {
                "作業内容"
            } else {
                "説明"
            },
            &self.description,
            kind == Some(GoalKind::FreeTask),
        );
        let goal = match kind {
            None => {
                errors.push(FieldError::new(
                    "goal_type",
                    "目標の種類を選択してください。",
                ));
                None
            }
            Some(GoalKind::App) => {
                let name = text::line::<200>(
                    &mut errors,
                    "name_pattern",
                    "アプリケーション名",
                    &self.name_pattern,
                    true,
                )
                .into_string();
                if name.trim_start_matches('=').trim().is_empty() && !name.is_empty() {
                    errors.push(FieldError::new(
                        "name_pattern",
                        "アプリケーション名を入力してください。",
                    ));
                }
                let min = version_text(
                    &mut errors,
                    "min_version",
                    "目標バージョン",
                    "3.2.1",
                    &self.min_version,
                    true,
                );
                min.map(|min_version| CampaignGoal::AppAtLeast {
                    name_pattern: name,
                    min_version,
                })
            }
            Some(GoalKind::Antivirus) => {
                let product = text::line::<200>(
                    &mut errors,
                    "product_pattern",
                    "ウイルス対策ソフトの名前",
                    &self.product_pattern,
                    true,
                )
                .into_string();
                let min_version = version_text(
                    &mut errors,
                    "min_version",
                    "目標の定義バージョン",
                    "1.403.0.0",
                    &self.min_version,
                    false,
                );
                let min_date = crate::support::date_field(
                    &mut errors,
                    "min_date",
                    "目標の定義日付",
                    &self.min_date,
                    false,
                );
                Some(CampaignGoal::AvDefinitionsAtLeast {
                    product_pattern: product,
                    min_version,
                    min_date,
                })
            }
            Some(GoalKind::OsBuild) => version_text(
                &mut errors,
                "min_build",
                "目標のOSビルド",
                "10.0.19045",
                &self.min_build,
                true,
            )
            .map(|min_build| CampaignGoal::OsBuildAtLeast { min_build }),
            Some(GoalKind::FreeTask) => Some(CampaignGoal::FreeTask {
                description: description.to_string(),
            }),
        };
        let ids = |v: &[i64]| {
            let mut v: Vec<i64> = v.iter().copied().filter(|id| *id > 0).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let target = match TargetMode::parse(&self.target) {
            None => {
                errors.push(FieldError::new(
                    "target",
                    "対象の指定方法を選択してください。",
                ));
                None
            }
            Some(TargetMode::All) => Some(TargetSpec::All),
            Some(TargetMode::Kind) => match TerminalKind::parse(&self.kind) {
                Some(kind) => Some(TargetSpec::Kind { kind }),
                None => {
                    errors.push(FieldError::new("kind", "端末の種別を選択してください。"));
                    None
                }
            },
            Some(TargetMode::Sites) => {
                let site_ids = ids(&self.site_ids);
                if site_ids.is_empty() {
                    errors.push(FieldError::new(
                        "site_ids",
                        "拠点を1つ以上選択してください。",
                    ));
                }
                Some(TargetSpec::Sites { site_ids })
            }
            Some(TargetMode::Terminals) => {
                let terminal_ids = ids(&self.terminal_ids);
                if terminal_ids.is_empty() {
                    errors.push(FieldError::new(
                        "terminal_ids",
                        "端末を1台以上選択してください。",
                    ));
                }
                Some(TargetSpec::Terminals { terminal_ids })
            }
        };
        match (goal, target) {
            (Some(goal), Some(target)) if errors.is_empty() => Ok(CampaignDraft {
                title,
                goal,
                target,
                staged: self.staged,
                witness_required: self.witness_required,
                description,
            }),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// The stage of a target: with stages, representative terminals are stage 1 and business terminals
/// stage 2; without, everything is stage 1.
pub fn stage_of(kind: TerminalKind, staged: bool) -> i64 {
    if staged && kind == TerminalKind::Business {
        2
    } else {
        1
    }
}

/// Refuses 実施済 for a stage-2 target while representative targets (`open_stage1`, their host names)
/// are neither 実施済 nor 対象外.
pub fn check_stage(stage: i64, open_stage1: &[String]) -> Result<(), DomainError> {
    if stage > 1 && !open_stage1.is_empty() {
        return Err(DomainError::Conflict(format!(
            "代表端末（{}）の実施済が確認されるまで、業務端末は実施済にできません。",
            open_stage1.join("、")
        )));
    }
    Ok(())
}

/// The SE's attestation of one target, as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AttestInput {
    /// `done`, `failed` or `pending` (back to 未実施).
    pub status: String,
    /// The work-log entry (作業記録) that evidences it; required for 実施済.
    pub work_entry_id: Option<i64>,
    /// Who witnessed it for the prefecture (立会者), when there was one.
    pub witness: String,
    /// A note; required for 失敗 (what went wrong).
    pub note: String,
}

/// A validated attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttestDraft {
    pub status: TargetStatus,
    pub work_entry_id: Option<i64>,
    pub witness: Line<100>,
    pub note: Text<2000>,
}

impl AttestInput {
    /// Validates: 実施済 needs a work entry (and a witness when the campaign wants one), 失敗 a note;
    /// 対象外 is not an attestation (it needs a reason, see [`ExcludeInput`]).
    pub fn validate(&self, witness_required: bool) -> Result<AttestDraft, DomainError> {
        let mut errors = Vec::new();
        let status = TargetStatus::parse(&self.status);
        let witness = text::line(&mut errors, "witness", "立会者", &self.witness, false);
        let note = text::text(&mut errors, "note", "備考", &self.note, false);
        match status {
            None => errors.push(FieldError::new("status", "状態を選択してください。")),
            Some(TargetStatus::Excluded) => errors.push(FieldError::new(
                "status",
                "対象外にするには「対象外にする」から理由を入力してください。",
            )),
            Some(TargetStatus::Done) => {
                if self.work_entry_id.is_none_or(|id| id <= 0) {
                    errors.push(FieldError::new(
                        "work_entry_id",
                        "実施済にするには、実施を記録した作業記録の番号を入力してください。",
                    ));
                }
                if witness_required && self.witness.trim().is_empty() {
                    errors.push(FieldError::new(
                        "witness",
                        "この展開では立会者の記録が必要です。立会者を入力してください。",
                    ));
                }
            }
            Some(TargetStatus::Failed) => {
                if self.note.trim().is_empty() {
                    errors.push(FieldError::new(
                        "note",
                        "失敗の内容を備考に入力してください。",
                    ));
                }
            }
            Some(TargetStatus::Pending) => {}
        }
        match status {
            Some(status) if errors.is_empty() => Ok(AttestDraft {
                status,
                work_entry_id: self.work_entry_id.filter(|id| *id > 0),
                witness,
                note,
            }),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// Excluding a target, as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ExcludeInput {
    /// Why the terminal is not part of the campaign (required).
    pub reason: String,
}

impl ExcludeInput {
    /// Validates: the reason is required.
    pub fn validate(&self) -> Result<Text<2000>, DomainError> {
        let mut errors = Vec::new();
        let reason = text::text(&mut errors, "reason", "対象外の理由", &self.reason, true);
        if errors.is_empty() {
            Ok(reason)
        } else {
            Err(DomainError::Validation(errors))
        }
    }
}

/// Counts of a campaign's targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub total: i64,
    pub pending: i64,
    pub done: i64,
    /// Of `done`, proven by an inventory.
    pub done_agent: i64,
    /// Of `done`, attested by the SE.
    pub done_attested: i64,
    pub failed: i64,
    pub excluded: i64,
    /// Excluded targets without a reason (never written by unyo; counted so that closing can refuse them).
    pub excluded_without_reason: i64,
}

impl Progress {
    /// Adds one target.
    pub fn add(&mut self, status: TargetStatus, evidence: Option<Evidence>, reason_given: bool) {
        self.total += 1;
        match status {
            TargetStatus::Pending => self.pending += 1,
            TargetStatus::Done => {
                self.done += 1;
                match evidence {
                    Some(Evidence::Agent) => self.done_agent += 1,
                    Some(Evidence::Attested) => self.done_attested += 1,
                    None => {}
                }
            }
            TargetStatus::Failed => self.failed += 1,
            TargetStatus::Excluded => {
                self.excluded += 1;
                if !reason_given {
                    self.excluded_without_reason += 1;
                }
            }
        }
    }

    /// Targets that count (everything but 対象外).
    pub fn in_scope(&self) -> i64 {
        self.total - self.excluded
    }

    /// Percentage of in-scope targets done (0 when there are none).
    pub fn percent(&self) -> i64 {
        if self.in_scope() <= 0 {
            0
        } else {
            self.done * 100 / self.in_scope()
        }
    }

    /// 「12/17 実施済」 (対象外 are left out of the denominator and named after it).
    pub fn label_ja(&self) -> String {
        let mut s = format!("{}/{} 実施済", self.done, self.in_scope());
        if self.excluded > 0 {
            s.push_str(&format!("（対象外 {}台）", self.excluded));
        }
        s
    }

    /// "12/17 done".
    pub fn label_en(&self) -> String {
        let mut s = format!("{}/{} done", self.done, self.in_scope());
        if self.excluded > 0 {
            s.push_str(&format!(" ({} excluded)", self.excluded));
        }
        s
    }

    /// A text progress bar of `width` cells: `■■■■■■□□□□`.
    pub fn bar(&self, width: usize) -> String {
        let filled = if self.in_scope() <= 0 {
            0
        } else {
            (usize::try_from(self.done).unwrap_or(0) * width)
                / usize::try_from(self.in_scope()).unwrap_or(1)
        }
        .min(width);
        format!("{}{}", "■".repeat(filled), "□".repeat(width - filled))
    }
}

/// Refuses to close a campaign unless every target is 実施済 or 対象外 with a reason.
pub fn check_close(p: &Progress) -> Result<(), DomainError> {
    if p.total == 0 {
        return Ok(());
    }
    let open = p.pending + p.failed;
    if open > 0 || p.excluded_without_reason > 0 {
        let mut parts = Vec::new();
        if p.pending > 0 {
            parts.push(format!("未実施 {}台", p.pending));
        }
        if p.failed > 0 {
            parts.push(format!("失敗 {}台", p.failed));
        }
        if p.excluded_without_reason > 0 {
            parts.push(format!("理由のない対象外 {}台", p.excluded_without_reason));
        }
        return Err(DomainError::Conflict(format!(
            "完了にできません。すべての端末を実施済、または理由を付けて対象外にしてください（{}）。",
            parts.join("、")
        )));
    }
    Ok(())
}

/// Whether an evidence row can be shown as agent-verified: only `agent` evidence with an inventory.
pub fn is_agent_verified(evidence: Option<Evidence>, inventory_id: Option<i64>) -> bool {
    evidence == Some(Evidence::Agent) && inventory_id.is_some()
}

// ---------------------------------------------------------------------------------------------------
// Compliance
// ---------------------------------------------------------------------------------------------------

coded_enum!(
    /// The column family of a compliance item.
    ItemKind {
        /// OS build.
        OsBuild = "os_build", "OSビルド", "OS build";
        /// Antivirus definitions.
        Antivirus = "antivirus", "ウイルス対策の定義", "Antivirus definitions";
        /// A tracked application.
        App = "app", "アプリケーション", "Application";
    }
);

coded_enum!(
    /// The judgement of one compliance cell.
    CellState {
        /// 適合: the inventory shows what is expected.
        Ok = "ok", "適合", "OK";
        /// 遅れ: the inventory shows less than what is expected.
        Lagging = "lagging", "遅れ", "Lagging";
        /// 不明: no inventory, a stale one, or the value is not reported.
        Unknown = "unknown", "不明", "Unknown";
        /// 基準なし: nothing is expected (the observed value is shown for information).
        NoTarget = "none", "基準なし", "No target";
    }
);

/// One column of the compliance grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplianceItem {
    /// Stable key (`os_build`, `antivirus:windows defender`, `app:住基アプリ`).
    pub key: String,
    pub kind: ItemKind,
    /// Column label (`OSビルド`, `Windows Defender 定義`, `住基アプリ`).
    pub label: String,
    /// What is expected; `None` when nothing is (only the OS column has no campaign behind it).
    pub goal: Option<CampaignGoal>,
    /// Where the expectation comes from: campaign numbers, and 「基準値」 for the baseline.
    pub sources: Vec<String>,
    /// The OS-build column only: the build expected of each build line ([`os_build_line`]), highest
    /// line first. `goal` is the first of them. Empty for other columns.
    pub os_builds: Vec<String>,
}

impl ComplianceItem {
    /// The expected value, short (`≥ 10.0.19045`, `≥ 10.0.26100.4652 / ≥ 10.0.19044.5965`), empty when
    /// none.
    pub fn expected(&self) -> String {
        if self.os_builds.len() > 1 {
            return self
                .os_builds
                .iter()
                .map(|b| format!("≥ {b}"))
                .collect::<Vec<_>>()
                .join(" / ");
        }
        self.goal
            .as_ref()
            .map(CampaignGoal::expected_short)
            .unwrap_or_default()
    }

    /// The goal a terminal reporting `build` is judged against. Builds with an update part
    /// (`10.0.19044.5965`) are expected of their own build line ([`os_build_line`]); shorter ones
    /// (`10.0.19045`) are a floor for every terminal. A terminal below the floor is judged against it,
    /// else against its line's build, else the floor, else the highest build expected (so one baseline
    /// judges every terminal as it always did). Other columns have one goal for all.
    pub fn goal_for(&self, build: Option<&str>) -> Option<CampaignGoal> {
        if self.kind != ItemKind::OsBuild || self.os_builds.len() < 2 {
            return self.goal.clone();
        }
        let floor = self.os_builds.iter().find(|b| !has_update_part(b));
        let line = build.and_then(|have| {
            self.os_builds
                .iter()
                .find(|b| has_update_part(b) && os_build_line(b) == os_build_line(have))
        });
        let below_floor = matches!((floor, build), (Some(f), Some(have)) if !at_least(have, f));
        let min_build = match (floor, line) {
            (Some(f), _) if below_floor => f,
            (_, Some(l)) => l,
            (Some(f), None) => f,
            (None, None) => &self.os_builds[0],
        };
        Some(CampaignGoal::OsBuildAtLeast {
            min_build: min_build.clone(),
        })
    }
}

/// The build line of a Windows build: its first three parts (`10.0.19044` of `10.0.19044.5965`), which
/// name the release (Windows 10 LTSC 2021, Windows 11 24H2, …); a cumulative update changes only the
/// fourth. Other version texts are their own line.
pub fn os_build_line(build: &str) -> &str {
    let build = build.trim();
    match build.match_indices('.').nth(2) {
        Some((i, _)) => &build[..i],
        None => build,
    }
}

/// Validates the OS-build baseline text of the compliance view: empty (no baseline), or up to eight builds
/// of two to four dotted numbers (`10.0.26100.4652`), at most one per build line; returns them joined by
/// `, `.
pub fn validate_os_baseline(text: &str) -> Result<String, DomainError> {
    let refuse = |why: &str| {
        DomainError::invalid(
            "os_build_baseline",
            format!(
                "基準OSビルドの形式が正しくありません。{why}（例: 10.0.26100.4652, 10.0.19044.5965）"
            ),
        )
    };
    let builds = baseline_builds(text);
    if builds.len() > 8 {
        return Err(refuse("指定できるのは8件までです。"));
    }
    for b in &builds {
        let parts: Vec<&str> = b.split('.').collect();
        if !(2..=4).contains(&parts.len())
            || b.len() > 40
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(refuse(&format!(
                "「{}」はビルド番号の形式ではありません。数字を「.」で区切り、2～4つの部分で書いてください。",
                b.chars().take(40).collect::<String>()
            )));
        }
    }
    for (i, b) in builds.iter().enumerate() {
        if let Some(other) = builds[..i].iter().find(|x| same_expectation(x, b)) {
            return Err(refuse(&format!(
                "「{other}」と「{b}」は同じ系列です。系列ごとに1つにしてください。"
            )));
        }
    }
    Ok(builds.join(", "))
}

/// Whether a build names its update (a fourth part: `10.0.19044.5965`), so that it is expected of its
/// build line only.
fn has_update_part(build: &str) -> bool {
    build.trim().split('.').count() >= 4
}

/// Whether two builds state the same expectation: builds with an update part (`10.0.19044.5965`) are
/// one per build line; shorter ones are all the one floor.
fn same_expectation(a: &str, b: &str) -> bool {
    has_update_part(a) == has_update_part(b)
        && (!has_update_part(b) || os_build_line(a) == os_build_line(b))
}

/// The builds of a baseline text: one or more builds separated by commas, 「、」 or white space (one per
/// build line, e.g. `10.0.26100.4652, 10.0.19044.5965`).
pub fn baseline_builds(text: &str) -> Vec<&str> {
    text.split(|c: char| c == ',' || c == '、' || c.is_whitespace())
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .collect()
}

fn max_version(a: Option<String>, b: &str) -> Option<String> {
    match a {
        Some(a) if compare_versions(&a, b) != Ordering::Less => Some(a),
        _ => Some(b.to_string()),
    }
}

/// The columns of the compliance grid from the goals of the open campaigns (`(number, goal)`) and the OS
/// build baseline: one OS-build column (the highest build expected), one antivirus column per product
/// pattern (the highest version / latest date expected; a default 「ウイルス対策」 column that asks for
/// up-to-date definitions when no campaign names a product), and one column per tracked application
/// (the highest version expected). Free-form tasks have no column.
pub fn compliance_items(
    open_goals: &[(String, CampaignGoal)],
    os_baseline: Option<&str>,
) -> Vec<ComplianceItem> {
    // The highest build expected of each build line.
    let mut os_builds: Vec<String> = Vec::new();
    let mut expect_build = |b: &str| match os_builds.iter_mut().find(|x| same_expectation(x, b)) {
        Some(x) => {
            if compare_versions(x, b) == Ordering::Less {
                *x = b.to_string();
            }
        }
        None => os_builds.push(b.to_string()),
    };
    let mut os_sources = Vec::new();
    let baseline = baseline_builds(os_baseline.unwrap_or(""));
    if !baseline.is_empty() {
        baseline.iter().for_each(|b| expect_build(b));
        os_sources.push("基準値".to_string());
    }
    /// The merged expectation of the antivirus campaigns naming one product.
    struct Av {
        key: String,
        pattern: String,
        min_version: Option<String>,
        min_date: Option<NaiveDate>,
        sources: Vec<String>,
    }
    let mut avs: Vec<Av> = Vec::new();
    let mut apps: Vec<(String, String, String, Vec<String>)> = Vec::new();
    for (number, goal) in open_goals {
        match goal {
            CampaignGoal::OsBuildAtLeast { min_build } => {
                expect_build(min_build);
                os_sources.push(number.clone());
            }
            CampaignGoal::AvDefinitionsAtLeast {
                product_pattern,
                min_version,
                min_date,
            } => {
                let key = product_pattern.trim().to_lowercase();
                let i = match avs.iter().position(|a| a.key == key) {
                    Some(i) => i,
                    None => {
                        avs.push(Av {
                            key,
                            pattern: product_pattern.trim().to_string(),
                            min_version: None,
                            min_date: None,
                            sources: Vec::new(),
                        });
                        avs.len() - 1
                    }
                };
                let entry = &mut avs[i];
                if let Some(v) = min_version {
                    entry.min_version = max_version(entry.min_version.take(), v);
                }
                if let Some(d) = min_date {
                    entry.min_date = Some(entry.min_date.map_or(*d, |e| e.max(*d)));
                }
                entry.sources.push(number.clone());
            }
            CampaignGoal::AppAtLeast {
                name_pattern,
                min_version,
            } => {
                let key = name_pattern.trim().to_lowercase();
                match apps.iter_mut().find(|a| a.0 == key) {
                    Some(a) => {
                        a.2 = max_version(Some(a.2.clone()), min_version).unwrap_or_default();
                        a.3.push(number.clone());
                    }
                    None => apps.push((
                        key,
                        name_pattern.trim().to_string(),
                        min_version.clone(),
                        vec![number.clone()],
                    )),
                }
            }
            CampaignGoal::FreeTask { .. } => {}
        }
    }
    os_builds.sort_by(|a, b| compare_versions(b, a));
    let mut items = vec![ComplianceItem {
        key: "os_build".into(),
        kind: ItemKind::OsBuild,
        label: "OSビルド".into(),
        goal: os_builds
            .first()
            .map(|min_build| CampaignGoal::OsBuildAtLeast {
                min_build: min_build.clone(),
            }),
        sources: os_sources,
        os_builds,
    }];
    if avs.is_empty() {
        items.push(ComplianceItem {
            key: "antivirus".into(),
            kind: ItemKind::Antivirus,
            label: "ウイルス対策".into(),
            goal: Some(CampaignGoal::AvDefinitionsAtLeast {
                product_pattern: String::new(),
                min_version: None,
                min_date: None,
            }),
            sources: Vec::new(),
            os_builds: Vec::new(),
        });
    }
    for Av {
        key,
        pattern,
        min_version,
        min_date,
        sources,
    } in avs
    {
        items.push(ComplianceItem {
            key: format!("antivirus:{key}"),
            kind: ItemKind::Antivirus,
            label: format!("{} 定義", pattern_label(&pattern)),
            goal: Some(CampaignGoal::AvDefinitionsAtLeast {
                product_pattern: pattern,
                min_version,
                min_date,
            }),
            sources,
            os_builds: Vec::new(),
        });
    }
    for (key, pattern, min_version, sources) in apps {
        items.push(ComplianceItem {
            key: format!("app:{key}"),
            kind: ItemKind::App,
            label: pattern_label(&pattern),
            goal: Some(CampaignGoal::AppAtLeast {
                name_pattern: pattern,
                min_version,
            }),
            sources,
            os_builds: Vec::new(),
        });
    }
    items
}

/// The inventory a compliance cell is judged from.
#[derive(Debug, Clone, Copy)]
pub enum InventoryAge<'a> {
    /// The terminal has no inventory.
    Missing,
    /// The latest inventory is stale: its age in days, and the threshold it exceeds.
    Stale(&'a InventorySnapshot, i64, i64),
    /// A recent inventory.
    Fresh(&'a InventorySnapshot),
}

/// How old an inventory received at `received` is at `now`: stale when older than `stale_days` days
/// (an inventory whose reception time is unknown is stale too).
pub fn inventory_age<'a>(
    snapshot: &'a InventorySnapshot,
    received: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    stale_days: i64,
) -> InventoryAge<'a> {
    match received {
        Some(at) if now - at > chrono::Duration::days(stale_days.max(0)) => {
            InventoryAge::Stale(snapshot, (now - at).num_days(), stale_days)
        }
        Some(_) => InventoryAge::Fresh(snapshot),
        None => InventoryAge::Stale(snapshot, i64::MAX, stale_days),
    }
}

/// One cell of the compliance grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplianceCell {
    pub state: CellState,
    /// What is expected (`≥ 10.0.19045`), empty when nothing is.
    pub expected: String,
    /// What the inventory shows, empty when nothing.
    pub observed: String,
    /// Why, in Japanese (always set for 遅れ and 不明).
    pub reason: String,
}

fn observed_only(item: &ComplianceItem, s: &InventorySnapshot) -> String {
    match item.kind {
        ItemKind::OsBuild => s.os.build.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Judges one cell: 不明 without an inventory or with a stale one (the stale value is still shown), else
/// [`evaluate`] of the item's goal — 適合, 遅れ, or 不明 when the value is not reported.
pub fn compliance_cell(item: &ComplianceItem, inventory: InventoryAge<'_>) -> ComplianceCell {
    let expected = item.expected();
    let (s, stale_days) = match inventory {
        InventoryAge::Missing => {
            return ComplianceCell {
                state: CellState::Unknown,
                expected,
                observed: String::new(),
                reason: "インベントリがありません".into(),
            };
        }
        InventoryAge::Stale(s, days, threshold) => (s, Some((days, threshold))),
        InventoryAge::Fresh(s) => (s, None),
    };
    let goal = item.goal_for(s.os.build.as_deref());
    let expected = match &goal {
        Some(g) if item.os_builds.len() > 1 => g.expected_short(),
        _ => expected,
    };
    let Some(goal) = &goal else {
        let observed = observed_only(item, s);
        return match stale_days {
            Some((days, threshold)) => ComplianceCell {
                state: CellState::Unknown,
                expected,
                observed,
                reason: stale_reason(days, threshold),
            },
            None => ComplianceCell {
                state: CellState::NoTarget,
                expected,
                observed,
                reason: "基準値が設定されていません".into(),
            },
        };
    };
    let check = evaluate(goal, s);
    if let Some((days, threshold)) = stale_days {
        return ComplianceCell {
            state: CellState::Unknown,
            expected,
            observed: check.observed,
            reason: format!(
                "{}（参考: {}）",
                stale_reason(days, threshold),
                check.reason
            ),
        };
    }
    let state = if check.met {
        CellState::Ok
    } else if check.known {
        CellState::Lagging
    } else {
        CellState::Unknown
    };
    ComplianceCell {
        state,
        expected,
        observed: check.observed,
        reason: check.reason,
    }
}

fn stale_reason(days: i64, threshold: i64) -> String {
    if days == i64::MAX {
        "インベントリの受信日時が不明です".into()
    } else {
        format!(
            "最新のインベントリが{days}日前のもので古いため判定できません（{threshold}日以内のものが必要です）"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{InventoryFormat, OsInfo};

    fn sw(name: &str, version: Option<&str>) -> Software {
        Software {
            name: name.into(),
            version: version.map(str::to_string),
            publisher: None,
            install_date: None,
            arch: None,
        }
    }

    fn av(name: &str, base: Option<&str>, date: Option<&str>, up: Option<bool>) -> Antivirus {
        Antivirus {
            name: name.into(),
            company: None,
            version: None,
            base_version: base.map(str::to_string),
            base_date: date.map(str::to_string),
            enabled: Some(true),
            up_to_date: up,
            expiration: None,
            guid: None,
        }
    }

    fn snap() -> InventorySnapshot {
        let mut s = InventorySnapshot::empty(InventoryFormat::Fusion);
        s.os = OsInfo {
            name: Some("Windows".into()),
            build: Some("10.0.19045".into()),
            ..Default::default()
        };
        s.software = vec![
            sw("住基アプリ", Some("3.1.0")),
            sw("Adobe Acrobat Reader DC", Some("23.008.20470")),
            sw("Adobe Acrobat Reader DC MUI", Some("15.7.20033")),
            sw("NoVersion Tool", None),
        ];
        s.antivirus = vec![
            av(
                "Windows Defender",
                Some("1.401.12.0"),
                Some("2026-04-20"),
                Some(true),
            ),
            av("Kaspersky Endpoint Security 10", None, None, Some(false)),
        ];
        s
    }

    fn app(p: &str, v: &str) -> CampaignGoal {
        CampaignGoal::AppAtLeast {
            name_pattern: p.into(),
            min_version: v.into(),
        }
    }

    fn avg(p: &str, v: Option<&str>, d: Option<(i32, u32, u32)>) -> CampaignGoal {
        CampaignGoal::AvDefinitionsAtLeast {
            product_pattern: p.into(),
            min_version: v.map(str::to_string),
            min_date: d.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d)),
        }
    }

    fn os(b: &str) -> CampaignGoal {
        CampaignGoal::OsBuildAtLeast {
            min_build: b.into(),
        }
    }

    /// (goal, met, known, observed, reason) against [`snap`].
    #[test]
    fn evaluate_table() {
        let table: Vec<(CampaignGoal, bool, bool, &str, &str)> = vec![
            (
                avg("Windows Defender", Some("1.403.0.0"), None),
                false,
                true,
                "Windows Defender 定義 1.401.12.0（2026-04-20）",
                "Windows Defender の定義バージョン 1.401.12.0 は目標 1.403.0.0 未満です",
            ),
            (
                avg("windows defender", Some("1.401.12"), None),
                true,
                true,
                "Windows Defender 定義 1.401.12.0（2026-04-20）",
                "Windows Defender の定義バージョン 1.401.12.0 は目標 1.401.12 以上です",
            ),
            (
                avg("Defender", Some("1.400.9.0"), Some((2026, 4, 20))),
                true,
                true,
                "Windows Defender 定義 1.401.12.0（2026-04-20）",
                "Windows Defender の定義バージョン 1.401.12.0 は目標 1.400.9.0 以上です、Windows Defender の定義日付 2026-04-20 は目標 2026-04-20 以降です",
            ),
            (
                avg("Defender", None, Some((2026, 5, 1))),
                false,
                true,
                "Windows Defender 定義 1.401.12.0（2026-04-20）",
                "Windows Defender の定義日付 2026-04-20 は目標 2026-05-01 より前です",
            ),
            (
                avg("Defender", None, None),
                true,
                true,
                "Windows Defender 定義 1.401.12.0（2026-04-20）",
                "Windows Defender は定義が最新と報告しています",
            ),
            (
                avg("Kaspersky", None, None),
                false,
                true,
                "Kaspersky Endpoint Security 10（定義は最新ではないと報告）",
                "Kaspersky Endpoint Security 10 は定義が最新ではないと報告しています",
            ),
            (
                avg("Kaspersky", Some("1.0"), None),
                false,
                false,
                "Kaspersky Endpoint Security 10（定義は最新ではないと報告）",
                "Kaspersky Endpoint Security 10 の定義バージョンが報告されていません",
            ),
            (
                avg("=Defender", None, None),
                false,
                true,
                "未検出",
                "Defender が見つかりません",
            ),
            (
                avg("Sophos", Some("1"), None),
                false,
                true,
                "未検出",
                "Sophos が見つかりません",
            ),
            (
                app("住基アプリ", "3.1"),
                true,
                true,
                "住基アプリ 3.1.0",
                "住基アプリ のバージョン 3.1.0 は目標 3.1 以上です",
            ),
            (
                app("住基アプリ", "3.2"),
                false,
                true,
                "住基アプリ 3.1.0",
                "住基アプリ のバージョン 3.1.0 は目標 3.2 未満です",
            ),
            // Substring: the highest of the matching installs counts.
            (
                app("acrobat reader", "20.0"),
                true,
                true,
                "Adobe Acrobat Reader DC 23.008.20470",
                "Adobe Acrobat Reader DC のバージョン 23.008.20470 は目標 20.0 以上です",
            ),
            // Exact: only the MUI pack.
            (
                app("=adobe acrobat reader dc mui", "20.0"),
                false,
                true,
                "Adobe Acrobat Reader DC MUI 15.7.20033",
                "Adobe Acrobat Reader DC MUI のバージョン 15.7.20033 は目標 20.0 未満です",
            ),
            (
                app("Chrome", "1"),
                false,
                true,
                "未インストール",
                "Chrome がインストールされていません",
            ),
            (
                app("NoVersion", "1"),
                false,
                false,
                "NoVersion Tool",
                "NoVersion Tool のバージョンが報告されていません",
            ),
            (
                os("10.0.19045"),
                true,
                true,
                "10.0.19045",
                "OSビルド 10.0.19045 は目標 10.0.19045 以上です",
            ),
            (
                os("10.0.22631"),
                false,
                true,
                "10.0.19045",
                "OSビルド 10.0.19045 は目標 10.0.22631 未満です",
            ),
            (
                os("6.3.9600"),
                true,
                true,
                "10.0.19045",
                "OSビルド 10.0.19045 は目標 6.3.9600 以上です",
            ),
            (
                CampaignGoal::FreeTask {
                    description: "プリンタドライバの更新".into(),
                },
                false,
                false,
                "",
                "自由作業はインベントリでは確認できません（SEの申告で記録します）",
            ),
        ];
        let s = snap();
        for (goal, met, known, observed, reason) in table {
            let c = evaluate(&goal, &s);
            assert_eq!(
                (c.met, c.known, c.observed.as_str(), c.reason.as_str()),
                (met, known, observed, reason),
                "{goal:?}"
            );
        }
    }

    #[test]
    fn missing_values_and_partial_inventories_are_unknown() {
        let mut s = InventorySnapshot::empty(InventoryFormat::Glpi);
        let c = evaluate(&os("10.0"), &s);
        assert!(!c.met && !c.known);
        assert_eq!(c.reason, "OSビルドが報告されていません");
        s.partial = true;
        assert!(!evaluate(&app("x", "1"), &s).known);
        assert!(!evaluate(&avg("x", None, None), &s).known);
        s.partial = false;
        // A full inventory without that software: known to lag.
        assert!(evaluate(&app("x", "1"), &s).known);
    }

    #[test]
    fn any_matching_antivirus_product_may_prove_the_goal() {
        let mut s = snap();
        s.antivirus
            .insert(0, av("Windows Defender", None, None, None));
        let c = evaluate(&avg("Defender", Some("1.401"), None), &s);
        assert!(c.met, "{c:?}");
        // A known shortfall is reported before a missing value.
        let c = evaluate(&avg("Defender", Some("1.500"), None), &s);
        assert!(!c.met && c.known, "{c:?}");
        assert!(c.reason.contains("1.401.12.0 は目標 1.500 未満"));
    }

    #[test]
    fn definition_dates() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd);
        assert_eq!(parse_definition_date("2026-05-01"), d(2026, 5, 1));
        assert_eq!(parse_definition_date("2026/05/01 10:00:00"), d(2026, 5, 1));
        assert_eq!(parse_definition_date("20260501"), d(2026, 5, 1));
        assert_eq!(parse_definition_date("2026-05-01T03:00:00Z"), d(2026, 5, 1));
        assert_eq!(parse_definition_date("25/04/2026"), d(2026, 4, 25));
        assert_eq!(parse_definition_date("04/25/2026"), d(2026, 4, 25));
        assert_eq!(parse_definition_date("05/05/2026"), d(2026, 5, 5));
        assert_eq!(parse_definition_date("04/05/2026"), None, "ambiguous");
        assert_eq!(parse_definition_date("yesterday"), None);
        let mut s = snap();
        s.antivirus[0].base_date = Some("04/05/2026".into());
        let c = evaluate(&avg("Defender", None, Some((2026, 1, 1))), &s);
        assert!(!c.known);
        assert_eq!(
            c.reason,
            "Windows Defender の定義日付「04/05/2026」を解釈できません"
        );
    }

    #[test]
    fn patterns() {
        assert!(name_matches("reader", "Adobe Acrobat Reader DC"));
        assert!(name_matches("", "anything"));
        assert!(name_matches(
            "=ADOBE ACROBAT READER DC",
            "Adobe Acrobat Reader DC"
        ));
        assert!(!name_matches("=Adobe", "Adobe Acrobat Reader DC"));
        assert!(name_matches("住基", "住基アプリ"));
    }

    #[test]
    fn summaries() {
        assert_eq!(
            avg("Windows Defender", Some("1.403.0.0"), None).summary_ja(),
            "Windows Defender の定義バージョン 1.403.0.0 以上"
        );
        assert_eq!(
            avg("Windows Defender", None, None).summary_en(),
            "Windows Defender definitions up to date (as Windows reports)"
        );
        assert_eq!(
            app("=住基アプリ", "3.2").summary_ja(),
            "住基アプリ のバージョン 3.2 以上"
        );
        assert_eq!(os("10.0.19045").expected_short(), "≥ 10.0.19045");
        assert_eq!(avg("x", None, None).expected_short(), "最新");
        assert!(
            !CampaignGoal::FreeTask {
                description: "x".into()
            }
            .provable_by_inventory()
        );
        assert_eq!(os("1").kind(), GoalKind::OsBuild);
    }

    fn input() -> CampaignInput {
        CampaignInput {
            title: "Windows Defender 定義更新（5月）".into(),
            goal_type: "antivirus".into(),
            product_pattern: "Windows Defender".into(),
            min_version: "1.403.0.0".into(),
            target: "kind".into(),
            kind: "business".into(),
            staged: true,
            ..Default::default()
        }
    }

    #[test]
    fn campaign_input_validation() {
        let d = input().validate().expect("valid");
        assert_eq!(d.goal, avg("Windows Defender", Some("1.403.0.0"), None));
        assert_eq!(
            d.target,
            TargetSpec::Kind {
                kind: TerminalKind::Business
            }
        );
        let errs = |i: CampaignInput| match i.validate() {
            Err(DomainError::Validation(e)) => e
                .into_iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>(),
            other => panic!("must fail: {other:?}"),
        };
        let e = errs(CampaignInput {
            title: " ".into(),
            goal_type: "x".into(),
            target: "".into(),
            ..Default::default()
        });
        assert_eq!(
            e,
            vec![
                "title: 件名を入力してください。",
                "goal_type: 目標の種類を選択してください。",
                "target: 対象の指定方法を選択してください。",
            ]
        );
        let e = errs(CampaignInput {
            goal_type: "app".into(),
            target: "sites".into(),
            ..input()
        });
        assert_eq!(
            e,
            vec![
                "name_pattern: アプリケーション名を入力してください。",
                "site_ids: 拠点を1つ以上選択してください。",
            ]
        );
        let e = errs(CampaignInput {
            goal_type: "os_build".into(),
            min_build: "latest".into(),
            target: "terminals".into(),
            ..input()
        });
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains("目標のOSビルドの形式が正しくありません"));
        let e = errs(CampaignInput {
            goal_type: "free_task".into(),
            ..input()
        });
        assert_eq!(e, vec!["description: 作業内容を入力してください。"]);
        let e = errs(CampaignInput {
            min_date: "そのうち".into(),
            ..input()
        });
        assert!(e[0].starts_with("min_date:"));
        let ok = CampaignInput {
            min_date: "令和8年5月1日".into(),
            ..input()
        }
        .validate()
        .expect("valid");
        assert_eq!(
            ok.goal,
            avg("Windows Defender", Some("1.403.0.0"), Some((2026, 5, 1)))
        );
        // Personal identifiers never get in.
        let e = errs(CampaignInput {
            description: "個人番号 123456789018 の端末".into(),
            ..input()
        });
        assert!(e[0].starts_with("description:"), "{e:?}");
        // Japanese labels are accepted for the codes.
        let ja = CampaignInput {
            goal_type: "OSビルド".into(),
            min_build: "10.0.19045".into(),
            target: "すべての端末".into(),
            ..input()
        }
        .validate()
        .expect("valid");
        assert_eq!(ja.target, TargetSpec::All);
    }

    #[test]
    fn attest_and_exclude_inputs() {
        let a = |status: &str, work: Option<i64>, witness: &str, note: &str| AttestInput {
            status: status.into(),
            work_entry_id: work,
            witness: witness.into(),
            note: note.into(),
        };
        assert!(a("done", Some(3), "", "").validate(false).is_ok());
        let Err(DomainError::Validation(e)) = a("done", None, "", "").validate(false) else {
            panic!("needs a work entry")
        };
        assert_eq!(e[0].field, "work_entry_id");
        let Err(DomainError::Validation(e)) = a("done", Some(3), "", "").validate(true) else {
            panic!("needs a witness")
        };
        assert_eq!(e[0].field, "witness");
        assert!(a("done", Some(3), "県職員 花子", "").validate(true).is_ok());
        assert!(a("failed", None, "", "").validate(false).is_err());
        assert!(
            a("failed", None, "", "インストーラが異常終了")
                .validate(false)
                .is_ok()
        );
        assert!(a("pending", None, "", "").validate(false).is_ok());
        let Err(DomainError::Validation(e)) = a("excluded", None, "", "x").validate(false) else {
            panic!("exclusion is not an attestation")
        };
        assert!(e[0].message.contains("対象外にする"));
        assert!(ExcludeInput { reason: " ".into() }.validate().is_err());
        assert_eq!(
            ExcludeInput {
                reason: " 廃棄予定 ".into()
            }
            .validate()
            .map(String::from),
            Ok("廃棄予定".to_string())
        );
    }

    #[test]
    fn stages_and_closing() {
        assert_eq!(stage_of(TerminalKind::Representative, true), 1);
        assert_eq!(stage_of(TerminalKind::Business, true), 2);
        assert_eq!(stage_of(TerminalKind::Business, false), 1);
        assert!(check_stage(1, &["rep01".into()]).is_ok());
        assert!(check_stage(2, &[]).is_ok());
        let Err(DomainError::Conflict(m)) = check_stage(2, &["rep01".into()]) else {
            panic!("stage 2 waits")
        };
        assert_eq!(
            m,
            "代表端末（rep01）の実施済が確認されるまで、業務端末は実施済にできません。"
        );

        let mut p = Progress::default();
        p.add(TargetStatus::Done, Some(Evidence::Agent), false);
        p.add(TargetStatus::Done, Some(Evidence::Attested), false);
        p.add(TargetStatus::Pending, None, false);
        p.add(TargetStatus::Failed, Some(Evidence::Attested), false);
        p.add(TargetStatus::Excluded, None, true);
        assert_eq!(p.label_ja(), "2/4 実施済（対象外 1台）");
        assert_eq!(p.label_en(), "2/4 done (1 excluded)");
        assert_eq!(p.bar(10), "■■■■■□□□□□");
        assert_eq!(p.percent(), 50);
        assert_eq!((p.done_agent, p.done_attested), (1, 1));
        let Err(DomainError::Conflict(m)) = check_close(&p) else {
            panic!("cannot close")
        };
        assert!(m.contains("未実施 1台、失敗 1台"), "{m}");
        let mut q = Progress::default();
        q.add(TargetStatus::Done, Some(Evidence::Agent), false);
        q.add(TargetStatus::Excluded, None, true);
        assert!(check_close(&q).is_ok());
        q.add(TargetStatus::Excluded, None, false);
        assert!(check_close(&q).is_err());
        assert!(is_agent_verified(Some(Evidence::Agent), Some(1)));
        assert!(!is_agent_verified(Some(Evidence::Attested), Some(1)));
        assert!(!is_agent_verified(Some(Evidence::Agent), None));
    }

    #[test]
    fn compliance_items_merge_open_goals() {
        let goals = vec![
            ("展-R8-001".to_string(), os("10.0.19045")),
            ("展-R8-002".to_string(), os("10.0.19044")),
            (
                "展-R8-003".to_string(),
                avg("Windows Defender", Some("1.401.0.0"), None),
            ),
            (
                "展-R8-004".to_string(),
                avg("windows defender", Some("1.403.0.0"), Some((2026, 5, 1))),
            ),
            ("展-R8-005".to_string(), app("住基アプリ", "3.2")),
            ("展-R8-006".to_string(), app("住基アプリ", "3.1")),
            (
                "展-R8-007".to_string(),
                CampaignGoal::FreeTask {
                    description: "x".into(),
                },
            ),
        ];
        let items = compliance_items(&goals, Some("10.0.19041"));
        let keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            ["os_build", "antivirus:windows defender", "app:住基アプリ"]
        );
        assert_eq!(items[0].goal, Some(os("10.0.19045")));
        assert_eq!(items[0].sources, ["基準値", "展-R8-001", "展-R8-002"]);
        assert_eq!(
            items[1].goal,
            Some(avg(
                "Windows Defender",
                Some("1.403.0.0"),
                Some((2026, 5, 1))
            ))
        );
        assert_eq!(items[1].label, "Windows Defender 定義");
        assert_eq!(items[2].goal, Some(app("住基アプリ", "3.2")));
        // Nothing open: an informational OS column and the default antivirus column.
        let items = compliance_items(&[], None);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].goal, None);
        assert_eq!(items[1].label, "ウイルス対策");
    }

    #[test]
    fn compliance_cells() {
        let s = snap();
        let items = compliance_items(
            &[
                ("展-R8-001".into(), os("10.0.22631")),
                ("展-R8-002".into(), app("住基アプリ", "3.1")),
                ("展-R8-003".into(), avg("Kaspersky", Some("1"), None)),
            ],
            None,
        );
        let fresh = InventoryAge::Fresh(&s);
        let c = compliance_cell(&items[0], fresh);
        assert_eq!(c.state, CellState::Lagging);
        assert_eq!(c.expected, "≥ 10.0.22631");
        assert_eq!(c.observed, "10.0.19045");
        assert_eq!(c.reason, "OSビルド 10.0.19045 は目標 10.0.22631 未満です");
        assert_eq!(compliance_cell(&items[2], fresh).state, CellState::Ok);
        assert_eq!(compliance_cell(&items[1], fresh).state, CellState::Unknown);
        let missing = compliance_cell(&items[0], InventoryAge::Missing);
        assert_eq!(missing.state, CellState::Unknown);
        assert_eq!(missing.reason, "インベントリがありません");
        let stale = compliance_cell(&items[2], InventoryAge::Stale(&s, 40, 7));
        assert_eq!(stale.state, CellState::Unknown);
        assert!(
            stale
                .reason
                .starts_with("最新のインベントリが40日前のもので古いため判定できません（7日以内"),
            "{}",
            stale.reason
        );
        assert_eq!(stale.observed, "住基アプリ 3.1.0");
        let info = compliance_items(&[], None);
        let c = compliance_cell(&info[0], fresh);
        assert_eq!(c.state, CellState::NoTarget);
        assert_eq!(c.observed, "10.0.19045");
        // Age.
        let now = chrono::DateTime::parse_from_rfc3339("2026-05-20T00:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        let at = |s: &str| {
            Some(
                chrono::DateTime::parse_from_rfc3339(s)
                    .expect("t")
                    .with_timezone(&Utc),
            )
        };
        assert!(matches!(
            inventory_age(&s, at("2026-05-13T00:00:00Z"), now, 7),
            InventoryAge::Fresh(_)
        ));
        assert!(matches!(
            inventory_age(&s, at("2026-05-12T23:00:00Z"), now, 7),
            InventoryAge::Stale(_, 7, 7)
        ));
        assert!(matches!(
            inventory_age(&s, at("2026-04-01T00:00:00Z"), now, 7),
            InventoryAge::Stale(_, 49, 7)
        ));
        assert!(matches!(
            inventory_age(&s, None, now, 7),
            InventoryAge::Stale(_, i64::MAX, 7)
        ));
    }

    #[test]
    fn each_build_line_has_its_own_baseline() {
        assert_eq!(os_build_line("10.0.19044.5965"), "10.0.19044");
        assert_eq!(os_build_line("10.0.19044"), "10.0.19044");
        assert_eq!(
            baseline_builds("10.0.26100.4652、10.0.19044.5965 "),
            ["10.0.26100.4652", "10.0.19044.5965"]
        );
        let with = |build: &str| {
            let mut s = snap();
            s.os.build = Some(build.into());
            s
        };
        // Windows 11 24H2 and Windows 10 LTSC 2021 each patched to their own cumulative update.
        let items = compliance_items(
            &[("展-R8-010".into(), os("10.0.19044.5965"))],
            Some("10.0.26100.4652, 10.0.19044.5900"),
        );
        assert_eq!(items[0].os_builds, ["10.0.26100.4652", "10.0.19044.5965"]);
        assert_eq!(items[0].expected(), "≥ 10.0.26100.4652 / ≥ 10.0.19044.5965");
        assert_eq!(items[0].sources, ["基準値", "展-R8-010"]);
        let cell = |build: &str| {
            let s = with(build);
            compliance_cell(&items[0], InventoryAge::Fresh(&s))
        };
        let c = cell("10.0.19044.5965");
        assert_eq!(
            (c.state, c.expected.as_str()),
            (CellState::Ok, "≥ 10.0.19044.5965")
        );
        let c = cell("10.0.19044.5900");
        assert_eq!(c.state, CellState::Lagging, "{}", c.reason);
        assert_eq!(cell("10.0.26100.4652").state, CellState::Ok);
        assert_eq!(cell("10.0.26100.4300").state, CellState::Lagging);
        // A line without its own build is held to the highest one.
        let c = cell("10.0.22631.5000");
        assert_eq!(
            (c.state, c.expected.as_str()),
            (CellState::Lagging, "≥ 10.0.26100.4652")
        );
        // A floor without an update part applies to every line.
        let items = compliance_items(&[], Some("10.0.19045 10.0.19044.5965 10.0.26100.4652"));
        let judged = |build: &str| {
            let s = with(build);
            compliance_cell(&items[0], InventoryAge::Fresh(&s)).state
        };
        assert_eq!(
            judged("10.0.19044.9999"),
            CellState::Lagging,
            "below the floor"
        );
        assert_eq!(judged("10.0.26100.4652"), CellState::Ok);
        assert_eq!(
            judged("10.0.19045.1"),
            CellState::Ok,
            "above the floor, no line build"
        );
        // The baseline text.
        assert_eq!(
            validate_os_baseline(" 10.0.26100.4652、10.0.19044.5965 ").as_deref(),
            Ok("10.0.26100.4652, 10.0.19044.5965")
        );
        assert_eq!(validate_os_baseline("").as_deref(), Ok(""));
        for bad in [
            "10.0.x",
            "10.0.19044.1 10.0.19044.2",
            "1.2.3.4.5",
            "10..0",
            "123456789018",
        ] {
            let Err(DomainError::Validation(e)) = validate_os_baseline(bad) else {
                panic!("{bad} accepted")
            };
            assert_eq!(e[0].field, "os_build_baseline");
            assert!(
                e[0].message
                    .starts_with("基準OSビルドの形式が正しくありません。"),
                "{}",
                e[0].message
            );
        }
    }
}
