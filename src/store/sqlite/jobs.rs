//! The export-job queue on SQLite. SQLite has one writer at a time, so a
//! claim is a single `UPDATE … WHERE id = (SELECT …) RETURNING`: atomic on
//! its own, no two processes can take the same job. Admission runs in an
//! IMMEDIATE transaction (the write lock first), so its counts and insert
//! are one step.

use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqliteStore, from_ms, to_ms};
use crate::store::error::{StoreError, StoreResult};
use crate::store::jobs::{
    Admission, Completion, ExportJob, JobFiles, JobKind, JobStatus, JobStore, NewExportJob,
};

const COLUMNS: &str = "id, owner_id, owner_email, status, filters, columns, format, mask_pii, \
     rows_done, rows_total, bytes, sha256, file_key, error, attempts, max_attempts, worker, \
     created_at, started_at, finished_at, expires_at, request_id, kind, params, result";

fn job_from_row(r: &Row<'_>) -> rusqlite::Result<ExportJob> {
    let text = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("export_jobs: invalid {what}").into(),
        )
    };
    let opt_ms = |i: usize| -> rusqlite::Result<Option<chrono::DateTime<Utc>>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(from_ms))
    };
    Ok(ExportJob {
        id: text(0)?.parse().map_err(|_| bad(0, "id"))?,
        kind: JobKind::parse(&text(22)?).ok_or_else(|| bad(22, "kind"))?,
        params: serde_json::from_str(&text(23)?).map_err(|_| bad(23, "params"))?,
        owner_id: text(1)?.parse().map_err(|_| bad(1, "owner_id"))?,
        owner_email: text(2)?,
        status: JobStatus::parse(&text(3)?).ok_or_else(|| bad(3, "status"))?,
        filters: serde_json::from_str(&text(4)?).map_err(|_| bad(4, "filters"))?,
        columns: serde_json::from_str(&text(5)?).map_err(|_| bad(5, "columns"))?,
        format: text(6)?,
        mask_pii: r.get(7)?,
        rows_done: r.get(8)?,
        rows_total: r.get(9)?,
        bytes: r.get(10)?,
        sha256: r.get(11)?,
        file_key: r.get(12)?,
        error: r.get(13)?,
        attempts: r.get(14)?,
        max_attempts: r.get(15)?,
        worker: r.get(16)?,
        created_at: from_ms(r.get(17)?),
        started_at: opt_ms(18)?,
        finished_at: opt_ms(19)?,
        expires_at: opt_ms(20)?,
        request_id: r.get(21)?,
        result: match r.get::<_, Option<String>>(24)? {
            Some(t) => Some(serde_json::from_str(&t).map_err(|_| bad(24, "result"))?),
            None => None,
        },
    })
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Whether a job matches `condition` (with `?1` = `now`), by a read.
fn any(conn: &rusqlite::Connection, condition: &str, now: i64) -> StoreResult<bool> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM export_jobs WHERE {condition})");
    Ok(conn.query_row(&sql, [now], |r| r.get(0))?)
}

fn collect(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> StoreResult<Vec<ExportJob>> {
    let rows = stmt.query_map(params, job_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn create_export_job(
        &self,
        job: &NewExportJob,
        per_user: u32,
        queue_max: u32,
    ) -> StoreResult<Admission> {
        let job = job.clone();
        self.pool()
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let owner = job.owner_id.to_string();
                let (mine, all): (i64, i64) = tx.query_row(
                    &format!(
                        "SELECT coalesce(sum(owner_id = ?1), 0), count(*) FROM export_jobs
                         WHERE {} AND status IN ('queued', 'running')",
                        job.kind.admission_sql()
                    ),
                    [owner.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                if mine >= i64::from(per_user) {
                    return Ok(Admission::UserLimit(mine));
                }
                if all >= i64::from(queue_max) {
                    return Ok(Admission::QueueFull(all));
                }
                let now = to_ms(Utc::now());
                let columns = serde_json::to_string(&job.columns)
                    .map_err(|e| StoreError::Backend(e.to_string()))?;
                tx.execute(
                    "INSERT INTO export_jobs (id, owner_id, owner_email, status, filters, columns,
                        format, mask_pii, max_attempts, run_after, created_at, request_id,
                        kind, params)
                     VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12)",
                    params![
                        job.id.to_string(),
                        owner,
                        job.owner_email,
                        job.filters.to_string(),
                        columns,
                        job.format,
                        job.mask_pii,
                        job.max_attempts,
                        now,
                        job.request_id,
                        job.kind.as_str(),
                        job.params.to_string()
                    ],
                )?;
                let created = tx.query_row(
                    &format!("SELECT {COLUMNS} FROM export_jobs WHERE id = ?1"),
                    [job.id.to_string()],
                    job_from_row,
                )?;
                tx.commit()?;
                Ok(Admission::Queued(Box::new(created)))
            })
            .await
    }

    async fn get_export_job(&self, id: Uuid) -> StoreResult<Option<ExportJob>> {
        self.pool()
            .run(move |conn| {
                Ok(conn
                    .query_row(
                        &format!("SELECT {COLUMNS} FROM export_jobs WHERE id = ?1"),
                        [id.to_string()],
                        job_from_row,
                    )
                    .optional()?)
            })
            .await
    }

    async fn list_export_jobs(
        &self,
        kind: JobKind,
        owner: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<ExportJob>> {
        self.pool()
            .run(move |conn| {
                // rowid breaks ties of jobs created in the same millisecond.
                let mut stmt = conn.prepare(&format!(
                    "SELECT {COLUMNS} FROM export_jobs
                     WHERE kind = ?3 AND (?1 IS NULL OR owner_id = ?1)
                     ORDER BY created_at DESC, rowid DESC LIMIT ?2"
                ))?;
                collect(
                    &mut stmt,
                    params![owner.map(|o| o.to_string()), limit, kind.as_str()],
                )
            })
            .await
    }

    async fn cancel_export_job(&self, id: Uuid) -> StoreResult<Option<ExportJob>> {
        self.pool()
            .run(move |conn| {
                let id = id.to_string();
                conn.execute(
                    "UPDATE export_jobs SET status = 'cancelled', finished_at = ?2,
                        lease_token = NULL, lease_until = NULL
                     WHERE id = ?1 AND status IN ('queued', 'running')",
                    params![id, to_ms(Utc::now())],
                )?;
                Ok(conn
                    .query_row(
                        &format!("SELECT {COLUMNS} FROM export_jobs WHERE id = ?1"),
                        [id],
                        job_from_row,
                    )
                    .optional()?)
            })
            .await
    }

    async fn claim_export_job(
        &self,
        token: &str,
        worker: &str,
        lease: Duration,
        kinds: &[JobKind],
    ) -> StoreResult<Option<ExportJob>> {
        let (token, worker) = (token.to_string(), worker.to_string());
        // Kind names are Pulse's own words (no quotes): inlined.
        let kinds = kinds
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        self.pool()
            .run(move |conn| {
                let now = to_ms(Utc::now());
                // An UPDATE takes SQLite's one write lock even when it
                // matches nothing: idle polls look first, so they never wait
                // behind (or hold up) a long import.
                let due = format!("status = 'queued' AND run_after <= ?1 AND kind IN ({kinds})");
                if !any(conn, &due, now)? {
                    return Ok(None);
                }
                Ok(conn
                    .query_row(
                        &format!(
                            "UPDATE export_jobs SET status = 'running', lease_token = ?1,
                                lease_until = ?2 + ?3, worker = ?4, attempts = attempts + 1,
                                started_at = ?2, rows_done = 0
                             WHERE id = (SELECT id FROM export_jobs
                                         WHERE status = 'queued' AND run_after <= ?2
                                           AND kind IN ({kinds})
                                         ORDER BY created_at, rowid LIMIT 1)
                               AND status = 'queued'
                             RETURNING {COLUMNS}"
                        ),
                        params![token, now, ms(lease), worker],
                        job_from_row,
                    )
                    .optional()?)
            })
            .await
    }

    async fn heartbeat_export_job(
        &self,
        id: Uuid,
        token: &str,
        lease: Duration,
        rows_done: i64,
        rows_total: Option<i64>,
    ) -> StoreResult<bool> {
        let token = token.to_string();
        self.pool()
            .run(move |conn| {
                let n = conn.execute(
                    "UPDATE export_jobs SET lease_until = ?3 + ?4, rows_done = ?5,
                        rows_total = coalesce(?6, rows_total)
                     WHERE id = ?1 AND lease_token = ?2 AND status = 'running'",
                    params![
                        id.to_string(),
                        token,
                        to_ms(Utc::now()),
                        ms(lease),
                        rows_done,
                        rows_total
                    ],
                )?;
                Ok(n == 1)
            })
            .await
    }

    async fn complete_export_job(
        &self,
        id: Uuid,
        token: &str,
        done: &Completion,
    ) -> StoreResult<bool> {
        let (token, done) = (token.to_string(), done.clone());
        self.pool()
            .run(move |conn| {
                let now = to_ms(Utc::now());
                let n = conn.execute(
                    "UPDATE export_jobs SET status = 'done', rows_done = ?3, rows_total = ?3,
                        bytes = ?4, sha256 = ?5, file_key = ?6, error = NULL,
                        finished_at = ?7, expires_at = ?7 + ?8, result = ?9,
                        lease_token = NULL, lease_until = NULL
                     WHERE id = ?1 AND lease_token = ?2 AND status = 'running'",
                    params![
                        id.to_string(),
                        token,
                        done.rows,
                        done.bytes,
                        done.sha256,
                        done.file_key,
                        now,
                        done.retention.map(ms),
                        done.result.as_ref().map(|v| v.to_string())
                    ],
                )?;
                Ok(n == 1)
            })
            .await
    }

    async fn fail_export_job(
        &self,
        id: Uuid,
        token: &str,
        error: &str,
        retry_in: Option<Duration>,
    ) -> StoreResult<Option<JobStatus>> {
        let (token, error) = (token.to_string(), error.to_string());
        self.pool()
            .run(move |conn| {
                let now = to_ms(Utc::now());
                let status: Option<String> = conn
                    .query_row(
                        "UPDATE export_jobs SET
                            status = CASE WHEN ?4 IS NOT NULL AND attempts < max_attempts
                                          THEN 'queued' ELSE 'failed' END,
                            run_after = ?3 + coalesce(?4, 0),
                            finished_at = CASE WHEN ?4 IS NOT NULL AND attempts < max_attempts
                                               THEN NULL ELSE ?3 END,
                            error = ?5, lease_token = NULL, lease_until = NULL
                         WHERE id = ?1 AND lease_token = ?2 AND status = 'running'
                         RETURNING status",
                        params![id.to_string(), token, now, retry_in.map(ms), error],
                        |r| r.get(0),
                    )
                    .optional()?;
                Ok(status.as_deref().and_then(JobStatus::parse))
            })
            .await
    }

    async fn release_export_job(&self, id: Uuid, token: &str) -> StoreResult<bool> {
        let token = token.to_string();
        self.pool()
            .run(move |conn| {
                let n = conn.execute(
                    "UPDATE export_jobs SET status = 'queued', attempts = max(attempts - 1, 0),
                        run_after = ?3, rows_done = 0, lease_token = NULL, lease_until = NULL
                     WHERE id = ?1 AND lease_token = ?2 AND status = 'running'",
                    params![id.to_string(), token, to_ms(Utc::now())],
                )?;
                Ok(n == 1)
            })
            .await
    }

    async fn rescue_export_jobs(&self) -> StoreResult<Vec<ExportJob>> {
        self.pool()
            .run(move |conn| {
                let now = to_ms(Utc::now());
                if !any(conn, "status = 'running' AND lease_until < ?1", now)? {
                    return Ok(Vec::new());
                }
                let mut stmt = conn.prepare(&format!(
                    "UPDATE export_jobs SET
                        status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                        error = CASE WHEN attempts >= max_attempts
                            THEN 'its worker stopped (lease expired) during attempt '
                                 || attempts || ' of ' || max_attempts
                            ELSE 'its worker stopped (lease expired) during attempt '
                                 || attempts || '; queued again' END,
                        finished_at = CASE WHEN attempts >= max_attempts THEN ?1 ELSE NULL END,
                        run_after = ?1, rows_done = 0, lease_token = NULL, lease_until = NULL
                     WHERE status = 'running' AND lease_until < ?1
                     RETURNING {COLUMNS}"
                ))?;
                collect(&mut stmt, [now])
            })
            .await
    }

    async fn expire_export_jobs(&self) -> StoreResult<Vec<ExportJob>> {
        self.pool()
            .run(move |conn| {
                let mut stmt = conn.prepare(&format!(
                    "UPDATE export_jobs SET status = 'expired'
                     WHERE status = 'done' AND expires_at <= ?1
                     RETURNING {COLUMNS}"
                ))?;
                collect(&mut stmt, [to_ms(Utc::now())])
            })
            .await
    }

    async fn count_export_jobs_by_status(&self) -> StoreResult<Vec<(String, i64)>> {
        self.pool()
            .run(move |conn| {
                let mut stmt =
                    conn.prepare("SELECT status, COUNT(*) FROM export_jobs GROUP BY status")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn export_job_files(&self) -> StoreResult<Vec<JobFiles>> {
        self.pool()
            .run(move |conn| {
                let mut stmt = conn.prepare(
                    "SELECT id, status, attempts, file_key FROM export_jobs
                     WHERE status IN ('running', 'done')",
                )?;
                let rows = stmt.query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i32>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })?;
                let mut out = Vec::new();
                for row in rows {
                    let (id, status, attempts, file_key) = row?;
                    if let (Ok(id), Some(status)) = (id.parse(), JobStatus::parse(&status)) {
                        out.push(JobFiles {
                            id,
                            status,
                            attempts,
                            file_key,
                        });
                    }
                }
                Ok(out)
            })
            .await
    }
}
