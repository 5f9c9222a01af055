//! Backups (master_admin only, DESIGN §2 and §6): create (a background job
//! of kind `backup`: `202` and a job to poll), list, download, delete,
//! restore (synchronous: one request, one transaction, after the automatic
//! backup). The work is in [`crate::backup`] and `jobs/backup_job.rs`; each
//! change is audited.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::backup::{self, BackupInfo, RestoreError};
use crate::domain::Capability;
use crate::http::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiPath, ApiQuery, CurrentUser};
use crate::http::permissions::require;
use crate::http::request_id;
use crate::store::{Admission, ExportJob, JobKind, JobStatus, NewExportJob};

const BASE: &str = "/api/driver-onboarding/backups";

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
}

fn view(b: &BackupInfo) -> Value {
    json!({
        "id": b.id,
        "created_at": b.created_at,
        "kind": b.kind,
        "leads": b.leads,
        "bytes": b.bytes,
        "download_url": format!("{BASE}/{}/download", b.id),
    })
}

/// The JSON of a backup job.
fn job_view(job: &ExportJob) -> Value {
    let done = job.status == JobStatus::Done;
    json!({
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "bytes": job.bytes,
        "sha256": job.sha256,
        "error": job.error,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "owner_id": job.owner_id,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "url": format!("{BASE}/jobs/{}", job.id),
        // The backup has the job's id.
        "backup_id": done.then_some(job.id),
        "download_url": done.then(|| format!("{BASE}/{}/download", job.id)),
    })
}

/// One restore at a time per process: two must not interleave, nor a
/// restore with the automatic backup it takes first.
fn busy() -> AppError {
    AppError::Conflict("a restore is already running; try again when it ends".into())
}

/// Queues a backup job. At most one backup job is queued or running at a
/// time (in the whole queue, every instance): a second answers 409 naming
/// the one there is. Backups have their own limit, so they neither take
/// the exports' queue places nor wait behind them.
async fn create(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    require(&current, Capability::Backups)?;
    let new = NewExportJob {
        id: Uuid::new_v4(),
        kind: JobKind::Backup,
        params: json!({}),
        owner_id: current.user.id,
        owner_email: current.user.email.clone(),
        filters: json!({}),
        columns: Vec::new(),
        format: "jsonl.gz".into(),
        mask_pii: false,
        max_attempts: i32::try_from(state.config.job_max_attempts).unwrap_or(i32::MAX),
        request_id: Some(request_id::current()),
    };
    let job = match state.store.create_export_job(&new, 1, 1).await? {
        Admission::Queued(job) => job,
        Admission::UserLimit(_) | Admission::QueueFull(_) => {
            let running = state
                .store
                .list_export_jobs(JobKind::Backup, None, 10)
                .await?
                .into_iter()
                .find(|j| !j.status.is_final());
            return Err(AppError::Conflict(match running {
                Some(j) => format!(
                    "a backup is already {} (job {}); poll {BASE}/jobs/{} and try again when it ends",
                    j.status.as_str(),
                    j.id,
                    j.id
                ),
                None => "a backup is already queued or running; try again when it ends".into(),
            }));
        }
    };
    state.job_wake.notify_one();
    audit(
        &state,
        &current,
        "backup.create",
        json!({ "job_id": job.id, "backup_id": job.id }),
    )
    .await;
    let mut response = (StatusCode::ACCEPTED, Json(job_view(&job))).into_response();
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
    current: CurrentUser,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::Backups)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let jobs = state
        .store
        .list_export_jobs(JobKind::Backup, None, limit)
        .await?;
    Ok(Json(
        json!({ "jobs": jobs.iter().map(job_view).collect::<Vec<_>>() }),
    ))
}

async fn one_job(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::Backups)?;
    match state.store.get_export_job(id).await? {
        Some(job) if job.kind == JobKind::Backup => Ok(Json(job_view(&job))),
        _ => Err(AppError::NotFound("no such backup job".into())),
    }
}

async fn list(State(state): State<AppState>, current: CurrentUser) -> AppResult<Json<Value>> {
    require(&current, Capability::Backups)?;
    let all = backup::list(&state.backups)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(Json(
        json!({ "backups": all.iter().map(view).collect::<Vec<_>>() }),
    ))
}

async fn found(state: &AppState, id: Uuid) -> AppResult<BackupInfo> {
    backup::find(&state.backups, id)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| AppError::NotFound("no such backup".into()))
}

async fn download(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    require(&current, Capability::Backups)?;
    let b = found(&state, id).await?;
    let stream = state
        .backups
        .read(&b.key, 0, b.bytes)
        .await
        .map_err(anyhow::Error::from)?;
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(b.bytes));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"pulse-backup-{}.jsonl.gz\"",
        b.created_at.format("%Y%m%dT%H%M%SZ")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    audit(
        &state,
        &current,
        "backup.download",
        json!({ "backup_id": b.id }),
    )
    .await;
    Ok(response)
}

async fn remove(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::Backups)?;
    let b = found(&state, id).await?;
    state
        .backups
        .delete(&b.key)
        .await
        .map_err(anyhow::Error::from)?;
    audit(
        &state,
        &current,
        "backup.delete",
        json!({ "backup_id": b.id, "leads": b.leads }),
    )
    .await;
    Ok(Json(json!({ "message": "backup deleted", "id": b.id })))
}

async fn restore(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::Backups)?;
    let b = found(&state, id).await?;
    let _guard = state
        .backup_lock
        .clone()
        .try_lock_owned()
        .map_err(|_| busy())?;
    let open = backup::stored(&state.backups, &b);
    let (store, files) = (state.store.clone(), state.backups.clone());
    // On a task of its own: a client that hangs up does not cut it short.
    let done = tokio::spawn(async move { backup::restore(store.as_ref(), &files, id, open).await })
        .await
        .map_err(anyhow::Error::from)?;
    let done = match done {
        Ok(d) => d,
        Err(RestoreError::Invalid(e)) => {
            return Err(AppError::Unprocessable(format!(
                "backup {id} cannot be restored: {e}"
            )));
        }
        Err(RestoreError::Failed(e)) => return Err(AppError::Internal(e)),
    };
    audit(
        &state,
        &current,
        "backup.restore",
        json!({ "backup_id": id, "restored": done.restored, "replaced": done.replaced,
                "pre_restore_backup": done.pre_restore_backup.id }),
    )
    .await;
    Ok(Json(json!({
        "backup_id": id,
        "restored": done.restored,
        "replaced": done.replaced,
        "pre_restore_backup": view(&done.pre_restore_backup),
    })))
}

/// Audits through the service (until this file's use-cases move there).
async fn audit(state: &AppState, current: &CurrentUser, action: &str, details: serde_json::Value) {
    crate::service::audit::record(state, &current.actor(), action, details).await
}
