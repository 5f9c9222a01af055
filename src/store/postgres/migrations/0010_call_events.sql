-- Telecallers' work as events (issue 18): one row per call outcome or status
-- change, who and when. Own table, not JSON on the lead: the figures group
-- by (actor, IST day) over a date range and the lead's history reads one
-- lead's rows, each an index range scan here.
CREATE TABLE call_events (
    id          UUID PRIMARY KEY,
    lead_id     UUID NOT NULL,
    actor_id    UUID NOT NULL,
    actor_login TEXT NOT NULL,
    -- called | connected | no_response | status_change
    outcome     TEXT NOT NULL,
    -- the status entered, for status_change (and RNR for no_response)
    status      TEXT,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX call_events_lead ON call_events (lead_id, at);
CREATE INDEX call_events_actor ON call_events (lower(actor_login), at);
CREATE INDEX call_events_at ON call_events (at);

-- The original's spellings (DESIGN §4): Pulse wrote "Interested No DL" and
-- "Interested No Badge" before.
UPDATE leads SET status = 'Interested, No DL' WHERE status = 'Interested No DL';
UPDATE leads SET status = 'Interested, No Badge' WHERE status = 'Interested No Badge';
UPDATE leads
SET status_history = replace(replace(status_history::text,
        '"Interested No DL"', '"Interested, No DL"'),
        '"Interested No Badge"', '"Interested, No Badge"')::jsonb
WHERE status_history::text LIKE '%"Interested No DL"%'
   OR status_history::text LIKE '%"Interested No Badge"%';
