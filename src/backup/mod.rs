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

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use uuid::Uuid;

use crate::config::Config;

use crate::export::engine::ExportError;
use crate::storage::files::{ByteStream, FileStore};
use crate::store::{BackupLead, BackupSnapshot, Store};

/// The backups' file store of a configuration.
pub fn files(config: &Config) -> Arc<dyn FileStore> {
    crate::storage::file_store(config, "backups")
}

/// Why a backup was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Asked for through the API or `pulse backup`.
    Manual,
    /// `PULSE_BACKUP_SCHEDULE`.
    Scheduled,
    /// Taken automatically just before a restore.
    PreRestore,
    /// Taken automatically just before the original's large import
    /// (`service::backups::before_import`).
    PreImport,
}

impl Kind {
    /// The name in keys and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Manual => "manual",
            Kind::Scheduled => "scheduled",
            Kind::PreRestore => "prerestore",
            Kind::PreImport => "preimport",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "manual" => Kind::Manual,
            "scheduled" => Kind::Scheduled,
            "prerestore" => Kind::PreRestore,
            "preimport" => Kind::PreImport,
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

impl BackupInfo {
    /// The backup's name in the original's backup library (COMPAT §2.16):
    /// the original's `backup-DD-MM-YYYY-HH-MM-SS` stem (UTC), then the id,
    /// so the name leads back to the backup; the suffix says what the file
    /// is (gzipped JSON lines, not a workbook).
    pub fn library_name(&self) -> String {
        format!(
            "backup-{}-{}.jsonl.gz",
            self.created_at.format("%d-%m-%Y-%H-%M-%S"),
            self.id.simple()
        )
    }
}

/// The backup id in a backup-library name ([`BackupInfo::library_name`]);
/// `None` when the name is not one.
pub fn id_of_library_name(name: &str) -> Option<Uuid> {
    let stem = name.strip_prefix("backup-")?.strip_suffix(".jsonl.gz")?;
    let (_, id) = stem.rsplit_once('-')?;
    if id.len() != 32 {
        return None;
    }
    Uuid::try_parse(id).ok()
}

/// The file-store key of a backup: what the list shows is in it.
pub fn key(created: DateTime<Utc>, id: Uuid, kind: Kind, leads: u64) -> String {
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

/// Writes the leads of `snapshot` as a backup into `out`, lead by lead
/// (blocking: call from a thread of its own); `progress` counts the leads
/// written. Returns the header and `out`.
pub fn write_snapshot<W: Write>(
    snapshot: BackupSnapshot,
    created_at: DateTime<Utc>,
    out: W,
    progress: &AtomicU64,
) -> Result<(format::Header, W), ExportError> {
    let mut leads = snapshot.leads;
    let mut w = format::Writer::new(out, snapshot.total, created_at)?;
    leads.for_each(&mut |lead| {
        w.lead(&lead)?;
        progress.fetch_add(1, Ordering::Relaxed);
        Ok(())
    })?;
    Ok(w.finish()?)
}

/// Reads every lead in one snapshot and stores them as a new backup,
/// streaming (memory stays flat whatever the number of leads). The API's
/// backups run as jobs (`jobs/backup_job.rs`); this is for the schedule,
/// the backups before a restore and before the original's large import,
/// and `pulse backup`.
pub async fn create(
    store: &dyn Store,
    files: &Arc<dyn FileStore>,
    kind: Kind,
) -> anyhow::Result<BackupInfo> {
    let started = std::time::Instant::now();
    let made = create_inner(store, files, kind).await;
    let (outcome, leads, bytes) = match &made {
        Ok(b) => ("done", b.leads, b.bytes),
        Err(_) => ("failed", 0, 0),
    };
    crate::metrics::backup_finished(kind.as_str(), outcome, leads, bytes, started.elapsed());
    if let Ok(b) = &made {
        tracing::info!(backup_id = %b.id, kind = kind.as_str(), leads, bytes, elapsed_ms = started.elapsed().as_millis() as u64, "backup written");
    }
    made
}

async fn create_inner(
    store: &dyn Store,
    files: &Arc<dyn FileStore>,
    kind: Kind,
) -> anyhow::Result<BackupInfo> {
    let snapshot = store
        .backup_snapshot()
        .await
        .context("opening the leads snapshot")?;
    let created_at = Utc::now();
    let id = Uuid::new_v4();
    let count = snapshot.total;
    let key = key(created_at, id, kind, count);
    let (files2, key2) = (files.clone(), key.clone());
    let bytes = tokio::task::spawn_blocking(move || -> Result<u64, ExportError> {
        let pending = files2.create(&key2)?;
        let counted = Counting {
            inner: pending,
            bytes: 0,
        };
        let (_, counted) = write_snapshot(snapshot, created_at, counted, &AtomicU64::new(0))?;
        counted.inner.publish()?;
        Ok(counted.bytes)
    })
    .await
    .context("the backup writer crashed")?
    .context("writing the backup file")?;
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

/// Opens a backup's bytes from the start, for reading on a blocking
/// thread; called once per pass of a restore.
pub type Opener = Arc<dyn Fn() -> io::Result<Box<dyn Read + Send>> + Send + Sync>;

/// An [`Opener`] of a stored backup. Call inside the runtime; the readers
/// it opens must be used on blocking threads (they wait on the runtime).
pub fn stored(files: &Arc<dyn FileStore>, b: &BackupInfo) -> Opener {
    let (files, key, size) = (files.clone(), b.key.clone(), b.bytes);
    let handle = tokio::runtime::Handle::current();
    Arc::new(move || {
        let stream = handle.block_on(files.read(&key, 0, size))?;
        Ok(Box::new(StreamReader {
            handle: handle.clone(),
            stream,
            chunk: bytes::Bytes::new(),
        }) as Box<dyn Read + Send>)
    })
}

/// An [`Opener`] of a local file (`pulse restore FILE`).
pub fn local(path: std::path::PathBuf) -> Opener {
    Arc::new(move || {
        let file = std::fs::File::open(&path)?;
        Ok(Box::new(file) as Box<dyn Read + Send>)
    })
}

/// A file store's byte stream as a blocking `Read`.
struct StreamReader {
    handle: tokio::runtime::Handle,
    stream: ByteStream,
    chunk: bytes::Bytes,
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.handle.block_on(self.stream.next()) {
                Some(chunk) => self.chunk = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
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

/// Leads per batch handed to the store during a restore.
const RESTORE_BATCH: usize = 1_000;

/// Restores the backup `open` reads, in two streaming passes: the first
/// checks the whole file (header, every line, the count) and changes
/// nothing; then a backup of the current leads is taken; the second pass
/// hands the leads in batches to one transaction that replaces every lead.
/// Memory holds a few batches, whatever the size of the backup.
pub async fn restore(
    store: &dyn Store,
    files: &Arc<dyn FileStore>,
    backup_id: Uuid,
    open: Opener,
) -> Result<Restored, RestoreError> {
    restore_watched(store, files, backup_id, open, &RestoreWatch::default()).await
}

/// What a restore run as a job is watched by: the leads read so far (both
/// passes count, so a restore of n leads ends at 2n) and a stop flag the
/// reader checks between leads — once set, the second pass fails and the
/// transaction rolls back, so a stopped restore changes nothing.
#[derive(Clone, Default)]
pub struct RestoreWatch {
    /// Leads read, over both passes.
    pub leads: Arc<AtomicU64>,
    /// Set (non-zero) to stop.
    pub stop: Arc<std::sync::atomic::AtomicU8>,
}

impl RestoreWatch {
    fn step(&self) -> Result<(), format::ReadError> {
        if self.stop.load(Ordering::Relaxed) != 0 {
            return Err(format::ReadError::Stopped("the restore was stopped".into()));
        }
        self.leads.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// [`restore`], counting progress into `watch` and stopping when it says.
pub async fn restore_watched(
    store: &dyn Store,
    files: &Arc<dyn FileStore>,
    backup_id: Uuid,
    open: Opener,
    watch: &RestoreWatch,
) -> Result<Restored, RestoreError> {
    let started = std::time::Instant::now();
    let done = restore_inner(store, files, backup_id, open, watch).await;
    let outcome = match &done {
        Ok(_) => "done",
        Err(RestoreError::Invalid(_)) => "invalid",
        Err(RestoreError::Failed(_)) => "failed",
    };
    crate::metrics::restore_finished(outcome, started.elapsed());
    done
}

async fn restore_inner(
    store: &dyn Store,
    files: &Arc<dyn FileStore>,
    backup_id: Uuid,
    open: Opener,
    watch: &RestoreWatch,
) -> Result<Restored, RestoreError> {
    let check = open.clone();
    let w = watch.clone();
    let header = tokio::task::spawn_blocking(move || format::read_each(check()?, |_| w.step()))
        .await
        .map_err(|e| anyhow::anyhow!("the backup reader crashed: {e}"))??;
    let pre = create(store, files, Kind::PreRestore)
        .await
        .context("the automatic backup before the restore failed; nothing was restored")?;
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let w = watch.clone();
    let producer = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(RESTORE_BATCH);
        let send = |batch: Vec<BackupLead>| {
            tx.blocking_send(Ok(batch))
                .map_err(|_| format::ReadError::Stopped("the database stopped taking leads".into()))
        };
        let read = second_pass(&open, &mut batch, &send, &w);
        match read {
            Ok(header) => {
                if !batch.is_empty() {
                    send(std::mem::take(&mut batch))?;
                }
                Ok(header)
            }
            Err(e) => {
                // The transaction rolls back on this.
                let _ = tx.blocking_send(Err(e.to_string()));
                Err(e)
            }
        }
    });
    let (stored, produced) = tokio::join!(store.replace_all_leads(header.leads, rx), producer);
    match produced.map_err(|e| anyhow::anyhow!("the backup reader crashed: {e}"))? {
        // Stopped: the store failed and says why below.
        Ok(_) | Err(format::ReadError::Stopped(_)) => {}
        Err(e) => return Err(RestoreError::Invalid(e)),
    }
    let replaced = stored.context("replacing the leads")?;
    tracing::info!(%backup_id, restored = replaced.inserted, replaced = replaced.deleted, pre_restore_backup = %pre.id, "backup restored");
    Ok(Restored {
        backup_id,
        restored: replaced.inserted,
        replaced: replaced.deleted,
        pre_restore_backup: pre,
    })
}

/// The second pass: every lead of the file, in batches, to `send`.
fn second_pass(
    open: &Opener,
    batch: &mut Vec<BackupLead>,
    send: &dyn Fn(Vec<BackupLead>) -> Result<(), format::ReadError>,
    watch: &RestoreWatch,
) -> Result<format::Header, format::ReadError> {
    format::read_each(open()?, |lead| {
        watch.step()?;
        batch.push(lead);
        if batch.len() >= RESTORE_BATCH {
            send(std::mem::replace(batch, Vec::with_capacity(RESTORE_BATCH)))?;
        }
        Ok(())
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
        let k = key(at, id, Kind::PreImport, 7);
        assert_eq!(parse_key(&k), Some((at, id, Kind::PreImport, 7)));
        assert_eq!(parse_key("x.jsonl.gz"), None);
        assert_eq!(parse_key(&k.replace(".jsonl.gz", ".xlsx")), None);
    }

    #[test]
    fn library_names_lead_back_to_their_backup() {
        let at = DateTime::from_timestamp_millis(1_790_000_000_123).unwrap();
        let info = BackupInfo {
            id: Uuid::new_v4(),
            created_at: at,
            kind: Kind::PreImport,
            leads: 3,
            bytes: 10,
            key: String::new(),
        };
        let name = info.library_name();
        assert!(name.starts_with("backup-21-09-2026-"), "{name}");
        assert_eq!(id_of_library_name(&name), Some(info.id));
        assert_eq!(id_of_library_name("backup-21-09-2026-10-00-00.xlsx"), None);
        assert_eq!(id_of_library_name("../etc/passwd"), None);
        assert_eq!(
            id_of_library_name(&name.replace(".jsonl.gz", ".xlsx")),
            None
        );
    }
}
