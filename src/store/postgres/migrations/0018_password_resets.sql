-- The original's password-reset flow (COMPAT §2.1): a user asks, an
-- administrator approves with a generated temporary password, which the user
-- must replace (reset-with-temp-password, change-password). The temporary
-- password itself is never stored (only its hash, as the account's password).
ALTER TABLE users ADD COLUMN temp_password BOOLEAN NOT NULL DEFAULT false;
CREATE TABLE password_reset_requests (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    processed_at TIMESTAMPTZ,
    processed_by UUID
);
-- one pending request per user (the original's 400 "already pending")
CREATE UNIQUE INDEX password_reset_one_pending ON password_reset_requests (user_id)
    WHERE status = 'pending';
CREATE INDEX password_reset_by_time ON password_reset_requests (created_at);

-- The original's search matches a digits-only term anywhere in the phone
-- number (COMPAT §2.3): `phone_number LIKE '%…%'`, answered by a trigram
-- index as the name search is (0003; without pg_trgm it scans).
DO $$
BEGIN
    CREATE INDEX leads_phone_trgm ON leads USING gin (phone_number gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable (%); phone fragment search will scan', SQLERRM;
END
$$;
