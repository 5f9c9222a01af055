//! Kind `bulk_leads`: a filter-wide bulk action (assign, unassign, status,
//! delete) over more leads than `PULSE_BULK_JOB_THRESHOLD`. The job's
//! `params` hold the action, its `filters` the parsed filter and its owner
//! the actor. The run walks the matching ids in batches of [`BATCH`], keyset
//! by id (what an action changes or deletes may leave the filter: the walk
//! never revisits it nor skips what is left), and applies each batch through
//! [`LeadBatches`] — the service layer's one bulk function per action, the
//! same the synchronous path calls, so rules, status events and permission
//! checks are said once. Each batch is its own transaction; progress is the
//! ids visited, published with every batch's heartbeat. No file.
//!
//! The actions are idempotent in their end state (every lead reached ends
//! assigned to the telecaller, unassigned, with the status, or deleted), so
//! a run rescued after a crash and run again is safe: it finishes what the
//! first run did not reach. Its counts are its own: leads the first run
//! assigned or unassigned count as unchanged, deleted ones are not visited;
//! a status is set again (the domain's `set_status` records every setting
//! in the lead's history, as the synchronous path does), so a re-run adds
//! a second history entry to the leads the first run reached. The audit entry
//! (`leads.bulk_filter`, with the filter and the final counts) is written
//! once, by the run that completes the job.

use async_trait::async_trait;
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

use super::kit::{Claimed, RunError, finish_failed};
use crate::store::filter::LeadFilter;
use crate::store::{Completion, ExportJob};

/// Leads per batch (one transaction each).
pub const BATCH: u32 = 1_000;

/// What one batch did, in counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    /// Leads changed (or deleted).
    pub changed: u64,
    /// Leads that already were as asked.
    pub unchanged: u64,
    /// Leads gone meanwhile, or out of the owner's reach.
    pub not_found: u64,
    /// Leads the rule refused.
    pub not_allowed: u64,
}

impl BatchCounts {
    fn add(&mut self, o: BatchCounts) {
        self.changed += o.changed;
        self.unchanged += o.unchanged;
        self.not_found += o.not_found;
        self.not_allowed += o.not_allowed;
    }
}

/// Why a batch (or the start) failed.
#[derive(Debug, Clone)]
pub struct BatchError {
    /// What to tell the job's owner.
    pub message: String,
    /// Whether another attempt could succeed (the database was away).
    pub retry: bool,
}

/// The bulk actions as the jobs layer sees them: implemented above it (by
/// the service layer, which owns the rules), handed to the workers in
/// [`super::JobContext`].
#[async_trait]
pub trait LeadBatches: Send + Sync {
    /// Checks the job (its owner may still do its action) and returns the
    /// filter to walk, within the owner's scope.
    async fn open(&self, job: &ExportJob) -> Result<LeadFilter, BatchError>;
    /// Applies the job's action to these leads as the job's owner, in one
    /// transaction.
    async fn apply(&self, job: &ExportJob, ids: &[Uuid]) -> Result<BatchCounts, BatchError>;
}

fn failure(e: BatchError) -> RunError {
    if e.retry {
        RunError::retry(e.message)
    } else {
        RunError::fatal(e.message)
    }
}

/// Runs one claimed bulk job to its end.
pub(super) async fn run(run: &Claimed<'_>, shutdown: watch::Receiver<bool>) {
    let Claimed {
        ctx,
        job,
        token,
        worker,
        ..
    } = *run;
    tracing::info!(job_id = %job.id, request_id = run.rid(), worker, attempt = job.attempts, "bulk job started");
    let filter = match ctx.bulk.open(job).await {
        Ok(f) => f,
        Err(e) => {
            finish_failed(run, failure(e)).await;
            return;
        }
    };
    let total = match ctx.store.list_leads(&filter, 1, 1).await {
        Ok((_, n)) => n,
        Err(e) => {
            let err = RunError::retry(format!("counting the leads failed: {e}"));
            finish_failed(run, err).await;
            return;
        }
    };
    let lease = ctx.config.job_lease;
    let mut counts = BatchCounts::default();
    let mut visited: i64 = 0;
    let mut after: Option<Uuid> = None;
    let mut first = true;
    loop {
        // between batches: a cancel or a lost lease stops the walk; each
        // applied batch stays applied (its own transaction)
        match ctx
            .store
            .heartbeat_export_job(job.id, token, lease, visited, first.then_some(total))
            .await
        {
            Ok(true) => first = false,
            Ok(false) => {
                crate::metrics::job_run("lost", run.started.elapsed());
                tracing::info!(job_id = %job.id, request_id = run.rid(), visited, "bulk job stopped: cancelled, or its lease was lost");
                return;
            }
            Err(e) => tracing::warn!(job_id = %job.id, error = %e, "heartbeat failed"),
        }
        if *shutdown.borrow() {
            // hand back: the next run goes on from wherever this one got
            match ctx.store.release_export_job(job.id, token).await {
                Ok(_) => {
                    crate::metrics::job_run("released", run.started.elapsed());
                    tracing::info!(job_id = %job.id, visited, "bulk job handed back to the queue at shutdown");
                }
                Err(e) => {
                    tracing::warn!(job_id = %job.id, error = %e, "releasing the job failed; it is rescued when its lease ends")
                }
            }
            return;
        }
        let ids = match ctx.store.matching_lead_ids(&filter, after, BATCH).await {
            Ok(ids) => ids,
            Err(e) => {
                let err = RunError::retry(format!("reading the leads failed: {e}"));
                finish_failed(run, err).await;
                return;
            }
        };
        let Some(last) = ids.last().copied() else {
            break;
        };
        after = Some(last);
        match ctx.bulk.apply(job, &ids).await {
            Ok(c) => counts.add(c),
            Err(e) => {
                finish_failed(run, failure(e)).await;
                return;
            }
        }
        visited += ids.len() as i64;
    }
    let result = json!({
        "matched": visited,
        "changed": counts.changed,
        "unchanged": counts.unchanged,
        "not_found": counts.not_found,
        "not_allowed": counts.not_allowed,
    });
    let done = Completion {
        rows: visited,
        bytes: 0,
        sha256: String::new(),
        file_key: String::new(),
        retention: None,
        result: Some(result),
    };
    match ctx.store.complete_export_job(job.id, token, &done).await {
        Ok(true) => {
            let elapsed = run.started.elapsed();
            crate::metrics::job_run("done", elapsed);
            tracing::info!(job_id = %job.id, request_id = run.rid(), worker, visited, changed = counts.changed, elapsed_ms = elapsed.as_millis() as u64, "bulk job done");
            super::kit::audit(
                ctx,
                job,
                "leads.bulk_filter",
                json!({
                    "job_id": job.id,
                    "action": job.params.get("action").and_then(|a| a.get("name")),
                    "params": job.params,
                    "filters": job.filters,
                    "matched": visited,
                    "changed": counts.changed,
                    "unchanged": counts.unchanged,
                    "not_found": counts.not_found,
                    "not_allowed": counts.not_allowed,
                    "attempt": job.attempts,
                    "elapsed_ms": elapsed.as_millis() as u64,
                }),
            )
            .await;
        }
        Ok(false) => {
            crate::metrics::job_run("lost", run.started.elapsed());
            tracing::info!(job_id = %job.id, request_id = run.rid(), "bulk job finished but its lease is gone");
        }
        Err(e) => {
            let err = RunError::retry(format!("completing the job failed: {e}"));
            finish_failed(run, err).await;
        }
    }
}
