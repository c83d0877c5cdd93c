//! 障害対応 (incidents, R7) and 既知の障害 (the known-error library): the incident list (open ones first, with
//! age and stage, filters, counts per stage, paging), the report form, the incident page (the six times in
//! 和暦 with MTTA/MTTR, affected sites/terminals/nodes, the timeline by stage with guidance, witness record
//! and linked work, the forms the person's role may use now), the 障害報告書 downloads (XLSX and PDF), the
//! fiscal-year figures with a server-rendered SVG chart, and the known-error library.
//!
//! Every rule lives in the domain ([`unyo_domain::incident`]) and the store: the pages offer only the
//! actions [`unyo_domain::incident::available_actions`] allows, but a forged form is refused by the store
//! the same way (409 for an illegal move — including 完了 without a witness, with the domain's
//! `WITNESS_REQUIRED_MESSAGE` —, 403 for a role that may not do it, 422 for missing input) and nothing
//! changes.

mod chart;
mod detail;
mod form;
mod known_errors;
mod list;
mod report;
mod stats;

use crate::AppState;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::page::{ErrorItem, error_summary};
use crate::view::{Badge, OkQuery, Opt, parse_id};
use axum::Router;
use axum::routing::{get, post};
use unyo_domain::FieldError;
use unyo_domain::incident::{
    DetectionSource, IncidentStage, Severity, datetime_local, duration_label, parse_datetime,
};

/// Extra UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    // ---- list
    ("inc.title", "障害対応", "Incidents"),
    ("inc.new", "障害の報告", "Report an incident"),
    ("inc.new_link", "障害を報告", "Report an incident"),
    ("inc.number", "障害番号", "Number"),
    ("inc.subject", "件名", "Title"),
    ("inc.severity", "重大度", "Severity"),
    ("inc.source", "検知経路", "Detected by"),
    ("inc.stage", "段階", "Stage"),
    ("inc.age", "経過時間", "Age"),
    ("inc.age_open", "経過", "Open for"),
    ("inc.age_closed", "所要", "Took"),
    ("inc.sites", "影響拠点", "Affected sites"),
    ("inc.terminals", "影響端末", "Affected terminals"),
    ("inc.nodes", "影響機器", "Affected network nodes"),
    ("inc.open_only", "未完了のみ", "Open only"),
    ("inc.open_tab", "未完了", "Open"),
    ("inc.all_stages", "すべて", "All"),
    ("inc.counts", "段階別の件数", "Counts by stage"),
    ("inc.period", "期間（発生日）", "Period (occurred)"),
    (
        "inc.q_hint",
        "障害番号・件名・状況・推定原因キーから検索します。",
        "Searches number, title, description and probable-cause key.",
    ),
    ("inc.per_page", "表示件数", "Rows per page"),
    ("inc.stats", "障害の統計", "Incident figures"),
    ("inc.known_errors", "既知の障害", "Known errors"),
    (
        "inc.list_help",
        "未完了の障害を先に、認知日時の新しい順に表示します。経過時間は認知からの時間（完了したものは認知から完了まで）です。",
        "Open incidents first, newest first. Age is the time since it was noticed (for closed ones, until closed).",
    ),
    (
        "inc.date_invalid",
        "日付の形式が正しくありません（例: 2026-05-12 または 令和8年5月12日）。この条件は無視されました。",
        "The date is not valid (e.g. 2026-05-12); this condition was ignored.",
    ),
    // ---- form
    ("inc.choose", "選択してください", "Choose"),
    ("inc.required_mark", "（必須）", "(required)"),
    (
        "inc.required_note",
        "（必須）と表示された項目は必ず入力してください。",
        "Fields marked (required) must be filled in.",
    ),
    (
        "inc.title_hint",
        "拠点名と症状が分かる件名（200文字以内）。例: 伊万里保健福祉事務所 端末が集約ネットワークに接続できない",
        "Site and symptom (up to 200 characters)",
    ),
    ("inc.occurred", "発生日時", "Occurred"),
    ("inc.noticed", "認知日時", "Noticed"),
    ("inc.first_response", "初動日時", "First response"),
    ("inc.workaround_at", "回避日時", "Workaround in place"),
    ("inc.recovered", "復旧日時", "Recovered"),
    ("inc.closed", "完了日時", "Closed"),
    (
        "inc.time_hint",
        "日本時間で入力してください（例: 2026-05-12 09:30）。",
        "Japan time (e.g. 2026-05-12 09:30).",
    ),
    (
        "inc.occurred_hint",
        "空欄の場合は認知日時と同じとみなします。",
        "When empty, the same as noticed.",
    ),
    (
        "inc.noticed_hint",
        "障害を知った日時（電話を受けた時刻など）。空欄の場合は現在の日時です。",
        "When it became known (e.g. the phone call). Empty: now.",
    ),
    ("inc.description", "状況", "What happened"),
    (
        "inc.description_hint",
        "誰から、どのような連絡があったか、何ができないか。個人番号・住民票コードなど住民の個人情報は記録できません。",
        "Who reported what, and what does not work. Never enter residents' personal identifiers.",
    ),
    (
        "inc.terminals_hint",
        "拠点ごとに表示しています。",
        "Grouped by site.",
    ),
    ("inc.known_error", "既知の障害", "Known error"),
    (
        "inc.known_error_hint",
        "既知の障害に該当しそうな場合は選んでください（経過に記録されます）。",
        "If it looks like a known error, choose it (noted on the timeline).",
    ),
    ("inc.probable_cause", "推定原因キー", "Probable-cause key"),
    (
        "inc.probable_cause_hint",
        "疎通監視による障害で必須（例: node:12:unreachable）。同じキーの障害は対応中に1件だけです。",
        "Required for monitoring (e.g. node:12:unreachable); one open incident per key.",
    ),
    ("inc.submit", "障害を報告", "Report"),
    (
        "inc.no_sites",
        "登録されている拠点がありません。",
        "No sites are registered.",
    ),
    ("inc.none_option", "（なし）", "(none)"),
    // ---- detail
    ("inc.summary", "障害の概要", "Summary"),
    ("inc.times", "発生から完了までの時刻", "Times"),
    (
        "inc.mtta",
        "初動までの時間（MTTA）",
        "Time to respond (MTTA)",
    ),
    (
        "inc.mttr",
        "復旧までの時間（MTTR）",
        "Time to recover (MTTR)",
    ),
    ("inc.mtta_short", "MTTA", "MTTA"),
    ("inc.mttr_short", "MTTR", "MTTR"),
    (
        "inc.times_help",
        "MTTAは認知から初動まで、MTTRは発生から復旧までの時間です。",
        "MTTA: noticed to first response. MTTR: occurred to recovered.",
    ),
    ("inc.affected", "影響範囲", "Affected"),
    (
        "inc.no_affected",
        "影響を受けた拠点・端末・機器は指定されていません。",
        "No affected sites, terminals or nodes named.",
    ),
    ("inc.reporter", "報告者", "Reported by"),
    ("inc.reopened", "再開回数", "Reopened"),
    (
        "inc.resolved_by_ke",
        "既知の障害の対処により解決",
        "Resolved by a known error",
    ),
    ("inc.timeline", "経過", "Timeline"),
    ("inc.ev_when", "日時", "When"),
    ("inc.ev_kind", "記録", "Entry"),
    ("inc.ev_who", "記録者", "By"),
    ("inc.ev_text", "内容", "Details"),
    ("inc.guidance_to", "指導先", "Guidance given to"),
    ("inc.guidance", "指導内容", "Guidance"),
    ("inc.witness", "復旧の立会い", "Witness of the recovery"),
    ("inc.witness_name", "立会者の氏名", "Witness name"),
    ("inc.witness_org", "立会者の所属", "Witness organisation"),
    ("inc.witnessed_at", "立会日時", "Witnessed at"),
    ("inc.remark", "所見", "Remark"),
    (
        "inc.witness_confirm",
        "立会いの記録の確認",
        "Confirm the witness record",
    ),
    (
        "inc.witness_confirm_text",
        "この内容で復旧の立会いを記録します。記録した立会いは変更できません。記録後、障害を完了にできます。",
        "The witness of the recovery will be recorded as shown. It cannot be changed afterwards; the incident can then be closed.",
    ),
    (
        "inc.witness_record",
        "立会いを記録する",
        "Record the witness",
    ),
    ("inc.work", "作業記録", "Work entries"),
    ("inc.work_total", "作業時間の合計", "Total work hours"),
    ("inc.hours_unit", "時間", "h"),
    (
        "inc.no_work",
        "紐付けられた作業記録はありません。",
        "No work entries linked.",
    ),
    ("inc.actions", "操作", "Actions"),
    (
        "inc.no_actions",
        "現在の段階では、この役割で行える段階の操作はありません。",
        "There is no stage change you can make now.",
    ),
    ("inc.at", "日時", "When"),
    (
        "inc.at_hint",
        "日本時間。空欄の場合は現在の日時です。",
        "Japan time. Empty: now.",
    ),
    ("inc.comment", "コメント（任意）", "Comment (optional)"),
    ("inc.comment_workaround", "回避策の内容", "The workaround"),
    (
        "inc.comment_recover",
        "復旧の内容",
        "What was done to recover",
    ),
    (
        "inc.comment_resume",
        "復旧作業に戻す理由",
        "Why recovery resumes",
    ),
    ("inc.comment_reopen", "再開の理由", "Why it is reopened"),
    ("inc.link_work", "紐付ける作業記録", "Work entries to link"),
    (
        "inc.link_work_hint",
        "作業時間は月次の業務実績に計上されます。認知日以降の作業記録から選べます。",
        "The hours count in the monthly record. Entries from the day it was noticed on.",
    ),
    (
        "inc.no_work_candidates",
        "選べる作業記録はありません（作業記録を先に登録してください）。",
        "No work entries to choose (log the work first).",
    ),
    (
        "inc.refused",
        "この操作は受け付けられませんでした。",
        "The action was refused.",
    ),
    ("inc.stage_now", "現在の段階", "Current stage"),
    (
        "inc.witness_missing",
        "立会いが記録されていません。県の立会者（氏名・所属・日時・所見）を記録するまで完了できません。",
        "No witness is recorded yet. The incident cannot close until the prefecture's witness (name, organisation, time, remark) is recorded.",
    ),
    (
        "inc.witness_recorded",
        "立会いが記録されています。完了できます。",
        "The witness is recorded; the incident can close.",
    ),
    (
        "inc.witness_by_prefecture",
        "立会いの記録は県の職員（県管理者・県職員）が行います。",
        "The witness is recorded by the prefecture (administrator or staff).",
    ),
    ("inc.witness_submit", "立会いを記録", "Record the witness"),
    ("inc.add_entry", "経過の記録を追加", "Add to the timeline"),
    ("inc.entry_kind", "記録の種類", "Kind of entry"),
    ("inc.entry_text", "内容", "Text"),
    (
        "inc.entry_guidance_hint",
        "「回避策・指導」の場合のみ、指導先と指導内容を入力できます（両方とも）。",
        "Only for workaround entries: who was instructed and what (both).",
    ),
    ("inc.entry_submit", "記録を追加", "Add entry"),
    (
        "inc.resolve",
        "既知の障害による解決",
        "Resolve by a known error",
    ),
    (
        "inc.resolve_hint",
        "既知の障害の回避策・対処で解決した場合に選びます。段階は通常どおり進め、完了には立会いが必要です。",
        "When a known error's workaround resolved it. The stages still run their course; closing still needs the witness.",
    ),
    (
        "inc.resolve_submit",
        "この既知の障害で解決",
        "Resolved by this known error",
    ),
    (
        "inc.to_known_error",
        "既知の障害として登録",
        "Register as a known error",
    ),
    (
        "inc.to_known_error_hint",
        "件名・状況・原因・回避策からの下書きで既知の障害を登録します。",
        "Creates a known error drafted from this incident's title, description, cause and workaround.",
    ),
    (
        "inc.report_xlsx",
        "障害報告書（Excel）",
        "Incident report (Excel)",
    ),
    (
        "inc.report_pdf",
        "障害報告書（PDF）",
        "Incident report (PDF)",
    ),
    (
        "inc.report_help",
        "出力は監査ログに記録されます。",
        "Downloads are recorded in the audit log.",
    ),
    ("inc.back", "障害一覧へ戻る", "Back to incidents"),
    (
        "inc.known_links",
        "関連する既知の障害",
        "Linked known errors",
    ),
    // ---- stats
    ("inc.stats_title", "障害の統計", "Incident figures"),
    ("inc.fy", "年度", "Fiscal year"),
    ("inc.prev_fy", "前年度", "Previous year"),
    ("inc.next_fy", "次年度", "Next year"),
    (
        "inc.stats_help",
        "発生日（日本時間）の月・年度で集計します。MTTAは初動のあった障害、MTTRは復旧した障害の平均です。",
        "Counted by the month and fiscal year of occurrence (JST). MTTA averages acknowledged incidents, MTTR recovered ones.",
    ),
    ("inc.by_month", "月別の件数と平均時間", "By month"),
    ("inc.by_site", "拠点別の件数と平均時間", "By site"),
    ("inc.by_severity", "重大度別の件数", "By severity"),
    ("inc.month", "月", "Month"),
    ("inc.count", "件数", "Incidents"),
    ("inc.closed_count", "完了", "Closed"),
    (
        "inc.awaiting_count",
        "復旧済（確認待ち）",
        "Recovered, awaiting close",
    ),
    ("inc.unrecovered_count", "対応中", "Not yet recovered"),
    ("inc.outage", "停止時間の合計", "Total outage"),
    ("inc.max_mttr", "最長の復旧時間", "Longest"),
    ("inc.year_total", "年度計", "Year"),
    (
        "inc.chart_counts",
        "月別の障害件数（重大度別）",
        "Incidents per month by severity",
    ),
    (
        "inc.chart_mttr",
        "月別の平均復旧時間（MTTR）",
        "Mean time to recover per month",
    ),
    ("inc.axis_count", "件数（件）", "Incidents"),
    ("inc.axis_hours", "平均復旧時間（時間）", "Hours"),
    ("inc.count_unit", "件", ""),
    (
        "inc.stats_empty",
        "この年度の障害はありません。",
        "No incidents in this fiscal year.",
    ),
    ("inc.site_none", "拠点指定なし", "No site named"),
    // ---- known errors
    ("ke.title", "既知の障害", "Known errors"),
    ("ke.new", "既知の障害の登録", "New known error"),
    ("ke.new_link", "既知の障害を登録", "New known error"),
    ("ke.number", "番号", "Number"),
    ("ke.subject", "件名", "Title"),
    ("ke.symptoms", "症状", "Symptoms"),
    ("ke.cause", "原因", "Cause"),
    ("ke.workaround", "回避策・対処", "Workaround"),
    ("ke.incidents", "関連する障害", "Incidents"),
    ("ke.created_from", "登録元の障害", "Created from"),
    ("ke.created_by", "登録者", "Created by"),
    (
        "ke.q_hint",
        "番号・件名・症状・原因・回避策から検索します（症状の言葉で探せます）。",
        "Searches number, title, symptoms, cause and workaround.",
    ),
    (
        "ke.symptoms_hint",
        "利用者から見える症状。検索の手がかりになります。",
        "What people see; what others will search for.",
    ),
    (
        "ke.cause_hint",
        "原因と回避策・対処の少なくとも一方を入力してください。",
        "Fill in at least one of cause and workaround.",
    ),
    (
        "ke.incidents_hint",
        "この既知の障害で説明できる障害を選びます（最近の障害から）。",
        "Incidents this known error explains (recent ones).",
    ),
    ("ke.submit", "登録", "Save"),
    (
        "ke.none",
        "既知の障害は登録されていません。",
        "No known errors.",
    ),
    (
        "ke.no_incidents",
        "関連する障害はありません。",
        "No incidents linked.",
    ),
    (
        "ke.report_like",
        "この既知の障害に該当する障害を報告",
        "Report an incident like this",
    ),
];

/// Routes of this area. Static segments (`new`, `stats`) win over `{id}` in axum's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(list::list).post(form::create))
        .route("/incidents/new", get(form::new_form))
        .route("/incidents/stats", get(stats::page))
        .route("/incidents/{id}", get(detail::detail))
        .route("/incidents/{id}/transitions", post(detail::transition))
        .route("/incidents/{id}/entries", post(detail::add_entry))
        .route("/incidents/{id}/witness", post(detail::witness))
        .route("/incidents/{id}/resolve", post(detail::resolve))
        .route("/incidents/{id}/known-error", post(detail::to_known_error))
        .route("/incidents/{id}/report.xlsx", get(report::xlsx))
        .route("/incidents/{id}/report.pdf", get(report::pdf))
        .route(
            "/known-errors",
            get(known_errors::list).post(known_errors::create),
        )
        .route("/known-errors/new", get(known_errors::new_form))
        .route("/known-errors/{id}", get(known_errors::detail))
}

// ------------------------------------------------------------------ shared view pieces

/// The badge of a stage.
fn stage_badge(tr: Tr, code: &str) -> Badge {
    match IncidentStage::parse(code) {
        Some(s) => Badge {
            icon: "",
            class: match s {
                IncidentStage::Reported | IncidentStage::Recovered => "badge badge-warn",
                IncidentStage::Investigating
                | IncidentStage::Workaround
                | IncidentStage::Recovering => "badge badge-rep",
                IncidentStage::Closed => "badge badge-active",
            },
            text: tr.pick(s.label_ja(), s.label_en()).to_string(),
        },
        None => Badge {
            icon: "",
            class: "badge",
            text: code.to_string(),
        },
    }
}

/// The badge of a severity.
fn severity_badge(tr: Tr, code: &str) -> Badge {
    match Severity::parse(code) {
        Some(s) => Badge {
            icon: "",
            class: match s {
                Severity::Critical | Severity::High => "badge badge-warn",
                Severity::Medium => "badge badge-rep",
                Severity::Low => "badge",
            },
            text: tr.pick(s.label_ja(), s.label_en()).to_string(),
        },
        None => Badge {
            icon: "",
            class: "badge",
            text: code.to_string(),
        },
    }
}

fn stage_label(tr: Tr, code: &str) -> String {
    IncidentStage::parse(code)
        .map(|s| tr.pick(s.label_ja(), s.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

fn source_label(tr: Tr, code: &str) -> String {
    DetectionSource::parse(code)
        .map(|s| tr.pick(s.label_ja(), s.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// An age for people: 「3日5時間」, 「5時間12分」, 「12分」 (English: 3d 5h, 5h 12m, 12m).
fn age_label(tr: Tr, minutes: i64) -> String {
    let m = minutes.max(0);
    let (d, h, min) = (m / 1440, (m % 1440) / 60, m % 60);
    match (tr.is_ja(), d > 0, h > 0) {
        (true, true, _) => format!("{d}日{h}時間"),
        (true, false, true) => format!("{h}時間{min:02}分"),
        (true, false, false) => format!("{min}分"),
        (false, true, _) => format!("{d}d {h}h"),
        (false, false, true) => format!("{h}h {min:02}m"),
        (false, false, false) => format!("{min}m"),
    }
}

/// A mean time for people (`2時間05分`; English `2h 05m`); `—` when there is none.
fn duration_text(tr: Tr, minutes: Option<i64>) -> String {
    match minutes {
        None => "—".to_string(),
        Some(m) if tr.is_ja() => duration_label(m),
        Some(m) if m < 60 => format!("{m}m"),
        Some(m) => format!("{}h {:02}m", m / 60, m % 60),
    }
}

/// The value for an `<input type="datetime-local">`: `2026-05-12T09:30` when the text is a time, else as
/// typed (so that a wrong value comes back to be corrected).
fn datetime_value(text: &str) -> String {
    match parse_datetime(text) {
        Some(at) => datetime_local(at),
        None => text.trim().to_string(),
    }
}

/// Now, for `<input type="datetime-local">` (JST).
fn now_value() -> String {
    datetime_local(chrono::Utc::now())
}

/// Text split into lines, so that line breaks survive without inline styles.
fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

/// The messages of `field` in `errors`, joined.
fn field_error(errors: &[FieldError], field: &str) -> String {
    errors
        .iter()
        .filter(|e| e.field == field)
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// All values of `key` in a decoded form or query.
fn all_of<'a>(pairs: &'a [(String, String)], key: &str) -> impl Iterator<Item = &'a str> {
    pairs
        .iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The first value of `key` (empty when missing).
fn one_of(pairs: &[(String, String)], key: &str) -> String {
    all_of(pairs, key).next().unwrap_or_default().to_string()
}

/// Ids from repeated fields (anything not a positive number is ignored).
fn ids_of(pairs: &[(String, String)], key: &str) -> Vec<i64> {
    all_of(pairs, key)
        .filter_map(|v| v.trim().parse::<i64>().ok())
        .filter(|id| *id > 0)
        .collect()
}

/// An optional id from a select (`""` = none).
fn opt_id(raw: &str) -> Option<i64> {
    raw.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

/// `base?k=v&…` without the empty values.
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

/// A name whose parts stay on one line in a narrow column.
fn keep_together(name: &str) -> String {
    name.replace(' ', "\u{a0}")
}

/// Renders a page with `status`.
fn respond<T: askama::Template>(
    status: axum::http::StatusCode,
    t: &T,
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    Ok((status, crate::page::render(t)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn ages_and_durations() {
        let ja = Tr { lang: Lang::Ja };
        let en = Tr { lang: Lang::En };
        assert_eq!(age_label(ja, 3 * 1440 + 5 * 60 + 10), "3日5時間");
        assert_eq!(age_label(ja, 5 * 60 + 12), "5時間12分");
        assert_eq!(age_label(ja, 12), "12分");
        assert_eq!(age_label(ja, 6 * 60), "6時間00分");
        assert_eq!(age_label(ja, -5), "0分");
        assert_eq!(age_label(en, 3 * 1440 + 5 * 60), "3d 5h");
        assert_eq!(duration_text(ja, Some(125)), "2時間05分");
        assert_eq!(duration_text(ja, None), "—");
        assert_eq!(duration_text(en, Some(125)), "2h 05m");
        assert_eq!(datetime_value("令和8年5月12日 9:30"), "2026-05-12T09:30");
        assert_eq!(datetime_value("あした"), "あした");
        assert_eq!(stage_badge(ja, "recovered").text, "復旧確認");
        assert_eq!(severity_badge(ja, "critical").text, "重大");
        assert_eq!(
            with_query("/incidents", &[("stage", "closed"), ("q", "")]),
            "/incidents?stage=closed"
        );
    }
}
