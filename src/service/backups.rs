//! Backups (master_admin only, DESIGN §2 and §6): create (a background job
//! of kind `backup`), list, read, delete, restore (a job of kind `restore`
//! for the pages, one backup or restore at a time across instances; the
//! API's original synchronous restore stays: one transaction, after the
//! automatic backup). The work is in
//! [`crate::backup`] and `jobs/backup_job.rs`; each change is audited.

use serde_json::json;
use uuid::Uuid;

use super::jobs::{self, JobSpec};
use super::{ServiceError, ServiceResult, Services, audit, require};
use crate::backup::{self, BackupInfo, RestoreError, Restored};
use crate::domain::{Actor, Capability};
use crate::storage::files::ByteStream;
use crate::store::{ExportJob, JobKind};

/// Where the API serves backups (named in the answer to a second backup).
pub const BASE: &str = "/api/driver-onboarding/backups";

/// Queues a backup job: at most one is queued or running in the whole
/// queue, a second is a conflict naming the one there is.
pub async fn create(svc: &Services, actor: &Actor) -> ServiceResult<ExportJob> {
    require(actor, Capability::Backups)?;
    let job = jobs::enqueue(svc, actor, JobSpec::new(JobKind::Backup, "jsonl.gz")).await?;
    audit::record(
        svc,
        actor,
        "backup.create",
        json!({ "job_id": job.id, "backup_id": job.id }),
    )
    .await;
    Ok(job)
}

/// The latest backup jobs.
pub async fn jobs(
    svc: &Services,
    actor: &Actor,
    limit: Option<i64>,
) -> ServiceResult<Vec<ExportJob>> {
    jobs::list(svc, actor, JobKind::Backup, limit).await
}

/// One backup or restore job.
pub async fn job(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<ExportJob> {
    match jobs::visible(svc, actor, JobKind::Backup, id).await {
        Err(ServiceError::NotFound(_)) => jobs::visible(svc, actor, JobKind::Restore, id).await,
        other => other,
    }
}

/// The backup a restore job puts back.
pub fn restore_of(job: &ExportJob) -> Option<Uuid> {
    crate::jobs::restore_job::backup_id(&job.params)
}

/// The latest restore jobs.
pub async fn restore_jobs(
    svc: &Services,
    actor: &Actor,
    limit: Option<i64>,
) -> ServiceResult<Vec<ExportJob>> {
    jobs::list(svc, actor, JobKind::Restore, limit).await
}

/// Queues the restore of backup `id` as a job (audited
/// `backup.restore_start`; the worker audits `backup.restore` when done).
/// A backup or restore already queued or running anywhere is a conflict.
pub async fn start_restore(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<ExportJob> {
    require(actor, Capability::Backups)?;
    let b = found(svc, id).await?;
    let spec = JobSpec {
        params: json!({ "backup_id": b.id }),
        ..JobSpec::new(JobKind::Restore, "none")
    };
    let job = jobs::enqueue(svc, actor, spec).await?;
    audit::record(
        svc,
        actor,
        "backup.restore_start",
        json!({ "job_id": job.id, "backup_id": b.id, "leads": b.leads }),
    )
    .await;
    Ok(job)
}

/// The original's automatic backup before an import (COMPAT §2.14, issue
/// 19): every lead, as a backup of kind `pre_import`, taken for whoever may
/// import (no backup capability needed — it only adds a backup) and
/// audited `backup.pre_import`. Not beside a restore of this process.
pub async fn before_import(svc: &Services, actor: &Actor) -> ServiceResult<BackupInfo> {
    require(actor, Capability::Import)?;
    let _guard = svc.backup_lock.clone().lock_owned().await;
    let made = backup::create(svc.store.as_ref(), &svc.backups, backup::Kind::PreImport).await?;
    audit::record(
        svc,
        actor,
        "backup.pre_import",
        json!({ "backup_id": made.id, "leads": made.leads }),
    )
    .await;
    Ok(made)
}

/// Every backup kept, newest first.
pub async fn list(svc: &Services, actor: &Actor) -> ServiceResult<Vec<BackupInfo>> {
    require(actor, Capability::Backups)?;
    Ok(backup::list(&svc.backups)
        .await
        .map_err(anyhow::Error::from)?)
}

async fn found(svc: &Services, id: Uuid) -> ServiceResult<BackupInfo> {
    backup::find(&svc.backups, id)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or_else(|| ServiceError::NotFound("no such backup".into()))
}

/// The backup a backup-library name (COMPAT §2.16) names, for the
/// original's routes by file name: master_admin only (checked first), a
/// name that is not a library name is malformed, one naming no stored
/// backup (or another name of it) is not found. The routes then call the
/// use-cases by id.
pub async fn by_library_name(
    svc: &Services,
    actor: &Actor,
    name: &str,
) -> ServiceResult<BackupInfo> {
    require(actor, Capability::Backups)?;
    let id = backup::id_of_library_name(name).ok_or_else(|| {
        ServiceError::Malformed(format!(
            "{name:?} is not a backup-library file name \
             (backup-DD-MM-YYYY-HH-MM-SS-<id>.jsonl.gz)"
        ))
    })?;
    let b = found(svc, id).await?;
    if b.library_name() != name {
        return Err(ServiceError::NotFound("no such backup".into()));
    }
    Ok(b)
}

/// A backup's file, whole (audited).
pub async fn download(
    svc: &Services,
    actor: &Actor,
    id: Uuid,
) -> ServiceResult<(BackupInfo, ByteStream)> {
    require(actor, Capability::Backups)?;
    let b = found(svc, id).await?;
    let stream = svc
        .backups
        .read(&b.key, 0, b.bytes)
        .await
        .map_err(anyhow::Error::from)?;
    audit::record(svc, actor, "backup.download", json!({ "backup_id": b.id })).await;
    Ok((b, stream))
}

/// Deletes a backup (audited).
pub async fn delete(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<BackupInfo> {
    require(actor, Capability::Backups)?;
    let b = found(svc, id).await?;
    svc.backups
        .delete(&b.key)
        .await
        .map_err(anyhow::Error::from)?;
    audit::record(
        svc,
        actor,
        "backup.delete",
        json!({ "backup_id": b.id, "leads": b.leads }),
    )
    .await;
    Ok(b)
}

/// Replaces every lead with the backup's, after an automatic backup; one
/// restore at a time per process (two must not interleave, nor a restore
/// with the automatic backup it takes first).
pub async fn restore(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<Restored> {
    require(actor, Capability::Backups)?;
    let b = found(svc, id).await?;
    let _guard = svc.backup_lock.clone().try_lock_owned().map_err(|_| {
        ServiceError::Conflict("a restore is already running; try again when it ends".into())
    })?;
    // Not through the queue (the original's answer is the restore's), but
    // not beside a backup or restore job of any instance either.
    for kind in JobKind::Restore.admitted_with() {
        let busy = svc.store.list_export_jobs(*kind, None, 10).await?;
        if let Some(j) = busy.iter().find(|j| !j.status.is_final()) {
            return Err(ServiceError::Conflict(format!(
                "a {} job is {} (job {}); try again when it ends",
                kind.as_str(),
                j.status.as_str(),
                j.id
            )));
        }
    }
    let open = backup::stored(&svc.backups, &b);
    let (store, files) = (svc.store.clone(), svc.backups.clone());
    // On a task of its own: a client that hangs up does not cut it short.
    let done = tokio::spawn(async move { backup::restore(store.as_ref(), &files, id, open).await })
        .await
        .map_err(anyhow::Error::from)?;
    let done = match done {
        Ok(d) => d,
        Err(RestoreError::Invalid(e)) => {
            return Err(ServiceError::Invalid(format!(
                "backup {id} cannot be restored: {e}"
            )));
        }
        Err(RestoreError::Failed(e)) => return Err(ServiceError::Internal(e)),
    };
    audit::record(
        svc,
        actor,
        "backup.restore",
        json!({ "backup_id": id, "restored": done.restored, "replaced": done.replaced,
                "pre_restore_backup": done.pre_restore_backup.id }),
    )
    .await;
    Ok(done)
}
