//! What the edit pages of maintenance windows and notification channels share: the id in the path, the
//! retire form, how a refused change or retirement is shown, and the page skeleton
//! (`connectivity_record_edit.html`, which each page's template extends with its own fields).

use crate::WebError;
use axum::http::StatusCode;
use serde::Deserialize;
use unyo_domain::{DomainError, FieldError};
use unyo_store::StoreError;

/// The retire form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RetireForm {
    pub reason: String,
}

/// What a refused edit or retire shows on the edit page.
#[derive(Default)]
pub(super) struct Refusal {
    pub errors: Vec<FieldError>,
    pub reason: String,
    pub reason_error: String,
    pub retire_error: String,
}

impl Refusal {
    /// The form's own errors (before the store was asked).
    pub fn of_form(errors: Vec<FieldError>) -> Refusal {
        Refusal {
            errors,
            ..Default::default()
        }
    }

    /// A change the store refused: its field errors, or a conflict as an error of the whole form. Any
    /// other error is the caller's.
    pub fn of_update(e: StoreError) -> Result<Refusal, WebError> {
        match e {
            StoreError::Domain(DomainError::Validation(errors)) => Ok(Refusal::of_form(errors)),
            StoreError::Domain(DomainError::Conflict(m)) => {
                Ok(Refusal::of_form(vec![FieldError::new("", m)]))
            }
            e => Err(e.into()),
        }
    }

    /// A retirement the store refused: the reason's errors apart from the others; the reason typed is
    /// kept. Any other error is the caller's.
    pub fn of_retire(e: StoreError, reason: String) -> Result<Refusal, WebError> {
        let mut r = Refusal {
            reason,
            ..Default::default()
        };
        match e {
            StoreError::Domain(DomainError::Validation(errors)) => {
                let join = |v: Vec<FieldError>| {
                    v.into_iter()
                        .map(|e| e.message)
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let (reason, other): (Vec<_>, Vec<_>) =
                    errors.into_iter().partition(|e| e.field == "reason");
                r.reason_error = join(reason);
                r.retire_error = join(other);
            }
            StoreError::Domain(DomainError::Conflict(m)) => r.retire_error = m,
            e => return Err(e.into()),
        }
        Ok(r)
    }

    /// 422 when anything was refused, else 200.
    pub fn status(&self) -> StatusCode {
        if self.errors.is_empty() && self.reason_error.is_empty() && self.retire_error.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

/// The catalogue keys of an edit page's own words.
pub(super) struct EditWords {
    /// Back to the list.
    pub back: &'static str,
    /// The heading of refused-retirement errors.
    pub retire_failed: &'static str,
    /// The hint under the retire reason.
    pub retire_help: &'static str,
}

/// The parts of the edit page that are not the record's own fields.
pub(super) struct EditFrame {
    /// The list's path, e.g. `/connectivity/channels`; the forms post to `{base}/{id}` and
    /// `{base}/{id}/retire`.
    pub base: &'static str,
    pub words: &'static EditWords,
    pub id: i64,
    pub created: String,
    pub updated: String,
    pub reason: String,
    pub reason_error: String,
    pub retire_error: String,
}

impl EditFrame {
    /// The frame of the record `id` under `base`, taking what a refusal left to show (its field errors
    /// stay with the caller, for the fields).
    pub fn new(
        base: &'static str,
        words: &'static EditWords,
        id: i64,
        created: String,
        updated: String,
        refusal: &mut Refusal,
    ) -> EditFrame {
        EditFrame {
            base,
            words,
            id,
            created,
            updated,
            reason: std::mem::take(&mut refusal.reason),
            reason_error: std::mem::take(&mut refusal.reason_error),
            retire_error: std::mem::take(&mut refusal.retire_error),
        }
    }
}
