-- The registers of a contract (R9, R10, R12): subcontracting approvals (再委託), materials and data the
-- prefecture provided (提供資料) with their copies and return, and the contractor's staff roster (従事者名簿).
-- Dates are TEXT `YYYY-MM-DD` (JST), instants TEXT in UTC, as everywhere. History is the audit log.

-- Attachments may also belong to a register entry: the approval document, a material's receipt or
-- acknowledgement, a pledge (誓約書). SQLite cannot alter a CHECK, so the table is rebuilt.
CREATE TABLE attachments_next (
    id              INTEGER PRIMARY KEY,
    owner_kind      TEXT NOT NULL CHECK (owner_kind IN ('request', 'work', 'subcontract', 'material', 'staff')),
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
INSERT INTO attachments_next (id, owner_kind, owner_id, filename, content_type, size, sha256, data, uploaded_by_id,
    uploaded_by, created_at)
SELECT id, owner_kind, owner_id, filename, content_type, size, sha256, data, uploaded_by_id, uploaded_by, created_at
FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_next RENAME TO attachments;
CREATE INDEX attachments_owner ON attachments(owner_kind, owner_id);

-- The prefecture's written approvals of subcontracting. The scope is a set of clause codes (`1`…`5`) and
-- a set of work-kind codes, each stored comma-separated.
CREATE TABLE subcontracts (
    id                      INTEGER PRIMARY KEY,
    contract_id             INTEGER NOT NULL REFERENCES contracts(id),
    subcontractor           TEXT NOT NULL,
    work_part               TEXT NOT NULL,
    clauses                 TEXT NOT NULL DEFAULT '',
    categories              TEXT NOT NULL DEFAULT '',
    approval_number         TEXT NOT NULL,
    approved_on             TEXT NOT NULL,
    period_start            TEXT NOT NULL,
    period_end              TEXT NOT NULL,
    note                    TEXT NOT NULL DEFAULT '',
    approval_attachment_id  INTEGER REFERENCES attachments(id),
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
CREATE INDEX subcontracts_contract ON subcontracts(contract_id, period_start);

-- Materials and data provided by the prefecture; the return (or erasure) and its acknowledgement close one.
CREATE TABLE provided_materials (
    id              INTEGER PRIMARY KEY,
    contract_id     INTEGER NOT NULL REFERENCES contracts(id),
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    provided_by     TEXT NOT NULL,
    received_on     TEXT NOT NULL,
    medium          TEXT NOT NULL,
    classification  TEXT NOT NULL,
    storage         TEXT NOT NULL,
    quantity        TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT '',
    disposition     TEXT,
    disposed_on     TEXT,
    disposal_method TEXT NOT NULL DEFAULT '',
    ack_on          TEXT,
    ack_by          TEXT NOT NULL DEFAULT '',
    ack_note        TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX provided_materials_contract ON provided_materials(contract_id, received_on);

-- Requests to copy a provided material and the prefecture's decision on each.
CREATE TABLE material_copies (
    id              INTEGER PRIMARY KEY,
    material_id     INTEGER NOT NULL REFERENCES provided_materials(id),
    requested_on    TEXT NOT NULL,
    copies          INTEGER NOT NULL,
    purpose         TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('requested', 'permitted', 'refused')),
    decided_on      TEXT,
    decided_by      TEXT NOT NULL DEFAULT '',
    decision_note   TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);
CREATE INDEX material_copies_material ON material_copies(material_id);

-- The contractor's staff on a contract. An entry tied to an account (`user_id`) decides whether that account
-- may work: inside [start_on, end_on] and with its pledge on file; sessions and tokens check it by user_id.
CREATE TABLE staff_roster (
    id                      INTEGER PRIMARY KEY,
    contract_id             INTEGER NOT NULL REFERENCES contracts(id),
    name                    TEXT NOT NULL,
    employer                TEXT NOT NULL,
    role_on_contract        TEXT NOT NULL,
    user_id                 INTEGER REFERENCES users(id),
    subcontract_id          INTEGER REFERENCES subcontracts(id),
    start_on                TEXT NOT NULL,
    end_on                  TEXT,
    pledge_on               TEXT,
    pledge_attachment_id    INTEGER REFERENCES attachments(id),
    training_dates          TEXT NOT NULL DEFAULT '',
    note                    TEXT NOT NULL DEFAULT '',
    access_ended_at         TEXT,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL
);
CREATE INDEX staff_roster_contract ON staff_roster(contract_id, start_on);
CREATE INDEX staff_roster_user ON staff_roster(user_id, start_on);
