//! Background export jobs against real processes: kill -9 while jobs run,
//! SIGTERM (finish within the grace period, or back to the queue), a full
//! disk, and two processes sharing one PostgreSQL queue.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::Digest;

use crate::spawn::{Launch, PulseProcess};

const PASSWORD: &str = "jobs-process-pass";

fn base_env<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("PULSE_ADMIN_PASSWORD", PASSWORD),
        ("PULSE_LOG_FORMAT", "json"),
        ("PULSE_JOB_LEASE_SECONDS", "2"),
        ("PULSE_EXPORT_CLEANUP_INTERVAL", "1"),
        ("PULSE_EXPORT_JOBS_PER_USER", "200"),
        ("PULSE_EXPORT_QUEUE_MAX", "200"),
    ];
    env.extend_from_slice(extra);
    env
}

/// `pulse seed --leads n` with the same settings.
fn seed(data_dir: &Path, env: &[(&str, &str)], n: u64) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pulse"));
    cmd.args(["seed", "--leads", &n.to_string()])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PULSE_DATA_DIR", data_dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "pulse seed failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn json_call(
    p: &PulseProcess,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let body = body.map(|b| b.to_string());
    let (status, _, bytes) = p.call(method, path, Some(token), body.as_deref(), &[]);
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn login(p: &PulseProcess) -> String {
    let body = json!({"email": "admin", "password": PASSWORD}).to_string();
    let (status, _, bytes) = p.call("POST", "/api/auth/login", None, Some(&body), &[]);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn create(p: &PulseProcess, token: &str, body: Value) -> String {
    let (status, job) = json_call(p, "POST", "/api/exports", token, Some(body));
    assert_eq!(status, 202, "{job}");
    job["id"].as_str().unwrap().to_string()
}

fn job(p: &PulseProcess, token: &str, id: &str) -> Value {
    let (status, job) = json_call(p, "GET", &format!("/api/exports/{id}"), token, None);
    assert_eq!(status, 200, "{job}");
    job
}

fn wait_until(secs: u64, what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Downloads a done job and checks the bytes against its recorded size and
/// SHA-256 and that the zip (xlsx) reads with Python's zipfile.
fn check_download(p: &PulseProcess, token: &str, j: &Value, dir: &Path) {
    let id = j["id"].as_str().unwrap();
    let (status, head, body) = p.call(
        "GET",
        &format!("/api/exports/{id}/download"),
        Some(token),
        None,
        &[],
    );
    assert_eq!(status, 200, "{head}");
    assert_eq!(j["bytes"], body.len() as u64, "size of {id}");
    assert_eq!(
        j["sha256"],
        hex::encode(sha2::Sha256::digest(&body)),
        "checksum of {id}"
    );
    if j["format"] == "xlsx" {
        let path = dir.join(format!("{id}.xlsx"));
        std::fs::write(&path, &body).unwrap();
        let out = Command::new("python3")
            .args([
                "-c",
                "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn export_dir_files(data_dir: &Path) -> Vec<String> {
    match std::fs::read_dir(data_dir.join("exports")) {
        Ok(d) => d
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn sqlite_jobs(data_dir: &Path) -> Vec<(String, String, i64)> {
    let conn = rusqlite::Connection::open(data_dir.join("pulse.sqlite")).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, status, attempts FROM export_jobs ORDER BY created_at")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn kill_9_while_jobs_run_then_every_job_ends_done_or_failed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = base_env(&[("PULSE_WORKERS", "2")]);
    seed(&data, &env, 150_000);
    let p = PulseProcess::launch(&data, &env, Launch::default());
    let token = login(&p);
    let ids: Vec<String> = (0..4).map(|_| create(&p, &token, json!({}))).collect();
    wait_until(60, "a job to be half-way", || {
        ids.iter().any(|id| {
            let j = job(&p, &token, id);
            j["status"] == "running" && j["rows_done"].as_i64().unwrap() > 0
        })
    });
    p.signal("KILL");
    drop(p);
    // The crash left running jobs and partial files behind, and nothing
    // published for them.
    let running: Vec<String> = sqlite_jobs(&data)
        .into_iter()
        .filter(|(_, s, _)| s == "running")
        .map(|(id, _, _)| id)
        .collect();
    assert!(!running.is_empty(), "no job was running at the kill");
    let files = export_dir_files(&data);
    assert!(files.iter().any(|f| f.ends_with(".part")), "{files:?}");

    let mut p = PulseProcess::launch(&data, &env, Launch::default());
    let token = login(&p);
    // While the old leases run out, a partial file is never served.
    for id in &running {
        let (status, _, _) = p.call(
            "GET",
            &format!("/api/exports/{id}/download"),
            Some(&token),
            None,
            &[],
        );
        assert_ne!(status, 200, "a partial file of {id} was served");
    }
    wait_until(120, "every job to end", || {
        ids.iter().all(|id| {
            let s = job(&p, &token, id)["status"].clone();
            s == "done" || s == "failed"
        })
    });
    for id in &ids {
        let j = job(&p, &token, id);
        if j["status"] == "failed" {
            assert!(j["error"].as_str().is_some_and(|e| !e.is_empty()), "{j}");
        } else {
            check_download(&p, &token, &j, dir.path());
            assert_eq!(j["rows_total"], 150_000);
        }
        if running.contains(id) {
            assert!(
                j["attempts"].as_i64().unwrap() >= 2,
                "rescued job ran again: {j}"
            );
        }
    }
    // The clean-up removes what the killed process left: only the done
    // jobs' files remain.
    let done = ids
        .iter()
        .filter(|id| job(&p, &token, id)["status"] == "done")
        .count();
    wait_until(30, "orphaned partial files to be removed", || {
        export_dir_files(&data).len() == done
    });
    assert!(
        export_dir_files(&data)
            .iter()
            .all(|f| !f.ends_with(".part"))
    );
    let log = p.stop_and_collect_stderr();
    assert!(log.contains("lease expired"), "no rescue logged");
}

/// Files in `PULSE_DATA_DIR/backups`.
fn backup_dir_files(data_dir: &Path) -> Vec<String> {
    match std::fs::read_dir(data_dir.join("backups")) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// A backup job is a job like an export: killed mid-write, its partial
/// file is never listed, the job is rescued and run again, and the clean-up
/// removes what the dead run left.
#[test]
fn kill_9_during_a_backup_job_then_it_is_rescued_and_done() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = base_env(&[("PULSE_WORKERS", "1")]);
    seed(&data, &env, 150_000);
    let p = PulseProcess::launch(&data, &env, Launch::default());
    let token = login(&p);
    let backups = "/api/driver-onboarding/backups";
    let (status, made) = json_call(&p, "POST", backups, &token, None);
    assert_eq!(status, 202, "{made}");
    let url = made["url"].as_str().unwrap().to_string();
    let poll = |p: &PulseProcess, token: &str| {
        let (status, j) = json_call(p, "GET", &url, token, None);
        assert_eq!(status, 200, "{j}");
        j
    };
    wait_until(60, "the backup to be half-way", || {
        let j = poll(&p, &token);
        j["status"] == "running" && j["rows_done"].as_i64().unwrap() > 0
    });
    p.signal("KILL");
    drop(p);
    let left = backup_dir_files(&data);
    assert!(left.iter().all(|f| f.ends_with(".part")), "{left:?}");
    assert_eq!(left.len(), 1, "{left:?}");

    let mut p = PulseProcess::launch(&data, &env, Launch::default());
    let token = login(&p);
    let (_, listed) = json_call(&p, "GET", backups, &token, None);
    assert_eq!(listed["backups"], json!([]), "a partial backup was listed");
    wait_until(180, "the backup job to end", || {
        let s = poll(&p, &token)["status"].clone();
        s == "done" || s == "failed"
    });
    let j = poll(&p, &token);
    assert_eq!(j["status"], "done", "{j}");
    assert!(j["attempts"].as_i64().unwrap() >= 2, "{j}");
    assert_eq!(j["rows_total"], 150_000);
    let (_, listed) = json_call(&p, "GET", backups, &token, None);
    assert_eq!(listed["backups"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["backups"][0]["id"], j["id"]);
    assert_eq!(listed["backups"][0]["leads"], 150_000);
    wait_until(30, "the dead run's partial file to be removed", || {
        backup_dir_files(&data)
            .iter()
            .all(|f| !f.ends_with(".part"))
    });
    assert_eq!(backup_dir_files(&data).len(), 1);
    let log = p.stop_and_collect_stderr();
    assert!(log.contains("lease expired"), "no rescue logged");
    assert!(log.contains("backup job done"), "no completion logged");
}

#[test]
fn sigterm_lets_a_running_job_finish_within_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = base_env(&[
        ("PULSE_WORKERS", "1"),
        ("PULSE_SHUTDOWN_GRACE_SECONDS", "60"),
    ]);
    seed(&data, &env, 60_000);
    let mut p = PulseProcess::launch(&data, &env, Launch::default());
    let token = login(&p);
    let id = create(&p, &token, json!({}));
    wait_until(60, "the job to run", || {
        job(&p, &token, &id)["status"] == "running"
    });
    p.signal("TERM");
    let status = p
        .wait_timeout(Duration::from_secs(60))
        .expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    let log = p.stop_and_collect_stderr();
    assert!(
        log.contains("may finish within the grace period"),
        "the job was not running at SIGTERM: {log}"
    );
    let jobs = sqlite_jobs(&data);
    assert_eq!(jobs[0].1, "done", "{jobs:?}");
    assert_eq!(export_dir_files(&data).len(), 1);
}

#[test]
fn sigterm_past_the_grace_period_hands_the_job_back_to_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = base_env(&[
        ("PULSE_WORKERS", "1"),
        ("PULSE_SHUTDOWN_GRACE_SECONDS", "1"),
    ]);
    seed(&data, &env, 300_000);
    let mut p = PulseProcess::launch(&data, &env, Launch::default());
    let token = login(&p);
    let id = create(&p, &token, json!({}));
    wait_until(60, "the job to be half-way", || {
        let j = job(&p, &token, &id);
        j["status"] == "running" && j["rows_done"].as_i64().unwrap() > 0
    });
    // The writer runs on threads of its own: the API answers meanwhile.
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let t = Instant::now();
        assert_eq!(job(&p, &token, &id)["status"], "running");
        slowest = slowest.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        slowest < Duration::from_secs(1),
        "API answered in {slowest:?} while a job ran"
    );
    let signalled = Instant::now();
    p.signal("TERM");
    let status = p
        .wait_timeout(Duration::from_secs(20))
        .expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "took {:?}",
        signalled.elapsed()
    );
    let log = p.stop_and_collect_stderr();
    assert!(log.contains("handed back to the queue"), "{log}");
    // Queued again, the attempt not counted, no file left behind.
    let jobs = sqlite_jobs(&data);
    assert_eq!((jobs[0].1.as_str(), jobs[0].2), ("queued", 0), "{jobs:?}");
    assert!(
        export_dir_files(&data).is_empty(),
        "{:?}",
        export_dir_files(&data)
    );
    // The next process finishes it.
    let p = PulseProcess::launch(&data, &env, Launch::default());
    let token = login(&p);
    wait_until(120, "the job to be done", || {
        job(&p, &token, &id)["status"] == "done"
    });
    let j = job(&p, &token, &id);
    assert_eq!(j["attempts"], 1);
    check_download(&p, &token, &j, dir.path());
}

#[test]
fn a_full_disk_fails_the_job_cleanly() {
    let db = crate::pg::fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = base_env(&[
        ("PULSE_DATABASE_URL", db.as_str()),
        ("PULSE_JOB_MAX_ATTEMPTS", "2"),
        ("PULSE_JOB_RETRY_SECONDS", "1"),
    ]);
    seed(&data, &env, 20_000);
    // Files past 256 KiB cannot be written (the workbook is ~4 MB).
    let p = PulseProcess::launch(
        &data,
        &env,
        Launch {
            fsize_limit_kib: Some(256),
            ..Launch::default()
        },
    );
    let token = login(&p);
    let id = create(&p, &token, json!({}));
    wait_until(60, "the job to fail", || {
        job(&p, &token, &id)["status"] == "failed"
    });
    let j = job(&p, &token, &id);
    let error = j["error"].as_str().unwrap();
    assert!(error.contains("no space for the export file"), "{error}");
    assert!(error.contains("attempt 2 of 2"), "retried once: {error}");
    assert_eq!(j["attempts"], 2);
    assert!(j["download_url"].is_null() && j["sha256"].is_null(), "{j}");
    let (status, _, _) = p.call(
        "GET",
        &format!("/api/exports/{id}/download"),
        Some(&token),
        None,
        &[],
    );
    assert_eq!(status, 409);
    assert!(
        export_dir_files(&data).is_empty(),
        "{:?}",
        export_dir_files(&data)
    );
    // The database is intact and a small export still works.
    let (status, summary) = json_call(
        &p,
        "GET",
        "/api/driver-onboarding/status-summary",
        &token,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(summary["total_leads"], 20_000);
    let small = create(
        &p,
        &token,
        json!({"format": "csv", "columns": ["name"], "filters": {"stage": "S4"}}),
    );
    wait_until(60, "the small job", || {
        job(&p, &token, &small)["status"] == "done"
    });
    let j = job(&p, &token, &small);
    check_download(&p, &token, &j, dir.path());
}

#[test]
fn two_processes_share_one_postgresql_queue_and_run_each_job_once() {
    let db = crate::pg::fresh_database();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let env = base_env(&[("PULSE_DATABASE_URL", db.as_str()), ("PULSE_WORKERS", "2")]);
    seed(&data, &env, 3_000);
    let server = PulseProcess::launch(&data, &env, Launch::default());
    let mut worker = PulseProcess::launch(
        &data,
        &env,
        Launch {
            args: &["worker", "--workers", "2"],
            ready_log: Some("pulse worker running"),
            ..Launch::default()
        },
    );
    let token = login(&server);
    let ids: Vec<String> = (0..100)
        .map(|i| {
            let format = if i % 2 == 0 { "csv" } else { "xlsx" };
            create(&server, &token, json!({"format": format}))
        })
        .collect();
    wait_until(180, "100 jobs to be done", || {
        let (_, list) = json_call(&server, "GET", "/api/exports?limit=500", &token, None);
        list["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["status"] == "done")
            .count()
            == 100
    });
    // Each job done once: one completion audit each, one attempt each, one file each.
    let (_, audit) = json_call(
        &server,
        "GET",
        "/api/audit?action=export_job.done&limit=1000",
        &token,
        None,
    );
    let audit = audit.as_array().unwrap();
    let mut per_job: HashMap<String, usize> = HashMap::new();
    let mut workers: HashSet<String> = HashSet::new();
    for e in audit {
        *per_job
            .entry(e["details"]["job_id"].as_str().unwrap().to_string())
            .or_default() += 1;
        let w = e["details"]["worker"].as_str().unwrap();
        workers.insert(w.split(':').nth(1).unwrap().to_string());
    }
    assert_eq!(per_job.len(), 100);
    assert!(per_job.values().all(|&n| n == 1), "{per_job:?}");
    assert!(ids.iter().all(|id| per_job.contains_key(id)));
    assert!(
        workers.contains(&server.pid().to_string()) && workers.contains(&worker.pid().to_string()),
        "both processes took jobs: {workers:?}"
    );
    for id in &ids[..4] {
        let j = job(&server, &token, id);
        assert_eq!(j["attempts"], 1, "{j}");
        check_download(&server, &token, &j, dir.path());
    }
    assert_eq!(export_dir_files(&data).len(), 100);
    // The dedicated worker drains on SIGTERM.
    worker.signal("TERM");
    let status = worker
        .wait_timeout(Duration::from_secs(15))
        .expect("worker exits");
    assert!(status.success());
    assert!(
        worker
            .stop_and_collect_stderr()
            .contains("draining export jobs")
    );
}
