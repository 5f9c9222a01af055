//! The pages' calls into the service layer, and the one use-case it does
//! not have yet (an ordered page of leads, marked `TODO(service)`). Pages
//! act as the signed-in [`Actor`]; errors come back as `ServiceError`.

use uuid::Uuid;

use crate::domain::{Actor, Lead, LeadPatch};
use crate::http::AppState;
use crate::service::leads::{FilterQuery, present};
use crate::service::{ServiceError, ServiceResult};
use crate::store::filter::{LeadFilter, LeadOrder};

/// One field of a [`FilterQuery`].
type Slot = fn(&mut FilterQuery) -> &mut Option<String>;

/// The filters of a query as the service reads them, within the actor's
/// scope, and a message for each value it could not read: the page shows
/// those and applies the rest (the service's parse stops at the first).
pub fn filter(actor: &Actor, q: &FilterQuery) -> (FilterQuery, LeadFilter, Vec<String>) {
    let mut good = FilterQuery::default();
    let mut errors = Vec::new();
    let fields: [(Slot, &Option<String>); 8] = [
        (|f| &mut f.search, &q.search),
        (|f| &mut f.stage, &q.stage),
        (|f| &mut f.status, &q.status),
        (|f| &mut f.source, &q.source),
        (|f| &mut f.telecaller, &q.telecaller),
        (|f| &mut f.start_date, &q.start_date),
        (|f| &mut f.end_date, &q.end_date),
        (|f| &mut f.unassigned_only, &q.unassigned_only),
    ];
    for (slot, value) in fields {
        let mut one = FilterQuery::default();
        *slot(&mut one) = value.clone();
        match one.parse() {
            Ok(_) => *slot(&mut good) = value.clone(),
            Err(e) => errors.push(e.to_string()),
        }
    }
    // each value parsed alone, so together they parse too
    let parsed = good.clone().into_filter(actor).unwrap_or_default();
    (good, parsed, errors)
}

// TODO(service): move to service/ once it lands — `service::leads::list`
// has the list's one order only; the workspace sorts by name, import date,
// last called and updated (`store::LeadStore::list_leads_ordered`).
/// One page of leads in `order` with the total, within the actor's scope
/// (the filter carries it), masked for the actor.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: &LeadFilter,
    order: LeadOrder,
    page: u32,
    limit: u32,
) -> ServiceResult<(Vec<Lead>, i64)> {
    crate::service::require(actor, crate::domain::Capability::ReadLeads)?;
    debug_assert_eq!(filter.own_only, actor.lead_scope());
    let (leads, total) = state
        .store
        .list_leads_ordered(filter, order, page, limit)
        .await?;
    Ok((
        leads.into_iter().map(|l| present(actor, l)).collect(),
        total,
    ))
}

/// One lead the actor may open, masked for them; `None` when out of reach.
pub async fn get(state: &AppState, actor: &Actor, id: Uuid) -> ServiceResult<Option<Lead>> {
    match crate::service::leads::get(state, actor, id).await {
        Ok(lead) => Ok(Some(lead)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What a lead edit came to.
pub enum PatchOutcome {
    /// Written (or nothing to change).
    Saved,
    /// The lead is out of reach.
    NotFound,
    /// Another lead has the new phone number; its id when the actor may open it.
    DuplicatePhone(Option<Uuid>),
    /// The service refused a value (the message names the field).
    Invalid(String),
}

/// Applies the patch through `service::leads::update`. A duplicate phone is
/// answered with the other lead, linked only for an actor who may open it.
pub async fn patch(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    patch: LeadPatch,
) -> ServiceResult<PatchOutcome> {
    let phone = patch.phone_number.clone();
    match crate::service::leads::update(state, actor, id, patch).await {
        Ok(_) => Ok(PatchOutcome::Saved),
        Err(ServiceError::NotFound(_)) => Ok(PatchOutcome::NotFound),
        Err(ServiceError::Conflict(_))
        | Err(ServiceError::Store(crate::store::StoreError::Conflict(_))) => {
            // the service names the lead in its message; find it again to
            // link it only when this actor may open it
            let other = match phone.as_deref().map(crate::domain::PhoneNumber::parse) {
                Some(Ok(p)) => state.store.find_by_phone(p.as_str()).await?,
                _ => None,
            };
            let visible = match other {
                Some(o) => get(state, actor, o).await?.map(|l| l.id),
                None => None,
            };
            Ok(PatchOutcome::DuplicatePhone(visible))
        }
        Err(ServiceError::Domain(e)) => Ok(PatchOutcome::Invalid(e.to_string())),
        Err(e) => Err(e),
    }
}
