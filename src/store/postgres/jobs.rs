//! The export-job queue on PostgreSQL. Workers of any number of processes
//! claim with `FOR UPDATE SKIP LOCKED`: each skips rows another is
//! claiming instead of waiting for them, so no two take the same job and
//! none blocks. Admission takes a transaction-scoped advisory lock so the
//! counts and the insert of concurrent creations are serialised.

use std::time::Duration;

use async_trait::async_trait;
use tokio_postgres::Row;
use uuid::Uuid;

use super::PgStore;
use crate::store::error::{StoreError, StoreResult};
use crate::store::jobs::{
    Admission, Completion, ExportJob, JobFiles, JobKind, JobStatus, JobStore, NewExportJob,
};

const COLUMNS: &str = "id, owner_id, owner_email, status, filters, columns, format, mask_pii, \
     rows_done, rows_total, bytes, sha256, file_key, error, attempts, max_attempts, worker, \
     created_at, started_at, finished_at, expires_at, request_id, kind, params, result";

/// Any fixed number: serialises admission checks across instances.
const ADMISSION_LOCK: i64 = 0x5075_6c73_654a;

fn job_from_row(r: &Row) -> StoreResult<ExportJob> {
    let status: String = r.get(3);
    let columns: serde_json::Value = r.get(5);
    let kind: String = r.get(22);
    Ok(ExportJob {
        id: r.get(0),
        kind: JobKind::parse(&kind)
            .ok_or_else(|| StoreError::Backend(format!("export_jobs: invalid kind {kind}")))?,
        params: r.get(23),
        owner_id: r.get(1),
        owner_email: r.get(2),
        status: JobStatus::parse(&status)
            .ok_or_else(|| StoreError::Backend(format!("export_jobs: invalid status {status}")))?,
        filters: r.get(4),
        columns: serde_json::from_value(columns)
            .map_err(|e| StoreError::Backend(format!("export_jobs: invalid columns: {e}")))?,
        format: r.get(6),
        mask_pii: r.get(7),
        rows_done: r.get(8),
        rows_total: r.get(9),
        bytes: r.get(10),
        sha256: r.get(11),
        file_key: r.get(12),
        error: r.get(13),
        attempts: r.get(14),
        max_attempts: r.get(15),
        worker: r.get(16),
        created_at: r.get(17),
        started_at: r.get(18),
        finished_at: r.get(19),
        expires_at: r.get(20),
        request_id: r.get(21),
        result: r.get(24),
    })
}

fn jobs(rows: &[Row]) -> StoreResult<Vec<ExportJob>> {
    rows.iter().map(job_from_row).collect()
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[async_trait]
impl JobStore for PgStore {
    async fn create_export_job(
        &self,
        job: &NewExportJob,
        per_user: u32,
        queue_max: u32,
    ) -> StoreResult<Admission> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ADMISSION_LOCK])
            .await?;
        let counts = tx
            .query_one(
                &format!(
                    "SELECT count(*) FILTER (WHERE owner_id = $1), count(*) FROM export_jobs
                     WHERE {} AND status IN ('queued', 'running')",
                    job.kind.admission_sql()
                ),
                &[&job.owner_id],
            )
            .await?;
        let (mine, all): (i64, i64) = (counts.get(0), counts.get(1));
        if mine >= i64::from(per_user) {
            return Ok(Admission::UserLimit(mine));
        }
        if all >= i64::from(queue_max) {
            return Ok(Admission::QueueFull(all));
        }
        let columns =
            serde_json::to_value(&job.columns).map_err(|e| StoreError::Backend(e.to_string()))?;
        let row = tx
            .query_one(
                &format!(
                    "INSERT INTO export_jobs (id, owner_id, owner_email, status, filters, columns,
                        format, mask_pii, max_attempts, run_after, created_at, request_id,
                        kind, params)
                     VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, now(), now(), $9,
                        $10, $11)
                     RETURNING {COLUMNS}"
                ),
                &[
                    &job.id,
                    &job.owner_id,
                    &job.owner_email,
                    &job.filters,
                    &columns,
                    &job.format,
                    &job.mask_pii,
                    &job.max_attempts,
                    &job.request_id,
                    &job.kind.as_str(),
                    &job.params,
                ],
            )
            .await?;
        let created = job_from_row(&row)?;
        tx.commit().await?;
        Ok(Admission::Queued(Box::new(created)))
    }

    async fn get_export_job(&self, id: Uuid) -> StoreResult<Option<ExportJob>> {
        let row = self
            .client()
            .await?
            .query_opt(
                &format!("SELECT {COLUMNS} FROM export_jobs WHERE id = $1"),
                &[&id],
            )
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_export_jobs(
        &self,
        kind: JobKind,
        owner: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<ExportJob>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM export_jobs
                     WHERE kind = $3 AND ($1::uuid IS NULL OR owner_id = $1)
                     ORDER BY created_at DESC, id DESC LIMIT $2"
                ),
                &[&owner, &limit, &kind.as_str()],
            )
            .await?;
        jobs(&rows)
    }

    async fn cancel_export_job(&self, id: Uuid) -> StoreResult<Option<ExportJob>> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE export_jobs SET status = 'cancelled', finished_at = now(),
                    lease_token = NULL, lease_until = NULL
                 WHERE id = $1 AND status IN ('queued', 'running')",
                &[&id],
            )
            .await?;
        let row = client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM export_jobs WHERE id = $1"),
                &[&id],
            )
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn claim_export_job(
        &self,
        token: &str,
        worker: &str,
        lease: Duration,
        kinds: &[JobKind],
    ) -> StoreResult<Option<ExportJob>> {
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let row = self
            .client()
            .await?
            .query_opt(
                &format!(
                    "UPDATE export_jobs SET status = 'running', lease_token = $1,
                        lease_until = now() + $2::float8 * interval '1 second', worker = $3,
                        attempts = attempts + 1, started_at = now(), rows_done = 0
                     WHERE id = (SELECT id FROM export_jobs
                                 WHERE status = 'queued' AND run_after <= now()
                                   AND kind = ANY($4)
                                 ORDER BY created_at LIMIT 1
                                 FOR UPDATE SKIP LOCKED)
                       AND status = 'queued'
                     RETURNING {COLUMNS}"
                ),
                &[&token, &secs(lease), &worker, &kinds],
            )
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn heartbeat_export_job(
        &self,
        id: Uuid,
        token: &str,
        lease: Duration,
        rows_done: i64,
        rows_total: Option<i64>,
    ) -> StoreResult<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE export_jobs SET lease_until = now() + $3::float8 * interval '1 second',
                    rows_done = $4, rows_total = coalesce($5, rows_total)
                 WHERE id = $1 AND lease_token = $2 AND status = 'running'",
                &[&id, &token, &secs(lease), &rows_done, &rows_total],
            )
            .await?;
        Ok(n == 1)
    }

    async fn complete_export_job(
        &self,
        id: Uuid,
        token: &str,
        done: &Completion,
    ) -> StoreResult<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE export_jobs SET status = 'done', rows_done = $3, rows_total = $3,
                    bytes = $4, sha256 = $5, file_key = $6, error = NULL, finished_at = now(),
                    expires_at = now() + $7::float8 * interval '1 second', result = $8,
                    lease_token = NULL, lease_until = NULL
                 WHERE id = $1 AND lease_token = $2 AND status = 'running'",
                &[
                    &id,
                    &token,
                    &done.rows,
                    &done.bytes,
                    &done.sha256,
                    &done.file_key,
                    &done.retention.map(secs),
                    &done.result,
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn fail_export_job(
        &self,
        id: Uuid,
        token: &str,
        error: &str,
        retry_in: Option<Duration>,
    ) -> StoreResult<Option<JobStatus>> {
        let retry = retry_in.map(secs);
        let row = self
            .client()
            .await?
            .query_opt(
                "UPDATE export_jobs SET
                    status = CASE WHEN $3::float8 IS NOT NULL AND attempts < max_attempts
                                  THEN 'queued' ELSE 'failed' END,
                    run_after = now() + coalesce($3::float8, 0) * interval '1 second',
                    finished_at = CASE WHEN $3::float8 IS NOT NULL AND attempts < max_attempts
                                       THEN NULL ELSE now() END,
                    error = $4, lease_token = NULL, lease_until = NULL
                 WHERE id = $1 AND lease_token = $2 AND status = 'running'
                 RETURNING status",
                &[&id, &token, &retry, &error],
            )
            .await?;
        Ok(row.and_then(|r| JobStatus::parse(r.get::<_, &str>(0))))
    }

    async fn release_export_job(&self, id: Uuid, token: &str) -> StoreResult<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE export_jobs SET status = 'queued', attempts = greatest(attempts - 1, 0),
                    run_after = now(), rows_done = 0, lease_token = NULL, lease_until = NULL
                 WHERE id = $1 AND lease_token = $2 AND status = 'running'",
                &[&id, &token],
            )
            .await?;
        Ok(n == 1)
    }

    async fn rescue_export_jobs(&self) -> StoreResult<Vec<ExportJob>> {
        // SKIP LOCKED: a job another instance is rescuing (or completing)
        // right now is left to it.
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "UPDATE export_jobs SET
                        status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                        error = CASE WHEN attempts >= max_attempts
                            THEN 'its worker stopped (lease expired) during attempt '
                                 || attempts || ' of ' || max_attempts
                            ELSE 'its worker stopped (lease expired) during attempt '
                                 || attempts || '; queued again' END,
                        finished_at = CASE WHEN attempts >= max_attempts THEN now() ELSE NULL END,
                        run_after = now(), rows_done = 0, lease_token = NULL, lease_until = NULL
                     WHERE id IN (SELECT id FROM export_jobs
                                  WHERE status = 'running' AND lease_until < now()
                                  FOR UPDATE SKIP LOCKED)
                       AND status = 'running' AND lease_until < now()
                     RETURNING {COLUMNS}"
                ),
                &[],
            )
            .await?;
        jobs(&rows)
    }

    async fn expire_export_jobs(&self) -> StoreResult<Vec<ExportJob>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "UPDATE export_jobs SET status = 'expired'
                     WHERE status = 'done' AND expires_at <= now()
                     RETURNING {COLUMNS}"
                ),
                &[],
            )
            .await?;
        jobs(&rows)
    }

    async fn count_export_jobs_by_status(&self) -> StoreResult<Vec<(String, i64)>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT status, COUNT(*) FROM export_jobs GROUP BY status",
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn export_job_files(&self) -> StoreResult<Vec<JobFiles>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, status, attempts, file_key FROM export_jobs
                 WHERE status IN ('running', 'done')",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(JobFiles {
                    id: r.get(0),
                    status: JobStatus::parse(r.get::<_, &str>(1))?,
                    attempts: r.get(2),
                    file_key: r.get(3),
                })
            })
            .collect())
    }
}
