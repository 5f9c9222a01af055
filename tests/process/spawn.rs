//! Runs the built `pulse` binary on a free port with its own data directory.

use std::io::{Read, Write};
use std::net::TcpStream;

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct PulseProcess {
    child: Child,
    pub addr: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PulseProcess {
    /// Starts `pulse serve` and waits until `/healthz` answers.
    pub fn start(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pulse"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PULSE_DATA_DIR", data_dir)
            .env("PULSE_LISTEN", &addr)
            .env("PULSE_SHUTDOWN_GRACE_SECONDS", "2")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn pulse");
        let mut p = PulseProcess { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if p.request("GET", "/healthz", None).0 == 200 {
                return p;
            }
            if let Ok(Some(status)) = p.child.try_wait() {
                panic!(
                    "pulse exited early with {status:?}:\n{}",
                    p.stop_and_collect_stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let addr = p.addr.clone();
        panic!(
            "pulse did not answer on {addr}:\n{}",
            p.stop_and_collect_stderr()
        );
    }

    /// A minimal HTTP/1.1 request; returns (status, body).
    pub fn request(&mut self, method: &str, path: &str, json: Option<&str>) -> (u16, String) {
        let Ok(mut s) = TcpStream::connect(&self.addr) else {
            return (0, String::new());
        };
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let body = json.unwrap_or("");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        if s.write_all(req.as_bytes()).is_err() {
            return (0, String::new());
        }
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        let status = out
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = out
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `POST /api/driver-onboarding/import-leads` with `file` as the
    /// multipart `file` field; returns the status.
    pub fn upload(&mut self, token: &str, name: &str, file: &[u8]) -> u16 {
        let Ok(mut s) = TcpStream::connect(&self.addr) else {
            return 0;
        };
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let boundary = "pulse-process-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let head = format!(
            "POST /api/driver-onboarding/import-leads HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        // The server may answer (and close) before the body is all sent.
        let _ = s
            .write_all(head.as_bytes())
            .and_then(|_| s.write_all(&body));
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out)
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }

    /// Sends a signal by name (`TERM`, `INT`, `KILL`).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{name} failed");
    }

    /// Waits for the process to exit, at most `timeout`.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Stops the process (SIGKILL if still running) and returns its stderr.
    pub fn stop_and_collect_stderr(&mut self) -> String {
        if self.child.try_wait().ok().flatten().is_none() {
            self.signal("TERM");
            if self.wait_timeout(Duration::from_secs(10)).is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        err
    }
}

impl Drop for PulseProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
