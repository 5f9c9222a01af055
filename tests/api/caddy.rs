//! A real Caddy (Debian's 2.6) in front of Pulse for the tests, shared by
//! the API suite and (through `#[path]`) the process suite.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Caddy; killed when dropped.
pub struct Caddy(Child);

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts Caddy (admin off, state under `dir`) proxying `127.0.0.1:port`
/// to `upstreams` with `flush_interval -1` plus `directives` (lines inside
/// the `reverse_proxy` block); waits until it listens.
pub fn start_caddy(dir: &std::path::Path, upstreams: &[String], directives: &str) -> (Caddy, u16) {
    let port = free_port();
    let config = format!(
        "{{\n\tadmin off\n\tauto_https off\n}}\n\n:{port} {{\n\treverse_proxy {} {{\n\t\tflush_interval -1\n{directives}\t}}\n}}\n",
        upstreams.join(" ")
    );
    (run_caddyfile(dir, &config, port), port)
}

/// Runs Caddy with `config` (a Caddyfile; state under `dir`) and waits
/// until it listens on `port`.
pub fn run_caddyfile(dir: &std::path::Path, config: &str, port: u16) -> Caddy {
    let file = dir.join("Caddyfile");
    std::fs::write(&file, config).unwrap();
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&file)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start caddy (scripts/install-test-deps installs it)");
    let caddy = Caddy(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "caddy did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    caddy
}
