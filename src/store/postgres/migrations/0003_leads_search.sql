-- Telecaller logins are e-mails compared case-insensitively; the filter
-- builder writes `lower(assigned_telecaller) = lower($n)`, which only an
-- expression index serves. It replaces the plain one of 0002. The INCLUDE
-- lets COUNT(*) be an index-only scan (PostgreSQL needs the column itself
-- for that): 560 ms -> 50 ms for a telecaller with 118k of 1M leads.
DROP INDEX leads_telecaller;
CREATE INDEX leads_telecaller ON leads (lower(assigned_telecaller), last_called NULLS FIRST, id)
    INCLUDE (assigned_telecaller);
CREATE INDEX leads_stage_status ON leads (stage, status);
-- Name search is `name ILIKE '%…%'`: pg_trgm (Debian's postgresql-contrib,
-- a trusted extension since PostgreSQL 13) lets a GIN trigram index answer
-- it. Without the extension the migration still succeeds and search scans.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX leads_name_trgm ON leads USING gin (name gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable (%); name search will scan', SQLERRM;
END
$$;
