//! [`BackupStore`] on SQLite.

use async_trait::async_trait;
use rusqlite::{TransactionBehavior, params_from_iter};

use super::SqliteStore;
use super::leads::{lead_from_row, lead_values};
use crate::domain::Lead;
use crate::store::filter::{Dialect, LEAD_COLUMN_COUNT, LEAD_COLUMNS};
use crate::store::{BackupStore, StoreResult};

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

    async fn replace_all_leads(&self, leads: Vec<Lead>) -> StoreResult<u64> {
        self.pool()
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                // The delete and insert triggers keep the search index and
                // the summary counters (migration 0003) right.
                let deleted = tx.execute("DELETE FROM leads", [])? as u64;
                {
                    let marks: Vec<String> = (1..=LEAD_COLUMN_COUNT)
                        .map(|i| Dialect::Sqlite.placeholder(i))
                        .collect();
                    let mut stmt = tx.prepare(&format!(
                        "INSERT INTO leads ({LEAD_COLUMNS}) VALUES ({})",
                        marks.join(", ")
                    ))?;
                    for lead in &leads {
                        stmt.execute(params_from_iter(lead_values(lead)))?;
                    }
                }
                tx.commit()?;
                Ok(deleted)
            })
            .await
    }
}
