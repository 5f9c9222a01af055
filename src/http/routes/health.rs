//! `/healthz` (the process answers) and `/readyz` (the database answers).

use axum::extract::State;
use axum::{Json, Router, routing::get};
use serde::Serialize;

use crate::http::error::{AppError, AppResult};
use crate::http::state::AppState;

/// The health routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// `GET /healthz`: `{"status": "ok"}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
}

/// `GET /readyz`: `{"status": "ready", "database": "sqlite" | "postgres"}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ready {
    status: &'static str,
    database: &'static str,
}

async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

async fn readyz(State(state): State<AppState>) -> AppResult<Json<Ready>> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        AppError::Unavailable {
            message: "database unavailable".into(),
            retry_after: std::time::Duration::from_secs(5),
        }
    })?;
    Ok(Json(Ready {
        status: "ready",
        database: state.store.backend_name(),
    }))
}
