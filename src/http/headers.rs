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

/// CORS for a frontend served from another origin (`PULSE_CORS_ORIGINS`; `None` when
/// unset): any method and header, the export headers exposed (`X-Total-Leads`,
/// `X-Expected-Leads`, `X-Total-Files`, `X-Batch-Size`, `Content-Disposition`), no credentials — such a
/// frontend sends a bearer token, and the session cookie stays same-site.
pub fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::HeaderValue;
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods(Any)
            .allow_headers(Any)
            .expose_headers([
                axum::http::HeaderName::from_static("x-total-leads"),
                axum::http::HeaderName::from_static("x-expected-leads"),
                axum::http::HeaderName::from_static("x-total-files"),
                axum::http::HeaderName::from_static("x-batch-size"),
                axum::http::header::CONTENT_DISPOSITION,
            ])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
