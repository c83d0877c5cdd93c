//! Static files compiled into the binary and served from an allow-list (whatever is embedded).

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

/// `GET /static/{file}`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/static/{file}", get(serve))
        .route("/static/fonts/{file}", get(font))
}

/// `GET /static/fonts/{file}`: the documents' Japanese font, for browsers without one of their own. The
/// style sheet names it after the usual system fonts, so a browser that has those never fetches it.
async fn font(Path(file): Path<String>) -> Response {
    let data = match file.as_str() {
        "BIZUDPGothic-Regular.ttf" => unyo_report::FONT_REGULAR,
        "BIZUDPGothic-Bold.ttf" => unyo_report::FONT_BOLD,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, "font/ttf"),
            (header::CACHE_CONTROL, "public, max-age=604800"),
        ],
        data,
    )
        .into_response()
}

async fn serve(Path(file): Path<String>) -> Response {
    let Some(content) = Static::get(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = match file.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        content.data,
    )
        .into_response()
}
