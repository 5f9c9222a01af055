//! `GET /api/openapi.json`: an OpenAPI 3.1 document built from [`ROUTES`],
//! a table in code of every endpoint naming the Rust types of its request
//! and answer bodies; their schemas are derived from those types
//! (`utoipa::ToSchema`: derived where the types are declared, written in
//! `foreign.rs` for the lead types — from the one field list — and a few
//! store records). The integration suite checks the table against the
//! router both ways (every listed method answers, every other method of a
//! listed path is 405, every `.route(` path in `src/http` is listed), and
//! `TestApp` checks every JSON answer of the suite against the schema of
//! its route and status, so the document cannot drift from the code.
//!
//! `table.rs` holds the route table, `body.rs` the typed bodies,
//! `operation.rs` turns one route into an operation.

mod body;
mod foreign;
mod operation;
mod table;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use body::Schemas;
use operation::operation;
pub use table::{ROUTES, RouteDoc};

/// The document as answered (a named answer of its own).
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct ApiDocument(pub Value);

/// Every named schema the routes use, and the names two different schemas
/// claim (a bug: the second would be lost).
fn named_schemas() -> (BTreeMap<String, Value>, Vec<String>) {
    let mut all: Schemas = Vec::new();
    for r in ROUTES {
        r.request.iter().for_each(|b| b.collect(&mut all));
        r.response.collect(&mut all);
        r.also.iter().for_each(|(_, b)| b.collect(&mut all));
    }
    all.push((
        crate::http::error::ErrorBody::name().into_owned(),
        <crate::http::error::ErrorBody as utoipa::PartialSchema>::schema(),
    ));
    // utoipa refers to the value type of a flattened map without collecting it
    use crate::http::routes::leads_summary::DeskListAnswer;
    all.push((
        DeskListAnswer::name().into_owned(),
        <DeskListAnswer as utoipa::PartialSchema>::schema(),
    ));
    <DeskListAnswer as ToSchema>::schemas(&mut all);
    let mut out = BTreeMap::new();
    let mut clashes = Vec::new();
    for (name, schema) in all {
        let schema = serde_json::to_value(schema).unwrap_or(Value::Null);
        match out.get(&name) {
            Some(seen) if *seen != schema => clashes.push(name),
            Some(_) => {}
            None => {
                out.insert(name, schema);
            }
        }
    }
    (out, clashes)
}

/// The whole OpenAPI 3.1 document.
pub fn document() -> ApiDocument {
    let mut paths = Map::new();
    for r in ROUTES {
        let item = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        item[r.method.to_ascii_lowercase()] = operation(r);
    }
    let (schemas, _) = named_schemas();
    ApiDocument(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Pulse",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Driver onboarding: leads, pipeline, streaming Excel export. Errors are {\"detail\": …}.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": "pulse_session" },
            },
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ref_resolves_and_no_two_types_share_a_name() {
        let (schemas, clashes) = named_schemas();
        assert!(
            clashes.is_empty(),
            "schema names used by two types: {clashes:?}"
        );
        let text = document().0.to_string();
        for (i, _) in text.match_indices("#/components/schemas/") {
            let name: String = text[i + 21..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            assert!(schemas.contains_key(&name), "dangling $ref {name}");
        }
        assert!(schemas.contains_key("Lead") && schemas.contains_key("Error"));
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
