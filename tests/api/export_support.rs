//! Leads for the export tests: the anchors' `gen_leads.py` data inserted
//! with plain SQL (the bulk store is another issue's), a fast synthetic
//! set made in SQL, the Python tools of `../shared/anchors`, and a zip
//! reader (Python's `zipfile`) independent of ours.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use chrono::DateTime;
use serde_json::Value;

use crate::helpers::{Backend, TestApp};

pub const ANCHORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/anchors");

/// The anchors' Python (creates the venv on first use).
pub fn anchors_python() -> &'static str {
    static PY: OnceLock<String> = OnceLock::new();
    PY.get_or_init(|| {
        let out = Command::new(format!("{ANCHORS}/setup.sh"))
            .output()
            .expect("run ../shared/anchors/setup.sh");
        assert!(
            out.status.success(),
            "anchors/setup.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        stdout.lines().last().unwrap().trim().to_string()
    })
}

/// Runs `gen_leads.py` (`n` leads, or the adversarial set when `n` is
/// None) into `dir` and returns the JSONL path.
pub fn gen_leads(dir: &Path, n: Option<u64>) -> PathBuf {
    let prefix = dir.join(if n.is_some() { "leads" } else { "adv" });
    let mut cmd = Command::new(anchors_python());
    cmd.arg(format!("{ANCHORS}/gen_leads.py"));
    match n {
        Some(n) => cmd.args([n.to_string(), prefix.display().to_string()]),
        None => cmd.args(["--adversarial".to_string(), prefix.display().to_string()]),
    };
    cmd.args(["--formats", "jsonl"]);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "gen_leads.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    prefix.with_extension("jsonl")
}

const TEXT_COLS: [&str; 25] = [
    "name",
    "phone_number",
    "email",
    "vehicle",
    "driving_license",
    "experience",
    "interested_ev",
    "monthly_salary",
    "residing_chennai",
    "current_location",
    "preferred_shift",
    "allotted_shift",
    "default_vehicle",
    "dl_no",
    "badge_no",
    "aadhar_card",
    "pan_card",
    "gas_bill",
    "bank_passbook",
    "stage",
    "status",
    "assigned_telecaller",
    "source",
    "remarks",
    "id",
];
const DATE_COLS: [&str; 4] = ["end_date", "assigned_date", "callback_date", "import_date"];
const TS_COLS: [&str; 3] = ["last_called", "created_at", "updated_at"];

/// Whether Pulse would accept the lead (no NUL anywhere, a valid mobile,
/// a known stage); the adversarial set holds some it must refuse.
pub fn acceptable(lead: &Value) -> bool {
    let phone = lead["phone_number"].as_str().unwrap_or("");
    let phone_ok = phone.len() == 10
        && phone.bytes().all(|b| b.is_ascii_digit())
        && matches!(phone.as_bytes()[0], b'6'..=b'9');
    let no_nul = !lead.to_string().contains("\\u0000");
    let stage_ok = matches!(lead["stage"].as_str(), Some("S1" | "S2" | "S3" | "S4"));
    phone_ok && no_nul && stage_ok && lead["status"].is_string()
}

/// Reads a JSONL file, keeps the leads Pulse accepts (first of a phone),
/// inserts them and writes them to `accepted` for the validator.
pub async fn load_jsonl(app: &TestApp, jsonl: &Path, accepted: &Path) -> usize {
    let text = std::fs::read_to_string(jsonl).unwrap();
    let mut seen = std::collections::HashSet::new();
    let leads: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| acceptable(l) && seen.insert(l["phone_number"].as_str().unwrap().to_string()))
        .collect();
    let mut out = String::new();
    for l in &leads {
        out.push_str(&l.to_string());
        out.push('\n');
    }
    std::fs::write(accepted, out).unwrap();
    insert_leads(app, &leads).await;
    leads.len()
}

fn ms(v: &Value) -> Option<i64> {
    v.as_str()
        .map(|s| DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis())
}

/// Inserts leads (gen_leads.py shape) with plain SQL.
pub async fn insert_leads(app: &TestApp, leads: &[Value]) {
    let cols: Vec<&str> = TEXT_COLS
        .iter()
        .chain(&DATE_COLS)
        .chain(&TS_COLS)
        .copied()
        .chain(["remarks_history", "status_history"])
        .collect();
    let n = cols.len();
    match app.backend {
        Backend::Sqlite => {
            let path = app
                .database_url
                .strip_prefix("sqlite://")
                .unwrap()
                .to_string();
            let leads = leads.to_vec();
            let cols: Vec<String> = cols.iter().map(|s| s.to_string()).collect();
            tokio::task::spawn_blocking(move || {
                let mut conn = rusqlite::Connection::open(path).unwrap();
                let tx = conn.transaction().unwrap();
                let phs: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
                let sql = format!(
                    "INSERT INTO leads ({}) VALUES ({})",
                    cols.join(", "),
                    phs.join(", ")
                );
                {
                    let mut stmt = tx.prepare(&sql).unwrap();
                    for l in &leads {
                        let mut vals: Vec<rusqlite::types::Value> = Vec::with_capacity(n);
                        for c in TEXT_COLS.iter().chain(&DATE_COLS) {
                            vals.push(match l[*c].as_str() {
                                Some(s) => rusqlite::types::Value::Text(s.into()),
                                None => rusqlite::types::Value::Null,
                            });
                        }
                        for c in TS_COLS {
                            vals.push(match ms(&l[c]) {
                                Some(v) => rusqlite::types::Value::Integer(v),
                                None => rusqlite::types::Value::Null,
                            });
                        }
                        for c in ["remarks_history", "status_history"] {
                            vals.push(rusqlite::types::Value::Text(l[c].to_string()));
                        }
                        stmt.execute(rusqlite::params_from_iter(vals)).unwrap();
                    }
                }
                tx.commit().unwrap();
            })
            .await
            .unwrap();
        }
        Backend::Postgres => {
            let (mut client, conn) =
                tokio_postgres::connect(&app.database_url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let phs: Vec<String> = cols
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let cast = if *c == "id" {
                        "::uuid"
                    } else if DATE_COLS.contains(c) {
                        "::date"
                    } else if TS_COLS.contains(c) {
                        "::timestamptz"
                    } else if c.ends_with("_history") {
                        "::jsonb"
                    } else {
                        ""
                    };
                    format!("${}::text{cast}", i + 1)
                })
                .collect();
            let sql = format!(
                "INSERT INTO leads ({}) VALUES ({})",
                cols.join(", "),
                phs.join(", ")
            );
            let tx = client.transaction().await.unwrap();
            let stmt = tx.prepare(&sql).await.unwrap();
            for l in leads {
                let vals: Vec<Option<String>> = cols
                    .iter()
                    .map(|c| {
                        if c.ends_with("_history") {
                            Some(l[*c].to_string())
                        } else {
                            l[*c].as_str().map(String::from)
                        }
                    })
                    .collect();
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vals
                    .iter()
                    .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                tx.execute(&stmt, &refs).await.unwrap();
            }
            tx.commit().await.unwrap();
        }
    }
}

/// Inserts `n` plain synthetic leads in one SQL statement (fast, for
/// streaming and load tests). A third unassigned, a fifth never called.
pub async fn seed_synthetic(app: &TestApp, n: u64) {
    match app.backend {
        Backend::Sqlite => {
            let path = app
                .database_url
                .strip_prefix("sqlite://")
                .unwrap()
                .to_string();
            tokio::task::spawn_blocking(move || {
                let conn = rusqlite::Connection::open(path).unwrap();
                conn.execute(
                    "WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < ?1 - 1)
                     INSERT INTO leads (id, name, phone_number, email, stage, status, source,
                        assigned_telecaller, import_date, remarks, dl_no, created_at, updated_at, last_called)
                     SELECT printf('%08x-0000-4000-8000-%012x', x, x), 'Lead ' || x, printf('9%09d', x),
                        'lead' || x || '@example.com', 'S1', 'New', 'Walk-in',
                        CASE WHEN x % 3 = 0 THEN NULL ELSE 'a.tc@pulse.example' END, '2026-04-08',
                        'Remark number ' || x || ' with some words to make it longer', 'TN01' || printf('%011d', x),
                        1700000000000 + x, 1700000000000 + x,
                        CASE WHEN x % 5 = 0 THEN NULL ELSE 1700000000000 + (x % 1000) * 1000 END
                     FROM c",
                    [n as i64],
                )
                .unwrap();
            })
            .await
            .unwrap();
        }
        Backend::Postgres => {
            let (client, conn) = tokio_postgres::connect(&app.database_url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .execute(
                    "INSERT INTO leads (id, name, phone_number, email, stage, status, source,
                        assigned_telecaller, import_date, remarks, dl_no, created_at, updated_at, last_called)
                     SELECT (lpad(to_hex(x), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(x), 12, '0'))::uuid,
                        'Lead ' || x, '9' || lpad(x::text, 9, '0'), 'lead' || x || '@example.com',
                        'S1', 'New', 'Walk-in',
                        CASE WHEN x % 3 = 0 THEN NULL ELSE 'a.tc@pulse.example' END, DATE '2026-04-08',
                        'Remark number ' || x || ' with some words to make it longer', 'TN01' || lpad(x::text, 11, '0'),
                        to_timestamp(1700000000 + x / 1000.0), to_timestamp(1700000000 + x / 1000.0),
                        CASE WHEN x % 5 = 0 THEN NULL ELSE to_timestamp(1700000000 + (x % 1000)) END
                     FROM generate_series(0, $1::bigint - 1) x",
                    &[&(n as i64)],
                )
                .await
                .unwrap();
        }
    }
}

/// Data rows of an xlsx (all sheets) or lines of a zip of xlsx, counted
/// by Python's `zipfile` (reads the central directory; checks CRCs).
pub fn xlsx_data_rows(path: &Path) -> u64 {
    let script = r#"
import sys, zipfile, io, re
def rows(z):
    n = 0
    for name in z.namelist():
        if name.endswith('.xlsx'):
            n += rows(zipfile.ZipFile(io.BytesIO(z.read(name))))
        elif name.startswith('xl/worksheets/sheet'):
            with z.open(name) as f:
                tail = b''
                while True:
                    b = f.read(1 << 20)
                    if not b: break
                    n += (tail + b).count(b'<row ') - tail.count(b'<row ')
                    tail = b[-8:]
                n -= 1  # the header row
    return n
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None, 'bad CRC'
print(rows(z))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zip check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Runs `validate_xlsx.py`; panics with its report unless it passes.
pub fn validate(xlsx: &Path, source: &Path, pii: &str, lo: bool) {
    let mut cmd = Command::new(anchors_python());
    cmd.arg(format!("{ANCHORS}/validate_xlsx.py"))
        .arg(xlsx)
        .arg(source)
        .args(["--pii", pii]);
    if lo {
        assert!(
            which("soffice"),
            "LibreOffice (soffice) is not installed: run scripts/install-test-deps"
        );
        cmd.arg("--lo");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "validate_xlsx.py --pii {pii} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn which(prog: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
        .unwrap_or(false)
}
