//! `TestApp`: the real application on port 0 with its own database — a
//! SQLite file in a temporary directory, or a fresh database in the test
//! PostgreSQL cluster (`PULSE_TEST_PG_URL`, else `scripts/pg-test-cluster`
//! starts one). One helper per endpoint keeps the tests readable. Every
//! JSON answer is checked against the API document (`answer_check.rs`);
//! a mismatch fails the test when its `TestApp` is dropped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::OnceLock;

use pulse::app::Application;
use pulse::config::Config;
use pulse::http::AppState;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::answer_check::{self, Checker};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const ADMIN_EMAIL: &str = "root@pulse.test";
pub const ADMIN_PASSWORD: &str = "master-admin-pass-1";

/// Runs the body once per backend: `dual_backend_tests!(name, …)` makes
/// `sqlite::name` and `postgres::name` from `async fn name(app: TestApp)`.
/// `dual_backend_tests!(mod m with &[("PULSE_…", "…")]; name, …)` starts
/// the apps with those settings, as `m::sqlite::name` and `m::postgres::name`.
#[macro_export]
macro_rules! dual_backend_tests {
    (mod $m:ident with $settings:expr; $($name:ident),* $(,)?) => {
        mod $m {
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        super::super::$name($crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Sqlite, $settings).await).await
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        super::super::$name($crate::helpers::TestApp::spawn_with($crate::helpers::Backend::Postgres, $settings).await).await
                    }
                )*
            }
        }
    };
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await).await
                }
            )*
        }
    };
}

/// The PostgreSQL server URL for tests (its `postgres` database).
pub fn pg_server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("PULSE_TEST_PG_URL") {
            return url;
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-test-cluster");
        let out = std::process::Command::new(script).output().expect("run scripts/pg-test-cluster");
        assert!(
            out.status.success(),
            "scripts/pg-test-cluster failed (is PostgreSQL installed? run scripts/install-test-deps):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// Drops a database `fresh_pg_database` made, its connections ended. Called
/// from `Drop` (no runtime at hand), so it runs on its own thread.
fn drop_pg_database(name: String) {
    let server = pg_server_url().to_owned();
    let done = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let Ok((client, conn)) = tokio_postgres::connect(&server, tokio_postgres::NoTls).await
            else {
                return;
            };
            tokio::spawn(conn);
            // a leftover only costs disk; the cluster sweeps them at its next start
            let _ = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        });
    });
    let _ = done.join();
}

/// Creates a fresh database in the test cluster and returns its URL.
pub async fn fresh_pg_database() -> String {
    let server = pg_server_url();
    let (client, conn) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL server");
    tokio::spawn(conn);
    let name = format!("pulse_test_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    let base = server.rsplit_once('/').map(|(b, _)| b).unwrap();
    format!("{base}/{name}")
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    #[allow(dead_code)]
    pub database_url: String,
    pub state: AppState,
    /// The `PULSE_METRICS_LISTEN` listener's address, when set.
    #[allow(dead_code)]
    pub metrics_addr: Option<SocketAddr>,
    /// Keeps the data directory alive for the test's duration.
    #[allow(dead_code)]
    pub dir: tempfile::TempDir,
    /// Checks every JSON answer against the API document.
    pub answers: Checker,
    /// The PostgreSQL database this app made, dropped with it (a second
    /// instance on the same database is a later local, so it goes first).
    own_pg_database: Option<String>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(name) = self.own_pg_database.take() {
            drop_pg_database(name);
        }
        if std::thread::panicking() {
            return;
        }
        let failures = std::mem::take(&mut *self.answers.failures.lock().unwrap());
        assert!(
            failures.is_empty(),
            "{} answer(s) do not match the API document (GET /api/openapi.json):\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, &[]).await
    }

    /// Spawns with extra `PULSE_*` settings.
    pub async fn spawn_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
        Self::spawn_checked(backend, extra, pulse::http::openapi::document().0).await
    }

    /// Spawns with its answers checked against `doc` (a test of the check
    /// gives it a document that is wrong on purpose).
    pub async fn spawn_checked(backend: Backend, extra: &[(&str, &str)], doc: Value) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("pulse.sqlite").display()),
            Backend::Postgres => fresh_pg_database().await,
        };
        let own_pg_database = matches!(backend, Backend::Postgres)
            .then(|| database_url.rsplit('/').next().unwrap().to_owned());
        let mut env: HashMap<String, String> = HashMap::from([
            ("PULSE_DATA_DIR".into(), dir.path().display().to_string()),
            ("PULSE_DATABASE_URL".into(), database_url.clone()),
            ("PULSE_LISTEN".into(), "127.0.0.1:0".into()),
            ("PULSE_ADMIN_EMAIL".into(), ADMIN_EMAIL.into()),
            ("PULSE_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
            ("PULSE_HASH_CONCURRENCY".into(), "2".into()),
            ("PULSE_SHUTDOWN_GRACE_SECONDS".into(), "1".into()),
        ]);
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        let config = Config::load_with(None, &|k| env.get(k).cloned()).expect("test config");
        let answers = Checker::new(doc);
        let check = answers.clone();
        let app = Application::build(config)
            .await
            .expect("build application")
            .wrap_router(move |router| {
                router.layer(axum::middleware::from_fn_with_state(
                    check,
                    answer_check::layer,
                ))
            });
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let state = app.state().clone();
        tokio::spawn(app.run_until(std::future::pending()));
        TestApp {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::builder().build().unwrap(),
            backend,
            database_url,
            state,
            metrics_addr,
            dir,
            answers,
            own_pg_database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the bearer token; panics unless it succeeds.
    pub async fn token(&self, email: &str, password: &str) -> String {
        let r = self.login(email, password).await;
        assert_eq!(r.status(), StatusCode::OK, "login of {email} failed");
        let body: Value = r.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.token(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Creates an active user as `admin_token` and returns (id, token of the new user).
    pub async fn user_with_role(
        &self,
        admin_token: &str,
        email: &str,
        role: &str,
    ) -> (String, String) {
        let password = "user-password-1";
        let r = self
            .post(
                "/api/users",
                admin_token,
                json!({ "email": email, "password": password, "account_type": role,
                        "first_name": "Test", "last_name": role }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "create {role} user");
        let body: Value = r.json().await.unwrap();
        let id = body["user"]["id"].as_str().unwrap().to_string();
        (id, self.token(email, password).await)
    }
}

/// Status and JSON body of a response.
pub async fn status_json(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}
