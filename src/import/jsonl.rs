//! JSON lines: Pulse's own (`pulse import`, backups' shape) and
//! `mongoexport` output of the original `driver_leads` collection, with the
//! legacy shapes its documents have: extended JSON (`$oid`, `$date` as an
//! ISO string or `{"$numberLong": ms}`), `lead_source` for `source`,
//! `remarks` as a list of `{"text": …}`, the stage as `S1 - Filtering`,
//! the telecaller as a user id (resolved through a users export if given).

use std::collections::HashMap;
use std::io::BufRead;

use chrono::{TimeZone, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::ImportError;
use super::mapping::{Field, Present};
use super::row::{Reject, RowDefaults, apply_source};
use crate::domain::{Lead, Stage, Status, validate_lead};

/// One line at most (a lead with long histories fits many times over).
pub const MAX_LINE_BYTES: usize = 8 << 20;

/// Reads one line (without its `\n`) into `buf`; `false` at the end. A
/// longer line is refused as it is read, not after.
pub fn read_line(
    r: &mut impl BufRead,
    buf: &mut Vec<u8>,
    number: u64,
) -> Result<bool, ImportError> {
    buf.clear();
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(!buf.is_empty());
        }
        let (take, done) = match memchr_nl(chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if buf.len() + take > MAX_LINE_BYTES {
            return Err(ImportError::TooLarge(format!(
                "line {number}: longer than {} MiB",
                MAX_LINE_BYTES >> 20
            )));
        }
        buf.extend_from_slice(&chunk[..take]);
        r.consume(take);
        if done {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(true);
        }
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Extended JSON → plain JSON, recursively: `{"$oid": x}` → `x`,
/// `{"$date": iso | {"$numberLong": ms}}` → RFC 3339, `{"$numberLong": n}`
/// and friends → the number.
pub fn plain(v: Value) -> Value {
    match v {
        Value::Object(mut m) if m.len() == 1 => {
            let (k, inner) = m
                .iter_mut()
                .next()
                .map(|(k, v)| (k.clone(), v.take()))
                .expect("one key");
            match (k.as_str(), inner) {
                ("$oid", x) => x,
                ("$date", Value::String(s)) => Value::String(s),
                ("$date", Value::Number(n)) => ms_to_value(n.as_i64()),
                ("$date", Value::Object(d)) => {
                    let ms = d.get("$numberLong").and_then(|x| {
                        x.as_str()
                            .and_then(|s| s.parse().ok())
                            .or_else(|| x.as_i64())
                    });
                    ms_to_value(ms)
                }
                (
                    "$numberLong" | "$numberInt" | "$numberDouble" | "$numberDecimal",
                    Value::String(s),
                ) => s
                    .parse::<i64>()
                    .map(Value::from)
                    .or_else(|_| s.parse::<f64>().map(Value::from))
                    .unwrap_or(Value::String(s)),
                (_, inner) => {
                    let mut out = Map::new();
                    out.insert(k, plain(inner));
                    Value::Object(out)
                }
            }
        }
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, plain(v))).collect()),
        Value::Array(a) => Value::Array(a.into_iter().map(plain).collect()),
        v => v,
    }
}

fn ms_to_value(ms: Option<i64>) -> Value {
    match ms.and_then(|ms| Utc.timestamp_millis_opt(ms).single()) {
        Some(t) => Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        None => Value::Null,
    }
}

/// User id → e-mail, from a `mongoexport` of the original `users`.
pub fn read_users(r: impl BufRead) -> Result<HashMap<String, String>, ImportError> {
    let mut out = HashMap::new();
    for line in r.lines() {
        let line = line?;
        // A users export is small; a bound keeps a hostile one small too.
        if out.len() >= 100_000 {
            return Err(ImportError::TooLarge(
                "users: more than 100,000 accounts".into(),
            ));
        }
        let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let m = match plain(Value::Object(m)) {
            Value::Object(m) => m,
            _ => continue,
        };
        let Some(email) = m.get("email").and_then(Value::as_str) else {
            continue;
        };
        for key in ["id", "_id"] {
            if let Some(id) = m.get(key).and_then(Value::as_str) {
                out.insert(id.to_owned(), email.to_owned());
            }
        }
    }
    Ok(out)
}

/// One JSON line → a valid lead and the fields it carried.
pub fn lead_from_line(
    line: &[u8],
    d: &RowDefaults,
    users: &HashMap<String, String>,
) -> Result<(Lead, Present), Reject> {
    let json_err = |e: String| ("json".to_owned(), format!("json: {e}"));
    let text = std::str::from_utf8(line).map_err(|_| json_err("not UTF-8".into()))?;
    let value: Value = serde_json::from_str(text).map_err(|e| json_err(e.to_string()))?;
    let Value::Object(map) = plain(value) else {
        return Err(json_err("expected an object {…}".into()));
    };
    let mut map: Map<String, Value> = map;
    map.remove("_id");
    if let Some(legacy) = map.remove("lead_source")
        && map.get("source").is_none_or(Value::is_null)
    {
        map.insert("source".into(), legacy);
    }
    if let Some(Value::Array(parts)) = map.get("remarks") {
        let joined: Vec<String> = parts
            .iter()
            .filter_map(|p| match p {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o.get("text").and_then(Value::as_str).map(str::to_owned),
                _ => None,
            })
            .collect();
        map.insert("remarks".into(), Value::String(joined.join("\n")));
    }
    if let Some(Value::String(tc)) = map.get("assigned_telecaller")
        && let Some(email) = users.get(tc)
    {
        map.insert("assigned_telecaller".into(), Value::String(email.clone()));
    }
    // Old documents sometimes hold numbers where Pulse has text (a phone,
    // a salary): take their JSON spelling rather than reject the lead.
    for (k, v) in map.iter_mut() {
        if (v.is_number() || v.is_boolean()) && Field::from_name(k).is_some_and(Field::is_text) {
            *v = Value::String(v.to_string());
        }
    }
    let mut present = Present::default();
    for k in map.keys() {
        if let Some(f) = Field::from_name(k) {
            present.insert(f);
        }
    }
    let file_source = map
        .remove("source")
        .and_then(|v| v.as_str().map(str::to_owned));
    let mut lead = lead_from_object(map, d.now)?;
    apply_source(&mut lead, file_source, &mut present, d);
    if lead.import_date.is_none() {
        lead.import_date = d.lead_date;
    }
    validate_lead(&mut lead).map_err(|e| (e.field().to_owned(), e.to_string()))?;
    Ok((lead, present))
}

/// A JSON object in the lead's field names → a lead (not yet validated):
/// a new id, timestamps and the stage from the status are filled in when
/// absent; otherwise the field whose value does not parse is named.
pub fn lead_from_object(
    mut map: Map<String, Value>,
    now: chrono::DateTime<Utc>,
) -> Result<Lead, (String, String)> {
    let absent = |m: &Map<String, Value>, k: &str| m.get(k).is_none_or(Value::is_null);
    if absent(&map, "id") {
        map.insert("id".into(), Uuid::new_v4().to_string().into());
    }
    if absent(&map, "created_at") {
        map.insert("created_at".into(), now.to_rfc3339().into());
    }
    if absent(&map, "updated_at") {
        let created = map["created_at"].clone();
        map.insert("updated_at".into(), created);
    }
    let status = map.get("status").and_then(Value::as_str).map(Status::parse);
    if absent(&map, "stage") {
        let stage = match status {
            Some(Ok(s)) => s.stage(),
            _ => Stage::S1,
        };
        map.insert("stage".into(), stage.code().into());
    }
    if absent(&map, "status") {
        let stage = map["stage"].as_str().and_then(|s| s.parse().ok());
        let first = Status::first_of(stage.unwrap_or(Stage::S1));
        map.insert("status".into(), first.name().into());
    }
    let err = match serde_json::from_value::<Lead>(Value::Object(map.clone())) {
        Ok(lead) => return Ok(lead),
        Err(e) => e.to_string(),
    };
    // Which field? Put each value alone into a known-good lead.
    let template = serde_json::to_value(template_lead(now)).expect("a lead serialises");
    for (key, value) in &map {
        let mut probe = template.clone();
        if let Some(slot) = probe.get_mut(key.as_str()) {
            *slot = value.clone();
            if let Err(e) = serde_json::from_value::<Lead>(probe) {
                return Err((key.clone(), format!("{key}: {e}")));
            }
        }
    }
    let field = err
        .split('`')
        .nth(1)
        .filter(|_| err.starts_with("missing field"))
        .unwrap_or("json");
    Err((field.to_owned(), format!("{field}: {err}")))
}

fn template_lead(now: chrono::DateTime<Utc>) -> Lead {
    Lead {
        name: "x".into(),
        phone_number: "9000000000".into(),
        status: "New".into(),
        created_at: now,
        updated_at: now,
        ..Lead::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> RowDefaults {
        RowDefaults {
            lead_source: None,
            lead_date: None,
            read_source_from_file: true,
            now: "2026-01-05T10:00:00Z".parse().unwrap(),
            csv: false,
        }
    }

    #[test]
    fn legacy_document_shapes() {
        let line = br#"{"_id":{"$oid":"69d600cdb86bd63300873fee"},"name":"A","phone_number":9876543210,
            "monthly_salary":25000,"stage":"S1 - Filtering","status":"new","lead_source":"Fair",
            "remarks":[{"text":"one"},{"text":"two"}],"assigned_telecaller":"u1",
            "created_at":{"$date":{"$numberLong":"1767607200000"}},"updated_at":{"$date":"2026-01-05T10:00:00.000Z"}}"#;
        let users = HashMap::from([("u1".to_owned(), "tc@pulse.example".to_owned())]);
        let (lead, present) = lead_from_line(line, &defaults(), &users).unwrap();
        assert_eq!(lead.phone_number, "9876543210");
        assert_eq!(lead.monthly_salary.as_deref(), Some("25000"));
        assert_eq!(lead.status, "New");
        assert_eq!(lead.source.as_deref(), Some("Fair"));
        assert_eq!(lead.remarks.as_deref(), Some("one\ntwo"));
        assert_eq!(
            lead.assigned_telecaller.as_deref(),
            Some("tc@pulse.example")
        );
        assert_eq!(lead.created_at.to_rfc3339(), "2026-01-05T10:00:00+00:00");
        assert!(present.contains(Field::Source) && !present.contains(Field::Email));
        let bad = lead_from_line(br#"{"name":"A","phone_number":"123"}"#, &defaults(), &users);
        assert_eq!(bad.unwrap_err().0, "phone_number");
    }
}
