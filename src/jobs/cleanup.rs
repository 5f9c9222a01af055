//! The periodic clean-up every process with workers runs: jobs whose
//! worker died go back to the queue (or fail after their last attempt),
//! finished files past the retention are deleted, and files no job owns
//! (left by a crash, or by a run that lost its lease) are removed. Each step
//! is a conditional update or an idempotent delete, so several processes
//! may run it at once.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use super::{JobContext, kit, signalled};
use crate::store::{JobKind, JobStatus};

/// Runs until `shutdown`.
pub async fn run(ctx: JobContext, mut shutdown: watch::Receiver<bool>) {
    // A dead worker's job should not wait much past its lease.
    let rescue_every = (ctx.config.job_lease / 2).max(Duration::from_secs(1));
    let mut rescue = tokio::time::interval(rescue_every);
    let mut sweep = tokio::time::interval(ctx.config.export_cleanup_interval);
    for t in [&mut rescue, &mut sweep] {
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    }
    loop {
        tokio::select! {
            _ = rescue.tick() => rescue_stuck(&ctx).await,
            _ = sweep.tick() => {
                expire(&ctx).await;
                remove_orphans(&ctx).await;
                remove_backup_leftovers(&ctx).await;
                let min_age = (ctx.config.job_lease * 2).max(Duration::from_secs(10));
                super::import_job::remove_stale_uploads(&ctx, min_age).await;
                super::import_job::remove_stale_work_files(&ctx, min_age).await;
                remove_old_reports(&ctx).await;
                remove_old_wizard_uploads(&ctx).await;
            }
            () = signalled(&mut shutdown) => break,
        }
    }
}

/// Requeues (or fails) running jobs whose lease ran out.
pub async fn rescue_stuck(ctx: &JobContext) {
    let jobs = match ctx.store.rescue_export_jobs().await {
        Ok(j) => j,
        Err(e) => return tracing::warn!(error = %e, "rescuing stuck export jobs failed"),
    };
    for job in jobs {
        tracing::warn!(job_id = %job.id, status = job.status.as_str(), attempts = job.attempts, worker = job.worker.as_deref().unwrap_or(""), "export job's lease expired");
        if job.status == JobStatus::Failed {
            kit::audit(
                ctx,
                &job,
                "export_job.fail",
                json!({ "job_id": job.id, "worker": job.worker, "attempt": job.attempts, "error": job.error }),
            )
            .await;
        }
    }
}

/// Done jobs past their retention become expired and lose their file.
pub async fn expire(ctx: &JobContext) {
    let jobs = match ctx.store.expire_export_jobs().await {
        Ok(j) => j,
        Err(e) => return tracing::warn!(error = %e, "expiring export jobs failed"),
    };
    for job in jobs {
        if let Some(key) = &job.file_key
            && let Err(e) = ctx.files.delete(key).await
        {
            tracing::warn!(job_id = %job.id, error = %e, "deleting an expired export file failed; the orphan sweep retries");
        }
        tracing::info!(job_id = %job.id, "export file expired and deleted");
    }
}

/// Deletes files that no done job publishes and no running attempt writes.
/// Young files are left alone: a run publishes its file a moment before it
/// records the completion.
pub async fn remove_orphans(ctx: &JobContext) {
    let min_age = (ctx.config.job_lease * 2).max(Duration::from_secs(10));
    let (jobs, files) = match (ctx.store.export_job_files().await, ctx.files.list().await) {
        (Ok(j), Ok(f)) => (j, f),
        (Err(e), _) => return tracing::warn!(error = %e, "listing export jobs failed"),
        (_, Err(e)) => return tracing::warn!(error = %e, "listing export files failed"),
    };
    let mut keep: HashSet<String> = HashSet::new();
    let mut running: HashSet<String> = HashSet::new();
    for j in jobs {
        match j.status {
            JobStatus::Done => keep.extend(j.file_key),
            JobStatus::Running => {
                running.insert(format!("{}-{}.", j.id.simple(), j.attempts));
            }
            _ => {}
        }
    }
    for f in files {
        let live = keep.contains(&f.key)
            || running
                .iter()
                .any(|prefix| f.key.starts_with(prefix.as_str()));
        if live || f.age < min_age {
            continue;
        }
        match ctx.files.delete(&f.key).await {
            Ok(()) => {
                tracing::info!(key = %f.key, partial = f.partial, "orphaned export file deleted")
            }
            Err(e) => {
                tracing::warn!(key = %f.key, error = %e, "deleting an orphaned export file failed")
            }
        }
    }
}

/// Deletes partial backup files (a pending upload or `.part` file) that no
/// running backup job writes: left by a worker that died. One of a known
/// job goes after twice the lease, like an export's; one of a backup made
/// outside the queue (schedule, pre-restore, `pulse backup`) only after
/// [`FOREIGN_PARTIAL_AGE`] — an S3 upload's age counts from its start, and
/// such a backup may still be writing. Published backups are never touched
/// here (they go by hand or by the schedule's pruning).
pub async fn remove_backup_leftovers(ctx: &JobContext) {
    let min_age = (ctx.config.job_lease * 2).max(Duration::from_secs(10));
    let (jobs, files) = match (ctx.store.export_job_files().await, ctx.backups.list().await) {
        (Ok(j), Ok(f)) => (j, f),
        (Err(e), _) => return tracing::warn!(error = %e, "listing jobs failed"),
        (_, Err(e)) => return tracing::warn!(error = %e, "listing backup files failed"),
    };
    for f in files.into_iter().filter(|f| f.partial && f.age >= min_age) {
        // A backup's key holds its id, which is its job's (`<ms>_<id>_<kind>_<n>.jsonl.gz`).
        let job = jobs
            .iter()
            .find(|j| f.key.contains(&format!("_{}_", j.id.simple())));
        let gone = match job {
            Some(j) => j.status != JobStatus::Running,
            None => f.age >= FOREIGN_PARTIAL_AGE,
        };
        if !gone {
            continue;
        }
        match ctx.backups.delete(&f.key).await {
            Ok(()) => {
                tracing::info!(key = %f.key, kind = JobKind::Backup.as_str(), "left-over partial backup deleted")
            }
            Err(e) => {
                tracing::warn!(key = %f.key, error = %e, "deleting a left-over partial backup failed")
            }
        }
    }
}

/// Reports of synchronous imports (`PULSE_DATA_DIR/import-reports`) are
/// kept as long as export files (`PULSE_EXPORT_RETENTION`); import jobs'
/// reports are their jobs' files and expire with them.
pub async fn remove_old_reports(ctx: &JobContext) {
    let dir = crate::import::reports_dir(&ctx.config);
    let retention = ctx.config.export_retention;
    let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
        return;
    };
    while let Ok(Some(e)) = entries.next_entry().await {
        let old = match e.metadata().await.and_then(|m| m.modified()) {
            Ok(t) => t.elapsed().is_ok_and(|age| age > retention),
            Err(_) => false,
        };
        if old {
            match tokio::fs::remove_file(e.path()).await {
                Ok(()) => {
                    tracing::info!(file = %e.path().display(), "expired import report deleted")
                }
                Err(err) => {
                    tracing::warn!(file = %e.path().display(), error = %err, "deleting an expired import report failed")
                }
            }
        }
    }
}

/// The import wizard's uploads go after a day (`import::WIZARD_UPLOAD_AGE`).
pub async fn remove_old_wizard_uploads(ctx: &JobContext) {
    let dir = crate::import::wizard_dir(&ctx.config);
    let age = crate::import::WIZARD_UPLOAD_AGE;
    match tokio::task::spawn_blocking(move || crate::import::sweep_wizard_uploads(&dir, age)).await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(files = n, "old import wizard uploads deleted"),
        Err(e) => tracing::warn!(error = %e, "sweeping import wizard uploads failed"),
    }
}

/// How old a partial backup no job owns must be before it is deleted.
const FOREIGN_PARTIAL_AGE: Duration = Duration::from_secs(6 * 3600);
