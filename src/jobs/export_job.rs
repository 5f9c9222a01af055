//! Kind `export`: write the job's filter, columns and format with the one
//! export engine into the exports' file store, as `<job>-<attempt>.<ext>`.

use serde_json::json;
use tokio::sync::watch;

use super::job_spec;
use super::kit::{Claimed, Guarded, RunError, drive, finish_failed, publish_and_complete};
use crate::export::engine::write_export;
use crate::store::Completion;

/// Runs one claimed export job to its end.
pub(super) async fn run(run: &Claimed<'_>, shutdown: watch::Receiver<bool>) {
    let Claimed {
        ctx, job, worker, ..
    } = *run;
    tracing::info!(job_id = %job.id, request_id = run.rid(), worker, attempt = job.attempts, format = %job.format, "export job started");
    let (filter, spec) = match job_spec(job) {
        Ok(s) => s,
        Err(message) => {
            finish_failed(run, RunError::fatal(message)).await;
            return;
        }
    };
    let snapshot = match ctx.store.export_snapshot(&filter).await {
        Ok(s) => s,
        Err(e) => {
            let err = RunError::retry(format!("opening the leads snapshot failed: {e}"));
            finish_failed(run, err).await;
            return;
        }
    };
    let total = snapshot.total;
    let key = super::file_key(job.id, job.attempts, &job.format);
    let files = ctx.files.clone();
    let written = {
        let key = key.clone();
        drive(
            run,
            Some(total),
            move |stop, progress| {
                let mut rows = snapshot.rows;
                let mut out = Guarded::new(files.create(&key)?, stop);
                let w = write_export(rows.as_mut(), &spec, &mut out, &progress)?;
                Ok(out.into_written(w.rows)?)
            },
            shutdown,
        )
        .await
    };
    let written = match written {
        None => return,
        Some(Ok(w)) => w,
        Some(Err(e)) => {
            finish_failed(run, e).await;
            return;
        }
    };
    let (rows, bytes, sha256) = (written.rows, written.bytes, written.sha256.clone());
    let done = Completion {
        rows: rows as i64,
        bytes: bytes as i64,
        sha256: sha256.clone(),
        file_key: key,
        retention: Some(ctx.config.export_retention),
        result: None,
    };
    match publish_and_complete(run, &ctx.files, written, &done).await {
        Ok(true) => {
            let elapsed = run.started.elapsed();
            crate::metrics::export_finished("job", true, rows, bytes, elapsed);
            tracing::info!(job_id = %job.id, request_id = run.rid(), worker, rows, bytes, elapsed_ms = elapsed.as_millis() as u64, "export job done");
            super::kit::audit(
                ctx,
                job,
                "export_job.done",
                json!({
                    "job_id": job.id,
                    "worker": worker,
                    "attempt": job.attempts,
                    "filters": job.filters,
                    "format": job.format,
                    "masked": job.mask_pii,
                    "total": total,
                    "rows": rows,
                    "bytes": bytes,
                    "sha256": sha256,
                    "elapsed_ms": elapsed.as_millis() as u64,
                }),
            )
            .await;
        }
        Ok(false) => {}
        Err(e) => {
            finish_failed(run, e).await;
        }
    }
}
