//! `GET /api/openapi.json`: the document built by [`crate::http::openapi`].

use axum::routing::get;
use axum::{Json, Router};

use crate::http::openapi::{ApiDocument, document};
use crate::http::state::AppState;

/// The document's route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(serve))
}

async fn serve() -> Json<ApiDocument> {
    Json(document())
}
