-- Lead counts per (source, telecaller, stage, status), kept in every
-- writing transaction, for the totals, stage tabs and status chips of the
-- leads workspace (issue 15) whenever only stage, status, source, the
-- telecaller (a filter or a telecaller's own scope) or unassigned-only
-- filter: count(*) over 1M leads took 180–230 ms warm and up to 3 s cold (an
-- index or heap walk); these rows are a few thousand at most (sources ×
-- telecallers × statuses).
--
-- Append-only deltas, no primary key: a statement adds one row per key it
-- changed (+n inserted, -n deleted, both for an update that moves a lead),
-- so concurrent writers never wait on (or deadlock over) a shared counter
-- row. A count is sum(n) over the key's rows; the store folds the rows into
-- one per key now and then (compact_lead_counts in postgres/leads.rs).
-- Column names are leads' own, so the one filter builder's WHERE applies here
-- as is; the telecaller is stored lower-cased ('' for none), as the builder
-- compares lower() of both sides and writes unassigned as IS NULL OR = '';
-- no source is '' (no filter value is empty).
CREATE TABLE lead_source_telecaller_counts (
    source              TEXT NOT NULL,
    assigned_telecaller TEXT NOT NULL,
    stage               TEXT NOT NULL,
    status              TEXT NOT NULL,
    n                   BIGINT NOT NULL
);
INSERT INTO lead_source_telecaller_counts
    SELECT coalesce(source, ''), lower(coalesce(assigned_telecaller, '')), stage, status, count(*)
    FROM leads GROUP BY 1, 2, 3, 4;

-- Statement-level triggers with transition tables: a bulk import of 1M rows
-- adds a handful of rows in one GROUP BY, not 1M upserts.
CREATE FUNCTION lead_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_source_telecaller_counts
        SELECT coalesce(source, ''), lower(coalesce(assigned_telecaller, '')), stage, status, count(*)
        FROM new_rows GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END
$$;
CREATE FUNCTION lead_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_source_telecaller_counts
        SELECT coalesce(source, ''), lower(coalesce(assigned_telecaller, '')), stage, status, -count(*)
        FROM old_rows GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END
$$;
-- (transition tables cannot go with UPDATE OF a column list: every update
-- runs this, and one that moved no lead between keys adds nothing)
CREATE FUNCTION lead_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_source_telecaller_counts
        SELECT src, t, s, st, sum(d) FROM (
            SELECT coalesce(source, '') AS src, lower(coalesce(assigned_telecaller, '')) AS t,
                   stage AS s, status AS st, 1 AS d FROM new_rows
            UNION ALL
            SELECT coalesce(source, ''), lower(coalesce(assigned_telecaller, '')), stage, status, -1
            FROM old_rows
        ) moved
        GROUP BY 1, 2, 3, 4 HAVING sum(d) <> 0;
    RETURN NULL;
END
$$;
CREATE FUNCTION lead_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM lead_source_telecaller_counts;
    RETURN NULL;
END
$$;
CREATE TRIGGER leads_tc_count_insert AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lead_counts_insert();
CREATE TRIGGER leads_tc_count_delete AFTER DELETE ON leads
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lead_counts_delete();
CREATE TRIGGER leads_tc_count_update AFTER UPDATE ON leads
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION lead_counts_update();
CREATE TRIGGER leads_tc_count_truncate AFTER TRUNCATE ON leads
    FOR EACH STATEMENT EXECUTE FUNCTION lead_counts_truncate();
