//! The golden month: the demo's 令和8年5月 (loaded for the fixed day 2026-11-27) as a monthly work record,
//! opened for real — the XLSX read back with calamine, the PDF's text taken with `pdftotext -layout`, and
//! page images made with `pdftoppm` into `artifacts/records/` for people to look at.
//!
//! The numbers are asserted literally (so any drift of the demo or of the document is caught) and against
//! the store (so they are the data's, not the document's own idea).

mod common;

use common::*;
use unyo_documents::{Edition, Format, monthly_data, render};
use unyo_domain::records::Month;
use unyo_store::support::WorkQuery;

/// The golden month's figures.
const MAY_ENTRIES: usize = 26;
const MAY_MINUTES: i64 = 1260;
const MAY_HOURS: &str = "21.00";
/// (clause mark, entries, hours) of ①–⑤.
const MAY_BY_CLAUSE: [(&str, i64, f64); 5] = [
    // The 代表端末's monthly inspection (2 hours) is its own support, ①.
    ("①", 2, 2.75),
    ("②", 16, 8.75),
    ("③", 8, 9.5),
    ("④", 0, 0.0),
    ("⑤", 0, 0.0),
];
const MAY_REQUESTS: usize = 5;
const MAY_CONSULTATIONS: usize = 1;
const KNOWN_WORK: &str =
    "代表端末のウイルス対策ソフト定義ファイルの更新（手動）とフルスキャン結果の確認";

fn issued() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 10).expect("date")
}

#[tokio::test]
async fn golden_month_may_2026() {
    let (db, year) = demo().await;
    let store = &db.store;
    let may = Month::new(2026, 5).expect("month");

    // The store's own view of May.
    let entries = store
        .work_entries_all(&WorkQuery {
            contract_id: Some(year.contract_id),
            from: Some("2026-05-01".into()),
            to: Some("2026-05-31".into()),
            ..Default::default()
        })
        .await
        .expect("work");
    let store_minutes: i64 = entries.iter().map(|w| w.minutes).sum();
    assert_eq!(entries.len(), MAY_ENTRIES, "the demo's May changed");
    assert_eq!(store_minutes, MAY_MINUTES, "the demo's May changed");

    let data = monthly_data(store, year.contract_id, may)
        .await
        .expect("data");
    assert_eq!(data.work.len(), entries.len());
    assert_eq!(data.total_minutes(), store_minutes);
    assert_eq!(data.requests.len(), MAY_REQUESTS);
    assert_eq!(data.consultations.len(), MAY_CONSULTATIONS);
    assert!(data.incidents.is_empty(), "the demo has no incident in May");
    for (mark, n, h) in MAY_BY_CLAUSE {
        let mine: Vec<_> = data
            .work
            .iter()
            .filter(|w| {
                unyo_domain::support::Clause::parse(&w.clause).map(|c| c.mark()) == Some(mark)
            })
            .collect();
        assert_eq!(mine.len() as i64, n, "{mark}");
        let minutes: i64 = mine.iter().map(|w| w.minutes).sum();
        assert!((minutes as f64 / 60.0 - h).abs() < 1e-9, "{mark}");
    }

    let doc = data.document(Edition::Draft, issued());
    assert!(doc.landscape);
    assert!(
        unyo_report::missing_glyphs(&doc).is_empty(),
        "characters the font cannot draw: {:?}",
        unyo_report::missing_glyphs(&doc)
    );

    // ---- XLSX, read back.
    let xlsx = render(&doc, Format::Xlsx).expect("xlsx");
    keep("monthly-2026-05.xlsx", &xlsx);
    let names = calamine::Reader::sheet_names(&workbook(&xlsx));
    assert_eq!(
        names,
        [
            "作業実績",
            "区分別集計",
            "支援要請",
            "障害対応",
            "展開",
            "疎通確認",
            "協議記録"
        ]
    );
    let work = sheet(&xlsx, "作業実績");
    assert!(find(&work, "業務実績簿").is_some());
    assert!(find(&work, "令和8年5月分").is_some());
    assert!(find(&work, "佐賀県知事　様").is_some());
    assert_eq!(
        value_of(&work, "業務名").as_deref(),
        Some(unyo_demo::CONTRACT_NAME)
    );
    assert_eq!(
        value_of(&work, "契約期間").as_deref(),
        Some("令和8年4月1日～令和9年3月31日")
    );
    assert_eq!(
        value_of(&work, "対象月").as_deref(),
        Some("令和8年5月（令和8年5月1日～令和8年5月31日）")
    );
    assert_eq!(value_of(&work, "提出日").as_deref(), Some("令和8年6月10日"));
    assert!(find(&work, &format!("受託者　{}", unyo_demo::CONTRACTOR)).is_some());
    assert!(find(&work, &format!("作業責任者　{}", unyo_demo::MANAGER)).is_some());
    let (header, _) = find(&work, "No.").expect("work table header");
    let header_row: Vec<String> = work.rows().nth(header).unwrap().iter().map(text).collect();
    assert_eq!(
        &header_row[..9],
        [
            "No.",
            "日付",
            "時間",
            "時間数",
            "場所・端末",
            "区分",
            "内容",
            "結果",
            "作業者"
        ]
    );
    let (totals, _) = find(&work, "合計").expect("totals row");
    let rows: Vec<_> = work
        .rows()
        .skip(header + 1)
        .take(totals - header - 1)
        .collect();
    assert_eq!(rows.len(), MAY_ENTRIES, "one row per work entry");
    let sum: f64 = rows
        .iter()
        .map(|r| match &r[3] {
            calamine::Data::Float(f) => *f,
            other => panic!("hours must be numbers, got {other:?}"),
        })
        .sum();
    assert!((sum - MAY_MINUTES as f64 / 60.0).abs() < 1e-9);
    let total_row: Vec<String> = work.rows().nth(totals).unwrap().iter().map(text).collect();
    assert_eq!(total_row[2], format!("{MAY_ENTRIES}件"));
    assert_eq!(total_row[3], "21");
    assert_eq!(text(&rows[0][1]), "5月8日（金）");
    assert_eq!(text(&rows[0][2]), "09:30～10:30");
    assert!(rows.iter().any(|r| text(&r[6]).starts_with(KNOWN_WORK)));
    assert!(rows.iter().any(|r| text(&r[5]) == "①"));

    let totals_sheet = sheet(&xlsx, "区分別集計");
    for (mark, n, h) in MAY_BY_CLAUSE {
        let label = unyo_domain::support::Clause::ALL
            .iter()
            .find(|c| c.mark() == mark)
            .unwrap()
            .label_ja();
        let (r, c) = find(&totals_sheet, label).expect(label);
        let row: Vec<_> = totals_sheet.rows().nth(r).unwrap().to_vec();
        assert_eq!(row[c + 1], calamine::Data::Float(n as f64), "{label}");
        assert_eq!(row[c + 2], calamine::Data::Float(h), "{label}");
    }
    let consult = sheet(&xlsx, "協議記録");
    assert!(find(&consult, "令和8年5月22日").is_some());
    assert!(
        find(
            &sheet(&xlsx, "障害対応"),
            "該当なし（当月に対応した障害はありません）"
        )
        .is_some()
    );
    assert!(find(&sheet(&xlsx, "疎通確認"), "該当なし（疎通監視は未導入）").is_some());

    // ---- PDF, text and pictures.
    let pdf = render(&doc, Format::Pdf).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let path = keep("monthly-2026-05.pdf", &pdf);
    if !have("pdftotext") {
        return;
    }
    let pages = pdf_pages(&path);
    let all = squash(&pages.join("\n"));
    for wanted in [
        "業務実績簿",
        "令和8年5月分",
        "令和8年5月",
        unyo_demo::CONTRACT_NAME,
        "令和8年4月1日～令和9年3月31日",
        "提出日令和8年6月10日",
        "佐賀県知事様",
        "5月11日（月）",
        "合計26件21.00",
        "①代表端末に係る運用支援",
        "作成者（受託者）",
        "確認者（県）",
        "該当なし（疎通監視は未導入）",
        "下書き（未提出）",
    ] {
        assert!(all.contains(&squash(wanted)), "the PDF lacks {wanted:?}");
    }
    assert!(all.contains(MAY_HOURS));
    // A wrapped cell's lines are interleaved with its neighbours' in layout mode: look in content order.
    let raw = squash(&pdf_raw_text(&path));
    assert!(
        raw.contains(KNOWN_WORK),
        "the PDF lacks the known work entry"
    );
    for w in &data.work {
        assert!(
            raw.contains(&squash(&w.description)),
            "the PDF lacks work entry {}",
            w.id
        );
    }
    assert!(pages.len() >= 3, "{} pages", pages.len());
    let n = pages.len();
    for (i, page) in pages.iter().enumerate() {
        assert!(
            squash(page).contains(&format!("{}/{n}", i + 1)),
            "page number on page {}",
            i + 1
        );
    }
    if have("pdftoppm") {
        assert_eq!(page_images(&path, "monthly-2026-05"), pages.len());
    }
}

#[tokio::test]
async fn a_draft_is_regenerated_identically_and_a_version_says_so() {
    let (db, year) = demo().await;
    let may = Month::new(2026, 5).expect("month");
    let data = monthly_data(&db.store, year.contract_id, may)
        .await
        .expect("data");
    let a = render(&data.document(Edition::Draft, issued()), Format::Pdf).expect("pdf");
    let b = render(&data.document(Edition::Draft, issued()), Format::Pdf).expect("pdf");
    assert_eq!(a, b, "the same data and day give the same bytes");
    let again = monthly_data(&db.store, year.contract_id, may)
        .await
        .expect("data");
    assert_eq!(data.sources(), again.sources());

    let v2 = data.document(Edition::Version(2), issued());
    let meta: std::collections::HashMap<_, _> = v2.meta.iter().cloned().collect();
    assert_eq!(meta["版"], "第2版");
    assert!(v2.footer_note.unwrap().contains("第2版"));

    // A month outside the contract is refused.
    let err = monthly_data(&db.store, year.contract_id, Month::new(2026, 3).unwrap())
        .await
        .expect_err("outside the term");
    assert!(err.to_string().contains("入力内容"), "{err}");
}
