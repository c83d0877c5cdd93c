-- The retention deletes hourly roll-ups by age. This partial index covers only the hourly rows (a bounded
-- window), so the delete reads what it removes instead of scanning the whole table, and the daily
-- roll-ups, kept for years, carry no extra bytes. Raw results need no index: their rowid order is the
-- order they were appended in, i.e. time order, and the retention walks it from the oldest.
CREATE INDEX check_rollups_hourly_bucket ON check_rollups(bucket) WHERE grain = 3600;
