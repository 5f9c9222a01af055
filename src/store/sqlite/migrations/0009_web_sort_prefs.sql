-- The leads workspace (issue 15) sorts by name, import date and last change
-- besides the list's own order (last_called, leads_order). One index per
-- sort key, ending in id like the order itself, so any page of an
-- unfiltered sorted list is an index walk (a late page is read from the
-- other end, see store::filter::LeadOrder).
CREATE INDEX leads_sort_name ON leads (name, id);
CREATE INDEX leads_sort_import_date ON leads (import_date, id);
CREATE INDEX leads_sort_updated ON leads (updated_at, id);

-- The workspace shows counts per stage and status (tabs, chips) under its
-- filters. With one of these columns filtering, an index led by it and
-- ending in (stage, status) answers them as a covering range scan: 25 ms
-- for source = 'Website' (100k of 1M leads) where GROUP BY through
-- leads_source took 745 ms and summing lead_counts ~90 ms (seeded imports
-- spread over many days leave 760k counter rows). The unassigned one is
-- partial with the filter builder's exact text, like leads_unassigned.
CREATE INDEX leads_source_status ON leads (source, stage, status);
CREATE INDEX leads_telecaller_status ON leads (assigned_telecaller COLLATE NOCASE, stage, status);
CREATE INDEX leads_import_date_status ON leads (import_date, stage, status);
CREATE INDEX leads_unassigned_status ON leads (stage, status)
    WHERE (assigned_telecaller IS NULL OR assigned_telecaller = '');

-- What a user chose in the pages (columns, density), as a JSON object: read
-- and written whole, never queried into.
CREATE TABLE user_prefs (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    prefs TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
