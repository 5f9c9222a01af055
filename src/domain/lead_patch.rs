//! Changing a lead: a partial update where "absent" and "null" differ.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};

use super::error::{DomainError, MAX_HISTORY, check_text, max_chars};
use super::lead::Lead;
use super::phone::PhoneNumber;
use super::pii::{DocumentWrite, document_write};
use super::pipeline::{Status, StatusChange};

/// The original frontend's save semantics (COMPAT §1.6): the dialog sends
/// every field, many as `null`, so `null` (like an absent key) leaves the
/// field alone (`None`), and `""` (also all blanks) clears it
/// (`Some(None)`). A date may come as a date-time; its date part is taken.
fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    use serde::de::Error;
    let value = Option::<serde_json::Value>::deserialize(d)?;
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(Some(None)),
        Some(v) => {
            // "2026-03-01T00:00:00+05:30" for a date field: its date part
            let v = match &v {
                serde_json::Value::String(s)
                    if s.len() > 10
                        && s.is_char_boundary(10)
                        && matches!(s.as_bytes()[10], b'T' | b' ')
                        && T::deserialize(serde_json::Value::String(s.clone())).is_err() =>
                {
                    serde_json::Value::String(s[..10].to_string())
                }
                _ => v,
            };
            T::deserialize(v)
                .map(|t| Some(Some(t)))
                .map_err(D::Error::custom)
        }
    }
}

/// A phone number as text or as a JSON number (the original accepted
/// both); `null` leaves it alone.
fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::de::Error;
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(D::Error::custom(format!(
            "expected a phone number as text or a number, got {other}"
        ))),
    }
}

/// A partial update. Outer `None` (absent or `null`) = leave the field
/// alone; for nullable fields `Some(None)` (JSON `""`) clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[allow(clippy::option_option)] // absent vs null is the point of a PATCH
pub struct LeadPatch {
    /// New name; must not be blank.
    pub name: Option<String>,
    /// New phone, any accepted spelling (text or a JSON number).
    #[serde(deserialize_with = "text_or_number")]
    pub phone_number: Option<String>,
    /// See [`Lead::email`].
    #[serde(deserialize_with = "nullable")]
    pub email: Option<Option<String>>,
    /// See [`Lead::vehicle`].
    #[serde(deserialize_with = "nullable")]
    pub vehicle: Option<Option<String>>,
    /// See [`Lead::driving_license`].
    #[serde(deserialize_with = "nullable")]
    pub driving_license: Option<Option<String>>,
    /// See [`Lead::experience`].
    #[serde(deserialize_with = "nullable")]
    pub experience: Option<Option<String>>,
    /// See [`Lead::interested_ev`].
    #[serde(deserialize_with = "nullable")]
    pub interested_ev: Option<Option<String>>,
    /// See [`Lead::monthly_salary`].
    #[serde(deserialize_with = "nullable")]
    pub monthly_salary: Option<Option<String>>,
    /// See [`Lead::residing_chennai`].
    #[serde(deserialize_with = "nullable")]
    pub residing_chennai: Option<Option<String>>,
    /// See [`Lead::current_location`].
    #[serde(deserialize_with = "nullable")]
    pub current_location: Option<Option<String>>,
    /// See [`Lead::preferred_shift`].
    #[serde(deserialize_with = "nullable")]
    pub preferred_shift: Option<Option<String>>,
    /// See [`Lead::allotted_shift`].
    #[serde(deserialize_with = "nullable")]
    pub allotted_shift: Option<Option<String>>,
    /// See [`Lead::default_vehicle`].
    #[serde(deserialize_with = "nullable")]
    pub default_vehicle: Option<Option<String>>,
    /// See [`Lead::end_date`].
    #[serde(deserialize_with = "nullable")]
    pub end_date: Option<Option<NaiveDate>>,
    /// See [`Lead::dl_no`].
    #[serde(deserialize_with = "nullable")]
    pub dl_no: Option<Option<String>>,
    /// See [`Lead::badge_no`].
    #[serde(deserialize_with = "nullable")]
    pub badge_no: Option<Option<String>>,
    /// See [`Lead::aadhar_card`].
    #[serde(deserialize_with = "nullable")]
    pub aadhar_card: Option<Option<String>>,
    /// See [`Lead::pan_card`].
    #[serde(deserialize_with = "nullable")]
    pub pan_card: Option<Option<String>>,
    /// See [`Lead::gas_bill`].
    #[serde(deserialize_with = "nullable")]
    pub gas_bill: Option<Option<String>>,
    /// See [`Lead::bank_passbook`].
    #[serde(deserialize_with = "nullable")]
    pub bank_passbook: Option<Option<String>>,
    /// Accepted and ignored: the stage follows the status (the original
    /// frontend sends its own idea of the stage with every save).
    pub stage: Option<String>,
    /// New status, any accepted spelling; pipeline rules apply.
    pub status: Option<String>,
    /// See [`Lead::assigned_telecaller`].
    #[serde(deserialize_with = "nullable")]
    pub assigned_telecaller: Option<Option<String>>,
    /// See [`Lead::assigned_date`].
    #[serde(deserialize_with = "nullable")]
    pub assigned_date: Option<Option<NaiveDate>>,
    /// See [`Lead::callback_date`]; wins over one derived from `status`.
    #[serde(deserialize_with = "nullable")]
    pub callback_date: Option<Option<NaiveDate>>,
    /// See [`Lead::source`].
    #[serde(deserialize_with = "nullable")]
    pub source: Option<Option<String>>,
    /// See [`Lead::import_date`].
    #[serde(deserialize_with = "nullable")]
    pub import_date: Option<Option<NaiveDate>>,
    /// New remark (appended to `remarks_history` when it differs from the
    /// current one); `""` clears the current remark and leaves the history
    /// alone.
    #[serde(deserialize_with = "nullable")]
    pub remarks: Option<Option<String>>,
    /// See [`Lead::telecaller_notes`]; replaced, no history.
    #[serde(deserialize_with = "nullable")]
    pub telecaller_notes: Option<Option<String>>,
    /// See [`Lead::notes`]; replaced, no history.
    #[serde(deserialize_with = "nullable")]
    pub notes: Option<Option<String>>,
}

/// A validated [`LeadPatch`]; apply it with [`ValidPatch::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPatch {
    patch: LeadPatch,
    phone: Option<PhoneNumber>,
    status: Option<Status>,
}

fn flat(v: &Option<Option<String>>) -> Option<&str> {
    v.as_ref().and_then(|v| v.as_deref())
}

impl LeadPatch {
    fn text_fields(&self) -> [(&'static str, Option<&str>); 25] {
        [
            ("name", self.name.as_deref()),
            ("phone_number", self.phone_number.as_deref()),
            ("email", flat(&self.email)),
            ("vehicle", flat(&self.vehicle)),
            ("driving_license", flat(&self.driving_license)),
            ("experience", flat(&self.experience)),
            ("interested_ev", flat(&self.interested_ev)),
            ("monthly_salary", flat(&self.monthly_salary)),
            ("residing_chennai", flat(&self.residing_chennai)),
            ("current_location", flat(&self.current_location)),
            ("preferred_shift", flat(&self.preferred_shift)),
            ("allotted_shift", flat(&self.allotted_shift)),
            ("default_vehicle", flat(&self.default_vehicle)),
            ("dl_no", flat(&self.dl_no)),
            ("badge_no", flat(&self.badge_no)),
            ("aadhar_card", flat(&self.aadhar_card)),
            ("pan_card", flat(&self.pan_card)),
            ("gas_bill", flat(&self.gas_bill)),
            ("bank_passbook", flat(&self.bank_passbook)),
            ("status", self.status.as_deref()),
            ("assigned_telecaller", flat(&self.assigned_telecaller)),
            ("source", flat(&self.source)),
            ("remarks", flat(&self.remarks)),
            ("telecaller_notes", flat(&self.telecaller_notes)),
            ("notes", flat(&self.notes)),
        ]
    }

    /// Checks the same rules as [`super::LeadInput::validate`] for the
    /// fields present. `status` decides the stage; a sent `stage` is
    /// ignored.
    pub fn validate(self) -> Result<ValidPatch, DomainError> {
        for (field, value) in self.text_fields() {
            if let Some(v) = value {
                check_text(field, v, max_chars(field))?;
            }
        }
        if self.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(DomainError::Empty { field: "name" });
        }
        let phone = self
            .phone_number
            .as_deref()
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(|source| DomainError::Phone {
                field: "phone_number",
                source,
            })?;
        let status = self.status.as_deref().map(Status::parse).transpose()?;
        Ok(ValidPatch {
            patch: self,
            phone,
            status,
        })
    }
}

macro_rules! set_if_present {
    ($lead:ident, $patch:ident, $($field:ident),+ $(,)?) => {
        $(if let Some(v) = $patch.$field {
            $lead.$field = v;
        })+
    };
}

impl ValidPatch {
    /// The new normalised phone, if it changes, for the duplicate check.
    pub fn phone(&self) -> Option<&PhoneNumber> {
        self.phone.as_ref()
    }

    /// The requested status, if any.
    pub fn status(&self) -> Option<Status> {
        self.status
    }

    /// Applies the patch to `lead` as `actor` at `now`: plain fields are
    /// set, a status goes through [`Lead::set_status`] (pipeline rules and
    /// history), a remark replaces `remarks` and is appended to
    /// `remarks_history`; `updated_at` becomes `now`. Returns the status change, if there was one.
    ///
    /// A document number that looks masked is never written: the stored number's own mask
    /// (a whole lead sent back as it was shown) leaves it as it is, any other is refused
    /// ([`DomainError::Masked`]), as is a remark beyond [`MAX_HISTORY`]. On an error `lead`
    /// is unchanged.
    pub fn apply(
        self,
        lead: &mut Lead,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StatusChange>, DomainError> {
        let ValidPatch {
            patch: mut p,
            phone,
            status,
        } = self;
        {
            type Doc<'a> = (
                &'static str,
                &'a mut Option<Option<String>>,
                Option<&'a str>,
            );
            let docs: [Doc<'_>; 6] = [
                ("dl_no", &mut p.dl_no, lead.dl_no.as_deref()),
                ("badge_no", &mut p.badge_no, lead.badge_no.as_deref()),
                (
                    "aadhar_card",
                    &mut p.aadhar_card,
                    lead.aadhar_card.as_deref(),
                ),
                ("pan_card", &mut p.pan_card, lead.pan_card.as_deref()),
                ("gas_bill", &mut p.gas_bill, lead.gas_bill.as_deref()),
                (
                    "bank_passbook",
                    &mut p.bank_passbook,
                    lead.bank_passbook.as_deref(),
                ),
            ];
            for (field, sent, stored) in docs {
                if let Some(Some(v)) = sent.as_ref() {
                    match document_write(v, stored) {
                        DocumentWrite::Write => {}
                        DocumentWrite::Keep => *sent = None,
                        DocumentWrite::Refuse => return Err(DomainError::Masked { field }),
                    }
                }
            }
        }
        if matches!(p.remarks, Some(Some(_))) && lead.remarks_history.len() >= MAX_HISTORY {
            return Err(DomainError::TooMany {
                field: "remarks_history",
                max: MAX_HISTORY,
            });
        }
        if let Some(name) = p.name {
            lead.name = name;
        }
        if let Some(phone) = phone {
            lead.phone_number = phone.into_string();
        }
        set_if_present!(
            lead,
            p,
            email,
            vehicle,
            driving_license,
            experience,
            interested_ev,
            monthly_salary,
            residing_chennai,
            current_location,
            preferred_shift,
            allotted_shift,
            default_vehicle,
            end_date,
            dl_no,
            badge_no,
            aadhar_card,
            pan_card,
            gas_bill,
            bank_passbook,
            assigned_telecaller,
            assigned_date,
            source,
            import_date,
            telecaller_notes,
            notes,
        );
        // an unchanged status is no change: no history entry, no new callback
        let change = status
            .filter(|s| s.name() != lead.status)
            .map(|s| lead.set_status(s, actor, now));
        // after set_status, so an explicit date beats the derived one
        if let Some(date) = p.callback_date {
            lead.callback_date = date;
        }
        match p.remarks {
            Some(Some(remark)) if lead.remarks.as_deref() == Some(remark.as_str()) => {}
            Some(Some(remark)) => {
                lead.remarks = Some(remark.clone());
                lead.remarks_history.push(super::lead::RemarkEntry {
                    remark,
                    updated_by: actor.to_owned(),
                    updated_at: now,
                });
            }
            Some(None) => lead.remarks = None,
            None => {}
        }
        lead.updated_at = now;
        Ok(change)
    }
}

#[cfg(test)]
#[path = "lead_patch_tests.rs"]
mod tests;
