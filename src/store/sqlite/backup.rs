//! [`BackupStore`] on SQLite.
//!
//! A backup reads on a dedicated connection in one read transaction, in
//! table (rowid) order: sequential, where id order would fetch each ~1.2 KB
//! row through the primary-key index at random (see `store/export.rs` for
//! the measured cost of that).
//!
//! A restore is one IMMEDIATE transaction. Replacing every lead row by row
//! with the derived structures in place costs per row what rebuilding them
//! once costs per table (the FTS5 trigram index and the summary counters
//! of migration 0003 are kept by triggers; six secondary indexes see random
//! keys): so inside the transaction the known derived-data triggers and the
//! secondary indexes are dropped, the table emptied (SQLite's truncate
//! optimisation, no triggers left to fire), the leads inserted, and then
//! everything rebuilt and recreated before the commit. DDL is
//! transactional in SQLite: a failure anywhere rolls all of it back.

use std::io;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params_from_iter};
use tokio::sync::mpsc;

use super::SqliteStore;
use super::calls::{EVENT_COLUMNS, INSERT_EVENT, event_from_row, insert_event};
use super::leads::{ColumnMap, lead_at, lead_from_row, lead_values};
use crate::domain::Lead;
use crate::store::backup::{
    BackupLead, BackupSnapshot, BackupStore, LeadBatch, LeadStream, Replaced,
};
use crate::store::error::{StoreError, StoreResult};
use crate::store::export::RowsError;
use crate::store::filter::{Dialect, LEAD_COLUMN_COUNT, LEAD_COLUMNS};

/// Triggers on `leads` that only maintain data [`REBUILD`] recomputes; any
/// other trigger stays in place during a restore (slow but right).
const DERIVED_TRIGGERS: [&str; 6] = [
    "leads_fts_insert",
    "leads_fts_delete",
    "leads_fts_update",
    "leads_count_insert",
    "leads_count_delete",
    "leads_count_update",
];

/// Recomputes what [`DERIVED_TRIGGERS`] maintain, as migration 0003 does.
const REBUILD: &str = "INSERT INTO leads_name_fts (leads_name_fts) VALUES ('rebuild');
     DELETE FROM lead_counts;
     INSERT INTO lead_counts
         SELECT coalesce(source, ''), coalesce(import_date, ''),
                lower(coalesce(assigned_telecaller, '')), stage, status, count(*)
         FROM leads GROUP BY 1, 2, 3, 4, 5;
     DELETE FROM lead_status_counts;
     INSERT INTO lead_status_counts SELECT stage, status, count(*) FROM leads GROUP BY 1, 2;";

struct SqliteLeads {
    conn: Connection,
    /// Whether the snapshot holds any call event (none: no probe per lead).
    has_events: bool,
}

impl LeadStream for SqliteLeads {
    fn for_each(
        &mut self,
        f: &mut dyn FnMut(BackupLead) -> io::Result<()>,
    ) -> Result<u64, RowsError> {
        let store_err = |e: rusqlite::Error| RowsError::Store(e.into());
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {LEAD_COLUMNS} FROM leads ORDER BY rowid"))
            .map_err(store_err)?;
        // one probe of call_events_lead per lead, in the same read transaction
        let mut events = self
            .conn
            .prepare(&format!(
                "SELECT {EVENT_COLUMNS} FROM call_events WHERE lead_id = ?1 ORDER BY at, id"
            ))
            .map_err(store_err)?;
        let cols = ColumnMap::of(&stmt).map_err(store_err)?;
        let mut rows = stmt.query([]).map_err(store_err)?;
        let mut n = 0u64;
        while let Some(row) = rows.next().map_err(store_err)? {
            let lead = lead_at(row, &cols).map_err(store_err)?;
            let call_events = if self.has_events {
                events
                    .query_map([lead.id.to_string()], event_from_row)
                    .and_then(|r| r.collect::<Result<Vec<_>, _>>())
                    .map_err(store_err)?
            } else {
                Vec::new()
            };
            f(BackupLead { lead, call_events }).map_err(RowsError::Sink)?;
            n += 1;
        }
        Ok(n)
    }
}

fn blocking_failed(e: tokio::task::JoinError) -> StoreError {
    StoreError::Backend(format!("blocking task failed: {e}"))
}

#[async_trait]
impl BackupStore for SqliteStore {
    async fn all_leads(&self) -> StoreResult<Vec<Lead>> {
        self.pool()
            .run(|conn| {
                let tx = conn.transaction()?;
                let leads = {
                    let mut stmt =
                        tx.prepare(&format!("SELECT {LEAD_COLUMNS} FROM leads ORDER BY id"))?;
                    stmt.query_map([], lead_from_row)?
                        .collect::<Result<Vec<_>, _>>()?
                };
                tx.commit()?;
                Ok(leads)
            })
            .await
    }

    async fn backup_snapshot(&self) -> StoreResult<BackupSnapshot> {
        let conn = self.pool().dedicated()?;
        tokio::task::spawn_blocking(move || {
            // The deferred transaction's WAL snapshot starts at this count,
            // which the leads then share.
            conn.execute_batch("BEGIN DEFERRED")?;
            let total: i64 = conn.query_row("SELECT count(*) FROM leads", [], |r| r.get(0))?;
            let has_events: bool =
                conn.query_row("SELECT EXISTS (SELECT 1 FROM call_events)", [], |r| {
                    r.get(0)
                })?;
            Ok(BackupSnapshot {
                total: total.max(0) as u64,
                leads: Box::new(SqliteLeads { conn, has_events }),
            })
        })
        .await
        .map_err(blocking_failed)?
    }

    async fn replace_all_leads(
        &self,
        expected: u64,
        mut batches: mpsc::Receiver<LeadBatch>,
    ) -> StoreResult<Replaced> {
        // A connection of its own: the sorts of the index rebuilds spill to
        // temporary files here instead of memory (the pool's connections
        // keep temp_store = MEMORY), so a restore of any size stays flat.
        let mut conn = self.pool().dedicated()?;
        tokio::task::spawn_blocking(move || {
            conn.execute_batch("PRAGMA temp_store = FILE")?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let deleted: i64 = tx.query_row("SELECT count(*) FROM leads", [], |r| r.get(0))?;
            let mut redo: Vec<String> = Vec::new();
            let mut rebuild = false;
            {
                let mut stmt = tx.prepare(
                    "SELECT name, sql FROM sqlite_master
                     WHERE type = 'index' AND tbl_name = 'leads' AND sql IS NOT NULL",
                )?;
                let indexes: Vec<(String, String)> = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?;
                for (name, sql) in indexes {
                    tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
                    redo.push(sql);
                }
                for trigger in DERIVED_TRIGGERS {
                    let sql: Option<String> = tx
                        .query_row(
                            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                            [trigger],
                            |r| r.get(0),
                        )
                        .optional()?;
                    if let Some(sql) = sql {
                        tx.execute_batch(&format!("DROP TRIGGER {trigger}"))?;
                        redo.push(sql);
                        rebuild = true;
                    }
                }
            }
            tx.execute("DELETE FROM leads", [])?;
            tx.execute("DELETE FROM call_events", [])?;
            let mut inserted = 0u64;
            {
                let marks: Vec<String> = (1..=LEAD_COLUMN_COUNT)
                    .map(|i| Dialect::Sqlite.placeholder(i))
                    .collect();
                let mut stmt = tx.prepare(&format!(
                    "INSERT INTO leads ({LEAD_COLUMNS}) VALUES ({})",
                    marks.join(", ")
                ))?;
                let mut events = tx.prepare(INSERT_EVENT)?;
                while let Some(batch) = batches.blocking_recv() {
                    let batch = batch.map_err(StoreError::Backend)?;
                    for b in &batch {
                        stmt.execute(params_from_iter(lead_values(&b.lead)))?;
                        for e in &b.call_events {
                            insert_event(&mut events, e)?;
                        }
                        inserted += 1;
                    }
                }
            }
            if inserted != expected {
                return Err(StoreError::Backend(format!(
                    "the restore source ended after {inserted} of {expected} leads; nothing was changed"
                )));
            }
            if rebuild {
                tx.execute_batch(REBUILD)?;
            }
            for sql in &redo {
                tx.execute_batch(sql)?;
            }
            tx.commit()?;
            Ok(Replaced {
                deleted: deleted.max(0) as u64,
                inserted,
            })
        })
        .await
        .map_err(blocking_failed)?
    }
}
