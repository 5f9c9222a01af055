//! A fresh database in the test PostgreSQL cluster (`PULSE_TEST_PG_URL`,
//! else `scripts/pg-test-cluster` starts one), as in the API suite.

use std::sync::OnceLock;

fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("PULSE_TEST_PG_URL") {
            return url;
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg-test-cluster");
        let out = std::process::Command::new(script)
            .output()
            .expect("run scripts/pg-test-cluster");
        assert!(
            out.status.success(),
            "scripts/pg-test-cluster failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// Creates a database and returns its URL.
pub fn fresh_database() -> String {
    let server = server_url();
    let name = format!("pulse_proc_{}", uuid::Uuid::new_v4().simple());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let (client, conn) = tokio_postgres::connect(server, tokio_postgres::NoTls)
                .await
                .expect("connect to the test PostgreSQL server");
            tokio::spawn(conn);
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
        });
    let base = server.rsplit_once('/').map(|(b, _)| b).unwrap();
    format!("{base}/{name}")
}
