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
