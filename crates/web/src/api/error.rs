//! The API's JSON errors: `{"error": {"code": "...", "message": "日本語の説明", "fields": [...]}}`.
//!
//! Messages are Japanese and meant for people; `code` is for programs. Internal causes are logged with
//! `tracing::error!` and never put into a response.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use unyo_domain::{DomainError, FieldError};
use unyo_store::StoreError;

/// Why an API request failed.
#[derive(Debug)]
pub enum ApiError {
    /// No `Authorization: Bearer` header (401).
    MissingToken,
    /// A token was presented but refused: unknown, revoked, its user disabled, or a malformed header (401).
    InvalidToken,
    /// The role does not allow this (403).
    Forbidden,
    /// No such record (404); the message names it.
    NotFound(String),
    /// No such API path (404).
    NoRoute,
    /// The path exists but not with this method (405).
    MethodNotAllowed,
    /// Fields are invalid; nothing was written (422).
    Validation(Vec<FieldError>),
    /// The change conflicts with existing data (409).
    Conflict(String),
    /// The request is malformed (400); optionally per parameter.
    BadRequest(String, Vec<FieldError>),
    /// The body is not `application/json` (415).
    UnsupportedMediaType,
    /// The body is larger than [`super::MAX_API_BODY_BYTES`] (413).
    PayloadTooLarge,
    /// Our fault; the cause is logged, not returned (500).
    Internal(String),
}

/// Result alias for API handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => d.into(),
            e if e.is_unique_violation() => {
                ApiError::Conflict("同じ内容のデータが既に登録されています。".into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(d: DomainError) -> Self {
        match d {
            DomainError::Forbidden => ApiError::Forbidden,
            DomainError::NotFound(_) => ApiError::NotFound(d.to_string()),
            DomainError::Conflict(m) => ApiError::Conflict(m),
            DomainError::Validation(fields) => ApiError::Validation(fields),
        }
    }
}

impl ApiError {
    /// HTTP status and machine-readable code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::MissingToken | ApiError::InvalidToken => {
                (StatusCode::UNAUTHORIZED, "unauthorized")
            }
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) | ApiError::NoRoute => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::BadRequest(..) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::MissingToken => {
                "認証が必要です。Authorization ヘッダーに「Bearer APIトークン」を指定してください。"
                    .into()
            }
            ApiError::InvalidToken => {
                "APIトークンが無効です。トークンが正しいか、失効していないかを確認してください。"
                    .into()
            }
            ApiError::Forbidden => "この操作を行う権限がありません。".into(),
            ApiError::NotFound(m) => m.clone(),
            ApiError::NoRoute => "指定されたAPIのパスは存在しません。".into(),
            ApiError::MethodNotAllowed => "このパスではそのHTTPメソッドは使用できません。".into(),
            ApiError::Validation(_) => DomainError::Validation(Vec::new()).to_string(),
            ApiError::Conflict(m) => m.clone(),
            ApiError::BadRequest(m, _) => m.clone(),
            ApiError::UnsupportedMediaType => {
                "リクエスト本文は Content-Type: application/json で送信してください。".into()
            }
            ApiError::PayloadTooLarge => "リクエスト本文が大きすぎます。".into(),
            ApiError::Internal(_) => {
                "システムエラーが発生しました。時間をおいて再度お試しください。".into()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error in API request");
        }
        // RFC 6750 §3: a 401 names the scheme, with `invalid_token` when a token was presented.
        let challenge = match self {
            ApiError::MissingToken => Some(r#"Bearer realm="unyo""#),
            ApiError::InvalidToken => Some(r#"Bearer realm="unyo", error="invalid_token""#),
            _ => None,
        };
        let message = self.message();
        let fields = match self {
            ApiError::Validation(f) | ApiError::BadRequest(_, f) => f,
            _ => Vec::new(),
        };
        let body = json!({"error": {"code": code, "message": message, "fields": fields}});
        let mut res = (status, Json(body)).into_response();
        if let Some(c) = challenge {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        res
    }
}
