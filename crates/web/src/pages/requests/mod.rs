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
