//! `/healthz` (the process answers), `/readyz` (the database answers) and
//! the original frontend's `/api/maintenance-status`.

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
        .route("/api/maintenance-status", get(maintenance_status))
}

/// `GET /api/maintenance-status`: `{"maintenance_mode": false}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Maintenance {
    maintenance_mode: bool,
}

/// A stub (COMPAT §2.17): Pulse has no maintenance mode, so the answer is
/// the original's for a system not in maintenance. Its frontend asks before
/// signing in (no token) and treats an error as `false`; answering silences
/// the failed call.
async fn maintenance_status() -> Json<Maintenance> {
    Json(Maintenance {
        maintenance_mode: false,
    })
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
