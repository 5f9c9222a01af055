//! `GET /metrics` (Prometheus text format).
//!
//! Two ways to reach it, both off by default because the scrape shows the
//! traffic's shape (routes, volumes, failures): on the main listener only
//! with `Authorization: Bearer $PULSE_METRICS_TOKEN`, and on a listener of
//! its own, `PULSE_METRICS_LISTEN` (meant for loopback or a private
//! network), without a token.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get};
use sha2::{Digest, Sha256};

use crate::http::error::{AppError, AppResult};
use crate::http::state::AppState;
use crate::metrics::{self, Gauges};

/// `/metrics` on the main listener, behind the token.
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(protected))
}

/// The router of the `PULSE_METRICS_LISTEN` listener: `/metrics` only.
pub fn listener_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(open)).with_state(state)
}

async fn protected(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let Some(token) = state.config.metrics_token.as_ref() else {
        return Err(AppError::NotFound(
            "metrics are not served here (set PULSE_METRICS_TOKEN or PULSE_METRICS_LISTEN)".into(),
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compare digests: equal length, so the comparison time says nothing
    // about how much of the token was right.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(token.expose().as_bytes()) {
        return Err(AppError::Unauthorized(
            "a valid metrics token is required (Authorization: Bearer …)".into(),
        ));
    }
    Ok(scrape(&state).await)
}

async fn open(State(state): State<AppState>) -> Response {
    scrape(&state).await
}

async fn scrape(state: &AppState) -> Response {
    let jobs_by_state = match state.store.count_export_jobs_by_status().await {
        Ok(rows) => Some(rows),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: counting export jobs failed");
            None
        }
    };
    let (pool_in_use, pool_size) = state.store.pool_use();
    let slots = state.config.export_concurrency;
    let gauges = Gauges {
        active_exports: slots.saturating_sub(state.export_permits.available_permits()) as u64,
        export_slots: slots as u64,
        jobs_by_state,
        pool_in_use,
        pool_size,
        backend: state.store.backend_name(),
    };
    let mut response = metrics::render(&gauges).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
