//! A bulk action on a selection: the leads ticked on a page, or every lead
//! a filter matches — read when the action is submitted, so the count
//! reported is the real one at that moment, not the one the page showed.
//! The actions themselves are `leads_bulk`'s (one rule each); this module
//! only turns a selection into ids, checks the capability first (a role
//! that may not act learns nothing about the filter's leads) and audits a
//! filter-wide action with its filter. A filter over more than
//! `PULSE_BULK_JOB_THRESHOLD` leads becomes a `bulk_leads` job
//! ([`crate::jobs::bulk_job`]) whose batches come back here ([`JobBatches`]).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::filter::{FilterQuery, parse_date};
use super::jobs::{self, JobSpec};
use super::leads::require_telecaller;
use super::leads_bulk::{self, BulkReport, MAX_IDS};
use super::{ServiceError, ServiceResult, Services, audit, require};
use crate::domain::{AccountStatus, Actor, Capability, DomainError, Status};
use crate::jobs::bulk_job::{BatchCounts, BatchError, LeadBatches};
use crate::store::filter::{LeadFilter, LeadOrder};
use crate::store::{ExportJob, JobKind};

/// Which leads a bulk action is for.
#[derive(Debug, Clone)]
pub enum Selection {
    /// These ids (ticked on a page).
    Ids(Vec<String>),
    /// Every lead these filters match (within the actor's scope) when the
    /// action runs.
    Matching(FilterQuery),
}

/// What to do with the selected leads (as JSON in a bulk job's params).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", content = "with", rename_all = "snake_case")]
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

/// The ids of every lead `filter` matches, if there are at most `max`;
/// else how many there are.
async fn matching_ids(
    svc: &Services,
    filter: &LeadFilter,
    max: usize,
) -> ServiceResult<Result<Vec<String>, i64>> {
    let limit = u32::try_from(max).unwrap_or(u32::MAX);
    let (leads, total) = svc
        .store
        .list_leads_ordered(filter, LeadOrder::default(), 1, limit)
        .await?;
    if total > max as i64 {
        return Ok(Err(total));
    }
    Ok(Ok(leads.into_iter().map(|l| l.id.to_string()).collect()))
}

/// What became of a bulk action.
#[derive(Debug, Clone)]
pub enum Applied {
    /// Done at once: what it did.
    Done(BulkAnswer),
    /// A filter-wide action over more than `PULSE_BULK_JOB_THRESHOLD`
    /// leads: queued as a `bulk_leads` job (how many matched when queued).
    Queued {
        /// The job.
        job: Box<ExportJob>,
        /// Leads the filter matched when it was queued.
        matched: i64,
    },
}

/// Runs `action` on `selection` as `actor`: at once, or — a filter over
/// more than `PULSE_BULK_JOB_THRESHOLD` leads — as a background job.
pub async fn apply(
    svc: &Services,
    actor: &Actor,
    selection: Selection,
    action: BulkAction,
) -> ServiceResult<Applied> {
    require(actor, action.capability())?;
    let (ids, filter) = match selection {
        Selection::Ids(ids) => (ids, None),
        Selection::Matching(q) => {
            let filter = q.into_filter(actor)?;
            let threshold = svc.config.bulk_job_threshold.min(MAX_IDS);
            match matching_ids(svc, &filter, threshold).await? {
                Ok(ids) => (ids, Some(filter)),
                Err(total) => {
                    let job = enqueue_job(svc, actor, &filter, &action, total).await?;
                    return Ok(Applied::Queued {
                        job: Box::new(job),
                        matched: total,
                    });
                }
            }
        }
    };
    if ids.is_empty() {
        return match filter {
            Some(_) => Ok(Applied::Done(BulkAnswer::default())),
            None => Err(ServiceError::Invalid(
                "no leads were selected: tick some rows, or choose all matching".into(),
            )),
        };
    }
    let answer = on_ids(svc, actor, &ids, &action).await?;
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
    Ok(Applied::Done(answer))
}

/// `action` on these ids: the one place an action meets `leads_bulk` (the
/// synchronous path and every batch of a bulk job).
async fn on_ids(
    svc: &Services,
    actor: &Actor,
    ids: &[String],
    action: &BulkAction,
) -> ServiceResult<BulkAnswer> {
    let selected = ids.len();
    Ok(match action {
        BulkAction::Assign { telecaller, date } => BulkAnswer::from_report(
            selected,
            leads_bulk::bulk_assign(svc, actor, ids, telecaller, date.as_deref()).await?,
        ),
        BulkAction::Unassign => {
            BulkAnswer::from_report(selected, leads_bulk::bulk_unassign(svc, actor, ids).await?)
        }
        BulkAction::Status(status) => BulkAnswer::from_report(
            selected,
            leads_bulk::bulk_status(svc, actor, ids, status).await?,
        ),
        BulkAction::Delete => {
            let r = leads_bulk::bulk_delete(svc, actor, ids).await?;
            BulkAnswer {
                selected,
                changed: r.deleted,
                not_found: r.not_found.len(),
                ..BulkAnswer::default()
            }
        }
    })
}

/// Queues `action` over `filter` as a `bulk_leads` job of `actor`, after
/// checking what can be checked now (the telecaller, the date, the status),
/// so bad input is a form error, not a failed job.
async fn enqueue_job(
    svc: &Services,
    actor: &Actor,
    filter: &LeadFilter,
    action: &BulkAction,
    matched: i64,
) -> ServiceResult<ExportJob> {
    match action {
        BulkAction::Assign { telecaller, date } => {
            crate::domain::error::reject_nul("telecaller", telecaller)?;
            require_telecaller(svc, telecaller.trim()).await?;
            if let Some(d) = date.as_deref().filter(|d| !d.trim().is_empty()) {
                parse_date("assigned_date", d)?;
            }
        }
        BulkAction::Status(status) => {
            crate::domain::error::reject_nul("status", status)?;
            Status::parse(status).map_err(DomainError::from)?;
        }
        BulkAction::Unassign | BulkAction::Delete => {}
    }
    let params = json!({ "action": action, "matched": matched });
    jobs::enqueue(
        svc,
        actor,
        JobSpec {
            params,
            filters: serde_json::to_value(filter).unwrap_or_default(),
            ..JobSpec::new(JobKind::BulkLeads, "json")
        },
    )
    .await
}

/// The bulk job `id` if `actor` may see it.
pub async fn job(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<ExportJob> {
    jobs::visible(svc, actor, JobKind::BulkLeads, id).await
}

/// A bulk job's action, as queued.
pub fn job_action(job: &ExportJob) -> Option<BulkAction> {
    serde_json::from_value(job.params.get("action")?.clone()).ok()
}

/// A done bulk job's counts.
pub fn job_answer(job: &ExportJob) -> Option<BulkAnswer> {
    let r = job.result.as_ref()?;
    let n = |k: &str| r.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0) as usize;
    Some(BulkAnswer {
        selected: n("matched"),
        changed: n("changed"),
        unchanged: n("unchanged"),
        not_found: n("not_found"),
        not_allowed: n("not_allowed"),
    })
}

/// The workers' way to the bulk actions ([`crate::jobs::bulk_job`]): each
/// batch goes through [`on_ids`] as the job's owner, as they are now (a
/// blocked or demoted owner's job stops with the reason).
pub struct JobBatches(pub Services);

impl JobBatches {
    async fn owner_and_action(&self, job: &ExportJob) -> Result<(Actor, BulkAction), BatchError> {
        let fatal = |message: String| BatchError {
            message,
            retry: false,
        };
        let action = job_action(job).ok_or_else(|| fatal("the job's action is invalid".into()))?;
        let user = match self.0.store.get_user(job.owner_id).await {
            Ok(Some(u)) if u.status == AccountStatus::Active => u,
            Ok(_) => {
                return Err(fatal(
                    "the job's owner is no longer an active account".into(),
                ));
            }
            Err(e) => {
                return Err(BatchError {
                    message: format!("reading the job's owner failed: {e}"),
                    retry: true,
                });
            }
        };
        let actor = Actor {
            id: user.id,
            login: user.email,
            role: user.account_type,
        };
        require(&actor, action.capability()).map_err(|e| fatal(e.to_string()))?;
        Ok((actor, action))
    }
}

fn batch_error(e: ServiceError) -> BatchError {
    let retry = matches!(e, ServiceError::Store(_));
    BatchError {
        message: e.to_string(),
        retry,
    }
}

#[async_trait]
impl LeadBatches for JobBatches {
    async fn open(&self, job: &ExportJob) -> Result<LeadFilter, BatchError> {
        let (actor, _) = self.owner_and_action(job).await?;
        let mut filter: LeadFilter =
            serde_json::from_value(job.filters.clone()).map_err(|e| BatchError {
                message: format!("the stored filter is invalid: {e}"),
                retry: false,
            })?;
        // not stored (never taken from outside): the owner's scope now
        filter.own_only = actor.lead_scope();
        Ok(filter)
    }

    async fn apply(&self, job: &ExportJob, ids: &[Uuid]) -> Result<BatchCounts, BatchError> {
        let (actor, action) = self.owner_and_action(job).await?;
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let a = on_ids(&self.0, &actor, &ids, &action)
            .await
            .map_err(batch_error)?;
        Ok(BatchCounts {
            changed: a.changed as u64,
            unchanged: a.unchanged as u64,
            not_found: a.not_found as u64,
            not_allowed: a.not_allowed as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The action as a bulk job stores it comes back the same, and a job
    /// without one (or with an unknown one) has none.
    #[test]
    fn an_action_round_trips_through_the_job_params() {
        let actions = [
            BulkAction::Assign {
                telecaller: "tc@x".into(),
                date: Some("2026-03-04".into()),
            },
            BulkAction::Unassign,
            BulkAction::Status("Junk".into()),
            BulkAction::Delete,
        ];
        for a in actions {
            let v = serde_json::to_value(&a).unwrap();
            assert_eq!(v["name"], a.as_str(), "{v}");
            let back: BulkAction = serde_json::from_value(v).unwrap();
            assert_eq!(back, a);
        }
        assert!(serde_json::from_value::<BulkAction>(json!({"name": "explode"})).is_err());
    }
}
