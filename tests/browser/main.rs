//! The pages in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `scripts/install-test-deps`), against the
//! built `pulse` binary with seeded demo data. Every story runs on SQLite;
//! those about permissions also on PostgreSQL. Screenshots of every page at
//! 1366×768 and 390×844 go to `target/screenshots/`.

mod admin_stories;
mod bulk;
mod imports;
#[allow(dead_code)]
#[path = "../process/pg.rs"]
mod pg;
#[allow(dead_code)]
#[path = "../process/spawn.rs"]
mod spawn;
mod stories;
mod webdriver;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use spawn::PulseProcess;
use webdriver::Browser;

pub const ADMIN_EMAIL: &str = "root@pulse.test";
pub const ADMIN_PASSWORD: &str = "master-admin-pass-1";
/// A seeded telecaller (`pulse seed`) and the demo password.
pub const TELECALLER: &str = "priya.tc@pulse.example";
pub const TELECALLER_PASSWORD: &str = "pulse-demo-2025";
pub const HOSTILE: &str = "<img src=x onerror=alert(1)>";
pub const DEVANAGARI: &str = "प्रिया शर्मा";
pub const TAMIL: &str = "முருகன் செல்வம்";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running `pulse serve` with demo leads, a few leads of our own and its
/// admin's API token (used only to set up and check data, never by pages).
pub struct Site {
    pub process: PulseProcess,
    pub base: String,
    pub token: String,
    /// Ids of the leads added by name: hostile, Devanagari, Tamil.
    pub hostile_id: String,
    pub devanagari_id: String,
    /// The environment the site runs with (data dir, database, …), for a
    /// second process on the same data (`pulse worker`).
    pub env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

fn env_for(dir: &Path, db: &str) -> Vec<(String, String)> {
    vec![
        ("PULSE_DATA_DIR".into(), dir.display().to_string()),
        ("PULSE_DATABASE_URL".into(), db.into()),
        ("PULSE_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
        ("PULSE_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
        ("PULSE_LOG_FORMAT".into(), "json".into()),
    ]
}

impl Site {
    /// Starts a site with `leads` seeded demo leads.
    pub fn start(backend: Backend, leads: u32) -> Site {
        Self::start_with(backend, leads, &[])
    }

    /// [`Site::start`] with more settings for `pulse serve`.
    pub fn start_with(backend: Backend, leads: u32, extra: &[(&str, &str)]) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let db = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("pulse.sqlite").display()),
            Backend::Postgres => pg::fresh_database(),
        };
        let env = env_for(dir.path(), &db);
        for args in [
            vec!["migrate".to_string()],
            vec!["seed".into(), "--leads".into(), leads.to_string()],
        ] {
            let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
                .args(&args)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .output()
                .expect("run pulse");
            assert!(
                out.status.success(),
                "pulse {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut env = env;
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let env_refs: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let process = PulseProcess::start(dir.path(), &env_refs);
        let base = format!("http://{}", process.addr);
        let mut site = Site {
            process,
            base,
            token: String::new(),
            hostile_id: String::new(),
            devanagari_id: String::new(),
            env: env.clone(),
            _dir: dir,
        };
        let (status, body) = site.api(
            "POST",
            "/api/auth/login",
            Some(json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
        );
        assert_eq!(status, 200, "{body}");
        site.token = body["token"].as_str().unwrap().to_string();
        let mut ids = Vec::new();
        for (i, name) in [HOSTILE, DEVANAGARI, TAMIL].iter().enumerate() {
            let (status, lead) = site.api(
                "POST",
                "/api/driver-onboarding/leads",
                Some(json!({
                    "name": name,
                    "phone_number": format!("60000000{i:02}"),
                    "assigned_telecaller": TELECALLER,
                    "source": "Browser test",
                    "remarks": if i == 0 { HOSTILE } else { "Speaks Tamil and Hindi" },
                })),
            );
            assert_eq!(status, 201, "{lead}");
            ids.push(lead["id"].as_str().unwrap().to_string());
        }
        site.hostile_id = ids[0].clone();
        site.devanagari_id = ids[1].clone();
        site
    }

    /// A JSON API call as the admin (set-up and checks only).
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string());
        let token = (!self.token.is_empty()).then_some(self.token.as_str());
        let (status, _, bytes) = self.process.call(method, path, token, body.as_deref(), &[]);
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A browser at desktop size on this site.
    pub fn browser(&self) -> Browser {
        Browser::start(&self.base, 1366, 768)
    }
}

/// Signs in through the page and waits for the page it lands on.
pub fn sign_in(b: &Browser, login: &str, password: &str) {
    b.goto("/login");
    b.fill("#login", login);
    b.fill("#password", password);
    b.click_on("form.stack button[type=submit]");
    b.wait_path("to leave the sign-in page", |p| !p.starts_with("/login"));
    b.settle();
}

/// Saves the current page at 1366×768 and at 390×844 as
/// `target/screenshots/{name}-desktop.png` / `-phone.png`.
pub fn screenshots(b: &mut Browser, name: &str) {
    b.settle();
    b.screenshot(&format!("{name}-desktop"));
    b.resize(390, 844);
    b.settle();
    b.screenshot(&format!("{name}-phone"));
    b.resize(1366, 768);
}
