//! The work pages: the work log (作業記録) with filters, totals, CSV/XLSX export, forms, detail pages with
//! history and evidence attachments; contracts (契約) and their staff; the month calendar of planned and
//! done work; the fiscal-year workload summary with a server-rendered SVG chart; and the registers of a
//! contract (再委託, 提供資料, 従事者名簿; `registers`).
//!
//! Everything is server-rendered and works without JavaScript. Every write goes through a
//! [`unyo_store::Store`] method with the person's actor, which checks the permission again, runs the
//! rules that need stored data (contract term, overlap, terminals at the site, staff assignment) inside
//! the saving transaction and writes the audit entry.

mod calendar;
pub mod chart;
mod contracts;
mod entries;
mod export;
mod history;
mod registers;
mod route;
mod workload;

use crate::AppState;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::view::{OkQuery, Opt, parse_id};
use axum::Router;
use axum::routing::{get, post};
use chrono::{Datelike, NaiveDate};
use unyo_domain::FieldError;
use unyo_domain::support::{Category, Clause, WorkMode};
use unyo_store::StoreError;

/// Extra UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[
    // ---- work log list
    ("work.title", "作業記録", "Work log"),
    ("work.new", "作業記録の登録", "Log work"),
    ("work.edit", "作業記録の編集", "Edit work entry"),
    ("work.number", "記録番号", "Entry no."),
    ("work.contract", "契約", "Contract"),
    ("work.date", "作業日", "Date"),
    ("work.time", "時間", "Time"),
    ("work.hours", "時間数", "Hours"),
    ("work.hours_unit", "時間", "h"),
    ("work.workers", "作業者", "Workers"),
    ("work.worker", "作業者", "Worker"),
    ("work.mode", "現地/リモート", "On site / remote"),
    ("work.site_terminals", "拠点・端末", "Site / terminals"),
    ("work.terminals", "端末", "Terminals"),
    ("work.category", "作業種別", "Category"),
    ("work.clause", "区分（①～⑤）", "Clause (1)–(5)"),
    ("work.description", "作業内容", "What was done"),
    ("work.result", "結果", "Result"),
    ("work.follow_up", "今後の対応", "Follow-up"),
    ("work.request", "支援要請", "Request"),
    ("work.request_number", "要請番号", "Request no."),
    ("work.start", "開始時刻", "Start"),
    ("work.end", "終了時刻", "End"),
    ("work.recorded_by", "登録者", "Recorded by"),
    (
        "work.q_hint",
        "作業内容・結果・今後の対応から検索します。",
        "Searches what was done, result and follow-up.",
    ),
    ("work.request_hint", "例: R8-0001", "e.g. R8-0001"),
    (
        "work.date_hint",
        "例: 2026-05-12 または 令和8年5月12日",
        "e.g. 2026-05-12 or 令和8年5月12日",
    ),
    (
        "work.total_hours",
        "絞り込み結果の合計時間",
        "Total hours of the filtered entries",
    ),
    (
        "work.export_help",
        "現在の絞り込み条件（期間など）に該当するすべての作業記録を出力します（出力は監査ログに記録されます）。",
        "Exports every entry matching the current filter (recorded in the audit log).",
    ),
    ("work.workload", "年度別集計", "Fiscal-year summary"),
    ("work.per_page", "表示件数", "Rows per page"),
    ("work.none_selected", "（なし）", "(none)"),
    ("work.choose", "選択してください", "Choose"),
    ("work.required", "（必須）", "(required)"),
    (
        "work.required_note",
        "（必須）と表示された項目は必ず入力してください。",
        "Fields marked (required) must be filled in.",
    ),
    (
        "work.bad_date",
        "日付の形式が正しくありません（例: 2026-05-12 または 令和8年5月12日）。この条件は無視されました。",
        "The date is not valid (e.g. 2026-05-12); this condition was ignored.",
    ),
    // ---- work form
    (
        "work.time_hint",
        "24時間制で入力してください（例: 09:00）。",
        "24-hour clock (e.g. 09:00).",
    ),
    (
        "work.workers_hint",
        "選択した契約の担当者から選びます。",
        "Choose from the staff of the selected contract.",
    ),
    (
        "work.no_staff",
        "この契約には担当者が登録されていません。契約の画面で担当者を登録してください。",
        "No staff are assigned to this contract. Assign staff on the contract page.",
    ),
    (
        "work.terminals_hint",
        "作業した端末を選びます。選択した拠点の端末だけを選んでください。",
        "Choose the terminals worked on; they must be at the chosen site.",
    ),
    (
        "work.category_hint",
        "区分（①～⑤）は作業種別と端末から自動で決まります（下で変更できます）。",
        "The clause (1)–(5) is suggested from the category and the terminals (change it below).",
    ),
    (
        "work.clause_hint",
        "「自動」なら作業種別と端末から決まります（代表端末に触れる作業は①、業務端末への導入・更新は②など）。仕様書1(6)の別の区分に当たる場合は選び直してください。",
        "\"Automatic\" suggests it from the category and terminals (work on the representative terminal is (1), installs and updates on business terminals (2), …). Choose another clause of 1(6) when the work falls under it.",
    ),
    (
        "work.clause_auto",
        "自動（作業種別と端末から）",
        "Automatic (from category and terminals)",
    ),
    ("work.clause_set_note", "（SEが指定）", " (set by the SE)"),
    (
        "work.clause_suggested_note",
        "（作業種別と端末から自動）",
        " (from category and terminals)",
    ),
    (
        "work.request_link_hint",
        "対応中の支援要請に紐付けます。",
        "Link the entry to an open support request.",
    ),
    (
        "work.pii_hint",
        "個人番号・住民票コードなどの個人情報は記録できません。",
        "Never record personal identifiers.",
    ),
    (
        "work.no_contract",
        "契約が登録されていません。作業記録を登録する前に、管理者が契約を登録する必要があります。",
        "No contract is registered. An administrator must register one before work can be logged.",
    ),
    (
        "work.prefilled",
        "支援要請の内容（拠点・端末・区分）を入力済みです。",
        "Site, terminals and category were taken from the request.",
    ),
    // ---- work detail
    (
        "work.computed_hours",
        "作業時間（自動計算）",
        "Hours (computed)",
    ),
    ("work.attachments", "証跡ファイル", "Evidence files"),
    ("work.attach_name", "ファイル名", "File name"),
    ("work.attach_type", "形式", "Type"),
    ("work.attach_size", "サイズ", "Size"),
    ("work.attach_sha", "SHA-256", "SHA-256"),
    ("work.attach_by", "登録者", "Uploaded by"),
    ("work.attach_at", "登録日時", "Uploaded at"),
    (
        "work.attach_none",
        "証跡ファイルはありません。",
        "No evidence files.",
    ),
    ("work.attach_add", "証跡ファイルの添付", "Attach evidence"),
    ("work.attach_file", "ファイル", "File"),
    ("work.attach_submit", "添付する", "Attach"),
    (
        "work.attach_help",
        "PNG・JPEG・GIF・PDF・テキスト（10MBまで）。形式はファイルの中身で判定されます。ダウンロードは監査ログに記録されます。",
        "PNG, JPEG, GIF, PDF or text (up to 10 MB), judged by content. Downloads are audited.",
    ),
    (
        "work.attach_failed",
        "ファイルを添付できませんでした。",
        "The file was not attached.",
    ),
    (
        "work.attach_choose",
        "添付するファイルを選択してください。",
        "Choose a file to attach.",
    ),
    (
        "work.uploaded",
        "証跡ファイルを添付しました。",
        "File attached.",
    ),
    (
        "work.history_none",
        "変更履歴はありません。",
        "No changes recorded.",
    ),
    ("work.act_create", "登録", "Created"),
    ("work.act_update", "変更", "Changed"),
    // ---- contracts
    ("contract.title", "契約", "Contracts"),
    ("contract.new", "契約の新規登録", "New contract"),
    ("contract.edit", "契約の編集", "Edit contract"),
    ("contract.name", "業務名", "Name"),
    ("contract.number", "契約番号", "Contract no."),
    ("contract.term", "契約期間", "Term"),
    (
        "contract.term_start",
        "契約期間（開始日）",
        "Term (first day)",
    ),
    ("contract.term_end", "契約期間（終了日）", "Term (last day)"),
    ("contract.contractor", "受託者", "Contractor"),
    ("contract.manager", "作業責任者", "Manager"),
    ("contract.staff", "担当者", "Staff"),
    (
        "contract.staff_hint",
        "この契約の作業を記録できる人を選びます（SE・県管理者・県職員）。外した人は新しい作業記録の作業者にできなくなります。",
        "Who may be a worker under this contract. People removed can no longer be workers of new entries.",
    ),
    (
        "contract.term_hint",
        "例: 令和8年4月1日 または 2026-04-01",
        "e.g. 令和8年4月1日 or 2026-04-01",
    ),
    ("contract.current", "契約期間中", "Current"),
    (
        "contract.none",
        "契約が登録されていません。",
        "No contracts.",
    ),
    (
        "contract.work_of",
        "この契約の作業記録",
        "Work under this contract",
    ),
    ("contract.disabled_user", "無効", "disabled"),
    // ---- calendar
    ("calendar.title", "予定・実績カレンダー", "Calendar"),
    ("calendar.month", "表示月", "Month"),
    ("calendar.month_hint", "例: 2026-05", "e.g. 2026-05"),
    ("calendar.prev", "前の月", "Previous month"),
    ("calendar.next", "次の月", "Next month"),
    ("calendar.this_month", "今月", "This month"),
    ("calendar.today", "今日", "Today"),
    ("calendar.planned", "予定", "Planned"),
    ("calendar.done", "実績", "Done"),
    (
        "calendar.help",
        "「予定」は受付済みの支援要請の対応予定日、「実績」は作業記録です。",
        "Planned: accepted requests on their planned date. Done: work entries.",
    ),
    (
        "calendar.empty",
        "この月の予定・実績はありません。",
        "Nothing planned or done this month.",
    ),
    // ---- workload
    (
        "workload.title",
        "年度別作業時間",
        "Workload by fiscal year",
    ),
    ("workload.fy", "年度", "Fiscal year"),
    ("workload.prev", "前年度", "Previous year"),
    ("workload.next", "翌年度", "Next year"),
    (
        "workload.by_category",
        "区分別・月別の作業時間（時間）",
        "Hours by category and month",
    ),
    (
        "workload.by_clause",
        "区分別・月別の作業時間（時間）",
        "Hours by clause and month",
    ),
    (
        "workload.chart",
        "月別作業時間のグラフ",
        "Chart of hours by month",
    ),
    (
        "workload.chart_title",
        "月別作業時間（区分別）",
        "Hours per month by clause",
    ),
    ("workload.axis_hours", "作業時間（時間）", "Hours"),
    ("workload.axis_month", "月", "Month"),
    ("workload.row_total", "合計", "Total"),
    ("workload.all_contracts", "すべての契約", "All contracts"),
    (
        "workload.help",
        "作業記録から集計した作業時間です（単位: 時間）。審議会資料・業務実績簿の基礎数値になります。",
        "Hours summed from the work log (unit: hours), the basis of the council pack and the monthly record.",
    ),
    (
        "workload.empty",
        "この年度の作業記録はありません。",
        "No work in this fiscal year.",
    ),
];

/// Routes of this area. Static segments (`new`, `export.csv`) are matched before `{id}` by axum's router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/work", get(entries::list).post(entries::create))
        .route("/work/new", get(entries::new_form))
        .route("/work/export.csv", get(export::csv))
        .route("/work/export.xlsx", get(export::xlsx))
        .route("/work/{id}", get(entries::detail).post(entries::update))
        .route("/work/{id}/edit", get(entries::edit_form))
        .route("/work/{id}/attachments", post(entries::upload))
        .route("/contracts", get(contracts::list).post(contracts::create))
        .route("/contracts/new", get(contracts::new_form))
        .route(
            "/contracts/{id}",
            get(contracts::detail).post(contracts::update),
        )
        .route("/contracts/{id}/edit", get(contracts::edit_form))
        .route("/contracts/{id}/route", get(route::form).post(route::save))
        .route(
            "/contracts/{id}/subcontracts",
            get(registers::subcontracts).post(registers::create_subcontract),
        )
        .route(
            "/contracts/{id}/subcontracts/{file}",
            get(registers::export_subcontracts),
        )
        .route(
            "/subcontracts/{id}",
            get(registers::subcontract).post(registers::update_subcontract),
        )
        .route(
            "/subcontracts/{id}/document",
            post(registers::subcontract_document),
        )
        .route(
            "/contracts/{id}/materials",
            get(registers::materials).post(registers::create_material),
        )
        .route(
            "/contracts/{id}/materials/{file}",
            get(registers::export_materials),
        )
        .route(
            "/materials/{id}",
            get(registers::material).post(registers::update_material),
        )
        .route("/materials/{id}/copies", post(registers::request_copy))
        .route("/materials/{id}/return", post(registers::return_material))
        .route(
            "/materials/{id}/acknowledgement",
            post(registers::acknowledge),
        )
        .route(
            "/material-copies/{id}/decision",
            post(registers::decide_copy),
        )
        .route(
            "/contracts/{id}/staff",
            get(registers::roster).post(registers::create_staff),
        )
        .route("/contracts/{id}/staff/{file}", get(registers::export_staff))
        .route(
            "/staff/{id}",
            get(registers::staff).post(registers::update_staff),
        )
        .route("/staff/{id}/pledge", post(registers::pledge))
        .route("/calendar", get(calendar::page))
        .route("/workload", get(workload::page))
}

// ------------------------------------------------------------------ shared view pieces

/// A row of properties on a detail page.
#[derive(Debug, Clone)]
pub(super) struct Prop {
    pub label: String,
    pub text: String,
    pub href: Option<String>,
    /// Extra CSS class of the value (`mono`).
    pub class: &'static str,
}

impl Prop {
    fn new(label: &str, text: impl Into<String>) -> Prop {
        Prop {
            label: label.to_string(),
            text: text.into(),
            href: None,
            class: "",
        }
    }

    fn link(label: &str, text: impl Into<String>, href: impl Into<String>) -> Prop {
        Prop {
            href: Some(href.into()),
            ..Prop::new(label, text)
        }
    }
}

pub(super) use crate::page::LinkedErrors as Errors;

/// The field errors a person can fix on the form; other failures stay errors.
fn fixable(e: StoreError) -> Result<Vec<FieldError>, WebError> {
    use unyo_domain::DomainError;
    match e {
        StoreError::Domain(DomainError::Validation(fields)) => Ok(fields),
        StoreError::Domain(DomainError::Conflict(message)) => {
            let field = if message.contains("契約番号") {
                "number"
            } else {
                ""
            };
            Ok(vec![FieldError::new(field, message)])
        }
        other => Err(other.into()),
    }
}

/// An optional id from a select or query (`""` = none).
fn opt_id(raw: &str) -> Option<i64> {
    raw.trim().parse::<i64>().ok().filter(|id| *id > 0)
}

/// A submitted form as its pairs in order (checkbox groups repeat a name).
pub(super) struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `key`, empty when absent.
    fn get(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Every value given for `key` (a checkbox group).
    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every id given for `key`.
    fn ids(&self, key: &str) -> Vec<i64> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .filter_map(|(_, v)| opt_id(v))
            .collect()
    }
}

/// A stored `YYYY-MM-DD`.
fn stored_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The weekday of `date` in the page's language (月…日 / Mon…Sun).
fn weekday(tr: Tr, date: NaiveDate) -> &'static str {
    let i = date.weekday().num_days_from_monday() as usize;
    if tr.is_ja() {
        ["月", "火", "水", "木", "金", "土", "日"][i]
    } else {
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i]
    }
}

/// A date in the page's style: 和暦 in Japanese (令和8年5月12日), ISO in English.
fn date_text(tr: Tr, date: NaiveDate) -> String {
    if tr.is_ja() {
        unyo_domain::wareki::format_long(date)
    } else {
        date.format("%Y-%m-%d").to_string()
    }
}

/// A stored date with its weekday: 令和8年5月12日（火）.
fn date_with_weekday(tr: Tr, stored: &str) -> String {
    match stored_date(stored) {
        Some(d) if tr.is_ja() => format!("{}（{}）", date_text(tr, d), weekday(tr, d)),
        Some(d) => format!("{} ({})", date_text(tr, d), weekday(tr, d)),
        None => stored.to_string(),
    }
}

/// A stored date in the page's style.
fn stored_date_text(tr: Tr, stored: &str) -> String {
    stored_date(stored)
        .map(|d| date_text(tr, d))
        .unwrap_or_else(|| stored.to_string())
}

/// A contract's term: 令和8年4月1日～令和9年3月31日.
fn term_text(tr: Tr, start: &str, end: &str) -> String {
    let sep = if tr.is_ja() { "～" } else { " – " };
    format!(
        "{}{sep}{}",
        stored_date_text(tr, start),
        stored_date_text(tr, end)
    )
}

/// The label of a category code.
fn category_label(tr: Tr, code: &str) -> String {
    Category::parse(code)
        .map(|c| tr.pick(c.label_ja(), c.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// The mark of a clause code (①…⑤).
fn clause_mark(code: &str) -> &'static str {
    Clause::parse(code).map(Clause::mark).unwrap_or("")
}

/// The label of a clause code.
fn clause_label(tr: Tr, code: &str) -> String {
    Clause::parse(code)
        .map(|c| tr.pick(c.label_ja(), c.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// The label of a work mode code.
fn mode_label(tr: Tr, code: &str) -> String {
    WorkMode::parse(code)
        .map(|m| tr.pick(m.label_ja(), m.label_en()).to_string())
        .unwrap_or_else(|| code.to_string())
}

/// Hours for people: "1.5時間" / "1.5 h".
fn hours_text(tr: Tr, minutes: i64) -> String {
    let h = unyo_domain::support::hours_label(minutes);
    if tr.is_ja() {
        format!("{h}時間")
    } else {
        format!("{h} h")
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
) -> Result<axum::response::Response, WebError> {
    use axum::response::IntoResponse;
    Ok((status, crate::page::render(t)?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn dates_weekdays_and_terms() {
        let ja = Tr { lang: Lang::Ja };
        let en = Tr { lang: Lang::En };
        assert_eq!(date_with_weekday(ja, "2026-05-12"), "令和8年5月12日（火）");
        assert_eq!(date_with_weekday(en, "2026-05-17"), "2026-05-17 (Sun)");
        assert_eq!(
            term_text(ja, "2026-04-01", "2027-03-31"),
            "令和8年4月1日～令和9年3月31日"
        );
        assert_eq!(hours_text(ja, 90), "1.5時間");
        assert_eq!(clause_mark("5"), "⑤");
    }

    #[test]
    fn query_strings_skip_empty_values() {
        assert_eq!(
            with_query("/work", &[("q", ""), ("from", "令和8年5月1日")]),
            "/work?from=%E4%BB%A4%E5%92%8C8%E5%B9%B45%E6%9C%881%E6%97%A5"
        );
        assert_eq!(with_query("/work", &[("q", "")]), "/work");
    }

    #[test]
    fn form_fields_repeat() {
        let f = Fields(vec![
            ("worker_ids".into(), "3".into()),
            ("worker_ids".into(), "x".into()),
            ("worker_ids".into(), "5".into()),
            ("mode".into(), "onsite".into()),
        ]);
        assert_eq!(f.ids("worker_ids"), vec![3, 5]);
        assert_eq!(f.get("mode"), "onsite");
        assert_eq!(f.get("none"), "");
    }
}
