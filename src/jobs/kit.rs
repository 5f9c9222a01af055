//! The machinery every job kind shares: the writer on a thread of its own
//! at lowered priority (the async threads stay free for HTTP), heartbeats
//! that keep the lease and record progress meanwhile, publication and
//! completion under the lease — or retry, failure, or hand-back at
//! shutdown — and the audit in the job owner's name. The `*_job.rs` kinds
//! use it; [`super::worker`] claims jobs and calls the kinds.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::{JobContext, backoff, signalled};
use crate::export::engine::ExportError;
use crate::storage::files::{FileStore, PendingFile};
use crate::store::{Completion, ExportJob, JobStatus, NewAuditEntry};

/// Heartbeats are at least this frequent: a cancel is noticed within it.
const MAX_HEARTBEAT: Duration = Duration::from_millis(500);

/// Why a running write was told to stop.
const GO_ON: u8 = 0;
const LOST_LEASE: u8 = 1;
const SHUTTING_DOWN: u8 = 2;

/// A job this worker holds the lease of.
pub(super) struct Claimed<'a> {
    pub ctx: &'a JobContext,
    pub job: &'a ExportJob,
    pub token: &'a str,
    pub worker: &'a str,
    pub started: Instant,
}

impl Claimed<'_> {
    /// The id of the request that created the job, for the log lines.
    pub fn rid(&self) -> &str {
        self.job.request_id.as_deref().unwrap_or("-")
    }

    /// The kind's name, for log lines and audit actions.
    pub fn kind(&self) -> &'static str {
        self.job.kind.as_str()
    }
}

/// The file's bytes go through here: counted, hashed, and refused once the
/// run is told to stop (the writer then unwinds with an output error).
pub(super) struct Guarded {
    pub inner: Box<dyn PendingFile>,
    hasher: Sha256,
    pub bytes: u64,
    stop: Arc<AtomicU8>,
}

impl Guarded {
    /// Wraps `inner`; writes fail once `stop` is set.
    pub fn new(inner: Box<dyn PendingFile>, stop: Arc<AtomicU8>) -> Self {
        Guarded {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            stop,
        }
    }

    /// The written, unpublished file with its size and SHA-256.
    pub fn into_written(mut self, rows: u64) -> io::Result<Written> {
        self.inner.flush()?;
        Ok(Written {
            file: self.inner,
            rows,
            bytes: self.bytes,
            sha256: hex::encode(self.hasher.finalize()),
        })
    }
}

impl Write for Guarded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) != GO_ON {
            return Err(io::Error::other("job stopped"));
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
pub(super) struct Written {
    pub file: Box<dyn PendingFile>,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// How a run failed, for the job's `error` and the retry decision.
pub(super) struct RunError {
    pub message: String,
    pub retry: bool,
}

impl RunError {
    /// A failure worth another attempt.
    pub fn retry(message: String) -> Self {
        RunError {
            message,
            retry: true,
        }
    }

    /// A failure no other attempt would change.
    pub fn fatal(message: String) -> Self {
        RunError {
            message,
            retry: false,
        }
    }

    /// A failed write of a `kind` job: the store's or the file's.
    pub fn of_write(kind: &str, e: ExportError) -> Self {
        match e {
            ExportError::Store(s) => RunError::retry(format!("reading leads failed: {s}")),
            ExportError::Output(io) => RunError::retry(describe_output(kind, &io)),
        }
    }
}

pub(super) fn describe_output(kind: &str, e: &io::Error) -> String {
    // ENOSPC, EFBIG (RLIMIT_FSIZE), EDQUOT: say it plainly.
    match e.raw_os_error() {
        Some(28) | Some(27) | Some(122) => {
            format!("no space for the {kind} file (disk full or file size limit reached): {e}")
        }
        _ => format!("writing the {kind} file failed: {e}"),
    }
}

/// Runs `write` on a thread of its own (nice 10) while the lease is kept
/// and progress recorded. `write` gets the stop flag (for [`Guarded`]) and
/// a counter of rows done. `None`: the run was stopped (lease lost,
/// cancelled, or handed back at shutdown), already dealt with; else what
/// the writer returned, or why it failed.
pub(super) async fn drive<T, F>(
    run: &Claimed<'_>,
    total: Option<u64>,
    write: F,
    mut shutdown: watch::Receiver<bool>,
) -> Option<Result<T, RunError>>
where
    T: Send + 'static,
    F: FnOnce(Arc<AtomicU8>, Arc<AtomicU64>) -> Result<T, ExportError> + Send + 'static,
{
    let Claimed {
        ctx, job, token, ..
    } = *run;
    let lease = ctx.config.job_lease;
    let stop = Arc::new(AtomicU8::new(GO_ON));
    let progress = Arc::new(AtomicU64::new(0));
    let mut writer = {
        let (stop, progress) = (stop.clone(), progress.clone());
        crate::export::priority::spawn(
            &format!("pulse-{}-job", run.kind()),
            true, // background work: requests first
            move || write(stop, progress),
        )
    };
    let beat = (lease / 4).min(MAX_HEARTBEAT);
    let mut ticker = tokio::time::interval(beat);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut drain_until: Option<tokio::time::Instant> = None;
    let mut drained = false;
    let mut total_sent = total.is_none();
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
                let t = (!total_sent).then(|| i64::try_from(total.unwrap_or(0)).unwrap_or(i64::MAX));
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
                tracing::info!(job_id = %job.id, kind = run.kind(), grace_s = ctx.config.shutdown_grace.as_secs(), "shutting down: the running job may finish within the grace period");
            }
            // Once: the writer stops at its next write, which may take a moment.
            () = drain, if !drained => {
                drained = true;
                stop.store(SHUTTING_DOWN, Ordering::Relaxed);
            }
        }
    };
    match result {
        Ok(Ok(w)) => Some(Ok(w)),
        Ok(Err(e)) => match stop.load(Ordering::Relaxed) {
            LOST_LEASE => {
                crate::metrics::job_run("lost", run.started.elapsed());
                tracing::info!(job_id = %job.id, kind = run.kind(), request_id = run.rid(), worker = run.worker, "job stopped: cancelled, or its lease was lost");
                None
            }
            SHUTTING_DOWN => {
                match ctx.store.release_export_job(job.id, token).await {
                    Ok(true) => {
                        crate::metrics::job_run("released", run.started.elapsed());
                        tracing::info!(job_id = %job.id, kind = run.kind(), request_id = run.rid(), "job handed back to the queue at shutdown")
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(job_id = %job.id, error = %e, "releasing the job failed; it is rescued when its lease ends")
                    }
                }
                None
            }
            _ => Some(Err(RunError::of_write(run.kind(), e))),
        },
        Err(crashed) => Some(Err(RunError::fatal(format!(
            "the {} writer crashed: {crashed}",
            run.kind()
        )))),
    }
}

/// Publishes `written` into `files` and completes the job — only while the
/// lease is still ours (checked before publishing; the completion is
/// conditional again, and a refused one deletes the published file).
/// `Ok(true)`: done; `Ok(false)`: the lease was lost (already dealt with).
pub(super) async fn publish_and_complete(
    run: &Claimed<'_>,
    files: &Arc<dyn FileStore>,
    written: Written,
    done: &Completion,
) -> Result<bool, RunError> {
    let Claimed {
        ctx, job, token, ..
    } = *run;
    match ctx
        .store
        .heartbeat_export_job(job.id, token, ctx.config.job_lease, done.rows, None)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            crate::metrics::job_run("lost", run.started.elapsed());
            tracing::info!(job_id = %job.id, kind = run.kind(), request_id = run.rid(), "job finished writing but its lease is gone; file discarded");
            return Ok(false);
        }
        Err(e) => {
            return Err(RunError::retry(format!(
                "the job table is unreachable: {e}"
            )));
        }
    }
    let file = written.file;
    tokio::task::spawn_blocking(move || file.publish())
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
        .map_err(|e| RunError::retry(describe_output(run.kind(), &e)))?;
    match ctx.store.complete_export_job(job.id, token, done).await {
        Ok(true) => {
            crate::metrics::job_run("done", run.started.elapsed());
            Ok(true)
        }
        outcome => {
            if let Err(e) = &outcome {
                tracing::warn!(job_id = %job.id, error = %e, "completing the job failed");
            }
            crate::metrics::job_run("lost", run.started.elapsed());
            tracing::info!(job_id = %job.id, kind = run.kind(), request_id = run.rid(), "job not completed (lease lost); its file is deleted");
            if let Err(e) = files.delete(&done.file_key).await {
                tracing::warn!(job_id = %job.id, error = %e, "deleting an unpublished job file failed; the clean-up retries");
            }
            Ok(false)
        }
    }
}

/// Completes a job that leaves no file (a restore): its `result` says what
/// it did. `Ok(true)`: done; `Ok(false)`: the lease was lost.
pub(super) async fn complete_without_file(
    run: &Claimed<'_>,
    rows: u64,
    result: serde_json::Value,
) -> Result<bool, RunError> {
    let done = Completion {
        rows: i64::try_from(rows).unwrap_or(i64::MAX),
        bytes: 0,
        sha256: String::new(),
        file_key: String::new(),
        retention: None,
        result: Some(result),
    };
    match run
        .ctx
        .store
        .complete_export_job(run.job.id, run.token, &done)
        .await
    {
        Ok(true) => {
            crate::metrics::job_run("done", run.started.elapsed());
            Ok(true)
        }
        Ok(false) => {
            crate::metrics::job_run("lost", run.started.elapsed());
            tracing::info!(job_id = %run.job.id, kind = run.kind(), "job finished but its lease is gone");
            Ok(false)
        }
        Err(e) => Err(RunError::retry(format!(
            "the job table is unreachable: {e}"
        ))),
    }
}

/// Records a failed attempt: queued again after the back-off while attempts
/// remain, else failed (audited `<kind>_job.fail`). Returns whether the job
/// failed for good.
pub(super) async fn finish_failed(run: &Claimed<'_>, err: RunError) -> bool {
    let Claimed {
        ctx,
        job,
        token,
        worker,
        started,
    } = *run;
    let rid = run.rid();
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
            tracing::warn!(job_id = %job.id, kind = run.kind(), request_id = rid, worker, error = %message, "job failed");
            audit(
                ctx,
                job,
                &format!("{}_job.fail", run.kind()),
                json!({ "job_id": job.id, "worker": worker, "attempt": job.attempts, "error": message }),
            )
            .await;
            true
        }
        Ok(Some(status)) => {
            crate::metrics::job_run("retry", started.elapsed());
            tracing::warn!(job_id = %job.id, kind = run.kind(), request_id = rid, worker, error = %message, status = status.as_str(), retry_in_s = retry_in.unwrap_or_default().as_secs(), "job attempt failed; retrying later");
            false
        }
        Ok(None) => {
            crate::metrics::job_run("lost", started.elapsed());
            tracing::info!(job_id = %job.id, request_id = rid, "job attempt failed after its lease was lost");
            false
        }
        Err(e) => {
            tracing::error!(job_id = %job.id, error = %e, "recording a job failure failed; it is rescued when its lease ends");
            false
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
