//! The 消去証明書 (erasure certificate) of a register record as a file: laid out, frozen and served. Shared by
//! the erasure page and the API, so neither depends on the other.

use crate::download::content_disposition;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use unyo_documents::{Format, erasure_certificate, erasure_certificate_file_name, render_blocking};
use unyo_store::erasures::{CertificateFile, Erasure};
use unyo_store::support::jst_today;
use unyo_store::{Actor, Store, StoreError};

/// The certificate file of record `id`: the frozen one, or laid out from the stored record and frozen
/// now when none is yet (the record cannot change once frozen, so the first file stays the certificate).
pub(crate) async fn certificate_bytes(
    store: &Store,
    actor: &Actor,
    id: i64,
    file: CertificateFile,
) -> Result<Vec<u8>, StoreError> {
    if let Some(bytes) = store.erasure_certificate(actor, id, file).await? {
        return Ok(bytes);
    }
    let e = store.erasure(actor, id).await?;
    freeze(store, actor, &e).await?;
    store
        .erasure_certificate(actor, id, file)
        .await?
        .ok_or_else(|| StoreError::Internal(format!("erasure certificate {id} not frozen")))
}

/// Lays out and freezes the certificate of `e`.
pub(crate) async fn freeze(
    store: &Store,
    actor: &Actor,
    e: &Erasure,
) -> Result<Erasure, StoreError> {
    let render_err = |e: unyo_documents::DocumentError| StoreError::Internal(e.to_string());
    let doc = erasure_certificate(e, jst_today());
    let pdf = render_blocking(doc.clone(), Format::Pdf)
        .await
        .map_err(render_err)?;
    let xlsx = render_blocking(doc, Format::Xlsx)
        .await
        .map_err(render_err)?;
    store
        .freeze_erasure_certificate(actor, e.id, &pdf, &xlsx)
        .await
}

/// The certificate as a download named 消去証明書_No.N.pdf.
pub(crate) fn file_response(body: Vec<u8>, id: i64, format: Format) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        content_disposition(
            &format!("erasure_certificate_{id}.{}", format.ext()),
            &erasure_certificate_file_name(id, format.ext()),
        ),
    );
    res
}
