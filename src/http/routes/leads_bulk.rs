//! Bulk operations on leads: assign, unassign, reassign date, status and
//! delete. Each is one transaction and answers how many leads changed and
//! which ids were not found (or are out of the caller's reach — the same
//! answer, so ids cannot be probed) or not allowed.

use axum::extract::State;
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::{Actor, Lead};
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::state::AppState;
use crate::service::leads_bulk::{self as leads, BulkReport};

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

/// `{"updated", "unchanged", "not_found", "not_allowed"}`.
fn report(r: BulkReport) -> Json<Value> {
    Json(json!({
        "updated": r.updated,
        "unchanged": r.unchanged,
        "not_found": r.not_found,
        "not_allowed": r.not_allowed,
    }))
}

#[derive(Deserialize)]
struct AssignBody {
    lead_ids: Vec<String>,
    telecaller: String,
    assigned_date: Option<String>,
}

async fn bulk_assign(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<AssignBody>,
) -> AppResult<Json<Value>> {
    let date = b.assigned_date.as_deref();
    let r = leads::bulk_assign(&state, &actor, &b.lead_ids, &b.telecaller, date).await?;
    Ok(report(r))
}

async fn unassign(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Lead>> {
    Ok(Json(leads::unassign(&state, &actor, id).await?))
}

#[derive(Deserialize)]
struct ReassignBody {
    lead_ids: Vec<String>,
    new_date: String,
}

async fn reassign_date(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<ReassignBody>,
) -> AppResult<Json<Value>> {
    let r = leads::reassign_date(&state, &actor, &b.lead_ids, &b.new_date).await?;
    Ok(report(r))
}

#[derive(Deserialize)]
struct StatusBody {
    lead_ids: Vec<String>,
    status: String,
}

async fn bulk_status(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<StatusBody>,
) -> AppResult<Json<Value>> {
    let r = leads::bulk_status(&state, &actor, &b.lead_ids, &b.status).await?;
    Ok(report(r))
}

#[derive(Deserialize)]
struct DeleteBody {
    lead_ids: Vec<String>,
}

async fn bulk_delete(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<DeleteBody>,
) -> AppResult<Json<Value>> {
    let r = leads::bulk_delete(&state, &actor, &b.lead_ids).await?;
    Ok(Json(json!({
        "deleted": r.deleted,
        "not_found": r.not_found,
        "not_allowed": [],
    })))
}
