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
use crate::store::filter::{LeadFilter, LeadOrder};
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
    /// `true`: every matching lead at once, streamed ([`list_all`]).
    pub skip_pagination: Option<String>,
}

impl ListQuery {
    /// Whether all matching leads are asked for (`skip_pagination=true`).
    pub fn wants_all(&self) -> ServiceResult<bool> {
        match given(&self.skip_pagination)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(ServiceError::Invalid(format!(
                "skip_pagination: expected true or false, got {other:?}"
            ))),
        }
    }
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

/// One page of the leads `actor` may see that match the filters (the
/// JSON API's list: the list's own order).
pub async fn list(svc: &Services, actor: &Actor, q: ListQuery) -> ServiceResult<LeadPage> {
    require(actor, Capability::ReadLeads)?;
    let mut q = q;
    resolve_telecaller(svc, &mut q.filter).await?;
    let page = parse_count("page", &q.page, 1)?;
    let limit = parse_count("limit", &q.limit, DEFAULT_LIMIT)?.min(MAX_LIMIT);
    let filter = q.filter.into_filter(actor)?;
    let (leads, total) =
        list_ordered(svc, actor, filter, LeadOrder::default(), page, limit).await?;
    let total_pages = (total + i64::from(limit) - 1) / i64::from(limit);
    Ok(LeadPage {
        leads,
        total,
        page,
        limit,
        total_pages,
    })
}

/// Page `page` (from 1) of `limit` leads matching `filter` in `order`, and
/// how many match in all: within the actor's reach whatever the filter
/// says (a telecaller: their own leads), masked for them. The JSON API's
/// list and the leads workspace both list through this.
pub async fn list_ordered(
    svc: &Services,
    actor: &Actor,
    mut filter: LeadFilter,
    order: LeadOrder,
    page: u32,
    limit: u32,
) -> ServiceResult<(Vec<Lead>, i64)> {
    require(actor, Capability::ReadLeads)?;
    filter.own_only = actor.lead_scope();
    let (leads, total) = svc
        .store
        .list_leads_ordered(&filter, order, page.max(1), limit.clamp(1, MAX_LIMIT))
        .await?;
    let leads = leads.into_iter().map(|l| present(actor, l)).collect();
    Ok((leads, total))
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

/// The lead with this phone number (any spelling that normalises to it),
/// when the actor may open it; `None` when there is none or it is out of reach.
pub async fn find_by_phone(
    svc: &Services,
    actor: &Actor,
    phone: &str,
) -> ServiceResult<Option<Uuid>> {
    require(actor, Capability::ReadLeads)?;
    let Ok(phone) = crate::domain::PhoneNumber::parse(phone) else {
        return Ok(None);
    };
    let Some(id) = svc.store.find_by_phone(phone.as_str()).await? else {
        return Ok(None);
    };
    let scope = actor.lead_scope();
    Ok(svc
        .store
        .get_lead(id, scope.as_deref())
        .await?
        .map(|l| l.id))
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
pub async fn create(svc: &Services, actor: &Actor, input: LeadInput) -> ServiceResult<Lead> {
    insert_new(svc, actor, input)
        .await?
        .map_err(duplicate_phone)
}

/// Creates a lead, or gives the id of the lead that already has its phone
/// number (nothing written then).
pub async fn insert_new(
    svc: &Services,
    actor: &Actor,
    mut input: LeadInput,
) -> ServiceResult<Result<Lead, Uuid>> {
    require(actor, Capability::EditLeads)?;
    check_assignment(actor, input.assigned_telecaller.as_deref())?;
    if let Some(own) = actor.lead_scope() {
        // a telecaller sees only their own leads, so what they create is theirs
        input.assigned_telecaller = Some(own);
    }
    let new = input.validate()?;
    let lead = new.into_lead(Uuid::new_v4(), &actor.login, now());
    match svc.store.insert_lead(&lead).await? {
        InsertOutcome::Inserted => Ok(Ok(present(actor, lead))),
        InsertOutcome::DuplicatePhone(existing) => Ok(Err(existing)),
    }
}

/// Changes one lead within the actor's reach: `null` or an absent key
/// leaves a field alone, `""` clears it, a sent stage is ignored, an
/// unchanged status or remark adds no history, an unchanged assignment is
/// no assignment.
pub async fn update(
    svc: &Services,
    actor: &Actor,
    id: Uuid,
    patch: LeadPatch,
) -> ServiceResult<Lead> {
    require(actor, Capability::EditLeads)?;
    let own = actor.lead_scope();
    let mut patch = patch;
    if patch.assigned_telecaller.is_some() || patch.assigned_date.is_some() {
        // The original frontend sends the assignment back unchanged with every save: what
        // equals the stored value is no change and needs no right to assign.
        let stored = svc
            .store
            .get_lead(id, own.as_deref())
            .await?
            .ok_or_else(lead_not_found)?;
        let same_telecaller = |sent: &Option<String>| {
            let norm = |v: Option<&str>| {
                v.map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_lowercase)
            };
            norm(sent.as_deref()) == norm(stored.assigned_telecaller.as_deref())
        };
        if patch
            .assigned_telecaller
            .as_ref()
            .is_some_and(same_telecaller)
        {
            patch.assigned_telecaller = None;
        }
        if patch
            .assigned_date
            .is_some_and(|d| d == stored.assigned_date)
        {
            patch.assigned_date = None;
        }
    }
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

/// A leads filter's `telecaller` given as a user id (the original
/// frontend's pickers key telecallers by id) becomes that user's login.
pub async fn resolve_telecaller(svc: &Services, q: &mut FilterQuery) -> ServiceResult<()> {
    if let Some(id) = given(&q.telecaller).and_then(|t| t.parse::<Uuid>().ok())
        && let Some(user) = svc.store.get_user(id).await?
    {
        q.telecaller = Some(user.email);
    }
    Ok(())
}

/// Every lead within reach that matches the filters, streamed (the
/// original's `skip_pagination=true`): the count first, then each lead as it
/// is read from the same snapshot, in the export's order, with its
/// telecaller's name. Memory stays flat whatever the count.
pub async fn list_all(
    svc: &Services,
    actor: &Actor,
    mut q: FilterQuery,
) -> ServiceResult<crate::export::engine_stream::ExportStream> {
    use crate::export::engine::{ExportSpec, select_columns};
    use crate::export::json_list::LIST_FIELDS;
    require(actor, Capability::ReadLeads)?;
    resolve_telecaller(svc, &mut q).await?;
    let filter = q.into_filter(actor)?;
    let fields: Vec<String> = LIST_FIELDS.iter().map(|f| f.to_string()).collect();
    let columns = select_columns(Some(&fields)).map_err(ServiceError::Invalid)?;
    let names = super::calls::UserNames::load(svc).await?;
    let snapshot = svc.store.export_snapshot(&filter).await?;
    let mut spec = ExportSpec::new(columns, crate::export::Format::Csv, actor.masks_pii());
    spec.stall = svc.config.export_stall;
    Ok(crate::export::engine_stream::stream_lead_list(
        snapshot,
        spec,
        Box::new(move |login| names.of(login)),
    ))
}

/// A source as the original's source filter lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SourceOption {
    /// The stored source.
    pub value: String,
    /// What to show: the value, or for a file name its name without folder
    /// and extension.
    pub label: String,
    /// The stored source (Pulse's key).
    pub source: String,
    /// Its leads.
    pub count: i64,
}

const FILE_SUFFIXES: [&str; 4] = [".xlsx", ".xls", ".csv", ".txt"];

/// The sources as options: plain names first, then file names, each group
/// sorted.
pub fn options_of(rows: Vec<(String, i64)>) -> Vec<SourceOption> {
    let mut out: Vec<(bool, SourceOption)> = rows
        .into_iter()
        .filter(|(s, _)| !s.trim().is_empty())
        .map(|(value, count)| {
            let lower = value.to_lowercase();
            let file = FILE_SUFFIXES.iter().find(|x| lower.ends_with(*x));
            let label = match file {
                Some(x) => {
                    let stem = &value[..value.len() - x.len()];
                    stem.rsplit(['/', '\\']).next().unwrap_or(stem).to_string()
                }
                None => value.clone(),
            };
            let option = SourceOption {
                source: value.clone(),
                value,
                label,
                count,
            };
            (file.is_some(), option)
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1.value).cmp(&(b.0, &b.1.value)));
    out.into_iter().map(|(_, o)| o).collect()
}

/// The sources of the leads within reach, as options.
pub async fn source_options(svc: &Services, actor: &Actor) -> ServiceResult<Vec<SourceOption>> {
    Ok(options_of(sources(svc, actor).await?))
}

/// A spelling of a source and its leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SourceCount {
    /// The spelling.
    pub source: String,
    /// Its leads.
    pub count: i64,
}

/// Spellings of one source that could be merged into `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MergeSuggestion {
    /// The spelling with the most leads.
    pub target: String,
    /// The others.
    pub variants: Vec<SourceCount>,
    /// Their leads together.
    pub total_affected: i64,
}

/// Groups spellings equal after lower-casing, trimming and collapsing
/// spaces; only groups of two or more, the most affected leads first.
pub fn suggestions_of(rows: Vec<(String, i64)>) -> Vec<MergeSuggestion> {
    let mut groups: std::collections::BTreeMap<String, Vec<SourceCount>> = Default::default();
    for (source, count) in rows {
        let key = source
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if key.is_empty() {
            continue;
        }
        groups
            .entry(key)
            .or_default()
            .push(SourceCount { source, count });
    }
    let mut out: Vec<MergeSuggestion> = groups
        .into_values()
        .filter(|g| g.len() >= 2)
        .map(|mut g| {
            g.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.source.cmp(&b.source)));
            let target = g.remove(0).source;
            MergeSuggestion {
                target,
                total_affected: g.iter().map(|v| v.count).sum(),
                variants: g,
            }
        })
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.total_affected));
    out
}

/// Suggested source merges over the leads within reach.
pub async fn merge_suggestions(
    svc: &Services,
    actor: &Actor,
) -> ServiceResult<Vec<MergeSuggestion>> {
    Ok(suggestions_of(sources(svc, actor).await?))
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

#[cfg(test)]
mod source_tests {
    use super::*;

    #[test]
    fn options_put_file_names_last_with_their_stems() {
        let o = options_of(vec![
            ("uploads/march.xlsx".into(), 2),
            ("Walk-in".into(), 3),
            ("".into(), 1),
            ("Apna".into(), 1),
        ]);
        let labels: Vec<_> = o
            .iter()
            .map(|o| (o.value.as_str(), o.label.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("Apna", "Apna"),
                ("Walk-in", "Walk-in"),
                ("uploads/march.xlsx", "march")
            ]
        );
    }

    #[test]
    fn suggestions_group_spellings() {
        let s = suggestions_of(vec![
            ("Walk-in".into(), 5),
            ("walk-in ".into(), 2),
            ("WALK-IN".into(), 1),
            ("Apna".into(), 4),
            ("apna  ".into(), 4),
            ("Solo".into(), 9),
        ]);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].target, "Apna");
        assert_eq!(s[0].total_affected, 4);
        assert_eq!(s[1].target, "Walk-in");
        assert_eq!(s[1].total_affected, 3);
        assert_eq!(s[1].variants.len(), 2);
    }
}
