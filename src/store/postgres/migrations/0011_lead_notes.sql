-- The original's two notes fields (issue 18, COMPAT §2.5): kept on the lead
-- like every other text field.
ALTER TABLE leads ADD COLUMN telecaller_notes TEXT;
ALTER TABLE leads ADD COLUMN notes TEXT;

-- A deleted lead's call events now go with it (store delete_leads); drop
-- those left behind by deletes made before.
DELETE FROM call_events
WHERE NOT EXISTS (SELECT 1 FROM leads WHERE leads.id = call_events.lead_id);
