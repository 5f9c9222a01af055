//! Bulk operations on leads: assign, unassign, reassign date, status and
//! delete. Each is one transaction and answers how many leads changed and
//! which ids were not found (or are out of the caller's reach — the same
//! answer, so ids cannot be probed) or not allowed.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::leads::{not_found, now, parse_date, present, scope};
use crate::domain::error::reject_nul;
use crate::domain::{Capability, DomainError, Lead, Status, today_ist};
use crate::http::AppState;
use crate::http::audit::audit;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, CurrentUser};
use crate::http::permissions::require;
use crate::store::{BulkOutcome, LeadEdit};

/// Most ids one bulk request may name; larger selections go page by page.
const MAX_IDS: usize = 10_000;

/// The bulk routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/driver-onboarding/bulk-assign", patch(bulk_assign))
        .route("/api/driver-onboarding/leads/{id}/unassign", post(unassign))
        .route("/api/driver-onboarding/reassign-date", patch(reassign_date))
        .route(
            "/api/driver-onboarding/leads/bulk-update-status",
            patch(bulk_status),
        )
        .route(
            "/api/driver-onboarding/leads/bulk-delete",
            post(bulk_delete),
        )
}

/// Parses `lead_ids`: malformed ids cannot name a lead, so they are
/// reported as not found rather than failing the whole request.
fn parse_ids(ids: &[String]) -> AppResult<(Vec<Uuid>, Vec<String>)> {
    if ids.is_empty() {
        return Err(AppError::Unprocessable(
            "lead_ids: must not be empty".into(),
        ));
    }
    if ids.len() > MAX_IDS {
        return Err(AppError::Unprocessable(format!(
            "lead_ids: at most {MAX_IDS} ids per request"
        )));
    }
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for id in ids {
        match id.trim().parse::<Uuid>() {
            Ok(u) => good.push(u),
            Err(_) => bad.push(id.clone()),
        }
    }
    Ok((good, bad))
}

/// `{"updated", "unchanged", "not_found", "not_allowed"}`.
fn report(out: BulkOutcome, malformed: Vec<String>, not_allowed: Vec<Uuid>) -> Value {
    let mut not_found: Vec<String> = out.not_found.iter().map(Uuid::to_string).collect();
    not_found.extend(malformed);
    json!({
        "updated": out.changed.len(),
        "unchanged": out.unchanged - not_allowed.len(),
        "not_found": not_found,
        "not_allowed": not_allowed,
    })
}

#[derive(Deserialize)]
struct AssignBody {
    lead_ids: Vec<String>,
    telecaller: String,
    assigned_date: Option<String>,
}

async fn bulk_assign(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(body): ApiJson<AssignBody>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::AssignLeads)?;
    let (ids, malformed) = parse_ids(&body.lead_ids)?;
    let telecaller = body.telecaller.trim().to_string();
    reject_nul("telecaller", &telecaller)?;
    if telecaller.is_empty() {
        return Err(DomainError::Empty {
            field: "telecaller",
        }
        .into());
    }
    let at = now();
    let date = match body
        .assigned_date
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        Some(d) => parse_date("assigned_date", d)?,
        None => today_ist(at),
    };
    let edit: LeadEdit = Box::new(move |lead: &mut Lead| {
        if lead.assigned_telecaller.as_deref() == Some(telecaller.as_str())
            && lead.assigned_date == Some(date)
        {
            return false;
        }
        lead.assigned_telecaller = Some(telecaller.clone());
        lead.assigned_date = Some(date);
        lead.updated_at = at;
        true
    });
    let out = state.store.update_leads(&ids, None, edit).await?;
    Ok(Json(report(out, malformed, Vec::new())))
}

async fn unassign(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Lead>> {
    require(&current, Capability::AssignLeads)?;
    let at = now();
    let edit: LeadEdit = Box::new(move |lead: &mut Lead| {
        lead.assigned_telecaller = None;
        lead.assigned_date = None;
        lead.updated_at = at;
        true
    });
    let out = state.store.update_leads(&[id], None, edit).await?;
    let lead = out.changed.into_iter().next().ok_or_else(not_found)?;
    Ok(Json(present(&current, lead)))
}

#[derive(Deserialize)]
struct ReassignBody {
    lead_ids: Vec<String>,
    new_date: String,
}

async fn reassign_date(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(body): ApiJson<ReassignBody>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::AssignLeads)?;
    let (ids, malformed) = parse_ids(&body.lead_ids)?;
    let date = parse_date("new_date", &body.new_date)?;
    let at = now();
    // a lead with no telecaller has no assignment to move: not allowed
    let refused = Arc::new(Mutex::new(Vec::new()));
    let seen = refused.clone();
    let edit: LeadEdit = Box::new(move |lead: &mut Lead| {
        if lead
            .assigned_telecaller
            .as_deref()
            .is_none_or(|t| t.is_empty())
        {
            seen.lock().expect("not poisoned").push(lead.id);
            return false;
        }
        if lead.assigned_date == Some(date) {
            return false;
        }
        lead.assigned_date = Some(date);
        lead.updated_at = at;
        true
    });
    let out = state.store.update_leads(&ids, None, edit).await?;
    let not_allowed = std::mem::take(&mut *refused.lock().expect("not poisoned"));
    Ok(Json(report(out, malformed, not_allowed)))
}

#[derive(Deserialize)]
struct StatusBody {
    lead_ids: Vec<String>,
    status: String,
}

async fn bulk_status(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(body): ApiJson<StatusBody>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::EditLeads)?;
    let (ids, malformed) = parse_ids(&body.lead_ids)?;
    reject_nul("status", &body.status)?;
    let status = Status::parse(&body.status).map_err(DomainError::from)?;
    let actor = current.user.email.clone();
    let at = now();
    let edit: LeadEdit = Box::new(move |lead: &mut Lead| {
        lead.set_status(status, &actor, at);
        true
    });
    let out = state
        .store
        .update_leads(&ids, scope(&current).as_deref(), edit)
        .await?;
    Ok(Json(report(out, malformed, Vec::new())))
}

#[derive(Deserialize)]
struct DeleteBody {
    lead_ids: Vec<String>,
}

async fn bulk_delete(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(body): ApiJson<DeleteBody>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::DeleteLeads)?;
    let (ids, malformed) = parse_ids(&body.lead_ids)?;
    let out = state.store.delete_leads(&ids, None).await?;
    let mut not_found: Vec<String> = out.not_found.iter().map(Uuid::to_string).collect();
    not_found.extend(malformed);
    audit(
        &state,
        &current,
        "leads.bulk_delete",
        json!({ "count": out.deleted.len(), "ids": out.deleted, "not_found": not_found }),
    )
    .await;
    Ok(Json(json!({
        "deleted": out.deleted.len(),
        "not_found": not_found,
        "not_allowed": [],
    })))
}
