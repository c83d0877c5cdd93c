-- Incidents (障害対応, R7): incidents numbered per fiscal year (`INC-R8-0001`) with their affected sites,
-- terminals and network nodes, the timeline of each (investigation, workaround and guidance, recovery work
-- linked to work entries, the witness), and the known-error library (既知の障害, `KE-0001`).
-- Instants are TEXT in UTC as in 0001 (a JST wall-clock time typed into a form is converted before storing).

-- Known errors come first: incidents point at them. `created_from_incident_id` has no foreign key because
-- incidents reference this table (the link table below is the checked relation).
CREATE TABLE known_errors (
    id                        INTEGER PRIMARY KEY,
    number                    TEXT NOT NULL,
    seq                       INTEGER NOT NULL,
    title                     TEXT NOT NULL,
    symptoms                  TEXT NOT NULL,
    cause                     TEXT NOT NULL DEFAULT '',
    workaround                TEXT NOT NULL DEFAULT '',
    created_from_incident_id  INTEGER,
    created_by_id             INTEGER REFERENCES users(id),
    created_by                TEXT NOT NULL,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL
);
CREATE UNIQUE INDEX known_errors_number ON known_errors(number);
CREATE UNIQUE INDEX known_errors_seq ON known_errors(seq);

CREATE TABLE incidents (
    id                        INTEGER PRIMARY KEY,
    number                    TEXT NOT NULL,
    fiscal_year               INTEGER NOT NULL,
    seq                       INTEGER NOT NULL,
    title                     TEXT NOT NULL,
    severity                  TEXT NOT NULL,
    source                    TEXT NOT NULL,
    stage                     TEXT NOT NULL,
    description               TEXT NOT NULL,
    probable_cause            TEXT,
    known_error_id            INTEGER REFERENCES known_errors(id),
    resolved_by_known_error   BOOLEAN NOT NULL DEFAULT FALSE,
    occurred_at               TEXT NOT NULL,
    noticed_at                TEXT NOT NULL,
    first_response_at         TEXT,
    workaround_at             TEXT,
    recovered_at              TEXT,
    closed_at                 TEXT,
    -- The witness entry of the current recovery; cleared when the recovery is undone or the incident reopened.
    witness_entry_id          INTEGER,
    reopen_count              INTEGER NOT NULL DEFAULT 0,
    created_by_id             INTEGER REFERENCES users(id),
    created_by                TEXT NOT NULL,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL
);
CREATE UNIQUE INDEX incidents_number ON incidents(number);
CREATE UNIQUE INDEX incidents_fy_seq ON incidents(fiscal_year, seq);
CREATE INDEX incidents_stage ON incidents(stage);
CREATE INDEX incidents_occurred ON incidents(occurred_at);
CREATE INDEX incidents_noticed ON incidents(noticed_at);
CREATE INDEX incidents_known_error ON incidents(known_error_id);
-- At most one open incident per probable cause: the connectivity engine's de-duplication holds even
-- against a concurrent writer.
CREATE UNIQUE INDEX incidents_open_cause ON incidents(probable_cause)
    WHERE probable_cause IS NOT NULL AND stage <> 'closed';

CREATE TABLE incident_sites (
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    site_id         INTEGER NOT NULL REFERENCES sites(id),
    PRIMARY KEY (incident_id, site_id)
);
CREATE INDEX incident_sites_site ON incident_sites(site_id);

CREATE TABLE incident_terminals (
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    terminal_id     INTEGER NOT NULL REFERENCES terminals(id),
    PRIMARY KEY (incident_id, terminal_id)
);
CREATE INDEX incident_terminals_terminal ON incident_terminals(terminal_id);

CREATE TABLE incident_nodes (
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    node_id         INTEGER NOT NULL REFERENCES network_nodes(id),
    PRIMARY KEY (incident_id, node_id)
);
CREATE INDEX incident_nodes_node ON incident_nodes(node_id);

-- The timeline. `at` is when it happened (typed or the moment of writing), `recorded_at` when it was written.
-- Transitions fill `action`, `from_stage` and `to_stage`; witness entries the four witness columns.
CREATE TABLE incident_entries (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    kind            TEXT NOT NULL,
    stage           TEXT NOT NULL,
    action          TEXT,
    from_stage      TEXT,
    to_stage        TEXT,
    author_id       INTEGER REFERENCES users(id),
    author          TEXT NOT NULL,
    at              TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    text            TEXT NOT NULL DEFAULT '',
    guidance_to     TEXT NOT NULL DEFAULT '',
    guidance        TEXT NOT NULL DEFAULT '',
    witness_name    TEXT,
    witness_org     TEXT,
    witnessed_at    TEXT,
    remark          TEXT
);
CREATE INDEX incident_entries_incident ON incident_entries(incident_id, id);

-- Work entries (作業記録) of an incident's work, so the hours reach the monthly record and the report.
CREATE TABLE incident_work (
    entry_id        INTEGER NOT NULL REFERENCES incident_entries(id),
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    work_id         INTEGER NOT NULL REFERENCES work_entries(id),
    PRIMARY KEY (entry_id, work_id)
);
CREATE INDEX incident_work_incident ON incident_work(incident_id);
CREATE INDEX incident_work_work ON incident_work(work_id);

-- Incidents a known error explains (an incident's own `known_error_id` is always among them).
CREATE TABLE known_error_incidents (
    known_error_id  INTEGER NOT NULL REFERENCES known_errors(id),
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    PRIMARY KEY (known_error_id, incident_id)
);
CREATE INDEX known_error_incidents_incident ON known_error_incidents(incident_id);
