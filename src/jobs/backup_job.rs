//! Kind `backup`: a full-fidelity backup of every lead (DESIGN §6) written
//! into the backups' file store under the job's lease. The backup's id is
//! the job's, so the client that polled the job finds it in
//! `GET …/backups` under the same id once the job is done. The file is
//! written as a pending upload and published only when whole; a run that
//! lost its lease never publishes (or deletes what it published), as an
//! export job does. Backups do not expire: they go by hand or by the
//! schedule's pruning.

use serde_json::json;
use tokio::sync::watch;

use super::kit::{Claimed, Guarded, RunError, drive, finish_failed, publish_and_complete};
use crate::backup::{Kind, key, write_snapshot};
use crate::store::Completion;

/// Runs one claimed backup job to its end.
pub(super) async fn run(run: &Claimed<'_>, shutdown: watch::Receiver<bool>) {
    let Claimed {
        ctx, job, worker, ..
    } = *run;
    let kind = Kind::Manual;
    tracing::info!(job_id = %job.id, request_id = run.rid(), worker, attempt = job.attempts, "backup job started");
    let snapshot = match ctx.store.backup_snapshot().await {
        Ok(s) => s,
        Err(e) => {
            let err = RunError::retry(format!("opening the leads snapshot failed: {e}"));
            failed(run, err, kind).await;
            return;
        }
    };
    let total = snapshot.total;
    let created_at = chrono::Utc::now();
    // The snapshot's time is in the key: two attempts never share a name.
    let key = key(created_at, job.id, kind, total);
    let files = ctx.backups.clone();
    let written = {
        let key = key.clone();
        drive(
            run,
            Some(total),
            move |stop, progress| {
                let out = Guarded::new(files.create(&key)?, stop);
                let (header, out) = write_snapshot(snapshot, created_at, out, &progress)?;
                Ok(out.into_written(header.leads)?)
            },
            shutdown,
        )
        .await
    };
    let written = match written {
        None => return,
        Some(Ok(w)) => w,
        Some(Err(e)) => {
            failed(run, e, kind).await;
            return;
        }
    };
    let (leads, bytes, sha256) = (written.rows, written.bytes, written.sha256.clone());
    let done = Completion {
        rows: leads as i64,
        bytes: bytes as i64,
        sha256: sha256.clone(),
        file_key: key,
        retention: None,
        result: None,
    };
    match publish_and_complete(run, &ctx.backups, written, &done).await {
        Ok(true) => {
            let elapsed = run.started.elapsed();
            crate::metrics::backup_finished(kind.as_str(), "done", leads, bytes, elapsed);
            tracing::info!(job_id = %job.id, backup_id = %job.id, request_id = run.rid(), worker, leads, bytes, elapsed_ms = elapsed.as_millis() as u64, "backup job done");
            super::kit::audit(
                ctx,
                job,
                "backup_job.done",
                json!({
                    "job_id": job.id,
                    "backup_id": job.id,
                    "worker": worker,
                    "attempt": job.attempts,
                    "leads": leads,
                    "bytes": bytes,
                    "sha256": sha256,
                    "elapsed_ms": elapsed.as_millis() as u64,
                }),
            )
            .await;
        }
        Ok(false) => {}
        Err(e) => failed(run, e, kind).await,
    }
}

async fn failed(run: &Claimed<'_>, err: RunError, kind: Kind) {
    if finish_failed(run, err).await {
        crate::metrics::backup_finished(kind.as_str(), "failed", 0, 0, run.started.elapsed());
    }
}
