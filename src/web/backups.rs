//! `/backups` (master_admin): the backups kept, with date, kind, leads and
//! size; create one (a job, its progress shown); download (the API's
//! download, with the session cookie); delete; restore behind a
//! confirmation page that names what will be replaced, run as a `restore`
//! job whose progress the page shows. One backup or restore at a time in the
//! whole queue (`service::jobs`); a second is refused with the one there is.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::admin::{grouped, refusal, require, size_text};
use super::lead_detail::ist_text;
use super::page::{Layout, PageError, PageResult, PageUser, render, see_other};
use crate::backup::{BackupInfo, Kind};
use crate::domain::Capability;
use crate::http::AppState;
use crate::service::backups;
use crate::service::jobs::shown_status;
use crate::store::{ExportJob, JobKind, JobStatus};

struct BackupRow {
    id: Uuid,
    created: String,
    iso: String,
    kind: &'static str,
    leads: String,
    size: String,
}

struct JobRow {
    what: String,
    status: &'static str,
    active: bool,
    /// 0–100 for the progress bar.
    percent: u64,
    progress: String,
    when: String,
    outcome: String,
}

#[derive(askama::Template)]
#[template(path = "backups.html")]
struct BackupsPage {
    l: Layout,
    backups: Vec<BackupRow>,
    jobs: Vec<JobRow>,
    active: bool,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "backup_jobs.html")]
struct JobsPart {
    jobs: Vec<JobRow>,
    active: bool,
}

#[derive(askama::Template)]
#[template(path = "backup_restore.html")]
struct ConfirmPage {
    l: Layout,
    id: Uuid,
    created: String,
    kind: &'static str,
    backup_leads: String,
    current_leads: String,
}

fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::Manual => "Manual",
        Kind::Scheduled => "Scheduled",
        Kind::PreRestore => "Before a restore",
        Kind::PreImport => "Before an import",
    }
}

fn backup_row(b: &BackupInfo) -> BackupRow {
    BackupRow {
        id: b.id,
        created: ist_text(b.created_at),
        iso: b.created_at.to_rfc3339(),
        kind: kind_label(b.kind),
        leads: grouped(b.leads as i64),
        size: size_text(b.bytes),
    }
}

fn status_text(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Queued => "Waiting",
        JobStatus::Running => "Running",
        JobStatus::Done => "Done",
        JobStatus::Failed => "Failed",
        JobStatus::Cancelled => "Cancelled",
        JobStatus::Expired => "Expired",
    }
}

fn job_row(j: &ExportJob) -> JobRow {
    let status = shown_status(j);
    let total = j.rows_total.unwrap_or(0).max(0) as u64;
    let done = j.rows_done.max(0) as u64;
    let percent = if status == JobStatus::Done {
        100
    } else {
        (done * 100).checked_div(total).unwrap_or(0).min(100)
    };
    let (what, progress) = match j.kind {
        JobKind::Restore => {
            let of = backups::restore_of(j)
                .map(|id| id.simple().to_string()[..8].to_string())
                .unwrap_or_default();
            // both passes count: the first half checks, the second writes
            let phase = if status != JobStatus::Running {
                String::new()
            } else if done < total / 2 || total == 0 {
                "checking the file".into()
            } else {
                "replacing the leads".into()
            };
            (format!("Restore of backup {of}…"), phase)
        }
        _ => (
            "Backup".to_string(),
            if total > 0 {
                format!(
                    "{} of {} leads",
                    grouped(done as i64),
                    grouped(total as i64)
                )
            } else {
                String::new()
            },
        ),
    };
    let outcome = match (status, &j.result, &j.error) {
        (JobStatus::Done, Some(r), _) if j.kind == JobKind::Restore => format!(
            "{} leads restored, {} replaced",
            grouped(r["restored"].as_i64().unwrap_or(0)),
            grouped(r["replaced"].as_i64().unwrap_or(0))
        ),
        (JobStatus::Done, _, _) => format!("{} leads", grouped(j.rows_done)),
        (_, _, Some(e)) => e.clone(),
        _ => String::new(),
    };
    JobRow {
        what,
        status: status_text(status),
        active: !status.is_final(),
        percent,
        progress,
        when: ist_text(j.started_at.unwrap_or(j.created_at)),
        outcome,
    }
}

async fn job_rows(state: &AppState, user: &PageUser) -> Result<Vec<JobRow>, PageError> {
    let actor = user.actor();
    let mut jobs = backups::jobs(state, &actor, Some(10)).await?;
    jobs.extend(backups::restore_jobs(state, &actor, Some(10)).await?);
    jobs.sort_by_key(|j| std::cmp::Reverse(j.created_at));
    jobs.truncate(8);
    Ok(jobs.iter().map(job_row).collect())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct BackupsQuery {
    done: Option<String>,
}

async fn view(
    state: &AppState,
    user: &PageUser,
    notice: Option<String>,
    error: Option<String>,
) -> Result<BackupsPage, PageError> {
    let list = backups::list(state, &user.actor()).await?;
    let jobs = job_rows(state, user).await?;
    Ok(BackupsPage {
        l: Layout::new("Backups", Some(user)),
        backups: list.iter().map(backup_row).collect(),
        active: jobs.iter().any(|j| j.active),
        jobs,
        notice,
        error,
    })
}

const WHAT: &str = "manage backups";

/// `GET /backups`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<BackupsQuery>,
) -> PageResult {
    require(&user, Capability::Backups, WHAT)?;
    let notice = match q.done.as_deref() {
        Some("queued") => Some("Backup started; its progress is below.".to_string()),
        Some("restore") => Some(
            "Restore started; its progress is below. Leads are replaced only when it is done."
                .to_string(),
        ),
        Some("deleted") => Some("Backup deleted.".to_string()),
        _ => None,
    };
    let v = view(&state, &user, notice, None).await?;
    Ok(render(StatusCode::OK, &v))
}

/// `GET /backups/jobs`: the jobs' part of the page, polled while one runs.
pub(super) async fn jobs_part(State(state): State<AppState>, user: PageUser) -> PageResult {
    require(&user, Capability::Backups, WHAT)?;
    let jobs = job_rows(&state, &user).await?;
    let active = jobs.iter().any(|j| j.active);
    Ok(render(StatusCode::OK, &JobsPart { jobs, active }))
}

async fn refused(state: &AppState, user: &PageUser, e: crate::service::ServiceError) -> PageResult {
    let (status, message) = refusal(e)?;
    let v = view(state, user, None, Some(message)).await?;
    Ok(render(status, &v))
}

/// `POST /backups`: queues a backup.
pub(super) async fn create(State(state): State<AppState>, user: PageUser) -> PageResult {
    require(&user, Capability::Backups, WHAT)?;
    match backups::create(&state, &user.actor()).await {
        Ok(_) => Ok(see_other("/backups?done=queued")),
        Err(e) => refused(&state, &user, e).await,
    }
}

fn backup_id(text: &str) -> Result<Uuid, PageError> {
    text.parse().map_err(|_| PageError::NotFound)
}

async fn one(state: &AppState, user: &PageUser, id: Uuid) -> Result<BackupInfo, PageError> {
    backups::list(state, &user.actor())
        .await?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or(PageError::NotFound)
}

/// `GET /backups/{id}/restore`: what a restore would replace, and the
/// confirmation.
pub(super) async fn confirm(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    require(&user, Capability::Backups, WHAT)?;
    let b = one(&state, &user, backup_id(&id)?).await?;
    let now = crate::service::desk::status_summary(&state, &user.actor(), Default::default())
        .await?
        .total_leads;
    Ok(render(
        StatusCode::OK,
        &ConfirmPage {
            l: Layout::new("Restore a backup", Some(&user)),
            id: b.id,
            created: ist_text(b.created_at),
            kind: kind_label(b.kind),
            backup_leads: grouped(b.leads as i64),
            current_leads: grouped(now),
        },
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ConfirmForm {
    confirm: String,
}

/// `POST /backups/{id}/restore`: queues the restore job (the confirmation
/// box must be ticked).
pub(super) async fn restore(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(f): Form<ConfirmForm>,
) -> PageResult {
    require(&user, Capability::Backups, WHAT)?;
    let id = backup_id(&id)?;
    if f.confirm != "yes" {
        let v = view(
            &state,
            &user,
            None,
            Some("Nothing was restored: tick the box that confirms the leads are replaced.".into()),
        )
        .await?;
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &v));
    }
    match backups::start_restore(&state, &user.actor(), id).await {
        Ok(_) => Ok(see_other("/backups?done=restore")),
        Err(e) => refused(&state, &user, e).await,
    }
}

/// `POST /backups/{id}/delete`.
pub(super) async fn delete(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    require(&user, Capability::Backups, WHAT)?;
    let id = backup_id(&id)?;
    match backups::delete(&state, &user.actor(), id).await {
        Ok(_) => Ok(see_other("/backups?done=deleted")),
        Err(e) => refused(&state, &user, e).await,
    }
}
