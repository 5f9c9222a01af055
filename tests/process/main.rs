//! Tests that need a real `pulse` process: start-up from the environment,
//! the first master_admin printed once, signals and the drain deadline,
//! and background export jobs through crashes, signals and a full disk.

mod backup;
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
