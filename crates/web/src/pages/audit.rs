//! (being written)

use crate::AppState;
use axum::Router;

/// Extra UI words of this area: (key, 日本語, English).
pub const TEXT: &[(&str, &str, &str)] = &[];

/// Routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
}
