//! The confirmation step of irreversible actions (提出, 確認, 立会い, 完了): a page saying what will happen,
//! with the button that does it, and no JavaScript. A form posts once; without `confirmed=1` the handler
//! answers this page carrying the form's fields, and the page posts them again with `confirmed=1`.

use crate::WebError;
use crate::page::{PageMeta, render};
use axum::response::{IntoResponse, Response};

/// The form field that says the confirmation step was passed.
pub const CONFIRMED: &str = "confirmed";

/// What an irreversible action will do, and the button that does it.
#[derive(askama::Template)]
#[template(path = "confirm.html")]
pub struct ConfirmStep {
    pub page: PageMeta,
    pub heading: String,
    /// What will be recorded (label, value).
    pub facts: Vec<(String, String)>,
    /// What will happen, in sentences.
    pub paragraphs: Vec<String>,
    /// Where the button posts.
    pub action: String,
    /// Fields posted again (the CSRF token is added by the template).
    pub hidden: Vec<(String, String)>,
    pub button: String,
    pub cancel_href: String,
}

impl ConfirmStep {
    /// The page as a response.
    pub fn respond(self) -> Result<Response, WebError> {
        Ok(render(&self)?.into_response())
    }
}

/// Whether the form passed the confirmation step.
pub fn confirmed(fields: &[(String, String)]) -> bool {
    fields.iter().any(|(k, v)| k == CONFIRMED && v == "1")
}

/// The fields of a posted form to carry through the confirmation step: all but the CSRF token (the page
/// adds its own) and the marker, then the marker set.
pub fn carried(fields: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = fields
        .iter()
        .filter(|(k, _)| k != "_csrf" && k != CONFIRMED)
        .cloned()
        .collect();
    out.push((CONFIRMED.into(), "1".into()));
    out
}
