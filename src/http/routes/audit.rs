//! `GET /api/audit` (master_admin): the audit log.

use axum::extract::State;
use axum::{Json, Router, routing::get};
use serde::Deserialize;

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

#[derive(Deserialize)]
struct AuditQuery {
    action: Option<String>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<Vec<AuditEntry>>> {
    Ok(Json(
        audit::list(&state, &actor, q.action.as_deref(), q.limit).await?,
    ))
}
