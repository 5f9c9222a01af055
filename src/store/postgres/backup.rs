//! [`BackupStore`] on PostgreSQL.
//!
//! A backup reads in a `REPEATABLE READ READ ONLY` transaction through a
//! portal in batches (as the export does): an async task fetches, the
//! blocking writer takes the batches from a bounded channel. A restore is
//! one transaction: `DELETE` (readers keep seeing the old leads until the
//! commit, where `TRUNCATE` would block them), then multi-row `INSERT`s.

use std::io;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, Row};

use super::PgStore;
use super::leads::{Converted, lead_from_row, lead_values};
use crate::domain::{CallEvent, Lead};
use crate::store::backup::{
    BackupLead, BackupSnapshot, BackupStore, LeadBatch, LeadStream, Replaced,
};
use crate::store::error::{StoreError, StoreResult};
use crate::store::export::RowsError;
use crate::store::filter::{Dialect, LEAD_COLUMN_COUNT, LEAD_COLUMNS};

/// Rows fetched per portal round trip.
const FETCH: i32 = 2_000;
/// Leads per `INSERT` statement (34 parameters each; PostgreSQL allows 65,535).
const INSERT_ROWS: usize = 500;

struct PgLeads {
    rx: mpsc::Receiver<StoreResult<Vec<Row>>>,
}

impl LeadStream for PgLeads {
    fn for_each(
        &mut self,
        f: &mut dyn FnMut(BackupLead) -> io::Result<()>,
    ) -> Result<u64, RowsError> {
        let mut n = 0u64;
        while let Some(batch) = self.rx.blocking_recv() {
            for row in &batch? {
                let lead = lead_from_row(row)?;
                let events: Option<&str> =
                    row.try_get(LEAD_COLUMN_COUNT).map_err(StoreError::from)?;
                let call_events = match events {
                    Some(json) => serde_json::from_str(json).map_err(|e| {
                        StoreError::Backend(format!("call_events of lead {}: {e}", lead.id))
                    })?,
                    None => Vec::new(),
                };
                f(BackupLead { lead, call_events }).map_err(RowsError::Sink)?;
                n += 1;
            }
        }
        Ok(n)
    }
}

/// Each lead's call events as one JSON array (oldest first), beside its
/// columns: a correlated probe of `call_events_lead` inside the portal's
/// snapshot, so the leads and their events agree.
const EVENTS_OF_LEAD: &str = "(SELECT json_agg(json_build_object(
        'id', e.id, 'lead_id', e.lead_id, 'actor_id', e.actor_id,
        'actor_login', e.actor_login, 'outcome', e.outcome, 'status', e.status,
        'at', e.at) ORDER BY e.at, e.id)::text
     FROM call_events e WHERE e.lead_id = leads.id)";

/// Events per `INSERT` statement (7 parameters each).
const INSERT_EVENTS: usize = 1_000;

fn insert_events_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=7)
                .map(|i| Dialect::Postgres.placeholder(r * 7 + i))
                .collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO call_events (id, lead_id, actor_id, actor_login, outcome, status, at) VALUES {}",
        values.join(", ")
    )
}

fn insert_sql(rows: usize) -> String {
    let mut values = Vec::with_capacity(rows);
    for r in 0..rows {
        let marks: Vec<String> = (1..=LEAD_COLUMN_COUNT)
            .map(|i| Dialect::Postgres.placeholder(r * LEAD_COLUMN_COUNT + i))
            .collect();
        values.push(format!("({})", marks.join(", ")));
    }
    format!(
        "INSERT INTO leads ({LEAD_COLUMNS}) VALUES {}",
        values.join(", ")
    )
}

#[async_trait]
impl BackupStore for PgStore {
    async fn all_leads(&self) -> StoreResult<Vec<Lead>> {
        // One statement: one snapshot.
        let rows = self
            .client()
            .await?
            .query(
                &format!("SELECT {LEAD_COLUMNS} FROM leads ORDER BY id"),
                &[],
            )
            .await?;
        rows.iter().map(lead_from_row).collect()
    }

    async fn backup_snapshot(&self) -> StoreResult<BackupSnapshot> {
        let mut client = self.client().await?;
        let (count_tx, count_rx) = oneshot::channel::<StoreResult<u64>>();
        let (tx, rx) = mpsc::channel(2);
        tokio::spawn(async move {
            let open = async {
                let txn = client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
                    .await?;
                let row = txn
                    .query_one(
                        "SELECT (SELECT count(*) FROM leads),
                                EXISTS (SELECT 1 FROM call_events)",
                        &[],
                    )
                    .await?;
                let (total, has_events): (i64, bool) = (row.get(0), row.get(1));
                Ok::<_, tokio_postgres::Error>((txn, total, has_events))
            };
            let (txn, total, has_events) = match open.await {
                Ok(v) => v,
                Err(e) => {
                    let _ = count_tx.send(Err(e.into()));
                    return;
                }
            };
            if count_tx.send(Ok(total.max(0) as u64)).is_err() {
                return;
            }
            // no events in the snapshot: no probe per lead (the column reads NULL)
            let events = if has_events {
                EVENTS_OF_LEAD
            } else {
                "NULL::text"
            };
            let sql = format!("SELECT {LEAD_COLUMNS}, {events} FROM leads ORDER BY id");
            super::export::stream_portal(txn, &sql, &[], FETCH, &tx).await;
        });
        let total = count_rx
            .await
            .map_err(|_| StoreError::Backend("backup reader task ended".into()))??;
        Ok(BackupSnapshot {
            total,
            leads: Box::new(PgLeads { rx }),
        })
    }

    async fn replace_all_leads(
        &self,
        expected: u64,
        mut batches: mpsc::Receiver<LeadBatch>,
    ) -> StoreResult<Replaced> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let deleted = tx.execute("DELETE FROM leads", &[]).await?;
        tx.execute("DELETE FROM call_events", &[]).await?;
        let full = tx.prepare(&insert_sql(INSERT_ROWS)).await?;
        let mut inserted = 0u64;
        while let Some(batch) = batches.recv().await {
            let batch = batch.map_err(StoreError::Backend)?;
            for chunk in batch.chunks(INSERT_ROWS) {
                let converted: Vec<Converted> =
                    chunk.iter().map(|b| Converted::of(&b.lead)).collect();
                let mut params: Vec<&(dyn ToSql + Sync)> =
                    Vec::with_capacity(chunk.len() * LEAD_COLUMN_COUNT);
                for (b, c) in chunk.iter().zip(&converted) {
                    params.extend(lead_values(&b.lead, c));
                }
                if chunk.len() == INSERT_ROWS {
                    tx.execute(&full, &params).await?;
                } else {
                    tx.execute(insert_sql(chunk.len()).as_str(), &params)
                        .await?;
                }
                inserted += chunk.len() as u64;
            }
            let events: Vec<&CallEvent> = batch.iter().flat_map(|b| &b.call_events).collect();
            for chunk in events.chunks(INSERT_EVENTS) {
                let outcomes: Vec<&str> = chunk.iter().map(|e| e.outcome.as_str()).collect();
                let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(chunk.len() * 7);
                for (e, outcome) in chunk.iter().zip(&outcomes) {
                    params.extend([
                        &e.id as &(dyn ToSql + Sync),
                        &e.lead_id,
                        &e.actor_id,
                        &e.actor_login,
                        outcome,
                        &e.status,
                        &e.at,
                    ]);
                }
                tx.execute(insert_events_sql(chunk.len()).as_str(), &params)
                    .await?;
            }
        }
        if inserted != expected {
            return Err(StoreError::Backend(format!(
                "the restore source ended after {inserted} of {expected} leads; nothing was changed"
            )));
        }
        tx.commit().await?;
        Ok(Replaced { deleted, inserted })
    }
}
