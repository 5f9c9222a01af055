//! Bulk writes of leads (`pulse import`, `pulse seed`): whole batches, or a
//! whole stream of batches, in one transaction, so a failure half-way leaves
//! the database exactly as it was.

use async_trait::async_trait;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::error::StoreResult;
use crate::domain::Lead;

/// What to do with a lead whose phone number (or id) is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuplicatePolicy {
    /// Keep the stored lead; report the new one as a skipped duplicate.
    #[default]
    Skip,
    /// Overwrite the stored lead's fields with the new one's (the stored id
    /// is kept, so nothing that refers to it breaks).
    Replace,
}

impl std::str::FromStr for DuplicatePolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "skip" => Ok(Self::Skip),
            "replace" => Ok(Self::Replace),
            _ => Err(format!(
                "unknown duplicate policy {s:?}: expected skip or replace"
            )),
        }
    }
}

/// One message of a bulk stream (see [`BulkStore::bulk_import`]).
#[derive(Debug)]
pub enum BulkBatch {
    /// More leads, in stream order.
    Leads(Vec<Lead>),
    /// The stored versions (`updated_at`) that leads of later batches were
    /// merged from, by stored id: such a lead replaces the stored one only
    /// if it is still at that version — else it is a conflict (someone
    /// changed the lead between the importer's read and this write) and
    /// the stored lead is left as it is. Only the file importer sends these.
    Versions(Vec<(Uuid, chrono::DateTime<chrono::Utc>)>),
    /// Record what this stream writes as the import `ImportJournal::id`, in
    /// the same transaction, so that it can be undone
    /// ([`BulkStore::undo_import`]): the ids of inserted leads, and each
    /// replaced lead as it was before. Sent first, by the file importer.
    Journal(ImportJournal),
    /// Everything was sent: commit. A stream that ends without this (the
    /// sender failed, was dropped or panicked) is rolled back.
    Commit,
}

/// Who imported what, for the import's undo record.
#[derive(Debug, Clone)]
pub struct ImportJournal {
    /// The import's id (its report's or its job's).
    pub id: Uuid,
    /// The user who imported (none for `pulse import`).
    pub owner: Option<Uuid>,
    /// Their login.
    pub actor: String,
    /// The file's name as uploaded.
    pub file_name: String,
    /// When the import started.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A committed import as recorded for its undo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    /// Its id.
    pub id: Uuid,
    /// Who imported (none for `pulse import`).
    pub owner: Option<Uuid>,
    /// Their login.
    pub actor: String,
    /// The file.
    pub file_name: String,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Leads it inserted.
    pub inserted: u64,
    /// Stored leads it replaced.
    pub replaced: u64,
    /// When it was undone, by whom and by which job.
    pub undone: Option<(chrono::DateTime<chrono::Utc>, String, Option<Uuid>)>,
}

/// What an undo did (or why it did nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UndoOutcome {
    /// Inserted leads removed, replaced leads restored, in one transaction.
    Done {
        /// Leads removed.
        removed: u64,
        /// Leads restored to their version before the import.
        restored: u64,
    },
    /// Nothing changed: these leads (at most 100 named; `total` in all)
    /// were changed or deleted since the import wrote them.
    Changed {
        /// The first of them.
        leads: Vec<Uuid>,
        /// How many.
        total: u64,
    },
    /// Already undone (by another job than the one asking).
    AlreadyUndone(chrono::DateTime<chrono::Utc>),
    /// No committed import has this id.
    NotFound,
}

/// What a bulk write did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Leads written as new rows.
    pub inserted: u64,
    /// Stored leads overwritten ([`DuplicatePolicy::Replace`]).
    pub updated: u64,
    /// Leads not written because their phone or id was taken — by a lead
    /// stored before, or by an earlier lead of the same stream: (0-based
    /// position in the stream, id of the lead that holds the phone or id).
    /// Leads of one stream never replace each other: the first one wins.
    pub skipped_duplicates: Vec<(u64, Uuid)>,
    /// Leads not written because the stored lead they replace is no longer
    /// at the version given by [`BulkBatch::Versions`]: (0-based position
    /// in the stream, id of the stored lead).
    pub conflicts: Vec<(u64, Uuid)>,
}

/// Bulk writes of already validated leads (phones normalised, statuses
/// canonical, no NUL: see `crate::domain::validate_lead`).
#[async_trait]
pub trait BulkStore {
    /// Writes `leads` in one transaction.
    async fn insert_leads_batch(
        &self,
        leads: Vec<Lead>,
        on_duplicate: DuplicatePolicy,
    ) -> StoreResult<BatchOutcome> {
        let (tx, rx) = mpsc::channel(2);
        tx.send(BulkBatch::Leads(leads)).await.ok();
        tx.send(BulkBatch::Commit).await.ok();
        drop(tx);
        self.bulk_import(rx, on_duplicate).await
    }

    /// Writes every lead received on `batches` in ONE transaction, committed
    /// only when [`BulkBatch::Commit`] arrives; if the channel closes
    /// without it, or anything fails, nothing is written and an error is
    /// returned. Readers keep seeing the old data until the commit.
    async fn bulk_import(
        &self,
        batches: mpsc::Receiver<BulkBatch>,
        on_duplicate: DuplicatePolicy,
    ) -> StoreResult<BatchOutcome>;

    /// The stored leads whose phone number is in `phones` or whose id is in
    /// `ids` (one query per call: the file importer asks per batch, to merge
    /// a file's columns into the leads it updates).
    async fn leads_matching(&self, phones: &[String], ids: &[Uuid]) -> StoreResult<Vec<Lead>>;

    /// The import `id` as recorded by its [`BulkBatch::Journal`].
    async fn import_record(&self, id: Uuid) -> StoreResult<Option<ImportRecord>>;

    /// The latest `limit` committed imports, newest first; only `owner`'s
    /// when given (the import history page).
    async fn list_imports(&self, owner: Option<Uuid>, limit: u32)
    -> StoreResult<Vec<ImportRecord>>;

    /// Undoes the import `id` in one transaction, all or nothing: its
    /// inserted leads deleted, its replaced leads restored to the version
    /// it found — unless any of them changed since (`Changed`, nothing
    /// done). `job` is the undo job: asked again by the same job (a retry
    /// after its commit), the undo answers `Done` with the recorded counts.
    async fn undo_import(
        &self,
        id: Uuid,
        by: &str,
        job: Uuid,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<UndoOutcome>;
}

/// How many changed leads an [`UndoOutcome::Changed`] names.
pub const UNDO_NAMED: usize = 100;
