//! What a telecaller records about a call: call done and remarks.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::leads::{not_found, now, present, scope};
use crate::domain::{Capability, DomainError, Lead};
use crate::http::AppState;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiPath, CurrentUser};
use crate::http::permissions::require;
use crate::store::LeadEdit;

/// The call-note routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/driver-onboarding/leads/{id}/call-done",
            post(call_done),
        )
        .route(
            "/api/driver-onboarding/leads/{id}/remarks",
            post(add_remark).get(remarks),
        )
}

async fn edit_one(
    state: &AppState,
    current: &CurrentUser,
    id: Uuid,
    edit: LeadEdit,
) -> AppResult<Lead> {
    let out = state
        .store
        .update_leads(&[id], scope(current).as_deref(), edit)
        .await?;
    out.changed.into_iter().next().ok_or_else(not_found)
}

async fn call_done(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Lead>> {
    require(&current, Capability::EditLeads)?;
    let at = now();
    let lead = edit_one(
        &state,
        &current,
        id,
        Box::new(move |lead: &mut Lead| {
            lead.last_called = Some(at);
            lead.updated_at = at;
            true
        }),
    )
    .await?;
    Ok(Json(present(&current, lead)))
}

#[derive(Deserialize)]
struct RemarkBody {
    remark: String,
}

async fn add_remark(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RemarkBody>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::EditLeads)?;
    crate::domain::error::check_text(
        "remark",
        &body.remark,
        crate::domain::error::MAX_REMARK_CHARS,
    )?;
    if body.remark.trim().is_empty() {
        return Err(DomainError::Empty { field: "remark" }.into());
    }
    let actor = current.user.email.clone();
    let at = now();
    let refusal = crate::domain::Refusal::default();
    let refused = refusal.clone();
    let lead = edit_one(
        &state,
        &current,
        id,
        // a full remarks history refuses (422), it is not a missing lead
        Box::new(move |lead: &mut Lead| {
            refused
                .keep(lead.add_remark(&body.remark, &actor, at))
                .is_some()
        }),
    )
    .await;
    refusal.check()?;
    let lead = lead?;
    Ok(Json(json!({
        "remarks": lead.remarks,
        "remarks_history": lead.remarks_history,
    })))
}

async fn remarks(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::ReadLeads)?;
    let lead = state
        .store
        .get_lead(id, scope(&current).as_deref())
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(json!({
        "id": lead.id,
        "remarks": lead.remarks,
        "remarks_history": lead.remarks_history,
    })))
}
