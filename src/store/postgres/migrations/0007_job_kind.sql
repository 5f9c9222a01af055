-- The job queue carries more than exports (issue 8: backups run as jobs;
-- imports will): each job has a kind, and the parameters of kinds other
-- than exports as a JSON object. Existing rows are exports.
ALTER TABLE export_jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'export',
    ADD COLUMN params JSONB NOT NULL DEFAULT '{}';
-- Listings and admission are per kind.
CREATE INDEX export_jobs_kind ON export_jobs (kind, status, created_at);
