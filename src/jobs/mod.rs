//! Background jobs (DESIGN §6): a queue in Pulse's own database
//! ([`crate::store::JobStore`]), workers that claim jobs under a lease and
//! run them by kind — [`export_job`] (the one export engine into the
//! exports' store), [`backup_job`] (a full backup into the backups' store),
//! [`import_job`] (a large upload), [`restore_job`] (a backup put back, no file), [`bulk_job`] (a filter-wide bulk action
//! in batches, through the service layer's [`bulk_job::LeadBatches`]) —
//! [`crate::storage::files::FileStore`]s for the finished files, and a periodic clean-up
//! (expired files, orphans, jobs whose worker died).
//!
//! A new kind: a variant of [`crate::store::JobKind`], a module here with
//! its `run`, one arm in [`worker::run`]'s match, and its routes.
//!
//! At-least-once runs, exactly-once effect: a run writes a temporary file
//! that is published (fsync, rename) only when whole, and the job becomes
//! `done` only by a completion that still holds the run's lease; a run that
//! lost its lease deletes what it wrote. Files are named per attempt, so
//! two runs of one job never write the same name.

mod backup_job;
pub mod bulk_job;
pub mod cleanup;
mod export_job;
pub mod import_job;
mod import_undo_job;
mod kit;
pub mod restore_job;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::config::Config;
use crate::export::Format;
use crate::export::engine::{ExportSpec, HeaderStyle, select_columns, with_headers};
use crate::storage::files::FileStore;
use crate::store::filter::LeadFilter;
use crate::store::{ExportJob, Store};

/// What workers and the clean-up need.
#[derive(Clone)]
pub struct JobContext {
    /// The database (the queue and the leads).
    pub store: Arc<dyn Store>,
    /// Where export files go.
    pub files: Arc<dyn FileStore>,
    /// Where backups go (`crate::backup::files`).
    pub backups: Arc<dyn FileStore>,
    /// Where uploads wait for their import job ([`crate::storage::uploads`]).
    pub uploads: Arc<dyn FileStore>,
    /// Lease, attempts, retention, …
    pub config: Arc<Config>,
    /// Woken when this process queues a job, so an idle worker here starts
    /// at once instead of at its next poll.
    pub wake: Arc<Notify>,
    /// The bulk actions on leads, as the service layer applies them (it
    /// sits above the jobs: the rules stay said once, there).
    pub bulk: Arc<dyn bulk_job::LeadBatches>,
}

/// The file of one attempt of a job.
pub fn file_key(job: Uuid, attempt: i32, format: &str) -> String {
    format!("{}-{attempt}.{format}", job.simple())
}

/// Parses a format name as stored with a job.
pub fn parse_format(name: &str) -> Option<Format> {
    match name {
        "xlsx" => Some(Format::Xlsx),
        "csv" => Some(Format::Csv),
        _ => None,
    }
}

/// The filter and the export spec stored with a job.
pub fn job_spec(job: &ExportJob) -> Result<(LeadFilter, ExportSpec), String> {
    let filter: LeadFilter = serde_json::from_value(job.filters.clone())
        .map_err(|e| format!("the stored filter is invalid: {e}"))?;
    let style = job
        .params
        .get("headers")
        .and_then(|h| h.as_str())
        .and_then(HeaderStyle::parse)
        .unwrap_or_default();
    let columns = with_headers(select_columns(Some(&job.columns))?, style);
    let format = parse_format(&job.format)
        .ok_or_else(|| format!("the stored format {:?} is unknown", job.format))?;
    let mut spec = ExportSpec::new(columns, format, job.mask_pii);
    // Nobody waits on a background job's first byte: one deflate thread
    // leaves the other core to the HTTP side and the streaming exports
    // (DESIGN §7 sizes the box at two cores).
    spec.deflate_threads = 1;
    Ok((filter, spec))
}

/// Resolves once shutdown is asked for (or its sender is gone).
pub(crate) async fn signalled(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Starts `workers` export workers and the periodic clean-up; they stop
/// when `shutdown` turns true (running jobs get `config.shutdown_grace` to
/// finish, then go back to the queue). The handle ends when all have stopped.
pub fn start(ctx: JobContext, workers: usize, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let mut tasks = Vec::with_capacity(workers + 1);
    for n in 0..workers {
        tasks.push(tokio::spawn(worker::run(ctx.clone(), n, shutdown.clone())));
    }
    tasks.push(tokio::spawn(cleanup::run(ctx.clone(), shutdown)));
    tracing::info!(workers, "export job workers started");
    tokio::spawn(async move {
        for t in tasks {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "an export job task failed");
            }
        }
    })
}

/// Back-off before retry `attempt + 1`: the base, doubled per attempt, at most an hour.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    (base * 2u32.pow(doublings)).min(Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Duration::from_secs(10);
        assert_eq!(backoff(b, 1), Duration::from_secs(10));
        assert_eq!(backoff(b, 2), Duration::from_secs(20));
        assert_eq!(backoff(b, 3), Duration::from_secs(40));
        assert_eq!(backoff(b, 40), Duration::from_secs(3600));
    }

    #[test]
    fn file_keys_name_the_attempt() {
        let id = Uuid::nil();
        assert_eq!(
            file_key(id, 2, "xlsx"),
            "00000000000000000000000000000000-2.xlsx"
        );
    }
}
