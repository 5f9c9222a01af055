//! The leads part of the store: one trait, implemented by both backends
//! (`sqlite/leads*.rs`, `postgres/leads*.rs`), fed by the one filter
//! builder of [`super::filter`].

use async_trait::async_trait;
use uuid::Uuid;

use super::error::StoreResult;
use super::filter::{LeadFilter, LeadOrder};
use crate::domain::{Lead, Stage};

/// An edit applied to each lead inside the transaction of
/// [`LeadStore::update_leads`]. It runs the domain rules
/// ([`Lead::set_status`], [`Lead::add_remark`], a validated patch, …) and
/// returns whether it changed the lead; unchanged leads are not written.
/// Input is validated before the call, so the edit itself cannot fail.
pub type LeadEdit = Box<dyn FnMut(&mut Lead) -> bool + Send>;

/// Result of inserting a lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored.
    Inserted,
    /// Another lead already has this phone number; nothing was written.
    DuplicatePhone(Uuid),
}

/// Result of a write to many leads by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    /// The leads as written (only those the edit changed), in request order.
    pub changed: Vec<Lead>,
    /// How many leads the edit left as they were.
    pub unchanged: usize,
    /// Requested ids that do not exist or are outside the scope; reported
    /// together so a telecaller cannot probe which ids exist (DESIGN §2).
    pub not_found: Vec<Uuid>,
}

/// Result of a delete of many leads by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOutcome {
    /// Ids deleted.
    pub deleted: Vec<Uuid>,
    /// Ids that did not exist (or were outside the scope).
    pub not_found: Vec<Uuid>,
}

/// One cell of the status summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    /// Stage as stored.
    pub stage: Stage,
    /// Status as stored.
    pub status: String,
    /// Leads in that stage and status.
    pub count: i64,
}

/// Leads: the daily tool of telecallers and admins.
#[async_trait]
pub trait LeadStore {
    /// Inserts a lead unless its phone number is taken (then nothing is
    /// written and the existing lead's id is returned).
    async fn insert_lead(&self, lead: &Lead) -> StoreResult<InsertOutcome>;
    /// One lead by id, if it exists and lies within `scope` (a telecaller's
    /// login: only leads assigned to it; `None`: every lead).
    async fn get_lead(&self, id: Uuid, scope: Option<&str>) -> StoreResult<Option<Lead>>;
    /// The leads with these ids within `scope`, in one round trip (any
    /// order; unknown ids are left out).
    async fn get_leads(&self, ids: &[Uuid], scope: Option<&str>) -> StoreResult<Vec<Lead>>;
    /// The id of the lead with this normalised phone number.
    async fn find_by_phone(&self, phone: &str) -> StoreResult<Option<Uuid>>;
    /// One page (1-based) of the leads matching `filter`, in
    /// [`super::filter::ORDER_BY`] order (the default [`LeadOrder`]), and how
    /// many match in all.
    async fn list_leads(
        &self,
        filter: &LeadFilter,
        page: u32,
        limit: u32,
    ) -> StoreResult<(Vec<Lead>, i64)> {
        self.list_leads_ordered(filter, LeadOrder::default(), page, limit)
            .await
    }
    /// One page (1-based) of the leads matching `filter` in `order`, and how
    /// many match in all (the leads workspace). A page past the middle is
    /// read from the far end ([`LeadOrder::window`]).
    async fn list_leads_ordered(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        page: u32,
        limit: u32,
    ) -> StoreResult<(Vec<Lead>, i64)>;
    /// How many leads match `filter` (the total of [`LeadStore::list_leads_ordered`]).
    async fn count_leads(&self, filter: &LeadFilter) -> StoreResult<i64>;
    /// Page `page` (1-based) of `limit` leads matching `filter` in `order`
    /// when the caller already knows that `total` match (counted or summed
    /// from a status summary of the same filter): no count of its own. A
    /// page past the middle is read from the far end ([`LeadOrder::window`]).
    async fn leads_page(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        page: u32,
        limit: u32,
        total: i64,
    ) -> StoreResult<Vec<Lead>>;
    /// The ids of at most `limit` leads matching `filter` whose id is past
    /// `after`, in id order: a keyset walk over every lead of a filter that
    /// changes or deletes what it visits (a filter-wide bulk job).
    async fn matching_lead_ids(
        &self,
        filter: &LeadFilter,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Uuid>>;
    /// The ids of the first `cap` leads matching `filter` in `order`, from
    /// an index alone where one covers the filter and the order (an
    /// import-date range: ~40 ms for 58k matches at 1M leads).
    async fn ordered_lead_ids(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        cap: u32,
    ) -> StoreResult<Vec<Uuid>>;
    /// The id, stage and status of the first `cap` leads matching `filter`
    /// in `order`, in one pass over the matches (the workspace keeps the
    /// ids for a search's later pages and, when the filter names no stage
    /// or status, sums its tabs from the same rows:
    /// `crate::service::workspace_cache`).
    async fn ordered_matches(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        cap: u32,
    ) -> StoreResult<Vec<LeadMatch>>;
    /// A cheap mark of the leads' state, read from indexes and counters
    /// (~1 ms at 1M leads): it changes when a lead is added or deleted
    /// and when one is saved with a new `updated_at`.
    async fn leads_version(&self) -> StoreResult<LeadsVersion>;
    /// Lead counts per (stage, status) among those matching `filter`.
    async fn status_summary(&self, filter: &LeadFilter) -> StoreResult<Vec<StatusCount>>;
    /// Every non-empty source with its lead count (within `filter`), sorted
    /// by name (byte order, the same on both backends).
    async fn sources(&self, filter: &LeadFilter) -> StoreResult<Vec<(String, i64)>>;
    /// Renames every source in `from` to `to`; returns how many leads changed.
    async fn merge_sources(&self, from: &[String], to: &str) -> StoreResult<u64>;
    /// Deletes the leads with these ids within `scope`, atomically.
    async fn delete_leads(&self, ids: &[Uuid], scope: Option<&str>) -> StoreResult<DeleteOutcome>;
    /// Loads the leads with these ids within `scope`, applies `edit` to each
    /// and writes back those it changed, all in one transaction. A phone
    /// number made duplicate by the edit fails the whole call with
    /// `Conflict` and nothing is written.
    async fn update_leads(
        &self,
        ids: &[Uuid],
        scope: Option<&str>,
        edit: LeadEdit,
    ) -> StoreResult<BulkOutcome>;
}

/// One row of [`LeadStore::ordered_matches`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadMatch {
    /// The lead.
    pub id: Uuid,
    /// Its stage.
    pub stage: Stage,
    /// Its status.
    pub status: String,
}

/// What [`LeadStore::leads_version`] reads: equal marks mean no lead was
/// added, deleted or saved with a new `updated_at` in between. (A write that
/// puts an older `updated_at` back without changing any count, as an import
/// undo can, goes unseen: whoever relies on the mark bounds its age.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeadsVersion {
    /// How many leads there are (from the maintained counters).
    pub leads: i64,
    /// The latest `updated_at`, in milliseconds.
    pub last_update_ms: Option<i64>,
    /// SQLite: the largest rowid (a re-inserted lead takes a new one);
    /// PostgreSQL: 0.
    pub last_row: i64,
}

/// What a user chose in the pages (columns, density): one JSON object per
/// user, read and written whole.
#[async_trait]
pub trait PrefsStore {
    /// The user's preferences, if they ever saved any.
    async fn get_prefs(&self, user_id: Uuid) -> StoreResult<Option<serde_json::Value>>;
    /// Replaces the user's preferences.
    async fn set_prefs(&self, user_id: Uuid, prefs: &serde_json::Value) -> StoreResult<()>;
}
