//! `/desk`: the telecaller desk, phone first (390 px is the design width).
//! The day's figures, the day's leads, callbacks due and overdue as tabs,
//! and each lead a card: tap to call, one-tap outcomes (called, connected,
//! no response, a callback), a status and a remark. With htmx an action
//! swaps its card and the figures; without it, a form POST and a 303 back
//! to the same list. Telecallers see their own desk; the roles that may
//! open any desk (DESIGN §2) pick a telecaller and see it read-only (what
//! they would record counts as theirs, not the telecaller's).

use std::time::Instant;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{Days, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::desk_card::{Card, CardNote, Context, Head, card};
use super::lead_detail::lead_id;
use super::page::{Layout, PageError, PageResult, PageUser, is_htmx, render, see_other};
use crate::domain::{CallOutcome, LeadPatch, ist_today};
use crate::http::AppState;
use crate::service::ServiceError;
use crate::service::desk::{DeskQuery, desk_page, telecallers};

/// Cards per page: a phone on a slow connection gets ~20 KB of HTML.
const CARDS_PER_PAGE: u32 = 20;

/// The desk's query string (text, so a bad value is reported, not fatal).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DeskParams {
    date: Option<String>,
    list: Option<String>,
    page: Option<String>,
    telecaller: Option<String>,
    /// After a plain form post: what was done, and to which lead.
    done: Option<String>,
    lead: Option<String>,
}

impl DeskParams {
    fn context(&self) -> Context {
        Context {
            date: self.date.clone().unwrap_or_default(),
            list: self.list.clone().unwrap_or_default(),
            page: self.page.clone().unwrap_or_default(),
            telecaller: self.telecaller.clone().unwrap_or_default(),
            extra: Vec::new(),
        }
    }
}

struct Tele {
    login: String,
    name: String,
    selected: bool,
}

#[derive(askama::Template)]
#[template(path = "desk.html")]
struct DeskView {
    l: Layout,
    head: Head,
    /// Never on the page (the figures are swapped out of band only after an action).
    oob: bool,
    /// Whose desk, for people ("Priya S"); empty on one's own.
    whose: String,
    /// Viewers who may open any desk: the telecallers to choose from.
    pick: Option<Vec<Tele>>,
    chosen: bool,
    date: String,
    date_label: String,
    prev_href: String,
    today_href: String,
    next_href: String,
    is_today: bool,
    cards: Vec<Card>,
    empty: &'static str,
    page: u32,
    pages: u32,
    prev_page: Option<String>,
    next_page: Option<String>,
    errors: Vec<String>,
    telecaller: String,
}

/// A card's answer to an htmx action: the card, and the figures swapped
/// out of band.
#[derive(askama::Template)]
#[template(path = "desk_update.html")]
struct DeskUpdate {
    c: Card,
    head: Head,
    oob: bool,
}

fn parse_page(v: &Option<String>) -> u32 {
    v.as_deref()
        .and_then(|p| p.trim().parse::<u32>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

/// `GET /desk`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<DeskParams>,
) -> PageResult {
    let started = Instant::now();
    let mut r = show(&state, &user, q, None).await?;
    // the page's server time, for scripts/bench-pages and the browser's devtools
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        r.headers_mut().insert("server-timing", v);
    }
    Ok(r)
}

/// Renders the desk; `note` marks one card (a message or an error beside a field).
async fn show(
    state: &AppState,
    user: &PageUser,
    mut q: DeskParams,
    note: Option<(Uuid, CardNote)>,
) -> PageResult {
    let actor = user.actor();
    let own = actor.lead_scope().is_some();
    let mut errors = Vec::new();
    // asked for by a telecaller: their own, or another's (the service: 404)
    let asked = q.telecaller.clone();
    if own {
        q.telecaller = None;
    }
    let pick = if own {
        None
    } else {
        let chosen = q.telecaller.clone().unwrap_or_default();
        Some(
            telecallers(state, &actor)
                .await?
                .into_iter()
                .map(|(login, name)| Tele {
                    selected: login.eq_ignore_ascii_case(chosen.trim()),
                    login,
                    name,
                })
                .collect::<Vec<_>>(),
        )
    };
    let chosen = own
        || q.telecaller
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty());
    let mut query = DeskQuery {
        telecaller: asked,
        date: q.date.clone(),
        list: q.list.clone(),
        page: parse_page(&q.page),
        limit: CARDS_PER_PAGE,
    };
    // a bad date or list is reported and left out, the rest still shown
    let desk = if chosen {
        loop {
            match desk_page(state, &actor, query.clone()).await {
                Ok(d) => break Some(d),
                Err(ServiceError::Invalid(m)) if m.starts_with("date") && query.date.is_some() => {
                    errors.push(super::page::capitalise(&m));
                    query.date = None;
                    q.date = None;
                }
                Err(ServiceError::Invalid(m)) if m.starts_with("list") && query.list.is_some() => {
                    errors.push(super::page::capitalise(&m));
                    query.list = None;
                    q.list = None;
                }
                Err(e) => return Err(e.into()),
            }
        }
    } else {
        None
    };
    let ctx = q.context();
    let whose = match &pick {
        Some(list) => list
            .iter()
            .find(|t| t.selected)
            .map(|t| t.name.clone())
            .or_else(|| q.telecaller.clone())
            .unwrap_or_default(),
        None => String::new(),
    };
    let date = desk.as_ref().map_or_else(ist_today, |d| d.totals.date);
    let day_href = |d: Option<NaiveDate>| {
        let mut c = Context {
            date: d.map(|d| d.to_string()).unwrap_or_default(),
            list: String::new(),
            page: String::new(),
            ..ctx.clone()
        };
        if d == Some(ist_today()) {
            c.date.clear();
        }
        c.href()
    };
    let can_act = own;
    let (head, cards, page, pages, list) = match &desk {
        Some(d) => {
            let list_ctx = Context {
                list: d.list.to_string(),
                page: d.page.to_string(),
                date: ctx.date.clone(),
                ..ctx.clone()
            };
            let cards = d
                .leads
                .iter()
                .map(|v| {
                    let n = note
                        .as_ref()
                        .filter(|(id, _)| *id == v.lead.id)
                        .map(|(_, n)| n.clone())
                        .or_else(|| done_note(&q, v.lead.id));
                    card(v, date, &list_ctx, can_act, n)
                })
                .collect();
            (
                Head::new(&d.totals, d.list, &ctx),
                cards,
                d.page,
                d.pages,
                d.list,
            )
        }
        None => (Head::empty(), Vec::new(), 1, 1, ""),
    };
    // an error for a lead that is not on this page any more: say it on top
    if let Some((id, n)) = &note
        && n.is_error()
        && !cards.iter().any(|c: &Card| c.id == *id)
    {
        errors.push(n.text.clone());
    }
    let page_href = |n: u32| {
        Context {
            list: list.to_string(),
            page: n.to_string(),
            ..ctx.clone()
        }
        .href()
    };
    let title = if whose.is_empty() {
        "Desk".to_string()
    } else {
        format!("Desk · {whose}")
    };
    let view = DeskView {
        l: Layout::new(title, Some(user)),
        head,
        oob: false,
        whose,
        chosen,
        pick,
        date: date.to_string(),
        date_label: day_label(date),
        prev_href: day_href(date.checked_sub_days(Days::new(1))),
        today_href: day_href(None),
        next_href: day_href(date.checked_add_days(Days::new(1))),
        is_today: date == ist_today(),
        cards,
        empty: match list {
            "callbacks_due" => "No callbacks are due this day.",
            "overdue" => "No overdue callbacks.",
            _ => "No leads are assigned for this day.",
        },
        page,
        pages,
        prev_page: (page > 1).then(|| page_href(page - 1)),
        next_page: (page < pages).then(|| page_href(page + 1)),
        errors,
        telecaller: q.telecaller.clone().unwrap_or_default(),
    };
    let status = if note.as_ref().is_some_and(|(_, n)| n.is_error()) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(status, &view))
}

/// "Tue 1 Dec 2026".
fn day_label(d: NaiveDate) -> String {
    d.format("%a %-d %b %Y").to_string()
}

/// The message a plain post leaves on its card (`?done=…&lead=…`).
fn done_note(q: &DeskParams, id: Uuid) -> Option<CardNote> {
    if q.lead.as_deref().and_then(|l| l.parse::<Uuid>().ok()) != Some(id) {
        return None;
    }
    CardNote::done(q.done.as_deref()?)
}

/// What an action form sends.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ActionForm {
    outcome: Option<String>,
    status: Option<String>,
    remark: Option<String>,
}

/// A card action sent by htmx into its card (`hx-target` on the card):
/// then it wants the card back, not a redirect.
fn wants_card(headers: &HeaderMap) -> bool {
    is_htmx(headers)
        && headers
            .get("hx-target")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("lead-"))
}

/// What a card action did, to answer it.
enum Done {
    Ok(&'static str),
    Refused(CardNote),
}

async fn answer(
    state: &AppState,
    user: &PageUser,
    headers: &HeaderMap,
    id: Uuid,
    params: DeskParams,
    done: Done,
) -> PageResult {
    if !wants_card(headers) {
        return match done {
            Done::Ok(what) => {
                let mut c = params.context();
                c.extra = vec![("done", what.to_string()), ("lead", id.to_string())];
                Ok(see_other(&format!("{}#lead-{id}", c.href())))
            }
            Done::Refused(note) => show(state, user, params, Some((id, note))).await,
        };
    }
    let actor = user.actor();
    let lead = crate::service::calls::history(state, &actor, id).await?;
    let totals = crate::service::desk::day_totals(state, &actor, None, params.date.clone()).await;
    let totals = match totals {
        Ok(t) => t,
        Err(ServiceError::Invalid(_)) => {
            crate::service::desk::day_totals(state, &actor, None, None).await?
        }
        Err(e) => return Err(e.into()),
    };
    let ctx = Context {
        telecaller: String::new(),
        ..params.context()
    };
    let (note, status) = match done {
        Done::Ok(what) => (CardNote::done(what), StatusCode::OK),
        Done::Refused(n) => (Some(n), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let list = crate::service::desk::DESK_LISTS
        .into_iter()
        .find(|l| Some(*l) == params.list.as_deref())
        .unwrap_or("");
    let view = DeskUpdate {
        c: card(&lead, totals.date, &ctx, true, note),
        head: Head::new(
            &totals,
            list,
            &Context {
                page: String::new(),
                ..ctx
            },
        ),
        oob: true,
    };
    Ok(render(status, &view))
}

/// Only telecallers act on the desk (on their own leads; the service
/// answers 404 for anyone else's).
fn require_telecaller(user: &PageUser) -> Result<(), PageError> {
    if user.actor().lead_scope().is_some() {
        Ok(())
    } else {
        Err(PageError::Forbidden(
            "The desk records calls for the telecaller whose desk it is; open the lead's page to change it.".into(),
        ))
    }
}

/// `POST /desk/leads/{id}/call`: called, connected or no response.
pub(super) async fn call(
    State(state): State<AppState>,
    user: PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<DeskParams>,
    Form(f): Form<ActionForm>,
) -> PageResult {
    require_telecaller(&user)?;
    let id = lead_id(&id)?;
    let outcome = match f.outcome.as_deref() {
        Some("called") => CallOutcome::Called,
        Some("connected") => CallOutcome::Connected,
        Some("no_response") => CallOutcome::NoResponse,
        _ => {
            // only a hand-made form gets here: say so on the card
            crate::service::calls::history(&state, &user.actor(), id).await?;
            let note = CardNote::error("outcome", "Choose called, connected or no response.");
            return answer(&state, &user, &headers, id, q, Done::Refused(note)).await;
        }
    };
    crate::service::calls::record(&state, &user.actor(), id, outcome).await?;
    answer(&state, &user, &headers, id, q, Done::Ok(outcome.as_str())).await
}

/// `POST /desk/leads/{id}/status`: a status (a callback among them).
pub(super) async fn status(
    State(state): State<AppState>,
    user: PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<DeskParams>,
    Form(f): Form<ActionForm>,
) -> PageResult {
    require_telecaller(&user)?;
    let id = lead_id(&id)?;
    let patch = LeadPatch {
        status: Some(f.status.clone().unwrap_or_default()),
        ..Default::default()
    };
    match crate::service::leads::update(&state, &user.actor(), id, patch).await {
        Ok(_) => answer(&state, &user, &headers, id, q, Done::Ok("status")).await,
        Err(ServiceError::Domain(e)) => {
            let note = CardNote::error("status", &super::page::capitalise(&e.to_string()));
            answer(&state, &user, &headers, id, q, Done::Refused(note)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /desk/leads/{id}/remark`.
pub(super) async fn remark(
    State(state): State<AppState>,
    user: PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<DeskParams>,
    Form(f): Form<ActionForm>,
) -> PageResult {
    require_telecaller(&user)?;
    let id = lead_id(&id)?;
    let text = f.remark.clone().unwrap_or_default();
    match crate::service::leads::add_remark(&state, &user.actor(), id, text.clone()).await {
        Ok(_) => answer(&state, &user, &headers, id, q, Done::Ok("remark")).await,
        Err(ServiceError::Domain(e)) => {
            let message = match e {
                crate::domain::DomainError::Empty { .. } => "Write a remark first.".to_string(),
                other => super::page::capitalise(&other.to_string()),
            };
            let mut note = CardNote::error("remark", &message);
            note.remark = text;
            answer(&state, &user, &headers, id, q, Done::Refused(note)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Where a telecaller starts: their desk; everyone else the leads.
pub(super) fn home_for(user: &PageUser) -> Response {
    if user.actor().lead_scope().is_some() {
        see_other("/desk")
    } else {
        see_other("/leads")
    }
}
