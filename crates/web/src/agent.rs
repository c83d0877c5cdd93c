//! `POST /ocsinventory` (and `/ocsinventory/`): where FusionInventory / OCS agents report, started with
//! `fusioninventory-agent --server http://HOST:PORT/ocsinventory --user U --password P`.
//!
//! The exchange (documented in [`unyo_inventory::protocol`]): the agent POSTs a zlib-compressed
//! `PROLOG`, unyo answers `SEND`, the agent POSTs its `INVENTORY`, unyo stores it
//! ([`unyo_store::Store::store_inventory`], matched to a terminal or queued for review) and answers
//! `no_account_update`. Replies use the request's own encoding (zlib, gzip or plain XML).
//!
//! Authentication is HTTP Basic with a per-agent credential (`unyo agent credential create NAME`, or
//! the agents page). The agent sends credentials only after a `401` carrying
//! `WWW-Authenticate: Basic realm="unyo"`, so:
//! * no `Authorization` header → `401` with the challenge, **not audited** (every contact starts so);
//! * a malformed header, an unknown user, a wrong password or a revoked credential → `401` again and an
//!   `agent.auth_failure` audit entry with the tried user name and the client address.
//!
//! The body may be up to 16 MiB (compressed, and again
//! after decompression); a larger one is `413`, a body that is not an agent request (bad compression,
//! malformed or hostile XML, JSON, an unknown `QUERY`) is `400` with a short Japanese reason, and nothing
//! is stored. This route sits outside the session and CSRF layers: agents have neither, and a Basic
//! credential that only unyo's agents hold is not something a browser attaches on its own for this realm
//! unless a person typed it in.

use crate::AppState;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use std::net::SocketAddr;
use unyo_inventory::protocol::{ServerReply, decode_agent_request_with_encoding};
use unyo_inventory::{AgentMessage, encode_reply};
use unyo_store::inventory::{InventorySource, Submitter, body_digest};

/// The path agents are pointed at.
pub const AGENT_PATH: &str = "/ocsinventory";

/// Largest agent body accepted (the parsers' own limit, 16 MiB).
pub const MAX_AGENT_BODY_BYTES: usize = unyo_inventory::limits::MAX_BYTES;

/// The Basic realm of the challenge.
pub const REALM: &str = "unyo";

/// Audit action of a refused agent.
pub const AUTH_FAILURE_ACTION: &str = "agent.auth_failure";

/// The agent routes (to be merged outside the session and CSRF layers).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(AGENT_PATH, post(receive))
        .route("/ocsinventory/", post(receive))
        .layer(DefaultBodyLimit::max(MAX_AGENT_BODY_BYTES))
}

fn text(status: StatusCode, msg: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{msg}\n"),
    )
        .into_response()
}

fn challenge() -> Response {
    let mut res = text(
        StatusCode::UNAUTHORIZED,
        "認証が必要です (authentication required)",
    );
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"unyo\""),
    );
    res
}

/// `user` and `password` of a `Basic` authorization value; `None` when malformed.
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let (scheme, b64) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") || b64.len() > 1024 {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

fn client_addr(state: &AppState, headers: &HeaderMap, req: &Request) -> String {
    if state.config.trust_proxy
        && let Some(xff) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok())
        && let Some(first) = xff.split(',').next().map(str::trim)
        && !first.is_empty()
    {
        return first.chars().take(64).collect();
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

async fn refuse(state: &AppState, user: &str, source: &str, reason: &str) -> Response {
    if let Err(e) = state
        .store
        .record_agent_auth_failure(user, source, reason)
        .await
    {
        tracing::error!(error = %e, "could not audit a refused agent");
    }
    challenge()
}

/// `POST /ocsinventory`.
async fn receive(State(state): State<AppState>, req: Request) -> Response {
    let headers = req.headers().clone();
    let source = client_addr(&state, &headers, &req);
    let body: Body = req.into_body();
    // The body is read (and dropped) even when the request is refused: closing a connection with unread
    // data makes TCP reset it, and the agent would lose the 401 it needs to retry with credentials.
    let body = to_bytes(body, MAX_AGENT_BODY_BYTES).await;
    let Some(auth) = headers.get(header::AUTHORIZATION) else {
        return challenge();
    };
    let Some((user, password)) = auth.to_str().ok().and_then(basic_credentials) else {
        return refuse(&state, "", &source, "malformed_header").await;
    };
    let agent = match state.store.verify_agent_credential(&user, &password).await {
        Ok(Some(agent)) => agent,
        Ok(None) => return refuse(&state, &user, &source, "unknown_or_wrong_password").await,
        Err(e) => {
            tracing::error!(error = %e, "agent credential check failed");
            return text(StatusCode::INTERNAL_SERVER_ERROR, "サーバーエラー");
        }
    };
    let Ok(body) = body else {
        return text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "送信データが大きすぎます（16 MiB まで）",
        );
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (message, encoding) = match decode_agent_request_with_encoding(content_type, &body) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(agent = %agent.username, %source, error = %e, "refused an agent request");
            return text(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };
    let reply = match message {
        AgentMessage::Prolog { .. } => ServerReply::Send {
            prolog_freq_hours: unyo_inventory::protocol::DEFAULT_PROLOG_FREQ_HOURS,
        },
        AgentMessage::Inventory(snapshot) => {
            let (sha, size) = body_digest(&body);
            let by = Submitter::Agent {
                credential: agent,
                source,
            };
            match state
                .store
                .store_inventory(&by, &snapshot, &sha, size, InventorySource::Agent)
                .await
            {
                Ok(outcome) => {
                    tracing::info!(
                        inventory = outcome.inventory_id,
                        terminal = ?outcome.terminal_id,
                        matched_by = outcome.matched_by.code(),
                        queued = outcome.queued,
                        "inventory received from an agent"
                    );
                    ServerReply::InventoryAccepted
                }
                Err(e) => {
                    tracing::error!(error = %e, "storing an agent inventory failed");
                    return text(StatusCode::INTERNAL_SERVER_ERROR, "サーバーエラー");
                }
            }
        }
    };
    let encoded = encode_reply(&reply, encoding);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, encoded.content_type)],
        encoded.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::basic_credentials;

    #[test]
    fn parses_basic_credentials() {
        // "agent-1:pa:ss" — a colon in the password is kept.
        assert_eq!(
            basic_credentials("Basic YWdlbnQtMTpwYTpzcw=="),
            Some(("agent-1".into(), "pa:ss".into()))
        );
        assert_eq!(
            basic_credentials("basic  YWdlbnQtMTpwYTpzcw== "),
            Some(("agent-1".into(), "pa:ss".into()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
        assert_eq!(basic_credentials("Basic bm9jb2xvbg=="), None);
    }
}
