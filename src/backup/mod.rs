//! Backups of the leads (DESIGN §6): full-fidelity gzipped JSON lines
//! ([`format`]) kept in a [`FileStore`] of their own (`PULSE_DATA_DIR/backups`
//! locally: not the exports' store, whose clean-up deletes every file no
//! export job owns).
//!
//! No table: a backup is its file. What the list shows is in the key
//! (`<created ms>_<id>_<kind>_<leads>.jsonl.gz`) and the size, so any
//! instance sharing the file store sees the same list, and a file is listed
//! only once published (whole and durable).

pub mod format;
pub mod schedule;

use std::io::{self, Write};
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use uuid::Uuid;

use crate::config::Config;
use crate::jobs::files::FileStore;
use crate::store::Store;

/// The backups' file store of a configuration.
pub fn files(config: &Config) -> Arc<dyn FileStore> {
    crate::jobs::file_store(config, "backups")
}

/// Why a backup was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Asked for through the API or `pulse backup`.
    Manual,
    /// `PULSE_BACKUP_SCHEDULE`.
    Scheduled,
    /// Taken automatically just before a restore.
    PreRestore,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Manual => "manual",
            Kind::Scheduled => "scheduled",
            Kind::PreRestore => "prerestore",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "manual" => Kind::Manual,
            "scheduled" => Kind::Scheduled,
            "prerestore" => Kind::PreRestore,
            _ => return None,
        })
    }
}

/// One stored backup.
#[derive(Debug, Clone, Serialize)]
pub struct BackupInfo {
    /// Its id.
    pub id: Uuid,
    /// When its snapshot was read.
    pub created_at: DateTime<Utc>,
    /// Why it was made.
    pub kind: Kind,
    /// Leads in it.
    pub leads: u64,
    /// Size of the gzipped file.
    pub bytes: u64,
    /// Its key in the file store.
    #[serde(skip)]
    pub key: String,
}

fn key(created: DateTime<Utc>, id: Uuid, kind: Kind, leads: u64) -> String {
    format!(
        "{}_{}_{}_{leads}.jsonl.gz",
        created.timestamp_millis(),
        id.simple(),
        kind.as_str()
    )
}

fn parse_key(key: &str) -> Option<(DateTime<Utc>, Uuid, Kind, u64)> {
    let stem = key.strip_suffix(".jsonl.gz")?;
    let mut parts = stem.split('_');
    let ms: i64 = parts.next()?.parse().ok()?;
    let id: Uuid = parts.next()?.parse().ok()?;
    let kind = Kind::parse(parts.next()?)?;
    let leads: u64 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some((DateTime::from_timestamp_millis(ms)?, id, kind, leads))
}

/// Reads every lead in one snapshot and stores them as a new backup.
pub async fn create(
    store: &dyn Store,
    files: &Arc<dyn FileStore>,
    kind: Kind,
) -> anyhow::Result<BackupInfo> {
    let started = std::time::Instant::now();
    let leads = store.all_leads().await.context("reading the leads")?;
    let created_at = Utc::now();
    let id = Uuid::new_v4();
    let key = key(created_at, id, kind, leads.len() as u64);
    let (files2, key2) = (files.clone(), key.clone());
    let count = leads.len() as u64;
    let bytes = tokio::task::spawn_blocking(move || -> io::Result<u64> {
        let mut pending = files2.create(&key2)?;
        let mut counted = Counting {
            inner: &mut pending,
            bytes: 0,
        };
        format::write(&leads, &mut counted)?;
        let bytes = counted.bytes;
        pending.publish()?;
        Ok(bytes)
    })
    .await
    .context("the backup writer crashed")?
    .context("writing the backup file")?;
    tracing::info!(backup_id = %id, kind = kind.as_str(), leads = count, bytes, elapsed_ms = started.elapsed().as_millis() as u64, "backup written");
    Ok(BackupInfo {
        id,
        created_at,
        kind,
        leads: count,
        bytes,
        key,
    })
}

struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Published backups, newest first.
pub async fn list(files: &Arc<dyn FileStore>) -> io::Result<Vec<BackupInfo>> {
    let mut out = Vec::new();
    for f in files.list().await? {
        if f.partial {
            continue;
        }
        let Some((created_at, id, kind, leads)) = parse_key(&f.key) else {
            continue;
        };
        let Some(bytes) = files.size(&f.key).await? else {
            continue;
        };
        out.push(BackupInfo {
            id,
            created_at,
            kind,
            leads,
            bytes,
            key: f.key,
        });
    }
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    Ok(out)
}

/// One published backup.
pub async fn find(files: &Arc<dyn FileStore>, id: Uuid) -> io::Result<Option<BackupInfo>> {
    Ok(list(files).await?.into_iter().find(|b| b.id == id))
}

/// The whole file of a backup, in memory (a restore parses all of it
/// before it changes anything).
pub async fn read_bytes(files: &Arc<dyn FileStore>, b: &BackupInfo) -> io::Result<Vec<u8>> {
    let mut stream = files.read(&b.key, 0, b.bytes).await?;
    let mut out = Vec::with_capacity(b.bytes as usize);
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    /// The backup restored.
    pub backup_id: Uuid,
    /// Leads it put back.
    pub restored: u64,
    /// Leads that were there before (all replaced).
    pub replaced: u64,
    /// The automatic backup of the leads as they were.
    pub pre_restore_backup: BackupInfo,
}

/// Why a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// The file is not a valid backup; nothing was changed.
    #[error("{0}")]
    Invalid(#[from] format::ReadError),
    /// Reading, the safety backup or the database failed; nothing was changed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// Checks `bytes` as a backup, takes a backup of the current leads, then
/// replaces every lead with the backup's in one transaction.
pub async fn restore_bytes(
    store: &dyn Store,
    files: &Arc<dyn FileStore>,
    backup_id: Uuid,
    bytes: Vec<u8>,
) -> Result<Restored, RestoreError> {
    let (_, leads) = tokio::task::spawn_blocking(move || format::read(bytes.as_slice()))
        .await
        .map_err(|e| anyhow::anyhow!("the backup reader crashed: {e}"))??;
    let pre = create(store, files, Kind::PreRestore)
        .await
        .context("the automatic backup before the restore failed; nothing was restored")?;
    let restored = leads.len() as u64;
    let replaced = store
        .replace_all_leads(leads)
        .await
        .context("replacing the leads")?;
    tracing::info!(%backup_id, restored, replaced, pre_restore_backup = %pre.id, "backup restored");
    Ok(Restored {
        backup_id,
        restored,
        replaced,
        pre_restore_backup: pre,
    })
}

/// Deletes the oldest scheduled backups beyond the newest `keep`.
pub async fn prune(files: &Arc<dyn FileStore>, keep: usize) -> io::Result<usize> {
    let scheduled: Vec<BackupInfo> = list(files)
        .await?
        .into_iter()
        .filter(|b| b.kind == Kind::Scheduled)
        .collect();
    let mut deleted = 0;
    for b in scheduled.iter().skip(keep) {
        files.delete(&b.key).await?;
        deleted += 1;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let at = DateTime::from_timestamp_millis(1_790_000_000_123).unwrap();
        let id = Uuid::new_v4();
        let k = key(at, id, Kind::PreRestore, 42);
        assert_eq!(parse_key(&k), Some((at, id, Kind::PreRestore, 42)));
        assert_eq!(parse_key("x.jsonl.gz"), None);
        assert_eq!(parse_key(&k.replace(".jsonl.gz", ".xlsx")), None);
    }
}
