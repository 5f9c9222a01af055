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

/// Opens the database with the settings every connection needs.
pub fn open_connection(path: &PathBuf) -> StoreResult<Connection> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 10000;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(conn)
}
