//! One export worker: claim a job, write its file with the export engine on
//! a thread of its own at lowered priority (the async threads stay free for HTTP), keep the lease
//! alive and record progress meanwhile, then publish and complete — or
//! retry, fail, or hand the job back.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use uuid::Uuid;

use super::files::PendingFile;
use super::{JobContext, backoff, file_key, job_spec, signalled};
use crate::export::engine::{ExportError, write_export};
use crate::store::{Completion, ExportJob, JobStatus, NewAuditEntry};

/// How often an idle worker looks for work queued by other processes.
const POLL: Duration = Duration::from_millis(1000);
/// Heartbeats are at least this frequent: a cancel is noticed within it.
const MAX_HEARTBEAT: Duration = Duration::from_millis(500);

/// Why a running write was told to stop.
const GO_ON: u8 = 0;
const LOST_LEASE: u8 = 1;
const SHUTTING_DOWN: u8 = 2;

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
            .claim_export_job(&token, &name, ctx.config.job_lease)
            .await
        {
            Ok(Some(job)) => run_job(&ctx, job, &token, &name, shutdown.clone()).await,
            Ok(None) => {
                tokio::select! {
                    () = ctx.wake.notified() => {}
                    () = tokio::time::sleep(POLL) => {}
                    () = signalled(&mut shutdown) => {}
                }
            }
            Err(e) => {
                tracing::warn!(worker = %name, error = %e, "claiming an export job failed");
                tokio::select! {
                    () = tokio::time::sleep(POLL) => {}
                    () = signalled(&mut shutdown) => {}
                }
            }
        }
    }
    tracing::info!(worker = %name, "export worker stopped");
}

/// The file's bytes go through here: counted, hashed, and refused once the
/// run is told to stop (the engine then unwinds with an output error).
struct Guarded {
    inner: Box<dyn PendingFile>,
    hasher: Sha256,
    bytes: u64,
    stop: Arc<AtomicU8>,
}

impl Write for Guarded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) != GO_ON {
            return Err(io::Error::other("export job stopped"));
        }
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A written, not yet published file.
struct Written {
    file: Box<dyn PendingFile>,
    rows: u64,
    bytes: u64,
    sha256: String,
}

/// How a run failed, for the job's `error` and the retry decision.
struct RunError {
    message: String,
    retry: bool,
}

fn describe_output(e: &io::Error) -> String {
    // ENOSPC, EFBIG (RLIMIT_FSIZE), EDQUOT: say it plainly.
    match e.raw_os_error() {
        Some(28) | Some(27) | Some(122) => {
            format!("no space for the export file (disk full or file size limit reached): {e}")
        }
        _ => format!("writing the export file failed: {e}"),
    }
}

async fn run_job(
    ctx: &JobContext,
    job: ExportJob,
    token: &str,
    worker: &str,
    mut shutdown: watch::Receiver<bool>,
) {
    let started = Instant::now();
    let lease = ctx.config.job_lease;
    let rid = job.request_id.as_deref().unwrap_or("-");
    tracing::info!(job_id = %job.id, request_id = rid, worker, attempt = job.attempts, format = %job.format, "export job started");
    let (filter, spec) = match job_spec(&job) {
        Ok(s) => s,
        Err(message) => {
            let err = RunError {
                message,
                retry: false,
            };
            return finish_failed(ctx, &job, token, worker, err, started).await;
        }
    };
    let snapshot = match ctx.store.export_snapshot(&filter).await {
        Ok(s) => s,
        Err(e) => {
            let err = RunError {
                message: format!("opening the leads snapshot failed: {e}"),
                retry: true,
            };
            return finish_failed(ctx, &job, token, worker, err, started).await;
        }
    };
    let total = snapshot.total;
    let key = file_key(job.id, job.attempts, &job.format);
    let stop = Arc::new(AtomicU8::new(GO_ON));
    let progress = Arc::new(AtomicU64::new(0));
    let mut writer = {
        let (files, key, stop, progress) = (
            ctx.files.clone(),
            key.clone(),
            stop.clone(),
            progress.clone(),
        );
        crate::export::priority::spawn(
            "pulse-export-job",
            true, // background work: requests first
            move || -> Result<Written, ExportError> {
                let mut rows = snapshot.rows;
                let mut out = Guarded {
                    inner: files.create(&key)?,
                    hasher: Sha256::new(),
                    bytes: 0,
                    stop,
                };
                let w = write_export(rows.as_mut(), &spec, &mut out, &progress)?;
                out.flush()?;
                Ok(Written {
                    file: out.inner,
                    rows: w.rows,
                    bytes: out.bytes,
                    sha256: hex::encode(out.hasher.finalize()),
                })
            },
        )
    };
    let beat = (lease / 4).min(MAX_HEARTBEAT);
    let mut ticker = tokio::time::interval(beat);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut drain_until: Option<tokio::time::Instant> = None;
    let mut drained = false;
    let mut total_sent = false;
    let result = loop {
        let until = drain_until;
        let drain = async move {
            match until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = &mut writer => break r,
            _ = ticker.tick() => {
                let rows = i64::try_from(progress.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
                let t = (!total_sent).then(|| i64::try_from(total).unwrap_or(i64::MAX));
                match ctx.store.heartbeat_export_job(job.id, token, lease, rows, t).await {
                    Ok(true) => total_sent = true,
                    Ok(false) => { stop.store(LOST_LEASE, Ordering::Relaxed); }
                    // The lease still runs; if the database stays away past
                    // it, the job is rescued and this run's completion refused.
                    Err(e) => tracing::warn!(job_id = %job.id, error = %e, "heartbeat failed"),
                }
            }
            () = signalled(&mut shutdown), if drain_until.is_none() => {
                drain_until = Some(tokio::time::Instant::now() + ctx.config.shutdown_grace);
                tracing::info!(job_id = %job.id, grace_s = ctx.config.shutdown_grace.as_secs(), "shutting down: the running export job may finish within the grace period");
            }
            // Once: the writer stops at its next write, which may take a moment.
            () = drain, if !drained => {
                drained = true;
                stop.store(SHUTTING_DOWN, Ordering::Relaxed);
            }
        }
    };
    let written = match result {
        Ok(Ok(w)) => w,
        Ok(Err(e)) => {
            match stop.load(Ordering::Relaxed) {
                LOST_LEASE => {
                    crate::metrics::job_run("lost", started.elapsed());
                    tracing::info!(job_id = %job.id, request_id = rid, worker, "export job stopped: cancelled, or its lease was lost");
                }
                SHUTTING_DOWN => match ctx.store.release_export_job(job.id, token).await {
                    Ok(true) => {
                        crate::metrics::job_run("released", started.elapsed());
                        tracing::info!(job_id = %job.id, request_id = rid, "export job handed back to the queue at shutdown")
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(job_id = %job.id, error = %e, "releasing the export job failed; it is rescued when its lease ends")
                    }
                },
                _ => {
                    let err = match e {
                        ExportError::Store(s) => RunError {
                            message: format!("reading leads failed: {s}"),
                            retry: true,
                        },
                        ExportError::Output(io) => RunError {
                            message: describe_output(&io),
                            retry: true,
                        },
                    };
                    finish_failed(ctx, &job, token, worker, err, started).await;
                }
            }
            return;
        }
        Err(join) => {
            let err = RunError {
                message: format!("the export writer crashed: {join}"),
                retry: false,
            };
            return finish_failed(ctx, &job, token, worker, err, started).await;
        }
    };
    // Publish only while the lease is still ours; the completion below is
    // conditional again, and a refused one deletes the published file.
    match ctx
        .store
        .heartbeat_export_job(job.id, token, lease, written.rows as i64, None)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            crate::metrics::job_run("lost", started.elapsed());
            tracing::info!(job_id = %job.id, request_id = rid, "export job finished writing but its lease is gone; file discarded");
            return;
        }
        Err(e) => {
            let err = RunError {
                message: format!("the job table is unreachable: {e}"),
                retry: true,
            };
            return finish_failed(ctx, &job, token, worker, err, started).await;
        }
    }
    let file = written.file;
    if let Err(e) = tokio::task::spawn_blocking(move || file.publish())
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
    {
        let err = RunError {
            message: describe_output(&e),
            retry: true,
        };
        return finish_failed(ctx, &job, token, worker, err, started).await;
    }
    let done = Completion {
        rows: written.rows as i64,
        bytes: written.bytes as i64,
        sha256: written.sha256.clone(),
        file_key: key.clone(),
        retention: ctx.config.export_retention,
    };
    match ctx.store.complete_export_job(job.id, token, &done).await {
        Ok(true) => {
            crate::metrics::job_run("done", started.elapsed());
            crate::metrics::export_finished(
                "job",
                true,
                written.rows,
                written.bytes,
                started.elapsed(),
            );
            tracing::info!(job_id = %job.id, request_id = rid, worker, rows = written.rows, bytes = written.bytes, elapsed_ms = started.elapsed().as_millis() as u64, "export job done");
            audit(
                ctx,
                &job,
                "export_job.done",
                json!({
                    "job_id": job.id,
                    "worker": worker,
                    "attempt": job.attempts,
                    "filters": job.filters,
                    "format": job.format,
                    "masked": job.mask_pii,
                    "total": total,
                    "rows": written.rows,
                    "bytes": written.bytes,
                    "sha256": written.sha256,
                    "elapsed_ms": started.elapsed().as_millis() as u64,
                }),
            )
            .await;
        }
        outcome => {
            if let Err(e) = &outcome {
                tracing::warn!(job_id = %job.id, error = %e, "completing the export job failed");
            }
            crate::metrics::job_run("lost", started.elapsed());
            tracing::info!(job_id = %job.id, request_id = rid, "export job not completed (lease lost); its file is deleted");
            if let Err(e) = ctx.files.delete(&key).await {
                tracing::warn!(job_id = %job.id, error = %e, "deleting an unpublished export file failed; the clean-up retries");
            }
        }
    }
}

async fn finish_failed(
    ctx: &JobContext,
    job: &ExportJob,
    token: &str,
    worker: &str,
    err: RunError,
    started: Instant,
) {
    let rid = job.request_id.as_deref().unwrap_or("-");
    let final_attempt = !err.retry || job.attempts >= job.max_attempts;
    let message = if final_attempt && job.max_attempts > 1 {
        format!(
            "{} (attempt {} of {})",
            err.message, job.attempts, job.max_attempts
        )
    } else {
        err.message.clone()
    };
    let retry_in = err
        .retry
        .then(|| backoff(ctx.config.job_retry_base, job.attempts));
    match ctx
        .store
        .fail_export_job(job.id, token, &message, retry_in)
        .await
    {
        Ok(Some(JobStatus::Failed)) => {
            crate::metrics::job_run("failed", started.elapsed());
            tracing::warn!(job_id = %job.id, request_id = rid, worker, error = %message, "export job failed");
            audit(
                ctx,
                job,
                "export_job.fail",
                json!({ "job_id": job.id, "worker": worker, "attempt": job.attempts, "error": message }),
            )
            .await;
        }
        Ok(Some(status)) => {
            crate::metrics::job_run("retry", started.elapsed());
            tracing::warn!(job_id = %job.id, request_id = rid, worker, error = %message, status = status.as_str(), retry_in_s = retry_in.unwrap_or_default().as_secs(), "export job attempt failed; retrying later");
        }
        Ok(None) => {
            crate::metrics::job_run("lost", started.elapsed());
            tracing::info!(job_id = %job.id, request_id = rid, "export job attempt failed after its lease was lost")
        }
        Err(e) => {
            tracing::error!(job_id = %job.id, error = %e, "recording an export job failure failed; it is rescued when its lease ends")
        }
    }
}

/// An audit entry in the job owner's name (the worker acts for them). The
/// jobs layer writes it through the store: it has no HTTP request.
pub async fn audit(ctx: &JobContext, job: &ExportJob, action: &str, details: serde_json::Value) {
    let entry = NewAuditEntry {
        actor_id: Some(job.owner_id),
        actor_email: Some(job.owner_email.clone()),
        action: action.to_string(),
        details,
        request_id: None,
    };
    if let Err(e) = ctx.store.append_audit(&entry).await {
        tracing::error!(action, job_id = %job.id, error = %e, "audit write failed");
    }
}
