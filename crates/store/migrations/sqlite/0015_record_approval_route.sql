-- The prefecture's approval route of the monthly work record (業務実績簿, R8): per contract, the 確認欄
-- columns the prefecture confirms along (e.g. 担当 → 係長 → 課長), each optionally held by one account. A
-- contract without rows has the single column 確認者（県）. Each submission keeps the route of its moment
-- (monthly_records.route, JSON; empty: the single default column).
--
-- Every confirmation of a step freezes the document again, with that step's column filled, as a new version
-- (stage = how many steps the frozen file shows confirmed; model = the document model the files were rendered
-- from, so the next step renders the same content). Every decision (a step confirmed or the record sent back
-- at a step) is one row of monthly_record_approvals, never changed afterwards.

CREATE TABLE contract_approval_steps (
    contract_id         INTEGER NOT NULL REFERENCES contracts(id),
    step                INTEGER NOT NULL CHECK (step >= 1),
    label               TEXT NOT NULL,
    user_id             INTEGER REFERENCES users(id),
    PRIMARY KEY (contract_id, step)
);

ALTER TABLE monthly_records ADD COLUMN route TEXT NOT NULL DEFAULT '';

ALTER TABLE monthly_record_versions ADD COLUMN stage INTEGER NOT NULL DEFAULT 0 CHECK (stage >= 0);
ALTER TABLE monthly_record_versions ADD COLUMN model TEXT NOT NULL DEFAULT '';

CREATE TRIGGER monthly_record_versions_frozen_stage
BEFORE UPDATE OF stage, model ON monthly_record_versions
BEGIN
    SELECT RAISE(ABORT, 'a submitted record version is frozen');
END;

CREATE TABLE monthly_record_approvals (
    id                  INTEGER PRIMARY KEY,
    record_id           INTEGER NOT NULL REFERENCES monthly_records(id),
    -- The version decided on, and the version frozen by a confirmation (NULL for a send-back or a
    -- decision made before the route existed).
    version             INTEGER NOT NULL,
    frozen_version      INTEGER,
    step                INTEGER NOT NULL CHECK (step >= 1),
    label               TEXT NOT NULL,
    outcome             TEXT NOT NULL CHECK (outcome IN ('confirmed', 'returned')),
    decided_on          TEXT NOT NULL,
    decided_at          TEXT NOT NULL,
    decided_by_id       INTEGER REFERENCES users(id),
    decided_by          TEXT NOT NULL,
    decided_by_name     TEXT NOT NULL,
    reason              TEXT NOT NULL DEFAULT ''
);
CREATE INDEX monthly_record_approvals_record ON monthly_record_approvals(record_id, version);

-- Decisions made before the route: one step, 確認者（県）.
INSERT INTO monthly_record_approvals (record_id, version, frozen_version, step, label, outcome, decided_on,
    decided_at, decided_by_id, decided_by, decided_by_name, reason)
SELECT record_id, version, NULL, 1, '確認者（県）', outcome, decided_on, decided_at, decided_by_id,
    COALESCE(decided_by, ''), COALESCE(decided_by_name, ''), reason
FROM monthly_record_versions
WHERE outcome IN ('confirmed', 'returned') AND decided_on IS NOT NULL AND decided_at IS NOT NULL
ORDER BY id;

CREATE TRIGGER monthly_record_approvals_no_update BEFORE UPDATE ON monthly_record_approvals
BEGIN
    SELECT RAISE(ABORT, 'record decisions are kept');
END;

CREATE TRIGGER monthly_record_approvals_no_delete BEFORE DELETE ON monthly_record_approvals
BEGIN
    SELECT RAISE(ABORT, 'record decisions are kept');
END;
