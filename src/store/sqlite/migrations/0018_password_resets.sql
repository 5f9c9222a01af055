-- The original's password-reset flow (COMPAT §2.1): a user asks, an
-- administrator approves with a generated temporary password, which the user
-- must replace (reset-with-temp-password, change-password). The temporary
-- password itself is never stored (only its hash, as the account's password).
ALTER TABLE users ADD COLUMN temp_password INTEGER NOT NULL DEFAULT 0;
CREATE TABLE password_reset_requests (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    processed_at INTEGER,
    processed_by TEXT
);
-- one pending request per user (the original's 400 "already pending")
CREATE UNIQUE INDEX password_reset_one_pending ON password_reset_requests (user_id)
    WHERE status = 'pending';
CREATE INDEX password_reset_by_time ON password_reset_requests (created_at);
