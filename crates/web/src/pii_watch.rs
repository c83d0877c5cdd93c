//! Every refused personal identifier (個人番号, 住民票コード) is audited, wherever its error is then handled.
//!
//! The guard lives in the domain (`unyo_domain::pii::guard_free_text`) and is called by every free-text
//! type, the store and a few pages; its error is then shown again in a form, returned by the API or listed
//! in an import's row report. Rather than audit at each of those places (and forget one), the guard tells
//! an observer installed here, which notes the refusal in the request it happens in; [`audit_refusals`],
//! around every request, writes one `pii.refused` audit entry per refused request: who, where (method and
//! path), how many refusals and of which kind — never the text. The council pack counts these entries.

use std::cell::RefCell;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use unyo_domain::pii::PersonalIdKind;
use unyo_store::audit::NewAuditEntry;

use crate::AppState;

/// The audit action of a refused request.
pub const ACTION: &str = "pii.refused";

/// What one request refused, and who sent it (when known).
#[derive(Debug, Default)]
struct Refusals {
    actor: Option<String>,
    kinds: Vec<PersonalIdKind>,
}

tokio::task_local! {
    static REFUSALS: RefCell<Refusals>;
}

/// Installs the observer (once per process; later calls are no-ops).
pub fn install() {
    unyo_domain::pii::set_refusal_observer(observe);
}

/// Called by the guard on each refusal: notes it in the current request (outside one — a background
/// task — there is no one to attribute it to, and the task reports its own errors).
fn observe(kind: PersonalIdKind) {
    let _ = REFUSALS.try_with(|r| r.borrow_mut().kinds.push(kind));
}

/// Notes who sent the current request (a session's or an API token's user), for the audit entry.
pub fn note_actor(username: &str) {
    let _ = REFUSALS.try_with(|r| r.borrow_mut().actor = Some(username.to_owned()));
}

/// Runs the request with a place to note refusals, then audits them (see the module documentation).
pub async fn audit_refusals(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let source = crate::security::client_addr(&state.config, req.headers(), req.extensions());
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let (response, refusals) = REFUSALS
        .scope(RefCell::new(Refusals::default()), async move {
            let response = next.run(req).await;
            (response, REFUSALS.with(|r| r.take()))
        })
        .await;
    if !refusals.kinds.is_empty() {
        let count = |k: PersonalIdKind| refusals.kinds.iter().filter(|x| **x == k).count();
        let entry = NewAuditEntry {
            actor: refusals.actor.unwrap_or_else(|| "anonymous".into()),
            action: ACTION.into(),
            entity: String::new(),
            entity_id: String::new(),
            details: serde_json::json!({
                "method": method,
                "path": path,
                "my_number": count(PersonalIdKind::MyNumber),
                "resident_code": count(PersonalIdKind::ResidentCode),
            }),
            source,
        };
        if let Err(e) = state.store.audit(entry).await {
            tracing::error!(error = %e, "could not audit a refused personal identifier");
        }
    }
    response
}
