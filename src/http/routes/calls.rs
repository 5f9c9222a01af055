//! Telecallers' calls: the outcomes (call-done = called, mark-called,
//! mark-connected, mark-no-response), a lead's history, and the figures per
//! telecaller and day.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{Actor, CallOutcome, StatusEntry};
use crate::http::error::AppResult;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::state::AppState;
use crate::service::calls::{self, CallEntry, FigureReport, LeadView, NoResponseEntry};

/// The call routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/driver-onboarding/leads/{id}/call-done",
            post(call_done),
        )
        .route(
            "/api/driver-onboarding/leads/{id}/mark-called",
            post(mark_called),
        )
        .route(
            "/api/driver-onboarding/leads/{id}/mark-connected",
            post(mark_connected),
        )
        .route(
            "/api/driver-onboarding/leads/{id}/mark-no-response",
            post(mark_no_response),
        )
        .route("/api/driver-onboarding/leads/{id}/history", get(history))
        .route("/api/telecaller-desk/figures", get(figures))
}

/// The original's answer (`success`, `message`, `lead_id`; its
/// `last_called` / `last_no_response` are the lead's own keys) with the
/// lead's keys beside them and the lead itself under `lead`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallAnswer {
    success: bool,
    message: &'static str,
    lead_id: Uuid,
    lead: LeadView,
    #[serde(flatten)]
    fields: LeadView,
}

fn marked(view: LeadView, message: &'static str) -> Json<CallAnswer> {
    Json(CallAnswer {
        success: true,
        message,
        lead_id: view.lead.id,
        fields: view.clone(),
        lead: view,
    })
}

async fn call_done(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<CallAnswer>> {
    let v = calls::record(&state, &actor, id, CallOutcome::Called).await?;
    Ok(marked(v, "Call marked as done"))
}

async fn mark_called(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<CallAnswer>> {
    let v = calls::record(&state, &actor, id, CallOutcome::Called).await?;
    Ok(marked(v, "Call recorded"))
}

async fn mark_connected(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<CallAnswer>> {
    let v = calls::record(&state, &actor, id, CallOutcome::Connected).await?;
    Ok(marked(v, "Connected call recorded"))
}

async fn mark_no_response(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<CallAnswer>> {
    let v = calls::record(&state, &actor, id, CallOutcome::NoResponse).await?;
    Ok(marked(v, "No response recorded"))
}

async fn history(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<LeadHistory>> {
    let v = calls::history(&state, &actor, id).await?;
    Ok(Json(LeadHistory {
        id: v.lead.id,
        status_history: v.lead.status_history,
        calling_history: v.calling_history,
        no_response_history: v.no_response_history,
        last_called_by: v.last_called_by,
        last_no_response_by: v.last_no_response_by,
    }))
}

/// A lead's status changes and calls.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadHistory {
    id: Uuid,
    status_history: Vec<StatusEntry>,
    calling_history: Vec<CallEntry>,
    no_response_history: Vec<NoResponseEntry>,
    last_called_by: Option<String>,
    last_no_response_by: Option<String>,
}

#[derive(Deserialize)]
struct FigureQuery {
    telecaller: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
}

async fn figures(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<FigureQuery>,
) -> AppResult<Json<FigureReport>> {
    let r = calls::figures(&state, &actor, q.telecaller, q.start_date, q.end_date).await?;
    Ok(Json(r))
}
