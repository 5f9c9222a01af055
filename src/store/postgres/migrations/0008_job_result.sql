-- What a finished job reports beyond its file (an import's counts), as a
-- JSON object; NULL for kinds that have none.
ALTER TABLE export_jobs ADD COLUMN result JSONB;
