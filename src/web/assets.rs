//! Static assets embedded in the binary and served under content-hashed
//! names (`/static/app.3f9c2a71d0.css`) with a year of immutable caching:
//! a new build changes the name, so no browser keeps a stale file. Each is
//! also kept gzipped (once, at first use) and sent so to clients that accept
//! it: htmx, the CSS and the JS are ~90 KB as written, ~30 KB gzipped, which
//! is what a phone on a slow connection pays on its first page.

use std::sync::LazyLock;

use std::io::Write;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    /// The name in the source tree (`app.css`).
    name: &'static str,
    /// The name it is served under, with the first 10 hex digits of its SHA-256.
    hashed: String,
    bytes: &'static [u8],
    /// `bytes` gzipped.
    gzipped: Vec<u8>,
    content_type: &'static str,
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(bytes).expect("gzip into memory");
    z.finish().expect("gzip into memory")
}

const FILES: [(&str, &[u8], &str); 3] = [
    (
        "app.css",
        include_bytes!("static/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "app.js",
        include_bytes!("static/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "htmx.js",
        include_bytes!("static/vendor/htmx-2.0.11.min.js"),
        "text/javascript; charset=utf-8",
    ),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, bytes, content_type)| {
            let digest = hex::encode(Sha256::digest(bytes));
            let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
            Asset {
                name,
                hashed: format!("{stem}.{}.{ext}", &digest[..10]),
                bytes,
                gzipped: gzip(bytes),
                content_type,
            }
        })
        .collect()
});

/// The URL of the asset named `name` in `src/web/static` (`app.css`, `app.js`, `htmx.js`).
pub fn url(name: &str) -> String {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| format!("/static/{}", a.hashed))
        .unwrap_or_else(|| format!("/static/{name}"))
}

/// `GET /static/{file}`: only the current hashed names exist.
pub async fn serve(Path(file): Path<String>, request: HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.hashed == file) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let gzip_ok = request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.split(';').next().is_some_and(|e| e.trim() == "gzip"));
    let mut response = if gzip_ok {
        let mut r = asset.gzipped.clone().into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        asset.bytes.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash() {
        let css = url("app.css");
        assert!(
            css.starts_with("/static/app.") && css.ends_with(".css"),
            "{css}"
        );
        assert_eq!(css.len(), "/static/app..css".len() + 10);
        assert_ne!(url("app.js"), url("htmx.js"));
    }
}
