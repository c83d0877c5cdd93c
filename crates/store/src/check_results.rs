//! Raw results and their roll-ups, laid out so that each result reaches the disk a few times, not once per
//! page it touches (issue 5: at most 100 bytes written per result at 100,000 checks).
//!
//! A page-based store writes whole pages. Rows keyed by check, one round per commit, touch one page per check
//! per commit (about 4 KB for each 38-byte result). Here every table is keyed by time first, so each commit
//! writes only the tail of its B-trees:
//!
//! - [`Store::append_check_results`] packs a commit's results into one row of `check_result_log` per hour
//!   (about 6 bytes a result: check id, time, status code, latency, as varints);
//! - [`Store::seal_check_results`], once an hour is over, turns its log rows into one packed row per check
//!   in `check_segments`, adds the hour to `check_hourly` and `check_daily`, and deletes the log rows, in one
//!   transaction (a crash before it leaves the log to seal again; after it, nothing is left to repeat);
//! - [`Store::store_last_results`] keeps each check's last result in the narrow `check_last`, written by the
//!   engine about once a minute.
//!
//! Readers see both: sealed rows and the open hour in the log, which holds about an hour of results.

use crate::connectivity::bucket_of;
use crate::connectivity::{DAY, HOUR, NewResult, PRUNE_CHUNK, ResultRow, RollupRow, SiteMonth};
use crate::{Actor, Result, Store, StoreError};
use std::collections::{BTreeMap, HashMap, HashSet};
use unyo_domain::Action;
use unyo_domain::connectivity::{ProbeStatus, TargetKind};

/// What one seal did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sealed {
    /// Log rows read and deleted.
    pub log_rows: u64,
    /// Results moved into segments.
    pub results: u64,
    /// Segments written (one per check and hour).
    pub segments: u64,
}

/// A hasher for integer keys (check ids, buckets): a multiply and a rotate per word. Sealing looks up one
/// entry per result (millions an hour), where the standard hasher's cost shows; the keys are our own, not
/// an attacker's.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }
}

type IdHash = std::hash::BuildHasherDefault<IdHasher>;

/// Rows to write many at a time: integers as one JSON array of arrays and the blobs (if any) as one byte
/// string with offsets, so a statement binds two parameters however many rows it carries. Binding each
/// value costs more than the database's own work at a hundred thousand rows.
#[derive(Default)]
struct Bulk {
    json: String,
    blob: Vec<u8>,
    rows: usize,
    /// Finished statements' (json, blob).
    done: Vec<(String, Vec<u8>)>,
}

/// Written as SQL NULL by [`Bulk`].
const NULL: i64 = i64::MIN;

/// Rows per bulk statement.
const BULK_ROWS: usize = 5_000;

impl Bulk {
    fn row(&mut self, ints: &[i64], blob: Option<&[u8]>) {
        use std::fmt::Write;
        self.json.push(if self.json.is_empty() { '[' } else { ',' });
        self.json.push('[');
        for (i, v) in ints.iter().enumerate() {
            if i > 0 {
                self.json.push(',');
            }
            if *v == NULL {
                self.json.push_str("null");
            } else {
                let _ = write!(self.json, "{v}");
            }
        }
        if let Some(b) = blob {
            // 1-based offset and length, as both backends' substring functions take them.
            let _ = write!(self.json, ",{},{}", self.blob.len() + 1, b.len());
            self.blob.extend_from_slice(b);
        }
        self.json.push(']');
        self.rows += 1;
        if self.rows.is_multiple_of(BULK_ROWS) {
            self.cut();
        }
    }

    fn cut(&mut self) {
        if !self.json.is_empty() {
            self.json.push(']');
            self.done.push((
                std::mem::take(&mut self.json),
                std::mem::take(&mut self.blob),
            ));
        }
    }

    /// The statements that insert the rows into `table`: `ints` name the integer columns in order,
    /// `blob` the byte column; `conflict` is the statement's ON CONFLICT clause. Each is (SQL, the rows as
    /// JSON, the blobs when there is a byte column).
    fn statements(
        mut self,
        postgres: bool,
        table: &str,
        ints: &[&str],
        blob: Option<&str>,
        conflict: &str,
    ) -> Vec<(String, String, Option<Vec<u8>>)> {
        self.cut();
        let mut columns: Vec<String> = ints.iter().map(|c| c.to_string()).collect();
        let mut values: Vec<String> = (0..ints.len())
            .map(|i| {
                if postgres {
                    format!("(e->>{i})::BIGINT")
                } else {
                    format!("value->>{i}")
                }
            })
            .collect();
        if let Some(b) = blob {
            let (o, l) = (ints.len(), ints.len() + 1);
            columns.push(b.to_string());
            values.push(if postgres {
                format!("substring($2::BYTEA from (e->>{o})::INT for (e->>{l})::INT)")
            } else {
                format!("substr($2, value->>{o}, value->>{l})")
            });
        }
        let from = if postgres {
            "jsonb_array_elements($1::JSONB) e"
        } else {
            // `WHERE true` tells SQLite's parser that ON CONFLICT belongs to the INSERT.
            "json_each($1) WHERE true"
        };
        let sql = format!(
            "INSERT INTO {table} AS r ({}) SELECT {} FROM {from} {conflict}",
            columns.join(", "),
            values.join(", ")
        );
        let with_blob = blob.is_some();
        self.done
            .into_iter()
            .map(|(json, bytes)| (sql.clone(), json, with_blob.then_some(bytes)))
            .collect()
    }
}

/// Log rows read per query while sealing.
const LOG_PAGE: i64 = 256;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn put_tail(out: &mut Vec<u8>, r: &NewResult) {
    out.push(r.code as u8);
    put_varint(out, r.latency_ms.map_or(0, |l| u64::from(l) + 1));
}

fn get_tail(buf: &[u8], pos: &mut usize) -> Option<(i16, Option<u32>)> {
    let code = i16::from(*buf.get(*pos)?);
    *pos += 1;
    let l = get_varint(buf, pos)?;
    let latency = match l {
        0 => None,
        l => Some(u32::try_from(l - 1).ok()?),
    };
    Some((code, latency))
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Internal(format!("connectivity: a packed {what} cannot be read"))
}

/// Packs results (sorted by time, all at or after `ts_min`) as a log row's data.
fn encode_log(results: &[NewResult], ts_min: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(results.len() * 7);
    for r in results {
        put_varint(&mut out, r.check_id as u64);
        put_varint(&mut out, (r.ts - ts_min) as u64);
        put_tail(&mut out, r);
    }
    out
}

/// A log row: hour bucket, first and last time, count, packed results.
type LogRow = (i64, i64, i64, i64, Vec<u8>);

/// Packs results as log rows, one per hour they cover.
fn log_rows(mut results: Vec<NewResult>) -> Vec<LogRow> {
    results.sort_by_key(|r| r.ts);
    results
        .chunk_by(|a, b| bucket_of(a.ts, HOUR) == bucket_of(b.ts, HOUR))
        .map(|hour| {
            let (lo, hi) = (hour[0].ts, hour[hour.len() - 1].ts);
            (
                bucket_of(lo, HOUR),
                lo,
                hi,
                hour.len() as i64,
                encode_log(hour, lo),
            )
        })
        .collect()
}

/// Inserts one [`LogRow`] in the transaction `tx` (a macro: the transaction's type differs by backend).
macro_rules! insert_log_row {
    ($tx:ident, $row:expr) => {{
        let (bucket, lo, hi, n, data) = $row;
        sqlx::query(
            "INSERT INTO check_result_log (bucket, ts_min, ts_max, n, data) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(bucket)
        .bind(lo)
        .bind(hi)
        .bind(n)
        .bind(data)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Unpacks a log row's data, calling `f` for each result.
fn decode_log(data: &[u8], ts_min: i64, mut f: impl FnMut(NewResult)) -> Result<()> {
    let mut pos = 0;
    while pos < data.len() {
        let r = (|| {
            let check_id = i64::try_from(get_varint(data, &mut pos)?).ok()?;
            let ts = ts_min.checked_add(i64::try_from(get_varint(data, &mut pos)?).ok()?)?;
            let (code, latency_ms) = get_tail(data, &mut pos)?;
            Some(NewResult {
                check_id,
                ts,
                code,
                latency_ms,
            })
        })()
        .ok_or_else(|| corrupt("log row"))?;
        f(r);
    }
    Ok(())
}

/// One check's results in one hour, packed in time order: the time as a delta from the previous result (the
/// first from the hour's start), the status code, the latency.
#[derive(Debug, Default)]
struct Segment {
    data: Vec<u8>,
    n: i64,
    last_ts: i64,
    /// Results arrived out of time order; re-packed once at the end.
    unsorted: Vec<NewResult>,
}

impl Segment {
    fn push(&mut self, bucket: i64, r: &NewResult) {
        if self.n == 0 {
            self.last_ts = bucket * HOUR;
        }
        if r.ts < self.last_ts {
            self.unsorted.push(*r);
            return;
        }
        put_varint(&mut self.data, (r.ts - self.last_ts) as u64);
        put_tail(&mut self.data, r);
        self.last_ts = r.ts;
        self.n += 1;
    }

    /// The packed data, with anything that arrived out of order merged in.
    fn finish(mut self, bucket: i64, check_id: i64) -> Result<(i64, Vec<u8>)> {
        if self.unsorted.is_empty() {
            return Ok((self.n, self.data));
        }
        let mut all = std::mem::take(&mut self.unsorted);
        decode_segment(&self.data, bucket, check_id, |r| all.push(r))?;
        all.sort_by_key(|r| r.ts);
        let mut s = Segment::default();
        for r in &all {
            s.push(bucket, r);
        }
        Ok((s.n, s.data))
    }
}

fn decode_segment(
    data: &[u8],
    bucket: i64,
    check_id: i64,
    mut f: impl FnMut(NewResult),
) -> Result<()> {
    let mut pos = 0;
    let mut ts = bucket * HOUR;
    while pos < data.len() {
        let (delta, code, latency_ms) = (|| {
            let d = i64::try_from(get_varint(data, &mut pos)?).ok()?;
            let (code, latency) = get_tail(data, &mut pos)?;
            Some((d, code, latency))
        })()
        .ok_or_else(|| corrupt("segment"))?;
        ts += delta;
        f(NewResult {
            check_id,
            ts,
            code,
            latency_ms,
        });
    }
    Ok(())
}

/// Adds one result to a roll-up bucket.
fn add(e: &mut RollupRow, r: &NewResult) {
    if r.code & 4 != 0 {
        e.maintenance += 1;
    } else {
        match ProbeStatus::from_code(i64::from(r.code & 3)) {
            ProbeStatus::Up => e.up += 1,
            ProbeStatus::Degraded => e.degraded += 1,
            ProbeStatus::Down => e.down += 1,
            ProbeStatus::Unknown => e.unknown += 1,
        }
    }
    if r.code & 8 != 0 {
        e.impacted += 1;
    }
    if let Some(l) = r.latency_ms {
        e.latency_sum += i64::from(l);
        e.latency_n += 1;
        e.latency_max = e.latency_max.max(i64::from(l));
    }
}

/// Adds one roll-up bucket to another.
fn merge(e: &mut RollupRow, o: &RollupRow) {
    e.up += o.up;
    e.degraded += o.degraded;
    e.down += o.down;
    e.unknown += o.unknown;
    e.maintenance += o.maintenance;
    e.impacted += o.impacted;
    e.latency_sum += o.latency_sum;
    e.latency_n += o.latency_n;
    e.latency_max = e.latency_max.max(o.latency_max);
}

/// The roll-up tables' columns, in the order of [`rollup_values`].
const ROLLUP_COLUMN_NAMES: [&str; 11] = [
    "bucket",
    "check_id",
    "up",
    "degraded",
    "down",
    "unknown",
    "maintenance",
    "impacted",
    "latency_sum",
    "latency_n",
    "latency_max",
];

fn rollup_values(bucket: i64, check_id: i64, e: &RollupRow) -> [i64; 11] {
    [
        bucket,
        check_id,
        e.up,
        e.degraded,
        e.down,
        e.unknown,
        e.maintenance,
        e.impacted,
        e.latency_sum,
        e.latency_n,
        e.latency_max,
    ]
}

/// Adds a bucket to what a roll-up table holds for it (late results add to a sealed hour; each hour adds
/// to its day).
const ROLLUP_ADD: &str = "ON CONFLICT (bucket, check_id) DO UPDATE SET
    up = r.up + excluded.up,
    degraded = r.degraded + excluded.degraded,
    down = r.down + excluded.down,
    unknown = r.unknown + excluded.unknown,
    maintenance = r.maintenance + excluded.maintenance,
    impacted = r.impacted + excluded.impacted,
    latency_sum = r.latency_sum + excluded.latency_sum,
    latency_n = r.latency_n + excluded.latency_n,
    latency_max = CASE WHEN excluded.latency_max > r.latency_max THEN excluded.latency_max ELSE r.latency_max END";

fn rollup_table(grain: i64) -> Result<&'static str> {
    match grain {
        HOUR => Ok("check_hourly"),
        DAY => Ok("check_daily"),
        _ => Err(StoreError::Internal(format!(
            "connectivity: no roll-up of grain {grain}"
        ))),
    }
}

/// The rows of one check in a table keyed by (bucket, check id), from bucket `lo` to `hi`: one index seek
/// per bucket (the key starts with the bucket, so a range on the check alone would read every check).
fn per_check_sql(table: &str, columns: &str, postgres: bool) -> String {
    let buckets = if postgres {
        "SELECT generate_series($2::BIGINT, $3::BIGINT) AS x"
    } else {
        "WITH RECURSIVE s(x) AS (SELECT $2 UNION ALL SELECT x + 1 FROM s WHERE x < $3) SELECT x FROM s"
    };
    format!(
        "SELECT {columns} FROM ({buckets}) b JOIN {table} r ON r.bucket = b.x AND r.check_id = $1
         ORDER BY r.bucket"
    )
}

const ROLLUP_COLUMNS: &str =
    "r.check_id, r.bucket, r.up, r.degraded, r.down, r.unknown, r.maintenance,
    r.impacted, r.latency_sum, r.latency_n, r.latency_max";

type RollupTuple = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);

fn rollup_of(grain: i64, t: RollupTuple) -> RollupRow {
    RollupRow {
        check_id: t.0,
        grain,
        bucket: t.1,
        up: t.2,
        degraded: t.3,
        down: t.4,
        unknown: t.5,
        maintenance: t.6,
        impacted: t.7,
        latency_sum: t.8,
        latency_n: t.9,
        latency_max: t.10,
    }
}

/// A seal's reading: the log rows read so far, unpacked per check and hour.
#[derive(Default)]
struct Unpacked {
    /// One entry per check and hour: its packed results and its roll-up.
    hours: HashMap<(i64, i64), (Segment, RollupRow), IdHash>,
    last_id: i64,
    log_rows: u64,
    results: u64,
}

impl Unpacked {
    fn add_page(mut self, page: &[(i64, i64, i64, Vec<u8>)]) -> Result<Unpacked> {
        for (id, bucket, ts_min, data) in page {
            self.last_id = *id;
            self.log_rows += 1;
            decode_log(data, *ts_min, |r| {
                self.results += 1;
                let (seg, roll) = self.hours.entry((*bucket, r.check_id)).or_default();
                seg.push(*bucket, &r);
                add(roll, &r);
            })?;
        }
        Ok(self)
    }
}

impl Store {
    fn is_postgres(&self) -> bool {
        matches!(self.backend, crate::Backend::Postgres(_))
    }

    /// Appends a batch of raw results: one packed log row per hour the batch covers, in one transaction.
    /// The engine's writer calls this with everything that arrived since its last commit; the results are
    /// readable at once and are sealed into segments and roll-ups once their hour is over
    /// ([`Store::seal_check_results`]). Needs [`Action::RunChecks`].
    pub async fn append_check_results(&self, actor: &Actor, batch: &[NewResult]) -> Result<()> {
        actor.require(Action::RunChecks)?;
        if batch.is_empty() {
            return Ok(());
        }
        let rows = log_rows(batch.to_vec());
        write_tx!(self, |tx| {
            for row in &rows {
                insert_log_row!(tx, row);
            }
        });
        Ok(())
    }

    /// As [`Store::append_check_results`], written under `fence` (several instances on one database):
    /// in the same transaction the store reads which of the fence's shard leases still have this holder
    /// and token and have not expired at `now_ms` (locking them against a take-over until the commit),
    /// and keeps only the results of those shards. Returns how many results were refused. Needs
    /// [`Action::RunChecks`].
    pub async fn append_check_results_fenced(
        &self,
        actor: &Actor,
        batch: &[NewResult],
        fence: &crate::cluster::Fence,
        now_ms: i64,
    ) -> Result<u64> {
        actor.require(Action::RunChecks)?;
        if batch.is_empty() {
            return Ok(0);
        }
        let postgres = self.is_postgres();
        let refused = write_tx!(self, |tx| {
            let held = crate::cluster::fenced_shards!(tx, postgres, fence, now_ms);
            let kept: Vec<NewResult> = batch
                .iter()
                .filter(|r| held.contains(&crate::cluster::shard_of(r.check_id)))
                .copied()
                .collect();
            let refused = (batch.len() - kept.len()) as u64;
            if !kept.is_empty() {
                for row in &log_rows(kept) {
                    insert_log_row!(tx, row);
                }
            }
            refused
        });
        Ok(refused)
    }

    /// Seals the log rows of every hour before the one holding `before` (Unix seconds): one packed segment
    /// per check and hour (merged with what an earlier seal wrote for that hour, for results that came
    /// late), the hour added to the hourly and daily roll-ups, the log rows deleted — all in one
    /// transaction. Results of the earlier layout are moved into the log first. Needs
    /// [`Action::RunChecks`].
    pub async fn seal_check_results(&self, actor: &Actor, before: i64) -> Result<Sealed> {
        actor.require(Action::RunChecks)?;
        self.move_legacy_results().await?;
        let limit = bucket_of(before, HOUR);
        let postgres = self.is_postgres();
        // Read and unpack outside the write lock (the engine's commits go on meanwhile): the rows read are
        // only ever deleted by a seal, which the write transaction below checks for.
        let mut acc = Unpacked::default();
        loop {
            let page: Vec<(i64, i64, i64, Vec<u8>)> = read_db!(self, |db| sqlx::query_as(
                "SELECT id, bucket, ts_min, data FROM check_result_log
                 WHERE bucket < $1 AND id > $2 ORDER BY id LIMIT $3",
            )
            .bind(limit)
            .bind(acc.last_id)
            .bind(LOG_PAGE)
            .fetch_all(db)
            .await?);
            let full = page.len() as i64 == LOG_PAGE;
            if page.is_empty() {
                break;
            }
            // Unpacking a page is CPU work: off the async workers.
            acc = tokio::task::spawn_blocking(move || acc.add_page(&page))
                .await
                .map_err(|e| StoreError::caused("connectivity: sealing", e))??;
            if !full {
                break;
            }
        }
        if acc.log_rows == 0 {
            return Ok(Sealed::default());
        }
        let Unpacked {
            mut hours,
            last_id,
            log_rows,
            results,
        } = acc;
        let out = write_tx!(self, |tx| {
            if postgres {
                // One sealer at a time across servers (SQLite's write lock does this by itself).
                sqlx::query("SELECT pg_advisory_xact_lock(5013)")
                    .execute(&mut *tx)
                    .await?;
            }
            let still: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM check_result_log WHERE id <= $1 AND bucket < $2",
            )
            .bind(last_id)
            .bind(limit)
            .fetch_one(&mut *tx)
            .await?;
            if still as u64 != log_rows {
                // Another seal took some of these rows meanwhile; what is left waits for the next one.
                Sealed::default()
            } else {
                // Hours sealed before (results that came late) are merged with what is there.
                let buckets: HashSet<i64> = hours.keys().map(|k| k.0).collect();
                for bucket in buckets {
                    let old: Vec<(i64, Vec<u8>)> = sqlx::query_as(
                        "SELECT check_id, data FROM check_segments WHERE bucket = $1",
                    )
                    .bind(bucket)
                    .fetch_all(&mut *tx)
                    .await?;
                    for (check_id, data) in old {
                        if let Some((seg, _)) = hours.get_mut(&(bucket, check_id)) {
                            decode_segment(&data, bucket, check_id, |r| seg.unsorted.push(r))?;
                        }
                    }
                }
                let mut rows: Vec<((i64, i64), (Segment, RollupRow))> = hours.into_iter().collect();
                // Key order: each statement appends to the tail of the B-trees.
                rows.sort_unstable_by_key(|r| r.0);
                let mut daily: BTreeMap<(i64, i64), RollupRow> = BTreeMap::new();
                let mut segments = Bulk::default();
                let mut hourly = Bulk::default();
                for ((bucket, check_id), (seg, roll)) in rows {
                    let day = bucket_of(bucket * HOUR, DAY);
                    let d = daily.entry((day, check_id)).or_default();
                    merge(d, &roll);
                    let (n, data) = seg.finish(bucket, check_id)?;
                    segments.row(&[bucket, check_id, n], Some(&data));
                    hourly.row(&rollup_values(bucket, check_id, &roll), None);
                }
                let segments_written = segments.rows as u64;
                let mut days = Bulk::default();
                for ((day, check_id), e) in &daily {
                    days.row(&rollup_values(*day, *check_id, e), None);
                }
                let mut statements = segments.statements(
                    postgres,
                    "check_segments",
                    &["bucket", "check_id", "n"],
                    Some("data"),
                    "ON CONFLICT (bucket, check_id) DO UPDATE SET n = excluded.n, data = excluded.data",
                );
                statements.extend(hourly.statements(
                    postgres,
                    "check_hourly",
                    &ROLLUP_COLUMN_NAMES,
                    None,
                    ROLLUP_ADD,
                ));
                statements.extend(days.statements(
                    postgres,
                    "check_daily",
                    &ROLLUP_COLUMN_NAMES,
                    None,
                    ROLLUP_ADD,
                ));
                for (sql, json, blob) in statements {
                    let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(json);
                    match blob {
                        Some(b) => q.bind(b).execute(&mut *tx).await?,
                        None => q.execute(&mut *tx).await?,
                    };
                }
                sqlx::query("DELETE FROM check_result_log WHERE id <= $1 AND bucket < $2")
                    .bind(last_id)
                    .bind(limit)
                    .execute(&mut *tx)
                    .await?;
                Sealed {
                    log_rows,
                    results,
                    segments: segments_written,
                }
            }
        });
        Ok(out)
    }

    /// Moves raw results of the earlier one-row-per-result layout into the log, in chunks; they are then
    /// sealed like any other. Nothing to do (one cheap read) once they are moved.
    async fn move_legacy_results(&self) -> Result<()> {
        const CHUNK: i64 = 50_000;
        let rowid = if self.is_postgres() { "ctid" } else { "rowid" };
        loop {
            let moved = write_tx!(self, |tx| {
                let rows: Vec<(i64, i64, i64, Option<i64>)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT check_id, ts, status, latency_ms FROM check_results_legacy
                         ORDER BY {rowid} LIMIT $1"
                    )))
                    .bind(CHUNK)
                    .fetch_all(&mut *tx)
                    .await?;
                if rows.is_empty() {
                    0
                } else {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DELETE FROM check_results_legacy WHERE {rowid} IN (
                         SELECT {rowid} FROM check_results_legacy ORDER BY {rowid} LIMIT $1)"
                    )))
                    .bind(CHUNK)
                    .execute(&mut *tx)
                    .await?;
                    let results: Vec<NewResult> = rows
                        .iter()
                        .map(|&(check_id, ts, status, latency)| NewResult {
                            check_id,
                            ts,
                            code: status as i16,
                            latency_ms: latency.and_then(|l| u32::try_from(l).ok()),
                        })
                        .collect();
                    for row in &log_rows(results) {
                        insert_log_row!(tx, row);
                    }
                    rows.len() as i64
                }
            });
            if moved < CHUNK {
                return Ok(());
            }
        }
    }

    /// Each unsealed result in the log with `ts >= since`, in log order.
    async fn log_results(&self, since: i64, mut f: impl FnMut(NewResult)) -> Result<()> {
        let rows: Vec<(i64, Vec<u8>)> = read_db!(self, |db| sqlx::query_as(
            "SELECT ts_min, data FROM check_result_log WHERE ts_max >= $1 ORDER BY id"
        )
        .bind(since)
        .fetch_all(db)
        .await?);
        for (ts_min, data) in &rows {
            decode_log(data, *ts_min, |r| {
                if r.ts >= since {
                    f(r)
                }
            })?;
        }
        Ok(())
    }

    /// The first and last bucket of a table keyed by (bucket, check id); `None` when it is empty.
    async fn bucket_span(&self, table: &str) -> Result<Option<(i64, i64)>> {
        let sql =
            format!("SELECT (SELECT min(bucket) FROM {table}), (SELECT max(bucket) FROM {table})");
        let (lo, hi): (Option<i64>, Option<i64>) =
            read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_one(db)
                .await?);
        Ok(lo.zip(hi))
    }

    /// `columns` of one check's rows in a table keyed by (bucket, check id), from bucket `from` to the
    /// table's last: one key seek per bucket in the span the table holds (see [`per_check_sql`]).
    async fn per_check_rows<T>(
        &self,
        table: &str,
        columns: &str,
        check_id: i64,
        from: i64,
    ) -> Result<Vec<T>>
    where
        T: Send + Unpin,
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let Some((lo, hi)) = self.bucket_span(table).await? else {
            return Ok(Vec::new());
        };
        let lo = lo.max(from);
        if lo > hi {
            return Ok(Vec::new());
        }
        let sql = per_check_sql(table, columns, self.is_postgres());
        Ok(read_db!(self, |db| sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(check_id)
        .bind(lo)
        .bind(hi)
        .fetch_all(db)
        .await?))
    }

    /// Raw results of a check since `since` (Unix seconds), oldest first (at most 100,000): the sealed
    /// hours and the open one.
    pub async fn check_results(&self, check_id: i64, since: i64) -> Result<Vec<ResultRow>> {
        let mut out: Vec<NewResult> = Vec::new();
        let rows: Vec<(i64, Vec<u8>)> = self
            .per_check_rows(
                "check_segments",
                "r.bucket, r.data",
                check_id,
                bucket_of(since, HOUR),
            )
            .await?;
        for (bucket, data) in &rows {
            decode_segment(data, *bucket, check_id, |r| {
                if r.ts >= since {
                    out.push(r)
                }
            })?;
        }
        self.log_results(since, |r| {
            if r.check_id == check_id {
                out.push(r)
            }
        })
        .await?;
        out.sort_by_key(|r| r.ts);
        out.truncate(100_000);
        Ok(out
            .into_iter()
            .map(|r| ResultRow {
                check_id: r.check_id,
                ts: r.ts,
                status: i64::from(r.code),
                latency_ms: r.latency_ms.map(i64::from),
            })
            .collect())
    }

    /// Every check's raw results since `since` (Unix seconds), sealed and open, in no particular order:
    /// for checking a run across instances (`cargo xtask cluster-test`), one pass instead of one per check.
    #[doc(hidden)]
    pub async fn all_check_results(&self, since: i64) -> Result<Vec<NewResult>> {
        let mut out: Vec<NewResult> = Vec::new();
        let rows: Vec<(i64, i64, Vec<u8>)> = read_db!(self, |db| sqlx::query_as(
            "SELECT bucket, check_id, data FROM check_segments WHERE bucket >= $1"
        )
        .bind(bucket_of(since, HOUR))
        .fetch_all(db)
        .await?);
        for (bucket, check_id, data) in &rows {
            decode_segment(data, *bucket, *check_id, |r| {
                if r.ts >= since {
                    out.push(r)
                }
            })?;
        }
        self.log_results(since, |r| out.push(r)).await?;
        Ok(out)
    }

    /// Roll-up buckets of a check at `grain` ([`HOUR`] or [`DAY`]) from bucket `from`, oldest first: the
    /// sealed hours and the open one.
    pub async fn check_rollups(
        &self,
        check_id: i64,
        grain: i64,
        from: i64,
    ) -> Result<Vec<RollupRow>> {
        let table = rollup_table(grain)?;
        let rows: Vec<RollupTuple> = self
            .per_check_rows(table, ROLLUP_COLUMNS, check_id, from)
            .await?;
        let mut by: BTreeMap<i64, RollupRow> = rows
            .into_iter()
            .map(|t| (t.1, rollup_of(grain, t)))
            .collect();
        let since = if grain == DAY {
            from * DAY - 9 * 3600
        } else {
            from * grain
        };
        self.log_results(since, |r| {
            if r.check_id == check_id {
                let bucket = bucket_of(r.ts, grain);
                add(
                    by.entry(bucket).or_insert_with(|| RollupRow {
                        check_id,
                        grain,
                        bucket,
                        ..Default::default()
                    }),
                    &r,
                );
            }
        })
        .await?;
        Ok(by.into_values().collect())
    }

    /// Keeps each check's last result (written by the engine about once a minute, not with every commit:
    /// see the module documentation). Needs [`Action::RunChecks`].
    pub async fn store_last_results(&self, actor: &Actor, last: &[NewResult]) -> Result<()> {
        actor.require(Action::RunChecks)?;
        if last.is_empty() {
            return Ok(());
        }
        let mut rows = last.to_vec();
        rows.sort_unstable_by_key(|r| r.check_id);
        rows.dedup_by_key(|r| r.check_id);
        let mut bulk = Bulk::default();
        for r in &rows {
            let latency = r.latency_ms.map_or(NULL, i64::from);
            bulk.row(&[r.check_id, r.ts, i64::from(r.code), latency], None);
        }
        let statements = bulk.statements(
            self.is_postgres(),
            "check_last",
            &["check_id", "ts", "status", "latency_ms"],
            None,
            "ON CONFLICT (check_id) DO UPDATE SET ts = excluded.ts, status = excluded.status,
             latency_ms = excluded.latency_ms",
        );
        write_tx!(self, |tx| {
            for (sql, json, _) in &statements {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(json)
                    .execute(&mut *tx)
                    .await?;
            }
        });
        Ok(())
    }

    /// Deletes raw results older than the hour holding `before` (Unix seconds), after sealing them: their
    /// roll-ups stay. Returns the results deleted. In transactions of at most [`PRUNE_CHUNK`] segments
    /// from the front of the table (its key starts with the hour), so it reads only what it deletes and
    /// other writers get the database between chunks.
    pub async fn prune_check_results(&self, actor: &Actor, before: i64) -> Result<u64> {
        actor.require(Action::RunChecks)?;
        self.seal_check_results(actor, before).await?;
        self.prune_front("check_segments", "COALESCE(SUM(n), 0)", before)
            .await
    }

    /// Deletes hourly roll-ups older than the hour holding `before` (Unix seconds); daily roll-ups are kept
    /// for years. In transactions of at most [`PRUNE_CHUNK`] rows from the front of the table.
    pub async fn prune_hourly_rollups(&self, actor: &Actor, before: i64) -> Result<u64> {
        actor.require(Action::RunChecks)?;
        self.prune_front("check_hourly", "COUNT(*)", before).await
    }

    /// Deletes the rows of a (bucket, check id)-keyed table before the hour of `before`, chunk by chunk;
    /// `measure` sums what each chunk held.
    async fn prune_front(&self, table: &str, measure: &str, before: i64) -> Result<u64> {
        let limit = bucket_of(before, HOUR);
        let chunk_sql = format!(
            "SELECT bucket, check_id FROM {table} WHERE bucket < $1 ORDER BY bucket, check_id
             LIMIT 1 OFFSET $2"
        );
        let measure_sql = format!(
            "SELECT CAST({measure} AS BIGINT) FROM {table} WHERE bucket < $1 AND (bucket, check_id) <= ($2, $3)"
        );
        let delete_sql =
            format!("DELETE FROM {table} WHERE bucket < $1 AND (bucket, check_id) <= ($2, $3)");
        let mut total = 0u64;
        loop {
            let (n, more) = write_tx!(self, |tx| {
                // The last key of this chunk: the PRUNE_CHUNK-th row, or the last old one.
                let mut end: Option<(i64, i64)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(chunk_sql.clone()))
                        .bind(limit)
                        .bind(PRUNE_CHUNK - 1)
                        .fetch_optional(&mut *tx)
                        .await?;
                let more = end.is_some();
                if end.is_none() {
                    end = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT bucket, check_id FROM {table} WHERE bucket < $1
                         ORDER BY bucket DESC, check_id DESC LIMIT 1"
                    )))
                    .bind(limit)
                    .fetch_optional(&mut *tx)
                    .await?;
                }
                match end {
                    None => (0u64, false),
                    Some((b, c)) => {
                        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(measure_sql.clone()))
                            .bind(limit)
                            .bind(b)
                            .bind(c)
                            .fetch_one(&mut *tx)
                            .await?;
                        sqlx::query(sqlx::AssertSqlSafe(delete_sql.clone()))
                            .bind(limit)
                            .bind(b)
                            .bind(c)
                            .execute(&mut *tx)
                            .await?;
                        (n as u64, more)
                    }
                }
            });
            total += n;
            if !more {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Each site's months between two JST day numbers (e.g. a fiscal year): results counted by state from
    /// the daily roll-ups (one query) and the open hour, and 停止時間 and 稼働率 from the outage windows of
    /// the checks' state changes ([`crate::outages`], as the council pack computes them), cut at `now`
    /// and at the newest result kept.
    pub async fn site_availability(
        &self,
        from_day: i64,
        to_day: i64,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<SiteMonth>> {
        let mut rows: Vec<(i64, i64, i64, i64, i64, i64)> = read_db!(self, |db| sqlx::query_as(
            "SELECT COALESCE(t.site_id, n.site_id) AS site_id, r.bucket,
                    CAST(SUM(r.up) AS BIGINT), CAST(SUM(r.degraded) AS BIGINT),
                    CAST(SUM(r.down) AS BIGINT), CAST(SUM(r.maintenance) AS BIGINT)
             FROM check_daily r JOIN connectivity_checks c ON c.id = r.check_id
             LEFT JOIN terminals t ON c.target_kind = $3 AND t.id = c.target_id
             LEFT JOIN network_nodes n ON c.target_kind = $4 AND n.id = c.target_id
             WHERE r.bucket >= $1 AND r.bucket < $2
               AND COALESCE(t.site_id, n.site_id) IS NOT NULL
             GROUP BY COALESCE(t.site_id, n.site_id), r.bucket"
        )
        .bind(from_day)
        .bind(to_day)
        .bind(TargetKind::Terminal.as_str())
        .bind(TargetKind::Node.as_str())
        .fetch_all(db)
        .await?);
        // The open hour, from the log.
        let mut open: HashMap<(i64, i64), RollupRow> = HashMap::new();
        let since = from_day * DAY - 9 * 3600;
        self.log_results(since, |r| {
            let day = bucket_of(r.ts, DAY);
            if day < to_day {
                add(open.entry((r.check_id, day)).or_default(), &r);
            }
        })
        .await?;
        if !open.is_empty() {
            let sites: Vec<(i64, Option<i64>)> = read_db!(self, |db| sqlx::query_as(
                "SELECT c.id, COALESCE(t.site_id, n.site_id)
                 FROM connectivity_checks c
                 LEFT JOIN terminals t ON c.target_kind = $1 AND t.id = c.target_id
                 LEFT JOIN network_nodes n ON c.target_kind = $2 AND n.id = c.target_id"
            )
            .bind(TargetKind::Terminal.as_str())
            .bind(TargetKind::Node.as_str())
            .fetch_all(db)
            .await?);
            let site_of: HashMap<i64, i64> = sites
                .into_iter()
                .filter_map(|(c, s)| Some((c, s?)))
                .collect();
            for ((check_id, day), e) in open {
                if let Some(&site) = site_of.get(&check_id) {
                    rows.push((site, day, e.up, e.degraded, e.down, e.maintenance));
                }
            }
        }
        let mut by: BTreeMap<(i64, String), SiteMonth> = BTreeMap::new();
        let empty = |site_id: i64, month: String| SiteMonth {
            site_id,
            month,
            up: 0,
            degraded: 0,
            down: 0,
            maintenance: 0,
            monitored_minutes: 0,
            down_minutes: 0,
            availability: None,
        };
        for (site_id, day, up, degraded, down, maintenance) in rows {
            let month = month_of_day(day);
            let e = by
                .entry((site_id, month.clone()))
                .or_insert_with(|| empty(site_id, month));
            e.up += up;
            e.degraded += degraded;
            e.down += down;
            e.maintenance += maintenance;
        }
        // The windows: one read of the period's state changes, then each month on its own.
        let from = jst_midnight_of_day(from_day);
        let to = jst_midnight_of_day(to_day).min(now.timestamp());
        if from < to {
            let monitoring = self.year_monitoring(from, to).await?;
            let cut = crate::outages::cut_off(&monitoring, from, to);
            let mut day = from_day;
            while day < to_day {
                let month = month_of_day(day);
                let next = next_month_day(day);
                let (start, end) = (
                    jst_midnight_of_day(day).max(from),
                    jst_midnight_of_day(next).min(cut),
                );
                if start < end {
                    let figures = crate::outages::compute(&monitoring, &[], start, end);
                    for (site_id, a) in figures.sites {
                        let e = by
                            .entry((site_id, month.clone()))
                            .or_insert_with(|| empty(site_id, month.clone()));
                        e.monitored_minutes = a.monitored_minutes;
                        e.down_minutes = a.down_minutes;
                        e.availability = a.percent();
                    }
                }
                day = next;
            }
        }
        Ok(by.into_values().collect())
    }
}

/// `YYYY-MM` of a JST day number.
fn month_of_day(day: i64) -> String {
    chrono::DateTime::from_timestamp(day * DAY, 0)
        .map(|d| d.format("%Y-%m").to_string())
        .unwrap_or_default()
}

/// Unix seconds of a JST day number's midnight (JST).
fn jst_midnight_of_day(day: i64) -> i64 {
    day * DAY - 9 * 3600
}

/// The JST day number of the first day of the month after `day`'s.
fn next_month_day(day: i64) -> i64 {
    use chrono::Datelike;
    let date = chrono::DateTime::from_timestamp(day * DAY, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let first = date
        .with_day(1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .unwrap_or(date);
    first
        .and_hms_opt(0, 0, 0)
        .map_or(day + 1, |t| t.and_utc().timestamp() / DAY)
        .max(day + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(check_id: i64, ts: i64, code: i16, latency_ms: Option<u32>) -> NewResult {
        NewResult {
            check_id,
            ts,
            code,
            latency_ms,
        }
    }

    #[test]
    fn log_rows_round_trip() {
        let rs = vec![
            r(1, 1_780_000_000, 0, Some(3)),
            r(900_001, 1_780_000_000, 2 | 8, None),
            r(7, 1_780_000_059, 1 | 4, Some(70_000)),
            r(i64::from(u32::MAX), 1_780_000_059, 3, Some(0)),
        ];
        let data = encode_log(&rs, 1_780_000_000);
        assert!(data.len() <= 4 * 8, "{} bytes", data.len());
        let mut back = Vec::new();
        decode_log(&data, 1_780_000_000, |x| back.push(x)).unwrap();
        assert_eq!(format!("{back:?}"), format!("{rs:?}"));
        // A truncated row is an error, not a short read.
        assert!(decode_log(&data[..data.len() - 1], 0, |_| {}).is_err());
    }

    #[test]
    fn segments_keep_time_order_whatever_the_arrival() {
        let bucket = 1_780_000_000 / HOUR;
        let t0 = bucket * HOUR;
        let mut s = Segment::default();
        for x in [
            r(5, t0 + 60, 0, Some(4)),
            r(5, t0 + 120, 2, None),
            r(5, t0 + 30, 1, Some(600)),
        ] {
            s.push(bucket, &x);
        }
        let (n, data) = s.finish(bucket, 5).unwrap();
        assert_eq!(n, 3);
        let mut back = Vec::new();
        decode_segment(&data, bucket, 5, |x| back.push(x)).unwrap();
        let ts: Vec<i64> = back.iter().map(|x| x.ts - t0).collect();
        assert_eq!(ts, vec![30, 60, 120]);
        assert_eq!(back[0].latency_ms, Some(600));
        assert_eq!(back[2].latency_ms, None);
        // Three results in a few bytes each.
        assert!(data.len() <= 3 * 4, "{} bytes", data.len());
    }
}
