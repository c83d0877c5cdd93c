-- Support work (R2–R8, R18): contracts and their staff, support requests (支援要請) with their timeline,
-- work entries (作業記録), consultations (協議記録) and evidence attachments.
-- Dates are TEXT `YYYY-MM-DD` (JST), times TEXT `HH:MM` (JST), instants TEXT in UTC as in 0001.

CREATE TABLE contracts (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    number          TEXT NOT NULL,
    term_start      TEXT NOT NULL,
    term_end        TEXT NOT NULL,
    contractor      TEXT NOT NULL,
    manager         TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX contracts_number ON contracts(number);

-- Staff assigned to a contract (R12: who may log work under it).
CREATE TABLE contract_staff (
    contract_id     INTEGER NOT NULL REFERENCES contracts(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (contract_id, user_id)
);
CREATE INDEX contract_staff_user ON contract_staff(user_id);

-- Support requests, numbered per fiscal year (`R8-0001`).
CREATE TABLE requests (
    id              INTEGER PRIMARY KEY,
    number          TEXT NOT NULL,
    fiscal_year     INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    title           TEXT NOT NULL,
    category        TEXT NOT NULL,
    description     TEXT NOT NULL,
    wished_date     TEXT,
    filed_on        TEXT NOT NULL,
    status          TEXT NOT NULL,
    requester_id    INTEGER REFERENCES users(id),
    requester       TEXT NOT NULL,
    assignee_id     INTEGER REFERENCES users(id),
    planned_date    TEXT,
    result          TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    accepted_at     TEXT,
    started_at      TEXT,
    completed_at    TEXT,
    confirmed_at    TEXT,
    closed_at       TEXT
);
CREATE UNIQUE INDEX requests_number ON requests(number);
CREATE UNIQUE INDEX requests_fy_seq ON requests(fiscal_year, seq);
CREATE INDEX requests_status ON requests(status);
CREATE INDEX requests_assignee ON requests(assignee_id);
CREATE INDEX requests_requester ON requests(requester_id);

CREATE TABLE request_sites (
    request_id      INTEGER NOT NULL REFERENCES requests(id),
    site_id         INTEGER NOT NULL REFERENCES sites(id),
    PRIMARY KEY (request_id, site_id)
);
CREATE INDEX request_sites_site ON request_sites(site_id);

CREATE TABLE request_terminals (
    request_id      INTEGER NOT NULL REFERENCES requests(id),
    terminal_id     INTEGER NOT NULL REFERENCES terminals(id),
    PRIMARY KEY (request_id, terminal_id)
);
CREATE INDEX request_terminals_terminal ON request_terminals(terminal_id);

-- The timeline of a request: one row per filing and per transition.
CREATE TABLE request_events (
    id              INTEGER PRIMARY KEY,
    request_id      INTEGER NOT NULL REFERENCES requests(id),
    at              TEXT NOT NULL,
    actor_id        INTEGER REFERENCES users(id),
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    from_status     TEXT,
    to_status       TEXT NOT NULL,
    comment         TEXT NOT NULL DEFAULT '',
    planned_date    TEXT
);
CREATE INDEX request_events_request ON request_events(request_id, id);

CREATE TABLE work_entries (
    id              INTEGER PRIMARY KEY,
    contract_id     INTEGER NOT NULL REFERENCES contracts(id),
    work_date       TEXT NOT NULL,
    start_time      TEXT NOT NULL,
    end_time        TEXT NOT NULL,
    minutes         INTEGER NOT NULL,
    mode            TEXT NOT NULL,
    site_id         INTEGER REFERENCES sites(id),
    category        TEXT NOT NULL,
    clause          TEXT NOT NULL,
    description     TEXT NOT NULL,
    result          TEXT NOT NULL,
    follow_up       TEXT NOT NULL DEFAULT '',
    request_id      INTEGER REFERENCES requests(id),
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX work_entries_date ON work_entries(work_date);
CREATE INDEX work_entries_contract ON work_entries(contract_id, work_date);
CREATE INDEX work_entries_request ON work_entries(request_id);
CREATE INDEX work_entries_site ON work_entries(site_id);

CREATE TABLE work_workers (
    work_id         INTEGER NOT NULL REFERENCES work_entries(id),
    user_id         INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (work_id, user_id)
);
CREATE INDEX work_workers_user ON work_workers(user_id);

CREATE TABLE work_terminals (
    work_id         INTEGER NOT NULL REFERENCES work_entries(id),
    terminal_id     INTEGER NOT NULL REFERENCES terminals(id),
    PRIMARY KEY (work_id, terminal_id)
);
CREATE INDEX work_terminals_terminal ON work_terminals(terminal_id);

-- Consultation records (協議記録, R18).
CREATE TABLE consultations (
    id              INTEGER PRIMARY KEY,
    contract_id     INTEGER NOT NULL REFERENCES contracts(id),
    held_on         TEXT NOT NULL,
    participants    TEXT NOT NULL,
    topic           TEXT NOT NULL,
    agreed          TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX consultations_contract ON consultations(contract_id, held_on);

CREATE TABLE consultation_requests (
    consultation_id INTEGER NOT NULL REFERENCES consultations(id),
    request_id      INTEGER NOT NULL REFERENCES requests(id),
    PRIMARY KEY (consultation_id, request_id)
);
CREATE INDEX consultation_requests_request ON consultation_requests(request_id);

-- Evidence files attached to requests and work entries. The type is decided by the bytes, not the name.
CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY,
    owner_kind      TEXT NOT NULL CHECK (owner_kind IN ('request', 'work')),
    owner_id        INTEGER NOT NULL,
    filename        TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            INTEGER NOT NULL,
    sha256          TEXT NOT NULL,
    data            BLOB NOT NULL,
    uploaded_by_id  INTEGER REFERENCES users(id),
    uploaded_by     TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX attachments_owner ON attachments(owner_kind, owner_id);
