//! `/leads`: the leads workspace — stage tabs and status chips with counts,
//! filters in the URL, sortable columns, server-side pages with the total,
//! a column chooser and density remembered per user.

use std::time::Instant;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;

use super::columns::{self, COLUMNS, TablePrefs};
use super::data;
use super::page::{
    Layout, Notice, Opt, OptGroup, PageResult, PageUser, clear_notice, encode, render, safe_next,
    see_other, status_groups, take_notice,
};
use crate::domain::{Capability, Stage, Status};
use crate::http::AppState;
use crate::service::desk::StatusSummary;
use crate::service::leads::FilterQuery;
use crate::service::leads_bulk::Telecaller;
use crate::service::workspace;
use crate::store::filter::{LeadFilter, LeadOrder, LeadSortKey};

/// Page sizes offered; the first is the default.
const LIMITS: [u32; 3] = [50, 25, 100];

/// The workspace's query string: every filter, the page, its size and the
/// order. Text, so a bad value is reported on the page instead of failing it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LeadsQuery {
    search: Option<String>,
    stage: Option<String>,
    status: Option<String>,
    source: Option<String>,
    telecaller: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    unassigned_only: Option<String>,
    page: Option<String>,
    limit: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl LeadsQuery {
    /// The (name, value) pairs of this query that are set, in a fixed order.
    fn pairs(&self) -> Vec<(String, String)> {
        [
            ("search", &self.search),
            ("stage", &self.stage),
            ("status", &self.status),
            ("source", &self.source),
            ("telecaller", &self.telecaller),
            ("start_date", &self.start_date),
            ("end_date", &self.end_date),
            ("unassigned_only", &self.unassigned_only),
            ("sort", &self.sort),
            ("dir", &self.dir),
            ("limit", &self.limit),
            ("page", &self.page),
        ]
        .into_iter()
        .filter_map(|(k, v)| given(v).map(|v| (k.to_string(), v.to_string())))
        .collect()
    }

    /// The query of a form that carried the workspace's fields (the bulk
    /// and export forms), other fields ignored.
    pub(super) fn from_pairs(fields: &[(String, String)]) -> LeadsQuery {
        let mut q = LeadsQuery::default();
        for (k, v) in fields {
            let slot = match k.as_str() {
                "search" => &mut q.search,
                "stage" => &mut q.stage,
                "status_filter" => &mut q.status,
                "source" => &mut q.source,
                "telecaller_filter" => &mut q.telecaller,
                "start_date" => &mut q.start_date,
                "end_date" => &mut q.end_date,
                "unassigned_only" => &mut q.unassigned_only,
                "sort" => &mut q.sort,
                "dir" => &mut q.dir,
                "limit" => &mut q.limit,
                "page" => &mut q.page,
                _ => continue,
            };
            *slot = Some(v.clone());
        }
        q
    }

    /// The filter and view fields as hidden inputs of the bulk and export
    /// forms (`status` and `telecaller` renamed: those forms have their own).
    fn hidden_fields(&self) -> Vec<(String, String)> {
        self.pairs()
            .into_iter()
            .map(|(k, v)| match k.as_str() {
                "status" => ("status_filter".to_string(), v),
                "telecaller" => ("telecaller_filter".to_string(), v),
                _ => (k, v),
            })
            .collect()
    }

    /// `/leads?…` with `changes` applied (`None` removes a parameter).
    pub(super) fn url(&self, changes: &[(&str, Option<&str>)]) -> String {
        let mut pairs = self.pairs();
        for (k, v) in changes {
            pairs.retain(|(name, _)| name != k);
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                pairs.push((k.to_string(), v.to_string()));
            }
        }
        if pairs.is_empty() {
            return "/leads".into();
        }
        let q: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        format!("/leads?{}", q.join("&"))
    }
}

impl LeadsQuery {
    /// The filters as the service reads them (a telecaller's scope is the
    /// service's; the telecaller filters are not offered to them).
    pub(super) fn filters(&self, scoped: bool) -> FilterQuery {
        FilterQuery {
            search: self.search.clone(),
            stage: self.stage.clone(),
            status: self.status.clone(),
            source: self.source.clone(),
            telecaller: if scoped {
                None
            } else {
                self.telecaller.clone()
            },
            start_date: self.start_date.clone(),
            end_date: self.end_date.clone(),
            unassigned_only: if scoped {
                None
            } else {
                self.unassigned_only.clone()
            },
        }
    }
}

/// The key's natural first direction: names A→Z, dates newest first, the
/// list's own order never-called first.
fn default_descending(key: LeadSortKey) -> bool {
    matches!(key, LeadSortKey::ImportDate | LeadSortKey::Updated)
}

fn parse_order(q: &LeadsQuery) -> LeadOrder {
    let key = given(&q.sort)
        .and_then(LeadSortKey::parse)
        .unwrap_or_default();
    let descending = match given(&q.dir) {
        Some("asc") => false,
        Some("desc") => true,
        _ => default_descending(key),
    };
    LeadOrder { key, descending }
}

/// 1,234,567.
pub(super) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

struct Tab {
    label: String,
    count: String,
    href: String,
    current: bool,
}

struct Chip {
    label: String,
    count: String,
    href: String,
    current: bool,
}

struct HeaderCell {
    label: &'static str,
    href: Option<String>,
    /// `ascending`, `descending` or `none` (aria-sort).
    aria_sort: &'static str,
    arrow: &'static str,
}

struct Row {
    id: String,
    href: String,
    name: String,
    cells: Vec<Cell>,
}

struct Cell {
    text: String,
    /// The status column, for a user who may change it: the statuses of
    /// the lead's stage (a completion status moves it on).
    status_opts: Option<Vec<Opt>>,
}

struct Choice {
    key: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(askama::Template)]
#[template(path = "leads.html")]
struct LeadsPage {
    l: Layout,
    total: String,
    showing: String,
    tabs: Vec<Tab>,
    chips: Vec<Chip>,
    errors: Vec<String>,
    // the form's current values
    search: String,
    stage: String,
    status_groups: Vec<OptGroup>,
    source: String,
    telecaller: String,
    start_date: String,
    end_date: String,
    unassigned_only: bool,
    limits: Vec<Opt>,
    sort: &'static str,
    dir: &'static str,
    clear_href: String,
    scoped: bool,
    // the table
    header: Vec<HeaderCell>,
    rows: Vec<Row>,
    density: &'static str,
    choices: Vec<Choice>,
    back: String,
    // pages
    page: u32,
    pages: u32,
    first_href: Option<String>,
    prev_href: Option<String>,
    next_href: Option<String>,
    last_href: Option<String>,
    // selection, bulk actions, export
    notice: Option<Notice>,
    hidden: Vec<(String, String)>,
    total_n: i64,
    can_assign: bool,
    can_edit: bool,
    can_delete: bool,
    can_export: bool,
    telecallers: Vec<Telecaller>,
    bulk_status_groups: Vec<OptGroup>,
    export_columns: String,
}

/// `GET /leads`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: PageUser,
    headers: HeaderMap,
    Query(q): Query<LeadsQuery>,
) -> PageResult {
    let started = Instant::now();
    let notice = take_notice(&headers);
    let actor = user.actor();
    let scoped = actor.lead_scope().is_some();
    let (_, filter, errors) = data::filter(&actor, &q.filters(scoped));
    let order = parse_order(&q);
    let limit = given(&q.limit)
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| LIMITS.contains(n))
        .unwrap_or(LIMITS[0]);
    let mut page = given(&q.page)
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1);
    // the tabs count every stage under the other filters (the service sums
    // the total from those counts)
    let (listed, prefs) = tokio::join!(
        workspace::workspace_page(&state, &actor, filter.clone(), order, page, limit),
        crate::service::prefs::get(&state, &actor),
    );
    let listed = listed?;
    let (leads, total, summary) = (listed.leads, listed.total, listed.summary);
    page = listed.page;
    let pages = u32::try_from((total + i64::from(limit) - 1) / i64::from(limit))
        .unwrap_or(u32::MAX)
        .max(1);
    let prefs = TablePrefs::from_json(prefs?.as_ref());

    let tabs = stage_tabs(&q, &filter, &summary);
    let chips = status_chips(&q, &filter, &summary);
    let shown = prefs.columns();
    let header = header_cells(&q, order, &shown);
    let can_edit = user.can(Capability::EditLeads);
    let rows = leads
        .iter()
        .map(|lead| Row {
            id: lead.id.to_string(),
            href: format!("/leads/{}", lead.id),
            name: lead.name.clone(),
            cells: shown
                .iter()
                .map(|c| Cell {
                    text: columns::cell(c.key, lead),
                    status_opts: (can_edit && c.key == "status").then(|| {
                        lead.stage
                            .statuses()
                            .iter()
                            .map(|n| Opt {
                                value: (*n).to_string(),
                                selected: *n == lead.status.as_str(),
                            })
                            .collect()
                    }),
                })
                .collect(),
        })
        .collect();
    let can_assign = user.can(Capability::AssignLeads);
    let telecallers = if can_assign {
        crate::service::leads_bulk::telecallers(&state, &actor).await?
    } else {
        Vec::new()
    };
    let first = (i64::from(page) - 1) * i64::from(limit) + 1;
    let last = (first + leads.len() as i64 - 1).max(0);
    let showing = if total == 0 {
        "No leads match".to_string()
    } else {
        format!(
            "Showing {}–{} of {}",
            thousands(first),
            thousands(last),
            thousands(total)
        )
    };
    let page_str = |n: u32| n.to_string();
    let href_page = |n: u32| q.url(&[("page", Some(&page_str(n)))]);
    let current_status = filter.status.clone().unwrap_or_default();
    let status_groups = status_groups(&current_status);
    let back = q.url(&[]);
    let view = LeadsPage {
        l: Layout::new("Leads", Some(&user)),
        total: thousands(total),
        showing,
        tabs,
        chips,
        errors,
        search: given(&q.search).unwrap_or_default().to_string(),
        stage: filter
            .stage
            .map(|s| s.code())
            .unwrap_or_default()
            .to_string(),
        status_groups,
        source: filter.source.clone().unwrap_or_default(),
        telecaller: filter.telecaller.clone().unwrap_or_default(),
        start_date: filter.start_date.map(|d| d.to_string()).unwrap_or_default(),
        end_date: filter.end_date.map(|d| d.to_string()).unwrap_or_default(),
        unassigned_only: filter.unassigned_only,
        limits: LIMITS
            .iter()
            .map(|n| Opt {
                value: n.to_string(),
                selected: *n == limit,
            })
            .collect(),
        sort: order.key.as_str(),
        dir: if order.descending { "desc" } else { "asc" },
        clear_href: "/leads".into(),
        scoped: filter.own_only.is_some(),
        header,
        rows,
        density: prefs.density.as_str(),
        choices: COLUMNS
            .iter()
            .map(|c| Choice {
                key: c.key,
                label: c.label,
                checked: prefs.shown.contains(&c.key),
            })
            .collect(),
        back,
        page,
        pages,
        first_href: (page > 1).then(|| href_page(1)),
        prev_href: (page > 1).then(|| href_page(page - 1)),
        next_href: (page < pages).then(|| href_page(page + 1)),
        last_href: (page < pages).then(|| href_page(pages)),
        notice,
        hidden: q.hidden_fields(),
        total_n: total,
        can_assign,
        can_edit,
        can_delete: user.can(Capability::DeleteLeads),
        can_export: user.can(Capability::Export),
        telecallers,
        bulk_status_groups: super::page::status_groups(""),
        export_columns: columns::export_columns(&shown).join(","),
    };
    let mut r = render(StatusCode::OK, &view);
    clear_notice(&mut r);
    // the page's server time, for scripts/bench-pages and the browser's devtools
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        r.headers_mut().insert("server-timing", v);
    }
    Ok(r)
}

fn stage_tabs(q: &LeadsQuery, filter: &LeadFilter, summary: &StatusSummary) -> Vec<Tab> {
    let all = summary.total_leads;
    let mut tabs = vec![Tab {
        label: "All stages".into(),
        count: thousands(all),
        href: q.url(&[("stage", None), ("status", None), ("page", None)]),
        current: filter.stage.is_none(),
    }];
    for s in Stage::all() {
        let n = summary.stage_totals.get(s.code()).copied().unwrap_or(0);
        tabs.push(Tab {
            label: format!("{} {}", s.code(), s.label()),
            count: thousands(n),
            href: q.url(&[("stage", Some(s.code())), ("status", None), ("page", None)]),
            current: filter.stage == Some(s),
        });
    }
    tabs
}

/// The statuses of the chosen stage that hold leads, in pipeline order, with their counts.
fn status_chips(q: &LeadsQuery, filter: &LeadFilter, summary: &StatusSummary) -> Vec<Chip> {
    // all 35 statuses at once are noise: the chips follow the chosen stage
    // (and a chosen status, so it can be taken off)
    let stages: Vec<Stage> = match (filter.stage, &filter.status) {
        (Some(s), _) => vec![s],
        (None, Some(status)) => Status::parse(status)
            .map(|s| vec![s.stage()])
            .unwrap_or_default(),
        (None, None) => Vec::new(),
    };
    let mut chips = Vec::new();
    for stage in stages {
        for name in stage.statuses() {
            let n = summary
                .summary
                .get(stage.code())
                .and_then(|m| m.get(*name))
                .copied()
                .unwrap_or(0);
            if n == 0 && filter.status.as_deref() != Some(name) {
                continue;
            }
            let current = filter.status.as_deref() == Some(name);
            chips.push(Chip {
                label: name.to_string(),
                count: thousands(n),
                href: if current {
                    q.url(&[("status", None), ("page", None)])
                } else {
                    q.url(&[("status", Some(name)), ("page", None)])
                },
                current,
            });
        }
    }
    chips
}

fn header_cells(q: &LeadsQuery, order: LeadOrder, shown: &[columns::Column]) -> Vec<HeaderCell> {
    let cell = |label: &'static str, key: Option<LeadSortKey>| {
        let Some(key) = key else {
            return HeaderCell {
                label,
                href: None,
                aria_sort: "none",
                arrow: "",
            };
        };
        let active = order.key == key;
        let next_desc = if active {
            !order.descending
        } else {
            default_descending(key)
        };
        HeaderCell {
            label,
            href: Some(q.url(&[
                ("sort", Some(key.as_str())),
                ("dir", Some(if next_desc { "desc" } else { "asc" })),
                ("page", None),
            ])),
            aria_sort: match (active, order.descending) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            },
            arrow: match (active, order.descending) {
                (false, _) => "",
                (true, false) => "▲",
                (true, true) => "▼",
            },
        }
    };
    let mut cells = vec![cell("Name", Some(LeadSortKey::Name))];
    cells.extend(shown.iter().map(|c| cell(c.label, c.sort)));
    cells
}

/// `POST /leads/prefs`: the column chooser and density; back to the same view.
pub(super) async fn save_prefs(
    State(state): State<AppState>,
    user: PageUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let prefs = TablePrefs::from_form(&fields);
    crate::service::prefs::set(&state, &user.actor(), &prefs.to_json()).await?;
    let back = fields
        .iter()
        .find(|(k, _)| k == "back")
        .map(|(_, v)| v.as_str())
        .filter(|v| v.starts_with("/leads"))
        .unwrap_or("/leads");
    Ok(see_other(safe_next(back)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_filters_and_drop_blanks() {
        let q = LeadsQuery {
            search: Some("Priya, 98400".into()),
            stage: Some("S2".into()),
            source: Some("".into()),
            page: Some("3".into()),
            ..Default::default()
        };
        assert_eq!(q.url(&[]), "/leads?search=Priya%2C%2098400&stage=S2&page=3");
        assert_eq!(
            q.url(&[("page", None), ("status", Some("Verified"))]),
            "/leads?search=Priya%2C%2098400&stage=S2&status=Verified"
        );
        assert_eq!(LeadsQuery::default().url(&[("page", None)]), "/leads");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
