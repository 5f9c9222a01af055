//! The Bulk Export button and the Exports page.
//!
//! `POST /leads/export` asks the service how the file will come
//! (`service::export_tickets::prepare`): a one-time download path that
//! already holds its export permit (`GET /exports/download/{token}`, which
//! streams the file into the browser's own download bar), or a background
//! job for a large one, whose progress the page follows on the API's event
//! stream (`/api/exports/{id}/events`) and whose file comes from the API's
//! download (`/api/exports/{id}/download`), both with the session cookie.
//! The page's script asks for JSON; a plain form post gets a 303 instead
//! (to the download, or to the Exports page for a job). `GET /exports`
//! lists the user's exports; a running one shows its live progress there
//! too, so a reload loses nothing.

use std::time::Duration;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uuid::Uuid;

use super::leads_list::{LeadsQuery, thousands};
use super::page::{
    Layout, Notice, PageError, PageResult, PageUser, clear_notice, render, see_other,
    see_other_with, take_notice,
};
use crate::domain::to_ist;
use crate::http::AppState;
use crate::http::download::export_download;
use crate::service::ServiceError;
use crate::service::export_tickets::{self, Prepared};
use crate::service::exports::{self, ExportRequest};
use crate::service::jobs::{self, shown_status};
use crate::store::{ExportJob, JobKind, JobStatus};

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn json_answer(status: StatusCode, body: serde_json::Value, retry: Option<Duration>) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(d) = retry {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(d.as_secs().max(1)));
    }
    r
}

/// What failed and what to do, for a person.
fn refusal(e: &ServiceError) -> Option<(StatusCode, String, Option<Duration>)> {
    Some(match e {
        ServiceError::Busy {
            message,
            retry_after,
        } => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("The server is busy ({message})."),
            Some(*retry_after),
        ),
        ServiceError::Throttled {
            message,
            retry_after,
        } => (
            StatusCode::TOO_MANY_REQUESTS,
            super::page::capitalise(message),
            Some(*retry_after),
        ),
        ServiceError::Invalid(m) | ServiceError::Malformed(m) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "The export could not start: {m}. Check the filters and columns, then press Bulk Export again."
            ),
            None,
        ),
        ServiceError::Forbidden(m) => (StatusCode::FORBIDDEN, super::page::capitalise(m), None),
        _ => return None,
    })
}

/// `POST /leads/export`: the Bulk Export button.
pub(super) async fn prepare(
    State(state): State<AppState>,
    user: PageUser,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let actor = user.actor();
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let req = ExportRequest {
        filters: LeadsQuery::from_pairs(&fields).filters(actor.lead_scope().is_some()),
        columns: get("columns").map(|c| c.split(',').map(|s| s.trim().to_string()).collect()),
        format: get("format"),
        headers: None,
        original: false,
    };
    let json = wants_json(&headers);
    match export_tickets::prepare(&state, &actor, req).await {
        Ok(Prepared::Download { url, total }) if json => Ok(json_answer(
            StatusCode::OK,
            json!({ "download": url, "total": total }),
            None,
        )),
        Ok(Prepared::Download { url, .. }) => Ok(see_other(&url)),
        Ok(Prepared::Job { job, total }) if json => Ok(json_answer(
            StatusCode::ACCEPTED,
            json!({
                "job": job.id,
                "total": total,
                "events": format!("/api/exports/{}/events", job.id),
                "download": format!("/api/exports/{}/download", job.id),
            }),
            None,
        )),
        Ok(Prepared::Job { total, .. }) => Ok(see_other_with(
            "/exports",
            false,
            &format!(
                "{} leads are being exported in the background; the file appears here when it is ready.",
                thousands(total)
            ),
        )),
        Err(e) => match refusal(&e) {
            Some((status, message, retry)) if json => Ok(json_answer(
                status,
                json!({ "detail": message, "retry_after": retry.map(|d| d.as_secs().max(1)) }),
                retry,
            )),
            Some((status, message, retry)) => Err(PageError::Refused(
                status,
                "The export did not start",
                match retry {
                    Some(d) => format!("{message} Try again in {} s.", d.as_secs().max(1)),
                    None => message,
                },
            )),
            None => Err(e.into()),
        },
    }
}

/// `GET /exports/download/{token}`: the one-time download.
pub(super) async fn download(
    State(state): State<AppState>,
    user: PageUser,
    Path(token): Path<String>,
) -> PageResult {
    match export_tickets::redeem(&state, &user.actor(), &token).await {
        Ok(started) => Ok(export_download(started)),
        Err(ServiceError::Gone(m)) => Err(PageError::Refused(
            StatusCode::GONE,
            "This download link is used up",
            super::page::capitalise(&m),
        )),
        Err(e) => Err(e.into()),
    }
}

struct JobRow {
    id: String,
    created: String,
    status: &'static str,
    running: bool,
    rows: String,
    rows_done: i64,
    rows_total: i64,
    size: String,
    format: String,
    error: String,
    download: Option<String>,
    cancel: bool,
}

#[derive(askama::Template)]
#[template(path = "exports.html")]
struct ExportsPage {
    l: Layout,
    notice: Option<Notice>,
    jobs: Vec<JobRow>,
}

/// 1.4 MB.
fn size(bytes: Option<i64>) -> String {
    let Some(b) = bytes else {
        return String::new();
    };
    let b = b as f64;
    if b < 1024.0 {
        format!("{b} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    } else {
        format!("{:.2} GB", b / 1024.0 / 1024.0 / 1024.0)
    }
}

fn row(job: &ExportJob) -> JobRow {
    let status = shown_status(job);
    let done = job.rows_done;
    let total = job.rows_total.unwrap_or(0);
    JobRow {
        id: job.id.to_string(),
        created: to_ist(job.created_at).format("%d %b %Y, %H:%M").to_string(),
        status: status.as_str(),
        running: !status.is_final(),
        rows: match (status, job.rows_total) {
            (JobStatus::Queued, _) => "waiting to start".to_string(),
            (JobStatus::Running, Some(t)) => format!("{} / {}", thousands(done), thousands(t)),
            (JobStatus::Running, None) => "counting…".to_string(),
            _ => thousands(done),
        },
        rows_done: done,
        rows_total: total,
        size: size(job.bytes),
        format: job.format.clone(),
        error: job.error.clone().unwrap_or_default(),
        download: (status == JobStatus::Done).then(|| format!("/api/exports/{}/download", job.id)),
        cancel: !status.is_final(),
    }
}

/// `GET /exports`: the user's exports (everyone's for a master admin).
pub(super) async fn page(
    State(state): State<AppState>,
    user: PageUser,
    headers: HeaderMap,
) -> PageResult {
    let list = jobs::list(&state, &user.actor(), JobKind::Export, Some(100)).await?;
    let view = ExportsPage {
        l: Layout::new("Exports", Some(&user)),
        notice: take_notice(&headers),
        jobs: list.iter().map(row).collect(),
    };
    let mut r = render(StatusCode::OK, &view);
    clear_notice(&mut r);
    Ok(r)
}

/// `POST /exports/{id}/cancel`.
pub(super) async fn cancel(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
) -> PageResult {
    match exports::cancel_job(&state, &user.actor(), id).await {
        Ok(_) => Ok(see_other_with(
            "/exports",
            false,
            "The export was cancelled.",
        )),
        Err(ServiceError::Conflict(m)) => Ok(see_other_with(
            "/exports",
            true,
            &super::page::capitalise(&m),
        )),
        Err(e) => Err(e.into()),
    }
}
