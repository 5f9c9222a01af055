//! Bulk lead writes on SQLite: one `BEGIN IMMEDIATE` … `COMMIT` around the
//! whole stream, one prepared `INSERT … ON CONFLICT DO NOTHING` reused for
//! every row, on a dedicated connection running on a blocking thread.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{
    Connection, OptionalExtension, Statement, TransactionBehavior, params, params_from_iter,
};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{SqliteStore, to_ms};
use crate::domain::lead_fields::{FIELD_COUNT, index_of};
use crate::domain::{FIELDS, FieldRef, Lead};
use crate::store::bulk::{BatchOutcome, BulkBatch, BulkStore, DuplicatePolicy};
use crate::store::error::{StoreError, StoreResult};
use crate::store::filter::{LEAD_COLUMN_COUNT, LEAD_COLUMNS};

/// The leads columns in the order `bind` passes them (`id` is `?1`): the
/// one list of `store::filter::LEAD_COLUMNS`.
fn columns() -> impl Iterator<Item = &'static str> {
    LEAD_COLUMNS.names()
}

/// Page cache of the bulk connection while rows stream in, in KiB
/// (negative = KiB for SQLite). The only index kept up row by row is the
/// primary key (random UUIDs, ~48 MB for 1M leads); the table itself is
/// appended to. Pages the cache cannot hold spill to the WAL and come back
/// from the OS page cache: 1M leads stream in as fast with 4 or 16 MiB as
/// with 64 MiB (sqlite3 shell, `INSERT … SELECT` of 1M leads: 2.4–2.6 s
/// each), and peak RSS is ~50 MB lower.
const BULK_CACHE_KIB: i64 = 16_384;

/// Page cache while the dropped indexes are rebuilt: CREATE INDEX sorts
/// in PMA chunks of the cache's size, and small chunks sort faster (they
/// stay in the CPU caches).
const INDEX_CACHE_KIB: i64 = 2_000;

/// Where a bulk session's CREATE INDEX keeps its sorted runs. The pool's
/// connections keep temporary data in memory (small sorts of list
/// queries); for an index over 1M leads that means an in-memory journal
/// grown chunk by chunk: 3.3 s and 130 MB peak RSS per index, against
/// 1.2 s and 12 MB with runs in temporary files (unlinked at once, so
/// nothing is left behind; the OS page cache holds them).
const BULK_TEMP_STORE: &str = "FILE";

/// Below this many stored leads a bulk session rebuilds the secondary
/// indexes instead of maintaining them row by row (see
/// `drop_secondary_indexes`); rebuilding them over 50k rows takes ~0.1 s.
const REBUILD_INDEXES_BELOW: i64 = 50_000;

fn insert_sql() -> String {
    let marks: Vec<String> = (1..=LEAD_COLUMN_COUNT).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO leads ({LEAD_COLUMNS}) VALUES ({}) ON CONFLICT DO NOTHING",
        marks.join(", ")
    )
}

fn update_sql() -> String {
    let sets: Vec<String> = columns()
        .enumerate()
        .skip(1)
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect();
    format!("UPDATE leads SET {} WHERE id = ?1", sets.join(", "))
}

/// A lead with the column values that take formatting (histories as JSON,
/// dates as text, its counter key), made on the preparing thread so that
/// the SQLite thread — the bottleneck of a bulk session — only binds.
struct Prepared {
    lead: Lead,
    remarks_history: String,
    status_history: String,
    /// `YYYY-MM-DD` of each date field, at its position in [`FIELDS`].
    days: [Option<String>; FIELD_COUNT],
    /// See [`Counters`].
    count_key: String,
}

/// `YYYY-MM-DD`, as `NaiveDate`'s `Display` writes it, without `fmt`.
fn ymd(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let (y, m, dd) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&y) {
        return d.to_string();
    }
    let y = y as u32;
    let digits = [
        y / 1000,
        y / 100 % 10,
        y / 10 % 10,
        y % 10,
        10,
        m / 10,
        m % 10,
        10,
        dd / 10,
        dd % 10,
    ];
    digits
        .iter()
        .map(|&c| {
            if c == 10 {
                '-'
            } else {
                char::from(b'0' + c as u8)
            }
        })
        .collect()
}

fn prepare(lead: Lead) -> StoreResult<Prepared> {
    let json = |v: serde_json::Result<String>| v.map_err(|e| StoreError::Backend(e.to_string()));
    let days: [Option<String>; FIELD_COUNT] =
        std::array::from_fn(|i| match lead.field(&FIELDS[i]) {
            FieldRef::Date(d) => d.map(ymd),
            _ => None,
        });
    // source, import_date, lower(telecaller), stage, status joined by NUL
    // (validated leads hold no NUL); SQLite's lower() folds ASCII only.
    let mut count_key = String::with_capacity(96);
    count_key.push_str(lead.source.as_deref().unwrap_or(""));
    count_key.push('\0');
    count_key.push_str(
        days[const { index_of("import_date") }]
            .as_deref()
            .unwrap_or(""),
    );
    count_key.push('\0');
    let from = count_key.len();
    count_key.push_str(lead.assigned_telecaller.as_deref().unwrap_or(""));
    count_key[from..].make_ascii_lowercase();
    count_key.push('\0');
    count_key.push_str(lead.stage.code());
    count_key.push('\0');
    count_key.push_str(&lead.status);
    Ok(Prepared {
        remarks_history: json(serde_json::to_string(&lead.remarks_history))?,
        status_history: json(serde_json::to_string(&lead.status_history))?,
        days,
        count_key,
        lead,
    })
}

/// Runs `stmt` (insert or update) with the lead's values, each by its
/// field's type; `id` goes to `?1`.
fn bind(stmt: &mut Statement<'_>, id: &str, p: &Prepared) -> StoreResult<usize> {
    fn text(t: &str) -> ToSqlOutput<'_> {
        ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes()))
    }
    fn opt(t: Option<&str>) -> ToSqlOutput<'_> {
        t.map_or(ToSqlOutput::Borrowed(ValueRef::Null), text)
    }
    fn ms(t: Option<DateTime<Utc>>) -> ToSqlOutput<'static> {
        t.map_or(ToSqlOutput::Borrowed(ValueRef::Null), |t| {
            ToSqlOutput::Owned(Value::Integer(to_ms(t)))
        })
    }
    let values = FIELDS
        .iter()
        .enumerate()
        .map(|(i, f)| match p.lead.field(f) {
            FieldRef::Uuid(_) => text(id),
            FieldRef::RequiredText(v) => text(v),
            FieldRef::Text(v) => opt(v.as_deref()),
            FieldRef::Date(_) => opt(p.days[i].as_deref()),
            FieldRef::Instant(v) => ms(*v),
            FieldRef::RequiredInstant(v) => ms(Some(*v)),
            FieldRef::Stage(v) => text(v.code()),
            FieldRef::RemarkLog(_) => text(&p.remarks_history),
            FieldRef::StatusLog(_) => text(&p.status_history),
        });
    Ok(stmt.execute(params_from_iter(values))?)
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

    async fn import_record(&self, id: Uuid) -> StoreResult<Option<crate::store::ImportRecord>> {
        self.sqlite_import_record(id).await
    }

    async fn list_imports(
        &self,
        owner: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<crate::store::ImportRecord>> {
        self.sqlite_list_imports(owner, limit).await
    }

    async fn undo_import(
        &self,
        id: Uuid,
        by: &str,
        job: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<crate::store::UndoOutcome> {
        self.sqlite_undo_import(id, by, job, at).await
    }

    async fn leads_matching(&self, phones: &[String], ids: &[Uuid]) -> StoreResult<Vec<Lead>> {
        if phones.is_empty() && ids.is_empty() {
            return Ok(Vec::new());
        }
        // JSON arrays as two parameters: no statement per batch size, and
        // SQLite's bound-parameter limit never comes into it.
        let phones =
            serde_json::to_string(phones).map_err(|e| StoreError::Backend(e.to_string()))?;
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.pool()
            .run(move |conn| {
                let sql = format!(
                    "SELECT {LEAD_COLUMNS} FROM leads WHERE phone_number IN (SELECT value FROM json_each(?1))
                     UNION SELECT {LEAD_COLUMNS} FROM leads WHERE id IN (SELECT value FROM json_each(?2))"
                );
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt.query_map(params![phones, ids], super::leads::lead_from_row)?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
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
        "PRAGMA cache_size = -{BULK_CACHE_KIB}; PRAGMA threads = 2;
         PRAGMA temp_store = {BULK_TEMP_STORE};"
    ))?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Rows past this one are this stream's (no AUTOINCREMENT: new rowids
    // are past the largest): the inserted leads of an import's journal.
    let max_rowid: i64 = tx.query_row("SELECT COALESCE(MAX(rowid), 0) FROM leads", [], |r| {
        r.get(0)
    })?;
    // The import id of the journal, once `BulkBatch::Journal` arrived.
    let mut journal: Option<String> = None;
    let plan = drop_secondary_indexes(&tx)?;
    let mut out = BatchOutcome::default();
    let mut counts = Counters::default();
    {
        let mut insert = tx.prepare(&insert_sql())?;
        let mut update = tx.prepare(&update_sql())?;
        let mut by_phone = tx.prepare("SELECT id FROM leads WHERE phone_number = ?1")?;
        let mut by_id = tx.prepare("SELECT id FROM leads WHERE id = ?1")?;
        let mut row_by_id =
            tx.prepare("SELECT rowid, id, phone_number FROM leads WHERE id = ?1")?;
        let mut id_by_row = tx.prepare("SELECT id FROM leads WHERE rowid = ?1")?;
        let parse_id = |s: String| -> StoreResult<Uuid> {
            s.parse()
                .map_err(|e| StoreError::Backend(format!("stored lead id: {e}")))
        };
        // Ids written by this stream, so that a later lead of the same
        // stream never replaces an earlier one (only kept for Replace).
        let mut ours: HashSet<String> = HashSet::new();
        // Rows replaced by this stream (in-memory phone mode).
        let mut replaced: HashSet<i64> = HashSet::new();
        let mut phones = plan.phones;
        let mut index = 0u64;
        let mut id_buf = Uuid::encode_buffer();
        // The preparing thread formats each batch (histories to JSON,
        // dates) while this one inserts the previous, and drops the
        // batches this one is done with (freeing 1M leads costs ~1 s).
        let (ready_tx, ready) = std::sync::mpsc::sync_channel::<Ready>(2);
        // Stored id → the version (`updated_at`, ms) the importer merged
        // from ([`BulkBatch::Versions`]).
        let mut expect: std::collections::HashMap<String, i64> = Default::default();
        let mut version = tx.prepare("SELECT updated_at FROM leads WHERE id = ?1")?;
        let mut prior = tx.prepare(&prior_sql())?;
        let (done, done_rx) = std::sync::mpsc::channel::<Vec<Prepared>>();
        let committed = std::thread::scope(|scope| -> StoreResult<bool> {
            // Owned by this closure, so that it is dropped as soon as this
            // thread stops (an error, a panic): the preparing thread then
            // fails to send and ends, instead of blocking the scope's join.
            let ready = ready;
            scope.spawn(move || {
                loop {
                    let msg = match batches.blocking_recv() {
                        Some(BulkBatch::Leads(leads)) => Ready::Batch(
                            leads
                                .into_iter()
                                .map(prepare)
                                .collect::<StoreResult<Vec<_>>>(),
                        ),
                        Some(BulkBatch::Versions(v)) => Ready::Versions(v),
                        Some(BulkBatch::Journal(j)) => Ready::Journal(j),
                        Some(BulkBatch::Commit) => Ready::Commit,
                        None => return, // not committed: the SQLite thread sees the hang-up
                    };
                    while let Ok(old) = done_rx.try_recv() {
                        drop(old);
                    }
                    let last = matches!(msg, Ready::Commit);
                    if ready_tx.send(msg).is_err() || last {
                        return;
                    }
                }
            });
            loop {
                let batch = match ready.recv() {
                    Ok(Ready::Batch(batch)) => batch?,
                    Ok(Ready::Versions(v)) => {
                        for (id, at) in v {
                            expect.insert(id.to_string(), to_ms(at));
                        }
                        continue;
                    }
                    Ok(Ready::Journal(j)) => {
                        tx.execute(
                            "INSERT INTO imports (id, owner_id, actor, file_name, created_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![
                                j.id.to_string(),
                                j.owner.map(|o| o.to_string()),
                                j.actor,
                                j.file_name,
                                to_ms(j.at)
                            ],
                        )?;
                        journal = Some(j.id.to_string());
                        continue;
                    }
                    Ok(Ready::Commit) => break Ok(true),
                    Err(_) => break Ok(false),
                };
                for p in &batch {
                    let lead = &p.lead;
                    let id: &str = lead.id.hyphenated().encode_lower(&mut id_buf);
                    if let Some(phones) = phones.as_mut() {
                        // The unique phone index was dropped: duplicates are
                        // found in `phones` (every stored phone → rowid).
                        let ours_row = |row: i64, replaced: &HashSet<i64>| {
                            row > phones.max_before || replaced.contains(&row)
                        };
                        if let Some(holder_row) = phones.get(&lead.phone_number) {
                            if on_duplicate == DuplicatePolicy::Replace
                                && !ours_row(holder_row, &replaced)
                            {
                                let holder: String =
                                    id_by_row.query_row([holder_row], |r| r.get(0))?;
                                if still_at(&mut version, &expect, &holder)? {
                                    record_prior(&mut prior, &journal, &holder, p)?;
                                    bind(&mut update, &holder, p)?;
                                    out.updated += 1;
                                    replaced.insert(holder_row);
                                } else {
                                    out.conflicts.push((index, parse_id(holder)?));
                                }
                            } else {
                                let holder: String =
                                    id_by_row.query_row([holder_row], |r| r.get(0))?;
                                out.skipped_duplicates.push((index, parse_id(holder)?));
                            }
                        } else if bind(&mut insert, id, p)? == 1 {
                            phones.insert(&lead.phone_number, tx.last_insert_rowid());
                            out.inserted += 1;
                            if plan.counters {
                                counts.add(&p.count_key);
                            }
                        } else {
                            // The id is taken (the phone is free).
                            let (holder_row, holder, old_phone): (i64, String, String) = row_by_id
                                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                            if on_duplicate == DuplicatePolicy::Replace
                                && !ours_row(holder_row, &replaced)
                            {
                                if still_at(&mut version, &expect, &holder)? {
                                    record_prior(&mut prior, &journal, &holder, p)?;
                                    bind(&mut update, &holder, p)?;
                                    out.updated += 1;
                                    replaced.insert(holder_row);
                                    phones.remove(&old_phone);
                                    phones.insert(&lead.phone_number, holder_row);
                                } else {
                                    out.conflicts.push((index, parse_id(holder)?));
                                }
                            } else {
                                out.skipped_duplicates.push((index, parse_id(holder)?));
                            }
                        }
                        index += 1;
                        continue;
                    }
                    if bind(&mut insert, id, p)? == 1 {
                        out.inserted += 1;
                        if plan.counters {
                            counts.add(&p.count_key);
                        }
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
                            if still_at(&mut version, &expect, &holder)? {
                                record_prior(&mut prior, &journal, &holder, p)?;
                                bind(&mut update, &holder, p)?;
                                out.updated += 1;
                                ours.insert(holder);
                            } else {
                                out.conflicts.push((index, parse_id(holder)?));
                            }
                        } else {
                            out.skipped_duplicates.push((index, parse_id(holder)?));
                        }
                    }
                    index += 1;
                }
                done.send(batch).ok();
            }
        })?;
        if !committed {
            return Err(StoreError::Backend(
                "bulk import ended without commit: rolled back, nothing written".into(),
            ));
        }
    }
    if let Some(id) = &journal {
        tx.execute(
            "INSERT INTO import_changes (import_id, lead_id, written_at, prior)
             SELECT ?1, id, updated_at, NULL FROM leads WHERE rowid > ?2",
            params![id, max_rowid],
        )?;
        tx.execute(
            "UPDATE imports SET inserted = ?2, replaced = ?3 WHERE id = ?1",
            params![id, out.inserted as i64, out.updated as i64],
        )?;
    }
    let streamed = started.elapsed();
    // Sorting for CREATE INDEX is faster with a small page cache (its
    // merges stay in the CPU caches).
    tx.execute_batch(&format!("PRAGMA cache_size = -{INDEX_CACHE_KIB};"))?;
    if plan.counters {
        counts.write(&tx)?;
    }
    let counted = started.elapsed();
    let rebuilt = plan.redo.len();
    let mut steps = Vec::new();
    for sql in plan.redo {
        let t = std::time::Instant::now();
        tx.execute_batch(&sql)?;
        steps.push(format!(
            "{}:{}",
            sql.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
            t.elapsed().as_millis()
        ));
    }
    let indexed = started.elapsed();
    tx.commit()?;
    tracing::info!(
        inserted = out.inserted,
        updated = out.updated,
        skipped = out.skipped_duplicates.len(),
        rebuild_statements = rebuilt,
        stream_ms = streamed.as_millis() as u64,
        counters_ms = (counted - streamed).as_millis() as u64,
        index_ms = (indexed - counted).as_millis() as u64,
        commit_ms = (started.elapsed() - indexed).as_millis() as u64,
        steps = steps.join(" "),
        "sqlite bulk session committed"
    );
    Ok(out)
}

/// What the preparing thread hands the SQLite thread, in stream order.
enum Ready {
    Batch(StoreResult<Vec<Prepared>>),
    Versions(Vec<(Uuid, chrono::DateTime<chrono::Utc>)>),
    Journal(crate::store::ImportJournal),
    Commit,
}

/// The lead `?3` as a JSON object of its columns (`LEAD_COLUMNS`), into the
/// journal of import `?1` with the version the import writes (`?2`).
/// `json_extract` gives each value back with its SQLite type (text,
/// integer, NULL), which is what an undo writes back.
fn prior_sql() -> String {
    let pairs: Vec<String> = columns().map(|c| format!("'{c}', {c}")).collect();
    format!(
        "INSERT INTO import_changes (import_id, lead_id, written_at, prior)
         SELECT ?1, id, ?2, json_object({}) FROM leads WHERE id = ?3",
        pairs.join(", ")
    )
}

/// Journals the stored lead `holder` before `p` replaces it.
fn record_prior(
    stmt: &mut Statement<'_>,
    journal: &Option<String>,
    holder: &str,
    p: &Prepared,
) -> StoreResult<()> {
    if let Some(id) = journal {
        stmt.execute(params![id, to_ms(p.lead.updated_at), holder])?;
    }
    Ok(())
}

/// Whether the stored lead `holder` may be replaced: it is still at the
/// version the importer merged from (when it gave one). Inside the
/// session's write transaction nobody else can change it between this
/// check and the update.
fn still_at(
    version: &mut Statement<'_>,
    expect: &std::collections::HashMap<String, i64>,
    holder: &str,
) -> StoreResult<bool> {
    match expect.get(holder) {
        Some(v) => Ok(version
            .query_row([holder], |r| r.get::<_, i64>(0))
            .optional()?
            == Some(*v)),
        None => Ok(true),
    }
}

/// Every phone stored in `leads` → its rowid, while the unique phone index
/// is dropped (a bulk session into a nearly empty table). A normalised
/// phone (10 digits) and its rowid are packed into one `u64` (phone in the
/// high 34 bits, rowid in the low 30) in a set that hashes and compares the
/// phone only: 8 bytes a lead, so 1M take ~18 MB (a `HashMap<u64, i64>`
/// took ~36 MB, and ~54 MB while it grew past 917k entries: the peak of a
/// 1M-row import). Anything else goes in `other`.
struct Phones {
    packed: std::collections::HashSet<PhoneRow>,
    other: std::collections::HashMap<String, i64>,
    /// The largest rowid before the session: larger ones are this stream's.
    max_before: i64,
}

/// A phone and its rowid in one word; equal and hashed by the phone alone.
#[derive(Clone, Copy, Debug)]
struct PhoneRow(u64);

const ROW_BITS: u32 = 30;

impl PhoneRow {
    fn phone(self) -> u64 {
        self.0 >> ROW_BITS
    }
    fn row(self) -> i64 {
        (self.0 & ((1 << ROW_BITS) - 1)) as i64
    }
}

impl PartialEq for PhoneRow {
    fn eq(&self, other: &Self) -> bool {
        self.phone() == other.phone()
    }
}

impl Eq for PhoneRow {}

impl std::hash::Hash for PhoneRow {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.phone().hash(h);
    }
}

impl Phones {
    /// The phone as a number when it and `row` fit the packed form.
    fn key(phone: &str) -> Option<u64> {
        let b = phone.as_bytes();
        if b.is_empty() || b.len() > 10 || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        phone.parse().ok()
    }

    fn pack(phone: u64, row: i64) -> Option<PhoneRow> {
        (0..1 << ROW_BITS)
            .contains(&row)
            .then_some(PhoneRow(phone << ROW_BITS | row as u64))
    }

    fn get(&self, phone: &str) -> Option<i64> {
        if let Some(k) = Self::key(phone)
            && let Some(found) = self.packed.get(&PhoneRow(k << ROW_BITS))
        {
            return Some(found.row());
        }
        self.other.get(phone).copied()
    }

    fn insert(&mut self, phone: &str, row: i64) {
        match Self::key(phone) {
            Some(k) => match Self::pack(k, row) {
                // `replace`: an equal (same phone) entry gets the new row.
                Some(p) => {
                    self.packed.replace(p);
                }
                None => {
                    self.packed.remove(&PhoneRow(k << ROW_BITS));
                    self.other.insert(phone.to_owned(), row);
                }
            },
            None => {
                self.other.insert(phone.to_owned(), row);
            }
        }
    }

    fn remove(&mut self, phone: &str) {
        if let Some(k) = Self::key(phone) {
            self.packed.remove(&PhoneRow(k << ROW_BITS));
        }
        self.other.remove(phone);
    }
}

/// Counts of the leads inserted by a session, per `lead_counts` key, kept
/// while the counting trigger is suspended and added to the counter tables
/// at the end (a GROUP BY over 1M rows took 5–7 s per table).
#[derive(Default)]
struct Counters {
    /// More than [`COUNT_KEYS_AT_MOST`] keys: the map was dropped and the
    /// counter tables are recounted by GROUP BY instead.
    overflow: bool,
    /// source, import_date, lower(telecaller), stage, status joined by NUL
    /// (validated leads hold no NUL).
    n: std::collections::HashMap<String, i64>,
}

impl Counters {
    fn add(&mut self, key: &str) {
        if self.overflow {
            return;
        }
        if self.n.len() >= COUNT_KEYS_AT_MOST {
            self.overflow = true;
            self.n = Default::default();
            return;
        }
        if let Some(n) = self.n.get_mut(key) {
            *n += 1;
        } else {
            self.n.insert(key.to_owned(), 1);
        }
    }

    fn write(&self, tx: &rusqlite::Transaction<'_>) -> StoreResult<()> {
        if self.overflow {
            tx.execute_batch(RECOUNT)?;
            return Ok(());
        }
        let mut per_status: std::collections::HashMap<(&str, &str), i64> = Default::default();
        let mut add = tx.prepare(
            "INSERT INTO lead_counts VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )?;
        for (key, n) in &self.n {
            let f: Vec<&str> = key.split('\0').collect();
            add.execute(params![f[0], f[1], f[2], f[3], f[4], n])?;
            *per_status.entry((f[3], f[4])).or_default() += n;
        }
        let mut add = tx.prepare(
            "INSERT INTO lead_status_counts VALUES (?1, ?2, ?3)
             ON CONFLICT DO UPDATE SET n = n + excluded.n",
        )?;
        for ((stage, status), n) in per_status {
            add.execute(params![stage, status, n])?;
        }
        Ok(())
    }
}

/// Beyond this many distinct counter keys (~100 bytes each) the session
/// stops counting in memory and recounts with [`RECOUNT`]: gen_leads files
/// have ~7×10^4 keys per 10^6 leads, `pulse seed` ~7.6×10^5 (its import
/// dates spread wide), which would hold ~150 MB.
const COUNT_KEYS_AT_MOST: usize = 200_000;

/// Recounts both counter tables from `leads` (as migration 0003 fills them).
const RECOUNT: &str = "DELETE FROM lead_counts;
     INSERT INTO lead_counts
         SELECT coalesce(source, ''), coalesce(import_date, ''),
                lower(coalesce(assigned_telecaller, '')), stage, status, count(*)
         FROM leads GROUP BY 1, 2, 3, 4, 5;
     DELETE FROM lead_status_counts;
     INSERT INTO lead_status_counts
         SELECT stage, status, count(*) FROM leads GROUP BY 1, 2;";

/// What a bulk session suspends and redoes before its commit.
struct Plan {
    /// Statements to run after the stream (indexes, FTS, triggers).
    redo: Vec<String>,
    /// The counting trigger is suspended: count in memory.
    counters: bool,
    /// The unique phone index is suspended: find duplicates here.
    phones: Option<Phones>,
}

/// On a (nearly) empty table, drops the non-unique indexes of `leads`
/// inside the transaction and returns their `CREATE` statements, to be run
/// again before the commit. Measured on 1M demo leads (2 cores): keeping
/// the six `(column, last_called, id)` indexes while inserting took 117 s
/// (random keys; the indexes outgrow any sane page cache and every row
/// touches six cold pages); building them afterwards by sorting takes a few
/// seconds. The unique phone index is dropped too, duplicates being found
/// in memory ([`Phones`]); the primary key stays.
fn drop_secondary_indexes(tx: &rusqlite::Transaction<'_>) -> StoreResult<Plan> {
    let small: bool = tx.query_row(
        "SELECT count(*) < ?1 FROM (SELECT 1 FROM leads LIMIT ?1)",
        [REBUILD_INDEXES_BELOW],
        |r| r.get(0),
    )?;
    let mut plan = Plan {
        redo: Vec::new(),
        counters: false,
        phones: None,
    };
    if !small {
        return Ok(plan);
    }
    let mut stmt = tx.prepare(
        "SELECT name, sql FROM sqlite_master
         WHERE type = 'index' AND tbl_name = 'leads' AND sql IS NOT NULL
           AND (sql NOT LIKE 'CREATE UNIQUE%' OR name = 'leads_phone')",
    )?;
    let indexes: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (name, sql) in &indexes {
        if name == "leads_phone" {
            let plain = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            if plain != "CREATE UNIQUE INDEX leads_phone ON leads (phone_number)" {
                continue;
            }
            let mut phones = Phones {
                packed: Default::default(),
                other: Default::default(),
                max_before: tx.query_row("SELECT coalesce(max(rowid), 0) FROM leads", [], |r| {
                    r.get(0)
                })?,
            };
            let mut rows = tx.prepare("SELECT phone_number, rowid FROM leads")?;
            let mut rows = rows.query([])?;
            while let Some(r) = rows.next()? {
                phones.insert(&r.get::<_, String>(0)?, r.get(1)?);
            }
            plan.phones = Some(phones);
        }
        tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
        plan.redo.push(sql.clone());
    }
    // The per-row insert triggers of migration 0003 (FTS5 trigram name
    // index, status counters) cost more than all indexes together: 1M
    // gen_leads lines streamed in 87 s with them, 36 s without. On a
    // (nearly) empty table, rebuilding the FTS index in bulk afterwards is
    // far cheaper, and the counters are counted in memory ([`Counters`]).
    // Only triggers named here are suspended; any other stays.
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
            match rebuild {
                Some(rebuild) => plan.redo.push(rebuild.to_string()),
                None => plan.counters = true,
            }
            plan.redo.push(sql);
        }
    }
    Ok(plan)
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
/// may write, and the statement that rebuilds those tables from scratch
/// (as migration 0003 fills them); `None`: [`Counters`] adds the session's
/// counts instead.
const DERIVED: [(&str, &[&str], Option<&str>); 2] = [
    (
        "leads_fts_insert",
        &["leads_name_fts"],
        Some("INSERT INTO leads_name_fts (leads_name_fts) VALUES ('rebuild')"),
    ),
    (
        "leads_count_insert",
        &["lead_counts", "lead_status_counts"],
        None,
    ),
];

#[cfg(test)]
mod tests {
    use super::{Phones, written_tables};

    #[test]
    fn phones_keep_each_phone_once_with_its_row() {
        let mut p = Phones {
            packed: Default::default(),
            other: Default::default(),
            max_before: 0,
        };
        p.insert("9876543210", 7);
        p.insert("+91 98765", 8); // not packed
        p.insert("9999999999", (1 << super::ROW_BITS) + 5); // row too big to pack
        assert_eq!(p.get("9876543210"), Some(7));
        assert_eq!(p.get("+91 98765"), Some(8));
        assert_eq!(p.get("9999999999"), Some((1 << super::ROW_BITS) + 5));
        assert_eq!(p.get("9876543211"), None);
        p.insert("9876543210", 9); // moved to another row
        assert_eq!(p.get("9876543210"), Some(9));
        assert_eq!(p.packed.len(), 1);
        p.remove("9876543210");
        p.remove("9999999999");
        assert_eq!(p.get("9876543210"), None);
        assert_eq!(p.get("9999999999"), None);
    }

    #[test]
    fn finds_the_tables_a_trigger_writes() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON leads BEGIN
            INSERT INTO lead_counts VALUES (1) ON CONFLICT DO UPDATE SET n = n + 1;
            UPDATE \"other\" SET n = 0; INSERT INTO leads_name_fts(rowid) VALUES (1); END";
        let got: Vec<_> = written_tables(sql).collect();
        assert_eq!(got, ["lead_counts", "other", "leads_name_fts"]);
    }
}
