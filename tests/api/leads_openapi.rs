//! `GET /api/openapi.json` against the real router: every endpoint listed
//! answers, nothing else on a listed path does, and every `.route(` in
//! `src/http` is listed.

use std::collections::BTreeSet;
use std::path::Path;

use pulse::http::openapi::ROUTES;
use reqwest::{Method, StatusCode};

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
    assert_eq!(doc["openapi"], "3.0.3");
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
