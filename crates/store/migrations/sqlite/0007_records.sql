-- Monthly work records (業務実績簿, R8): one row per contract and month once something was submitted, and
-- every submitted version with its frozen PDF and XLSX, their SHA-256, and the source rows it was made from
-- (JSON, to tell later what changed). A draft is never stored: it is generated from the data on demand.
-- Dates are TEXT `YYYY-MM-DD` (JST), instants TEXT in UTC as in 0001.

CREATE TABLE monthly_records (
    id                  INTEGER PRIMARY KEY,
    contract_id         INTEGER NOT NULL REFERENCES contracts(id),
    year                INTEGER NOT NULL,
    month               INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    status              TEXT NOT NULL CHECK (status IN ('submitted', 'confirmed', 'returned')),
    current_version     INTEGER NOT NULL CHECK (current_version >= 1),
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX monthly_records_month ON monthly_records(contract_id, year, month);

-- One row per submitted version (第1版, 第2版 …). The submission columns never change (triggers below);
-- the decision columns are written once, when the prefecture confirms or sends the version back.
CREATE TABLE monthly_record_versions (
    id                  INTEGER PRIMARY KEY,
    record_id           INTEGER NOT NULL REFERENCES monthly_records(id),
    version             INTEGER NOT NULL CHECK (version >= 1),
    submitted_on        TEXT NOT NULL,
    submitted_at        TEXT NOT NULL,
    submitted_by_id     INTEGER REFERENCES users(id),
    submitted_by        TEXT NOT NULL,
    submitted_by_name   TEXT NOT NULL,
    pdf                 BLOB NOT NULL,
    pdf_sha256          TEXT NOT NULL,
    pdf_size            INTEGER NOT NULL,
    xlsx                BLOB NOT NULL,
    xlsx_sha256         TEXT NOT NULL,
    xlsx_size           INTEGER NOT NULL,
    sources             TEXT NOT NULL,
    sources_sha256      TEXT NOT NULL,
    outcome             TEXT NOT NULL DEFAULT 'submitted' CHECK (outcome IN ('submitted', 'confirmed', 'returned')),
    decided_on          TEXT,
    decided_at          TEXT,
    decided_by_id       INTEGER REFERENCES users(id),
    decided_by          TEXT,
    decided_by_name     TEXT,
    reason              TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX monthly_record_versions_version ON monthly_record_versions(record_id, version);

CREATE TRIGGER monthly_record_versions_frozen
BEFORE UPDATE OF record_id, version, submitted_on, submitted_at, submitted_by_id, submitted_by, submitted_by_name,
    pdf, pdf_sha256, pdf_size, xlsx, xlsx_sha256, xlsx_size, sources, sources_sha256 ON monthly_record_versions
BEGIN
    SELECT RAISE(ABORT, 'a submitted record version is frozen');
END;

CREATE TRIGGER monthly_record_versions_decided_once
BEFORE UPDATE ON monthly_record_versions WHEN OLD.outcome <> 'submitted'
BEGIN
    SELECT RAISE(ABORT, 'a decided record version is frozen');
END;

CREATE TRIGGER monthly_record_versions_no_delete BEFORE DELETE ON monthly_record_versions
BEGIN
    SELECT RAISE(ABORT, 'record versions are kept');
END;

CREATE TRIGGER monthly_records_no_delete BEFORE DELETE ON monthly_records
BEGIN
    SELECT RAISE(ABORT, 'monthly records are kept');
END;
