//! Security headers and cookies (M4, M17) and SQLite under a long write (H4).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::dual_backend_tests;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp};
use crate::leads::{API, create};

dual_backend_tests!(every_response_carries_the_security_headers);
dual_backend_tests!(
    mod behind_https_proxy with &[("PULSE_TRUSTED_PROXIES", "127.0.0.1/32")];
    behind_https_the_session_cookie_is_host_prefixed_and_secure,
);

async fn every_response_carries_the_security_headers(app: TestApp) {
    let token = app.admin_token().await;
    let lead = create(
        &app,
        &token,
        json!({ "name": "R", "phone_number": "9876500100" }),
    )
    .await;
    let id = lead["id"].as_str().unwrap();
    let paths = [
        format!("{API}/leads/{id}"),
        format!("{API}/leads"),
        "/api/no-such-endpoint".to_string(),
        "/healthz".to_string(),
        "/nothing-here".to_string(),
    ];
    for path in &paths {
        let r = app.get(path, &token).await;
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'"),
            "{path}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}");
        if path.starts_with("/api/") {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
    }
    // errors too
    let r = app.login(ADMIN_EMAIL, "wrong").await;
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["cache-control"], "no-store");
    // plain HTTP: the cookie keeps its name and is not Secure; the token stays in the body
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("pulse_session="))
        .expect("pulse_session");
    assert!(!session.contains("Secure"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["token"].is_string());
}

async fn behind_https_the_session_cookie_is_host_prefixed_and_secure(app: TestApp) {
    let r = app
        .client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-for", "203.0.113.5")
        .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("__Host-pulse_session="))
        .expect("__Host-pulse_session");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/;"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["token"].is_string(), "API clients keep the token");
    // it authenticates
    let pair = cookie.split(';').next().unwrap().to_string();
    let me = app
        .client
        .get(app.url("/api/auth/me"))
        .header("cookie", pair)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

/// H4: another connection holds SQLite's write lock (as an import or restore does). A
/// read by a user idle for 2 minutes answers 200 at once; a write answers 503 +
/// Retry-After within a few seconds, never 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reads_do_not_wait_for_a_long_write_and_writes_get_503() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = app.admin_token().await;
    let lead = create(
        &app,
        &token,
        json!({ "name": "R", "phone_number": "9876500101" }),
    )
    .await;
    let id = lead["id"].as_str().unwrap().to_string();
    let path = app.dir.path().join("pulse.sqlite");
    let aged = chrono::Utc::now().timestamp_millis() - 120_000;
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute("UPDATE sessions SET last_seen_at = ?1", [aged])
            .unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        locked_tx.send(()).unwrap();
        let _ = release_rx.recv_timeout(Duration::from_secs(30));
        conn.execute_batch("ROLLBACK").unwrap();
    });
    locked_rx.recv().unwrap();
    let started = Instant::now();
    let r = app.get(&format!("{API}/leads"), &token).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "read took {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let r = app
        .patch(
            &format!("{API}/leads/{id}"),
            &token,
            json!({ "name": "Changed" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().get("retry-after").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "write took {:?}",
        started.elapsed()
    );
    release_tx.send(()).unwrap();
    holder.join().unwrap();
    let r = app
        .patch(
            &format!("{API}/leads/{id}"),
            &token,
            json!({ "name": "Changed" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// H5: one user may stream at most PULSE_EXPORT_PER_USER exports (429 beyond) while
/// another user still gets one; a burst waits briefly for a permit instead of a 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_are_capped_per_user_and_bursts_wait_for_a_permit() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("PULSE_EXPORT_CONCURRENCY", "2"),
            ("PULSE_EXPORT_PER_USER", "1"),
        ],
    )
    .await;
    crate::export_support::seed_synthetic(&app, 200_000).await;
    let root = app.admin_token().await;
    let (_, other) = app
        .user_with_role(&root, "ops@pulse.test", "ops_team")
        .await;
    let export = format!("{API}/bulk-export");
    let mut first = app.post(&export, &root, json!({})).await;
    assert_eq!(first.status(), StatusCode::OK);
    first.chunk().await.unwrap();
    let r = app.post(&export, &root, json!({})).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let r = app.post(&export, &other, json!({})).await;
    let (status, body) = crate::helpers::status_json(r).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another user is not blocked: {body}"
    );
    drop(first);
}

/// Issue 14 item 6: 16 simultaneous 2k-lead exports from 8 users with 8 permits all
/// answer 200 (the excess waits briefly for a permit instead of a 503). The exports are
/// small so the first eight end well inside the 2 s wait on a loaded 2-core machine
/// (10k leads each took longer than that while the rest of the suite ran beside it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_exports_from_several_users_all_succeeds() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("PULSE_EXPORT_CONCURRENCY", "8")]).await;
    crate::export_support::seed_synthetic(&app, 2_000).await;
    let root = app.admin_token().await;
    let mut tokens = Vec::new();
    for i in 0..8 {
        let (_, t) = app
            .user_with_role(&root, &format!("ops{i}@pulse.test"), "ops_team")
            .await;
        tokens.push(t);
    }
    let export = format!("{API}/bulk-export");
    let app_ref = &app;
    let all = (0..16).map(|i| {
        let token = tokens[i % 8].clone();
        let export = export.clone();
        async move {
            let r = app_ref
                .post(&export, &token, json!({ "format": "csv" }))
                .await;
            let status = r.status();
            let body = r.bytes().await.map(|b| b.len()).unwrap_or(0);
            (status, body)
        }
    });
    let results = futures_util::future::join_all(all).await;
    for (status, len) in &results {
        assert_eq!(*status, StatusCode::OK, "{results:?}");
        assert!(*len > 10_000, "{results:?}");
    }
}

/// H5: a client that stops reading (a zero receive window, the connection kept open)
/// frees its export permit once the stall limit passes; another user's export then runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_frees_its_export_permit() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("PULSE_EXPORT_CONCURRENCY", "1"),
            ("PULSE_EXPORT_STALL_SECONDS", "1"),
        ],
    )
    .await;
    crate::export_support::seed_synthetic(&app, 200_000).await;
    let root = app.admin_token().await;
    let (_, other) = app
        .user_with_role(&root, "ops@pulse.test", "ops_team")
        .await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(app.addr).await.unwrap();
    let request = format!(
        "GET {API}/bulk-export?format=csv HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {root}\r\n\r\n",
        app.addr
    );
    stalled.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 512];
    let n = stalled.read(&mut head).await.unwrap();
    assert!(String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"));
    // stop reading, keep the connection open
    tokio::time::sleep(Duration::from_secs(4)).await;
    let r = app
        .client
        .get(app.url(&format!("{API}/bulk-export?format=csv")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    drop(stalled);
}

/// M12: a client that sends half a request line and then nothing is dropped within the
/// header timeout; the server keeps answering others meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_is_dropped_within_the_header_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(Backend::Sqlite, &[("PULSE_HEADER_TIMEOUT_SECONDS", "1")]).await;
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /heal").await.unwrap();
    let started = Instant::now();
    let r = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "still open after 20 s");
    assert!(
        buf.is_empty() || buf.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&buf)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // an idle keep-alive connection is closed too
    let mut idle = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), idle.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "idle keep-alive connection still open after 20 s"
    );
    assert!(buf.starts_with(b"HTTP/1.1 200"));
}
