-- Whether the SE set a work entry's clause (①–⑤) or it is the one suggested from its category and
-- terminals; an edit re-suggests a suggested clause but keeps a set one.
ALTER TABLE work_entries ADD COLUMN clause_set BOOLEAN NOT NULL DEFAULT FALSE;
