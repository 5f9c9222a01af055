//! Call events (migration 0010): one row per call outcome or status change,
//! indexed by (lead, at) and (actor, at); implemented by both backends
//! (`sqlite/calls.rs`, `postgres/calls.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::StoreResult;
use crate::domain::{CallEvent, CallOutcome, EventCount};

/// Telecallers' work as events.
#[async_trait]
pub trait CallStore {
    /// Appends events.
    async fn record_events(&self, events: &[CallEvent]) -> StoreResult<()>;
    /// The events of these leads, by lead and oldest first (one query: a
    /// page of the list reads its events at once).
    async fn lead_events(&self, lead_ids: &[Uuid]) -> StoreResult<Vec<CallEvent>>;
    /// Events in `[from, to)` counted by (login lower-cased, IST day,
    /// outcome, status); only `login`'s (case-insensitive) when given.
    async fn count_events(
        &self,
        login: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<EventCount>>;
    /// The call events (every outcome but a status change) in `[from, to)`,
    /// oldest first; only those of `outcome` when given.
    async fn calls_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        outcome: Option<CallOutcome>,
    ) -> StoreResult<Vec<CallEvent>>;
}
