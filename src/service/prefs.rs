//! What a user chose in the pages (table columns, density): one JSON object
//! per user, their own only, read and written whole. The pages shape and
//! check its content (`web/columns.rs`); here it is only kept.

use super::{ServiceError, ServiceResult, Services};
use crate::domain::Actor;

/// The most a user's preferences may weigh (the column chooser writes a few
/// hundred bytes).
pub const MAX_PREFS_BYTES: usize = 16 * 1024;

/// The actor's own preferences, if they ever saved any.
pub async fn get(svc: &Services, actor: &Actor) -> ServiceResult<Option<serde_json::Value>> {
    Ok(svc.store.get_prefs(actor.id).await?)
}

/// Replaces the actor's own preferences.
pub async fn set(svc: &Services, actor: &Actor, prefs: &serde_json::Value) -> ServiceResult<()> {
    if !prefs.is_object() {
        return Err(ServiceError::Invalid("prefs: expected an object".into()));
    }
    if prefs.to_string().len() > MAX_PREFS_BYTES {
        return Err(ServiceError::Invalid(format!(
            "prefs: at most {MAX_PREFS_BYTES} bytes"
        )));
    }
    Ok(svc.store.set_prefs(actor.id, prefs).await?)
}
