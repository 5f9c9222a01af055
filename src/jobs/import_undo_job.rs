//! Kind `import_undo`: undoes a committed import (issue 20) in one store
//! transaction (`BulkStore::undo_import`): its inserted leads removed, its
//! replaced leads restored to the version it found — or, when any of them
//! changed since, nothing, and the job fails naming them. The undo is
//! keyed by this job, so a retry after a commit whose completion was lost
//! (a lost lease, a crash) finds it done instead of doing it twice. The
//! job's file is a one-line CSV of the counts.

use std::io::{self, Write};

use chrono::Utc;
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

use super::kit::{Claimed, Guarded, RunError, drive, finish_failed, publish_and_complete};
use crate::store::{Completion, UndoOutcome};

/// Runs one claimed undo job to its end.
pub(super) async fn run(run: &Claimed<'_>, shutdown: watch::Receiver<bool>) {
    let Claimed {
        ctx, job, worker, ..
    } = *run;
    tracing::info!(job_id = %job.id, request_id = run.rid(), worker, attempt = job.attempts, "import undo job started");
    let Some(import_id) = job
        .params
        .get("import_id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<Uuid>().ok())
    else {
        failed(
            run,
            None,
            RunError::fatal("invalid undo job: no import_id".into()),
        )
        .await;
        return;
    };
    let (store, by, job_id) = (ctx.store.clone(), job.owner_email.clone(), job.id);
    let outcome = drive(
        run,
        None,
        move |_stop, _progress| {
            // One transaction: there is nothing to stop half-way.
            let undo = store.undo_import(import_id, &by, job_id, Utc::now());
            Ok(tokio::runtime::Handle::current().block_on(undo))
        },
        shutdown,
    )
    .await;
    let (removed, restored) = match outcome {
        None => return,
        Some(Err(e)) => return failed(run, Some(import_id), e).await,
        Some(Ok(Err(e))) => {
            let e = RunError::retry(format!("undoing the import failed: {e}"));
            return failed(run, Some(import_id), e).await;
        }
        Some(Ok(Ok(UndoOutcome::Done { removed, restored }))) => (removed, restored),
        Some(Ok(Ok(UndoOutcome::Changed { leads, total }))) => {
            let named: Vec<String> = leads.iter().map(Uuid::to_string).collect();
            let more = if total > leads.len() as u64 {
                format!(" and {} more", total - leads.len() as u64)
            } else {
                String::new()
            };
            let e = RunError::fatal(format!(
                "not undone, nothing changed: {total} lead(s) of the import were changed or deleted since it wrote them: {}{more}",
                named.join(", ")
            ));
            return failed(run, Some(import_id), e).await;
        }
        Some(Ok(Ok(UndoOutcome::AlreadyUndone(at)))) => {
            let e = RunError::fatal(format!("the import was already undone at {at}"));
            return failed(run, Some(import_id), e).await;
        }
        Some(Ok(Ok(UndoOutcome::NotFound))) => {
            let e = RunError::fatal("no committed import has this id".into());
            return failed(run, Some(import_id), e).await;
        }
    };
    let key = super::file_key(job.id, job.attempts, "csv");
    let written = {
        let (files, key) = (ctx.files.clone(), key.clone());
        tokio::task::spawn_blocking(move || -> io::Result<_> {
            let mut out = Guarded::new(files.create(&key)?, Default::default());
            writeln!(out, "import_id,removed,restored")?;
            writeln!(out, "{import_id},{removed},{restored}")?;
            out.into_written(removed + restored)
        })
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
    };
    let written = match written {
        Ok(w) => w,
        Err(e) => {
            let err = RunError::retry(super::kit::describe_output("undo report", &e));
            return failed(run, Some(import_id), err).await;
        }
    };
    let result = json!({ "import_id": import_id, "removed": removed, "restored": restored });
    let done = Completion {
        rows: i64::try_from(removed + restored).unwrap_or(i64::MAX),
        bytes: written.bytes as i64,
        sha256: written.sha256.clone(),
        file_key: key,
        retention: Some(ctx.config.export_retention),
        result: Some(result.clone()),
    };
    match publish_and_complete(run, &ctx.files, written, &done).await {
        Ok(true) => {
            tracing::info!(job_id = %job.id, %import_id, removed, restored, "import undone");
            super::kit::audit(ctx, job, "import_undo.done", json!({ "job_id": job.id, "import_id": import_id, "removed": removed, "restored": restored })).await;
        }
        Ok(false) => {}
        Err(e) => failed(run, Some(import_id), e).await,
    }
}

async fn failed(run: &Claimed<'_>, import_id: Option<Uuid>, err: RunError) {
    let message = err.message.clone();
    if finish_failed(run, err).await {
        let details = json!({ "job_id": run.job.id, "import_id": import_id, "error": message });
        super::kit::audit(run.ctx, run.job, "import_undo.fail", details).await;
    }
}
