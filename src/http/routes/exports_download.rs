//! `GET /api/exports/{id}/download`: a finished job's file, streamed from
//! the file store (never read whole into memory), with its size, checksum
//! (`Digest`, `Repr-Digest`, and the SHA-256 as a strong `ETag`) and HTTP
//! range support (one range; `If-Range` with the ETag), so an interrupted
//! download resumes where it stopped.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use uuid::Uuid;

use crate::domain::{Actor, to_ist};
use crate::http::error::{AppResult, ErrorBody};
use crate::http::extract::ApiPath;
use crate::http::state::AppState;
use crate::service::exports::{self, JobFile};

/// The download route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/exports/{id}/download", get(download))
}

/// What a `Range` header asks of a file of some size.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeAsk {
    /// No (usable) range: the whole file, 200.
    Whole,
    /// Bytes `start..end` (end exclusive), 206.
    Part(u64, u64),
    /// A range wholly past the end, 416.
    Unsatisfiable,
}

/// Reads one `Range: bytes=…` header (RFC 9110 §14). Several ranges, other
/// units and malformed values are ignored (the whole file is sent), which
/// the RFC allows.
pub fn parse_range(value: &str, size: u64) -> RangeAsk {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAsk::Whole;
    };
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (a.trim().is_empty(), num(a), num(b)) {
        // bytes=-N: the last N bytes
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeAsk::Unsatisfiable
            } else {
                RangeAsk::Part(size - n.min(size), size)
            }
        }
        (false, Some(start), end) if b.trim().is_empty() || end.is_some() => {
            if end.is_some_and(|e| e < start) {
                return RangeAsk::Whole;
            }
            if start >= size {
                return RangeAsk::Unsatisfiable;
            }
            let end = end.map_or(size, |e| e.saturating_add(1).min(size));
            RangeAsk::Part(start, end)
        }
        _ => RangeAsk::Whole,
    }
}

/// The file of a done job.
async fn download(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let file = exports::job_file(&state, &actor, id).await?;
    let etag = format!("\"{}\"", file.sha256);
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| {
            // If-Range: resume only if the file is still the one the client
            // has the first part of; otherwise send it whole.
            headers
                .get(header::IF_RANGE)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| v.trim() == etag)
        })
        .map_or(RangeAsk::Whole, |v| parse_range(v, file.size));
    let (status, start, end) = match range {
        RangeAsk::Whole => (StatusCode::OK, 0, file.size),
        RangeAsk::Part(s, e) => (StatusCode::PARTIAL_CONTENT, s, e),
        RangeAsk::Unsatisfiable => return Ok(unsatisfiable(file.size)),
    };
    let body = exports::read_file(&state, &file, start, end).await?;
    let mut response = Body::from_stream(body).into_response();
    *response.status_mut() = status;
    file_headers(response.headers_mut(), &file, etag, start, end);
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{}", end - 1, file.size))
    {
        response.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    Ok(response)
}

/// 416 naming the file's size.
fn unsatisfiable(size: u64) -> Response {
    let mut r = (
        StatusCode::RANGE_NOT_SATISFIABLE,
        axum::Json(ErrorBody {
            detail: format!("the range is outside the file ({size} bytes)"),
        }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
        r.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    r
}

/// Type, length, ranges, caching, checksums and the file name of bytes
/// `start..end` of `file`.
fn file_headers(h: &mut HeaderMap, file: &JobFile, etag: String, start: u64, end: u64) {
    let format = file.format;
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    let digest = hex::decode(&file.sha256)
        .map(|raw| base64::engine::general_purpose::STANDARD.encode(raw))
        .unwrap_or_default();
    let pairs = [
        (header::ETAG.as_str(), etag),
        ("digest", format!("sha-256={digest}")),
        ("repr-digest", format!("sha-256=:{digest}:")),
        (
            header::CONTENT_DISPOSITION.as_str(),
            format!(
                "attachment; filename=\"driver leads export {}.{}\"",
                to_ist(file.created_at).format("%Y-%m-%d %H%M"),
                format.extension()
            ),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeAsk::*;
        let cases = [
            ("bytes=0-99", 1000, Part(0, 100)),
            ("bytes=500-", 1000, Part(500, 1000)),
            ("bytes=900-5000", 1000, Part(900, 1000)),
            ("bytes=-100", 1000, Part(900, 1000)),
            ("bytes=-5000", 1000, Part(0, 1000)),
            ("bytes=999-999", 1000, Part(999, 1000)),
            ("bytes=1000-", 1000, Unsatisfiable),
            ("bytes=1000-1001", 1000, Unsatisfiable),
            ("bytes=-0", 1000, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=5-4", 1000, Whole),
            ("bytes=0-1,5-6", 1000, Whole),
            ("items=0-1", 1000, Whole),
            ("bytes=x-", 1000, Whole),
            ("bytes=1-x", 1000, Whole),
            ("bytes=", 1000, Whole),
        ];
        for (header, size, want) in cases {
            assert_eq!(parse_range(header, size), want, "{header} of {size}");
        }
    }
}
