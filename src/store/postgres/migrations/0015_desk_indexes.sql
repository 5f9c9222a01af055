-- The telecaller desk (issue 21): see the SQLite migration of the same name.
-- The expression matches the filter builder's lower(assigned_telecaller); the
-- column itself is included because PostgreSQL answers from an expression
-- index alone (an index-only count, no heap visit per lead) only when the
-- columns under the expression are in the index too.
CREATE INDEX leads_desk_assigned ON leads (lower(assigned_telecaller), assigned_date, last_called NULLS FIRST, id)
    INCLUDE (assigned_telecaller);
CREATE INDEX leads_desk_callback ON leads (lower(assigned_telecaller), callback_date, last_called NULLS FIRST, id)
    INCLUDE (assigned_telecaller);
