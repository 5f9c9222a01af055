-- The telecaller desk (issue 21): see the SQLite migration of the same name.
-- The expression matches the filter builder's lower(assigned_telecaller).
CREATE INDEX leads_desk_assigned ON leads (lower(assigned_telecaller), assigned_date, last_called NULLS FIRST, id);
CREATE INDEX leads_desk_callback ON leads (lower(assigned_telecaller), callback_date, last_called NULLS FIRST, id);
