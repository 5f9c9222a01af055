//! Leads: the one filter parse (API, pages and `pulse export`), the scope
//! and masking of what an actor sees, single-lead use-cases, bulk
//! operations, sources and their merge.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::audit;
use super::{ServiceError, ServiceResult, Services, require};
use crate::domain::error::reject_nul;
use crate::domain::{
    AccountType, Actor, Capability, DomainError, Lead, LeadInput, LeadPatch, Reassigned, Stage,
    Status, today_ist,
};
use crate::store::filter::LeadFilter;
use crate::store::{BulkOutcome, InsertOutcome, LeadEdit};

/// Default and largest page size of the leads list.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page of the leads list.
pub const MAX_LIMIT: u32 = 100;
/// Most ids one bulk request may name; larger selections go page by page.
pub const MAX_IDS: usize = 10_000;

/// Now, to the millisecond: SQLite keeps milliseconds and PostgreSQL
/// microseconds, so both backends give back exactly what was written.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// The answer for a lead that does not exist or is out of reach.
pub fn lead_not_found() -> ServiceError {
    ServiceError::NotFound("lead not found".into())
}

/// A `YYYY-MM-DD` date from a query or body field, naming the field when it is not one.
pub fn parse_date(field: &str, value: &str) -> ServiceResult<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        ServiceError::Invalid(format!(
            "{field}: invalid date {value:?}: expected YYYY-MM-DD"
        ))
    })
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

/// The filter parameters of the list, the status summary and exports
/// (query string, the `filters` object of an export body, the options of
/// `pulse export`). Text, so that a bad value gets an answer naming the
/// parameter; an empty value means "not given", as the original clients
/// send them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct FilterQuery {
    /// Names (partial) and phone numbers, comma-separated.
    pub search: Option<String>,
    /// A stage code or name, or `all`.
    pub stage: Option<String>,
    /// A status name, or `all`.
    pub status: Option<String>,
    /// A lead source, exact.
    pub source: Option<String>,
    /// An assigned telecaller's login.
    pub telecaller: Option<String>,
    /// Import date on or after (`YYYY-MM-DD`).
    pub start_date: Option<String>,
    /// Import date on or before (`YYYY-MM-DD`).
    pub end_date: Option<String>,
    /// Only leads with no telecaller (`true`/`false`, also a JSON boolean).
    #[serde(deserialize_with = "bool_or_text")]
    pub unassigned_only: Option<String>,
}

impl FilterQuery {
    /// Every filter name, for JSON bodies that refuse unknown ones.
    pub const FIELDS: &'static [&'static str] = &[
        "search",
        "stage",
        "status",
        "source",
        "telecaller",
        "start_date",
        "end_date",
        "unassigned_only",
    ];
}

/// Reads a JSON `filters` object, refusing names that are not filters: a
/// misspelt filter must not silently widen an export to every lead.
pub fn strict_filters<'de, D: serde::Deserializer<'de>>(d: D) -> Result<FilterQuery, D::Error> {
    use serde::de::Error;
    let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    if let Some(unknown) = map
        .keys()
        .find(|k| !FilterQuery::FIELDS.contains(&k.as_str()))
    {
        return Err(D::Error::custom(format!(
            "unknown filter {unknown:?}; filters are {}",
            FilterQuery::FIELDS.join(", ")
        )));
    }
    serde_json::from_value(serde_json::Value::Object(map)).map_err(D::Error::custom)
}

/// `unassigned_only` arrives as text in a query string and as a boolean in a
/// JSON export body; both become text for one parser.
fn bool_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<B>::deserialize(d)? {
        None => None,
        Some(B::Bool(b)) => Some(b.to_string()),
        Some(B::Text(t)) => Some(t),
    })
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A select's value: also `all` means "no filter" (the original UI's
/// stage and status selects send it).
fn selected(v: &Option<String>) -> Option<&str> {
    given(v).filter(|s| !s.eq_ignore_ascii_case("all"))
}

impl FilterQuery {
    /// Parses into a [`LeadFilter`] limited to `actor`'s scope.
    pub fn into_filter(self, actor: &Actor) -> ServiceResult<LeadFilter> {
        let mut f = self.parse()?;
        f.own_only = actor.lead_scope();
        Ok(f)
    }

    /// Parses into a [`LeadFilter`] of no one's scope (`pulse export`, which
    /// runs with the database's own rights).
    pub fn parse(self) -> ServiceResult<LeadFilter> {
        let mut f = LeadFilter::default();
        for (field, value) in [
            ("search", &self.search),
            ("source", &self.source),
            ("telecaller", &self.telecaller),
        ] {
            if given(value).is_some_and(|v| v.contains('\0')) {
                return Err(DomainError::NulCharacter { field }.into());
            }
        }
        if let Some(s) = given(&self.search) {
            f.add_search(s);
        }
        f.stage = selected(&self.stage)
            .map(str::parse::<Stage>)
            .transpose()
            .map_err(DomainError::from)?;
        f.status = selected(&self.status)
            .map(|s| Status::parse(s).map(|s| s.name().to_string()))
            .transpose()
            .map_err(DomainError::from)?;
        f.source = given(&self.source).map(str::to_string);
        f.telecaller = given(&self.telecaller).map(str::to_string);
        f.start_date = given(&self.start_date)
            .map(|d| parse_date("start_date", d))
            .transpose()?;
        f.end_date = given(&self.end_date)
            .map(|d| parse_date("end_date", d))
            .transpose()?;
        f.unassigned_only = match given(&self.unassigned_only) {
            None => false,
            Some(v) if matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes") => true,
            Some(v) if matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "no") => false,
            Some(v) => {
                return Err(ServiceError::Invalid(format!(
                    "unassigned_only: expected true or false, got {v:?}"
                )));
            }
        };
        Ok(f)
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

/// One page of the leads list.
#[derive(Debug)]
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
    let edit: LeadEdit = Box::new(move |lead| {
        valid.clone().apply(lead, &login, at);
        true
    });
    let outcome = svc.store.update_leads(&[id], own.as_deref(), edit).await?;
    let lead = outcome
        .changed
        .into_iter()
        .next()
        .ok_or_else(lead_not_found)?;
    Ok(present(actor, lead))
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

/// Records a call on the lead.
pub async fn call_done(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<Lead> {
    require(actor, Capability::EditLeads)?;
    let at = now();
    let lead = edit_own(svc, actor, id, Box::new(move |lead| lead.call_done(at))).await?;
    Ok(present(actor, lead))
}

/// Replaces the lead's remark, keeping it in its history.
pub async fn add_remark(
    svc: &Services,
    actor: &Actor,
    id: Uuid,
    remark: String,
) -> ServiceResult<Lead> {
    require(actor, Capability::EditLeads)?;
    reject_nul("remark", &remark)?;
    if remark.trim().is_empty() {
        return Err(DomainError::Empty { field: "remark" }.into());
    }
    let login = actor.login.clone();
    let at = now();
    // the NUL was rejected above, so add_remark cannot fail here
    let edit: LeadEdit = Box::new(move |lead| lead.add_remark(&remark, &login, at).is_ok());
    let lead = edit_own(svc, actor, id, edit).await?;
    Ok(present(actor, lead))
}

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
    let at = now();
    let date = match assigned_date.filter(|d| !d.trim().is_empty()) {
        Some(d) => parse_date("assigned_date", d)?,
        None => today_ist(at),
    };
    let edit: LeadEdit = Box::new(move |lead: &mut Lead| lead.assign(&telecaller, date, at));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: AccountType) -> Actor {
        Actor {
            id: Uuid::nil(),
            login: "tc@pulse.example".into(),
            role,
        }
    }

    fn q(f: impl FnOnce(&mut FilterQuery)) -> FilterQuery {
        let mut q = FilterQuery::default();
        f(&mut q);
        q
    }

    #[test]
    fn one_parse_for_every_caller() {
        let f = q(|q| {
            q.search = Some(" Asha, 9876543210 ".into());
            q.stage = Some("S2".into());
            q.status = Some("interested".into());
            q.start_date = Some("2026-09-01".into());
            q.unassigned_only = Some("yes".into());
            q.source = Some("  ".into());
        })
        .parse()
        .unwrap();
        assert_eq!(f.names, ["Asha"]);
        assert_eq!(f.phones, ["9876543210"]);
        assert_eq!(f.stage, Some(Stage::S2));
        assert_eq!(
            f.status.as_deref(),
            Some("Interested"),
            "the status's own name"
        );
        assert_eq!(f.start_date, NaiveDate::from_ymd_opt(2026, 9, 1));
        assert!(f.unassigned_only);
        assert_eq!(f.source, None, "blank means not given");
        assert_eq!(f.own_only, None, "parse alone is of no one's scope");
    }

    #[test]
    fn all_means_no_filter() {
        let f = q(|q| {
            q.stage = Some("ALL".into());
            q.status = Some("all".into());
        })
        .parse()
        .unwrap();
        assert_eq!((f.stage, f.status), (None, None));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        type Case = (fn(&mut FilterQuery), &'static str);
        let cases: [Case; 6] = [
            (
                |q| q.search = Some("a\0b".into()),
                "search: must not contain the NUL",
            ),
            (
                |q| q.telecaller = Some("\0".into()),
                "telecaller: must not contain the NUL",
            ),
            (|q| q.stage = Some("S9".into()), "stage: "),
            (
                |q| q.status = Some("Maybe".into()),
                "status: unknown status",
            ),
            (
                |q| q.end_date = Some("01/09/2026".into()),
                "end_date: invalid date",
            ),
            (
                |q| q.unassigned_only = Some("perhaps".into()),
                "unassigned_only: expected",
            ),
        ];
        for (set, want) in cases {
            let err = q(set).parse().unwrap_err().to_string();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }

    #[test]
    fn scope_and_masking_come_from_the_actor() {
        let tc = actor(AccountType::Telecaller);
        let f = FilterQuery::default().into_filter(&tc).unwrap();
        assert_eq!(f.own_only.as_deref(), Some("tc@pulse.example"));
        let ops = actor(AccountType::OpsTeam);
        assert_eq!(
            FilterQuery::default().into_filter(&ops).unwrap().own_only,
            None
        );
    }

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
