//! A new lead as the original frontend enters it: the duplicate check it
//! makes first, and a create that skips or replaces a lead with the same
//! phone number instead of refusing it.

use uuid::Uuid;

use super::leads::{insert_new, present, update};
use super::{ServiceResult, Services, require};
use crate::domain::sync_stage::SyncStage;
use crate::domain::{Actor, Capability, Lead, LeadInput, LeadPatch, PhoneNumber};

/// The lead that already has `phone` (any accepted spelling), if one does
/// and the actor may see it; `Ok(None)` also for a number that is not a
/// valid mobile (no lead can have it).
pub async fn check_duplicate(
    svc: &Services,
    actor: &Actor,
    phone: &str,
) -> ServiceResult<Option<Lead>> {
    require(actor, Capability::ReadLeads)?;
    let Ok(phone) = PhoneNumber::parse(phone) else {
        return Ok(None);
    };
    let Some(id) = svc.store.find_by_phone(phone.as_str()).await? else {
        return Ok(None);
    };
    let lead = svc
        .store
        .get_lead(id, actor.lead_scope().as_deref())
        .await?;
    Ok(lead.map(|l| present(actor, l)))
}

/// What a create with a duplicate policy did.
#[derive(Debug)]
pub enum Intake {
    /// A new lead.
    Created(Lead),
    /// The phone number was taken; nothing was written.
    Skipped(Uuid),
    /// The lead with that phone number was changed to the new fields (it
    /// keeps its id and histories).
    Replaced(Lead),
}

/// Creates a lead; when its phone number is taken, skips it, or — given
/// `replace`, the same fields as a change — changes the existing lead.
pub async fn create_or_replace(
    svc: &Services,
    actor: &Actor,
    input: LeadInput,
    replace: Option<LeadPatch>,
) -> ServiceResult<Intake> {
    match (insert_new(svc, actor, input).await?, replace) {
        (Ok(lead), _) => Ok(Intake::Created(lead)),
        (Err(existing), None) => Ok(Intake::Skipped(existing)),
        (Err(existing), Some(patch)) => {
            Ok(Intake::Replaced(update(svc, actor, existing, patch).await?))
        }
    }
}

/// What an explicit stage sync did ([`sync_stage`]).
#[derive(Debug)]
pub struct Synced {
    /// The lead as it was (as the actor may see it).
    pub before: Lead,
    /// What the rules said.
    pub outcome: SyncStage,
    /// The lead after an advance (history recorded as for any status
    /// change); `None` when it stayed.
    pub after: Option<Lead>,
}

/// The original's explicit progression (`POST …/leads/{id}/sync-stage`,
/// [`crate::domain::sync_stage::sync_stage`]): an advance is a status change
/// to the next stage's first status through [`update`], so it follows the
/// same rights, pipeline and history as any save. The documents are checked
/// unmasked, whoever asks.
pub async fn sync_stage(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<Synced> {
    require(actor, Capability::EditLeads)?;
    let lead = svc
        .store
        .get_lead(id, actor.lead_scope().as_deref())
        .await?
        .ok_or_else(super::leads::lead_not_found)?;
    let outcome = crate::domain::sync_stage::sync_stage(&lead);
    let after = match &outcome {
        SyncStage::Advance { status, .. } => {
            let patch = LeadPatch {
                status: Some((*status).to_string()),
                ..LeadPatch::default()
            };
            Some(update(svc, actor, id, patch).await?)
        }
        _ => None,
    };
    Ok(Synced {
        before: present(actor, lead),
        outcome,
        after,
    })
}
