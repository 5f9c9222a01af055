//! A 200,000-lead export through a real Caddy (Debian's 2.6) with
//! `flush_interval -1` and `response_header_timeout 1s`, arrives whole.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::export_support::{seed_synthetic, which, xlsx_data_rows};
use crate::helpers::{Backend, TestApp};

struct Caddy(Child);

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts Caddy (admin off) proxying `127.0.0.1:port` to `upstream`.
fn start_caddy(dir: &std::path::Path, upstream: std::net::SocketAddr) -> (Caddy, u16) {
    assert!(
        which("caddy"),
        "caddy is not on PATH: run scripts/install-test-deps (apt-get install -y caddy)"
    );
    let port = free_port();
    let config = format!(
        "{{\n\tadmin off\n\tauto_https off\n}}\n\n:{port} {{\n\treverse_proxy {upstream} {{\n\t\tflush_interval -1\n\t\ttransport http {{\n\t\t\tresponse_header_timeout 1s\n\t\t}}\n\t}}\n}}\n"
    );
    let file = dir.join("Caddyfile");
    std::fs::write(&file, config).unwrap();
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&file)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start caddy");
    let caddy = Caddy(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "caddy did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (caddy, port)
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
