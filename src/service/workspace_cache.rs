//! What the leads workspace remembers of a costly filter between its pages
//! (issue 15). A name search or an import-date range matches tens of
//! thousands of leads that no index holds in the page's order: the status
//! summary and the page each visit every match (~150 ms and ~80 ms for a
//! common name at 1M leads on SQLite). Someone paging through such a
//! filter asks the same question again and again, so the summary and the
//! ordered ids of the matches are kept, and a later page reads only its
//! own 50 leads by id. A search's first page reads the matches' ids,
//! stages and statuses in one pass and sums the tabs from them when the
//! filter names no stage or status; a date range's ids come from an index
//! and its tabs from the maintained counters.
//!
//! A kept answer is used only while the store's [`LeadsVersion`] is the one
//! it was made at — any lead added, deleted or saved since (by any process
//! or instance) makes it stale — and for at most [`MAX_AGE`], which bounds
//! the writes the mark cannot see (an import undo that puts older
//! `updated_at` values back). Rows themselves are always read fresh, with
//! the reader's scope and masking; the filter's text (its scope included)
//! is the key, so one user's answer is never another's unless their
//! filters are the same.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::store::filter::{LeadFilter, LeadOrder};
use crate::store::{LeadsVersion, StatusCount};

/// The oldest a kept answer may be.
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// Answers kept per kind: a few people paging through a few searches.
const SLOTS: usize = 16;

/// The most ids kept for one filter (1.6 MB); past that the pages are read
/// as without the cache.
pub const MAX_IDS: u32 = 100_000;

/// Whether the workspace keeps `filter`'s answers: a name or phone-digit
/// search, or an import-date range. Every other filter is served by an
/// index in the page's order and by maintained counters (a few ms).
pub fn worth_keeping(filter: &LeadFilter) -> bool {
    !filter.names.is_empty()
        || !filter.phone_parts.is_empty()
        || filter.start_date.is_some()
        || filter.end_date.is_some()
}

/// The kept status summaries (by filter) and ordered ids (by filter and
/// order).
#[derive(Default)]
pub struct WorkspaceCache {
    summaries: Memo<Arc<Vec<StatusCount>>>,
    ids: Memo<Arc<Vec<Uuid>>>,
}

impl WorkspaceCache {
    /// The kept status summary of `filter`, if still good at `version`.
    pub fn summary(
        &self,
        filter: &LeadFilter,
        version: LeadsVersion,
    ) -> Option<Arc<Vec<StatusCount>>> {
        self.summaries.get(&summary_key(filter), version)
    }

    /// Keeps `filter`'s status summary, read at `version`.
    pub fn keep_summary(
        &self,
        filter: &LeadFilter,
        version: LeadsVersion,
        counts: Arc<Vec<StatusCount>>,
    ) {
        self.summaries.put(summary_key(filter), version, counts);
    }

    /// The kept ids of `filter`'s matches in `order`, if still good.
    pub fn ids(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        version: LeadsVersion,
    ) -> Option<Arc<Vec<Uuid>>> {
        self.ids.get(&ids_key(filter, order), version)
    }

    /// Keeps the ids of `filter`'s matches in `order`, read at `version`.
    pub fn keep_ids(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        version: LeadsVersion,
        ids: Arc<Vec<Uuid>>,
    ) {
        self.ids.put(ids_key(filter, order), version, ids);
    }
}

// Debug prints every field, `own_only` (the scope) included.
fn summary_key(filter: &LeadFilter) -> String {
    format!("{filter:?}")
}

fn ids_key(filter: &LeadFilter, order: LeadOrder) -> String {
    format!("{filter:?} {order:?}")
}

struct Slot<T> {
    key: String,
    version: LeadsVersion,
    made: Instant,
    value: T,
}

/// A few recent answers, newest first.
struct Memo<T> {
    slots: Mutex<VecDeque<Slot<T>>>,
}

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo {
            slots: Mutex::new(VecDeque::new()),
        }
    }
}

impl<T: Clone> Memo<T> {
    fn get(&self, key: &str, version: LeadsVersion) -> Option<T> {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .iter()
            .find(|s| s.key == key)
            .filter(|s| s.version == version && s.made.elapsed() < MAX_AGE)
            .map(|s| s.value.clone())
    }

    fn put(&self, key: String, version: LeadsVersion, value: T) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|s| s.key != key && s.made.elapsed() < MAX_AGE);
        slots.truncate(SLOTS - 1);
        slots.push_front(Slot {
            key,
            version,
            made: Instant::now(),
            value,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(leads: i64) -> LeadsVersion {
        LeadsVersion {
            leads,
            last_update_ms: Some(1),
            last_row: leads,
        }
    }

    fn search(name: &str) -> LeadFilter {
        LeadFilter {
            names: vec![name.into()],
            ..LeadFilter::default()
        }
    }

    #[test]
    fn an_answer_is_kept_only_for_its_filter_its_scope_and_its_version() {
        let cache = WorkspaceCache::default();
        let f = search("kumar");
        let ids = Arc::new(vec![Uuid::new_v4()]);
        cache.keep_ids(&f, LeadOrder::default(), version(10), ids.clone());
        assert_eq!(cache.ids(&f, LeadOrder::default(), version(10)), Some(ids));
        assert_eq!(cache.ids(&f, LeadOrder::default(), version(11)), None);
        assert_eq!(
            cache.ids(&search("raj"), LeadOrder::default(), version(10)),
            None
        );
        let own = LeadFilter {
            own_only: Some("tc@pulse.example".into()),
            ..f.clone()
        };
        assert_eq!(cache.ids(&own, LeadOrder::default(), version(10)), None);
        let by_name = LeadOrder {
            descending: true,
            ..LeadOrder::default()
        };
        assert_eq!(cache.ids(&f, by_name, version(10)), None);
    }

    #[test]
    fn at_most_a_few_answers_are_kept() {
        let cache = WorkspaceCache::default();
        for i in 0..(SLOTS + 4) {
            cache.keep_summary(&search(&format!("n{i}")), version(1), Arc::new(Vec::new()));
        }
        assert_eq!(cache.summaries.slots.lock().unwrap().len(), SLOTS);
        assert!(cache.summary(&search("n0"), version(1)).is_none());
        assert!(
            cache
                .summary(&search(&format!("n{}", SLOTS + 3)), version(1))
                .is_some()
        );
    }

    #[test]
    fn only_costly_filters_are_kept() {
        assert!(worth_keeping(&search("kumar")));
        assert!(worth_keeping(&LeadFilter {
            start_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
            ..LeadFilter::default()
        }));
        assert!(!worth_keeping(&LeadFilter::default()));
        assert!(!worth_keeping(&LeadFilter {
            phones: vec!["9876543210".into()],
            ..LeadFilter::default()
        }));
    }
}
