//! unyo's web front: server-rendered pages (askama, no JavaScript needed), the JSON API under `/api/v1`,
//! database-backed sessions, CSRF protection and security headers.
//!
//! Every handler that changes something calls a [`unyo_store::Store`] method with the person's
//! [`unyo_store::Actor`]; the store checks the permission and writes the audit entry in the same
//! transaction, so no page can skip either.

pub mod agent;
pub mod api;
pub mod assets;
pub mod auth;
mod certificate;
pub mod confirm;
mod download;
pub mod error;
pub mod i18n;
pub mod page;
pub mod pages;
pub mod pii_watch;
pub mod security;
pub mod throttle;
pub mod totp;
pub mod view;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use std::sync::Arc;
use unyo_store::Store;

pub use error::WebError;

/// Settings of the web front that are not in the database.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (served over TLS directly or behind a TLS proxy).
    pub secure_cookies: bool,
    /// Trust `X-Forwarded-For` for the client address (only behind a known proxy).
    pub trust_proxy: bool,
    /// This instance serves the demo data set (shown in the header).
    pub demo: bool,
    /// Loopback targets that on-demand connectivity runs treat as silent (the demo's cut lines; empty in
    /// a real deployment, where every run goes over the network).
    pub blackhole: unyo_probe::Blackhole,
    /// Limits on failed logins per source address and per account (see `auth::LoginGuard`).
    pub login_limits: auth::LoginLimits,
}

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState {
    /// The data.
    pub store: Store,
    /// Settings.
    pub config: Arc<WebConfig>,
    /// On-demand connectivity runs in progress (in memory; see `pages::connectivity::live`).
    pub runs: Arc<pages::connectivity::live::Runs>,
    /// The connectivity status board's snapshot, rebuilt in the background (in memory, per instance: the
    /// board says the time it was taken; see `pages::connectivity::board` for why).
    pub board: Arc<pages::connectivity::board::BoardCache>,
    /// Failed-login limits and the burst log of failures (in memory, per instance).
    pub login: Arc<auth::LoginGuard>,
    /// The agent endpoint's failure limits and burst log (in memory, per instance).
    pub agents: Arc<agent::AgentGuard>,
}

/// Largest request body accepted (CSV imports are the biggest).
pub const MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// The whole application.
pub fn router(store: Store, config: WebConfig) -> Router {
    pii_watch::install();
    let state = AppState {
        store,
        login: Arc::new(auth::LoginGuard::new(&config.login_limits)),
        config: Arc::new(config),
        runs: Arc::default(),
        board: Arc::default(),
        agents: Arc::default(),
    };
    let pages = Router::new()
        .merge(auth::routes())
        .merge(pages::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::csrf_guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::load_session,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .merge(pages)
        // Inventory agents: HTTP Basic, no session, no CSRF, own body limit (see `agent`).
        .merge(agent::routes())
        .nest("/api/v1", api::routes(state.clone()))
        .merge(assets::routes())
        .fallback(|| async { WebError::NotFound })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pii_watch::audit_refusals,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, &'static str) {
    match state.store.user_count().await {
        Ok(_) => (axum::http::StatusCode::OK, "ok"),
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable",
        ),
    }
}
