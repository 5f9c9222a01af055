//! Where Pulse's files live: the [`files::FileStore`] trait with the local
//! disk ([`files::LocalFiles`], under `PULSE_DATA_DIR`) and S3-compatible
//! object storage ([`s3::S3Files`], `PULSE_STORAGE_URL=s3://…`) behind it,
//! and the stores of each area (export files, uploads waiting for their
//! import job, backups). Export and backup jobs, the backup engine and the
//! HTTP side all write and read through these.

pub mod files;
pub mod s3;

use std::sync::Arc;

use crate::config::Config;
use files::FileStore;

/// The export files' store of a configuration: `PULSE_DATA_DIR/exports`,
/// or `exports/` under the `PULSE_STORAGE_URL` prefix in object storage.
/// Call inside the runtime.
pub fn local_files(config: &Config) -> Arc<dyn FileStore> {
    file_store(config, "exports")
}

/// Where uploads above `PULSE_IMPORT_JOB_THRESHOLD` wait for their import
/// job: `PULSE_DATA_DIR/imports` or `imports/` in object storage, so a
/// worker of any instance can read them. Not the exports' store: its
/// clean-up deletes every file no export job has published.
pub fn uploads(config: &Config) -> Arc<dyn FileStore> {
    file_store(config, "imports")
}

/// The file store `area` (`exports`, `backups`) of a configuration.
pub fn file_store(config: &Config, area: &str) -> Arc<dyn FileStore> {
    match &config.storage {
        Some(s3) => {
            let mut cfg = s3.clone();
            cfg.prefix = if cfg.prefix.is_empty() {
                area.to_string()
            } else {
                format!("{}/{area}", cfg.prefix)
            };
            Arc::new(s3::S3Files::new(cfg))
        }
        None => Arc::new(files::LocalFiles::new(config.data_dir.join(area))),
    }
}

/// Makes sure the object-storage bucket exists (creates it when missing);
/// nothing to do for local files. Every process that uses the file stores
/// calls it at start, so a fresh bucket name just works and a wrong
/// endpoint or credential fails at start, not at the first export.
pub async fn ensure_storage(config: &Config) -> anyhow::Result<()> {
    if let Some(s3) = &config.storage {
        s3::S3Files::new(s3.clone())
            .ensure_bucket()
            .await
            .map_err(|e| anyhow::anyhow!("object storage (PULSE_STORAGE_URL): {e}"))?;
    }
    Ok(())
}
