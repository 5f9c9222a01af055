//! The HTTP layer: one router, thin handlers (parse → call → respond),
//! one error type.

pub mod audit;
pub mod error;
pub mod extract;
mod log;
pub mod openapi;
pub mod permissions;
pub mod request_id;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::auth::password::Hasher;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::jobs::files::FileStore;
use crate::store::Store;
use error::AppError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The effective configuration.
    pub config: Arc<Config>,
    /// Password hashing under its concurrency bound.
    pub hasher: Hasher,
    /// Failed-login counters.
    pub throttle: Arc<LoginThrottle>,
    /// Admission of streaming exports (`PULSE_EXPORT_CONCURRENCY` permits,
    /// each held until the export's last byte).
    pub export_permits: Arc<tokio::sync::Semaphore>,
    /// Where export jobs' files are kept.
    pub files: Arc<dyn FileStore>,
    /// Wakes this process's idle export workers when a job is queued here.
    pub job_wake: Arc<tokio::sync::Notify>,
    /// Where backups are kept (not the exports' store: its clean-up
    /// deletes files no export job owns).
    pub backups: Arc<dyn FileStore>,
    /// Where uploads wait for their import job (`crate::jobs::uploads`).
    pub uploads: Arc<dyn FileStore>,
    /// One backup or restore at a time in this process.
    pub backup_lock: Arc<tokio::sync::Mutex<()>>,
}

/// The whole application's router.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    let limits = BodyLimits {
        body: body_limit as u64,
        import: state.config.import_max_bytes,
    };
    Router::new()
        .merge(routes::health::routes())
        .merge(routes::auth::routes())
        .merge(routes::users::routes())
        .merge(routes::leads::routes())
        .merge(openapi::routes())
        .merge(audit::routes())
        .merge(routes::export::routes())
        .merge(routes::exports_jobs::routes())
        .merge(routes::import::routes(state.config.import_max_bytes))
        .merge(routes::metrics::routes())
        .merge(routes::backups::routes())
        .merge(crate::web::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            limits,
            refuse_oversized,
        ))
        .layer(axum::middleware::from_fn(log::log_requests))
        .with_state(state)
}

/// Body limits: the general one, and the import upload's own.
#[derive(Clone, Copy)]
struct BodyLimits {
    body: u64,
    import: u64,
}

/// Answers 413 from the `Content-Length` alone, before reading the body,
/// so a client cannot make us wait for (or buffer) what we will refuse.
async fn refuse_oversized(
    axum::extract::State(limits): axum::extract::State<BodyLimits>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // The multipart framing adds a little to the file's own size.
    let limit = if req.uri().path() == routes::import::IMPORT_PATH {
        limits.import.saturating_add(64 << 10)
    } else {
        limits.body
    };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return AppError::PayloadTooLarge(format!("request body too large (limit {limit} bytes)"))
            .into_response();
    }
    next.run(req).await
}

/// `/api/…` answers JSON; any other unknown path is a page: HTML 404.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        (
            StatusCode::NOT_FOUND,
            AppError::NotFound("no such endpoint".into()),
        )
            .into_response()
    } else {
        crate::web::not_found().await
    }
}
