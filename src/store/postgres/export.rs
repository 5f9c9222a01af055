//! The PostgreSQL export row source: a `REPEATABLE READ READ ONLY`
//! transaction (count and rows in one snapshot) reading the rows through a
//! portal in batches, so the result is never held in memory whole. An async
//! task fetches; the blocking writer takes the batches from a bounded
//! channel (backpressure reaches the server through the portal).

use std::io;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::IsolationLevel;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::PgStore;
use crate::store::error::{StoreError, StoreResult};
use crate::store::export::{
    EXPORT_TEXT_FIELDS, ExportSnapshot, ExportStore, LeadRow, LeadRows, RowsError,
};
use crate::store::export::{ExportQueries, POSTGRES_EXPORT_SETTINGS, export_queries};
use crate::store::filter::{Dialect, LeadFilter, SqlParam};

/// Rows fetched per portal round trip (~1 MB of lead rows).
const BATCH: i32 = 2_000;
/// Batches waiting for the writer.
const QUEUED_BATCHES: usize = 2;
const N_TEXT: usize = EXPORT_TEXT_FIELDS.len();

struct PgRows {
    rx: mpsc::Receiver<StoreResult<Vec<Row>>>,
}

fn lead_row(row: &Row) -> Result<LeadRow<'_>, tokio_postgres::Error> {
    let mut lead = LeadRow::default();
    for (i, slot) in lead.text.iter_mut().enumerate() {
        *slot = row.try_get(i)?;
    }
    for (j, slot) in lead.dates.iter_mut().enumerate() {
        *slot = row.try_get(N_TEXT + j)?;
    }
    for (k, slot) in lead.instants.iter_mut().enumerate() {
        *slot = row.try_get(N_TEXT + crate::store::N_DATE + k)?;
    }
    Ok(lead)
}

impl LeadRows for PgRows {
    fn for_each(
        &mut self,
        f: &mut dyn FnMut(&LeadRow<'_>) -> io::Result<()>,
    ) -> Result<u64, RowsError> {
        let mut n = 0u64;
        while let Some(batch) = self.rx.blocking_recv() {
            for row in &batch? {
                let lead = lead_row(row).map_err(|e| RowsError::Store(e.into()))?;
                f(&lead).map_err(RowsError::Sink)?;
                n += 1;
            }
        }
        Ok(n)
    }
}

fn boxed(p: &SqlParam) -> Box<dyn ToSql + Sync + Send> {
    match p {
        SqlParam::Text(s) => Box::new(s.clone()),
        SqlParam::Date(d) => Box::new(*d),
        SqlParam::Int(i) => Box::new(*i),
        SqlParam::Instant(t) => Box::new(*t),
    }
}

/// Sends the rows of `sql` read through a portal in `txn`, `fetch` at a
/// time, into `tx` (bounded: backpressure reaches the server), then ends
/// the read-only transaction. A read error is sent after the rows before
/// it; a receiver that is gone (the writer stopped) stops the reading.
pub(super) async fn stream_portal(
    txn: deadpool_postgres::Transaction<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    fetch: i32,
    tx: &mpsc::Sender<StoreResult<Vec<Row>>>,
) {
    let portal = match txn.bind(sql, params).await {
        Ok(p) => p,
        Err(e) => {
            let _ = tx.send(Err(e.into())).await;
            return;
        }
    };
    loop {
        match txn.query_portal(&portal, fetch).await {
            Ok(batch) if batch.is_empty() => break,
            Ok(batch) => {
                if tx.send(Ok(batch)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        }
    }
    // Read-only: commit and rollback are the same; end it cleanly so the
    // pooled connection comes back idle.
    let _ = txn.commit().await;
}

#[async_trait]
impl ExportStore for PgStore {
    async fn export_snapshot(&self, filter: &LeadFilter) -> StoreResult<ExportSnapshot> {
        let ExportQueries {
            count,
            rows,
            params,
        } = export_queries(filter, Dialect::Postgres);
        let params: Vec<Box<dyn ToSql + Sync + Send>> = params.iter().map(boxed).collect();
        let mut client = self.client().await?;
        let (count_tx, count_rx) = oneshot::channel::<StoreResult<u64>>();
        let (tx, rx) = mpsc::channel(QUEUED_BATCHES);
        tokio::spawn(async move {
            let refs: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect();
            let run = async {
                let txn = client
                    .build_transaction()
                    .isolation_level(IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
                    .await?;
                txn.batch_execute(POSTGRES_EXPORT_SETTINGS).await?;
                let total: i64 = txn.query_one(&count, &refs).await?.get(0);
                Ok::<_, tokio_postgres::Error>((txn, total))
            };
            let (txn, total) = match run.await {
                Ok(v) => v,
                Err(e) => {
                    let _ = count_tx.send(Err(e.into()));
                    return;
                }
            };
            if count_tx.send(Ok(total.max(0) as u64)).is_err() {
                return;
            }
            stream_portal(txn, &rows, &refs, BATCH, &tx).await;
        });
        let total = count_rx
            .await
            .map_err(|_| StoreError::Backend("export reader task ended".into()))??;
        Ok(ExportSnapshot {
            total,
            rows: Box::new(PgRows { rx }),
        })
    }
}
