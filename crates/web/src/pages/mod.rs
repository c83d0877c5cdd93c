//! Server-rendered pages, one module per area.

pub mod account;
pub mod audit;
pub mod campaigns;
pub mod connectivity;
pub mod contract_close;
pub mod erasures;
pub mod home;
pub mod incidents;
pub mod inventory;
pub mod records;
pub mod registry;
pub mod requests;
pub mod users;
pub mod vulns;
pub mod work;

use crate::AppState;
use axum::Router;

/// All page routes (behind the session and CSRF guards).
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::routes())
        .merge(registry::routes())
        .merge(audit::routes())
        .merge(account::routes())
        .merge(users::routes())
        .merge(requests::routes())
        .merge(work::routes())
        .merge(campaigns::routes())
        .merge(connectivity::routes())
        .merge(incidents::routes())
        .merge(inventory::routes())
        .merge(records::routes())
        .merge(erasures::routes())
        .merge(contract_close::routes())
        .merge(vulns::routes())
}
