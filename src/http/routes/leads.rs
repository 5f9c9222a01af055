//! `/api/driver-onboarding/leads…`: list, read, create, change and delete
//! single leads. Bulk operations live in `leads_bulk.rs`, call notes in
//! `leads_notes.rs`, summaries in `leads_summary.rs`; the rules in
//! [`crate::service::leads`].

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
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
        .route(
            "/api/driver-onboarding/leads/{id}",
            get(show).patch(update).delete(remove),
        )
}

/// A page of the leads list: the leads with their call events.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ListAnswer {
    leads: Vec<LeadView>,
    total: i64,
    page: u32,
    limit: u32,
    total_pages: i64,
}

/// A page, or with `skip_pagination=true` every matching lead as one
/// streamed `{"total", "leads"}` document (the original frontend's call).
async fn list(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Response> {
    if q.wants_all()? {
        let all = leads::list_all(&state, &actor, q.filter).await?;
        let mut response = Body::from_stream(all.body).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert("x-total-leads", HeaderValue::from(all.total));
        h.insert("x-accel-buffering", HeaderValue::from_static("no"));
        return Ok(response);
    }
    let page = leads::list(&state, &actor, q).await?;
    Ok(Json(ListAnswer {
        leads: calls::with_events(&state, page.leads).await?,
        total: page.total,
        page: page.page,
        limit: page.limit,
        total_pages: page.total_pages,
    })
    .into_response())
}

async fn show(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<LeadView>> {
    let lead = leads::get(&state, &actor, id).await?;
    Ok(Json(calls::view(&state, lead).await?))
}

/// Pulse's create: 201 and the lead, 409 on a duplicate phone (the
/// original's `create-lead` path answers its own shape, `compat_leads.rs`).
async fn create(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<LeadInput>,
) -> AppResult<(StatusCode, Json<LeadView>)> {
    let lead = leads::create(&state, &actor, input).await?;
    Ok((StatusCode::CREATED, Json(calls::view(&state, lead).await?)))
}

/// The original's answer `{success, lead}`, with the lead's own keys beside
/// them (Pulse's answer was the bare lead).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Saved {
    success: bool,
    lead: LeadView,
    #[serde(flatten)]
    fields: LeadView,
}

impl Saved {
    /// The saved lead.
    pub fn new(lead: LeadView) -> Saved {
        Saved {
            success: true,
            fields: lead.clone(),
            lead,
        }
    }
}

async fn update(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<LeadPatch>,
) -> AppResult<Json<Saved>> {
    let lead = leads::update(&state, &actor, id, patch).await?;
    Ok(Json(Saved::new(calls::view(&state, lead).await?)))
}

async fn remove(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Deleted>> {
    leads::delete(&state, &actor, id).await?;
    Ok(Json(Deleted {
        message: "Lead deleted successfully",
        deleted: 1,
        id,
    }))
}

/// `DELETE …/leads/{id}`: the original's `message`, how many were deleted
/// (always 1) and which.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    message: &'static str,
    deleted: u32,
    id: Uuid,
}
