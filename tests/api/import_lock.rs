//! Review H4 (issue 14): no write lock is held while a file is parsed. An
//! import paused in the middle of its parse (`import::pause`, so the moment
//! is certain, not a race) must let another client's edit through at once;
//! the import then goes on and commits all of its rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::import_support::{IMPORT, generate, upload};
use crate::leads::{API, create, phone};

/// Rows of the generated file (more than the importer keeps in memory
/// before it spools to a work file) and where the parse pauses.
const ROWS: usize = 20_000;
const PAUSE_AT: u64 = 12_000;

async fn an_edit_during_the_parse_of_a_large_import_succeeds(app: TestApp) {
    let app = Arc::new(app);
    let token = app.admin_token().await;
    let lead = create(
        &app,
        &token,
        json!({"name": "Before Import", "phone_number": phone(4242)}),
    )
    .await;
    let id = lead["id"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let csv = std::fs::read(generate(ROWS, dir.path(), "csv").with_extension("csv")).unwrap();
    let name = format!("h4-{}.csv", uuid::Uuid::new_v4().simple());
    let pause = pulse::import::pause::pause_parse(&name, PAUSE_AT);
    let importing = {
        let (app, token, name) = (app.clone(), token.clone(), name.clone());
        tokio::spawn(async move {
            upload(&app, &token, &[("duplicate_action", "skip")], &name, &csv).await
        })
    };
    let started = Instant::now();
    while !pause.reached() {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the parse never reached row {PAUSE_AT}"
        );
        assert!(
            !importing.is_finished(),
            "the import ended before the pause"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The parse is paused at row PAUSE_AT: another client edits a lead.
    let t = Instant::now();
    let (status, body) = status_json(
        app.patch(
            &format!("{API}/leads/{id}"),
            &token,
            json!({"remarks": "edited while a file was being parsed"}),
        )
        .await,
    )
    .await;
    let took = t.elapsed();
    pause.release();
    assert_eq!(status, StatusCode::OK, "PATCH during the parse: {body}");
    assert!(took < Duration::from_secs(1), "PATCH took {took:?}");

    let (status, answer, _) = importing.await.unwrap();
    let result = match status {
        StatusCode::OK => answer.clone(),
        StatusCode::ACCEPTED => wait_job(&app, &token, &answer).await,
        other => panic!("import: {other} {answer}"),
    };
    let n = |k: &str| {
        result[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {result}"))
    };
    assert_eq!(n("rows_read"), ROWS as u64, "{result}");
    assert_eq!(
        n("inserted") + n("skipped_duplicates") + n("rejected"),
        ROWS as u64,
        "{result}"
    );
    assert!(n("inserted") > PAUSE_AT, "{result}");
    let (_, got) = status_json(app.get(&format!("{API}/leads/{id}"), &token).await).await;
    assert_eq!(got["remarks"], "edited while a file was being parsed");
    let (_, page) = status_json(app.get(&format!("{API}/leads?limit=1"), &token).await).await;
    let total = page["total"].as_u64().unwrap_or_else(|| panic!("{page}"));
    assert_eq!(total, 1 + n("inserted"), "{page}");
}

/// The result of the import job `job` once it is done.
async fn wait_job(app: &TestApp, token: &str, job: &Value) -> Value {
    let url = job["url"].as_str().unwrap_or_else(|| panic!("{job}"));
    assert!(url.starts_with(IMPORT));
    let started = Instant::now();
    loop {
        let (_, j) = status_json(app.get(url, token).await).await;
        match j["status"].as_str() {
            Some("done") => return j["result"].clone(),
            Some("queued" | "running") => {}
            _ => panic!("import job: {j}"),
        }
        assert!(started.elapsed() < Duration::from_secs(180), "{j}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

dual_backend_tests!(an_edit_during_the_parse_of_a_large_import_succeeds);
