//! Imports of uploaded files: above `PULSE_IMPORT_JOB_THRESHOLD` the upload
//! is kept in the uploads' file store and an import job queued; below it
//! the file is imported now (`import::run`), its report kept under
//! `PULSE_DATA_DIR/import-reports` with a sidecar naming its owner. Import
//! jobs: view, cancel; reports of both kinds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::jobs::{self, JobSpec};
use super::{ServiceError, ServiceResult, Services, audit, require};
use crate::domain::{Actor, Capability, today_ist};
use crate::import::ImportError;
use crate::import::mapping::ColumnChoice;
use crate::import::row::RowDefaults;
use crate::import::run::{Action, ImportRequest, import_file};
use crate::jobs::import_job::{ImportParams, upload_key};
use crate::storage::files::ByteStream;
use crate::store::{ExportJob, ImportJournal, ImportRecord, JobKind, JobStatus};

/// An uploaded file, on local disk (the caller deletes it afterwards).
#[derive(Debug, Clone)]
pub struct Upload {
    /// Where it is.
    pub path: PathBuf,
    /// Its name as uploaded.
    pub name: String,
    /// Its size.
    pub bytes: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// An import as asked for.
#[derive(Debug, Clone)]
pub struct ImportForm {
    /// The file.
    pub upload: Upload,
    /// Telecaller ids → logins (a mongoexport of the original `users`).
    pub users: HashMap<String, String>,
    /// The source of every lead, unless read from the file.
    pub lead_source: Option<String>,
    /// The import date of every lead (today in IST unless given).
    pub lead_date: Option<NaiveDate>,
    /// Read each lead's source from the file when it has one.
    pub read_source_from_file: bool,
    /// What to do with a lead whose phone number exists.
    pub action: Action,
    /// A person's mapping of the columns over the guessed one (the wizard).
    pub choices: Vec<ColumnChoice>,
    /// Count and report what `action` would do, write nothing.
    pub dry_run: bool,
    /// The original's bulk-import (`service::bulk_import`; with `replace`).
    pub upsert: Option<crate::import::Upsert>,
}

/// A synchronous import's result.
#[derive(Debug)]
pub struct ImportDone {
    /// Its id (its report's).
    pub id: Uuid,
    /// The file as uploaded.
    pub upload: Upload,
    /// The duplicate policy it ran with.
    pub action: Action,
    /// The counts and the file's shape, as an import job's `result` has them.
    pub result: crate::jobs::import_job::ImportResult,
    /// How long it took.
    pub seconds: f64,
    /// All report lines.
    pub report_lines: u64,
    /// The first report lines.
    pub shown: Vec<crate::import::report::ReportRow>,
}

/// What an import became.
#[derive(Debug)]
pub enum Imported {
    /// Done, now.
    Now(Box<ImportDone>),
    /// Queued as an import job.
    Queued(Box<ExportJob>),
}

/// What is kept beside a report, for the permission check of its download.
#[derive(Debug, Serialize, Deserialize)]
struct ReportMeta {
    owner: Uuid,
    file_name: String,
    created_at: chrono::DateTime<Utc>,
}

/// Refused unless `actor` may import (checked before an upload is read).
pub fn may_import(actor: &Actor) -> ServiceResult<()> {
    require(actor, Capability::Import)
}

/// Where uploads are received and synchronous reports kept (created).
pub async fn work_dir(svc: &Services) -> ServiceResult<PathBuf> {
    let dir = crate::import::reports_dir(&svc.config);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ServiceError::internal)?;
    Ok(dir)
}

/// Whether `form`'s upload is larger than `PULSE_IMPORT_JOB_THRESHOLD`
/// (so [`import`] queues it as a job).
pub fn is_large(svc: &Services, form: &ImportForm) -> bool {
    let threshold = svc.config.import_job_threshold;
    threshold > 0 && form.upload.bytes > threshold
}

/// The original's import of a large upload (issue 19): its automatic
/// backup of every lead first (`backups::before_import`), then the import
/// job, waited for until it is final (polled every `poll`). The backup's
/// id comes back with the job, or with the error.
pub async fn backup_then_import_job(
    svc: &Services,
    actor: &Actor,
    form: ImportForm,
    poll: std::time::Duration,
) -> (Option<Uuid>, ServiceResult<ExportJob>) {
    let backup = match super::backups::before_import(svc, actor).await {
        Ok(b) => b.id,
        Err(e) => return (None, Err(e)),
    };
    let job = match import(svc, actor, form).await {
        Ok(Imported::Queued(job)) => *job,
        Ok(Imported::Now(_)) => {
            return (
                Some(backup),
                Err(ServiceError::internal(anyhow::anyhow!(
                    "a large upload was imported at once"
                ))),
            );
        }
        Err(e) => return (Some(backup), Err(e)),
    };
    (Some(backup), wait_job(svc, actor, job, poll).await)
}

/// `job` once it is final (done, failed, cancelled), looked at every `poll`.
pub async fn wait_job(
    svc: &Services,
    actor: &Actor,
    mut job: ExportJob,
    poll: std::time::Duration,
) -> ServiceResult<ExportJob> {
    while !job.status.is_final() {
        tokio::time::sleep(poll).await;
        job = self::job(svc, actor, job.id).await?;
    }
    Ok(job)
}

/// Imports the upload now, or queues it as a job when it is larger than
/// `PULSE_IMPORT_JOB_THRESHOLD`; audited either way.
pub async fn import(svc: &Services, actor: &Actor, form: ImportForm) -> ServiceResult<Imported> {
    may_import(actor)?;
    for c in &form.choices {
        c.check().map_err(ServiceError::Invalid)?;
    }
    let upload = &form.upload;
    if upload.bytes == 0 {
        return Err(ServiceError::Invalid(format!(
            "{}: the file is empty",
            upload.name
        )));
    }
    let now = Utc::now();
    let lead_date = form.lead_date.unwrap_or_else(|| today_ist(now));
    if is_large(svc, &form) {
        let params = ImportParams {
            upload_key: String::new(),
            file_name: upload.name.clone(),
            bytes: upload.bytes,
            sha256: upload.sha256.clone(),
            lead_source: form.lead_source,
            lead_date,
            read_source_from_file: form.read_source_from_file,
            action: form.action,
            users: form.users,
            choices: form.choices,
            dry_run: form.dry_run,
            upsert: form.upsert,
        };
        return Ok(Imported::Queued(Box::new(
            queue(svc, actor, &form.upload, params).await?,
        )));
    }
    let dir = work_dir(svc).await?;
    let id = Uuid::new_v4();
    let report_path = dir.join(format!("{id}.csv"));
    let action = form.action;
    let dry_run = form.dry_run || action == Action::Preview;
    let bulk_import = form.upsert.is_some();
    let request = ImportRequest {
        max_rows: svc.config.import_max_rows,
        path: upload.path.clone(),
        file_name: upload.name.clone(),
        format: None,
        defaults: RowDefaults {
            lead_source: form.lead_source,
            lead_date: Some(lead_date),
            read_source_from_file: form.read_source_from_file,
            now,
            csv: false,
        },
        users: form.users,
        action,
        actor: actor.login.clone(),
        report_path: report_path.clone(),
        watch: None,
        choices: form.choices,
        upsert: form.upsert,
        dry_run,
        journal: (!dry_run).then(|| ImportJournal {
            id,
            owner: Some(actor.id),
            actor: actor.login.clone(),
            file_name: upload.name.clone(),
            at: now,
        }),
    };
    let started = std::time::Instant::now();
    let result = import_file(svc.store.clone(), request).await;
    let mut details = json!({
        "via": "api", "import_id": id, "file_name": upload.name, "sha256": upload.sha256,
        "bytes": upload.bytes, "duplicate_action": action,
    });
    if bulk_import {
        // the original's bulk-import (`service::bulk_import`)
        details["bulk_import"] = json!(true);
    }
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let _ = std::fs::remove_file(&report_path);
            details["outcome"] = json!("failed");
            details["error"] = json!(match &e {
                ImportError::Io(_) | ImportError::Store(_) => "internal".to_owned(),
                other => other.to_string(),
            });
            audit::record(svc, actor, "import", details).await;
            return Err(e.into());
        }
    };
    let meta = ReportMeta {
        owner: actor.id,
        file_name: upload.name.clone(),
        created_at: now,
    };
    let meta_json = serde_json::to_vec(&meta).map_err(ServiceError::internal)?;
    tokio::fs::write(dir.join(format!("{id}.json")), meta_json)
        .await
        .map_err(ServiceError::internal)?;
    details["outcome"] = json!(if dry_run { "preview" } else { "committed" });
    details["format"] = json!(outcome.info.format);
    details["counts"] = json!(outcome.counts);
    audit::record(svc, actor, "import", details).await;
    Ok(Imported::Now(Box::new(ImportDone {
        id,
        upload: form.upload.clone(),
        action,
        result: crate::jobs::import_job::ImportResult::of(&outcome),
        seconds: started.elapsed().as_secs_f64(),
        report_lines: outcome.report_lines,
        shown: outcome.shown,
    })))
}

/// Keeps the upload in the uploads' file store and queues its import job
/// (admission as export jobs: per user and queue-wide, per kind).
async fn queue(
    svc: &Services,
    actor: &Actor,
    upload: &Upload,
    mut params: ImportParams,
) -> ServiceResult<ExportJob> {
    let id = Uuid::new_v4();
    params.upload_key = upload_key(id);
    let (files, from, key) = (
        svc.uploads.clone(),
        upload.path.clone(),
        params.upload_key.clone(),
    );
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut out = files.create(&key)?;
        std::io::copy(&mut std::fs::File::open(&from)?, &mut out)?;
        out.publish()
    })
    .await
    .map_err(ServiceError::internal)?
    .map_err(|e| {
        ServiceError::Internal(anyhow::anyhow!(
            "keeping the upload for its import job: {e}"
        ))
    })?;
    let spec = JobSpec {
        id,
        params: serde_json::to_value(&params).map_err(anyhow::Error::from)?,
        ..JobSpec::new(JobKind::Import, "csv")
    };
    let job = match jobs::enqueue(svc, actor, spec).await {
        Ok(job) => job,
        Err(e) => {
            let _ = svc.uploads.delete(&params.upload_key).await;
            return Err(e);
        }
    };
    audit::record(
        svc,
        actor,
        "import_job.create",
        json!({ "job_id": job.id, "file_name": params.file_name, "sha256": params.sha256,
                "bytes": params.bytes, "duplicate_action": params.action }),
    )
    .await;
    Ok(job)
}

/// One import job `actor` may see (their own, or anyone's with
/// `SeeOthersImports`).
pub async fn job(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<ExportJob> {
    jobs::visible(svc, actor, JobKind::Import, id).await
}

/// Cancels a queued or running import job: a running one stops at its next
/// heartbeat and its transaction is rolled back (nothing is written).
pub async fn cancel_job(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<ExportJob> {
    let job = job(svc, actor, id).await?;
    if job.status.is_final() {
        return Err(ServiceError::Conflict(format!(
            "the import job is already {}",
            job.status.as_str()
        )));
    }
    let job = svc
        .store
        .cancel_export_job(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound("no such import job".into()))?;
    if job.status == JobStatus::Cancelled {
        let _ = svc.uploads.delete(&upload_key(id)).await;
    }
    audit::record(svc, actor, "import_job.cancel", json!({ "job_id": id })).await;
    Ok(job)
}

/// The report CSV of an import (`id` as given): a synchronous import's
/// from the local directory, else an import job's from the exports' store.
pub async fn report(svc: &Services, actor: &Actor, id: &str) -> ServiceResult<(Uuid, ByteStream)> {
    may_import(actor)?;
    let missing = || ServiceError::NotFound("no such import report".into());
    let id: Uuid = id.parse().map_err(|_| missing())?;
    let dir = crate::import::reports_dir(&svc.config);
    let Ok(meta) = tokio::fs::read(dir.join(format!("{id}.json"))).await else {
        return Ok((id, job_report(svc, actor, id).await?));
    };
    let meta: ReportMeta = serde_json::from_slice(&meta).map_err(|_| missing())?;
    if meta.owner != actor.id && !actor.can(Capability::SeeOthersImports) {
        return Err(missing());
    }
    let file = tokio::fs::File::open(dir.join(format!("{id}.csv")))
        .await
        .map_err(|_| missing())?;
    Ok((id, file_stream(file)))
}

fn file_stream(file: tokio::fs::File) -> ByteStream {
    Box::pin(futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 << 10];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    }))
}

/// The report of an import job: its file in the exports' store.
async fn job_report(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<ByteStream> {
    let job = job(svc, actor, id)
        .await
        .map_err(|_| ServiceError::NotFound("no such import report".into()))?;
    let key = match (job.status, &job.file_key) {
        (JobStatus::Done, Some(key)) => key.clone(),
        (JobStatus::Expired, _) => {
            return Err(ServiceError::Gone(
                "the import report has expired (PULSE_EXPORT_RETENTION)".into(),
            ));
        }
        _ => {
            return Err(ServiceError::Conflict(format!(
                "the import job is {}; its report is there once it is done",
                job.status.as_str()
            )));
        }
    };
    let size = svc
        .files
        .size(&key)
        .await
        .map_err(ServiceError::internal)?
        .ok_or_else(|| ServiceError::Gone("the import report has expired".into()))?;
    svc.files
        .read(&key, 0, size)
        .await
        .map_err(ServiceError::internal)
}

/// How many duplicates the original's import answer lists at most
/// (`duplicates`, `duplicate_phones`): its frontend shows them in a table
/// for a person to read, and a file of 100,000 known phones must not make
/// a 10 MB answer. `duplicate_count` counts them all, and the import's
/// report (its link is in the answer) has every one.
pub const DUPLICATES_LISTED: usize = 1_000;

/// A row an import skipped because its phone was taken, as the original's
/// answer lists it (COMPAT §2.14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Duplicate {
    /// The row's name (for a repeat within the file whose report line has
    /// none: the name of the lead it repeated).
    pub name: String,
    /// The row's phone number, normalised (Pulse keeps no other form; the
    /// match is on it).
    pub phone_number: String,
    /// The same: the original's matching key.
    pub normalized_phone: String,
    /// The stored lead's name.
    pub existing_name: String,
    /// The stored lead's status.
    pub existing_status: String,
    /// The stored lead's phone number.
    pub existing_phone: String,
}

/// The rows import `id` skipped as duplicates, read back from its report
/// (a synchronous import's or a job's: [`report`], so the same permission),
/// the first [`DUPLICATES_LISTED`] of them, each with the lead it met — a
/// stored lead, or the row of the file it repeated. A line whose lead is
/// gone since is left out.
pub async fn duplicates(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<Vec<Duplicate>> {
    use futures_util::StreamExt;
    let (_, mut stream) = report(svc, actor, &id.to_string()).await?;
    let mut reader = crate::import::report::ReportReader::default();
    let mut rows = Vec::new();
    fn keep(rows: &mut Vec<crate::import::report::ReportRow>, r: crate::import::report::ReportRow) {
        if r.outcome == "skipped" && r.lead_id.is_some() && rows.len() < DUPLICATES_LISTED {
            rows.push(r);
        }
    }
    let mut ended = true;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(ServiceError::internal)?;
        if !chunk.is_empty() {
            reader.feed(&chunk, &mut |r| keep(&mut rows, r));
        }
        if rows.len() >= DUPLICATES_LISTED {
            ended = false;
            break;
        }
    }
    if ended {
        reader.feed(&[], &mut |r| keep(&mut rows, r));
    }
    let mut ids: Vec<Uuid> = rows.iter().filter_map(|r| r.lead_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let stored: HashMap<Uuid, crate::domain::Lead> = svc
        .store
        .get_leads(&ids, None)
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let lead = stored.get(&r.lead_id?)?;
            Some(Duplicate {
                name: r.name.unwrap_or_else(|| lead.name.clone()),
                phone_number: lead.phone_number.clone(),
                normalized_phone: lead.phone_number.clone(),
                existing_name: lead.name.clone(),
                existing_status: lead.status.clone(),
                existing_phone: lead.phone_number.clone(),
            })
        })
        .collect())
}

/// Reads the `users` upload: telecaller ids → logins.
pub async fn read_users(path: &Path) -> ServiceResult<HashMap<String, String>> {
    let path = path.to_path_buf();
    Ok(tokio::task::spawn_blocking(move || {
        std::fs::File::open(&path)
            .map_err(ImportError::from)
            .and_then(|f| crate::import::jsonl::read_users(std::io::BufReader::new(f)))
    })
    .await
    .map_err(ServiceError::internal)??)
}

/// The committed import `id` if `actor` may see it (their own, or anyone's
/// with `SeeOthersImports`); not found otherwise.
pub async fn record(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<ImportRecord> {
    may_import(actor)?;
    svc.store
        .import_record(id)
        .await?
        .filter(|r| r.owner == Some(actor.id) || actor.can(Capability::SeeOthersImports))
        .ok_or_else(|| {
            ServiceError::NotFound(
                "no such import (only committed imports of files can be undone)".into(),
            )
        })
}

/// Queues the undo of the import `id` (issue 20): a job of kind
/// `import_undo`, all or nothing; 409 when already undone. Audited.
pub async fn undo(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<ExportJob> {
    let rec = record(svc, actor, id).await?;
    if let Some((at, by, _)) = &rec.undone {
        return Err(ServiceError::Conflict(format!(
            "the import was already undone at {at} by {by}"
        )));
    }
    let spec = JobSpec {
        params: json!({ "import_id": id, "file_name": rec.file_name }),
        ..JobSpec::new(JobKind::ImportUndo, "csv")
    };
    let job = jobs::enqueue(svc, actor, spec).await?;
    audit::record(
        svc,
        actor,
        "import_undo.create",
        json!({ "job_id": job.id, "import_id": id, "file_name": rec.file_name,
                "inserted": rec.inserted, "replaced": rec.replaced }),
    )
    .await;
    Ok(job)
}

/// One undo job `actor` may see.
pub async fn undo_job(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<ExportJob> {
    jobs::visible(svc, actor, JobKind::ImportUndo, id).await
}
