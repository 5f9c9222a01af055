//! Kind `restore`: every lead replaced by a stored backup's
//! (`params.backup_id`), run by a worker so that no request — and no proxy
//! timeout in front of one — has to stay open for it. The work is
//! [`crate::backup::restore_watched`]: a checking pass, the automatic
//! backup, a second pass into one transaction. Progress is the leads read
//! over both passes (the job's total is twice the backup's leads); a lost
//! lease (a cancel) or a shutdown past its grace stops the reader, and the
//! transaction rolls back, so a stopped restore changed nothing. Admission
//! (`service::jobs`) lets one backup or restore be queued or running in
//! the whole queue, across instances.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

use super::kit::{Claimed, RunError, drive, finish_failed};
use crate::backup::{self, RestoreError, RestoreWatch};
use crate::export::engine::ExportError;

/// The backup a restore job puts back, from its `params`.
pub fn backup_id(params: &serde_json::Value) -> Option<Uuid> {
    params.get("backup_id")?.as_str()?.parse().ok()
}

/// Runs one claimed restore job to its end.
pub(super) async fn run(run: &Claimed<'_>, shutdown: watch::Receiver<bool>) {
    let Claimed {
        ctx, job, worker, ..
    } = *run;
    tracing::info!(job_id = %job.id, request_id = run.rid(), worker, attempt = job.attempts, "restore job started");
    let Some(id) = backup_id(&job.params) else {
        finish_failed(run, RunError::fatal("the job names no backup".into())).await;
        return;
    };
    let found = match backup::find(&ctx.backups, id).await {
        Ok(Some(b)) => b,
        Ok(None) => {
            let err = RunError::fatal(format!("backup {id} no longer exists"));
            finish_failed(run, err).await;
            return;
        }
        Err(e) => {
            let err = RunError::retry(format!("listing the backups failed: {e}"));
            finish_failed(run, err).await;
            return;
        }
    };
    let open = backup::stored(&ctx.backups, &found);
    let (store, files) = (ctx.store.clone(), ctx.backups.clone());
    let handle = tokio::runtime::Handle::current();
    // `drive` runs the work on a thread of its own and keeps the lease; the
    // restore is async, so that thread waits on the runtime for it.
    let outcome = drive(
        run,
        Some(found.leads * 2),
        move |stop, progress: Arc<AtomicU64>| {
            let watch = RestoreWatch {
                leads: progress,
                stop: stop.clone(),
            };
            let done = handle.block_on(backup::restore_watched(
                store.as_ref(),
                &files,
                id,
                open,
                &watch,
            ));
            if done.is_err() && stop.load(Ordering::Relaxed) != 0 {
                // stopped: `drive` sees the flag and deals with the job
                return Err(ExportError::Output(std::io::Error::other("job stopped")));
            }
            Ok(done)
        },
        shutdown,
    )
    .await;
    let restored = match outcome {
        None => return,
        Some(Ok(Ok(r))) => r,
        Some(Ok(Err(RestoreError::Invalid(e)))) => {
            let err = RunError::fatal(format!("backup {id} cannot be restored: {e}"));
            finish_failed(run, err).await;
            return;
        }
        Some(Ok(Err(RestoreError::Failed(e)))) => {
            finish_failed(run, RunError::retry(format!("{e:#}"))).await;
            return;
        }
        Some(Err(e)) => {
            finish_failed(run, e).await;
            return;
        }
    };
    let result = json!({
        "backup_id": id,
        "restored": restored.restored,
        "replaced": restored.replaced,
        "pre_restore_backup": restored.pre_restore_backup.id,
    });
    match super::kit::complete_without_file(run, restored.restored, result.clone()).await {
        Ok(true) => {
            tracing::info!(job_id = %job.id, backup_id = %id, worker, restored = restored.restored, replaced = restored.replaced, "restore job done");
            let mut details = result;
            details["job_id"] = json!(job.id);
            details["worker"] = json!(worker);
            super::kit::audit(ctx, job, "backup.restore", details).await;
        }
        Ok(false) => {}
        Err(e) => {
            finish_failed(run, e).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_backup_id() {
        let id = Uuid::new_v4();
        assert_eq!(backup_id(&json!({ "backup_id": id })), Some(id));
        assert_eq!(backup_id(&json!({ "backup_id": "nope" })), None);
        assert_eq!(backup_id(&json!({})), None);
    }
}
