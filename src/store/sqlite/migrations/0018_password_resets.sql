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

-- The original's search matches a digits-only term anywhere in the phone
-- number (COMPAT §2.3). `phone_number LIKE '%…%'` scans every lead; the name
-- search's FTS5 trigram index (0003) now indexes the phone number too, and
-- the filter builder scopes each phrase to its column (`name : "…"`,
-- `phone_number : "…"`). Same table and trigger names, so the bulk import
-- and the restore, which drop those triggers and rebuild the table, are
-- unchanged. Measured with the sqlite3 shell on a 1M-row toy table (name,
-- random 10-digit phones; a loaded 2-core box): a 5-digit fragment 12 ms,
-- 3 digits (9.5k matches) 50 ms, where LIKE scans 150-165 ms; the index grew
-- by ~42 MB and its rebuild (this migration, a bulk import's end) from 3.6 s
-- to 7.4 s.
DROP TRIGGER leads_fts_insert;
DROP TRIGGER leads_fts_delete;
DROP TRIGGER leads_fts_update;
DROP TABLE leads_name_fts;
CREATE VIRTUAL TABLE leads_name_fts USING fts5(
    name, phone_number, content = 'leads', content_rowid = 'rowid', tokenize = 'trigram'
);
INSERT INTO leads_name_fts (leads_name_fts) VALUES ('rebuild');
CREATE TRIGGER leads_fts_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_name_fts (rowid, name, phone_number)
        VALUES (NEW.rowid, NEW.name, NEW.phone_number);
END;
CREATE TRIGGER leads_fts_delete AFTER DELETE ON leads BEGIN
    INSERT INTO leads_name_fts (leads_name_fts, rowid, name, phone_number)
        VALUES ('delete', OLD.rowid, OLD.name, OLD.phone_number);
END;
CREATE TRIGGER leads_fts_update AFTER UPDATE OF name, phone_number ON leads BEGIN
    INSERT INTO leads_name_fts (leads_name_fts, rowid, name, phone_number)
        VALUES ('delete', OLD.rowid, OLD.name, OLD.phone_number);
    INSERT INTO leads_name_fts (rowid, name, phone_number)
        VALUES (NEW.rowid, NEW.name, NEW.phone_number);
END;
