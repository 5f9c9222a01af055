//! Storage: one interface ([`Store`]), one implementation per backend.
//!
//! SQLite (rusqlite, the default: one file, WAL) and PostgreSQL
//! (tokio-postgres). rusqlite reads ~1M rows/s where sqlx-sqlite reads
//! ~0.1M (DESIGN §7), which matters for the export path. Both backends pass
//! the same integration suite; handlers only ever see `Arc<dyn Store>`.

mod backup;
mod bulk;
mod export;
pub mod filter;
mod jobs;
mod leads;
mod model;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use backup::{BackupSnapshot, BackupStore, LeadBatch, LeadStream, Replaced};
pub use bulk::{BatchOutcome, BulkBatch, BulkStore, DuplicatePolicy};
pub use export::{
    EXPORT_DATE_FIELDS, EXPORT_INSTANT_FIELDS, EXPORT_TEXT_FIELDS, ExportSnapshot, ExportStore,
    LeadRow, LeadRows, RowsError,
};
pub use jobs::{
    Admission, Completion, ExportJob, JobFiles, JobKind, JobStatus, JobStore, NewExportJob,
};
pub use leads::*;
pub use model::*;

/// Errors from a store. Constraint violations are told apart so the HTTP
/// layer can answer 409 instead of 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the text names what clashed.
    #[error("already exists: {0}")]
    Conflict(String),
    /// Anything else: connection, I/O, a bug.
    #[error("database error: {0}")]
    Backend(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, msg)
                if f.code == rusqlite::ErrorCode::ConstraintViolation
                    && msg.as_deref().is_some_and(|m| m.contains("UNIQUE")) =>
            {
                StoreError::Conflict(msg.clone().unwrap_or_default())
            }
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error()
            && *db.code() == tokio_postgres::error::SqlState::UNIQUE_VIOLATION
        {
            return StoreError::Conflict(db.constraint().unwrap_or("unique").to_string());
        }
        StoreError::Backend(format!("{e:#}"))
    }
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Users: accounts with a role and a status.
#[async_trait]
pub trait UserStore {
    /// Inserts a user; `Conflict` when the e-mail or user name is taken.
    async fn create_user(&self, user: &NewUser) -> StoreResult<User>;
    /// The user whose e-mail or user name is `login` (case-insensitive), with its hash.
    async fn find_login(&self, login: &str) -> StoreResult<Option<UserWithHash>>;
    /// One user by id.
    async fn get_user(&self, id: Uuid) -> StoreResult<Option<User>>;
    /// One user by e-mail (case-insensitive).
    async fn get_user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// Every user, oldest first.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// Applies `change`; when it touches role, status or password, every
    /// session of the user is deleted in the same transaction.
    async fn update_user(&self, id: Uuid, change: &UserChange) -> StoreResult<Option<User>>;
    /// How many active or pending master_admin accounts exist.
    async fn count_master_admins(&self) -> StoreResult<i64>;
}

/// Sessions: hashed opaque tokens.
#[async_trait]
pub trait SessionStore {
    /// Records a new session.
    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    /// The session with this token hash and its user, if it exists.
    async fn find_session(&self, token_hash: &str) -> StoreResult<Option<(Session, User)>>;
    /// Moves the idle clock of a session forward.
    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Deletes one session (logout).
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Deletes every session of a user except `keep` (password change).
    async fn delete_user_sessions(&self, user_id: Uuid, keep: Option<&str>) -> StoreResult<()>;
    /// Removes sessions past their absolute expiry or idle since `idle_before`.
    async fn purge_sessions(
        &self,
        now: DateTime<Utc>,
        idle_before: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

/// The audit log: who did what, when.
#[async_trait]
pub trait AuditStore {
    /// Appends one entry.
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<()>;
    /// Newest first, at most `limit`, optionally only one `action`.
    async fn list_audit(&self, action: Option<&str>, limit: i64) -> StoreResult<Vec<AuditEntry>>;
}

/// Schema and health.
#[async_trait]
pub trait AdminStore {
    /// Applies the embedded migrations not applied yet; returns their names.
    async fn migrate(&self) -> StoreResult<Vec<String>>;
    /// A cheap round trip to the database (readiness).
    async fn ping(&self) -> StoreResult<()>;
    /// `sqlite` or `postgres`.
    fn backend_name(&self) -> &'static str;
    /// Pooled connections in use now, and the pool's maximum size (metrics).
    fn pool_use(&self) -> (u64, u64);
}

/// Everything a Pulse process needs from its database.
pub trait Store:
    UserStore
    + SessionStore
    + AuditStore
    + AdminStore
    + ExportStore
    + BulkStore
    + LeadStore
    + JobStore
    + BackupStore
    + PrefsStore
    + Send
    + Sync
{
}
impl<
    T: UserStore
        + SessionStore
        + AuditStore
        + AdminStore
        + ExportStore
        + BulkStore
        + LeadStore
        + JobStore
        + BackupStore
        + PrefsStore
        + Send
        + Sync,
> Store for T
{
}

/// Opens the store the URL names (`sqlite://PATH` or `postgres://…`);
/// does not migrate.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Ok(Arc::new(sqlite::SqliteStore::open(path)?))
    } else {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    }
}
