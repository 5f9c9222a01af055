//! `GET /api/openapi.json`: an OpenAPI 3 document built from [`ROUTES`],
//! a table in code of every endpoint. The integration suite checks the
//! table against the router both ways (every listed method answers, every
//! other method of a listed path is 405, every `.route(` path in `src/http`
//! is listed), so the document cannot drift from the code. A table instead
//! of `utoipa`: no proc-macro dependency, and one place to read the API.
//!
//! `table.rs` holds the route table, `operation.rs` turns one route into an
//! operation, `schemas.rs` the named schemas.

mod operation;
mod schemas;
mod table;

use serde_json::{Map, Value, json};

use operation::operation;
use schemas::schemas;
pub use table::{ROUTES, RouteDoc};

/// The whole OpenAPI 3 document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let item = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        item[r.method.to_ascii_lowercase()] = operation(r);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Pulse",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Driver onboarding: leads, pipeline, streaming Excel export. Errors are {\"detail\": …}.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": "pulse_session" },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_named_exists() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for r in ROUTES {
            for name in r.request.into_iter().chain([r.response]) {
                assert!(
                    name == "File"
                        || name == "EventStream"
                        || name == "Metrics"
                        || schemas.contains_key(name),
                    "{name} of {} {}",
                    r.method,
                    r.path
                );
            }
        }
        let text = doc.to_string();
        for (i, _) in text.match_indices("#/components/schemas/") {
            let name: String = text[i + 21..]
                .chars()
                .take_while(|c| c.is_alphanumeric())
                .collect();
            assert!(schemas.contains_key(&name), "dangling $ref {name}");
        }
    }

    #[test]
    fn no_route_is_listed_twice() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(
                seen.insert((r.method, r.path)),
                "{} {} twice",
                r.method,
                r.path
            );
        }
    }
}
