//! A bulk action on a selection: the leads ticked on a page, or every lead
//! a filter matches — read when the action is submitted, so the count
//! reported is the real one at that moment, not the one the page showed.
//! The actions themselves are `leads_bulk`'s (one rule each); this module
//! only turns a selection into ids, checks the capability first (a role
//! that may not act learns nothing about the filter's leads) and audits a
//! filter-wide action with its filter.

use serde_json::json;

use super::filter::FilterQuery;
use super::leads_bulk::{self, BulkReport, MAX_IDS};
use super::{ServiceError, ServiceResult, Services, audit, require};
use crate::domain::{Actor, Capability};
use crate::store::filter::{LeadFilter, LeadOrder};

/// Which leads a bulk action is for.
#[derive(Debug, Clone)]
pub enum Selection {
    /// These ids (ticked on a page).
    Ids(Vec<String>),
    /// Every lead these filters match (within the actor's scope) when the
    /// action runs.
    Matching(FilterQuery),
}

/// What to do with the selected leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAction {
    /// Assign to an active telecaller (by login), from a date (today in IST
    /// unless given).
    Assign {
        /// The telecaller's login.
        telecaller: String,
        /// `YYYY-MM-DD`, or none for today.
        date: Option<String>,
    },
    /// Take the leads away from their telecallers.
    Unassign,
    /// Set one status (pipeline rules per lead).
    Status(String),
    /// Delete the leads.
    Delete,
}

impl BulkAction {
    /// The capability the action needs.
    pub fn capability(&self) -> Capability {
        match self {
            BulkAction::Assign { .. } | BulkAction::Unassign => Capability::AssignLeads,
            BulkAction::Status(_) => Capability::EditLeads,
            BulkAction::Delete => Capability::DeleteLeads,
        }
    }

    /// Its name in the audit log and in forms.
    pub fn as_str(&self) -> &'static str {
        match self {
            BulkAction::Assign { .. } => "assign",
            BulkAction::Unassign => "unassign",
            BulkAction::Status(_) => "status",
            BulkAction::Delete => "delete",
        }
    }
}

/// What a bulk action did, in counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkAnswer {
    /// Leads the selection named (for a filter: matched when it ran).
    pub selected: usize,
    /// Leads changed (or deleted).
    pub changed: usize,
    /// Leads that already were as asked.
    pub unchanged: usize,
    /// Leads gone meanwhile, or out of the actor's reach.
    pub not_found: usize,
    /// Leads the rule refused.
    pub not_allowed: usize,
}

impl BulkAnswer {
    fn from_report(selected: usize, r: BulkReport) -> Self {
        BulkAnswer {
            selected,
            changed: r.updated,
            unchanged: r.unchanged,
            not_found: r.not_found.len(),
            not_allowed: r.not_allowed.len(),
        }
    }
}

/// How many leads `query` matches for `actor` now (within their scope).
pub async fn count_matching(
    svc: &Services,
    actor: &Actor,
    query: FilterQuery,
) -> ServiceResult<i64> {
    require(actor, Capability::ReadLeads)?;
    let filter = query.into_filter(actor)?;
    Ok(svc
        .store
        .list_leads_ordered(&filter, LeadOrder::default(), 1, 1)
        .await?
        .1)
}

/// The ids of every lead `filter` matches, if there are at most
/// [`MAX_IDS`]; else how many there are.
async fn matching_ids(
    svc: &Services,
    filter: &LeadFilter,
) -> ServiceResult<Result<Vec<String>, i64>> {
    let limit = u32::try_from(MAX_IDS).unwrap_or(u32::MAX);
    let (leads, total) = svc
        .store
        .list_leads_ordered(filter, LeadOrder::default(), 1, limit)
        .await?;
    if total > MAX_IDS as i64 {
        return Ok(Err(total));
    }
    Ok(Ok(leads.into_iter().map(|l| l.id.to_string()).collect()))
}

/// Runs `action` on `selection` as `actor`.
pub async fn apply(
    svc: &Services,
    actor: &Actor,
    selection: Selection,
    action: BulkAction,
) -> ServiceResult<BulkAnswer> {
    require(actor, action.capability())?;
    let (ids, filter) = match selection {
        Selection::Ids(ids) => (ids, None),
        Selection::Matching(q) => {
            let filter = q.into_filter(actor)?;
            match matching_ids(svc, &filter).await? {
                Ok(ids) => (ids, Some(filter)),
                Err(total) => {
                    return Err(ServiceError::TooLarge(format!(
                        "{total} leads match this filter; a filter-wide action takes at most {MAX_IDS} at once — narrow the filter"
                    )));
                }
            }
        }
    };
    if ids.is_empty() {
        return match filter {
            Some(_) => Ok(BulkAnswer::default()),
            None => Err(ServiceError::Invalid(
                "no leads were selected: tick some rows, or choose all matching".into(),
            )),
        };
    }
    let selected = ids.len();
    let answer = match &action {
        BulkAction::Assign { telecaller, date } => BulkAnswer::from_report(
            selected,
            leads_bulk::bulk_assign(svc, actor, &ids, telecaller, date.as_deref()).await?,
        ),
        BulkAction::Unassign => {
            BulkAnswer::from_report(selected, leads_bulk::bulk_unassign(svc, actor, &ids).await?)
        }
        BulkAction::Status(status) => BulkAnswer::from_report(
            selected,
            leads_bulk::bulk_status(svc, actor, &ids, status).await?,
        ),
        BulkAction::Delete => {
            let r = leads_bulk::bulk_delete(svc, actor, &ids).await?;
            BulkAnswer {
                selected,
                changed: r.deleted,
                not_found: r.not_found.len(),
                ..BulkAnswer::default()
            }
        }
    };
    if let Some(filter) = filter {
        audit::record(
            svc,
            actor,
            "leads.bulk_filter",
            json!({
                "action": action.as_str(),
                "filters": serde_json::to_value(&filter).unwrap_or_default(),
                "matched": answer.selected,
                "changed": answer.changed,
                "not_found": answer.not_found,
                "not_allowed": answer.not_allowed,
            }),
        )
        .await;
    }
    Ok(answer)
}
