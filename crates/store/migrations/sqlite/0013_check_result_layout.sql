-- Raw results and roll-ups in a layout that reaches the disk few times per result (issue 5: at most 100 bytes
-- written per result). Every table here is appended in time order: its key starts with the time bucket, so a
-- commit writes the tail of each B-tree instead of one page per check.
--
-- * check_result_log: one row per engine commit (about one second of results), packed (see the store's
--   check_results module). It holds the results of the open hour and is what a crash leaves to replay.
-- * check_segments: when an hour is over, its results are sealed from the log into one packed row per check
--   and hour, and the log rows are deleted in the same transaction. Kept for the raw retention (7 days).
-- * check_hourly / check_daily: the roll-ups, written at the same seal (daily buckets are JST days). Hourly
--   ones are kept 35 days, daily ones for years.
-- * check_last: each check's last result, written about once a minute (the state itself is written at once
--   with each state change).
-- status code: bits 0-1 = 0 up, 1 degraded, 2 down, 3 unknown; 4 = in maintenance; 8 = 影響 (path down).

CREATE TABLE check_result_log (
    id      INTEGER PRIMARY KEY,
    -- Hour bucket (ts / 3600) of every result in the row.
    bucket  INTEGER NOT NULL,
    ts_min  INTEGER NOT NULL,
    ts_max  INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    data    BLOB NOT NULL
);

CREATE TABLE check_segments (
    bucket      INTEGER NOT NULL,
    check_id    INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    data        BLOB NOT NULL,
    PRIMARY KEY (bucket, check_id)
) WITHOUT ROWID;

CREATE TABLE check_hourly (
    bucket      INTEGER NOT NULL,
    check_id    INTEGER NOT NULL,
    up          INTEGER NOT NULL DEFAULT 0,
    degraded    INTEGER NOT NULL DEFAULT 0,
    down        INTEGER NOT NULL DEFAULT 0,
    unknown     INTEGER NOT NULL DEFAULT 0,
    maintenance INTEGER NOT NULL DEFAULT 0,
    impacted    INTEGER NOT NULL DEFAULT 0,
    latency_sum INTEGER NOT NULL DEFAULT 0,
    latency_n   INTEGER NOT NULL DEFAULT 0,
    latency_max INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, check_id)
) WITHOUT ROWID;

CREATE TABLE check_daily (
    bucket      INTEGER NOT NULL,
    check_id    INTEGER NOT NULL,
    up          INTEGER NOT NULL DEFAULT 0,
    degraded    INTEGER NOT NULL DEFAULT 0,
    down        INTEGER NOT NULL DEFAULT 0,
    unknown     INTEGER NOT NULL DEFAULT 0,
    maintenance INTEGER NOT NULL DEFAULT 0,
    impacted    INTEGER NOT NULL DEFAULT 0,
    latency_sum INTEGER NOT NULL DEFAULT 0,
    latency_n   INTEGER NOT NULL DEFAULT 0,
    latency_max INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, check_id)
) WITHOUT ROWID;

CREATE TABLE check_last (
    check_id    INTEGER PRIMARY KEY,
    ts          INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    latency_ms  INTEGER
) WITHOUT ROWID;

INSERT INTO check_hourly (bucket, check_id, up, degraded, down, unknown, maintenance, impacted, latency_sum,
    latency_n, latency_max)
SELECT bucket, check_id, up, degraded, down, unknown, maintenance, impacted, latency_sum, latency_n, latency_max
FROM check_rollups WHERE grain = 3600;
INSERT INTO check_daily (bucket, check_id, up, degraded, down, unknown, maintenance, impacted, latency_sum,
    latency_n, latency_max)
SELECT bucket, check_id, up, degraded, down, unknown, maintenance, impacted, latency_sum, latency_n, latency_max
FROM check_rollups WHERE grain = 86400;
INSERT INTO check_last (check_id, ts, status, latency_ms)
SELECT id, last_ts, last_status, last_latency_ms FROM connectivity_checks
WHERE last_ts IS NOT NULL AND last_status IS NOT NULL;

DROP INDEX check_rollups_hourly_bucket;
DROP TABLE check_rollups;
ALTER TABLE connectivity_checks DROP COLUMN last_ts;
ALTER TABLE connectivity_checks DROP COLUMN last_status;
ALTER TABLE connectivity_checks DROP COLUMN last_latency_ms;

-- Raw results of the earlier layout are moved into the log by the store (the packing is not SQL) at the next
-- seal, then sealed like any other; the table stays, empty, so the move is safe to repeat.
DROP INDEX check_results_check_ts;
ALTER TABLE check_results RENAME TO check_results_legacy;
