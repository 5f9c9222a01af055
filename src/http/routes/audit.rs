//! `GET /api/audit` (master_admin): the audit log, filtered by `action`
//! (an action or its area), `actor` (login), `start_date`/`end_date` (IST days).

use axum::extract::State;
use axum::{Json, Router, routing::get};

use crate::domain::Actor;
use crate::http::error::AppResult;
use crate::http::extract::ApiQuery;
use crate::http::state::AppState;
use crate::service::audit;
use crate::store::AuditEntry;

/// The audit route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/audit", get(list))
}

async fn list(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<audit::AuditFilter>,
) -> AppResult<Json<Vec<AuditEntry>>> {
    Ok(Json(audit::list(&state, &actor, &q).await?))
}
