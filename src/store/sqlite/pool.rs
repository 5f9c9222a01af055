//! A small pool of rusqlite connections used from blocking threads.
//!
//! rusqlite connections are `Send` but not `Sync`, and every call blocks,
//! so each call borrows a connection and runs on tokio's blocking pool.
//! SQLite serialises writers itself; `busy_timeout` makes a second writer
//! wait instead of failing.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::store::error::{StoreError, StoreResult};

/// Connections idle in the pool, and a bound on how many exist at once.
pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    size: usize,
}

impl Pool {
    /// A pool of at most `size` connections to the file at `path`.
    pub fn new(path: PathBuf, size: usize) -> StoreResult<Self> {
        // Open one now so a bad path fails at start, not at the first request.
        let first = open_connection(&path)?;
        Ok(Self {
            path,
            idle: Mutex::new(vec![first]),
            permits: Arc::new(Semaphore::new(size)),
            size,
        })
    }

    /// Connections borrowed now, and the most that may be (metrics).
    /// Dedicated export readers are outside the pool and not counted.
    pub fn in_use(&self) -> (u64, u64) {
        let free = self.permits.available_permits();
        (self.size.saturating_sub(free) as u64, self.size as u64)
    }

    /// Runs `f` with a connection on a blocking thread.
    pub async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Backend("pool closed".into()))?;
        let conn = self.idle.lock().expect("pool mutex").pop();
        let mut conn = match conn {
            Some(c) => c,
            None => open_connection(&self.path)?,
        };
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let result = f(&mut conn);
            (conn, result)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("blocking task failed: {e}")))?;
        self.idle.lock().expect("pool mutex").push(conn);
        result
    }

    /// A fresh connection outside the pool, for long reads (exports) that
    /// must not hold a pooled one for minutes.
    pub fn dedicated(&self) -> StoreResult<Connection> {
        open_connection(&self.path)
    }
}

/// How much of the database file each connection maps (`PRAGMA mmap_size`):
/// SQLite's compile-time ceiling (`SQLITE_MAX_MMAP_SIZE`, 0x7fff0000 in the
/// bundled build); a larger file is read past it as before.
const MMAP_SIZE: i64 = 0x7fff_0000;

/// Opens the database with the settings every connection needs.
///
/// `busy_timeout` is 2 s: a writer that cannot get the lock by then (an import or restore
/// holds it) fails with `SQLITE_BUSY`, which is `StoreError::Busy` and a 503 with
/// `Retry-After` — not a 10-second stall and a 500 (review H4).
pub fn open_connection(path: &PathBuf) -> StoreResult<Connection> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 2000;
         PRAGMA temp_store = MEMORY;",
    )?;
    // Reads through a memory map instead of a read() into each connection's
    // 2 MB page cache: a page of 50 leads out of 1M (or a search's ~42k
    // matches) reads pages scattered over a 1.6 GB file, each a system call
    // and a copy without it. Virtual address space only; the kernel's page
    // cache is shared by every connection.
    conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
    Ok(conn)
}
