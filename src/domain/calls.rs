//! Telecallers' work as events (DESIGN §4): call outcomes and status
//! changes, who and when, and the daily figures counted from them.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ist::{IST, today_ist};
use super::lead::Lead;
use super::pipeline::Status;

/// What a telecaller recorded, or a status change anyone made.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// The lead was called (the original's call-done / mark-called).
    Called,
    /// Called and spoke with the lead.
    Connected,
    /// Called, no answer: the lead goes to RNR.
    NoResponse,
    /// The lead's status changed (PATCH, bulk status, no response).
    StatusChange,
}

impl CallOutcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Called => "called",
            CallOutcome::Connected => "connected",
            CallOutcome::NoResponse => "no_response",
            CallOutcome::StatusChange => "status_change",
        }
    }

    /// True for the outcomes of a call (every one but a status change).
    pub fn is_call(self) -> bool {
        self != CallOutcome::StatusChange
    }
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored outcome name that is none of [`CallOutcome`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown call outcome {0:?}")]
pub struct OutcomeError(pub String);

impl FromStr for CallOutcome {
    type Err = OutcomeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "called" => CallOutcome::Called,
            "connected" => CallOutcome::Connected,
            "no_response" => CallOutcome::NoResponse,
            "status_change" => CallOutcome::StatusChange,
            other => return Err(OutcomeError(other.to_owned())),
        })
    }
}

/// One event row (and its form in a backup line, `backup::format`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEvent {
    /// Its id.
    pub id: Uuid,
    /// The lead.
    pub lead_id: Uuid,
    /// Who (user id).
    pub actor_id: Uuid,
    /// Who (login, as on `assigned_telecaller`).
    pub actor_login: String,
    /// What.
    pub outcome: CallOutcome,
    /// The status entered, for a status change or a no response.
    pub status: Option<String>,
    /// When (UTC).
    pub at: DateTime<Utc>,
}

/// The RNR status a no response sets.
pub fn rnr() -> Status {
    // a canonical S1 status; pipeline_tests checks every name parses
    Status::parse("RNR").expect("RNR is a pipeline status")
}

/// Applies a call outcome to the lead: every call stamps `last_called`; a
/// no response also sets RNR through the pipeline rules (its history entry
/// included). Returns whether the status changed.
pub fn apply_call(lead: &mut Lead, outcome: CallOutcome, login: &str, now: DateTime<Utc>) -> bool {
    lead.call_done(now);
    if outcome == CallOutcome::NoResponse {
        let before = lead.status.clone();
        lead.set_status(rnr(), login, now);
        return before != lead.status;
    }
    false
}

/// The status change `lead` gained at `at` by `login`, as an event: the
/// first entry [`Lead::set_status`] appended then — the status asked for,
/// so a completion that moved the lead on is one change (to the completion
/// status), not two.
pub fn status_event(
    lead: &Lead,
    actor_id: Uuid,
    login: &str,
    at: DateTime<Utc>,
) -> Option<CallEvent> {
    lead.status_history
        .iter()
        .find(|e| e.changed_at == at && e.changed_by == login)
        .map(|e| CallEvent {
            id: Uuid::new_v4(),
            lead_id: lead.id,
            actor_id,
            actor_login: login.to_owned(),
            outcome: CallOutcome::StatusChange,
            status: Some(e.status.clone()),
            at,
        })
}

/// One counted group of events: whose, which IST day, what, which status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCount {
    /// The actor's login, lower-cased.
    pub login: String,
    /// The IST day.
    pub day: NaiveDate,
    /// What.
    pub outcome: CallOutcome,
    /// The status entered (status changes, no response).
    pub status: Option<String>,
    /// How many events.
    pub count: i64,
}

/// A day's (or a range's) figures of one telecaller.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Calls made: every call outcome (called, connected, no response).
    pub calls_made: i64,
    /// Calls where the lead answered.
    pub connected: i64,
    /// Calls without an answer.
    pub no_response: i64,
    /// Status changes (a no response's RNR included; a completion that moved
    /// the lead on is one change).
    pub status_changes: i64,
    /// Status changes to a completion status (Highly Interested, Verified,
    /// Approved, DONE!).
    pub conversions: i64,
}

impl Figures {
    /// Adds one counted group.
    pub fn add(&mut self, c: &EventCount) {
        match c.outcome {
            CallOutcome::Called => self.calls_made += c.count,
            CallOutcome::Connected => {
                self.calls_made += c.count;
                self.connected += c.count;
            }
            CallOutcome::NoResponse => {
                self.calls_made += c.count;
                self.no_response += c.count;
            }
            CallOutcome::StatusChange => {
                self.status_changes += c.count;
                let completion = c
                    .status
                    .as_deref()
                    .and_then(|s| Status::parse(s).ok())
                    .is_some_and(Status::is_completion);
                if completion {
                    self.conversions += c.count;
                }
            }
        }
    }
}

/// Figures by login, then by IST day, from counted groups.
pub fn figures_by_login(counts: &[EventCount]) -> BTreeMap<String, BTreeMap<NaiveDate, Figures>> {
    let mut out: BTreeMap<String, BTreeMap<NaiveDate, Figures>> = BTreeMap::new();
    for c in counts {
        out.entry(c.login.clone())
            .or_default()
            .entry(c.day)
            .or_default()
            .add(c);
    }
    out
}

/// The IST day of an event.
pub fn event_day(e: &CallEvent) -> NaiveDate {
    today_ist(e.at)
}

/// The UTC instants `[start, end)` of an IST day (`None` at the edge of
/// the calendar).
pub fn ist_day_bounds(day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let midnight = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(IST).single())
            .map(|t| t.with_timezone(&Utc))
    };
    let next = day.checked_add_days(Days::new(1));
    Some((midnight(day)?, next.and_then(midnight)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(outcome: CallOutcome, status: Option<&str>, n: i64) -> EventCount {
        EventCount {
            login: "tc@x".into(),
            day: "2026-09-10".parse().unwrap(),
            outcome,
            status: status.map(str::to_owned),
            count: n,
        }
    }

    #[test]
    fn figures_count_calls_and_conversions() {
        let mut f = Figures::default();
        for c in [
            count(CallOutcome::Called, None, 3),
            count(CallOutcome::Connected, None, 2),
            count(CallOutcome::NoResponse, Some("RNR"), 1),
            count(CallOutcome::StatusChange, Some("RNR"), 1),
            count(CallOutcome::StatusChange, Some("Highly Interested"), 2),
            count(CallOutcome::StatusChange, Some("Docs Upload Pending"), 2),
            count(CallOutcome::StatusChange, Some("DONE!"), 1),
        ] {
            f.add(&c);
        }
        assert_eq!(
            f,
            Figures {
                calls_made: 6,
                connected: 2,
                no_response: 1,
                status_changes: 6,
                conversions: 3,
            }
        );
    }

    #[test]
    fn outcomes_round_trip_their_names() {
        for o in [
            CallOutcome::Called,
            CallOutcome::Connected,
            CallOutcome::NoResponse,
            CallOutcome::StatusChange,
        ] {
            assert_eq!(o.as_str().parse::<CallOutcome>().unwrap(), o);
        }
        assert!("spoke".parse::<CallOutcome>().is_err());
    }
}
