//! Creating a lead: the request body, parsed into a value that can only
//! describe a valid lead.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::error::{DomainError, check_text, max_chars};
use super::ist::today_ist;
use super::lead::{Lead, RemarkEntry, StatusEntry};
use super::phone::PhoneNumber;
use super::pipeline::{Stage, Status};

/// A new lead as a client or an import row sends it: only `name` and
/// `phone_number` are required. Unknown fields are ignored, so the original
/// clients' extra fields do no harm.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LeadInput {
    /// Driver's name; must not be blank.
    pub name: String,
    /// Any accepted spelling of a mobile number (see [`PhoneNumber::parse`]).
    pub phone_number: String,
    /// See [`Lead::email`].
    pub email: Option<String>,
    /// See [`Lead::vehicle`].
    pub vehicle: Option<String>,
    /// See [`Lead::driving_license`].
    pub driving_license: Option<String>,
    /// See [`Lead::experience`].
    pub experience: Option<String>,
    /// See [`Lead::interested_ev`].
    pub interested_ev: Option<String>,
    /// See [`Lead::monthly_salary`].
    pub monthly_salary: Option<String>,
    /// See [`Lead::residing_chennai`].
    pub residing_chennai: Option<String>,
    /// See [`Lead::current_location`].
    pub current_location: Option<String>,
    /// See [`Lead::preferred_shift`].
    pub preferred_shift: Option<String>,
    /// See [`Lead::allotted_shift`].
    pub allotted_shift: Option<String>,
    /// See [`Lead::default_vehicle`].
    pub default_vehicle: Option<String>,
    /// See [`Lead::end_date`].
    pub end_date: Option<NaiveDate>,
    /// See [`Lead::dl_no`].
    pub dl_no: Option<String>,
    /// See [`Lead::badge_no`].
    pub badge_no: Option<String>,
    /// See [`Lead::aadhar_card`].
    pub aadhar_card: Option<String>,
    /// See [`Lead::pan_card`].
    pub pan_card: Option<String>,
    /// See [`Lead::gas_bill`].
    pub gas_bill: Option<String>,
    /// See [`Lead::bank_passbook`].
    pub bank_passbook: Option<String>,
    /// Any spelling [`Stage`]'s `FromStr` accepts.
    pub stage: Option<String>,
    /// Any spelling [`super::match_status`] accepts.
    pub status: Option<String>,
    /// See [`Lead::assigned_telecaller`].
    pub assigned_telecaller: Option<String>,
    /// See [`Lead::assigned_date`].
    pub assigned_date: Option<NaiveDate>,
    /// See [`Lead::callback_date`].
    pub callback_date: Option<NaiveDate>,
    /// See [`Lead::source`].
    pub source: Option<String>,
    /// See [`Lead::import_date`].
    pub import_date: Option<NaiveDate>,
    /// See [`Lead::remarks`].
    pub remarks: Option<String>,
    /// See [`Lead::telecaller_notes`].
    pub telecaller_notes: Option<String>,
    /// See [`Lead::notes`].
    pub notes: Option<String>,
}

/// A validated [`LeadInput`]: the phone is normalised and the stage and
/// status are canonical. Turn it into a [`Lead`] with [`NewLead::into_lead`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLead {
    input: LeadInput,
    phone: PhoneNumber,
    status: Status,
}

impl LeadInput {
    /// Every text field with its name, for the NUL check.
    fn text_fields(&self) -> [(&'static str, Option<&str>); 26] {
        [
            ("name", Some(&self.name)),
            ("phone_number", Some(&self.phone_number)),
            ("email", self.email.as_deref()),
            ("vehicle", self.vehicle.as_deref()),
            ("driving_license", self.driving_license.as_deref()),
            ("experience", self.experience.as_deref()),
            ("interested_ev", self.interested_ev.as_deref()),
            ("monthly_salary", self.monthly_salary.as_deref()),
            ("residing_chennai", self.residing_chennai.as_deref()),
            ("current_location", self.current_location.as_deref()),
            ("preferred_shift", self.preferred_shift.as_deref()),
            ("allotted_shift", self.allotted_shift.as_deref()),
            ("default_vehicle", self.default_vehicle.as_deref()),
            ("dl_no", self.dl_no.as_deref()),
            ("badge_no", self.badge_no.as_deref()),
            ("aadhar_card", self.aadhar_card.as_deref()),
            ("pan_card", self.pan_card.as_deref()),
            ("gas_bill", self.gas_bill.as_deref()),
            ("bank_passbook", self.bank_passbook.as_deref()),
            ("stage", self.stage.as_deref()),
            ("status", self.status.as_deref()),
            ("assigned_telecaller", self.assigned_telecaller.as_deref()),
            ("source", self.source.as_deref()),
            ("remarks", self.remarks.as_deref()),
            ("telecaller_notes", self.telecaller_notes.as_deref()),
            ("notes", self.notes.as_deref()),
        ]
    }

    /// Checks every rule and returns the parsed lead, or the first error.
    ///
    /// - a NUL in any text field is rejected, naming the field;
    /// - `name` must not be blank;
    /// - `phone_number` must parse ([`PhoneNumber::parse`]);
    /// - `status` decides the stage when given (a `stage` that disagrees is
    ///   ignored, as in [`super::apply_status`]); `stage` alone means its
    ///   first status; neither means S1 `New`. A completion status is kept as
    ///   given (no auto-progression on create): imported leads sitting at
    ///   "Highly Interested" must stay there.
    pub fn validate(self) -> Result<NewLead, DomainError> {
        for (field, value) in self.text_fields() {
            if let Some(v) = value {
                check_text(field, v, max_chars(field))?;
                if super::pii::PII_FIELDS.contains(&field) && super::pii::looks_masked(v) {
                    // a new lead has no number of its own to keep
                    return Err(DomainError::Masked { field });
                }
            }
        }
        if self.name.trim().is_empty() {
            return Err(DomainError::Empty { field: "name" });
        }
        let phone =
            PhoneNumber::parse(&self.phone_number).map_err(|source| DomainError::Phone {
                field: "phone_number",
                source,
            })?;
        let stage = self.stage.as_deref().map(str::parse::<Stage>).transpose()?;
        let status = match (self.status.as_deref(), stage) {
            (Some(s), _) => Status::parse(s)?,
            (None, Some(stage)) => Status::first_of(stage),
            (None, None) => Status::first_of(Stage::S1),
        };
        Ok(NewLead {
            input: self,
            phone,
            status,
        })
    }
}

impl NewLead {
    /// The normalised phone, for the duplicate check before inserting.
    pub fn phone(&self) -> &PhoneNumber {
        &self.phone
    }

    /// The canonical status (its stage is the lead's stage).
    pub fn status(&self) -> Status {
        self.status
    }

    /// Builds the lead. Defaults, all in IST days of `now`: `import_date`
    /// today (so date filters find leads created by hand), `assigned_date`
    /// today when a telecaller is given without one, `callback_date` from a
    /// "Call back …" status when none is given. History starts with the
    /// initial status (unless it is `New`, like the original's data) and the
    /// initial remark, both by `actor`.
    pub fn into_lead(self, id: Uuid, actor: &str, now: DateTime<Utc>) -> Lead {
        let today = today_ist(now);
        let NewLead {
            input: i,
            phone,
            status,
        } = self;
        let callback_date = i.callback_date.or_else(|| {
            status
                .callback_days()
                .and_then(|d| today.checked_add_days(chrono::Days::new(d)))
        });
        let assigned_date = i
            .assigned_date
            .or(i.assigned_telecaller.as_ref().map(|_| today));
        let status_history = if status == Status::first_of(Stage::S1) {
            Vec::new()
        } else {
            vec![StatusEntry {
                status: status.name().to_owned(),
                stage: status.stage(),
                changed_by: actor.to_owned(),
                changed_at: now,
            }]
        };
        let remarks_history = i
            .remarks
            .iter()
            .map(|r| RemarkEntry {
                remark: r.clone(),
                updated_by: actor.to_owned(),
                updated_at: now,
            })
            .collect();
        Lead {
            id,
            name: i.name,
            phone_number: phone.into_string(),
            email: i.email,
            vehicle: i.vehicle,
            driving_license: i.driving_license,
            experience: i.experience,
            interested_ev: i.interested_ev,
            monthly_salary: i.monthly_salary,
            residing_chennai: i.residing_chennai,
            current_location: i.current_location,
            preferred_shift: i.preferred_shift,
            allotted_shift: i.allotted_shift,
            default_vehicle: i.default_vehicle,
            end_date: i.end_date,
            dl_no: i.dl_no,
            badge_no: i.badge_no,
            aadhar_card: i.aadhar_card,
            pan_card: i.pan_card,
            gas_bill: i.gas_bill,
            bank_passbook: i.bank_passbook,
            stage: status.stage(),
            status: status.name().to_owned(),
            assigned_telecaller: i.assigned_telecaller,
            assigned_date,
            callback_date,
            last_called: None,
            source: i.source,
            import_date: Some(i.import_date.unwrap_or(today)),
            remarks: i.remarks,
            telecaller_notes: i.telecaller_notes,
            notes: i.notes,
            remarks_history,
            status_history,
            created_at: now,
            updated_at: now,
        }
    }
}

#[cfg(test)]
#[path = "lead_input_tests.rs"]
mod tests;
