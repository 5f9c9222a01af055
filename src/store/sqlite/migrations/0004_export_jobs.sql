-- Background export jobs: the queue lives here, no broker (DESIGN §7).
-- A worker claims a queued job by setting `lease_token` and `lease_until`
-- in one conditional UPDATE; it extends the lease while it works; a job
-- whose lease ran out is queued again (or failed after `max_attempts`).
-- Every state change of a running job is conditional on its
-- `lease_token`, so a worker that lost its lease cannot complete it.
CREATE TABLE export_jobs (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users(id),
    owner_email  TEXT NOT NULL,
    status       TEXT NOT NULL,          -- queued, running, done, failed, cancelled, expired
    filters      TEXT NOT NULL,          -- JSON LeadFilter, decided at creation
    columns      TEXT NOT NULL,          -- JSON array of column keys
    format       TEXT NOT NULL,          -- xlsx or csv
    mask_pii     INTEGER NOT NULL,       -- decided by the creator's role at creation
    rows_done    INTEGER NOT NULL DEFAULT 0,
    rows_total   INTEGER,
    bytes        INTEGER,
    sha256       TEXT,
    file_key     TEXT,                   -- the published file, set only with status done
    error        TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_after    INTEGER NOT NULL,       -- not claimed before this (retry back-off)
    lease_token  TEXT,
    lease_until  INTEGER,
    worker       TEXT,                   -- who ran the last attempt (for the logs and audit)
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    expires_at   INTEGER
);
CREATE INDEX export_jobs_queue ON export_jobs (status, run_after, created_at);
CREATE INDEX export_jobs_owner ON export_jobs (owner_id, created_at);
CREATE INDEX export_jobs_created ON export_jobs (created_at);
