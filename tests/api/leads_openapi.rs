//! `GET /api/openapi.json` against the real router: every endpoint listed
//! answers, nothing else on a listed path does, and every `.route(` in
//! `src/http` is listed.

use std::collections::BTreeSet;
use std::path::Path;

use pulse::http::openapi::ROUTES;
use reqwest::{Method, StatusCode};

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, status_json};

/// The path literals of every `.route(` call under `dir`.
fn routes_in_source(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            routes_in_source(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices(".route(") {
                // the first string literal after `.route(`, if it is a path
                // (prose mentioning `.route(` is skipped)
                let rest = text[i + 7..].trim_start();
                if let Some(lit) = rest.strip_prefix("\"/") {
                    let end = lit.find('"').unwrap();
                    out.insert(format!("/{}", &lit[..end]));
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_matches_the_router() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (status, doc) = status_json(
        app.client
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let listed: BTreeSet<String> = ROUTES.iter().map(|r| r.path.to_string()).collect();
    for r in ROUTES {
        assert!(
            doc["paths"][r.path][r.method.to_ascii_lowercase()].is_object(),
            "{} {} missing from the document",
            r.method,
            r.path
        );
    }

    let mut in_source = BTreeSet::new();
    routes_in_source(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http"),
        &mut in_source,
    );
    assert_eq!(in_source, listed, "routes in src/http vs the OpenAPI table");

    let id = uuid::Uuid::new_v4().to_string();
    for path in &listed {
        let url = app.url(&path.replace("{id}", &id));
        for method in [
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::PUT,
        ] {
            let documented = ROUTES
                .iter()
                .any(|r| r.path == path && r.method == method.as_str());
            // unauthenticated: a documented route answers 401 (or its public answer)
            let resp = app
                .client
                .request(method.clone(), &url)
                .send()
                .await
                .unwrap();
            let (status, body) = status_json(resp).await;
            if documented {
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                assert_ne!(body["detail"], "no such endpoint", "{method} {path}");
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} answers but is not documented"
                );
            }
        }
    }
}

/// The answer check can fail: against a document that is wrong on purpose
/// (a user's `email` an integer, `created_at` not named, no error answers
/// for `GET /api/auth/me`, the streamed list's `total` a string), real
/// answers — whole and streamed — are reported, each naming the route, the
/// status and the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_answer_is_reported() {
    let mut doc = pulse::http::openapi::document().0;
    let user = &mut doc["components"]["schemas"]["User"];
    user["properties"]["email"]["type"] = json!("integer");
    user["properties"]
        .as_object_mut()
        .unwrap()
        .remove("created_at");
    let me = &mut doc["paths"]["/api/auth/me"]["get"]["responses"];
    me.as_object_mut().unwrap().remove("4XX");
    doc["components"]["schemas"]["AllLeads"]["properties"]["total"]["type"] = json!("string");
    let app = TestApp::spawn_checked(Backend::Sqlite, &[], doc).await;
    let token = app.admin_token().await;
    let (status, _) = status_json(app.get("/api/auth/me", &token).await).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = status_json(
        app.client
            .get(app.url("/api/auth/me"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let all = app
        .get("/api/driver-onboarding/leads?skip_pagination=true", &token)
        .await;
    assert!(
        all.headers().get("x-total-leads").is_some(),
        "the streamed list"
    );
    let (status, body) = status_json(all).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 0);

    let failures: Vec<String> = std::mem::take(&mut *app.answers.failures.lock().unwrap());
    let has = |route: &str, what: &str| {
        failures
            .iter()
            .any(|f| f.starts_with(route) && f.contains(what))
    };
    assert!(
        has(
            "POST /api/auth/login → 200",
            "$.user.email: expected integer"
        ),
        "{failures:#?}"
    );
    assert!(
        has("GET /api/auth/me → 200", "$.email: expected integer"),
        "{failures:#?}"
    );
    assert!(
        has(
            "GET /api/auth/me → 200",
            "$.created_at: not in the document"
        ),
        "{failures:#?}"
    );
    assert!(
        has("GET /api/auth/me → 401", "status 401 is not documented"),
        "{failures:#?}"
    );
    assert!(
        has(
            "GET /api/driver-onboarding/leads → 200",
            "matches 0 of the 2 oneOf"
        ),
        "{failures:#?}"
    );
    assert_eq!(failures.len(), 4, "{failures:#?}");
}

/// The same check passes the same answers against the real document (so
/// the failures above are the tampering, not noise).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_document_passes_those_answers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let token = app.admin_token().await;
    let _ = app.get("/api/auth/me", &token).await.text().await;
    let _ = app
        .client
        .get(app.url("/api/auth/me"))
        .send()
        .await
        .unwrap()
        .text()
        .await;
    let _ = app
        .get("/api/driver-onboarding/leads?skip_pagination=true", &token)
        .await
        .text()
        .await;
    let failures = app.answers.failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "{failures:#?}");
    let doc: Value = pulse::http::openapi::document().0;
    assert!(doc["components"]["schemas"]["Lead"]["properties"].is_object());
}
