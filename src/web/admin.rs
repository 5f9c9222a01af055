//! What the administration pages (users, sources, backups, audit,
//! dashboard) share: the capability gate of a whole page and a service
//! refusal turned into a message shown on the page with its status.

use axum::http::StatusCode;

use super::page::{PageError, PageUser, capitalise, role_label};
use crate::domain::Capability;
use crate::service::ServiceError;

/// Refused (403 page) unless the user's role has `cap`.
pub fn require(user: &PageUser, cap: Capability, what: &str) -> Result<(), PageError> {
    if user.can(cap) {
        Ok(())
    } else {
        Err(PageError::Forbidden(format!(
            "Your role ({}) may not {what}.",
            role_label(user.0.role())
        )))
    }
}

/// A refusal the page shows beside the form (status, message), or the
/// error page for what is not the user's to fix.
pub fn refusal(e: ServiceError) -> Result<(StatusCode, String), PageError> {
    use ServiceError as E;
    let status = match &e {
        E::Forbidden(_) => StatusCode::FORBIDDEN,
        E::NotFound(_) => StatusCode::NOT_FOUND,
        E::Conflict(_) | E::Store(crate::store::StoreError::Conflict(_)) => StatusCode::CONFLICT,
        E::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        E::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        E::Invalid(_) | E::Malformed(_) | E::Domain(_) | E::Account(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ => return Err(e.into()),
    };
    Ok((status, capitalise(&e.to_string())))
}

/// A count as the pages show it (the leads list's thousands separators).
pub(super) use super::leads_list::thousands as grouped;

/// A size in bytes for people.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(size_text(10), "10 B");
        assert_eq!(size_text(1536), "1.5 KB");
        assert_eq!(size_text(5 * 1024 * 1024), "5.0 MB");
    }
}
