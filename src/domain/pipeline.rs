//! The four-stage pipeline and its statuses (DESIGN §4).
//!
//! Status names are kept exactly as the original system spelled them
//! (`DL - Amount`, `DONE!`, `Absent for training`) because its data and
//! clients carry over; input is matched loosely, output is always canonical.

use std::fmt;
use std::str::FromStr;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A pipeline stage. Serialised as `S1`…`S4`, the original's stored form.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, utoipa::ToSchema)]
pub enum Stage {
    /// S1 Filtering: first calls, is the lead worth pursuing. The default:
    /// where a new lead starts.
    #[default]
    S1,
    /// S2 Docs Collection: licence, Aadhaar, PAN and friends.
    S2,
    /// S3 Training.
    S3,
    /// S4 Customer Readiness: customer training, shift allotment.
    S4,
}

const S1_STATUSES: &[&str] = &[
    "New",
    "Interested",
    "Not Interested",
    // the original's spellings; "Interested No DL" matches them too
    "Interested, No DL",
    "Interested, No Badge",
    "Call back 1D",
    "Call back 1W",
    "Call back 2W",
    "Call back 1M",
    "Not Reachable",
    "Wrong Number",
    "Duplicate",
    "Junk",
    "RNR",
    "Highly Interested",
];
const S2_STATUSES: &[&str] = &[
    "Docs Upload Pending",
    "Verification Pending",
    "Duplicate License",
    "DL - Amount",
    "Verification Rejected",
    "Verified",
];
const S3_STATUSES: &[&str] = &[
    "Schedule Pending",
    "Training WIP",
    "Training Completed",
    "Training Rejected",
    "Re-Training",
    "Absent for training",
    "Approved",
];
const S4_STATUSES: &[&str] = &[
    "CT Pending",
    "CT WIP",
    "Shift Details Pending",
    "Terminated",
    "Churn",
    "Quick Churn",
    "DONE!",
];

/// Statuses that schedule a callback, with the days until it is due.
const CALLBACK_DAYS: &[(&str, u64)] = &[
    ("Call back 1D", 1),
    ("Call back 1W", 7),
    ("Call back 2W", 14),
    ("Call back 1M", 30),
];

impl Stage {
    /// All stages in pipeline order.
    pub fn all() -> [Stage; 4] {
        [Stage::S1, Stage::S2, Stage::S3, Stage::S4]
    }

    /// `"S1"`…`"S4"`: the stored and serialised form.
    pub fn code(self) -> &'static str {
        match self {
            Stage::S1 => "S1",
            Stage::S2 => "S2",
            Stage::S3 => "S3",
            Stage::S4 => "S4",
        }
    }

    /// The human name ("Filtering", "Docs Collection", …).
    pub fn label(self) -> &'static str {
        match self {
            Stage::S1 => "Filtering",
            Stage::S2 => "Docs Collection",
            Stage::S3 => "Training",
            Stage::S4 => "Customer Readiness",
        }
    }

    /// The stage's statuses in DESIGN §4 order; the last one is the
    /// completion status.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            Stage::S1 => S1_STATUSES,
            Stage::S2 => S2_STATUSES,
            Stage::S3 => S3_STATUSES,
            Stage::S4 => S4_STATUSES,
        }
    }

    /// Where a lead lands on entering this stage.
    pub fn first_status(self) -> &'static str {
        self.statuses()[0]
    }

    /// The status that completes this stage (`DONE!` completes the pipeline).
    pub fn completion_status(self) -> &'static str {
        let all = self.statuses();
        all[all.len() - 1]
    }

    /// The following stage, `None` after S4.
    pub fn next(self) -> Option<Stage> {
        match self {
            Stage::S1 => Some(Stage::S2),
            Stage::S2 => Some(Stage::S3),
            Stage::S3 => Some(Stage::S4),
            Stage::S4 => None,
        }
    }
}

/// Lowercase ASCII alphanumerics only: "DL - Amount", "dl amount" and
/// "DL-AMOUNT" all become "dlamount". Non-ASCII letters are dropped too,
/// which is fine because every canonical name is ASCII.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The input named no stage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown stage {value:?}: expected one of S1, S2, S3, S4 (or Filtering, Docs Collection, Training, Customer Readiness)"
)]
pub struct StageError {
    /// The rejected input.
    pub value: String,
}

impl FromStr for Stage {
    type Err = StageError;

    /// Accepts `S1`, `s1`, `S1 - Filtering`, `Filtering`, … in any case and
    /// punctuation, because imports and legacy documents use all of them.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = normalise(s);
        Stage::all()
            .into_iter()
            .find(|st| {
                let code = st.code().to_ascii_lowercase();
                let label = normalise(st.label());
                n == code || n == label || n == format!("{code}{label}")
            })
            .ok_or_else(|| StageError {
                value: s.to_owned(),
            })
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Stage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Stage {
    /// Lenient like `FromStr`, so legacy `"S1 - Filtering"` documents load.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Finds the canonical status for `input`, ignoring case, spaces and
/// punctuation: `"highly interested"`, `"DONE"`, `"call back 1d"`,
/// `"Callback 1W"`, `"dl amount"` all match. Status names are unique across
/// stages (a test checks it), so the stage follows from the name.
pub fn match_status(input: &str) -> Option<(Stage, &'static str)> {
    let n = normalise(input);
    if n.is_empty() {
        return None;
    }
    Stage::all().into_iter().find_map(|stage| {
        stage
            .statuses()
            .iter()
            .find(|s| normalise(s) == n)
            .map(|s| (stage, *s))
    })
}

/// A known status: its canonical name and the stage it belongs to.
/// Serialised as the canonical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Status {
    stage: Stage,
    name: &'static str,
}

/// The input named no status of any stage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown status {value:?}: expected one of the pipeline statuses, e.g. \"New\", \"Highly Interested\", \"DL - Amount\", \"DONE!\""
)]
pub struct StatusError {
    /// The rejected input.
    pub value: String,
}

impl Status {
    /// Matches `input` loosely (see [`match_status`]).
    pub fn parse(input: &str) -> Result<Status, StatusError> {
        match_status(input)
            .map(|(stage, name)| Status { stage, name })
            .ok_or_else(|| StatusError {
                value: input.to_owned(),
            })
    }

    /// The first status of `stage`.
    pub fn first_of(stage: Stage) -> Status {
        Status {
            stage,
            name: stage.first_status(),
        }
    }

    /// The canonical name, e.g. `"DL - Amount"`.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The stage this status belongs to.
    pub fn stage(self) -> Stage {
        self.stage
    }

    /// True for the last status of its stage (Highly Interested, Verified,
    /// Approved, DONE!).
    pub fn is_completion(self) -> bool {
        self.name == self.stage.completion_status()
    }

    /// Days until the callback for the "Call back 1D/1W/2W/1M" statuses.
    pub fn callback_days(self) -> Option<u64> {
        CALLBACK_DAYS
            .iter()
            .find(|(name, _)| *name == self.name)
            .map(|(_, days)| *days)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl FromStr for Status {
    type Err = StatusError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::parse(s)
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Status::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The outcome of setting a status: where the lead ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    /// The lead's stage after the change.
    pub stage: Stage,
    /// The lead's canonical status after the change.
    pub status: &'static str,
    /// The new callback date: `Some` for the "Call back …" statuses, `None`
    /// otherwise. Callers store it as is, so leaving a callback status clears
    /// a stale callback from the telecaller's "due" list.
    pub callback_date: Option<NaiveDate>,
    /// The completion status that was requested when it moved the lead on
    /// (e.g. `Highly Interested` when the lead ends in S2 Docs Upload
    /// Pending), so that history can record both steps.
    pub completed: Option<Status>,
    /// True when the lead ends in a different stage than `current`.
    pub stage_changed: bool,
}

/// Applies the pipeline rules to a requested status.
///
/// Rules (DESIGN §4):
/// - **The status decides the stage.** Names are unique across stages, so a
///   status from another stage than `current` simply moves the lead to that
///   stage — forwards or backwards. Telecallers do re-open leads (a trainee
///   found without a licence goes back to S1), and refusing the move would
///   only push them to pick a wrong status in the current stage.
/// - A completion status moves the lead to the next stage's first status
///   (Highly Interested → S2 Docs Upload Pending, Verified → S3 Schedule
///   Pending, Approved → S4 CT Pending). `DONE!` is final and stays.
/// - "Call back 1D/1W/2W/1M" sets the callback to `today_ist` + 1/7/14/30 days.
pub fn apply_status(current: Stage, requested: Status, today_ist: NaiveDate) -> StatusChange {
    let callback_date = requested
        .callback_days()
        .and_then(|d| today_ist.checked_add_days(Days::new(d)));
    let (stage, status, completed) = match (requested.is_completion(), requested.stage.next()) {
        (true, Some(next)) => (next, next.first_status(), Some(requested)),
        _ => (requested.stage, requested.name, None),
    };
    StatusChange {
        stage,
        status,
        callback_date,
        completed,
        stage_changed: stage != current,
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
