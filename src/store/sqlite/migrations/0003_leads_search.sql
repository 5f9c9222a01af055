-- Telecaller logins are e-mails compared case-insensitively; the filter
-- builder writes `assigned_telecaller = ? COLLATE NOCASE`, which only a
-- NOCASE index serves. It replaces the BINARY one of 0002.
DROP INDEX leads_telecaller;
CREATE INDEX leads_telecaller ON leads (assigned_telecaller COLLATE NOCASE, last_called, id);
-- `unassigned_only` is an OR the planner cannot range-scan; a partial index
-- whose WHERE is the builder's exact text keeps its COUNT off the table.
CREATE INDEX leads_unassigned ON leads (last_called, id)
    WHERE (assigned_telecaller IS NULL OR assigned_telecaller = '');

-- Name search: `name LIKE '%…%'` over 1M rows scans the table (~0.4 s, and
-- ~4.5 s walking the order index when nothing matches). An FTS5 trigram
-- index answers LIKE on fragments of 3+ characters, case-insensitively.
-- External content keyed by leads' rowid, kept by triggers. leads has no
-- INTEGER PRIMARY KEY, so a plain VACUUM may renumber rowids: after one,
-- run INSERT INTO leads_name_fts(leads_name_fts) VALUES ('rebuild').
CREATE VIRTUAL TABLE leads_name_fts USING fts5(
    name, content = 'leads', content_rowid = 'rowid', tokenize = 'trigram'
);
INSERT INTO leads_name_fts (leads_name_fts) VALUES ('rebuild');
CREATE TRIGGER leads_fts_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_name_fts (rowid, name) VALUES (NEW.rowid, NEW.name);
END;
CREATE TRIGGER leads_fts_delete AFTER DELETE ON leads BEGIN
    INSERT INTO leads_name_fts (leads_name_fts, rowid, name) VALUES ('delete', OLD.rowid, OLD.name);
END;
CREATE TRIGGER leads_fts_update AFTER UPDATE OF name ON leads BEGIN
    INSERT INTO leads_name_fts (leads_name_fts, rowid, name) VALUES ('delete', OLD.rowid, OLD.name);
    INSERT INTO leads_name_fts (rowid, name) VALUES (NEW.rowid, NEW.name);
END;

-- Maintained counters for the status summary: GROUP BY over 1M rows takes
-- 0.4–0.9 s with a source, date or telecaller filter. One row per
-- (source, import_date, telecaller, stage, status) — about 10^4 rows for
-- 10^6 leads, as imports come in batches. The columns carry the names of
-- leads' columns, so the one filter builder's WHERE applies here as is,
-- for every filter made only of these columns. NULLs are stored as ''
-- (a key column cannot hold NULL), which no non-empty filter value matches,
-- and the telecaller lower-cased, as the builder compares it NOCASE.
CREATE TABLE lead_counts (
    source              TEXT NOT NULL,
    import_date         TEXT NOT NULL,
    assigned_telecaller TEXT NOT NULL,
    stage               TEXT NOT NULL,
    status              TEXT NOT NULL,
    n                   INTEGER NOT NULL,
    PRIMARY KEY (source, import_date, assigned_telecaller, stage, status)
) WITHOUT ROWID;
-- The same per (stage, status) only: lead_counts has ~7×10^4 rows for 10^6
-- leads (batches span days), too many to sum within 100 ms every time.
CREATE TABLE lead_status_counts (
    stage  TEXT NOT NULL,
    status TEXT NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (stage, status)
) WITHOUT ROWID;
INSERT INTO lead_status_counts SELECT stage, status, count(*) FROM leads GROUP BY 1, 2;
INSERT INTO lead_counts
    SELECT coalesce(source, ''), coalesce(import_date, ''),
           lower(coalesce(assigned_telecaller, '')), stage, status, count(*)
    FROM leads GROUP BY 1, 2, 3, 4, 5;
CREATE TRIGGER leads_count_insert AFTER INSERT ON leads BEGIN
    INSERT INTO lead_counts VALUES (
        coalesce(NEW.source, ''), coalesce(NEW.import_date, ''),
        lower(coalesce(NEW.assigned_telecaller, '')), NEW.stage, NEW.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO lead_status_counts VALUES (NEW.stage, NEW.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER leads_count_delete AFTER DELETE ON leads BEGIN
    UPDATE lead_counts SET n = n - 1
    WHERE source = coalesce(OLD.source, '') AND import_date = coalesce(OLD.import_date, '')
      AND assigned_telecaller = lower(coalesce(OLD.assigned_telecaller, ''))
      AND stage = OLD.stage AND status = OLD.status;
    UPDATE lead_status_counts SET n = n - 1 WHERE stage = OLD.stage AND status = OLD.status;
END;
CREATE TRIGGER leads_count_update
AFTER UPDATE OF source, import_date, assigned_telecaller, stage, status ON leads BEGIN
    UPDATE lead_counts SET n = n - 1
    WHERE source = coalesce(OLD.source, '') AND import_date = coalesce(OLD.import_date, '')
      AND assigned_telecaller = lower(coalesce(OLD.assigned_telecaller, ''))
      AND stage = OLD.stage AND status = OLD.status;
    INSERT INTO lead_counts VALUES (
        coalesce(NEW.source, ''), coalesce(NEW.import_date, ''),
        lower(coalesce(NEW.assigned_telecaller, '')), NEW.stage, NEW.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
    UPDATE lead_status_counts SET n = n - 1 WHERE stage = OLD.stage AND status = OLD.status;
    INSERT INTO lead_status_counts VALUES (NEW.stage, NEW.status, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
