-- Inventory agents (issue 20): each agent seen reporting, one row per device id — its software (FusionInventory
-- or GLPI Agent) and version, the GLPI-Agent-ID it sends, the protocol it speaks to unyo, the credential it used
-- and its last contact. Written by the agent endpoint; instants are TEXT in UTC as in 0001.
CREATE TABLE inventory_agents (
    id                  INTEGER PRIMARY KEY,
    device_id           TEXT NOT NULL,
    agent_credential_id INTEGER NOT NULL REFERENCES agent_credentials(id),
    kind                TEXT NOT NULL,
    version             TEXT,
    glpi_agent_id       TEXT,
    protocol            TEXT NOT NULL,
    first_seen_at       TEXT NOT NULL,
    last_contact_at     TEXT NOT NULL,
    last_contact_from   TEXT NOT NULL,
    last_message        TEXT NOT NULL
);
CREATE UNIQUE INDEX inventory_agents_device ON inventory_agents(device_id);

-- A partial inventory (GLPI `"partial": true`) is stored merged into the full one before it; this is that one.
ALTER TABLE inventories ADD COLUMN merged_from INTEGER REFERENCES inventories(id);
