//! Backups (master_admin only, DESIGN §2 and §6): create (a background job
//! of kind `backup`: `202` and a job to poll), list, download, delete,
//! restore (synchronous: one request, one transaction, after the automatic
//! backup). The use-cases are [`crate::service::backups`].

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::export::optional_json;
use crate::backup::BackupInfo;
use crate::domain::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::state::AppState;
use crate::service::backups::{self, BASE};
use crate::store::{ExportJob, JobKind, JobStatus};

/// The backup routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/driver-onboarding/backups", post(create).get(list))
        .route("/api/driver-onboarding/backups/jobs", get(list_jobs))
        .route("/api/driver-onboarding/backups/jobs/{id}", get(one_job))
        .route("/api/driver-onboarding/backups/{id}", delete(remove))
        .route(
            "/api/driver-onboarding/backups/{id}/download",
            get(download),
        )
        .route("/api/driver-onboarding/backups/{id}/restore", post(restore))
        .route("/api/driver-onboarding/backup-library", get(library))
        .route(
            "/api/driver-onboarding/backup-library/{filename}",
            delete(library_delete),
        )
        .route(
            "/api/driver-onboarding/backup-library/{filename}/download",
            get(library_download),
        )
        .route(
            "/api/driver-onboarding/backup-library/{filename}/rollback",
            post(library_rollback),
        )
}

/// A stored backup.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BackupView {
    id: Uuid,
    created_at: DateTime<Utc>,
    kind: crate::backup::Kind,
    leads: u64,
    bytes: u64,
    download_url: String,
}

impl BackupView {
    fn new(b: &BackupInfo) -> BackupView {
        BackupView {
            id: b.id,
            created_at: b.created_at,
            kind: b.kind,
            leads: b.leads,
            bytes: b.bytes,
            download_url: format!("{BASE}/{}/download", b.id),
        }
    }
}

/// A backup job.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BackupJobView {
    id: Uuid,
    kind: JobKind,
    status: JobStatus,
    rows_done: i64,
    rows_total: Option<i64>,
    bytes: Option<i64>,
    sha256: Option<String>,
    error: Option<String>,
    attempts: i32,
    max_attempts: i32,
    owner_id: Uuid,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    url: String,
    /// Once done: the backup (it has the job's id).
    backup_id: Option<Uuid>,
    download_url: Option<String>,
}

impl BackupJobView {
    fn new(job: &ExportJob) -> BackupJobView {
        let done = job.status == JobStatus::Done;
        BackupJobView {
            id: job.id,
            kind: job.kind,
            status: job.status,
            rows_done: job.rows_done,
            rows_total: job.rows_total,
            bytes: job.bytes,
            sha256: job.sha256.clone(),
            error: job.error.clone(),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            owner_id: job.owner_id,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            url: format!("{BASE}/jobs/{}", job.id),
            backup_id: done.then_some(job.id),
            download_url: done.then(|| format!("{BASE}/{}/download", job.id)),
        }
    }
}

/// `{jobs}`, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BackupJobList {
    jobs: Vec<BackupJobView>,
}

/// `{backups}`, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BackupList {
    backups: Vec<BackupView>,
}

/// `{message, id}` of a deleted backup.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BackupDeleted {
    message: &'static str,
    id: Uuid,
}

/// What a restore did, and the backup taken just before it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Restored {
    backup_id: Uuid,
    restored: u64,
    replaced: u64,
    pre_restore_backup: BackupView,
}

/// Queues a backup job: `202` and the job to poll.
async fn create(State(state): State<AppState>, actor: Actor) -> AppResult<Response> {
    let job = backups::create(&state, &actor).await?;
    let mut response = (StatusCode::ACCEPTED, Json(BackupJobView::new(&job))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{BASE}/jobs/{}", job.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JobsQuery {
    limit: Option<i64>,
}

async fn list_jobs(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> AppResult<Json<BackupJobList>> {
    let jobs = backups::jobs(&state, &actor, q.limit).await?;
    Ok(Json(BackupJobList {
        jobs: jobs.iter().map(BackupJobView::new).collect(),
    }))
}

async fn one_job(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<BackupJobView>> {
    Ok(Json(BackupJobView::new(
        &backups::job(&state, &actor, id).await?,
    )))
}

async fn list(State(state): State<AppState>, actor: Actor) -> AppResult<Json<BackupList>> {
    let all = backups::list(&state, &actor).await?;
    Ok(Json(BackupList {
        backups: all.iter().map(BackupView::new).collect(),
    }))
}

async fn download(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    let (b, stream) = backups::download(&state, &actor, id).await?;
    let name = format!(
        "pulse-backup-{}.jsonl.gz",
        b.created_at.format("%Y%m%dT%H%M%SZ")
    );
    Ok(gzip_file(&b, stream, &name))
}

/// A backup's file as an attachment named `name` (ASCII, safe inside the
/// quotes: a date stamp or a `library_name`).
fn gzip_file(b: &BackupInfo, stream: crate::storage::files::ByteStream, name: &str) -> Response {
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(b.bytes));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

async fn remove(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<BackupDeleted>> {
    let b = backups::delete(&state, &actor, id).await?;
    Ok(Json(BackupDeleted {
        message: "backup deleted",
        id: b.id,
    }))
}

async fn restore(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Restored>> {
    let done = backups::restore(&state, &actor, id).await?;
    Ok(Json(Restored {
        backup_id: id,
        restored: done.restored,
        replaced: done.replaced,
        pre_restore_backup: BackupView::new(&done.pre_restore_backup),
    }))
}

// The original's backup library (COMPAT §2.16) over Pulse's backups: each
// backup by its library name (`BackupInfo::library_name`), which leads back
// to its id; the use-cases are the ones above. master_admin only (DESIGN
// §2), gzipped JSON lines (DESIGN §6), not the original's workbooks.

const LIBRARY: &str = "/api/driver-onboarding/backup-library";

/// A backup as the original's library lists it, with Pulse's keys beside.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LibraryBackup {
    /// Its library name: `backup-DD-MM-YYYY-HH-MM-SS-<id>.jsonl.gz` (UTC).
    filename: String,
    size_bytes: u64,
    /// Megabytes, two decimals.
    size_mb: f64,
    created_at: DateTime<Utc>,
    /// A backup is never changed: its creation time.
    modified_at: DateTime<Utc>,
    id: Uuid,
    kind: crate::backup::Kind,
    leads: u64,
    download_url: String,
}

impl LibraryBackup {
    fn new(b: &BackupInfo) -> LibraryBackup {
        let filename = b.library_name();
        LibraryBackup {
            download_url: format!("{LIBRARY}/{filename}/download"),
            filename,
            size_bytes: b.bytes,
            size_mb: (b.bytes as f64 / (1024.0 * 1024.0) * 100.0).round() / 100.0,
            created_at: b.created_at,
            modified_at: b.created_at,
            id: b.id,
            kind: b.kind,
            leads: b.leads,
        }
    }
}

/// `{success, backups, total_backups}`, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LibraryList {
    success: bool,
    backups: Vec<LibraryBackup>,
    total_backups: usize,
}

/// `{success, message}` (and the id) of a deleted backup.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LibraryDeleted {
    success: bool,
    message: String,
    id: Uuid,
}

/// The original's rollback answer beside Pulse's restore keys.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LibraryRolledBack {
    success: bool,
    message: String,
    /// The library name of the automatic backup taken just before.
    pre_rollback_backup: String,
    /// Leads there were before (all replaced).
    deleted_count: u64,
    /// Leads put back from the backup.
    restored_count: u64,
    /// The library name rolled back to.
    rollback_from: String,
    backup_id: Uuid,
    restored: u64,
    replaced: u64,
    pre_restore_backup: BackupView,
}

/// The original's rollback body: `{}` or none (its keys are ignored).
#[derive(Debug, Default, Deserialize)]
struct RollbackBody {}

async fn library(State(state): State<AppState>, actor: Actor) -> AppResult<Json<LibraryList>> {
    let all = backups::list(&state, &actor).await?;
    Ok(Json(LibraryList {
        success: true,
        total_backups: all.len(),
        backups: all.iter().map(LibraryBackup::new).collect(),
    }))
}

async fn library_download(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(filename): ApiPath<String>,
) -> AppResult<Response> {
    let b = backups::by_library_name(&state, &actor, &filename).await?;
    let (b, stream) = backups::download(&state, &actor, b.id).await?;
    Ok(gzip_file(&b, stream, &b.library_name()))
}

async fn library_delete(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(filename): ApiPath<String>,
) -> AppResult<Json<LibraryDeleted>> {
    let b = backups::by_library_name(&state, &actor, &filename).await?;
    let b = backups::delete(&state, &actor, b.id).await?;
    Ok(Json(LibraryDeleted {
        success: true,
        message: format!("Backup {} deleted successfully", b.library_name()),
        id: b.id,
    }))
}

async fn library_rollback(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(filename): ApiPath<String>,
    body: Bytes,
) -> AppResult<Json<LibraryRolledBack>> {
    let b = backups::by_library_name(&state, &actor, &filename).await?;
    let _: RollbackBody = optional_json(&body)?;
    let done = backups::restore(&state, &actor, b.id).await?;
    let pre = done.pre_restore_backup.library_name();
    Ok(Json(LibraryRolledBack {
        success: true,
        message: format!(
            "Rolled back to {filename}: {} leads restored, {} replaced; the leads before are in {pre}",
            done.restored, done.replaced
        ),
        pre_rollback_backup: pre,
        deleted_count: done.replaced,
        restored_count: done.restored,
        rollback_from: filename,
        backup_id: b.id,
        restored: done.restored,
        replaced: done.replaced,
        pre_restore_backup: BackupView::new(&done.pre_restore_backup),
    }))
}
