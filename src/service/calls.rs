//! Telecallers' calls as events: recording an outcome (called, connected,
//! no response → RNR), the status changes of the other paths, a lead's
//! calling history as the API shows it, and the figures per telecaller and
//! day counted from the event rows.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::filter::{given, parse_date};
use super::leads::{lead_not_found, now, present};
use super::{ServiceError, ServiceResult, Services, require};
use crate::domain::calls::{apply_call, figures_by_login, ist_day_bounds, status_event};
use crate::domain::{Actor, CallEvent, CallOutcome, Capability, Figures, Lead, ist_today};
use crate::store::LeadEdit;

/// One call in a lead's `calling_history` (the original's shape, plus the
/// outcome).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CallEntry {
    /// When (UTC).
    pub timestamp: DateTime<Utc>,
    /// Who (login).
    pub called_by: String,
    /// Their name ("first last"; the login's local part when no account
    /// has that login), as the original wrote it beside the login.
    pub caller_name: String,
    /// called, connected or no_response.
    pub outcome: CallOutcome,
}

/// One entry of a lead's `no_response_history`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoResponseEntry {
    /// When (UTC).
    pub timestamp: DateTime<Utc>,
    /// Who (login).
    pub marked_by: String,
    /// Their name, as `caller_name`.
    pub marker_name: String,
}

/// A lead as the API answers it: its fields and what its events say.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeadView {
    /// The lead.
    #[serde(flatten)]
    pub lead: Lead,
    /// Every call, oldest first.
    pub calling_history: Vec<CallEntry>,
    /// Who made the last call.
    pub last_called_by: Option<String>,
    /// Every no response, oldest first.
    pub no_response_history: Vec<NoResponseEntry>,
    /// When the last no response was.
    pub last_no_response: Option<DateTime<Utc>>,
    /// Who recorded it.
    pub last_no_response_by: Option<String>,
    /// The assigned telecaller's name ("first last"; the login's local part
    /// when no account has that login), as the original added it.
    pub assigned_telecaller_name: Option<String>,
}

impl LeadView {
    /// The lead with its events (the lead's own, oldest first), names from
    /// `names` (which should know every login of the events and the
    /// assigned telecaller, [`UserNames::for_leads`]).
    pub fn new(lead: Lead, events: &[CallEvent], names: &UserNames) -> LeadView {
        let calling_history: Vec<CallEntry> = events
            .iter()
            .filter(|e| e.outcome.is_call())
            .map(|e| CallEntry {
                timestamp: e.at,
                called_by: e.actor_login.clone(),
                caller_name: names.of(&e.actor_login),
                outcome: e.outcome,
            })
            .collect();
        let no_response_history: Vec<NoResponseEntry> = events
            .iter()
            .filter(|e| e.outcome == CallOutcome::NoResponse)
            .map(|e| NoResponseEntry {
                timestamp: e.at,
                marked_by: e.actor_login.clone(),
                marker_name: names.of(&e.actor_login),
            })
            .collect();
        let assigned_telecaller_name = lead
            .assigned_telecaller
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .map(|t| names.of(t));
        LeadView {
            lead,
            last_called_by: calling_history.last().map(|c| c.called_by.clone()),
            last_no_response: no_response_history.last().map(|n| n.timestamp),
            last_no_response_by: no_response_history.last().map(|n| n.marked_by.clone()),
            assigned_telecaller_name,
            calling_history,
            no_response_history,
        }
    }
}

/// Users' display names by login (e-mail and user name, lower-cased):
/// "first last", or the first name alone.
#[derive(Debug, Clone, Default)]
pub struct UserNames(HashMap<String, String>);

impl UserNames {
    /// The names of every account.
    pub async fn load(svc: &Services) -> ServiceResult<UserNames> {
        Ok(Self::of_users(svc.store.list_users().await?))
    }

    /// The names of the accounts with these logins only (one indexed query;
    /// none when there are no logins): what one lead answer needs.
    pub async fn for_logins<'a>(
        svc: &Services,
        logins: impl IntoIterator<Item = &'a str>,
    ) -> ServiceResult<UserNames> {
        let mut wanted: Vec<String> = logins
            .into_iter()
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty())
            .collect();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(UserNames::default());
        }
        Ok(Self::of_users(svc.store.users_by_logins(&wanted).await?))
    }

    /// The names `leads` and their `events` show: their telecallers' and
    /// the callers'.
    pub async fn for_leads(
        svc: &Services,
        leads: &[Lead],
        events: &[CallEvent],
    ) -> ServiceResult<UserNames> {
        let telecallers = leads
            .iter()
            .filter_map(|l| l.assigned_telecaller.as_deref());
        let callers = events.iter().map(|e| e.actor_login.as_str());
        Self::for_logins(svc, telecallers.chain(callers)).await
    }

    fn of_users(users: Vec<crate::store::User>) -> UserNames {
        let mut map = HashMap::new();
        for u in users {
            let name = display_name(&u.first_name, &u.last_name);
            if let Some(n) = &u.username {
                map.insert(n.to_lowercase(), name.clone());
            }
            map.insert(u.email.to_lowercase(), name);
        }
        UserNames(map)
    }

    /// The name of `login`: its account's, else the login's local part
    /// (before `@`), as the original showed unknown telecallers.
    pub fn of(&self, login: &str) -> String {
        let login = login.trim();
        match self.0.get(&login.to_lowercase()) {
            Some(n) => n.clone(),
            None => login.split('@').next().unwrap_or(login).to_string(),
        }
    }

    /// The name of `login` when it is an account's, else `None`.
    pub fn known(&self, login: &str) -> Option<&str> {
        self.0.get(&login.trim().to_lowercase()).map(String::as_str)
    }
}

/// "first last", or the first name alone when there is no last.
pub fn display_name(first: &str, last: &str) -> String {
    let (first, last) = (first.trim(), last.trim());
    if last.is_empty() {
        first.to_string()
    } else {
        format!("{first} {last}")
    }
}

/// The leads with their events: one query for all of them, and their
/// telecallers' names.
pub async fn with_events(svc: &Services, leads: Vec<Lead>) -> ServiceResult<Vec<LeadView>> {
    let ids: Vec<Uuid> = leads.iter().map(|l| l.id).collect();
    let events = svc.store.lead_events(&ids).await?;
    let names = UserNames::for_leads(svc, &leads, &events).await?;
    let mut by_lead: HashMap<Uuid, Vec<CallEvent>> = HashMap::new();
    for e in events {
        by_lead.entry(e.lead_id).or_default().push(e);
    }
    Ok(leads
        .into_iter()
        .map(|l| {
            let events = by_lead.remove(&l.id).unwrap_or_default();
            LeadView::new(l, &events, &names)
        })
        .collect())
}

/// One lead with its events.
pub async fn view(svc: &Services, lead: Lead) -> ServiceResult<LeadView> {
    let mut v = with_events(svc, vec![lead]).await?;
    Ok(v.pop().expect("one lead in, one view out"))
}

/// Records a call outcome on a lead within the actor's reach (a
/// telecaller: their own, else 404): `last_called`, and for a no response
/// RNR with its status history; the call and any status change become
/// event rows.
pub async fn record(
    svc: &Services,
    actor: &Actor,
    id: Uuid,
    outcome: CallOutcome,
) -> ServiceResult<LeadView> {
    require(actor, Capability::EditLeads)?;
    if !outcome.is_call() {
        return Err(ServiceError::Invalid(format!(
            "{outcome}: not a call outcome"
        )));
    }
    let at = now();
    let login = actor.login.clone();
    let edit: LeadEdit = Box::new(move |lead| {
        apply_call(lead, outcome, &login, at);
        true
    });
    let out = svc
        .store
        .update_leads(&[id], actor.lead_scope().as_deref(), edit)
        .await?;
    let lead = out.changed.into_iter().next().ok_or_else(lead_not_found)?;
    let mut events = vec![CallEvent {
        id: Uuid::new_v4(),
        lead_id: id,
        actor_id: actor.id,
        actor_login: actor.login.clone(),
        outcome,
        status: (outcome == CallOutcome::NoResponse).then(|| lead.status.clone()),
        at,
    }];
    if outcome == CallOutcome::NoResponse {
        events.extend(status_event(&lead, actor.id, &actor.login, at));
    }
    svc.store.record_events(&events).await?;
    view(svc, present(actor, lead)).await
}

/// A lead's history: its status changes and its calls.
pub async fn history(svc: &Services, actor: &Actor, id: Uuid) -> ServiceResult<LeadView> {
    require(actor, Capability::ReadLeads)?;
    let lead = svc
        .store
        .get_lead(id, actor.lead_scope().as_deref())
        .await?
        .ok_or_else(lead_not_found)?;
    view(svc, present(actor, lead)).await
}

/// The longest range the figures count over.
pub const MAX_FIGURE_DAYS: u64 = 366;

/// The figures of one telecaller over a range of IST days.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TelecallerFigures {
    /// Whose (login, lower-cased).
    pub telecaller: String,
    /// The whole range.
    pub totals: Figures,
    /// Each IST day with any event, oldest first.
    pub days: BTreeMap<NaiveDate, Figures>,
}

/// Figures over `[start, end]` (IST days, both included).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FigureReport {
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Every telecaller's (or the one asked for), by login.
    pub telecallers: Vec<TelecallerFigures>,
    /// All of them together.
    pub totals: Figures,
}

/// The UTC bounds of an IST day, or the answer for a date at the edge of
/// the calendar.
pub fn day_bounds(day: NaiveDate) -> ServiceResult<(DateTime<Utc>, DateTime<Utc>)> {
    ist_day_bounds(day).ok_or_else(|| ServiceError::Invalid(format!("date: {day} is out of range")))
}

/// The figures of `telecaller` (a telecaller: their own; others may name
/// anyone, or no one for every telecaller: the admin's summary) from the
/// event rows, per IST day from `start` to `end` (default: today).
pub async fn figures(
    svc: &Services,
    actor: &Actor,
    telecaller: Option<String>,
    start: Option<String>,
    end: Option<String>,
) -> ServiceResult<FigureReport> {
    require(actor, Capability::TelecallerDesk)?;
    let login = match (actor.lead_scope(), telecaller) {
        (Some(own), None) => Some(own),
        (Some(own), Some(t)) if t.trim().eq_ignore_ascii_case(&own) => Some(own),
        (Some(_), Some(_)) => return Err(ServiceError::NotFound("telecaller not found".into())),
        (None, t) => t.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
    };
    let end = match given(&end) {
        Some(d) => parse_date("end_date", d)?,
        None => ist_today(),
    };
    let start = match given(&start) {
        Some(d) => parse_date("start_date", d)?,
        None => end,
    };
    if start > end {
        return Err(ServiceError::Invalid(
            "start_date: must not be after end_date".into(),
        ));
    }
    if (end - start).num_days() as u64 >= MAX_FIGURE_DAYS {
        return Err(ServiceError::Invalid(format!(
            "start_date: the range may span at most {MAX_FIGURE_DAYS} days"
        )));
    }
    let (from, _) = day_bounds(start)?;
    let (_, to) = day_bounds(end)?;
    let counts = svc.store.count_events(login.as_deref(), from, to).await?;
    let mut telecallers = Vec::new();
    let mut all = Figures::default();
    for c in &counts {
        all.add(c);
    }
    let mut by_login = figures_by_login(&counts);
    if let Some(l) = &login {
        by_login.entry(l.to_lowercase()).or_default();
    }
    for (telecaller, days) in by_login {
        let mut totals = Figures::default();
        for c in counts.iter().filter(|c| c.login == telecaller) {
            totals.add(c);
        }
        telecallers.push(TelecallerFigures {
            telecaller,
            totals,
            days,
        });
    }
    Ok(FigureReport {
        start_date: start,
        end_date: end,
        telecallers,
        totals: all,
    })
}
