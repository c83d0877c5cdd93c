//! Server-rendered pages, one module per area.

pub mod account;
pub mod audit;
pub mod home;
pub mod registry;
pub mod users;

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
}
