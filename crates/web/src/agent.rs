//! `POST /ocsinventory` (and `/ocsinventory/`, and `/front/inventory.php` for agents given a GLPI-style
//! server address): where FusionInventory / OCS agents and GLPI Agents report, started with
//! `fusioninventory-agent --server http://HOST:PORT/ocsinventory --user U --password P` or
//! `glpi-agent --server http://HOST:PORT/front/inventory.php --user U --password P` (either URL serves both).
//!
//! The exchanges (documented in [`unyo_inventory::protocol`]):
//! * FusionInventory: the agent POSTs a zlib-compressed `PROLOG`, unyo answers `SEND`, the agent POSTs its
//!   `INVENTORY`, unyo stores it and answers `no_account_update`.
//! * GLPI Agent: its `PROLOG` carries a `GLPI-Agent-ID` header; unyo answers it with the GLPI protocol's
//!   `{"status": "ok", "expiration": 24}`, and the agent goes on in JSON: `contact` (answered with the
//!   inventory task and the agent's other tasks `disabled`) and `inventory` (answered `ok`, or
//!   `status: error` with the reason in Japanese and English when refused).
//!
//! Every inventory goes to [`unyo_store::Store::store_inventory`] (matched to a terminal or queued for
//! review; a partial GLPI inventory merged into the last full one), and every authenticated request
//! records the agent ([`unyo_store::Store::record_agent_contact`]: software, version, GLPI-Agent-ID,
//! protocol, last contact). Replies are encoded as the request's `Content-Type` asks
//! ([`ReplyEncoding`]): the GLPI Agent decodes an answer only under the type it sent.
//!
//! Authentication is HTTP Basic with a per-agent credential (`unyo agent credential create NAME`, or
//! the agents page), checked **before the body is read**. The agents send credentials only after a `401`
//! carrying `WWW-Authenticate: Basic realm="unyo"`, so:
//! * no `Authorization` header → `401` with the challenge, **not audited** (every contact starts so);
//! * a malformed header, an unknown user, a wrong password or a revoked credential → `401` again and an
//!   `agent.auth_failure` audit entry with the tried user name and the client address.
//!
//! A refused request's body is read and thrown away as it arrives (never buffered): closing a connection
//! with unread data makes TCP reset it, and the agent would lose the 401 it needs. At most
//! [`MAX_VERIFICATIONS`] password checks (Argon2, tens of milliseconds of CPU each) run at once; a request
//! that cannot start one within [`VERIFICATION_WAIT`] is answered `503`.
//!
//! The body may be up to 16 MiB (compressed, and again after decompression); a larger one is `413`, a
//! body that is not an agent request (bad compression, malformed or hostile XML/JSON, an unknown `QUERY`
//! or `action`) is `400` with a short reason (JSON `status: error` for a GLPI Agent), and nothing is
//! stored. This route sits outside the session and CSRF layers: agents have neither, and a Basic
//! credential that only unyo's agents hold is not something a browser attaches on its own for this realm
//! unless a person typed it in.

use crate::AppState;
use crate::throttle::{BurstLog, Clock, FailureLimiter, Limit, RetryAfter};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::Semaphore;
use unyo_inventory::protocol::{
    AgentKind, EncodedReply, agent_software, encode_glpi_reply, encode_reply_as,
};
use unyo_inventory::{
    AgentMessage, AgentRequest, GlpiMessage, GlpiReply, InventorySnapshot, ParseError,
    ReplyEncoding, ServerReply, decode_request, detect_body_encoding,
};
use unyo_store::inventory::{
    AgentContact, AgentFailureBurst, AgentIdentity, InventorySource, PROTOCOL_GLPI_JSON,
    PROTOCOL_OCS_XML, Submitter, body_digest,
};

/// The path agents are pointed at.
pub const AGENT_PATH: &str = "/ocsinventory";

/// Largest agent body accepted (the parsers' own limit, 16 MiB).
pub const MAX_AGENT_BODY_BYTES: usize = unyo_inventory::limits::MAX_BYTES;

/// The Basic realm of the challenge.
pub const REALM: &str = "unyo";

/// Audit action of a refused agent.
pub const AUTH_FAILURE_ACTION: &str = "agent.auth_failure";

/// The second path, for agents configured with a GLPI-style server address (GLPI 10's own endpoint).
pub const GLPI_AGENT_PATH: &str = "/front/inventory.php";

/// Most Argon2 password checks of agents running at once.
pub const MAX_VERIFICATIONS: usize = 4;

/// How long a request waits for a password check to start before it is answered `503`.
pub const VERIFICATION_WAIT: Duration = Duration::from_secs(10);

static VERIFICATIONS: Semaphore = Semaphore::const_new(MAX_VERIFICATIONS);

/// Most agent bodies held in memory at once (read, decompressed, parsed and stored). A body waits its
/// turn unread, in the connection's buffers, so 64 agents posting 16 MiB at once cost two bodies of
/// memory, not 64.
pub const MAX_INTAKES: usize = 2;

/// How long an authenticated request waits for its turn before it is answered `503`.
pub const INTAKE_WAIT: Duration = Duration::from_secs(300);

static INTAKES: Semaphore = Semaphore::const_new(MAX_INTAKES);

/// Refused agent requests allowed per source address in [`FAILURE_WINDOW`]; the next ones are answered
/// `429` without a password check. A known agent (verified a moment ago) is never held back by it.
pub const MAX_FAILURES_PER_SOURCE: u32 = 20;

/// Refused agent requests allowed per agent user name in [`FAILURE_WINDOW`].
pub const MAX_FAILURES_PER_ACCOUNT: u32 = 10;

/// The window of the failure limits and of the burst log.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The agent endpoint's failure limits and burst log (in memory, per instance).
#[derive(Debug)]
pub struct AgentGuard {
    by_source: FailureLimiter<String>,
    by_account: FailureLimiter<String>,
    bursts: BurstLog<String>,
}

impl AgentGuard {
    /// Limits as the constants say, timed by `clock`.
    pub fn new(clock: Clock) -> Self {
        let limit = |max_failures| Limit {
            max_failures,
            window: FAILURE_WINDOW,
        };
        AgentGuard {
            by_source: FailureLimiter::new(limit(MAX_FAILURES_PER_SOURCE), clock.clone()),
            by_account: FailureLimiter::new(limit(MAX_FAILURES_PER_ACCOUNT), clock.clone()),
            bursts: BurstLog::new(FAILURE_WINDOW, clock),
        }
    }

    fn check(&self, source: &String, user: &String) -> Result<(), RetryAfter> {
        match (self.by_source.check(source), self.by_account.check(user)) {
            (Ok(()), Ok(())) => Ok(()),
            (a, b) => Err(a.err().max(b.err()).unwrap_or(RetryAfter(FAILURE_WINDOW))),
        }
    }
}

impl Default for AgentGuard {
    fn default() -> Self {
        AgentGuard::new(Clock::system())
    }
}

fn busy() -> Response {
    let mut res = text(
        StatusCode::SERVICE_UNAVAILABLE,
        "混み合っています。しばらくしてから送信してください (busy, retry later)",
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    res
}

/// The agent routes (to be merged outside the session and CSRF layers).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(AGENT_PATH, post(receive))
        .route("/ocsinventory/", post(receive))
        .route(GLPI_AGENT_PATH, post(receive))
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

/// Audits a refusal: the first of a source in [`FAILURE_WINDOW`] on its own, later ones counted and
/// written as one entry when their window has closed. `limited` when a failure limit refused it
/// without a password check.
async fn audit_refusal(state: &AppState, user: &str, source: &str, reason: &str, limited: bool) {
    let guard = &state.agents;
    let key = source.to_string();
    if !limited && guard.bursts.open(&key) {
        if let Err(e) = state
            .store
            .record_agent_auth_failure(user, source, reason)
            .await
        {
            tracing::error!(error = %e, "could not audit a refused agent");
        }
    } else {
        guard.bursts.count(&key, user, limited);
    }
    write_closed_bursts(state).await;
}

/// Writes the bursts whose windows have closed, one audit entry each.
async fn write_closed_bursts(state: &AppState) {
    for b in state.agents.bursts.take_closed() {
        let burst = AgentFailureBurst {
            failures: b.failures,
            refused: b.refused,
            usernames: &b.labels,
            first_at: b.first_at.to_rfc3339(),
            last_at: b.last_at.to_rfc3339(),
        };
        if let Err(e) = state
            .store
            .record_agent_auth_failure_burst(&b.key, &burst)
            .await
        {
            tracing::error!(error = %e, "could not audit a burst of refused agents");
        }
    }
}

/// A refused credential: counted against the source and the user name, audited, challenged.
async fn refuse(state: &AppState, user: &str, source: &str, reason: &str) -> Response {
    let _ = state.agents.by_source.record_failure(&source.to_string());
    if !user.is_empty() {
        let _ = state.agents.by_account.record_failure(&user.to_string());
    }
    audit_refusal(state, user, source, reason, false).await;
    challenge()
}

/// Past a failure limit: `429` with `Retry-After`, without a password check.
async fn too_many(state: &AppState, user: &str, source: &str, retry: RetryAfter) -> Response {
    audit_refusal(state, user, source, "too_many_failures", true).await;
    let mut res = text(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "認証の失敗が続いたため、{}分間受け付けません (too many failures, retry later)",
            retry.minutes()
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&retry.secs().to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// Reads a refused request's body to its end (or the size limit) and throws it away as it arrives.
async fn drain(body: Body) {
    let mut stream = body.into_data_stream();
    let mut seen = 0usize;
    while let Some(Ok(chunk)) = stream.next().await {
        seen += chunk.len();
        if seen > MAX_AGENT_BODY_BYTES {
            break;
        }
    }
}

/// The agent behind the Basic credentials, with at most [`MAX_VERIFICATIONS`] checks at once.
async fn verify(
    state: &AppState,
    user: &str,
    password: &str,
    source: &str,
) -> Result<Option<AgentIdentity>, Response> {
    let Ok(Ok(_permit)) = tokio::time::timeout(VERIFICATION_WAIT, VERIFICATIONS.acquire()).await
    else {
        return Err(busy());
    };
    // Others may have failed while this one waited its turn.
    if let Err(retry) = state.agents.check(&source.to_string(), &user.to_string()) {
        return Err(too_many(state, user, source, retry).await);
    }
    state
        .store
        .verify_agent_credential(user, password)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "agent credential check failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "サーバーエラー")
        })
}

/// A GLPI Agent's own id (`GLPI-Agent-ID`), when it is a UUID.
fn glpi_agent_id(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("glpi-agent-id")?.to_str().ok()?.trim();
    let uuid_like = v.len() == 36
        && v.chars().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    uuid_like.then(|| v.to_ascii_lowercase())
}

fn reply(status: StatusCode, encoded: EncodedReply) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, encoded.content_type)],
        encoded.body,
    )
        .into_response()
}

/// Who is talking: the agent's software, from its User-Agent, its `GLPI-Agent-ID` and what it said.
struct Caller {
    agent: AgentIdentity,
    source: String,
    kind: AgentKind,
    version: Option<String>,
    glpi_agent_id: Option<String>,
}

impl Caller {
    /// A GLPI Agent (it announces the GLPI protocol with its `GLPI-Agent-ID`).
    fn speaks_glpi(&self) -> bool {
        self.glpi_agent_id.is_some() || self.kind == AgentKind::Glpi
    }

    async fn record(
        &self,
        state: &AppState,
        device_id: &str,
        protocol: &str,
        message: &str,
        version: Option<&str>,
    ) {
        let contact = AgentContact {
            device_id,
            kind: self.kind.code(),
            version: version.or(self.version.as_deref()),
            glpi_agent_id: self.glpi_agent_id.as_deref(),
            protocol,
            message,
        };
        if let Err(e) = state
            .store
            .record_agent_contact(&self.agent, &contact, &self.source)
            .await
        {
            tracing::error!(error = %e, "could not record an agent contact");
        }
    }

    /// Stores an inventory; `Err` is the server error.
    async fn store(
        &self,
        state: &AppState,
        snapshot: &InventorySnapshot,
        body: &[u8],
    ) -> Result<(), ()> {
        let (sha, size) = body_digest(body);
        let by = Submitter::Agent {
            credential: self.agent.clone(),
            source: self.source.clone(),
        };
        match state
            .store
            .store_inventory(&by, snapshot, &sha, size, InventorySource::Agent)
            .await
        {
            Ok(outcome) => {
                tracing::info!(
                    inventory = outcome.inventory_id,
                    terminal = ?outcome.terminal_id,
                    matched_by = outcome.matched_by.code(),
                    queued = outcome.queued,
                    partial = snapshot.partial,
                    "inventory received from an agent"
                );
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "storing an agent inventory failed");
                Err(())
            }
        }
    }
}

/// `POST /ocsinventory`, `/front/inventory.php`.
async fn receive(State(state): State<AppState>, req: Request) -> Response {
    let headers = req.headers().clone();
    let source = crate::security::client_addr(&state.config, &headers, req.extensions());
    let body: Body = req.into_body();
    let Some(auth) = headers.get(header::AUTHORIZATION) else {
        drain(body).await;
        return challenge();
    };
    let Some((user, password)) = auth.to_str().ok().and_then(basic_credentials) else {
        if let Err(retry) = state.agents.by_source.check(&source) {
            return too_many(&state, "", &source, retry).await;
        }
        drain(body).await;
        return refuse(&state, "", &source, "malformed_header").await;
    };
    // A known agent goes straight in; anyone else meets the failure limits before a password check.
    let known = match state
        .store
        .remembered_agent_credential(&user, &password)
        .await
    {
        Ok(known) => known,
        Err(e) => {
            tracing::error!(error = %e, "agent credential lookup failed");
            return text(StatusCode::INTERNAL_SERVER_ERROR, "サーバーエラー");
        }
    };
    let verified = match known {
        Some(agent) => Ok(Some(agent)),
        None => {
            if let Err(retry) = state.agents.check(&source, &user) {
                return too_many(&state, &user, &source, retry).await;
            }
            verify(&state, &user, &password, &source).await
        }
    };
    let agent = match verified {
        Ok(Some(agent)) => agent,
        Ok(None) => {
            drain(body).await;
            return refuse(&state, &user, &source, "unknown_or_wrong_password").await;
        }
        Err(res) => {
            drain(body).await;
            return res;
        }
    };
    // The body is read only with a turn, and the turn is held until the inventory is stored.
    let Ok(Ok(_turn)) = tokio::time::timeout(INTAKE_WAIT, INTAKES.acquire()).await else {
        return busy();
    };
    let Ok(body) = to_bytes(body, MAX_AGENT_BODY_BYTES).await else {
        return text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "送信データが大きすぎます（16 MiB まで）",
        );
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (kind, version) = agent_software(
        headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
    );
    let caller = Caller {
        agent,
        source,
        kind,
        version,
        glpi_agent_id: glpi_agent_id(&headers),
    };
    let (request, body_encoding) = match decode_request(content_type, &body) {
        Ok(r) => r,
        Err(e) => return refused(&caller, content_type, &body, &e),
    };
    let encoding = ReplyEncoding::for_request(content_type, body_encoding);
    match request {
        AgentRequest::Xml(AgentMessage::Prolog { device_id }) => {
            if caller.speaks_glpi() {
                // The JSON answer tells the GLPI Agent that this server speaks its protocol.
                caller
                    .record(&state, &device_id, PROTOCOL_GLPI_JSON, "prolog", None)
                    .await;
                reply(
                    StatusCode::OK,
                    encode_glpi_reply(&GlpiReply::ok(), encoding),
                )
            } else {
                caller
                    .record(&state, &device_id, PROTOCOL_OCS_XML, "prolog", None)
                    .await;
                let send = ServerReply::Send {
                    prolog_freq_hours: unyo_inventory::protocol::DEFAULT_PROLOG_FREQ_HOURS,
                };
                reply(StatusCode::OK, encode_reply_as(&send, encoding))
            }
        }
        AgentRequest::Xml(AgentMessage::Inventory(snapshot)) => {
            if caller.store(&state, &snapshot, &body).await.is_err() {
                return text(StatusCode::INTERNAL_SERVER_ERROR, "サーバーエラー");
            }
            let device_id = snapshot.device_id.as_deref().unwrap_or_default();
            caller
                .record(&state, device_id, PROTOCOL_OCS_XML, "inventory", None)
                .await;
            reply(
                StatusCode::OK,
                encode_reply_as(&ServerReply::InventoryAccepted, encoding),
            )
        }
        AgentRequest::Json(GlpiMessage::Contact(contact)) => {
            let caller = Caller {
                kind: match caller.kind {
                    AgentKind::Other
                        if contact
                            .agent_name
                            .as_deref()
                            .is_some_and(|n| n.eq_ignore_ascii_case("glpi-agent")) =>
                    {
                        AgentKind::Glpi
                    }
                    k => k,
                },
                ..caller
            };
            caller
                .record(
                    &state,
                    &contact.device_id,
                    PROTOCOL_GLPI_JSON,
                    "contact",
                    contact.agent_version.as_deref(),
                )
                .await;
            reply(
                StatusCode::OK,
                encode_glpi_reply(&GlpiReply::contact(&contact), encoding),
            )
        }
        AgentRequest::Json(GlpiMessage::Inventory(snapshot)) => {
            if caller.store(&state, &snapshot, &body).await.is_err() {
                let e = GlpiReply::Error {
                    message: "サーバーエラーのため保存できませんでした / unyo could not store the inventory (server error)".into(),
                };
                return reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    encode_glpi_reply(&e, encoding),
                );
            }
            let device_id = snapshot.device_id.as_deref().unwrap_or_default();
            caller
                .record(&state, device_id, PROTOCOL_GLPI_JSON, "inventory", None)
                .await;
            reply(
                StatusCode::OK,
                encode_glpi_reply(&GlpiReply::ok(), encoding),
            )
        }
    }
}

/// A request that is not an agent message: `400`, as a GLPI `status: error` message for a GLPI Agent
/// or a JSON body (the agent logs its message), as text otherwise.
fn refused(caller: &Caller, content_type: Option<&str>, body: &[u8], e: &ParseError) -> Response {
    tracing::warn!(agent = %caller.agent.username, source = %caller.source, error = %e, "refused an agent request");
    let json_body = matches!(
        e,
        ParseError::Json { .. }
            | ParseError::WrongType { .. }
            | ParseError::MissingAction
            | ParseError::UnsupportedAction(_)
    ) || content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    if caller.speaks_glpi() || json_body {
        let encoding = ReplyEncoding::for_request(content_type, detect_body_encoding(body));
        reply(
            StatusCode::BAD_REQUEST,
            encode_glpi_reply(&GlpiReply::refused(e), encoding),
        )
    } else {
        text(StatusCode::BAD_REQUEST, &e.to_string())
    }
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
