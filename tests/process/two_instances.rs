//! Two `pulse serve` processes behind one Caddy (two upstreams), on one
//! PostgreSQL, with their files in S3-compatible storage (moto): a job
//! created through one is downloadable, whole and by Range, through the
//! other and through the proxy, though the two share no disk.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::Digest;

use crate::caddy::{self, Caddy};
use crate::pg;
use crate::spawn::PulseProcess;

fn s3_endpoint() -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/s3-test-server");
    let out = Command::new(script)
        .output()
        .expect("run scripts/s3-test-server");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn start_caddy(dir: &std::path::Path, upstreams: &[&str]) -> (Caddy, u16) {
    let upstreams: Vec<String> = upstreams.iter().map(|u| u.to_string()).collect();
    caddy::start_caddy(dir, &upstreams, "\t\tlb_policy round_robin\n")
}

#[test]
fn a_job_made_on_one_instance_downloads_from_the_other() {
    let endpoint = s3_endpoint();
    let bucket = format!("pulse-{}", uuid::Uuid::new_v4().simple());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        pulse::storage::s3::S3Files::new(pulse::config::S3Config {
            endpoint: endpoint.clone(),
            region: "us-east-1".into(),
            bucket: bucket.clone(),
            prefix: String::new(),
            access_key: "test".into(),
            secret_key: "test".into(),
            ca_pem: None,
        })
        .ensure_bucket()
        .await
        .unwrap();
    });
    let db = pg::fresh_database();
    let storage = format!("s3://{bucket}/two");
    let common = |workers: &'static str| {
        vec![
            ("PULSE_DATABASE_URL", db.clone()),
            ("PULSE_ADMIN_EMAIL", "root@pulse.test".to_string()),
            ("PULSE_ADMIN_PASSWORD", "master-admin-pass-1".to_string()),
            ("PULSE_STORAGE_URL", storage.clone()),
            ("PULSE_S3_ENDPOINT", endpoint.clone()),
            ("PULSE_S3_ACCESS_KEY_ID", "test".to_string()),
            ("PULSE_S3_SECRET_ACCESS_KEY", "test".to_string()),
            ("PULSE_WORKERS", workers.to_string()),
        ]
    };
    let tmp = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (tmp.path().join("a"), tmp.path().join("b"));
    // Seed through the CLI on the shared database.
    let mut seed = Command::new(env!("CARGO_BIN_EXE_pulse"));
    seed.args(["seed", "--leads", "20000"])
        .env("PULSE_DATA_DIR", &dir_a);
    for (k, v) in common("0") {
        seed.env(k, v);
    }
    let out = seed.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let (env_a, env_b) = (common("1"), common("0"));
    let refs_a: Vec<(&str, &str)> = env_a.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refs_b: Vec<(&str, &str)> = env_b.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let a = PulseProcess::start(&dir_a, &refs_a);
    let b = PulseProcess::start(&dir_b, &refs_b);
    let (_caddy, port) = start_caddy(tmp.path(), &[&a.addr, &b.addr]);
    let proxy = format!("http://127.0.0.1:{port}");
    let (a_url, b_url) = (format!("http://{}", a.addr), format!("http://{}", b.addr));

    rt.block_on(async move {
        let http = reqwest::Client::new();
        let login: Value = http
            .post(format!("{proxy}/api/auth/login"))
            .json(&json!({"email": "root@pulse.test", "password": "master-admin-pass-1"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().unwrap().to_string();
        // Created through A (the one with a worker)…
        let r = http
            .post(format!("{a_url}/api/exports"))
            .bearer_auth(&token)
            .json(&json!({"format": "xlsx"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let id = r.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        // …followed and downloaded through B, which has no worker and no file on its disk.
        let mut job = Value::Null;
        for _ in 0..600 {
            job = http
                .get(format!("{b_url}/api/exports/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if job["status"] == "done" || job["status"] == "failed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(job["status"], "done", "{job}");
        assert_eq!(job["rows_total"], 20000);
        let whole = http
            .get(format!("{b_url}/api/exports/{id}/download"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(whole.status(), 200);
        let whole = whole.bytes().await.unwrap();
        assert_eq!(whole.len() as u64, job["bytes"].as_u64().unwrap());
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&whole)),
            job["sha256"].as_str().unwrap()
        );
        // By Range through the proxy: round robin sends these to both.
        let mut resumed = whole.slice(..1000).to_vec();
        for (i, base) in [&proxy, &proxy, &b_url].iter().enumerate() {
            let r = http
                .get(format!("{base}/api/exports/{id}/download"))
                .bearer_auth(&token)
                .header("range", format!("bytes={}-", 1000 * (i + 1)))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 206);
            let part = r.bytes().await.unwrap();
            assert_eq!(part, whole.slice(1000 * (i + 1)..));
            if i == 0 {
                resumed.extend_from_slice(&part);
            }
        }
        assert_eq!(resumed, whole);
    });
    // Neither instance wrote an export file to its own disk.
    assert!(!dir_a.join("exports").exists());
    assert!(!dir_b.join("exports").exists());
    drop(a);
    drop(b);
}
