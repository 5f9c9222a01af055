//! One OpenAPI operation from a [`RouteDoc`]: parameters, security, the
//! request body and the answers.

use serde_json::{Map, Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

use super::body::Body;
use super::table::RouteDoc;

fn value(schema: RefOr<Schema>) -> Value {
    serde_json::to_value(schema).unwrap_or(Value::Null)
}

/// The response object of a success answer.
fn answer(body: &Body) -> Value {
    match body {
        Body::File => {
            json!({ "description": "the file, streamed",
                    "content": { "application/octet-stream": { "schema": {"type": "string", "format": "binary"} } } })
        }
        Body::Metrics => json!({ "description": "Prometheus text exposition format 0.0.4",
                "content": { "text/plain": { "schema": {"type": "string"} } } }),
        Body::EventStream => {
            json!({ "description": "`progress` events with the job's JSON, then one `end` event",
                "content": { "text/event-stream": { "schema": {"type": "string"} } } })
        }
        Body::AnyJson => json!({ "description": "success",
                "content": { "application/json": { "schema": {} } } }),
        Body::Json(_) | Body::OneOf(_) | Body::Form(_) => {
            let schema = body.schema().map(value).unwrap_or(Value::Null);
            json!({ "description": "success",
                "content": { "application/json": { "schema": schema } } })
        }
    }
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
    let mut responses = Map::new();
    responses.insert(r.status.to_string(), answer(&r.response));
    for (status, body) in r.also {
        responses.insert(status.to_string(), answer(body));
    }
    let error = json!({ "description": "error: {\"detail\"}", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    responses.insert("4XX".into(), error.clone());
    responses.insert("5XX".into(), error);
    let mut op = json!({
        "summary": r.summary,
        "operationId": format!("{} {}", r.method, r.path),
        "parameters": params,
        "responses": responses,
    });
    if let Some(body) = &r.request {
        let media = match body {
            Body::Form(_) => "multipart/form-data",
            _ => "application/json",
        };
        let schema = body.schema().map(value).unwrap_or(Value::Null);
        op["requestBody"] = json!({ "required": true,
            "content": { media: { "schema": schema } } });
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
