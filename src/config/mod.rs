//! Typed configuration: defaults → optional TOML file → `PULSE_*` variables.
//!
//! Every setting has one name in the file (`snake_case`) and one variable
//! (`PULSE_` + upper case); the README lists them all. Secrets are wrapped in
//! [`Secret`] so `Debug` and `pulse config` never print them.
//!
//! Each setting is written once, as a row of the table below: its file key
//! and type, its variable and how it is read, its field of [`Config`] with
//! default and checks, and its `pulse config` line (`layer.rs` turns the rows
//! into code). The pieces: `secret.rs`, `duration.rs`, `net.rs` (CIDR),
//! `storage.rs` (object storage), `render.rs` (`pulse config`).

mod duration;
mod layer;
mod net;
mod render;
mod secret;
mod storage;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use duration::parse_duration;
use duration::{Humane, humane};
use layer::read;
pub use net::IpNet;
use render::{or_off, redacted_or};
pub use secret::{Secret, redact_url};
pub use storage::S3Config;

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (the default: machines read logs).
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

/// What an export's header row says: Pulse's readable labels ("Phone
/// Number", "DL No Uploaded" with `Yes`/`No`), or the original system's raw
/// field names ("phone_number", "dl_documents_uploaded" with `yes`/`no`,
/// COMPAT §2.15) that its clients read. Chosen once per export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HeaderStyle {
    /// Readable labels (Pulse's default).
    #[default]
    Labels,
    /// The original's field names, `yes`/`no`.
    Fields,
}

impl HeaderStyle {
    /// Reads `labels` or `fields` (any case; `field_names` and `raw` also
    /// mean fields).
    pub fn parse(v: &str) -> Option<Self> {
        match v.trim().to_ascii_lowercase().as_str() {
            "labels" | "label" => Some(Self::Labels),
            "fields" | "field" | "field_names" | "raw" => Some(Self::Fields),
            _ => None,
        }
    }

    /// The name `parse` reads back.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Labels => "labels",
            Self::Fields => "fields",
        }
    }
}

layer::settings! {
    data_dir: PathBuf = "PULSE_DATA_DIR", read::path,
        /// Where the SQLite file and export files live.
        => data_dir: PathBuf = |l| Ok(data_dir_of(l)),
        render |c| c.data_dir.display().to_string();
    database_url: String = "PULSE_DATABASE_URL", read::text,
        /// `sqlite://PATH` or `postgres://…`; defaults to `sqlite://<data_dir>/pulse.sqlite`.
        => database_url: Secret = |l| {
            let url = l.database_url.clone().unwrap_or_else(|| {
                format!("sqlite://{}", data_dir_of(l).join("pulse.sqlite").display())
            });
            if !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
            {
                return Err("PULSE_DATABASE_URL must start with sqlite:// or postgres://".into());
            }
            Ok(Secret::new(url))
        },
        render |c| c.database_url_redacted();
    listen: String = "PULSE_LISTEN", read::text,
        /// Address the HTTP server binds.
        => listen: SocketAddr = |l| {
            let text = l.listen.clone().unwrap_or_else(|| "127.0.0.1:8080".into());
            text.parse()
                .map_err(|_| format!("PULSE_LISTEN={text:?} is not an ADDRESS:PORT"))
        },
        render |c| c.listen.to_string();
    admin_email: String = "PULSE_ADMIN_EMAIL", read::text,
        /// Login of the first master_admin, created when none exists.
        => admin_email: String = |l| {
            Ok(l.admin_email.clone().unwrap_or_else(|| "admin@pulse.local".into()))
        },
        render |c| c.admin_email.clone();
    admin_password: String = "PULSE_ADMIN_PASSWORD", read::text,
        /// Its password; generated and printed once when unset.
        => admin_password: Option<Secret> = |l| Ok(l.admin_password.clone().map(Secret::new)),
        render |c| redacted_or(&c.admin_password, "(unset: generated at first start)");
    trusted_proxies: Vec<String> = "PULSE_TRUSTED_PROXIES", read::list,
        /// Peers whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
        => trusted_proxies: Vec<IpNet> = |l| {
            l.trusted_proxies
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(|p| IpNet::parse(p).map_err(|e| format!("PULSE_TRUSTED_PROXIES: {e}")))
                .collect()
        },
        render |c| {
            let proxies: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
            proxies.join(",")
        };
    session_idle_minutes: u64 = "PULSE_SESSION_IDLE_MINUTES", read::num,
        /// A session unused this long expires.
        => session_idle: Duration = |l| {
            Ok(Duration::from_secs(60 * l.session_idle_minutes.unwrap_or(12 * 60)))
        },
        render |c| (c.session_idle.as_secs() / 60).to_string();
    session_absolute_hours: u64 = "PULSE_SESSION_ABSOLUTE_HOURS", read::num,
        /// A session expires this long after login, used or not.
        => session_absolute: Duration = |l| {
            Ok(Duration::from_secs(3600 * l.session_absolute_hours.unwrap_or(7 * 24)))
        },
        render |c| (c.session_absolute.as_secs() / 3600).to_string();
    max_body_bytes: usize = "PULSE_MAX_BODY_BYTES", read::num,
        /// Largest JSON request body accepted.
        => max_body_bytes: usize = |l| Ok(l.max_body_bytes.unwrap_or(1024 * 1024)),
        render |c| c.max_body_bytes.to_string();
    import_max_bytes: u64 = "PULSE_IMPORT_MAX_BYTES", read::num,
        /// Largest lead-import upload accepted (its own limit: files are large).
        => import_max_bytes: u64 = |l| Ok(l.import_max_bytes.unwrap_or(256 << 20)),
        render |c| c.import_max_bytes.to_string();
    import_max_rows: u64 = "PULSE_IMPORT_MAX_ROWS", read::num,
        /// Rows one import may hold; more → 413 (a few MiB of xlsx can describe a billion).
        => import_max_rows: u64 = |l| match l.import_max_rows.unwrap_or(2_000_000) {
            0 => Err("PULSE_IMPORT_MAX_ROWS must be at least 1".into()),
            n => Ok(n),
        },
        render |c| c.import_max_rows.to_string();
    import_job_threshold: u64 = "PULSE_IMPORT_JOB_THRESHOLD", read::num,
        /// Uploads above this many bytes are meant for a background job once the
        /// job machinery exists; until then they run synchronously too. 0 = never.
        => import_job_threshold: u64 = |l| Ok(l.import_job_threshold.unwrap_or(0)),
        render |c| c.import_job_threshold.to_string();
    hash_concurrency: usize = "PULSE_HASH_CONCURRENCY", read::num,
        /// Password hashes computed at once (each takes ~19 MiB for ~35 ms).
        => hash_concurrency: usize = |l| {
            let n = l
                .hash_concurrency
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
            if n == 0 {
                return Err("PULSE_HASH_CONCURRENCY must be at least 1".into());
            }
            Ok(n)
        },
        render |c| c.hash_concurrency.to_string();
    export_concurrency: usize = "PULSE_EXPORT_CONCURRENCY", read::num,
        /// Exports streaming at once; the excess waits up to 2 s, then 503.
        => export_concurrency: usize = |l| {
            let n = l.export_concurrency.unwrap_or(8);
            if n == 0 {
                return Err("PULSE_EXPORT_CONCURRENCY must be at least 1".into());
            }
            Ok(n)
        },
        render |c| c.export_concurrency.to_string();
    export_per_user: usize = "PULSE_EXPORT_PER_USER", read::num,
        /// Exports one user may stream at once; more → 429.
        => export_per_user: usize = |l| match l.export_per_user.unwrap_or(4) {
            0 => Err("PULSE_EXPORT_PER_USER must be at least 1".into()),
            n => Ok(n),
        },
        render |c| c.export_per_user.to_string();
    export_job_threshold: u64 = "PULSE_EXPORT_JOB_THRESHOLD", read::num,
        /// The web's Bulk Export downloads at once up to this many leads; more become a job.
        => export_job_threshold: u64 = |l| Ok(l.export_job_threshold.unwrap_or(50_000)),
        render |c| c.export_job_threshold.to_string();
    bulk_job_threshold: usize = "PULSE_BULK_JOB_THRESHOLD", read::num,
        /// A filter-wide bulk action over more leads than this runs as a background job (1–10000).
        => bulk_job_threshold: usize = |l| match l.bulk_job_threshold.unwrap_or(10_000) {
            0 => Err("PULSE_BULK_JOB_THRESHOLD must be at least 1".into()),
            n if n > 10_000 => Err("PULSE_BULK_JOB_THRESHOLD must be at most 10000 (the most ids one bulk action takes at once)".into()),
            n => Ok(n),
        },
        render |c| c.bulk_job_threshold.to_string();
    export_headers: String = "PULSE_EXPORT_HEADERS", read::text,
        /// Header row of `bulk-export` and `batch-export-zip` when a request names none:
        /// `labels` (Pulse's) or `fields` (the original system's field names, `yes`/`no`).
        => export_headers: HeaderStyle = |l| {
            let v = l.export_headers.as_deref().unwrap_or("labels");
            HeaderStyle::parse(v)
                .ok_or_else(|| format!("PULSE_EXPORT_HEADERS={v:?}: expected labels or fields"))
        },
        render |c| c.export_headers.as_str().into();
    export_stall_seconds: u64 = "PULSE_EXPORT_STALL_SECONDS", read::num,
        /// A streaming export's client that reads nothing for this long is treated as gone.
        => export_stall: Duration = |l| match l.export_stall_seconds.unwrap_or(120) {
            0 => Err("PULSE_EXPORT_STALL_SECONDS must be at least 1".into()),
            n => Ok(Duration::from_secs(n)),
        },
        render |c| c.export_stall.as_secs().to_string();
    header_timeout_seconds: u64 = "PULSE_HEADER_TIMEOUT_SECONDS", read::num,
        /// A request's head (and an idle keep-alive connection's next one) must arrive within this.
        => header_timeout: Duration = |l| match l.header_timeout_seconds.unwrap_or(15) {
            0 => Err("PULSE_HEADER_TIMEOUT_SECONDS must be at least 1".into()),
            n => Ok(Duration::from_secs(n)),
        },
        render |c| c.header_timeout.as_secs().to_string();
    max_connections: usize = "PULSE_MAX_CONNECTIONS", read::num,
        /// HTTP connections served at once (below the unit's LimitNOFILE of 65536, with room
        /// for the database, exports and files).
        => max_connections: usize = |l| match l.max_connections.unwrap_or(4096) {
            0 => Err("PULSE_MAX_CONNECTIONS must be at least 1".into()),
            n => Ok(n),
        },
        render |c| c.max_connections.to_string();
    shutdown_grace_seconds: u64 = "PULSE_SHUTDOWN_GRACE_SECONDS", read::num,
        /// How long SIGTERM waits for in-flight requests before exiting.
        => shutdown_grace: Duration = |l| {
            Ok(Duration::from_secs(l.shutdown_grace_seconds.unwrap_or(30)))
        },
        render |c| c.shutdown_grace.as_secs().to_string();
    cookie_secure: bool = "PULSE_COOKIE_SECURE", read::boolean,
        /// Mark the session cookie `Secure` (set when Pulse is served over HTTPS).
        => cookie_secure: bool = |l| Ok(l.cookie_secure.unwrap_or(false)),
        render |c| c.cookie_secure.to_string();
    log_format: String = "PULSE_LOG_FORMAT", read::text,
        /// Log line format.
        => log_format: LogFormat = |l| match l.log_format.as_deref().unwrap_or("json") {
            "json" => Ok(LogFormat::Json),
            "pretty" => Ok(LogFormat::Pretty),
            other => Err(format!("PULSE_LOG_FORMAT={other:?}: expected json or pretty")),
        },
        render |c| match c.log_format {
            LogFormat::Json => "json".into(),
            LogFormat::Pretty => "pretty".into(),
        };
    workers: usize = "PULSE_WORKERS", read::num,
        /// Export-job workers `pulse serve` runs in-process (0: none; `pulse worker` runs them).
        => workers: usize = |l| Ok(l.workers.unwrap_or(1)),
        render |c| c.workers.to_string();
    export_retention: Humane = "PULSE_EXPORT_RETENTION", read::duration,
        /// How long a finished export file is kept before the clean-up deletes it.
        => export_retention: Duration = |l| match &l.export_retention {
            Some(h) => h.resolve("PULSE_EXPORT_RETENTION"),
            None => Ok(Duration::from_secs(24 * 3600)),
        },
        render |c| humane(c.export_retention);
    export_cleanup_interval: Humane = "PULSE_EXPORT_CLEANUP_INTERVAL", read::duration,
        /// How often the clean-up runs (expiry, orphaned files, stuck jobs).
        => export_cleanup_interval: Duration = |l| {
            let every = match &l.export_cleanup_interval {
                Some(h) => h.resolve("PULSE_EXPORT_CLEANUP_INTERVAL")?,
                None => Duration::from_secs(5 * 60),
            };
            if every.is_zero() {
                return Err("PULSE_EXPORT_CLEANUP_INTERVAL must be at least 1s".into());
            }
            Ok(every)
        },
        render |c| humane(c.export_cleanup_interval);
    export_jobs_per_user: u32 = "PULSE_EXPORT_JOBS_PER_USER", read::num,
        /// Queued + running export jobs one user may have; more → 429.
        => export_jobs_per_user: u32 = |l| Ok(l.export_jobs_per_user.unwrap_or(3)),
        render |c| c.export_jobs_per_user.to_string();
    export_queue_max: u32 = "PULSE_EXPORT_QUEUE_MAX", read::num,
        /// Queued + running export jobs in all; more → 503.
        => export_queue_max: u32 = |l| Ok(l.export_queue_max.unwrap_or(100)),
        render |c| c.export_queue_max.to_string();
    job_lease_seconds: u64 = "PULSE_JOB_LEASE_SECONDS", read::num,
        /// A running job's lease; a worker extends it while it works, and a job
        /// whose lease ran out (its worker died) is queued again.
        => job_lease: Duration = |l| {
            let lease = Duration::from_secs(l.job_lease_seconds.unwrap_or(30));
            // The heartbeat runs every lease/3 (at most once a second): below 2 s
            // a busy database could let a live job's lease run out.
            if lease < Duration::from_secs(2) {
                return Err("PULSE_JOB_LEASE_SECONDS must be at least 2".into());
            }
            Ok(lease)
        },
        render |c| c.job_lease.as_secs().to_string();
    job_max_attempts: u32 = "PULSE_JOB_MAX_ATTEMPTS", read::num,
        /// Runs of a job before it fails for good.
        => job_max_attempts: u32 = |l| {
            let n = l.job_max_attempts.unwrap_or(3);
            if n == 0 {
                return Err("PULSE_JOB_MAX_ATTEMPTS must be at least 1".into());
            }
            Ok(n)
        },
        render |c| c.job_max_attempts.to_string();
    job_retry_seconds: u64 = "PULSE_JOB_RETRY_SECONDS", read::num,
        /// Back-off before the first retry of a failed run; doubled for each further one.
        => job_retry_base: Duration = |l| {
            Ok(Duration::from_secs(l.job_retry_seconds.unwrap_or(10)))
        },
        render |c| c.job_retry_base.as_secs().to_string();
    cors_origins: String = "PULSE_CORS_ORIGINS", read::text,
        /// Origins a frontend served elsewhere may call the API from (comma-separated, `*` for
        /// any; bearer tokens only, never cookies); off when unset.
        => cors_origins: Vec<String> = |l| {
            let list: Vec<String> = l
                .cors_origins
                .as_deref()
                .unwrap_or("")
                .split(',')
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect();
            for o in &list {
                if o != "*" && !(o.starts_with("http://") || o.starts_with("https://")) {
                    return Err(format!("PULSE_CORS_ORIGINS: {o:?} is not an origin (https://host[:port]) or *"));
                }
            }
            Ok(list)
        },
        render |c| if c.cors_origins.is_empty() { "off".into() } else { c.cors_origins.join(",") };
    metrics_listen: String = "PULSE_METRICS_LISTEN", read::text,
        /// A second listener serving only `/metrics`, without a token (off when unset).
        => metrics_listen: Option<SocketAddr> = |l| match l.metrics_listen.as_deref().map(str::trim) {
            None | Some("") | Some("off") => Ok(None),
            Some(text) => Ok(Some(text.parse().map_err(|_| {
                format!("PULSE_METRICS_LISTEN={text:?} is not an ADDRESS:PORT (or off)")
            })?)),
        },
        render |c| c.metrics_listen.map_or_else(|| "off".into(), |a| a.to_string());
    metrics_token: String = "PULSE_METRICS_TOKEN", read::text,
        /// Bearer token for `/metrics` on the main listener (not served there when unset).
        => metrics_token: Option<Secret> = |l| match &l.metrics_token {
            // A short token is guessable; the scrape exposes traffic shape.
            Some(t) if t.len() < 16 => {
                Err("PULSE_METRICS_TOKEN must be at least 16 characters".into())
            }
            t => Ok(t.clone().map(Secret::new)),
        },
        render |c| redacted_or(&c.metrics_token, "(unset: /metrics not served on PULSE_LISTEN)");
    backup_schedule: Humane = "PULSE_BACKUP_SCHEDULE", read::duration,
        /// How often `pulse serve` takes a scheduled backup (off when unset).
        => backup_schedule: Option<Duration> = |l| match &l.backup_schedule {
            None => Ok(None),
            Some(Humane::Text(t)) if t.trim().eq_ignore_ascii_case("off") => Ok(None),
            Some(h) => {
                let every = h.resolve("PULSE_BACKUP_SCHEDULE")?;
                // A full snapshot each time: more often than a minute is a mistake.
                if every < Duration::from_secs(60) {
                    return Err("PULSE_BACKUP_SCHEDULE must be at least 1m (or off)".into());
                }
                Ok(Some(every))
            }
        },
        render |c| or_off(c.backup_schedule.map(humane));
    backup_keep: usize = "PULSE_BACKUP_KEEP", read::num,
        /// Scheduled backups kept (the oldest beyond go).
        => backup_keep: usize = |l| {
            let n = l.backup_keep.unwrap_or(7);
            if n == 0 {
                return Err("PULSE_BACKUP_KEEP must be at least 1".into());
            }
            Ok(n)
        },
        render |c| c.backup_keep.to_string();
    storage_url: String = "PULSE_STORAGE_URL", read::text,
        /// Object storage for export files and backups (`PULSE_STORAGE_URL=s3://…`);
        /// `None`: the local disk under `data_dir`.
        => storage: Option<S3Config> = storage::storage_from,
        render |c| match &c.storage {
            Some(s) if s.prefix.is_empty() => format!("s3://{}", s.bucket),
            Some(s) => format!("s3://{}/{}", s.bucket, s.prefix),
            None => format!("(local: {})", c.data_dir.display()),
        };
    s3_endpoint: String = "PULSE_S3_ENDPOINT", read::text,
        render |c| c.storage.as_ref().map(|s| s.endpoint.clone()).unwrap_or_default();
    s3_region: String = "PULSE_S3_REGION", read::text,
        render |c| c.storage.as_ref().map(|s| s.region.clone()).unwrap_or_default();
    s3_access_key_id: String = "PULSE_S3_ACCESS_KEY_ID", read::text,
        render |c| c.storage.as_ref().map(|s| s.access_key.clone()).unwrap_or_default();
    s3_secret_access_key: String = "PULSE_S3_SECRET_ACCESS_KEY", read::text,
        render |c| redacted_or(&c.storage, "");
    s3_ca_file: PathBuf = "PULSE_S3_CA_FILE", read::path,
        render |c| match &c.storage {
            Some(s) if s.ca_pem.is_some() => "(a private CA is trusted)".into(),
            _ => String::new(),
        };
}

/// `PULSE_DATA_DIR` or its default (the database URL's default is under it).
fn data_dir_of(l: &Layer) -> PathBuf {
    l.data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("./pulse-data"))
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

    /// The database URL with any password replaced, for printing.
    pub fn database_url_redacted(&self) -> String {
        redact_url(self.database_url.expose())
    }
}

#[cfg(test)]
mod tests;
