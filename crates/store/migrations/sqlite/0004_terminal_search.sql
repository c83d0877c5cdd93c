-- One lower-cased text per terminal for the list's free-text search, so a search reads one column instead of
-- lower-casing seven columns and a joined site name on every row. Kept up to date by the store after every
-- terminal write and site rename (rows with an empty search_text are refreshed).
ALTER TABLE terminals ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

UPDATE terminals SET search_text = lower(hostname || ' ' || COALESCE(ip_address, '') || ' ' || os_name || ' '
    || os_version || ' ' || serial_number || ' ' || asset_number || ' '
    || COALESCE((SELECT name FROM sites WHERE sites.id = terminals.site_id), ''));

-- The list's sort keys, so a page of a sorted list reads 50 rows instead of sorting the whole fleet.
CREATE INDEX terminals_ip ON terminals(ip_address);
CREATE INDEX terminals_os ON terminals(os_name, os_version);
CREATE INDEX terminals_updated ON terminals(updated_at);
CREATE INDEX terminals_kind_host ON terminals(kind, hostname_key);
CREATE INDEX terminals_status_kind ON terminals(retired_at, kind, site_id);
