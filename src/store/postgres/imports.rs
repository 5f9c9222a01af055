//! Imports' undo records on PostgreSQL (`imports`, `import_changes`:
//! migration 0012), written by the bulk import's journal (`bulk.rs`: each
//! replaced lead's row as `to_jsonb`), undone here in one transaction with
//! the leads concerned locked, the row written back by
//! `jsonb_populate_record`.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use super::PgStore;
use crate::store::bulk::{ImportRecord, UNDO_NAMED, UndoOutcome};
use crate::store::error::StoreResult;
use crate::store::filter::LEAD_COLUMNS;

pub(super) async fn import_record<C: GenericClient>(
    client: &C,
    id: Uuid,
) -> StoreResult<Option<ImportRecord>> {
    let row = client
        .query_opt(
            "SELECT owner_id, actor, file_name, created_at, inserted, replaced, undone_at,
                    undone_by, undo_job
             FROM imports WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| ImportRecord {
        id,
        owner: r.get(0),
        actor: r.get(1),
        file_name: r.get(2),
        created_at: r.get(3),
        inserted: r.get::<_, i64>(4) as u64,
        replaced: r.get::<_, i64>(5) as u64,
        undone: r.get::<_, Option<DateTime<Utc>>>(6).map(|t| {
            (
                t,
                r.get::<_, Option<String>>(7).unwrap_or_default(),
                r.get(8),
            )
        }),
    }))
}

pub(super) async fn list_imports<C: GenericClient>(
    client: &C,
    owner: Option<Uuid>,
    limit: u32,
) -> StoreResult<Vec<ImportRecord>> {
    let rows = client
        .query(
            "SELECT id FROM imports WHERE $1::uuid IS NULL OR owner_id = $1
             ORDER BY created_at DESC, id DESC LIMIT $2",
            &[&owner, &i64::from(limit)],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.extend(import_record(client, r.get(0)).await?);
    }
    Ok(out)
}

pub(super) async fn undo_import(
    store: &PgStore,
    id: Uuid,
    by: &str,
    job: Uuid,
    at: DateTime<Utc>,
) -> StoreResult<UndoOutcome> {
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    // One undo at a time per import, on every instance.
    tx.execute("SELECT 1 FROM imports WHERE id = $1 FOR UPDATE", &[&id])
        .await?;
    let Some(rec) = import_record(&tx, id).await? else {
        return Ok(UndoOutcome::NotFound);
    };
    if let Some((when, _, done_by)) = rec.undone {
        return Ok(if done_by == Some(job) {
            UndoOutcome::Done {
                removed: rec.inserted,
                restored: rec.replaced,
            }
        } else {
            UndoOutcome::AlreadyUndone(when)
        });
    }
    // Nobody changes them between the check and the writes.
    tx.execute(
        "SELECT 1 FROM leads l JOIN import_changes c ON c.lead_id = l.id
         WHERE c.import_id = $1 ORDER BY l.id FOR UPDATE OF l",
        &[&id],
    )
    .await?;
    let changed = "FROM import_changes c LEFT JOIN leads l ON l.id = c.lead_id
                   WHERE c.import_id = $1
                     AND (l.id IS NULL OR l.updated_at IS DISTINCT FROM c.written_at)";
    let total: i64 = tx
        .query_one(&format!("SELECT count(*) {changed}"), &[&id])
        .await?
        .get(0);
    if total > 0 {
        let leads = tx
            .query(
                &format!("SELECT c.lead_id {changed} ORDER BY c.lead_id LIMIT {UNDO_NAMED}"),
                &[&id],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        return Ok(UndoOutcome::Changed {
            leads,
            total: total as u64,
        });
    }
    let removed = tx
        .execute(
            "DELETE FROM leads l USING import_changes c
             WHERE c.import_id = $1 AND c.prior IS NULL AND l.id = c.lead_id",
            &[&id],
        )
        .await?;
    let sets: Vec<String> = LEAD_COLUMNS
        .names()
        .skip(1)
        .map(|c| format!("{c} = p.{c}"))
        .collect();
    let restored = tx
        .execute(
            &format!(
                "UPDATE leads l SET {}
                 FROM import_changes c, jsonb_populate_record(NULL::leads, c.prior) p
                 WHERE c.import_id = $1 AND c.prior IS NOT NULL AND l.id = c.lead_id",
                sets.join(", ")
            ),
            &[&id],
        )
        .await?;
    tx.execute("DELETE FROM import_changes WHERE import_id = $1", &[&id])
        .await?;
    tx.execute(
        "UPDATE imports SET undone_at = $2, undone_by = $3, undo_job = $4 WHERE id = $1",
        &[&id, &at, &by, &job],
    )
    .await?;
    tx.commit().await?;
    Ok(UndoOutcome::Done { removed, restored })
}
