//! 支援要請 (support requests) and 協議記録 (consultations): the request list with filters, counts per status
//! and paging, "my open work", the filing form, the request page with its timeline, the transition forms
//! the person's role may use now, linked work, consultations and evidence attachments; the attachment
//! download; and the consultation log (R3–R8, R18).
//!
//! Every rule lives in the domain and the store: the pages offer only the transitions
//! [`unyo_domain::support::available_actions`] allows, but a forged form is refused by the store the same way
//! (409 for an illegal move, 403 for a role that may not do it), and the page says why in Japanese.

mod attachments;
mod consultations;
mod detail;
mod form;
mod list;

use crate::AppState;
use crate::i18n::Tr;
use crate::page::FormErrors;
use crate::page::{ErrorItem, error_summary};
use crate::view::{Badge, Opt, parse_id};
use axum::Router;
use axum::routing::{get, post};
use chrono::NaiveDate;
use unyo_domain::FieldError;
use unyo_domain::support::{RequestStatus, parse_date};

/// Extra UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    ("requests.title", "支援要請", "Support requests"),
    ("requests.mine", "自分の担当（未完了）", "My open requests"),
    (
        "requests.mine_help",
        "自分が担当または要請した、確認済・取下げになっていない支援要請です。対応予定日（なければ希望日）の早い順に表示します。",
        "Requests you are assigned to or filed that are not yet confirmed or withdrawn, most urgent first.",
    ),
    ("requests.new", "支援要請の登録", "File a support request"),
    ("requests.new_link", "新規要請", "New request"),
    ("requests.number", "要請番号", "Number"),
    ("requests.subject", "件名", "Title"),
    ("requests.category", "作業種別", "Category"),
    ("requests.requester", "要請者", "Requested by"),
    ("requests.assignee", "担当", "Assignee"),
    ("requests.wished", "希望日", "Wished date"),
    ("requests.planned", "対応予定日", "Planned date"),
    ("requests.planned_short", "予定日", "Planned"),
    ("requests.more_sites", "ほか{n}拠点", "and {n} more"),
    (
        "requests.wished_planned",
        "希望日／予定日",
        "Wished / planned",
    ),
    ("requests.filed_on", "要請日", "Filed on"),
    ("requests.sites", "対象拠点", "Target sites"),
    ("requests.terminals", "対象端末", "Target terminals"),
    ("requests.description", "要請内容", "Description"),
    ("requests.result", "対応結果", "Result"),
    ("requests.clause", "区分（①～⑤）", "Clause (1)–(5)"),
    ("requests.overdue", "期限超過", "Overdue"),
    ("requests.open_only", "未完了のみ", "Open only"),
    ("requests.overdue_only", "期限超過のみ", "Overdue only"),
    (
        "requests.period",
        "期間（要請日または希望日）",
        "Period (filed or wished)",
    ),
    (
        "requests.q_hint",
        "要請番号・件名・要請内容・対応結果から検索します。",
        "Searches number, title, description and result.",
    ),
    ("requests.counts", "状態別の件数", "Counts by status"),
    ("requests.all_statuses", "すべて", "All"),
    ("requests.per_page", "表示件数", "Rows per page"),
    ("requests.choose", "選択してください", "Choose"),
    ("requests.required_mark", "（必須）", "(required)"),
    (
        "requests.required_note",
        "（必須）と表示された項目は必ず入力してください。",
        "Fields marked (required) must be filled in.",
    ),
    (
        "requests.title_hint",
        "何をしてほしいかが一目で分かる件名（200文字以内）",
        "A short title saying what is needed (up to 200 characters)",
    ),
    (
        "requests.sites_hint",
        "端末だけを選んだ場合は、その端末の拠点が自動で対象になります。",
        "If you choose only terminals, their sites are added automatically.",
    ),
    (
        "requests.terminals_hint",
        "拠点ごとに表示しています。拠点を選んだ場合、端末はその拠点のものに限ります。",
        "Grouped by site. When sites are chosen, terminals must be at one of them.",
    ),
    (
        "requests.date_hint",
        "例: 2026-05-12（和暦 令和8年5月12日 も入力できます）",
        "e.g. 2026-05-12 (和暦 such as 令和8年5月12日 also accepted)",
    ),
    (
        "requests.pii_hint",
        "個人番号・住民票コードなど住民の個人情報は記録できません。",
        "Never enter residents' personal identifiers (個人番号, 住民票コード).",
    ),
    ("requests.submit", "要請を登録", "File request"),
    (
        "requests.no_sites",
        "登録されている拠点がありません。",
        "No sites are registered.",
    ),
    ("requests.representative", "代表端末", "Representative"),
    ("requests.details", "要請の概要", "Summary"),
    ("requests.targets", "対象", "Targets"),
    (
        "requests.no_targets",
        "対象の拠点・端末は指定されていません。",
        "No target sites or terminals.",
    ),
    ("requests.timeline", "経過", "Timeline"),
    ("requests.ev_when", "日時", "When"),
    ("requests.ev_who", "操作者", "By"),
    ("requests.ev_action", "操作", "Action"),
    ("requests.ev_status", "状態", "Status"),
    ("requests.ev_comment", "コメント", "Comment"),
    ("requests.act_file", "要請", "Filed"),
    ("requests.actions", "操作", "Actions"),
    (
        "requests.no_actions",
        "現在の状態では、この役割で行える操作はありません。",
        "There is nothing you can do on this request in its current status.",
    ),
    ("requests.comment", "コメント（任意）", "Comment (optional)"),
    ("requests.result_comment", "対応結果", "Result"),
    (
        "requests.return_reason",
        "差戻しの理由",
        "Reason for sending back",
    ),
    (
        "requests.refused",
        "この操作は受け付けられませんでした。",
        "The action was refused.",
    ),
    ("requests.status_now", "現在の状態", "Current status"),
    ("requests.work", "関連する作業記録", "Work entries"),
    ("requests.log_work", "作業を記録", "Log work"),
    ("requests.work_date", "作業日", "Date"),
    ("requests.work_time", "時間", "Time"),
    ("requests.workers", "作業者", "Workers"),
    ("requests.hours", "時間数", "Hours"),
    ("requests.hours_total", "合計時間", "Total hours"),
    (
        "requests.no_work",
        "関連する作業記録はありません。",
        "No work entries yet.",
    ),
    (
        "requests.consultations",
        "関連する協議記録",
        "Consultations",
    ),
    (
        "requests.no_consultations",
        "関連する協議記録はありません。",
        "No consultations.",
    ),
    (
        "requests.new_consultation",
        "協議記録を作成",
        "Record a consultation",
    ),
    ("requests.attachments", "証跡ファイル", "Evidence files"),
    (
        "requests.no_attachments",
        "添付されたファイルはありません。",
        "No files attached.",
    ),
    ("requests.att_name", "ファイル名", "File name"),
    ("requests.att_type", "種類", "Type"),
    ("requests.att_size", "サイズ", "Size"),
    ("requests.att_sha", "SHA-256（先頭）", "SHA-256 (prefix)"),
    ("requests.att_by", "登録者", "Uploaded by"),
    ("requests.att_at", "登録日時", "Uploaded at"),
    ("requests.upload_file", "添付するファイル", "File"),
    (
        "requests.upload_hint",
        "PNG・JPEG・GIF・PDF・テキスト（10MBまで）。種類はファイルの中身で判定します。ダウンロードは監査ログに記録されます。",
        "PNG, JPEG, GIF, PDF or text, up to 10 MB; the type is decided from the contents. Downloads are audit-logged.",
    ),
    ("requests.upload_submit", "添付", "Upload"),
    (
        "requests.upload_failed",
        "ファイルを添付できませんでした。",
        "The file was not attached.",
    ),
    (
        "requests.upload_none",
        "添付するファイルを選択してください。",
        "Choose a file to attach.",
    ),
    (
        "requests.mine_none",
        "未完了の担当はありません。",
        "You have no open requests.",
    ),
    (
        "requests.date_invalid",
        "日付の形式が正しくありません（例: 2026-05-12 または 令和8年5月12日）。",
        "The date is not valid (e.g. 2026-05-12).",
    ),
    ("consult.title", "協議記録", "Consultations"),
    ("consult.new", "協議記録の作成", "Record a consultation"),
    ("consult.new_link", "新規作成", "New record"),
    ("consult.contract", "契約", "Contract"),
    ("consult.held_on", "協議日", "Date"),
    ("consult.participants", "出席者", "Participants"),
    (
        "consult.participants_hint",
        "所属と氏名（例: 県 情報課 佐賀太郎、受託者 保守技郎）",
        "Organisation and name of each participant",
    ),
    ("consult.topic", "協議事項", "Topic"),
    ("consult.agreed", "協議結果（合意事項）", "What was agreed"),
    ("consult.requests", "関連する支援要請", "Linked requests"),
    (
        "consult.requests_hint",
        "最近の支援要請から選ぶか、下の欄に要請番号を入力してください。",
        "Choose from recent requests, or type request numbers below.",
    ),
    (
        "consult.request_numbers",
        "要請番号で指定",
        "Request numbers",
    ),
    (
        "consult.request_numbers_hint",
        "例: R8-0001, R8-0002（読点・空白区切りも可）",
        "e.g. R8-0001, R8-0002",
    ),
    ("consult.recorded_by", "記録者", "Recorded by"),
    ("consult.recorded_at", "記録日時", "Recorded at"),
    (
        "consult.no_contracts",
        "契約が登録されていません。先に契約を登録してください。",
        "No contracts are registered yet.",
    ),
    (
        "consult.no_requests",
        "関連する支援要請はありません。",
        "No linked requests.",
    ),
    ("consult.submit", "記録を保存", "Save record"),
    ("consult.all_contracts", "すべての契約", "All contracts"),
    ("consult.count", "件の協議記録", "consultations"),
];

/// Routes of this area. Static segments (`new`, `mine`) win over `{id}` in axum's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/requests", get(list::list).post(form::create))
        .route("/requests/new", get(form::new_form))
        .route("/requests/mine", get(list::mine))
        .route("/requests/{id}", get(detail::detail))
        .route("/requests/{id}/transitions", post(detail::transition))
        .route("/requests/{id}/attachments", post(attachments::upload))
        .route("/attachments/{id}", get(attachments::download))
        .route(
            "/consultations",
            get(consultations::list).post(consultations::create),
        )
        .route("/consultations/new", get(consultations::new_form))
        .route("/consultations/{id}", get(consultations::detail))
}

// ------------------------------------------------------------------ shared view pieces

/// The badge of a request status.
fn status_badge(tr: Tr, code: &str) -> Badge {
    match RequestStatus::parse(code) {
        Some(s) => Badge {
            icon: "",
            class: match s {
                RequestStatus::Requested | RequestStatus::Accepted | RequestStatus::InProgress => {
                    "badge badge-rep"
                }
                RequestStatus::Completed | RequestStatus::Confirmed => "badge badge-active",
                RequestStatus::Returned => "badge badge-warn",
                RequestStatus::Withdrawn => "badge badge-retired",
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

/// The 「期限超過」 badge.
fn overdue_badge(tr: Tr) -> Badge {
    Badge {
        icon: "",
        class: "badge badge-warn",
        text: tr.t("requests.overdue").to_string(),
    }
}

/// A status label without a badge.
fn status_label(tr: Tr, code: &str) -> String {
    RequestStatus::parse(code)
        .map(|s| tr.pick(s.label_ja(), s.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// A category label.
fn category_label(tr: Tr, code: &str) -> String {
    unyo_domain::support::Category::parse(code)
        .map(|c| tr.pick(c.label_ja(), c.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// A stored `YYYY-MM-DD` date for people: 和暦 in Japanese (令和8年5月12日), ISO in English.
fn show_date(tr: Tr, stored: &str) -> String {
    match NaiveDate::parse_from_str(stored, "%Y-%m-%d") {
        Ok(d) if tr.is_ja() => unyo_domain::wareki::format_long(d),
        Ok(d) => d.format("%Y-%m-%d").to_string(),
        Err(_) => stored.to_string(),
    }
}

fn show_date_opt(tr: Tr, stored: &Option<String>) -> String {
    stored
        .as_deref()
        .map(|s| show_date(tr, s))
        .unwrap_or_default()
}

/// The value for an `<input type="date">`: ISO when the text is a date (ISO or 和暦), else as typed.
fn date_value(text: &str) -> String {
    match parse_date(text) {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None => text.trim().to_string(),
    }
}

/// Text split into lines, so that line breaks survive without inline styles.
fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

/// Field errors for templates.
fn form_errors(errors: &[FieldError]) -> FormErrors {
    FormErrors(errors.to_vec())
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

/// A byte count for people.
fn show_size(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / KB / KB)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_dates() {
        assert_eq!(show_size(512), "512 B");
        assert_eq!(show_size(2048), "2.0 KB");
        assert_eq!(show_size(3 * 1024 * 1024), "3.0 MB");
        let ja = Tr::default();
        assert_eq!(show_date(ja, "2026-05-12"), "令和8年5月12日");
        assert_eq!(date_value("令和8年5月12日"), "2026-05-12");
        assert_eq!(date_value("x"), "x");
    }
}
