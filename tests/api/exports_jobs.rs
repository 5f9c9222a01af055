//! Background export jobs, on both backends: create → poll → done →
//! download (whole, by range, resumed) → the workbook checked by openpyxl;
//! progress events to the end; other users' jobs; admission (429 per user,
//! 503 for the queue); cancel (queued and running); expiry.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use sha2::Digest;

use crate::dual_backend_tests;
use crate::export_support::*;
use crate::helpers::{TestApp, status_json};

async fn create_job(app: &TestApp, token: &str, body: Value) -> Value {
    let (s, job) = status_json(app.post("/api/exports", token, body).await).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["status"], "queued");
    job
}

async fn job(app: &TestApp, token: &str, id: &str) -> Value {
    let (s, job) = status_json(app.get(&format!("/api/exports/{id}"), token).await).await;
    assert_eq!(s, StatusCode::OK, "{job}");
    job
}

/// Polls the job until `done(job)` or panics after `secs`.
async fn wait_for(
    app: &TestApp,
    token: &str,
    id: &str,
    secs: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let j = job(app, token, id).await;
        if done(&j) {
            return j;
        }
        assert!(Instant::now() < deadline, "job did not get there: {j}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_status(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    wait_for(app, token, id, 60, |j| j["status"] == status).await
}

fn id_of(job: &Value) -> String {
    job["id"].as_str().unwrap().to_string()
}

async fn download(
    app: &TestApp,
    token: &str,
    id: &str,
    range: Option<(&str, Option<&str>)>,
) -> reqwest::Response {
    let mut rb = app
        .client
        .get(app.url(&format!("/api/exports/{id}/download")))
        .bearer_auth(token);
    if let Some((range, if_range)) = range {
        rb = rb.header(header::RANGE, range);
        if let Some(tag) = if_range {
            rb = rb.header(header::IF_RANGE, tag);
        }
    }
    rb.send().await.unwrap()
}

/// The files (published and partial) in the app's export directory.
fn export_files(app: &TestApp) -> Vec<String> {
    match std::fs::read_dir(app.dir.path().join("exports")) {
        Ok(d) => d
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

async fn round_trip_and_resume(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = gen_leads(dir.path(), Some(2_000));
    let accepted = dir.path().join("accepted.jsonl");
    assert_eq!(load_jsonl(&app, &jsonl, &accepted).await, 2_000);
    let root = app.admin_token().await;
    let (_, admin) = app
        .user_with_role(&root, "jobs.admin@pulse.test", "admin")
        .await;

    let created = create_job(&app, &admin, json!({"format": "xlsx"})).await;
    assert_eq!(created["masked"], true, "an admin's export is masked");
    let id = id_of(&created);
    let done = wait_status(&app, &admin, &id, "done").await;
    assert_eq!(done["rows_total"], 2_000);
    assert_eq!(done["rows_done"], 2_000);
    assert_eq!(done["attempts"], 1);
    assert_eq!(done["download_url"], format!("/api/exports/{id}/download"));
    assert!(done["error"].is_null());

    // The whole file: size, checksum, ETag.
    let r = download(&app, &admin, &id, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    let whole = r.bytes().await.unwrap();
    assert_eq!(h[header::CONTENT_LENGTH], whole.len().to_string().as_str());
    assert_eq!(done["bytes"], whole.len() as u64);
    assert_eq!(h[header::ACCEPT_RANGES], "bytes");
    let sha = sha2::Sha256::digest(&whole);
    assert_eq!(done["sha256"], hex::encode(sha));
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(sha);
    assert_eq!(h["digest"], format!("sha-256={b64}").as_str());
    assert_eq!(h["repr-digest"], format!("sha-256=:{b64}:").as_str());
    let etag = h[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{}\"", hex::encode(sha)));

    // An interrupted download resumes: the first part, then the rest under If-Range.
    let cut = whole.len() / 3;
    let r = download(
        &app,
        &admin,
        &id,
        Some((&format!("bytes=0-{}", cut - 1), None)),
    )
    .await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers()[header::CONTENT_RANGE],
        format!("bytes 0-{}/{}", cut - 1, whole.len()).as_str()
    );
    let mut resumed = r.bytes().await.unwrap().to_vec();
    assert_eq!(resumed.len(), cut);
    let r = download(
        &app,
        &admin,
        &id,
        Some((&format!("bytes={cut}-"), Some(&etag))),
    )
    .await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers()[header::CONTENT_LENGTH],
        (whole.len() - cut).to_string().as_str()
    );
    resumed.extend_from_slice(&r.bytes().await.unwrap());
    assert!(resumed == whole, "resumed download differs");
    // A suffix range.
    let r = download(&app, &admin, &id, Some(("bytes=-10", None))).await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.bytes().await.unwrap()[..], &whole[whole.len() - 10..]);
    // If-Range naming another file: the whole file, 200.
    let r = download(
        &app,
        &admin,
        &id,
        Some(("bytes=5-", Some("\"not-this-one\""))),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().len(), whole.len());
    // Past the end: 416 with the size.
    let r = download(
        &app,
        &admin,
        &id,
        Some((&format!("bytes={}-", whole.len()), None)),
    )
    .await;
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.headers()[header::CONTENT_RANGE],
        format!("bytes */{}", whole.len()).as_str()
    );

    // The workbook itself, read by openpyxl against the source leads.
    let path = dir.path().join("job.xlsx");
    std::fs::write(&path, &whole).unwrap();
    assert_eq!(xlsx_data_rows(&path), 2_000);
    validate(&path, &accepted, "masked", false);

    // A csv job of a filtered, column-chosen export.
    let csv = create_job(
        &app,
        &root,
        json!({"format": "csv", "columns": ["name", "phone_number", "dl_no"], "filters": {"stage": "S1"}}),
    )
    .await;
    assert_eq!(csv["masked"], false, "master_admin's export is unmasked");
    let csv_done = wait_status(&app, &root, &id_of(&csv), "done").await;
    let r = download(&app, &root, &id_of(&csv), None).await;
    assert_eq!(r.headers()[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let text = r.text().await.unwrap();
    let lines = text.lines().count() as u64;
    assert_eq!(
        lines,
        csv_done["rows_total"].as_u64().unwrap() + 1,
        "header + rows"
    );
    assert!(
        text.trim_start_matches('\u{feff}').starts_with("Name,"),
        "{}",
        &text[..40]
    );

    // Creation and completion are audited, with the file's hash.
    let (_, audit) = status_json(app.get("/api/audit?action=export_job.done", &root).await).await;
    let entry = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["details"]["job_id"] == id.as_str())
        .expect("a done audit entry");
    assert_eq!(entry["actor_email"], "jobs.admin@pulse.test");
    assert_eq!(entry["details"]["sha256"], hex::encode(sha));
    assert_eq!(entry["details"]["rows"], 2_000);
    let (_, audit) = status_json(app.get("/api/audit?action=export_job.create", &root).await).await;
    assert_eq!(audit.as_array().unwrap().len(), 2);
}

/// Reads a server-sent event stream to its end: (event, data) pairs.
async fn read_events(resp: reqwest::Response) -> Vec<(String, Value)> {
    let mut events = Vec::new();
    let mut buf = String::new();
    let mut body = resp.bytes_stream();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let next = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("event stream ended in time");
        let Some(chunk) = next else { break };
        buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if !data.is_empty() {
                events.push((name, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    events
}

async fn progress_events_to_the_end(app: TestApp) {
    seed_synthetic(&app, 120_000).await;
    let root = app.admin_token().await;
    let id = id_of(&create_job(&app, &root, json!({})).await);
    // Cookie authentication works too (the browser's EventSource sends the cookie).
    let login = app
        .login(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    let cookie = login.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let resp = app
        .client
        .get(app.url(&format!("/api/exports/{id}/events")))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = read_events(resp).await;
    let (last_name, last) = events.last().expect("some events");
    assert_eq!(last_name, "end");
    assert_eq!(last["status"], "done");
    assert_eq!(last["rows_done"], 120_000);
    let progress: Vec<i64> = events
        .iter()
        .filter(|(n, _)| n == "progress")
        .map(|(_, v)| v["rows_done"].as_i64().unwrap())
        .collect();
    assert!(!progress.is_empty(), "no progress events: {events:?}");
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert!(
        progress.iter().any(|&n| n > 0 && n < 120_000),
        "no intermediate progress: {progress:?}"
    );
    assert_eq!(events.iter().filter(|(n, _)| n == "end").count(), 1);
    // A finished job's stream is its final state at once.
    let resp = app.get(&format!("/api/exports/{id}/events"), &root).await;
    let again = read_events(resp).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, "end");
}

async fn jobs_are_private_but_master_admin_sees_all(app: TestApp) {
    seed_synthetic(&app, 50).await;
    let root = app.admin_token().await;
    let (_, a) = app
        .user_with_role(&root, "a.ops@pulse.test", "ops_team")
        .await;
    let (_, b) = app
        .user_with_role(&root, "b.admin@pulse.test", "admin")
        .await;
    let (_, tc) = app
        .user_with_role(&root, "c.tc@pulse.test", "telecaller")
        .await;
    let a_job = id_of(&create_job(&app, &a, json!({"format": "csv"})).await);
    let b_job = id_of(&create_job(&app, &b, json!({})).await);
    wait_status(&app, &a, &a_job, "done").await;
    wait_status(&app, &b, &b_job, "done").await;

    for path in ["", "/download", "/events"] {
        let r = app.get(&format!("/api/exports/{a_job}{path}"), &b).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "GET {path}");
        let (_, body) = status_json(r).await;
        assert_eq!(body["detail"], "no such export job");
    }
    let r = app
        .post(&format!("/api/exports/{a_job}/cancel"), &b, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let unknown = uuid::Uuid::new_v4();
    let r = app.get(&format!("/api/exports/{unknown}"), &a).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let ids =
        |v: &Value| -> Vec<String> { v["jobs"].as_array().unwrap().iter().map(id_of).collect() };
    let (_, mine) = status_json(app.get("/api/exports", &a).await).await;
    assert_eq!(ids(&mine), vec![a_job.clone()]);
    let (_, all) = status_json(app.get("/api/exports", &root).await).await;
    assert_eq!(
        ids(&all),
        vec![b_job.clone(), a_job.clone()],
        "newest first"
    );
    assert_eq!(
        job(&app, &root, &a_job).await["owner_email"],
        "a.ops@pulse.test"
    );
    assert_eq!(
        download(&app, &root, &a_job, None).await.status(),
        StatusCode::OK
    );

    // Roles without the export capability: 403; bad requests: 422 like the stream.
    let r = app.post("/api/exports", &tc, json!({})).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/exports", &tc).await.status(),
        StatusCode::FORBIDDEN
    );
    for (body, needle) in [
        (json!({"format": "pdf"}), "format"),
        (json!({"columns": ["name", "shoe_size"]}), "shoe_size"),
        (json!({"filters": {"colour": "red"}}), "colour"),
        (json!({"filters": {"stage": "S9"}}), "stage"),
        (json!({"surprise": 1}), "surprise"),
    ] {
        let (s, e) = status_json(app.post("/api/exports", &a, body.clone()).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            e["detail"].as_str().unwrap().contains(needle),
            "{body}: {e}"
        );
    }
}

/// No workers here (jobs stay queued), 2 jobs per user, 3 in all.
async fn admission_and_cancel_of_queued_jobs(app: TestApp) {
    let root = app.admin_token().await;
    let (_, a) = app
        .user_with_role(&root, "a.admin@pulse.test", "admin")
        .await;
    let (_, b) = app
        .user_with_role(&root, "b.admin@pulse.test", "admin")
        .await;
    let first = id_of(&create_job(&app, &a, json!({})).await);
    create_job(&app, &a, json!({})).await;
    let started = Instant::now();
    let r = app.post("/api/exports", &a, json!({})).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key(header::RETRY_AFTER));
    let (_, e) = status_json(r).await;
    assert!(e["detail"].as_str().unwrap().contains("limit is 2"), "{e}");
    create_job(&app, &b, json!({})).await;
    let r = app.post("/api/exports", &b, json!({})).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key(header::RETRY_AFTER));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "admission must answer at once"
    );

    // Cancelling a queued job frees its place; cancelling twice is fine;
    // a cancelled job has no file.
    let (s, c) = status_json(
        app.post(&format!("/api/exports/{first}/cancel"), &a, json!({}))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["status"], "cancelled");
    assert!(c["finished_at"].is_string());
    let r = app
        .post(&format!("/api/exports/{first}/cancel"), &a, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = download(&app, &a, &first, None).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    create_job(&app, &a, json!({})).await;
    let (_, audit) = status_json(app.get("/api/audit?action=export_job.cancel", &root).await).await;
    assert_eq!(audit.as_array().unwrap().len(), 1);
}

async fn cancel_stops_a_running_job(app: TestApp) {
    seed_synthetic(&app, 400_000).await;
    let root = app.admin_token().await;
    let id = id_of(&create_job(&app, &root, json!({})).await);
    wait_for(&app, &root, &id, 60, |j| {
        j["status"] == "running" && j["rows_done"].as_i64().unwrap_or(0) > 0
    })
    .await;
    assert!(
        export_files(&app).iter().any(|f| f.ends_with(".part")),
        "a running job writes a temporary file"
    );
    let (s, c) = status_json(
        app.post(&format!("/api/exports/{id}/cancel"), &root, json!({}))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["status"], "cancelled");
    // The worker notices within about a second and removes its file.
    let cancelled = Instant::now();
    while !export_files(&app).is_empty() {
        assert!(
            cancelled.elapsed() < Duration::from_secs(2),
            "files left after cancel: {:?}",
            export_files(&app)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let j = job(&app, &root, &id).await;
    assert_eq!(j["status"], "cancelled");
    assert!(j["rows_done"].as_i64().unwrap() < 400_000, "{j}");
    let r = app
        .post(&format!("/api/exports/{id}/cancel"), &root, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // A done job cannot be cancelled.
    let next = id_of(&create_job(&app, &root, json!({"filters": {"search": "Lead 7"}})).await);
    wait_status(&app, &root, &next, "done").await;
    let r = app
        .post(&format!("/api/exports/{next}/cancel"), &root, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

/// Files kept 2 s, clean-up every second.
async fn finished_files_expire(app: TestApp) {
    seed_synthetic(&app, 100).await;
    let root = app.admin_token().await;
    let id = id_of(&create_job(&app, &root, json!({})).await);
    let done = wait_status(&app, &root, &id, "done").await;
    assert!(done["expires_at"].is_string());
    assert_eq!(
        download(&app, &root, &id, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(export_files(&app).len(), 1);
    let expired = wait_for(&app, &root, &id, 10, |j| j["status"] == "expired").await;
    assert!(expired["download_url"].is_null());
    let r = download(&app, &root, &id, None).await;
    assert_eq!(r.status(), StatusCode::GONE);
    let (_, e) = status_json(r).await;
    assert!(e["detail"].as_str().unwrap().contains("expired"), "{e}");
    // The clean-up deletes the file itself.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !export_files(&app).is_empty() {
        assert!(Instant::now() < deadline, "{:?}", export_files(&app));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

dual_backend_tests!(
    round_trip_and_resume,
    progress_events_to_the_end,
    jobs_are_private_but_master_admin_sees_all,
    cancel_stops_a_running_job,
);

dual_backend_tests!(
    mod limits with &[
        ("PULSE_WORKERS", "0"),
        ("PULSE_EXPORT_JOBS_PER_USER", "2"),
        ("PULSE_EXPORT_QUEUE_MAX", "3"),
    ];
    admission_and_cancel_of_queued_jobs,
);

dual_backend_tests!(
    mod short_retention with &[
        ("PULSE_EXPORT_RETENTION", "2s"),
        ("PULSE_EXPORT_CLEANUP_INTERVAL", "1"),
    ];
    finished_files_expire,
);

dual_backend_tests!(mod demotion with &[]; unmasked_files_are_not_served_to_a_demoted_owner);

/// M2: a master_admin's job file is unmasked; once its owner is demoted the file (and
/// the job) is gone for them, while the master_admin who demoted them still sees it.
async fn unmasked_files_are_not_served_to_a_demoted_owner(app: TestApp) {
    seed_synthetic(&app, 50).await;
    let m1 = app.admin_token().await;
    let r = app
        .post(
            "/api/users",
            &m1,
            json!({ "email": "m2@pulse.test", "password": "user-password-1",
                    "account_type": "master_admin", "first_name": "M", "last_name": "Two" }),
        )
        .await;
    let (s, body) = status_json(r).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let m2_id = body["user"]["id"].as_str().unwrap().to_string();
    let m2 = app.token("m2@pulse.test", "user-password-1").await;
    let job = create_job(&app, &m2, json!({ "format": "csv" })).await;
    let id = id_of(&job);
    let done = wait_status(&app, &m2, &id, "done").await;
    assert_eq!(done["masked"], false);
    let r = app
        .patch(
            &format!("/api/users/{m2_id}"),
            &m1,
            json!({ "account_type": "admin" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let m2 = app.token("m2@pulse.test", "user-password-1").await;
    let r = app.get(&format!("/api/exports/{id}"), &m2).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.get(&format!("/api/exports/{id}/download"), &m2).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, list) = status_json(app.get("/api/exports", &m2).await).await;
    assert!(list["jobs"].as_array().unwrap().is_empty(), "{list}");
    let r = app.get(&format!("/api/exports/{id}/download"), &m1).await;
    assert_eq!(r.status(), StatusCode::OK);
}
