//! `/leads/{id}/edit`: change a lead, with each validation error beside its
//! field. Masked document numbers are never sent back: for a user who sees
//! them masked the inputs start empty and an empty one means "no change".

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use uuid::Uuid;

use super::data::{self, PatchOutcome};
use super::lead_detail::lead_id;
use super::page::{
    Layout, OptGroup, PageError, PageResult, PageUser, render, see_other, status_groups,
};
use crate::domain::error::reject_nul;
use crate::domain::{
    AccountType, Capability, FIELDS, FieldDef, FieldRef, FieldType, Group, Lead, LeadPatch,
    PhoneNumber, Status,
};
use crate::http::AppState;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    LongText,
    Tel,
    Date,
    Document,
    Status,
}

/// The fields the form edits: those of the lead field list's page groups a
/// client may write, but the stage (the status decides it).
fn form_fields(group: Group) -> impl Iterator<Item = &'static FieldDef> {
    FIELDS
        .iter()
        .filter(move |f| f.group == group && f.client_writable && f.ty != FieldType::Stage)
}

/// How the form asks for a field.
fn kind(f: &FieldDef) -> Kind {
    match (f.name, f.ty) {
        ("phone_number", _) => Kind::Tel,
        ("status", _) => Kind::Status,
        (_, FieldType::Date) => Kind::Date,
        _ if f.pii => Kind::Document,
        _ if f.group == Group::Notes => Kind::LongText,
        _ => Kind::Text,
    }
}

/// The lead's current value of a field, as the form shows it (already
/// masked for users who may not see documents).
fn current(lead: &Lead, f: &FieldDef) -> String {
    match lead.field(f) {
        FieldRef::Date(d) => d.map(|d| d.to_string()).unwrap_or_default(),
        other => other.text().unwrap_or_default().to_string(),
    }
}

struct FormField {
    key: &'static str,
    label: &'static str,
    /// `text`, `tel`, `date`, `textarea` or `status`.
    input: &'static str,
    value: String,
    placeholder: String,
    hint: Option<&'static str>,
    error: Option<String>,
    /// A link shown with the error (the lead that already has this phone).
    error_link: Option<String>,
}

struct FormGroup {
    title: &'static str,
    fields: Vec<FormField>,
}

#[derive(askama::Template)]
#[template(path = "lead_edit.html")]
struct EditPage {
    l: Layout,
    id: Uuid,
    name: String,
    groups: Vec<FormGroup>,
    status_groups: Vec<OptGroup>,
    error_count: usize,
}

/// Whether `user` may set this field at all: assignment is for those who
/// assign (never a telecaller).
fn editable(user: &PageUser, key: &str) -> bool {
    match key {
        "assigned_telecaller" | "assigned_date" => {
            user.can(Capability::AssignLeads) && user.0.role() != AccountType::Telecaller
        }
        _ => true,
    }
}

fn build(
    user: &PageUser,
    lead: &Lead,
    submitted: Option<&HashMap<String, String>>,
    errors: &HashMap<&'static str, (String, Option<String>)>,
) -> EditPage {
    let unmasked = user.can(Capability::SeeUnmaskedPii);
    let groups = Group::SHOWN
        .iter()
        .map(|&g| FormGroup {
            title: g.title(),
            fields: form_fields(g)
                .filter(|f| editable(user, f.name))
                .map(|f| {
                    let kind = kind(f);
                    let masked_doc = kind == Kind::Document && !unmasked;
                    let shown = current(lead, f);
                    let value = match submitted.and_then(|m| m.get(f.name)) {
                        Some(v) => v.clone(),
                        None if masked_doc => String::new(),
                        None => shown.clone(),
                    };
                    let (error, error_link) = errors
                        .get(f.name)
                        .cloned()
                        .map_or((None, None), |(e, l)| (Some(e), l));
                    FormField {
                        key: f.name,
                        label: f.label,
                        input: match kind {
                            Kind::Text | Kind::Document => "text",
                            Kind::LongText => "textarea",
                            Kind::Tel => "tel",
                            Kind::Date => "date",
                            Kind::Status => "status",
                        },
                        value,
                        placeholder: if masked_doc { shown.clone() } else { String::new() },
                        hint: if masked_doc && !shown.is_empty() {
                            Some("Shown masked. Leave empty to keep it, or type the whole new number.")
                        } else if masked_doc {
                            Some("Empty. Type the number to add it.")
                        } else {
                            None
                        },
                        error,
                        error_link,
                    }
                })
                .collect(),
        })
        .filter(|g| !g.fields.is_empty())
        .collect();
    let selected = submitted
        .and_then(|m| m.get("status").cloned())
        .unwrap_or_else(|| lead.status.clone());
    EditPage {
        l: Layout::new(format!("Edit {}", lead.name), Some(user)),
        id: lead.id,
        name: lead.name.clone(),
        groups,
        status_groups: status_groups(&selected),
        error_count: errors.len(),
    }
}

fn require_edit(user: &PageUser) -> Result<(), PageError> {
    if user.can(Capability::EditLeads) {
        Ok(())
    } else {
        Err(PageError::Forbidden(format!(
            "Your role ({}) may not change leads.",
            super::page::role_label(user.0.role())
        )))
    }
}

/// `GET /leads/{id}/edit`.
pub(super) async fn form(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    require_edit(&user)?;
    let id = lead_id(&id)?;
    let lead = data::get(&state, &user.actor(), id)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok(render(
        StatusCode::OK,
        &build(&user, &lead, None, &HashMap::new()),
    ))
}

type Errors = HashMap<&'static str, (String, Option<String>)>;

/// The patch the form asks for: only fields whose value differs from what
/// the user was shown; an empty masked document means "keep". Each value is
/// checked beside its field first, then the patch is read as the API reads
/// one (`""` clears a field).
fn patch_from_form(
    user: &PageUser,
    lead: &Lead,
    form: &HashMap<String, String>,
) -> (LeadPatch, Errors) {
    let unmasked = user.can(Capability::SeeUnmaskedPii);
    let mut errors: Errors = HashMap::new();
    let mut body = serde_json::Map::new();
    for &g in &Group::SHOWN {
        for f in form_fields(g).filter(|f| editable(user, f.name)) {
            let Some(raw) = form.get(f.name) else {
                continue;
            };
            if reject_nul(f.name, raw).is_err() {
                errors.insert(f.name, ("Must not contain the NUL character.".into(), None));
                continue;
            }
            let kind = kind(f);
            if kind == Kind::Document && !unmasked && raw.trim().is_empty() {
                continue;
            }
            // unchanged, which for a masked document includes its mask typed back
            if *raw == current(lead, f) {
                continue;
            }
            let value = match kind {
                _ if f.name == "name" && raw.trim().is_empty() => {
                    errors.insert(f.name, ("A name is needed.".into(), None));
                    continue;
                }
                Kind::Tel => match PhoneNumber::parse(raw) {
                    Ok(_) => raw.clone(),
                    Err(e) => {
                        errors.insert(f.name, (capitalise(&e.to_string()), None));
                        continue;
                    }
                },
                Kind::Status => match Status::parse(raw) {
                    Ok(_) => raw.clone(),
                    Err(_) => {
                        errors.insert(f.name, ("Choose a status from the list.".into(), None));
                        continue;
                    }
                },
                Kind::Date if raw.trim().is_empty() => String::new(),
                Kind::Date => match NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
                    Ok(d) => d.to_string(),
                    Err(_) => {
                        errors.insert(f.name, ("Not a date (YYYY-MM-DD).".into(), None));
                        continue;
                    }
                },
                _ => raw.clone(),
            };
            body.insert(f.name.to_string(), value.into());
        }
    }
    let patch = match serde_json::from_value(serde_json::Value::Object(body)) {
        Ok(p) => p,
        Err(e) => {
            errors.insert("name", (capitalise(&e.to_string()), None));
            LeadPatch::default()
        }
    };
    (patch, errors)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `POST /leads/{id}/edit`.
pub(super) async fn submit(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    require_edit(&user)?;
    let id = lead_id(&id)?;
    let lead = data::get(&state, &user.actor(), id)
        .await?
        .ok_or(PageError::NotFound)?;
    let form: HashMap<String, String> = fields.into_iter().collect();
    let (patch, mut errors) = patch_from_form(&user, &lead, &form);
    if errors.is_empty() {
        match patch.clone().validate() {
            Err(e) => {
                errors.insert(e.field(), (capitalise(&e.to_string()), None));
            }
            Ok(_) => match data::patch(&state, &user.actor(), id, patch).await? {
                PatchOutcome::Saved => return Ok(see_other(&format!("/leads/{id}?done=saved"))),
                PatchOutcome::NotFound => return Err(PageError::NotFound),
                PatchOutcome::Invalid(m) => {
                    let field = m.split(':').next().unwrap_or("name");
                    let key = FIELDS
                        .iter()
                        .find(|f| f.name == field)
                        .map_or("name", |f| f.name);
                    errors.insert(key, (capitalise(&m), None));
                }
                PatchOutcome::DuplicatePhone(other) => {
                    errors.insert(
                        "phone_number",
                        (
                            "Another lead already has this phone number.".into(),
                            other.map(|o| format!("/leads/{o}")),
                        ),
                    );
                }
            },
        }
    }
    Ok(render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &build(&user, &lead, Some(&form), &errors),
    ))
}
