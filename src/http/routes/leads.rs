//! `/api/driver-onboarding/leads…`: list, read, create, change and delete
//! single leads, plus what the other leads files share (scope, masking,
//! the filter query). Bulk operations live in `leads_bulk.rs`, call
//! notes in `leads_notes.rs`, summaries in `leads_summary.rs`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{leads_bulk, leads_notes, leads_summary};
use crate::domain::{
    AccountType, Capability, DomainError, Lead, LeadInput, LeadPatch, LeadScope, Stage, Status,
};
use crate::http::AppState;
use crate::http::audit::audit;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, CurrentUser};
use crate::http::permissions::require;
use crate::store::InsertOutcome;
use crate::store::filter::LeadFilter;

/// Prefix of every leads route (the original's paths).
pub const PREFIX: &str = "/api/driver-onboarding";

/// Default and largest page size of the leads list.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 100;

/// Every leads route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/driver-onboarding/leads", get(list).post(create))
        .route("/api/driver-onboarding/create-lead", post(create))
        .route(
            "/api/driver-onboarding/leads/{id}",
            get(show).patch(update).delete(remove),
        )
        .merge(leads_bulk::routes())
        .merge(leads_notes::routes())
        .merge(leads_summary::routes())
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        // the messages start with the field name (DESIGN §3)
        AppError::Unprocessable(e.to_string())
    }
}

/// The telecaller login whose leads the caller is limited to, if any.
pub(super) fn scope(current: &CurrentUser) -> Option<String> {
    match current.role().leads_scope() {
        LeadScope::OwnOnly => Some(current.user.email.clone()),
        LeadScope::All => None,
    }
}

/// The lead as this caller may see it: documents masked for everyone but
/// master_admin.
pub(super) fn present(current: &CurrentUser, lead: Lead) -> Lead {
    if current.role().can(Capability::SeeUnmaskedPii) {
        lead
    } else {
        lead.masked()
    }
}

/// Now, to the millisecond: SQLite keeps milliseconds and PostgreSQL
/// microseconds, so both backends give back exactly what was written.
pub(super) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

pub(super) fn not_found() -> AppError {
    AppError::NotFound("lead not found".into())
}

/// A `YYYY-MM-DD` date from a query or body field, naming the field when it is not one.
pub(super) fn parse_date(field: &str, value: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        AppError::Unprocessable(format!(
            "{field}: invalid date {value:?}: expected YYYY-MM-DD"
        ))
    })
}

/// The filter query parameters of the list, the status summary and exports
/// (query string or the `filters` object of an export body). Text, so that a
/// bad value gets an answer naming the parameter; an empty value means "not
/// given", as the original clients send them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FilterQuery {
    search: Option<String>,
    stage: Option<String>,
    status: Option<String>,
    source: Option<String>,
    telecaller: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    #[serde(deserialize_with = "bool_or_text")]
    unassigned_only: Option<String>,
}

impl FilterQuery {
    /// Every filter name, for JSON bodies that refuse unknown ones.
    pub const FIELDS: &'static [&'static str] = &[
        "search",
        "stage",
        "status",
        "source",
        "telecaller",
        "start_date",
        "end_date",
        "unassigned_only",
    ];
}

/// Reads a JSON `filters` object, refusing names that are not filters: a
/// misspelt filter must not silently widen an export to every lead.
pub fn strict_filters<'de, D: serde::Deserializer<'de>>(d: D) -> Result<FilterQuery, D::Error> {
    use serde::de::Error;
    let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    if let Some(unknown) = map
        .keys()
        .find(|k| !FilterQuery::FIELDS.contains(&k.as_str()))
    {
        return Err(D::Error::custom(format!(
            "unknown filter {unknown:?}; filters are {}",
            FilterQuery::FIELDS.join(", ")
        )));
    }
    serde_json::from_value(serde_json::Value::Object(map)).map_err(D::Error::custom)
}

/// `unassigned_only` arrives as text in a query string and as a boolean in a
/// JSON export body; both become text for one parser.
fn bool_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<B>::deserialize(d)? {
        None => None,
        Some(B::Bool(b)) => Some(b.to_string()),
        Some(B::Text(t)) => Some(t),
    })
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A select's value: also `all` means "no filter" (the original UI's
/// stage and status selects send it).
fn selected(v: &Option<String>) -> Option<&str> {
    given(v).filter(|s| !s.eq_ignore_ascii_case("all"))
}

impl FilterQuery {
    /// Parses into a [`LeadFilter`] limited to the caller's scope.
    pub fn into_filter(self, current: &CurrentUser) -> AppResult<LeadFilter> {
        let mut f = LeadFilter::default();
        for (field, value) in [
            ("search", &self.search),
            ("source", &self.source),
            ("telecaller", &self.telecaller),
        ] {
            if given(value).is_some_and(|v| v.contains('\0')) {
                return Err(DomainError::NulCharacter { field }.into());
            }
        }
        if let Some(s) = given(&self.search) {
            f.add_search(s)?;
        }
        f.stage = selected(&self.stage)
            .map(str::parse::<Stage>)
            .transpose()
            .map_err(DomainError::from)?;
        f.status = selected(&self.status)
            .map(|s| Status::parse(s).map(|s| s.name().to_string()))
            .transpose()
            .map_err(DomainError::from)?;
        f.source = given(&self.source).map(str::to_string);
        f.telecaller = given(&self.telecaller).map(str::to_string);
        f.start_date = given(&self.start_date)
            .map(|d| parse_date("start_date", d))
            .transpose()?;
        f.end_date = given(&self.end_date)
            .map(|d| parse_date("end_date", d))
            .transpose()?;
        f.unassigned_only = match given(&self.unassigned_only) {
            None => false,
            Some(v) if matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes") => true,
            Some(v) if matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "no") => false,
            Some(v) => {
                return Err(AppError::Unprocessable(format!(
                    "unassigned_only: expected true or false, got {v:?}"
                )));
            }
        };
        f.own_only = scope(current);
        Ok(f)
    }
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(flatten)]
    filter: FilterQuery,
    page: Option<String>,
    limit: Option<String>,
}

fn parse_count(field: &str, value: &Option<String>, default: u32) -> AppResult<u32> {
    match given(value) {
        None => Ok(default),
        Some(v) => v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            AppError::Unprocessable(format!(
                "{field}: expected a whole number from 1, got {v:?}"
            ))
        }),
    }
}

async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::ReadLeads)?;
    let page = parse_count("page", &q.page, 1)?;
    let limit = parse_count("limit", &q.limit, DEFAULT_LIMIT)?.min(MAX_LIMIT);
    let filter = q.filter.into_filter(&current)?;
    let (leads, total) = state.store.list_leads(&filter, page, limit).await?;
    let leads: Vec<Lead> = leads.into_iter().map(|l| present(&current, l)).collect();
    let total_pages = (total + i64::from(limit) - 1) / i64::from(limit);
    Ok(Json(json!({
        "leads": leads,
        "total": total,
        "page": page,
        "limit": limit,
        "total_pages": total_pages,
    })))
}

async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Lead>> {
    require(&current, Capability::ReadLeads)?;
    let lead = state
        .store
        .get_lead(id, scope(&current).as_deref())
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(present(&current, lead)))
}

/// 403 unless the caller may assign leads to `telecaller`: assigning is
/// the `AssignLeads` capability, except that a telecaller's own new lead is
/// theirs.
fn check_assignment(current: &CurrentUser, telecaller: Option<&str>) -> AppResult<()> {
    let own = scope(current);
    match (telecaller, own) {
        (Some(t), Some(own)) if t.eq_ignore_ascii_case(&own) => Ok(()),
        (None, _) => Ok(()),
        _ => require(current, Capability::AssignLeads),
    }
}

async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiJson(mut input): ApiJson<LeadInput>,
) -> AppResult<(StatusCode, Json<Lead>)> {
    require(&current, Capability::EditLeads)?;
    check_assignment(&current, input.assigned_telecaller.as_deref())?;
    if let Some(own) = scope(&current) {
        // a telecaller sees only their own leads, so what they create is theirs
        input.assigned_telecaller = Some(own);
    }
    let new = input.validate()?;
    let lead = new.into_lead(Uuid::new_v4(), &current.user.email, now());
    match state.store.insert_lead(&lead).await? {
        InsertOutcome::Inserted => Ok((StatusCode::CREATED, Json(present(&current, lead)))),
        InsertOutcome::DuplicatePhone(existing) => Err(duplicate_phone(existing)),
    }
}

/// 409 naming the lead that already has the phone number.
pub(super) fn duplicate_phone(existing: Uuid) -> AppError {
    AppError::Conflict(format!(
        "phone_number: a lead with this phone number already exists (lead id {existing})"
    ))
}

async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<LeadPatch>,
) -> AppResult<Json<Lead>> {
    require(&current, Capability::EditLeads)?;
    let own = scope(&current);
    if patch.assigned_telecaller.is_some() || patch.assigned_date.is_some() {
        // a telecaller cannot hand a lead to someone else, nor date it
        if current.role() == AccountType::Telecaller {
            return Err(AppError::Forbidden(
                "your role (telecaller) may not assign leads".into(),
            ));
        }
        require(&current, Capability::AssignLeads)?;
    }
    let valid = patch.validate()?;
    if let Some(phone) = valid.phone()
        && let Some(existing) = state.store.find_by_phone(phone.as_str()).await?
        && existing != id
    {
        // only when the caller can see the lead itself: no probing by 409
        if state.store.get_lead(id, own.as_deref()).await?.is_none() {
            return Err(not_found());
        }
        return Err(duplicate_phone(existing));
    }
    let actor = current.user.email.clone();
    let at = now();
    let refusal = crate::domain::Refusal::default();
    let refused = refusal.clone();
    let outcome = state
        .store
        .update_leads(
            &[id],
            own.as_deref(),
            Box::new(move |lead| {
                refused
                    .keep(valid.clone().apply(lead, &actor, at))
                    .is_some()
            }),
        )
        .await?;
    refusal.check()?;
    let lead = outcome.changed.into_iter().next().ok_or_else(not_found)?;
    Ok(Json(present(&current, lead)))
}

async fn remove(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::DeleteLeads)?;
    let out = state.store.delete_leads(&[id], None).await?;
    if out.deleted.is_empty() {
        return Err(not_found());
    }
    audit(
        &state,
        &current,
        "leads.delete",
        json!({ "ids": [id], "count": 1 }),
    )
    .await;
    Ok(Json(json!({ "deleted": 1, "id": id })))
}
