//! The 障害報告書 and the 疎通確認結果表 as PDF, opened for real: the demo's August incident and a check-result
//! sheet over the demo fleet are rendered, their text is taken with `pdftotext -layout` and page images are
//! made with `pdftoppm` into `artifacts/records/` for people to look at.

mod common;

use common::*;
use unyo_documents::{
    CheckRun, Format, check_sheet_document, check_sheet_xlsx, incident_document, incident_report,
    render,
};
use unyo_domain::wareki::{format_datetime_long, format_long};
use unyo_store::connectivity::SheetLine;
use unyo_store::incidents::IncidentQuery;
use unyo_store::registry::ListQuery;

/// The text of each page (layout mode), and all the text squashed: the layout text, then the text in content
/// order (where a wrapped cell's lines stay together), so a value is found whichever way it was laid out.
fn pdf_text(name: &str, pdf: &[u8]) -> Option<(Vec<String>, String)> {
    assert!(pdf.starts_with(b"%PDF-"));
    let path = keep(name, pdf);
    if !have("pdftotext") {
        return None;
    }
    let pages = pdf_pages(&path);
    for (i, p) in pages.iter().enumerate() {
        assert!(!p.trim().is_empty(), "{name}: page {} is empty", i + 1);
    }
    if have("pdftoppm") {
        let stem = name.trim_end_matches(".pdf");
        assert_eq!(page_images(&path, stem), pages.len());
    }
    let all = squash(&format!("{}\n{}", pages.join("\n"), pdf_raw_text(&path)));
    Some((pages, all))
}

#[tokio::test]
async fn the_incident_report_prints_with_wareki_times() {
    let (db, _) = demo().await;
    let store = &db.store;
    let found = store
        .incidents(
            &IncidentQuery {
                q: Some(unyo_demo::AUGUST_REQUEST_TITLE.into()),
                ..Default::default()
            },
            chrono::Utc::now(),
        )
        .await
        .expect("incidents");
    let row = found.items.first().expect("the August incident");
    let detail = store
        .incident(row.id, chrono::Utc::now())
        .await
        .expect("incident");
    let doc = incident_document(&detail, today());
    assert!(unyo_report::missing_glyphs(&doc).is_empty());
    let shaped = incident_report(&detail, today());
    let pdf = render(&doc, Format::Pdf).expect("pdf");
    let Some((pages, all)) = pdf_text("incident-report.pdf", &pdf) else {
        return;
    };
    assert!(pages.len() <= 3, "{} pages", pages.len());
    let occurred = shaped
        .times
        .iter()
        .find(|(k, _)| k == "発生日時")
        .and_then(|(_, v)| *v)
        .map(format_datetime_long)
        .expect("発生日時");
    assert!(occurred.starts_with("令和8年8月"), "{occurred}");
    let witness = shaped
        .witness
        .as_ref()
        .expect("a closed incident's witness");
    for wanted in [
        "障害報告書",
        &format!("障害番号{}", row.number),
        "作成日令和8年11月27日",
        unyo_demo::AUGUST_REQUEST_TITLE,
        "伊万里保健福祉事務所",
        &occurred,
        "1.概要",
        "2.発生から完了までの時刻",
        "3.経過",
        "4.原因",
        "5.回避策及び指導",
        "6.復旧作業",
        "7.復旧の確認（立会い）",
        "8.再発防止策",
        "初動までの時間（認知→初動）",
        &witness.name,
        &witness.at,
        "確認欄",
        "確認者",
    ] {
        assert!(
            all.contains(&squash(wanted)),
            "the incident report lacks {wanted:?}"
        );
    }
    // Every timeline entry's time, and every linked work entry's date and number.
    for e in &shaped.timeline {
        let at = format_datetime_long(e.at.expect("a stored time"));
        assert!(all.contains(&squash(&at)), "timeline {at}");
    }
    assert!(!shaped.work.is_empty(), "the August incident has its work");
    for w in &shaped.work {
        let date = format_long(w.date.expect("a stored date"));
        assert!(all.contains(&squash(&date)), "work date {date}");
        assert!(all.contains(&w.id.to_string()), "work No.{}", w.id);
    }
    // The number is in every page's footer, so a loose page still says what it belongs to.
    for p in &pages {
        assert!(squash(p).contains(&squash(&format!("障害報告書 {}", row.number))));
    }
    // A Gregorian date would mean something skipped the 和暦.
    assert!(!all.contains("2026-"), "a Gregorian date slipped through");

    // Every other incident of the demo, open ones included (no witness, no work yet), prints too.
    let all_incidents = store
        .incidents(&IncidentQuery::default(), chrono::Utc::now())
        .await
        .expect("incidents");
    assert!(all_incidents.items.len() > 1);
    for i in &all_incidents.items {
        let d = store
            .incident(i.id, chrono::Utc::now())
            .await
            .expect("incident");
        let doc = incident_document(&d, today());
        assert!(unyo_report::missing_glyphs(&doc).is_empty(), "{}", i.number);
        let pdf = render(&doc, Format::Pdf).unwrap_or_else(|e| panic!("{}: {e}", i.number));
        assert!(pdf.starts_with(b"%PDF-"), "{}", i.number);
    }
}

/// When the sheet's checks started (JST): 20 seconds before midnight, so the run crosses into the next day.
fn run_start() -> chrono::NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
        .and_then(|d| d.and_hms_opt(23, 59, 40))
        .expect("time")
}

/// A sheet's lines over the demo fleet's terminals, two checks each (ping and the business application's
/// port): mostly answered, two refused or timed out, one slow.
async fn fleet_lines(store: &unyo_store::Store, n: usize) -> Vec<SheetLine> {
    let terminals = store
        .terminals(&ListQuery {
            per_page: Some(500),
            ..Default::default()
        })
        .await
        .expect("terminals")
        .items;
    let lines: Vec<SheetLine> = terminals
        .iter()
        .flat_map(|t| {
            let addr = t.ip_address.clone().unwrap_or_default();
            [
                (format!("{} ping", t.hostname), format!("ICMP {addr}")),
                (
                    format!("{} 業務アプリ TCP", t.hostname),
                    format!("TCP {addr}:443"),
                ),
            ]
            .map(|(check, probe)| (t, check, probe))
        })
        .take(n)
        .enumerate()
        .map(|(i, (t, check, probe))| {
            let (status, result, latency_ms, message) = match i {
                3 => ("down", "停止", None, "接続拒否".to_string()),
                7 => (
                    "down",
                    "停止",
                    None,
                    "応答なし（3,000ms で打ち切り）".to_string(),
                ),
                5 => (
                    "degraded",
                    "低下",
                    Some(1_250),
                    "応答が遅い（閾値 1,000ms）".to_string(),
                ),
                _ => ("up", "正常", Some(3 + i as u32 * 7), String::new()),
            };
            SheetLine {
                check_id: i as i64 + 1,
                site: t.site_name.clone(),
                target: t.hostname.clone(),
                check,
                probe,
                status: status.into(),
                result: result.into(),
                latency_ms,
                message,
                at: (run_start() + chrono::Duration::seconds(i as i64))
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
            }
        })
        .collect();
    assert_eq!(lines.len(), n, "the demo fleet is too small");
    lines
}

#[tokio::test]
async fn the_check_sheet_prints_targets_and_latencies() {
    let db = unyo_store::testing::test_store().await.expect("store");
    let store = &db.store;
    unyo_demo::load_fleet(store).await.expect("fleet");
    let se_user = store.user_by_name("se").await.expect("query").expect("se");
    let se = se_user.actor("test");
    let name = se_user.display_name.clone();
    let lines = fleet_lines(store, 34).await;
    // Kept at the run's start: 2026-11-26 23:59:40 JST.
    let xlsx = check_sheet_xlsx(&CheckRun {
        number: None,
        at: run_start(),
        operator: &name,
        work_entry_id: None,
        note: "月次の疎通確認（全拠点）",
        lines: &lines,
    })
    .expect("xlsx");
    check_sheet_workbook(&xlsx, &name, lines.len());
    let id = store
        .create_check_sheet(&se, &lines, None, "月次の疎通確認（全拠点）", &xlsx)
        .await
        .expect("sheet");
    let mut sheet = store.check_sheet(id).await.expect("kept sheet");
    // Kept at the run's start (the store dates it by the clock): 2026-11-26 23:59:40 JST.
    sheet.created_at = "2026-11-26T14:59:40Z".into();
    let doc = check_sheet_document(&sheet, &name);
    assert!(unyo_report::missing_glyphs(&doc).is_empty());
    let pdf = render(&doc, Format::Pdf).expect("pdf");
    let Some((pages, all)) = pdf_text("check-sheet.pdf", &pdf) else {
        return;
    };
    // 34 rows on A4 landscape: more than one page, the header repeated on each.
    assert!((2..=4).contains(&pages.len()), "{} pages", pages.len());
    for p in &pages {
        let p = squash(p);
        assert!(p.contains("確認項目") && p.contains("応答時間"), "{p}");
        assert!(p.contains(&format!("疎通確認結果表No.{id}")), "footer");
    }
    for wanted in [
        "疎通確認結果表",
        &format!("結果表番号No.{id}"),
        "実施日時令和8年11月26日23:59",
        "確認時刻は実施日（令和8年11月26日）の時刻",
        &format!("実施者{name}"),
        "月次の疎通確認（全拠点）",
        "34件（正常31件、低下1件、停止2件）",
        "23:59:40",
        "23:59:59",
        "11月27日00:00:00",
        "11月27日00:00:13",
        "×停止",
        "接続拒否",
        "△低下",
        "1,250",
        "確認者（県）",
    ] {
        assert!(
            all.contains(&squash(wanted)),
            "the check sheet lacks {wanted:?}"
        );
    }
    for l in &lines {
        assert!(all.contains(&squash(&l.target)), "target {}", l.target);
    }
    // Each answered line's latency right after its result.
    for l in lines.iter().filter(|l| l.status == "up") {
        let ms = l.latency_ms.expect("latency");
        assert!(
            all.contains(&format!("○正常{ms}")),
            "latency {ms} of {}",
            l.target
        );
    }
    assert!(!all.contains("2026-"), "a Gregorian date slipped through");

    // A sheet that checked nothing still prints, and says so.
    let mut empty = sheet.clone();
    empty.lines.clear();
    let pdf = render(&check_sheet_document(&empty, &name), Format::Pdf).expect("pdf");
    if let Some((pages, all)) = pdf_text("sheet-without-lines.pdf", &pdf) {
        assert_eq!(pages.len(), 1);
        assert!(all.contains("確認した対象はない。"));
    }
}

/// The kept XLSX of a run: the engineer by name in the facts and in the 確認欄, the run's date there as an
/// Excel date with the 和暦 format, latencies as numbers, one row per line.
fn check_sheet_workbook(xlsx: &[u8], name: &str, lines: usize) {
    use calamine::{Data, DataType, Reader, Xlsx, open_workbook_from_rs};
    keep("check-sheet.xlsx", xlsx);
    let mut wb: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).expect("valid xlsx");
    assert_eq!(wb.sheet_names(), vec!["疎通確認結果表".to_string()]);
    let range = wb.worksheet_range("疎通確認結果表").expect("sheet");
    let find = |wanted: &str| {
        range
            .cells()
            .find(|(_, _, c)| matches!(c, Data::String(s) if s == wanted))
            .map(|(r, c, _)| (r, c))
            .unwrap_or_else(|| panic!("{wanted:?} not in the sheet"))
    };
    let (r, c) = find("実施者");
    assert!(
        range.rows().nth(r).is_some_and(|row| row
            .iter()
            .skip(c + 1)
            .any(|v| matches!(v, Data::String(s) if s == name))),
        "実施者 {name}"
    );
    assert!(
        range
            .cells()
            .all(|(_, _, c)| !matches!(c, Data::String(s) if s == "se")),
        "the login id"
    );
    find("確認欄");
    find("確認者（県）");
    // The 確認欄's date row: the engineer's date is an Excel date of the run's day.
    let (r, _) = find("日付");
    let dates: Vec<_> = range
        .rows()
        .nth(r)
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_datetime())
        .collect();
    assert_eq!(
        dates.first().map(chrono::NaiveDateTime::date),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
    );
    let (head, _) = find("応答時間(ms)");
    let numbers = range
        .rows()
        .skip(head + 1)
        .filter(|row| matches!(row.first(), Some(Data::Float(_))))
        .count();
    assert_eq!(numbers, lines, "one numbered row per line");
    let styles = unzip_text(xlsx, "xl/styles.xml");
    assert!(
        styles.contains("[$-ja-JP-x-gannen]ggge&quot;年&quot;m&quot;月&quot;d&quot;日&quot;;@"),
        "the 和暦 date format"
    );
}

/// A file of the XLSX package as text.
fn unzip_text(bytes: &[u8], name: &str) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    let mut out = String::new();
    archive
        .by_name(name)
        .expect("part")
        .read_to_string(&mut out)
        .expect("utf-8");
    out
}
