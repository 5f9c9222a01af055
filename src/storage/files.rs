//! Where finished files live (exports, backups, uploads): a [`FileStore`]. The local one keeps
//! them in `PULSE_DATA_DIR/exports`; an object-store one (S3) can take its
//! place for several instances on several machines.
//!
//! A file is written as a [`PendingFile`] that nobody can read, and becomes
//! visible under its key only by [`PendingFile::publish`], after its last
//! byte is durable. So a reader never sees a partial file, whatever happens
//! to the writer.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// A published file's bytes, in chunks.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// A file being written: not visible under its key until published.
/// Dropping it unpublished removes what was written.
pub trait PendingFile: Write + Send {
    /// Makes every byte durable and then the file visible under its key.
    fn publish(self: Box<Self>) -> io::Result<()>;
}

/// What the store holds under one key.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// The key (for a partial file, the key it would be published under).
    pub key: String,
    /// Still being written (or left behind by a writer that died).
    pub partial: bool,
    /// Time since it was last written.
    pub age: Duration,
}

/// Storage for export files.
#[async_trait]
pub trait FileStore: Send + Sync {
    /// Starts writing the file `key`. Blocking: call from a blocking thread.
    fn create(&self, key: &str) -> io::Result<Box<dyn PendingFile>>;
    /// The size of the published file `key`, if it exists.
    async fn size(&self, key: &str) -> io::Result<Option<u64>>;
    /// Bytes `start..end` of the published file `key`, streamed.
    async fn read(&self, key: &str, start: u64, end: u64) -> io::Result<ByteStream>;
    /// Deletes the file `key`, published and partial; a missing file is fine.
    async fn delete(&self, key: &str) -> io::Result<()>;
    /// Every file held, published and partial.
    async fn list(&self) -> io::Result<Vec<StoredFile>>;
}

const PARTIAL: &str = ".part";

/// Keys are names Pulse makes (`<uuid>-<attempt>.<ext>`); anything else is
/// refused so a key can never name a path outside the directory.
pub(crate) fn check_key(key: &str) -> io::Result<()> {
    let ok = !key.is_empty()
        && !key.starts_with('.')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid file key {key:?}"),
        ))
    }
}

/// Files in one local directory.
#[derive(Debug, Clone)]
pub struct LocalFiles {
    dir: PathBuf,
}

impl LocalFiles {
    /// Files under `dir` (created when the first file is written).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        check_key(key)?;
        Ok(self.dir.join(key))
    }
}

struct LocalPending {
    out: Option<BufWriter<std::fs::File>>,
    partial: PathBuf,
    target: PathBuf,
    dir: PathBuf,
}

impl Write for LocalPending {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.out {
            Some(out) => out.write(buf),
            None => Err(io::Error::other("file already published")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}

impl PendingFile for LocalPending {
    fn publish(mut self: Box<Self>) -> io::Result<()> {
        let out = self
            .out
            .take()
            .ok_or_else(|| io::Error::other("file already published"))?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        // Data first, then the name: after a crash the key names either
        // nothing or the whole file.
        file.sync_all()?;
        drop(file);
        if let Err(e) = std::fs::rename(&self.partial, &self.target) {
            let _ = std::fs::remove_file(&self.partial);
            return Err(e);
        }
        // The rename itself is durable only once the directory is synced.
        std::fs::File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}

impl Drop for LocalPending {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

#[async_trait]
impl FileStore for LocalFiles {
    fn create(&self, key: &str) -> io::Result<Box<dyn PendingFile>> {
        let target = self.path(key)?;
        std::fs::create_dir_all(&self.dir)?;
        let partial = self.dir.join(format!("{key}{PARTIAL}"));
        let file = std::fs::File::create(&partial)?;
        Ok(Box::new(LocalPending {
            out: Some(BufWriter::with_capacity(256 * 1024, file)),
            partial,
            target,
            dir: self.dir.clone(),
        }))
    }

    async fn size(&self, key: &str) -> io::Result<Option<u64>> {
        match tokio::fs::metadata(self.path(key)?).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn read(&self, key: &str, start: u64, end: u64) -> io::Result<ByteStream> {
        let mut file = tokio::fs::File::open(self.path(key)?).await?;
        file.seek(io::SeekFrom::Start(start)).await?;
        let limited = file.take(end.saturating_sub(start));
        Ok(Box::pin(tokio_util::io::ReaderStream::with_capacity(
            limited,
            128 * 1024,
        )))
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        let published = self.path(key)?;
        let partial = self.dir.join(format!("{key}{PARTIAL}"));
        for path in [published, partial] {
            match tokio::fs::remove_file(path).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    async fn list(&self) -> io::Result<Vec<StoredFile>> {
        let mut out = Vec::new();
        let mut dir = match tokio::fs::read_dir(&self.dir).await {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        while let Some(entry) = dir.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let meta = entry.metadata().await?;
            if !meta.is_file() {
                continue;
            }
            let age = meta
                .modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .unwrap_or_default();
            let (key, partial) = match name.strip_suffix(PARTIAL) {
                Some(k) => (k.to_string(), true),
                None => (name, false),
            };
            out.push(StoredFile { key, partial, age });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn nothing_is_visible_before_publish_and_drop_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let files = LocalFiles::new(dir.path().join("exports"));
        let mut f = files.create("a-1.csv").unwrap();
        f.write_all(b"hello world").unwrap();
        assert_eq!(files.size("a-1.csv").await.unwrap(), None);
        let listed = files.list().await.unwrap();
        assert!(listed.len() == 1 && listed[0].partial && listed[0].key == "a-1.csv");
        drop(f);
        assert!(files.list().await.unwrap().is_empty());

        let mut f = files.create("a-2.csv").unwrap();
        f.write_all(b"hello world").unwrap();
        f.publish().unwrap();
        assert_eq!(files.size("a-2.csv").await.unwrap(), Some(11));
        let mut s = files.read("a-2.csv", 6, 11).await.unwrap();
        let mut got = Vec::new();
        use futures_util::StreamExt;
        while let Some(chunk) = s.next().await {
            got.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(got, b"world");
        files.delete("a-2.csv").await.unwrap();
        files.delete("a-2.csv").await.unwrap();
        assert!(files.list().await.unwrap().is_empty());
    }

    #[test]
    fn keys_cannot_leave_the_directory() {
        let files = LocalFiles::new(PathBuf::from("/tmp/x"));
        for bad in ["../etc/passwd", "a/b", "", ".hidden", "a b"] {
            assert!(files.create(bad).is_err(), "{bad}");
        }
    }
}
