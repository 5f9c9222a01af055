//! The job queue as the use-cases see it: ONE way to create a job (with its
//! admission), ONE visibility rule per kind (through capabilities), and
//! the status a user is shown. The kinds' own use-cases (exports, imports,
//! backups) call these.

use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use super::{ServiceError, ServiceResult, Services, require};
use crate::domain::{Actor, Capability};
use crate::store::{Admission, ExportJob, JobKind, JobStatus, NewExportJob};
use crate::telemetry::request_id;

/// Who may see which jobs of a kind.
struct Rules {
    /// Needed to see any job of the kind at all.
    use_cap: Capability,
    /// Needed to see other users' jobs of the kind.
    see_others: Capability,
    /// The answer for a job out of reach (or of another kind).
    missing: &'static str,
}

fn rules(kind: JobKind) -> Rules {
    match kind {
        JobKind::Export => Rules {
            use_cap: Capability::Export,
            see_others: Capability::SeeOthersExports,
            missing: "no such export job",
        },
        JobKind::Import => Rules {
            use_cap: Capability::Import,
            see_others: Capability::SeeOthersImports,
            missing: "no such import job",
        },
        JobKind::ImportUndo => Rules {
            use_cap: Capability::Import,
            see_others: Capability::SeeOthersImports,
            missing: "no such undo job",
        },
        // A bulk job's owner had the action's capability when it was queued
        // (the job checks it again per batch); those who read the audit
        // log see everyone's.
        JobKind::BulkLeads => Rules {
            use_cap: Capability::ReadLeads,
            see_others: Capability::ReadAudit,
            missing: "no such bulk job",
        },
        // Backups are the whole database's: whoever may take them sees all.
        JobKind::Backup => Rules {
            use_cap: Capability::Backups,
            see_others: Capability::Backups,
            missing: "no such backup job",
        },
        JobKind::Restore => Rules {
            use_cap: Capability::Backups,
            see_others: Capability::Backups,
            missing: "no such restore job",
        },
    }
}

/// The status a user sees: a done job past its expiry is expired even
/// before the clean-up has run.
pub fn shown_status(job: &ExportJob) -> JobStatus {
    match (job.status, job.expires_at) {
        (JobStatus::Done, Some(t)) if t <= Utc::now() => JobStatus::Expired,
        (s, _) => s,
    }
}

/// Whether `actor` may see `job` of `kind` (its owner, or a role that sees
/// others' jobs of the kind). An unmasked export file is only for roles that
/// see PII unmasked now, so an owner demoted since loses it (review M2).
pub fn may_see(actor: &Actor, kind: JobKind, job: &ExportJob) -> bool {
    let r = rules(kind);
    job.kind == kind
        && actor.can(r.use_cap)
        && (job.owner_id == actor.id || actor.can(r.see_others))
        && (kind != JobKind::Export || actor.role.may_read_export(job.mask_pii))
}

/// The job `id` of `kind` if `actor` may see it; not found otherwise (ids
/// cannot be probed). Refused outright without the kind's capability.
pub async fn visible(
    svc: &Services,
    actor: &Actor,
    kind: JobKind,
    id: Uuid,
) -> ServiceResult<ExportJob> {
    let r = rules(kind);
    require(actor, r.use_cap)?;
    match svc.store.get_export_job(id).await? {
        Some(j) if may_see(actor, kind, &j) => Ok(j),
        _ => Err(ServiceError::NotFound(r.missing.into())),
    }
}

/// The latest jobs of `kind` that `actor` may see (at most 500; 50 unless
/// asked).
pub async fn list(
    svc: &Services,
    actor: &Actor,
    kind: JobKind,
    limit: Option<i64>,
) -> ServiceResult<Vec<ExportJob>> {
    let r = rules(kind);
    require(actor, r.use_cap)?;
    let owner = (!actor.can(r.see_others)).then_some(actor.id);
    let limit = limit.unwrap_or(50).clamp(1, 500);
    let jobs = svc.store.list_export_jobs(kind, owner, limit).await?;
    Ok(jobs
        .into_iter()
        .filter(|j| may_see(actor, kind, j))
        .collect())
}

/// What a new job is to do; who asks and the admission come from the
/// caller and the kind.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// Its id (an import's upload is already keyed by it).
    pub id: Uuid,
    /// The kind.
    pub kind: JobKind,
    /// Kind-specific parameters (JSON object).
    pub params: serde_json::Value,
    /// The `LeadFilter` as JSON (exports).
    pub filters: serde_json::Value,
    /// Column keys (exports).
    pub columns: Vec<String>,
    /// The output's format.
    pub format: String,
    /// Whether document numbers are masked (decided by the creator's role).
    pub mask_pii: bool,
}

impl JobSpec {
    /// A job of `kind` with no export fields.
    pub fn new(kind: JobKind, format: &str) -> Self {
        JobSpec {
            id: Uuid::new_v4(),
            kind,
            params: serde_json::json!({}),
            filters: serde_json::json!({}),
            columns: Vec::new(),
            format: format.to_string(),
            mask_pii: false,
        }
    }
}

/// Queues a job for `actor`, if admitted, and wakes this process's workers.
/// Exports and imports: at most `PULSE_EXPORT_JOBS_PER_USER` queued or
/// running per user and `PULSE_EXPORT_QUEUE_MAX` in the queue, per kind.
/// Backups and restores: one of either in the whole queue (every
/// instance) — a second is a conflict naming the one there is; they neither
/// take the exports' places nor wait behind them.
pub async fn enqueue(svc: &Services, actor: &Actor, spec: JobSpec) -> ServiceResult<ExportJob> {
    let new = NewExportJob {
        id: spec.id,
        kind: spec.kind,
        params: spec.params,
        owner_id: actor.id,
        owner_email: actor.login.clone(),
        filters: spec.filters,
        columns: spec.columns,
        format: spec.format,
        mask_pii: spec.mask_pii,
        max_attempts: i32::try_from(svc.config.job_max_attempts).unwrap_or(i32::MAX),
        request_id: Some(request_id::current()),
    };
    let (per_user, queue_max) = match spec.kind {
        JobKind::Backup | JobKind::Restore => (1, 1),
        _ => (svc.config.export_jobs_per_user, svc.config.export_queue_max),
    };
    let admission = svc
        .store
        .create_export_job(&new, per_user, queue_max)
        .await?;
    let job = match (spec.kind, admission) {
        (_, Admission::Queued(job)) => *job,
        (JobKind::Backup | JobKind::Restore, _) => return Err(backup_running(svc).await?),
        (kind, Admission::UserLimit(n)) => {
            if kind == JobKind::Export {
                crate::metrics::export_rejected("job", 429);
            }
            return Err(ServiceError::Throttled {
                message: format!(
                    "you have {n} {} jobs queued or running (the limit is {per_user}); \
                     try again when one has finished",
                    kind.as_str()
                ),
                retry_after: Duration::from_secs(10),
            });
        }
        (kind, Admission::QueueFull(_)) => {
            if kind == JobKind::Export {
                crate::metrics::export_rejected("job", 503);
            }
            return Err(ServiceError::Busy {
                message: format!(
                    "the {} queue is full ({queue_max} jobs); try again shortly",
                    kind.as_str()
                ),
                retry_after: Duration::from_secs(30),
            });
        }
    };
    svc.job_wake.notify_one();
    Ok(job)
}

/// The conflict for a second backup job, naming the one there is.
async fn backup_running(svc: &Services) -> ServiceResult<ServiceError> {
    let mut running = None;
    for kind in JobKind::Backup.admitted_with() {
        running = running.or(svc
            .store
            .list_export_jobs(*kind, None, 10)
            .await?
            .into_iter()
            .find(|j| !j.status.is_final()));
    }
    let base = super::backups::BASE;
    Ok(ServiceError::Conflict(match running {
        Some(j) => format!(
            "a {} is already {} (job {}); poll {base}/jobs/{} and try again when it ends",
            j.kind.as_str(),
            j.status.as_str(),
            j.id,
            j.id
        ),
        None => "a backup or restore is already queued or running; try again when it ends".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AccountType::{self, *};

    fn job(kind: JobKind, owner: Uuid) -> ExportJob {
        ExportJob {
            id: Uuid::new_v4(),
            kind,
            params: serde_json::json!({}),
            owner_id: owner,
            owner_email: "o@x".into(),
            status: JobStatus::Queued,
            filters: serde_json::json!({}),
            columns: Vec::new(),
            format: "csv".into(),
            mask_pii: true,
            rows_done: 0,
            rows_total: None,
            bytes: None,
            sha256: None,
            file_key: None,
            error: None,
            attempts: 0,
            max_attempts: 3,
            worker: None,
            created_at: Utc::now(),
            started_at: None,
            finished_at: None,
            expires_at: None,
            request_id: None,
            result: None,
        }
    }

    fn actor(role: AccountType) -> Actor {
        Actor {
            id: Uuid::from_u128(7),
            login: "me@x".into(),
            role,
        }
    }

    /// Whether each role sees its own and another user's job of each kind.
    #[test]
    fn visibility_per_kind_by_capability() {
        let other = Uuid::from_u128(8);
        let table: &[(JobKind, AccountType, bool, bool)] = &[
            (JobKind::Export, MasterAdmin, true, true),
            (JobKind::Export, Admin, true, false),
            (JobKind::Export, OpsTeam, true, false),
            (JobKind::Export, Telecaller, false, false),
            (JobKind::Import, MasterAdmin, true, true),
            (JobKind::Import, Admin, true, true),
            (JobKind::Import, OpsTeam, true, false),
            (JobKind::Import, Standard, false, false),
            (JobKind::BulkLeads, MasterAdmin, true, true),
            (JobKind::BulkLeads, Admin, true, false),
            (JobKind::BulkLeads, OpsTeam, true, false),
            (JobKind::Backup, MasterAdmin, true, true),
            (JobKind::Backup, Admin, false, false),
            (JobKind::Restore, MasterAdmin, true, true),
            (JobKind::Restore, Admin, false, false),
        ];
        for &(kind, role, own, others) in table {
            let a = actor(role);
            assert_eq!(
                may_see(&a, kind, &job(kind, a.id)),
                own,
                "{kind:?} {role} own"
            );
            assert_eq!(
                may_see(&a, kind, &job(kind, other)),
                others,
                "{kind:?} {role} other"
            );
        }
        let a = actor(MasterAdmin);
        assert!(
            !may_see(&a, JobKind::Export, &job(JobKind::Import, a.id)),
            "kinds do not mix"
        );
    }

    #[test]
    fn done_past_expiry_shows_expired() {
        let mut j = job(JobKind::Export, Uuid::nil());
        j.status = JobStatus::Done;
        j.expires_at = Some(Utc::now() - chrono::Duration::seconds(1));
        assert_eq!(shown_status(&j), JobStatus::Expired);
        j.expires_at = Some(Utc::now() + chrono::Duration::hours(1));
        assert_eq!(shown_status(&j), JobStatus::Done);
    }
}
