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
use crate::domain::{AccountType, Capability, Lead, LeadPatch, PhoneNumber, Status};
use crate::http::AppState;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Tel,
    Date,
    Document,
    Status,
}

/// One editable field: its form name, label and kind.
struct Spec {
    key: &'static str,
    label: &'static str,
    kind: Kind,
}

const fn spec(key: &'static str, label: &'static str, kind: Kind) -> Spec {
    Spec { key, label, kind }
}

const GROUPS: &[(&str, &[Spec])] = &[
    (
        "Identity",
        &[
            spec("name", "Name", Kind::Text),
            spec("phone_number", "Phone", Kind::Tel),
            spec("email", "E-mail", Kind::Text),
        ],
    ),
    (
        "Profile",
        &[
            spec("vehicle", "Vehicle", Kind::Text),
            spec("driving_license", "Driving licence", Kind::Text),
            spec("experience", "Experience", Kind::Text),
            spec("interested_ev", "Interested in EV", Kind::Text),
            spec("monthly_salary", "Monthly salary", Kind::Text),
            spec("residing_chennai", "Lives in Chennai", Kind::Text),
            spec("current_location", "Current location", Kind::Text),
            spec("preferred_shift", "Preferred shift", Kind::Text),
            spec("allotted_shift", "Allotted shift", Kind::Text),
            spec("default_vehicle", "Default vehicle", Kind::Text),
            spec("end_date", "End date", Kind::Date),
        ],
    ),
    (
        "Documents",
        &[
            spec("dl_no", "DL number", Kind::Document),
            spec("badge_no", "Badge number", Kind::Document),
            spec("aadhar_card", "Aadhaar", Kind::Document),
            spec("pan_card", "PAN", Kind::Document),
            spec("gas_bill", "Gas bill", Kind::Document),
            spec("bank_passbook", "Bank passbook", Kind::Document),
        ],
    ),
    (
        "Pipeline",
        &[
            spec("status", "Status", Kind::Status),
            spec("assigned_telecaller", "Telecaller", Kind::Text),
            spec("assigned_date", "Assigned for", Kind::Date),
            spec("callback_date", "Callback", Kind::Date),
        ],
    ),
    (
        "Provenance",
        &[
            spec("source", "Source", Kind::Text),
            spec("import_date", "Imported", Kind::Date),
        ],
    ),
];

/// The lead's current value of a field, as the form shows it (already
/// masked for users who may not see documents).
fn current(lead: &Lead, key: &str) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let d = |v: Option<NaiveDate>| v.map(|d| d.to_string()).unwrap_or_default();
    match key {
        "name" => lead.name.clone(),
        "phone_number" => lead.phone_number.clone(),
        "email" => o(&lead.email),
        "vehicle" => o(&lead.vehicle),
        "driving_license" => o(&lead.driving_license),
        "experience" => o(&lead.experience),
        "interested_ev" => o(&lead.interested_ev),
        "monthly_salary" => o(&lead.monthly_salary),
        "residing_chennai" => o(&lead.residing_chennai),
        "current_location" => o(&lead.current_location),
        "preferred_shift" => o(&lead.preferred_shift),
        "allotted_shift" => o(&lead.allotted_shift),
        "default_vehicle" => o(&lead.default_vehicle),
        "end_date" => d(lead.end_date),
        "dl_no" => o(&lead.dl_no),
        "badge_no" => o(&lead.badge_no),
        "aadhar_card" => o(&lead.aadhar_card),
        "pan_card" => o(&lead.pan_card),
        "gas_bill" => o(&lead.gas_bill),
        "bank_passbook" => o(&lead.bank_passbook),
        "status" => lead.status.clone(),
        "assigned_telecaller" => o(&lead.assigned_telecaller),
        "assigned_date" => d(lead.assigned_date),
        "callback_date" => d(lead.callback_date),
        "source" => o(&lead.source),
        "import_date" => d(lead.import_date),
        _ => String::new(),
    }
}

struct FormField {
    key: &'static str,
    label: &'static str,
    /// `text`, `tel`, `date` or `status`.
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
    let groups = GROUPS
        .iter()
        .map(|(title, specs)| FormGroup {
            title,
            fields: specs
                .iter()
                .filter(|s| editable(user, s.key))
                .map(|s| {
                    let masked_doc = s.kind == Kind::Document && !unmasked;
                    let shown = current(lead, s.key);
                    let value = match submitted.and_then(|m| m.get(s.key)) {
                        Some(v) => v.clone(),
                        None if masked_doc => String::new(),
                        None => shown.clone(),
                    };
                    let (error, error_link) = errors
                        .get(s.key)
                        .cloned()
                        .map_or((None, None), |(e, l)| (Some(e), l));
                    FormField {
                        key: s.key,
                        label: s.label,
                        input: match s.kind {
                            Kind::Text | Kind::Document => "text",
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
/// the user was shown; an empty masked document means "keep".
fn patch_from_form(
    user: &PageUser,
    lead: &Lead,
    form: &HashMap<String, String>,
) -> (LeadPatch, Errors) {
    let unmasked = user.can(Capability::SeeUnmaskedPii);
    let mut errors: Errors = HashMap::new();
    let mut p = LeadPatch::default();
    for (_, specs) in GROUPS {
        for s in specs.iter().filter(|s| editable(user, s.key)) {
            let Some(raw) = form.get(s.key) else { continue };
            if reject_nul(s.key, raw).is_err() {
                errors.insert(s.key, ("Must not contain the NUL character.".into(), None));
                continue;
            }
            let masked_doc = s.kind == Kind::Document && !unmasked;
            if masked_doc && raw.trim().is_empty() {
                continue;
            }
            // unchanged, which for a masked document includes its mask typed back
            if *raw == current(lead, s.key) {
                continue;
            }
            let text = || (!raw.trim().is_empty()).then(|| raw.clone());
            let day = |errors: &mut Errors| -> Option<Option<NaiveDate>> {
                if raw.trim().is_empty() {
                    return Some(None);
                }
                match NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
                    Ok(d) => Some(Some(d)),
                    Err(_) => {
                        errors.insert(s.key, ("Not a date (YYYY-MM-DD).".into(), None));
                        None
                    }
                }
            };
            match s.key {
                "name" => {
                    if raw.trim().is_empty() {
                        errors.insert("name", ("A name is needed.".into(), None));
                    } else {
                        p.name = Some(raw.clone());
                    }
                }
                "phone_number" => match PhoneNumber::parse(raw) {
                    Ok(_) => p.phone_number = Some(raw.clone()),
                    Err(e) => {
                        errors.insert("phone_number", (capitalise(&e.to_string()), None));
                    }
                },
                "status" => match Status::parse(raw) {
                    Ok(_) => p.status = Some(raw.clone()),
                    Err(_) => {
                        errors.insert("status", ("Choose a status from the list.".into(), None));
                    }
                },
                "end_date" => p.end_date = day(&mut errors),
                "assigned_date" => p.assigned_date = day(&mut errors),
                "callback_date" => p.callback_date = day(&mut errors),
                "import_date" => p.import_date = day(&mut errors),
                "email" => p.email = Some(text()),
                "vehicle" => p.vehicle = Some(text()),
                "driving_license" => p.driving_license = Some(text()),
                "experience" => p.experience = Some(text()),
                "interested_ev" => p.interested_ev = Some(text()),
                "monthly_salary" => p.monthly_salary = Some(text()),
                "residing_chennai" => p.residing_chennai = Some(text()),
                "current_location" => p.current_location = Some(text()),
                "preferred_shift" => p.preferred_shift = Some(text()),
                "allotted_shift" => p.allotted_shift = Some(text()),
                "default_vehicle" => p.default_vehicle = Some(text()),
                "dl_no" => p.dl_no = Some(text()),
                "badge_no" => p.badge_no = Some(text()),
                "aadhar_card" => p.aadhar_card = Some(text()),
                "pan_card" => p.pan_card = Some(text()),
                "gas_bill" => p.gas_bill = Some(text()),
                "bank_passbook" => p.bank_passbook = Some(text()),
                "assigned_telecaller" => p.assigned_telecaller = Some(text()),
                "source" => p.source = Some(text()),
                _ => {}
            }
        }
    }
    (p, errors)
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
                    let key = GROUPS
                        .iter()
                        .flat_map(|(_, specs)| specs.iter())
                        .find(|s| s.key == field)
                        .map_or("name", |s| s.key);
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
