//! A started streaming export as an HTTP download: its body with the
//! download headers. The API's export routes and the pages' one-time
//! download (`web/exports.rs`) answer with this one shape.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::service::exports::StartedExport;

/// The streamed file with its download headers.
pub fn export_download(started: StartedExport) -> Response {
    let mut response = Body::from_stream(started.body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(started.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", started.filename))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-total-leads", HeaderValue::from(started.total));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Tell nginx-like proxies not to buffer; Caddy needs flush_interval -1.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
