//! The request id: taken from a sane incoming `x-request-id` (a proxy's) or
//! made here, echoed on every response, put in every log line and in every
//! 500 body, so a user's report can be matched to the log.

use axum::http::HeaderMap;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, or `-` outside one.
pub fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".into())
}

/// Runs `f` with `id` as the current request id.
pub async fn scope<F: std::future::Future>(id: String, f: F) -> F::Output {
    REQUEST_ID.scope(id, f).await
}

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
