//! A small W3C WebDriver client over plain HTTP/1.1 on loopback, enough for
//! the page stories: no async runtime, no extra crates (thirtyfour would
//! bring its own HTTP stack and a runtime for what fits in this file).
//! Each [`Browser`] runs its own `chromedriver` on a free port and its own
//! headless Chromium with a fresh profile; dropping it ends both.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// How long a wait for the page may take before the story fails. Generous:
/// it only bounds a failure, a passing story never waits for it.
const PATIENCE: Duration = Duration::from_secs(20);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP request to `addr`; the status and the body as JSON.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    // chromedriver keeps connections alive whatever we ask: read the head,
    // then exactly the body it announces
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            break raw.len();
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut body_bytes = raw.get(head_end + 4..).unwrap_or_default().to_vec();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    if let Some(len) = length {
        while body_bytes.len() < len {
            let n = s.read(&mut buf)?;
            if n == 0 {
                break;
            }
            body_bytes.extend_from_slice(&buf[..n]);
        }
    } else if head.contains("transfer-encoding: chunked") {
        while !body_bytes.ends_with(b"0\r\n\r\n") {
            let n = s.read(&mut buf)?;
            if n == 0 {
                break;
            }
            body_bytes.extend_from_slice(&buf[..n]);
        }
        let text = dechunk(&String::from_utf8_lossy(&body_bytes));
        return Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)));
    } else {
        s.read_to_end(&mut body_bytes)?;
    }
    Ok((
        status,
        serde_json::from_slice(&body_bytes).unwrap_or(Value::Null),
    ))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// A headless Chromium driven through its own chromedriver.
pub struct Browser {
    driver: Child,
    addr: String,
    session: String,
    _profile: tempfile::TempDir,
    /// The site under test, e.g. `http://127.0.0.1:4321`.
    pub base: String,
}

/// An element found on the page.
#[derive(Clone, Debug)]
pub struct Element(String);

impl Element {
    /// The element as a script argument of [`Browser::exec`].
    pub fn json(&self) -> Value {
        // the W3C key, and the legacy one chromedriver also reads
        serde_json::json!({ "element-6066-11e4-a07c-4f84a6b3ad3d": self.0, "ELEMENT": self.0 })
    }
}

impl Browser {
    /// Starts chromedriver and a browser window of `width`×`height` CSS px
    /// for the site at `base`.
    pub fn start(base: &str, width: u32, height: u32) -> Browser {
        Self::launch(base, width, height, None)
    }

    /// [`Browser::start`] whose downloads land in `dir` without asking.
    pub fn start_downloading(base: &str, width: u32, height: u32, dir: &Path) -> Browser {
        Self::launch(base, width, height, Some(dir))
    }

    fn launch(base: &str, width: u32, height: u32, downloads: Option<&Path>) -> Browser {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start /usr/bin/chromedriver (scripts/install-test-deps installs it)");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok((200, v)) = http(&addr, "GET", "/status", None)
                && v["value"]["ready"] == true
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().unwrap();
        // As root in a container Chromium needs --no-sandbox; the network is
        // closed, and without the background-networking flags it stalls.
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-extensions".into(),
            "--hide-scrollbars".into(),
            "--lang=en-IN".into(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": args,
                    "prefs": downloads.map(|d| json!({
                        "download.default_directory": d.display().to_string(),
                        "download.prompt_for_download": false,
                        "download.directory_upgrade": true,
                        "safebrowsing.enabled": false,
                    })).unwrap_or(json!({})),
                },
                "goog:loggingPrefs": { "browser": "ALL" },
            }}
        });
        let (status, v) = http(&addr, "POST", "/session", Some(&caps)).expect("new session");
        assert_eq!(status, 200, "new session: {v}");
        let session = v["value"]["sessionId"].as_str().unwrap().to_string();
        let mut b = Browser {
            driver,
            addr,
            session,
            _profile: profile,
            base: base.trim_end_matches('/').to_string(),
        };
        b.resize(width, height);
        if let Some(d) = downloads {
            // headless Chromium keeps downloads off unless told, whatever the prefs say
            b.cmd(
                "POST",
                "/goog/cdp/execute",
                Some(json!({"cmd": "Browser.setDownloadBehavior", "params": {
                    "behavior": "allow", "downloadPath": d.display().to_string(), "eventsEnabled": false,
                }})),
            );
        }
        b
    }

    /// Clicks `e` with Shift held (a range of checkboxes).
    pub fn shift_click(&self, e: &Element) {
        let origin = json!({ ELEMENT: e.0 });
        self.cmd(
            "POST",
            "/actions",
            Some(json!({"actions": [
                {"type": "key", "id": "kb", "actions": [
                    {"type": "keyDown", "value": "\u{E008}"},
                    {"type": "pause", "duration": 0},
                    {"type": "pause", "duration": 0},
                    {"type": "pause", "duration": 0},
                    {"type": "keyUp", "value": "\u{E008}"},
                ]},
                {"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": [
                    {"type": "pause", "duration": 0},
                    {"type": "pointerMove", "origin": origin, "x": 0, "y": 0},
                    {"type": "pointerDown", "button": 0},
                    {"type": "pointerUp", "button": 0},
                    {"type": "pause", "duration": 0},
                ]},
            ]})),
        );
        self.try_cmd("DELETE", "/actions", None);
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let full = format!("/session/{}{path}", self.session);
        let (status, v) = http(&self.addr, method, &full, body.as_ref())
            .unwrap_or_else(|e| panic!("webdriver {method} {path}: {e}"));
        assert_eq!(status, 200, "webdriver {method} {path}: {v}");
        v["value"].clone()
    }

    fn try_cmd(&self, method: &str, path: &str, body: Option<Value>) -> Option<Value> {
        let full = format!("/session/{}{path}", self.session);
        match http(&self.addr, method, &full, body.as_ref()) {
            Ok((200, v)) => Some(v["value"].clone()),
            _ => None,
        }
    }

    /// Makes the viewport exactly `width`×`height` CSS px.
    pub fn resize(&mut self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
        // the window includes no browser chrome in headless mode, but make sure
        let inner = self.exec("return [window.innerWidth, window.innerHeight]", json!([]));
        let (iw, ih) = (
            inner[0].as_u64().unwrap_or(0),
            inner[1].as_u64().unwrap_or(0),
        );
        if (iw, ih) != (u64::from(width), u64::from(height)) {
            let w = i64::from(width) + (i64::from(width) - iw as i64);
            let h = i64::from(height) + (i64::from(height) - ih as i64);
            self.cmd(
                "POST",
                "/window/rect",
                Some(json!({"width": w, "height": h})),
            );
        }
    }

    /// Opens `path` of the site (or an absolute URL).
    pub fn goto(&self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        self.cmd("POST", "/url", Some(json!({ "url": url })));
    }

    /// Reloads the page.
    pub fn refresh(&self) {
        self.cmd("POST", "/refresh", Some(json!({})));
    }

    /// The browser's back button.
    pub fn back(&self) {
        self.cmd("POST", "/back", Some(json!({})));
    }

    /// The address bar.
    pub fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The address bar without the site, e.g. `/leads?stage=S2`.
    pub fn path(&self) -> String {
        self.url()
            .strip_prefix(&self.base)
            .unwrap_or_default()
            .to_string()
    }

    /// Runs `script` (a function body) with `args`; its return value.
    pub fn exec(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    fn find_now(&self, css: &str) -> Option<Element> {
        let v = self.try_cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )?;
        v.as_object()?
            .values()
            .next()
            .and_then(Value::as_str)
            .map(|id| Element(id.to_string()))
    }

    /// Waits for an element matching `css`.
    pub fn find(&self, css: &str) -> Element {
        self.wait(&format!("an element {css}"), || self.find_now(css))
    }

    /// Every element matching `css` now.
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self.cmd(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                e.as_object()?
                    .values()
                    .next()?
                    .as_str()
                    .map(|s| Element(s.into()))
            })
            .collect()
    }

    /// Whether something matches `css` now.
    pub fn exists(&self, css: &str) -> bool {
        !self.find_all(css).is_empty()
    }

    /// Polls `f` until it gives a value; fails the story after [`PATIENCE`]
    /// naming `what` it waited for.
    pub fn wait<T>(&self, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(v) = f() {
                return v;
            }
            if Instant::now() > deadline {
                let body = self
                    .try_cmd("POST", "/execute/sync", Some(json!({"script": "return document.body ? document.body.innerText : ''", "args": []})))
                    .unwrap_or_default();
                panic!(
                    "waited in vain for {what}; at {}; the page says:\n{}",
                    self.url(),
                    body.as_str()
                        .unwrap_or_default()
                        .chars()
                        .take(3000)
                        .collect::<String>()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the address bar's path satisfies `pred`.
    pub fn wait_path(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.wait(what, || {
            let p = self.path();
            pred(&p).then_some(p)
        })
    }

    /// Waits until the text of `css` contains `needle`.
    pub fn wait_text(&self, css: &str, needle: &str) -> String {
        self.wait(&format!("{css} to say {needle:?}"), || {
            let e = self.find_now(css)?;
            let t = self.try_text(&e)?;
            t.contains(needle).then_some(t)
        })
    }

    /// Waits until no htmx request is in flight and the document is loaded.
    pub fn settle(&self) {
        self.wait("the page to settle", || {
            let v = self.try_cmd(
                "POST",
                "/execute/sync",
                Some(json!({"script": "return document.readyState === 'complete' && !document.querySelector('.htmx-request')", "args": []})),
            )?;
            (v == Value::Bool(true)).then_some(())
        });
    }

    fn try_text(&self, e: &Element) -> Option<String> {
        self.try_cmd("GET", &format!("/element/{}/text", e.0), None)?
            .as_str()
            .map(str::to_string)
    }

    /// The rendered text of `e`.
    pub fn text(&self, e: &Element) -> String {
        self.try_text(e).unwrap_or_default()
    }

    /// The text of the first `css` (waiting for it).
    pub fn text_of(&self, css: &str) -> String {
        let e = self.find(css);
        self.text(&e)
    }

    /// A DOM property of `e` (`value`, `checked`, `href`, …).
    pub fn prop(&self, e: &Element, name: &str) -> Value {
        self.cmd("GET", &format!("/element/{}/property/{name}", e.0), None)
    }

    /// Clicks `e`, first scrolled to the middle of the window: WebDriver
    /// scrolls only as far as needed, which can leave a control under a
    /// sticky bar (the desk's figures), where a person would not tap.
    pub fn click(&self, e: &Element) {
        self.exec(
            "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});",
            json!([e.json()]),
        );
        self.cmd("POST", &format!("/element/{}/click", e.0), Some(json!({})));
    }

    /// Clicks the first `css`.
    pub fn click_on(&self, css: &str) {
        let e = self.find(css);
        self.click(&e);
    }

    /// Empties an input.
    pub fn clear(&self, e: &Element) {
        self.cmd("POST", &format!("/element/{}/clear", e.0), Some(json!({})));
    }

    /// Types `text` into `e` (`\u{E007}` is Enter).
    pub fn type_into(&self, e: &Element, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(json!({ "text": text })),
        );
    }

    /// Replaces the value of the input `css` with `text`.
    pub fn fill(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.clear(&e);
        self.type_into(&e, text);
    }

    /// The keys pressed go to whatever has focus.
    pub fn keys(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                let k = c.to_string();
                [
                    json!({"type": "keyDown", "value": k}),
                    json!({"type": "keyUp", "value": k}),
                ]
            })
            .collect();
        self.cmd(
            "POST",
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "kb", "actions": actions}]})),
        );
    }

    /// The element that has focus now, as `tag#id.class`.
    pub fn focused(&self) -> String {
        self.exec(
            "var a = document.activeElement; return a ? (a.tagName.toLowerCase() + (a.id ? '#' + a.id : '') + (a.getAttribute('href') ? '[' + a.getAttribute('href') + ']' : '')) : ''",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// The browser console's messages so far (CSP violations show up here).
    pub fn console(&self) -> Vec<String> {
        let full = format!("/session/{}/se/log", self.session);
        let (_, v) = http(&self.addr, "POST", &full, Some(&json!({"type": "browser"})))
            .unwrap_or((0, Value::Null));
        v["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["message"].as_str().map(str::to_string))
            .collect()
    }

    /// Saves a PNG of the viewport as `target/screenshots/{name}.png`.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let v = self.cmd("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("screenshot is base64");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // ends Chromium; then chromedriver
        let _ = http(
            &self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
