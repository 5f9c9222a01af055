//! Every JSON answer the suite receives, checked against the API document:
//! `TestApp` wraps the real router in [`layer`], which looks up the
//! operation of the matched route and the answer's status, and checks the
//! body against that response's schema. A mismatch is recorded, and the
//! test fails when its `TestApp` is dropped. Streams other than JSON
//! (NDJSON, SSE, files) are skipped by content type; the leads list's
//! streamed JSON is checked once its last byte has gone.
//!
//! The checker knows the JSON-Schema subset the document uses: `type`
//! (one or a list, `null` for nullable), `properties`, `required`,
//! `additionalProperties`, `items`, `enum`, `format` (uuid, date,
//! date-time), `$ref`, `oneOf`, `anyOf`, `allOf`. It is strict about keys:
//! an answer key its schema does not name is drift (unless the schema
//! allows additional properties), since the point is that the document
//! says what is sent.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{Map, Value};

/// What the layer needs: the document and where mismatches go.
#[derive(Clone)]
pub struct Checker {
    pub doc: Arc<Value>,
    pub failures: Arc<Mutex<Vec<String>>>,
}

impl Checker {
    pub fn new(doc: Value) -> Checker {
        Checker {
            doc: Arc::new(doc),
            failures: Arc::default(),
        }
    }

    fn record(&self, method: &str, path: &str, status: u16, bytes: &[u8]) {
        if let Err(e) = check_answer(&self.doc, method, path, status, bytes) {
            let body = String::from_utf8_lossy(&bytes[..bytes.len().min(600)]).into_owned();
            self.failures.lock().unwrap().push(format!(
                "{method} {path} → {status}: {e}\n    answer: {body}"
            ));
        }
    }
}

/// The middleware.
pub async fn layer(State(checker): State<Checker>, req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_string();
    let path = match req.extensions().get::<MatchedPath>() {
        Some(p) => p.as_str().to_string(),
        None => format!("(unmatched) {}", req.uri().path()),
    };
    let response = next.run(req).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !json || method == "HEAD" {
        return response;
    }
    let status = response.status().as_u16();
    let (parts, body) = response.into_parts();
    if axum::body::HttpBody::size_hint(&body).exact().is_some() {
        // already whole in memory: check it before it goes out
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        checker.record(&method, &path, status, &bytes);
        return Response::from_parts(parts, Body::from(bytes));
    }
    // a stream: pass each piece on as it comes, check the whole at its end
    // (before the end is passed on, so the client sees it after the check)
    let tee = Tee {
        inner: body.into_data_stream(),
        seen: Vec::new(),
        then: Some((checker, method, path, status)),
    };
    Response::from_parts(parts, Body::from_stream(tee))
}

/// A body passed on piece by piece, and checked when it ends.
struct Tee {
    inner: axum::body::BodyDataStream,
    seen: Vec<u8>,
    then: Option<(Checker, String, String, u16)>,
}

impl futures_util::Stream for Tee {
    type Item = Result<bytes::Bytes, axum::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let next = self.inner.poll_next_unpin(cx);
        match &next {
            std::task::Poll::Ready(Some(Ok(chunk))) => {
                let chunk = chunk.clone();
                self.seen.extend_from_slice(&chunk);
            }
            std::task::Poll::Ready(None) => {
                if let Some((checker, method, path, status)) = self.then.take() {
                    checker.record(&method, &path, status, &self.seen);
                }
            }
            _ => {}
        }
        next
    }
}

/// Checks one answer against the document.
pub fn check_answer(
    doc: &Value,
    method: &str,
    path: &str,
    status: u16,
    bytes: &[u8],
) -> Result<(), String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON although labelled so: {e}"))?;
    let error_schema = serde_json::json!({ "$ref": "#/components/schemas/Error" });
    let schema = match doc["paths"].get(path) {
        Some(item) => {
            let op = item
                .get(method.to_ascii_lowercase())
                .ok_or_else(|| format!("{method} is not documented for {path}"))?;
            let responses = &op["responses"];
            let class = format!("{}XX", status / 100);
            let response = responses
                .get(status.to_string())
                .or_else(|| responses.get(&class))
                .ok_or_else(|| format!("status {status} is not documented"))?;
            response["content"]["application/json"]
                .get("schema")
                .ok_or_else(|| format!("status {status} is documented without a JSON body"))?
        }
        // the API's fallback (no such endpoint) answers the error shape
        None if path.starts_with("(unmatched) /api") => &error_schema,
        // a page's JSON (not part of the API document)
        None => return Ok(()),
    };
    let mut errors = Vec::new();
    check(doc, schema, &value, "$", &mut errors);
    match errors.len() {
        0 => Ok(()),
        n if n > 12 => Err(format!("{} … ({n} in all)", errors[..12].join("; "))),
        _ => Err(errors.join("; ")),
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            let target = &doc["components"]["schemas"][name];
            assert!(!target.is_null(), "dangling $ref {r}");
            resolve(doc, target)
        }
        None => schema,
    }
}

/// The object part of a schema, merged through `allOf` (serde's flatten):
/// properties, required keys, and what other keys may hold.
#[derive(Default)]
struct ObjectShape<'a> {
    properties: Map<String, Value>,
    required: Vec<&'a str>,
    /// `None`: no other keys; `Some(None)`: any; `Some(Some(s))`: per `s`.
    additional: Option<Option<&'a Value>>,
}

fn object_shape<'a>(doc: &'a Value, schema: &'a Value, out: &mut ObjectShape<'a>) {
    let schema = resolve(doc, schema);
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for p in parts {
            object_shape(doc, p, out);
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            out.properties.insert(k.clone(), v.clone());
        }
    }
    if let Some(req) = schema.get("required").and_then(Value::as_array) {
        out.required.extend(req.iter().filter_map(Value::as_str));
    }
    match schema.get("additionalProperties") {
        Some(Value::Bool(true)) => out.additional = Some(None),
        Some(s @ Value::Object(_)) => out.additional = Some(Some(s)),
        _ => {}
    }
}

fn type_matches(ty: &str, v: &Value) -> bool {
    match ty {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        _ => false,
    }
}

fn format_matches(format: &str, s: &str) -> bool {
    match format {
        "uuid" => uuid::Uuid::parse_str(s).is_ok(),
        "date" => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
        "date-time" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        _ => true,
    }
}

/// Checks `v` against `schema`, adding what is wrong (with the JSON path).
pub fn check(doc: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let passing: Vec<Vec<String>> = options
            .iter()
            .map(|o| {
                let mut e = Vec::new();
                check(doc, o, v, at, &mut e);
                e
            })
            .collect();
        let ok = passing.iter().filter(|e| e.is_empty()).count();
        if ok != 1 {
            let why: Vec<String> = passing.into_iter().flatten().take(12).collect();
            errors.push(format!(
                "{at}: matches {ok} of the {} oneOf schemas ({})",
                options.len(),
                why.join("; ")
            ));
        }
        return;
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        let mut why = Vec::new();
        let ok = options.iter().any(|o| {
            let mut e = Vec::new();
            check(doc, o, v, at, &mut e);
            why.extend(e.iter().cloned());
            e.is_empty()
        });
        if !ok {
            errors.push(format!("{at}: matches none of anyOf ({})", why.join("; ")));
        }
        return;
    }
    if let Some(want) = schema.get("type") {
        let types: Vec<&str> = match want {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.iter().any(|t| type_matches(t, v)) {
            errors.push(format!("{at}: expected {}, got {v}", types.join(" or ")));
            return;
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(v)
    {
        errors.push(format!("{at}: {v} is not one of {values:?}"));
    }
    if let (Some(f), Some(s)) = (schema.get("format").and_then(Value::as_str), v.as_str())
        && !format_matches(f, s)
    {
        errors.push(format!("{at}: {s:?} is not a {f}"));
    }
    if let (Some(items), Some(list)) = (schema.get("items"), v.as_array()) {
        for (i, item) in list.iter().enumerate() {
            check(doc, items, item, &format!("{at}[{i}]"), errors);
        }
    }
    let has_object_part = schema.get("properties").is_some()
        || schema.get("allOf").is_some()
        || schema.get("additionalProperties").is_some();
    if let (true, Some(object)) = (has_object_part, v.as_object()) {
        let mut shape = ObjectShape::default();
        object_shape(doc, schema, &mut shape);
        for key in &shape.required {
            if !object.contains_key(*key) {
                errors.push(format!("{at}: required key {key:?} is missing"));
            }
        }
        for (k, item) in object {
            let here = format!("{at}.{k}");
            match (shape.properties.get(k), shape.additional) {
                (Some(s), _) => check(doc, s, item, &here, errors),
                (None, Some(Some(s))) => check(doc, s, item, &here, errors),
                (None, Some(None)) => {}
                (None, None) => errors.push(format!("{here}: not in the document")),
            }
        }
    } else if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        for p in parts {
            check(doc, p, v, at, errors);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;

    fn errors(schema: serde_json::Value, v: serde_json::Value) -> Vec<String> {
        let doc = json!({ "components": { "schemas": {
            "Base": { "type": "object", "properties": { "id": { "type": "string", "format": "uuid" } }, "required": ["id"] },
            "Kind": { "type": "string", "enum": ["a", "b"] },
        } } });
        let mut e = Vec::new();
        check(&doc, &schema, &v, "$", &mut e);
        e
    }

    #[test]
    fn the_subset_the_document_uses() {
        let nullable = json!({ "type": ["string", "null"] });
        assert!(errors(nullable.clone(), json!(null)).is_empty());
        assert!(!errors(nullable, json!(3)).is_empty());
        let kind =
            json!({ "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Kind" }] });
        assert!(errors(kind.clone(), json!("a")).is_empty());
        assert!(errors(kind.clone(), json!(null)).is_empty());
        assert!(!errors(kind, json!("c")).is_empty());
        let flat = json!({ "allOf": [{ "$ref": "#/components/schemas/Base" },
                                     { "type": "object", "properties": { "n": { "type": "integer" } } }] });
        let id = "8b0f0d5e-8d5c-4a0e-9d7e-1f2a3b4c5d6e";
        assert!(errors(flat.clone(), json!({ "id": id, "n": 2 })).is_empty());
        assert!(!errors(flat.clone(), json!({ "id": id, "n": 2.5 })).is_empty());
        assert!(
            !errors(flat.clone(), json!({ "id": "x" })).is_empty(),
            "format"
        );
        assert!(
            !errors(flat.clone(), json!({ "n": 1 })).is_empty(),
            "required"
        );
        assert!(
            !errors(flat, json!({ "id": id, "extra": 1 })).is_empty(),
            "unnamed key"
        );
        let map = json!({ "type": "object", "additionalProperties": { "type": "integer" } });
        assert!(errors(map.clone(), json!({ "x": 1 })).is_empty());
        assert!(!errors(map, json!({ "x": "1" })).is_empty());
        let list = json!({ "type": "array", "items": { "$ref": "#/components/schemas/Kind" } });
        assert!(!errors(list, json!(["a", "z"])).is_empty());
    }
}
