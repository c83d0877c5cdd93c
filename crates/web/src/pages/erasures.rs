//! The erasure register page (消去記録, R11) and the administrator's full export.
//!
//! - `GET /erasures` — the register (everyone with [`Action::ViewErasures`]), the form to record an
//!   erasure (admin, SE: [`Action::RecordErasure`]) and, for the administrator, the full export.
//! - `POST /erasures` — records an erasure and freezes its 消去証明書 (PDF and XLSX) with their SHA-256.
//! - `GET /erasures/{id}/certificate.pdf|.xlsx` — the frozen certificate, audited by the store.
//! - `GET /erasures/export.zip` — every table, file and the verified audit chain as one ZIP
//!   ([`Action::ExportAll`], audited as `export.full`), written to a temporary file and streamed.

use crate::certificate::{certificate_bytes, file_response, freeze};
use crate::download::content_disposition;
use crate::page::{Ctx, PageMeta, render};
use crate::view::Opt;
use crate::{AppState, WebError};
use axum::Form;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use unyo_documents::Format;
use unyo_domain::erasure::{ErasureInput, ErasureMethod, ErasureScope};
use unyo_domain::{Action, DomainError, FieldError};
use unyo_store::StoreError;
use unyo_store::erasures::CertificateFile;

/// `/erasures` and its certificate downloads, and the full export.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/erasures", get(page).post(create))
        .route("/erasures/export.zip", get(export_zip))
        .route("/erasures/{id}/{file}", get(certificate))
}

/// One record as listed.
struct Row {
    id: i64,
    performed: String,
    scope: String,
    medium: String,
    method: String,
    operator: String,
    witness: String,
    verified: bool,
    sha: String,
}

#[derive(askama::Template)]
#[template(path = "erasures.html")]
struct ErasuresPage {
    page: PageMeta,
    rows: Vec<Row>,
    can_record: bool,
    can_export: bool,
    scopes: Vec<Opt>,
    methods: Vec<Opt>,
    f: ErasureInput,
    errors: Vec<String>,
    clear_note: &'static str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Params {
    ok: String,
}

async fn erasures_page(
    state: &AppState,
    ctx: &Ctx,
    f: ErasureInput,
    errors: Vec<String>,
) -> Result<ErasuresPage, WebError> {
    let meta = ctx.page(ctx.tr.pick("消去記録", "Erasure register"), "erasures");
    let rows = state
        .store
        .erasures(&ctx.actor())
        .await?
        .into_iter()
        .map(|e| Row {
            id: e.id,
            performed: meta.datetime(&e.performed_at),
            scope: ErasureScope::parse(&e.scope)
                .map_or(e.scope.clone(), |s| s.label_ja().to_string()),
            medium: format!("{}（{}）", e.medium, e.identifier),
            method: ErasureMethod::parse(&e.method)
                .map_or(e.method.clone(), |m| m.label_ja().to_string()),
            operator: e.operator,
            witness: e.witness,
            verified: e.verified,
            sha: e
                .certificate_pdf_sha256
                .map(|s| s.chars().take(16).collect())
                .unwrap_or_default(),
        })
        .collect();
    let role = ctx.user.role();
    Ok(ErasuresPage {
        page: meta,
        rows,
        can_record: role.allows(Action::RecordErasure),
        can_export: role.allows(Action::ExportAll),
        scopes: ErasureScope::ALL
            .iter()
            .map(|s| Opt::new(s.code(), s.label_ja(), f.scope == s.code()))
            .collect(),
        methods: ErasureMethod::ALL
            .iter()
            .map(|m| Opt::new(m.code(), m.label_ja(), f.method == m.code()))
            .collect(),
        f,
        errors,
        clear_note: unyo_domain::erasure::CLEAR_ON_FLASH_NOTE,
    })
}

/// `GET /erasures`.
async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(p): Query<Params>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewErasures)?;
    let mut v = erasures_page(&state, &ctx, ErasureInput::default(), Vec::new()).await?;
    if p.ok == "created" {
        v.page.flash = Some(ctx.tr.pick(
            "消去記録を登録し、消去証明書を作成しました。",
            "Recorded; the certificate was produced.",
        ));
    }
    Ok(render(&v)?.into_response())
}

/// The form: the input's fields, with the checkbox as `verified=on`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CreateForm {
    contract_id: String,
    scope: String,
    medium: String,
    identifier: String,
    capacity: String,
    target: String,
    method: String,
    tool: String,
    tool_version: String,
    performed_at: String,
    operator: String,
    witness: String,
    verification_method: String,
    verified: Option<String>,
    verification_result: String,
    note: String,
}

/// `POST /erasures`.
async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(f): Form<CreateForm>,
) -> Result<Response, WebError> {
    ctx.require(Action::RecordErasure)?;
    let input = ErasureInput {
        contract_id: f.contract_id.trim().parse().ok(),
        scope: f.scope,
        medium: f.medium,
        identifier: f.identifier,
        capacity: f.capacity,
        target: f.target,
        method: f.method,
        tool: f.tool,
        tool_version: f.tool_version,
        performed_at: f.performed_at,
        operator: f.operator,
        witness: f.witness,
        verification_method: f.verification_method,
        verified: f.verified.is_some(),
        verification_result: f.verification_result,
        note: f.note,
    };
    let refused = |errors: Vec<FieldError>| -> Vec<String> {
        errors.into_iter().map(|e| e.message).collect()
    };
    let draft = match input.validate(chrono::Utc::now()) {
        Ok(d) => d,
        Err(DomainError::Validation(errors)) => {
            let v = erasures_page(&state, &ctx, input, refused(errors)).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&v)?).into_response());
        }
        Err(e) => return Err(StoreError::Domain(e).into()),
    };
    let actor = ctx.actor();
    let e = state.store.create_erasure(&actor, &draft).await?;
    freeze(&state.store, &actor, &e).await?;
    Ok(Redirect::to("/erasures?ok=created").into_response())
}

/// `GET /erasures/{id}/certificate.pdf|.xlsx`.
async fn certificate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, WebError> {
    ctx.require(Action::ViewErasures)?;
    let id: i64 = id.trim().parse().map_err(|_| WebError::NotFound)?;
    let (kind, format) = match file.as_str() {
        "certificate.pdf" => (CertificateFile::Pdf, Format::Pdf),
        "certificate.xlsx" => (CertificateFile::Xlsx, Format::Xlsx),
        _ => return Err(WebError::NotFound),
    };
    let body = certificate_bytes(&state.store, &ctx.actor(), id, kind).await?;
    Ok(file_response(body, id, format))
}

/// A temporary directory or file removed when dropped (the export holds the whole database).
struct Scratch(std::path::PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.0.is_dir() {
            let _ = std::fs::remove_dir_all(&self.0);
        } else {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// Zips the export directory `dir` into `out`, every file under the folder `prefix`.
fn zip_dir(dir: &std::path::Path, out: &std::path::Path, prefix: &str) -> std::io::Result<()> {
    use std::io::Write;
    let file = std::fs::File::create(out)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                stack.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    let mut buf = vec![0u8; 256 * 1024];
    for path in files {
        let rel = path
            .strip_prefix(dir)
            .map_err(std::io::Error::other)?
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        zip.start_file(format!("{prefix}/{rel}"), options)
            .map_err(std::io::Error::other)?;
        let mut f = std::fs::File::open(&path)?;
        loop {
            let n = std::io::Read::read(&mut f, &mut buf)?;
            if n == 0 {
                break;
            }
            zip.write_all(&buf[..n])?;
        }
    }
    zip.finish().map_err(std::io::Error::other)?.flush()?;
    Ok(())
}

/// `GET /erasures/export.zip`: the full export (one snapshot) as a ZIP, streamed from a temporary file
/// that is removed once sent.
async fn export_zip(State(state): State<AppState>, ctx: Ctx) -> Result<Response, WebError> {
    ctx.require(Action::ExportAll)?;
    let tag = unyo_store::users::random_hex(8)?;
    let base = std::env::temp_dir();
    let dir = Scratch(base.join(format!("unyo-export-{tag}")));
    let zip_path = Scratch(base.join(format!("unyo-export-{tag}.zip")));
    let summary = state.store.export_all(&ctx.actor(), &dir.0).await?;
    let stamp = summary
        .manifest
        .created_at
        .chars()
        .filter(char::is_ascii_digit)
        .take(12)
        .collect::<String>();
    let prefix = format!("unyo-export-{stamp}");
    let (src, out, p) = (dir.0.clone(), zip_path.0.clone(), prefix.clone());
    tokio::task::spawn_blocking(move || zip_dir(&src, &out, &p))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::Internal(format!("zip: {e}")))?;
    drop(dir);
    let file = tokio::fs::File::open(&zip_path.0)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .len();
    // The scratch file travels with the stream and is removed when the stream ends or is dropped.
    let stream = futures_util::stream::unfold(
        (Some(file), zip_path, vec![0u8; 256 * 1024]),
        |(file, scratch, mut buf)| async move {
            use tokio::io::AsyncReadExt;
            let mut file = file?;
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    let chunk = bytes::Bytes::copy_from_slice(&buf[..n]);
                    Some((Ok::<_, std::io::Error>(chunk), (Some(file), scratch, buf)))
                }
                // The error ends the stream.
                Err(e) => Some((Err(e), (None, scratch, buf))),
            }
        },
    );
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(&format!("{prefix}.zip"), &format!("{prefix}.zip")),
    );
    if let Ok(v) = HeaderValue::from_str(&summary.manifest_sha256) {
        h.insert("x-export-sha256sums-sha256", v);
    }
    Ok(res)
}
