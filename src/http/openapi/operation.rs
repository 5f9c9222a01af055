//! One OpenAPI operation from a [`RouteDoc`]: parameters, security, the
//! request body and the answers.

use serde_json::{Map, Value, json};

use super::table::RouteDoc;

/// A `$ref` to a named schema.
pub(super) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The operation object of one route.
pub(super) fn operation(r: &RouteDoc) -> Value {
    let mut params: Vec<Value> = r
        .query
        .iter()
        .map(|q| json!({ "name": q, "in": "query", "required": false, "schema": {"type": "string"} }))
        .collect();
    if r.path.contains("{id}") {
        params.push(json!({ "name": "id", "in": "path", "required": true,
                            "schema": {"type": "string", "format": "uuid"} }));
    }
    let ok = if r.response == "File" {
        json!({ "description": "the file, streamed",
                "content": { "application/octet-stream": { "schema": {"type": "string", "format": "binary"} } } })
    } else if r.response == "Metrics" {
        json!({ "description": "Prometheus text exposition format 0.0.4",
                "content": { "text/plain": { "schema": {"type": "string"} } } })
    } else if r.response == "EventStream" {
        json!({ "description": "`progress` events with the job's JSON, then one `end` event",
                "content": { "text/event-stream": { "schema": {"type": "string"} } } })
    } else {
        json!({ "description": "success",
                "content": { "application/json": { "schema": schema_ref(r.response) } } })
    };
    let code = if r.summary.starts_with("Create a lead") {
        "201"
    } else if r.summary.starts_with("Queue") {
        "202"
    } else {
        "200"
    };
    let mut responses = Map::new();
    responses.insert(code.into(), ok);
    let error = json!({ "description": "error", "content": { "application/json": { "schema": schema_ref("Error") } } });
    responses.insert("4XX".into(), error);
    let mut op = json!({
        "summary": r.summary,
        "operationId": format!("{} {}", r.method, r.path),
        "parameters": params,
        "responses": responses,
    });
    if let Some(body) = r.request {
        // The import takes a file upload; every other body is JSON.
        let media = if body == "ImportForm" {
            "multipart/form-data"
        } else {
            "application/json"
        };
        op["requestBody"] = json!({ "required": true,
            "content": { media: { "schema": schema_ref(body) } } });
    }
    if r.auth {
        op["security"] = json!([{ "bearer": [] }, { "cookie": [] }]);
    } else {
        op["security"] = json!([]);
    }
    if let Some(cap) = r.capability {
        let roles: Vec<&str> = crate::domain::AccountType::ALL
            .iter()
            .filter(|t| t.can(cap))
            .map(|t| t.as_str())
            .collect();
        op["x-required-capability"] = json!(format!("{cap:?}"));
        op["x-roles"] = json!(roles);
    }
    op
}
