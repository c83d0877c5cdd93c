-- The retention deletes raw results and hourly roll-ups by age. Raw results are appended in time order,
-- so a BRIN index on ts (a few kilobytes per gigabyte of table) lets the delete read only the oldest
-- block ranges instead of the whole table. Hourly roll-ups get a partial index that covers only the hourly
-- rows (a bounded window); the daily roll-ups, kept for years, carry no extra bytes.
CREATE INDEX check_results_ts_brin ON check_results USING brin (ts);
CREATE INDEX check_rollups_hourly_bucket ON check_rollups(bucket) WHERE grain = 3600;
