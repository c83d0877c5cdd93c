//! The terminal list's in-memory index: which terminals match a search and filter, in which order,
//! without reading the whole table on every request.
//!
//! A list page of a large fleet (100,000 terminals) asks three things: which terminals contain the
//! search text anywhere, how many match, and which 50 come at this page in this sort order. In SQL each
//! is a scan of the table (a `LIKE '%…%'` cannot use a B-tree, and a trigram index is slower than the
//! scan for common words such as `windows`), so each request cost tens of milliseconds. Here the fleet
//! is held as one folded search text per terminal, packed into a single buffer that a SIMD substring
//! search runs over in about a millisecond, plus one precomputed order per sort key. The page's rows
//! are then read from the database by id, so what is shown is always the stored row. A snapshot also
//! remembers the match sets of its last few filters, so the next page or another sort of the same
//! result only walks an order.
//!
//! **Freshness.** Every change to a terminal, and every new, renamed or retired site, bumps `registry_version`
//! in the same transaction (database triggers on both backends, so no write path can forget it). Each
//! list request reads that one row, in the same query as the page's rows; when the database turns out
//! newer than the snapshot, the snapshot is rebuilt and the page chosen again.
//! Several instances sharing one PostgreSQL therefore never show each other stale lists.

use crate::registry::{ListQuery, Status, Terminal};
use crate::{Result, Store, StoreError};
use std::cmp::Ordering;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The sort keys of the terminal list, in the order of [`Snapshot::orders`].
pub(crate) const SORT_KEYS: [&str; 6] = ["hostname", "site", "kind", "ip", "os", "updated"];

/// The index shared by every clone of a [`Store`].
#[derive(Debug, Default)]
pub(crate) struct TerminalIndex {
    current: Mutex<Option<Arc<Snapshot>>>,
    /// Held while rebuilding, so concurrent requests wait for one rebuild instead of each doing one.
    rebuild: tokio::sync::Mutex<()>,
}

/// The fleet at one `registry_version`, column by column (entry `i` is the `i`-th terminal by id), so
/// that filtering 100,000 terminals is a few tight loops over small arrays.
#[derive(Debug)]
struct Snapshot {
    version: i64,
    /// Sites in service (the lists' site filter is chosen by it).
    active_sites: i64,
    ids: Vec<i64>,
    site_ids: Vec<i64>,
    /// Index into `kinds`.
    kind_codes: Vec<u8>,
    /// The distinct kind codes (`business`, `representative`, ...).
    kinds: Vec<Box<str>>,
    retired: Vec<bool>,
    /// The folded search texts of all entries, each followed by `\n` (which folded text never holds).
    text: Vec<u8>,
    /// Where each entry's text starts in `text`, plus the end of the last one.
    starts: Vec<u32>,
    /// Per sort key, entry positions in ascending order (ties by id).
    orders: Vec<Vec<u32>>,
    /// The match sets of the last few filters, newest first: paging through a result, or sorting it
    /// another way, asks the same filter again and then only walks an order.
    recent: Mutex<VecDeque<(FilterKey, Arc<Matches>)>>,
}

/// How many filters' match sets a snapshot keeps (12.5 KB each at 100,000 terminals).
const RECENT_FILTERS: usize = 32;

/// What decides which entries match (the sort and the page do not).
#[derive(Debug, Clone, PartialEq, Eq)]
struct FilterKey {
    status: Status,
    kind: Option<String>,
    site: Option<i64>,
    /// Folded and trimmed; `None` when there is no search text.
    needle: Option<String>,
}

/// The entries one filter matches: a bit per entry, and how many are set.
#[derive(Debug)]
struct Matches {
    bits: Vec<u64>,
    total: usize,
}

impl Matches {
    fn contains(&self, i: usize) -> bool {
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }
}

/// A row as loaded to build the index.
#[derive(sqlx::FromRow)]
struct SourceRow {
    id: i64,
    site_id: i64,
    site_code: String,
    site_name: String,
    hostname: String,
    hostname_key: String,
    kind: String,
    ip_address: Option<String>,
    os_name: String,
    os_version: String,
    serial_number: String,
    asset_number: String,
    updated_at: String,
    retired: bool,
}

const SOURCE_SELECT: &str =
    "SELECT t.id, t.site_id, s.code AS site_code, s.name AS site_name, t.hostname,
    t.hostname_key, t.kind, t.ip_address, t.os_name, t.os_version, t.serial_number, t.asset_number,
    t.updated_at, (t.retired_at IS NOT NULL) AS retired
    FROM terminals t JOIN sites s ON s.id = t.site_id ORDER BY t.id";

/// Folds text for searching: full-width ASCII (ＰＣ－０１) and the ideographic space become their
/// ASCII forms, letters become lower case, control characters become spaces.
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c if c.is_control() => ' ',
            c => c,
        };
        out.extend(c.to_lowercase());
    }
    out
}

/// An IP address as a sort key: IPv4 before IPv6, numerically (10.0.0.9 before 10.0.0.10); text that
/// is not an address after them, and no address first.
fn ip_key(ip: &Option<String>) -> (u8, u128, &str) {
    match ip.as_deref().map(str::trim) {
        None | Some("") => (0, 0, ""),
        Some(s) => match s.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) => (1, u32::from(v4) as u128, ""),
            Ok(IpAddr::V6(v6)) => (2, u128::from(v6), ""),
            Err(_) => (3, 0, s),
        },
    }
}

impl Snapshot {
    fn build(version: i64, active_sites: i64, rows: Vec<SourceRow>) -> Snapshot {
        let n = rows.len();
        let mut text = Vec::with_capacity(n * 96);
        let mut starts = Vec::with_capacity(n + 1);
        for r in &rows {
            starts.push(text.len() as u32);
            let joined = [
                r.hostname.as_str(),
                r.ip_address.as_deref().unwrap_or(""),
                &r.os_name,
                &r.os_version,
                &r.serial_number,
                &r.asset_number,
                &r.site_code,
                &r.site_name,
            ]
            .join(" ");
            text.extend_from_slice(fold(&joined).as_bytes());
            text.push(b'\n');
        }
        starts.push(text.len() as u32);
        let positions = || (0..n as u32).collect::<Vec<u32>>();
        let by = |cmp: &dyn Fn(&SourceRow, &SourceRow) -> Ordering| {
            let mut p = positions();
            p.sort_unstable_by(|&a, &b| {
                let (ra, rb) = (&rows[a as usize], &rows[b as usize]);
                cmp(ra, rb).then(ra.id.cmp(&rb.id))
            });
            p
        };
        let orders = vec![
            by(&|a, b| a.hostname_key.cmp(&b.hostname_key)),
            by(&|a, b| a.site_code.cmp(&b.site_code)),
            by(&|a, b| a.kind.cmp(&b.kind)),
            by(&|a, b| ip_key(&a.ip_address).cmp(&ip_key(&b.ip_address))),
            by(&|a, b| (&a.os_name, &a.os_version).cmp(&(&b.os_name, &b.os_version))),
            by(&|a, b| a.updated_at.cmp(&b.updated_at)),
        ];
        let mut kinds: Vec<Box<str>> = Vec::new();
        let kind_codes = rows
            .iter()
            .map(|r| {
                let code = match kinds.iter().position(|k| **k == *r.kind) {
                    Some(i) => i,
                    None => {
                        kinds.push(r.kind.as_str().into());
                        kinds.len() - 1
                    }
                };
                u8::try_from(code).unwrap_or(u8::MAX)
            })
            .collect();
        Snapshot {
            version,
            active_sites,
            ids: rows.iter().map(|r| r.id).collect(),
            site_ids: rows.iter().map(|r| r.site_id).collect(),
            kind_codes,
            kinds,
            retired: rows.iter().map(|r| r.retired).collect(),
            text,
            starts,
            orders,
            recent: Mutex::new(VecDeque::with_capacity(RECENT_FILTERS)),
        }
    }

    /// Marks the entries whose text contains `needle`: one forward pass of a SIMD substring search,
    /// jumping to the next entry after each hit.
    fn search(&self, needle: &str, keep: &mut [bool]) {
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let mut hit = vec![false; keep.len()];
        let (mut pos, mut i) = (0usize, 0usize);
        while let Some(off) = finder.find(&self.text[pos..]) {
            let at = pos + off;
            while self.starts[i + 1] as usize <= at {
                i += 1;
            }
            hit[i] = true;
            pos = self.starts[i + 1] as usize;
        }
        for (k, h) in keep.iter_mut().zip(hit) {
            *k &= h;
        }
    }

    /// The entries `key` matches, from the recent filters or computed (and then remembered).
    fn matches(&self, key: FilterKey) -> Arc<Matches> {
        if let Ok(mut recent) = self.recent.lock()
            && let Some(at) = recent.iter().position(|(k, _)| *k == key)
        {
            let hit = recent.remove(at).expect("position is in range");
            let m = hit.1.clone();
            recent.push_front(hit);
            return m;
        }
        let m = Arc::new(self.compute(&key));
        if let Ok(mut recent) = self.recent.lock() {
            recent.truncate(RECENT_FILTERS - 1);
            recent.push_front((key, m.clone()));
        }
        m
    }

    fn compute(&self, key: &FilterKey) -> Matches {
        let n = self.ids.len();
        let mut keep: Vec<bool> = match key.status {
            Status::Active => self.retired.iter().map(|r| !r).collect(),
            Status::Retired => self.retired.clone(),
            Status::All => vec![true; n],
        };
        if let Some(kind) = key.kind.as_deref() {
            // An unknown kind matches nothing.
            let code = self
                .kinds
                .iter()
                .position(|k| **k == *kind)
                .map(|c| c as u8);
            for (k, c) in keep.iter_mut().zip(&self.kind_codes) {
                *k &= Some(*c) == code;
            }
        }
        if let Some(site) = key.site {
            for (k, s) in keep.iter_mut().zip(&self.site_ids) {
                *k &= *s == site;
            }
        }
        if let Some(needle) = key.needle.as_deref() {
            self.search(needle, &mut keep);
        }
        let mut bits = vec![0u64; n.div_ceil(64)];
        let mut total = 0;
        for (i, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
            bits[i / 64] |= 1 << (i % 64);
            total += 1;
        }
        Matches { bits, total }
    }

    /// The ids on the requested page, in order, and how many terminals match in all.
    fn select(&self, q: &ListQuery, offset: usize, limit: usize) -> (Vec<i64>, usize) {
        let needle = q.q.as_deref().map(fold);
        let key = FilterKey {
            status: q.status.unwrap_or_default(),
            kind: q.kind.clone().filter(|k| !k.is_empty()),
            site: q.site_id,
            needle: needle
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        };
        let matches = self.matches(key);
        let total = matches.total;
        let key = q
            .sort
            .as_deref()
            .and_then(|s| SORT_KEYS.iter().position(|k| *k == s))
            .unwrap_or(0);
        let order = &self.orders[key];
        let wanted = offset.saturating_add(limit).min(total);
        let mut ids = Vec::with_capacity(limit.min(total));
        let mut seen = 0usize;
        // Walk the order only as far as the requested page.
        let mut take = |i: &u32| {
            if seen >= wanted {
                return false;
            }
            if matches.contains(*i as usize) {
                if seen >= offset {
                    ids.push(self.ids[*i as usize]);
                }
                seen += 1;
            }
            true
        };
        if q.dir.as_deref() == Some("desc") {
            order.iter().rev().take_while(|i| take(i)).for_each(drop);
        } else {
            order.iter().take_while(|i| take(i)).for_each(drop);
        }
        (ids, total)
    }
}

impl Store {
    /// How many sites are in service (lists choose between a drop-down and a code field by it);
    /// answered from the index, which every site creation and retirement refreshes.
    pub async fn active_site_count(&self) -> Result<i64> {
        Ok(self.terminal_snapshot().await?.active_sites)
    }

    /// Builds the terminal list's index ahead of the first list request (at server start).
    pub async fn warm_terminal_index(&self) -> Result<()> {
        self.terminal_snapshot().await.map(drop)
    }

    /// One page of the terminal list, the number of matching terminals, and the number of sites in
    /// service.
    ///
    /// Optimistic: the page is chosen from the snapshot in hand, and the registry's version comes back
    /// with the page's rows in one query. Only when the database has moved past the snapshot is it
    /// rebuilt and the page chosen again, from a snapshot at least as new as the version just read.
    pub(crate) async fn terminal_page(
        &self,
        q: &ListQuery,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Terminal>, usize, i64)> {
        let in_hand = self
            .terminal_index
            .current
            .lock()
            .ok()
            .and_then(|c| c.clone());
        if let Some(snapshot) = in_hand {
            let (ids, total) = snapshot.select(q, offset, limit);
            let (rows, version) = self.terminals_by_id(&ids).await?;
            let version = match version {
                Some(v) => v,
                None => self.registry_version().await?,
            };
            if version <= snapshot.version {
                return Ok((rows, total, snapshot.active_sites));
            }
        }
        let snapshot = self.terminal_snapshot().await?;
        let (ids, total) = snapshot.select(q, offset, limit);
        let (rows, _) = self.terminals_by_id(&ids).await?;
        Ok((rows, total, snapshot.active_sites))
    }

    /// A snapshot at least as new as the database's `registry_version` when called.
    async fn terminal_snapshot(&self) -> Result<Arc<Snapshot>> {
        let index = &self.terminal_index;
        let version = self.registry_version().await?;
        let fresh = |index: &TerminalIndex| {
            index
                .current
                .lock()
                .ok()
                .and_then(|c| c.clone())
                .filter(|s| s.version >= version)
        };
        if let Some(s) = fresh(index) {
            return Ok(s);
        }
        let _rebuilding = index.rebuild.lock().await;
        if let Some(s) = fresh(index) {
            return Ok(s);
        }
        // Read the version before the rows: a write in between makes the snapshot newer than its
        // label, never older, so the worst case is one rebuild too many.
        let version = self.registry_version().await?;
        let (active_sites, rows): (i64, Vec<SourceRow>) = read_db!(self, |db| (
            sqlx::query_scalar("SELECT COUNT(*) FROM sites WHERE retired_at IS NULL")
                .fetch_one(db)
                .await?,
            sqlx::query_as(SOURCE_SELECT).fetch_all(db).await?
        ));
        let snapshot =
            tokio::task::spawn_blocking(move || Snapshot::build(version, active_sites, rows))
                .await
                .map(Arc::new)
                .map_err(|e| StoreError::caused("terminal index build", e))?;
        if let Ok(mut c) = index.current.lock() {
            *c = Some(snapshot.clone());
        }
        Ok(snapshot)
    }

    /// The counter that every terminal write (and site creation, rename, retirement) bumps.
    async fn registry_version(&self) -> Result<i64> {
        Ok(read_db!(self, |db| sqlx::query_scalar(
            "SELECT version FROM registry_version WHERE id = 1"
        )
        .fetch_one(db)
        .await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, host: &str, ip: Option<&str>, site: &str, retired: bool) -> SourceRow {
        SourceRow {
            id,
            site_id: if site == "S1" { 1 } else { 2 },
            site_code: site.into(),
            site_name: format!("{site}庁舎"),
            hostname: host.into(),
            hostname_key: host.to_lowercase(),
            kind: if id == 1 {
                "representative".into()
            } else {
                "business".into()
            },
            ip_address: ip.map(Into::into),
            os_name: "Windows 11".into(),
            os_version: format!("23H2.{id}"),
            serial_number: format!("SN{id:04}"),
            asset_number: String::new(),
            updated_at: format!("2026-05-0{id}T00:00:00Z"),
            retired,
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot::build(
            1,
            2,
            vec![
                row(1, "KEN-PC01", Some("10.0.0.10"), "S1", false),
                row(2, "ken-pc02", Some("10.0.0.9"), "S1", false),
                row(3, "tosu-pc01", None, "S2", false),
                row(4, "old-pc", Some("fe80::1"), "S2", true),
            ],
        )
    }

    fn query(f: impl FnOnce(&mut ListQuery)) -> ListQuery {
        let mut q = ListQuery::default();
        f(&mut q);
        q
    }

    #[test]
    fn fold_makes_full_width_and_case_irrelevant() {
        assert_eq!(fold("ＰＣ－０１\u{3000}Ken"), "pc-01 ken");
        assert_eq!(fold("a\nb"), "a b");
        assert_eq!(fold("県庁"), "県庁");
    }

    #[test]
    fn search_matches_anywhere_and_counts_every_match() {
        let s = snapshot();
        let (ids, total) = s.select(&query(|q| q.q = Some("ＰＣ０1".into())), 0, 10);
        assert_eq!((ids, total), (vec![1, 3], 2));
        // The site's name and code are searchable; retired terminals are hidden by default.
        assert_eq!(
            s.select(&query(|q| q.q = Some("s2庁舎".into())), 0, 10),
            (vec![3], 1)
        );
        let all = query(|q| {
            q.q = Some("s2".into());
            q.status = Some(Status::All);
        });
        assert_eq!(s.select(&all, 0, 10), (vec![4, 3], 2));
        // A search never matches across two terminals' texts.
        assert_eq!(
            s.select(&query(|q| q.q = Some("s1庁舎 ken".into())), 0, 10)
                .1,
            0
        );
        assert_eq!(
            s.select(&query(|q| q.q = Some("zzz".into())), 0, 10),
            (vec![], 0)
        );
    }

    #[test]
    fn filters_sorts_and_pages() {
        let s = snapshot();
        let by_ip = query(|q| {
            q.sort = Some("ip".into());
            q.status = Some(Status::All);
        });
        // No address first, then IPv4 numerically, then IPv6.
        assert_eq!(s.select(&by_ip, 0, 10).0, vec![3, 2, 1, 4]);
        let desc = query(|q| {
            q.sort = Some("ip".into());
            q.dir = Some("desc".into());
        });
        assert_eq!(s.select(&desc, 0, 10).0, vec![1, 2, 3]);
        assert_eq!(s.select(&desc, 1, 1), (vec![2], 3));
        assert_eq!(s.select(&desc, 5, 1), (vec![], 3));
        let site = query(|q| q.site_id = Some(2));
        assert_eq!(s.select(&site, 0, 10), (vec![3], 1));
        let kind = query(|q| q.kind = Some("representative".into()));
        assert_eq!(s.select(&kind, 0, 10), (vec![1], 1));
        let retired = query(|q| q.status = Some(Status::Retired));
        assert_eq!(s.select(&retired, 0, 10), (vec![4], 1));
        // An unknown sort key falls back to the host name.
        let unknown = query(|q| q.sort = Some("nonsense".into()));
        assert_eq!(s.select(&unknown, 0, 10).0, vec![1, 2, 3]);
    }

    #[test]
    fn remembered_filters_answer_as_fresh_ones() {
        let s = snapshot();
        let mut queries = Vec::new();
        for q in ["", "pc", "s1", "ken", "10.0", "zzz", "ＰＣ０1"] {
            for kind in ["", "business", "representative", "nope"] {
                for sort in ["hostname", "ip", "updated"] {
                    queries.push(query(|x| {
                        x.q = Some(q.into());
                        x.kind = Some(kind.into());
                        x.sort = Some(sort.into());
                    }));
                }
            }
        }
        // More distinct filters than are remembered, asked twice over: evicted, remembered and fresh
        // answers must all agree.
        assert!(queries.len() > 2 * RECENT_FILTERS);
        for _ in 0..2 {
            for q in &queries {
                for (offset, limit) in [(0, 10), (1, 2)] {
                    assert_eq!(
                        s.select(q, offset, limit),
                        snapshot().select(q, offset, limit)
                    );
                }
            }
        }
        assert!(s.recent.lock().unwrap().len() <= RECENT_FILTERS);
    }
}
