//! The original system's telecaller routes (COMPAT §2.13): a telecaller's
//! leads for a day, call statistics, the daily summary and the call-log
//! workbook, from the call events ([`crate::service::call_reports`]).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::Actor;
use crate::http::error::AppResult;
use crate::http::extract::ApiQuery;
use crate::http::state::AppState;
use crate::service::call_reports::{self, DailySummary, TelecallerCalls};
use crate::service::calls::LeadView;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/telecaller-desk/leads", get(desk_leads))
        .route("/api/telecaller-desk/call-statistics", get(call_statistics))
        .route("/api/telecaller-desk/daily-summary", get(daily_summary))
        .route(
            "/api/telecaller-desk/export-call-logs",
            post(export_call_logs),
        )
}

#[derive(Deserialize)]
struct DeskQuery {
    #[serde(alias = "telecaller")]
    telecaller_email: Option<String>,
    date: Option<String>,
}

/// `{success, telecaller_email, date_filter, assigned_leads,
/// callback_leads, total_assigned, total_callbacks}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeskLeadsAnswer {
    success: bool,
    telecaller_email: String,
    date_filter: Option<NaiveDate>,
    assigned_leads: Vec<LeadView>,
    callback_leads: Vec<LeadView>,
    total_assigned: usize,
    total_callbacks: usize,
}

async fn desk_leads(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<DeskQuery>,
) -> AppResult<Json<DeskLeadsAnswer>> {
    let d = call_reports::desk_leads(&state, &actor, q.telecaller_email, &q.date).await?;
    Ok(Json(DeskLeadsAnswer {
        success: true,
        telecaller_email: d.telecaller,
        date_filter: d.date,
        total_assigned: d.assigned.len(),
        total_callbacks: d.callbacks.len(),
        assigned_leads: d.assigned,
        callback_leads: d.callbacks,
    }))
}

#[derive(Deserialize)]
struct RangeQuery {
    start_date: Option<String>,
    end_date: Option<String>,
}

/// `{success, start_date, end_date, total_telecallers, statistics}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatisticsAnswer {
    success: bool,
    start_date: Option<String>,
    end_date: Option<String>,
    total_telecallers: usize,
    statistics: Vec<TelecallerCalls>,
}

async fn call_statistics(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<StatisticsAnswer>> {
    let statistics =
        call_reports::call_statistics(&state, &actor, &q.start_date, &q.end_date).await?;
    Ok(Json(StatisticsAnswer {
        success: true,
        start_date: q.start_date,
        end_date: q.end_date,
        total_telecallers: statistics.len(),
        statistics,
    }))
}

/// `{success, start_date, end_date, summaries}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DailySummaryAnswer {
    success: bool,
    start_date: Option<String>,
    end_date: Option<String>,
    summaries: Vec<DailySummary>,
}

async fn daily_summary(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> AppResult<Json<DailySummaryAnswer>> {
    let summaries = call_reports::daily_summary(&state, &actor, &q.start_date, &q.end_date).await?;
    Ok(Json(DailySummaryAnswer {
        success: true,
        start_date: q.start_date,
        end_date: q.end_date,
        summaries,
    }))
}

async fn export_call_logs(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<DeskQuery>,
) -> AppResult<Response> {
    let (name, bytes) =
        call_reports::call_log_workbook(&state, &actor, q.telecaller_email, &q.date).await?;
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::export::Format::Xlsx.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
