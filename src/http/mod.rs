//! The JSON API: thin handlers (parse → call a service → respond), the
//! extractors, the one error type and the request log. The use-cases are in
//! [`crate::service`]; the whole router (API and pages) is [`crate::router`].

pub mod download;
pub mod error;
pub mod extract;
pub mod headers;
mod log;
pub mod openapi;
pub mod request_id;
pub mod routes;
pub mod state;
pub mod upload;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use error::AppError;
pub use state::AppState;

/// Every API route.
pub fn api(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(routes::health::routes())
        .merge(routes::auth::routes())
        .merge(routes::users::routes())
        .merge(routes::leads::routes())
        .merge(routes::leads_bulk::routes())
        .merge(routes::leads_notes::routes())
        .merge(routes::calls::routes())
        .merge(routes::leads_summary::routes())
        .merge(routes::openapi::routes())
        .merge(routes::audit::routes())
        .merge(routes::export::routes())
        .merge(routes::exports_jobs::routes())
        .merge(routes::exports_download::routes())
        .merge(routes::import::routes(state.config.import_max_bytes))
        .merge(routes::bulk_import::routes(state.config.import_max_bytes))
        .merge(routes::metrics::routes())
        .merge(routes::backups::routes())
        .merge(routes::compat_leads::routes())
        .merge(routes::compat_users::routes())
        .merge(routes::compat_desk::routes())
}

/// Body limits: the general one, and the import upload's own.
#[derive(Clone, Copy)]
pub struct BodyLimits {
    /// `PULSE_MAX_BODY_BYTES`.
    pub body: u64,
    /// `PULSE_IMPORT_MAX_BYTES`, for the upload route.
    pub import: u64,
}

/// Answers 413 from the `Content-Length` alone, before reading the body,
/// so a client cannot make us wait for (or buffer) what we will refuse.
pub async fn refuse_oversized(
    axum::extract::State(limits): axum::extract::State<BodyLimits>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.uri().path() == upload::WIZARD_UPLOAD_PATH {
        // The page checks the declared length itself and answers with its
        // form and a message beside the file field (not this JSON).
        return next.run(req).await;
    }
    // The multipart framing adds a little to the file's own size.
    let path = req.uri().path();
    let limit =
        if path == routes::import::IMPORT_PATH || path == routes::bulk_import::BULK_IMPORT_PATH {
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

/// The answer for a path no route has.
pub async fn no_such_endpoint() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        AppError::NotFound("no such endpoint".into()),
    )
}

/// The request log layer (request id, one line per request).
pub use log::log_requests;
