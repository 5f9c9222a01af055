//! Bulk lead writes on PostgreSQL: the stream goes through one
//! `COPY … FROM STDIN BINARY` into a temporary table, then duplicates are
//! resolved and the rest inserted with a few set-based statements — all in
//! one transaction, so a failure leaves `leads` untouched.

use std::pin::pin;

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use super::PgStore;
use super::leads::{Converted, lead_values, pg_type};
use crate::store::bulk::{BatchOutcome, BulkBatch, BulkStore, DuplicatePolicy};
use crate::store::error::{StoreError, StoreResult};

/// The leads columns, in COPY order (after `idx`), with their types: the
/// lead field list.
fn columns() -> impl Iterator<Item = (&'static str, Type)> {
    crate::domain::FIELDS
        .iter()
        .map(|f| (f.name, pg_type(f.ty)))
}

fn column_list() -> String {
    crate::store::filter::LEAD_COLUMNS.to_string()
}

#[async_trait]
impl BulkStore for PgStore {
    async fn bulk_import(
        &self,
        mut batches: mpsc::Receiver<BulkBatch>,
        on_duplicate: DuplicatePolicy,
    ) -> StoreResult<BatchOutcome> {
        let cols = column_list();
        let mut client = self.client().await?;
        // Dropping `tx` on an early return sends ROLLBACK; the temporary
        // tables go with it (ON COMMIT DROP).
        let tx = client.transaction().await?;
        tx.batch_execute(
            "CREATE TEMP TABLE pulse_import (idx BIGINT NOT NULL, LIKE leads) ON COMMIT DROP;
             CREATE TEMP TABLE pulse_import_skip (idx BIGINT NOT NULL, holder UUID NOT NULL)
                 ON COMMIT DROP;",
        )
        .await?;

        // 1. Stream every lead into the staging table.
        let sink = tx
            .copy_in(&format!(
                "COPY pulse_import (idx, {cols}) FROM STDIN BINARY"
            ))
            .await?;
        let mut types = vec![Type::INT8];
        types.extend(columns().map(|(_, t)| t));
        let mut writer = pin!(BinaryCopyInWriter::new(sink, &types));
        let mut index: i64 = 0;
        // Kept until the COPY ends (no other statement can run during it):
        // 24 bytes a merged lead.
        let mut versions: Vec<(Uuid, chrono::DateTime<chrono::Utc>)> = Vec::new();
        // The undo record, written once the COPY is over.
        let mut journal: Option<crate::store::ImportJournal> = None;
        let committed = loop {
            let leads = match batches.recv().await {
                Some(BulkBatch::Leads(leads)) => leads,
                Some(BulkBatch::Versions(v)) => {
                    versions.extend(v);
                    continue;
                }
                Some(BulkBatch::Journal(j)) => {
                    journal = Some(j);
                    continue;
                }
                Some(BulkBatch::Commit) => break true,
                None => break false,
            };
            for l in &leads {
                let converted = Converted::of(l);
                let mut row: Vec<&(dyn ToSql + Sync)> =
                    Vec::with_capacity(crate::domain::FIELDS.len() + 1);
                row.push(&index);
                row.extend(lead_values(l, &converted));
                writer.as_mut().write(&row).await?;
                index += 1;
            }
        };
        if !committed {
            return Err(StoreError::Backend(
                "bulk import ended without commit: rolled back, nothing written".into(),
            ));
        }
        writer.finish().await?;
        if let Some(j) = &journal {
            tx.execute(
                "INSERT INTO imports (id, owner_id, actor, file_name, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&j.id, &j.owner, &j.actor, &j.file_name, &j.at],
            )
            .await?;
        }
        let journal = journal.map(|j| j.id);
        tx.batch_execute("ANALYZE pulse_import").await?;
        tx.batch_execute(
            "CREATE TEMP TABLE pulse_import_version (id UUID PRIMARY KEY, updated_at TIMESTAMPTZ NOT NULL)
                 ON COMMIT DROP",
        )
        .await?;
        for chunk in versions.chunks(10_000) {
            let (ids, ats): (Vec<Uuid>, Vec<chrono::DateTime<chrono::Utc>>) =
                chunk.iter().copied().unzip();
            tx.execute(
                "INSERT INTO pulse_import_version
                 SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) ON CONFLICT (id) DO NOTHING",
                &[&ids, &ats],
            )
            .await?;
        }

        // 2. Within the stream the first lead with a phone (then an id) wins.
        for key in ["phone_number", "id"] {
            tx.batch_execute(&format!(
                "INSERT INTO pulse_import_skip (idx, holder)
                 SELECT idx, holder FROM (
                     SELECT idx, first_value(id) OVER w AS holder, row_number() OVER w AS rn
                     FROM pulse_import WINDOW w AS (PARTITION BY {key} ORDER BY idx)) d
                 WHERE rn > 1;
                 DELETE FROM pulse_import s USING pulse_import_skip k WHERE s.idx = k.idx;"
            ))
            .await?;
        }

        // 3. Leads whose phone or id is already stored.
        let hits = "SELECT s.idx, COALESCE(p.id, i.id) AS holder
                    FROM pulse_import s
                    LEFT JOIN leads p ON p.phone_number = s.phone_number
                    LEFT JOIN leads i ON i.id = s.id
                    WHERE p.id IS NOT NULL OR i.id IS NOT NULL";
        let mut updated = 0;
        let mut conflicts = Vec::new();
        match on_duplicate {
            DuplicatePolicy::Skip => {
                tx.batch_execute(&format!(
                    "INSERT INTO pulse_import_skip (idx, holder) {hits};
                     DELETE FROM pulse_import s USING pulse_import_skip k WHERE s.idx = k.idx;"
                ))
                .await?;
            }
            DuplicatePolicy::Replace => {
                // The stored leads to replace are locked, then those changed
                // since the importer read them (`Versions`) are conflicts and
                // stay as they are: nobody can change them before the commit.
                tx.batch_execute(&format!(
                    "CREATE TEMP TABLE pulse_import_hit ON COMMIT DROP AS {hits};
                     SELECT 1 FROM leads l JOIN pulse_import_hit h ON l.id = h.holder
                         ORDER BY l.id FOR UPDATE OF l;
                     CREATE TEMP TABLE pulse_import_conflict ON COMMIT DROP AS
                         SELECT h.idx, h.holder FROM pulse_import_hit h
                         JOIN pulse_import_version v ON v.id = h.holder
                         JOIN leads l ON l.id = h.holder
                         WHERE l.updated_at IS DISTINCT FROM v.updated_at;
                     DELETE FROM pulse_import_hit h USING pulse_import_conflict c WHERE h.idx = c.idx;
                     DELETE FROM pulse_import s USING pulse_import_conflict c WHERE s.idx = c.idx;"
                ))
                .await?;
                conflicts = tx
                    .query(
                        "SELECT idx, holder FROM pulse_import_conflict ORDER BY idx",
                        &[],
                    )
                    .await?
                    .iter()
                    .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, Uuid>(1)))
                    .collect();
                if let Some(id) = &journal {
                    // Each replaced lead as it is now, before the update.
                    tx.execute(
                        "INSERT INTO import_changes (import_id, lead_id, written_at, prior)
                         SELECT $1, l.id, s.updated_at, to_jsonb(l)
                         FROM leads l JOIN pulse_import_hit h ON l.id = h.holder
                         JOIN pulse_import s ON s.idx = h.idx",
                        &[id],
                    )
                    .await?;
                }
                let sets = columns()
                    .skip(1)
                    .map(|(c, _)| format!("{c} = s.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                updated = tx
                    .execute(
                        &format!(
                            "UPDATE leads l SET {sets}
                             FROM pulse_import s JOIN pulse_import_hit h ON h.idx = s.idx
                             WHERE l.id = h.holder"
                        ),
                        &[],
                    )
                    .await?;
                tx.batch_execute(
                    "DELETE FROM pulse_import s USING pulse_import_hit h WHERE s.idx = h.idx",
                )
                .await?;
            }
        }

        // 4. The rest is new.
        let inserted = tx
            .execute(
                &format!("INSERT INTO leads ({cols}) SELECT {cols} FROM pulse_import ORDER BY idx"),
                &[],
            )
            .await?;
        if let Some(id) = &journal {
            tx.execute(
                "INSERT INTO import_changes (import_id, lead_id, written_at, prior)
                 SELECT $1, id, updated_at, NULL FROM pulse_import",
                &[id],
            )
            .await?;
            tx.execute(
                "UPDATE imports SET inserted = $2, replaced = $3 WHERE id = $1",
                &[id, &(inserted as i64), &(updated as i64)],
            )
            .await?;
        }
        let skipped = tx
            .query(
                "SELECT idx, holder FROM pulse_import_skip ORDER BY idx",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, Uuid>(1)))
            .collect();
        tx.commit().await?;
        Ok(BatchOutcome {
            inserted,
            updated,
            skipped_duplicates: skipped,
            conflicts,
        })
    }

    async fn import_record(&self, id: Uuid) -> StoreResult<Option<crate::store::ImportRecord>> {
        super::imports::import_record(&self.client().await?, id).await
    }

    async fn list_imports(
        &self,
        owner: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<crate::store::ImportRecord>> {
        super::imports::list_imports(&self.client().await?, owner, limit).await
    }

    async fn undo_import(
        &self,
        id: Uuid,
        by: &str,
        job: Uuid,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<crate::store::UndoOutcome> {
        super::imports::undo_import(self, id, by, job, at).await
    }

    async fn leads_matching(
        &self,
        phones: &[String],
        ids: &[Uuid],
    ) -> StoreResult<Vec<crate::domain::Lead>> {
        if phones.is_empty() && ids.is_empty() {
            return Ok(Vec::new());
        }
        let cols = crate::store::filter::LEAD_COLUMNS;
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "SELECT {cols} FROM leads WHERE phone_number = ANY($1)
                     UNION SELECT {cols} FROM leads WHERE id = ANY($2)"
                ),
                &[&phones, &ids],
            )
            .await?;
        rows.iter().map(super::leads::lead_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    /// The COPY column list must stay in `LEAD_COLUMNS` order: the row is
    /// built by `leads::lead_values`, which follows that order.
    #[test]
    fn copy_columns_follow_lead_columns() {
        let ours: Vec<&str> = super::columns().map(|(c, _)| c).collect();
        let shared: Vec<&str> = crate::store::filter::LEAD_COLUMNS.names().collect();
        assert_eq!(ours, shared);
    }
}
