//! The leads workspace's actions on many leads (`POST /leads/bulk`: the
//! ticked rows, or every lead the filter matches when the form arrives) and
//! the inline status change of one row (`POST /leads/{id}/status`). Both
//! are plain form posts answered with 303 back to the same view and a
//! notice saying what happened ("412 assigned, 3 not allowed").

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use uuid::Uuid;

use super::leads_list::{LeadsQuery, thousands};
use super::page::{
    Layout, PageError, PageResult, PageUser, render, safe_next, see_other, see_other_with,
};
use crate::domain::LeadPatch;
use crate::domain::to_ist;
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::jobs::shown_status;
use crate::service::leads_selection::{self, Applied, BulkAction, BulkAnswer, Selection};
use crate::store::JobStatus;

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// "412 assigned, 3 not allowed".
pub(super) fn describe(action: &BulkAction, a: &BulkAnswer) -> String {
    let done = match action {
        BulkAction::Assign { .. } => "assigned".to_string(),
        BulkAction::Unassign => "unassigned".to_string(),
        BulkAction::Status(s) => format!("set to {s}"),
        BulkAction::Delete => "deleted".to_string(),
    };
    let n = |v: usize| thousands(v as i64);
    let mut parts = vec![format!("{} {done}", n(a.changed))];
    if a.unchanged > 0 {
        parts.push(format!("{} already so", n(a.unchanged)));
    }
    if a.not_allowed > 0 {
        parts.push(format!("{} not allowed", n(a.not_allowed)));
    }
    if a.not_found > 0 {
        parts.push(format!(
            "{} not found (deleted meanwhile or not yours)",
            n(a.not_found)
        ));
    }
    if a.selected == 0 {
        return "No leads match this filter any more; nothing was changed.".into();
    }
    parts.join(", ")
}

/// A refusal a person can act on, as the sentence shown; anything else is
/// the page's error.
fn refusal(e: ServiceError) -> Result<String, PageError> {
    match e {
        ServiceError::Invalid(m)
        | ServiceError::TooLarge(m)
        | ServiceError::NotFound(m)
        | ServiceError::Conflict(m)
        | ServiceError::Malformed(m) => Ok(super::page::capitalise(&m)),
        ServiceError::Domain(d) => Ok(super::page::capitalise(&d.to_string())),
        ServiceError::Store(crate::store::StoreError::Conflict(m)) => {
            Ok(super::page::capitalise(&m))
        }
        other => Err(other.into()),
    }
}

#[derive(askama::Template)]
#[template(path = "confirm_delete.html")]
struct ConfirmPage {
    l: Layout,
    count: String,
    fields: Vec<(String, String)>,
    back: String,
}

/// `POST /leads/bulk`.
pub(super) async fn bulk(
    State(state): State<AppState>,
    user: PageUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let actor = user.actor();
    let q = LeadsQuery::from_pairs(&fields);
    let back = q.url(&[]);
    let back = safe_next(&back).to_string();
    let scoped = actor.lead_scope().is_some();
    let selection = if field(&fields, "scope") == Some("matching") {
        Selection::Matching(q.filters(scoped))
    } else {
        Selection::Ids(
            fields
                .iter()
                .filter(|(k, _)| k == "lead_id")
                .map(|(_, v)| v.clone())
                .collect(),
        )
    };
    let action = match field(&fields, "action") {
        Some("assign") => match field(&fields, "telecaller") {
            Some(t) => BulkAction::Assign {
                telecaller: t.to_string(),
                date: field(&fields, "assigned_date").map(str::to_string),
            },
            None => {
                return Ok(see_other_with(
                    &back,
                    true,
                    "Choose a telecaller to assign the leads to.",
                ));
            }
        },
        Some("unassign") => BulkAction::Unassign,
        Some("status") => match field(&fields, "status") {
            Some(s) => BulkAction::Status(s.to_string()),
            None => return Ok(see_other_with(&back, true, "Choose the new status.")),
        },
        Some("delete") => BulkAction::Delete,
        _ => return Ok(see_other_with(&back, true, "Choose an action.")),
    };
    if action == BulkAction::Delete && field(&fields, "confirm") != Some("yes") {
        // without the page's script (or its dialog) the confirmation is a page
        let count = match &selection {
            Selection::Ids(ids) => ids.len() as i64,
            Selection::Matching(f) => {
                leads_selection::count_matching(&state, &actor, f.clone()).await?
            }
        };
        let view = ConfirmPage {
            l: Layout::new("Delete leads?", Some(&user)),
            count: thousands(count),
            fields: fields
                .iter()
                .filter(|(k, _)| k != "confirm" && k != "action")
                .cloned()
                .collect(),
            back,
        };
        return Ok(render(StatusCode::OK, &view));
    }
    match leads_selection::apply(&state, &actor, selection, action.clone()).await {
        Ok(Applied::Done(answer)) => Ok(see_other_with(&back, false, &describe(&action, &answer))),
        Ok(Applied::Queued { job, .. }) => Ok(see_other(&format!("/leads/bulk/jobs/{}", job.id))),
        Err(e) => Ok(see_other_with(&back, true, &refusal(e)?)),
    }
}

#[derive(askama::Template)]
#[template(path = "bulk_job.html")]
struct BulkJobPage {
    l: Layout,
    id: String,
    title: String,
    created: String,
    matched: String,
    status: &'static str,
    running: bool,
    rows: String,
    rows_done: i64,
    rows_total: i64,
    answer: String,
    error: String,
}

/// `GET /leads/bulk/jobs/{id}`: a filter-wide action running as a job —
/// its progress (the page polls itself while it runs; without the script,
/// Refresh) and, when done, what it did.
pub(super) async fn job_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
) -> PageResult {
    let job = leads_selection::job(&state, &user.actor(), id).await?;
    let action = leads_selection::job_action(&job);
    let title = match &action {
        Some(BulkAction::Assign { telecaller, .. }) => format!("Assign to {telecaller}"),
        Some(BulkAction::Unassign) => "Unassign".to_string(),
        Some(BulkAction::Status(s)) => format!("Status change to {s}"),
        Some(BulkAction::Delete) => "Delete".to_string(),
        None => "Bulk action".to_string(),
    };
    let status = shown_status(&job);
    let done = job.rows_done;
    let total = job.rows_total.unwrap_or(0);
    let answer = match (&action, status) {
        (Some(a), JobStatus::Done) => leads_selection::job_answer(&job)
            .map(|n| describe(a, &n))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let error = match status {
        JobStatus::Failed => format!(
            "The action failed: {}. What was done before stays done; run it again to finish it.",
            job.error.clone().unwrap_or_default()
        ),
        JobStatus::Cancelled => {
            "The action was cancelled; what was done before stays done.".to_string()
        }
        _ => String::new(),
    };
    let view = BulkJobPage {
        l: Layout::new("Bulk action", Some(&user)),
        id: job.id.to_string(),
        title,
        created: to_ist(job.created_at).format("%d %b %Y, %H:%M").to_string(),
        matched: thousands(
            job.params
                .get("matched")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or(0),
        ),
        status: status.as_str(),
        running: !status.is_final(),
        rows: match (status, job.rows_total) {
            (JobStatus::Queued, _) => "waiting to start".to_string(),
            (JobStatus::Running, Some(t)) => {
                format!("{} / {} leads", thousands(done), thousands(t))
            }
            (JobStatus::Running, None) => "counting…".to_string(),
            _ => format!("{} leads", thousands(done)),
        },
        rows_done: done,
        rows_total: total,
        answer,
        error,
    };
    Ok(render(StatusCode::OK, &view))
}

/// `POST /leads/{id}/status`: the status select of one row.
pub(super) async fn inline_status(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<Uuid>,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let actor = user.actor();
    let back = field(&fields, "back")
        .filter(|b| b.starts_with("/leads"))
        .map_or("/leads", safe_next)
        .to_string();
    let Some(status) = field(&fields, "status") else {
        return Ok(see_other_with(&back, true, "Choose a status."));
    };
    let patch = LeadPatch {
        status: Some(status.to_string()),
        ..LeadPatch::default()
    };
    match crate::service::leads::update(&state, &actor, id, patch).await {
        Ok(lead) => Ok(see_other_with(
            &back,
            false,
            &format!(
                "{}: status {} ({})",
                lead.name,
                lead.status,
                lead.stage.code()
            ),
        )),
        Err(e) => Ok(see_other_with(&back, true, &refusal(e)?)),
    }
}
