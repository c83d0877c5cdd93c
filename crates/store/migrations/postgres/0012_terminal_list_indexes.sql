-- The terminal list is answered from the store's in-memory index (migration 0009), so the sort indexes
-- that served it in SQL are no longer read, while each cost every terminal write (a 100,000-row import
-- maintained all of them). The address index stays (agents and checks look terminals up by address),
-- and so does the (retired_at, kind, site_id) index that campaign target selection filters by.
DROP INDEX terminals_os;
DROP INDEX terminals_updated;
DROP INDEX terminals_kind_host;
