//! Tests of the demo fiscal year: it loads on any day (SQLite, or PostgreSQL with `TEST_DATABASE_URL`),
//! shows every status, fills every past month, never overlaps, and stays fast and deterministic.

use crate::calendar::is_closed;
use crate::{YearSummary, load_fleet, load_year};
use chrono::{Datelike, NaiveDate, NaiveTime};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use unyo_domain::wareki::FiscalYear;
use unyo_store::audit::ChainReport;
use unyo_store::support::{RequestQuery, WorkQuery, WorkRow};
use unyo_store::testing::{TestDb, test_store};

/// A worker's entries on one day: start, end, entry id.
type Slots = Vec<(NaiveTime, NaiveTime, i64)>;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

async fn loaded(today: NaiveDate) -> (TestDb, YearSummary, Duration) {
    let db = test_store().await.expect("store");
    let started = Instant::now();
    load_fleet(&db.store).await.expect("fleet");
    let summary = load_year(&db.store, today)
        .await
        .unwrap_or_else(|e| panic!("load_year({today}): {e:?}"));
    (db, summary, started.elapsed())
}

async fn all_work(db: &TestDb) -> Vec<WorkRow> {
    db.store
        .work_entries_all(&WorkQuery::default())
        .await
        .expect("work")
}

fn time(s: &str) -> NaiveTime {
    NaiveTime::parse_from_str(s, "%H:%M").expect("time")
}

/// What must hold on any day: work only on office days before `today` inside the fiscal year, in office
/// hours, no overlap per worker, every month before the current one has work, no request filed after
/// `today`, and an intact audit chain.
async fn check_invariants(db: &TestDb, s: &YearSummary, today: NaiveDate) -> Vec<WorkRow> {
    let fy = FiscalYear::containing(today);
    assert_eq!(s.fiscal_year, fy);
    let work = all_work(db).await;
    assert_eq!(work.len(), s.work_entries);
    let (am, noon, pm, close) = (time("09:00"), time("12:00"), time("13:00"), time("17:15"));
    let mut by_worker_day: HashMap<(i64, String), Slots> = HashMap::new();
    for w in &work {
        let date = NaiveDate::parse_from_str(&w.work_date, "%Y-%m-%d").expect("date");
        assert!(
            date < today,
            "work {} on {date} is not before {today}",
            w.id
        );
        assert!(fy.contains(date), "work {} on {date} outside {fy}", w.id);
        assert!(!is_closed(date), "work {} on a closed day {date}", w.id);
        let (st, en) = (time(&w.start_time), time(&w.end_time));
        assert!(
            (st >= am && en <= noon) || (st >= pm && en <= close),
            "work {} at {}–{}",
            w.id,
            w.start_time,
            w.end_time
        );
        assert!(!w.worker_ids.is_empty());
        for u in &w.worker_ids {
            by_worker_day
                .entry((*u, w.work_date.clone()))
                .or_default()
                .push((st, en, w.id));
        }
    }
    for ((u, day), mut slots) in by_worker_day {
        slots.sort();
        for pair in slots.windows(2) {
            assert!(
                pair[0].1 <= pair[1].0,
                "user {u} overlaps on {day}: {pair:?}"
            );
        }
    }
    for (y, m) in fy.months() {
        if (y, m) >= (today.year(), today.month()) {
            break;
        }
        let n = work
            .iter()
            .filter(|w| w.work_date.starts_with(&format!("{y}-{m:02}-")))
            .count();
        assert!((20..=40).contains(&n), "{y}-{m:02}: {n} entries");
    }
    let requests = db
        .store
        .requests(
            &RequestQuery {
                per_page: Some(500),
                ..Default::default()
            },
            today,
        )
        .await
        .expect("requests");
    assert_eq!(requests.total as usize, s.requests);
    for r in &requests.items {
        assert!(
            r.filed_on.as_str() <= today.to_string().as_str(),
            "{}",
            r.number
        );
        assert_eq!(r.fiscal_year, i64::from(fy.0), "{}", r.number);
    }
    assert!(matches!(
        db.store.verify_audit_chain().await.expect("verify"),
        ChainReport::Intact { .. }
    ));
    work
}

#[tokio::test]
async fn a_realistic_fiscal_year_so_far() {
    let today = d(2026, 11, 27);
    let (db, s, took) = loaded(today).await;
    let store = &db.store;
    assert!(took < Duration::from_secs(10), "loading took {took:?}");
    let work = check_invariants(&db, &s, today).await;

    // The contract of the fiscal year, staffed by both SEs.
    let contracts = store.contracts().await.expect("contracts");
    assert_eq!(contracts.len(), 1);
    let c = &contracts[0];
    assert_eq!(c.id, s.contract_id);
    assert_eq!(c.name, "住民基本台帳ネットワークシステム運用支援SE業務委託");
    assert_eq!(c.number, "佐情第R8-0123号");
    assert_eq!(
        (c.term_start.as_str(), c.term_end.as_str()),
        ("2026-04-01", "2027-03-31")
    );
    assert_eq!(c.contractor, "九州システムサポート株式会社");
    assert_eq!(c.manager, "保守 技郎");
    let mut staff: Vec<&str> = c.staff.iter().map(|m| m.username.as_str()).collect();
    staff.sort();
    assert_eq!(staff, ["se", "se2"]);

    // Its registers: the SEs assigned with their pledges on file (their logins work), a predecessor who
    // left, the subcontractor's engineer under its approval; materials with one open copy request.
    let roster = store.roster(Some(c.id)).await.expect("roster");
    assert_eq!(roster.len(), 5);
    for name in ["se", "se2"] {
        let entry = roster
            .iter()
            .find(|r| r.username.as_deref() == Some(name))
            .expect("on the roster");
        assert!(entry.active_on(today), "{name}");
        assert!(
            store
                .roster_allows(entry.user_id.expect("tied"), today)
                .await
                .expect("gate")
        );
    }
    assert!(!roster.iter().any(|r| r.access_ended_at.is_some()));
    assert_eq!(store.subcontracts(Some(c.id)).await.expect("sc").len(), 1);
    let materials = store.materials(Some(c.id)).await.expect("materials");
    assert_eq!(materials.len(), 5);
    assert_eq!(materials.iter().filter(|m| !m.is_open()).count(), 1);
    assert_eq!(
        materials.iter().map(|m| m.pending_copies()).sum::<usize>(),
        1
    );
    let open = store.open_material_items(c.id).await.expect("open");
    assert_eq!(open.len(), 5, "{open:?}");

    // Every status, most of them confirmed; at least one overdue.
    let counts: BTreeMap<String, i64> = store
        .request_counts(&RequestQuery::default(), today)
        .await
        .expect("counts")
        .into_iter()
        .collect();
    for status in [
        "requested",
        "accepted",
        "in_progress",
        "completed",
        "confirmed",
        "returned",
        "withdrawn",
    ] {
        assert!(counts[status] > 0, "{status}: {counts:?}");
    }
    let total: i64 = counts.values().sum();
    assert!(counts["confirmed"] * 2 > total, "{counts:?}");
    assert_eq!(counts["returned"], 1);
    let overdue = store
        .requests(
            &RequestQuery {
                overdue_only: Some(true),
                ..Default::default()
            },
            today,
        )
        .await
        .expect("overdue");
    assert_eq!(overdue.total, 1, "{:?}", overdue.items);
    assert_eq!(overdue.items[0].status, "accepted");

    // Numbers run in filing order; timelines are walked by the right accounts.
    let all = store
        .requests(
            &RequestQuery {
                per_page: Some(500),
                ..Default::default()
            },
            today,
        )
        .await
        .expect("requests");
    let mut by_number: Vec<_> = all.items.iter().collect();
    by_number.sort_by(|a, b| a.number.cmp(&b.number));
    assert_eq!(by_number[0].number, "R8-0001");
    for pair in by_number.windows(2) {
        assert!(
            pair[0].filed_on <= pair[1].filed_on,
            "{} {}",
            pair[0].number,
            pair[1].number
        );
    }
    let categories: std::collections::BTreeSet<&str> =
        all.items.iter().map(|r| r.category.as_str()).collect();
    for c in [
        "app_install",
        "antivirus_update",
        "remote_update",
        "connectivity_check",
        "technical_support",
        "council_support",
        "incident_response",
    ] {
        assert!(categories.contains(c), "{c}");
    }
    for r in &all.items {
        let detail = store.request(r.id, today).await.expect("detail");
        let steps: Vec<(&str, &str)> = detail
            .events
            .iter()
            .map(|e| (e.action.as_str(), e.actor.as_str()))
            .collect();
        assert_eq!(steps[0], ("file", "staff"), "{}", r.number);
        for (action, actor) in &steps[1..] {
            let expected: &[&str] = match *action {
                "accept" | "start" | "complete" => &["se", "se2"],
                _ => &["staff"],
            };
            assert!(expected.contains(actor), "{} {action} by {actor}", r.number);
        }
        if r.status == "confirmed" {
            let actions: Vec<&str> = steps.iter().map(|s| s.0).collect();
            assert_eq!(
                actions,
                ["file", "accept", "start", "complete", "confirm"],
                "{}",
                r.number
            );
            assert!(!detail.work.is_empty(), "{} has work", r.number);
            assert!(!r.result.is_empty());
        }
        if matches!(r.status.as_str(), "in_progress" | "completed" | "returned") {
            assert!(!detail.work.is_empty(), "{} has work", r.number);
        }
    }

    // Work by both SEs, on site and remote, with and without a request; hours per clause ①–⑤.
    for (who, name) in [("se", "保守 技郎"), ("se2", "運用 花子")] {
        assert!(
            work.iter().filter(|w| w.workers.contains(name)).count() > 50,
            "{who}"
        );
    }
    assert!(work.iter().any(|w| w.mode == "onsite"));
    assert!(work.iter().any(|w| w.mode == "remote"));
    assert!(work.iter().any(|w| w.request_id.is_none()));
    assert!(work.iter().any(|w| w.workers.contains('、')), "joint work");
    let clauses = store
        .hours_by_clause_month(Some(s.contract_id), FiscalYear(2026))
        .await
        .expect("clauses");
    for (y, m) in FiscalYear(2026).months().take(7) {
        for clause in ["1", "2", "3"] {
            assert!(
                clauses
                    .iter()
                    .any(|c| c.key == clause && c.year == y && c.month == m && c.minutes > 0),
                "clause {clause} in {y}-{m}"
            );
        }
    }
    let minutes = |clause: &str| -> i64 {
        clauses
            .iter()
            .filter(|c| c.key == clause)
            .map(|c| c.minutes)
            .sum()
    };
    assert!(minutes("4") >= 6 * 60, "council ④ {}", minutes("4"));
    assert!(minutes("5") >= 3 * 60, "incidents ⑤ {}", minutes("5"));
    assert!(minutes("2") > minutes("1"), "business terminals outweigh ①");
    // 1(6)① is the representative terminal's own support: its monthly inspection is filed there.
    let inspections: Vec<_> = work
        .iter()
        .filter(|w| w.description.contains("代表端末") && w.description.contains("月次定期点検"))
        .collect();
    assert!(inspections.len() >= 7, "{}", inspections.len());
    assert!(
        inspections.iter().all(|w| w.clause == "1" && !w.clause_set),
        "suggested as ①"
    );

    // Consultations, linked to requests.
    let talks = store
        .consultations(Some(s.contract_id), None, None)
        .await
        .expect("consultations");
    assert_eq!(talks.len(), s.consultations);
    assert!(talks.len() >= 5, "{}", talks.len());
    assert!(talks.iter().filter(|t| !t.requests.is_empty()).count() >= 4);
    assert!(talks.iter().any(|t| t.topic.contains("審議会")));
    assert!(talks.iter().any(|t| t.topic.contains("日程の変更")));

    // For the record of this change: the year at a glance.
    let mut per_month: BTreeMap<&str, usize> = BTreeMap::new();
    for w in &work {
        *per_month.entry(&w.work_date[..7]).or_default() += 1;
    }
    eprintln!("demo {today}: took {took:?}, {s:?}");
    eprintln!("requests by status: {counts:?}");
    eprintln!("work entries by month: {per_month:?}");
    eprintln!(
        "hours by clause: {:?}",
        ["1", "2", "3", "4", "5"].map(|c| (c, minutes(c) as f64 / 60.0))
    );
}

#[tokio::test]
async fn any_day_of_the_year_works() {
    for today in [
        d(2026, 4, 1),
        d(2026, 5, 7),
        d(2026, 7, 16),
        d(2027, 1, 4),
        d(2027, 3, 31),
        unyo_store::support::jst_today(),
    ] {
        // Timing is checked once, in `a_realistic_fiscal_year_so_far` (six loads in a row here share
        // the machine with the other tests).
        let (db, s, _) = loaded(today).await;
        check_invariants(&db, &s, today).await;
        let counts: BTreeMap<String, i64> = db
            .store
            .request_counts(&RequestQuery::default(), today)
            .await
            .expect("counts")
            .into_iter()
            .collect();
        assert!(counts["requested"] >= 1, "{today}: {counts:?}");
        if today >= d(2026, 5, 1) || today.month() != 4 {
            for status in [
                "accepted",
                "in_progress",
                "completed",
                "returned",
                "confirmed",
            ] {
                assert!(counts[status] > 0, "{today}: {status} {counts:?}");
            }
        }
    }
}

#[tokio::test]
async fn the_same_day_gives_the_same_data() {
    let today = d(2026, 9, 30);
    let (a, sa, _) = loaded(today).await;
    let (b, sb, _) = loaded(today).await;
    assert_eq!(
        (sa.requests, sa.work_entries, sa.consultations),
        (sb.requests, sb.work_entries, sb.consultations)
    );
    let key = |w: &WorkRow| {
        (
            w.work_date.clone(),
            w.start_time.clone(),
            w.end_time.clone(),
            w.workers.clone(),
            w.terminals.clone(),
            w.description.clone(),
            w.request_number.clone(),
        )
    };
    let wa: Vec<_> = all_work(&a).await.iter().map(key).collect();
    let wb: Vec<_> = all_work(&b).await.iter().map(key).collect();
    assert_eq!(wa, wb);
    let q = RequestQuery {
        per_page: Some(500),
        ..Default::default()
    };
    let ra: Vec<_> = a
        .store
        .requests(&q, today)
        .await
        .expect("r")
        .items
        .into_iter()
        .map(|r| (r.number, r.title, r.status, r.planned_date))
        .collect();
    let rb: Vec<_> = b
        .store
        .requests(&q, today)
        .await
        .expect("r")
        .items
        .into_iter()
        .map(|r| (r.number, r.title, r.status, r.planned_date))
        .collect();
    assert_eq!(ra, rb);
}
