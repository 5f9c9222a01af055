//! Exports: starting a streaming export (admission permit, snapshot,
//! engine, the audit entry when the last byte has gone or the client has),
//! export jobs (create, cancel) and a done job's file.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::jobs::{self, JobSpec, shown_status};
use super::leads::FilterQuery;
use super::{ServiceError, ServiceResult, Services, audit, require};
use crate::domain::{Actor, Capability, ist_today};
use crate::export::Format;
use crate::export::engine::{ExportSpec, HeaderStyle, select_columns, with_headers};
use crate::export::engine_stream::{Ending, ExportBody, Shape, stream};
use crate::storage::files::ByteStream;
use crate::store::{ExportJob, JobKind, JobStatus};
use crate::telemetry::request_id;

/// What to export: the filters, the columns (all unless named) and the
/// format (`xlsx` unless named).
#[derive(Debug, Default, Clone)]
pub struct ExportRequest {
    /// The filters, as given.
    pub filters: FilterQuery,
    /// Column keys, in order.
    pub columns: Option<Vec<String>>,
    /// `xlsx` or `csv`.
    pub format: Option<String>,
    /// The header row: `labels` or `fields` (the original's field names,
    /// `yes`/`no`); when not given, labels — or `PULSE_EXPORT_HEADERS` for
    /// the original's routes (`original`).
    pub headers: Option<String>,
    /// Asked on the original system's paths (`bulk-export`,
    /// `batch-export-zip`), whose clients cannot name a header style: the
    /// deployment's default applies.
    pub original: bool,
}

/// The header style a request asks for (see [`ExportRequest::headers`]).
pub fn header_style(svc: &Services, req: &ExportRequest) -> ServiceResult<HeaderStyle> {
    match req
        .headers
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
    {
        Some(h) => HeaderStyle::parse(h).ok_or_else(|| {
            ServiceError::Invalid(format!("headers must be labels or fields, not {h:?}"))
        }),
        None if req.original => Ok(svc.config.export_headers),
        None => Ok(HeaderStyle::Labels),
    }
}

/// Reads a format name: `xlsx` (also when not given) or `csv`.
pub fn parse_format(v: Option<&str>) -> ServiceResult<Format> {
    match v.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("xlsx") => Ok(Format::Xlsx),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(ServiceError::Invalid(format!(
            "format must be xlsx or csv, not {other:?}"
        ))),
    }
}

/// The shape of a batched export: a ZIP of xlsx files of `size` rows each
/// (25,000 unless given; an xlsx sheet holds at most 1,048,575).
pub fn batches(size: Option<u64>) -> ServiceResult<Shape> {
    let size = size.unwrap_or(25_000);
    if !(1..=1_048_575).contains(&size) {
        return Err(ServiceError::Invalid(
            "batch_size must be 1 to 1,048,575".into(),
        ));
    }
    Ok(Shape::Batches(size))
}

/// Refused unless `actor` may export (checked before a request's body is read).
pub fn may_export(actor: &Actor) -> ServiceResult<()> {
    require(actor, Capability::Export)
}

/// A started streaming export.
pub struct StartedExport {
    /// The file's bytes, as the engine writes them.
    pub body: ExportBody,
    /// How many leads it holds.
    pub total: u64,
    /// The file's name, for a download.
    pub filename: String,
    /// Its media type.
    pub content_type: &'static str,
}

/// Starts a streaming export of the leads `actor` may see: one of
/// `PULSE_EXPORT_CONCURRENCY` permits (busy otherwise), the snapshot, the
/// engine; `kind` names it in the log and the audit entry, written when
/// the body ends.
pub async fn start(
    svc: &Services,
    actor: &Actor,
    req: ExportRequest,
    shape: Shape,
    kind: &'static str,
) -> ServiceResult<StartedExport> {
    may_export(actor)?;
    // the request is checked before a permit is taken (a bad one costs none)
    parse_format(req.format.as_deref())?;
    req.filters.clone().into_filter(actor)?;
    select_columns(req.columns.as_deref()).map_err(ServiceError::Invalid)?;
    header_style(svc, &req)?;
    let permit = svc.export_admission.admit(actor.id).await?;
    start_admitted(svc, actor, req, shape, kind, permit).await
}

/// [`start`] with a permit already taken (a download ticket holds one, so
/// its browser never meets a 503).
pub async fn start_admitted(
    svc: &Services,
    actor: &Actor,
    req: ExportRequest,
    shape: Shape,
    kind: &'static str,
    permit: crate::export::admission::Admitted,
) -> ServiceResult<StartedExport> {
    may_export(actor)?;
    let format = parse_format(req.format.as_deref())?;
    let style = header_style(svc, &req)?;
    let filter = req.filters.into_filter(actor)?;
    // the column set and its header row, once for the whole export
    let columns = with_headers(
        select_columns(req.columns.as_deref()).map_err(ServiceError::Invalid)?,
        style,
    );
    let mask_pii = actor.masks_pii();
    let snapshot = svc.store.export_snapshot(&filter).await?;
    let mut spec = ExportSpec::new(columns, format, mask_pii);
    spec.stall = svc.config.export_stall;
    // A second deflate thread only pays while this export has the cores to
    // itself, and only then does it run at normal priority (`export::priority`); with others running it adds ~4 MiB of chunks in flight per
    // export (8 at once peaked at 142 MB) and no speed.
    let running = svc.config.export_concurrency - svc.export_permits.available_permits();
    if running > 1 {
        spec.deflate_threads = 1;
        spec.lower_priority = true;
    }
    let started = stream(snapshot, spec, shape, Some(Box::new(permit)));
    let total = started.total;
    let rid = request_id::current();
    tracing::info!(request_id = %rid, user_id = %actor.id, kind, total, format = format.extension(), "export started");
    let end = started.end;
    let filters_json = serde_json::to_value(&filter).unwrap_or_default();
    let (svc2, actor2) = (svc.clone(), actor.clone());
    tokio::spawn(request_id::scope(rid.clone(), async move {
        let out = end.wait().await;
        crate::metrics::export_finished(
            "stream",
            matches!(out.ending, Ending::Completed),
            out.rows,
            out.bytes,
            out.elapsed,
        );
        let reason = match &out.ending {
            Ending::Completed => None,
            Ending::Aborted(r) => Some(r.clone()),
        };
        if reason.is_some() {
            tracing::warn!(request_id = %rid, kind, rows = out.rows, total = out.total, bytes = out.bytes, reason = reason.as_deref().unwrap_or(""), elapsed_ms = out.elapsed.as_millis() as u64, "export aborted");
        } else {
            tracing::info!(request_id = %rid, kind, rows = out.rows, bytes = out.bytes, elapsed_ms = out.elapsed.as_millis() as u64, "export completed");
        }
        let details = json!({
            "kind": kind,
            "filters": filters_json,
            "format": match shape { Shape::File => format.extension(), Shape::Batches(_) => "zip" },
            "batch_size": match shape { Shape::File => None, Shape::Batches(n) => Some(n) },
            "masked": mask_pii,
            "headers": style.as_str(),
            "total": out.total,
            "rows": out.rows,
            "bytes": out.bytes,
            "sha256": out.sha256,
            "outcome": out.ending.as_str(),
            "reason": reason,
            "elapsed_ms": out.elapsed.as_millis() as u64,
        });
        audit::record(&svc2, &actor2, "export", details).await;
    }));
    let (ext, content_type) = match shape {
        Shape::File => (format.extension(), format.content_type()),
        Shape::Batches(_) => ("zip", "application/zip"),
    };
    let filename = format!(
        "driver leads export {}.{ext}",
        ist_today().format("%Y-%m-%d")
    );
    Ok(StartedExport {
        body: started.body,
        total,
        filename,
        content_type,
    })
}

/// Queues an export job (same filters, columns, formats and masking as the
/// streaming export; the masking is decided now, by the creator's role, and
/// stored with the job). Telecallers — the only role whose filter is
/// narrowed to their own leads, which the stored JSON would not keep —
/// cannot export at all.
pub async fn create_job(
    svc: &Services,
    actor: &Actor,
    req: ExportRequest,
) -> ServiceResult<ExportJob> {
    may_export(actor)?;
    let format = parse_format(req.format.as_deref())?;
    let style = header_style(svc, &req)?;
    let filter = req.filters.into_filter(actor)?;
    let columns = select_columns(req.columns.as_deref()).map_err(ServiceError::Invalid)?;
    let spec = JobSpec {
        params: json!({ "headers": style.as_str() }),
        filters: serde_json::to_value(&filter).map_err(anyhow::Error::from)?,
        columns: columns.iter().map(|c| c.key.to_string()).collect(),
        mask_pii: actor.masks_pii(),
        ..JobSpec::new(JobKind::Export, format.extension())
    };
    let job = jobs::enqueue(svc, actor, spec).await?;
    audit::record(
        svc,
        actor,
        "export_job.create",
        json!({ "job_id": job.id, "filters": job.filters, "columns": job.columns,
                "format": job.format, "masked": job.mask_pii }),
    )
    .await;
    Ok(job)
}

/// One export job `actor` may see.
pub async fn job(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<ExportJob> {
    jobs::visible(svc, actor, JobKind::Export, id).await
}

/// The export job as it is now (a follower of its progress, after
/// [`job`] allowed it).
pub async fn reload(svc: &Services, id: Uuid) -> ServiceResult<Option<ExportJob>> {
    Ok(svc.store.get_export_job(id).await?)
}

/// Cancels a queued or running export job; cancelling a cancelled one
/// again answers it as it is.
pub async fn cancel_job(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<ExportJob> {
    let before = job(svc, actor, id).await?;
    let already = |j: &ExportJob| {
        ServiceError::Conflict(format!(
            "the export job is already {}",
            shown_status(j).as_str()
        ))
    };
    if before.status.is_final() {
        if before.status == JobStatus::Cancelled {
            return Ok(before);
        }
        return Err(already(&before));
    }
    let after = svc
        .store
        .cancel_export_job(id)
        .await?
        .ok_or_else(|| ServiceError::NotFound("no such export job".into()))?;
    if after.status != JobStatus::Cancelled {
        // It finished between the two reads.
        return Err(already(&after));
    }
    audit::record(
        svc,
        actor,
        "export_job.cancel",
        json!({ "job_id": id, "was": before.status, "rows_done": before.rows_done }),
    )
    .await;
    Ok(after)
}

/// A done export job's file.
#[derive(Debug, Clone)]
pub struct JobFile {
    /// Its key in the exports' file store.
    pub key: String,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its format.
    pub format: Format,
    /// When the job was created (the file's name says it).
    pub created_at: DateTime<Utc>,
}

/// The file of a done export job `actor` may see: gone once expired, a
/// conflict while there is none yet.
pub async fn job_file(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<JobFile> {
    let job = job(svc, actor, id).await?;
    match shown_status(&job) {
        JobStatus::Done => {}
        JobStatus::Expired => {
            return Err(ServiceError::Gone("the export file has expired".into()));
        }
        other => {
            return Err(ServiceError::Conflict(format!(
                "the export job is {}; there is no file to download",
                other.as_str()
            )));
        }
    }
    let (Some(key), Some(sha)) = (job.file_key, job.sha256) else {
        return Err(ServiceError::Internal(anyhow::anyhow!(
            "done export job {id} has no file"
        )));
    };
    let Some(size) = svc.files.size(&key).await.map_err(anyhow::Error::from)? else {
        // Deleted under us by the clean-up at its expiry.
        return Err(ServiceError::Gone("the export file has expired".into()));
    };
    Ok(JobFile {
        key,
        sha256: sha,
        size,
        format: crate::jobs::parse_format(&job.format).unwrap_or_default(),
        created_at: job.created_at,
    })
}

/// Bytes `start..end` of a job's file.
pub async fn read_file(
    svc: &Services,
    file: &JobFile,
    start: u64,
    end: u64,
) -> ServiceResult<ByteStream> {
    Ok(svc
        .files
        .read(&file.key, start, end)
        .await
        .map_err(anyhow::Error::from)?)
}
