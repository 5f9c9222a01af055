//! [`BackupStore`] on PostgreSQL.

use async_trait::async_trait;

use super::PgStore;
use super::leads::{Converted, lead_from_row, lead_values};
use crate::domain::Lead;
use crate::store::filter::{Dialect, LEAD_COLUMN_COUNT, LEAD_COLUMNS};
use crate::store::{BackupStore, StoreResult};

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

    async fn replace_all_leads(&self, leads: Vec<Lead>) -> StoreResult<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let deleted = tx.execute("DELETE FROM leads", &[]).await?;
        let marks: Vec<String> = (1..=LEAD_COLUMN_COUNT)
            .map(|i| Dialect::Postgres.placeholder(i))
            .collect();
        let stmt = tx
            .prepare(&format!(
                "INSERT INTO leads ({LEAD_COLUMNS}) VALUES ({})",
                marks.join(", ")
            ))
            .await?;
        for lead in &leads {
            let c = Converted::of(lead);
            tx.execute(&stmt, &lead_values(lead, &c)).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
