//! The whole application's router: the JSON API (`http::api`) and, beside
//! it, the pages (`web::routes()`), under one set of layers: the body
//! limits, the request id and the request log.

use axum::Router;
use axum::extract::DefaultBodyLimit;

use crate::http::{self, AppState, BodyLimits};

/// The router of everything this process serves.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    let limits = BodyLimits {
        body: body_limit as u64,
        import: state.config.import_max_bytes,
    };
    let cors = http::headers::cors(&state.config.cors_origins);
    Router::new()
        .merge(http::api(&state))
        .merge(crate::web::routes())
        .fallback(no_such_path)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(
            limits,
            http::refuse_oversized,
        ))
        .layer(axum::middleware::from_fn(http::headers::security_headers))
        .layer(tower::util::option_layer(cors))
        .layer(axum::middleware::from_fn(http::log_requests))
        .with_state(state)
}

/// A path no route has: `/api/…` answers JSON, anything else is a page (HTML 404).
async fn no_such_path(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path() == "/api" || uri.path().starts_with("/api/") {
        http::no_such_endpoint().await.into_response()
    } else {
        crate::web::not_found().await
    }
}
