//! Counts over leads: the status summary, sources (and their merge), the
//! telecaller summary and the telecaller desk.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::Actor;
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::state::AppState;
use crate::service::desk::{self, StatusSummary};
use crate::service::leads::{self, FilterQuery};

/// The summary and sources routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/driver-onboarding/status-summary", get(status_summary))
        .route("/api/driver-onboarding/sources", get(sources))
        .route("/api/driver-onboarding/sources/merge", post(merge_sources))
        .route(
            "/api/driver-onboarding/telecaller-summary",
            get(telecaller_summary),
        )
        .route(
            "/api/driver-onboarding/telecaller-desk",
            get(telecaller_desk),
        )
}

/// `{"total_leads", "summary": {"S1": {status: count}}, "stage_totals",
/// "completed": {"S1": leads that reached its completion status}}`.
fn summary_json(s: &StatusSummary) -> Value {
    json!({ "total_leads": s.total_leads, "summary": s.summary, "stage_totals": s.stage_totals,
            "completed": s.completed })
}

async fn status_summary(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<FilterQuery>,
) -> AppResult<Json<Value>> {
    let s = desk::status_summary(&state, &actor, q).await?;
    Ok(Json(summary_json(&s)))
}

async fn sources(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Value>> {
    let rows = leads::sources(&state, &actor).await?;
    let list: Vec<Value> = rows
        .into_iter()
        .map(|(source, count)| json!({ "source": source, "count": count }))
        .collect();
    Ok(Json(json!({ "sources": list })))
}

#[derive(Deserialize)]
struct MergeBody {
    from: Vec<String>,
    to: String,
}

async fn merge_sources(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<MergeBody>,
) -> AppResult<Json<Value>> {
    let (merged, to) = leads::merge_sources(&state, &actor, &body.from, &body.to).await?;
    Ok(Json(json!({ "merged": merged, "to": to })))
}

#[derive(Deserialize)]
struct TelecallerQuery {
    telecaller: Option<String>,
    date: Option<String>,
}

async fn telecaller_summary(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<TelecallerQuery>,
) -> AppResult<Json<Value>> {
    let s = desk::telecaller_summary(&state, &actor, q.telecaller).await?;
    let mut body = summary_json(&s.summary);
    for (name, total) in s.lists {
        body[name] = json!(total);
    }
    body["telecaller"] = json!(s.telecaller);
    Ok(Json(body))
}

async fn telecaller_desk(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<TelecallerQuery>,
) -> AppResult<Json<Value>> {
    let d = desk::telecaller_desk(&state, &actor, q.telecaller, q.date).await?;
    let mut body = json!({ "telecaller": d.telecaller, "date": d.date, "figures": d.figures });
    for l in d.lists {
        body[l.name] = json!({ "leads": l.leads, "total": l.total });
    }
    Ok(Json(body))
}
