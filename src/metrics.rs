//! Process-wide Prometheus metrics: a small in-house registry (counters and
//! histograms under one mutex) instead of a metrics crate — a handful of
//! families, rendered in the text exposition format.
//!
//! The registry is global so any layer (HTTP, jobs, import) can count with a
//! plain function call and no state threaded through. Labels are always
//! bounded sets (route *templates*, statuses, outcomes), never ids or user
//! input. Gauges that the database or the semaphores already know (queue
//! depth, jobs by state, pool use, active exports) are read at scrape time
//! and passed to [`render`], so they can never drift.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

/// Request latencies: 5 ms … 60 s.
const HTTP_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Export and job run times: 0.1 s … 1 h.
const LONG_BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

/// HELP text of every family, in output order; `(name, type, help)`.
const FAMILIES: &[(&str, &str, &str)] = &[
    (
        "pulse_http_requests_total",
        "counter",
        "HTTP requests by method, route template and status",
    ),
    (
        "pulse_http_request_duration_seconds",
        "histogram",
        "HTTP request duration (until the response head; streamed bodies go on) by method and route template",
    ),
    (
        "pulse_exports_total",
        "counter",
        "Finished exports by kind (stream, job) and outcome (completed, aborted)",
    ),
    (
        "pulse_export_rows_total",
        "counter",
        "Rows written by exports, by kind",
    ),
    (
        "pulse_export_bytes_total",
        "counter",
        "Bytes written by exports, by kind",
    ),
    (
        "pulse_export_duration_seconds",
        "histogram",
        "Duration of an export from start to last byte, by kind",
    ),
    (
        "pulse_export_rejected_total",
        "counter",
        "Exports refused by admission control, by kind and HTTP status (503 global, 429 per user)",
    ),
    (
        "pulse_job_runs_total",
        "counter",
        "Job attempts (every kind) ended, by outcome (done, retry, failed, released, lost)",
    ),
    (
        "pulse_job_run_duration_seconds",
        "histogram",
        "Duration of job attempts (every kind), by outcome",
    ),
    (
        "pulse_backups_total",
        "counter",
        "Backups ended, by kind (manual, scheduled, prerestore, preimport) and outcome (done, failed)",
    ),
    (
        "pulse_backup_leads_total",
        "counter",
        "Leads written by finished backups, by kind",
    ),
    (
        "pulse_backup_bytes_total",
        "counter",
        "Bytes (gzipped) written by finished backups, by kind",
    ),
    (
        "pulse_backup_duration_seconds",
        "histogram",
        "Duration of a backup (a manual one: of its job attempt), by kind and outcome",
    ),
    (
        "pulse_restores_total",
        "counter",
        "Restores ended, by outcome (done, invalid: the file was refused, failed)",
    ),
    (
        "pulse_restore_duration_seconds",
        "histogram",
        "Duration of a restore (check, automatic backup, replacement), by outcome",
    ),
    (
        "pulse_s3_requests_total",
        "counter",
        "Object-storage requests by operation and outcome (ok, client_error, server_error, transport_error)",
    ),
    (
        "pulse_import_rows_total",
        "counter",
        "Imported lead rows by outcome",
    ),
    (
        "pulse_login_failures_total",
        "counter",
        "Failed sign-ins, by reason (credentials, throttled)",
    ),
];

#[derive(Default)]
struct Histogram {
    /// Count per bucket (not cumulative; summed when rendered).
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Registry {
    /// family → rendered label set → value.
    counters: BTreeMap<&'static str, BTreeMap<String, f64>>,
    histograms: BTreeMap<&'static str, BTreeMap<String, Histogram>>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

/// `{a="x",b="y"}` with the values escaped as the format asks.
fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn add(name: &'static str, pairs: &[(&str, &str)], n: f64) {
    let mut r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    *r.counters
        .entry(name)
        .or_default()
        .entry(labels(pairs))
        .or_default() += n;
}

fn observe(name: &'static str, buckets: &[f64], pairs: &[(&str, &str)], secs: f64) {
    let mut r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    let h = r
        .histograms
        .entry(name)
        .or_default()
        .entry(labels(pairs))
        .or_default();
    if h.buckets.is_empty() {
        h.buckets = vec![0; buckets.len()];
    }
    if let Some(i) = buckets.iter().position(|b| secs <= *b) {
        h.buckets[i] += 1;
    }
    h.sum += secs;
    h.count += 1;
}

fn buckets_of(name: &str) -> &'static [f64] {
    if name.starts_with("pulse_http_") {
        HTTP_BUCKETS
    } else {
        LONG_BUCKETS
    }
}

/// One HTTP request answered.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    let status = status.to_string();
    add(
        "pulse_http_requests_total",
        &[("method", method), ("route", route), ("status", &status)],
        1.0,
    );
    observe(
        "pulse_http_request_duration_seconds",
        HTTP_BUCKETS,
        &[("method", method), ("route", route)],
        elapsed.as_secs_f64(),
    );
}

/// An export (`kind`: `stream` or `job`) ended; `completed` tells its outcome.
pub fn export_finished(kind: &str, completed: bool, rows: u64, bytes: u64, elapsed: Duration) {
    let outcome = if completed { "completed" } else { "aborted" };
    add(
        "pulse_exports_total",
        &[("kind", kind), ("outcome", outcome)],
        1.0,
    );
    add("pulse_export_rows_total", &[("kind", kind)], rows as f64);
    add("pulse_export_bytes_total", &[("kind", kind)], bytes as f64);
    observe(
        "pulse_export_duration_seconds",
        LONG_BUCKETS,
        &[("kind", kind)],
        elapsed.as_secs_f64(),
    );
}

/// Admission control refused an export (`status` 503 or 429).
pub fn export_rejected(kind: &str, status: u16) {
    add(
        "pulse_export_rejected_total",
        &[("kind", kind), ("status", &status.to_string())],
        1.0,
    );
}

/// A job attempt (any kind) ended (`done`, `retry`, `failed`, `released`, `lost`).
pub fn job_run(outcome: &str, elapsed: Duration) {
    add("pulse_job_runs_total", &[("outcome", outcome)], 1.0);
    observe(
        "pulse_job_run_duration_seconds",
        LONG_BUCKETS,
        &[("outcome", outcome)],
        elapsed.as_secs_f64(),
    );
}

/// A backup (`kind`: `manual`, `scheduled`, `prerestore`, `preimport`) ended as
/// `outcome` (`done`, `failed`).
pub fn backup_finished(kind: &str, outcome: &str, leads: u64, bytes: u64, elapsed: Duration) {
    add(
        "pulse_backups_total",
        &[("kind", kind), ("outcome", outcome)],
        1.0,
    );
    if outcome == "done" {
        add("pulse_backup_leads_total", &[("kind", kind)], leads as f64);
        add("pulse_backup_bytes_total", &[("kind", kind)], bytes as f64);
    }
    observe(
        "pulse_backup_duration_seconds",
        LONG_BUCKETS,
        &[("kind", kind), ("outcome", outcome)],
        elapsed.as_secs_f64(),
    );
}

/// A restore ended as `outcome` (`done`, `invalid`, `failed`).
pub fn restore_finished(outcome: &str, elapsed: Duration) {
    add("pulse_restores_total", &[("outcome", outcome)], 1.0);
    observe(
        "pulse_restore_duration_seconds",
        LONG_BUCKETS,
        &[("outcome", outcome)],
        elapsed.as_secs_f64(),
    );
}

/// One object-storage request (`operation`: e.g. `put_object`,
/// `upload_part`, `get_object`) ended as `outcome`.
pub fn s3_request(operation: &'static str, outcome: &'static str) {
    add(
        "pulse_s3_requests_total",
        &[("operation", operation), ("outcome", outcome)],
        1.0,
    );
}

/// `n` imported rows ended as `outcome` (e.g. `inserted`, `replaced`,
/// `skipped`, `rejected`); for the import code to call.
pub fn import_rows(outcome: &str, n: u64) {
    add("pulse_import_rows_total", &[("outcome", outcome)], n as f64);
}

/// A sign-in failed (`credentials`) or was refused by the throttle (`throttled`).
pub fn login_failure(reason: &str) {
    add("pulse_login_failures_total", &[("reason", reason)], 1.0);
}

/// What is read at scrape time rather than counted.
#[derive(Clone, Debug, Default)]
pub struct Gauges {
    /// Streaming exports holding a permit now.
    pub active_exports: u64,
    /// The streaming export permits in all (`PULSE_EXPORT_CONCURRENCY`).
    pub export_slots: u64,
    /// Export jobs per state (queued, running, done, …); `None` when the
    /// database did not answer (then `pulse_up_database` is 0).
    pub jobs_by_state: Option<Vec<(String, i64)>>,
    /// Database connections in use and the pool's maximum size.
    pub pool_in_use: u64,
    /// The pool's maximum size.
    pub pool_size: u64,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
}

fn gauge(out: &mut String, name: &str, help: &str, rows: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (l, v) in rows {
        let _ = writeln!(out, "{name}{l} {v}");
    }
}

/// The whole exposition: counted families, then the scrape-time gauges.
pub fn render(g: &Gauges) -> String {
    let mut out = String::with_capacity(8 * 1024);
    {
        let r = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        for (name, kind, help) in FAMILIES {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            if let Some(series) = r.counters.get(name) {
                for (l, v) in series {
                    let _ = writeln!(out, "{name}{l} {v}");
                }
            }
            if let Some(series) = r.histograms.get(name) {
                for (l, h) in series {
                    render_histogram(&mut out, name, buckets_of(name), l, h);
                }
            }
        }
    }
    let one = |v: f64| vec![(String::new(), v)];
    gauge(
        &mut out,
        "pulse_exports_active",
        "Streaming exports running now (each holds one of pulse_export_slots)",
        &one(g.active_exports as f64),
    );
    gauge(
        &mut out,
        "pulse_export_slots",
        "Streaming exports allowed at once (PULSE_EXPORT_CONCURRENCY)",
        &one(g.export_slots as f64),
    );
    gauge(
        &mut out,
        "pulse_up_database",
        "1 when the database answered this scrape",
        &one(if g.jobs_by_state.is_some() { 1.0 } else { 0.0 }),
    );
    if let Some(states) = &g.jobs_by_state {
        let queued = states
            .iter()
            .find(|(s, _)| s == "queued")
            .map_or(0, |(_, n)| *n);
        gauge(
            &mut out,
            "pulse_job_queue_depth",
            "Jobs of every kind (export, backup) queued (waiting for a worker), all instances",
            &one(queued as f64),
        );
        let rows: Vec<(String, f64)> = states
            .iter()
            .map(|(s, n)| (labels(&[("state", s)]), *n as f64))
            .collect();
        gauge(
            &mut out,
            "pulse_jobs",
            "Jobs of every kind (export, backup) in the table by state, all instances",
            &rows,
        );
    }
    let backend = labels(&[("backend", g.backend)]);
    gauge(
        &mut out,
        "pulse_db_pool_in_use",
        "Database connections of this process in use",
        &[(backend.clone(), g.pool_in_use as f64)],
    );
    gauge(
        &mut out,
        "pulse_db_pool_size",
        "Database connections this process may open (pool maximum)",
        &[(backend, g.pool_size as f64)],
    );
    out
}

fn render_histogram(out: &mut String, name: &str, bounds: &[f64], l: &str, h: &Histogram) {
    // `le` joins the series' own labels.
    let with_le = |le: &str| {
        if l.is_empty() {
            format!("{{le=\"{le}\"}}")
        } else {
            format!("{},le=\"{le}\"}}", &l[..l.len() - 1])
        }
    };
    let mut cumulative = 0;
    for (b, n) in bounds.iter().zip(&h.buckets) {
        cumulative += n;
        let _ = writeln!(out, "{name}_bucket{} {cumulative}", with_le(&b.to_string()));
    }
    let _ = writeln!(out, "{name}_bucket{} {}", with_le("+Inf"), h.count);
    let _ = writeln!(out, "{name}_sum{l} {}", h.sum);
    let _ = writeln!(out, "{name}_count{l} {}", h.count);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(labels(&[]), "");
        assert_eq!(
            labels(&[("a", "x\"y\\z\n"), ("b", "1")]),
            "{a=\"x\\\"y\\\\z\\n\",b=\"1\"}"
        );
    }

    #[test]
    fn histograms_are_cumulative_and_counters_add() {
        // Family names of this test only, so parallel tests do not interfere.
        http_request("GET", "/unit-test/a", 200, Duration::from_millis(3));
        http_request("GET", "/unit-test/a", 200, Duration::from_millis(70));
        http_request("GET", "/unit-test/a", 200, Duration::from_secs(100));
        let text = render(&Gauges::default());
        assert!(
            text.contains(
                "pulse_http_requests_total{method=\"GET\",route=\"/unit-test/a\",status=\"200\"} 3"
            ),
            "{text}"
        );
        let bucket = |le: &str| {
            format!(
                "pulse_http_request_duration_seconds_bucket{{method=\"GET\",route=\"/unit-test/a\",le=\"{le}\"}}"
            )
        };
        assert!(text.contains(&format!("{} 1\n", bucket("0.005"))), "{text}");
        assert!(text.contains(&format!("{} 1\n", bucket("0.05"))), "{text}");
        assert!(text.contains(&format!("{} 2\n", bucket("0.1"))), "{text}");
        assert!(text.contains(&format!("{} 2\n", bucket("60"))), "{text}");
        assert!(text.contains(&format!("{} 3\n", bucket("+Inf"))), "{text}");
    }
}
