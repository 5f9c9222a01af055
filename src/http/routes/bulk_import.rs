//! `POST /api/driver-onboarding/bulk-import`: the original's "Bulk Import
//! from Excel" (COMPAT §2.14). Thin: stream the workbook to a temporary
//! file, read `column_mapping`, let `service::bulk_import` check the request
//! (4xx before anything is written) and run it — the automatic backup, then
//! Pulse's import with the original's upsert rules. Above
//! `PULSE_IMPORT_JOB_THRESHOLD` the answer is held open the way the
//! original's `import-leads` is (`import::held_open`) while the import job
//! runs.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use uuid::Uuid;

use super::import::{ImportJobView, ReportLink, held_open, text_field};
use crate::backup::BackupInfo;
use crate::domain::Actor;
use crate::http::error::{AppError, AppResult};
use crate::http::state::AppState;
use crate::http::upload::{multipart_error, receive_file};
use crate::service::ServiceError;
use crate::service::bulk_import::{self, BulkForm, BulkImported};
use crate::service::imports;

/// The path of the upload route (given the import's body limit).
pub const BULK_IMPORT_PATH: &str = "/api/driver-onboarding/bulk-import";

/// `column_mapping` is a short JSON object (19 fields at most).
const MAX_MAPPING_BYTES: usize = 16 << 10;

/// How often the held-open answer looks at its import job.
const JOB_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// The route; `limit` is `PULSE_IMPORT_MAX_BYTES`.
pub fn routes(limit: u64) -> Router<AppState> {
    let body_limit = usize::try_from(limit.saturating_add(64 << 10)).unwrap_or(usize::MAX);
    Router::new().route(
        "/api/driver-onboarding/bulk-import",
        post(bulk_import).layer(DefaultBodyLimit::max(body_limit)),
    )
}

/// The form's fields, as the document describes them (other fields are
/// ignored, as the original did).
#[derive(utoipa::ToSchema)]
pub struct BulkImportFormFields {
    /// The workbook (`.xlsx`; `.xls` is named but refused by content).
    #[schema(format = Binary)]
    pub file: String,
    /// JSON text: `{"<lead field>": <0-based column index>}` (name and
    /// phone_number required); without it the header row is read by its
    /// synonyms.
    pub column_mapping: Option<String>,
}

async fn bulk_import(
    State(state): State<AppState>,
    actor: Actor,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    imports::may_import(&actor)?;
    let mut multipart = multipart.map_err(|e| {
        AppError::BadRequest(format!(
            "send the workbook as multipart/form-data with a `file` field ({})",
            e.body_text()
        ))
    })?;
    let dir = imports::work_dir(&state).await?;
    let (mut upload, mut column_mapping, mut guard) = (None, None, None);
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            "file" if upload.is_some() => {
                return Err(AppError::BadRequest("file: give one workbook".into()));
            }
            "file" => {
                let (u, g) = receive_file(field, &dir, state.config.import_max_bytes).await?;
                (upload, guard) = (Some(u), Some(g));
            }
            "column_mapping" => {
                column_mapping =
                    Some(text_field(field, "column_mapping", MAX_MAPPING_BYTES).await?);
            }
            _ => {}
        }
    }
    let upload = upload.ok_or_else(|| AppError::BadRequest("file: required".into()))?;
    let form = BulkForm {
        upload,
        column_mapping,
    };
    let form = bulk_import::prepare(&state, &actor, form).await?;
    if imports::is_large(&state, &form) {
        let svc = state.services.clone();
        return Ok(held_open(
            async move {
                // The upload stays on disk until its job has its own copy.
                let _guard = guard;
                let (backup, done) = bulk_import::run(&svc, &actor, form, JOB_POLL).await;
                BulkImportAnswer::of(backup, done)
            },
            || {
                BulkImportAnswer::failed(
                    None,
                    ServiceError::Internal(anyhow::anyhow!(
                        "the bulk-import task ended without an answer"
                    )),
                )
            },
        ));
    }
    let _guard = guard;
    let (_, done) = bulk_import::run(&state, &actor, form, JOB_POLL).await;
    Ok(Json(BulkImportAnswer::new(done?)).into_response())
}

/// `telecaller_assignments` of the original's answer.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct TelecallerAssignments {
    /// Leads written with a telecaller resolved from their cell.
    leads_assigned: u64,
    /// The distinct telecallers they went to.
    telecallers_updated: u64,
}

/// The answer of a bulk-import: the original's keys (its frontend toasts
/// `backup_created`, `new_leads_count`, `duplicates_skipped`,
/// `total_leads_now` and the assignments), then Pulse's own import keys.
/// `updated_leads_count`, `duplicates_updated` and `duplicates_skipped`
/// (the original's name for the same number) count the stored leads the
/// file's phones matched — changed, or already equal to the row; Pulse's
/// `updated` and `unchanged` split them. Held open (a large upload), a
/// failure is `success:false` with `detail`, as the status is 200 by then.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkImportAnswer {
    success: bool,
    message: String,
    /// Why it failed (with `success:false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// The automatic backup's name in the backup library
    /// (`backup-DD-MM-YYYY-HH-MM-SS-<id>.jsonl.gz`).
    backup_created: Option<String>,
    new_leads_count: u64,
    updated_leads_count: u64,
    duplicates_updated: u64,
    duplicates_skipped: u64,
    total_leads_now: u64,
    telecaller_assignments: TelecallerAssignments,
    /// The automatic backup's id (`/api/driver-onboarding/backups/{id}`).
    backup_id: Option<Uuid>,
    /// The import's id: its report, its undo (`…/imports/{id}/undo`).
    import_id: Option<Uuid>,
    /// `synchronous`, or `job` (above `PULSE_IMPORT_JOB_THRESHOLD`).
    mode: &'static str,
    rows_read: u64,
    inserted: u64,
    updated: u64,
    unchanged: u64,
    /// Rows whose phone an earlier row of the file had (the first wins).
    skipped_duplicates: u64,
    /// Rows the import's rules refused (bad phone, no name …; see the report).
    rejected: u64,
    /// Rows not written because their lead changed while the file was read.
    conflicts: u64,
    /// `assigned_telecaller` cells that named no active telecaller.
    telecallers_unresolved: u64,
    /// The import's report (its first rows when synchronous).
    report: Option<ReportLink>,
    /// The import job, when there was one.
    job: Option<ImportJobView>,
}

impl BulkImportAnswer {
    fn new(done: BulkImported) -> BulkImportAnswer {
        let c = &done.counts;
        let matched = c.updated + c.unchanged;
        let name = done.backup.library_name();
        let message = format!(
            "Bulk import done: {} new lead(s), {matched} existing lead(s) updated, {} repeated row(s) skipped, {} row(s) rejected; {} lead(s) now; backup {name}",
            c.inserted, c.skipped_duplicates, c.rejected, done.total_leads_now
        );
        BulkImportAnswer {
            success: true,
            message,
            detail: None,
            backup_created: Some(name),
            new_leads_count: c.inserted,
            updated_leads_count: matched,
            duplicates_updated: matched,
            duplicates_skipped: matched,
            total_leads_now: done.total_leads_now,
            telecaller_assignments: TelecallerAssignments {
                leads_assigned: c.leads_assigned,
                telecallers_updated: c.telecallers_assigned,
            },
            backup_id: Some(done.backup.id),
            import_id: Some(done.import_id),
            mode: if done.job.is_some() {
                "job"
            } else {
                "synchronous"
            },
            rows_read: c.rows_read,
            inserted: c.inserted,
            updated: c.updated,
            unchanged: c.unchanged,
            skipped_duplicates: c.skipped_duplicates,
            rejected: c.rejected,
            conflicts: c.conflicts,
            telecallers_unresolved: c.telecallers_unresolved,
            report: Some(ReportLink::new(
                done.import_id,
                done.report_lines,
                done.shown,
            )),
            job: done.job.as_ref().map(ImportJobView::new),
        }
    }

    /// The held-open answer: done, or why not.
    fn of(
        backup: Option<BackupInfo>,
        done: Result<BulkImported, ServiceError>,
    ) -> BulkImportAnswer {
        match done {
            Ok(done) => BulkImportAnswer::new(done),
            Err(e) => BulkImportAnswer::failed(backup, e),
        }
    }

    fn failed(backup: Option<BackupInfo>, e: ServiceError) -> BulkImportAnswer {
        let detail = match e {
            ServiceError::Internal(e) => {
                tracing::error!(error = %e, "the original's bulk-import failed");
                "internal error".to_owned()
            }
            other => other.to_string(),
        };
        BulkImportAnswer {
            success: false,
            message: detail.clone(),
            detail: Some(detail),
            backup_created: backup.as_ref().map(BackupInfo::library_name),
            new_leads_count: 0,
            updated_leads_count: 0,
            duplicates_updated: 0,
            duplicates_skipped: 0,
            total_leads_now: 0,
            telecaller_assignments: TelecallerAssignments::default(),
            backup_id: backup.map(|b| b.id),
            import_id: None,
            mode: "job",
            rows_read: 0,
            inserted: 0,
            updated: 0,
            unchanged: 0,
            skipped_duplicates: 0,
            rejected: 0,
            conflicts: 0,
            telecallers_unresolved: 0,
            report: None,
            job: None,
        }
    }
}
