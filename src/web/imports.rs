//! The import history (`/imports`), one import with its undo
//! (`/imports/{id}`, `POST /imports/{id}/undo`) and what the wizard's
//! pages share (steps, counts, a job's progress). The wizard itself:
//! `import_upload.rs` (step 1, the template sheet) and `import_wizard.rs`
//! (steps 2–4). Roles: master_admin, admin, ops_team.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::admin::{grouped, require};
use super::lead_detail::ist_text;
use super::page::{Layout, PageError, PageResult, PageUser, capitalise, render, see_other};
use crate::domain::Capability;
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::import_wizard::{self as wizard, Outcome};
use crate::service::imports;
use crate::service::jobs::shown_status;
use crate::store::{ExportJob, JobStatus};

pub(super) const WHAT: &str = "import leads";

/// The wizard's steps, for the step list at the top of each.
pub(super) struct Step {
    pub(super) n: u8,
    pub(super) label: &'static str,
    pub(super) current: bool,
}

pub(super) fn steps(at: u8) -> Vec<Step> {
    ["Upload", "Mapping", "Preview", "Import"]
        .into_iter()
        .zip(1u8..)
        .map(|(label, n)| Step {
            n,
            label,
            current: n == at,
        })
        .collect()
}

/// An import's counts as the pages show them.
pub(super) struct Counts {
    pub(super) rows: String,
    pub(super) inserted: String,
    pub(super) replaced: String,
    pub(super) unchanged: String,
    pub(super) skipped: String,
    pub(super) rejected: String,
    pub(super) conflicts: String,
    pub(super) warned: String,
}

pub(super) fn counts(result: &Value) -> Counts {
    let n = |k: &str| grouped(result[k].as_i64().unwrap_or(0));
    Counts {
        rows: n("rows_read"),
        inserted: n("inserted"),
        replaced: n("updated"),
        unchanged: n("unchanged"),
        skipped: n("skipped_duplicates"),
        rejected: n("rejected"),
        conflicts: n("conflicts"),
        warned: n("mapped_with_warning"),
    }
}

/// A count or an import as far as it has got.
pub(super) struct Progress {
    /// Still running: the card refreshes itself.
    pub(super) running: bool,
    /// Waiting, Running, Done, Failed …
    pub(super) status: &'static str,
    /// rows done / rows total for the bar (total 0: indeterminate).
    pub(super) done: i64,
    pub(super) total: i64,
    pub(super) text: String,
    /// The counts, once done.
    pub(super) counts: Option<Counts>,
    /// What went wrong.
    pub(super) error: Option<String>,
    /// The report's download (once done).
    pub(super) report: Option<String>,
    /// The job's server-sent progress (while it runs; app.js follows it).
    pub(super) events: String,
}

pub(super) fn status_text(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Queued => "Waiting",
        JobStatus::Running => "Running",
        JobStatus::Done => "Done",
        JobStatus::Failed => "Failed",
        JobStatus::Cancelled => "Cancelled",
        JobStatus::Expired => "Expired",
    }
}

pub(super) fn report_url(id: Uuid) -> String {
    format!("/api/driver-onboarding/import-leads/{id}/report.csv")
}

pub(super) async fn progress(
    state: &AppState,
    user: &PageUser,
    o: &Outcome,
) -> Result<Progress, PageError> {
    Ok(match o {
        Outcome::Now { id, result } => Progress {
            running: false,
            status: "Done",
            done: 0,
            total: 0,
            text: String::new(),
            counts: Some(counts(result)),
            error: None,
            report: Some(report_url(*id)),
            events: String::new(),
        },
        Outcome::Job { id } => {
            let job: ExportJob = imports::job(state, &user.actor(), *id).await?;
            let status = shown_status(&job);
            let done = job.rows_done;
            Progress {
                running: !status.is_final(),
                status: status_text(status),
                done,
                total: job.rows_total.unwrap_or(0),
                text: match status {
                    JobStatus::Queued => "waiting for a worker".into(),
                    JobStatus::Running => format!("{} rows read", grouped(done)),
                    _ => String::new(),
                },
                counts: (status == JobStatus::Done)
                    .then(|| job.result.as_ref().map(counts))
                    .flatten(),
                error: match status {
                    JobStatus::Failed => Some(format!(
                        "It failed and wrote nothing: {}",
                        job.error.clone().unwrap_or_default()
                    )),
                    JobStatus::Cancelled => Some("It was cancelled and wrote nothing.".into()),
                    _ => None,
                },
                report: (status == JobStatus::Done).then(|| report_url(*id)),
                events: format!("/api/driver-onboarding/import-leads/jobs/{id}/events"),
            }
        }
    })
}

// ---- history, one import, undo

struct HistoryRow {
    id: Uuid,
    when: String,
    who: String,
    file_name: String,
    inserted: String,
    replaced: String,
    undone: String,
}

#[derive(askama::Template)]
#[template(path = "imports.html")]
struct HistoryPage {
    l: Layout,
    rows: Vec<HistoryRow>,
    everyone: bool,
}

/// `GET /imports`: the history.
pub(super) async fn history(State(state): State<AppState>, user: PageUser) -> PageResult {
    require(&user, Capability::Import, WHAT)?;
    let list = wizard::history(&state, &user.actor(), 100).await?;
    let rows = list
        .into_iter()
        .map(|r| HistoryRow {
            id: r.id,
            when: ist_text(r.created_at),
            who: r.actor,
            file_name: r.file_name,
            inserted: grouped(r.inserted as i64),
            replaced: grouped(r.replaced as i64),
            undone: r
                .undone
                .map(|(at, by, _)| format!("Undone {} by {by}", ist_text(at)))
                .unwrap_or_default(),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &HistoryPage {
            l: Layout::new("Imports", Some(&user)),
            rows,
            everyone: user.can(Capability::SeeOthersImports),
        },
    ))
}

#[derive(askama::Template)]
#[template(path = "import_one.html")]
struct OnePage {
    l: Layout,
    id: Uuid,
    file_name: String,
    who: String,
    when: String,
    inserted: String,
    replaced: String,
    undone: Option<String>,
    undo: Option<UndoView>,
    report: String,
    notice: Option<super::page::Notice>,
}

struct UndoView {
    job: Uuid,
    running: bool,
    status: &'static str,
    answer: String,
    error: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct OneQuery {
    undo: Option<String>,
}

/// `GET /imports/{id}`: one import, its undo and how that went.
pub(super) async fn one(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Query(q): Query<OneQuery>,
    headers: HeaderMap,
) -> PageResult {
    require(&user, Capability::Import, WHAT)?;
    let id: Uuid = id.parse().map_err(|_| PageError::NotFound)?;
    let actor = user.actor();
    let r = imports::record(&state, &actor, id).await?;
    let undo = match q.undo.as_deref().map(str::parse::<Uuid>) {
        Some(Ok(job)) => {
            let j = imports::undo_job(&state, &actor, job).await?;
            let status = shown_status(&j);
            let res = j.result.clone().unwrap_or_default();
            Some(UndoView {
                job,
                running: !status.is_final(),
                status: status_text(status),
                answer: if status == JobStatus::Done {
                    format!(
                        "Undone: {} inserted leads removed, {} replaced leads restored.",
                        grouped(res["removed"].as_i64().unwrap_or(0)),
                        grouped(res["restored"].as_i64().unwrap_or(0))
                    )
                } else {
                    String::new()
                },
                error: match status {
                    JobStatus::Failed => format!(
                        "Nothing was undone: {}",
                        j.error.clone().unwrap_or_default()
                    ),
                    _ => String::new(),
                },
            })
        }
        _ => None,
    };
    Ok(render(
        StatusCode::OK,
        &OnePage {
            l: Layout::new("Import", Some(&user)),
            id,
            file_name: r.file_name,
            who: r.actor,
            when: ist_text(r.created_at),
            inserted: grouped(r.inserted as i64),
            replaced: grouped(r.replaced as i64),
            undone: r
                .undone
                .map(|(at, by, _)| format!("Undone {} by {by}.", ist_text(at))),
            undo,
            report: report_url(id),
            notice: super::page::take_notice(&headers),
        },
    ))
}

/// `POST /imports/{id}/undo`: queues the undo job, then its page.
pub(super) async fn undo(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    require(&user, Capability::Import, WHAT)?;
    let id: Uuid = id.parse().map_err(|_| PageError::NotFound)?;
    match imports::undo(&state, &user.actor(), id).await {
        Ok(job) => Ok(see_other(&format!("/imports/{id}?undo={}", job.id))),
        Err(ServiceError::Conflict(m)) => Ok(super::page::see_other_with(
            &format!("/imports/{id}"),
            true,
            &capitalise(&m),
        )),
        Err(e) => Err(e.into()),
    }
}
