-- Telecallers' work as events (issue 18): one row per call outcome or status
-- change, who and when. Own table, not JSON on the lead: the figures group
-- by (actor, IST day) over a date range and the lead's history reads one
-- lead's rows, each an index range scan here.
CREATE TABLE call_events (
    id          TEXT PRIMARY KEY,
    lead_id     TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_login TEXT NOT NULL,
    -- called | connected | no_response | status_change
    outcome     TEXT NOT NULL,
    -- the status entered, for status_change (and RNR for no_response)
    status      TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX call_events_lead ON call_events (lead_id, at);
CREATE INDEX call_events_actor ON call_events (actor_login COLLATE NOCASE, at);
CREATE INDEX call_events_at ON call_events (at);

-- The original's spellings (DESIGN §4): Pulse wrote "Interested No DL" and
-- "Interested No Badge" before. leads_count_update (0003) moves the counter
-- rows; the emptied ones are dropped so the summary shows one spelling.
UPDATE leads SET status = 'Interested, No DL' WHERE status = 'Interested No DL';
UPDATE leads SET status = 'Interested, No Badge' WHERE status = 'Interested No Badge';
UPDATE leads
SET status_history = replace(replace(status_history,
        '"Interested No DL"', '"Interested, No DL"'),
        '"Interested No Badge"', '"Interested, No Badge"')
WHERE status_history LIKE '%"Interested No DL"%' OR status_history LIKE '%"Interested No Badge"%';
DELETE FROM lead_counts WHERE status IN ('Interested No DL', 'Interested No Badge') AND n = 0;
DELETE FROM lead_status_counts WHERE status IN ('Interested No DL', 'Interested No Badge') AND n = 0;
