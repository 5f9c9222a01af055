//! Backups and restores of the leads (DESIGN §6): every lead whole — id,
//! histories, unmasked document numbers, timestamps — out, and back in
//! exactly as it was. Both directions stream: a backup reads the leads of
//! one snapshot one at a time, a restore takes them in batches, so neither
//! holds all leads in memory whatever their number.

use std::io;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::error::StoreResult;
use super::export::RowsError;
use crate::domain::{CallEvent, Lead};

/// A lead as a backup holds it: the lead, whole, and its call events
/// (`call_events`, oldest first), so a restore gives back its calling
/// history and the figures of its days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupLead {
    /// The lead.
    pub lead: Lead,
    /// Its call events, oldest first (each with `lead_id` = the lead's id).
    pub call_events: Vec<CallEvent>,
}

/// The leads of an open backup snapshot. Blocking: call from a blocking thread.
pub trait LeadStream: Send {
    /// Calls `f` with every lead of the snapshot and its call events
    /// (SQLite: table order; PostgreSQL: id order), stopping at the first
    /// error of either side. Returns how many leads were passed to `f`.
    fn for_each(
        &mut self,
        f: &mut dyn FnMut(BackupLead) -> io::Result<()>,
    ) -> Result<u64, RowsError>;
}

/// One consistent snapshot of all leads: their count and the leads, read in
/// the same transaction so they agree exactly.
pub struct BackupSnapshot {
    /// Leads in the snapshot.
    pub total: u64,
    /// The leads themselves.
    pub leads: Box<dyn LeadStream>,
}

impl std::fmt::Debug for BackupSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupSnapshot")
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

/// A batch of leads (with their call events) for
/// [`BackupStore::replace_all_leads`], or why the source stopped (the
/// transaction is then rolled back).
pub type LeadBatch = Result<Vec<BackupLead>, String>;

/// What [`BackupStore::replace_all_leads`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaced {
    /// Leads deleted (all that were there).
    pub deleted: u64,
    /// Leads inserted (all that came).
    pub inserted: u64,
}

/// Reading and replacing all leads at once.
#[async_trait]
pub trait BackupStore {
    /// Every lead, whole, in id order, from one consistent snapshot, in
    /// memory (for tests and small tools; backups use [`Self::backup_snapshot`]).
    async fn all_leads(&self) -> StoreResult<Vec<Lead>>;

    /// Opens a read-only snapshot of all leads and counts them in it. The
    /// snapshot holds its own connection until its leads are read or dropped.
    async fn backup_snapshot(&self) -> StoreResult<BackupSnapshot>;

    /// Deletes every lead and every call event and inserts the leads of
    /// `batches` and their events as they are (ids, histories, timestamps),
    /// in one transaction: readers see the old
    /// set or the new one, never a mix. A batch that is an error, a failed
    /// insert, or a number of leads other than `expected` when the sender is
    /// dropped (a reader that died mid-file) rolls everything back.
    async fn replace_all_leads(
        &self,
        expected: u64,
        batches: mpsc::Receiver<LeadBatch>,
    ) -> StoreResult<Replaced>;
}
