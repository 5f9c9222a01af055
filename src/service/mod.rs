//! The use-cases, free of any transport: the JSON API (`http/`), the pages
//! (`web/`) and the CLI call these with an [`Actor`](crate::domain::Actor)
//! and get domain values or a [`ServiceError`] back. Each use-case checks
//! the capability it needs, applies the domain's rules, calls the store and
//! writes the audit entry; the caller only parses its input and shapes its
//! answer.
//!
//! - [`filter`]: the one leads filter parse (API, pages, `pulse export`);
//! - [`leads`]: scope, the one masking decision, single-lead use-cases,
//!   sources and their merge; [`leads_bulk`]: bulk operations;
//!   [`leads_intake`]: the duplicate check and a create that skips or
//!   replaces a duplicate;
//! - [`desk`]: the status summary, the telecaller summary and desk;
//!   [`call_reports`]: no responses, call statistics, the daily summary, a
//!   telecaller's leads for a day and the call log, from the call events;
//! - [`dashboard`]: funnel, statuses, imports per source, telecaller
//!   performance, cached for a minute; their CSV;
//! - [`jobs`]: the one job-creation path (admission), and per kind one
//!   view of visibility;
//! - [`exports`]: starting a streaming export (permit, snapshot, audit);
//!   [`export_tickets`]: the Bulk Export button's download-or-job answer;
//! - [`leads_selection`]: a bulk action on ticked ids or a whole filter;
//! - [`imports`]: an upload's import, synchronous or as a job;
//! - [`backups`]: create, list, read, delete, restore;
//! - [`auth`] and [`users`]: sign-in, sessions, registration, passwords,
//!   user administration;
//! - [`audit`]: writing and reading the audit log;
//! - [`prefs`]: a user's own page preferences;
//! - [`workspace`]: the leads workspace's page (tabs, total, leads);
//!   [`workspace_cache`]: what it keeps of a search or a
//!   date range between its pages.

pub mod audit;
pub mod auth;
pub mod backups;
pub mod bulk_import;
pub mod call_reports;
pub mod calls;
pub mod dashboard;
pub mod desk;
pub mod error;
pub mod export_tickets;
pub mod exports;
pub mod filter;
pub mod import_wizard;
pub mod imports;
pub mod jobs;
pub mod leads;
pub mod leads_bulk;
pub mod leads_intake;
pub mod leads_selection;
pub mod prefs;
pub mod users;
pub mod workspace;
pub mod workspace_cache;

use std::sync::Arc;

use crate::auth::password::Hasher;
use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::domain::{Actor, Capability};
use crate::storage::files::FileStore;
use crate::store::Store;

pub use error::{ServiceError, ServiceResult};

/// What the use-cases need: the store, the configuration and the
/// process-wide resources (permits, file stores, throttle, job wake-up).
#[derive(Clone)]
pub struct Services {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The effective configuration.
    pub config: Arc<Config>,
    /// Password hashing under its concurrency bound.
    pub hasher: Hasher,
    /// Failed-login counters.
    pub throttle: Arc<LoginThrottle>,
    /// Admission of streaming exports (`PULSE_EXPORT_CONCURRENCY` permits,
    /// each held until the export's last byte).
    pub export_permits: Arc<tokio::sync::Semaphore>,
    /// Admission over those permits: a per-user cap and a short bounded wait.
    pub export_admission: Arc<crate::export::admission::ExportAdmission>,
    /// Where export jobs' files are kept.
    pub files: Arc<dyn FileStore>,
    /// Wakes this process's idle export workers when a job is queued here.
    pub job_wake: Arc<tokio::sync::Notify>,
    /// Where backups are kept (not the exports' store: its clean-up
    /// deletes files no export job owns).
    pub backups: Arc<dyn FileStore>,
    /// Where uploads wait for their import job (`crate::storage::uploads`).
    pub uploads: Arc<dyn FileStore>,
    /// One backup or restore at a time in this process.
    pub backup_lock: Arc<tokio::sync::Mutex<()>>,
    /// The pages' one-time export downloads, each holding its permit.
    pub export_tickets: Arc<export_tickets::Tickets>,
    /// Dashboards computed in the last minute (`dashboard::CACHE_FOR`).
    pub dashboard: Arc<dashboard::DashboardCache>,
    /// The leads workspace's kept summaries and ids of costly filters.
    pub workspace: Arc<workspace_cache::WorkspaceCache>,
}

/// Refused unless the actor's role has `capability` at all (objects out of
/// reach are refused as not found, where they are loaded).
pub fn require(actor: &Actor, capability: Capability) -> ServiceResult<()> {
    if actor.can(capability) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(format!(
            "your role ({}) may not do this",
            actor.role.as_str()
        )))
    }
}
