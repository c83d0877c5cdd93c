-- Rollout campaigns (展開, issue 4): a goal (application version, antivirus definitions, OS build or a free-form
-- task, as JSON), the target terminals resolved when the campaign is created, and per target its status and
-- evidence. Numbered per fiscal year (`展-R8-001`). Instants are TEXT in UTC as in 0001.
-- The compliance view's OS-build baseline lives in `meta` (`compliance.os_build_baseline`).

CREATE TABLE campaigns (
    id                  INTEGER PRIMARY KEY,
    number              TEXT NOT NULL,
    fiscal_year         INTEGER NOT NULL,
    seq                 INTEGER NOT NULL,
    title               TEXT NOT NULL,
    goal_type           TEXT NOT NULL,
    -- unyo_domain::campaign::CampaignGoal as JSON.
    goal                TEXT NOT NULL,
    -- unyo_domain::campaign::TargetSpec as JSON (what was asked; the rows below are what it resolved to).
    target_spec         TEXT NOT NULL,
    staged              BOOLEAN NOT NULL DEFAULT FALSE,
    witness_required    BOOLEAN NOT NULL DEFAULT FALSE,
    description         TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_by_id       INTEGER REFERENCES users(id),
    created_by          TEXT NOT NULL,
    started_at          TEXT NOT NULL,
    closed_at           TEXT,
    closed_by           TEXT,
    updated_at          TEXT NOT NULL
);
CREATE UNIQUE INDEX campaigns_number ON campaigns(number);
CREATE UNIQUE INDEX campaigns_fy_seq ON campaigns(fiscal_year, seq);
CREATE INDEX campaigns_status ON campaigns(status);

-- One row per target terminal. Evidence: `agent` (an inventory received after the campaign started proved
-- the goal: `inventory_id`, `observed`, `reason`) or `attested` (the SE, with `work_entry_id` for 実施済 and
-- the witness where the prefecture wants one). `reason` is also the reason of 対象外, which is required.
CREATE TABLE campaign_targets (
    campaign_id         INTEGER NOT NULL REFERENCES campaigns(id),
    terminal_id         INTEGER NOT NULL REFERENCES terminals(id),
    stage               INTEGER NOT NULL DEFAULT 1,
    status              TEXT NOT NULL DEFAULT 'pending',
    evidence_kind       TEXT,
    inventory_id        INTEGER REFERENCES inventories(id),
    work_entry_id       INTEGER REFERENCES work_entries(id),
    witness             TEXT NOT NULL DEFAULT '',
    witness_confirmed_by TEXT,
    witness_confirmed_at TEXT,
    observed            TEXT NOT NULL DEFAULT '',
    reason              TEXT NOT NULL DEFAULT '',
    note                TEXT NOT NULL DEFAULT '',
    updated_by          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    PRIMARY KEY (campaign_id, terminal_id),
    CHECK (status IN ('pending', 'done', 'failed', 'excluded')),
    CHECK (evidence_kind IS NULL OR evidence_kind IN ('agent', 'attested')),
    CHECK (evidence_kind IS NULL OR evidence_kind <> 'agent' OR inventory_id IS NOT NULL),
    CHECK (status <> 'excluded' OR reason <> '')
);
CREATE INDEX campaign_targets_terminal ON campaign_targets(terminal_id);
CREATE INDEX campaign_targets_status ON campaign_targets(campaign_id, status);
