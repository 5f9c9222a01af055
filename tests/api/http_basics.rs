//! The HTTP skeleton: health, request ids, error shapes, body limits.

use reqwest::StatusCode;

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};

dual_backend_tests!(
    health_and_readiness,
    request_ids_and_json_errors,
    malformed_and_oversized_bodies,
);

async fn health_and_readiness(app: TestApp) {
    let (status, body) =
        status_json(app.client.get(app.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body) =
        status_json(app.client.get(app.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let expected = match app.backend {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
    };
    assert_eq!(body["database"], expected);
}

async fn request_ids_and_json_errors(app: TestApp) {
    let r = app
        .client
        .get(app.url("/api/no/such/thing"))
        .send()
        .await
        .unwrap();
    // (outside /api an unknown path is a page: HTML 404, tests/api/web.rs)
    assert!(r.headers().get("x-request-id").is_some());
    let (status, body) = status_json(r).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["detail"].is_string(), "{body}");
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-abc-123");
}

async fn malformed_and_oversized_bodies(app: TestApp) {
    let send = |body: String| {
        app.client
            .post(app.url("/api/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let (status, body) = status_json(send("{not json".into()).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().contains("JSON"), "{body}");
    let (status, body) = status_json(send("{\"email\": 5}".into()).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // An oversized body is refused from its Content-Length, before it is
    // read; a raw socket sends only the headers so the client cannot race
    // the server's early answer with a broken pipe.
    let raw = raw_request(
        &app,
        "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2097152\r\n\r\n{",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    assert!(raw.contains("\"detail\""), "{raw}");
    let r = app
        .client
        .post(app.url("/api/auth/login"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
}

async fn raw_request(app: &TestApp, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}
