//! End-to-end: render documents, then open the files for real (pdftotext/pdfinfo/pdftoppm from
//! poppler-utils, calamine and the zip itself for the XLSX) and check what a reader would see.

mod common;

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use calamine::{Data, DataType, Reader, Xlsx};
use common::*;
use unyo_report::{
    Block, Cell, Column, Document, ReportError, Section, Table, missing_glyphs, render_pdf,
    render_xlsx,
};

// ---- helpers -------------------------------------------------------------------------------------

fn e2e_required() -> bool {
    std::env::var("UNYO_E2E").is_ok_and(|v| v == "1")
}

/// Whether a poppler tool can be run; panics when it cannot but UNYO_E2E=1 demands it.
fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("-v").output().is_ok();
    if !ok {
        assert!(
            !e2e_required(),
            "{tool} is missing but UNYO_E2E=1: install poppler-utils"
        );
        eprintln!(
            "SKIPPED: {tool} (poppler-utils) is not installed, so the PDF text/image checks did not run; \
             set UNYO_E2E=1 to make this a failure"
        );
    }
    ok
}

fn scratch(name: &str) -> PathBuf {
    // Cargo's scratch directory for integration tests (inside the target directory).
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("unyo-report-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Where page images go for people to look at (ignored by git like the rest of artifacts/).
fn artifacts(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../artifacts/report")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_pdf(pdf: &[u8], name: &str) -> PathBuf {
    let path = scratch(name).join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    path
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run poppler tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The text of each page (`pdftotext -layout`, pages split at form feeds).
fn pdf_pages(path: &Path) -> Vec<String> {
    let text = run(Command::new("pdftotext").arg("-layout").arg(path).arg("-"));
    let mut pages: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// Page sizes in points, e.g. (595.28, 841.89) for A4 portrait.
fn page_sizes(path: &Path) -> Vec<(f64, f64)> {
    let info = run(Command::new("pdfinfo")
        .args(["-f", "1", "-l", "9999"])
        .arg(path));
    info.lines()
        .filter(|l| l.starts_with("Page") && l.contains("size:"))
        .map(|l| {
            let dims = l.split("size:").nth(1).unwrap().trim();
            let mut it = dims.split_whitespace();
            let w: f64 = it.next().unwrap().parse().unwrap();
            let _x = it.next();
            let h: f64 = it.next().unwrap().parse().unwrap();
            (w, h)
        })
        .collect()
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn assert_a4(sizes: &[(f64, f64)], landscape: bool) {
    assert!(!sizes.is_empty());
    for &(w, h) in sizes {
        let (w, h) = if landscape { (h, w) } else { (w, h) };
        assert!(
            (w - 595.28).abs() < 1.0 && (h - 841.89).abs() < 1.0,
            "not A4: {w} x {h}"
        );
    }
}

fn xlsx(bytes: &[u8]) -> Xlsx<Cursor<Vec<u8>>> {
    Xlsx::new(Cursor::new(bytes.to_vec())).expect("a readable XLSX")
}

fn zip_text(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    let mut out = String::new();
    archive
        .by_name(name)
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

fn find(range: &calamine::Range<Data>, wanted: &str) -> Option<(usize, usize)> {
    range.rows().enumerate().find_map(|(r, row)| {
        row.iter()
            .position(|c| matches!(c, Data::String(s) if s == wanted))
            .map(|c| (r, c))
    })
}

// ---- PDF -----------------------------------------------------------------------------------------

#[test]
fn sample_pdf_has_japanese_text_wareki_totals_page_numbers_and_repeated_headers() {
    let rows = 60;
    let doc = sample_document(rows);
    let started = Instant::now();
    let pdf = render_pdf(&doc).expect("render");
    eprintln!(
        "sample PDF ({rows} rows): {} bytes in {:?}",
        pdf.len(),
        started.elapsed()
    );
    assert!(pdf.starts_with(b"%PDF"), "not a PDF");
    if !have("pdftotext") {
        return;
    }
    let path = write_pdf(&pdf, "sample");
    let pages = pdf_pages(&path);
    let n = pages.len();
    assert!(n >= 3, "60 rows and a chart should take 3+ pages, got {n}");
    let all = pages.join("\n");
    let flat = squash(&all);
    for expected in [
        "業務実績簿",
        "令和8年5月分",
        "〇〇県総務部市町村課長",
        "株式会社サンプル情報システム",
        "住民基本台帳ネットワークシステム運用支援業務",
        "提出日",
        "令和8年6月10日",
        "令和8年5月1日",
        "令和元年5月1日",
        "①定期保守",
        "⑤その他",
        "髙橋花子",
        "異常なし。",
        "月別・区分別作業件数",
        "確認欄",
        "確認者（県）",
        "業務実績簿令和8年5月分第1版",
    ] {
        assert!(flat.contains(&squash(expected)), "missing {expected:?}");
    }
    // Totals: 60 entries × 1.5 h.
    assert!(flat.contains("合計60件"), "totals row missing");
    assert!(all.contains("90.0"), "total hours missing");
    // "1 / N" … "N / N" in the footers, one per page.
    for (i, page) in pages.iter().enumerate() {
        // pdftotext drops the narrow spaces around the slash of "1 / N".
        let label = format!("{}/{n}", i + 1);
        assert!(
            squash(page).contains(&label),
            "page {} lacks {label:?}",
            i + 1
        );
    }
    // The table header is repeated on every page that carries work rows.
    let table_pages: Vec<&String> = pages
        .iter()
        .filter(|p| p.contains("統合端末のOS更新適用"))
        .collect();
    assert!(table_pages.len() >= 2, "the table should span pages");
    for page in table_pages {
        for header in ["作業内容", "場所・端末", "作業者"] {
            assert!(page.contains(header), "a table page lacks header {header}");
        }
    }
    assert_a4(&page_sizes(&path), false);

    // Page images, for people to look at.
    let dir = artifacts("sample");
    run(Command::new("pdftoppm")
        .args(["-r", "60", "-png"])
        .arg(&path)
        .arg(dir.join("page")));
    let images = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(images, n, "one image per page in {}", dir.display());
    std::fs::copy(&path, dir.join("sample.pdf")).unwrap();
}

#[test]
fn typst_markup_in_data_is_shown_literally_and_changes_nothing() {
    let make = |text: &str| {
        let mut doc = Document::new(format!("注入試験 {text}"));
        doc.subtitle = Some(text.to_string());
        doc.meta = vec![(text.to_string(), text.to_string())];
        doc.footer_note = Some(text.to_string());
        doc.sections = vec![
            Section::new(text)
                .push(Block::Paragraph(text.to_string()))
                .push(Block::Subheading(text.to_string()))
                .push(Block::Table(
                    Table::new(vec![Column::left(text, 170.0)])
                        .caption(text)
                        .row(vec![Cell::text(text)])
                        .totals(vec![Cell::text(text)]),
                )),
        ];
        doc
    };
    let plain: String = INJECTION
        .chars()
        .map(|c| if c.is_ascii_punctuation() { 'a' } else { c })
        .collect();
    let injected = render_pdf(&make(INJECTION)).expect("markup in data must not break the render");
    let reference = render_pdf(&make(&plain)).expect("render");
    let xlsx_bytes = render_xlsx(&make(INJECTION)).expect("render xlsx");
    let mut book = xlsx(&xlsx_bytes);
    let sheet = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&sheet).unwrap();
    assert!(
        find(&range, INJECTION).is_some(),
        "the XLSX keeps the string as is"
    );

    if !have("pdftotext") {
        return;
    }
    let injected_path = write_pdf(&injected, "injected");
    let reference_path = write_pdf(&reference, "reference");
    let pages = pdf_pages(&injected_path);
    let flat = squash(&pages.join("\n"));
    // Title, subtitle, meta label and value, heading, paragraph, subheading, caption, header, cell,
    // totals, footer: every one shows the string.
    let occurrences = flat.matches(&squash(INJECTION)).count();
    assert!(
        occurrences >= 10,
        "the literal string shows {occurrences} times:\n{}",
        pages.join("\n")
    );
    let sizes = page_sizes(&injected_path);
    assert_a4(&sizes, false);
    assert_eq!(
        sizes.len(),
        page_sizes(&reference_path).len(),
        "markup characters changed the layout"
    );
    let dir = artifacts("injection");
    run(Command::new("pdftoppm")
        .args(["-r", "60", "-png"])
        .arg(&injected_path)
        .arg(dir.join("page")));
}

#[test]
fn landscape_documents_are_landscape_a4() {
    let mut doc = sample_document(12);
    doc.landscape = true;
    let pdf = render_pdf(&doc).unwrap();
    let xlsx_bytes = render_xlsx(&doc).unwrap();
    let sheet = zip_text(&xlsx_bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"orientation="landscape""#), "{sheet}");
    if !have("pdfinfo") {
        return;
    }
    let path = write_pdf(&pdf, "landscape");
    assert_a4(&page_sizes(&path), true);
    let dir = artifacts("landscape");
    run(Command::new("pdftoppm")
        .args(["-r", "60", "-png", "-f", "1", "-l", "1"])
        .arg(&path)
        .arg(dir.join("page")));
}

#[test]
fn renders_are_deterministic() {
    let doc = sample_document(8);
    assert_eq!(render_pdf(&doc).unwrap(), render_pdf(&doc).unwrap());
    assert_eq!(render_xlsx(&doc).unwrap(), render_xlsx(&doc).unwrap());
}

#[test]
fn minimal_and_empty_documents_render() {
    let mut doc = Document::new("空の文書");
    doc.sections = vec![Section::new("一覧").push(Block::Table(Table::new(vec![
        Column::left("項目", 40.0),
        Column::right("件数", 20.0),
    ])))];
    let pdf = render_pdf(&doc).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let bytes = render_xlsx(&doc).unwrap();
    let mut book = xlsx(&bytes);
    let range = book.worksheet_range("一覧").unwrap();
    assert!(find(&range, "該当なし").is_some());
    // No sections at all: one sheet named after the title.
    let doc = Document::new("表紙のみ");
    assert!(render_pdf(&doc).unwrap().starts_with(b"%PDF"));
    let bytes = render_xlsx(&doc).unwrap();
    assert_eq!(xlsx(&bytes).sheet_names(), vec!["表紙のみ".to_string()]);
}

#[test]
fn a_cell_longer_than_a_page_breaks_across_pages() {
    let long = "住基ネット端末の定期点検結果。".repeat(400);
    let mut doc = Document::new("長文");
    doc.sections = vec![
        Section::new("記録").push(Block::Table(
            Table::new(vec![Column::left("No.", 12.0), Column::left("内容", 150.0)])
                .row(vec![Cell::Integer(1), Cell::text(long.clone())])
                .row(vec![Cell::Integer(2), Cell::text("短い行")]),
        )),
    ];
    let pdf = render_pdf(&doc).expect("an over-long row still renders");
    assert!(render_xlsx(&doc).is_ok());
    if !have("pdfinfo") {
        return;
    }
    let path = write_pdf(&pdf, "longcell");
    assert!(
        page_sizes(&path).len() >= 2,
        "the long row continues on the next page"
    );
    let text = squash(&pdf_pages(&path).join(""));
    assert_eq!(text.matches("定期点検結果").count(), 400, "no text is lost");
}

#[test]
fn invalid_tables_are_rejected() {
    let mut doc = Document::new("不正");
    doc.sections = vec![Section::new("表").push(Block::Table(
        Table::new(vec![Column::left("a", 10.0)]).row(vec![Cell::text("1"), Cell::text("2")]),
    ))];
    let err = render_pdf(&doc).unwrap_err();
    assert!(matches!(err, ReportError::Invalid(_)), "{err}");
    assert!(matches!(
        render_xlsx(&doc).unwrap_err(),
        ReportError::Invalid(_)
    ));
    doc.sections = vec![Section::new("表").push(Block::Table(Table::new(vec![])))];
    assert!(render_pdf(&doc).is_err());
}

#[test]
fn typst_errors_come_back_with_their_message() {
    let mut doc = Document::new("壊れたグラフ");
    doc.sections = vec![Section::new("図").push(Block::Chart(unyo_report::Chart {
        title: "壊れたSVG".into(),
        svg: "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect".into(),
        alt_text: String::new(),
        data: Table::new(vec![Column::left("区分", 20.0)]),
        width_mm: None,
        show_data: false,
        excel_chart: None,
    }))];
    match render_pdf(&doc) {
        Err(ReportError::Typst(message)) => {
            eprintln!("{message}");
            assert!(message.contains("SVG"), "{message}");
            assert!(message.starts_with("error: "), "{message}");
        }
        other => panic!("expected a typst error, got {other:?}"),
    }
    // The XLSX has no SVG to choke on.
    assert!(render_xlsx(&doc).is_ok());
}

#[test]
fn glyphs_outside_the_font_are_reported() {
    let doc = sample_document(5);
    assert_eq!(missing_glyphs(&doc), Vec::<char>::new());
    let mut doc = Document::new("絵文字😀と𠮷");
    doc.meta = vec![("氏名".into(), "髙橋 﨑 𠀋".into())];
    assert_eq!(missing_glyphs(&doc), vec!['😀', '𠮷']);
}

// ---- XLSX ----------------------------------------------------------------------------------------

#[test]
fn sample_xlsx_reads_back_with_sheets_headers_numbers_and_wareki() {
    let rows = 60;
    let bytes = render_xlsx(&sample_document(rows)).expect("render");
    std::fs::write(artifacts("xlsx").join("sample.xlsx"), &bytes).unwrap();
    let mut book = xlsx(&bytes);
    assert_eq!(
        book.sheet_names(),
        vec!["作業実績".to_string(), "区分別集計".to_string()]
    );
    let range = book.worksheet_range("作業実績").unwrap();
    assert!(
        find(&range, "業務実績簿").is_some(),
        "title on the first sheet"
    );
    assert!(find(&range, "令和8年5月分").is_some());
    // The issue date is a date whose format shows its label.
    assert!(
        range
            .cells()
            .any(|(_, _, c)| c.as_date() == Some(date(2026, 6, 10)))
    );
    assert!(find(&range, "住民基本台帳ネットワークシステム運用支援業務").is_some());
    let (hr, hc) = find(&range, "No.").expect("header row");
    assert_eq!(hc, 0);
    let header: Vec<String> = (0..7)
        .map(|c| range.get((hr, c)).unwrap().to_string())
        .collect();
    assert_eq!(
        header,
        [
            "No.",
            "日付",
            "区分",
            "場所・端末",
            "作業内容",
            "時間",
            "作業者"
        ]
    );
    let first = hr + 1;
    assert_eq!(range.get((first, 0)), Some(&Data::Float(1.0)));
    assert_eq!(
        range.get((first, 1)).and_then(Data::as_date),
        Some(date(2019, 5, 1))
    );
    assert_eq!(range.get((first, 5)), Some(&Data::Float(1.5)));
    assert_eq!(
        range.get((first + 2, 4)),
        Some(&Data::String(INJECTION.into()))
    );
    let totals = first + rows;
    assert_eq!(range.get((totals, 0)), Some(&Data::String("合計".into())));
    assert_eq!(range.get((totals, 5)), Some(&Data::Float(90.0)));

    // The chart sheet has its data table with numbers and a total column.
    let chart = book.worksheet_range("区分別集計").unwrap();
    let (r, c) = find(&chart, "4月").expect("chart data");
    assert!(matches!(chart.get((r, c + 1)), Some(Data::Float(_))));
    assert!(find(&chart, "計").is_some());
    let approval = find(&chart, "確認者（県）").is_some()
        && chart
            .cells()
            .any(|(_, _, c)| c.as_date() == Some(date(2026, 6, 10)));
    assert!(approval, "approval block on the last sheet");

    // Print setup: A4, fit to one page wide, page numbers, the table header repeated.
    let sheet1 = zip_text(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet1.contains(r#"paperSize="9""#), "{sheet1}");
    assert!(sheet1.contains(r#"fitToPage="1""#));
    assert!(sheet1.contains(r#"fitToHeight="0""#));
    assert!(sheet1.contains("&amp;P / &amp;N"));
    let workbook = zip_text(&bytes, "xl/workbook.xml");
    let print_titles = format!("作業実績!${0}:${0}", hr + 1);
    assert!(
        workbook.contains("_xlnm.Print_Titles") && workbook.contains(&print_titles),
        "{workbook}"
    );
    let styles = zip_text(&bytes, "xl/styles.xml");
    assert!(styles.contains("游ゴシック"));
    assert!(zip_text(&bytes, "xl/worksheets/sheet2.xml").contains("<drawing"));
}

/// Dates are Excel dates with the 和暦 format, numbers and amounts are numbers, and a total that is the sum
/// of its column is a SUM formula over it whose cached value is that sum; a total that is not (a
/// percentage, a hand-made figure) stays a value.
#[test]
fn xlsx_cells_are_typed_and_totals_add_up() {
    let at = date(2026, 5, 12).and_hms_opt(9, 30, 5).unwrap();
    let mut doc = Document::new("型付きのセル");
    doc.issued_on = Some(date(2026, 6, 10));
    doc.issued_label = "作成日".into();
    let table = Table::new(vec![
        Column::left("日付", 30.0),
        Column::left("日時", 40.0),
        Column::right("件数", 20.0),
        Column::right("時間", 20.0),
        Column::right("金額", 25.0),
        Column::right("稼働率", 20.0),
    ])
    .row(vec![
        Cell::Date(date(2019, 5, 1)),
        Cell::DateTime(at),
        Cell::Integer(3),
        Cell::Number(1.25, 2),
        Cell::count(1200, "件"),
        Cell::Percent(0.995, 1),
    ])
    .row(vec![
        Cell::Date(date(2026, 5, 12)),
        Cell::Empty,
        Cell::Integer(4),
        Cell::Number(0.5, 2),
        Cell::count(34, "件"),
        Cell::Percent(1.0, 1),
    ])
    .totals(vec![
        "合計".into(),
        Cell::Empty,
        Cell::Integer(7),
        Cell::Number(1.75, 2),
        Cell::count(1234, "件"),
        Cell::Percent(0.9975, 1),
    ]);
    doc.sections
        .push(Section::new("一覧").sheet("一覧").push(Block::Table(table)));
    let bytes = render_xlsx(&doc).expect("render");
    std::fs::write(artifacts("xlsx").join("typed.xlsx"), &bytes).unwrap();
    let mut book = xlsx(&bytes);
    let range = book.worksheet_range("一覧").unwrap();
    let (hr, _) = find(&range, "日付").expect("header");
    let cell = |r: usize, c: usize| range.get((r, c)).cloned().unwrap_or(Data::Empty);
    // Dates and times: numbers Excel knows as dates.
    assert!(cell(hr + 1, 0).is_datetime());
    assert_eq!(cell(hr + 1, 0).as_date(), Some(date(2019, 5, 1)));
    assert_eq!(cell(hr + 1, 1).as_datetime(), Some(at));
    assert_eq!(cell(hr + 2, 0).as_date(), Some(date(2026, 5, 12)));
    // Numbers and amounts: numbers.
    assert_eq!(cell(hr + 1, 2), Data::Float(3.0));
    assert_eq!(cell(hr + 1, 3), Data::Float(1.25));
    assert_eq!(cell(hr + 1, 4), Data::Float(1200.0));
    assert_eq!(cell(hr + 1, 5), Data::Float(0.995));
    // Totals: each equals the sum of its parts.
    let totals = hr + 3;
    for c in 2..5 {
        let parts: f64 = (hr + 1..totals).filter_map(|r| cell(r, c).as_f64()).sum();
        assert_eq!(cell(totals, c).as_f64(), Some(parts), "column {c}");
    }
    // The summing ones are formulas over the column (A1 rows are 1-based), the percentage a value.
    let formulas = book.worksheet_formula("一覧").unwrap();
    let formula = |c: usize| {
        formulas
            .get_value((totals as u32, c as u32))
            .cloned()
            .unwrap_or_default()
    };
    let (first, last) = (hr + 2, hr + 3);
    assert_eq!(formula(2), format!("SUM(C{first}:C{last})"));
    assert_eq!(formula(3), format!("SUM(D{first}:D{last})"));
    assert_eq!(formula(4), format!("SUM(E{first}:E{last})"));
    assert_eq!(formula(5), "", "a percentage total is a value");
    // The number formats: 和暦 dates (元年 for an era's first year), the unit after an amount, the label
    // before the issue date.
    let styles = zip_text(&bytes, "xl/styles.xml");
    for wanted in [
        r#"[$-ja-JP-x-gannen]ggge&quot;年&quot;m&quot;月&quot;d&quot;日&quot;;@"#,
        r#"[$-ja-JP-x-gannen]ggge&quot;年&quot;m&quot;月&quot;d&quot;日&quot; hh:mm;@"#,
        r#"#,##0&quot;件&quot;"#,
        r#"&quot;作成日　&quot;[$-ja-JP-x-gannen]ggge"#,
    ] {
        assert!(styles.contains(wanted), "{wanted} in {styles}");
    }
    // A total that is not the sum of its column is written as the value given, not as a formula.
    if let Some(Block::Table(t)) = doc.sections[0].blocks.first_mut() {
        t.totals = Some(vec!["合計".into(), Cell::Empty, Cell::Integer(99)]);
    }
    let bytes = render_xlsx(&doc).expect("render");
    let mut book = xlsx(&bytes);
    let formulas = book.worksheet_formula("一覧").unwrap();
    assert!(
        formulas
            .get_value((totals as u32, 2))
            .is_none_or(String::is_empty)
    );
    let range = book.worksheet_range("一覧").unwrap();
    assert_eq!(range.get((totals, 2)), Some(&Data::Float(99.0)));
}

// ---- timing --------------------------------------------------------------------------------------

#[test]
fn twenty_page_render_time() {
    let doc = long_document(20);
    let t = Instant::now();
    let pdf = render_pdf(&doc).unwrap();
    let first = t.elapsed();
    // The same size with different content (what the next render in a server looks like) …
    let mut other = doc.clone();
    other.title = "業務実績簿（別版）".to_string();
    if let Block::Table(t) = &mut other.sections[0].blocks[1] {
        for row in &mut t.rows {
            row[6] = Cell::text("佐藤 次郎");
        }
    }
    let t = Instant::now();
    let _ = render_pdf(&other).unwrap();
    let warm = t.elapsed();
    // … and the very same document again (typst's memoization answers most of it).
    let t = Instant::now();
    let _ = render_pdf(&doc).unwrap();
    let same = t.elapsed();
    let t = Instant::now();
    let x = render_xlsx(&doc).unwrap();
    let xl = t.elapsed();
    let pages = if have("pdfinfo") {
        page_sizes(&write_pdf(&pdf, "long")).len()
    } else {
        0
    };
    println!(
        "20-page document ({} rows, {pages} pages): PDF first {first:?}, another document {warm:?}, \
         same again {same:?} ({} KiB); XLSX {xl:?} ({} KiB)",
        doc_rows(&doc),
        pdf.len() / 1024,
        x.len() / 1024
    );
}

fn doc_rows(doc: &Document) -> usize {
    doc.sections
        .iter()
        .flat_map(|s| &s.blocks)
        .map(|b| match b {
            Block::Table(t) => t.rows.len(),
            _ => 0,
        })
        .sum()
}
