-- Background export jobs: the queue lives here, no broker (DESIGN §7).
-- Workers claim with FOR UPDATE SKIP LOCKED; see the SQLite twin for the
-- lease rules.
CREATE TABLE export_jobs (
    id           UUID PRIMARY KEY,
    owner_id     UUID NOT NULL REFERENCES users(id),
    owner_email  TEXT NOT NULL,
    status       TEXT NOT NULL,
    filters      JSONB NOT NULL,
    columns      JSONB NOT NULL,
    format       TEXT NOT NULL,
    mask_pii     BOOLEAN NOT NULL,
    rows_done    BIGINT NOT NULL DEFAULT 0,
    rows_total   BIGINT,
    bytes        BIGINT,
    sha256       TEXT,
    file_key     TEXT,
    error        TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_after    TIMESTAMPTZ NOT NULL,
    lease_token  TEXT,
    lease_until  TIMESTAMPTZ,
    worker       TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ,
    expires_at   TIMESTAMPTZ
);
CREATE INDEX export_jobs_queue ON export_jobs (status, run_after, created_at);
CREATE INDEX export_jobs_owner ON export_jobs (owner_id, created_at);
CREATE INDEX export_jobs_created ON export_jobs (created_at);
