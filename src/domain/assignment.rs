//! The write rules of a lead's assignment: who calls it, from which date,
//! and when it was last called. Each edit says whether it changed the lead,
//! so bulk operations can count what they did.

use chrono::{DateTime, NaiveDate, Utc};

use super::lead::Lead;

/// What [`Lead::reassign`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reassigned {
    /// The assignment date moved.
    Changed,
    /// It already had that date.
    Unchanged,
    /// The lead has no telecaller: there is no assignment to move.
    NotAssigned,
}

impl Lead {
    /// Assigns the lead to `telecaller` from `date`. Assigning it again to
    /// the same telecaller on the same date changes nothing (`false`).
    pub fn assign(&mut self, telecaller: &str, date: NaiveDate, now: DateTime<Utc>) -> bool {
        if self.assigned_telecaller.as_deref() == Some(telecaller)
            && self.assigned_date == Some(date)
        {
            return false;
        }
        self.assigned_telecaller = Some(telecaller.to_owned());
        self.assigned_date = Some(date);
        self.updated_at = now;
        true
    }

    /// Takes the lead away from its telecaller (and its assignment date).
    /// Always counts as a change: `updated_at` moves.
    pub fn unassign(&mut self, now: DateTime<Utc>) -> bool {
        self.assigned_telecaller = None;
        self.assigned_date = None;
        self.updated_at = now;
        true
    }

    /// Moves the assignment to `date`; a lead with no telecaller (or an
    /// empty one) has none to move.
    pub fn reassign(&mut self, date: NaiveDate, now: DateTime<Utc>) -> Reassigned {
        if self
            .assigned_telecaller
            .as_deref()
            .is_none_or(|t| t.is_empty())
        {
            return Reassigned::NotAssigned;
        }
        if self.assigned_date == Some(date) {
            return Reassigned::Unchanged;
        }
        self.assigned_date = Some(date);
        self.updated_at = now;
        Reassigned::Changed
    }

    /// Records that the lead was called at `now`.
    pub fn call_done(&mut self, now: DateTime<Utc>) -> bool {
        self.last_called = Some(now);
        self.updated_at = now;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead() -> Lead {
        serde_json::from_value(serde_json::json!({
            "id": "f85e06a1-1dad-49b2-92c2-1221409d3602",
            "name": "B. Deepak",
            "phone_number": "6743266541",
            "stage": "S1",
            "status": "New",
            "created_at": "2026-08-29T08:34:54.054Z",
            "updated_at": "2026-08-29T08:34:54.054Z",
        }))
        .expect("a minimal lead")
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 9, d).unwrap()
    }

    fn at(h: u32) -> DateTime<Utc> {
        format!("2026-09-10T{h:02}:00:00Z").parse().unwrap()
    }

    #[test]
    fn assign_is_idempotent_per_telecaller_and_date() {
        let mut l = lead();
        assert!(l.assign("tc@x", day(1), at(1)));
        assert_eq!(l.assigned_telecaller.as_deref(), Some("tc@x"));
        assert_eq!((l.assigned_date, l.updated_at), (Some(day(1)), at(1)));
        assert!(
            !l.assign("tc@x", day(1), at(2)),
            "same telecaller, same day"
        );
        assert_eq!(l.updated_at, at(1), "nothing moved");
        assert!(l.assign("tc@x", day(2), at(3)), "a new date is a change");
        assert!(
            l.assign("other@x", day(2), at(4)),
            "a new telecaller is a change"
        );
        assert_eq!(l.assigned_telecaller.as_deref(), Some("other@x"));
    }

    #[test]
    fn unassign_clears_both_and_always_changes() {
        let mut l = lead();
        l.assign("tc@x", day(1), at(1));
        assert!(l.unassign(at(2)));
        assert_eq!(
            (l.assigned_telecaller.clone(), l.assigned_date),
            (None, None)
        );
        assert!(
            l.unassign(at(3)),
            "already unassigned still bumps updated_at"
        );
        assert_eq!(l.updated_at, at(3));
    }

    #[test]
    fn reassign_needs_an_assignment() {
        let mut l = lead();
        assert_eq!(l.reassign(day(5), at(1)), Reassigned::NotAssigned);
        l.assigned_telecaller = Some(String::new());
        assert_eq!(
            l.reassign(day(5), at(1)),
            Reassigned::NotAssigned,
            "empty login"
        );
        assert_eq!(l.assigned_date, None);
        l.assign("tc@x", day(1), at(1));
        assert_eq!(l.reassign(day(5), at(2)), Reassigned::Changed);
        assert_eq!((l.assigned_date, l.updated_at), (Some(day(5)), at(2)));
        assert_eq!(l.reassign(day(5), at(3)), Reassigned::Unchanged);
        assert_eq!(l.updated_at, at(2));
        assert_eq!(
            l.assigned_telecaller.as_deref(),
            Some("tc@x"),
            "same telecaller"
        );
    }

    #[test]
    fn call_done_stamps_last_called() {
        let mut l = lead();
        assert!(l.call_done(at(7)));
        assert_eq!((l.last_called, l.updated_at), (Some(at(7)), at(7)));
    }
}
