//! Issue 19 item 5: the original's large upload on `import-leads` (a form
//! with `read_source_from_file` and without Pulse's `duplicate_action`) is
//! answered 200 at once and held open with whitespace until its import job
//! ends, then in the original's shape, after an automatic pre-import
//! backup; Pulse's own large upload keeps its 202 + job and takes none.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::import_support::{IMPORT, generate, multipart, stored_leads, upload};

const BACKUPS: &str = "/api/driver-onboarding/backups";

async fn backups(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, listed) = status_json(app.get(BACKUPS, token).await).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    listed["backups"].as_array().unwrap().clone()
}

async fn wait_job(app: &TestApp, token: &str, url: &str) -> Value {
    let started = Instant::now();
    loop {
        let (status, job) = status_json(app.get(url, token).await).await;
        assert_eq!(status, StatusCode::OK, "{job}");
        if !["queued", "running"].contains(&job["status"].as_str().unwrap()) {
            return job;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn the_originals_large_upload_is_held_open_until_its_job_ends(app: TestApp) {
    let token = app.admin_token().await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = generate(2500, dir.path(), "csv");
    let csv = std::fs::read_to_string(prefix.with_extension("csv")).unwrap();
    // The first 40 rows, through Pulse's own path: 202 + job, no backup.
    let head: String = csv.lines().take(41).map(|l| format!("{l}\n")).collect();
    let (status, job, _) = upload(
        &app,
        &token,
        &[
            ("duplicate_action", "skip"),
            ("read_source_from_file", "true"),
        ],
        "head.csv",
        head.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["mode"], "job");
    let first = wait_job(&app, &token, job["url"].as_str().unwrap()).await;
    assert_eq!(first["status"], "done", "{first}");
    assert!(
        backups(&app, &token).await.is_empty(),
        "Pulse's path took a backup"
    );
    let before = stored_leads(&app).await.len() as u64;
    assert!(before > 0);

    // The whole file as the original's frontend sends it.
    let (ct, body) = multipart(
        &[
            ("lead_source", ""),
            ("lead_date", "2026-11-30"),
            ("read_source_from_file", "true"),
        ],
        "leads.csv",
        csv.as_bytes(),
    );
    let mut r = app
        .client
        .post(app.url(&format!("{IMPORT}?duplicate_action=skip")))
        .bearer_auth(&token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    let first_chunk = r.chunk().await.unwrap().expect("a first body chunk");
    let first_at = chrono::Utc::now();
    assert!(
        first_chunk[0].is_ascii_whitespace(),
        "first byte {:?}",
        first_chunk[0] as char
    );
    let mut all = first_chunk.to_vec();
    while let Some(c) = r.chunk().await.unwrap() {
        all.extend_from_slice(&c);
    }
    let text = String::from_utf8(all).unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
    assert_eq!(answer["success"], true, "{answer}");
    let job = &answer["job"];
    assert_eq!(job["status"], "done", "{answer}");
    // The whitespace came before the job ended.
    let finished: chrono::DateTime<chrono::Utc> =
        job["finished_at"].as_str().unwrap().parse().unwrap();
    assert!(
        first_at < finished,
        "first byte {first_at}, job done {finished}"
    );
    let result = &job["result"];
    assert_eq!(answer["total_in_file"], 2500, "{answer}");
    assert_eq!(answer["imported_count"], result["inserted"], "{answer}");
    assert_eq!(answer["duplicate_count"], result["skipped_duplicates"]);
    assert!(
        answer["duplicate_count"].as_u64().unwrap() >= before,
        "{answer}"
    );
    assert_eq!(answer["duplicates_found"], true);
    // The skipped rows, read back from the job's report, with the leads
    // they met (every one: fewer than the 1,000 listed at most).
    let dups = answer["duplicates"].as_array().unwrap();
    let phones = answer["duplicate_phones"].as_array().unwrap();
    assert_eq!(
        dups.len() as u64,
        answer["duplicate_count"].as_u64().unwrap()
    );
    assert_eq!(phones.len(), dups.len());
    let stored = stored_leads(&app).await;
    for (d, p) in dups.iter().zip(phones) {
        assert_eq!(&d["phone_number"], p, "{d}");
        assert_eq!(d["normalized_phone"], d["phone_number"], "{d}");
        let lead = stored
            .values()
            .find(|l| l.phone_number == d["existing_phone"].as_str().unwrap())
            .unwrap_or_else(|| panic!("{d}"));
        assert_eq!(d["existing_name"], lead.name.as_str(), "{d}");
        assert_eq!(d["existing_status"], lead.status.as_str(), "{d}");
        assert!(!d["name"].as_str().unwrap().is_empty(), "{d}");
    }
    let after = stored_leads(&app).await.len() as u64;
    assert_eq!(
        after,
        before + answer["imported_count"].as_u64().unwrap(),
        "{answer}"
    );

    // The automatic backup: taken first, of the leads as they were.
    let listed = backups(&app, &token).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], answer["backup_id"], "{listed:?}");
    assert_eq!(listed[0]["kind"], "pre_import");
    assert_eq!(listed[0]["leads"], before);
}

async fn the_originals_failed_job_answers_success_false(app: TestApp) {
    let token = app.admin_token().await;
    // Above the threshold, and not a spreadsheet the importer reads.
    let junk = vec![0xffu8; 4096];
    let (ct, body) = multipart(&[("read_source_from_file", "false")], "junk.csv", &junk);
    let r = app
        .client
        .post(app.url(IMPORT))
        .bearer_auth(&token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.starts_with('\n'), "{text:?}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["success"], false, "{answer}");
    assert!(!answer["detail"].as_str().unwrap().is_empty(), "{answer}");
    assert_eq!(answer["imported_count"], 0);
    assert!(stored_leads(&app).await.is_empty());
}

/// No worker runs: the job stays queued and the answer stays open, a
/// space every 5 s after the first newline (a proxy sees bytes flow).
async fn a_waiting_job_keeps_the_answer_alive(app: TestApp) {
    let token = app.admin_token().await;
    let csv = "name,phone\nAsha Rao,9876500001\nBala Iyer,9876500002\nChitra N,9876500003\n";
    let (ct, body) = multipart(
        &[("read_source_from_file", "true")],
        "three.csv",
        csv.as_bytes(),
    );
    let mut r = app
        .client
        .post(app.url(IMPORT))
        .bearer_auth(&token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let started = Instant::now();
    assert_eq!(&r.chunk().await.unwrap().unwrap()[..], b"\n");
    let second = tokio::time::timeout(Duration::from_secs(15), r.chunk())
        .await
        .expect("a keep-alive byte within 15 s")
        .unwrap()
        .unwrap();
    assert_eq!(&second[..], b" ");
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // The backup was taken before the job was queued; the job waits.
    assert_eq!(backups(&app, &token).await.len(), 1);
    let jobs = app
        .state
        .store
        .list_export_jobs(pulse::store::JobKind::Import, None, 10)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, pulse::store::JobStatus::Queued);
    drop(r);
    assert!(stored_leads(&app).await.is_empty());
}

dual_backend_tests!(
    mod waiting with &[("PULSE_IMPORT_JOB_THRESHOLD", "10"), ("PULSE_WORKERS", "0")];
    a_waiting_job_keeps_the_answer_alive,
);

dual_backend_tests!(
    mod held with &[("PULSE_IMPORT_JOB_THRESHOLD", "100")];
    the_originals_large_upload_is_held_open_until_its_job_ends,
    the_originals_failed_job_answers_success_false,
);

/// Through a real Caddy whose `response_header_timeout` is 1 s: the
/// original's upload whose job waits (no worker) still gets its 200 and
/// headers, the first newline and then a keep-alive space, not a 502.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_held_answer_passes_a_proxy_header_timeout() {
    assert!(
        crate::export_support::which("caddy"),
        "caddy is not on PATH: run scripts/install-test-deps (apt-get install -y caddy)"
    );
    let app = TestApp::spawn_with(
        crate::helpers::Backend::Sqlite,
        &[("PULSE_IMPORT_JOB_THRESHOLD", "10"), ("PULSE_WORKERS", "0")],
    )
    .await;
    let token = app.admin_token().await;
    let dir = tempfile::tempdir().unwrap();
    let (_caddy, port) = crate::caddy::start_caddy(
        dir.path(),
        &[app.addr.to_string()],
        "\t\ttransport http {\n\t\t\tresponse_header_timeout 1s\n\t\t}\n",
    );
    let csv = "name,phone\nAsha Rao,9876500001\nBala Iyer,9876500002\n";
    let (ct, body) = multipart(
        &[
            ("lead_date", "2026-11-30"),
            ("read_source_from_file", "true"),
        ],
        "two.csv",
        csv.as_bytes(),
    );
    let started = Instant::now();
    let mut r = app
        .client
        .post(format!("http://127.0.0.1:{port}{IMPORT}"))
        .bearer_auth(&token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(&r.chunk().await.unwrap().unwrap()[..], b"\n");
    let second = tokio::time::timeout(Duration::from_secs(15), r.chunk())
        .await
        .expect("a keep-alive byte through caddy within 15 s")
        .unwrap()
        .unwrap();
    assert_eq!(&second[..], b" ");
    assert!(
        started.elapsed() > Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}
