-- Vulnerability monitoring (issue 18, R15/R16): feed files imported from removable media, the records they
-- carry (one row per id, earlier versions kept in the history), the reviewed table from installed software to
-- CPE names, and findings per (terminal or unyo itself, software, vulnerability) with their history.
-- Instants are TEXT in UTC as in 0001; `data` columns hold unyo_vuln::Vulnerability as JSON.

-- One row per file handed to the import, refused ones included (`status` = 'refused' with the reason).
CREATE TABLE vuln_imports (
    id                  INTEGER PRIMARY KEY,
    feed                TEXT NOT NULL,
    file_name           TEXT NOT NULL,
    file_sha256         TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('ok', 'refused')),
    message             TEXT NOT NULL DEFAULT '',
    records             INTEGER NOT NULL DEFAULT 0,
    added               INTEGER NOT NULL DEFAULT 0,
    updated             INTEGER NOT NULL DEFAULT 0,
    newest_record_at    TEXT,
    imported_at         TEXT NOT NULL,
    imported_by         TEXT NOT NULL
);
CREATE INDEX vuln_imports_feed ON vuln_imports(feed, id);

CREATE TABLE vulnerabilities (
    id                  TEXT PRIMARY KEY,
    feed                TEXT NOT NULL,
    title               TEXT NOT NULL,
    severity            TEXT NOT NULL,
    cvss_version        TEXT,
    cvss_score          REAL,
    -- Every id besides its own, each surrounded by spaces (` CVE-2024-1 GHSA-x `), for filters.
    aliases             TEXT NOT NULL DEFAULT '',
    published           TEXT,
    last_modified       TEXT,
    rejected            BOOLEAN NOT NULL DEFAULT FALSE,
    -- Whether it names products unyo can match (NVD configurations, OSV/RustSec packages).
    matchable           BOOLEAN NOT NULL DEFAULT FALSE,
    data                TEXT NOT NULL,
    import_id           INTEGER REFERENCES vuln_imports(id),
    updated_at          TEXT NOT NULL
);
CREATE INDEX vulnerabilities_feed ON vulnerabilities(feed);
CREATE INDEX vulnerabilities_updated ON vulnerabilities(updated_at);

-- A record's earlier versions, written when a newer one replaces it.
CREATE TABLE vulnerability_history (
    id                  INTEGER PRIMARY KEY,
    vulnerability_id    TEXT NOT NULL,
    last_modified       TEXT,
    rejected            BOOLEAN NOT NULL,
    data                TEXT NOT NULL,
    import_id           INTEGER,
    replaced_at         TEXT NOT NULL,
    replaced_by_import  INTEGER
);
CREATE INDEX vulnerability_history_id ON vulnerability_history(vulnerability_id, id);

-- Installed software (name without its version, publisher) to CPE names (a JSON array of CPE 2.3 templates;
-- version `*` takes the installed version). `suggested` until an SE confirms or corrects it; an empty array
-- confirmed means "no CPE: not tracked".
CREATE TABLE cpe_mappings (
    id                  INTEGER PRIMARY KEY,
    name_key            TEXT NOT NULL,
    publisher_key       TEXT NOT NULL,
    sample_name         TEXT NOT NULL,
    sample_publisher    TEXT NOT NULL DEFAULT '',
    sample_version      TEXT NOT NULL DEFAULT '',
    cpes                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('suggested', 'confirmed')),
    suggested_by        TEXT NOT NULL,
    terminals           INTEGER NOT NULL DEFAULT 0,
    confirmed_by        TEXT,
    confirmed_at        TEXT,
    updated_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX cpe_mappings_key ON cpe_mappings(name_key, publisher_key);

-- One finding per (subject, product, vulnerability). `subject_key` is `terminal:ID` or `unyo`; `product_key`
-- the CPE vendor:product or `crates.io:NAME`.
CREATE TABLE vuln_findings (
    id                  INTEGER PRIMARY KEY,
    subject             TEXT NOT NULL CHECK (subject IN ('terminal', 'unyo')),
    terminal_id         INTEGER REFERENCES terminals(id),
    subject_key         TEXT NOT NULL,
    software            TEXT NOT NULL,
    product_key         TEXT NOT NULL,
    version             TEXT NOT NULL,
    fixed_version       TEXT,
    vulnerability_id    TEXT NOT NULL REFERENCES vulnerabilities(id),
    severity            TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'resolved', 'accepted', 'withdrawn')),
    resolution          TEXT,
    inventory_id        INTEGER REFERENCES inventories(id),
    campaign_id         INTEGER REFERENCES campaigns(id),
    consultation_id     INTEGER REFERENCES consultations(id),
    accepted_until      TEXT,
    due_date            TEXT,
    note                TEXT NOT NULL DEFAULT '',
    first_seen_at       TEXT NOT NULL,
    last_seen_at        TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    updated_by          TEXT NOT NULL
);
CREATE UNIQUE INDEX vuln_findings_key ON vuln_findings(subject_key, product_key, vulnerability_id);
CREATE INDEX vuln_findings_terminal ON vuln_findings(terminal_id);
CREATE INDEX vuln_findings_vuln ON vuln_findings(vulnerability_id);
CREATE INDEX vuln_findings_status ON vuln_findings(status, due_date);

CREATE TABLE vuln_finding_events (
    id                  INTEGER PRIMARY KEY,
    finding_id          INTEGER NOT NULL REFERENCES vuln_findings(id),
    at                  TEXT NOT NULL,
    actor               TEXT NOT NULL,
    from_status         TEXT,
    to_status           TEXT NOT NULL,
    version             TEXT NOT NULL DEFAULT '',
    note                TEXT NOT NULL DEFAULT ''
);
CREATE INDEX vuln_finding_events_finding ON vuln_finding_events(finding_id, id);
