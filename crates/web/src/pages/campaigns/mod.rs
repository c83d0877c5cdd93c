//! 展開 (rollout campaigns) and 準拠状況 (the compliance view) (issue 4).
//!
//! - `GET /campaigns`: the list with progress (「12/17 実施済」 and a text bar).
//! - `GET /campaigns/new`, `POST /campaigns`: the form (goal type and its fields; targets: all, by kind,
//!   by site, hand-picked; representative first; witness wanted).
//! - `GET /campaigns/{id}`: looks at the inventories first (targets an inventory proves become 実施済 with
//!   「エージェント確認」), then the targets by stage with status, evidence (「エージェント確認」 and
//!   「SE申告」 are distinct badges), observed value and what the latest inventory says; links to the
//!   terminal's inventory and the work entry; forms to attest, exclude, confirm a witness and close.
//! - `GET /compliance`: terminals × key items, lagging cells marked 「遅れ」 with an icon and the reason in a
//!   `<details>` one click away; filters by site and kind; the OS-build baseline; CSV/XLSX exports (audited).
//!
//! Everything works without JavaScript; every write goes through a store method with the person's actor.

mod compliance;
mod detail;
mod form;
mod list;

use crate::AppState;
use crate::i18n::Tr;
use crate::view::{Badge, Opt, parse_id};
use axum::Router;
use axum::routing::{get, post};
use unyo_domain::campaign::{CellState, Evidence, TargetStatus};
use unyo_domain::registry::TerminalKind;

/// Extra UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    ("nav.campaigns", "展開", "Rollouts"),
    ("nav.compliance", "準拠状況", "Compliance"),
    // ---- list
    ("campaign.title", "展開", "Rollout campaigns"),
    ("campaign.new", "展開の登録", "New rollout campaign"),
    ("campaign.number", "展開番号", "Number"),
    ("campaign.subject", "件名", "Title"),
    ("campaign.goal", "目標", "Goal"),
    ("campaign.progress", "進捗", "Progress"),
    ("campaign.started", "開始日時", "Started"),
    ("campaign.closed_at", "完了日時", "Closed"),
    ("campaign.created_by", "登録者", "Created by"),
    ("campaign.status_open", "実施中", "Open"),
    ("campaign.status_closed", "完了", "Closed"),
    (
        "campaign.q_hint",
        "展開番号・件名・説明から検索します。",
        "Searches number, title and description.",
    ),
    (
        "campaign.list_help",
        "進捗は「実施済の台数／対象の台数（対象外を除く）」です。",
        "Progress is targets done / targets in scope (excluded ones left out).",
    ),
    ("campaign.none", "展開はありません。", "No campaigns."),
    // ---- form
    ("campaign.goal_type", "目標の種類", "Kind of goal"),
    (
        "campaign.goal_app",
        "アプリケーションのバージョン",
        "Application version",
    ),
    (
        "campaign.goal_av",
        "ウイルス対策ソフトの定義",
        "Antivirus definitions",
    ),
    ("campaign.goal_os", "OSビルド", "OS build"),
    (
        "campaign.goal_free",
        "自由作業（SEの申告のみで確認）",
        "Free-form task (attested by the SE only)",
    ),
    (
        "campaign.goal_hint",
        "選んだ種類の欄だけが使われます。",
        "Only the fields of the chosen kind are used.",
    ),
    (
        "campaign.app_name",
        "アプリケーション名",
        "Application name",
    ),
    (
        "campaign.pattern_hint",
        "名前の一部で一致します（大文字小文字を区別しません）。完全一致にするには先頭に = を付けます（例: =住基アプリ）。",
        "Matches part of the name, ignoring case. Start with = for the exact name (e.g. =Juki App).",
    ),
    (
        "campaign.app_version",
        "目標バージョン（以上）",
        "Minimum version",
    ),
    ("campaign.av_product", "製品名", "Product name"),
    (
        "campaign.av_version",
        "目標の定義バージョン（以上、任意）",
        "Minimum definition version (optional)",
    ),
    (
        "campaign.av_date",
        "目標の定義日付（以降、任意）",
        "Earliest definition date (optional)",
    ),
    (
        "campaign.av_hint",
        "バージョンも日付も入力しない場合は、Windows が「定義は最新」と報告していることを目標にします。",
        "With neither, the goal is that Windows reports the definitions up to date.",
    ),
    (
        "campaign.os_build",
        "目標のOSビルド（以上）",
        "Minimum OS build",
    ),
    (
        "campaign.os_hint",
        "例: 10.0.19045（インベントリのカーネルバージョン）",
        "e.g. 10.0.19045 (the kernel version in the inventory)",
    ),
    (
        "campaign.description",
        "説明（自由作業では作業内容・必須）",
        "Description (for a free-form task: the task, required)",
    ),
    ("campaign.targets", "対象端末", "Target terminals"),
    ("campaign.target_all", "すべての端末", "All terminals"),
    (
        "campaign.target_kind",
        "端末の種別で指定",
        "By terminal kind",
    ),
    ("campaign.target_sites", "拠点で指定", "By site"),
    (
        "campaign.target_terminals",
        "端末を個別に指定",
        "Hand-picked terminals",
    ),
    (
        "campaign.targets_hint",
        "対象は登録時の稼働中の端末で確定します。",
        "Targets are the terminals in service when the campaign is created.",
    ),
    (
        "campaign.staged",
        "代表端末を先行する（業務端末は代表端末の実施済の後）",
        "Representative terminals first (business terminals after them)",
    ),
    (
        "campaign.witness_required",
        "SE申告の実施済には立会者の記録を必須にする",
        "Require a witness for every attested completion",
    ),
    ("campaign.options", "実施の方法", "How it is carried out"),
    ("campaign.create", "登録する", "Create"),
    ("campaign.required", "（必須）", "(required)"),
    ("campaign.choose", "選択してください", "Choose"),
    (
        "campaign.pii_hint",
        "個人番号・住民票コードなどの個人情報は記録できません。",
        "Never record personal identifiers.",
    ),
    // ---- detail
    ("campaign.details", "展開の内容", "Campaign"),
    (
        "campaign.stage1",
        "第1段階（代表端末）",
        "Stage 1 (representative)",
    ),
    (
        "campaign.stage2",
        "第2段階（業務端末）",
        "Stage 2 (business)",
    ),
    (
        "campaign.stage2_wait",
        "第1段階の代表端末がすべて実施済（または対象外）になるまで、業務端末は実施済にできません。",
        "Business terminals cannot be done until every representative terminal is done (or excluded).",
    ),
    ("campaign.all_targets", "対象端末", "Targets"),
    ("campaign.hostname", "ホスト名", "Host name"),
    ("campaign.kind", "種別", "Kind"),
    ("campaign.target_status", "状態", "Status"),
    ("campaign.evidence", "根拠", "Evidence"),
    ("campaign.observed", "確認した値", "Observed"),
    ("campaign.latest", "最新インベントリ", "Latest inventory"),
    ("campaign.work_entry", "作業記録", "Work entry"),
    ("campaign.witness", "立会者", "Witness"),
    ("campaign.reason_note", "理由・備考", "Reason / note"),
    ("campaign.record", "記録", "Record"),
    ("campaign.inventory", "インベントリ", "Inventory"),
    (
        "campaign.before_start",
        "展開の開始前に受信したインベントリのため、根拠になりません。",
        "Received before the campaign started: not evidence.",
    ),
    ("campaign.no_inventory", "インベントリなし", "No inventory"),
    (
        "campaign.evidence_help",
        "「エージェント確認」は展開の開始後に受信したインベントリが目標を満たしたもの、「SE申告」はSEが作業記録を付けて申告したものです。SE申告がエージェント確認として表示されることはありません。",
        "Agent-verified: an inventory received after the start proved the goal. Attested: the SE declared it with a work entry. An attestation is never shown as agent-verified.",
    ),
    (
        "campaign.attest",
        "実施結果の申告（SE）",
        "Attest a result (SE)",
    ),
    ("campaign.terminal", "端末", "Terminal"),
    ("campaign.new_status", "状態", "Status"),
    (
        "campaign.work_entry_id",
        "作業記録の番号（実施済では必須）",
        "Work entry no. (required for done)",
    ),
    (
        "campaign.work_hint",
        "作業記録の画面に表示される記録番号です。作業記録に端末が指定されている場合は、この端末を含む必要があります。",
        "The number shown on the work entry; if the entry names terminals, it must name this one.",
    ),
    ("campaign.witness_name", "立会者", "Witness"),
    (
        "campaign.witness_hint",
        "県側で立ち会った方の氏名です。",
        "Who witnessed it for the prefecture.",
    ),
    (
        "campaign.note",
        "備考（失敗では内容・必須）",
        "Note (required for failed)",
    ),
    ("campaign.attest_submit", "申告する", "Attest"),
    ("campaign.exclude", "対象外にする", "Exclude"),
    (
        "campaign.exclude_reason",
        "対象外の理由（必須）",
        "Reason (required)",
    ),
    (
        "campaign.witness_confirm",
        "立会いを確認",
        "Confirm witness",
    ),
    ("campaign.witness_confirmed", "確認済", "confirmed"),
    ("campaign.close", "展開を完了する", "Close the campaign"),
    (
        "campaign.close_confirm",
        "展開の完了の確認",
        "Confirm closing the campaign",
    ),
    (
        "campaign.close_confirm_text",
        "この展開を完了にします。完了後は端末の結果を変更できず、インベントリによる確認も行われません。",
        "The campaign will be closed. Its terminals' results can no longer change, and inventories no longer verify them.",
    ),
    (
        "campaign.close_help",
        "すべての端末が実施済、または理由付きの対象外になると完了できます。完了後は変更できません。",
        "Possible once every terminal is done or excluded with a reason. Nothing can change afterwards.",
    ),
    ("campaign.refused", "実行できませんでした。", "Not done."),
    (
        "campaign.verified_now",
        "インベントリで {n} 台の実施を確認しました（エージェント確認）。",
        "{n} terminal(s) verified from inventories.",
    ),
    (
        "campaign.closed_note",
        "この展開は完了しています。",
        "This campaign is closed.",
    ),
    (
        "campaign.history",
        "経過（監査ログ）",
        "History (audit log)",
    ),
    // ---- compliance
    ("compliance.title", "準拠状況", "Compliance"),
    (
        "compliance.help",
        "各端末の最新インベントリを、実施中の展開の目標（と基準OSビルド）と比べます。「遅れ」のセルの理由は「理由」を開くと表示されます。インベントリが無い、または{days}日より古い端末は「不明」です。",
        "Each terminal's latest inventory against the goals of open campaigns (and the OS-build baseline). Open 'Reason' on a lagging cell. Terminals without an inventory, or with one older than {days} days, are 'Unknown'.",
    ),
    ("compliance.terminal", "端末", "Terminal"),
    ("compliance.item", "項目", "Item"),
    (
        "compliance.received",
        "最終インベントリ",
        "Latest inventory",
    ),
    ("compliance.expected", "期待値", "Expected"),
    ("compliance.observed", "実測値", "Observed"),
    ("compliance.reason", "理由", "Reason"),
    ("compliance.sources", "根拠", "From"),
    ("compliance.stale", "古い", "stale"),
    ("compliance.lagging_count", "遅れ", "Lagging"),
    ("compliance.unknown_count", "不明", "Unknown"),
    ("compliance.summary", "集計", "Summary"),
    ("compliance.baseline", "基準OSビルド", "OS-build baseline"),
    (
        "compliance.baseline_hint",
        "OSの系列ごとに期待するビルドを「,」区切りで書きます（例: 10.0.26100.4652, 10.0.19044.5965）。各端末は自分の系列（先頭3つの部分）のビルドと比べます。実施中の展開があれば高い方です。空にすると解除します。",
        "One expected build per OS line, separated by commas (e.g. 10.0.26100.4652, 10.0.19044.5965). Each terminal is compared with its own line's build (the first three parts). An open campaign's higher build counts. Empty clears it.",
    ),
    ("compliance.baseline_save", "基準を保存", "Save baseline"),
    (
        "compliance.export_help",
        "現在の絞り込み条件の準拠状況を出力します（出力は監査ログに記録されます）。",
        "Exports the grid for the current filter (recorded in the audit log).",
    ),
    (
        "compliance.no_terminals",
        "該当する端末はありません。",
        "No terminals.",
    ),
];

/// Routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list::list).post(form::create))
        .route("/campaigns/new", get(form::new_form))
        .route("/campaigns/{id}", get(detail::detail))
        .route("/campaigns/{id}/attest", post(detail::attest))
        .route("/campaigns/{id}/exclude", post(detail::exclude))
        .route("/campaigns/{id}/witness", post(detail::witness))
        .route("/campaigns/{id}/close", post(detail::close))
        .route("/compliance", get(compliance::page))
        .route("/compliance/baseline", post(compliance::baseline))
        .route("/compliance/export.csv", get(compliance::csv))
        .route("/compliance/export.xlsx", get(compliance::xlsx))
}

// ------------------------------------------------------------------ shared view pieces

/// A target status as a badge.
fn status_badge(tr: Tr, status: TargetStatus) -> Badge {
    let (class, icon) = match status {
        TargetStatus::Done => ("badge badge-active", "✔"),
        TargetStatus::Failed => ("badge badge-warn", "✖"),
        TargetStatus::Excluded => ("badge badge-retired", "－"),
        TargetStatus::Pending => ("badge", "…"),
    };
    Badge {
        class,
        icon,
        text: tr.pick(status.label_ja(), status.label_en()).to_string(),
    }
}

/// An evidence kind as a badge: 「エージェント確認」 and 「SE申告」 never look alike.
fn evidence_badge(tr: Tr, evidence: Evidence) -> Badge {
    let (class, icon) = match evidence {
        Evidence::Agent => ("badge badge-active evidence-agent", "◉"),
        Evidence::Attested => ("badge badge-rep evidence-attested", "✎"),
    };
    Badge {
        class,
        icon,
        text: tr
            .pick(evidence.label_ja(), evidence.label_en())
            .to_string(),
    }
}

/// A compliance cell state as a badge.
fn cell_badge(tr: Tr, state: CellState) -> Badge {
    let (class, icon) = match state {
        CellState::Ok => ("badge badge-active", "✔"),
        CellState::Lagging => ("badge badge-warn", "⚠"),
        CellState::Unknown => ("badge badge-retired", "？"),
        CellState::NoTarget => ("badge", "・"),
    };
    Badge {
        class,
        icon,
        text: tr.pick(state.label_ja(), state.label_en()).to_string(),
    }
}

/// The label of a terminal kind code.
fn kind_label(tr: Tr, code: &str) -> String {
    TerminalKind::parse(code)
        .map(|k| tr.pick(k.label_ja(), k.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

pub(super) use crate::page::LinkedErrors as Errors;

/// An optional id from a select or query (`""` = none).
fn opt_id(raw: &str) -> Option<i64> {
    raw.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

/// A submitted form as its pairs in order (checkbox groups repeat a name).
pub(super) struct Fields(pub Vec<(String, String)>);

impl Fields {
    fn get(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn ids(&self, key: &str) -> Vec<i64> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .filter_map(|(_, v)| opt_id(v))
            .collect()
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.get(key).as_str(), "1" | "on" | "true")
    }
}

/// `base?k=v…` for non-empty pairs.
fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            ser.append_pair(k, v);
        }
    }
    let qs = ser.finish();
    if qs.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{qs}")
    }
}

/// Renders a page with `status`.
fn respond<T: askama::Template>(
    status: axum::http::StatusCode,
    t: &T,
) -> Result<axum::response::Response, crate::WebError> {
    use axum::response::IntoResponse;
    Ok((status, crate::page::render(t)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn evidence_badges_never_look_alike() {
        let tr = Tr { lang: Lang::Ja };
        let a = evidence_badge(tr, Evidence::Agent);
        let b = evidence_badge(tr, Evidence::Attested);
        assert_eq!(a.text, "エージェント確認");
        assert_eq!(b.text, "SE申告");
        assert_ne!(a.class, b.class);
        assert_ne!(a.icon, b.icon);
        assert_eq!(cell_badge(tr, CellState::Lagging).text, "遅れ");
        assert_eq!(with_query("/c", &[("a", ""), ("b", "1")]), "/c?b=1");
    }
}
