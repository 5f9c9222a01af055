//! One log line per request: method, route template (never the raw query,
//! which can hold names and phone numbers), status, duration, request id,
//! user id. Request ids are echoed in `x-request-id`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use super::extract::LoggedUser;
use super::request_id;

/// The middleware.
pub async fn log_requests(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id::from_headers(req.headers());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into());
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert("x-request-id", v);
    }
    let slot = LoggedUser::default();
    req.extensions_mut().insert(slot.clone());
    let mut response = request_id::scope(id.clone(), next.run(req)).await;
    let user = slot.0.get().map(ToString::to_string);
    crate::metrics::http_request(
        method_label(&method),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    tracing::info!(
        target: "pulse::request",
        request_id = %id,
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        user_id = user.as_deref().unwrap_or("-"),
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

/// Known methods by name; anything else as one label, so a client cannot
/// grow the metrics with invented methods.
fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
