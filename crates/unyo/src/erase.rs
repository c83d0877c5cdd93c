//! `unyo erase`: unyo erasing its own data directory after a verified export (R11).
//!
//! It refuses unless `--export DIR` names an export whose `SHA256SUMS` verifies and which this database
//! recorded making with nothing written since (so nothing is lost). It samples marker strings from the
//! data, closes the database, lists every file with its size and SHA-256, then overwrites each file's
//! full length with random bytes, writes it through to the device (fsync), truncates and removes it,
//! removes the directories, and verifies that nothing is left and no marker can be found in anything
//! that is. The certificate (PDF, and XLSX beside it) is written outside the erased directory.
//!
//! Overwriting is NIST SP 800-88 "Clear"; on flash storage remapped and spare blocks are not reached,
//! so "Purge" needs the data on an encrypted volume whose key is destroyed. The certificate says so.

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use unyo_documents::{ErasedFile, SelfErasure};
use unyo_store::Store;
use unyo_store::export::{erasure_markers, export_is_current, read_manifest, verify_export_dir};

/// What the operator asked for.
pub struct EraseRequest {
    /// The data directory to erase.
    pub data_dir: PathBuf,
    /// The certificate PDF to write (outside the data directory); the XLSX goes beside it.
    pub certificate: PathBuf,
    /// The export made just before.
    pub export: PathBuf,
    /// Who erases.
    pub operator: String,
    /// Who witnesses (may be empty).
    pub witness: String,
}

fn jst_now() -> chrono::NaiveDateTime {
    unyo_domain::time::to_jst(chrono::Utc::now())
}

/// `true` when `inner` is `outer` or lies inside it (both made absolute first).
fn is_within(inner: &Path, outer: &Path) -> bool {
    inner.starts_with(outer)
}

/// An absolute form of a path that may not exist yet (its parent must).
fn absolute(p: &Path) -> Result<PathBuf> {
    if p.exists() {
        return p
            .canonicalize()
            .with_context(|| format!("resolving {}", p.display()));
    }
    let parent = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = p
        .file_name()
        .with_context(|| format!("{} has no file name", p.display()))?;
    Ok(parent
        .canonicalize()
        .with_context(|| format!("resolving {}", parent.display()))?
        .join(name))
}

/// Every file under `dir` (relative paths) and every directory (deepest first).
fn walk(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))? {
            let entry = entry?;
            let ty = entry.file_type()?;
            let path = entry.path();
            if ty.is_dir() {
                stack.push(path.clone());
                dirs.push(path);
            } else {
                // Symbolic links are removed, never followed: what they point to is not ours.
                files.push(path);
            }
        }
    }
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    files.sort();
    Ok((files, dirs))
}

fn sha256_and_markers(path: &Path, markers: &[String], found: &mut [bool]) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    for (m, f) in markers.iter().zip(found.iter_mut()) {
        if !*f && memfind(&bytes, m.as_bytes()) {
            *f = true;
        }
    }
    Ok(hex_sha(&bytes))
}

fn hex_sha(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Overwrites the whole file with random bytes, writes it through, truncates it and removes it.
fn overwrite_and_remove(path: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_file() {
        let len = meta.len();
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("opening {} for overwriting", path.display()))?;
        let mut buf = vec![0u8; 1 << 20];
        let mut left = len;
        while left > 0 {
            let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            getrandom::fill(&mut buf[..n]).map_err(|e| anyhow::anyhow!("random bytes: {e}"))?;
            f.write_all(&buf[..n])
                .with_context(|| format!("overwriting {}", path.display()))?;
            left -= n as u64;
        }
        f.sync_all()
            .with_context(|| format!("writing {} through", path.display()))?;
        f.set_len(0)?;
        f.sync_all()?;
    }
    std::fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    Ok(())
}

/// Runs the erasure and writes the certificate. Returns whether verification passed.
pub async fn erase(req: &EraseRequest) -> Result<bool> {
    let data_dir = req
        .data_dir
        .canonicalize()
        .with_context(|| format!("data directory {}", req.data_dir.display()))?;
    if !data_dir.join("unyo.db").is_file() {
        bail!(
            "{} holds no unyo database (unyo.db); nothing erased",
            data_dir.display()
        );
    }
    let certificate = absolute(&req.certificate)?;
    let export = req
        .export
        .canonicalize()
        .with_context(|| format!("export {}", req.export.display()))?;
    if is_within(&certificate, &data_dir) || is_within(&export, &data_dir) {
        bail!("the certificate and the export must lie outside the directory being erased");
    }
    if certificate.exists() {
        bail!(
            "{} already exists; choose a new file",
            certificate.display()
        );
    }
    let xlsx_path = certificate.with_extension("xlsx");

    let manifest_sha = verify_export_dir(&export).context("verifying the export")?;
    let manifest = read_manifest(&export)?;
    let store = Store::open_data_dir(&data_dir).await?;
    if let Err(why) = export_is_current(&store, &manifest, &manifest_sha).await? {
        store.close().await;
        bail!("refusing to erase: {why}");
    }
    let markers = erasure_markers(&store).await?;
    store.close().await;

    let started_at = jst_now();
    let (paths, dirs) = walk(&data_dir)?;
    let mut before = vec![false; markers.len()];
    let mut files = Vec::with_capacity(paths.len());
    for p in &paths {
        let size = std::fs::symlink_metadata(p)?.len();
        let sha256 = sha256_and_markers(p, &markers, &mut before)?;
        let rel = p.strip_prefix(&data_dir).unwrap_or(p);
        files.push(ErasedFile {
            path: rel.to_string_lossy().replace('\\', "/"),
            size,
            sha256,
        });
    }
    let seen_before = before.iter().filter(|f| **f).count();
    // Renders the certificate once before anything is erased, so a failure cannot leave an erasure
    // without its certificate.
    let preview = SelfErasure {
        directory: req.data_dir.display().to_string(),
        started_at,
        finished_at: started_at,
        operator: req.operator.clone(),
        witness: req.witness.clone(),
        export_manifest_sha256: manifest_sha.clone(),
        tool: String::new(),
        files: files.clone(),
        directories: dirs.len() + 1,
        markers: markers.len(),
        verified: false,
        verification_result: String::new(),
    };
    let preview = unyo_documents::self_erasure_certificate(&preview);
    for format in [unyo_documents::Format::Pdf, unyo_documents::Format::Xlsx] {
        unyo_documents::render(&preview, format)
            .map_err(|e| anyhow::anyhow!("rendering the certificate (nothing erased): {e}"))?;
    }
    if xlsx_path.exists() {
        bail!("{} already exists; choose a new file", xlsx_path.display());
    }

    for p in &paths {
        overwrite_and_remove(p)?;
    }
    for d in &dirs {
        std::fs::remove_dir(d).with_context(|| format!("removing {}", d.display()))?;
    }
    std::fs::remove_dir(&data_dir).with_context(|| format!("removing {}", data_dir.display()))?;
    if let Some(parent) = data_dir.parent()
        && let Ok(d) = std::fs::File::open(parent)
    {
        // Makes the removal of the directory entry durable too.
        let _ = d.sync_all();
    }

    // Verify: nothing left where the data was, and no marker in anything that is.
    let mut left = Vec::new();
    let mut after = vec![false; markers.len()];
    if data_dir.exists() {
        let (rest, _) = walk(&data_dir)?;
        for p in &rest {
            let mut bytes = Vec::new();
            std::fs::File::open(p)?.read_to_end(&mut bytes)?;
            for (m, f) in markers.iter().zip(after.iter_mut()) {
                *f |= memfind(&bytes, m.as_bytes());
            }
            left.push(p.display().to_string());
        }
    }
    let found_after = after.iter().filter(|f| **f).count();
    let verified = !data_dir.exists() && left.is_empty() && found_after == 0;
    let result = if verified {
        format!(
            "フォルダは削除され、ファイルは残っていない。消去前に {} ファイル中で見つかった目印 {}/{} 件は、消去後どこにも見つからない。",
            files.len(),
            seen_before,
            markers.len()
        )
    } else {
        format!(
            "残ったファイル {} 件、見つかった目印 {} 件: {}",
            left.len(),
            found_after,
            left.join("、")
        )
    };
    let finished_at = jst_now();
    let cert = SelfErasure {
        directory: req.data_dir.display().to_string(),
        started_at,
        finished_at,
        operator: req.operator.clone(),
        witness: req.witness.clone(),
        export_manifest_sha256: manifest_sha,
        tool: format!("unyo {} (unyo erase)", env!("CARGO_PKG_VERSION")),
        files,
        directories: dirs.len() + 1,
        markers: markers.len(),
        verified,
        verification_result: result,
    };
    let doc = unyo_documents::self_erasure_certificate(&cert);
    let pdf = unyo_documents::render(&doc, unyo_documents::Format::Pdf)
        .map_err(|e| anyhow::anyhow!("rendering the certificate: {e}"))?;
    let xlsx = unyo_documents::render(&doc, unyo_documents::Format::Xlsx)
        .map_err(|e| anyhow::anyhow!("rendering the certificate: {e}"))?;
    write_new(&certificate, &pdf)?;
    write_new(&xlsx_path, &xlsx)?;
    println!(
        "erased {} files ({} bytes) in {}; verification {}",
        cert.files.len(),
        cert.files.iter().map(|f| f.size).sum::<u64>(),
        req.data_dir.display(),
        if verified { "passed" } else { "FAILED" }
    );
    println!(
        "certificate: {} (SHA-256 {}), {}",
        certificate.display(),
        hex_sha(&pdf),
        xlsx_path.display()
    );
    Ok(verified)
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}
