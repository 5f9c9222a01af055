//! The request id: taken from a sane incoming `x-request-id` (a proxy's) or
//! made here, echoed on every response, put in every log line and in every
//! 500 body, so a user's report can be matched to the log. The task-local
//! itself is `telemetry::request_id` (the service layer reads it too).

use axum::http::HeaderMap;

pub use crate::telemetry::request_id::{current, scope};

/// The incoming id when it is short and plain, else a fresh one.
pub fn from_headers(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(String::from)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}
