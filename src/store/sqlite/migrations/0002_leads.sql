-- One row per lead; histories as JSON text (read and written whole with
-- the lead, never queried inside; the export never reads them).
-- Dates are TEXT 'YYYY-MM-DD' (sortable, range-filterable); instants are
-- INTEGER milliseconds since the epoch (UTC).
CREATE TABLE leads (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    phone_number        TEXT NOT NULL,
    email               TEXT,
    vehicle             TEXT,
    driving_license     TEXT,
    experience          TEXT,
    interested_ev       TEXT,
    monthly_salary      TEXT,
    residing_chennai    TEXT,
    current_location    TEXT,
    preferred_shift     TEXT,
    allotted_shift      TEXT,
    default_vehicle     TEXT,
    end_date            TEXT,
    dl_no               TEXT,
    badge_no            TEXT,
    aadhar_card         TEXT,
    pan_card            TEXT,
    gas_bill            TEXT,
    bank_passbook       TEXT,
    stage               TEXT NOT NULL,
    status              TEXT NOT NULL,
    assigned_telecaller TEXT,
    assigned_date       TEXT,
    callback_date       TEXT,
    last_called         INTEGER,
    source              TEXT,
    import_date         TEXT,
    remarks             TEXT,
    remarks_history     TEXT NOT NULL DEFAULT '[]',
    status_history      TEXT NOT NULL DEFAULT '[]',
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX leads_phone ON leads (phone_number);
-- The list order is (last_called NULLS FIRST, id); each filter column
-- leads an index that continues in that order, so a filtered page is an
-- index range scan with no sort.
CREATE INDEX leads_order ON leads (last_called, id);
CREATE INDEX leads_stage ON leads (stage, last_called, id);
CREATE INDEX leads_status ON leads (status, last_called, id);
CREATE INDEX leads_source ON leads (source, last_called, id);
CREATE INDEX leads_telecaller ON leads (assigned_telecaller, last_called, id);
CREATE INDEX leads_import_date ON leads (import_date, last_called, id);
