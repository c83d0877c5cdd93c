//! The demo year as one story (issue 14): its months submitted and confirmed along the route
//! 担当 → 係長 → 課長 by the documents' own submit and confirm, its rollouts proven by the agents'
//! inventories; and the annual pack says the same as the records and the campaigns.

mod common;

use common::*;
use unyo_documents::annual_data;
use unyo_domain::records::RecordStatus;
use unyo_domain::wareki::FiscalYear;
use unyo_store::records::RecordFile;

#[tokio::test]
async fn the_demo_years_records_and_rollouts_agree_with_the_annual_pack() {
    let (db, year) = demo().await;
    let store = &db.store;
    // 09:00 JST on the fixed day.
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T09:00:00+09:00")
        .expect("now")
        .with_timezone(&chrono::Utc);
    let rollouts = unyo_demo::load_rollouts(store, today(), now)
        .await
        .expect("rollouts");
    let records = unyo_demo::load_records(store, today(), year.contract_id, &Desk)
        .await
        .expect("records");
    // April to October: submitted in the next month's first days and confirmed at all three steps;
    // November's record is not due before the 27th.
    assert_eq!(records.submitted, 7, "{records:?}");
    assert_eq!(records.confirmed, 7, "{records:?}");
    assert_eq!(records.steps, 21, "{records:?}");

    let listed = store
        .monthly_records(Some(year.contract_id), Some(FiscalYear(2026)))
        .await
        .expect("records");
    assert_eq!(listed.len(), 7);
    let names: Vec<String> = unyo_demo::ROUTE
        .iter()
        .map(|(_, login)| {
            unyo_demo::ACCOUNTS
                .iter()
                .find(|a| a.username == *login)
                .map(|a| a.display_name.to_string())
                .expect("route account")
        })
        .collect();
    for r in &listed {
        assert_eq!(
            r.status(),
            RecordStatus::Confirmed,
            "{}-{}",
            r.year,
            r.month
        );
        // Version 1 submitted, versions 2–4 each with one more 確認欄 filled.
        assert_eq!(r.current_version, 4, "{}-{}", r.year, r.month);
        let by: Vec<String> = r
            .confirmations()
            .iter()
            .map(|a| a.decided_by_name.clone())
            .collect();
        assert_eq!(by, names, "{}-{}", r.year, r.month);
    }

    // The May record as downloaded: its latest frozen PDF names all three people.
    let may = listed.iter().find(|r| r.month == 5).expect("May's record");
    let auditor = store
        .user_by_name("auditor")
        .await
        .expect("user")
        .expect("auditor")
        .actor("test");
    let (_, pdf) = store
        .record_file(&auditor, may.id, may.current_version, RecordFile::Pdf)
        .await
        .expect("pdf");
    if have("pdftotext") {
        let path = keep("demo-story-2026-05-v4.pdf", &pdf);
        let text = squash(&pdf_pages(&path).join(""));
        for n in &names {
            assert!(
                text.contains(&squash(n)),
                "{n} is not in May's confirmed record"
            );
        }
    }

    // The annual pack counts the same months and the same campaigns.
    let data = annual_data(store, year.contract_id, FiscalYear(2026), today())
        .await
        .expect("annual");
    let confirmed = data
        .records
        .iter()
        .filter(|r| r.status() == RecordStatus::Confirmed)
        .count();
    assert_eq!(confirmed, records.confirmed);
    assert_eq!(data.campaigns.len(), rollouts.campaigns);
    assert_eq!(
        data.campaigns.iter().filter(|c| !c.is_open()).count(),
        rollouts.closed
    );
}
