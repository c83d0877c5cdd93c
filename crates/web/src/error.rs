//! The web error type: a Japanese (and English) page for people, the cause in the log, never in the page.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use unyo_domain::DomainError;
use unyo_store::StoreError;

/// Why a page request failed.
#[derive(Debug)]
pub enum WebError {
    /// Not logged in (or the session ended): go to the login page, then come back to `next`.
    LoginRequired {
        /// Where to return after logging in.
        next: String,
    },
    /// The role does not allow this.
    Forbidden,
    /// No such page or record.
    NotFound,
    /// The CSRF token was missing or wrong.
    Csrf,
    /// The request itself was malformed; the message is shown.
    BadRequest(String),
    /// A domain rule refused the request; the message is shown.
    Refused(String),
    /// Our fault; the cause is logged.
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(DomainError::Forbidden) => WebError::Forbidden,
            StoreError::Domain(DomainError::NotFound(_)) => WebError::NotFound,
            StoreError::Domain(d) => WebError::Refused(match d {
                DomainError::Validation(fields) => fields
                    .into_iter()
                    .map(|f| f.message)
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other.to_string(),
            }),
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("template: {e}"))
    }
}

impl WebError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            WebError::LoginRequired { .. } => (
                StatusCode::UNAUTHORIZED,
                "ログインしてください。",
                "Please log in.",
            ),
            WebError::Forbidden => (
                StatusCode::FORBIDDEN,
                "この操作を行う権限がありません。",
                "You are not allowed to do this.",
            ),
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                "ページまたはデータが見つかりません。",
                "Not found.",
            ),
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                "フォームの有効期限が切れたか、不正な送信です。画面を再読み込みしてからやり直してください。",
                "The form has expired or was not sent from this site. Reload the page and try again.",
            ),
            WebError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "リクエストの内容が正しくありません。",
                "The request is not valid.",
            ),
            WebError::Refused(_) => (
                StatusCode::CONFLICT,
                "この操作は受け付けられませんでした。",
                "The request was refused.",
            ),
            WebError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "システムエラーが発生しました。時間をおいて再度お試しください。",
                "Something went wrong. Please try again later.",
            ),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::LoginRequired { next } = &self {
            let target = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return Redirect::to(&target).into_response();
        }
        let (status, ja, en) = self.parts();
        let detail = match &self {
            WebError::BadRequest(m) | WebError::Refused(m) => m.clone(),
            WebError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                String::new()
            }
            _ => String::new(),
        };
        let page = ErrorPage {
            status: status.as_u16(),
            ja,
            en,
            detail,
        };
        let body = askama::Template::render(&page).unwrap_or_else(|_| ja.to_string());
        (status, Html(body)).into_response()
    }
}

/// A bilingual error page (the request's language may be unknown when things fail).
#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    ja: &'static str,
    en: &'static str,
    detail: String,
}
