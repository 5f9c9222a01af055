//! `/audit` (master_admin): the audit log, newest first, filtered by who
//! (login), what (an action or its area) and when (IST days) — all in the
//! URL, parsed by `service::audit::AuditFilter`.

use axum::extract::{Query, State};
use axum::http::StatusCode;

use super::admin::{refusal, require};
use super::lead_detail::ist_text;
use super::page::{Layout, PageResult, PageUser, render};
use crate::domain::Capability;
use crate::http::AppState;
use crate::service::audit::{self, AuditFilter};

struct Entry {
    when: String,
    iso: String,
    who: String,
    action: String,
    details: String,
}

#[derive(askama::Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    entries: Vec<Entry>,
    action: String,
    actor: String,
    start_date: String,
    end_date: String,
    areas: Vec<(&'static str, bool)>,
    error: Option<String>,
    limit: i64,
}

/// The areas offered as "what" (any action can be typed as well).
const AREAS: [&str; 8] = [
    "user",
    "backup",
    "backup_job",
    "export",
    "export_job",
    "import",
    "import_job",
    "leads",
];

/// `GET /audit`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Query(mut f): Query<AuditFilter>,
) -> PageResult {
    require(&user, Capability::ReadAudit, "read the audit log")?;
    f.limit = Some(f.limit.unwrap_or(200).clamp(1, 1000));
    let (entries, error, status) = match audit::list(&state, &user.actor(), &f).await {
        Ok(list) => (list, None, StatusCode::OK),
        Err(e) => {
            let (status, message) = refusal(e)?;
            (Vec::new(), Some(message), status)
        }
    };
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let action = text(&f.action);
    let page = AuditPage {
        l: Layout::new("Audit log", Some(&user)),
        entries: entries
            .into_iter()
            .map(|e| Entry {
                when: ist_text(e.at),
                iso: e.at.to_rfc3339(),
                who: e.actor_email.unwrap_or_else(|| "system".into()),
                action: e.action,
                details: if e.details.as_object().is_some_and(|o| o.is_empty()) {
                    String::new()
                } else {
                    e.details.to_string()
                },
            })
            .collect(),
        areas: AREAS.iter().map(|a| (*a, action == *a)).collect(),
        action,
        actor: text(&f.actor),
        start_date: text(&f.start_date),
        end_date: text(&f.end_date),
        error,
        limit: f.limit.unwrap_or(200),
    };
    Ok(render(status, &page))
}
