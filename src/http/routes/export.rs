//! Streaming exports: `POST|GET /api/driver-onboarding/bulk-export` and
//! `POST /api/driver-onboarding/batch-export-zip`. Thin: parse the request,
//! start the export ([`crate::service::exports::start`]: permit, snapshot,
//! engine, audit at the end) and stream its body with the download headers.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;

use crate::domain::Actor;
use crate::export::engine_stream::Shape;
use crate::http::download::export_download;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::ApiQuery;
use crate::http::state::AppState;
use crate::service::exports::{self, ExportRequest};
use crate::service::leads::{FilterQuery, strict_filters};

/// The export routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/driver-onboarding/bulk-export",
            post(bulk_export_post).get(bulk_export_get),
        )
        .route("/api/driver-onboarding/batch-export-zip", post(batch_zip))
}

/// The body of a streaming export and of a new export job.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ExportBody {
    #[serde(deserialize_with = "strict_filters")]
    filters: FilterQuery,
    columns: Option<Vec<String>>,
    format: Option<String>,
    /// The header row: `labels` (Pulse's) or `fields` (the original's
    /// field names, `yes`/`no`); on `bulk-export` the deployment's
    /// `PULSE_EXPORT_HEADERS` when not given.
    headers: Option<String>,
}

impl From<ExportBody> for ExportRequest {
    fn from(b: ExportBody) -> Self {
        ExportRequest {
            filters: b.filters,
            columns: b.columns,
            format: b.format,
            headers: b.headers,
            original: false,
        }
    }
}

/// `?headers=labels|fields` on the original's POST paths (its clients send
/// `{}`; a deployment or a proxy may add the query).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HeadersQuery {
    headers: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExportQuery {
    #[serde(flatten)]
    filters: FilterQuery,
    /// Comma-separated column keys.
    columns: Option<String>,
    format: Option<String>,
    headers: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct BatchBody {
    batch_size: Option<u64>,
    #[serde(deserialize_with = "strict_filters")]
    filters: FilterQuery,
    columns: Option<Vec<String>>,
    /// As on `bulk-export`.
    headers: Option<String>,
}

/// A JSON body that may be absent (the original clients send none).
pub(super) fn optional_json<T: for<'de> Deserialize<'de> + Default>(body: &Bytes) -> AppResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| AppError::Unprocessable(format!("invalid JSON body: {e}")))
}

async fn bulk_export_post(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<HeadersQuery>,
    body: Bytes,
) -> AppResult<Response> {
    exports::may_export(&actor)?;
    let body: ExportBody = optional_json(&body)?;
    let mut req = ExportRequest::from(body);
    req.headers = req.headers.or(q.headers);
    req.original = true;
    let started = exports::start(&state, &actor, req, Shape::File, "bulk-export").await?;
    let expected = started.total;
    let mut response = export_download(started);
    // the original's second count, which its clients read beside X-Total-Leads
    response
        .headers_mut()
        .insert("x-expected-leads", HeaderValue::from(expected));
    Ok(response)
}

async fn bulk_export_get(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> AppResult<Response> {
    let columns = q
        .columns
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.split(',').map(|s| s.trim().to_string()).collect());
    let req = ExportRequest {
        filters: q.filters,
        columns,
        format: q.format,
        headers: q.headers,
        original: false,
    };
    let started = exports::start(&state, &actor, req, Shape::File, "bulk-export").await?;
    Ok(export_download(started))
}

async fn batch_zip(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<HeadersQuery>,
    body: Bytes,
) -> AppResult<Response> {
    exports::may_export(&actor)?;
    let req: BatchBody = optional_json(&body)?;
    let shape = exports::batches(req.batch_size)?;
    let size = match shape {
        Shape::Batches(n) => n,
        Shape::File => 1,
    };
    let req = ExportRequest {
        filters: req.filters,
        columns: req.columns,
        format: None,
        headers: req.headers.or(q.headers),
        original: true,
    };
    let started = exports::start(&state, &actor, req, shape, "batch-export-zip").await?;
    // the original's two headers, which its frontend toasts
    let files = started.total.div_ceil(size).max(1);
    let mut response = export_download(started);
    let h = response.headers_mut();
    h.insert("x-total-files", HeaderValue::from(files));
    h.insert("x-batch-size", HeaderValue::from(size));
    Ok(response)
}
