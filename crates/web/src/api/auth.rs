//! Bearer-token authentication of API requests.
//!
//! Only `Authorization: Bearer TOKEN` is read; cookies are ignored (see the module documentation of
//! [`super`] for why CSRF does not apply). A request without the header gets `401`; a request whose
//! header is present but refused (malformed, unknown or revoked token, disabled user) gets `401` and an
//! `api.auth_failure` audit entry with the client address. The token itself is never logged or audited.

use super::error::ApiError;
use crate::AppState;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::header;
use axum::http::request::Parts;
use serde_json::json;
use unyo_domain::{Action, Role};
use unyo_store::Actor;
use unyo_store::audit::NewAuditEntry;
use unyo_store::users::User;

/// Audit action of a refused token.
pub const AUTH_FAILURE_ACTION: &str = "api.auth_failure";

/// Actor name written for a refused token (there is no user to name).
pub const ANONYMOUS: &str = "anonymous";

/// Longest token accepted for lookup; real tokens are `unyo_` and 48 hex digits.
const MAX_TOKEN_CHARS: usize = 256;

/// The user behind a valid bearer token, and where the request came from.
pub struct ApiUser {
    /// The token's owner (active, token not revoked).
    pub user: User,
    /// Client address for the audit log.
    pub source: String,
}

impl ApiUser {
    /// The actor for store calls.
    pub fn actor(&self) -> Actor {
        self.user.actor(&self.source)
    }

    /// Refuses with `403` unless the role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if self.user.role().allows(action) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let source = crate::security::client_addr(&state.config, &parts.headers, &parts.extensions);
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::MissingToken);
        };
        let (user, reason) = match value.to_str().ok().and_then(bearer_token) {
            Some(token) => (state.store.user_for_token(token).await?, "invalid_token"),
            None => (None, "malformed_header"),
        };
        match user {
            Some(user) => {
                crate::pii_watch::note_actor(&user.username);
                let api_user = ApiUser { user, source };
                api_user.require(Action::UseApi)?;
                Ok(api_user)
            }
            None => {
                record_failure(state, parts, &source, reason).await;
                Err(ApiError::InvalidToken)
            }
        }
    }
}

/// The token of an `Authorization: Bearer TOKEN` value (scheme case-insensitive, RFC 6750 token68).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    let token68 = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
    (scheme.eq_ignore_ascii_case("bearer")
        && !token.is_empty()
        && token.len() <= MAX_TOKEN_CHARS
        && token.chars().all(token68))
    .then_some(token)
}

/// Audits a refused token. A failure to write is logged; the request is refused either way.
async fn record_failure(state: &AppState, parts: &Parts, source: &str, reason: &str) {
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map(|u| u.0.path().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    let anon = Actor {
        user_id: None,
        username: ANONYMOUS.into(),
        role: Role::Auditor,
        source: source.into(),
    };
    let entry = NewAuditEntry::new(&anon, AUTH_FAILURE_ACTION, "", "").details(json!({
        "reason": reason,
        "method": parts.method.as_str(),
        "path": path.chars().take(200).collect::<String>(),
    }));
    if let Err(e) = state.store.audit(entry).await {
        tracing::error!(error = %e, "could not audit a refused API token");
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn parses_bearer_header() {
        assert_eq!(bearer_token("Bearer unyo_abc"), Some("unyo_abc"));
        assert_eq!(bearer_token("bearer  unyo_abc "), Some("unyo_abc"));
        assert_eq!(bearer_token("Basic dXNlcjpwdw=="), None);
        assert_eq!(bearer_token("Bearer"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer a b"), None);
        assert_eq!(bearer_token(&format!("Bearer {}", "a".repeat(300))), None);
    }
}
