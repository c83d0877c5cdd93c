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
