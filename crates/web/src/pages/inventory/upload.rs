//! `GET|POST /inventory/upload`: inventory files (FusionInventory XML or GLPI-agent JSON, plain or
//! compressed), one or several, each parsed, matched and stored on its own.

use super::matched_label;
use crate::page::{Ctx, PageMeta, render};
use crate::{AppState, WebError};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use unyo_domain::Action;
use unyo_store::inventory::{InventorySource, Submitter, body_digest};

/// The outcome of one file.
pub(super) struct FileResult {
    name: String,
    ok: bool,
    text: String,
    href: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "inventory_upload.html")]
struct UploadPage {
    page: PageMeta,
    results: Vec<FileResult>,
    error: String,
}

fn respond(status: StatusCode, p: &UploadPage) -> Result<Response, WebError> {
    Ok((status, render(p)?).into_response())
}

/// `GET /inventory/upload`.
pub(super) async fn form(ctx: Ctx) -> Result<Response, WebError> {
    ctx.require(Action::ImportInventory)?;
    let p = UploadPage {
        page: ctx.page(ctx.tr.t("inventory.upload"), "inventory"),
        results: Vec::new(),
        error: String::new(),
    };
    respond(StatusCode::OK, &p)
}

/// `POST /inventory/upload` (multipart: one or more `file` fields; `_csrf` was checked by the guard).
pub(super) async fn submit(
    State(state): State<AppState>,
    ctx: Ctx,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    ctx.require(Action::ImportInventory)?;
    let tr = ctx.tr;
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!("アップロードを読み取れませんでした: {e}"))
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(bad)?;
            if !(name.is_empty() && bytes.is_empty()) {
                files.push((name, bytes.to_vec()));
            }
        }
    }
    let mut p = UploadPage {
        page: ctx.page(tr.t("inventory.upload"), "inventory"),
        results: Vec::new(),
        error: String::new(),
    };
    if files.is_empty() {
        p.error = tr.t("inventory.no_file").into();
        return respond(StatusCode::UNPROCESSABLE_ENTITY, &p);
    }
    let by = Submitter::Person(ctx.actor());
    let mut all_ok = true;
    for (name, bytes) in files {
        let snapshot = match unyo_inventory::parse_any(&bytes) {
            Ok(s) => s,
            Err(e) => {
                all_ok = false;
                p.results.push(FileResult {
                    name,
                    ok: false,
                    text: format!("{}{e}", tr.pick("取り込めません: ", "Refused: ")),
                    href: None,
                });
                continue;
            }
        };
        let (sha, size) = body_digest(&bytes);
        let outcome = state
            .store
            .store_inventory(&by, &snapshot, &sha, size, InventorySource::Upload)
            .await?;
        let host = snapshot.hostname.clone().unwrap_or_else(|| "—".into());
        let (text, href) = match outcome.terminal_id {
            Some(t) => (
                format!(
                    "{host}: {}（{}）",
                    tr.pick("端末に紐付けました", "matched to the terminal"),
                    matched_label(tr, outcome.matched_by.code())
                ),
                Some(format!("/inventory/terminals/{t}")),
            ),
            None => (
                format!(
                    "{host}: {}",
                    if outcome.review_reason.as_deref() == Some("ambiguous") {
                        tr.pick(
                            "複数の端末が該当するため照合待ちにしました",
                            "several terminals match: waiting for review",
                        )
                    } else {
                        tr.pick(
                            "該当する端末がないため照合待ちにしました",
                            "no terminal matches: waiting for review",
                        )
                    }
                ),
                Some(format!("/inventory/review#review-{}", outcome.inventory_id)),
            ),
        };
        p.results.push(FileResult {
            name,
            ok: true,
            text,
            href,
        });
    }
    let status = if all_ok {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    respond(status, &p)
}
