//! Writing to and reading the audit log.

use chrono::NaiveDate;

use crate::domain::{Actor, Capability};
use crate::store::{AuditEntry, AuditQuery, NewAuditEntry};
use crate::telemetry::request_id;

use super::calls::day_bounds;
use super::filter::parse_date;
use super::{ServiceError, ServiceResult, Services, require};

/// Appends an entry for the current request. An audit write that fails is
/// logged, not returned: the action itself already happened.
pub async fn record(svc: &Services, actor: &Actor, action: &str, details: serde_json::Value) {
    let entry = NewAuditEntry {
        actor_id: Some(actor.id),
        actor_email: Some(actor.login.clone()),
        action: action.to_string(),
        details,
        request_id: Some(request_id::current()),
    };
    if let Err(e) = svc.store.append_audit(&entry).await {
        tracing::error!(action, error = %e, "audit write failed");
    }
}

/// Which entries to read, as asked for (every field optional text).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    /// What: an action, or an area such as `user` or `backup`.
    pub action: Option<String>,
    /// Who: the actor's login.
    pub actor: Option<String>,
    /// When: from this IST day (`YYYY-MM-DD`).
    pub start_date: Option<String>,
    /// When: to this IST day, included.
    pub end_date: Option<String>,
    /// At most this many (1–1000; 100 unless asked).
    pub limit: Option<i64>,
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
}

impl AuditFilter {
    /// The store's query, or the first value that does not parse.
    pub fn parse(&self) -> ServiceResult<AuditQuery> {
        let day = |field: &str, v: &Option<String>| -> ServiceResult<Option<NaiveDate>> {
            text(v).map(|d| parse_date(field, &d)).transpose()
        };
        let start = day("start_date", &self.start_date)?;
        let end = day("end_date", &self.end_date)?;
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            return Err(ServiceError::Invalid(
                "start_date: must not be after end_date".into(),
            ));
        }
        let action = text(&self.action);
        let actor = text(&self.actor);
        for (field, v) in [("action", &action), ("actor", &actor)] {
            if let Some(v) = v {
                crate::domain::error::reject_nul(field, v)?;
            }
        }
        Ok(AuditQuery {
            action,
            actor,
            since: start.map(|d| day_bounds(d).map(|b| b.0)).transpose()?,
            until: end.map(|d| day_bounds(d).map(|b| b.1)).transpose()?,
            limit: self.limit.unwrap_or(100).clamp(1, 1000),
        })
    }
}

/// The latest entries `filter` asks for (who, what, when; at most 1000,
/// 100 unless asked).
pub async fn list(
    svc: &Services,
    actor: &Actor,
    filter: &AuditFilter,
) -> ServiceResult<Vec<AuditEntry>> {
    require(actor, Capability::ReadAudit)?;
    let q = filter.parse()?;
    Ok(svc.store.list_audit(&q).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_parses_who_what_when() {
        let f = AuditFilter {
            action: Some(" user ".into()),
            actor: Some("".into()),
            start_date: Some("2026-01-02".into()),
            end_date: Some("2026-01-02".into()),
            limit: Some(5000),
        };
        let q = f.parse().unwrap();
        assert_eq!(q.action.as_deref(), Some("user"));
        assert_eq!(q.actor, None);
        assert_eq!(q.limit, 1000);
        // one IST day: 2026-01-01 18:30 UTC to 2026-01-02 18:30 UTC
        assert_eq!(q.since.unwrap().to_rfc3339(), "2026-01-01T18:30:00+00:00");
        assert_eq!(q.until.unwrap().to_rfc3339(), "2026-01-02T18:30:00+00:00");
        let bad = AuditFilter {
            start_date: Some("2026-02-01".into()),
            end_date: Some("2026-01-01".into()),
            ..Default::default()
        };
        assert!(bad.parse().is_err());
        let bad = AuditFilter {
            start_date: Some("yesterday".into()),
            ..Default::default()
        };
        assert!(bad.parse().unwrap_err().to_string().contains("start_date"));
    }
}
