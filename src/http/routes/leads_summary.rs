//! Counts over leads: the status summary, sources (and their merge), the
//! telecaller summary and the telecaller desk.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::leads::{FilterQuery, present, scope};
use crate::domain::error::reject_nul;
use crate::domain::{Capability, DomainError, Lead, Stage, ist_today};
use crate::http::AppState;
use crate::http::audit::audit;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiQuery, CurrentUser};
use crate::http::permissions::require;
use crate::store::StatusCount;
use crate::store::filter::LeadFilter;

/// How many leads each list of the telecaller desk shows at most.
const DESK_LIMIT: u32 = 100;

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

/// `{"total_leads", "summary": {"S1": {status: count}}, "stage_totals"}`;
/// every pipeline status appears, with 0 when no lead has it.
fn summary_json(counts: &[StatusCount]) -> Value {
    let mut summary: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    let mut stage_totals: BTreeMap<&str, i64> = BTreeMap::new();
    for stage in Stage::all() {
        let statuses = summary.entry(stage.code()).or_default();
        for s in stage.statuses() {
            statuses.insert((*s).to_string(), json!(0));
        }
        stage_totals.insert(stage.code(), 0);
    }
    let mut total = 0;
    for c in counts {
        let statuses = summary.entry(c.stage.code()).or_default();
        let prev = statuses.get(&c.status).and_then(Value::as_i64).unwrap_or(0);
        statuses.insert(c.status.clone(), json!(prev + c.count));
        *stage_totals.entry(c.stage.code()).or_default() += c.count;
        total += c.count;
    }
    json!({ "total_leads": total, "summary": summary, "stage_totals": stage_totals })
}

async fn status_summary(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiQuery(q): ApiQuery<FilterQuery>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::ReadLeads)?;
    let filter = q.into_filter(&current)?;
    let counts = state.store.status_summary(&filter).await?;
    Ok(Json(summary_json(&counts)))
}

async fn sources(State(state): State<AppState>, current: CurrentUser) -> AppResult<Json<Value>> {
    require(&current, Capability::ReadLeads)?;
    let filter = LeadFilter {
        own_only: scope(&current),
        ..Default::default()
    };
    let rows = state.store.sources(&filter).await?;
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
    current: CurrentUser,
    ApiJson(body): ApiJson<MergeBody>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::MergeSources)?;
    let to = body.to.trim().to_string();
    reject_nul("to", &to)?;
    if to.is_empty() {
        return Err(DomainError::Empty { field: "to" }.into());
    }
    if body.from.is_empty() {
        return Err(AppError::Unprocessable("from: must not be empty".into()));
    }
    for f in &body.from {
        reject_nul("from", f)?;
    }
    let merged = state.store.merge_sources(&body.from, &to).await?;
    audit(
        &state,
        &current,
        "leads.merge_sources",
        json!({ "from": body.from, "to": to, "count": merged }),
    )
    .await;
    Ok(Json(json!({ "merged": merged, "to": to })))
}

#[derive(Deserialize)]
struct TelecallerQuery {
    telecaller: Option<String>,
}

/// Whose desk: a telecaller only their own (another login is 404, as for
/// any object out of reach); everyone else must name one.
fn whose(current: &CurrentUser, asked: Option<String>) -> AppResult<String> {
    let asked = asked
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if let Some(t) = &asked {
        reject_nul("telecaller", t)?;
    }
    match (scope(current), asked) {
        (Some(own), None) => Ok(own),
        (Some(own), Some(t)) if t.eq_ignore_ascii_case(&own) => Ok(own),
        (Some(_), Some(_)) => Err(AppError::NotFound("telecaller not found".into())),
        (None, Some(t)) => Ok(t),
        (None, None) => Err(AppError::Unprocessable(
            "telecaller: required (the telecaller's login)".into(),
        )),
    }
}

/// The three desk filters: assigned for today, callback due today, overdue.
fn desk_filters(telecaller: &str) -> [(&'static str, LeadFilter); 3] {
    let today = ist_today();
    let base = LeadFilter {
        telecaller: Some(telecaller.to_string()),
        ..Default::default()
    };
    [
        (
            "today",
            LeadFilter {
                assigned_on: Some(today),
                ..base.clone()
            },
        ),
        (
            "callbacks_due",
            LeadFilter {
                callback_on: Some(today),
                ..base.clone()
            },
        ),
        (
            "overdue",
            LeadFilter {
                callback_before: Some(today),
                ..base
            },
        ),
    ]
}

async fn telecaller_summary(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiQuery(q): ApiQuery<TelecallerQuery>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::TelecallerDesk)?;
    let telecaller = whose(&current, q.telecaller)?;
    let filter = LeadFilter {
        telecaller: Some(telecaller.clone()),
        ..Default::default()
    };
    let mut body = summary_json(&state.store.status_summary(&filter).await?);
    for (name, f) in desk_filters(&telecaller) {
        let (_, total) = state.store.list_leads(&f, 1, 1).await?;
        body[name] = json!(total);
    }
    body["telecaller"] = json!(telecaller);
    Ok(Json(body))
}

async fn telecaller_desk(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiQuery(q): ApiQuery<TelecallerQuery>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::TelecallerDesk)?;
    let telecaller = whose(&current, q.telecaller)?;
    let mut body = json!({ "telecaller": telecaller, "date": ist_today() });
    for (name, f) in desk_filters(&telecaller) {
        let (leads, total) = state.store.list_leads(&f, 1, DESK_LIMIT).await?;
        let leads: Vec<Lead> = leads.into_iter().map(|l| present(&current, l)).collect();
        body[name] = json!({ "leads": leads, "total": total });
    }
    Ok(Json(body))
}
