//! The typed domain error. Messages meant for people are Japanese.

use serde::Serialize;

/// One invalid field and why, in Japanese.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's machine name (form/CSV column), e.g. `hostname`.
    pub field: String,
    /// A Japanese explanation for the person who typed it.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// What can go wrong when applying a domain rule.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    /// The record does not exist (or is not visible to the caller).
    #[error("見つかりません: {0}")]
    NotFound(String),
    /// The change conflicts with existing data (duplicate key, stale edit, illegal transition).
    #[error("{0}")]
    Conflict(String),
    /// The caller's role does not allow the action.
    #[error("この操作を行う権限がありません。")]
    Forbidden,
    /// One or more fields are invalid; nothing was saved.
    #[error("入力内容に誤りがあります。")]
    Validation(Vec<FieldError>),
}

impl DomainError {
    /// Shorthand for a single-field validation error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation(vec![FieldError::new(field, message)])
    }
}
