-- Undo of an import (issue 20): one row per committed file import, and one
-- per lead it wrote: inserted (prior NULL) or replaced (prior = the lead as
-- the import found it, a JSON object of its columns). written_at is the
-- lead's updated_at as the import wrote it: an undo is refused for a lead
-- changed since. Written in the import's own transaction.
CREATE TABLE imports (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT,
    actor         TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    inserted      INTEGER NOT NULL DEFAULT 0,
    replaced      INTEGER NOT NULL DEFAULT 0,
    undone_at     INTEGER,
    undone_by     TEXT,
    undo_job      TEXT
);
CREATE TABLE import_changes (
    import_id   TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    lead_id     TEXT NOT NULL,
    written_at  INTEGER NOT NULL,
    prior       TEXT
);
CREATE INDEX import_changes_import ON import_changes (import_id);
