-- Connectivity checks (疎通確認, issue 5). Checks belong to a registered terminal or network node; raw results are
-- compact (integer seconds, a status code with flags, integer milliseconds), appended in time order in batches
-- and kept for a retention period; hourly and daily roll-ups (daily buckets are JST days) are kept for years.
-- status code: bits 0-1 = 0 up, 1 degraded, 2 down, 3 unknown; 4 = in maintenance; 8 = 影響 (path down).

CREATE TABLE connectivity_checks (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    target_kind     TEXT NOT NULL CHECK (target_kind IN ('terminal', 'node')),
    target_id       INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('icmp', 'tcp', 'http', 'dns')),
    -- unyo_domain::connectivity::ProbeSpec as JSON.
    spec            TEXT NOT NULL,
    interval_s      INTEGER NOT NULL,
    timeout_ms      INTEGER NOT NULL,
    retries         INTEGER NOT NULL,
    degraded_ms     INTEGER NOT NULL,
    flap_n          INTEGER NOT NULL,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    state           TEXT NOT NULL DEFAULT 'unknown' CHECK (state IN ('unknown', 'up', 'degraded', 'down')),
    state_since     INTEGER,
    impacted_by     INTEGER REFERENCES network_nodes(id),
    last_ts         INTEGER,
    last_status     INTEGER,
    last_latency_ms INTEGER,
    last_message    TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    retired_at      TEXT
);
CREATE INDEX connectivity_checks_target ON connectivity_checks(target_kind, target_id);

-- Raw results: a plain append-only table (rowid order = time order) with one index for per-check history.
CREATE TABLE check_results (
    check_id    INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    latency_ms  INTEGER
);
CREATE INDEX check_results_check_ts ON check_results(check_id, ts);

-- Roll-ups: grain 3600 (hour, bucket = ts / 3600) or 86400 (JST day, bucket = (ts + 32400) / 86400).
CREATE TABLE check_rollups (
    check_id    INTEGER NOT NULL,
    grain       INTEGER NOT NULL,
    bucket      INTEGER NOT NULL,
    up          INTEGER NOT NULL DEFAULT 0,
    degraded    INTEGER NOT NULL DEFAULT 0,
    down        INTEGER NOT NULL DEFAULT 0,
    unknown     INTEGER NOT NULL DEFAULT 0,
    maintenance INTEGER NOT NULL DEFAULT 0,
    impacted    INTEGER NOT NULL DEFAULT 0,
    latency_sum INTEGER NOT NULL DEFAULT 0,
    latency_n   INTEGER NOT NULL DEFAULT 0,
    latency_max INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (check_id, grain, bucket)
) WITHOUT ROWID;

-- State changes: time, cause, the probable point of failure (影響), maintenance, the results behind it (JSON).
CREATE TABLE check_events (
    id          INTEGER PRIMARY KEY,
    check_id    INTEGER NOT NULL REFERENCES connectivity_checks(id),
    ts          INTEGER NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    cause       TEXT NOT NULL,
    impacted_by INTEGER REFERENCES network_nodes(id),
    maintenance BOOLEAN NOT NULL DEFAULT FALSE,
    incident_id INTEGER REFERENCES incidents(id),
    results     TEXT NOT NULL
);
CREATE INDEX check_events_check ON check_events(check_id, ts);
CREATE INDEX check_events_ts ON check_events(ts);

-- Maintenance windows: `recurrence` is unyo_domain::connectivity::Recurrence as JSON; scope by site, node or check
-- (all NULL: everything).
CREATE TABLE maintenance_windows (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    site_id     INTEGER REFERENCES sites(id),
    node_id     INTEGER REFERENCES network_nodes(id),
    check_id    INTEGER REFERENCES connectivity_checks(id),
    recurrence  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    retired_at  TEXT
);

-- 疎通確認結果表: an on-demand run kept as evidence (the lines as JSON, the XLSX as produced), optionally linked
-- to a work entry.
CREATE TABLE check_sheets (
    id              INTEGER PRIMARY KEY,
    created_at      TEXT NOT NULL,
    operator        TEXT NOT NULL,
    operator_id     INTEGER REFERENCES users(id),
    work_entry_id   INTEGER REFERENCES work_entries(id),
    note            TEXT NOT NULL DEFAULT '',
    lines           TEXT NOT NULL,
    xlsx            BLOB NOT NULL
);

-- Notification channels (e-mail through an SMTP relay, webhook, syslog): `config` is
-- unyo_domain::connectivity::ChannelConfig as JSON. Every delivery attempt is recorded.
CREATE TABLE notification_channels (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('email', 'webhook', 'syslog')),
    config      TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE notification_attempts (
    id          INTEGER PRIMARY KEY,
    channel_id  INTEGER NOT NULL REFERENCES notification_channels(id),
    event_id    INTEGER REFERENCES check_events(id),
    at          TEXT NOT NULL,
    ok          BOOLEAN NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX notification_attempts_at ON notification_attempts(at);
