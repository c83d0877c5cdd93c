//! `POST /requests/{id}/attachments` (upload evidence) and `GET /attachments/{id}` (download, audited by
//! the store; serves request and work-entry attachments alike).

use super::detail::{Outcome, detail_page};
use super::parse_id;
use crate::page::Ctx;
use crate::{AppState, WebError};
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use unyo_domain::{Action, DomainError};
use unyo_store::StoreError;

/// `POST /requests/{id}/attachments` (multipart `file`; `_csrf` was checked by the guard). A refused file
/// (empty, too big, a type not on the list) re-renders the request page with 422 and the reason.
pub(super) async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    ctx.require(Action::UploadAttachment)?;
    let id = parse_id(&id)?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(format!("アップロードを読み取れませんでした: {e}"))
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or_default().to_string();
            let bytes = field.bytes().await.map_err(bad)?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let failed = |message: String| Outcome {
        status: Some(StatusCode::UNPROCESSABLE_ENTITY),
        upload_error: message,
        ..Default::default()
    };
    let Some((name, bytes)) = file.filter(|(n, b)| !(n.is_empty() && b.is_empty())) else {
        // Make sure the request exists before talking about the file.
        state
            .store
            .request(id, unyo_store::support::jst_today())
            .await?;
        let o = failed(ctx.tr.t("requests.upload_none").to_string());
        return detail_page(&state, &ctx, id, None, o).await;
    };
    match state
        .store
        .add_attachment(&ctx.actor(), "request", id, &name, &bytes)
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/requests/{id}?ok=saved#attachments-heading")).into_response(),
        ),
        Err(StoreError::Domain(DomainError::Validation(fields))) => {
            let reasons = fields
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
                .join(" ");
            let shown = unyo_store::attachments::sanitize_filename(&name);
            let message = format!("{shown}: {reasons}");
            detail_page(&state, &ctx, id, None, failed(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /attachments/{id}`: the bytes as a download, never rendered inline. The store audits the read
/// before handing the bytes out.
pub(super) async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    ctx.require(Action::DownloadAttachment)?;
    let id = parse_id(&id)?;
    let (meta, bytes) = state.store.attachment(&ctx.actor(), id).await?;
    let content_type = served_type(&meta.content_type, &bytes);
    let mut res = (StatusCode::OK, bytes).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&meta.filename)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The `Content-Type` to serve: the sniffed type; text is declared UTF-8 only when it is, and other text
/// (CP932 logs) goes out as opaque bytes rather than with a guessed charset.
fn served_type(sniffed: &str, bytes: &[u8]) -> &'static str {
    match sniffed {
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        "image/gif" => "image/gif",
        "application/pdf" => "application/pdf",
        "text/plain" if std::str::from_utf8(bytes).is_ok() => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 / RFC 8187).
fn content_disposition(filename: &str) -> String {
    format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(filename),
        percent_encode(filename)
    )
}

/// An ASCII stand-in for old clients: other characters, quotes, backslashes and controls become `_`;
/// a name that is nothing but stand-ins keeps only its extension.
fn ascii_fallback(filename: &str) -> String {
    let mapped: String = filename
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let (stem, ext) = match mapped.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (mapped.clone(), String::new()),
    };
    if stem.chars().all(|c| c == '_' || c == ' ') {
        format!("attachment{ext}")
    } else {
        mapped
    }
}

/// RFC 8187 `value-chars`: `attr-char` kept, every other byte of the UTF-8 as `%XX`.
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition() {
        assert_eq!(
            content_disposition("作業結果.png"),
            "attachment; filename=\"attachment.png\"; filename*=UTF-8''%E4%BD%9C%E6%A5%AD%E7%B5%90%E6%9E%9C.png"
        );
        assert_eq!(
            content_disposition("log \"1\".txt"),
            "attachment; filename=\"log _1_.txt\"; filename*=UTF-8''log%20%221%22.txt"
        );
        assert_eq!(ascii_fallback("報告_v2.pdf"), "___v2.pdf");
    }

    #[test]
    fn types() {
        assert_eq!(
            served_type("text/plain", "ログ".as_bytes()),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            served_type("text/plain", b"\x90\xB3\x8F\xED"),
            "application/octet-stream"
        );
        assert_eq!(served_type("image/png", b"\x89PNG"), "image/png");
        assert_eq!(
            served_type("application/x-evil", b""),
            "application/octet-stream"
        );
    }
}
