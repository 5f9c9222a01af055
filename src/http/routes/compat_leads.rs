//! The original system's lead routes that Pulse's own API names or shapes
//! differently (COMPAT §2.4, §2.8–2.10): `create-lead` and
//! `check-duplicate` as its frontend calls them, remarks under
//! `/{id}/remarks`, bulk unassign (`telecallers/deassign-leads`), the
//! `leads-bulk/status` alias, the no-response list, the unwired
//! `leads/{id}/status` and `sync-stage`. Each maps the
//! original's body onto a use-case of [`crate::service`] and answers the
//! original's keys (with Pulse's beside them where they do not clash).

use axum::extract::State;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::leads_bulk::{BulkAnswer, Count, StatusBody};
use crate::domain::sync_stage::SyncStage;
use crate::domain::{Actor, LeadInput, LeadPatch, Stage};
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::state::AppState;
use crate::service::call_reports::{self, NoResponseGroup};
use crate::service::calls::{self, LeadView, UserNames};
use crate::service::leads::{self as lead_service};
use crate::service::leads_bulk;
use crate::service::leads_intake::{self, Intake};

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/driver-onboarding/create-lead", post(create_lead))
        .route(
            "/api/driver-onboarding/check-duplicate",
            post(check_duplicate),
        )
        .route(
            "/api/driver-onboarding/{id}/remarks",
            post(add_remark).get(remarks),
        )
        .route("/api/telecallers/deassign-leads", post(deassign))
        .route(
            "/api/driver-onboarding/leads-bulk/status",
            patch(bulk_status),
        )
        .route(
            "/api/driver-onboarding/no-response-leads",
            get(no_response_leads),
        )
        .route(
            "/api/driver-onboarding/leads/{id}/status",
            patch(set_status),
        )
        .route(
            "/api/driver-onboarding/leads/{id}/sync-stage",
            post(sync_stage),
        )
        .route(
            "/api/driver-onboarding/documents/status/{id}",
            get(document_status),
        )
}

/// A phone number sent as a JSON number becomes its digits.
fn phone_as_text(body: &mut Map<String, Value>) {
    if let Some(Value::Number(n)) = body.get("phone_number") {
        let text = n.to_string();
        body.insert("phone_number".into(), Value::String(text));
    }
}

fn is_yes(v: Option<&Value>) -> Option<bool> {
    v.and_then(Value::as_str)
        .map(|s| s.trim().eq_ignore_ascii_case("yes"))
}

/// The original create-lead body in Pulse's field names: `has_driving_license`
/// → `driving_license` (Yes/No), `driving_license_no` → `dl_no` and
/// `badge_no` only when their flag is "yes", an empty source → "Manual
/// Entry". Returns it and the duplicate policy (`skip` unless `replace`).
fn original_lead(mut body: Map<String, Value>) -> AppResult<(Map<String, Value>, bool)> {
    phone_as_text(&mut body);
    let replace = match body.remove("duplicate_action") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("skip") || s.is_empty() => false,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("replace") => true,
        Some(other) => {
            return Err(AppError::Unprocessable(format!(
                "duplicate_action: expected skip or replace, got {other}"
            )));
        }
    };
    let has_dl = is_yes(body.get("has_driving_license"));
    let has_badge = is_yes(body.get("has_badge"));
    if let Some(dl) = has_dl {
        let flag = if dl { "Yes" } else { "No" };
        body.entry("driving_license")
            .or_insert_with(|| Value::String(flag.into()));
    }
    let dl_no = body.remove("driving_license_no");
    if has_dl == Some(true)
        && let Some(v) = dl_no
    {
        body.entry("dl_no").or_insert(v);
    }
    if has_badge == Some(false) {
        body.remove("badge_no");
    }
    let blank_source = body
        .get("source")
        .is_none_or(|v| v.as_str().is_none_or(|s| s.trim().is_empty()));
    if blank_source {
        body.insert("source".into(), Value::String("Manual Entry".into()));
    }
    // the original always starts a new lead in S1; the stage follows the status here
    body.remove("stage");
    Ok((body, replace))
}

/// The original's create body: a lead's fields, in the original's names
/// (`has_driving_license`, `driving_license_no`, `has_badge`, a numeric
/// `phone_number`) or Pulse's, and `duplicate_action` (skip | replace).
/// Kept as the object it is until mapped onto Pulse's fields.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct OriginalLeadBody(Map<String, Value>);

/// `{phone_number}`: text or a JSON number.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct CheckDuplicateBody {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    phone_number: Option<Value>,
}

/// `{success, message, lead_id}`; for a skipped duplicate `{success:
/// false, message, duplicate: true}`; Pulse's `lead` when one was written.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreateLeadAnswer {
    success: bool,
    message: &'static str,
    lead_id: Uuid,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    duplicate: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    replaced: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    lead: Option<LeadView>,
}

/// The original's create: 200 always, a duplicate phone skipped (or, with
/// `duplicate_action: "replace"`, the existing lead changed to the new
/// fields).
async fn create_lead(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(OriginalLeadBody(body)): ApiJson<OriginalLeadBody>,
) -> AppResult<Json<CreateLeadAnswer>> {
    let (body, replace) = original_lead(body)?;
    let bad = |e: serde_json::Error| AppError::Unprocessable(format!("invalid JSON body: {e}"));
    let input: LeadInput = serde_json::from_value(Value::Object(body.clone())).map_err(bad)?;
    let patch: Option<LeadPatch> = if replace {
        Some(serde_json::from_value(Value::Object(body)).map_err(bad)?)
    } else {
        None
    };
    let answer = match leads_intake::create_or_replace(&state, &actor, input, patch).await? {
        Intake::Created(lead) => CreateLeadAnswer {
            success: true,
            message: "Lead created successfully",
            lead_id: lead.id,
            duplicate: false,
            replaced: false,
            lead: Some(calls::view(&state, lead).await?),
        },
        Intake::Skipped(id) => CreateLeadAnswer {
            success: false,
            message: "A lead with this phone number already exists; nothing was written",
            lead_id: id,
            duplicate: true,
            replaced: false,
            lead: None,
        },
        Intake::Replaced(lead) => CreateLeadAnswer {
            success: true,
            message: "The existing lead with this phone number was replaced",
            lead_id: lead.id,
            duplicate: true,
            replaced: true,
            lead: Some(calls::view(&state, lead).await?),
        },
    };
    Ok(Json(answer))
}

/// What the frontend shows of the existing lead.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExistingLead {
    id: Uuid,
    name: String,
    phone_number: String,
    email: Option<String>,
    status: String,
    stage: crate::domain::Stage,
    source: Option<String>,
}

/// `{success, duplicate_found, existing_lead?}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DuplicateAnswer {
    success: bool,
    duplicate_found: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    existing_lead: Option<ExistingLead>,
}

async fn check_duplicate(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<CheckDuplicateBody>,
) -> AppResult<Json<DuplicateAnswer>> {
    let phone = match body.phone_number {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let Some(phone) = phone.as_deref() else {
        return Err(AppError::Unprocessable(
            "phone_number: required (text or a number)".into(),
        ));
    };
    let existing = leads_intake::check_duplicate(&state, &actor, phone).await?;
    Ok(Json(DuplicateAnswer {
        success: true,
        duplicate_found: existing.is_some(),
        existing_lead: existing.map(|l| ExistingLead {
            id: l.id,
            name: l.name,
            phone_number: l.phone_number,
            email: l.email,
            status: l.status,
            stage: l.stage,
            source: l.source,
        }),
    }))
}

/// The original's remark body (`remark_text`); Pulse's `remark` too.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = OriginalRemark)]
pub(crate) struct RemarkBody {
    #[serde(alias = "remark")]
    remark_text: String,
}

/// A remark as the original answered it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RemarkObject {
    text: String,
    timestamp: DateTime<Utc>,
    user_id: Option<Uuid>,
    user_name: String,
    user_email: String,
}

/// `{success, message, remark}` beside Pulse's `remarks_history`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RemarkAdded {
    success: bool,
    message: &'static str,
    remark: RemarkObject,
    remarks_history: Vec<crate::domain::RemarkEntry>,
}

async fn add_remark(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<RemarkBody>,
) -> AppResult<Json<RemarkAdded>> {
    let lead = lead_service::add_remark(&state, &actor, id, body.remark_text).await?;
    let names = UserNames::for_logins(&state, [actor.login.as_str()]).await?;
    let entry =
        lead.remarks_history.last().cloned().ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("a remark was added but not kept"))
        })?;
    Ok(Json(RemarkAdded {
        success: true,
        message: "Remark added",
        remark: RemarkObject {
            text: entry.remark,
            timestamp: entry.updated_at,
            user_id: Some(actor.id),
            user_name: names.of(&entry.updated_by),
            user_email: entry.updated_by,
        },
        remarks_history: lead.remarks_history,
    }))
}

/// `{success, remarks: [newest first], count}` beside Pulse's `id`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RemarkList {
    success: bool,
    id: Uuid,
    remarks: Vec<RemarkObject>,
    count: usize,
}

async fn remarks(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<RemarkList>> {
    let lead = lead_service::get(&state, &actor, id).await?;
    let names = UserNames::for_logins(
        &state,
        lead.remarks_history.iter().map(|e| e.updated_by.as_str()),
    )
    .await?;
    let remarks: Vec<RemarkObject> = lead
        .remarks_history
        .into_iter()
        .rev()
        .map(|e| RemarkObject {
            text: e.remark,
            timestamp: e.updated_at,
            user_id: None,
            user_name: names.of(&e.updated_by),
            user_email: e.updated_by,
        })
        .collect();
    Ok(Json(RemarkList {
        success: true,
        id: lead.id,
        count: remarks.len(),
        remarks,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct LeadIds {
    lead_ids: Vec<String>,
}

async fn deassign(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<LeadIds>,
) -> AppResult<Json<BulkAnswer>> {
    let r = leads_bulk::bulk_unassign(&state, &actor, &b.lead_ids).await?;
    Ok(Json(BulkAnswer::new(r, Count::Deassigned, "unassigned")))
}

async fn bulk_status(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(b): ApiJson<StatusBody>,
) -> AppResult<Json<BulkAnswer>> {
    let r = leads_bulk::bulk_status(&state, &actor, &b.lead_ids, &b.status).await?;
    Ok(Json(BulkAnswer::new(r, Count::Updated, "updated")))
}

/// `{success, total_count, telecaller_groups}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoResponseAnswer {
    success: bool,
    total_count: usize,
    telecaller_groups: Vec<NoResponseGroup>,
}

async fn no_response_leads(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<NoResponseAnswer>> {
    let groups = call_reports::no_response_groups(&state, &actor).await?;
    Ok(Json(NoResponseAnswer {
        success: true,
        total_count: groups.iter().map(|g| g.count).sum(),
        telecaller_groups: groups,
    }))
}

/// `{status}` (the original's unwired status route).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct StatusOnly {
    status: String,
}

/// `{message, lead}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusSet {
    message: &'static str,
    lead: LeadView,
}

/// A status change alone: the same save as a PATCH carrying only `status`
/// (the stage follows it, DESIGN §4; an unknown status is a 422).
async fn set_status(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<StatusOnly>,
) -> AppResult<Json<StatusSet>> {
    let patch = LeadPatch {
        status: Some(b.status),
        ..LeadPatch::default()
    };
    let lead = lead_service::update(&state, &actor, id, patch).await?;
    Ok(Json(StatusSet {
        message: "Status updated",
        lead: calls::view(&state, lead).await?,
    }))
}

/// The original's sync-stage answer: on an advance `{success: true,
/// message, previous_stage, previous_status, new_stage, new_status, lead}`,
/// else `{success: false, message, current_stage, current_status,
/// required_status? | missing_documents?}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SyncAnswer {
    success: bool,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_stage: Option<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_stage: Option<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    new_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_stage: Option<Stage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    required_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing_documents: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lead: Option<LeadView>,
}

async fn sync_stage(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<SyncAnswer>> {
    let synced = leads_intake::sync_stage(&state, &actor, id).await?;
    let before = synced.before;
    let stayed = |message: String| SyncAnswer {
        success: false,
        message,
        previous_stage: None,
        previous_status: None,
        new_stage: None,
        new_status: None,
        current_stage: Some(before.stage),
        current_status: Some(before.status.clone()),
        required_status: None,
        missing_documents: None,
        lead: None,
    };
    let answer = match (synced.outcome, synced.after) {
        (SyncStage::Advance { .. }, Some(after)) => SyncAnswer {
            success: true,
            message: format!("Moved from {} to {}", before.stage, after.stage),
            previous_stage: Some(before.stage),
            previous_status: Some(before.status.clone()),
            new_stage: Some(after.stage),
            new_status: Some(after.status.clone()),
            current_stage: None,
            current_status: None,
            required_status: None,
            missing_documents: None,
            lead: Some(calls::view(&state, after).await?),
        },
        (SyncStage::NeedsStatus { required }, _) => SyncAnswer {
            required_status: Some(required),
            ..stayed(format!(
                "The lead moves on from {} in status {required}",
                before.stage
            ))
        },
        (SyncStage::MissingDocuments(missing), _) => SyncAnswer {
            message: format!("Documents missing: {}", missing.join(", ")),
            missing_documents: Some(missing),
            ..stayed(String::new())
        },
        (SyncStage::Final, _) | (SyncStage::Advance { .. }, None) => {
            stayed(format!("{} is the last stage", before.stage))
        }
    };
    Ok(Json(answer))
}

/// One document kind's upload state, as the original answered it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentState {
    uploaded: bool,
    file_path: Option<String>,
    uploaded_at: Option<DateTime<Utc>>,
    filename: Option<String>,
}

/// The five kinds the original's lead dialog asks about.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Documents {
    dl: DocumentState,
    aadhar: DocumentState,
    pan: DocumentState,
    gas_bill: DocumentState,
    bank_passbook: DocumentState,
}

/// `{success, lead_id, documents}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentStatus {
    success: bool,
    lead_id: Uuid,
    documents: Documents,
}

/// A stub (COMPAT §2.17): Pulse keeps document *numbers* only and no
/// uploaded files, so every kind answers `uploaded: false`, the original's
/// answer for a lead without uploads. The lead must exist within the
/// caller's reach (404 otherwise), as for reading it.
async fn document_status(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<DocumentStatus>> {
    let lead = lead_service::get(&state, &actor, id).await?;
    let none = || DocumentState {
        uploaded: false,
        file_path: None,
        uploaded_at: None,
        filename: None,
    };
    Ok(Json(DocumentStatus {
        success: true,
        lead_id: lead.id,
        documents: Documents {
            dl: none(),
            aadhar: none(),
            pan: none(),
            gas_bill: none(),
            bank_passbook: none(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_original_body_in_pulse_names() {
        let Value::Object(body) = json!({
            "name": "Ravi", "phone_number": 9876543210_u64, "has_driving_license": "yes",
            "driving_license_no": "TN01", "has_badge": "no", "badge_no": "B1",
            "source": "", "duplicate_action": "replace", "stage": "S3"
        }) else {
            unreachable!()
        };
        let (b, replace) = original_lead(body).unwrap();
        assert!(replace);
        assert_eq!(b["phone_number"], "9876543210");
        assert_eq!(b["driving_license"], "Yes");
        assert_eq!(b["dl_no"], "TN01");
        assert_eq!(b["source"], "Manual Entry");
        assert!(b.get("badge_no").is_none() && b.get("stage").is_none());
        let Value::Object(bad) = json!({"duplicate_action": "merge"}) else {
            unreachable!()
        };
        assert!(original_lead(bad).is_err());
    }
}
