//! Streaming exports: `POST|GET /api/driver-onboarding/bulk-export` and
//! `POST /api/driver-onboarding/batch-export-zip`. Thin: parse the request,
//! take an admission permit, open the snapshot, hand it to the engine, and
//! audit the outcome when the last byte has gone (or the client has).

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use crate::domain::{Capability, ist_today};
use crate::export::Format;
use crate::export::engine::{ExportSpec, select_columns};
use crate::export::engine_stream::{Ending, Shape, stream};
use crate::http::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiQuery, CurrentUser};
use crate::http::permissions::require;
use crate::http::request_id;
use crate::service::leads::{FilterQuery, strict_filters};
use crate::store::filter::LeadFilter;

/// The export routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/driver-onboarding/bulk-export",
            post(bulk_export_post).get(bulk_export_get),
        )
        .route("/api/driver-onboarding/batch-export-zip", post(batch_zip))
}

pub(super) fn parse_format(v: Option<&str>) -> AppResult<Format> {
    match v.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("xlsx") => Ok(Format::Xlsx),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(AppError::Unprocessable(format!(
            "format must be xlsx or csv, not {other:?}"
        ))),
    }
}

/// The body of a streaming export and of a new export job.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct ExportBody {
    #[serde(deserialize_with = "strict_filters")]
    pub(super) filters: FilterQuery,
    pub(super) columns: Option<Vec<String>>,
    pub(super) format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExportQuery {
    #[serde(flatten)]
    filters: FilterQuery,
    /// Comma-separated column keys.
    columns: Option<String>,
    format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct BatchBody {
    batch_size: Option<u64>,
    #[serde(deserialize_with = "strict_filters")]
    filters: FilterQuery,
    columns: Option<Vec<String>>,
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
    current: CurrentUser,
    body: Bytes,
) -> AppResult<Response> {
    require(&current, Capability::Export)?;
    let req: ExportBody = optional_json(&body)?;
    let format = parse_format(req.format.as_deref())?;
    let filter = req.filters.into_filter(&current.actor())?;
    start(
        state,
        current,
        filter,
        req.columns,
        format,
        Shape::File,
        "bulk-export",
    )
    .await
}

async fn bulk_export_get(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> AppResult<Response> {
    require(&current, Capability::Export)?;
    let format = parse_format(q.format.as_deref())?;
    let filter = q.filters.into_filter(&current.actor())?;
    let columns = q
        .columns
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.split(',').map(|s| s.trim().to_string()).collect());
    start(
        state,
        current,
        filter,
        columns,
        format,
        Shape::File,
        "bulk-export",
    )
    .await
}

async fn batch_zip(
    State(state): State<AppState>,
    current: CurrentUser,
    body: Bytes,
) -> AppResult<Response> {
    require(&current, Capability::Export)?;
    let req: BatchBody = optional_json(&body)?;
    let size = req.batch_size.unwrap_or(25_000);
    if !(1..=1_048_575).contains(&size) {
        return Err(AppError::Unprocessable(
            "batch_size must be 1 to 1,048,575".into(),
        ));
    }
    let filter = req.filters.into_filter(&current.actor())?;
    start(
        state,
        current,
        filter,
        req.columns,
        Format::Xlsx,
        Shape::Batches(size),
        "batch-export-zip",
    )
    .await
}

/// Admission, snapshot, engine, headers; the audit runs when the body ends.
async fn start(
    state: AppState,
    current: CurrentUser,
    filter: LeadFilter,
    columns: Option<Vec<String>>,
    format: Format,
    shape: Shape,
    kind: &'static str,
) -> AppResult<Response> {
    let columns = select_columns(columns.as_deref()).map_err(AppError::Unprocessable)?;
    let mask_pii = !current.role().can(Capability::SeeUnmaskedPii);
    let permit = state
        .export_permits
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            crate::metrics::export_rejected("stream", 503);
            AppError::Unavailable {
                message: "too many exports running; try again shortly".into(),
                retry_after: Duration::from_secs(5),
            }
        })?;
    let snapshot = state.store.export_snapshot(&filter).await?;
    let mut spec = ExportSpec::new(columns, format, mask_pii);
    // A second deflate thread only pays while this export has the cores to
    // itself, and only then does it run at normal priority (`export::priority`); with others running it adds ~4 MiB of chunks in flight per
    // export (8 at once peaked at 142 MB) and no speed.
    let running = state.config.export_concurrency - state.export_permits.available_permits();
    if running > 1 {
        spec.deflate_threads = 1;
        spec.lower_priority = true;
    }
    let started = stream(snapshot, spec, shape, Some(Box::new(permit)));
    let total = started.total;
    let rid = request_id::current();
    tracing::info!(request_id = %rid, user_id = %current.user.id, kind, total, format = format.extension(), "export started");
    let end = started.end;
    let filters_json = serde_json::to_value(&filter).unwrap_or_default();
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
            "total": out.total,
            "rows": out.rows,
            "bytes": out.bytes,
            "sha256": out.sha256,
            "outcome": out.ending.as_str(),
            "reason": reason,
            "elapsed_ms": out.elapsed.as_millis() as u64,
        });
        audit(&state, &current, "export", details).await;
    }));
    let (ext, content_type) = match shape {
        Shape::File => (format.extension(), format.content_type()),
        Shape::Batches(_) => ("zip", "application/zip"),
    };
    let filename = format!(
        "driver leads export {}.{ext}",
        ist_today().format("%Y-%m-%d")
    );
    let mut response = Body::from_stream(started.body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-total-leads", HeaderValue::from(total));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Tell nginx-like proxies not to buffer; Caddy needs flush_interval -1.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// Audits through the service (until this file's use-cases move there).
async fn audit(state: &AppState, current: &CurrentUser, action: &str, details: serde_json::Value) {
    crate::service::audit::record(state, &current.actor(), action, details).await
}
