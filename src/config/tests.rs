//! The configuration loader's tests.

use super::*;
use std::collections::HashMap;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn s3_over_https_with_a_private_ca() {
    let base = [
        ("PULSE_STORAGE_URL", "s3://b/p"),
        ("PULSE_S3_ENDPOINT", "https://minio.internal:9000"),
        ("PULSE_S3_ACCESS_KEY_ID", "k"),
        ("PULSE_S3_SECRET_ACCESS_KEY", "s"),
    ];
    let c = Config::load_with(None, &env(&base)).unwrap();
    let s3 = c.storage.unwrap();
    assert_eq!(s3.endpoint, "https://minio.internal:9000");
    assert!(s3.ca_pem.is_none());
    let missing = [&base[..], &[("PULSE_S3_CA_FILE", "/nonexistent/ca.pem")]].concat();
    let e = Config::load_with(None, &env(&missing))
        .unwrap_err()
        .to_string();
    assert!(e.contains("PULSE_S3_CA_FILE=/nonexistent/ca.pem"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let path = junk.display().to_string();
    let bad = [&base[..], &[("PULSE_S3_CA_FILE", path.as_str())]].concat();
    let e = Config::load_with(None, &env(&bad)).unwrap_err().to_string();
    assert!(e.contains("no PEM certificate"), "{e}");
}

#[test]
fn defaults() {
    let c = Config::load_with(None, &env(&[])).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(
        c.database_url.expose(),
        "sqlite://./pulse-data/pulse.sqlite"
    );
    assert!(c.trusted_proxies.is_empty());
}

#[test]
fn file_then_env_override() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pulse.toml");
    std::fs::write(
        &path,
        "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/pulse\"\n",
    )
    .unwrap();
    let c = Config::load_with(Some(&path), &env(&[("PULSE_LISTEN", "127.0.0.1:9100")])).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:9100");
    assert_eq!(c.data_dir, PathBuf::from("/srv/pulse"));
    assert_eq!(c.database_url.expose(), "sqlite:///srv/pulse/pulse.sqlite");
}

#[test]
fn errors_name_the_variable() {
    let e = Config::load_with(None, &env(&[("PULSE_LISTEN", "nowhere")])).unwrap_err();
    assert!(e.contains("PULSE_LISTEN"), "{e}");
    let e = Config::load_with(None, &env(&[("PULSE_TRUSTED_PROXIES", "10.0.0.0/99")])).unwrap_err();
    assert!(e.contains("PULSE_TRUSTED_PROXIES"), "{e}");
    let e = Config::load_with(None, &env(&[("PULSE_HASH_CONCURRENCY", "x")])).unwrap_err();
    assert!(e.contains("PULSE_HASH_CONCURRENCY"), "{e}");
}

#[test]
fn secrets_are_redacted() {
    let c = Config::load_with(
        None,
        &env(&[
            (
                "PULSE_DATABASE_URL",
                "postgres://pulse:hunter2@db:5432/pulse",
            ),
            ("PULSE_ADMIN_PASSWORD", "s3cret-pass"),
            ("PULSE_METRICS_TOKEN", "scrape-token-0123456789"),
        ]),
    )
    .unwrap();
    let printed = format!("{c:?}{}", c.render());
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(!printed.contains("s3cret-pass"), "{printed}");
    assert!(!printed.contains("scrape-token"), "{printed}");
    assert!(c.render().contains("postgres://pulse:***@db:5432/pulse"));
    assert_eq!(
        redact_url("postgres://localhost/db?user=a&password=b&x=1"),
        "postgres://localhost/db?user=a&password=***&x=1"
    );
}

#[test]
fn job_settings_are_checked() {
    let c = Config::load_with(None, &env(&[])).unwrap();
    assert_eq!(c.workers, 1);
    assert_eq!(c.export_retention, Duration::from_secs(86_400));
    assert_eq!(c.job_lease, Duration::from_secs(30));
    let c = Config::load_with(None, &env(&[("PULSE_WORKERS", "0")])).unwrap();
    assert_eq!(c.workers, 0, "0 workers is allowed");
    for (var, value) in [
        ("PULSE_JOB_LEASE_SECONDS", "1"),
        ("PULSE_JOB_MAX_ATTEMPTS", "0"),
        ("PULSE_EXPORT_CLEANUP_INTERVAL", "0"),
        ("PULSE_EXPORT_JOBS_PER_USER", "many"),
        ("PULSE_WORKERS", "-1"),
        ("PULSE_METRICS_LISTEN", "everywhere"),
        ("PULSE_METRICS_TOKEN", "short"),
        ("PULSE_BACKUP_SCHEDULE", "10s"),
        ("PULSE_BACKUP_SCHEDULE", "daily"),
        ("PULSE_BACKUP_KEEP", "0"),
    ] {
        let e = Config::load_with(None, &env(&[(var, value)])).unwrap_err();
        assert!(e.contains(var), "{var}={value}: {e}");
    }
}

#[test]
fn every_variable_is_in_the_readme_table() {
    let readme = include_str!("../../README.md");
    for v in VARIABLES {
        assert!(
            readme.contains(&format!("| `{v}` |")),
            "{v} is missing from the README's configuration table"
        );
    }
}

#[test]
fn humane_durations() {
    for (text, secs) in [
        ("90", 90),
        ("90s", 90),
        ("30m", 1800),
        ("24h", 86_400),
        ("7d", 604_800),
        (" 2 h ", 7200),
    ] {
        assert_eq!(
            parse_duration(text),
            Ok(Duration::from_secs(secs)),
            "{text}"
        );
    }
    for bad in ["", "h", "10w", "-5m", "1.5h"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
    let c = Config::load_with(None, &env(&[("PULSE_EXPORT_RETENTION", "30m")])).unwrap();
    assert_eq!(c.export_retention, Duration::from_secs(1800));
    assert!(c.render().contains("PULSE_EXPORT_RETENTION=30m\n"));
    let e = Config::load_with(None, &env(&[("PULSE_EXPORT_RETENTION", "soon")])).unwrap_err();
    assert!(e.contains("PULSE_EXPORT_RETENTION"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pulse.toml");
    std::fs::write(
        &path,
        "export_retention = 3600\nexport_cleanup_interval = \"10m\"\n",
    )
    .unwrap();
    let c = Config::load_with(Some(&path), &env(&[])).unwrap();
    assert_eq!(c.export_retention, Duration::from_secs(3600));
    assert_eq!(c.export_cleanup_interval, Duration::from_secs(600));
}

#[test]
fn networks() {
    let net = IpNet::parse("10.0.0.0/8").unwrap();
    assert!(net.contains("10.1.2.3".parse().unwrap()));
    assert!(!net.contains("11.0.0.1".parse().unwrap()));
    assert!(net.contains("::ffff:10.0.0.1".parse().unwrap()));
    let one = IpNet::parse("127.0.0.1").unwrap();
    assert!(one.contains("127.0.0.1".parse().unwrap()));
    assert!(!one.contains("127.0.0.2".parse().unwrap()));
    assert!(
        IpNet::parse("::1/128")
            .unwrap()
            .contains("::1".parse().unwrap())
    );
}
