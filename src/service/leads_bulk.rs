//! Bulk operations on leads: assign, unassign, reassign date, status and
//! delete. Each is one transaction and reports how many leads changed and
//! which ids were not found (or are out of reach — the same answer, so ids
//! cannot be probed) or not allowed. The rules are the domain's
//! (`Lead::assign`, `unassign`, `reassign`, `set_status`).

use std::sync::{Arc, Mutex};

use serde_json::json;
use uuid::Uuid;

use super::filter::parse_date;
use super::leads::{lead_not_found, now, present, record_status_events, require_telecaller};
use super::{ServiceError, ServiceResult, Services, audit, require};
use crate::domain::error::reject_nul;
use crate::domain::{
    AccountStatus, AccountType, Actor, Capability, DomainError, Lead, Reassigned, Status, today_ist,
};
use crate::store::{BulkOutcome, LeadEdit};

/// Most ids one bulk request may name; larger selections go page by page.
pub const MAX_IDS: usize = 10_000;

/// What a bulk operation did: counts, and the ids it could not touch.
#[derive(Debug)]
pub struct BulkReport {
    /// Leads changed.
    pub updated: usize,
    /// Leads found that needed no change.
    pub unchanged: usize,
    /// Ids that name no lead within reach (or no lead at all).
    pub not_found: Vec<String>,
    /// Leads the rule refused.
    pub not_allowed: Vec<Uuid>,
}

/// What a bulk delete did.
#[derive(Debug)]
pub struct DeleteReport {
    /// Leads deleted.
    pub deleted: usize,
    /// Ids that name no lead.
    pub not_found: Vec<String>,
}

/// Parses `lead_ids`: malformed ids cannot name a lead, so they are
/// reported as not found rather than failing the whole request.
fn parse_ids(ids: &[String]) -> ServiceResult<(Vec<Uuid>, Vec<String>)> {
    if ids.is_empty() {
        return Err(ServiceError::Invalid("lead_ids: must not be empty".into()));
    }
    if ids.len() > MAX_IDS {
        return Err(ServiceError::Invalid(format!(
            "lead_ids: at most {MAX_IDS} ids per request"
        )));
    }
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for id in ids {
        match id.trim().parse::<Uuid>() {
            Ok(u) => good.push(u),
            Err(_) => bad.push(id.clone()),
        }
    }
    Ok((good, bad))
}

fn report(out: BulkOutcome, malformed: Vec<String>, not_allowed: Vec<Uuid>) -> BulkReport {
    let mut not_found: Vec<String> = out.not_found.iter().map(Uuid::to_string).collect();
    not_found.extend(malformed);
    BulkReport {
        updated: out.changed.len(),
        unchanged: out.unchanged - not_allowed.len(),
        not_found,
        not_allowed,
    }
}

/// Assigns leads to `telecaller` from `assigned_date` (today in IST when
/// not given).
pub async fn bulk_assign(
    svc: &Services,
    actor: &Actor,
    lead_ids: &[String],
    telecaller: &str,
    assigned_date: Option<&str>,
) -> ServiceResult<BulkReport> {
    require(actor, Capability::AssignLeads)?;
    let (ids, malformed) = parse_ids(lead_ids)?;
    let telecaller = telecaller.trim().to_string();
    reject_nul("telecaller", &telecaller)?;
    if telecaller.is_empty() {
        return Err(DomainError::Empty {
            field: "telecaller",
        }
        .into());
    }
    require_telecaller(svc, &telecaller).await?;
    let at = now();
    let date = match assigned_date.filter(|d| !d.trim().is_empty()) {
        Some(d) => parse_date("assigned_date", d)?,
        None => today_ist(at),
    };
    let edit: LeadEdit = Box::new(move |lead: &mut Lead| lead.assign(&telecaller, date, at));
    let out = svc.store.update_leads(&ids, None, edit).await?;
    Ok(report(out, malformed, Vec::new()))
}

/// An active telecaller account leads can be assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telecaller {
    /// The login a lead's `assigned_telecaller` holds (the e-mail).
    pub login: String,
    /// First and last name, or the login.
    pub name: String,
}

/// The active telecaller accounts, by name: what an assignment may name
/// (readable by everyone who may assign).
pub async fn telecallers(svc: &Services, actor: &Actor) -> ServiceResult<Vec<Telecaller>> {
    require(actor, Capability::AssignLeads)?;
    let mut out: Vec<Telecaller> = svc
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.account_type == AccountType::Telecaller && u.status == AccountStatus::Active)
        .map(|u| {
            let full = format!("{} {}", u.first_name.trim(), u.last_name.trim());
            let full = full.trim();
            Telecaller {
                name: if full.is_empty() {
                    u.email.clone()
                } else {
                    full.to_string()
                },
                login: u.email,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.login.cmp(&b.login))
    });
    Ok(out)
}

/// Takes leads away from their telecallers (the pages' bulk unassign, the
/// original's deassign-leads); leads without one are unchanged.
pub async fn bulk_unassign(
    svc: &Services,
    actor: &Actor,
    lead_ids: &[String],
) -> ServiceResult<BulkReport> {
    require(actor, Capability::AssignLeads)?;
    let (ids, malformed) = parse_ids(lead_ids)?;
    let at = now();
    let edit: LeadEdit =
        Box::new(move |lead: &mut Lead| lead.assigned_telecaller.is_some() && lead.unassign(at));
    let out = svc.store.update_leads(&ids, None, edit).await?;
    Ok(report(out, malformed, Vec::new()))
}

/// Takes one lead away from its telecaller.
pub async fn unassign(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<Lead> {
    require(actor, Capability::AssignLeads)?;
    let at = now();
    let edit: LeadEdit = Box::new(move |lead: &mut Lead| lead.unassign(at));
    let out = svc.store.update_leads(&[id], None, edit).await?;
    let lead = out.changed.into_iter().next().ok_or_else(lead_not_found)?;
    Ok(present(actor, lead))
}

/// Moves the assignment date of assigned leads; unassigned ones are not
/// allowed.
pub async fn reassign_date(
    svc: &Services,
    actor: &Actor,
    lead_ids: &[String],
    new_date: &str,
) -> ServiceResult<BulkReport> {
    require(actor, Capability::AssignLeads)?;
    let (ids, malformed) = parse_ids(lead_ids)?;
    let date = parse_date("new_date", new_date)?;
    let at = now();
    let refused = Arc::new(Mutex::new(Vec::new()));
    let seen = refused.clone();
    let edit: LeadEdit = Box::new(move |lead: &mut Lead| match lead.reassign(date, at) {
        Reassigned::Changed => true,
        Reassigned::Unchanged => false,
        Reassigned::NotAssigned => {
            seen.lock().expect("not poisoned").push(lead.id);
            false
        }
    });
    let out = svc.store.update_leads(&ids, None, edit).await?;
    let not_allowed = std::mem::take(&mut *refused.lock().expect("not poisoned"));
    Ok(report(out, malformed, not_allowed))
}

/// Sets one status on leads within the actor's reach (pipeline rules apply
/// per lead).
pub async fn bulk_status(
    svc: &Services,
    actor: &Actor,
    lead_ids: &[String],
    status: &str,
) -> ServiceResult<BulkReport> {
    require(actor, Capability::EditLeads)?;
    let (ids, malformed) = parse_ids(lead_ids)?;
    reject_nul("status", status)?;
    let status = Status::parse(status).map_err(DomainError::from)?;
    let login = actor.login.clone();
    let at = now();
    let edit: LeadEdit = Box::new(move |lead: &mut Lead| {
        lead.set_status(status, &login, at);
        true
    });
    let out = svc
        .store
        .update_leads(&ids, actor.lead_scope().as_deref(), edit)
        .await?;
    record_status_events(svc, actor, &out.changed, at).await?;
    Ok(report(out, malformed, Vec::new()))
}

/// Deletes leads (audited).
pub async fn bulk_delete(
    svc: &Services,
    actor: &Actor,
    lead_ids: &[String],
) -> ServiceResult<DeleteReport> {
    require(actor, Capability::DeleteLeads)?;
    let (ids, malformed) = parse_ids(lead_ids)?;
    let out = svc.store.delete_leads(&ids, None).await?;
    let mut not_found: Vec<String> = out.not_found.iter().map(Uuid::to_string).collect();
    not_found.extend(malformed);
    audit::record(
        svc,
        actor,
        "leads.bulk_delete",
        json!({ "count": out.deleted.len(), "ids": out.deleted, "not_found": not_found }),
    )
    .await;
    Ok(DeleteReport {
        deleted: out.deleted.len(),
        not_found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bounded_and_malformed_ones_reported() {
        assert!(parse_ids(&[]).is_err());
        let too_many = vec![Uuid::nil().to_string(); MAX_IDS + 1];
        assert!(parse_ids(&too_many).is_err());
        let id = Uuid::new_v4();
        let (good, bad) = parse_ids(&[format!(" {id} "), "nope".into()]).unwrap();
        assert_eq!((good, bad), (vec![id], vec!["nope".to_string()]));
    }
}
