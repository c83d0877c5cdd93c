//! The year's outages and the availability per site, from one set of windows.
//!
//! A check is down from the state change that made it `down` to the next change that made it anything
//! else, or — still down — up to the pack's cut-off (the newest result kept, at most the end of the issue
//! date). A site is down while any of its checks is down outside a maintenance window: its down windows
//! are the union of its checks' windows. The same windows give the site's 停止時間 and its 稼働率
//! (1 − 停止時間 ÷ 監視時間, the monitored time running from the site's first evaluated check), and the
//! all-site figures are the sums over the sites, so the two columns and the total cannot disagree.
//! Each site outage is explained by the incidents that name the site and overlap it (or that the engine
//! linked to one of its state changes), or by the maintenance window it fell into, or flagged as having no
//! incident record.

use crate::annual::{MonitoredCheck, YearMonitoring};
use crate::incidents::IncidentAccount;
use std::collections::{BTreeMap, HashMap};
use unyo_domain::time::from_storage;

/// Outages at least this long are listed one by one.
pub const LISTED_MINUTES: i64 = 30;

/// How an outage is accounted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Explanation {
    /// Incident numbers.
    Incidents(Vec<String>),
    /// The title of the maintenance window it fell into (not counted as 停止).
    Maintenance(String),
    /// 「障害記録なし」.
    Unexplained,
}

/// A window during which a site was down (or a check of it was down in maintenance).
#[derive(Debug, Clone)]
pub struct SiteOutage {
    pub site_id: i64,
    /// Unix seconds.
    pub start: i64,
    pub end: i64,
    /// Still down at the cut-off.
    pub ongoing: bool,
    /// The checks that were down, by name.
    pub checks: Vec<String>,
    /// Their causes as the engine recorded them (each once).
    pub causes: Vec<String>,
    pub explanation: Explanation,
}

impl SiteOutage {
    /// Whole minutes.
    pub fn minutes(&self) -> i64 {
        (self.end - self.start).max(0) / 60
    }

    /// Whether it counts as 停止 (outside maintenance).
    pub fn counts(&self) -> bool {
        !matches!(self.explanation, Explanation::Maintenance(_))
    }
}

/// One site's monitored time, downtime and outages.
#[derive(Debug, Clone, Default)]
pub struct SiteAvailability {
    /// Minutes from its first evaluated check (or the period's start) to the cut-off; 0: not monitored.
    pub monitored_minutes: i64,
    /// Sum of its outages' minutes outside maintenance.
    pub down_minutes: i64,
    /// Its outages (maintenance ones too), oldest first.
    pub outages: Vec<SiteOutage>,
}

impl SiteAvailability {
    /// Percent, `None` when not monitored.
    pub fn percent(&self) -> Option<f64> {
        availability(self.monitored_minutes, self.down_minutes)
    }

    /// The longest counted outage in minutes.
    pub fn longest_minutes(&self) -> Option<i64> {
        self.outages
            .iter()
            .filter(|o| o.counts())
            .map(SiteOutage::minutes)
            .max()
    }
}

/// `(monitored − down) ÷ monitored` in percent.
pub fn availability(monitored_minutes: i64, down_minutes: i64) -> Option<f64> {
    (monitored_minutes > 0).then(|| {
        100.0 * (monitored_minutes - down_minutes.min(monitored_minutes)) as f64
            / monitored_minutes as f64
    })
}

/// All sites' figures: per site (by id) and the sums.
#[derive(Debug, Clone, Default)]
pub struct Availability {
    pub sites: BTreeMap<i64, SiteAvailability>,
    /// The cut-off (Unix seconds).
    pub until: i64,
}

impl Availability {
    /// Σ monitored minutes over the sites.
    pub fn monitored_minutes(&self) -> i64 {
        self.sites.values().map(|s| s.monitored_minutes).sum()
    }

    /// Σ down minutes over the sites: the all-site 停止時間.
    pub fn down_minutes(&self) -> i64 {
        self.sites.values().map(|s| s.down_minutes).sum()
    }

    /// The all-site 稼働率 in percent.
    pub fn percent(&self) -> Option<f64> {
        availability(self.monitored_minutes(), self.down_minutes())
    }

    /// Outages at least [`LISTED_MINUTES`] long (maintenance ones too), oldest first.
    pub fn listed(&self) -> Vec<&SiteOutage> {
        let mut v: Vec<&SiteOutage> = self
            .sites
            .values()
            .flat_map(|s| s.outages.iter())
            .filter(|o| o.minutes() >= LISTED_MINUTES)
            .collect();
        v.sort_by_key(|o| (o.start, o.site_id));
        v
    }

    /// Listed outages that no incident and no maintenance window explains.
    pub fn unexplained(&self) -> usize {
        self.listed()
            .iter()
            .filter(|o| o.explanation == Explanation::Unexplained)
            .count()
    }

    /// Outages still going on at the cut-off.
    pub fn ongoing(&self) -> usize {
        self.sites
            .values()
            .flat_map(|s| s.outages.iter())
            .filter(|o| o.ongoing && o.counts())
            .count()
    }
}

struct CheckWindow<'a> {
    check: &'a MonitoredCheck,
    start: i64,
    end: i64,
    ongoing: bool,
    cause: String,
    maintenance: Option<String>,
    incident_id: Option<i64>,
}

/// Where a period's windows end: an outage still going on counts up to the newest result kept, never
/// past `to` (the end of the period asked for, e.g. the end of the issue date or now).
pub fn cut_off(m: &YearMonitoring, from: i64, to: i64) -> i64 {
    m.last_result_at
        .filter(|t| *t > from)
        .map_or(to, |t| t.min(to))
}

/// Computes the windows between `from` and `until` (Unix seconds).
pub fn compute(
    m: &YearMonitoring,
    incidents: &[IncidentAccount],
    from: i64,
    until: i64,
) -> Availability {
    // The changes come ordered by check and time: each check's are one run of them.
    let mut runs: HashMap<i64, std::ops::Range<usize>> = HashMap::new();
    for (i, c) in m.changes.iter().enumerate() {
        runs.entry(c.check_id)
            .and_modify(|r| r.end = i + 1)
            .or_insert(i..i + 1);
    }
    let mut windows: Vec<CheckWindow> = Vec::new();
    for check in &m.checks {
        let mut open: Option<CheckWindow> = None;
        let mine = runs
            .get(&check.check_id)
            .map_or(&m.changes[..0], |r| &m.changes[r.clone()]);
        for c in mine {
            let ts = c.ts.clamp(from, until);
            let down = c.to_state == "down";
            match (&mut open, down) {
                (None, true) => {
                    open = Some(CheckWindow {
                        check,
                        start: ts,
                        end: until,
                        ongoing: true,
                        cause: c.cause.clone(),
                        maintenance: c.maintenance.then(|| maintenance_title(m, check, c.ts)),
                        incident_id: c.incident_id,
                    })
                }
                (Some(w), false) => {
                    w.end = ts;
                    w.ongoing = false;
                    if let Some(w) = open.take() {
                        windows.push(w);
                    }
                }
                (Some(w), true) => {
                    // Down again (another cause): the same window; keep the first incident link.
                    w.incident_id = w.incident_id.or(c.incident_id);
                }
                (None, false) => {}
            }
        }
        if let Some(w) = open {
            windows.push(w);
        }
    }
    windows.retain(|w| w.end > w.start);

    let mut out = Availability {
        until,
        ..Default::default()
    };
    for check in &m.checks {
        let (Some(site), Some(first)) = (check.site_id, check.first_change) else {
            continue;
        };
        let start = first.max(from);
        if start >= until {
            continue;
        }
        let e = out.sites.entry(site).or_default();
        let monitored = (until - start) / 60;
        e.monitored_minutes = e.monitored_minutes.max(monitored);
    }
    let mut by_site: HashMap<i64, Vec<&CheckWindow>> = HashMap::new();
    for w in &windows {
        if let Some(site) = w.check.site_id {
            by_site.entry(site).or_default().push(w);
        }
    }
    let sites: Vec<i64> = out.sites.keys().copied().collect();
    for site in sites {
        let mut mine: Vec<&CheckWindow> = by_site.remove(&site).unwrap_or_default();
        mine.sort_by_key(|w| (w.maintenance.is_some(), w.start));
        let mine_all = mine.clone();
        let mut merged: Vec<SiteOutage> = Vec::new();
        // Counted windows first, merged into unions; maintenance ones each on their own.
        for w in mine {
            let add = |o: &mut SiteOutage| {
                if !o.checks.contains(&w.check.name) {
                    o.checks.push(w.check.name.clone());
                }
                if !w.cause.is_empty() && !o.causes.contains(&w.cause) {
                    o.causes.push(w.cause.clone());
                }
            };
            if let Some(title) = &w.maintenance {
                let mut o = outage(site, w.start, w.end, w.ongoing);
                o.explanation = Explanation::Maintenance(title.clone());
                add(&mut o);
                merged.push(o);
                continue;
            }
            match merged
                .iter_mut()
                .rev()
                .find(|o| o.counts() && w.start <= o.end && o.start <= w.end)
            {
                Some(o) => {
                    o.start = o.start.min(w.start);
                    if w.end >= o.end {
                        o.ongoing = w.ongoing;
                    }
                    o.end = o.end.max(w.end);
                    add(o);
                }
                None => {
                    let mut o = outage(site, w.start, w.end, w.ongoing);
                    add(&mut o);
                    merged.push(o);
                }
            }
        }
        for o in merged.iter_mut().filter(|o| o.counts()) {
            let linked: Vec<i64> = mine_all
                .iter()
                .filter(|w| w.start < o.end && o.start < w.end)
                .filter_map(|w| w.incident_id)
                .collect();
            let numbers: Vec<String> = incidents
                .iter()
                .filter(|a| {
                    linked.contains(&a.incident.id)
                        || (a.site_ids.contains(&site) && overlaps(a, o.start, o.end, until))
                })
                .map(|a| a.incident.number.clone())
                .collect();
            o.explanation = if numbers.is_empty() {
                Explanation::Unexplained
            } else {
                Explanation::Incidents(numbers)
            };
        }
        merged.sort_by_key(|o| o.start);
        let e = out.sites.entry(site).or_default();
        e.down_minutes = merged
            .iter()
            .filter(|o| o.counts())
            .map(SiteOutage::minutes)
            .sum();
        e.outages = merged;
    }
    out
}

fn outage(site_id: i64, start: i64, end: i64, ongoing: bool) -> SiteOutage {
    SiteOutage {
        site_id,
        start,
        end,
        ongoing,
        checks: Vec::new(),
        causes: Vec::new(),
        explanation: Explanation::Unexplained,
    }
}

/// Whether the incident's 発生→復旧 (or →cut-off while not recovered) overlaps `[start, end]`.
fn overlaps(a: &IncidentAccount, start: i64, end: i64, until: i64) -> bool {
    let Some(t) = a.incident.times() else {
        return false;
    };
    let from = t.occurred_at.timestamp();
    let to = t.recovered_at.map_or(until, |r| r.timestamp());
    from <= end && start <= to
}

/// The window the check was in at `ts`, by title (「保守時間帯」 when none matches any more).
fn maintenance_title(m: &YearMonitoring, check: &MonitoredCheck, ts: i64) -> String {
    let at = chrono::DateTime::from_timestamp(ts, 0).unwrap_or_default();
    m.windows
        .iter()
        .filter(|w| {
            w.retired_at
                .as_deref()
                .and_then(from_storage)
                .is_none_or(|r| r > at)
        })
        .find(|w| {
            w.window.active_at(at) && w.window.covers(check.check_id, check.site_id, &check.nodes)
        })
        .map_or_else(|| "保守時間帯".to_string(), |w| w.window.title.clone())
}
