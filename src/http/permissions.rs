//! One permission check per capability (DESIGN §2), called by every route
//! that needs it. A capability the role lacks altogether answers 403;
//! objects out of reach answer 404 (checked where the object is loaded).

use super::error::{AppError, AppResult};
use super::extract::CurrentUser;
use crate::domain::Capability;

/// 403 unless the caller's role has `capability`.
pub fn require(current: &CurrentUser, capability: Capability) -> AppResult<()> {
    if current.role().can(capability) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "your role ({}) may not do this",
            current.role().as_str()
        )))
    }
}
