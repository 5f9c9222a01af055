-- The telecaller desk (issue 21) lists one telecaller's leads assigned for a
-- day, with a callback due that day, and overdue (callback before it), each
-- in the list order (last_called, id), with counts of all and of those not
-- called since the day began. Through leads_telecaller each of those read
-- every lead of the telecaller (~70k of 1M seeded leads) to test the date:
-- seconds for a desk. Led by the telecaller and the date and ending in the
-- list order, a day's page is an index range in order and its counts
-- (also "not called since": a prefix of last_called) are range counts.
CREATE INDEX leads_desk_assigned ON leads (assigned_telecaller COLLATE NOCASE, assigned_date, last_called, id);
CREATE INDEX leads_desk_callback ON leads (assigned_telecaller COLLATE NOCASE, callback_date, last_called, id);
