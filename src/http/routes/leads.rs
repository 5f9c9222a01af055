//! `/api/driver-onboarding/leads…`: list, read, create, change and delete
//! single leads. Bulk operations live in `leads_bulk.rs`, call notes in
//! `leads_notes.rs`, summaries in `leads_summary.rs`; the rules in
//! [`crate::service::leads`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::{Actor, Lead, LeadInput, LeadPatch};
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::state::AppState;
use crate::service::leads::{self, ListQuery};

/// Prefix of every leads route (the original's paths).
pub const PREFIX: &str = "/api/driver-onboarding";

/// The single-lead routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/driver-onboarding/leads", get(list).post(create))
        .route("/api/driver-onboarding/create-lead", post(create))
        .route(
            "/api/driver-onboarding/leads/{id}",
            get(show).patch(update).delete(remove),
        )
}

async fn list(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<leads::LeadPage>> {
    Ok(Json(leads::list(&state, &actor, q).await?))
}

async fn show(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Lead>> {
    Ok(Json(leads::get(&state, &actor, id).await?))
}

async fn create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<LeadInput>,
) -> AppResult<(StatusCode, Json<Lead>)> {
    let lead = leads::create(&state, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(lead)))
}

async fn update(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<LeadPatch>,
) -> AppResult<Json<Lead>> {
    Ok(Json(leads::update(&state, &actor, id, patch).await?))
}

async fn remove(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Deleted>> {
    leads::delete(&state, &actor, id).await?;
    Ok(Json(Deleted { deleted: 1, id }))
}

/// `DELETE …/leads/{id}`: how many were deleted (always 1) and which.
#[derive(Debug, Serialize)]
pub struct Deleted {
    deleted: u32,
    id: Uuid,
}
