//! One worker: claim a job of a kind this build knows and run it by its
//! kind ([`super::export_job`], [`super::backup_job`],
//! [`super::import_job`], [`super::import_undo_job`], [`super::bulk_job`]);
//! what the kinds share is in `kit.rs`.

use std::time::{Duration, Instant};

use tokio::sync::watch;
use uuid::Uuid;

use super::kit::Claimed;
use super::{JobContext, signalled};
use crate::store::JobKind;

/// How often an idle worker looks for work queued by other processes.
const POLL: Duration = Duration::from_millis(1000);

/// This worker's name in the job table: host, process, number.
pub fn worker_name(n: usize) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "pulse".into());
    format!("{host}:{}:{n}", std::process::id())
}

/// Runs jobs until `shutdown`.
pub async fn run(ctx: JobContext, n: usize, mut shutdown: watch::Receiver<bool>) {
    let name = worker_name(n);
    loop {
        if *shutdown.borrow() {
            break;
        }
        let token = Uuid::new_v4().to_string();
        match ctx
            .store
            .claim_export_job(&token, &name, ctx.config.job_lease, &JobKind::ALL)
            .await
        {
            Ok(Some(job)) => {
                let run = Claimed {
                    ctx: &ctx,
                    job: &job,
                    token: &token,
                    worker: &name,
                    started: Instant::now(),
                };
                // One small match per kind: a new kind is a module and a line here.
                match job.kind {
                    JobKind::Export => super::export_job::run(&run, shutdown.clone()).await,
                    JobKind::Backup => super::backup_job::run(&run, shutdown.clone()).await,
                    JobKind::Import => super::import_job::run(&run, shutdown.clone()).await,
                    JobKind::ImportUndo => {
                        super::import_undo_job::run(&run, shutdown.clone()).await
                    }
                    JobKind::BulkLeads => super::bulk_job::run(&run, shutdown.clone()).await,
                    JobKind::Restore => super::restore_job::run(&run, shutdown.clone()).await,
                }
            }
            Ok(None) => {
                tokio::select! {
                    () = ctx.wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                    () = signalled(&mut shutdown) => {}
                }
            }
            Err(e) => {
                tracing::warn!(worker = %name, error = %e, "claiming a job failed");
                tokio::select! {
                    () = tokio::time::sleep(POLL) => {}
                    () = signalled(&mut shutdown) => {}
                }
            }
        }
    }
    tracing::info!(worker = %name, "job worker stopped");
}
