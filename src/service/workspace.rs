//! The leads workspace's page (issue 15): the tabs and chips (the status
//! summary under the filters but stage and status), the total summed from
//! them, and the page of leads. A search's or a date range's answers are
//! kept between its pages ([`super::workspace_cache`]).

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use super::leads::{MAX_LIMIT, present};
use super::workspace_cache;
use super::{ServiceResult, Services, require};
use crate::domain::{Actor, Capability, Lead, Stage};
use crate::store::StatusCount;
use crate::store::filter::{LeadFilter, LeadOrder};

/// One page of the leads workspace: its leads (as the actor may see them),
/// the page shown (past the last page, the last), how many match, and the
/// status summary under the same filters but stage and status (the stage
/// tabs and status chips).
#[derive(Debug)]
pub struct WorkspacePage {
    /// The page's leads, in the order asked for.
    pub leads: Vec<Lead>,
    /// The page shown (from 1).
    pub page: u32,
    /// How many leads match the filters.
    pub total: i64,
    /// Counts per stage and status without the stage and status filters.
    pub summary: super::desk::StatusSummary,
}

/// The leads workspace's page `page` of `limit` leads matching `filter` in
/// `order`. The total is summed from the status summary's counts (the same
/// filter but stage and status), so the matching leads are counted once:
/// counting them for the total and again for the tabs took a name search
/// with ~42k matches or a month of imports twice the time.
pub async fn workspace_page(
    svc: &Services,
    actor: &Actor,
    mut filter: LeadFilter,
    order: LeadOrder,
    page: u32,
    limit: u32,
) -> ServiceResult<WorkspacePage> {
    require(actor, Capability::ReadLeads)?;
    filter.own_only = actor.lead_scope();
    let limit = limit.clamp(1, MAX_LIMIT);
    let tabs = LeadFilter {
        stage: None,
        status: None,
        ..filter.clone()
    };
    if workspace_cache::worth_keeping(&filter) {
        return remembered_page(svc, actor, filter, tabs, order, page, limit).await;
    }
    let counts = svc.store.status_summary(&tabs).await?;
    let total = total_of(&filter, &counts);
    let page = page.clamp(1, page_count(total, limit));
    let leads = svc
        .store
        .leads_page(&filter, order, page, limit, total)
        .await?
        .into_iter()
        .map(|l| present(actor, l))
        .collect();
    Ok(WorkspacePage {
        leads,
        page,
        total,
        summary: super::desk::StatusSummary::from_counts(&counts),
    })
}

/// [`workspace_page`] of a filter whose summary and ordered ids the
/// workspace keeps ([`workspace_cache`]): both read once per version of the
/// leads, then each page reads its own leads by id.
async fn remembered_page(
    svc: &Services,
    actor: &Actor,
    filter: LeadFilter,
    tabs: LeadFilter,
    order: LeadOrder,
    page: u32,
    limit: u32,
) -> ServiceResult<WorkspacePage> {
    let cache = &svc.workspace;
    let version = svc.store.leads_version().await?;
    let mut ids = cache.ids(&filter, order, version);
    let mut counts = cache.summary(&tabs, version);
    let searched = !filter.names.is_empty() || !filter.phone_parts.is_empty();
    if ids.is_none() && searched {
        // a search reads every match's row anyway: one pass for their ids
        // in order and, when the filter is its own tabs' filter (no stage,
        // no status), the tabs too
        let matches = svc
            .store
            .ordered_matches(&filter, order, workspace_cache::MAX_IDS)
            .await?;
        let complete = matches.len() < workspace_cache::MAX_IDS as usize;
        if complete && counts.is_none() && filter == tabs {
            let summed = Arc::new(count_matches(&matches));
            cache.keep_summary(&tabs, version, summed.clone());
            counts = Some(summed);
        }
        if complete {
            let kept = Arc::new(matches.into_iter().map(|m| m.id).collect::<Vec<_>>());
            cache.keep_ids(&filter, order, version, kept.clone());
            ids = Some(kept);
        }
    } else if ids.is_none() {
        // a date range: the ids from an index, the tabs (below) from the
        // maintained counters, neither touching the leads' rows
        let found = svc
            .store
            .ordered_lead_ids(&filter, order, workspace_cache::MAX_IDS)
            .await?;
        if found.len() < workspace_cache::MAX_IDS as usize {
            let kept = Arc::new(found);
            cache.keep_ids(&filter, order, version, kept.clone());
            ids = Some(kept);
        }
    }
    let counts = match counts {
        Some(counts) => counts,
        None => {
            let counts = Arc::new(svc.store.status_summary(&tabs).await?);
            cache.keep_summary(&tabs, version, counts.clone());
            counts
        }
    };
    let total = total_of(&filter, &counts);
    let page = page.clamp(1, page_count(total, limit));
    let summary = super::desk::StatusSummary::from_counts(&counts);
    let Some(ids) = ids else {
        // more matches than are kept: pages as without the cache
        let leads = svc
            .store
            .leads_page(&filter, order, page, limit, total)
            .await?;
        let leads = leads.into_iter().map(|l| present(actor, l)).collect();
        return Ok(WorkspacePage {
            leads,
            page,
            total,
            summary,
        });
    };
    let from = (page as usize - 1)
        .saturating_mul(limit as usize)
        .min(ids.len());
    let wanted = &ids[from..(from + limit as usize).min(ids.len())];
    let mut found: HashMap<Uuid, Lead> = svc
        .store
        .get_leads(wanted, actor.lead_scope().as_deref())
        .await?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    // in the kept order; a lead deleted since is left out
    let leads = wanted
        .iter()
        .filter_map(|id| found.remove(id))
        .map(|l| present(actor, l))
        .collect();
    Ok(WorkspacePage {
        leads,
        page,
        total,
        summary,
    })
}

/// The status summary of a complete list of matches.
fn count_matches(matches: &[crate::store::LeadMatch]) -> Vec<StatusCount> {
    let mut by: HashMap<(Stage, &str), i64> = HashMap::new();
    for m in matches {
        *by.entry((m.stage, m.status.as_str())).or_default() += 1;
    }
    by.into_iter()
        .map(|((stage, status), count)| StatusCount {
            stage,
            status: status.to_string(),
            count,
        })
        .collect()
}

/// How many of `counts` (a summary over every stage and status) `filter`'s
/// stage and status keep.
fn total_of(filter: &LeadFilter, counts: &[StatusCount]) -> i64 {
    counts
        .iter()
        .filter(|c| filter.stage.is_none_or(|s| s == c.stage))
        .filter(|c| filter.status.as_ref().is_none_or(|s| *s == c.status))
        .map(|c| c.count)
        .sum()
}

/// Pages of `limit` for `total` leads (at least one).
fn page_count(total: i64, limit: u32) -> u32 {
    u32::try_from((total + i64::from(limit) - 1) / i64::from(limit))
        .unwrap_or(u32::MAX)
        .max(1)
}
