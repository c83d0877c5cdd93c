//! Connectivity checks of the demo (疎通確認, issue 5), so the status board has something to show:
//!
//! - an ICMP check on every network node and every terminal, and a TCP check of the remote-maintenance
//!   port (WinRM, 5985) of one business terminal at the 県庁;
//! - every target is on the loopback range (127.41.x.y, see the crate documentation), so on any machine,
//!   closed or not, those checks get real answers from the engine and nothing leaves the machine; the WinRM
//!   port of `jk-kencho-biz02` is closed there (nothing listens on it): that check is 停止 — a service
//!   stopped on a terminal;
//! - the 鳥栖 line is down: RT-鳥栖 and the terminal behind it have the [`crate::SILENT_ADDRESSES`], which
//!   the demo's engine treats as silent (a blackhole of loopback addresses). RT-鳥栖 is 停止 since the
//!   morning of the office day before (the automatic incident of [`crate::load_incidents`]) and the
//!   鳥栖保健福祉事務所 terminal 影響;
//! - maintenance windows: 伊万里保健福祉事務所's terminal replacement, today and tomorrow (in force, so
//!   that site shows 保守中), and the weekly Wednesday-night maintenance of the 都道府県サーバ (its own
//!   check);
//! - history from the start of the fiscal year, so the board's availability per month is filled: one
//!   result every three hours, every ten minutes on the last day, with a 6-hour outage of the 唐津 line 28
//!   office days ago (RT-唐津 停止, its three sites 影響), a terminal that hung for a morning 8 office days ago, and the
//!   maintenance hours flagged as such; the state changes of those outages and of today's are recorded.
//!
//! Everything depends only on `today` and the current time of day (the history ends now), and goes through
//! the store's own calls: checks and windows audited, results and events as the engine writes them.

use crate::calendar::add_office_days;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::json;
use std::collections::HashMap;
use unyo_domain::connectivity::{CheckInput, MaintenanceWindow, Recurrence, State};
use unyo_store::connectivity::{NewEvent, NewResult};
use unyo_store::{Actor, Result, Store};

/// What the demo loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectivitySummary {
    pub checks: usize,
    pub windows: usize,
    pub results: usize,
    pub events: usize,
}

/// Status codes as stored (bits 0–1 status, 4 maintenance, 8 影響).
const UP: i16 = 0;
const DOWN: i16 = 2;
const MAINTENANCE: i16 = 4;
const IMPACTED: i16 = 8;

/// One check of the demo and where it sits.
struct DemoCheck {
    id: i64,
    name: String,
    /// The node whose outage cuts it off (its site's uplink, or the node itself for a node check).
    node: Option<&'static str>,
    site: Option<&'static str>,
    tcp: bool,
    /// The address answers on a demo machine.
    answers: bool,
}

/// Whether the demo's probes treat `ip` as silent (the 鳥栖 line).
fn silent(ip: &str) -> bool {
    crate::SILENT_ADDRESSES.contains(&ip)
}

/// JST wall time of `day` as an instant.
fn jst(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    day.and_hms_opt(h, m, 0)
        .map(|t| t.and_utc() - Duration::hours(9))
        .unwrap_or_default()
}

/// A small deterministic spread (2–9 ms) for latencies.
fn latency(check: usize, ts: i64) -> u32 {
    let x = (ts / 600)
        .wrapping_mul(2_654_435_761)
        .wrapping_add(check as i64 * 40_503);
    2 + (x.rem_euclid(8)) as u32
}

/// The uplink node of each demo site (as `crate::SITES`) and the node tree (as `crate::NODES`).
fn uplink(site: &str) -> Option<&'static str> {
    crate::SITES
        .iter()
        .find(|s| s.0 == site)
        .map(|s| s.4)
        .filter(|n| !n.is_empty())
}

fn upstream(node: &str) -> Option<&'static str> {
    crate::NODES
        .iter()
        .find(|n| n.0 == node)
        .map(|n| n.4)
        .filter(|n| !n.is_empty())
}

/// Whether `node` lies on the way from `from` (inclusive) to the root.
fn on_path(from: Option<&'static str>, node: &str) -> bool {
    let mut at = from;
    while let Some(n) = at {
        if n == node {
            return true;
        }
        at = upstream(n);
    }
    false
}

/// The codes of the sites whose way to the prefecture passes through `node`.
pub(crate) fn sites_behind(node: &str) -> Vec<&'static str> {
    crate::SITES
        .iter()
        .filter(|s| on_path(uplink(s.0), node))
        .map(|s| s.0)
        .collect()
}

/// An outage: the node that failed (or the one check) and when.
pub(crate) struct Outage {
    pub(crate) node: Option<&'static str>,
    pub(crate) check: Option<&'static str>,
    pub(crate) from: DateTime<Utc>,
    pub(crate) to: Option<DateTime<Utc>>,
    pub(crate) cause: &'static str,
}

/// The check the SE added when the WinRM service of `jk-kencho-biz02` stopped.
pub(crate) const WINRM_CHECK: &str = "jk-kencho-biz02 リモート保守（TCP 5985）";
/// The terminal that hung after an update.
pub(crate) const HUNG_CHECK: &str = "jk-dbk-kito01 死活（ICMP）";

/// The year's outages, on office days: the 唐津 line 28 office days ago, a terminal's morning 8 office
/// days ago, the 鳥栖 line since the office day before, the WinRM service since that day's evening. The
/// board shows them from the check results and events below; [`crate::load_incidents`] explains each
/// with its incident, from these same times.
pub(crate) fn outages(today: NaiveDate) -> [Outage; 4] {
    let karatsu = add_office_days(today, -28);
    let hung = add_office_days(today, -8);
    let before = add_office_days(today, -1);
    [
        Outage {
            node: Some("RT-唐津"),
            check: None,
            from: jst(karatsu, 13, 0),
            to: Some(jst(karatsu, 19, 0)),
            cause: "回線断（通信事業者の設備故障）",
        },
        Outage {
            node: None,
            check: Some(HUNG_CHECK),
            from: jst(hung, 8, 30),
            to: Some(jst(hung, 11, 50)),
            cause: "更新プログラム適用後の再起動で停止",
        },
        Outage {
            node: Some("RT-鳥栖"),
            check: None,
            from: jst(before, 8, 4),
            to: None,
            cause: "応答なし（3回連続）",
        },
        Outage {
            node: None,
            check: Some(WINRM_CHECK),
            from: jst(before, 17, 40),
            to: None,
            cause: "接続拒否（ポート 5985）",
        },
    ]
}

/// Loads the checks, the maintenance windows, the history and the state changes (see the module
/// documentation) on top of [`crate::load_fleet`]'s registry. `now` ends the history.
pub async fn load(
    store: &Store,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<ConnectivitySummary> {
    let sys = Actor::system("demo");
    let engine = Actor::system("connectivity-engine");
    let nodes: HashMap<String, (i64, String)> = store
        .all_nodes()
        .await?
        .into_iter()
        .map(|n| {
            (
                n.name.clone(),
                (n.id, n.ip_address.clone().unwrap_or_default()),
            )
        })
        .collect();
    let site_ids: HashMap<String, i64> = store
        .site_options()
        .await?
        .into_iter()
        .map(|(id, code, _)| (code, id))
        .collect();

    // The checks: every node, every terminal, two remote-maintenance ports.
    let mut inputs = Vec::new();
    let mut places = Vec::new();
    for (name, ..) in crate::NODES {
        let (id, ip) = &nodes[*name];
        inputs.push(CheckInput {
            name: format!("{name} 死活（ICMP）"),
            target_kind: "node".into(),
            target_id: *id,
            kind: "icmp".into(),
            address: ip.clone(),
            ..Default::default()
        });
        places.push((Some(*name), None, false, !silent(ip)));
    }
    let terminals = store
        .terminals(&unyo_store::registry::ListQuery {
            per_page: Some(500),
            ..Default::default()
        })
        .await?
        .items;
    for (host, site, ..) in crate::TERMINALS {
        let Some(t) = terminals.iter().find(|t| t.hostname == *host) else {
            continue;
        };
        let ip = t.ip_address.clone().unwrap_or_default();
        let answers = !silent(&ip);
        inputs.push(CheckInput {
            name: format!("{host} 死活（ICMP）"),
            target_kind: "terminal".into(),
            target_id: t.id,
            kind: "icmp".into(),
            address: ip.clone(),
            ..Default::default()
        });
        places.push((uplink(site), Some(*site), false, answers));
        if *host == "jk-kencho-biz02" {
            inputs.push(CheckInput {
                name: format!("{host} リモート保守（TCP 5985）"),
                target_kind: "terminal".into(),
                target_id: t.id,
                kind: "tcp".into(),
                address: ip,
                port: Some(5985),
                ..Default::default()
            });
            // The address answers, but nothing listens on the demo machine's port 5985: this check is
            // down, refused.
            places.push((uplink(site), Some(*site), true, true));
        }
    }
    let ids = store.create_checks(&sys, &inputs).await?;
    let checks: Vec<DemoCheck> = ids
        .iter()
        .zip(&inputs)
        .zip(places)
        .map(|((id, input), (node, site, tcp, answers))| DemoCheck {
            id: *id,
            name: input.name.clone(),
            node,
            site,
            tcp,
            answers,
        })
        .collect();

    // Maintenance windows: today and tomorrow at 伊万里保健福祉事務所, and every Wednesday night.
    let imari = MaintenanceWindow {
        id: 0,
        title: "伊万里保健福祉事務所 端末入替作業".into(),
        site_id: site_ids.get("HOFUKU-IMARI").copied(),
        node_id: None,
        check_id: None,
        when: Recurrence::Once {
            start: jst(today, 0, 0),
            end: jst(today + Duration::days(1), 18, 0),
        },
    };
    let weekly = MaintenanceWindow {
        id: 0,
        title: "都道府県サーバ 定期保守（毎週水曜 22:00–24:00）".into(),
        site_id: None,
        node_id: None,
        check_id: checks
            .iter()
            .find(|c| c.name == "都道府県サーバ 死活（ICMP）")
            .map(|c| c.id),
        when: Recurrence::Weekly {
            weekday: 2,
            start_min: 22 * 60,
            duration_min: 120,
        },
    };
    let windows = [imari, weekly];
    for w in &windows {
        store.create_maintenance_window(&sys, w).await?;
    }

    let outages = outages(today);
    let node_id = |n: &str| nodes.get(n).map(|x| x.0);
    // Whether `c` is cut off at `ts`, and by which node (None: its own fault).
    let down_at = |c: &DemoCheck, ts: DateTime<Utc>| -> Option<(Option<&'static str>, &Outage)> {
        outages.iter().find_map(|o| {
            let inside = o.from <= ts && o.to.is_none_or(|to| ts < to);
            if !inside {
                return None;
            }
            match (o.node, o.check) {
                (Some(n), _) if on_path(c.node, n) => {
                    // The node's own check is down; the checks behind it are 影響.
                    let own = c.node == Some(n) && c.site.is_none();
                    Some((if own { None } else { Some(n) }, o))
                }
                (_, Some(name)) if name == c.name => Some((None, o)),
                _ => None,
            }
        })
    };
    let covered = |c: &DemoCheck, ts: DateTime<Utc>| {
        windows.iter().any(|w| {
            w.active_at(ts)
                && w.covers(
                    c.id,
                    c.site.and_then(|s| site_ids.get(s).copied()),
                    &c.node
                        .map(|n| {
                            let mut path = vec![n];
                            let mut at = upstream(n);
                            while let Some(u) = at {
                                path.push(u);
                                at = upstream(u);
                            }
                            path.into_iter().filter_map(node_id).collect::<Vec<_>>()
                        })
                        .unwrap_or_default(),
                )
        })
    };

    // History: from April 1 (JST) every three hours, the last day every ten minutes, up to now.
    let fy_start = NaiveDate::from_ymd_opt(
        if today.month() >= 4 {
            today.year()
        } else {
            today.year() - 1
        },
        4,
        1,
    )
    .unwrap_or(today);
    let start = jst(fy_start, 0, 5);
    let dense_from = now - Duration::days(1);
    let mut times = Vec::new();
    let mut ts = start;
    while ts < now {
        times.push(ts);
        ts += if ts < dense_from {
            Duration::hours(3)
        } else {
            Duration::minutes(10)
        };
    }
    let mut batch = Vec::new();
    let mut results = 0usize;
    let mut last: HashMap<i64, NewResult> = HashMap::new();
    for ts in &times {
        for (i, c) in checks.iter().enumerate() {
            // The WinRM check was added when the service stopped.
            if c.tcp && outages[3].from > *ts {
                continue;
            }
            let mut code = match down_at(c, *ts) {
                Some((Some(_), _)) => DOWN | IMPACTED,
                Some((None, _)) => DOWN,
                None if c.tcp => DOWN,
                None => UP,
            };
            if covered(c, *ts) {
                code |= MAINTENANCE;
            }
            let r = NewResult {
                check_id: c.id,
                ts: ts.timestamp(),
                code,
                latency_ms: (code & 3 == UP).then(|| latency(i, ts.timestamp())),
            };
            last.insert(c.id, r);
            batch.push(r);
        }
        if batch.len() >= 5_000 {
            results += batch.len();
            store.append_check_results(&engine, &batch).await?;
            batch.clear();
        }
    }
    results += batch.len();
    store.append_check_results(&engine, &batch).await?;

    // State changes: each check settles on 正常 when its history starts; then the outages, in time order.
    let mut events = Vec::new();
    for c in &checks {
        if c.tcp {
            continue;
        }
        events.push(NewEvent {
            check_id: c.id,
            ts: start.timestamp() + 2 * 3 * 3600,
            from: State::Unknown,
            to: State::Up,
            cause: "監視開始".into(),
            impacted_by: None,
            maintenance: false,
            results: json!([]),
            message: String::new(),
        });
    }
    for o in &outages {
        for c in &checks {
            // Only the checks this outage takes down (not those already down for another reason).
            let Some((by, _)) = down_at(c, o.from).filter(|(_, found)| std::ptr::eq(*found, o))
            else {
                continue;
            };
            let from = if c.tcp { State::Unknown } else { State::Up };
            let impacted_by = by.and_then(node_id);
            let message = if c.answers {
                o.cause.to_string()
            } else {
                "応答なし（タイムアウト）".to_string()
            };
            events.push(NewEvent {
                check_id: c.id,
                ts: o.from.timestamp() + 180,
                from,
                to: State::Down,
                cause: if by.is_some() {
                    format!("経路上の機器が停止（{}）", by.unwrap_or_default())
                } else {
                    o.cause.into()
                },
                impacted_by,
                maintenance: false,
                results: json!([{"ts": o.from.timestamp(), "status": "down"}]),
                message,
            });
            if let Some(to) = o.to {
                events.push(NewEvent {
                    check_id: c.id,
                    ts: to.timestamp() + 180,
                    from: State::Down,
                    to: State::Up,
                    cause: "復旧".into(),
                    impacted_by: None,
                    maintenance: false,
                    results: json!([{"ts": to.timestamp(), "status": "up"}]),
                    message: String::new(),
                });
            }
        }
    }
    events.sort_by_key(|e| e.ts);
    for e in &events {
        store.record_check_event(&engine, e).await?;
    }

    // What the engine would have stored as each check's last result, and the finished hours sealed into
    // roll-ups (the engine does both itself once it runs; done here so the first look is complete).
    store
        .store_last_results(&engine, &last.into_values().collect::<Vec<_>>())
        .await?;
    store.seal_check_results(&engine, now.timestamp()).await?;
    Ok(ConnectivitySummary {
        checks: checks.len(),
        windows: windows.len(),
        results,
        events: events.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The board's mixture and the months' availability are there at once, and the audit chain holds.
    #[tokio::test]
    async fn the_demo_board_shows_a_mixture_and_availability() {
        let db = unyo_store::testing::test_store().await.expect("store");
        let s = &db.store;
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).expect("day");
        let now = jst(today, 15, 20);
        crate::load_fleet(s).await.expect("fleet");
        let summary = load(s, today, now).await.expect("connectivity");
        assert_eq!(summary.checks, 8 + 17 + 1);
        assert_eq!(summary.windows, 2);
        assert!(summary.results > 20_000, "{summary:?}");
        let checks = s.board_checks().await.expect("board");
        let state = |name: &str| {
            let c = checks.iter().find(|c| c.name == name).expect(name);
            (c.current_state(), c.impacted_by)
        };
        let nodes = s.all_nodes().await.expect("nodes");
        let tosu = nodes.iter().find(|n| n.name == "RT-鳥栖").map(|n| n.id);
        assert_eq!(state("RT-鳥栖 死活（ICMP）"), (State::Down, None));
        assert_eq!(state("jk-hfk-tosu01 死活（ICMP）"), (State::Down, tosu));
        assert_eq!(
            state("jk-kencho-biz02 リモート保守（TCP 5985）").0,
            State::Down
        );
        let since = |name: &str| {
            checks
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| c.state_since)
        };
        let tosu_down = jst(add_office_days(today, -1), 8, 7).timestamp();
        assert_eq!(
            since("RT-鳥栖 死活（ICMP）"),
            Some(tosu_down),
            "changed once, by its own outage"
        );
        assert_eq!(since("jk-hfk-tosu01 死活（ICMP）"), Some(tosu_down));
        assert_eq!(state("RT-唐津 死活（ICMP）"), (State::Up, None));
        assert_eq!(state("jk-dbk-kito01 死活（ICMP）").0, State::Up);
        let up = checks
            .iter()
            .filter(|c| c.current_state() == State::Up)
            .count();
        assert_eq!(up, checks.len() - 3);
        // In force today: 伊万里保健福祉事務所's window.
        let windows = s.maintenance_windows().await.expect("windows");
        assert_eq!(windows.iter().filter(|w| w.active_at(now)).count(), 1);
        // Availability per site and month from April: every month filled, 唐津's outage month below 100 %.
        let day = |d: NaiveDate| (jst(d, 0, 0).timestamp() + 9 * 3600).div_euclid(86_400);
        let figures = s
            .site_availability(
                day(NaiveDate::from_ymd_opt(2026, 4, 1).expect("april")),
                day(today + Duration::days(1)),
                now,
            )
            .await
            .expect("availability");
        let months: std::collections::BTreeSet<&str> =
            figures.iter().map(|f| f.month.as_str()).collect();
        assert_eq!(months.len(), 8, "{months:?}");
        assert!(
            figures
                .iter()
                .any(|f| f.availability.is_some_and(|a| a < 100.0)),
            "some outage counted"
        );
        assert!(matches!(
            s.verify_audit_chain().await.expect("verify"),
            unyo_store::audit::ChainReport::Intact { .. }
        ));
    }
}
