//! The write-path rules of a whole lead (DESIGN §3), applied to every lead
//! an import or a restore writes: what a stored lead may hold.

use super::error::{check_text, max_chars, reject_nul};
use super::{DomainError, FIELDS, Lead, PhoneNumber, Status};

/// The write-path rules of DESIGN §3 for a whole lead: no NUL anywhere
/// (histories included: PostgreSQL's JSONB cannot hold `\u0000` either),
/// every text field within the API's limit (`error::max_chars`: review M9),
/// a name, a normalised phone, a known status (which decides the stage, as
/// for a created lead).
pub fn validate_lead(lead: &mut Lead) -> Result<(), DomainError> {
    for f in FIELDS {
        if let Some(v) = lead.field(f).text() {
            check_text(f.name, v, max_chars(f.name))?;
        }
    }
    for r in &lead.remarks_history {
        reject_nul("remarks_history", &r.remark)?;
        reject_nul("remarks_history", &r.updated_by)?;
    }
    for s in &lead.status_history {
        reject_nul("status_history", &s.status)?;
        reject_nul("status_history", &s.changed_by)?;
    }
    if lead.name.trim().is_empty() {
        return Err(DomainError::Empty { field: "name" });
    }
    let phone = PhoneNumber::parse(&lead.phone_number).map_err(|source| DomainError::Phone {
        field: "phone_number",
        source,
    })?;
    lead.phone_number = phone.into_string();
    let status = Status::parse(&lead.status)?;
    lead.status = status.name().to_owned();
    lead.stage = status.stage();
    Ok(())
}
