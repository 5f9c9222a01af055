//! Bulk operations on leads: assign, unassign, reassign date, status and
//! delete. Each is one transaction and answers how many leads changed and
//! which ids were not found (or are out of the caller's reach — the same
//! answer, so ids cannot be probed) or not allowed.

use axum::extract::State;
use axum::routing::{patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
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

/// A bulk change: the original's `success`, `message` and count (named
/// per route: `modified_count`, `updated_count`, `deassigned_count`) beside
/// Pulse's `updated`, `unchanged`, `not_found`, `not_allowed`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkAnswer {
    success: bool,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    modified_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deassigned_count: Option<usize>,
    updated: usize,
    unchanged: usize,
    not_found: Vec<String>,
    not_allowed: Vec<Uuid>,
}

/// Which count the original named.
#[derive(Debug, Clone, Copy)]
pub enum Count {
    /// `modified_count`: the leads changed (bulk-assign, reassign-date).
    Modified,
    /// `updated_count`: the leads found (bulk status).
    Updated,
    /// `deassigned_count`: the leads unassigned.
    Deassigned,
}

impl BulkAnswer {
    /// The answer for `r`, its message saying what was done.
    pub fn new(r: BulkReport, count: Count, what: &str) -> BulkAnswer {
        let found = r.updated + r.unchanged;
        let n = match count {
            Count::Updated => found,
            Count::Modified | Count::Deassigned => r.updated,
        };
        BulkAnswer {
            success: true,
            message: format!("{n} lead(s) {what}"),
            modified_count: matches!(count, Count::Modified).then_some(n),
            updated_count: matches!(count, Count::Updated).then_some(n),
            deassigned_count: matches!(count, Count::Deassigned).then_some(n),
            updated: r.updated,
            unchanged: r.unchanged,
            not_found: r.not_found,
            not_allowed: r.not_allowed,
        }
    }
}

/// Pulse's names (`telecaller`, `assigned_date`) or the original's
/// (`telecaller_email`, `assignment_date`).
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct AssignBody {
    lead_ids: Vec<String>,
    #[serde(alias = "telecaller_email")]
    telecaller: String,
    #[serde(alias = "assignment_date")]
    assigned_date: Option<String>,
}

async fn bulk_assign(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<AssignBody>,
) -> AppResult<Json<BulkAnswer>> {
    let date = b.assigned_date.as_deref();
    let r = leads::bulk_assign(&state, &actor, &b.lead_ids, &b.telecaller, date).await?;
    Ok(Json(BulkAnswer::new(r, Count::Modified, "assigned")))
}

async fn unassign(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Lead>> {
    Ok(Json(leads::unassign(&state, &actor, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ReassignBody {
    lead_ids: Vec<String>,
    new_date: String,
}

async fn reassign_date(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<ReassignBody>,
) -> AppResult<Json<BulkAnswer>> {
    let r = leads::reassign_date(&state, &actor, &b.lead_ids, &b.new_date).await?;
    Ok(Json(BulkAnswer::new(
        r,
        Count::Modified,
        "moved to the new date",
    )))
}

/// `{lead_ids, status}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct StatusBody {
    /// The leads.
    pub lead_ids: Vec<String>,
    /// The status to set.
    pub status: String,
}

async fn bulk_status(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<StatusBody>,
) -> AppResult<Json<BulkAnswer>> {
    let r = leads::bulk_status(&state, &actor, &b.lead_ids, &b.status).await?;
    Ok(Json(BulkAnswer::new(r, Count::Updated, "updated")))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct DeleteBody {
    lead_ids: Vec<String>,
}

async fn bulk_delete(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<DeleteBody>,
) -> AppResult<Json<BulkDeleted>> {
    let r = leads::bulk_delete(&state, &actor, &b.lead_ids).await?;
    Ok(Json(BulkDeleted {
        message: format!("{} lead(s) deleted", r.deleted),
        deleted_count: r.deleted,
        deleted: r.deleted,
        not_found: r.not_found,
        not_allowed: Vec::new(),
    }))
}

/// The original's `message` and `deleted_count` beside Pulse's counts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkDeleted {
    message: String,
    deleted_count: usize,
    deleted: usize,
    not_found: Vec<String>,
    not_allowed: Vec<Uuid>,
}
