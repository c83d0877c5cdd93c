-- The terminal list is answered from an in-memory index (see the store's terminal_index module). This
-- counter tells every instance when that index is stale: any change to a terminal, and any new, renamed
-- or retired site (the index also holds the number of sites in service), bumps it in the same transaction. Statement-level triggers, so that no write path
-- can forget it and a bulk import bumps it once per statement rather than once per row.
CREATE TABLE registry_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO registry_version (id, version) VALUES (1, 1);

CREATE FUNCTION bump_registry_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER terminals_bump_version
AFTER INSERT OR DELETE OR UPDATE OF site_id, hostname, hostname_key, kind, ip_address, os_name, os_version,
    serial_number, asset_number, updated_at, retired_at ON terminals
FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version();

CREATE TRIGGER sites_bump_version AFTER INSERT OR UPDATE OF code, name, retired_at ON sites
FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version();

-- The index searches its own folded text, so the stored search column (0004) is no longer read.
ALTER TABLE terminals DROP COLUMN search_text;
