//! Reports over the call events (`service::calls`, `store::CallStore`) and
//! the telecallers' leads, in the shapes the original's telecaller pages
//! read: the leads with a no response grouped by who recorded it, every
//! call per telecaller and day, the per-telecaller daily summary, a
//! telecaller's leads for a day, and a day's call log as a workbook.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::calls::{LeadView, UserNames, day_bounds, with_events};
use super::desk::whose;
use super::filter::{given, parse_date};
use super::leads::present;
use super::{ServiceError, ServiceResult, Services, require};
use crate::domain::{
    AccountStatus, AccountType, Actor, CallEvent, CallOutcome, Capability, Figures, Lead, to_ist,
    today_ist,
};
use crate::store::filter::LeadFilter;

/// Most leads one telecaller list answers (the original's cap).
pub const MAX_DESK_LEADS: u32 = 10_000;

/// Leads read per query by id.
const LEADS_PER_QUERY: usize = 1_000;

/// Before any event and after every one, within both backends' range
/// (PostgreSQL's timestamps stop long before chrono's).
fn earliest() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

fn latest() -> DateTime<Utc> {
    "9999-12-31T00:00:00Z".parse().expect("a valid instant")
}

/// The UTC range of the IST days `start..=end`, each end open when not
/// given.
fn range(
    start: &Option<String>,
    end: &Option<String>,
) -> ServiceResult<(DateTime<Utc>, DateTime<Utc>)> {
    let start = given(start)
        .map(|d| parse_date("start_date", d))
        .transpose()?;
    let end = given(end).map(|d| parse_date("end_date", d)).transpose()?;
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(ServiceError::Invalid(
            "start_date: must not be after end_date".into(),
        ));
    }
    let from = match start {
        Some(d) => day_bounds(d)?.0,
        None => earliest(),
    };
    let to = match end {
        Some(d) => day_bounds(d)?.1,
        None => latest(),
    };
    Ok((from, to))
}

/// The leads of `ids` within the actor's reach, by id.
async fn leads_by_id(
    svc: &Services,
    actor: &Actor,
    ids: &HashSet<Uuid>,
) -> ServiceResult<HashMap<Uuid, Lead>> {
    let scope = actor.lead_scope();
    let ids: Vec<Uuid> = ids.iter().copied().collect();
    let mut out = HashMap::with_capacity(ids.len());
    // a bounded number per round trip (PostgreSQL's ANY array, SQLite's one
    // closure): thousands of leads with a no response are a few queries
    for chunk in ids.chunks(LEADS_PER_QUERY) {
        for l in svc.store.get_leads(chunk, scope.as_deref()).await? {
            out.insert(l.id, present(actor, l));
        }
    }
    Ok(out)
}

/// The leads whose last no response one telecaller recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoResponseGroup {
    /// Who recorded the no responses.
    pub telecaller_email: String,
    /// The login's local part.
    pub telecaller_name: String,
    /// Their leads.
    pub leads: Vec<LeadView>,
    /// How many.
    pub count: usize,
}

/// Every lead within reach with a recorded no response, grouped by who
/// recorded the last one, the largest group first.
pub async fn no_response_groups(
    svc: &Services,
    actor: &Actor,
) -> ServiceResult<Vec<NoResponseGroup>> {
    require(actor, Capability::ReadLeads)?;
    let events = svc
        .store
        .calls_between(earliest(), latest(), Some(CallOutcome::NoResponse))
        .await?;
    let ids: HashSet<Uuid> = events.iter().map(|e| e.lead_id).collect();
    let leads = leads_by_id(svc, actor, &ids).await?;
    let views = with_events(svc, leads.into_values().collect()).await?;
    let mut groups: BTreeMap<String, Vec<LeadView>> = BTreeMap::new();
    for v in views {
        if let Some(by) = v.last_no_response_by.clone() {
            groups.entry(by.to_lowercase()).or_default().push(v);
        }
    }
    let mut out: Vec<NoResponseGroup> = groups
        .into_iter()
        .map(|(login, mut leads)| {
            leads.sort_by_key(|v| std::cmp::Reverse(v.last_no_response));
            NoResponseGroup {
                telecaller_name: login.split('@').next().unwrap_or(&login).to_string(),
                telecaller_email: login,
                count: leads.len(),
                leads,
            }
        })
        .collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.count));
    Ok(out)
}

/// One call in the statistics.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallRow {
    /// IST wall clock, `HH:MM:SS`.
    pub time: String,
    /// When (UTC).
    pub timestamp: DateTime<Utc>,
    /// Who called (their name).
    pub caller_name: String,
    /// called, connected or no_response.
    pub outcome: CallOutcome,
    /// The lead's name (`null` when the lead is gone or out of reach).
    pub lead_name: Option<String>,
    /// Its phone number.
    pub lead_phone: Option<String>,
    /// Its id.
    pub lead_id: Uuid,
}

/// One IST day of a telecaller's calls.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallDay {
    /// The day.
    pub date: NaiveDate,
    /// How many calls.
    pub call_count: usize,
    /// Their times, `HH:MM:SS` IST, in order.
    pub call_times: Vec<String>,
    /// The calls.
    pub calls: Vec<CallRow>,
}

/// One telecaller's calls.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TelecallerCalls {
    /// Whose (login, lower-cased).
    pub telecaller_email: String,
    /// Their name.
    pub telecaller_name: String,
    /// Every call in the range.
    pub total_calls: usize,
    /// Per IST day, newest first.
    pub daily_stats: Vec<CallDay>,
}

/// Every call (call outcome events) in the IST days `start..=end` (each
/// open when not given), per telecaller (most calls first) and day (newest
/// first); a telecaller sees their own.
pub async fn call_statistics(
    svc: &Services,
    actor: &Actor,
    start: &Option<String>,
    end: &Option<String>,
) -> ServiceResult<Vec<TelecallerCalls>> {
    require(actor, Capability::TelecallerDesk)?;
    let (from, to) = range(start, end)?;
    let mut events = svc.store.calls_between(from, to, None).await?;
    if let Some(own) = actor.lead_scope() {
        events.retain(|e| e.actor_login.eq_ignore_ascii_case(&own));
    }
    let ids: HashSet<Uuid> = events.iter().map(|e| e.lead_id).collect();
    let leads = leads_by_id(svc, actor, &ids).await?;
    let names = UserNames::for_logins(svc, events.iter().map(|e| e.actor_login.as_str())).await?;
    let mut by_login: BTreeMap<String, BTreeMap<NaiveDate, Vec<&CallEvent>>> = BTreeMap::new();
    for e in &events {
        by_login
            .entry(e.actor_login.to_lowercase())
            .or_default()
            .entry(today_ist(e.at))
            .or_default()
            .push(e);
    }
    let mut out: Vec<TelecallerCalls> = by_login
        .into_iter()
        .map(|(login, days)| {
            let daily_stats: Vec<CallDay> = days
                .into_iter()
                .rev()
                .map(|(date, calls)| {
                    let calls: Vec<CallRow> = calls
                        .into_iter()
                        .map(|e| {
                            let lead = leads.get(&e.lead_id);
                            CallRow {
                                time: to_ist(e.at).format("%H:%M:%S").to_string(),
                                timestamp: e.at,
                                caller_name: names.of(&e.actor_login),
                                outcome: e.outcome,
                                lead_name: lead.map(|l| l.name.clone()),
                                lead_phone: lead.map(|l| l.phone_number.clone()),
                                lead_id: e.lead_id,
                            }
                        })
                        .collect();
                    CallDay {
                        date,
                        call_count: calls.len(),
                        call_times: calls.iter().map(|c| c.time.clone()).collect(),
                        calls,
                    }
                })
                .collect();
            TelecallerCalls {
                telecaller_name: names.of(&login),
                total_calls: daily_stats.iter().map(|d| d.call_count).sum(),
                telecaller_email: login,
                daily_stats,
            }
        })
        .collect();
    out.sort_by_key(|t| std::cmp::Reverse(t.total_calls));
    Ok(out)
}

/// One telecaller's line of the daily summary.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DailySummary {
    /// Whose.
    pub telecaller_email: String,
    /// Their name.
    pub telecaller_name: String,
    /// Their leads.
    pub total_leads: i64,
    /// Calls they made in the range (call events).
    pub calls_done: i64,
    /// No responses they recorded in the range.
    pub no_response: i64,
    /// Their leads whose status contains "highly interested".
    pub highly_interested: i64,
    /// … "not interested".
    pub not_interested: i64,
    /// … "call back".
    pub callbacks: i64,
    /// Their figures over the range (calls, connected, no response, status
    /// changes, conversions).
    pub figures: Figures,
}

/// For every active telecaller account: their leads by a few statuses and
/// their calls over the IST days `start..=end` (each open when not given),
/// most leads first. A telecaller gets their own line.
pub async fn daily_summary(
    svc: &Services,
    actor: &Actor,
    start: &Option<String>,
    end: &Option<String>,
) -> ServiceResult<Vec<DailySummary>> {
    require(actor, Capability::TelecallerDesk)?;
    let (from, to) = range(start, end)?;
    let own = actor.lead_scope();
    let mut out = Vec::new();
    for u in svc.store.list_users().await? {
        if u.account_type != AccountType::Telecaller || u.status != AccountStatus::Active {
            continue;
        }
        if own
            .as_deref()
            .is_some_and(|o| !o.eq_ignore_ascii_case(&u.email))
        {
            continue;
        }
        let filter = LeadFilter {
            telecaller: Some(u.email.clone()),
            ..Default::default()
        };
        let mut line = DailySummary {
            telecaller_name: super::calls::display_name(&u.first_name, &u.last_name),
            telecaller_email: u.email.clone(),
            total_leads: 0,
            calls_done: 0,
            no_response: 0,
            highly_interested: 0,
            not_interested: 0,
            callbacks: 0,
            figures: Figures::default(),
        };
        for c in svc.store.status_summary(&filter).await? {
            let status = c.status.to_lowercase();
            line.total_leads += c.count;
            if status.contains("highly interested") {
                line.highly_interested += c.count;
            }
            if status.contains("not interested") {
                line.not_interested += c.count;
            }
            if status.contains("call back") {
                line.callbacks += c.count;
            }
        }
        for c in svc.store.count_events(Some(&u.email), from, to).await? {
            line.figures.add(&c);
        }
        line.calls_done = line.figures.calls_made;
        line.no_response = line.figures.no_response;
        out.push(line);
    }
    out.sort_by_key(|l| std::cmp::Reverse(l.total_leads));
    Ok(out)
}

/// A telecaller's leads: all assigned to them, or for one IST day the ones
/// assigned for it and the others whose callback is due on it.
#[derive(Debug)]
pub struct DeskLeads {
    /// Whose.
    pub telecaller: String,
    /// The day asked for.
    pub date: Option<NaiveDate>,
    /// Assigned (for that day).
    pub assigned: Vec<LeadView>,
    /// Callback due that day and not in `assigned`.
    pub callbacks: Vec<LeadView>,
}

/// The leads of the telecaller account `telecaller` (404 when no
/// telecaller account has that login; a telecaller: their own), at most
/// [`MAX_DESK_LEADS`] per list.
pub async fn desk_leads(
    svc: &Services,
    actor: &Actor,
    telecaller: Option<String>,
    date: &Option<String>,
) -> ServiceResult<DeskLeads> {
    require(actor, Capability::TelecallerDesk)?;
    let login = whose(actor, telecaller)?;
    let account = svc.store.find_login(&login).await?;
    if !account.is_some_and(|a| a.user.account_type == AccountType::Telecaller) {
        return Err(ServiceError::NotFound(format!(
            "telecaller {login:?} not found"
        )));
    }
    let date = given(date).map(|d| parse_date("date", d)).transpose()?;
    let base = LeadFilter {
        telecaller: Some(login.clone()),
        ..Default::default()
    };
    let list = |f: LeadFilter| async move {
        let (leads, _) = svc.store.list_leads(&f, 1, MAX_DESK_LEADS).await?;
        with_events(svc, leads.into_iter().map(|l| present(actor, l)).collect()).await
    };
    let (assigned, callbacks) = match date {
        None => (list(base).await?, Vec::new()),
        Some(day) => {
            let assigned = list(LeadFilter {
                assigned_on: Some(day),
                ..base.clone()
            })
            .await?;
            let ids: HashSet<Uuid> = assigned.iter().map(|v| v.lead.id).collect();
            let mut callbacks = list(LeadFilter {
                callback_on: Some(day),
                ..base
            })
            .await?;
            callbacks.retain(|v| !ids.contains(&v.lead.id));
            (assigned, callbacks)
        }
    };
    Ok(DeskLeads {
        telecaller: login,
        date,
        assigned,
        callbacks,
    })
}

/// How a lead assigned for a day stands in that day's call report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// Called (a call that was not a no response), not RNR now.
    Done,
    /// Its status is RNR (a no response).
    Rnr,
    /// Neither yet.
    Pending,
}

fn standing(v: &LeadView) -> Standing {
    if v.lead.status.eq_ignore_ascii_case("RNR") {
        Standing::Rnr
    } else if v.lead.last_called.is_some()
        || v.calling_history
            .iter()
            .any(|c| c.outcome != CallOutcome::NoResponse)
    {
        Standing::Done
    } else {
        Standing::Pending
    }
}

/// The sheets of a call-log workbook after the report, in the original's
/// order; each is written only when it has a lead.
const DETAIL_SHEETS: [(&str, Option<Standing>); 4] = [
    ("All Assigned", None),
    ("Calls Done Details", Some(Standing::Done)),
    ("RNR Details", Some(Standing::Rnr)),
    ("Pending Details", Some(Standing::Pending)),
];

/// A day's call log of one telecaller as an xlsx workbook, the original's
/// five sheets (COMPAT §2.13): "Call Report" — the counts of the leads
/// assigned to them for that IST day (assigned, done, pending, RNR), then
/// the day's calls (IST time, lead name, number, status, and Pulse's
/// outcome) — then "All Assigned", "Calls Done Details", "RNR Details",
/// "Pending Details" with those leads (field names as headers), each only
/// when not empty. Returns the file name and the bytes (a day's leads are
/// few: at most [`MAX_DESK_LEADS`]).
pub async fn call_log_workbook(
    svc: &Services,
    actor: &Actor,
    telecaller: Option<String>,
    date: &Option<String>,
) -> ServiceResult<(String, Vec<u8>)> {
    use crate::export::xlsx::{XlsxOptions, XlsxWriter};
    use crate::export::{Cell, Column, ColumnKind, RowWriter};
    require(actor, Capability::TelecallerDesk)?;
    let login = whose(actor, telecaller)?;
    let Some(day) = given(date).map(|d| parse_date("date", d)).transpose()? else {
        return Err(ServiceError::Invalid("date: required (YYYY-MM-DD)".into()));
    };
    let (from, to) = day_bounds(day)?;
    // the leads assigned to them for that day (Pulse keeps the IST date)
    let filter = LeadFilter {
        telecaller: Some(login.clone()),
        assigned_on: Some(day),
        ..Default::default()
    };
    let (assigned, _) = svc.store.list_leads(&filter, 1, MAX_DESK_LEADS).await?;
    let assigned = with_events(
        svc,
        assigned.into_iter().map(|l| present(actor, l)).collect(),
    )
    .await?;
    let standings: Vec<Standing> = assigned.iter().map(standing).collect();
    let count = |s: Standing| standings.iter().filter(|&&x| x == s).count();
    // the day's calls
    let mut events = svc.store.calls_between(from, to, None).await?;
    events.retain(|e| e.actor_login.eq_ignore_ascii_case(&login));
    let ids: HashSet<Uuid> = events.iter().map(|e| e.lead_id).collect();
    let leads = leads_by_id(svc, actor, &ids).await?;

    let internal = |e: std::io::Error| ServiceError::Internal(e.into());
    fn text(v: Option<&str>) -> Cell<'_> {
        v.map_or(Cell::Empty, Cell::Text)
    }
    let report = [
        Column::new("Call Report", 22.0, ColumnKind::Text),
        Column::new("", 28.0, ColumnKind::Text),
        Column::new("", 16.0, ColumnKind::Text),
        Column::new("", 22.0, ColumnKind::Text),
        Column::new("", 14.0, ColumnKind::Text),
    ];
    let opts = XlsxOptions {
        sheet_name: "Call Report".into(),
        ..XlsxOptions::default()
    };
    let mut w = XlsxWriter::new(Vec::new(), &report, opts).map_err(internal)?;
    let day_text = day.to_string();
    let figures = [
        ("Total Assigned", assigned.len()),
        ("Calls Done", count(Standing::Done)),
        ("Pending", count(Standing::Pending)),
        ("RNR", count(Standing::Rnr)),
    ];
    let figure_texts: Vec<String> = figures.iter().map(|(_, n)| n.to_string()).collect();
    w.write_row(&[Cell::Text("Telecaller"), Cell::Text(&login)])
        .map_err(internal)?;
    w.write_row(&[Cell::Text("Date"), Cell::Text(&day_text)])
        .map_err(internal)?;
    for ((label, _), n) in figures.iter().zip(&figure_texts) {
        w.write_row(&[Cell::Text(label), Cell::Text(n)])
            .map_err(internal)?;
    }
    w.write_row(&[]).map_err(internal)?;
    w.write_row(&[
        Cell::Text("Timestamp"),
        Cell::Text("Lead Name"),
        Cell::Text("Lead Number"),
        Cell::Text("Lead Status"),
        Cell::Text("Outcome"),
    ])
    .map_err(internal)?;
    for e in &events {
        let lead = leads.get(&e.lead_id);
        w.write_row(&[
            Cell::DateTime(e.at),
            text(lead.map(|l| l.name.as_str())),
            text(lead.map(|l| l.phone_number.as_str())),
            text(lead.map(|l| l.status.as_str())),
            Cell::Text(e.outcome.as_str()),
        ])
        .map_err(internal)?;
    }
    // the leads, one sheet per standing that has any
    let detail = [
        Column::new("id", 38.0, ColumnKind::Text),
        Column::new("name", 24.0, ColumnKind::Text),
        Column::new("phone_number", 14.0, ColumnKind::Text),
        Column::new("status", 22.0, ColumnKind::Text),
        Column::new("stage", 8.0, ColumnKind::Text),
        Column::new("source", 18.0, ColumnKind::Text),
        Column::new("assigned_telecaller", 26.0, ColumnKind::Text),
        Column::new("assigned_date", 12.0, ColumnKind::Date),
        Column::new("callback_date", 12.0, ColumnKind::Date),
        Column::new("last_called", 20.0, ColumnKind::DateTime),
        Column::new("last_called_by", 26.0, ColumnKind::Text),
        Column::new("last_no_response", 20.0, ColumnKind::DateTime),
        Column::new("remarks", 40.0, ColumnKind::Text),
    ];
    for (name, which) in DETAIL_SHEETS {
        let rows: Vec<&LeadView> = assigned
            .iter()
            .zip(&standings)
            .filter(|(_, s)| which.is_none_or(|w| w == **s))
            .map(|(v, _)| v)
            .collect();
        if rows.is_empty() {
            continue;
        }
        w.start_named_sheet(name, &detail).map_err(internal)?;
        for v in rows {
            let l = &v.lead;
            let id = l.id.to_string();
            w.write_row(&[
                Cell::Text(&id),
                Cell::Text(&l.name),
                Cell::Text(&l.phone_number),
                Cell::SharedText(&l.status),
                Cell::SharedText(l.stage.code()),
                l.source.as_deref().map_or(Cell::Empty, Cell::SharedText),
                l.assigned_telecaller
                    .as_deref()
                    .map_or(Cell::Empty, Cell::SharedText),
                l.assigned_date.map_or(Cell::Empty, Cell::Date),
                l.callback_date.map_or(Cell::Empty, Cell::Date),
                l.last_called.map_or(Cell::Empty, Cell::DateTime),
                text(v.last_called_by.as_deref()),
                v.last_no_response.map_or(Cell::Empty, Cell::DateTime),
                text(l.remarks.as_deref()),
            ])
            .map_err(internal)?;
        }
    }
    let done = w.finish().map_err(internal)?;
    let local = login.split('@').next().unwrap_or(&login);
    Ok((format!("call_logs_{local}_{day}.xlsx"), done.out))
}
