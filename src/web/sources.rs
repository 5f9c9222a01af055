//! `/sources` (admins, ops; merging: admin, master_admin): every source with
//! its lead count, groups of likely duplicates (case, spacing, spelling —
//! `domain::sources`) each with a merge into the most used name, and a
//! free merge of any sources into a name.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::admin::{grouped, refusal, require};
use super::page::{Layout, PageResult, PageUser, encode, render, see_other};
use crate::domain::Capability;
use crate::http::AppState;
use crate::service::leads;

struct Source {
    name: String,
    leads: String,
    href: String,
}

struct Suggestion {
    /// The name kept (most leads).
    keep: String,
    members: Vec<Source>,
}

#[derive(askama::Template)]
#[template(path = "sources.html")]
struct SourcesPage {
    l: Layout,
    sources: Vec<Source>,
    suggestions: Vec<Suggestion>,
    can_merge: bool,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct SourcesQuery {
    merged: Option<u64>,
    to: Option<String>,
}

fn source(name: &str, n: i64) -> Source {
    Source {
        name: name.to_string(),
        leads: grouped(n),
        href: format!("/leads?source={}", encode(name)),
    }
}

async fn view(
    state: &AppState,
    user: &PageUser,
    notice: Option<String>,
    error: Option<String>,
) -> Result<SourcesPage, super::PageError> {
    let (all, groups) = leads::sources_with_duplicates(state, &user.actor()).await?;
    let mut sorted: Vec<&(String, i64)> = all.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(SourcesPage {
        l: Layout::new("Sources", Some(user)),
        sources: sorted.iter().map(|(s, n)| source(s, *n)).collect(),
        suggestions: groups
            .iter()
            .map(|g| Suggestion {
                keep: all[g[0]].0.clone(),
                members: g.iter().map(|&i| source(&all[i].0, all[i].1)).collect(),
            })
            .collect(),
        can_merge: user.can(Capability::MergeSources),
        notice,
        error,
    })
}

/// `GET /sources`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<SourcesQuery>,
) -> PageResult {
    require(&user, Capability::Dashboard, "see the sources")?;
    let notice = q.merged.map(|n| {
        format!(
            "{} leads now have the source “{}”.",
            grouped(n as i64),
            q.to.unwrap_or_default()
        )
    });
    let v = view(&state, &user, notice, None).await?;
    Ok(render(StatusCode::OK, &v))
}

/// `POST /sources/merge`: the sources ticked (`from`, repeated) become `to`.
pub(super) async fn merge(
    State(state): State<AppState>,
    user: PageUser,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    require(&user, Capability::MergeSources, "merge sources")?;
    let from: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "from")
        .map(|(_, v)| v.clone())
        .collect();
    let to = fields
        .iter()
        .find(|(k, _)| k == "to")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    match leads::merge_sources(&state, &user.actor(), &from, &to).await {
        Ok((n, to)) => Ok(see_other(&format!(
            "/sources?merged={n}&to={}",
            encode(&to)
        ))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            let v = view(&state, &user, None, Some(message)).await?;
            Ok(render(status, &v))
        }
    }
}
