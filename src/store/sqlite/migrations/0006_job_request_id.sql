-- The request that created a job, so the worker's log lines (another
-- process, maybe another host) can be joined to the request's log line.
ALTER TABLE export_jobs ADD COLUMN request_id TEXT;
