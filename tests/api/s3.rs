//! Object storage on a real S3-compatible server (moto, started by
//! `scripts/s3-test-server`): the FileStore's contract (nothing visible
//! before publish, a dropped writer aborts its multipart upload, ranged
//! reads), and export jobs and backups through it end to end.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt;
use pulse::config::S3Config;
use pulse::storage::files::FileStore;
use pulse::storage::s3::S3Files;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::export_support::seed_synthetic;
use crate::helpers::{Backend, TestApp, status_json};

/// The test S3 endpoint.
pub fn endpoint() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/s3-test-server");
        let out = std::process::Command::new(script)
            .output()
            .expect("run scripts/s3-test-server");
        assert!(
            out.status.success(),
            "scripts/s3-test-server failed (run scripts/install-test-deps):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// A fresh bucket; returns its name.
pub async fn fresh_bucket() -> String {
    let bucket = format!("pulse-{}", uuid::Uuid::new_v4().simple());
    store(&bucket, "").ensure_bucket().await.unwrap();
    bucket
}

pub fn store(bucket: &str, prefix: &str) -> S3Files {
    S3Files::new(S3Config {
        endpoint: endpoint().to_string(),
        region: "us-east-1".into(),
        bucket: bucket.into(),
        prefix: prefix.into(),
        access_key: "test".into(),
        secret_key: "test".into(),
        ca_pem: None,
    })
}

/// The settings that put an app's files in `bucket`.
pub fn settings(bucket: &str) -> Vec<(String, String)> {
    vec![
        ("PULSE_STORAGE_URL".into(), format!("s3://{bucket}/pulse")),
        ("PULSE_S3_ENDPOINT".into(), endpoint().into()),
        ("PULSE_S3_REGION".into(), "us-east-1".into()),
        ("PULSE_S3_ACCESS_KEY_ID".into(), "test".into()),
        ("PULSE_S3_SECRET_ACCESS_KEY".into(), "test".into()),
    ]
}

async fn read_all(files: &S3Files, key: &str, start: u64, end: u64) -> Vec<u8> {
    let mut s = files.read(key, start, end).await.unwrap();
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_publish_abort_and_ranges() {
    let bucket = fresh_bucket().await;
    let files = store(&bucket, "p/exports");
    // 19 MiB + a bit: two full 8 MiB parts and a short last one.
    let data: Vec<u8> = (0..19 * 1024 * 1024 + 12345u32)
        .map(|i| (i % 251) as u8)
        .collect();
    let f2 = files.clone();
    let d2 = data.clone();
    tokio::task::spawn_blocking(move || {
        let mut f = f2.create("big-1.csv").unwrap();
        for chunk in d2.chunks(100_000) {
            f.write_all(chunk).unwrap();
        }
        // Not visible, but an upload is in progress.
        let rt = tokio::runtime::Handle::current();
        assert_eq!(rt.block_on(f2.size("big-1.csv")).unwrap(), None);
        let listed = rt.block_on(f2.list()).unwrap();
        assert!(
            listed.iter().any(|s| s.key == "big-1.csv" && s.partial),
            "{listed:?}"
        );
        f.publish().unwrap();
    })
    .await
    .unwrap();
    assert_eq!(
        files.size("big-1.csv").await.unwrap(),
        Some(data.len() as u64)
    );
    assert_eq!(
        read_all(&files, "big-1.csv", 0, data.len() as u64).await,
        data
    );
    let (a, b) = (8 * 1024 * 1024 - 10, 8 * 1024 * 1024 + 10);
    assert_eq!(
        read_all(&files, "big-1.csv", a, b).await,
        &data[a as usize..b as usize]
    );

    // A writer dropped after a part was uploaded publishes nothing and
    // leaves no upload behind.
    let f2 = files.clone();
    tokio::task::spawn_blocking(move || {
        let mut f = f2.create("dropped-1.csv").unwrap();
        f.write_all(&vec![7u8; 9 * 1024 * 1024]).unwrap();
        drop(f);
    })
    .await
    .unwrap();
    let mut left = Vec::new();
    for _ in 0..50 {
        left = files.list().await.unwrap();
        if !left.iter().any(|s| s.key == "dropped-1.csv") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!left.iter().any(|s| s.key == "dropped-1.csv"), "{left:?}");
    assert_eq!(files.size("dropped-1.csv").await.unwrap(), None);

    // A small file is one PUT; delete removes it; keys are checked.
    let f2 = files.clone();
    tokio::task::spawn_blocking(move || {
        let mut f = f2.create("small-1.csv").unwrap();
        f.write_all(b"hello").unwrap();
        f.publish().unwrap();
    })
    .await
    .unwrap();
    assert_eq!(read_all(&files, "small-1.csv", 1, 4).await, b"ell");
    let keys: Vec<String> = files
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    files.delete("small-1.csv").await.unwrap();
    files.delete("small-1.csv").await.unwrap();
    assert_eq!(files.size("small-1.csv").await.unwrap(), None);
    assert!(files.create("../x").is_err());
}

async fn jobs_and_backups_in_object_storage(backend: Backend) {
    let bucket = fresh_bucket().await;
    let owned = settings(&bucket);
    let extra: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let app = TestApp::spawn_with(backend, &extra).await;
    seed_synthetic(&app, 120_000).await;
    let root = app.admin_token().await;
    let (status, job) = status_json(
        app.post("/api/exports", &root, json!({"format": "csv"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().unwrap().to_string();
    let mut done = Value::Null;
    for _ in 0..600 {
        done = status_json(app.get(&format!("/api/exports/{id}"), &root).await)
            .await
            .1;
        if done["status"] == "done" || done["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(done["status"], "done", "{done}");
    let bytes = done["bytes"].as_u64().unwrap();
    assert!(
        bytes > 8 * 1024 * 1024,
        "the file should need a multipart upload: {bytes}"
    );
    // Nothing on the local disk; the object is in the bucket.
    assert!(!app.dir.path().join("exports").exists());
    let r = app.get(&format!("/api/exports/{id}/download"), &root).await;
    assert_eq!(r.status(), StatusCode::OK);
    let whole = r.bytes().await.unwrap();
    assert_eq!(whole.len() as u64, bytes);
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&whole)),
        done["sha256"].as_str().unwrap()
    );
    let r = app
        .client
        .get(app.url(&format!("/api/exports/{id}/download")))
        .bearer_auth(&root)
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap(), whole.slice(1000..2000));

    // Backups (a job) go to the bucket too, and a restore streams the
    // object back.
    let made = crate::backups::backup_now(&app, &root).await;
    assert_eq!(made["leads"], 120_000);
    assert!(!app.dir.path().join("backups").exists());
    let listed = store(&bucket, "pulse/backups").list().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let id = made["id"].as_str().unwrap();
    let (status, done) = status_json(
        app.post(
            &format!("/api/driver-onboarding/backups/{id}/restore"),
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["restored"], 120_000);
    assert_eq!(done["replaced"], 120_000);
    let listed = store(&bucket, "pulse/backups").list().await.unwrap();
    assert_eq!(
        listed.len(),
        2,
        "the automatic backup is there too: {listed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_jobs_and_backups_in_object_storage() {
    jobs_and_backups_in_object_storage(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_jobs_and_backups_in_object_storage() {
    jobs_and_backups_in_object_storage(Backend::Postgres).await;
}

/// Several processes starting at once on a bucket that does not exist yet:
/// each creates it or finds it made, none fails; and an app started on a
/// new bucket name creates it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bucket_is_created_at_start() {
    let bucket = format!("pulse-{}", uuid::Uuid::new_v4().simple());
    assert!(
        store(&bucket, "").list().await.is_err(),
        "no such bucket yet"
    );
    let stores: Vec<S3Files> = (0..4).map(|_| store(&bucket, "")).collect();
    let made = futures_util::future::join_all(stores.iter().map(|s| s.ensure_bucket())).await;
    for r in made {
        r.unwrap();
    }
    store(&bucket, "").ensure_bucket().await.unwrap();
    assert_eq!(store(&bucket, "").list().await.unwrap().len(), 0);

    let fresh = format!("pulse-{}", uuid::Uuid::new_v4().simple());
    let owned = settings(&fresh);
    let extra: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let _app = TestApp::spawn_with(Backend::Sqlite, &extra).await;
    assert!(
        store(&fresh, "").list().await.is_ok(),
        "the app created its bucket"
    );
}

/// An `https://` endpoint: moto behind Caddy with `tls internal` (its own
/// private CA). With `PULSE_S3_CA_FILE` naming that CA the app creates its
/// bucket and a backup job lands in it; without it, the certificate is
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_storage_over_tls_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::caddy::free_port();
    let upstream = endpoint().trim_start_matches("http://").to_string();
    let config = format!(
        "{{\n\tadmin off\n\tskip_install_trust\n}}\n\nhttps://127.0.0.1:{port} {{\n\ttls internal\n\treverse_proxy {upstream}\n}}\n"
    );
    let _caddy = crate::caddy::run_caddyfile(dir.path(), &config, port);
    let root = dir.path().join("caddy/pki/authorities/local/root.crt");
    for _ in 0..100 {
        if root.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(root.exists(), "caddy made no local CA");
    let https = format!("https://127.0.0.1:{port}");
    let bucket = format!("pulse-{}", uuid::Uuid::new_v4().simple());

    // Without the private CA: refused, and said so.
    let untrusting = S3Files::new(S3Config {
        endpoint: https.clone(),
        region: "us-east-1".into(),
        bucket: bucket.clone(),
        prefix: String::new(),
        access_key: "test".into(),
        secret_key: "test".into(),
        ca_pem: None,
    });
    let refused = untrusting.ensure_bucket().await.unwrap_err();
    assert!(
        refused.to_string().contains("checking the bucket"),
        "{refused}"
    );

    let mut owned = settings(&bucket);
    for (k, v) in owned.iter_mut() {
        if k == "PULSE_S3_ENDPOINT" {
            *v = https.clone();
        }
    }
    owned.push(("PULSE_S3_CA_FILE".into(), root.display().to_string()));
    let extra: Vec<(&str, &str)> = owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let app = TestApp::spawn_with(Backend::Sqlite, &extra).await;
    seed_synthetic(&app, 300).await;
    let token = app.admin_token().await;
    let made = crate::backups::backup_now(&app, &token).await;
    assert_eq!(made["leads"], 300);
    let r = app
        .get(made["download_url"].as_str().unwrap(), &token)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.bytes().await.unwrap().len() as u64,
        made["bytes"].as_u64().unwrap()
    );
    // Through plain HTTP to moto directly: the same object.
    let listed = store(&bucket, "pulse/backups").list().await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
}
