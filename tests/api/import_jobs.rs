//! Uploads above `PULSE_IMPORT_JOB_THRESHOLD` run as background import
//! jobs (issue 7): 202 with the job, progress and counts by polling, the
//! report as the job's file, audit, failures with a reason and nothing
//! written, privacy, cancel.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::import_support::{IMPORT, generate, leads_of_jsonl, stored_leads, upload};

/// Polls the job until it is final (or 60 s pass).
async fn wait_final(app: &TestApp, token: &str, url: &str) -> Value {
    let started = Instant::now();
    loop {
        let (status, job) = status_json(app.get(url, token).await).await;
        assert_eq!(status, StatusCode::OK, "{job}");
        let s = job["status"].as_str().unwrap().to_owned();
        if !["queued", "running"].contains(&s.as_str()) {
            return job;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "import job not finished: {job}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_large_upload_runs_as_a_job(app: TestApp) {
    let token = app.admin_token().await;
    let dir = tempfile::tempdir().unwrap();
    let prefix = generate(2500, dir.path(), "csv,jsonl");
    let expected = leads_of_jsonl(&prefix.with_extension("jsonl"));
    let csv = std::fs::read(prefix.with_extension("csv")).unwrap();
    let (status, job, _) = upload(
        &app,
        &token,
        &[("duplicate_action", "skip"), ("lead_source", "Job Portal")],
        "leads.csv",
        &csv,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["mode"], "job");
    assert_eq!(job["file_name"], "leads.csv");
    assert!(["queued", "running"].contains(&job["status"].as_str().unwrap()));
    let url = job["url"].as_str().unwrap().to_owned();
    assert_eq!(
        url,
        format!("{IMPORT}/jobs/{}", job["id"].as_str().unwrap())
    );

    let done = wait_final(&app, &token, &url).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["committed"], true);
    let r = &done["result"];
    assert_eq!(r["rows_read"], 2500, "{done}");
    assert_eq!(r["format"], "csv");
    let inserted = r["inserted"].as_u64().unwrap();
    let skipped = r["skipped_duplicates"].as_u64().unwrap();
    let rejected = r["rejected"].as_u64().unwrap();
    assert_eq!(inserted + skipped + rejected, 2500, "{done}");
    assert_eq!(done["rows_done"], 2500);
    // Exactly the file's leads are stored, under their ids.
    let stored = stored_leads(&app).await;
    assert_eq!(stored.len() as u64, inserted);
    for (id, lead) in &stored {
        let want = expected.get(id).expect("a lead of the file");
        assert_eq!(lead.phone_number, want.phone_number);
        assert_eq!(lead.name, want.name);
    }

    // The report is the job's file: one line per reported row.
    let report_url = done["report_url"].as_str().unwrap();
    let r2 = app.get(report_url, &token).await;
    assert_eq!(r2.status(), StatusCode::OK);
    assert!(
        r2.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let report = r2.text().await.unwrap();
    let lines = report.lines().count() as u64;
    assert_eq!(lines, 1 + done["result"]["report_lines"].as_u64().unwrap());

    // Audited like a synchronous import, with the job's id.
    let (_, audit) = status_json(app.get("/api/audit?action=import", &token).await).await;
    let entries = audit.as_array().expect("audit entries");
    let entry = entries
        .iter()
        .find(|e| e["details"]["job_id"] == done["id"])
        .unwrap_or_else(|| panic!("no audit entry for the job: {audit}"));
    assert_eq!(entry["details"]["via"], "job");
    assert_eq!(entry["details"]["outcome"], "committed");
    assert_eq!(entry["details"]["counts"]["inserted"], inserted);

    // The same file again with replace: every row is a duplicate, none changes.
    let (status, job, _) = upload(
        &app,
        &token,
        &[("duplicate_action", "replace")],
        "leads.csv",
        &csv,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let again = wait_final(&app, &token, job["url"].as_str().unwrap()).await;
    assert_eq!(again["status"], "done", "{again}");
    assert_eq!(again["result"]["inserted"], 0, "{again}");
    assert_eq!(again["result"]["updated"], 0, "{again}");
    assert_eq!(stored_leads(&app).await, stored);
}

async fn a_bad_file_fails_the_job_and_writes_nothing(app: TestApp) {
    let token = app.admin_token().await;
    // Good rows first, then a record over the 8 MiB bound: the file fails
    // after the store has received rows.
    let mut big = b"name,phone\n".to_vec();
    for i in 0..3000u64 {
        big.extend(format!("Lead {i},{}\n", 7_000_000_000 + i).as_bytes());
    }
    big.extend(std::iter::repeat_n(b'x', 9 << 20));
    let (status, job, _) = upload(&app, &token, &[], "big.csv", &big).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let url = job["url"].as_str().unwrap().to_owned();
    let failed = wait_final(&app, &token, &url).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.contains("8 MiB") || error.contains("bytes"),
        "{error}"
    );
    // One attempt: the file's fault is not retried.
    assert_eq!(failed["attempts"], 1, "{failed}");
    assert!(stored_leads(&app).await.is_empty());
    let r = app
        .get(
            &format!("{IMPORT}/{}/report.csv", failed["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // Binary garbage: failed with a reason naming the format.
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let (status, job, _) = upload(&app, &token, &[], "garbage.xlsx", &garbage).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let failed = wait_final(&app, &token, job["url"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(stored_leads(&app).await.is_empty());
}

async fn import_jobs_are_private_and_cancellable(app: TestApp) {
    let token = app.admin_token().await;
    let csv = b"name,phone\nA,9876543210\nB,9876543211\n";
    let (status, job, _) = upload(&app, &token, &[], "two.csv", csv).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let url = job["url"].as_str().unwrap().to_owned();
    // No worker runs in this app (PULSE_WORKERS=0): the job waits.
    let (_, now) = status_json(app.get(&url, &token).await).await;
    assert_eq!(now["status"], "queued");

    // Someone else who may import does not see it; a telecaller may not import.
    let (_, ops) = app
        .user_with_role(&token, "ops@pulse.test", "ops_team")
        .await;
    assert_eq!(app.get(&url, &ops).await.status(), StatusCode::NOT_FOUND);
    let (_, tc) = app
        .user_with_role(&token, "tc@pulse.test", "telecaller")
        .await;
    assert_eq!(app.get(&url, &tc).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&format!("{IMPORT}/jobs/{}", uuid::Uuid::new_v4()), &token)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let r = app
        .client
        .delete(app.url(&url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, cancelled) = status_json(r).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    let r = app
        .client
        .delete(app.url(&url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // The upload is gone with it.
    let uploads = pulse::storage::uploads(&app.state.config);
    assert!(uploads.list().await.unwrap().is_empty());
    assert!(stored_leads(&app).await.is_empty());
}

async fn stale_work_files_of_a_killed_import_are_swept(app: TestApp) {
    let ctx = pulse::app::job_context(&app.state);
    let dir = app.state.config.data_dir.join("import-work");
    std::fs::create_dir_all(&dir).unwrap();
    let left = dir.join(format!("{}-1.upload", uuid::Uuid::new_v4().simple()));
    std::fs::write(&left, b"name,phone\n").unwrap();
    // Young files stay (an attempt may be starting).
    pulse::jobs::import_job::remove_stale_work_files(&ctx, Duration::from_secs(3600)).await;
    assert!(left.exists());
    // Old ones whose job is not running are deleted.
    pulse::jobs::import_job::remove_stale_work_files(&ctx, Duration::ZERO).await;
    assert!(!left.exists());
}

dual_backend_tests!(
    mod jobs with &[("PULSE_IMPORT_JOB_THRESHOLD", "1")];
    a_large_upload_runs_as_a_job,
    a_bad_file_fails_the_job_and_writes_nothing,
);

dual_backend_tests!(
    mod queued with &[("PULSE_IMPORT_JOB_THRESHOLD", "1"), ("PULSE_WORKERS", "0")];
    import_jobs_are_private_and_cancellable,
    stale_work_files_of_a_killed_import_are_swept,
);
