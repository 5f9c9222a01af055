//! The write-path rules of a whole lead (DESIGN §3), applied to every lead
//! an import or a restore writes: what a stored lead may hold.

use super::error::reject_nul;
use super::{DomainError, Lead, PhoneNumber, Status};

/// The write-path rules of DESIGN §3 for a whole lead: no NUL anywhere
/// (histories included: PostgreSQL's JSONB cannot hold `\u0000` either), a
/// name, a normalised phone, a known status (which decides the stage, as
/// for a created lead).
pub fn validate_lead(lead: &mut Lead) -> Result<(), DomainError> {
    let texts: [(&'static str, Option<&str>); 23] = [
        ("name", Some(&lead.name)),
        ("phone_number", Some(&lead.phone_number)),
        ("email", lead.email.as_deref()),
        ("vehicle", lead.vehicle.as_deref()),
        ("driving_license", lead.driving_license.as_deref()),
        ("experience", lead.experience.as_deref()),
        ("interested_ev", lead.interested_ev.as_deref()),
        ("monthly_salary", lead.monthly_salary.as_deref()),
        ("residing_chennai", lead.residing_chennai.as_deref()),
        ("current_location", lead.current_location.as_deref()),
        ("preferred_shift", lead.preferred_shift.as_deref()),
        ("allotted_shift", lead.allotted_shift.as_deref()),
        ("default_vehicle", lead.default_vehicle.as_deref()),
        ("dl_no", lead.dl_no.as_deref()),
        ("badge_no", lead.badge_no.as_deref()),
        ("aadhar_card", lead.aadhar_card.as_deref()),
        ("pan_card", lead.pan_card.as_deref()),
        ("gas_bill", lead.gas_bill.as_deref()),
        ("bank_passbook", lead.bank_passbook.as_deref()),
        ("status", Some(&lead.status)),
        ("assigned_telecaller", lead.assigned_telecaller.as_deref()),
        ("source", lead.source.as_deref()),
        ("remarks", lead.remarks.as_deref()),
    ];
    for (field, value) in texts {
        if let Some(v) = value {
            reject_nul(field, v)?;
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
