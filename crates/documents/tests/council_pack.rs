//! The council pack adds up (issue 14): over the whole demo year (incidents, the board's outages,
//! campaigns, confirmed records, vulnerability findings), every figure the opening sentences quote is
//! the figure of its section and of its XLSX cell; the incidents' states partition their count; each
//! site's 停止時間 and 稼働率 come from the same windows and the sites add up to the all-site figures; and
//! over generated years the outage windows keep those identities.

mod common;

use calamine::Data;
use chrono::{NaiveDate, Utc};
use common::*;
use unyo_documents::annual::figures::{PackFigures, progress_of};
use unyo_documents::annual::outages::{self, Explanation};
use unyo_documents::{Format, annual_data, render};
use unyo_domain::incident::{PROGRESS_LABELS, duration_label};
use unyo_domain::records::Month;
use unyo_domain::wareki::FiscalYear;
use unyo_report::{Block, Cell, Document};
use unyo_store::annual::{MonitoredCheck, StateChange, YearMonitoring};

/// The whole demo as `unyo demo` loads it, for the fixed day, at 15:20 JST.
async fn full_demo() -> (unyo_store::testing::TestDb, i64) {
    let (db, year) = demo().await;
    let store = &db.store;
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T15:20:00+09:00")
        .expect("now")
        .with_timezone(&Utc);
    unyo_demo::load_connectivity(store, today(), now)
        .await
        .expect("connectivity");
    unyo_demo::load_rollouts(store, today(), now)
        .await
        .expect("rollouts");
    unyo_demo::load_vulnerabilities(store)
        .await
        .expect("vulnerabilities");
    unyo_demo::load_records(store, today(), year.contract_id, &Desk)
        .await
        .expect("records");
    (db, year.contract_id)
}

fn count(n: i64) -> String {
    format!("{}件", unyo_report::format_integer(n))
}

/// `4時間16分` back to minutes.
fn minutes_of(s: &str) -> i64 {
    let s = s.trim();
    let (h, rest) = s.split_once("時間").unwrap_or(("0", s));
    let m = rest.trim_end_matches('分');
    h.parse::<i64>()
        .unwrap_or_else(|_| panic!("hours in {s:?}"))
        * 60
        + if m.is_empty() {
            0
        } else {
            m.parse::<i64>()
                .unwrap_or_else(|_| panic!("minutes in {s:?}"))
        }
}

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(v) => *v,
        Data::Int(v) => *v as f64,
        other => panic!("not a number: {other:?}"),
    }
}

/// The row whose first cell is `label`, after the row holding `caption`.
fn row_after(range: &calamine::Range<Data>, caption: &str, label: &str) -> Vec<Data> {
    let (start, _) = find(range, caption).unwrap_or_else(|| panic!("{caption} not found"));
    range
        .rows()
        .skip(start)
        .find(|r| text(&r[0]) == label)
        .unwrap_or_else(|| panic!("no {label} row after {caption}"))
        .to_vec()
}

/// The data rows of a table: from the row after its header (caption + 2) up to the first empty row or
/// the totals row.
fn table_rows(range: &calamine::Range<Data>, caption: &str, header: &str) -> Vec<Vec<Data>> {
    let (start, _) = find(range, caption).unwrap_or_else(|| panic!("{caption} not found"));
    let rows: Vec<Vec<Data>> = range.rows().skip(start).map(<[Data]>::to_vec).collect();
    let h = rows
        .iter()
        .position(|r| text(&r[0]) == header)
        .unwrap_or_else(|| panic!("no header {header}"));
    rows.into_iter()
        .skip(h + 1)
        .take_while(|r| !r.iter().all(|c| text(c).is_empty()))
        .collect()
}

fn summary_text(doc: &Document) -> String {
    doc.sections[0]
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Paragraph(p) => Some(p.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn every_figure_of_the_summary_is_its_sections_figure() {
    let (db, contract_id) = full_demo().await;
    let data = annual_data(&db.store, contract_id, FiscalYear(2026), today())
        .await
        .expect("data");
    let f: PackFigures = data.figures();
    let doc = data.document();
    let summary = summary_text(&doc);
    let says = |wanted: &str| {
        assert!(
            summary.contains(wanted),
            "the summary does not say {wanted:?}:\n{summary}"
        )
    };

    // The demo year has all of it.
    assert!(f.incidents.count > 0 && f.campaigns > 0 && f.records_confirmed > 0);
    assert!(f.availability.is_some(), "the board's checks are monitored");
    assert!(f.findings_total() > 0, "the sample feeds match the image");

    // ---- What was done.
    says(&format!(
        "計{}・{}",
        count(f.work_count),
        Cell::Amount(f.work_minutes as f64 / 60.0, 2, "時間".into()).display()
    ));
    for (c, n, m) in &f.work_by_clause {
        if *n > 0 {
            says(&format!(
                "{} {}・{}",
                c.label_ja(),
                count(*n),
                Cell::Amount(*m as f64 / 60.0, 2, "時間".into()).display()
            ));
        }
    }
    says(&format!("支援要請は{}", count(f.requests)));
    says(&format!("うち{}は県の確認", count(f.requests_confirmed)));
    says(&format!(
        "展開は{}（うち完了{}）",
        count(f.campaigns),
        count(f.campaigns_closed)
    ));
    // ---- What went wrong and why.
    says(&format!("障害は{}発生し", count(f.incidents.count)));
    for (label, n) in f.incidents.by_progress() {
        says(&format!("{label}{}", count(n)));
    }
    for (g, n) in &f.cause_groups {
        says(&format!("{g} {}", count(*n)));
    }
    for (number, _, m) in &f.longest {
        says(&format!("{number}「"));
        says(&duration_label(*m));
    }
    let availability = Cell::Percent(f.availability.unwrap_or(0.0) / 100.0, 2).display();
    says(&format!(
        "稼働率は{availability}、停止時間は計{}",
        duration_label(f.down_minutes)
    ));
    // ---- Prevention.
    says(&format!(
        "障害{}のうち{}で再発防止策",
        count(f.incidents.count),
        count(f.preventions)
    ));
    // ---- Security.
    says(&format!("{}の記録に改ざんのない", count(f.chain_entries)));
    says(&format!(
        "アカウント{}のうち{}が2要素認証",
        count(f.accounts),
        count(f.accounts_2fa)
    ));
    says(&format!("データ出力は{}", count(f.exports)));
    says(&format!("ログイン失敗は{}", count(f.login_failures)));
    says(&format!("該当は{}", count(f.findings_total())));

    // ---- The same figures in the XLSX.
    let xlsx = render(&doc, Format::Xlsx).expect("xlsx");
    keep("council-pack-2026.xlsx", &xlsx);
    let overview = sheet(&xlsx, "概要");
    let cell = |label: &str| -> f64 {
        let (r, c) = find(&overview, label).unwrap_or_else(|| panic!("{label}"));
        number(&overview.rows().nth(r).expect("row")[c + 1])
    };
    assert_eq!(cell("作業件数"), f.work_count as f64);
    assert!((cell("作業時間") - f.work_minutes as f64 / 60.0).abs() < 1e-9);
    assert_eq!(cell("支援要請"), f.requests as f64);
    assert_eq!(cell("障害"), f.incidents.count as f64);
    assert_eq!(cell("再発防止策を定めた障害"), f.preventions as f64);
    assert!((cell("稼働率（疎通監視）") - f.availability.unwrap_or(0.0) / 100.0).abs() < 1e-9);
    assert_eq!(
        value_of(&overview, "停止時間（疎通監視）"),
        Some(duration_label(f.down_minutes))
    );
    assert_eq!(cell("2要素認証の利用"), f.accounts_2fa as f64);
    assert_eq!(cell("更新作業の展開"), f.campaigns as f64);

    // Work by clause: the hours and counts tables' totals are the clauses' and the year's.
    let work = sheet(&xlsx, "作業実績");
    let hours = row_after(&work, "区分別・月別の作業時間（時間）", "合計");
    let counts = row_after(&work, "区分別・月別の作業件数（件）", "合計");
    for (i, (_, n, m)) in f.work_by_clause.iter().enumerate() {
        assert!((number(&hours[i + 1]) - *m as f64 / 60.0).abs() < 1e-9);
        assert_eq!(number(&counts[i + 1]), *n as f64);
    }
    assert_eq!(number(&counts[6]), f.work_count as f64);
    assert!((number(&hours[6]) - f.work_minutes as f64 / 60.0).abs() < 1e-9);
    let requests = sheet(&xlsx, "支援要請");
    assert_eq!(
        number(&row_after(&requests, "区分別（年度計）", "合計")[1]),
        f.requests as f64
    );

    // Incidents: the year row, its parts, and the list with one row per incident.
    let incidents = sheet(&xlsx, "障害対応");
    let year_row = row_after(&incidents, "月別", "年度計");
    assert_eq!(number(&year_row[1]), f.incidents.count as f64);
    assert_eq!(
        number(&year_row[2]) + number(&year_row[3]) + number(&year_row[4]),
        f.incidents.count as f64,
        "完了・確認待ち・対応中 partition the count"
    );
    let causes = sheet(&xlsx, "障害の原因と対策");
    let list = table_rows(&causes, "障害ごとの原因・対応・再発防止策", "障害番号");
    assert_eq!(list.len() as i64, f.incidents.count);
    for (k, label) in PROGRESS_LABELS.iter().enumerate() {
        let n = list.iter().filter(|r| text(&r[8]) == *label).count() as i64;
        assert_eq!(n, f.incidents.by_progress()[k].1, "{label}");
        let in_data = data
            .accounts
            .iter()
            .filter(|a| progress_of(a) == *label)
            .count() as i64;
        assert_eq!(in_data, n, "{label}");
    }
    for r in &list {
        for c in 5..8 {
            assert!(!text(&r[c]).trim().is_empty(), "an empty cell in {r:?}");
        }
    }
    let prevented = list.iter().filter(|r| text(&r[7]) != "未記録").count() as i64;
    assert_eq!(prevented, f.preventions);
    assert_eq!(
        number(&row_after(&causes, "原因の区分別件数", "合計")[1]),
        f.incidents.count as f64
    );

    // Availability: per site from the same windows; the sites add up to the all-site row.
    let board = sheet(&xlsx, "稼働状況");
    let sites = table_rows(
        &board,
        "拠点別の稼働率と停止時間（保守時間帯を除く）",
        "拠点コード",
    );
    let all = sites
        .iter()
        .find(|r| text(&r[0]) == "全拠点")
        .expect("all-site row")
        .clone();
    let per_site: Vec<&Vec<Data>> = sites.iter().filter(|r| text(&r[0]) != "全拠点").collect();
    assert_eq!(per_site.len(), data.sites.len());
    let mut down = 0;
    for r in &per_site {
        let stop = text(&r[4]);
        if stop != "―" {
            down += minutes_of(&stop);
        }
    }
    assert_eq!(down, f.down_minutes, "Σ sites = all sites");
    assert_eq!(minutes_of(&text(&all[4])), f.down_minutes);
    assert!((number(&all[2]) - f.availability.unwrap_or(0.0) / 100.0).abs() < 1e-9);
    for (site, s) in &data.outages.sites {
        let listed: i64 = s
            .outages
            .iter()
            .filter(|o| o.counts())
            .map(|o| o.minutes())
            .sum();
        assert_eq!(listed, s.down_minutes, "site {site}");
        let expected = 1.0 - s.down_minutes as f64 / s.monitored_minutes as f64;
        assert!((s.percent().unwrap_or(0.0) / 100.0 - expected).abs() < 1e-12);
    }
    // The 鳥栖 line is still down at the issue date: counted, flagged 継続中, explained by its incident.
    let tosu = data
        .sites
        .iter()
        .find(|s| s.code == "HOFUKU-TOSU")
        .expect("鳥栖");
    let t = &data.outages.sites[&tosu.id];
    assert!(t.down_minutes > 0, "{t:?}");
    assert!(t.percent().is_some_and(|p| p < 100.0));
    assert!(t.outages.iter().any(|o| o.ongoing && o.counts()));
    assert!(f.outages_ongoing >= 1);
    let outage_rows = table_rows(&board, "30分以上の停止とその説明", "拠点");
    assert_eq!(outage_rows.len(), data.outages.listed().len());
    assert!(outage_rows.iter().any(|r| text(&r[2]) == "継続中"));
    // Every outage of the board has its incident (or its maintenance window).
    for o in data.outages.listed() {
        assert_ne!(o.explanation, Explanation::Unexplained, "{o:?}");
    }
    assert_eq!(f.outages_unexplained, 0);

    // Security and vulnerabilities.
    let security = sheet(&xlsx, "セキュリティ");
    let year_events = row_after(&security, "月別の件数", "年度計");
    assert_eq!(number(&year_events[2]), f.login_failures as f64);
    assert_eq!(number(&year_events[3]), f.lockouts as f64);
    assert_eq!(number(&year_events[4]), f.exports as f64);
    let vulns = sheet(&xlsx, "脆弱性");
    let totals = row_after(&vulns, "重大度別・状態別の該当件数", "合計");
    assert_eq!(number(&totals[6]), f.findings_total() as f64);
    for (k, (_, n)) in f.findings_by_status.iter().enumerate() {
        assert_eq!(number(&totals[k + 1]), *n as f64);
    }

    // ---- The PDF, kept for people to look at.
    let pdf = render(&doc, Format::Pdf).expect("pdf");
    let path = keep("council-pack-2026.pdf", &pdf);
    if have("pdftotext") {
        let all = squash(&pdf_pages(&path).join("\n"));
        for wanted in [
            "【実施した業務】",
            "【発生した障害と原因】",
            "【再発防止策】",
            "【セキュリティ】",
            "5.障害ごとの原因・対応・再発防止策",
            "9.脆弱性対策の状況",
            "継続中",
        ] {
            assert!(all.contains(&squash(wanted)), "the PDF lacks {wanted:?}");
        }
    }
}

// ------------------------------------------------------------------------------------------------ generated years

/// A small deterministic generator (xorshift), so a failing case can be replayed by its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One 稼働率 everywhere: over the demo year, every month's figure per site in the 業務実績簿 is the board's
/// figure for that site and month (the store's outage windows read over the whole fiscal year), and the
/// months add up to the pack's year (within a minute per month boundary an outage crosses, as each part
/// is counted in whole minutes).
#[tokio::test]
async fn every_months_availability_is_the_boards_and_adds_up_to_the_packs_year() {
    let (db, contract_id) = full_demo().await;
    let store = &db.store;
    let pack = annual_data(store, contract_id, FiscalYear(2026), today())
        .await
        .expect("pack");
    let day = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp()
            .div_euclid(86_400)
    };
    let end_of_issue_day = chrono::DateTime::parse_from_rfc3339("2026-11-28T00:00:00+09:00")
        .expect("end")
        .with_timezone(&Utc);
    // What the board reads: the fiscal year up to now.
    let board = store
        .site_availability(
            day(NaiveDate::from_ymd_opt(2026, 4, 1).expect("april")),
            day(today()) + 1,
            end_of_issue_day,
        )
        .await
        .expect("board figures");
    assert!(
        board.iter().any(|m| m.down_minutes > 0),
        "the demo year has outages"
    );
    let mut compared = 0;
    for month in (4..=11).map(|m| Month::new(2026, m).expect("month")) {
        let record = unyo_documents::monthly_data(store, contract_id, month)
            .await
            .expect("record");
        let key = format!("{:04}-{:02}", month.year, month.month);
        let on_board: Vec<_> = board
            .iter()
            .filter(|m| m.month == key && m.availability.is_some())
            .collect();
        let in_record: Vec<_> = record
            .connectivity
            .iter()
            .filter(|(_, _, m)| m.availability.is_some())
            .collect();
        assert_eq!(on_board.len(), in_record.len(), "{key}: the same sites");
        for (_, name, r) in in_record {
            let b = on_board
                .iter()
                .find(|b| b.site_id == r.site_id)
                .unwrap_or_else(|| panic!("{key} {name} is on the board"));
            assert_eq!(
                (b.monitored_minutes, b.down_minutes, b.availability),
                (r.monitored_minutes, r.down_minutes, r.availability),
                "{key} {name}: the record says what the board says"
            );
            compared += 1;
        }
    }
    assert!(compared > 0);
    for (site, year) in &pack.outages.sites {
        let months: Vec<_> = board.iter().filter(|m| m.site_id == *site).collect();
        let down: i64 = months.iter().map(|m| m.down_minutes).sum();
        let monitored: i64 = months.iter().map(|m| m.monitored_minutes).sum();
        let slack = months.len().saturating_sub(1) as i64;
        assert!(
            down <= year.down_minutes && year.down_minutes - down <= slack,
            "site {site}: months {down} min down, year {} min",
            year.down_minutes
        );
        assert!(
            monitored <= year.monitored_minutes && year.monitored_minutes - monitored <= slack,
            "site {site}: months {monitored} min monitored, year {} min",
            year.monitored_minutes
        );
    }
}

/// A generated year: a few sites with a few checks each, each check with random state changes.
fn generated(seed: u64) -> (YearMonitoring, i64, i64) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let from = 1_775_000_000;
    let until = from + 86_400 * (1 + rng.below(60) as i64);
    let mut checks = Vec::new();
    let mut changes = Vec::new();
    let mut id = 0;
    for site in 1..=(1 + rng.below(4) as i64) {
        for _ in 0..(1 + rng.below(3)) {
            id += 1;
            // Monitoring may start before the period, inside it, or (never evaluated) not at all.
            let first = match rng.below(4) {
                0 => None,
                1 => Some(from + rng.below((until - from) as u64) as i64),
                _ => Some(from - 86_400),
            };
            checks.push(MonitoredCheck {
                check_id: id,
                name: format!("check {id}"),
                site_id: Some(site),
                nodes: Vec::new(),
                first_change: first,
            });
            let Some(first) = first else { continue };
            let mut ts = first;
            for _ in 0..rng.below(8) {
                ts += 60 + rng.below(5 * 86_400) as i64;
                let to_state = ["up", "down", "down", "degraded", "unknown"][rng.below(5) as usize];
                changes.push(StateChange {
                    check_id: id,
                    ts,
                    to_state: to_state.into(),
                    cause: format!("cause {}", rng.below(3)),
                    maintenance: rng.below(6) == 0,
                    incident_id: None,
                    impacted_by_name: None,
                });
            }
        }
    }
    (
        YearMonitoring {
            checks,
            changes,
            windows: Vec::new(),
            last_result_at: Some(until),
        },
        from,
        until,
    )
}

#[test]
fn generated_years_keep_downtime_and_availability_in_step() {
    for seed in 1..=500u64 {
        let (m, from, until) = generated(seed);
        let a = outages::compute(&m, &[], from, until);
        let sum: i64 = a.sites.values().map(|s| s.down_minutes).sum();
        assert_eq!(a.down_minutes(), sum, "seed {seed}");
        for (site, s) in &a.sites {
            assert!(s.monitored_minutes > 0, "seed {seed} site {site}");
            assert!(
                s.down_minutes <= s.monitored_minutes + 1,
                "seed {seed} site {site}: {s:?}"
            );
            let counted: Vec<_> = s.outages.iter().filter(|o| o.counts()).collect();
            assert_eq!(
                counted.iter().map(|o| o.minutes()).sum::<i64>(),
                s.down_minutes,
                "seed {seed} site {site}"
            );
            // Counted outages of a site never overlap and lie inside the period.
            for w in counted.windows(2) {
                assert!(w[0].end < w[1].start, "seed {seed} site {site}: {w:?}");
            }
            for o in &s.outages {
                assert!(
                    from <= o.start && o.start <= o.end && o.end <= until,
                    "seed {seed}"
                );
                assert!(!o.ongoing || o.end == until, "seed {seed}");
            }
            let p = s.percent().expect("monitored");
            assert!((0.0..=100.0).contains(&p), "seed {seed}: {p}");
            // Without incidents, every counted outage is flagged.
            assert!(
                counted
                    .iter()
                    .all(|o| o.explanation == Explanation::Unexplained),
                "seed {seed}"
            );
        }
        if let Some(p) = a.percent() {
            let expected = 100.0 * (1.0 - a.down_minutes() as f64 / a.monitored_minutes() as f64);
            assert!((p - expected).abs() < 1e-9, "seed {seed}");
        }
        // Sites whose checks were never evaluated in the period are not monitored, not 100 %.
        for c in &m.checks {
            if c.first_change.is_none_or(|t| t >= until) {
                let others = m
                    .checks
                    .iter()
                    .any(|x| x.site_id == c.site_id && x.first_change.is_some_and(|t| t < until));
                if !others {
                    assert!(
                        !a.sites.contains_key(&c.site_id.unwrap_or(0)),
                        "seed {seed}"
                    );
                }
            }
        }
    }
}
