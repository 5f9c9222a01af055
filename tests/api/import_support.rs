//! Helpers for the import tests: multipart uploads, gen_leads files, the
//! leads as stored, and small hand-made xlsx workbooks.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use pulse::domain::Lead;
use pulse::store::filter::LeadFilter;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, status_json};
pub use crate::import_fixtures::{sheet, workbook};

pub const IMPORT: &str = "/api/driver-onboarding/import-leads";

pub const GEN_LEADS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/anchors/gen_leads.py"
);

/// A multipart/form-data body: the text fields, then the file.
pub fn multipart(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "pulse-test-boundary-7MA4YWxkTrZu0gW";
    let mut b = Vec::with_capacity(file.len() + 1024);
    for (k, v) in fields {
        // `@users=PATH`: a second file field (the users export).
        if let Some(path) = v.strip_prefix('@') {
            b.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"users.json\"\r\n\r\n")
                    .as_bytes(),
            );
            b.extend_from_slice(&std::fs::read(path).unwrap());
            b.extend_from_slice(b"\r\n");
            continue;
        }
        b.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    b.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    b.extend_from_slice(file);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

/// Uploads `file` with `fields`; returns the status, the JSON answer and
/// how long the answer took.
pub async fn upload(
    app: &TestApp,
    token: &str,
    fields: &[(&str, &str)],
    file_name: &str,
    file: &[u8],
) -> (StatusCode, Value, Duration) {
    let (ct, body) = multipart(fields, file_name, file);
    let started = Instant::now();
    let r = app
        .client
        .post(app.url(IMPORT))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, json) = status_json(r).await;
    (status, json, started.elapsed())
}

/// Runs gen_leads.py into `dir` (prefix `gen`) with `formats`.
pub fn generate(n: usize, dir: &Path, formats: &str) -> std::path::PathBuf {
    let prefix = dir.join("gen");
    let status = std::process::Command::new("python3")
        .arg(GEN_LEADS)
        .arg(n.to_string())
        .arg(&prefix)
        .args(["--formats", formats])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run gen_leads.py");
    assert!(status.success(), "gen_leads.py failed");
    prefix
}

/// The JSON lines of a gen_leads file as leads, by id, with the status as
/// every write path stores it: gen_leads.py spells `Interested No DL` /
/// `Interested No Badge`, Pulse writes the original's `Interested, No DL`
/// (DESIGN §4); histories are kept as recorded.
pub fn leads_of_jsonl(path: &Path) -> BTreeMap<uuid::Uuid, Lead> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Lead>(l).unwrap())
        .map(|mut l| {
            l.status = pulse::domain::Status::parse(&l.status)
                .unwrap()
                .name()
                .to_owned();
            (l.id, l)
        })
        .collect()
}

/// Every stored lead, by id (through the store, not the HTTP API, so
/// document numbers are unmasked and histories complete).
pub async fn stored_leads(app: &TestApp) -> BTreeMap<uuid::Uuid, Lead> {
    let (leads, total) = app
        .state
        .store
        .list_leads(&LeadFilter::default(), 1, 100_000)
        .await
        .unwrap();
    assert_eq!(leads.len() as i64, total);
    leads.into_iter().map(|l| (l.id, l)).collect()
}

/// The anchors' Python (openpyxl) if its environment is set up.
pub fn anchors_python() -> String {
    let setup = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/anchors/setup.sh");
    let out = std::process::Command::new(setup)
        .output()
        .expect("run anchors/setup.sh");
    assert!(out.status.success(), "anchors/setup.sh failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .expect("setup.sh prints the python")
        .trim()
        .to_owned()
}
