//! Backups and restores of the leads (DESIGN §6): every lead whole — id,
//! histories, unmasked document numbers, timestamps — out, and back in
//! exactly as it was.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::Lead;

/// Reading and replacing all leads at once.
#[async_trait]
pub trait BackupStore {
    /// Every lead, whole, in id order, from one consistent snapshot.
    async fn all_leads(&self) -> StoreResult<Vec<Lead>>;
    /// Deletes every lead and inserts `leads` as they are (ids, histories,
    /// timestamps), in one transaction: readers see the old set or the new
    /// one, never a mix. Returns how many leads were deleted.
    async fn replace_all_leads(&self, leads: Vec<Lead>) -> StoreResult<u64>;
}
