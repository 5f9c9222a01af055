//! Changing a lead: a partial update where "absent" and "null" differ.

use chrono::{DateTime, Utc};

use super::error::{DomainError, MAX_HISTORY, check_text, max_chars};
use super::lead::Lead;
pub use super::lead_fields::LeadPatch;
use super::phone::PhoneNumber;
use super::pii::{DocumentWrite, document_write};
use super::pipeline::{Status, StatusChange};

/// A validated [`LeadPatch`]; apply it with [`ValidPatch::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPatch {
    patch: LeadPatch,
    phone: Option<PhoneNumber>,
    status: Option<Status>,
}

impl LeadPatch {
    /// Checks the same rules as [`super::LeadInput::validate`] for the
    /// fields present. `status` decides the stage; a sent `stage` is
    /// ignored.
    pub fn validate(self) -> Result<ValidPatch, DomainError> {
        // a sent stage is ignored, so it is not checked either
        for (field, value) in self.sent_texts().filter(|(f, _)| *f != "stage") {
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
        if let Some(name) = p.name.take() {
            lead.name = name;
        }
        if let Some(phone) = phone {
            lead.phone_number = phone.into_string();
        }
        // every other field the patch names, as sent
        p.set_plain(lead);
        if let Some(v) = p.assigned_date {
            lead.assigned_date = v;
        }
        if let Some(v) = p.import_date {
            lead.import_date = v;
        }
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
