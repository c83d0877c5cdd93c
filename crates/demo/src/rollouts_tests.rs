//! The demo's inventories and rollouts agree with its work log: every terminal reports, each past
//! month's campaigns are closed and proven by the agents' inventories, and the builds the inventories
//! show are the ones the work entries name.

use crate::year::os_build;
use crate::{TERMINALS, load_fleet, load_rollouts, load_year};
use chrono::{NaiveDate, TimeZone, Utc};
use std::collections::HashMap;
use unyo_store::audit::ChainReport;
use unyo_store::campaigns::CampaignQuery;
use unyo_store::support::WorkQuery;
use unyo_store::testing::test_store;

#[tokio::test]
async fn inventories_and_campaigns_tell_the_work_logs_story() {
    let db = test_store().await.expect("store");
    let store = &db.store;
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("day");
    // 09:00 JST on `today`.
    let now = Utc
        .with_ymd_and_hms(2026, 11, 27, 0, 0, 0)
        .single()
        .expect("now");
    load_fleet(store).await.expect("fleet");
    load_year(store, today).await.expect("year");
    let s = load_rollouts(store, today, now).await.expect("rollouts");
    // Eight months (April–November), three campaigns each; November's are all done by the 27th.
    assert_eq!(s.campaigns, 24, "{s:?}");
    assert_eq!(s.closed, 24, "{s:?}");

    // Every terminal has an inventory, matched to it, with the build of November's update.
    let latest = store.latest_inventories().await.expect("inventories");
    let by_host: HashMap<String, _> = latest
        .iter()
        .filter_map(|i| i.snapshot.hostname.clone().map(|h| (h, i)))
        .collect();
    let november = 7;
    for t in TERMINALS {
        let inv = by_host
            .get(t.0)
            .unwrap_or_else(|| panic!("{} has no inventory", t.0));
        assert!(inv.terminal_id.is_some(), "{} matched", t.0);
        let month = if t.2 == "representative" {
            november - 1
        } else {
            november
        };
        assert_eq!(
            inv.snapshot.os.build.as_deref(),
            Some(format!("10.0.{}", os_build(t.0, month)).as_str()),
            "{}",
            t.0
        );
    }

    // Each closed campaign's targets are all 実施済, proven by an inventory.
    let campaigns = store
        .campaigns(&CampaignQuery {
            per_page: Some(100),
            ..Default::default()
        })
        .await
        .expect("campaigns");
    assert_eq!(campaigns.items.len(), 24);
    for c in &campaigns.items {
        assert_eq!(c.status, "closed", "{}", c.title);
        let detail = store.campaign(c.id).await.expect("campaign");
        assert!(!detail.targets.is_empty(), "{}", c.title);
        for t in &detail.targets {
            assert_eq!(t.status, "done", "{} {}", c.title, t.hostname);
            assert!(t.inventory_id.is_some(), "{} {}", c.title, t.hostname);
        }
    }

    // The build each business terminal reports is the one its work entry of that month names.
    let work = store
        .work_entries_all(&WorkQuery::default())
        .await
        .expect("work");
    for t in TERMINALS.iter().filter(|t| t.2 == "business") {
        let build = os_build(t.0, november);
        assert!(
            work.iter().any(|w| w.description.contains("11月")
                && w.result.contains(&format!("OSビルド {build}"))
                && w.work_date.starts_with("2026-11")),
            "no November work entry names {build} for {}",
            t.0
        );
    }
    // The compliance view holds each OS line to its own last cumulative update (set when the
    // representative terminal received it): every terminal is 適合, none 基準なし.
    assert_eq!(
        store
            .compliance_baseline()
            .await
            .expect("baseline")
            .as_deref(),
        Some(
            format!(
                "10.0.{}, 10.0.{}",
                os_build("jk-kencho-rep01", november - 1),
                os_build(
                    TERMINALS
                        .iter()
                        .find(|t| t.4.starts_with("Windows 10"))
                        .expect("a Windows 10 terminal")
                        .0,
                    november - 1
                )
            )
            .as_str()
        )
    );
    let grid = store
        .compliance_grid_at(&Default::default(), now)
        .await
        .expect("grid");
    assert_eq!(grid.rows.len(), TERMINALS.len());
    // The agents report on the days of the work, so an inventory may be over the 7 days the grid trusts
    // (不明, with the judgement for reference); none is 遅れ or 基準なし.
    for row in &grid.rows {
        let os = &row.cells[0];
        let ok = os.state == unyo_domain::campaign::CellState::Ok
            || (os.state == unyo_domain::campaign::CellState::Unknown
                && os.reason.contains("以上です"));
        assert!(ok, "{}: {os:?}", row.hostname);
    }
    let chain = store.verify_audit_chain().await.expect("verify");
    assert!(matches!(chain, ChainReport::Intact { .. }), "{chain:?}");
}

/// The standard image's 7-Zip 19.00 is found vulnerable on every terminal once the SE has confirmed its
/// mapping, and the findings name the terminals the inventories came from.
#[tokio::test]
async fn the_sample_feeds_find_the_standard_images_old_software() {
    let db = test_store().await.expect("store");
    let store = &db.store;
    let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("day");
    let now = Utc
        .with_ymd_and_hms(2026, 11, 27, 0, 0, 0)
        .single()
        .expect("now");
    load_fleet(store).await.expect("fleet");
    load_year(store, today).await.expect("year");
    load_rollouts(store, today, now).await.expect("rollouts");
    let s = crate::load_vulnerabilities(store).await.expect("vulns");
    assert_eq!(s.files, 9, "{s:?}");
    let findings = store
        .findings(&unyo_store::vulns::FindingQuery {
            cve: Some("CVE-2024-11477".into()),
            per_page: Some(100),
            ..Default::default()
        })
        .await
        .expect("findings");
    assert_eq!(
        findings.total,
        TERMINALS.len() as i64,
        "7-Zip on every terminal"
    );
    assert!(s.findings >= 17 * 3, "{s:?}");
}
