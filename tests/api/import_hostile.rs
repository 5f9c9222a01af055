//! Hostile uploads answer 4xx within 2 s and import nothing. The fixtures
//! are made here: zip bombs, cells far out, a huge shared-strings table,
//! DOCTYPE/entities, renamed and truncated files, a 100 MB CSV line,
//! 300,000 columns, binary garbage, an empty file, a file over the limit.

use std::time::Duration;

use reqwest::StatusCode;

use crate::dual_backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::import_fixtures::hostile;
use crate::import_support::*;

async fn hostile_files_answer_4xx_quickly(app: TestApp) {
    let token = app.admin_token().await;
    for (what, name, file, want) in hostile() {
        let want = StatusCode::from_u16(want).unwrap();
        let (status, body, took) = upload(&app, &token, &[], name, &file).await;
        assert_eq!(status, want, "{what}: {body}");
        assert!(body["detail"].is_string(), "{what}: {body}");
        assert!(took < Duration::from_secs(2), "{what} took {took:?}");
    }
    assert!(stored_leads(&app).await.is_empty());
    // Refused imports are audited too (those refused after the upload).
    let (_, audit) =
        crate::helpers::status_json(app.get("/api/audit?action=import", &token).await).await;
    let failed = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["details"]["outcome"] == "failed")
        .count();
    assert!(failed >= 10, "{failed} failed imports audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_uploads_over_their_own_limit_are_413() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("PULSE_IMPORT_MAX_BYTES", "10000")]).await;
    let token = app.admin_token().await;
    let mut file = b"name,phone\n".to_vec();
    for i in 0..1000u64 {
        file.extend(format!("L{i},{}\n", 7_000_000_000 + i).as_bytes());
    }
    let (status, body, took) = upload(&app, &token, &[], "big.csv", &file).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(took < Duration::from_secs(2));
    // the general body limit (1 MiB) does not apply to the import route
    let app2 = TestApp::spawn_with(Backend::Sqlite, &[("PULSE_MAX_BODY_BYTES", "1000")]).await;
    let token = app2.admin_token().await;
    let (status, body, _) = upload(&app2, &token, &[], "ok.csv", &file).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["inserted"], 1000);
}

dual_backend_tests!(hostile_files_answer_4xx_quickly);
