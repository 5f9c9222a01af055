//! Counts over leads: the status summary, sources (their merge and merge
//! suggestions), the telecaller summary and the telecaller desk. The
//! answers carry the original's keys (`success`, its names) beside Pulse's.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::domain::{Actor, Figures, Lead};
use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::state::AppState;
use crate::service::desk::{self, StatusSummary};
use crate::service::leads::{self, FilterQuery, MergeSuggestion, SourceOption};

/// The summary and sources routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/driver-onboarding/status-summary", get(status_summary))
        .route("/api/driver-onboarding/sources", get(sources))
        .route("/api/driver-onboarding/sources/merge", post(merge_sources))
        .route(
            "/api/driver-onboarding/sources/merge-suggestions",
            get(merge_suggestions),
        )
        .route(
            "/api/driver-onboarding/telecaller-summary",
            get(telecaller_summary),
        )
        .route(
            "/api/driver-onboarding/telecaller-desk",
            get(telecaller_desk),
        )
}

/// `{success, total_leads, summary: {S1: {status: n}}, stage_totals,
/// completed: {S1: leads that reached its completion status}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SummaryAnswer {
    success: bool,
    total_leads: i64,
    summary: BTreeMap<&'static str, BTreeMap<String, i64>>,
    stage_totals: BTreeMap<&'static str, i64>,
    completed: BTreeMap<&'static str, i64>,
}

impl From<StatusSummary> for SummaryAnswer {
    fn from(s: StatusSummary) -> Self {
        SummaryAnswer {
            success: true,
            total_leads: s.total_leads,
            summary: s.summary,
            stage_totals: s.stage_totals,
            completed: s.completed,
        }
    }
}

async fn status_summary(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<FilterQuery>,
) -> AppResult<Json<SummaryAnswer>> {
    Ok(Json(desk::status_summary(&state, &actor, q).await?.into()))
}

/// `{success, sources: [{value, label, source, count}], count}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourcesAnswer {
    success: bool,
    sources: Vec<SourceOption>,
    count: usize,
}

async fn sources(State(state): State<AppState>, actor: Actor) -> AppResult<Json<SourcesAnswer>> {
    let sources = leads::source_options(&state, &actor).await?;
    Ok(Json(SourcesAnswer {
        success: true,
        count: sources.len(),
        sources,
    }))
}

/// Pulse's `{from, to}` or the original's `{target, variants}`.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct MergeBody {
    #[serde(alias = "variants")]
    from: Vec<String>,
    #[serde(alias = "target")]
    to: String,
}

/// The original's keys and Pulse's (`merged`, `to`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MergeAnswer {
    success: bool,
    message: String,
    target: String,
    merged_variants: Vec<String>,
    total_leads_updated: u64,
    merged: u64,
    to: String,
}

async fn merge_sources(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<MergeBody>,
) -> AppResult<Json<MergeAnswer>> {
    let (merged, to) = leads::merge_sources(&state, &actor, &body.from, &body.to).await?;
    Ok(Json(MergeAnswer {
        success: true,
        message: format!("{merged} lead(s) now have the source {to:?}"),
        target: to.clone(),
        merged_variants: body.from,
        total_leads_updated: merged,
        merged,
        to,
    }))
}

/// `{success, suggestions: [{target, variants: [{source, count}],
/// total_affected}], total_suggestions}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SuggestionsAnswer {
    success: bool,
    suggestions: Vec<MergeSuggestion>,
    total_suggestions: usize,
}

async fn merge_suggestions(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<SuggestionsAnswer>> {
    let suggestions = leads::merge_suggestions(&state, &actor).await?;
    Ok(Json(SuggestionsAnswer {
        success: true,
        total_suggestions: suggestions.len(),
        suggestions,
    }))
}

#[derive(Deserialize)]
struct TelecallerQuery {
    telecaller: Option<String>,
    date: Option<String>,
}

/// One stage of the original's `stage_breakdown`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StageBreakdown {
    total: i64,
    statuses: BTreeMap<String, i64>,
}

/// The original's keys (`success`, `telecaller`, `total_leads`,
/// `calls_made_today`, `calls_pending`, `stage_breakdown`) beside Pulse's
/// (`summary`, `stage_totals`, `completed`, the desk list counts).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TelecallerSummaryAnswer {
    #[serde(flatten)]
    summary: SummaryAnswer,
    telecaller: String,
    calls_made_today: i64,
    calls_pending: i64,
    stage_breakdown: BTreeMap<&'static str, StageBreakdown>,
    today: i64,
    callbacks_due: i64,
    overdue: i64,
}

/// A telecaller's counts; without `telecaller`, the caller's own.
async fn telecaller_summary(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<TelecallerQuery>,
) -> AppResult<Json<TelecallerSummaryAnswer>> {
    let asked = q.telecaller.or_else(|| Some(actor.login.clone()));
    let s = desk::telecaller_summary(&state, &actor, asked).await?;
    let list = |name: &str| {
        s.lists
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, t)| *t)
    };
    let (today, callbacks_due, overdue) = (list("today"), list("callbacks_due"), list("overdue"));
    let stage_breakdown = s
        .summary
        .summary
        .iter()
        .map(|(stage, statuses)| {
            let total = s.summary.stage_totals.get(stage).copied().unwrap_or(0);
            let statuses = statuses.clone();
            (*stage, StageBreakdown { total, statuses })
        })
        .collect();
    let calls_made_today = s.calls_today;
    Ok(Json(TelecallerSummaryAnswer {
        calls_pending: (s.summary.total_leads - calls_made_today).max(0),
        calls_made_today,
        stage_breakdown,
        telecaller: s.telecaller,
        summary: s.summary.into(),
        today,
        callbacks_due,
        overdue,
    }))
}

/// One list of the desk.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeskListAnswer {
    leads: Vec<Lead>,
    total: i64,
}

/// `{telecaller, date, figures, today, callbacks_due, overdue, leads}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeskAnswer {
    telecaller: String,
    date: chrono::NaiveDate,
    figures: Figures,
    #[serde(flatten)]
    lists: BTreeMap<&'static str, DeskListAnswer>,
}

async fn telecaller_desk(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<TelecallerQuery>,
) -> AppResult<Json<DeskAnswer>> {
    let d = desk::telecaller_desk(&state, &actor, q.telecaller, q.date).await?;
    let lists = d
        .lists
        .into_iter()
        .map(|l| {
            let answer = DeskListAnswer {
                leads: l.leads,
                total: l.total,
            };
            (l.name, answer)
        })
        .collect();
    Ok(Json(DeskAnswer {
        telecaller: d.telecaller,
        date: d.date,
        figures: d.figures,
        lists,
    }))
}
