//! Runs the built `pulse` binary on a free port with its own data directory.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct PulseProcess {
    child: Child,
    pub addr: String,
    /// Everything the process wrote to stderr so far (drained by a thread,
    /// so a chatty process never blocks on a full pipe).
    stderr: Arc<Mutex<String>>,
    drain: Option<std::thread::JoinHandle<()>>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// How to start a process.
#[derive(Default)]
pub struct Launch<'a> {
    /// The subcommand and its arguments (default `serve`).
    pub args: &'a [&'a str],
    /// `RLIMIT_FSIZE` in KiB for the process, with SIGXFSZ ignored, so a
    /// write past it fails with EFBIG (a full disk, without mounting one).
    pub fsize_limit_kib: Option<u64>,
    /// Wait for this stderr text instead of `/healthz` (processes with no HTTP).
    pub ready_log: Option<&'a str>,
}

impl PulseProcess {
    /// Starts `pulse serve` and waits until `/healthz` answers.
    pub fn start(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::launch(data_dir, env, Launch::default())
    }

    /// Starts the binary as `launch` says and waits until it is ready.
    pub fn launch(data_dir: &Path, env: &[(&str, &str)], launch: Launch<'_>) -> Self {
        let addr = format!("127.0.0.1:{}", free_port());
        let args: &[&str] = if launch.args.is_empty() {
            &["serve"]
        } else {
            launch.args
        };
        let bin = env!("CARGO_BIN_EXE_pulse");
        let mut cmd = match launch.fsize_limit_kib {
            None => {
                let mut c = Command::new(bin);
                c.args(args);
                c
            }
            Some(kib) => {
                // bash's `ulimit -f` counts 1024-byte blocks; an ignored
                // signal stays ignored across exec.
                let mut c = Command::new("bash");
                c.arg("-c")
                    .arg(format!("ulimit -f {kib}; trap '' XFSZ; exec \"$0\" \"$@\""))
                    .arg(bin)
                    .args(args);
                c
            }
        };
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PULSE_DATA_DIR", data_dir)
            .env("PULSE_LISTEN", &addr)
            .env("PULSE_SHUTDOWN_GRACE_SECONDS", "2")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn pulse");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let drain = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut p = PulseProcess {
            child,
            addr,
            stderr,
            drain: Some(drain),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let ready = match launch.ready_log {
                Some(text) => p.stderr_so_far().contains(text),
                None => p.request("GET", "/healthz", None).0 == 200,
            };
            if ready {
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
            "pulse did not get ready on {addr}:\n{}",
            p.stop_and_collect_stderr()
        );
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process has logged so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// A minimal HTTP/1.1 request; returns (status, body).
    pub fn request(&mut self, method: &str, path: &str, json: Option<&str>) -> (u16, String) {
        let (status, _, body) = self.call(method, path, None, json, &[]);
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// An HTTP/1.1 request with an optional bearer token and extra headers;
    /// returns (status, raw header block, body). Bodies are read to the end
    /// of the connection (`Connection: close`); chunked bodies are not decoded.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        json: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, String, Vec<u8>) {
        let Ok(mut s) = TcpStream::connect(&self.addr) else {
            return (0, String::new(), Vec::new());
        };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let body = json.unwrap_or("");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        if s.write_all(req.as_bytes()).is_err() {
            return (0, String::new(), Vec::new());
        }
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let split = out
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(out.len());
        let head = String::from_utf8_lossy(&out[..split]).into_owned();
        let body = out.get(split + 4..).unwrap_or_default().to_vec();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, head, body)
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
        if let Some(d) = self.drain.take() {
            let _ = d.join();
        }
        self.stderr_so_far()
    }
}

impl Drop for PulseProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
