//! The JSON API under `/api/v1`, authenticated with `Authorization: Bearer TOKEN`.

use crate::AppState;
use axum::Router;

/// API routes.
pub fn routes(_state: AppState) -> Router<AppState> {
    Router::new()
}
