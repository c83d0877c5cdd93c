-- Foundation: accounts, sessions, API tokens, the registry and the hash-chained audit log.
-- Instants are TEXT in UTC (`2026-05-01T00:00:00.000000Z`), identical on both backends.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    totp_secret     TEXT,
    totp_enabled    BOOLEAN NOT NULL DEFAULT FALSE,
    recovery_codes  TEXT NOT NULL DEFAULT '[]',
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    disabled_at     TEXT
);

CREATE TABLE sessions (
    id_hash         TEXT PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id),
    csrf_token      TEXT NOT NULL,
    second_factor_pending BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id),
    name            TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT
);

CREATE TABLE network_nodes (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    site_id         INTEGER,
    ip_address      TEXT,
    upstream_id     INTEGER REFERENCES network_nodes(id),
    note            TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    retired_at      TEXT
);
CREATE UNIQUE INDEX network_nodes_name ON network_nodes(name);

CREATE TABLE sites (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    address         TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    uplink_node_id  INTEGER REFERENCES network_nodes(id),
    note            TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    retired_at      TEXT
);
CREATE UNIQUE INDEX sites_code ON sites(code);

CREATE TABLE terminals (
    id              INTEGER PRIMARY KEY,
    site_id         INTEGER NOT NULL REFERENCES sites(id),
    hostname        TEXT NOT NULL,
    hostname_key    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    ip_address      TEXT,
    os_name         TEXT NOT NULL DEFAULT '',
    os_version      TEXT NOT NULL DEFAULT '',
    serial_number   TEXT NOT NULL DEFAULT '',
    asset_number    TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    retired_at      TEXT
);
CREATE UNIQUE INDEX terminals_hostname ON terminals(hostname_key);
CREATE INDEX terminals_site ON terminals(site_id);

-- The audit log is append-only and hash-chained: `hash` = SHA-256 over `prev_hash` and the entry's fields.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    entity          TEXT NOT NULL DEFAULT '',
    entity_id       TEXT NOT NULL DEFAULT '',
    details         TEXT NOT NULL DEFAULT '{}',
    source          TEXT NOT NULL DEFAULT '',
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_log_actor ON audit_log(actor);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Settings that belong to the data, not the host (e.g. whether this database holds demo data).
CREATE TABLE meta (
    key             TEXT PRIMARY KEY,
    value           TEXT NOT NULL
);
