-- Undo of an import (issue 20): one row per committed file import, and one
-- per lead it wrote: inserted (prior NULL) or replaced (prior = the lead row
-- as the import found it, to_jsonb). written_at is the lead's updated_at as
-- the import wrote it: an undo is refused for a lead changed since. Written
-- in the import's own transaction.
CREATE TABLE imports (
    id            UUID PRIMARY KEY,
    owner_id      UUID,
    actor         TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    inserted      BIGINT NOT NULL DEFAULT 0,
    replaced      BIGINT NOT NULL DEFAULT 0,
    undone_at     TIMESTAMPTZ,
    undone_by     TEXT,
    undo_job      UUID
);
CREATE TABLE import_changes (
    import_id   UUID NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    lead_id     UUID NOT NULL,
    written_at  TIMESTAMPTZ NOT NULL,
    prior       JSONB
);
CREATE INDEX import_changes_import ON import_changes (import_id);
