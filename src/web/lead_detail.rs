//! `/leads/{id}`: every field of a lead, grouped; its status changes,
//! remarks and calls as one timeline; add a remark; record a call's
//! outcome (called, connected, no response).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::page::{Layout, PageError, PageResult, PageUser, render, see_other};
use crate::domain::{
    CallOutcome, Capability, FIELDS, FieldDef, FieldRef, Group as PageGroup, Lead, to_ist,
};
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::calls::{CallEntry, LeadView};

/// A lead id from the path; anything else is an unknown page.
pub(super) fn lead_id(text: &str) -> Result<Uuid, PageError> {
    text.parse().map_err(|_| PageError::NotFound)
}

/// An instant in IST as the pages show it.
pub(super) fn ist_text(t: chrono::DateTime<chrono::Utc>) -> String {
    to_ist(t).format("%Y-%m-%d %H:%M IST").to_string()
}

pub(super) struct Field {
    pub label: &'static str,
    pub value: String,
}

pub(super) struct Group {
    pub title: &'static str,
    pub fields: Vec<Field>,
}

/// A field's value as the lead page shows it (documents already masked for
/// users who may not see them): text as it is, days as `YYYY-MM-DD`,
/// instants in IST, the stage with its label.
fn shown(lead: &Lead, f: &FieldDef) -> String {
    match lead.field(f) {
        FieldRef::Uuid(v) => v.to_string(),
        FieldRef::RequiredText(v) => v.clone(),
        FieldRef::Text(v) => v.clone().unwrap_or_default(),
        FieldRef::Date(v) => v.map(|d| d.to_string()).unwrap_or_default(),
        FieldRef::Instant(v) => v.map(ist_text).unwrap_or_else(|| "never".into()),
        FieldRef::RequiredInstant(v) => ist_text(*v),
        FieldRef::Stage(v) => format!("{} {}", v.code(), v.label()),
        FieldRef::RemarkLog(_) | FieldRef::StatusLog(_) => String::new(),
    }
}

/// The lead's fields in their groups of the lead field list, in list order.
fn groups(lead: &Lead) -> Vec<Group> {
    PageGroup::SHOWN
        .iter()
        .map(|&g| Group {
            title: g.title(),
            fields: FIELDS
                .iter()
                .filter(|f| f.group == g)
                .map(|f| Field {
                    label: f.label,
                    value: shown(lead, f),
                })
                .collect(),
        })
        .collect()
}

struct Event {
    when: String,
    iso: String,
    who: String,
    kind: &'static str,
    text: String,
}

/// How the timeline names a call's outcome.
fn outcome_text(outcome: CallOutcome) -> &'static str {
    match outcome {
        CallOutcome::Called => "Called",
        CallOutcome::Connected => "Called · connected",
        CallOutcome::NoResponse => "Called · no response",
        CallOutcome::StatusChange => "Status changed",
    }
}

/// Status changes, remarks and calls, newest first.
fn timeline(lead: &Lead, calls: &[CallEntry]) -> Vec<Event> {
    let mut events: Vec<(chrono::DateTime<chrono::Utc>, Event)> = Vec::new();
    for c in calls {
        events.push((
            c.timestamp,
            Event {
                when: ist_text(c.timestamp),
                iso: c.timestamp.to_rfc3339(),
                who: c.called_by.clone(),
                kind: "call",
                text: outcome_text(c.outcome).to_string(),
            },
        ));
    }
    for s in &lead.status_history {
        events.push((
            s.changed_at,
            Event {
                when: ist_text(s.changed_at),
                iso: s.changed_at.to_rfc3339(),
                who: s.changed_by.clone(),
                kind: "status",
                text: format!("{} · {}", s.stage.code(), s.status),
            },
        ));
    }
    for r in &lead.remarks_history {
        events.push((
            r.updated_at,
            Event {
                when: ist_text(r.updated_at),
                iso: r.updated_at.to_rfc3339(),
                who: r.updated_by.clone(),
                kind: "remark",
                text: r.remark.clone(),
            },
        ));
    }
    // stable: at one instant (a no response and its RNR) the order written
    events.sort_by_key(|e| std::cmp::Reverse(e.0));
    events.into_iter().map(|(_, e)| e).collect()
}

#[derive(askama::Template)]
#[template(path = "lead.html")]
struct LeadPage {
    l: Layout,
    id: Uuid,
    name: String,
    stage: String,
    status: String,
    groups: Vec<Group>,
    events: Vec<Event>,
    can_edit: bool,
    notice: Option<&'static str>,
    remark: String,
    remark_error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct DetailQuery {
    done: Option<String>,
}

fn show(user: &PageUser, view: LeadView, notice: Option<&'static str>) -> LeadPage {
    let events = timeline(&view.lead, &view.calling_history);
    let lead = view.lead;
    LeadPage {
        l: Layout::new(lead.name.clone(), Some(user)),
        id: lead.id,
        name: lead.name.clone(),
        stage: format!("{} {}", lead.stage.code(), lead.stage.label()),
        status: lead.status.clone(),
        groups: groups(&lead),
        events,
        can_edit: user.can(Capability::EditLeads),
        notice,
        remark: String::new(),
        remark_error: None,
    }
}

/// `GET /leads/{id}`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> PageResult {
    let id = lead_id(&id)?;
    let view = with_calls(&state, &user, id).await?;
    let notice = match q.done.as_deref() {
        Some("remark") => Some("Remark added."),
        Some("called") => Some("Call recorded."),
        Some("connected") => Some("Connected call recorded."),
        Some("no_response") => Some("No response recorded: the lead is now RNR."),
        Some("saved") => Some("Changes saved."),
        _ => None,
    };
    Ok(render(StatusCode::OK, &show(&user, view, notice)))
}

/// The lead with its calls, as the actor may see it; out of reach: 404.
async fn with_calls(state: &AppState, user: &PageUser, id: Uuid) -> Result<LeadView, PageError> {
    match crate::service::calls::history(state, &user.actor(), id).await {
        Ok(view) => Ok(view),
        Err(ServiceError::NotFound(_)) => Err(PageError::NotFound),
        Err(e) => Err(e.into()),
    }
}

fn require_edit(user: &PageUser) -> Result<(), PageError> {
    if user.can(Capability::EditLeads) {
        Ok(())
    } else {
        Err(PageError::Forbidden(format!(
            "Your role ({}) may not change leads.",
            super::page::role_label(user.0.role())
        )))
    }
}

#[derive(Deserialize)]
pub(super) struct RemarkForm {
    #[serde(default)]
    remark: String,
}

/// `POST /leads/{id}/remarks`.
pub(super) async fn add_remark(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(f): Form<RemarkForm>,
) -> PageResult {
    require_edit(&user)?;
    let id = lead_id(&id)?;
    let actor = user.actor();
    match crate::service::leads::add_remark(&state, &actor, id, f.remark.clone()).await {
        Ok(_) => Ok(see_other(&format!("/leads/{id}?done=remark#timeline"))),
        Err(ServiceError::Domain(e)) => {
            let lead = with_calls(&state, &user, id).await?;
            let mut view = show(&user, lead, None);
            view.remark = f.remark;
            view.remark_error = Some(match e {
                crate::domain::DomainError::Empty { .. } => "Write a remark first.".into(),
                other => super::page::capitalise(&other.to_string()),
            });
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &view))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /leads/{id}/call-done`: the original's "call done" (called).
pub(super) async fn call_done(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    record_call(&state, &user, &id, CallOutcome::Called).await
}

#[derive(Deserialize)]
pub(super) struct CallForm {
    #[serde(default)]
    outcome: String,
}

/// `POST /leads/{id}/calls`: a call's outcome (`called`, `connected`,
/// `no_response`), then back to the lead with a notice.
pub(super) async fn call(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(f): Form<CallForm>,
) -> PageResult {
    let outcome = f
        .outcome
        .parse::<CallOutcome>()
        .ok()
        .filter(|o| o.is_call())
        .ok_or_else(|| {
            PageError::BadRequest(format!(
                "Unknown call outcome {:?}: choose called, connected or no response.",
                f.outcome
            ))
        })?;
    record_call(&state, &user, &id, outcome).await
}

async fn record_call(
    state: &AppState,
    user: &PageUser,
    id: &str,
    outcome: CallOutcome,
) -> PageResult {
    require_edit(user)?;
    let id = lead_id(id)?;
    crate::service::calls::record(state, &user.actor(), id, outcome).await?;
    Ok(see_other(&format!("/leads/{id}?done={outcome}#timeline")))
}
