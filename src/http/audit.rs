//! Writing to and reading the audit log.

use axum::extract::State;
use axum::{Json, Router, routing::get};
use serde::Deserialize;

use super::AppState;
use super::error::AppResult;
use super::extract::{ApiQuery, CurrentUser};
use super::permissions::require;
use super::request_id;
use crate::domain::Capability;
use crate::store::{AuditEntry, NewAuditEntry};

/// Appends an entry for the current request. An audit write that fails is
/// logged, not returned: the action itself already happened.
pub async fn audit(
    state: &AppState,
    current: &CurrentUser,
    action: &str,
    details: serde_json::Value,
) {
    let entry = NewAuditEntry {
        actor_id: Some(current.user.id),
        actor_email: Some(current.user.email.clone()),
        action: action.to_string(),
        details,
        request_id: Some(request_id::current()),
    };
    if let Err(e) = state.store.append_audit(&entry).await {
        tracing::error!(action, error = %e, "audit write failed");
    }
}

/// `GET /api/audit` (master_admin).
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
    current: CurrentUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<Vec<AuditEntry>>> {
    require(&current, Capability::ReadAudit)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state.store.list_audit(q.action.as_deref(), limit).await?,
    ))
}
