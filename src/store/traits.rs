//! The small store traits (users, sessions, audit, schema) and [`Store`],
//! everything a Pulse process needs from its database.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::backup::BackupStore;
use super::bulk::BulkStore;
use super::calls::CallStore;
use super::error::StoreResult;
use super::export::ExportStore;
use super::jobs::JobStore;
use super::leads::LeadStore;
use super::leads::PrefsStore;
use super::model::{
    AuditEntry, AuditQuery, NewAuditEntry, NewSession, NewUser, ResetRequest, Session, User,
    UserChange, UserWithHash,
};

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
    /// The users whose e-mail or user name is one of `logins` (compared
    /// lower-cased; `logins` are lower-case).
    async fn users_by_logins(&self, logins: &[String]) -> StoreResult<Vec<User>>;
    /// Records a pending password-reset request of `user_id`; `Conflict`
    /// when one of that user is pending already.
    async fn create_reset_request(&self, user_id: Uuid) -> StoreResult<ResetRequest>;
    /// The newest reset requests (at most [`RESET_REQUESTS_LISTED`]), with their users.
    async fn list_reset_requests(&self) -> StoreResult<Vec<ResetRequest>>;
    /// One reset request with its user.
    async fn get_reset_request(&self, id: Uuid) -> StoreResult<Option<ResetRequest>>;
    /// Closes a pending request as `status` (approved, rejected), recording
    /// `by`; false when it was not pending (processed already, or unknown).
    async fn close_reset_request(&self, id: Uuid, status: &str, by: Uuid) -> StoreResult<bool>;
}

/// The most reset requests listed (newest first): the users page shows the
/// pending ones, which are at most one per account.
pub const RESET_REQUESTS_LISTED: i64 = 1000;

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
    /// The entries `q` asks for, newest first.
    async fn list_audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
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
    + CallStore
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
        + CallStore
        + Send
        + Sync,
> Store for T
{
}
