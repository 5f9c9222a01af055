//! Remarks on a lead (the call outcomes are in `calls.rs`).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use crate::domain::{Actor, RemarkEntry};
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

/// `{remark}`, or the original's `{remark_text}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct RemarkBody {
    #[serde(alias = "remark_text")]
    remark: String,
}

async fn add_remark(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RemarkBody>,
) -> AppResult<Json<Remarks>> {
    let lead = leads::add_remark(&state, &actor, id, body.remark).await?;
    Ok(Json(Remarks {
        remarks: lead.remarks,
        remarks_history: lead.remarks_history,
    }))
}

/// A lead's remarks after adding one.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Remarks {
    remarks: Option<String>,
    remarks_history: Vec<RemarkEntry>,
}

/// A lead's remarks, with its id.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadRemarks {
    id: Uuid,
    remarks: Option<String>,
    remarks_history: Vec<RemarkEntry>,
}

async fn remarks(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<LeadRemarks>> {
    let lead = leads::get(&state, &actor, id).await?;
    Ok(Json(LeadRemarks {
        id: lead.id,
        remarks: lead.remarks,
        remarks_history: lead.remarks_history,
    }))
}
