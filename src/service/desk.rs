//! Counts over leads and the telecaller's working day: the status summary,
//! the telecaller summary and the telecaller desk (what "today", "callbacks
//! due" and "overdue" mean).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::calls::{LeadView, day_bounds, with_events};
use super::filter::{given, parse_date};
use super::leads::{FilterQuery, present};
use super::{ServiceError, ServiceResult, Services, require};
use crate::domain::error::reject_nul;
use crate::domain::{
    AccountStatus, AccountType, Actor, Capability, Figures, Lead, Stage, ist_today,
};
use crate::store::StatusCount;
use crate::store::filter::{LeadFilter, LeadOrder};

/// How many leads each list of the telecaller desk shows at most.
pub const DESK_LIMIT: u32 = 100;

/// Lead counts by stage and status; every pipeline status appears, with 0
/// when no lead has it.
#[derive(Debug, Default)]
pub struct StatusSummary {
    /// All leads counted.
    pub total_leads: i64,
    /// Stage code → status → count.
    pub summary: BTreeMap<&'static str, BTreeMap<String, i64>>,
    /// Stage code → count.
    pub stage_totals: BTreeMap<&'static str, i64>,
    /// Stage code → the leads that reached its completion status: as a
    /// completion moves a lead on (DESIGN §4), those are the leads now in a
    /// later stage, plus those at the completion status itself (`DONE!`, or
    /// one a lead was created or imported with: that does not move it on). Derived from the same
    /// counts (no history scan, so the SQLite counters still answer every
    /// filter); a lead moved back to an earlier stage counts only where it
    /// is now.
    pub completed: BTreeMap<&'static str, i64>,
}

impl StatusSummary {
    /// Folds the store's counts into every stage and status.
    pub fn from_counts(counts: &[StatusCount]) -> Self {
        let mut s = StatusSummary::default();
        for stage in Stage::all() {
            let statuses = s.summary.entry(stage.code()).or_default();
            for st in stage.statuses() {
                statuses.insert((*st).to_string(), 0);
            }
            s.stage_totals.insert(stage.code(), 0);
        }
        for c in counts {
            *s.summary
                .entry(c.stage.code())
                .or_default()
                .entry(c.status.clone())
                .or_default() += c.count;
            *s.stage_totals.entry(c.stage.code()).or_default() += c.count;
            s.total_leads += c.count;
        }
        for stage in Stage::all() {
            let later: i64 = Stage::all()
                .into_iter()
                .filter(|st| *st > stage)
                .map(|st| s.stage_totals[st.code()])
                .sum();
            // and the leads sitting at it: DONE! (final), or a completion
            // status given on create or import, which does not move a lead on
            let at_completion = s.summary[stage.code()][stage.completion_status()];
            s.completed.insert(stage.code(), later + at_completion);
        }
        s
    }
}

/// The status summary of the leads within reach that match the filters.
pub async fn status_summary(
    svc: &Services,
    actor: &Actor,
    q: FilterQuery,
) -> ServiceResult<StatusSummary> {
    require(actor, Capability::ReadLeads)?;
    let filter = q.into_filter(actor)?;
    let counts = svc.store.status_summary(&filter).await?;
    Ok(StatusSummary::from_counts(&counts))
}

/// Whose desk: a telecaller only their own (another login is not found, as
/// for any object out of reach); everyone else must name one.
pub(super) fn whose(actor: &Actor, asked: Option<String>) -> ServiceResult<String> {
    let asked = asked
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if let Some(t) = &asked {
        reject_nul("telecaller", t)?;
    }
    match (actor.lead_scope(), asked) {
        (Some(own), None) => Ok(own),
        (Some(own), Some(t)) if t.eq_ignore_ascii_case(&own) => Ok(own),
        (Some(_), Some(_)) => Err(ServiceError::NotFound("telecaller not found".into())),
        (None, Some(t)) => Ok(t),
        (None, None) => Err(ServiceError::Invalid(
            "telecaller: required (the telecaller's login)".into(),
        )),
    }
}

/// The three lists of a desk, by name.
pub const DESK_LISTS: [&str; 3] = ["today", "callbacks_due", "overdue"];

/// The desk's filters on `today`: assigned for today, callback due today,
/// callback overdue.
pub fn desk_filters(telecaller: &str, today: NaiveDate) -> [(&'static str, LeadFilter); 3] {
    let base = LeadFilter {
        telecaller: Some(telecaller.to_string()),
        ..Default::default()
    };
    [
        (
            DESK_LISTS[0],
            LeadFilter {
                assigned_on: Some(today),
                ..base.clone()
            },
        ),
        (
            DESK_LISTS[1],
            LeadFilter {
                callback_on: Some(today),
                ..base.clone()
            },
        ),
        (
            DESK_LISTS[2],
            LeadFilter {
                callback_before: Some(today),
                ..base
            },
        ),
    ]
}

/// A telecaller's status summary and how many leads each desk list holds.
#[derive(Debug)]
pub struct TelecallerSummary {
    /// Whose.
    pub telecaller: String,
    /// Their leads by stage and status.
    pub summary: StatusSummary,
    /// Desk list name → how many leads.
    pub lists: Vec<(&'static str, i64)>,
    /// Calls they made today (IST), from the call events.
    pub calls_today: i64,
}

/// The summary of `telecaller`'s leads (a telecaller: their own).
pub async fn telecaller_summary(
    svc: &Services,
    actor: &Actor,
    telecaller: Option<String>,
) -> ServiceResult<TelecallerSummary> {
    require(actor, Capability::TelecallerDesk)?;
    let telecaller = whose(actor, telecaller)?;
    let filter = LeadFilter {
        telecaller: Some(telecaller.clone()),
        ..Default::default()
    };
    let summary = StatusSummary::from_counts(&svc.store.status_summary(&filter).await?);
    let mut lists = Vec::new();
    for (name, f) in desk_filters(&telecaller, ist_today()) {
        lists.push((name, svc.store.count_leads(&f).await?));
    }
    let mut today = Figures::default();
    let (from, to) = day_bounds(ist_today())?;
    for c in svc.store.count_events(Some(&telecaller), from, to).await? {
        today.add(&c);
    }
    Ok(TelecallerSummary {
        telecaller,
        summary,
        lists,
        calls_today: today.calls_made,
    })
}

/// One list of the desk.
#[derive(Debug)]
pub struct DeskList {
    /// Its name (one of [`DESK_LISTS`]).
    pub name: &'static str,
    /// The first [`DESK_LIMIT`] leads, as the actor may see them.
    pub leads: Vec<Lead>,
    /// How many there are in all.
    pub total: i64,
}

/// A telecaller's day.
#[derive(Debug)]
pub struct Desk {
    /// Whose.
    pub telecaller: String,
    /// The day (IST): today unless another was asked for.
    pub date: NaiveDate,
    /// That day's, callbacks due and overdue, then all their leads; each in
    /// the list order: uncalled first, then the longest-ago called.
    pub lists: Vec<DeskList>,
    /// What the telecaller did that day, from the call events.
    pub figures: Figures,
}

/// The name of the desk's list of all the telecaller's leads.
pub const DESK_ALL: &str = "leads";

/// The desk of `telecaller` (a telecaller: their own) for `date`
/// (`YYYY-MM-DD`, an IST day; default today), past or future.
pub async fn telecaller_desk(
    svc: &Services,
    actor: &Actor,
    telecaller: Option<String>,
    date: Option<String>,
) -> ServiceResult<Desk> {
    let (telecaller, date) = whose_day(actor, telecaller, date)?;
    let all = LeadFilter {
        telecaller: Some(telecaller.clone()),
        ..Default::default()
    };
    let mut lists = Vec::new();
    for (name, f) in desk_filters(&telecaller, date)
        .into_iter()
        .chain([(DESK_ALL, all)])
    {
        let (leads, total) = svc.store.list_leads(&f, 1, DESK_LIMIT).await?;
        let leads = leads.into_iter().map(|l| present(actor, l)).collect();
        lists.push(DeskList { name, leads, total });
    }
    let figures = day_figures(svc, &telecaller, date).await?;
    Ok(Desk {
        telecaller,
        date,
        lists,
        figures,
    })
}

/// Whose desk and which day: the capability, [`whose`], the date
/// (`YYYY-MM-DD`, an IST day; default today).
fn whose_day(
    actor: &Actor,
    telecaller: Option<String>,
    date: Option<String>,
) -> ServiceResult<(String, NaiveDate)> {
    require(actor, Capability::TelecallerDesk)?;
    let telecaller = whose(actor, telecaller)?;
    let date = match given(&date) {
        Some(d) => parse_date("date", d)?,
        None => ist_today(),
    };
    Ok((telecaller, date))
}

/// What `telecaller` did on `date`, from the call events.
async fn day_figures(svc: &Services, telecaller: &str, date: NaiveDate) -> ServiceResult<Figures> {
    let mut figures = Figures::default();
    let (from, to) = day_bounds(date)?;
    for c in svc.store.count_events(Some(telecaller), from, to).await? {
        figures.add(&c);
    }
    Ok(figures)
}

/// How many leads one desk list holds and how many of them nobody has
/// called since the day began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCount {
    /// The list (one of [`DESK_LISTS`]).
    pub name: &'static str,
    /// Its leads.
    pub total: i64,
    /// Those not called since the start of the day (IST).
    pub pending: i64,
}

/// A desk's day in numbers: what the telecaller did and what is left.
#[derive(Debug, Clone)]
pub struct DayTotals {
    /// Whose.
    pub telecaller: String,
    /// The day (IST).
    pub date: NaiveDate,
    /// Calls made, connected, no response, status changes, conversions.
    pub figures: Figures,
    /// Each of [`DESK_LISTS`], in order.
    pub lists: Vec<ListCount>,
    /// The day's work not done yet: the leads assigned for the day and the
    /// callbacks due that day that nobody has called since the day began
    /// (a lead on both lists counts on each; overdue callbacks are counted
    /// in their own list).
    pub pending: i64,
}

async fn count(svc: &Services, filter: &LeadFilter) -> ServiceResult<i64> {
    Ok(svc.store.count_leads(filter).await?)
}

async fn totals_for(
    svc: &Services,
    telecaller: String,
    date: NaiveDate,
) -> ServiceResult<DayTotals> {
    let (day_start, _) = day_bounds(date)?;
    // six counts and the figures at once: on PostgreSQL each is a round trip
    // of its own (an overdue count walks ~13k index entries of a busy desk)
    let filters: Vec<(&'static str, LeadFilter, LeadFilter)> = desk_filters(&telecaller, date)
        .into_iter()
        .map(|(name, f)| {
            let pending = LeadFilter {
                not_called_since: Some(day_start),
                ..f.clone()
            };
            (name, f, pending)
        })
        .collect();
    let counts = futures_util::future::try_join_all(
        filters
            .iter()
            .flat_map(|(_, f, pending)| [count(svc, f), count(svc, pending)]),
    );
    let (counts, figures) = tokio::join!(counts, day_figures(svc, &telecaller, date));
    let (counts, figures) = (counts?, figures?);
    let lists: Vec<ListCount> = filters
        .iter()
        .zip(counts.chunks(2))
        .map(|((name, _, _), c)| ListCount {
            name,
            total: c[0],
            pending: c[1],
        })
        .collect();
    let pending = lists
        .iter()
        .filter(|l| l.name != DESK_LISTS[2])
        .map(|l| l.pending)
        .sum();
    Ok(DayTotals {
        telecaller,
        date,
        figures,
        lists,
        pending,
    })
}

/// The figures and list counts of `telecaller`'s desk (a telecaller: their
/// own) on `date` (default today).
pub async fn day_totals(
    svc: &Services,
    actor: &Actor,
    telecaller: Option<String>,
    date: Option<String>,
) -> ServiceResult<DayTotals> {
    let (telecaller, date) = whose_day(actor, telecaller, date)?;
    totals_for(svc, telecaller, date).await
}

/// Which page of which desk list to show.
#[derive(Debug, Clone, Default)]
pub struct DeskQuery {
    /// Whose desk (a telecaller: their own; everyone else must name one).
    pub telecaller: Option<String>,
    /// The IST day, `YYYY-MM-DD` (default today).
    pub date: Option<String>,
    /// One of [`DESK_LISTS`]; by default the first with leads still to
    /// call, else the first with leads, else the day's.
    pub list: Option<String>,
    /// The page, from 1.
    pub page: u32,
    /// Leads per page, 1 to [`DESK_LIMIT`].
    pub limit: u32,
}

/// One page of one desk list, with the day's totals.
#[derive(Debug)]
pub struct DeskPage {
    /// The day's figures and every list's counts.
    pub totals: DayTotals,
    /// The list shown.
    pub list: &'static str,
    /// Its page (from 1; past the last page, the last).
    pub page: u32,
    /// How many pages it has (at least 1).
    pub pages: u32,
    /// The page's leads with their calls, in the list order (uncalled
    /// first, then the longest-ago called), as the actor may see them.
    pub leads: Vec<LeadView>,
}

/// One page of a desk list: the telecaller desk page's one call.
pub async fn desk_page(svc: &Services, actor: &Actor, q: DeskQuery) -> ServiceResult<DeskPage> {
    let (telecaller, date) = whose_day(actor, q.telecaller, q.date)?;
    let asked = match given(&q.list) {
        None => None,
        Some(l) => Some(DESK_LISTS.into_iter().find(|n| *n == l).ok_or_else(|| {
            ServiceError::Invalid(format!(
                "list: expected one of {}, got {l:?}",
                DESK_LISTS.join(", ")
            ))
        })?),
    };
    let limit = q.limit.clamp(1, DESK_LIMIT);
    let totals = totals_for(svc, telecaller.clone(), date).await?;
    let list = asked.unwrap_or_else(|| {
        let first = |f: fn(&ListCount) -> bool| totals.lists.iter().find(|l| f(l)).map(|l| l.name);
        first(|l| l.pending > 0)
            .or_else(|| first(|l| l.total > 0))
            .unwrap_or(DESK_LISTS[0])
    });
    let total = totals
        .lists
        .iter()
        .find(|l| l.name == list)
        .map_or(0, |l| l.total);
    let pages = u32::try_from((total + i64::from(limit) - 1) / i64::from(limit))
        .unwrap_or(u32::MAX)
        .max(1);
    let page = q.page.clamp(1, pages);
    let filter = desk_filters(&telecaller, date)
        .into_iter()
        .find(|(n, _)| *n == list)
        .map(|(_, f)| f)
        .unwrap_or_default();
    // the list's total is among the totals just counted: not counted again
    let leads = svc
        .store
        .leads_page(&filter, LeadOrder::default(), page, limit, total)
        .await?;
    let leads = leads.into_iter().map(|l| present(actor, l)).collect();
    Ok(DeskPage {
        totals,
        list,
        page,
        pages,
        leads: with_events(svc, leads).await?,
    })
}

/// The active telecaller accounts whose desks `actor` may open (a
/// telecaller: only their own), by login: (login, name).
pub async fn telecallers(svc: &Services, actor: &Actor) -> ServiceResult<Vec<(String, String)>> {
    require(actor, Capability::TelecallerDesk)?;
    let own = actor.lead_scope();
    let mut out: Vec<(String, String)> = svc
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.account_type == AccountType::Telecaller && u.status == AccountStatus::Active)
        .map(|u| {
            // a lead names its telecaller by the login an actor signs in as: the e-mail
            let name = format!("{} {}", u.first_name.trim(), u.last_name.trim());
            let name = name.trim().to_string();
            let name = if name.is_empty() {
                u.email.clone()
            } else {
                name
            };
            (u.email, name)
        })
        .filter(|(login, _)| own.as_ref().is_none_or(|o| o.eq_ignore_ascii_case(login)))
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_appears_and_counts_add_up() {
        let counts = [
            StatusCount {
                stage: Stage::S1,
                status: "New".into(),
                count: 3,
            },
            StatusCount {
                stage: Stage::S1,
                status: "Junk".into(),
                count: 2,
            },
        ];
        let s = StatusSummary::from_counts(&counts);
        assert_eq!(s.total_leads, 5);
        assert_eq!(s.stage_totals["S1"], 5);
        assert_eq!(s.stage_totals["S4"], 0);
        assert_eq!(s.summary["S1"]["New"], 3);
        assert_eq!(s.completed["S1"], 0);
        for stage in Stage::all() {
            for st in stage.statuses() {
                assert!(s.summary[stage.code()].contains_key(*st), "{st}");
            }
        }
    }

    #[test]
    fn completions_count_the_leads_past_each_stage() {
        let c = |stage, status: &str, count| StatusCount {
            stage,
            status: status.into(),
            count,
        };
        let s = StatusSummary::from_counts(&[
            c(Stage::S1, "New", 5),
            c(Stage::S1, "Highly Interested", 6),
            c(Stage::S2, "Docs Upload Pending", 4),
            c(Stage::S3, "Training WIP", 2),
            c(Stage::S3, "Approved", 7),
            c(Stage::S4, "CT WIP", 1),
            c(Stage::S4, "DONE!", 3),
        ]);
        assert_eq!(s.completed["S1"], 6 + 4 + 2 + 7 + 1 + 3);
        assert_eq!(s.completed["S2"], 2 + 7 + 1 + 3);
        assert_eq!(s.completed["S3"], 7 + 1 + 3);
        assert_eq!(s.completed["S4"], 3);
    }

    #[test]
    fn the_desk_means_today_due_and_overdue() {
        let today = NaiveDate::from_ymd_opt(2026, 9, 10).unwrap();
        let [(a, today_f), (b, due), (c, overdue)] = desk_filters("tc@x", today);
        assert_eq!([a, b, c], DESK_LISTS);
        assert_eq!(today_f.assigned_on, Some(today));
        assert_eq!(due.callback_on, Some(today));
        assert_eq!(overdue.callback_before, Some(today));
        for f in [&today_f, &due, &overdue] {
            assert_eq!(f.telecaller.as_deref(), Some("tc@x"));
        }
    }

    #[test]
    fn a_telecaller_has_only_their_own_desk() {
        use crate::domain::AccountType;
        let tc = Actor {
            id: uuid::Uuid::nil(),
            login: "tc@x".into(),
            role: AccountType::Telecaller,
        };
        assert_eq!(whose(&tc, None).unwrap(), "tc@x");
        assert_eq!(whose(&tc, Some(" TC@x ".into())).unwrap(), "tc@x");
        assert!(matches!(
            whose(&tc, Some("other@x".into())),
            Err(ServiceError::NotFound(_))
        ));
        let admin = Actor {
            role: AccountType::Admin,
            ..tc
        };
        assert_eq!(whose(&admin, Some("other@x".into())).unwrap(), "other@x");
        assert!(matches!(whose(&admin, None), Err(ServiceError::Invalid(_))));
    }
}
