//! Creating a lead: the request body, parsed into a value that can only
//! describe a valid lead.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::{DomainError, check_text, max_chars};
use super::ist::today_ist;
use super::lead::{Lead, RemarkEntry, StatusEntry};
pub use super::lead_fields::LeadInput;
use super::phone::PhoneNumber;
use super::pipeline::{Stage, Status};

/// A validated [`LeadInput`]: the phone is normalised and the stage and
/// status are canonical. Turn it into a [`Lead`] with [`NewLead::into_lead`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLead {
    input: LeadInput,
    phone: PhoneNumber,
    status: Status,
}

impl LeadInput {
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
        for (field, value) in self.sent_texts() {
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
            input: mut i,
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
        let mut lead = Lead {
            id,
            name: std::mem::take(&mut i.name),
            phone_number: phone.into_string(),
            stage: status.stage(),
            status: status.name().to_owned(),
            assigned_date,
            callback_date,
            last_called: None,
            import_date: Some(i.import_date.unwrap_or(today)),
            remarks: i.remarks.take(),
            remarks_history,
            status_history,
            created_at: now,
            updated_at: now,
            ..Lead::default()
        };
        // every other field the client wrote, as sent
        i.move_plain(&mut lead);
        lead
    }
}

#[cfg(test)]
#[path = "lead_input_tests.rs"]
mod tests;
