//! What the pages need from the service layer beyond one call: a filter
//! parse that reports each bad value and applies the rest, a lead read
//! that answers "out of reach" as `None`, an edit whose duplicate phone
//! links the other lead. Pages act as the signed-in [`Actor`]; errors come
//! back as `ServiceError`.

use uuid::Uuid;

use crate::domain::{Actor, Lead, LeadPatch};
use crate::http::AppState;
use crate::service::leads::FilterQuery;
use crate::service::{ServiceError, ServiceResult};
use crate::store::filter::LeadFilter;

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
            let visible = match phone.as_deref() {
                Some(p) => crate::service::leads::find_by_phone(state, actor, p).await?,
                None => None,
            };
            Ok(PatchOutcome::DuplicatePhone(visible))
        }
        Err(ServiceError::Domain(e)) => Ok(PatchOutcome::Invalid(e.to_string())),
        Err(e) => Err(e),
    }
}
