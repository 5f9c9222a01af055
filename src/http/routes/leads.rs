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

use crate::domain::{Actor, LeadInput, LeadPatch};
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::state::AppState;
use crate::service::calls::{self, LeadView};
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

/// A page of the leads list: the leads with their call events.
#[derive(Serialize)]
struct ListAnswer {
    leads: Vec<LeadView>,
    total: i64,
    page: u32,
    limit: u32,
    total_pages: i64,
}

async fn list(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<ListAnswer>> {
    let page = leads::list(&state, &actor, q).await?;
    Ok(Json(ListAnswer {
        leads: calls::with_events(&state, page.leads).await?,
        total: page.total,
        page: page.page,
        limit: page.limit,
        total_pages: page.total_pages,
    }))
}

async fn show(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<LeadView>> {
    let lead = leads::get(&state, &actor, id).await?;
    Ok(Json(calls::view(&state, lead).await?))
}

async fn create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<LeadInput>,
) -> AppResult<(StatusCode, Json<LeadView>)> {
    let lead = leads::create(&state, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(LeadView::new(lead, &[]))))
}

async fn update(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<LeadPatch>,
) -> AppResult<Json<LeadView>> {
    let lead = leads::update(&state, &actor, id, patch).await?;
    Ok(Json(calls::view(&state, lead).await?))
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
