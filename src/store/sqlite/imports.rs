//! Imports' undo records on SQLite (`imports`, `import_changes`: migration
//! 0012), written by the bulk session's journal (`bulk.rs`), read and
//! undone here in one IMMEDIATE transaction.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{SqliteStore, from_ms, to_ms};
use crate::store::bulk::{ImportRecord, UNDO_NAMED, UndoOutcome};
use crate::store::error::{StoreError, StoreResult};
use crate::store::filter::LEAD_COLUMNS;

fn uuid(s: String) -> StoreResult<Uuid> {
    s.parse()
        .map_err(|e| StoreError::Backend(format!("stored id {s:?}: {e}")))
}

fn record(conn: &rusqlite::Connection, id: Uuid) -> StoreResult<Option<ImportRecord>> {
    type Row = (
        Option<String>,
        String,
        String,
        i64,
        i64,
        i64,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let row: Option<Row> = conn
        .query_row(
            "SELECT owner_id, actor, file_name, created_at, inserted, replaced, undone_at,
                    undone_by, undo_job
             FROM imports WHERE id = ?1",
            [id.to_string()],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            },
        )
        .optional()?;
    let Some((owner, actor, file_name, at, inserted, replaced, undone_at, by, job)) = row else {
        return Ok(None);
    };
    Ok(Some(ImportRecord {
        id,
        owner: owner.map(uuid).transpose()?,
        actor,
        file_name,
        created_at: from_ms(at),
        inserted: inserted as u64,
        replaced: replaced as u64,
        undone: match undone_at {
            Some(t) => Some((
                from_ms(t),
                by.unwrap_or_default(),
                job.map(uuid).transpose()?,
            )),
            None => None,
        },
    }))
}

impl SqliteStore {
    pub(super) async fn sqlite_list_imports(
        &self,
        owner: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<ImportRecord>> {
        self.pool()
            .run(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT id FROM imports WHERE ?1 IS NULL OR owner_id = ?1
                     ORDER BY created_at DESC, id DESC LIMIT ?2",
                )?;
                let ids = stmt
                    .query_map(params![owner.map(|o| o.to_string()), limit], |r| {
                        r.get::<_, String>(0)
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    out.extend(record(conn, uuid(id)?)?);
                }
                Ok(out)
            })
            .await
    }

    pub(super) async fn sqlite_import_record(&self, id: Uuid) -> StoreResult<Option<ImportRecord>> {
        self.pool().run(move |conn| record(conn, id)).await
    }

    pub(super) async fn sqlite_undo_import(
        &self,
        id: Uuid,
        by: &str,
        job: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<UndoOutcome> {
        let by = by.to_owned();
        self.pool()
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let Some(rec) = record(&tx, id)? else {
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
                let key = id.to_string();
                // Changed since: another version, or gone.
                let changed = "FROM import_changes c LEFT JOIN leads l ON l.id = c.lead_id
                               WHERE c.import_id = ?1
                                 AND (l.id IS NULL OR l.updated_at IS NOT c.written_at)";
                let total: i64 =
                    tx.query_row(&format!("SELECT count(*) {changed}"), [&key], |r| r.get(0))?;
                if total > 0 {
                    let mut stmt = tx.prepare(&format!(
                        "SELECT c.lead_id {changed} ORDER BY c.lead_id LIMIT {UNDO_NAMED}"
                    ))?;
                    let leads = stmt
                        .query_map([&key], |r| r.get::<_, String>(0))?
                        .map(|r| r.map_err(StoreError::from).and_then(uuid))
                        .collect::<StoreResult<Vec<_>>>()?;
                    return Ok(UndoOutcome::Changed {
                        leads,
                        total: total as u64,
                    });
                }
                let removed = tx.execute(
                    "DELETE FROM leads WHERE id IN
                     (SELECT lead_id FROM import_changes WHERE import_id = ?1 AND prior IS NULL)",
                    [&key],
                )?;
                let sets: Vec<String> = LEAD_COLUMNS
                    .names()
                    .skip(1)
                    .map(|c| format!("{c} = json_extract(c.prior, '$.{c}')"))
                    .collect();
                let restored = tx.execute(
                    &format!(
                        "UPDATE leads SET {} FROM import_changes c
                         WHERE c.import_id = ?1 AND c.prior IS NOT NULL AND leads.id = c.lead_id",
                        sets.join(", ")
                    ),
                    [&key],
                )?;
                tx.execute("DELETE FROM import_changes WHERE import_id = ?1", [&key])?;
                tx.execute(
                    "UPDATE imports SET undone_at = ?2, undone_by = ?3, undo_job = ?4 WHERE id = ?1",
                    params![key, to_ms(at), by, job.to_string()],
                )?;
                tx.commit()?;
                Ok(UndoOutcome::Done {
                    removed: removed as u64,
                    restored: restored as u64,
                })
            })
            .await
    }
}
