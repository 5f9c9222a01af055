//! A 200,000-lead export through a real Caddy (Debian's 2.6) with
//! `flush_interval -1` and `response_header_timeout 1s`, arrives whole.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::caddy::{self, Caddy};
use crate::export_support::{seed_synthetic, which, xlsx_data_rows};
use crate::helpers::{Backend, TestApp};

/// Caddy in front of `upstream`, timing out a response whose headers take
/// over a second (a server that "thinks" before its first byte fails).
fn start_caddy(dir: &std::path::Path, upstream: std::net::SocketAddr) -> (Caddy, u16) {
    assert!(
        which("caddy"),
        "caddy is not on PATH: run scripts/install-test-deps (apt-get install -y caddy)"
    );
    caddy::start_caddy(
        dir,
        &[upstream.to_string()],
        "\t\ttransport http {\n\t\t\tresponse_header_timeout 1s\n\t\t}\n",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_200k_through_caddy() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    seed_synthetic(&app, 200_000).await;
    let token = app.admin_token().await;
    let dir = tempfile::tempdir().unwrap();
    let (_caddy, port) = start_caddy(dir.path(), app.addr);
    let started = Instant::now();
    let mut r = app
        .client
        .post(format!(
            "http://127.0.0.1:{port}/api/driver-onboarding/bulk-export"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let headers_after = started.elapsed();
    assert!(headers_after < Duration::from_secs(1), "{headers_after:?}");
    assert_eq!(r.headers()["x-total-leads"], "200000");
    let path = dir.path().join("through-caddy.xlsx");
    let mut file = Vec::new();
    while let Some(chunk) = r.chunk().await.unwrap() {
        file.extend_from_slice(&chunk);
    }
    std::fs::write(&path, &file).unwrap();
    assert_eq!(xlsx_data_rows(&path), 200_000);
}
