//! Tests that need a real `pulse` process: start-up from the environment,
//! the first master_admin printed once, signals and the drain deadline,
//! and background export jobs through crashes, signals and a full disk.

mod backup;
#[path = "../api/caddy.rs"]
mod caddy;
mod jobs;
mod pg;
mod spawn;
mod two_instances;

use std::time::{Duration, Instant};

use spawn::PulseProcess;

#[test]
fn first_start_generates_and_prints_the_admin_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = PulseProcess::start(dir.path(), &[]);
    let stderr = p.stop_and_collect_stderr();
    let password = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("password:")
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no generated password printed:\n{stderr}"));
    assert_eq!(password.len(), 20, "{stderr}");

    // It signs in with that password, and a second start prints nothing new.
    let mut p = PulseProcess::start(dir.path(), &[]);
    let body = format!(r#"{{"email":"admin","password":"{password}"}}"#);
    let (status, _) = p.request("POST", "/api/auth/login", Some(&body));
    assert_eq!(status, 200);
    let stderr = p.stop_and_collect_stderr();
    assert!(!stderr.contains("password:"), "printed twice:\n{stderr}");
}

#[test]
fn sigterm_stops_promptly_with_status_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = PulseProcess::start(dir.path(), &[("PULSE_ADMIN_PASSWORD", "process-test-pass")]);
    assert_eq!(p.request("GET", "/readyz", None).0, 200);
    let started = Instant::now();
    p.signal("TERM");
    let status = p
        .wait_timeout(Duration::from_secs(10))
        .expect("exits after SIGTERM");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let stderr = p.stop_and_collect_stderr();
    assert!(stderr.contains("draining"), "{stderr}");
}

#[test]
fn sigint_stops_too_and_logs_are_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = PulseProcess::start(dir.path(), &[("PULSE_ADMIN_PASSWORD", "process-test-pass")]);
    let body = r#"{"email":"admin","password":"process-test-pass"}"#;
    assert_eq!(p.request("POST", "/api/auth/login", Some(body)).0, 200);
    p.signal("INT");
    assert!(
        p.wait_timeout(Duration::from_secs(10))
            .expect("exits after SIGINT")
            .success()
    );
    let stderr = p.stop_and_collect_stderr();
    let request_line = stderr
        .lines()
        .find(|l| l.contains("\"route\":\"/api/auth/login\""))
        .unwrap_or_else(|| panic!("no request log line:\n{stderr}"));
    let v: serde_json::Value = serde_json::from_str(request_line).expect("a JSON log line");
    assert_eq!(v["status"], 200);
    assert!(v["request_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        !stderr.contains("process-test-pass"),
        "a password reached the log"
    );
}

#[test]
fn bad_configuration_is_named() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("config")
        .env("PULSE_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PULSE_LISTEN"), "{err}");
}

#[path = "../api/import_fixtures.rs"]
mod import_fixtures;

/// Resident memory of `pid` in KiB: (current, peak since the last reset).
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Hostile uploads against the real binary: each answers 4xx within 2 s,
/// and the server's peak resident memory grows by less than 64 MB.
#[test]
fn hostile_import_files_keep_the_server_small() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = PulseProcess::start(
        dir.path(),
        &[
            ("PULSE_ADMIN_PASSWORD", "process-test-pass"),
            ("PULSE_ADMIN_EMAIL", "root@pulse.test"),
        ],
    );
    let (status, body) = p.request(
        "POST",
        "/api/auth/login",
        Some(r#"{"email":"root@pulse.test","password":"process-test-pass"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let token = body
        .split("\"token\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let pid = p.pid();
    for (what, name, file, want) in import_fixtures::hostile() {
        // Reset the peak (VmHWM) to the current size: Linux clear_refs "5".
        std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
        let (before, _) = rss_kib(pid);
        let started = Instant::now();
        let status = p.upload(&token, name, &file);
        let took = started.elapsed();
        let (_, peak) = rss_kib(pid);
        assert_eq!(status, want, "{what}");
        assert!(took < Duration::from_secs(2), "{what} took {took:?}");
        let grew_mib = peak.saturating_sub(before) / 1024;
        eprintln!("{what}: {status} in {took:?}, peak RSS +{grew_mib} MiB");
        assert!(grew_mib < 64, "{what}: peak RSS grew by {grew_mib} MiB");
    }
}
