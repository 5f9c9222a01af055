//! Records the stores read and write.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::{AccountStatus, AccountType};

/// A user as everyone but the password checker sees it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct User {
    /// Stable id.
    pub id: Uuid,
    /// Login e-mail (stored as given, compared case-insensitively).
    pub email: String,
    /// Optional short login such as `admin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Role.
    pub account_type: AccountType,
    /// pending, active or disabled.
    pub status: AccountStatus,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// The password is a temporary one an administrator gave (or generated at
    /// creation); cleared when the user sets their own (COMPAT §2.1).
    pub is_temp_password: bool,
}

/// A user with its password hash (only the login path reads this).
#[derive(Clone, Debug)]
pub struct UserWithHash {
    /// The user.
    pub user: User,
    /// PHC string of argon2id.
    pub password_hash: String,
}

/// A user to insert.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Login e-mail.
    pub email: String,
    /// Optional short login.
    pub username: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Role.
    pub account_type: AccountType,
    /// Initial status.
    pub status: AccountStatus,
    /// PHC string of argon2id.
    pub password_hash: String,
    /// The password is a generated temporary one.
    pub temp_password: bool,
}

/// Fields to change on a user; `None` leaves a field alone.
#[derive(Clone, Debug, Default)]
pub struct UserChange {
    /// New role.
    pub account_type: Option<AccountType>,
    /// New status.
    pub status: Option<AccountStatus>,
    /// New password hash.
    pub password_hash: Option<String>,
    /// New given name.
    pub first_name: Option<String>,
    /// New family name.
    pub last_name: Option<String>,
    /// Whether the (new) password is a temporary one.
    pub temp_password: Option<bool>,
}

impl UserChange {
    /// Role, status and password changes end every session of the user.
    pub fn revokes_sessions(&self) -> bool {
        self.account_type.is_some() || self.status.is_some() || self.password_hash.is_some()
    }
}

/// A session to record.
#[derive(Clone, Debug)]
pub struct NewSession {
    /// SHA-256 of the token, hex; the token itself is never stored.
    pub token_hash: String,
    /// Whose session.
    pub user_id: Uuid,
    /// Login time.
    pub created_at: DateTime<Utc>,
    /// Absolute expiry.
    pub expires_at: DateTime<Utc>,
}

/// A stored session.
#[derive(Clone, Debug)]
pub struct Session {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Whose session.
    pub user_id: Uuid,
    /// Login time.
    pub created_at: DateTime<Utc>,
    /// Last use (moved forward at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// Absolute expiry.
    pub expires_at: DateTime<Utc>,
}

/// An audit entry to append.
#[derive(Clone, Debug)]
pub struct NewAuditEntry {
    /// Who (user id), if anyone was signed in.
    pub actor_id: Option<Uuid>,
    /// Their login at the time, for readers of the log.
    pub actor_email: Option<String>,
    /// What, e.g. `leads.bulk_delete`, `export`, `import`.
    pub action: String,
    /// Free-form details: filters, counts, ids, file hash.
    pub details: serde_json::Value,
    /// The request that did it.
    pub request_id: Option<String>,
}

/// Which audit entries to read, newest first: every given condition holds.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// What: an action (`user.approve`), or an area naming every action
    /// under it (`user` → `user.approve`, `user.create`, …).
    pub action: Option<String>,
    /// Who: the actor's login at the time, compared case-insensitively.
    pub actor: Option<String>,
    /// When: at or after.
    pub since: Option<DateTime<Utc>>,
    /// When: before.
    pub until: Option<DateTime<Utc>>,
    /// At most this many.
    pub limit: i64,
}

/// A stored audit entry.
#[derive(Clone, Debug, Serialize)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (user id).
    pub actor_id: Option<Uuid>,
    /// Their login at the time.
    pub actor_email: Option<String>,
    /// What.
    pub action: String,
    /// Details.
    pub details: serde_json::Value,
    /// The request that did it.
    pub request_id: Option<String>,
}

/// A user's request for a password reset (the original's forgot-password
/// flow), with the requesting user's names for the users page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResetRequest {
    /// Stable id.
    pub id: Uuid,
    /// The user who asked.
    pub user_id: Uuid,
    /// That user's login e-mail.
    pub user_email: String,
    /// That user's given name.
    pub first_name: String,
    /// That user's family name.
    pub last_name: String,
    /// That user's role (who may approve depends on it).
    pub account_type: AccountType,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
}
