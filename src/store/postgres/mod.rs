//! The PostgreSQL backend (tokio-postgres + deadpool), for several instances
//! on one database.

mod backup;
mod bulk;
mod calls;
mod export;
mod imports;
mod jobs;
mod leads;
mod users;

use std::str::FromStr;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::error::{StoreError, StoreResult};
use super::model::{AuditEntry, AuditQuery, NewAuditEntry};
use super::traits::{AdminStore, AuditStore};

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
        "0013_lead_counts",
        include_str!("migrations/0013_lead_counts.sql"),
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

/// Any fixed number; all instances take this advisory lock to migrate one at a time.
const MIGRATION_LOCK: i64 = 0x50_756c_7365;

/// Pulse's data in PostgreSQL.
pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// Builds a pool for `url` and checks that the server answers.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let store = Self { pool };
        store.ping().await?;
        Ok(store)
    }

    /// A pooled client.
    pub(crate) async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Backend(format!("PostgreSQL pool: {e}")))
    }
}

#[async_trait]
impl AdminStore for PgStore {
    async fn migrate(&self) -> StoreResult<Vec<String>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
        let mut applied = Vec::new();
        for (name, sql) in MIGRATIONS {
            let done = tx
                .query_opt(
                    "SELECT name FROM schema_migrations WHERE name = $1",
                    &[name],
                )
                .await?;
            if done.is_none() {
                tx.batch_execute(sql)
                    .await
                    .map_err(|e| StoreError::Backend(format!("migration {name} failed: {e}")))?;
                tx.execute("INSERT INTO schema_migrations (name) VALUES ($1)", &[name])
                    .await?;
                applied.push(name.to_string());
            }
        }
        tx.commit().await?;
        Ok(applied)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.client().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    fn pool_use(&self) -> (u64, u64) {
        let s = self.pool.status();
        // `size` counts open connections, `available` the idle ones among them.
        (s.size.saturating_sub(s.available) as u64, s.max_size as u64)
    }
}

#[async_trait]
impl AuditStore for PgStore {
    async fn append_audit(&self, e: &NewAuditEntry) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO audit_log (at, actor_id, actor_email, action, details, request_id)
                 VALUES (now(), $1, $2, $3, $4, $5)",
                &[
                    &e.actor_id,
                    &e.actor_email,
                    &e.action,
                    &e.details,
                    &e.request_id,
                ],
            )
            .await?;
        Ok(())
    }

    async fn list_audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, at, actor_id, actor_email, action, details, request_id
                 FROM audit_log
                 WHERE ($1::text IS NULL OR action = $1 OR left(action, length($1) + 1) = $1 || '.')
                   AND ($2::text IS NULL OR lower(actor_email) = lower($2))
                   AND ($3::timestamptz IS NULL OR at >= $3)
                   AND ($4::timestamptz IS NULL OR at < $4)
                 ORDER BY id DESC LIMIT $5",
                &[&q.action, &q.actor, &q.since, &q.until, &q.limit],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                id: r.get(0),
                at: r.get(1),
                actor_id: r.get(2),
                actor_email: r.get(3),
                action: r.get(4),
                details: r.get(5),
                request_id: r.get(6),
            })
            .collect())
    }
}
