-- Several instances on one database (issue 19). The database is the only coordinator: each instance
-- registers and beats; work is handed out by leases with a fencing token; a notification is claimed once.
-- Times are Unix milliseconds of the instance's clock (instances keep their clocks in step by NTP).
-- On SQLite there is one instance, which holds every lease; the tables are the same so that
-- `unyo cluster status` answers on both.

-- One row per process start of `unyo serve` (an id of its own, random per start).
CREATE TABLE cluster_instances (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    listen       TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    version      TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    -- Set when the instance stopped cleanly (its leases released); a killed one just stops beating.
    stopped_at   INTEGER
);
CREATE INDEX cluster_instances_heartbeat ON cluster_instances(heartbeat_at);

-- Leases: `shard:NNN` (the checks whose id falls in that shard) and `singleton:NAME` (a job that runs
-- once across instances). `token` grows by one at every change of holder (and at a re-take after a
-- lapse): a write carries the token it was made under and the store refuses it unless the lease still has
-- that token, that holder and has not expired, checked in the write's own transaction.
CREATE TABLE cluster_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT,
    token       INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL DEFAULT 0,
    acquired_at INTEGER
);
CREATE INDEX cluster_leases_holder ON cluster_leases(holder);

-- A notification is sent to a channel only by the instance that inserted its key first.
CREATE TABLE notification_deliveries (
    event_key   TEXT NOT NULL,
    channel_id  INTEGER NOT NULL,
    instance    TEXT NOT NULL,
    claimed_at  INTEGER NOT NULL,
    PRIMARY KEY (event_key, channel_id)
);
