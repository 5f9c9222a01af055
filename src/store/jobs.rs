//! The job queue: a leased job table in Pulse's own database (migration
//! 0004, named `export_jobs` after its first kind; migration 0007 added the
//! [`JobKind`] and its `params`), shared by every Pulse process on that
//! database.
//!
//! A worker claims a queued job with a fresh lease token; every later change
//! of a running job (heartbeat, completion, failure, release) is conditional
//! on that token, so a worker whose lease ran out — and whose job was
//! rescued and perhaps claimed by another — can change nothing. Times are
//! taken by the database side of each backend (PostgreSQL's `now()`,
//! SQLite's caller clock), so callers pass durations, never instants.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::error::StoreResult;

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker (new, retried, rescued or released at shutdown).
    Queued,
    /// A worker holds its lease.
    Running,
    /// Its file is complete, checksummed and published.
    Done,
    /// Stopped for good; `error` says why.
    Failed,
    /// Cancelled by its owner (or a master_admin).
    Cancelled,
    /// Was done; its file passed the retention and is deleted.
    Expired,
}

impl JobStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Expired => "expired",
        }
    }

    /// The inverse of [`JobStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobStatus::Queued,
            "running" => JobStatus::Running,
            "done" => JobStatus::Done,
            "failed" => JobStatus::Failed,
            "cancelled" => JobStatus::Cancelled,
            "expired" => JobStatus::Expired,
            _ => return None,
        })
    }

    /// Whether the job will not change any more (but for expiry).
    pub fn is_final(self) -> bool {
        !matches!(self, JobStatus::Queued | JobStatus::Running)
    }
}

/// What a job does. Each kind has its own module under `jobs/` and its own
/// routes; the queue, the lease, retries and rescue are the same for all.
/// A worker claims only the kinds it knows ([`JobKind::ALL`]), so a job of
/// a kind added by a newer Pulse waits for a worker that knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// A lead export (`POST /api/exports`): filter, columns, format.
    Export,
    /// A full backup of the leads (`POST …/backups`).
    Backup,
    /// An uploaded file above `PULSE_IMPORT_JOB_THRESHOLD` imported in the
    /// background (`POST …/import-leads`); its file is the report.
    Import,
    /// The undo of a committed import (`POST …/imports/{id}/undo`): its
    /// inserted leads removed, its replaced leads restored.
    #[serde(rename = "import_undo")]
    ImportUndo,
    /// A filter-wide bulk action (assign, unassign, status, delete) over
    /// more leads than `PULSE_BULK_JOB_THRESHOLD`, applied in batches.
    BulkLeads,
    /// Every lead replaced by a backup's (`params.backup_id`), after the
    /// automatic backup; no file of its own, its `result` says what it did.
    Restore,
}

impl JobKind {
    /// Every kind this build runs.
    pub const ALL: [JobKind; 6] = [
        JobKind::Export,
        JobKind::Backup,
        JobKind::Import,
        JobKind::ImportUndo,
        JobKind::BulkLeads,
        JobKind::Restore,
    ];

    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Export => "export",
            JobKind::Backup => "backup",
            JobKind::Import => "import",
            JobKind::ImportUndo => "import_undo",
            JobKind::BulkLeads => "bulk_leads",
            JobKind::Restore => "restore",
        }
    }

    /// The kinds whose queued and running jobs count against a new job of
    /// this kind at admission: backups and restores share their one place
    /// in the whole queue (a backup must not read while a restore replaces
    /// the leads, nor two restores interleave), the others count alone.
    pub fn admitted_with(self) -> &'static [JobKind] {
        match self {
            JobKind::Backup | JobKind::Restore => &[JobKind::Backup, JobKind::Restore],
            JobKind::Export => &[JobKind::Export],
            JobKind::Import => &[JobKind::Import],
            JobKind::ImportUndo => &[JobKind::ImportUndo],
            JobKind::BulkLeads => &[JobKind::BulkLeads],
        }
    }

    /// `kind IN ('…', …)` of [`JobKind::admitted_with`], for the admission
    /// count (the names are this enum's, never input).
    pub fn admission_sql(self) -> String {
        let names: Vec<String> = self
            .admitted_with()
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect();
        format!("kind IN ({})", names.join(", "))
    }

    /// The inverse of [`JobKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "export" => JobKind::Export,
            "backup" => JobKind::Backup,
            "import" => JobKind::Import,
            "import_undo" => JobKind::ImportUndo,
            "bulk_leads" => JobKind::BulkLeads,
            "restore" => JobKind::Restore,
            _ => return None,
        })
    }
}

/// One job as stored (any [`JobKind`]; the export fields are empty for
/// other kinds).
#[derive(Clone, Debug, PartialEq)]
pub struct ExportJob {
    /// Its id.
    pub id: Uuid,
    /// What it does.
    pub kind: JobKind,
    /// Kind-specific parameters (JSON object; `{}` for exports, whose
    /// parameters have columns of their own).
    pub params: serde_json::Value,
    /// Who created it (its files are theirs).
    pub owner_id: Uuid,
    /// Their login, for the audit entries the worker writes.
    pub owner_email: String,
    /// Where it is.
    pub status: JobStatus,
    /// The `LeadFilter` as JSON, fixed at creation.
    pub filters: serde_json::Value,
    /// Column keys, in order.
    pub columns: Vec<String>,
    /// `xlsx` or `csv`.
    pub format: String,
    /// Whether document numbers are masked (the creator's role decided).
    pub mask_pii: bool,
    /// Rows written so far (the last heartbeat's count while running).
    pub rows_done: i64,
    /// Rows in the job's snapshot, once counted.
    pub rows_total: Option<i64>,
    /// Size of the finished file.
    pub bytes: Option<i64>,
    /// SHA-256 (hex) of the finished file.
    pub sha256: Option<String>,
    /// The published file's key in the file store.
    pub file_key: Option<String>,
    /// Why it failed (or why its last attempt failed, while it waits for a retry).
    pub error: Option<String>,
    /// Attempts started.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// The worker of the latest attempt.
    pub worker: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its latest attempt started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached a final state.
    pub finished_at: Option<DateTime<Utc>>,
    /// When its file expires (done jobs).
    pub expires_at: Option<DateTime<Utc>>,
    /// The id of the HTTP request that created it (joins the worker's log
    /// lines to the request's).
    pub request_id: Option<String>,
    /// What the finished job reports beyond its file (an import's counts).
    pub result: Option<serde_json::Value>,
}

/// A job to queue.
#[derive(Clone, Debug)]
pub struct NewExportJob {
    /// Its id (chosen by the caller).
    pub id: Uuid,
    /// What it does.
    pub kind: JobKind,
    /// Kind-specific parameters (a JSON object).
    pub params: serde_json::Value,
    /// Its creator.
    pub owner_id: Uuid,
    /// The creator's login.
    pub owner_email: String,
    /// The `LeadFilter` as JSON.
    pub filters: serde_json::Value,
    /// Column keys, validated.
    pub columns: Vec<String>,
    /// `xlsx` or `csv`.
    pub format: String,
    /// Mask document numbers.
    pub mask_pii: bool,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// The id of the creating request, for the logs.
    pub request_id: Option<String>,
}

/// The answer to [`JobStore::create_export_job`].
#[derive(Clone, Debug)]
pub enum Admission {
    /// Queued.
    Queued(Box<ExportJob>),
    /// The owner already has this many queued or running jobs (the limit).
    UserLimit(i64),
    /// The queue already holds this many queued or running jobs (the bound).
    QueueFull(i64),
}

/// What a worker records when its file is published.
#[derive(Clone, Debug)]
pub struct Completion {
    /// Data rows written.
    pub rows: i64,
    /// File size.
    pub bytes: i64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// The published file's key.
    pub file_key: String,
    /// How long the file is kept (`None`: until deleted by hand, as backups).
    pub retention: Option<Duration>,
    /// What the job reports beyond its file (an import's counts).
    pub result: Option<serde_json::Value>,
}

/// A job that holds (or may hold) files: for the clean-up of orphans.
#[derive(Clone, Debug)]
pub struct JobFiles {
    /// The job.
    pub id: Uuid,
    /// `Running` or `Done`.
    pub status: JobStatus,
    /// Attempts started (names the running attempt's temporary file).
    pub attempts: i32,
    /// The published file of a done job.
    pub file_key: Option<String>,
}

/// The job queue.
#[async_trait]
pub trait JobStore {
    /// Queues `job` unless its owner has `per_user` queued-or-running jobs
    /// of the same kind already, or the queue holds `queue_max` of that
    /// kind; the check and the insert are one atomic step, so concurrent
    /// creations cannot overshoot. Limits are per kind: a backup does not
    /// take an export's place, nor exports a backup's.
    async fn create_export_job(
        &self,
        job: &NewExportJob,
        per_user: u32,
        queue_max: u32,
    ) -> StoreResult<Admission>;

    /// One job.
    async fn get_export_job(&self, id: Uuid) -> StoreResult<Option<ExportJob>>;

    /// Jobs of `kind`, newest first; only `owner`'s when given.
    async fn list_export_jobs(
        &self,
        kind: JobKind,
        owner: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<ExportJob>>;

    /// Cancels a queued or running job (a running one's worker notices at
    /// its next heartbeat); returns the job as it now is.
    async fn cancel_export_job(&self, id: Uuid) -> StoreResult<Option<ExportJob>>;

    /// Claims the oldest queued job of one of `kinds` that is due: status
    /// running, a new lease `token` valid for `lease`, one more attempt.
    async fn claim_export_job(
        &self,
        token: &str,
        worker: &str,
        lease: Duration,
        kinds: &[JobKind],
    ) -> StoreResult<Option<ExportJob>>;

    /// Extends the lease and records progress; false when the lease is lost
    /// (cancelled, or rescued after it ran out).
    async fn heartbeat_export_job(
        &self,
        id: Uuid,
        token: &str,
        lease: Duration,
        rows_done: i64,
        rows_total: Option<i64>,
    ) -> StoreResult<bool>;

    /// Marks the job done with its file — only if `token` still holds the
    /// lease; false otherwise (the caller must then delete the file).
    async fn complete_export_job(
        &self,
        id: Uuid,
        token: &str,
        done: &Completion,
    ) -> StoreResult<bool>;

    /// Records a failed attempt: queued again after `retry_in` when given
    /// and attempts remain, else failed. `None` when the lease was lost.
    async fn fail_export_job(
        &self,
        id: Uuid,
        token: &str,
        error: &str,
        retry_in: Option<Duration>,
    ) -> StoreResult<Option<JobStatus>>;

    /// Puts a running job back in the queue at once without counting the
    /// attempt (the worker is shutting down); false when the lease was lost.
    async fn release_export_job(&self, id: Uuid, token: &str) -> StoreResult<bool>;

    /// Running jobs whose lease ran out (their worker died or hung): queued
    /// again, or failed with a reason after their last attempt. Returns them
    /// as they now are.
    async fn rescue_export_jobs(&self) -> StoreResult<Vec<ExportJob>>;

    /// Done jobs past their expiry become expired; returns them (their files
    /// are to be deleted).
    async fn expire_export_jobs(&self) -> StoreResult<Vec<ExportJob>>;

    /// Running and done jobs: every file the file store may keep.
    async fn export_job_files(&self) -> StoreResult<Vec<JobFiles>>;

    /// How many jobs are in each state (states with none are left out), for
    /// the metrics' queue depth and jobs-by-state gauges.
    async fn count_export_jobs_by_status(&self) -> StoreResult<Vec<(String, i64)>>;
}
