//! Evidence attachments on support requests and work entries (screenshots, PDFs, logs).
//!
//! The content type is decided by sniffing the bytes, never by the file name: PNG, JPEG, GIF, PDF and plain
//! text (UTF-8, or CP932 as Japanese Windows writes logs and CSV) are accepted, anything else is refused. The
//! bytes are stored with their SHA-256 and size; every upload and every download is audited (R12: reads of
//! evidence are logged), and a download whose bytes no longer match the stored hash is refused.

use crate::audit::{AuditSink, NewAuditEntry};
use crate::kit::invalid;
use crate::{Actor, Result, Store, StoreError, now};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use unyo_domain::{Action, DomainError};

/// The largest file accepted: 10 MiB.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// The longest stored file name, in characters.
const MAX_FILENAME_CHARS: usize = 200;

/// Refusal of a file type, in Japanese.
pub const UNSUPPORTED_TYPE_MESSAGE: &str =
    "このファイル形式は添付できません（PNG・JPEG・GIF・PDF・テキストのみ）。";

/// An attachment without its bytes.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttachmentMeta {
    pub id: i64,
    /// `request` or `work`.
    pub owner_kind: String,
    pub owner_id: i64,
    /// The sanitised file name (Japanese kept; no path, no control characters).
    pub filename: String,
    /// Sniffed from the bytes: `image/png`, `image/jpeg`, `image/gif`, `application/pdf` or `text/plain`.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub uploaded_by_id: Option<i64>,
    /// Login name of the uploader.
    pub uploaded_by: String,
    pub created_at: String,
}

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    #[sqlx(flatten)]
    meta: AttachmentMeta,
    data: Vec<u8>,
}

const META_COLUMNS: &str = "id, owner_kind, owner_id, filename, content_type, size, sha256, uploaded_by_id, uploaded_by, created_at";

/// The content type of `bytes` by their signature, or `None` if the type is not accepted.
pub fn sniff_content_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if is_text(bytes) {
        Some("text/plain")
    } else {
        None
    }
}

/// Plain text: no NUL or other control bytes except tab, line breaks, form feed, ESC (colour codes in
/// logs) and the DOS end-of-file mark, and valid UTF-8 (BOM allowed) or well-formed CP932.
fn is_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let control =
        |c: u8| (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A | 0x1B)) || c == 0x7F;
    if body.iter().any(|&c| control(c)) {
        return false;
    }
    std::str::from_utf8(body).is_ok() || is_cp932(body)
}

/// Whether `b` is well-formed CP932 (Shift_JIS as Windows writes it): ASCII, half-width katakana, or a
/// lead byte (0x81–0x9F, 0xE0–0xFC) followed by a trail byte (0x40–0x7E, 0x80–0xFC).
fn is_cp932(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            0x00..=0x7F | 0xA1..=0xDF => i += 1,
            0x81..=0x9F | 0xE0..=0xFC => match b.get(i + 1) {
                Some(0x40..=0x7E | 0x80..=0xFC) => i += 2,
                _ => return false,
            },
            _ => return false,
        }
    }
    true
}

/// Characters that reorder or hide text (used to disguise `exe` as `gpj`), dropped from names.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// A safe file name: the last path component, without control and bidirectional-override characters,
/// with `<>:"|?*` replaced by `_`, no leading or trailing dots or spaces, at most 200 characters (the
/// extension kept). Japanese is kept. Empty results become `attachment`.
pub fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_invisible_format(*c))
        .map(|c| {
            if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        return "attachment".into();
    }
    if trimmed.chars().count() <= MAX_FILENAME_CHARS {
        return trimmed.to_string();
    }
    let (stem, ext) = match trimmed.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && e.chars().count() <= 16 => (s, Some(e)),
        _ => (trimmed, None),
    };
    let room = MAX_FILENAME_CHARS - ext.map_or(0, |e| e.chars().count() + 1);
    let mut out: String = stem.chars().take(room).collect();
    if let Some(e) = ext {
        out.push('.');
        out.push_str(e);
    }
    out
}

/// The table of an owner kind (from a fixed list), or a refusal.
fn owner_table(owner_kind: &str) -> Result<&'static str> {
    match owner_kind {
        "request" => Ok("requests"),
        "work" => Ok("work_entries"),
        "subcontract" => Ok("subcontracts"),
        "material" => Ok("provided_materials"),
        "staff" => Ok("staff_roster"),
        _ => Err(invalid("owner_kind", "添付先の種類が正しくありません。")),
    }
}

impl Store {
    /// Attaches a file to a request (`owner_kind = "request"`) or a work entry (`"work"`). Needs
    /// [`Action::UploadAttachment`]. Refuses empty files, files over 10 MiB, and types other than PNG, JPEG,
    /// GIF, PDF and text (decided from the bytes). Audited as `attachment.add`.
    pub async fn add_attachment(
        &self,
        actor: &Actor,
        owner_kind: &str,
        owner_id: i64,
        filename: &str,
        bytes: &[u8],
    ) -> Result<AttachmentMeta> {
        actor.require(Action::UploadAttachment)?;
        let table = owner_table(owner_kind)?;
        let Prepared {
            name,
            content_type,
            sha256,
            size,
        } = prepare(filename, bytes)?;
        let owner_sql = format!("SELECT id FROM {table} WHERE id = $1");
        let at = now();
        let id = write_tx!(self, |tx| {
            let owner: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(owner_sql))
                .bind(owner_id)
                .fetch_optional(&mut *tx)
                .await?;
            if owner.is_none() {
                return Err(
                    DomainError::NotFound(format!("添付先 {owner_kind} {owner_id}")).into(),
                );
            }
            let id: i64 = sqlx::query_scalar(INSERT_SQL)
                .bind(owner_kind)
                .bind(owner_id)
                .bind(&name)
                .bind(content_type)
                .bind(size)
                .bind(&sha256)
                .bind(bytes)
                .bind(actor.user_id)
                .bind(&actor.username)
                .bind(&at)
                .fetch_one(&mut *tx)
                .await?;
            tx.append_audit(
                &NewAuditEntry::new(actor, "attachment.add", "attachment", id).details(json!({
                    "owner": {"kind": owner_kind, "id": owner_id}, "filename": name,
                    "content_type": content_type, "sha256": sha256, "size": size,
                })),
            )
            .await?;
            id
        });
        self.attachment_meta(id).await
    }
}

/// Binds: owner kind, owner id, file name, content type, size, SHA-256, bytes, uploader id and name, time.
pub(crate) const INSERT_SQL: &str =
    "INSERT INTO attachments (owner_kind, owner_id, filename, content_type, size, sha256, data,
     uploaded_by_id, uploaded_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";

/// A file checked for attaching: its sanitised name, sniffed type, hash and size.
pub(crate) struct Prepared {
    pub name: String,
    pub content_type: &'static str,
    pub sha256: String,
    pub size: i64,
}

/// The checks of every attachment, before any transaction: not empty, at most 10 MiB, an accepted type by
/// its bytes, a name without personal identifiers.
pub(crate) fn prepare(filename: &str, bytes: &[u8]) -> Result<Prepared> {
    if bytes.is_empty() {
        return Err(invalid("file", "空のファイルは添付できません。"));
    }
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(invalid(
            "file",
            "添付できるファイルの大きさは10MBまでです。",
        ));
    }
    let content_type =
        sniff_content_type(bytes).ok_or_else(|| invalid("file", UNSUPPORTED_TYPE_MESSAGE))?;
    let name = sanitize_filename(filename);
    unyo_domain::pii::guard_free_text("filename", &name)
        .map_err(|e| DomainError::invalid("filename", e.message()))?;
    let sha256 = hex::encode(Sha256::digest(bytes));
    let size = i64::try_from(bytes.len()).map_err(StoreError::wrap)?;
    Ok(Prepared {
        name,
        content_type,
        sha256,
        size,
    })
}

impl Store {
    /// An attachment's description without its bytes (not audited: no evidence is read).
    pub async fn attachment_meta(&self, id: i64) -> Result<AttachmentMeta> {
        let sql = format!("SELECT {META_COLUMNS} FROM attachments WHERE id = $1");
        let row: Option<AttachmentMeta> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(db)
                .await?);
        row.ok_or_else(|| DomainError::NotFound(format!("添付ファイル {id}")).into())
    }

    /// Downloads an attachment. Needs [`Action::DownloadAttachment`]; audited as `attachment.download`
    /// before the bytes are handed out. Bytes that no longer match their SHA-256 are refused.
    pub async fn attachment(&self, actor: &Actor, id: i64) -> Result<(AttachmentMeta, Vec<u8>)> {
        actor.require(Action::DownloadAttachment)?;
        let sql = format!("SELECT {META_COLUMNS}, data FROM attachments WHERE id = $1");
        let row: Option<AttachmentRow> =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(db)
                .await?);
        let row = row.ok_or_else(|| DomainError::NotFound(format!("添付ファイル {id}")))?;
        if hex::encode(Sha256::digest(&row.data)) != row.meta.sha256 {
            return Err(StoreError::Internal(format!(
                "attachment {id}: stored bytes do not match their SHA-256"
            )));
        }
        let m = &row.meta;
        self.audit(
            NewAuditEntry::new(actor, "attachment.download", "attachment", id).details(json!({
                "owner": {"kind": m.owner_kind, "id": m.owner_id}, "filename": m.filename,
                "sha256": m.sha256, "size": m.size,
            })),
        )
        .await?;
        Ok((row.meta, row.data))
    }

    /// The attachments of a request (`"request"`) or work entry (`"work"`), oldest first.
    pub async fn attachments_of(
        &self,
        owner_kind: &str,
        owner_id: i64,
    ) -> Result<Vec<AttachmentMeta>> {
        owner_table(owner_kind)?;
        let sql = format!(
            "SELECT {META_COLUMNS} FROM attachments WHERE owner_kind = $1 AND owner_id = $2 ORDER BY id"
        );
        read_db!(self, |db| Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner_kind)
            .bind(owner_id)
            .fetch_all(db)
            .await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(
            sniff_content_type(b"\x89PNG\r\n\x1a\n\0\0"),
            Some("image/png")
        );
        assert_eq!(
            sniff_content_type(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some("image/jpeg")
        );
        assert_eq!(sniff_content_type(b"GIF89a\x01\0"), Some("image/gif"));
        assert_eq!(sniff_content_type(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(
            sniff_content_type("ログ 正常終了\r\n".as_bytes()),
            Some("text/plain")
        );
        assert_eq!(
            sniff_content_type(b"\xEF\xBB\xBFa,b\r\n"),
            Some("text/plain")
        );
        // CP932: 「正常」 = 90 B3 8F ED.
        assert_eq!(
            sniff_content_type(b"\x90\xB3\x8F\xED\r\n"),
            Some("text/plain")
        );
        assert_eq!(sniff_content_type(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(sniff_content_type(b"\x7fELF\x02\x01"), None);
        assert_eq!(sniff_content_type(b"PK\x03\x04\x14\0"), None);
        assert_eq!(
            sniff_content_type(b"\xFF\xFE a\0b\0"),
            None,
            "UTF-16 has NULs"
        );
        assert_eq!(sniff_content_type(b"\x90"), None, "truncated CP932");
        assert_eq!(sniff_content_type(b""), None);
    }

    #[test]
    fn filenames() {
        assert_eq!(
            sanitize_filename("C:\\Users\\se\\作業結果.png"),
            "作業結果.png"
        );
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("a\u{0}b\r\n.txt"), "ab.txt");
        assert_eq!(sanitize_filename("報告\u{202E}gnp.exe"), "報告gnp.exe");
        assert_eq!(sanitize_filename("what?.pdf"), "what_.pdf");
        assert_eq!(sanitize_filename(" .. "), "attachment");
        assert_eq!(sanitize_filename(".htaccess"), "htaccess");
        let long = format!("{}.pdf", "あ".repeat(300));
        let s = sanitize_filename(&long);
        assert_eq!(s.chars().count(), 200);
        assert!(s.ends_with(".pdf"));
    }
}
