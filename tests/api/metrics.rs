//! `/metrics`: who may scrape it (token on the main listener, no token on
//! `PULSE_METRICS_LISTEN`, nothing when neither is set), and that the
//! counters and gauges move with what the application does.
//!
//! Counters are process-wide and the suite runs tests in parallel in one
//! process, so counter checks are "moved by at least"; gauges read from the
//! test's own database (queue depth, jobs by state) are checked exactly.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::export_support::seed_synthetic;
use crate::helpers::{ADMIN_EMAIL, Backend, TestApp};

const TOKEN: &str = "metrics-token-for-tests-0123";
const EXPORT: &str = "/api/driver-onboarding/bulk-export";

async fn scrape(app: &TestApp) -> String {
    let r = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    r.text().await.unwrap()
}

/// The value of one series (`name{labels}` exactly as rendered), 0 when absent.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.parse().unwrap())
}

/// Scrapes until `series` is at least `min` (end-of-export counters are
/// recorded just after the last byte leaves).
async fn wait_at_least(app: &TestApp, series: &str, min: f64) -> String {
    for _ in 0..100 {
        let text = scrape(app).await;
        if value(&text, series) >= min {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{series} never reached {min}:\n{}", scrape(app).await);
}

async fn access_needs_the_token(app: TestApp) {
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("metrics token"));
    // A user's session token is not the metrics token.
    let root = app.admin_token().await;
    let r = app.get("/metrics", &root).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let text = scrape(&app).await;
    let backend = match app.backend {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
    };
    assert!(
        value(
            &text,
            &format!("pulse_db_pool_size{{backend=\"{backend}\"}}")
        ) >= 1.0,
        "{text}"
    );
    assert_eq!(value(&text, "pulse_up_database"), 1.0);
    assert_eq!(value(&text, "pulse_export_slots"), 1.0);
    // Requests are counted by route template, never by the raw path.
    let before = value(
        &text,
        "pulse_http_requests_total{method=\"GET\",route=\"/api/exports/{id}\",status=\"404\"}",
    );
    let r = app
        .get(&format!("/api/exports/{}", uuid::Uuid::new_v4()), &root)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let text = scrape(&app).await;
    assert!(
        value(
            &text,
            "pulse_http_requests_total{method=\"GET\",route=\"/api/exports/{id}\",status=\"404\"}"
        ) >= before + 1.0,
        "{text}"
    );
    assert!(!text.contains(&root), "a token in the scrape");
    assert!(text.contains("pulse_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/exports/{id}\",le=\"+Inf\"}"));
    // Failed sign-ins.
    let before = value(&text, "pulse_login_failures_total{reason=\"credentials\"}");
    let r = app.login(ADMIN_EMAIL, "not-the-password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let text = scrape(&app).await;
    assert!(value(&text, "pulse_login_failures_total{reason=\"credentials\"}") >= before + 1.0);
}

async fn exports_move_the_counters(app: TestApp) {
    // More than loopback's socket buffers hold (~10 MB): a smaller unread export can be
    // written out whole, and free its permit, within the 2 s a refused export waits.
    seed_synthetic(&app, 100_000).await;
    let root = app.admin_token().await;
    let text = scrape(&app).await;
    let rows = "pulse_export_rows_total{kind=\"stream\"}";
    let bytes = "pulse_export_bytes_total{kind=\"stream\"}";
    let done = "pulse_exports_total{kind=\"stream\",outcome=\"completed\"}";
    let rejected = "pulse_export_rejected_total{kind=\"stream\",status=\"503\"}";
    let (rows0, bytes0, done0, rejected0) = (
        value(&text, rows),
        value(&text, bytes),
        value(&text, done),
        value(&text, rejected),
    );
    assert_eq!(value(&text, "pulse_exports_active"), 0.0);

    // PULSE_EXPORT_CONCURRENCY=1: an unread export holds the only permit.
    let mut first = app.post(EXPORT, &root, json!({"format": "csv"})).await;
    assert_eq!(first.status(), StatusCode::OK);
    first.chunk().await.unwrap();
    let text = scrape(&app).await;
    assert_eq!(value(&text, "pulse_exports_active"), 1.0, "{text}");
    let r = app.post(EXPORT, &root, json!({})).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = scrape(&app).await;
    assert!(value(&text, rejected) >= rejected0 + 1.0, "{text}");

    let mut n = 0u64;
    while let Some(c) = first.chunk().await.unwrap() {
        n += c.len() as u64;
    }
    let text = wait_at_least(&app, done, done0 + 1.0).await;
    assert!(value(&text, rows) >= rows0 + 20_000.0, "{text}");
    assert!(value(&text, bytes) >= bytes0 + n as f64, "{text}");
    assert!(
        value(
            &text,
            "pulse_export_duration_seconds_count{kind=\"stream\"}"
        ) >= 1.0
    );
    // The permit is back once the body is gone.
    drop(first);
    let mut active = 1.0;
    for _ in 0..100 {
        active = value(&scrape(&app).await, "pulse_exports_active");
        if active == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(active, 0.0);
}

async fn jobs_move_the_counters_and_keep_the_request_id(app: TestApp) {
    seed_synthetic(&app, 3_000).await;
    let root = app.admin_token().await;
    let text = scrape(&app).await;
    let done = "pulse_exports_total{kind=\"job\",outcome=\"completed\"}";
    let runs = "pulse_job_runs_total{outcome=\"done\"}";
    let rows = "pulse_export_rows_total{kind=\"job\"}";
    let (done0, runs0, rows0) = (value(&text, done), value(&text, runs), value(&text, rows));
    let r = app
        .client
        .post(app.url("/api/exports"))
        .bearer_auth(&root)
        .header("x-request-id", "req-metrics-job-1")
        .json(&json!({"format": "csv"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let job: Value = r.json().await.unwrap();
    let id: uuid::Uuid = job["id"].as_str().unwrap().parse().unwrap();
    let stored = app.state.store.get_export_job(id).await.unwrap().unwrap();
    assert_eq!(stored.request_id.as_deref(), Some("req-metrics-job-1"));
    let text = wait_at_least(&app, "pulse_jobs{state=\"done\"}", 1.0).await;
    assert_eq!(value(&text, "pulse_job_queue_depth"), 0.0, "{text}");
    let text = wait_at_least(&app, done, done0 + 1.0).await;
    assert!(value(&text, runs) >= runs0 + 1.0, "{text}");
    assert!(value(&text, rows) >= rows0 + 3_000.0, "{text}");
}

async fn queue_depth_and_rejected_jobs(app: TestApp) {
    // No workers: jobs stay queued. PULSE_EXPORT_QUEUE_MAX=2.
    let root = app.admin_token().await;
    let rejected = "pulse_export_rejected_total{kind=\"job\",status=\"503\"}";
    let rejected0 = value(&scrape(&app).await, rejected);
    for _ in 0..2 {
        let r = app.post("/api/exports", &root, json!({})).await;
        assert_eq!(r.status(), StatusCode::ACCEPTED);
    }
    let r = app.post("/api/exports", &root, json!({})).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = scrape(&app).await;
    assert_eq!(value(&text, "pulse_job_queue_depth"), 2.0, "{text}");
    assert_eq!(value(&text, "pulse_jobs{state=\"queued\"}"), 2.0, "{text}");
    assert!(value(&text, rejected) >= rejected0 + 1.0, "{text}");
}

async fn listener_serves_metrics_without_a_token(app: TestApp) {
    let addr = app.metrics_addr.expect("metrics listener");
    assert_ne!(addr, app.addr);
    let client = reqwest::Client::new();
    let r = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("# TYPE pulse_job_queue_depth gauge")
    );
    // Only /metrics there: not the API.
    let r = client
        .get(format!("http://{addr}/api/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // No token set: the main listener does not serve it at all.
    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("PULSE_METRICS_TOKEN")
    );
}

crate::dual_backend_tests!(mod token with &[("PULSE_METRICS_TOKEN", crate::metrics::TOKEN), ("PULSE_EXPORT_CONCURRENCY", "1")];
    access_needs_the_token,
    exports_move_the_counters,
    jobs_move_the_counters_and_keep_the_request_id,
);
crate::dual_backend_tests!(mod queue with &[("PULSE_METRICS_TOKEN", crate::metrics::TOKEN), ("PULSE_WORKERS", "0"), ("PULSE_EXPORT_QUEUE_MAX", "2")];
    queue_depth_and_rejected_jobs,
);
crate::dual_backend_tests!(mod listener with &[("PULSE_METRICS_LISTEN", "127.0.0.1:0")];
    listener_serves_metrics_without_a_token,
);

/// Backups, restores and object-storage requests are counted: an app on a
/// bucket that does not exist yet (it creates it at start) backs up and
/// restores through S3; a store whose endpoint does not answer counts a
/// transport error.
async fn backups_and_object_storage_move_the_counters(backend: Backend) {
    let bucket = format!("pulse-{}", uuid::Uuid::new_v4().simple());
    let mut owned = crate::s3::settings(&bucket);
    owned.push(("PULSE_METRICS_TOKEN".into(), TOKEN.into()));
    let extra: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let app = TestApp::spawn_with(backend, &extra).await;
    seed_synthetic(&app, 200).await;
    let root = app.admin_token().await;
    let series = [
        "pulse_backups_total{kind=\"manual\",outcome=\"done\"}",
        "pulse_backups_total{kind=\"prerestore\",outcome=\"done\"}",
        "pulse_backup_duration_seconds_count{kind=\"manual\",outcome=\"done\"}",
        "pulse_restores_total{outcome=\"done\"}",
        "pulse_restore_duration_seconds_count{outcome=\"done\"}",
        "pulse_s3_requests_total{operation=\"put_object\",outcome=\"ok\"}",
        "pulse_s3_requests_total{operation=\"get_object\",outcome=\"ok\"}",
        "pulse_s3_requests_total{operation=\"head_object\",outcome=\"transport_error\"}",
    ];
    let text = scrape(&app).await;
    let before: Vec<f64> = series.iter().map(|s| value(&text, s)).collect();
    // The bucket was created at start (counted before this test's baseline).
    assert!(
        value(
            &text,
            "pulse_s3_requests_total{operation=\"create_bucket\",outcome=\"ok\"}"
        ) >= 1.0,
        "{text}"
    );
    let leads = value(&text, "pulse_backup_leads_total{kind=\"manual\"}");

    let made = crate::backups::backup_now(&app, &root).await;
    let id = made["id"].as_str().unwrap();
    let r = app
        .post(
            &format!("/api/driver-onboarding/backups/{id}/restore"),
            &root,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let dead = pulse::storage::s3::S3Files::new(pulse::config::S3Config {
        endpoint: "http://127.0.0.1:9".into(),
        region: "us-east-1".into(),
        bucket: bucket.clone(),
        prefix: String::new(),
        access_key: "test".into(),
        secret_key: "test".into(),
        ca_pem: None,
    });
    use pulse::storage::files::FileStore;
    assert!(dead.size("x.csv").await.is_err());

    let text = scrape(&app).await;
    // One backup job, one automatic backup, one restore (two reads of the
    // object: the check, then the replacement); at least, as other tests
    // in this process count too.
    let wanted = [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 1.0];
    for ((s, b), w) in series.iter().zip(&before).zip(wanted) {
        assert!(
            value(&text, s) >= b + w,
            "{s}: {} -> {}\n{text}",
            b,
            value(&text, s)
        );
    }
    assert!(value(&text, "pulse_backup_leads_total{kind=\"manual\"}") >= leads + 200.0);
    assert!(text.contains("# TYPE pulse_s3_requests_total counter"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_backups_and_object_storage_move_the_counters() {
    backups_and_object_storage_move_the_counters(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backups_and_object_storage_move_the_counters() {
    backups_and_object_storage_move_the_counters(Backend::Postgres).await;
}
