//! Background export jobs over HTTP: `POST /api/exports` queues one (same
//! body, roles, filters, columns and formats as the streaming export), `GET`
//! one or the history, cancel, progress as server-sent events. The download
//! is in `exports_download.rs`. Another user's job answers 404 unless the
//! caller may see others' exports (master_admin).

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
use chrono::{DateTime, Utc};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::export::{ExportBody, optional_json};
use crate::domain::Actor;
use crate::http::error::{AppResult, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::state::AppState;
use crate::service::exports;
use crate::service::jobs::{self, shown_status};
use crate::service::{ServiceError, Services};
use crate::store::{ExportJob, JobKind, JobStatus};

/// How often the event stream looks at the job (workers record progress
/// about twice a second).
const EVENTS_POLL: Duration = Duration::from_millis(500);

/// The export-job routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/exports", post(create).get(list))
        .route("/api/exports/{id}", get(one))
        .route("/api/exports/{id}/cancel", post(cancel))
        .route("/api/exports/{id}/events", get(events))
}

/// An export job as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ExportJobView {
    id: Uuid,
    status: JobStatus,
    rows_done: i64,
    rows_total: Option<i64>,
    bytes: Option<i64>,
    sha256: Option<String>,
    error: Option<String>,
    format: String,
    columns: Vec<String>,
    /// The leads list's filters, as sent.
    #[schema(value_type = Object)]
    filters: Value,
    masked: bool,
    attempts: i32,
    max_attempts: i32,
    owner_id: Uuid,
    owner_email: String,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    download_url: Option<String>,
}

/// The view of `job`.
fn view(job: &ExportJob) -> ExportJobView {
    let status = shown_status(job);
    ExportJobView {
        id: job.id,
        status,
        rows_done: job.rows_done,
        rows_total: job.rows_total,
        bytes: job.bytes,
        sha256: job.sha256.clone(),
        error: job.error.clone(),
        format: job.format.clone(),
        columns: job.columns.clone(),
        filters: job.filters.clone(),
        masked: job.mask_pii,
        attempts: job.attempts,
        max_attempts: job.max_attempts,
        owner_id: job.owner_id,
        owner_email: job.owner_email.clone(),
        created_at: job.created_at,
        started_at: job.started_at,
        finished_at: job.finished_at,
        expires_at: job.expires_at,
        download_url: (status == JobStatus::Done)
            .then(|| format!("/api/exports/{}/download", job.id)),
    }
}

/// `{jobs}`, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportJobList {
    jobs: Vec<ExportJobView>,
}

async fn create(State(state): State<AppState>, actor: Actor, body: Bytes) -> AppResult<Response> {
    exports::may_export(&actor)?;
    let req: ExportBody = optional_json(&body)?;
    let job = exports::create_job(&state, &actor, req.into()).await?;
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
    actor: Actor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<ExportJobList>> {
    let jobs = jobs::list(&state, &actor, JobKind::Export, q.limit).await?;
    Ok(Json(ExportJobList {
        jobs: jobs.iter().map(view).collect(),
    }))
}

async fn one(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ExportJobView>> {
    Ok(Json(view(&exports::job(&state, &actor, id).await?)))
}

async fn cancel(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ExportJobView>> {
    Ok(Json(view(&exports::cancel_job(&state, &actor, id).await?)))
}

/// Server-sent events: a `progress` event whenever the job changes, and an
/// `end` event with its final state, after which the stream closes.
async fn events(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let first = exports::job(&state, &actor, id).await?;
    Ok(follow(state.services.clone(), first, view))
}

/// The event stream of a job the caller was allowed to see (`first`, as it
/// was then), each event's data `view` of the job: exports' and imports'.
pub(super) fn follow<V: Serialize + PartialEq + Send + 'static>(
    svc: Services,
    first: ExportJob,
    view: fn(&ExportJob) -> V,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let start = Follow {
        svc,
        id: first.id,
        next: Some(first),
        last: None,
        ended: false,
        view,
    };
    let stream = futures_util::stream::unfold(start, |mut f| async move {
        if f.ended {
            return None;
        }
        let ev = f.step().await?;
        Some((Ok(ev), f))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// The state of one event stream.
struct Follow<V> {
    svc: Services,
    id: Uuid,
    next: Option<ExportJob>,
    last: Option<V>,
    ended: bool,
    view: fn(&ExportJob) -> V,
}

impl<V: Serialize + PartialEq> Follow<V> {
    /// The next event: when the job's view changes, or it ends.
    async fn step(&mut self) -> Option<Event> {
        loop {
            let job = match self.next.take() {
                Some(j) => j,
                None => {
                    tokio::time::sleep(EVENTS_POLL).await;
                    match exports::reload(&self.svc, self.id).await {
                        Ok(Some(j)) => j,
                        Ok(None) => return None,
                        Err(e) => return Some(self.failed(e)),
                    }
                }
            };
            let v = (self.view)(&job);
            let end = shown_status(&job).is_final();
            if self.last.as_ref() == Some(&v) && !end {
                continue;
            }
            let data = serde_json::to_string(&v).unwrap_or_default();
            let ev = Event::default()
                .event(if end { "end" } else { "progress" })
                .data(data);
            self.last = Some(v);
            self.ended = end;
            return Some(ev);
        }
    }

    fn failed(&mut self, e: ServiceError) -> Event {
        tracing::warn!(job_id = %self.id, error = %e, "export job events: reading the job failed");
        self.ended = true;
        Event::default()
            .event("error")
            .data(ErrorBody::json("reading the job failed"))
    }
}
