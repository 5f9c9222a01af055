//! The SQLite backend (rusqlite): the zero-set-up default.

mod backup;
mod bulk;
mod calls;
mod export;
mod imports;
mod jobs;
mod leads;
mod pool;
mod users;

use std::path::PathBuf;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::error::{StoreError, StoreResult};
use super::model::{AuditEntry, AuditQuery, NewAuditEntry};
use super::traits::{AdminStore, AuditStore};
pub use pool::Pool;

/// Migrations in order; each runs once, inside a transaction.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_users_sessions_audit",
        include_str!("migrations/0001_users_sessions_audit.sql"),
    ),
    ("0002_leads", include_str!("migrations/0002_leads.sql")),
    (
        "0003_leads_search",
        include_str!("migrations/0003_leads_search.sql"),
    ),
    (
        "0004_export_jobs",
        include_str!("migrations/0004_export_jobs.sql"),
    ),
    (
        "0006_job_request_id",
        include_str!("migrations/0006_job_request_id.sql"),
    ),
    (
        "0007_job_kind",
        include_str!("migrations/0007_job_kind.sql"),
    ),
    (
        "0008_job_result",
        include_str!("migrations/0008_job_result.sql"),
    ),
    (
        "0009_web_sort_prefs",
        include_str!("migrations/0009_web_sort_prefs.sql"),
    ),
    (
        "0010_call_events",
        include_str!("migrations/0010_call_events.sql"),
    ),
    (
        "0011_lead_notes",
        include_str!("migrations/0011_lead_notes.sql"),
    ),
    (
        "0012_import_undo",
        include_str!("migrations/0012_import_undo.sql"),
    ),
    (
        "0014_import_date_source",
        include_str!("migrations/0014_import_date_source.sql"),
    ),
    (
        "0015_desk_indexes",
        include_str!("migrations/0015_desk_indexes.sql"),
    ),
    (
        "0018_password_resets",
        include_str!("migrations/0018_password_resets.sql"),
    ),
];

/// Pulse's data in one SQLite file.
pub struct SqliteStore {
    pool: Pool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &str) -> StoreResult<Self> {
        let path = PathBuf::from(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Backend(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        Ok(Self {
            pool: Pool::new(path, 8)?,
        })
    }

    /// The connection pool (the export engine opens dedicated readers from it).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }
}

/// Milliseconds since the epoch: how SQLite stores instants here.
pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// The inverse of [`to_ms`].
pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[async_trait]
impl AdminStore for SqliteStore {
    async fn migrate(&self) -> StoreResult<Vec<String>> {
        self.pool
            .run(|conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.execute_batch(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (
                        name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)",
                )?;
                let mut applied = Vec::new();
                for (name, sql) in MIGRATIONS {
                    let done: Option<String> = tx
                        .query_row(
                            "SELECT name FROM schema_migrations WHERE name = ?1",
                            [name],
                            |r| r.get(0),
                        )
                        .optional()?;
                    if done.is_none() {
                        tx.execute_batch(sql).map_err(|e| {
                            StoreError::Backend(format!("migration {name} failed: {e}"))
                        })?;
                        tx.execute(
                            "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, ?2)",
                            params![name, to_ms(Utc::now())],
                        )?;
                        applied.push(name.to_string());
                    }
                }
                tx.commit()?;
                Ok(applied)
            })
            .await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.pool
            .run(|conn| {
                Ok(conn
                    .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                    .map(|_| ())?)
            })
            .await
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    fn pool_use(&self) -> (u64, u64) {
        self.pool.in_use()
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<()> {
        let e = entry.clone();
        self.pool
            .run(move |conn| {
                conn.execute(
                    "INSERT INTO audit_log (at, actor_id, actor_email, action, details, request_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        to_ms(Utc::now()),
                        e.actor_id.map(|u| u.to_string()),
                        e.actor_email,
                        e.action,
                        e.details.to_string(),
                        e.request_id
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn list_audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        let q = q.clone();
        self.pool
            .run(move |conn| {
                let mut stmt = conn.prepare(
                    "SELECT id, at, actor_id, actor_email, action, details, request_id
                     FROM audit_log
                     WHERE (?1 IS NULL OR action = ?1
                            OR substr(action, 1, length(?1) + 1) = ?1 || '.')
                       AND (?2 IS NULL OR lower(actor_email) = lower(?2))
                       AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4)
                     ORDER BY id DESC LIMIT ?5",
                )?;
                let since = q.since.map(to_ms);
                let until = q.until.map(to_ms);
                let rows =
                    stmt.query_map(params![q.action, q.actor, since, until, q.limit], |r| {
                        let actor: Option<String> = r.get(2)?;
                        let details: String = r.get(5)?;
                        Ok(AuditEntry {
                            id: r.get(0)?,
                            at: from_ms(r.get(1)?),
                            actor_id: actor.and_then(|a| a.parse().ok()),
                            actor_email: r.get(3)?,
                            action: r.get(4)?,
                            details: serde_json::from_str(&details).unwrap_or_default(),
                            request_id: r.get(6)?,
                        })
                    })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }
}
