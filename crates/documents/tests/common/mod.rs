//! Shared by the document tests: the demo year loaded for a fixed day, and the tools that open the
//! produced files for real (calamine for the XLSX, poppler's pdftotext/pdftoppm for the PDF).
#![allow(dead_code)]

use calamine::{Data, Range, Reader, Xlsx};
use chrono::NaiveDate;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use unyo_store::testing::{TestDb, test_store};

/// The fixed "today" of the demo: the data depends only on it.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).expect("date")
}

/// The demo fleet, the fiscal year 2026 up to [`today`] and its incidents, on a fresh store.
pub async fn demo() -> (TestDb, unyo_demo::YearSummary) {
    let db = test_store().await.expect("store");
    unyo_demo::load_fleet(&db.store).await.expect("fleet");
    let year = unyo_demo::load_year(&db.store, today())
        .await
        .expect("year");
    unyo_demo::load_incidents(&db.store, today())
        .await
        .expect("incidents");
    (db, year)
}

fn e2e_required() -> bool {
    std::env::var("UNYO_E2E").is_ok_and(|v| v == "1")
}

/// Whether a poppler tool can be run; panics when it cannot but UNYO_E2E=1 demands it.
pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("-v").output().is_ok();
    if !ok {
        assert!(
            !e2e_required(),
            "{tool} is missing but UNYO_E2E=1: install poppler-utils"
        );
        eprintln!(
            "SKIPPED: {tool} (poppler-utils) is not installed; PDF text/image checks did not run"
        );
    }
    ok
}

/// Where files for people to look at go (`artifacts/records/`, ignored by git like the rest).
pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../artifacts/records");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// Writes `bytes` as `artifacts/records/{name}`.
pub fn keep(name: &str, bytes: &[u8]) -> PathBuf {
    let path = artifacts().join(name);
    std::fs::write(&path, bytes).expect("write artifact");
    path
}

/// The text of each page (`pdftotext -layout`, split at form feeds).
pub fn pdf_pages(path: &Path) -> Vec<String> {
    let out = Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext");
    assert!(out.status.success(), "pdftotext failed");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// Text without whitespace (pdftotext spaces CJK text out in layout mode).
pub fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Page images at 70 dpi as `artifacts/records/{stem}-N.png`, for people to look at. Returns how many.
pub fn page_images(pdf: &Path, stem: &str) -> usize {
    let dir = artifacts();
    for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with(&format!("{stem}-")) && name.ends_with(".png") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let status = Command::new("pdftoppm")
        .args(["-r", "70", "-png"])
        .arg(pdf)
        .arg(dir.join(stem))
        .status()
        .expect("pdftoppm");
    assert!(status.success(), "pdftoppm failed");
    std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .filter(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            n.starts_with(&format!("{stem}-")) && n.ends_with(".png")
        })
        .count()
}

/// The workbook.
pub fn workbook(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    Xlsx::new(Cursor::new(bytes.to_vec())).expect("a readable XLSX")
}

/// A sheet's cells.
pub fn sheet(bytes: &[u8], name: &str) -> Range<Data> {
    workbook(bytes)
        .worksheet_range(name)
        .unwrap_or_else(|e| panic!("sheet {name}: {e}"))
}

/// The text of a cell (numbers as Rust prints them).
pub fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// The position of the first cell holding exactly `wanted`.
pub fn find(range: &Range<Data>, wanted: &str) -> Option<(usize, usize)> {
    range.rows().enumerate().find_map(|(r, row)| {
        row.iter()
            .position(|c| matches!(c, Data::String(s) if s == wanted))
            .map(|c| (r, c))
    })
}

/// The value right of a label in a key/value block (the first non-empty cell after it).
pub fn value_of(range: &Range<Data>, label: &str) -> Option<String> {
    let (r, c) = find(range, label)?;
    range
        .rows()
        .nth(r)?
        .iter()
        .skip(c + 1)
        .map(text)
        .find(|s| !s.is_empty())
}

/// The text in content order (`pdftotext -raw`): a table cell's wrapped lines stay together, unlike
/// `-layout`, which interleaves the lines of neighbouring cells.
pub fn pdf_raw_text(path: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-raw")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext");
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The demo loader's desk for monthly records: the documents' own submit and confirm, as the
/// 業務実績簿 page and `unyo demo` use them.
pub struct Desk;

impl unyo_demo::RecordDesk for Desk {
    async fn submit(
        &self,
        store: &unyo_store::Store,
        actor: &unyo_store::Actor,
        contract_id: i64,
        month: unyo_domain::records::Month,
        on: NaiveDate,
    ) -> unyo_store::Result<i64> {
        unyo_documents::submit_monthly(store, actor, contract_id, month, on)
            .await
            .map(|r| r.id)
            .map_err(Into::into)
    }

    async fn confirm(
        &self,
        store: &unyo_store::Store,
        actor: &unyo_store::Actor,
        record_id: i64,
        on: NaiveDate,
    ) -> unyo_store::Result<()> {
        unyo_documents::confirm_monthly(store, actor, record_id, on)
            .await
            .map(|_| ())
            .map_err(Into::into)
    }
}
