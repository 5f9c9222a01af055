//! Typed configuration: defaults → optional TOML file → `PULSE_*` variables.
//!
//! Every setting has one name in the file (`snake_case`) and one variable
//! (`PULSE_` + upper case); the README lists them all. Secrets are wrapped in
//! [`Secret`] so `Debug` and `pulse config` never print them.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A value that must never be printed (passwords, database URLs with credentials).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself; call only where it is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

/// One network, written `10.0.0.0/8`, `::1/128` or a bare address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `ADDR` or `ADDR/PREFIX`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?} has an invalid prefix length"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` lies in this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (the default: machines read logs).
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

/// The effective configuration of a Pulse process.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the SQLite file and export files live.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; defaults to `sqlite://<data_dir>/pulse.sqlite`.
    pub database_url: Secret,
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Login of the first master_admin, created when none exists.
    pub admin_email: String,
    /// Its password; generated and printed once when unset.
    pub admin_password: Option<Secret>,
    /// Peers whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// A session unused this long expires.
    pub session_idle: Duration,
    /// A session expires this long after login, used or not.
    pub session_absolute: Duration,
    /// Largest JSON request body accepted.
    pub max_body_bytes: usize,
    /// Largest lead-import upload accepted (its own limit: files are large).
    pub import_max_bytes: u64,
    /// Rows one import may hold; more → 413 (a few MiB of xlsx can describe a billion).
    pub import_max_rows: u64,
    /// Uploads above this many bytes are meant for a background job once the
    /// job machinery exists; until then they run synchronously too. 0 = never.
    pub import_job_threshold: u64,
    /// Password hashes computed at once (each takes ~19 MiB for ~35 ms).
    pub hash_concurrency: usize,
    /// Exports streaming at once; the excess waits up to 2 s, then 503.
    pub export_concurrency: usize,
    /// Exports one user may stream at once; more → 429.
    pub export_per_user: usize,
    /// A streaming export's client that reads nothing for this long is treated as gone.
    pub export_stall: Duration,
    /// A request's head (and an idle keep-alive connection's next one) must arrive within this.
    pub header_timeout: Duration,
    /// HTTP connections served at once.
    pub max_connections: usize,
    /// How long SIGTERM waits for in-flight requests before exiting.
    pub shutdown_grace: Duration,
    /// Mark the session cookie `Secure` (set when Pulse is served over HTTPS).
    pub cookie_secure: bool,
    /// Log line format.
    pub log_format: LogFormat,
    /// Export-job workers `pulse serve` runs in-process (0: none; `pulse worker` runs them).
    pub workers: usize,
    /// How long a finished export file is kept before the clean-up deletes it.
    pub export_retention: Duration,
    /// How often the clean-up runs (expiry, orphaned files, stuck jobs).
    pub export_cleanup_interval: Duration,
    /// Queued + running export jobs one user may have; more → 429.
    pub export_jobs_per_user: u32,
    /// Queued + running export jobs in all; more → 503.
    pub export_queue_max: u32,
    /// A running job's lease; a worker extends it while it works, and a job
    /// whose lease ran out (its worker died) is queued again.
    pub job_lease: Duration,
    /// Runs of a job before it fails for good.
    pub job_max_attempts: u32,
    /// Back-off before the first retry of a failed run; doubled for each further one.
    pub job_retry_base: Duration,
    /// A second listener serving only `/metrics`, without a token (off when unset).
    pub metrics_listen: Option<SocketAddr>,
    /// Bearer token for `/metrics` on the main listener (not served there when unset).
    pub metrics_token: Option<Secret>,
    /// How often `pulse serve` takes a scheduled backup (off when unset).
    pub backup_schedule: Option<Duration>,
    /// Scheduled backups kept (the oldest beyond go).
    pub backup_keep: usize,
    /// Object storage for export files and backups (`PULSE_STORAGE_URL=s3://…`);
    /// `None`: the local disk under `data_dir`.
    pub storage: Option<crate::jobs::s3::S3Config>,
}

/// The file/env layer: every field optional, later layers override earlier ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<String>,
    admin_email: Option<String>,
    admin_password: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    session_idle_minutes: Option<u64>,
    session_absolute_hours: Option<u64>,
    max_body_bytes: Option<usize>,
    import_max_bytes: Option<u64>,
    import_max_rows: Option<u64>,
    import_job_threshold: Option<u64>,
    hash_concurrency: Option<usize>,
    export_concurrency: Option<usize>,
    export_per_user: Option<usize>,
    export_stall_seconds: Option<u64>,
    header_timeout_seconds: Option<u64>,
    max_connections: Option<usize>,
    shutdown_grace_seconds: Option<u64>,
    cookie_secure: Option<bool>,
    log_format: Option<String>,
    workers: Option<usize>,
    export_retention: Option<Humane>,
    export_cleanup_interval: Option<Humane>,
    export_jobs_per_user: Option<u32>,
    export_queue_max: Option<u32>,
    job_lease_seconds: Option<u64>,
    job_max_attempts: Option<u32>,
    job_retry_seconds: Option<u64>,
    metrics_listen: Option<String>,
    metrics_token: Option<String>,
    backup_schedule: Option<Humane>,
    backup_keep: Option<usize>,
    storage_url: Option<String>,
    s3_endpoint: Option<String>,
    s3_region: Option<String>,
    s3_access_key_id: Option<String>,
    s3_secret_access_key: Option<String>,
    s3_ca_file: Option<PathBuf>,
}

/// A duration as a number of seconds or humane text (`30m`, `24h`, `7d`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Humane {
    Seconds(u64),
    Text(String),
}

impl Humane {
    fn resolve(&self, var: &str) -> Result<Duration, String> {
        match self {
            Humane::Seconds(s) => Ok(Duration::from_secs(*s)),
            Humane::Text(t) => parse_duration(t).map_err(|e| format!("{var}={t:?}: {e}")),
        }
    }
}

/// Parses `90`, `90s`, `30m`, `24h`, `7d` (one number and an optional unit).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| "expected a duration such as 90, 90s, 30m, 24h or 7d".to_string())?;
    let unit_secs = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        other => return Err(format!("unknown unit {other:?}; use s, m, h or d")),
    };
    n.checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| "duration too large".to_string())
}

/// Prints a duration the way [`parse_duration`] reads it.
fn humane(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if s >= n && s % n == 0 {
            return format!("{}{unit}", s / n);
        }
    }
    format!("{s}s")
}

/// Names of every setting, in the order `pulse config` prints them.
pub const VARIABLES: &[&str] = &[
    "PULSE_DATA_DIR",
    "PULSE_DATABASE_URL",
    "PULSE_LISTEN",
    "PULSE_ADMIN_EMAIL",
    "PULSE_ADMIN_PASSWORD",
    "PULSE_TRUSTED_PROXIES",
    "PULSE_SESSION_IDLE_MINUTES",
    "PULSE_SESSION_ABSOLUTE_HOURS",
    "PULSE_MAX_BODY_BYTES",
    "PULSE_IMPORT_MAX_BYTES",
    "PULSE_IMPORT_MAX_ROWS",
    "PULSE_IMPORT_JOB_THRESHOLD",
    "PULSE_HASH_CONCURRENCY",
    "PULSE_EXPORT_CONCURRENCY",
    "PULSE_EXPORT_PER_USER",
    "PULSE_EXPORT_STALL_SECONDS",
    "PULSE_HEADER_TIMEOUT_SECONDS",
    "PULSE_MAX_CONNECTIONS",
    "PULSE_SHUTDOWN_GRACE_SECONDS",
    "PULSE_COOKIE_SECURE",
    "PULSE_LOG_FORMAT",
    "PULSE_WORKERS",
    "PULSE_EXPORT_RETENTION",
    "PULSE_EXPORT_CLEANUP_INTERVAL",
    "PULSE_EXPORT_JOBS_PER_USER",
    "PULSE_EXPORT_QUEUE_MAX",
    "PULSE_JOB_LEASE_SECONDS",
    "PULSE_JOB_MAX_ATTEMPTS",
    "PULSE_JOB_RETRY_SECONDS",
    "PULSE_METRICS_LISTEN",
    "PULSE_METRICS_TOKEN",
    "PULSE_BACKUP_SCHEDULE",
    "PULSE_BACKUP_KEEP",
    "PULSE_STORAGE_URL",
    "PULSE_S3_ENDPOINT",
    "PULSE_S3_REGION",
    "PULSE_S3_ACCESS_KEY_ID",
    "PULSE_S3_SECRET_ACCESS_KEY",
    "PULSE_S3_CA_FILE",
];

impl Layer {
    fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        fn num<T: std::str::FromStr>(
            get: &dyn Fn(&str) -> Option<String>,
            var: &str,
        ) -> Result<Option<T>, String> {
            get(var)
                .map(|v| {
                    v.trim()
                        .parse()
                        .map_err(|_| format!("{var}={v:?} is not a valid number"))
                })
                .transpose()
        }
        let cookie_secure = get("PULSE_COOKIE_SECURE")
            .map(|v| {
                parse_bool(&v).ok_or_else(|| format!("PULSE_COOKIE_SECURE={v:?} is not true/false"))
            })
            .transpose()?;
        Ok(Self {
            data_dir: get("PULSE_DATA_DIR").map(PathBuf::from),
            database_url: get("PULSE_DATABASE_URL"),
            listen: get("PULSE_LISTEN"),
            admin_email: get("PULSE_ADMIN_EMAIL"),
            admin_password: get("PULSE_ADMIN_PASSWORD"),
            trusted_proxies: get("PULSE_TRUSTED_PROXIES").map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            }),
            session_idle_minutes: num(get, "PULSE_SESSION_IDLE_MINUTES")?,
            session_absolute_hours: num(get, "PULSE_SESSION_ABSOLUTE_HOURS")?,
            max_body_bytes: num(get, "PULSE_MAX_BODY_BYTES")?,
            import_max_bytes: num(get, "PULSE_IMPORT_MAX_BYTES")?,
            import_max_rows: num(get, "PULSE_IMPORT_MAX_ROWS")?,
            import_job_threshold: num(get, "PULSE_IMPORT_JOB_THRESHOLD")?,
            hash_concurrency: num(get, "PULSE_HASH_CONCURRENCY")?,
            export_concurrency: num(get, "PULSE_EXPORT_CONCURRENCY")?,
            export_per_user: num(get, "PULSE_EXPORT_PER_USER")?,
            export_stall_seconds: num(get, "PULSE_EXPORT_STALL_SECONDS")?,
            header_timeout_seconds: num(get, "PULSE_HEADER_TIMEOUT_SECONDS")?,
            max_connections: num(get, "PULSE_MAX_CONNECTIONS")?,
            shutdown_grace_seconds: num(get, "PULSE_SHUTDOWN_GRACE_SECONDS")?,
            cookie_secure,
            log_format: get("PULSE_LOG_FORMAT"),
            workers: num(get, "PULSE_WORKERS")?,
            export_retention: get("PULSE_EXPORT_RETENTION").map(Humane::Text),
            export_cleanup_interval: get("PULSE_EXPORT_CLEANUP_INTERVAL").map(Humane::Text),
            export_jobs_per_user: num(get, "PULSE_EXPORT_JOBS_PER_USER")?,
            export_queue_max: num(get, "PULSE_EXPORT_QUEUE_MAX")?,
            job_lease_seconds: num(get, "PULSE_JOB_LEASE_SECONDS")?,
            job_max_attempts: num(get, "PULSE_JOB_MAX_ATTEMPTS")?,
            job_retry_seconds: num(get, "PULSE_JOB_RETRY_SECONDS")?,
            metrics_listen: get("PULSE_METRICS_LISTEN"),
            metrics_token: get("PULSE_METRICS_TOKEN"),
            backup_schedule: get("PULSE_BACKUP_SCHEDULE").map(Humane::Text),
            backup_keep: num(get, "PULSE_BACKUP_KEEP")?,
            storage_url: get("PULSE_STORAGE_URL"),
            s3_endpoint: get("PULSE_S3_ENDPOINT"),
            s3_region: get("PULSE_S3_REGION"),
            s3_access_key_id: get("PULSE_S3_ACCESS_KEY_ID"),
            s3_secret_access_key: get("PULSE_S3_SECRET_ACCESS_KEY"),
            s3_ca_file: get("PULSE_S3_CA_FILE").map(PathBuf::from),
        })
    }

    fn merge(self, over: Layer) -> Layer {
        Layer {
            data_dir: over.data_dir.or(self.data_dir),
            database_url: over.database_url.or(self.database_url),
            listen: over.listen.or(self.listen),
            admin_email: over.admin_email.or(self.admin_email),
            admin_password: over.admin_password.or(self.admin_password),
            trusted_proxies: over.trusted_proxies.or(self.trusted_proxies),
            session_idle_minutes: over.session_idle_minutes.or(self.session_idle_minutes),
            session_absolute_hours: over.session_absolute_hours.or(self.session_absolute_hours),
            max_body_bytes: over.max_body_bytes.or(self.max_body_bytes),
            import_max_bytes: over.import_max_bytes.or(self.import_max_bytes),
            import_max_rows: over.import_max_rows.or(self.import_max_rows),
            import_job_threshold: over.import_job_threshold.or(self.import_job_threshold),
            hash_concurrency: over.hash_concurrency.or(self.hash_concurrency),
            export_concurrency: over.export_concurrency.or(self.export_concurrency),
            export_per_user: over.export_per_user.or(self.export_per_user),
            export_stall_seconds: over.export_stall_seconds.or(self.export_stall_seconds),
            header_timeout_seconds: over.header_timeout_seconds.or(self.header_timeout_seconds),
            max_connections: over.max_connections.or(self.max_connections),
            shutdown_grace_seconds: over.shutdown_grace_seconds.or(self.shutdown_grace_seconds),
            cookie_secure: over.cookie_secure.or(self.cookie_secure),
            log_format: over.log_format.or(self.log_format),
            workers: over.workers.or(self.workers),
            export_retention: over.export_retention.or(self.export_retention),
            export_cleanup_interval: over
                .export_cleanup_interval
                .or(self.export_cleanup_interval),
            export_jobs_per_user: over.export_jobs_per_user.or(self.export_jobs_per_user),
            export_queue_max: over.export_queue_max.or(self.export_queue_max),
            job_lease_seconds: over.job_lease_seconds.or(self.job_lease_seconds),
            job_max_attempts: over.job_max_attempts.or(self.job_max_attempts),
            job_retry_seconds: over.job_retry_seconds.or(self.job_retry_seconds),
            metrics_listen: over.metrics_listen.or(self.metrics_listen),
            metrics_token: over.metrics_token.or(self.metrics_token),
            backup_schedule: over.backup_schedule.or(self.backup_schedule),
            backup_keep: over.backup_keep.or(self.backup_keep),
            storage_url: over.storage_url.or(self.storage_url),
            s3_endpoint: over.s3_endpoint.or(self.s3_endpoint),
            s3_region: over.s3_region.or(self.s3_region),
            s3_access_key_id: over.s3_access_key_id.or(self.s3_access_key_id),
            s3_secret_access_key: over.s3_secret_access_key.or(self.s3_secret_access_key),
            s3_ca_file: over.s3_ca_file.or(self.s3_ca_file),
        }
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl Config {
    /// Loads defaults, then `file` (if given), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        Self::load_with(file, &|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// As [`Config::load`] with an explicit environment (tests).
    pub fn load_with(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let mut layer = Layer::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
            let from_file: Layer = toml::from_str(&text)
                .map_err(|e| format!("config file {}: {e}", path.display()))?;
            layer = layer.merge(from_file);
        }
        layer = layer.merge(Layer::from_env(env)?);
        Self::from_layer(layer)
    }

    fn from_layer(l: Layer) -> Result<Self, String> {
        let storage = storage_from(&l)?;
        let data_dir = l.data_dir.unwrap_or_else(|| PathBuf::from("./pulse-data"));
        let database_url = l
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("pulse.sqlite").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err("PULSE_DATABASE_URL must start with sqlite:// or postgres://".into());
        }
        let listen_text = l.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_text
            .parse()
            .map_err(|_| format!("PULSE_LISTEN={listen_text:?} is not an ADDRESS:PORT"))?;
        let trusted_proxies = l
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .map(|p| IpNet::parse(p).map_err(|e| format!("PULSE_TRUSTED_PROXIES: {e}")))
            .collect::<Result<_, _>>()?;
        let log_format = match l.log_format.as_deref().unwrap_or("json") {
            "json" => LogFormat::Json,
            "pretty" => LogFormat::Pretty,
            other => {
                return Err(format!(
                    "PULSE_LOG_FORMAT={other:?}: expected json or pretty"
                ));
            }
        };
        let hash_concurrency = l
            .hash_concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        if hash_concurrency == 0 {
            return Err("PULSE_HASH_CONCURRENCY must be at least 1".into());
        }
        let export_concurrency = l.export_concurrency.unwrap_or(8);
        if export_concurrency == 0 {
            return Err("PULSE_EXPORT_CONCURRENCY must be at least 1".into());
        }
        let export_stall = Duration::from_secs(l.export_stall_seconds.unwrap_or(120));
        if export_stall.is_zero() {
            return Err("PULSE_EXPORT_STALL_SECONDS must be at least 1".into());
        }
        let header_timeout = Duration::from_secs(l.header_timeout_seconds.unwrap_or(15));
        if header_timeout.is_zero() {
            return Err("PULSE_HEADER_TIMEOUT_SECONDS must be at least 1".into());
        }
        // Below the unit's LimitNOFILE (65536) with room for the database, exports and files.
        let max_connections = l.max_connections.unwrap_or(4096);
        if max_connections == 0 {
            return Err("PULSE_MAX_CONNECTIONS must be at least 1".into());
        }
        let export_per_user = l.export_per_user.unwrap_or(4);
        if export_per_user == 0 {
            return Err("PULSE_EXPORT_PER_USER must be at least 1".into());
        }
        let export_retention = match &l.export_retention {
            Some(h) => h.resolve("PULSE_EXPORT_RETENTION")?,
            None => Duration::from_secs(24 * 3600),
        };
        let export_cleanup_interval = match &l.export_cleanup_interval {
            Some(h) => h.resolve("PULSE_EXPORT_CLEANUP_INTERVAL")?,
            None => Duration::from_secs(5 * 60),
        };
        if export_cleanup_interval.is_zero() {
            return Err("PULSE_EXPORT_CLEANUP_INTERVAL must be at least 1s".into());
        }
        let job_lease = Duration::from_secs(l.job_lease_seconds.unwrap_or(30));
        // The heartbeat runs every lease/3 (at most once a second): below 2 s
        // a busy database could let a live job's lease run out.
        if job_lease < Duration::from_secs(2) {
            return Err("PULSE_JOB_LEASE_SECONDS must be at least 2".into());
        }
        let metrics_listen = match l.metrics_listen.as_deref().map(str::trim) {
            None | Some("") | Some("off") => None,
            Some(text) => Some(text.parse().map_err(|_| {
                format!("PULSE_METRICS_LISTEN={text:?} is not an ADDRESS:PORT (or off)")
            })?),
        };
        // A short token is guessable; the scrape exposes traffic shape.
        let metrics_token = match l.metrics_token {
            Some(t) if t.len() < 16 => {
                return Err("PULSE_METRICS_TOKEN must be at least 16 characters".into());
            }
            t => t.map(Secret::new),
        };
        let backup_schedule = match &l.backup_schedule {
            None => None,
            Some(Humane::Text(t)) if t.trim().eq_ignore_ascii_case("off") => None,
            Some(h) => {
                let every = h.resolve("PULSE_BACKUP_SCHEDULE")?;
                // A full snapshot each time: more often than a minute is a mistake.
                if every < Duration::from_secs(60) {
                    return Err("PULSE_BACKUP_SCHEDULE must be at least 1m (or off)".into());
                }
                Some(every)
            }
        };
        let backup_keep = l.backup_keep.unwrap_or(7);
        if backup_keep == 0 {
            return Err("PULSE_BACKUP_KEEP must be at least 1".into());
        }
        let job_max_attempts = l.job_max_attempts.unwrap_or(3);
        if job_max_attempts == 0 {
            return Err("PULSE_JOB_MAX_ATTEMPTS must be at least 1".into());
        }
        Ok(Self {
            storage,
            backup_schedule,
            backup_keep,
            metrics_listen,
            metrics_token,
            workers: l.workers.unwrap_or(1),
            export_retention,
            export_cleanup_interval,
            export_jobs_per_user: l.export_jobs_per_user.unwrap_or(3),
            export_queue_max: l.export_queue_max.unwrap_or(100),
            job_lease,
            job_max_attempts,
            job_retry_base: Duration::from_secs(l.job_retry_seconds.unwrap_or(10)),
            data_dir,
            database_url: Secret::new(database_url),
            listen,
            admin_email: l.admin_email.unwrap_or_else(|| "admin@pulse.local".into()),
            admin_password: l.admin_password.map(Secret::new),
            trusted_proxies,
            session_idle: Duration::from_secs(60 * l.session_idle_minutes.unwrap_or(12 * 60)),
            session_absolute: Duration::from_secs(
                3600 * l.session_absolute_hours.unwrap_or(7 * 24),
            ),
            max_body_bytes: l.max_body_bytes.unwrap_or(1024 * 1024),
            import_max_bytes: l.import_max_bytes.unwrap_or(256 << 20),
            import_max_rows: match l.import_max_rows.unwrap_or(2_000_000) {
                0 => return Err("PULSE_IMPORT_MAX_ROWS must be at least 1".into()),
                n => n,
            },
            import_job_threshold: l.import_job_threshold.unwrap_or(0),
            hash_concurrency,
            export_concurrency,
            export_per_user,
            export_stall,
            header_timeout,
            max_connections,
            shutdown_grace: Duration::from_secs(l.shutdown_grace_seconds.unwrap_or(30)),
            cookie_secure: l.cookie_secure.unwrap_or(false),
            log_format,
        })
    }

    /// The database URL with any password replaced, for printing.
    pub fn database_url_redacted(&self) -> String {
        redact_url(self.database_url.expose())
    }

    /// `pulse config` output: one `PULSE_*=value` line per setting, secrets redacted.
    pub fn render(&self) -> String {
        let proxies: Vec<String> = self
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        let rows = [
            ("PULSE_DATA_DIR", self.data_dir.display().to_string()),
            ("PULSE_DATABASE_URL", self.database_url_redacted()),
            ("PULSE_LISTEN", self.listen.to_string()),
            ("PULSE_ADMIN_EMAIL", self.admin_email.clone()),
            (
                "PULSE_ADMIN_PASSWORD",
                match self.admin_password {
                    Some(_) => "[redacted]".into(),
                    None => "(unset: generated at first start)".into(),
                },
            ),
            ("PULSE_TRUSTED_PROXIES", proxies.join(",")),
            (
                "PULSE_SESSION_IDLE_MINUTES",
                (self.session_idle.as_secs() / 60).to_string(),
            ),
            (
                "PULSE_SESSION_ABSOLUTE_HOURS",
                (self.session_absolute.as_secs() / 3600).to_string(),
            ),
            ("PULSE_MAX_BODY_BYTES", self.max_body_bytes.to_string()),
            ("PULSE_IMPORT_MAX_BYTES", self.import_max_bytes.to_string()),
            ("PULSE_IMPORT_MAX_ROWS", self.import_max_rows.to_string()),
            (
                "PULSE_IMPORT_JOB_THRESHOLD",
                self.import_job_threshold.to_string(),
            ),
            ("PULSE_HASH_CONCURRENCY", self.hash_concurrency.to_string()),
            (
                "PULSE_EXPORT_CONCURRENCY",
                self.export_concurrency.to_string(),
            ),
            ("PULSE_EXPORT_PER_USER", self.export_per_user.to_string()),
            (
                "PULSE_EXPORT_STALL_SECONDS",
                self.export_stall.as_secs().to_string(),
            ),
            (
                "PULSE_HEADER_TIMEOUT_SECONDS",
                self.header_timeout.as_secs().to_string(),
            ),
            ("PULSE_MAX_CONNECTIONS", self.max_connections.to_string()),
            (
                "PULSE_SHUTDOWN_GRACE_SECONDS",
                self.shutdown_grace.as_secs().to_string(),
            ),
            ("PULSE_COOKIE_SECURE", self.cookie_secure.to_string()),
            (
                "PULSE_LOG_FORMAT",
                match self.log_format {
                    LogFormat::Json => "json".into(),
                    LogFormat::Pretty => "pretty".into(),
                },
            ),
            ("PULSE_WORKERS", self.workers.to_string()),
            ("PULSE_EXPORT_RETENTION", humane(self.export_retention)),
            (
                "PULSE_EXPORT_CLEANUP_INTERVAL",
                humane(self.export_cleanup_interval),
            ),
            (
                "PULSE_EXPORT_JOBS_PER_USER",
                self.export_jobs_per_user.to_string(),
            ),
            ("PULSE_EXPORT_QUEUE_MAX", self.export_queue_max.to_string()),
            (
                "PULSE_JOB_LEASE_SECONDS",
                self.job_lease.as_secs().to_string(),
            ),
            ("PULSE_JOB_MAX_ATTEMPTS", self.job_max_attempts.to_string()),
            (
                "PULSE_JOB_RETRY_SECONDS",
                self.job_retry_base.as_secs().to_string(),
            ),
            (
                "PULSE_METRICS_LISTEN",
                self.metrics_listen
                    .map_or_else(|| "off".into(), |a| a.to_string()),
            ),
            (
                "PULSE_METRICS_TOKEN",
                match self.metrics_token {
                    Some(_) => "[redacted]".into(),
                    None => "(unset: /metrics not served on PULSE_LISTEN)".into(),
                },
            ),
            (
                "PULSE_BACKUP_SCHEDULE",
                self.backup_schedule.map_or_else(|| "off".into(), humane),
            ),
            ("PULSE_BACKUP_KEEP", self.backup_keep.to_string()),
            (
                "PULSE_STORAGE_URL",
                match &self.storage {
                    Some(s) if s.prefix.is_empty() => format!("s3://{}", s.bucket),
                    Some(s) => format!("s3://{}/{}", s.bucket, s.prefix),
                    None => format!("(local: {})", self.data_dir.display()),
                },
            ),
            (
                "PULSE_S3_ENDPOINT",
                self.storage
                    .as_ref()
                    .map(|s| s.endpoint.clone())
                    .unwrap_or_default(),
            ),
            (
                "PULSE_S3_REGION",
                self.storage
                    .as_ref()
                    .map(|s| s.region.clone())
                    .unwrap_or_default(),
            ),
            (
                "PULSE_S3_ACCESS_KEY_ID",
                self.storage
                    .as_ref()
                    .map(|s| s.access_key.clone())
                    .unwrap_or_default(),
            ),
            (
                "PULSE_S3_SECRET_ACCESS_KEY",
                match self.storage {
                    Some(_) => "[redacted]".into(),
                    None => String::new(),
                },
            ),
            (
                "PULSE_S3_CA_FILE",
                match &self.storage {
                    Some(s) if s.ca_pem.is_some() => "(a private CA is trusted)".into(),
                    _ => String::new(),
                },
            ),
        ];
        debug_assert_eq!(rows.len(), VARIABLES.len());
        rows.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    }
}

/// `PULSE_STORAGE_URL` and the `PULSE_S3_*` settings.
fn storage_from(l: &Layer) -> Result<Option<crate::jobs::s3::S3Config>, String> {
    let Some(url) = l
        .storage_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    else {
        return Ok(None);
    };
    if url == "local" {
        return Ok(None);
    }
    let rest = url.strip_prefix("s3://").ok_or_else(|| {
        format!("PULSE_STORAGE_URL={url:?}: expected s3://bucket/prefix or local")
    })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!("PULSE_STORAGE_URL={url:?} names no bucket"));
    }
    let need = |v: &Option<String>, name: &str| {
        v.clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("{name} is required with PULSE_STORAGE_URL=s3://…"))
    };
    let region = l.s3_region.clone().unwrap_or_else(|| "us-east-1".into());
    let endpoint = l
        .s3_endpoint
        .clone()
        .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(format!(
            "PULSE_S3_ENDPOINT={endpoint:?} must start with http:// or https://"
        ));
    }
    // Read and checked now, so a wrong path or file fails at start, not at
    // the first upload.
    let ca_pem = match &l.s3_ca_file {
        None => None,
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("PULSE_S3_CA_FILE={}: {e}", path.display()))?;
            match reqwest::Certificate::from_pem_bundle(&pem) {
                Ok(certs) if !certs.is_empty() => Some(pem),
                _ => {
                    return Err(format!(
                        "PULSE_S3_CA_FILE={}: no PEM certificate in it",
                        path.display()
                    ));
                }
            }
        }
    };
    Ok(Some(crate::jobs::s3::S3Config {
        endpoint: endpoint.trim_end_matches('/').to_string(),
        region,
        bucket: bucket.to_string(),
        prefix: prefix.trim_matches('/').to_string(),
        access_key: need(&l.s3_access_key_id, "PULSE_S3_ACCESS_KEY_ID")?,
        secret_key: need(&l.s3_secret_access_key, "PULSE_S3_SECRET_ACCESS_KEY")?,
        ca_pem,
    }))
}

/// Replaces the password of `scheme://user:password@host/…` with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let url = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_string(),
    };
    // `?password=…` in the query is a secret too.
    match url.find("password=") {
        Some(i) => {
            let end = url[i..].find('&').map_or(url.len(), |e| i + e);
            format!("{}password=***{}", &url[..i], &url[end..])
        }
        None => url,
    }
}

#[cfg(test)]
mod tests {
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
        let c =
            Config::load_with(Some(&path), &env(&[("PULSE_LISTEN", "127.0.0.1:9100")])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9100");
        assert_eq!(c.data_dir, PathBuf::from("/srv/pulse"));
        assert_eq!(c.database_url.expose(), "sqlite:///srv/pulse/pulse.sqlite");
    }

    #[test]
    fn errors_name_the_variable() {
        let e = Config::load_with(None, &env(&[("PULSE_LISTEN", "nowhere")])).unwrap_err();
        assert!(e.contains("PULSE_LISTEN"), "{e}");
        let e =
            Config::load_with(None, &env(&[("PULSE_TRUSTED_PROXIES", "10.0.0.0/99")])).unwrap_err();
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
        let readme = include_str!("../README.md");
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
}
