-- One row per lead; histories as JSONB (read and written whole with the
-- lead, never queried inside; the export never reads them).
CREATE TABLE leads (
    id                  UUID PRIMARY KEY,
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
    end_date            DATE,
    dl_no               TEXT,
    badge_no            TEXT,
    aadhar_card         TEXT,
    pan_card            TEXT,
    gas_bill            TEXT,
    bank_passbook       TEXT,
    stage               TEXT NOT NULL,
    status              TEXT NOT NULL,
    assigned_telecaller TEXT,
    assigned_date       DATE,
    callback_date       DATE,
    last_called         TIMESTAMPTZ,
    source              TEXT,
    import_date         DATE,
    remarks             TEXT,
    remarks_history     JSONB NOT NULL DEFAULT '[]',
    status_history      JSONB NOT NULL DEFAULT '[]',
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX leads_phone ON leads (phone_number);
-- The list order is (last_called NULLS FIRST, id), as on SQLite.
CREATE INDEX leads_order ON leads (last_called NULLS FIRST, id);
CREATE INDEX leads_stage ON leads (stage, last_called NULLS FIRST, id);
CREATE INDEX leads_status ON leads (status, last_called NULLS FIRST, id);
CREATE INDEX leads_source ON leads (source, last_called NULLS FIRST, id);
CREATE INDEX leads_telecaller ON leads (assigned_telecaller, last_called NULLS FIRST, id);
CREATE INDEX leads_import_date ON leads (import_date, last_called NULLS FIRST, id);
