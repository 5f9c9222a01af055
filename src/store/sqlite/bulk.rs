//! Bulk lead writes on SQLite: one `BEGIN IMMEDIATE` … `COMMIT` around the
//! whole stream, one prepared `INSERT … ON CONFLICT DO NOTHING` reused for
//! every row, on a dedicated connection running on a blocking thread.

use std::collections::HashSet;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Statement, TransactionBehavior, params};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{SqliteStore, to_ms};
use crate::domain::Lead;
use crate::store::{BatchOutcome, BulkBatch, BulkStore, DuplicatePolicy, StoreError, StoreResult};

/// The leads columns in the order `bind` passes them (`id` is `?1`).
const COLUMNS: [&str; 34] = [
    "id",
    "name",
    "phone_number",
    "email",
    "vehicle",
    "driving_license",
    "experience",
    "interested_ev",
    "monthly_salary",
    "residing_chennai",
    "current_location",
    "preferred_shift",
    "allotted_shift",
    "default_vehicle",
    "end_date",
    "dl_no",
    "badge_no",
    "aadhar_card",
    "pan_card",
    "gas_bill",
    "bank_passbook",
    "stage",
    "status",
    "assigned_telecaller",
    "assigned_date",
    "callback_date",
    "last_called",
    "source",
    "import_date",
    "remarks",
    "remarks_history",
    "status_history",
    "created_at",
    "updated_at",
];

/// Page cache of the bulk connection, in KiB (negative = KiB for SQLite).
/// With the default 2 MiB cache the seven secondary indexes of 1M leads
/// thrash: random phone and UUID keys touch a new page per row.
const BULK_CACHE_KIB: i64 = 262_144;

/// Below this many stored leads a bulk session rebuilds the secondary
/// indexes instead of maintaining them row by row (see
/// `drop_secondary_indexes`); rebuilding them over 50k rows takes ~0.1 s.
const REBUILD_INDEXES_BELOW: i64 = 50_000;

fn insert_sql() -> String {
    let marks: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO leads ({}) VALUES ({}) ON CONFLICT DO NOTHING",
        COLUMNS.join(", "),
        marks.join(", ")
    )
}

fn update_sql() -> String {
    let sets: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect();
    format!("UPDATE leads SET {} WHERE id = ?1", sets.join(", "))
}

/// Runs `stmt` (insert or update) with the lead's values; `id` goes to `?1`.
fn bind(stmt: &mut Statement<'_>, id: &str, l: &Lead) -> StoreResult<usize> {
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string());
    let json = |v: serde_json::Result<String>| v.map_err(|e| StoreError::Backend(e.to_string()));
    let remarks_history = json(serde_json::to_string(&l.remarks_history))?;
    let status_history = json(serde_json::to_string(&l.status_history))?;
    Ok(stmt.execute(params![
        id,
        l.name,
        l.phone_number,
        l.email,
        l.vehicle,
        l.driving_license,
        l.experience,
        l.interested_ev,
        l.monthly_salary,
        l.residing_chennai,
        l.current_location,
        l.preferred_shift,
        l.allotted_shift,
        l.default_vehicle,
        day(l.end_date),
        l.dl_no,
        l.badge_no,
        l.aadhar_card,
        l.pan_card,
        l.gas_bill,
        l.bank_passbook,
        l.stage.code(),
        l.status,
        l.assigned_telecaller,
        day(l.assigned_date),
        day(l.callback_date),
        l.last_called.map(to_ms),
        l.source,
        day(l.import_date),
        l.remarks,
        remarks_history,
        status_history,
        to_ms(l.created_at),
        to_ms(l.updated_at),
    ])?)
}

#[async_trait]
impl BulkStore for SqliteStore {
    async fn bulk_import(
        &self,
        mut batches: mpsc::Receiver<BulkBatch>,
        on_duplicate: DuplicatePolicy,
    ) -> StoreResult<BatchOutcome> {
        // A dedicated connection: a 1M-row import holds it for ~10 s and
        // must not starve the pool the HTTP handlers use.
        let conn = self.pool().dedicated()?;
        tokio::task::spawn_blocking(move || session(conn, &mut batches, on_duplicate))
            .await
            .map_err(|e| StoreError::Backend(format!("bulk import thread failed: {e}")))?
    }
}

/// The whole stream in one transaction; dropping `tx` on any early return
/// rolls it back.
fn session(
    mut conn: Connection,
    batches: &mut mpsc::Receiver<BulkBatch>,
    on_duplicate: DuplicatePolicy,
) -> StoreResult<BatchOutcome> {
    let started = std::time::Instant::now();
    // `threads`: CREATE INDEX may sort on a second core.
    conn.execute_batch(&format!(
        "PRAGMA cache_size = -{BULK_CACHE_KIB}; PRAGMA threads = 2;"
    ))?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let rebuild = drop_secondary_indexes(&tx)?;
    let mut out = BatchOutcome::default();
    {
        let mut insert = tx.prepare(&insert_sql())?;
        let mut update = tx.prepare(&update_sql())?;
        let mut by_phone = tx.prepare("SELECT id FROM leads WHERE phone_number = ?1")?;
        let mut by_id = tx.prepare("SELECT id FROM leads WHERE id = ?1")?;
        // Ids written by this stream, so that a later lead of the same
        // stream never replaces an earlier one (only kept for Replace).
        let mut ours: HashSet<String> = HashSet::new();
        let mut index = 0u64;
        let mut id_buf = Uuid::encode_buffer();
        let committed = loop {
            let leads = match batches.blocking_recv() {
                Some(BulkBatch::Leads(leads)) => leads,
                Some(BulkBatch::Commit) => break true,
                None => break false,
            };
            for lead in &leads {
                let id: &str = lead.id.hyphenated().encode_lower(&mut id_buf);
                if bind(&mut insert, id, lead)? == 1 {
                    out.inserted += 1;
                    if on_duplicate == DuplicatePolicy::Replace {
                        ours.insert(id.to_owned());
                    }
                } else {
                    // Rare path: the phone or the id is taken.
                    let holder: String = match by_phone
                        .query_row([&lead.phone_number], |r| r.get(0))
                        .optional()?
                    {
                        Some(h) => h,
                        None => by_id.query_row([id], |r| r.get(0))?,
                    };
                    if on_duplicate == DuplicatePolicy::Replace && !ours.contains(&holder) {
                        bind(&mut update, &holder, lead)?;
                        out.updated += 1;
                        ours.insert(holder);
                    } else {
                        let holder = holder
                            .parse()
                            .map_err(|e| StoreError::Backend(format!("stored lead id: {e}")))?;
                        out.skipped_duplicates.push((index, holder));
                    }
                }
                index += 1;
            }
        };
        if !committed {
            return Err(StoreError::Backend(
                "bulk import ended without commit: rolled back, nothing written".into(),
            ));
        }
    }
    let streamed = started.elapsed();
    let rebuilt = rebuild.len();
    for sql in rebuild {
        tx.execute_batch(&sql)?;
    }
    let indexed = started.elapsed();
    tx.commit()?;
    tracing::info!(
        inserted = out.inserted,
        updated = out.updated,
        skipped = out.skipped_duplicates.len(),
        rebuild_statements = rebuilt,
        stream_ms = streamed.as_millis() as u64,
        index_ms = (indexed - streamed).as_millis() as u64,
        commit_ms = (started.elapsed() - indexed).as_millis() as u64,
        "sqlite bulk session committed"
    );
    Ok(out)
}

/// On a (nearly) empty table, drops the non-unique indexes of `leads`
/// inside the transaction and returns their `CREATE` statements, to be run
/// again before the commit. Measured on 1M demo leads (2 cores): keeping
/// the six `(column, last_called, id)` indexes while inserting took 117 s
/// (random keys; the indexes outgrow any sane page cache and every row
/// touches six cold pages); building them afterwards by sorting takes a few
/// seconds. Unique indexes stay: duplicate detection relies on them.
fn drop_secondary_indexes(tx: &rusqlite::Transaction<'_>) -> StoreResult<Vec<String>> {
    let small: bool = tx.query_row(
        "SELECT count(*) < ?1 FROM (SELECT 1 FROM leads LIMIT ?1)",
        [REBUILD_INDEXES_BELOW],
        |r| r.get(0),
    )?;
    if !small {
        return Ok(Vec::new());
    }
    let mut stmt = tx.prepare(
        "SELECT name, sql FROM sqlite_master
         WHERE type = 'index' AND tbl_name = 'leads' AND sql IS NOT NULL
           AND sql NOT LIKE 'CREATE UNIQUE%'",
    )?;
    let indexes: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
    }
    let mut redo: Vec<String> = indexes.into_iter().map(|(_, sql)| sql).collect();
    // The per-row insert triggers of migration 0003 (FTS5 trigram name
    // index, status counters) cost more than all indexes together: 1M
    // gen_leads lines streamed in 87 s with them, 36 s without. On a
    // (nearly) empty table, rebuilding both in bulk afterwards is far
    // cheaper. Only triggers named here are suspended; any other stays.
    for (trigger, covers, rebuild) in DERIVED {
        let sql: Option<String> = tx
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                [trigger],
                |r| r.get(0),
            )
            .optional()?;
        // Suspend only a trigger whose every written table the rebuild
        // covers: if a later migration makes it write elsewhere, it keeps
        // running (slow but right).
        if let Some(sql) = sql.filter(|sql| written_tables(sql).all(|t| covers.contains(&t))) {
            tx.execute_batch(&format!("DROP TRIGGER {trigger}"))?;
            redo.push(rebuild.to_string());
            redo.push(sql);
        }
    }
    Ok(redo)
}

/// The tables a trigger body writes (`INSERT INTO t`, `UPDATE t`).
fn written_tables(sql: &str) -> impl Iterator<Item = &str> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| words[j].to_ascii_uppercase());
        let target = match (w.to_ascii_uppercase().as_str(), words.get(i + 1)) {
            ("INTO", Some(t)) => Some(*t),
            // not `ON CONFLICT DO UPDATE SET` nor `AFTER UPDATE OF`
            ("UPDATE", Some(t))
                if !matches!(before.as_deref(), Some("DO" | "AFTER" | "BEFORE")) =>
            {
                Some(*t)
            }
            _ => None,
        };
        if let Some(t) = target {
            let name = t.split('(').next().unwrap_or(t);
            out.push(name.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_')));
        }
    }
    out.into_iter()
}

/// Insert triggers on `leads` that maintain derived data, the tables they
/// may write, and the statements that rebuild those tables from scratch
/// (as migration 0003 fills them).
const DERIVED: [(&str, &[&str], &str); 2] = [
    (
        "leads_fts_insert",
        &["leads_name_fts"],
        "INSERT INTO leads_name_fts (leads_name_fts) VALUES ('rebuild')",
    ),
    (
        "leads_count_insert",
        &["lead_counts", "lead_status_counts"],
        "DELETE FROM lead_counts;
         INSERT INTO lead_counts
             SELECT coalesce(source, ''), coalesce(import_date, ''),
                    lower(coalesce(assigned_telecaller, '')), stage, status, count(*)
             FROM leads GROUP BY 1, 2, 3, 4, 5;
         DELETE FROM lead_status_counts;
         INSERT INTO lead_status_counts
             SELECT stage, status, count(*) FROM leads GROUP BY 1, 2;",
    ),
];

#[cfg(test)]
mod tests {
    use super::written_tables;

    #[test]
    fn finds_the_tables_a_trigger_writes() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON leads BEGIN
            INSERT INTO lead_counts VALUES (1) ON CONFLICT DO UPDATE SET n = n + 1;
            UPDATE \"other\" SET n = 0; INSERT INTO leads_name_fts(rowid) VALUES (1); END";
        let got: Vec<_> = written_tables(sql).collect();
        assert_eq!(got, ["lead_counts", "other", "leads_name_fts"]);
    }
}
