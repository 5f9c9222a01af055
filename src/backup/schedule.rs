//! `PULSE_BACKUP_SCHEDULE`: a scheduled backup whenever the newest one is
//! older than the interval, then the oldest beyond `PULSE_BACKUP_KEEP` go.
//!
//! Deciding by the newest stored backup (not by a timer of this process)
//! means a restart does not reset the clock, and several instances sharing
//! one file store mostly agree that one backup is due; two that decide in
//! the same second both write one (harmless; pruning trims the extra).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use super::{Kind, create, list, prune};
use crate::storage::files::FileStore;
use crate::store::Store;

/// Runs until `shutdown` turns true.
pub async fn run(
    store: Arc<dyn Store>,
    files: Arc<dyn FileStore>,
    every: Duration,
    keep: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    // Look often enough to be on time, rarely enough to cost nothing.
    let tick = (every / 10).clamp(Duration::from_secs(1), Duration::from_secs(60));
    tracing::info!(every_s = every.as_secs(), keep, "scheduled backups on");
    loop {
        if let Err(e) = once(store.as_ref(), &files, every, keep).await {
            tracing::error!(error = %format!("{e:#}"), "scheduled backup failed");
        }
        tokio::select! {
            () = tokio::time::sleep(tick) => {}
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
}

async fn once(
    store: &dyn Store,
    files: &Arc<dyn FileStore>,
    every: Duration,
    keep: usize,
) -> anyhow::Result<()> {
    let newest = list(files)
        .await?
        .into_iter()
        .find(|b| b.kind == Kind::Scheduled);
    let due = newest.is_none_or(|b| {
        (Utc::now() - b.created_at)
            .to_std()
            .is_ok_and(|age| age >= every)
    });
    if due {
        create(store, files, Kind::Scheduled).await?;
        let pruned = prune(files, keep).await?;
        if pruned > 0 {
            tracing::info!(pruned, "old scheduled backups deleted");
        }
    }
    Ok(())
}
