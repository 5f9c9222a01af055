//! Background export jobs over HTTP: `POST /api/exports` queues one (same
//! body, roles, filters, columns and formats as the streaming export; the
//! masking is decided here, by the creator's role, and stored with the
//! job), `GET` one or the history, cancel, progress as server-sent events.
//! The download is in [`super::exports_download`]. Another user's job
//! answers 404 unless the caller may see others' exports (master_admin).

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::export::{ExportBody, optional_json, parse_format};
use super::exports_download::download;
use crate::domain::Capability;
use crate::export::engine::select_columns;
use crate::http::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiPath, ApiQuery, CurrentUser};
use crate::http::permissions::require;
use crate::http::request_id;
use crate::store::{Admission, ExportJob, JobKind, JobStatus, NewExportJob};

/// How often the event stream looks at the job (workers record progress
/// about twice a second).
const EVENTS_POLL: Duration = Duration::from_millis(500);

/// The export-job routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/exports", post(create).get(list))
        .route("/api/exports/{id}", get(one))
        .route("/api/exports/{id}/cancel", post(cancel))
        .route("/api/exports/{id}/download", get(download))
        .route("/api/exports/{id}/events", get(events))
}

/// The status a client sees: a done job past its expiry is expired even
/// before the clean-up has run.
pub(super) fn shown_status(job: &ExportJob) -> JobStatus {
    match (job.status, job.expires_at) {
        (JobStatus::Done, Some(t)) if t <= Utc::now() => JobStatus::Expired,
        (s, _) => s,
    }
}

/// The JSON of a job.
fn view(job: &ExportJob) -> Value {
    let status = shown_status(job);
    json!({
        "id": job.id,
        "status": status,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "bytes": job.bytes,
        "sha256": job.sha256,
        "error": job.error,
        "format": job.format,
        "columns": job.columns,
        "filters": job.filters,
        "masked": job.mask_pii,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "owner_id": job.owner_id,
        "owner_email": job.owner_email,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "expires_at": job.expires_at,
        "download_url": (status == JobStatus::Done)
            .then(|| format!("/api/exports/{}/download", job.id)),
    })
}

/// The job `id` if the caller may see it; 404 otherwise (ids cannot be probed).
pub(super) async fn visible_job(
    state: &AppState,
    current: &CurrentUser,
    id: Uuid,
) -> AppResult<ExportJob> {
    require(current, Capability::Export)?;
    let job = state.store.get_export_job(id).await?;
    match job {
        // The queue holds other kinds too (backups): not export jobs.
        Some(j)
            if j.kind == JobKind::Export
                && (j.owner_id == current.user.id
                    || current.role().can(Capability::SeeOthersExports)) =>
        {
            Ok(j)
        }
        _ => Err(AppError::NotFound("no such export job".into())),
    }
}

async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    body: Bytes,
) -> AppResult<Response> {
    require(&current, Capability::Export)?;
    let req: ExportBody = optional_json(&body)?;
    let format = parse_format(req.format.as_deref())?;
    // Telecallers (the only role whose filter is narrowed to their own
    // leads, which the stored JSON would not keep) cannot export at all.
    let filter = req.filters.into_filter(&current.actor())?;
    let columns = select_columns(req.columns.as_deref()).map_err(AppError::Unprocessable)?;
    let new = NewExportJob {
        id: Uuid::new_v4(),
        kind: JobKind::Export,
        params: json!({}),
        owner_id: current.user.id,
        owner_email: current.user.email.clone(),
        filters: serde_json::to_value(&filter).map_err(anyhow::Error::from)?,
        columns: columns.iter().map(|c| c.key.to_string()).collect(),
        format: format.extension().to_string(),
        mask_pii: !current.role().can(Capability::SeeUnmaskedPii),
        max_attempts: i32::try_from(state.config.job_max_attempts).unwrap_or(i32::MAX),
        request_id: Some(request_id::current()),
    };
    let per_user = state.config.export_jobs_per_user;
    let queue_max = state.config.export_queue_max;
    let job = match state
        .store
        .create_export_job(&new, per_user, queue_max)
        .await?
    {
        Admission::Queued(job) => job,
        Admission::UserLimit(n) => {
            crate::metrics::export_rejected("job", 429);
            return Err(AppError::TooManyRequests {
                message: format!(
                    "you have {n} export jobs queued or running (the limit is {per_user}); \
                     try again when one has finished"
                ),
                retry_after: Duration::from_secs(10),
            });
        }
        Admission::QueueFull(_) => {
            crate::metrics::export_rejected("job", 503);
            return Err(AppError::Unavailable {
                message: format!("the export queue is full ({queue_max} jobs); try again shortly"),
                retry_after: Duration::from_secs(30),
            });
        }
    };
    state.job_wake.notify_one();
    audit(
        &state,
        &current,
        "export_job.create",
        json!({ "job_id": job.id, "filters": job.filters, "columns": job.columns,
                "format": job.format, "masked": job.mask_pii }),
    )
    .await;
    let mut response = (StatusCode::ACCEPTED, Json(view(&job))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/exports/{}", job.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::Export)?;
    let owner = (!current.role().can(Capability::SeeOthersExports)).then_some(current.user.id);
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let jobs = state
        .store
        .list_export_jobs(JobKind::Export, owner, limit)
        .await?;
    Ok(Json(
        json!({ "jobs": jobs.iter().map(view).collect::<Vec<_>>() }),
    ))
}

async fn one(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    Ok(Json(view(&visible_job(&state, &current, id).await?)))
}

async fn cancel(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    let before = visible_job(&state, &current, id).await?;
    if before.status.is_final() {
        if before.status == JobStatus::Cancelled {
            return Ok(Json(view(&before)));
        }
        return Err(AppError::Conflict(format!(
            "the export job is already {}",
            shown_status(&before).as_str()
        )));
    }
    let after = state
        .store
        .cancel_export_job(id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such export job".into()))?;
    if after.status != JobStatus::Cancelled {
        // It finished between the two reads.
        return Err(AppError::Conflict(format!(
            "the export job is already {}",
            shown_status(&after).as_str()
        )));
    }
    audit(
        &state,
        &current,
        "export_job.cancel",
        json!({ "job_id": id, "was": before.status, "rows_done": before.rows_done }),
    )
    .await;
    Ok(Json(view(&after)))
}

/// Server-sent events: a `progress` event whenever the job changes, and an
/// `end` event with its final state, after which the stream closes.
async fn events(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let first = visible_job(&state, &current, id).await?;
    struct Follow {
        state: AppState,
        id: Uuid,
        next: Option<ExportJob>,
        last: Option<Value>,
        ended: bool,
    }
    let start = Follow {
        state,
        id,
        next: Some(first),
        last: None,
        ended: false,
    };
    let stream = futures_util::stream::unfold(start, |mut f| async move {
        if f.ended {
            return None;
        }
        loop {
            let job = match f.next.take() {
                Some(j) => j,
                None => {
                    tokio::time::sleep(EVENTS_POLL).await;
                    match f.state.store.get_export_job(f.id).await {
                        Ok(Some(j)) => j,
                        Ok(None) => return None,
                        Err(e) => {
                            tracing::warn!(job_id = %f.id, error = %e, "export job events: reading the job failed");
                            f.ended = true;
                            let ev = Event::default()
                                .event("error")
                                .data(json!({"detail": "reading the job failed"}).to_string());
                            return Some((Ok(ev), f));
                        }
                    }
                }
            };
            let v = view(&job);
            let end = shown_status(&job).is_final();
            if f.last.as_ref() == Some(&v) && !end {
                continue;
            }
            let ev = Event::default()
                .event(if end { "end" } else { "progress" })
                .data(v.to_string());
            f.last = Some(v);
            f.ended = end;
            return Some((Ok(ev), f));
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Audits through the service (until this file's use-cases move there).
async fn audit(state: &AppState, current: &CurrentUser, action: &str, details: serde_json::Value) {
    crate::service::audit::record(state, &current.actor(), action, details).await
}
