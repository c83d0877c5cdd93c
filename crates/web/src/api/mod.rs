//! The JSON API under `/api/v1`, authenticated with `Authorization: Bearer TOKEN`.
//!
//! * Authentication: every endpoint except `GET /api/v1/openapi.json` needs a token created with
//!   [`unyo_store::Store::create_api_token`]. A missing or refused token answers `401` with
//!   `WWW-Authenticate: Bearer`; every presented-but-refused token is written to the audit log as
//!   `api.auth_failure` with the client address (see [`auth`]).
//! * No cookies and no CSRF tokens: the API never reads the session cookie, and a bearer token is not
//!   something a browser attaches to a request by itself (unlike a cookie), so a third-party page cannot
//!   make a victim's browser send an authenticated API request. Cross-site request forgery therefore
//!   does not apply here, and the page routes' CSRF guard is deliberately not layered on this router.
//! * Authorisation: reads check [`unyo_domain::Action::ViewRegistry`] / `ViewWork` / `ViewAudit` explicitly; writes
//!   call the store with the token owner's [`unyo_store::Actor`], and the store checks the permission
//!   and writes the audit entry in the same transaction.
//! * Errors are JSON (`{"error": {"code", "message", "fields"}}`, see [`error`]) with Japanese
//!   messages; internal causes are logged, never returned.
//! * Support work (requests and their transitions, work entries, contracts, consultations, workload) is
//!   served by [`support`] with the same rules; an illegal status change is `409` with the domain's message.
//! * Incidents and known errors are served by [`incidents`]; closing without a witness is `409` with the
//!   domain's message.
//! * API tokens are listed (`GET /tokens`, one's own; an administrator may pass `user_id`) and revoked
//!   (`DELETE /tokens/{id}`, one's own, any for an administrator; audited) by [`tokens`]; a revoked or
//!   expired token gets `401` like an unknown one. Secrets and hashes are never returned.
//! * A contract's registers (subcontracting approvals, provided materials, staff roster) are served by
//!   [`registers`]; reading one provided material is audited.
//! * Vulnerability monitoring (feeds, records, findings, the CPE mapping table) is served by [`vulns`].
//! * The routes are built from one table ([`endpoints`]) which `openapi.json` is tested against.

pub mod auth;
mod campaigns;
mod checks;
mod common;
mod erasures;
pub mod error;
pub mod extract;
mod handlers;
mod incidents;
mod inventory;
pub mod openapi;
mod records;
mod registers;
mod support;
mod tokens;
mod vulns;

use crate::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

pub use auth::ApiUser;
pub use error::ApiError;

/// Largest JSON body the API accepts (records are small; the page routes allow more for CSV imports).
pub const MAX_API_BODY_BYTES: usize = 64 * 1024;

/// One API endpoint: method, path (relative to `/api/v1`, axum/OpenAPI `{param}` syntax) and handler.
struct Endpoint {
    method: Method,
    path: &'static str,
    handler: MethodRouter<AppState>,
}

fn ep(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Endpoint {
    Endpoint {
        method,
        path,
        handler,
    }
}

/// The route table: the router is built from it and the OpenAPI test checks it.
fn table() -> Vec<Endpoint> {
    use handlers::*;
    // One method per entry, so that the table (and the OpenAPI test) sees every method.
    macro_rules! r {
        ($m:ident, $path:literal, $h:expr) => {
            ep(Method::$m, $path, on(MethodFilter::$m, $h))
        };
    }
    vec![
        r!(GET, "/openapi.json", openapi::serve),
        r!(GET, "/me", me),
        // API tokens: one's own (an administrator's: anyone's), revoked by owner or administrator.
        r!(GET, "/tokens", tokens::list),
        r!(DELETE, "/tokens/{id}", tokens::revoke),
        // Sites.
        r!(GET, "/sites", list::<Sites>),
        r!(POST, "/sites", create::<Sites>),
        r!(GET, "/sites/{id}", show::<Sites>),
        r!(PUT, "/sites/{id}", update::<Sites>),
        r!(POST, "/sites/{id}/retire", retire::<Sites>),
        r!(GET, "/sites/{id}/history", history::<Sites>),
        // Terminals.
        r!(GET, "/terminals", list::<Terminals>),
        r!(POST, "/terminals", create::<Terminals>),
        r!(GET, "/terminals/{id}", show::<Terminals>),
        r!(PUT, "/terminals/{id}", update::<Terminals>),
        r!(POST, "/terminals/{id}/retire", retire::<Terminals>),
        r!(GET, "/terminals/{id}/history", history::<Terminals>),
        // Network nodes.
        r!(GET, "/nodes", list::<Nodes>),
        r!(POST, "/nodes", create::<Nodes>),
        r!(GET, "/nodes/{id}", show::<Nodes>),
        r!(PUT, "/nodes/{id}", update::<Nodes>),
        r!(POST, "/nodes/{id}/retire", retire::<Nodes>),
        r!(GET, "/nodes/{id}/history", history::<Nodes>),
        r!(GET, "/nodes/{id}/path", node_path),
        // Audit log.
        r!(GET, "/audit", audit_log),
        r!(GET, "/audit/verify", audit_verify),
        // Support requests (支援要請) and their lifecycle.
        r!(GET, "/requests", support::list_requests),
        r!(POST, "/requests", support::create_request),
        r!(GET, "/requests/{id}", support::show_request),
        r!(
            POST,
            "/requests/{id}/transitions",
            support::transition_request
        ),
        // Work entries (作業記録).
        r!(GET, "/work-entries", support::list_work),
        r!(POST, "/work-entries", support::create_work),
        r!(GET, "/work-entries/{id}", support::show_work),
        r!(PUT, "/work-entries/{id}", support::update_work),
        // Contracts.
        r!(GET, "/contracts", support::list_contracts),
        r!(POST, "/contracts", support::create_contract),
        r!(GET, "/contracts/{id}", support::show_contract),
        r!(PUT, "/contracts/{id}", support::update_contract),
        r!(GET, "/contracts/{id}/route", support::show_route),
        r!(PUT, "/contracts/{id}/route", support::update_route),
        // A contract's registers (R9, R10, R12): subcontracting approvals, provided materials, staff roster.
        r!(GET, "/subcontracts", registers::list_subcontracts),
        r!(POST, "/subcontracts", registers::create_subcontract),
        r!(GET, "/subcontracts/{id}", registers::show_subcontract),
        r!(PUT, "/subcontracts/{id}", registers::update_subcontract),
        r!(GET, "/materials", registers::list_materials),
        r!(POST, "/materials", registers::create_material),
        r!(GET, "/materials/{id}", registers::show_material),
        r!(PUT, "/materials/{id}", registers::update_material),
        r!(POST, "/materials/{id}/copies", registers::request_copy),
        r!(
            POST,
            "/material-copies/{id}/decision",
            registers::decide_copy
        ),
        r!(POST, "/materials/{id}/return", registers::return_material),
        r!(
            POST,
            "/materials/{id}/acknowledgement",
            registers::acknowledge
        ),
        r!(GET, "/staff", registers::list_staff),
        r!(POST, "/staff", registers::create_staff),
        r!(GET, "/staff/{id}", registers::show_staff),
        r!(PUT, "/staff/{id}", registers::update_staff),
        // Consultations (協議記録).
        r!(GET, "/consultations", support::list_consultations),
        r!(POST, "/consultations", support::create_consultation),
        r!(GET, "/consultations/{id}", support::show_consultation),
        // Hours by category / clause and month of a fiscal year.
        r!(GET, "/workload", support::workload),
        // Rollout campaigns (展開) and the compliance grid (準拠状況).
        r!(GET, "/campaigns", campaigns::list),
        r!(POST, "/campaigns", campaigns::create),
        r!(GET, "/campaigns/{id}", campaigns::show),
        r!(
            POST,
            "/campaigns/{id}/targets/{terminal_id}/attest",
            campaigns::attest
        ),
        r!(
            POST,
            "/campaigns/{id}/targets/{terminal_id}/exclude",
            campaigns::exclude
        ),
        r!(POST, "/campaigns/{id}/close", campaigns::close),
        r!(GET, "/compliance", campaigns::compliance),
        // Incidents (障害対応) and the known-error library (既知の障害).
        r!(GET, "/incidents", incidents::list),
        r!(POST, "/incidents", incidents::create),
        r!(GET, "/incidents/stats", incidents::stats),
        r!(GET, "/incidents/{id}", incidents::show),
        r!(POST, "/incidents/{id}/transitions", incidents::transition),
        r!(POST, "/incidents/{id}/witness", incidents::witness),
        r!(POST, "/incidents/{id}/entries", incidents::add_entry),
        r!(POST, "/incidents/{id}/resolve", incidents::resolve),
        r!(
            POST,
            "/incidents/{id}/known-error",
            incidents::to_known_error
        ),
        r!(GET, "/known-errors", incidents::list_known_errors),
        r!(POST, "/known-errors", incidents::create_known_error),
        r!(GET, "/known-errors/{id}", incidents::show_known_error),
        // Inventories reported by agents or imported from files.
        r!(GET, "/inventories", inventory::list),
        r!(GET, "/inventories/{id}", inventory::show),
        // Connectivity checks (疎通確認) and their state changes.
        r!(GET, "/checks", checks::list),
        r!(POST, "/checks", checks::create),
        r!(GET, "/checks/{id}", checks::show),
        r!(GET, "/events", checks::events),
        r!(GET, "/maintenance-windows", checks::list_windows),
        r!(POST, "/maintenance-windows", checks::create_window),
        r!(GET, "/maintenance-windows/{id}", checks::show_window),
        r!(PUT, "/maintenance-windows/{id}", checks::update_window),
        r!(
            POST,
            "/maintenance-windows/{id}/retire",
            checks::retire_window
        ),
        r!(GET, "/notification-channels", checks::list_channels),
        r!(POST, "/notification-channels", checks::create_channel),
        r!(GET, "/notification-channels/{id}", checks::show_channel),
        r!(PUT, "/notification-channels/{id}", checks::update_channel),
        r!(
            POST,
            "/notification-channels/{id}/retire",
            checks::retire_channel
        ),
        r!(GET, "/notification-attempts", checks::attempts),
        // Monthly work records (業務実績簿) and their frozen versions.
        r!(GET, "/monthly-records", records::list),
        r!(GET, "/monthly-records/{id}/versions/{file}", records::file),
        // The erasure register (消去記録) and its certificates.
        r!(GET, "/erasures", erasures::list),
        r!(POST, "/erasures", erasures::create),
        r!(GET, "/erasures/{id}/certificate.pdf", erasures::certificate),
        // Vulnerability monitoring: feeds, records, findings and the CPE mapping table.
        r!(GET, "/feeds", vulns::feeds),
        r!(GET, "/vulnerabilities", vulns::list),
        r!(GET, "/vulnerabilities/{id}", vulns::show),
        r!(GET, "/findings", vulns::findings),
        r!(GET, "/findings/{id}", vulns::finding),
        r!(GET, "/cpe-mappings", vulns::mappings),
        r!(POST, "/cpe-mappings/{id}/confirm", vulns::confirm),
        r!(POST, "/cpe-mappings/{id}/correct", vulns::correct),
    ]
}

/// Every `(method, path)` the API serves, paths relative to `/api/v1` (e.g. `GET /sites/{id}`).
pub fn endpoints() -> Vec<(Method, &'static str)> {
    table().into_iter().map(|e| (e.method, e.path)).collect()
}

/// API routes, nested by the caller at `/api/v1`.
pub fn routes(_state: AppState) -> Router<AppState> {
    let mut router = Router::new();
    for e in table() {
        // Several entries may share a path; axum merges their method routers.
        router = router.route(e.path, e.handler);
    }
    router
        // Unknown paths and methods under /api/v1 answer JSON, not the HTML error page.
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(|| async { ApiError::NoRoute })
        .layer(DefaultBodyLimit::max(MAX_API_BODY_BYTES))
}
