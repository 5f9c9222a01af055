//! `pulse backup [--out FILE]` and `pulse restore FILE`: the API's backup
//! and restore, offline (no server needed; the same database and backup
//! store).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::backup::{self, Kind, RestoreError};
use crate::config::Config;

/// Back up every lead.
#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Write the backup to this file instead of the backup store
    /// (`PULSE_DATA_DIR/backups`, where the API lists it).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Restore the leads from a backup file.
#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A backup file (`pulse backup --out`, or a download from the API).
    file: PathBuf,
}

/// Runs `pulse backup`.
pub async fn run_backup(config: Config, args: BackupArgs) -> anyhow::Result<()> {
    let store = crate::app::open_store(&config).await?;
    match args.out {
        Some(path) => {
            // Streamed from one snapshot: memory stays flat whatever the size.
            let snapshot = store
                .backup_snapshot()
                .await
                .context("opening the leads snapshot")?;
            let target = path.clone();
            let header = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let file = std::fs::File::create(&target)
                    .with_context(|| format!("cannot create {}", target.display()))?;
                let progress = std::sync::atomic::AtomicU64::new(0);
                let (header, file) =
                    backup::write_snapshot(snapshot, chrono::Utc::now(), file, &progress)?;
                file.sync_all()?;
                Ok(header)
            })
            .await??;
            println!("{} leads backed up to {}", header.leads, path.display());
        }
        None => {
            crate::storage::ensure_storage(&config).await?;
            let files = backup::files(&config);
            let b = backup::create(store.as_ref(), &files, Kind::Manual).await?;
            println!("backup {}: {} leads, {} bytes", b.id, b.leads, b.bytes);
        }
    }
    Ok(())
}

/// Runs `pulse restore`.
pub async fn run_restore(config: Config, args: RestoreArgs) -> anyhow::Result<()> {
    std::fs::File::open(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let store = crate::app::open_store(&config).await?;
    crate::storage::ensure_storage(&config).await?;
    let files = backup::files(&config);
    let open = backup::local(args.file.clone());
    match backup::restore(store.as_ref(), &files, uuid::Uuid::nil(), open).await {
        Ok(r) => {
            println!(
                "restored {} leads (replacing {}); the leads as they were are in backup {}",
                r.restored, r.replaced, r.pre_restore_backup.id
            );
            Ok(())
        }
        Err(RestoreError::Invalid(e)) => {
            anyhow::bail!("{} is not a usable backup: {e}", args.file.display())
        }
        Err(RestoreError::Failed(e)) => Err(e),
    }
}
