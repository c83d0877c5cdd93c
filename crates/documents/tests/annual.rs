//! The annual council pack (本人確認情報保護審議会資料) of the demo's 令和8年度 (loaded for the fixed day
//! 2026-11-27), opened for real: every section present as a sheet of the XLSX with the year's totals,
//! and the PDF's text and page images.

mod common;

use chrono::Datelike;
use common::*;
use unyo_documents::{Format, annual_data, render};
use unyo_domain::wareki::FiscalYear;
use unyo_store::support::WorkQuery;

/// The golden year so far.
const FY_ENTRIES: i64 = 204;
const FY_MINUTES: i64 = 175 * 60;
const FY_REQUESTS: i64 = 48;
const FY_REQUESTS_CONFIRMED: i64 = 40;
const FY_INCIDENTS: i64 = 9;
const FY_MTTA: &str = "15分";
const FY_MTTR: &str = "4時間16分";
const FY_CONSULTATIONS: usize = 5;

const SHEETS: [&str; 10] = [
    "概要",
    "作業実績",
    "支援要請",
    "障害対応",
    "障害の原因と対策",
    "稼働状況",
    "展開",
    "セキュリティ",
    "脆弱性",
    "業務実績簿",
];

#[tokio::test]
async fn annual_pack_fy2026() {
    let (db, year) = demo().await;
    let store = &db.store;
    let fy = FiscalYear(2026);
    let data = annual_data(store, year.contract_id, fy, today())
        .await
        .expect("data");

    // Against the store.
    let all = store
        .work_entries_all(&WorkQuery {
            contract_id: Some(year.contract_id),
            from: Some("2026-04-01".into()),
            to: Some("2027-03-31".into()),
            ..Default::default()
        })
        .await
        .expect("work");
    let count: i64 = data.work.iter().map(|f| f.count).sum();
    let minutes: i64 = data.work.iter().map(|f| f.minutes).sum();
    assert_eq!(count, all.len() as i64);
    assert_eq!(minutes, all.iter().map(|w| w.minutes).sum::<i64>());
    assert_eq!(
        (count, minutes),
        (FY_ENTRIES, FY_MINUTES),
        "the demo's year changed"
    );
    assert_eq!(count as usize, year.work_entries);
    assert_eq!(
        data.requests.iter().map(|r| r.count).sum::<i64>(),
        FY_REQUESTS
    );
    assert_eq!(data.incidents.year.count, FY_INCIDENTS);
    assert_eq!(data.consultations, FY_CONSULTATIONS);
    assert_eq!(data.sites.len(), 15);
    assert!(matches!(
        data.chain,
        unyo_store::audit::ChainReport::Intact { .. }
    ));
    // Nothing after the issue date is counted, even when the pack is made later (the demo's accounts
    // and loads are audited at the real time this test runs).
    let issued = (today().year(), today().month());
    assert!(
        data.audit.iter().all(|f| (f.year, f.month) <= issued),
        "{:?}",
        data.audit
    );
    let later = annual_data(store, year.contract_id, fy, today() - chrono::Days::new(30))
        .await
        .expect("data");
    let count_of = |d: &unyo_documents::AnnualData| d.work.iter().map(|f| f.count).sum::<i64>();
    assert!(
        count_of(&later) < count_of(&data),
        "work after the issue date counted"
    );

    let doc = data.document();
    assert!(unyo_report::missing_glyphs(&doc).is_empty());

    // ---- XLSX: one sheet per section.
    let xlsx = render(&doc, Format::Xlsx).expect("xlsx");
    keep("annual-2026.xlsx", &xlsx);
    assert_eq!(calamine::Reader::sheet_names(&workbook(&xlsx)), SHEETS);
    let summary = sheet(&xlsx, "概要");
    assert!(find(&summary, "本人確認情報保護審議会資料").is_some());
    assert_eq!(
        value_of(&summary, "対象年度").as_deref(),
        Some("令和8年度（令和8年4月1日～令和9年3月31日）")
    );
    // The headline figures are numbers (the unit is in the number format).
    assert_eq!(value_of(&summary, "作業件数").as_deref(), Some("204"));
    assert_eq!(value_of(&summary, "作業時間").as_deref(), Some("175"));
    assert_eq!(value_of(&summary, "支援要請").as_deref(), Some("48"));
    assert!(find(&summary, &format!("うち確認済 {FY_REQUESTS_CONFIRMED}件")).is_some());
    assert_eq!(value_of(&summary, "障害").as_deref(), Some("9"));
    assert!(find(&summary, "完了 4件・復旧済（確認待ち） 1件・対応中 4件").is_some());
    assert_eq!(
        value_of(&summary, "平均初動時間（MTTA）").as_deref(),
        Some(FY_MTTA)
    );
    assert_eq!(
        value_of(&summary, "平均復旧時間（MTTR）").as_deref(),
        Some(FY_MTTR)
    );
    assert_eq!(value_of(&summary, "協議記録").as_deref(), Some("5"));

    // Work by clause and month: the hours table's grand total is the year's.
    let work = sheet(&xlsx, "作業実績");
    let (caption, _) = find(&work, "区分別・月別の作業時間（時間）").expect("hours table");
    let total = work
        .rows()
        .skip(caption)
        .find(|r| text(&r[0]) == "合計")
        .expect("totals")
        .to_vec();
    // Month, ①–⑤, total.
    assert_eq!(total[6], calamine::Data::Float(FY_MINUTES as f64 / 60.0));
    let months: Vec<String> = work
        .rows()
        .skip(caption + 2)
        .take(12)
        .map(|r| text(&r[0]))
        .collect();
    assert_eq!(months.first().map(String::as_str), Some("令和8年4月"));
    assert_eq!(months.last().map(String::as_str), Some("令和9年3月"));
    assert!(
        find(&work, "月別・区分別の作業時間（令和8年度）").is_some(),
        "chart data"
    );

    let incidents = sheet(&xlsx, "障害対応");
    let year_row = incidents
        .rows()
        .find(|r| text(&r[0]) == "年度計")
        .expect("year row")
        .to_vec();
    assert_eq!(year_row[1], calamine::Data::Float(FY_INCIDENTS as f64));
    // 完了 + 確認待ち + 対応中 = 件数, on the sheet as in the data.
    let part = |i: usize| match year_row[i] {
        calamine::Data::Float(v) => v,
        ref other => panic!("column {i} is not a number: {other:?}"),
    };
    assert_eq!(part(2) + part(3) + part(4), FY_INCIDENTS as f64);
    assert_eq!(text(&year_row[6]), FY_MTTR);

    let availability = sheet(&xlsx, "稼働状況");
    let unmonitored = availability
        .rows()
        .filter(|r| text(&r[0]) != "全拠点")
        .filter(|r| r.iter().any(|c| text(c) == "該当なし（監視未導入）"))
        .count();
    assert_eq!(unmonitored, 15, "every site says so");
    assert!(
        find(
            &sheet(&xlsx, "展開"),
            "該当なし（当年度の展開はありません）"
        )
        .is_some()
    );
    let security = sheet(&xlsx, "セキュリティ");
    for label in [
        "ログイン成功",
        "ログイン失敗",
        "アカウントロック",
        "データ出力",
        "証跡・実績簿の取得",
        "利用者管理",
    ] {
        assert!(find(&security, label).is_some(), "{label}");
    }
    assert!(find(&security, "年度計").is_some());
    assert!(find(&sheet(&xlsx, "業務実績簿"), "令和9年3月").is_some());

    // ---- PDF.
    let pdf = render(&doc, Format::Pdf).expect("pdf");
    let path = keep("annual-2026.pdf", &pdf);
    if !have("pdftotext") {
        return;
    }
    let pages = pdf_pages(&path);
    let all = squash(&pages.join("\n"));
    for wanted in [
        "本人確認情報保護審議会資料",
        "令和8年度",
        "1. 運用の概要",
        "2. 作業実績（区分別・月別）",
        "3. 支援要請",
        "4. 障害対応（MTTA・MTTR）",
        "5. 障害ごとの原因・対応・再発防止策",
        "6. 拠点別の稼働状況",
        "7. 更新作業の展開",
        "8. セキュリティ対策の実施状況（監査ログ）",
        "9. 脆弱性対策の状況",
        "10. 業務実績簿の提出・確認状況",
        "204件",
        "175.00時間",
        FY_MTTR,
        "監視未導入",
        "作成日令和8年11月27日",
    ] {
        assert!(all.contains(&squash(wanted)), "the PDF lacks {wanted:?}");
    }
    // No chart prints empty: one without a single event says so, with the reason.
    let logins: i64 = data
        .audit
        .iter()
        .filter(|f| f.action == "login.success" || f.action == "login.failure")
        .map(|f| f.count)
        .sum();
    assert_eq!(
        all.contains(&squash(
            "月別のログイン: 該当なし（当年度のログインの記録はありません）"
        )),
        logins == 0,
        "{logins} login events"
    );
    if have("pdftoppm") {
        assert_eq!(page_images(&path, "annual-2026"), pages.len());
    }
}
