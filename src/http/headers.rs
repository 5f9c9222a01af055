//! Security headers on every response (review M17), as one middleware layer.
//!
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (export GET URLs
//!   carry names and phones in the query), `X-Frame-Options: DENY`;
//! - a strict `Content-Security-Policy`: everything from our own origin, no inline script
//!   or style, never framed — the web UI is written to it;
//! - `Cache-Control: no-store` on every `/api` answer that does not set its own: lead JSON
//!   and files carry PII and must not stay in a browser's or proxy's cache.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/// Adds the headers (those a handler set itself are kept).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 4] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, CSP),
    ];
    for (name, value) in fixed {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    if api {
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    response
}
