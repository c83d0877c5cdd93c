-- Inventories (issue 4): the credentials endpoint agents report with, every inventory received (a snapshot
-- each, never overwritten) and the review queue of inventories that matched no terminal, or more than one.
-- Instants are TEXT in UTC as in 0001. The matching rule is documented in crates/store/src/inventory.rs.

-- What identifies a terminal's machine to its agent, remembered when a person links an inventory to it:
-- the SMBIOS UUID (upper case) and the agent's DEVICEID.
ALTER TABLE terminals ADD COLUMN uuid TEXT;
ALTER TABLE terminals ADD COLUMN device_id TEXT;
CREATE INDEX terminals_uuid ON terminals(uuid);
CREATE INDEX terminals_device_id ON terminals(device_id);

-- HTTP Basic credentials of inventory agents. Only an Argon2id hash of the password is kept.
CREATE TABLE agent_credentials (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    username        TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT,
    revoked_by      TEXT
);
CREATE UNIQUE INDEX agent_credentials_username ON agent_credentials(username);

-- One row per inventory received. `snapshot` is the InventorySnapshot as JSON; the columns before it are
-- copies of what lists and matching read, so that they never parse the snapshot.
CREATE TABLE inventories (
    id              INTEGER PRIMARY KEY,
    terminal_id     INTEGER REFERENCES terminals(id),
    received_at     TEXT NOT NULL,
    source          TEXT NOT NULL,
    received_by     TEXT NOT NULL,
    agent_credential_id INTEGER REFERENCES agent_credentials(id),
    matched_by      TEXT NOT NULL,
    machine_key     TEXT NOT NULL DEFAULT '',
    device_id       TEXT,
    hostname        TEXT,
    hostname_key    TEXT NOT NULL DEFAULT '',
    uuid            TEXT,
    serial          TEXT,
    format          TEXT NOT NULL,
    collected_at    TEXT,
    os_name         TEXT,
    os_full_name    TEXT,
    os_version      TEXT,
    os_build        TEXT,
    software_count  INTEGER NOT NULL DEFAULT 0,
    antivirus       TEXT NOT NULL DEFAULT '[]',
    snapshot        TEXT NOT NULL,
    body_sha256     TEXT NOT NULL,
    body_size       INTEGER NOT NULL
);
CREATE INDEX inventories_terminal ON inventories(terminal_id, id);
CREATE INDEX inventories_hostname ON inventories(hostname_key);
CREATE INDEX inventories_machine ON inventories(machine_key);

-- Inventories waiting for a person: `reason` is `unknown` (no terminal matched) or `ambiguous` (several did;
-- `candidates` lists them as JSON). Resolved rows stay, with how they were resolved (`linked`,
-- `registered`, or `superseded` by a newer inventory of the same machine).
CREATE TABLE inventory_review (
    inventory_id    INTEGER PRIMARY KEY REFERENCES inventories(id),
    reason          TEXT NOT NULL,
    candidates      TEXT NOT NULL DEFAULT '[]',
    queued_at       TEXT NOT NULL,
    resolved_at     TEXT,
    resolved_by     TEXT,
    resolution      TEXT
);
CREATE INDEX inventory_review_open ON inventory_review(resolved_at);
