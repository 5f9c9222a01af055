//! Backups (master_admin only, DESIGN §2 and §6): create (a background job
//! of kind `backup`: `202` and a job to poll), list, download, delete,
//! restore (synchronous: one request, one transaction, after the automatic
//! backup). The use-cases are [`crate::service::backups`].

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::backup::BackupInfo;
use crate::domain::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::state::AppState;
use crate::service::backups::{self, BASE};
use crate::store::{ExportJob, JobStatus};

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

/// Queues a backup job: `202` and the job to poll.
async fn create(State(state): State<AppState>, actor: Actor) -> AppResult<Response> {
    let job = backups::create(&state, &actor).await?;
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
    actor: Actor,
    ApiQuery(q): ApiQuery<JobsQuery>,
) -> AppResult<Json<Value>> {
    let jobs = backups::jobs(&state, &actor, q.limit).await?;
    Ok(Json(
        json!({ "jobs": jobs.iter().map(job_view).collect::<Vec<_>>() }),
    ))
}

async fn one_job(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    Ok(Json(job_view(&backups::job(&state, &actor, id).await?)))
}

async fn list(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Value>> {
    let all = backups::list(&state, &actor).await?;
    Ok(Json(
        json!({ "backups": all.iter().map(view).collect::<Vec<_>>() }),
    ))
}

async fn download(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Response> {
    let (b, stream) = backups::download(&state, &actor, id).await?;
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
    Ok(response)
}

async fn remove(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    let b = backups::delete(&state, &actor, id).await?;
    Ok(Json(json!({ "message": "backup deleted", "id": b.id })))
}

async fn restore(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    let done = backups::restore(&state, &actor, id).await?;
    Ok(Json(json!({
        "backup_id": id,
        "restored": done.restored,
        "replaced": done.replaced,
        "pre_restore_backup": view(&done.pre_restore_backup),
    })))
}
