//! Streaming exports, on both backends: the files checked by independent
//! readers (openpyxl / LibreOffice via `validate_xlsx.py`, Python's
//! `zipfile`), admission, cancellation, audit, roles.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::export_support::*;
use crate::helpers::{Backend, TestApp, status_json};

const EXPORT: &str = "/api/driver-onboarding/bulk-export";

async fn download(app: &TestApp, token: &str, body: Value, path: &std::path::Path) -> u64 {
    let r = app.post(EXPORT, token, body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let total: u64 = r.headers()["x-total-leads"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    std::fs::write(path, r.bytes().await.unwrap()).unwrap();
    total
}

async fn export_audits(app: &TestApp, token: &str) -> Vec<Value> {
    let (s, body) = status_json(app.get("/api/audit?action=export", token).await).await;
    assert_eq!(s, StatusCode::OK);
    body.as_array().unwrap().clone()
}

/// Polls the audit log until `n` export entries exist.
async fn wait_audits(app: &TestApp, token: &str, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        let a = export_audits(app, token).await;
        if a.len() >= n {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} export audit entries after 5 s");
}

async fn gen_leads_validate(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = gen_leads(dir.path(), Some(10_000));
    let accepted = dir.path().join("accepted.jsonl");
    assert_eq!(load_jsonl(&app, &jsonl, &accepted).await, 10_000);
    let root = app.admin_token().await;
    let full = dir.path().join("full.xlsx");
    assert_eq!(download(&app, &root, json!({}), &full).await, 10_000);
    assert_eq!(xlsx_data_rows(&full), 10_000);
    validate(&full, &accepted, "full", true);
    let (_, admin) = app
        .user_with_role(&root, "admin2@pulse.test", "admin")
        .await;
    let masked = dir.path().join("masked.xlsx");
    download(&app, &admin, json!({}), &masked).await;
    validate(&masked, &accepted, "masked", false);
    let audits = wait_audits(&app, &root, 2).await;
    let d = &audits[0]["details"];
    assert_eq!(d["outcome"], "completed");
    assert_eq!(d["rows"], 10_000);
    assert_eq!(d["masked"], true);
    let bytes = std::fs::read(&masked).unwrap();
    assert_eq!(d["bytes"], bytes.len() as u64);
    use sha2::Digest;
    assert_eq!(d["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
}

async fn adversarial_validate(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = gen_leads(dir.path(), None);
    let accepted = dir.path().join("accepted.jsonl");
    let n = load_jsonl(&app, &jsonl, &accepted).await;
    assert!(n > 30, "only {n} adversarial leads accepted");
    let root = app.admin_token().await;
    let full = dir.path().join("adv.xlsx");
    assert_eq!(download(&app, &root, json!({}), &full).await, n as u64);
    // openpyxl here: LibreOffice's pass counts any text cut at 32,767
    // characters as a mismatch, marker or not (the openpyxl pass accepts the
    // marker), so LibreOffice checks the accepted rows without such text below.
    validate(&full, &accepted, "full", false);
    let (_, ops) = app
        .user_with_role(&root, "ops@pulse.test", "ops_team")
        .await;
    let masked = dir.path().join("adv-masked.xlsx");
    download(&app, &ops, json!({}), &masked).await;
    validate(&masked, &accepted, "masked", false);

    let short = dir.path().join("short.jsonl");
    let kept: Vec<String> = std::fs::read_to_string(&accepted)
        .unwrap()
        .lines()
        .filter(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            !v.as_object().unwrap().values().any(|x| {
                x.as_str()
                    .is_some_and(|s| s.encode_utf16().count() > 32_767)
            })
        })
        .map(String::from)
        .collect();
    assert!(
        kept.len() + 5 >= n,
        "only the few over-long cases are left out"
    );
    std::fs::write(&short, kept.join("\n") + "\n").unwrap();
    let app2 = TestApp::spawn(app.backend).await;
    let short_accepted = dir.path().join("short-accepted.jsonl");
    let m = load_jsonl(&app2, &short, &short_accepted).await;
    let root2 = app2.admin_token().await;
    let lo_file = dir.path().join("adv-short.xlsx");
    assert_eq!(download(&app2, &root2, json!({}), &lo_file).await, m as u64);
    validate(&lo_file, &short_accepted, "full", true);
}

async fn headers_filters_order_and_csv(app: TestApp) {
    seed_synthetic(&app, 3_000).await;
    let root = app.admin_token().await;
    let r = app.post(EXPORT, &root, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(
        h["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let cd = h["content-disposition"].to_str().unwrap();
    assert!(
        cd.starts_with("attachment; filename=\"driver leads export 20"),
        "{cd}"
    );
    assert!(cd.ends_with(".xlsx\""), "{cd}");
    assert_eq!(h["x-total-leads"], "3000");
    let a = r.bytes().await.unwrap();
    let b = app
        .post(EXPORT, &root, json!({}))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(a, b, "same snapshot, same bytes: the order is stable");

    // No body at all = everything, xlsx (the original clients).
    let r = app
        .client
        .post(app.url(EXPORT))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-total-leads"], "3000");

    // Filters (a third are unassigned) and CSV with a column subset.
    let r = app
        .post(
            EXPORT,
            &root,
            json!({"filters": {"unassigned_only": true}, "format": "csv",
                   "columns": ["id", "phone_number", "last_called"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-total-leads"], "1000");
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let text = r.text().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1001);
    assert!(
        lines[0].starts_with("\u{feff}ID,Phone Number,Last Called"),
        "{}",
        lines[0]
    );
    // never-called leads first
    assert!(lines[1].ends_with(','), "{}", lines[1]);

    // GET with the same filters in the query string.
    let r = app
        .get(
            &format!("{EXPORT}?unassigned_only=true&search=9000000003&format=csv"),
            &root,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-total-leads"], "1");

    // A browser link: the session cookie alone, no bearer token.
    let login = app
        .login(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let r = app
        .client
        .get(app.url(&format!("{EXPORT}?format=csv&columns=id")))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-total-leads"], "3000");
    assert_eq!(r.text().await.unwrap().split("\r\n").count(), 3002);

    // Bad input is a 422, not a broken file.
    let (s, _) = status_json(app.post(EXPORT, &root, json!({"columns": ["nope"]})).await).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = status_json(app.post(EXPORT, &root, json!({"format": "pdf"})).await).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A misspelt filter must not widen the export to every lead.
    let (s, body) = status_json(
        app.post(EXPORT, &root, json!({"filters": {"stagex": "S1"}}))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("stagex"),
        "{body}"
    );
    // The JSON body takes a boolean, the query string text; both mean the same.
    let r = app
        .post(
            EXPORT,
            &root,
            json!({"filters": {"unassigned_only": true, "stage": "all"}, "format": "csv"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let by_body = r.headers()["x-total-leads"].clone();
    let r = app
        .get(&format!("{EXPORT}?unassigned_only=true&format=csv"), &root)
        .await;
    assert_eq!(r.headers()["x-total-leads"], by_body);
}

async fn roles(app: TestApp) {
    let root = app.admin_token().await;
    for (email, role) in [
        ("tc@pulse.test", "telecaller"),
        ("std@pulse.test", "standard"),
    ] {
        let (_, t) = app.user_with_role(&root, email, role).await;
        let (s, _) = status_json(app.post(EXPORT, &t, json!({})).await).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role}");
        let (s, _) = status_json(app.get(EXPORT, &t).await).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role}");
        let (s, _) = status_json(
            app.post(
                "/api/driver-onboarding/batch-export-zip",
                &t,
                json!({"batch_size": 10}),
            )
            .await,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role}");
    }
    let r = app.client.post(app.url(EXPORT)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn batch_zip(app: TestApp) {
    seed_synthetic(&app, 2_500).await;
    let root = app.admin_token().await;
    let r = app
        .post(
            "/api/driver-onboarding/batch-export-zip",
            &root,
            json!({"batch_size": 1000}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert_eq!(r.headers()["x-total-leads"], "2500");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("b.zip");
    std::fs::write(&p, r.bytes().await.unwrap()).unwrap();
    assert_eq!(xlsx_data_rows(&p), 2500);
}

async fn client_gone_aborts(app: TestApp) {
    seed_synthetic(&app, 200_000).await;
    let root = app.admin_token().await;
    let mut r = app.post(EXPORT, &root, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let first = r.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"PK\x03\x04"));
    // A slow client: the writer waits (backpressure) instead of buffering.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let gone = std::time::Instant::now();
    drop(r);
    let a = wait_audits(&app, &root, 1).await;
    // The writer stops at its next chunk; the audit follows at once.
    assert!(
        gone.elapsed() < Duration::from_secs(2),
        "{:?}",
        gone.elapsed()
    );
    let d = &a[0]["details"];
    assert_eq!(d["outcome"], "aborted", "{d}");
    assert!(d["rows"].as_u64().unwrap() < 200_000, "{d}");
    assert_eq!(d["total"], 200_000);
}

async fn excess_exports_get_503(app: TestApp) {
    seed_synthetic(&app, 200_000).await;
    let root = app.admin_token().await;
    // PULSE_EXPORT_CONCURRENCY=1: the first export holds the permit while
    // its body is unread.
    let mut first = app.post(EXPORT, &root, json!({})).await;
    assert_eq!(first.status(), StatusCode::OK);
    first.chunk().await.unwrap();
    // It waits for the permit (a burst is absorbed), then is refused: never a hang.
    let started = std::time::Instant::now();
    let r = app.post(EXPORT, &root, json!({})).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(6));
    assert!(r.headers().contains_key("retry-after"));
    // Reading the first to its end releases the permit.
    let mut n = 0usize;
    while let Some(c) = first.chunk().await.unwrap() {
        n += c.len();
    }
    assert!(n > 0);
    wait_audits(&app, &root, 1).await;
    let r = app.post(EXPORT, &root, json!({"columns": ["id"]})).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.bytes().await.unwrap();
}

async fn spawn_one_permit(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, &[("PULSE_EXPORT_CONCURRENCY", "1")]).await
}

mod admission {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_excess_exports_get_503() {
        super::excess_exports_get_503(super::spawn_one_permit(super::Backend::Sqlite).await).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_excess_exports_get_503() {
        super::excess_exports_get_503(super::spawn_one_permit(super::Backend::Postgres).await).await
    }
}

dual_backend_tests!(
    gen_leads_validate,
    adversarial_validate,
    headers_filters_order_and_csv,
    roles,
    batch_zip,
    client_gone_aborts,
);
