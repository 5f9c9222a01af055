//! Route handlers, one file per area of the API. Each handler parses the
//! request, calls one use-case of [`crate::service`] and shapes the answer.

pub mod audit;
pub mod auth;
pub mod backups;
pub mod bulk_import;
pub mod calls;
pub mod compat_desk;
pub mod compat_leads;
pub mod compat_users;
pub mod export;
pub mod exports_download;
pub mod exports_jobs;
pub mod health;
pub mod import;
pub mod leads;
pub mod leads_bulk;
pub mod leads_notes;
pub mod leads_summary;
pub mod metrics;
pub mod openapi;
pub mod users;

/// `{message}`: an answer that only says what was done.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Message {
    message: std::borrow::Cow<'static, str>,
}

impl Message {
    /// The answer saying `message`.
    pub fn new(message: impl Into<std::borrow::Cow<'static, str>>) -> Message {
        Message {
            message: message.into(),
        }
    }
}
