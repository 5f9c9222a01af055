//! Counts over leads and the telecaller's working day: the status summary,
//! the telecaller summary and the telecaller desk (what "today", "callbacks
//! due" and "overdue" mean).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::calls::day_bounds;
use super::filter::{given, parse_date};
use super::leads::{FilterQuery, present};
use super::{ServiceError, ServiceResult, Services, require};
use crate::domain::error::reject_nul;
use crate::domain::{Actor, Capability, Figures, Lead, Stage, ist_today};
use crate::store::StatusCount;
use crate::store::filter::LeadFilter;

/// How many leads each list of the telecaller desk shows at most.
pub const DESK_LIMIT: u32 = 100;

/// Lead counts by stage and status; every pipeline status appears, with 0
/// when no lead has it.
#[derive(Debug, Default)]
pub struct StatusSummary {
    /// All leads counted.
    pub total_leads: i64,
    /// Stage code → status → count.
    pub summary: BTreeMap<&'static str, BTreeMap<String, i64>>,
    /// Stage code → count.
    pub stage_totals: BTreeMap<&'static str, i64>,
    /// Stage code → the leads that reached its completion status: as a
    /// completion moves a lead on (DESIGN §4), those are the leads now in a
    /// later stage, plus those at the completion status itself (`DONE!`, or
    /// one a lead was created or imported with: that does not move it on). Derived from the same
    /// counts (no history scan, so the SQLite counters still answer every
    /// filter); a lead moved back to an earlier stage counts only where it
    /// is now.
    pub completed: BTreeMap<&'static str, i64>,
}

impl StatusSummary {
    /// Folds the store's counts into every stage and status.
    pub fn from_counts(counts: &[StatusCount]) -> Self {
        let mut s = StatusSummary::default();
        for stage in Stage::all() {
            let statuses = s.summary.entry(stage.code()).or_default();
            for st in stage.statuses() {
                statuses.insert((*st).to_string(), 0);
            }
            s.stage_totals.insert(stage.code(), 0);
        }
        for c in counts {
            *s.summary
                .entry(c.stage.code())
                .or_default()
                .entry(c.status.clone())
                .or_default() += c.count;
            *s.stage_totals.entry(c.stage.code()).or_default() += c.count;
            s.total_leads += c.count;
        }
        for stage in Stage::all() {
            let later: i64 = Stage::all()
                .into_iter()
                .filter(|st| *st > stage)
                .map(|st| s.stage_totals[st.code()])
                .sum();
            // and the leads sitting at it: DONE! (final), or a completion
            // status given on create or import, which does not move a lead on
            let at_completion = s.summary[stage.code()][stage.completion_status()];
            s.completed.insert(stage.code(), later + at_completion);
        }
        s
    }
}

/// The status summary of the leads within reach that match the filters.
pub async fn status_summary(
    svc: &Services,
    actor: &Actor,
    q: FilterQuery,
) -> ServiceResult<StatusSummary> {
    require(actor, Capability::ReadLeads)?;
    let filter = q.into_filter(actor)?;
    let counts = svc.store.status_summary(&filter).await?;
    Ok(StatusSummary::from_counts(&counts))
}

/// Whose desk: a telecaller only their own (another login is not found, as
/// for any object out of reach); everyone else must name one.
pub(super) fn whose(actor: &Actor, asked: Option<String>) -> ServiceResult<String> {
    let asked = asked
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if let Some(t) = &asked {
        reject_nul("telecaller", t)?;
    }
    match (actor.lead_scope(), asked) {
        (Some(own), None) => Ok(own),
        (Some(own), Some(t)) if t.eq_ignore_ascii_case(&own) => Ok(own),
        (Some(_), Some(_)) => Err(ServiceError::NotFound("telecaller not found".into())),
        (None, Some(t)) => Ok(t),
        (None, None) => Err(ServiceError::Invalid(
            "telecaller: required (the telecaller's login)".into(),
        )),
    }
}

/// The three lists of a desk, by name.
pub const DESK_LISTS: [&str; 3] = ["today", "callbacks_due", "overdue"];

/// The desk's filters on `today`: assigned for today, callback due today,
/// callback overdue.
pub fn desk_filters(telecaller: &str, today: NaiveDate) -> [(&'static str, LeadFilter); 3] {
    let base = LeadFilter {
        telecaller: Some(telecaller.to_string()),
        ..Default::default()
    };
    [
        (
            DESK_LISTS[0],
            LeadFilter {
                assigned_on: Some(today),
                ..base.clone()
            },
        ),
        (
            DESK_LISTS[1],
            LeadFilter {
                callback_on: Some(today),
                ..base.clone()
            },
        ),
        (
            DESK_LISTS[2],
            LeadFilter {
                callback_before: Some(today),
                ..base
            },
        ),
    ]
}

/// A telecaller's status summary and how many leads each desk list holds.
#[derive(Debug)]
pub struct TelecallerSummary {
    /// Whose.
    pub telecaller: String,
    /// Their leads by stage and status.
    pub summary: StatusSummary,
    /// Desk list name → how many leads.
    pub lists: Vec<(&'static str, i64)>,
    /// Calls they made today (IST), from the call events.
    pub calls_today: i64,
}

/// The summary of `telecaller`'s leads (a telecaller: their own).
pub async fn telecaller_summary(
    svc: &Services,
    actor: &Actor,
    telecaller: Option<String>,
) -> ServiceResult<TelecallerSummary> {
    require(actor, Capability::TelecallerDesk)?;
    let telecaller = whose(actor, telecaller)?;
    let filter = LeadFilter {
        telecaller: Some(telecaller.clone()),
        ..Default::default()
    };
    let summary = StatusSummary::from_counts(&svc.store.status_summary(&filter).await?);
    let mut lists = Vec::new();
    for (name, f) in desk_filters(&telecaller, ist_today()) {
        let (_, total) = svc.store.list_leads(&f, 1, 1).await?;
        lists.push((name, total));
    }
    let mut today = Figures::default();
    let (from, to) = day_bounds(ist_today())?;
    for c in svc.store.count_events(Some(&telecaller), from, to).await? {
        today.add(&c);
    }
    Ok(TelecallerSummary {
        telecaller,
        summary,
        lists,
        calls_today: today.calls_made,
    })
}

/// One list of the desk.
#[derive(Debug)]
pub struct DeskList {
    /// Its name (one of [`DESK_LISTS`]).
    pub name: &'static str,
    /// The first [`DESK_LIMIT`] leads, as the actor may see them.
    pub leads: Vec<Lead>,
    /// How many there are in all.
    pub total: i64,
}

/// A telecaller's day.
#[derive(Debug)]
pub struct Desk {
    /// Whose.
    pub telecaller: String,
    /// The day (IST): today unless another was asked for.
    pub date: NaiveDate,
    /// That day's, callbacks due and overdue, then all their leads; each in
    /// the list order: uncalled first, then the longest-ago called.
    pub lists: Vec<DeskList>,
    /// What the telecaller did that day, from the call events.
    pub figures: Figures,
}

/// The name of the desk's list of all the telecaller's leads.
pub const DESK_ALL: &str = "leads";

/// The desk of `telecaller` (a telecaller: their own) for `date`
/// (`YYYY-MM-DD`, an IST day; default today), past or future.
pub async fn telecaller_desk(
    svc: &Services,
    actor: &Actor,
    telecaller: Option<String>,
    date: Option<String>,
) -> ServiceResult<Desk> {
    require(actor, Capability::TelecallerDesk)?;
    let telecaller = whose(actor, telecaller)?;
    let date = match given(&date) {
        Some(d) => parse_date("date", d)?,
        None => ist_today(),
    };
    let all = LeadFilter {
        telecaller: Some(telecaller.clone()),
        ..Default::default()
    };
    let mut lists = Vec::new();
    for (name, f) in desk_filters(&telecaller, date)
        .into_iter()
        .chain([(DESK_ALL, all)])
    {
        let (leads, total) = svc.store.list_leads(&f, 1, DESK_LIMIT).await?;
        let leads = leads.into_iter().map(|l| present(actor, l)).collect();
        lists.push(DeskList { name, leads, total });
    }
    let mut figures = Figures::default();
    let (from, to) = day_bounds(date)?;
    for c in svc.store.count_events(Some(&telecaller), from, to).await? {
        figures.add(&c);
    }
    Ok(Desk {
        telecaller,
        date,
        lists,
        figures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_appears_and_counts_add_up() {
        let counts = [
            StatusCount {
                stage: Stage::S1,
                status: "New".into(),
                count: 3,
            },
            StatusCount {
                stage: Stage::S1,
                status: "Junk".into(),
                count: 2,
            },
        ];
        let s = StatusSummary::from_counts(&counts);
        assert_eq!(s.total_leads, 5);
        assert_eq!(s.stage_totals["S1"], 5);
        assert_eq!(s.stage_totals["S4"], 0);
        assert_eq!(s.summary["S1"]["New"], 3);
        assert_eq!(s.completed["S1"], 0);
        for stage in Stage::all() {
            for st in stage.statuses() {
                assert!(s.summary[stage.code()].contains_key(*st), "{st}");
            }
        }
    }

    #[test]
    fn completions_count_the_leads_past_each_stage() {
        let c = |stage, status: &str, count| StatusCount {
            stage,
            status: status.into(),
            count,
        };
        let s = StatusSummary::from_counts(&[
            c(Stage::S1, "New", 5),
            c(Stage::S1, "Highly Interested", 6),
            c(Stage::S2, "Docs Upload Pending", 4),
            c(Stage::S3, "Training WIP", 2),
            c(Stage::S3, "Approved", 7),
            c(Stage::S4, "CT WIP", 1),
            c(Stage::S4, "DONE!", 3),
        ]);
        assert_eq!(s.completed["S1"], 6 + 4 + 2 + 7 + 1 + 3);
        assert_eq!(s.completed["S2"], 2 + 7 + 1 + 3);
        assert_eq!(s.completed["S3"], 7 + 1 + 3);
        assert_eq!(s.completed["S4"], 3);
    }

    #[test]
    fn the_desk_means_today_due_and_overdue() {
        let today = NaiveDate::from_ymd_opt(2026, 9, 10).unwrap();
        let [(a, today_f), (b, due), (c, overdue)] = desk_filters("tc@x", today);
        assert_eq!([a, b, c], DESK_LISTS);
        assert_eq!(today_f.assigned_on, Some(today));
        assert_eq!(due.callback_on, Some(today));
        assert_eq!(overdue.callback_before, Some(today));
        for f in [&today_f, &due, &overdue] {
            assert_eq!(f.telecaller.as_deref(), Some("tc@x"));
        }
    }

    #[test]
    fn a_telecaller_has_only_their_own_desk() {
        use crate::domain::AccountType;
        let tc = Actor {
            id: uuid::Uuid::nil(),
            login: "tc@x".into(),
            role: AccountType::Telecaller,
        };
        assert_eq!(whose(&tc, None).unwrap(), "tc@x");
        assert_eq!(whose(&tc, Some(" TC@x ".into())).unwrap(), "tc@x");
        assert!(matches!(
            whose(&tc, Some("other@x".into())),
            Err(ServiceError::NotFound(_))
        ));
        let admin = Actor {
            role: AccountType::Admin,
            ..tc
        };
        assert_eq!(whose(&admin, Some("other@x".into())).unwrap(), "other@x");
        assert!(matches!(whose(&admin, None), Err(ServiceError::Invalid(_))));
    }
}
