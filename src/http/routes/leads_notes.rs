//! Remarks on a lead (the call outcomes are in `calls.rs`).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::state::AppState;
use crate::service::leads;

/// The call-note routes.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/driver-onboarding/leads/{id}/remarks",
        post(add_remark).get(remarks),
    )
}

#[derive(Deserialize)]
struct RemarkBody {
    remark: String,
}

async fn add_remark(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RemarkBody>,
) -> AppResult<Json<Value>> {
    let lead = leads::add_remark(&state, &actor, id, body.remark).await?;
    Ok(Json(json!({
        "remarks": lead.remarks,
        "remarks_history": lead.remarks_history,
    })))
}

async fn remarks(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    let lead = leads::get(&state, &actor, id).await?;
    Ok(Json(json!({
        "id": lead.id,
        "remarks": lead.remarks,
        "remarks_history": lead.remarks_history,
    })))
}
