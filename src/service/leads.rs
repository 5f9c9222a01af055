//! Single leads as an actor may see and change them: the scope and the one
//! masking decision, list, read, create, change, delete, call notes;
//! sources and their merge. The filters are parsed in [`super::filter`],
//! bulk operations are in [`super::leads_bulk`].

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::audit;
use super::filter::given;
pub use super::filter::{FilterQuery, parse_date, strict_filters};
use super::{ServiceError, ServiceResult, Services, require};
use crate::domain::calls::status_event;
use crate::domain::error::reject_nul;
use crate::domain::{
    AccountStatus, AccountType, Actor, Capability, DomainError, Lead, LeadInput, LeadPatch,
};
use crate::store::filter::LeadFilter;
use crate::store::{InsertOutcome, LeadEdit};

/// Default and largest page size of the leads list.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page of the leads list.
pub const MAX_LIMIT: u32 = 100;

/// Now, to the millisecond: SQLite keeps milliseconds and PostgreSQL
/// microseconds, so both backends give back exactly what was written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// The answer for a lead that does not exist or is out of reach.
pub fn lead_not_found() -> ServiceError {
    ServiceError::NotFound("lead not found".into())
}

/// The lead as `actor` may see it: documents masked unless the role may
/// see them unmasked ([`Actor::masks_pii`], the one masking decision).
pub fn present(actor: &Actor, lead: Lead) -> Lead {
    if actor.masks_pii() {
        lead.masked()
    } else {
        lead
    }
}

/// The leads list's query: the filters and the page.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// The filters.
    #[serde(flatten)]
    pub filter: FilterQuery,
    /// The page, from 1.
    pub page: Option<String>,
    /// The page size, 1 to [`MAX_LIMIT`].
    pub limit: Option<String>,
}

/// One page of the leads list (the list's JSON answer, as it is).
#[derive(Debug, Serialize)]
pub struct LeadPage {
    /// The leads, as the actor may see them.
    pub leads: Vec<Lead>,
    /// How many leads match in all.
    pub total: i64,
    /// This page's number.
    pub page: u32,
    /// The page size.
    pub limit: u32,
    /// How many pages there are.
    pub total_pages: i64,
}

fn parse_count(field: &str, value: &Option<String>, default: u32) -> ServiceResult<u32> {
    match given(value) {
        None => Ok(default),
        Some(v) => v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            ServiceError::Invalid(format!(
                "{field}: expected a whole number from 1, got {v:?}"
            ))
        }),
    }
}

/// One page of the leads `actor` may see that match the filters.
pub async fn list(svc: &Services, actor: &Actor, q: ListQuery) -> ServiceResult<LeadPage> {
    require(actor, Capability::ReadLeads)?;
    let page = parse_count("page", &q.page, 1)?;
    let limit = parse_count("limit", &q.limit, DEFAULT_LIMIT)?.min(MAX_LIMIT);
    let filter = q.filter.into_filter(actor)?;
    let (leads, total) = svc.store.list_leads(&filter, page, limit).await?;
    let leads = leads.into_iter().map(|l| present(actor, l)).collect();
    let total_pages = (total + i64::from(limit) - 1) / i64::from(limit);
    Ok(LeadPage {
        leads,
        total,
        page,
        limit,
        total_pages,
    })
}

/// One lead within the actor's reach, as they may see it.
pub async fn get(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<Lead> {
    require(actor, Capability::ReadLeads)?;
    let lead = svc
        .store
        .get_lead(id, actor.lead_scope().as_deref())
        .await?
        .ok_or_else(lead_not_found)?;
    Ok(present(actor, lead))
}

/// Refused unless `actor` may assign leads to `telecaller`: assigning is
/// the `AssignLeads` capability, except that a telecaller's own new lead is
/// theirs.
fn check_assignment(actor: &Actor, telecaller: Option<&str>) -> ServiceResult<()> {
    match (telecaller, actor.lead_scope()) {
        (Some(t), Some(own)) if t.eq_ignore_ascii_case(&own) => Ok(()),
        (None, _) => Ok(()),
        _ => require(actor, Capability::AssignLeads),
    }
}

/// Refused (404 naming it) unless `login` is an active telecaller's
/// account: leads are assigned through the API only to someone who can
/// work them (imports alone keep unknown names as text, DESIGN §2).
pub async fn require_telecaller(svc: &Services, login: &str) -> ServiceResult<()> {
    let found = svc.store.find_login(login.trim()).await?;
    match found {
        Some(u)
            if u.user.account_type == AccountType::Telecaller
                && u.user.status == AccountStatus::Active =>
        {
            Ok(())
        }
        _ => Err(ServiceError::NotFound(format!(
            "telecaller {:?} not found: no active telecaller account has this login",
            login.trim()
        ))),
    }
}

/// The conflict naming the lead that already has the phone number.
pub fn duplicate_phone(existing: Uuid) -> ServiceError {
    ServiceError::Conflict(format!(
        "phone_number: a lead with this phone number already exists (lead id {existing})"
    ))
}

/// Creates a lead; a telecaller's new lead is theirs.
pub async fn create(svc: &Services, actor: &Actor, mut input: LeadInput) -> ServiceResult<Lead> {
    require(actor, Capability::EditLeads)?;
    check_assignment(actor, input.assigned_telecaller.as_deref())?;
    if let Some(own) = actor.lead_scope() {
        // a telecaller sees only their own leads, so what they create is theirs
        input.assigned_telecaller = Some(own);
    }
    let new = input.validate()?;
    let lead = new.into_lead(Uuid::new_v4(), &actor.login, now());
    match svc.store.insert_lead(&lead).await? {
        InsertOutcome::Inserted => Ok(present(actor, lead)),
        InsertOutcome::DuplicatePhone(existing) => Err(duplicate_phone(existing)),
    }
}

/// Changes one lead within the actor's reach.
pub async fn update(
    svc: &Services,
    actor: &Actor,
    id: Uuid,
    patch: LeadPatch,
) -> ServiceResult<Lead> {
    require(actor, Capability::EditLeads)?;
    let own = actor.lead_scope();
    let patch_telecaller = patch.assigned_telecaller.clone();
    if patch.assigned_telecaller.is_some() || patch.assigned_date.is_some() {
        // a telecaller cannot hand a lead to someone else, nor date it
        if actor.role == AccountType::Telecaller {
            return Err(ServiceError::Forbidden(
                "your role (telecaller) may not assign leads".into(),
            ));
        }
        require(actor, Capability::AssignLeads)?;
    }
    let valid = patch.validate()?;
    if let Some(Some(t)) = &patch_telecaller
        && !t.trim().is_empty()
    {
        require_telecaller(svc, t).await?;
    }
    if let Some(phone) = valid.phone()
        && let Some(existing) = svc.store.find_by_phone(phone.as_str()).await?
        && existing != id
    {
        // only when the caller can see the lead itself: no probing by 409
        if svc.store.get_lead(id, own.as_deref()).await?.is_none() {
            return Err(lead_not_found());
        }
        return Err(duplicate_phone(existing));
    }
    let login = actor.login.clone();
    let at = now();
    // A masked-looking document number that is not the stored one's mask is
    // refused (422) inside the edit, where the stored value is known.
    let refusal = crate::domain::Refusal::default();
    let refused = refusal.clone();
    let edit: LeadEdit = Box::new(move |lead| {
        refused
            .keep(valid.clone().apply(lead, &login, at))
            .is_some()
    });
    let outcome = svc.store.update_leads(&[id], own.as_deref(), edit).await?;
    refusal.check()?;
    let lead = outcome
        .changed
        .into_iter()
        .next()
        .ok_or_else(lead_not_found)?;
    record_status_events(svc, actor, std::slice::from_ref(&lead), at).await?;
    Ok(present(actor, lead))
}

/// Records the status changes `actor` made at `at` on `leads` (PATCH, bulk
/// status) as call events, which the figures count.
pub async fn record_status_events(
    svc: &Services,
    actor: &Actor,
    leads: &[Lead],
    at: DateTime<Utc>,
) -> ServiceResult<()> {
    let events: Vec<_> = leads
        .iter()
        .filter_map(|l| status_event(l, actor.id, &actor.login, at))
        .collect();
    Ok(svc.store.record_events(&events).await?)
}

/// Deletes one lead (audited).
pub async fn delete(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<()> {
    require(actor, Capability::DeleteLeads)?;
    let out = svc.store.delete_leads(&[id], None).await?;
    if out.deleted.is_empty() {
        return Err(lead_not_found());
    }
    audit::record(
        svc,
        actor,
        "leads.delete",
        json!({ "ids": [id], "count": 1 }),
    )
    .await;
    Ok(())
}

/// Applies `edit` to one lead within the actor's reach.
async fn edit_own(svc: &Services, actor: &Actor, id: Uuid, edit: LeadEdit) -> ServiceResult<Lead> {
    let out = svc
        .store
        .update_leads(&[id], actor.lead_scope().as_deref(), edit)
        .await?;
    out.changed.into_iter().next().ok_or_else(lead_not_found)
}

/// Replaces the lead's remark, keeping it in its history.
pub async fn add_remark(
    svc: &Services,
    actor: &Actor,
    id: Uuid,
    remark: String,
) -> ServiceResult<Lead> {
    require(actor, Capability::EditLeads)?;
    crate::domain::error::check_text("remark", &remark, crate::domain::error::MAX_REMARK_CHARS)?;
    if remark.trim().is_empty() {
        return Err(DomainError::Empty { field: "remark" }.into());
    }
    let login = actor.login.clone();
    let at = now();
    // a full remarks history refuses (422), it is not a missing lead
    let refusal = crate::domain::Refusal::default();
    let refused = refusal.clone();
    let edit: LeadEdit =
        Box::new(move |lead| refused.keep(lead.add_remark(&remark, &login, at)).is_some());
    let lead = edit_own(svc, actor, id, edit).await;
    refusal.check()?;
    let lead = lead?;
    Ok(present(actor, lead))
}

/// Every source of the leads within reach, with its lead count.
pub async fn sources(svc: &Services, actor: &Actor) -> ServiceResult<Vec<(String, i64)>> {
    require(actor, Capability::ReadLeads)?;
    let filter = LeadFilter {
        own_only: actor.lead_scope(),
        ..Default::default()
    };
    Ok(svc.store.sources(&filter).await?)
}

/// Renames the sources `from` to `to` (audited); returns how many leads
/// changed and the target as stored (trimmed).
pub async fn merge_sources(
    svc: &Services,
    actor: &Actor,
    from: &[String],
    to: &str,
) -> ServiceResult<(u64, String)> {
    require(actor, Capability::MergeSources)?;
    let to = to.trim().to_string();
    reject_nul("to", &to)?;
    if to.is_empty() {
        return Err(DomainError::Empty { field: "to" }.into());
    }
    if from.is_empty() {
        return Err(ServiceError::Invalid("from: must not be empty".into()));
    }
    for f in from {
        reject_nul("from", f)?;
    }
    let merged = svc.store.merge_sources(from, &to).await?;
    audit::record(
        svc,
        actor,
        "leads.merge_sources",
        json!({ "from": from, "to": to, "count": merged }),
    )
    .await;
    Ok((merged, to))
}

/// Every source with its lead count, and the groups of likely duplicates
/// among them (`domain::sources::likely_duplicates`: indexes into the
/// list, the suggested name to keep first).
pub async fn sources_with_duplicates(
    svc: &Services,
    actor: &Actor,
) -> ServiceResult<(Vec<(String, i64)>, Vec<Vec<usize>>)> {
    let all = sources(svc, actor).await?;
    let groups = crate::domain::sources::likely_duplicates(&all);
    Ok((all, groups))
}
