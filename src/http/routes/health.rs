//! `/healthz` (the process answers) and `/readyz` (the database answers).

use axum::extract::State;
use axum::{Json, Router, routing::get};
use serde_json::{Value, json};

use crate::http::error::{AppError, AppResult};
use crate::http::state::AppState;

/// The health routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> AppResult<Json<Value>> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        AppError::Unavailable {
            message: "database unavailable".into(),
            retry_after: std::time::Duration::from_secs(5),
        }
    })?;
    Ok(Json(
        json!({ "status": "ready", "database": state.store.backend_name() }),
    ))
}
