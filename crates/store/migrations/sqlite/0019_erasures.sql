-- The erasure register (消去記録, R11) and the contract-close checklist.
-- An erasure record is kept (no delete) and, once its 消去証明書 is frozen, never changes; the certificate's
-- PDF and XLSX are stored with their SHA-256 once. Instants TEXT in UTC as in 0001.

CREATE TABLE erasures (
    id                  INTEGER PRIMARY KEY,
    contract_id         INTEGER REFERENCES contracts(id),
    scope               TEXT NOT NULL CHECK (scope IN ('system_data', 'temporary_copy', 'provided_medium')),
    medium              TEXT NOT NULL,
    identifier          TEXT NOT NULL,
    capacity            TEXT NOT NULL DEFAULT '',
    target              TEXT NOT NULL,
    method              TEXT NOT NULL CHECK (method IN ('clear', 'purge', 'destroy')),
    tool                TEXT NOT NULL,
    tool_version        TEXT NOT NULL DEFAULT '',
    performed_at        TEXT NOT NULL,
    operator            TEXT NOT NULL,
    witness             TEXT NOT NULL,
    verification_method TEXT NOT NULL,
    verified            BOOLEAN NOT NULL,
    verification_result TEXT NOT NULL,
    note                TEXT NOT NULL DEFAULT '',
    created_by_id       INTEGER REFERENCES users(id),
    created_by          TEXT NOT NULL,
    created_at          TEXT NOT NULL
);
CREATE INDEX erasures_performed ON erasures(performed_at);

CREATE TRIGGER erasures_kept BEFORE DELETE ON erasures
BEGIN
    SELECT RAISE(ABORT, 'erasure records are kept');
END;

CREATE TRIGGER erasures_frozen BEFORE UPDATE ON erasures
WHEN EXISTS (SELECT 1 FROM erasure_certificates WHERE erasure_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'an erasure record with a certificate is frozen');
END;

CREATE TABLE erasure_certificates (
    erasure_id          INTEGER PRIMARY KEY REFERENCES erasures(id),
    pdf                 BLOB NOT NULL,
    pdf_sha256          TEXT NOT NULL,
    xlsx                BLOB NOT NULL,
    xlsx_sha256         TEXT NOT NULL,
    frozen_at           TEXT NOT NULL
);

CREATE TRIGGER erasure_certificates_frozen BEFORE UPDATE ON erasure_certificates
BEGIN
    SELECT RAISE(ABORT, 'an erasure certificate is frozen');
END;

CREATE TRIGGER erasure_certificates_kept BEFORE DELETE ON erasure_certificates
BEGIN
    SELECT RAISE(ABORT, 'erasure certificates are kept');
END;

-- One row per checklist item of a contract once something was recorded for it: done with its evidence, or
-- waived with the prefecture's reason. Items are codes (`export_handed_over`, `erasure_done`, ...), so
-- further items need no new table.
CREATE TABLE contract_close_items (
    contract_id         INTEGER NOT NULL REFERENCES contracts(id),
    item                TEXT NOT NULL,
    state               TEXT NOT NULL CHECK (state IN ('done', 'waived')),
    evidence            TEXT NOT NULL DEFAULT '',
    manifest_sha256     TEXT,
    erasure_id          INTEGER REFERENCES erasures(id),
    reason              TEXT NOT NULL DEFAULT '',
    recorded_by_id      INTEGER REFERENCES users(id),
    recorded_by         TEXT NOT NULL,
    recorded_at         TEXT NOT NULL,
    PRIMARY KEY (contract_id, item)
);

CREATE TABLE contract_closures (
    contract_id         INTEGER PRIMARY KEY REFERENCES contracts(id),
    closed_by_id        INTEGER REFERENCES users(id),
    closed_by           TEXT NOT NULL,
    closed_at           TEXT NOT NULL
);
