//! Storage: one interface ([`Store`]), one implementation per backend.
//!
//! SQLite (rusqlite, the default: one file, WAL) and PostgreSQL
//! (tokio-postgres). rusqlite reads ~1M rows/s where sqlx-sqlite reads
//! ~0.1M (DESIGN §7), which matters for the export path. Both backends pass
//! the same integration suite; handlers only ever see `Arc<dyn Store>`.

mod backup;
mod bulk;
mod calls;
mod error;
mod export;
pub mod filter;
mod jobs;
mod leads;
mod model;
pub mod postgres;
pub mod sqlite;
mod traits;

use std::sync::Arc;

pub use backup::{BackupLead, BackupSnapshot, BackupStore, LeadBatch, LeadStream, Replaced};
pub use bulk::{
    BatchOutcome, BulkBatch, BulkStore, DuplicatePolicy, ImportJournal, ImportRecord, UNDO_NAMED,
    UndoOutcome,
};
pub use calls::CallStore;
pub use error::{StoreError, StoreResult};
pub use export::{
    EXPORT_DATE_FIELDS, EXPORT_INSTANT_FIELDS, EXPORT_TEXT_FIELDS, ExportSnapshot, ExportStore,
    LeadRow, LeadRows, N_DATE, N_INSTANT, N_TEXT, RowsError,
};
pub use jobs::{
    Admission, Completion, ExportJob, JobFiles, JobKind, JobStatus, JobStore, NewExportJob,
};
pub use leads::*;
pub use model::*;
pub use traits::{AdminStore, AuditStore, SessionStore, Store, UserStore};

/// Opens the store the URL names (`sqlite://PATH` or `postgres://…`);
/// does not migrate.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Ok(Arc::new(sqlite::SqliteStore::open(path)?))
    } else {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    }
}
