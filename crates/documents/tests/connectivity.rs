//! When the connectivity checks have results, the monthly record and the council pack show them per site
//! (and a site without checks still says 該当なし（監視未導入）).

mod common;

use common::*;
use unyo_documents::{Edition, annual_data, monthly_data};
use unyo_domain::connectivity::CheckInput;
use unyo_domain::connectivity::State;
use unyo_domain::records::Month;
use unyo_domain::wareki::FiscalYear;
use unyo_report::{Block, Cell};
use unyo_store::Actor;
use unyo_store::connectivity::{NewEvent, NewResult};
use unyo_store::registry::ListQuery;

#[tokio::test]
async fn monitored_sites_show_their_availability() {
    let (db, year) = demo().await;
    let store = &db.store;
    let sys = Actor::system("test");
    let terminal = store
        .terminals(&ListQuery {
            per_page: Some(100),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|t| t.kind == "representative")
        .expect("the representative terminal");
    let check = store
        .create_check(
            &sys,
            &CheckInput {
                name: "代表端末 ping".into(),
                target_kind: "terminal".into(),
                target_id: terminal.id,
                kind: "icmp".into(),
                address: terminal.ip_address.clone().expect("an address"),
                ..Default::default()
            },
        )
        .await
        .expect("check");
    // 2026-05-12 09:00 JST onwards, every 5 minutes: 95 up, 5 down.
    let base = chrono::NaiveDate::from_ymd_opt(2026, 5, 12)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    let batch: Vec<NewResult> = (0..100)
        .map(|i| NewResult {
            check_id: check.id,
            ts: base + i * 300,
            code: if i < 95 { 0 } else { 2 },
            latency_ms: (i < 95).then_some(8),
        })
        .collect();
    store
        .append_check_results(&sys, &batch)
        .await
        .expect("results");
    // The engine's state changes: settled 正常 at the first result, 停止 for the last five (25 minutes),
    // then back — the annual pack's windows.
    let change = |ts: i64, from: State, to: State| NewEvent {
        check_id: check.id,
        ts,
        from,
        to,
        cause: String::new(),
        impacted_by: None,
        maintenance: false,
        results: serde_json::json!([]),
        message: String::new(),
    };
    store
        .record_check_events(
            &sys,
            &[
                change(base, State::Unknown, State::Up),
                change(base + 95 * 300, State::Up, State::Down),
                change(base + 100 * 300, State::Down, State::Up),
            ],
        )
        .await
        .expect("events");

    let may = monthly_data(store, year.contract_id, Month::new(2026, 5).unwrap())
        .await
        .expect("data");
    assert_eq!(may.connectivity.len(), 1);
    let (_, name, m) = &may.connectivity[0];
    assert_eq!(name, &terminal.site_name);
    assert_eq!((m.up, m.down), (95, 5));
    let doc = may.document(Edition::Draft, today());
    let section = doc
        .sections
        .iter()
        .find(|s| s.heading == "6. 疎通確認の結果")
        .unwrap();
    let table = section
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Table(t) => Some(t),
            _ => None,
        })
        .unwrap();
    assert_eq!(table.rows.len(), 1);
    // 稼働率 from the outage windows, as the board and the pack count it: 25 minutes down out of the
    // minutes monitored from 2026-05-12 09:00 JST to the end of May, 28,260 — not from the results'
    // count (95 of 100).
    assert_eq!(table.rows[0][5].display(), "25分");
    assert_eq!(
        table.rows[0][6].display(),
        Cell::Percent(1.0 - 25.0 / 28_260.0, 2).display()
    );
    assert_eq!(table.rows[0][6].display(), "99.91%");
    assert_eq!((m.monitored_minutes, m.down_minutes), (28_260, 25));
    assert!(
        may.sources()
            .iter()
            .any(|s| s.kind == "connectivity" && s.id == terminal.site_id)
    );

    let annual = annual_data(store, year.contract_id, FiscalYear(2026), today())
        .await
        .expect("annual");
    let doc = annual.document();
    let section = doc
        .sections
        .iter()
        .find(|s| s.heading == "6. 拠点別の稼働状況")
        .unwrap();
    let Block::Table(t) = &section.blocks[1] else {
        panic!("the site table")
    };
    let monitored: Vec<&Vec<Cell>> = t
        .rows
        .iter()
        .filter(|r| matches!(r[2], Cell::Percent(..)))
        .collect();
    assert_eq!(monitored.len(), 1);
    // From the same windows: 25 minutes down out of the time monitored since 2026-05-12 09:00 JST up to
    // the end of the issue date (no newer result kept), 287,460 minutes.
    let expected = 100.0 * (1.0 - 25.0 / 287_460.0);
    assert_eq!(
        monitored[0][2].display(),
        Cell::Percent(expected / 100.0, 2).display()
    );
    assert_eq!(monitored[0][4].display(), "25分");
    assert_eq!(
        t.rows
            .iter()
            .filter(|r| r[2].display() == "該当なし（監視未導入）")
            .count(),
        14
    );
}
