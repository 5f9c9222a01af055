//! Kind `import`: an upload above `PULSE_IMPORT_JOB_THRESHOLD`, kept in the
//! uploads' file store ([`super::uploads`]) by the request that queued it,
//! imported by a worker with the same `import::run` as a synchronous
//! import. Progress is the rows read so far; the job's file is the import
//! report (CSV, in the exports' store, so it expires like an export), and
//! its `result` the counts.
//!
//! The import is one transaction: a run that is stopped (cancelled, lease
//! lost, shutdown) or fails writes nothing. A worker that dies after the
//! commit but before completing the job leaves it to be rescued and run
//! again; that run finds every row already stored and reports them as
//! skipped or unchanged (duplicates are found by phone and id), so the
//! data is written once. The upload is deleted when the job ends for good.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use chrono::Utc;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use super::kit::{Claimed, Guarded, RunError, drive, finish_failed, publish_and_complete};
use crate::export::engine::ExportError;
use crate::import::ImportError;
use crate::import::row::RowDefaults;
use crate::import::run::{Action, ImportOutcome, ImportRequest, ImportWatch, import_file};
use crate::store::{Completion, ExportJob, JobStatus};

/// What the request that queued an import job decided (the job's `params`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportParams {
    /// The upload's key in the uploads' store.
    pub upload_key: String,
    /// Its name as uploaded.
    pub file_name: String,
    /// Its size and SHA-256 (hex), for the audit.
    pub bytes: u64,
    pub sha256: String,
    /// `lead_source` of the form.
    pub lead_source: Option<String>,
    /// `lead_date` of the form (today in IST when the request came).
    pub lead_date: chrono::NaiveDate,
    /// `read_source_from_file` of the form.
    pub read_source_from_file: bool,
    /// `duplicate_action` of the form.
    pub action: Action,
    /// Telecaller ids → logins from a `users` field (mongoexport files).
    #[serde(default)]
    pub users: std::collections::HashMap<String, String>,
    /// The import wizard's mapping of the columns (none: the guesses).
    #[serde(default)]
    pub choices: Vec<crate::import::mapping::ColumnChoice>,
    /// Count what `action` would do and write nothing (the wizard's
    /// whole-file preview of a big file).
    #[serde(default)]
    pub dry_run: bool,
    /// The original's bulk-import: its column positions and telecaller
    /// names (with `action` replace).
    #[serde(default)]
    pub upsert: Option<crate::import::Upsert>,
}

/// The upload key of job `id`.
pub fn upload_key(id: uuid::Uuid) -> String {
    format!("{}.upload", id.simple())
}

/// The job id an upload key belongs to.
pub fn job_of_upload(key: &str) -> Option<uuid::Uuid> {
    key.strip_suffix(".upload")?.parse().ok()
}

/// Where attempts keep their local copy of the upload and their report.
fn work_dir(config: &crate::config::Config) -> PathBuf {
    config.data_dir.join("import-work")
}

/// Local working files of one attempt, deleted however the attempt ends
/// (but a killed process: [`remove_stale_work_files`] sweeps those).
struct WorkFiles {
    upload: PathBuf,
    report: PathBuf,
}

impl Drop for WorkFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.upload);
        let _ = std::fs::remove_file(&self.report);
    }
}

/// Copies the upload from the uploads' store to a local file (the readers
/// seek: a ZIP's directory is at its end).
async fn fetch_upload(run: &Claimed<'_>, key: &str, to: &Path) -> Result<(), RunError> {
    let files = &run.ctx.uploads;
    let size = match files.size(key).await {
        Ok(Some(n)) => n,
        Ok(None) => {
            return Err(RunError::fatal(
                "the uploaded file is gone (deleted before the import ran)".into(),
            ));
        }
        Err(e) => return Err(RunError::retry(format!("reading the upload failed: {e}"))),
    };
    let fail = |e: io::Error| RunError::retry(format!("copying the upload failed: {e}"));
    let mut out = tokio::fs::File::create(to).await.map_err(fail)?;
    if size > 0 {
        let mut stream = files.read(key, 0, size).await.map_err(fail)?;
        while let Some(chunk) = stream.next().await {
            out.write_all(&chunk.map_err(fail)?).await.map_err(fail)?;
        }
    }
    out.flush().await.map_err(fail)?;
    Ok(())
}

/// Runs one claimed import job to its end.
pub(super) async fn run(run: &Claimed<'_>, shutdown: watch::Receiver<bool>) {
    let Claimed {
        ctx, job, worker, ..
    } = *run;
    tracing::info!(job_id = %job.id, request_id = run.rid(), worker, attempt = job.attempts, "import job started");
    let params: ImportParams = match serde_json::from_value(job.params.clone()) {
        Ok(p) => p,
        Err(e) => {
            finish_failed(run, RunError::fatal(format!("invalid import job: {e}"))).await;
            return;
        }
    };
    let dir = work_dir(&ctx.config);
    if let Err(e) = tokio::fs::create_dir_all(&dir).await {
        let err = RunError::retry(format!("creating {} failed: {e}", dir.display()));
        failed(run, &params, err).await;
        return;
    }
    let stem = format!("{}-{}", job.id.simple(), job.attempts);
    let work = WorkFiles {
        upload: dir.join(format!("{stem}.upload")),
        report: dir.join(format!("{stem}.report.csv")),
    };
    if let Err(e) = fetch_upload(run, &params.upload_key, &work.upload).await {
        failed(run, &params, e).await;
        return;
    }
    let committed_before = matches!(ctx.store.import_record(job.id).await, Ok(Some(_)));
    let request = ImportRequest {
        max_rows: ctx.config.import_max_rows,
        path: work.upload.clone(),
        file_name: params.file_name.clone(),
        format: None,
        defaults: RowDefaults {
            lead_source: params.lead_source.clone(),
            lead_date: Some(params.lead_date),
            read_source_from_file: params.read_source_from_file,
            now: Utc::now(),
            csv: false,
        },
        users: params.users.clone(),
        action: params.action,
        actor: job.owner_email.clone(),
        report_path: work.report.clone(),
        watch: None,
        // The undo record: the import is undone by its job's id (unless an
        // earlier attempt committed it and only its report failed).
        choices: params.choices.clone(),
        upsert: params.upsert.clone(),
        dry_run: params.dry_run,
        journal: (params.action != Action::Preview && !params.dry_run && !committed_before).then(
            || crate::store::ImportJournal {
                id: job.id,
                owner: Some(job.owner_id),
                actor: job.owner_email.clone(),
                file_name: params.file_name.clone(),
                at: Utc::now(),
            },
        ),
    };
    let store = ctx.store.clone();
    let outcome = drive(
        run,
        None,
        move |stop, progress| {
            let watch = ImportWatch {
                rows: progress,
                stop: stop.clone(),
            };
            let request = ImportRequest {
                watch: Some(watch),
                ..request
            };
            let result = tokio::runtime::Handle::current().block_on(import_file(store, request));
            if stop.load(Ordering::Relaxed) != 0 {
                // Stopped: `drive` says why (lease lost, shutdown).
                return Err(ExportError::Output(io::Error::new(
                    io::ErrorKind::Interrupted,
                    "the import was stopped",
                )));
            }
            Ok(result)
        },
        shutdown,
    )
    .await;
    let outcome = match outcome {
        None => return,
        Some(Err(e)) => return failed(run, &params, e).await,
        Some(Ok(Err(e))) => return failed(run, &params, of_import(e)).await,
        Some(Ok(Ok(o))) => o,
    };
    // The report becomes the job's file, published under the lease.
    let key = super::file_key(job.id, job.attempts, "csv");
    let written = {
        let (files, key, report) = (ctx.files.clone(), key.clone(), work.report.clone());
        let rows = outcome.counts.rows_read;
        tokio::task::spawn_blocking(move || -> io::Result<_> {
            let mut out = Guarded::new(files.create(&key)?, Default::default());
            io::copy(&mut std::fs::File::open(&report)?, &mut out)?;
            out.into_written(rows)
        })
        .await
        .unwrap_or_else(|e| Err(io::Error::other(e)))
    };
    let written = match written {
        Ok(w) => w,
        Err(e) => {
            let err = RunError::retry(super::kit::describe_output("import report", &e));
            return failed(run, &params, err).await;
        }
    };
    let done = Completion {
        rows: i64::try_from(outcome.counts.rows_read).unwrap_or(i64::MAX),
        bytes: written.bytes as i64,
        sha256: written.sha256.clone(),
        file_key: key,
        retention: Some(ctx.config.export_retention),
        result: Some(result_json(&outcome)),
    };
    match publish_and_complete(run, &ctx.files, written, &done).await {
        Ok(true) => {
            let elapsed = run.started.elapsed();
            let c = &outcome.counts;
            tracing::info!(job_id = %job.id, request_id = run.rid(), worker, rows = c.rows_read, inserted = c.inserted, updated = c.updated, rejected = c.rejected, elapsed_ms = elapsed.as_millis() as u64, "import job done");
            audit(run, &params, "committed", Some(&outcome), None).await;
            delete_upload(run, &params).await;
        }
        Ok(false) => {}
        Err(e) => failed(run, &params, e).await,
    }
}

/// A failed import: the file's fault is final, the rest worth a retry.
fn of_import(e: ImportError) -> RunError {
    match e {
        ImportError::Invalid(m) | ImportError::TooLarge(m) | ImportError::Unsupported(m) => {
            RunError::fatal(m)
        }
        ImportError::Io(e) => RunError::retry(format!("reading the upload failed: {e}")),
        ImportError::Store(e) => RunError::retry(format!("writing the leads failed: {e}")),
    }
}

/// An import's counts and the file's shape: the job's `result`, and what
/// the synchronous answer says beside the report rows.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    /// The detected format.
    pub format: Option<crate::import::Format>,
    /// CSV: the text encoding found.
    pub encoding: Option<String>,
    /// Data rows read.
    pub rows_read: u64,
    /// New leads written (with `preview`: that would be).
    pub inserted: u64,
    /// Stored leads changed.
    pub updated: u64,
    /// Duplicates whose row changes nothing.
    pub unchanged: u64,
    /// Rows not written because their phone (or id) is taken.
    pub skipped_duplicates: u64,
    /// Rows refused by validation.
    pub rejected: u64,
    /// Rows not written because the stored lead changed meanwhile.
    pub conflicts: u64,
    /// Rows read with a warning.
    pub mapped_with_warning: u64,
    /// The original's bulk-import: leads written with a telecaller
    /// resolved from the file.
    pub leads_assigned: u64,
    /// The original's bulk-import: the distinct telecallers they went to.
    pub telecallers_assigned: u64,
    /// The original's bulk-import: telecaller cells that named no active
    /// telecaller.
    pub telecallers_unresolved: u64,
    /// Which column went where.
    pub columns: Vec<crate::import::mapping::ColumnUse>,
    /// xlsx: the worksheets read and skipped.
    pub sheets: Vec<crate::import::SheetUse>,
    /// All report lines.
    pub report_lines: u64,
}

impl ImportResult {
    /// Its counts.
    pub fn counts(&self) -> crate::import::report::Counts {
        crate::import::report::Counts {
            rows_read: self.rows_read,
            inserted: self.inserted,
            updated: self.updated,
            unchanged: self.unchanged,
            skipped_duplicates: self.skipped_duplicates,
            rejected: self.rejected,
            conflicts: self.conflicts,
            mapped_with_warning: self.mapped_with_warning,
            leads_assigned: self.leads_assigned,
            telecallers_assigned: self.telecallers_assigned,
            telecallers_unresolved: self.telecallers_unresolved,
        }
    }

    /// The result of `o`.
    pub fn of(o: &ImportOutcome) -> ImportResult {
        let c = &o.counts;
        ImportResult {
            format: o.info.format,
            encoding: o.info.encoding.clone(),
            rows_read: c.rows_read,
            inserted: c.inserted,
            updated: c.updated,
            unchanged: c.unchanged,
            skipped_duplicates: c.skipped_duplicates,
            rejected: c.rejected,
            conflicts: c.conflicts,
            mapped_with_warning: c.mapped_with_warning,
            leads_assigned: c.leads_assigned,
            telecallers_assigned: c.telecallers_assigned,
            telecallers_unresolved: c.telecallers_unresolved,
            columns: o.info.columns.clone(),
            sheets: o.info.sheets.clone(),
            report_lines: o.report_lines,
        }
    }
}

/// The job's `result` as stored (see [`ImportResult`]).
pub fn result_json(o: &ImportOutcome) -> serde_json::Value {
    serde_json::to_value(ImportResult::of(o)).unwrap_or_default()
}

async fn failed(run: &Claimed<'_>, params: &ImportParams, err: RunError) {
    let message = err.message.clone();
    if finish_failed(run, err).await {
        audit(run, params, "failed", None, Some(&message)).await;
        delete_upload(run, params).await;
    }
}

/// Every import is audited, as the synchronous path does (action `import`).
async fn audit(
    run: &Claimed<'_>,
    params: &ImportParams,
    outcome: &str,
    done: Option<&ImportOutcome>,
    error: Option<&str>,
) {
    let job: &ExportJob = run.job;
    let mut details = json!({
        "via": "job", "import_id": job.id, "job_id": job.id, "file_name": params.file_name,
        "sha256": params.sha256, "bytes": params.bytes, "duplicate_action": params.action,
        "outcome": if outcome == "committed" && (params.action == Action::Preview || params.dry_run) { "preview" } else { outcome },
    });
    if params.upsert.is_some() {
        // the original's bulk-import
        details["bulk_import"] = json!(true);
    }
    if let Some(o) = done {
        details["format"] = json!(o.info.format);
        details["counts"] = json!(o.counts);
    }
    if let Some(e) = error {
        details["error"] = json!(e);
    }
    super::kit::audit(run.ctx, job, "import", details).await;
}

async fn delete_upload(run: &Claimed<'_>, params: &ImportParams) {
    if let Err(e) = run.ctx.uploads.delete(&params.upload_key).await {
        tracing::warn!(job_id = %run.job.id, error = %e, "deleting the import's upload failed; the clean-up retries");
    }
}

/// Deletes uploads whose job is over (done, failed, cancelled) or gone,
/// and older than `min_age` (a request may be between storing its upload
/// and queueing its job). Run by the periodic clean-up.
pub async fn remove_stale_uploads(ctx: &super::JobContext, min_age: std::time::Duration) {
    let files = match ctx.uploads.list().await {
        Ok(f) => f,
        Err(e) => return tracing::warn!(error = %e, "listing import uploads failed"),
    };
    for f in files {
        if f.age < min_age {
            continue;
        }
        let live = match job_of_upload(&f.key) {
            Some(id) => match ctx.store.get_export_job(id).await {
                Ok(Some(j)) => matches!(j.status, JobStatus::Queued | JobStatus::Running),
                Ok(None) => false,
                Err(e) => {
                    tracing::warn!(error = %e, "looking up an upload's import job failed");
                    continue;
                }
            },
            None => false,
        };
        if live {
            continue;
        }
        match ctx.uploads.delete(&f.key).await {
            Ok(()) => tracing::info!(key = %f.key, "stale import upload deleted"),
            Err(e) => {
                tracing::warn!(key = %f.key, error = %e, "deleting a stale import upload failed")
            }
        }
    }
}

/// Deletes local working files (`<job>-<attempt>.upload`, `….report.csv`)
/// older than `min_age` whose attempt is not running here or anywhere: left
/// by a process that was killed during an import. Run by the clean-up.
pub async fn remove_stale_work_files(ctx: &super::JobContext, min_age: std::time::Duration) {
    let dir = work_dir(&ctx.config);
    let Ok(mut entries) = tokio::fs::read_dir(&dir).await else {
        return;
    };
    while let Ok(Some(e)) = entries.next_entry().await {
        let young = match e.metadata().await.and_then(|m| m.modified()) {
            Ok(t) => t.elapsed().map_or(true, |age| age < min_age),
            Err(_) => true,
        };
        if young {
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        let attempt_of = |name: &str| -> Option<(uuid::Uuid, i32)> {
            let (job, rest) = name.split_once('-')?;
            let attempt = rest.split('.').next()?.parse().ok()?;
            Some((job.parse().ok()?, attempt))
        };
        let live = match attempt_of(&name) {
            Some((id, attempt)) => match ctx.store.get_export_job(id).await {
                Ok(Some(j)) => j.status == JobStatus::Running && j.attempts == attempt,
                Ok(None) => false,
                Err(_) => continue,
            },
            None => false,
        };
        if !live {
            match tokio::fs::remove_file(e.path()).await {
                Ok(()) => {
                    tracing::info!(file = %e.path().display(), "stale import work file deleted")
                }
                Err(err) => {
                    tracing::warn!(file = %e.path().display(), error = %err, "deleting a stale import work file failed")
                }
            }
        }
    }
}
