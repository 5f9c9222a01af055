//! Writing to and reading the audit log.

use crate::domain::{Actor, Capability};
use crate::store::{AuditEntry, NewAuditEntry};
use crate::telemetry::request_id;

use super::{ServiceResult, Services, require};

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

/// The latest entries, optionally of one action (at most 1000; 100 unless
/// asked).
pub async fn list(
    svc: &Services,
    actor: &Actor,
    action: Option<&str>,
    limit: Option<i64>,
) -> ServiceResult<Vec<AuditEntry>> {
    require(actor, Capability::ReadAudit)?;
    let limit = limit.unwrap_or(100).clamp(1, 1000);
    Ok(svc.store.list_audit(action, limit).await?)
}
