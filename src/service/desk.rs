//! Counts over leads and the telecaller's working day: the status summary,
//! the telecaller summary and the telecaller desk (what "today", "callbacks
//! due" and "overdue" mean).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::leads::{FilterQuery, present};
use super::{ServiceError, ServiceResult, Services, require};
use crate::domain::error::reject_nul;
use crate::domain::{Actor, Capability, Lead, Stage, ist_today};
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
fn whose(actor: &Actor, asked: Option<String>) -> ServiceResult<String> {
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
    Ok(TelecallerSummary {
        telecaller,
        summary,
        lists,
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
    /// Today, in IST.
    pub date: NaiveDate,
    /// Today's, callbacks due and overdue.
    pub lists: Vec<DeskList>,
}

/// The desk of `telecaller` (a telecaller: their own).
pub async fn telecaller_desk(
    svc: &Services,
    actor: &Actor,
    telecaller: Option<String>,
) -> ServiceResult<Desk> {
    require(actor, Capability::TelecallerDesk)?;
    let telecaller = whose(actor, telecaller)?;
    let date = ist_today();
    let mut lists = Vec::new();
    for (name, f) in desk_filters(&telecaller, date) {
        let (leads, total) = svc.store.list_leads(&f, 1, DESK_LIMIT).await?;
        let leads = leads.into_iter().map(|l| present(actor, l)).collect();
        lists.push(DeskList { name, leads, total });
    }
    Ok(Desk {
        telecaller,
        date,
        lists,
    })
}
