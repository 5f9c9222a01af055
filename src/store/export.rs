//! The export row source: one consistent snapshot of the leads a filter
//! selects, read row by row on a blocking thread without copying values.
//!
//! Each backend opens the snapshot ([`ExportStore::export_snapshot`]),
//! counts the rows inside it (the `X-Total-Leads` header) and then hands the
//! rows one at a time as a [`LeadRow`] that borrows from the driver's row
//! buffer. The store knows nothing about file formats; the export engine
//! turns a [`LeadRow`] into cells.

use std::io;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use super::error::{StoreError, StoreResult};
use super::filter::{Dialect, LeadFilter, ORDER_BY, SqlParam};
use crate::domain::{FIELDS, FieldDef, FieldType};

/// Which of a [`LeadRow`]'s arrays an exported field is read into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Text,
    Date,
    Instant,
}

/// Every lead field with an export header is read; its type decides where.
const fn slot(f: &FieldDef) -> Option<Slot> {
    if f.export_header.is_none() {
        return None;
    }
    match f.ty {
        FieldType::Uuid | FieldType::RequiredText | FieldType::Text | FieldType::Stage => {
            Some(Slot::Text)
        }
        FieldType::Date => Some(Slot::Date),
        FieldType::Instant | FieldType::RequiredInstant => Some(Slot::Instant),
        FieldType::RemarkLog | FieldType::StatusLog => None,
    }
}

const fn count(want: Slot) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < FIELDS.len() {
        if matches!(slot(&FIELDS[i]), Some(s) if s as u8 == want as u8) {
            n += 1;
        }
        i += 1;
    }
    n
}

const fn names<const N: usize>(want: Slot) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut i, mut n) = (0, 0);
    while i < FIELDS.len() {
        if matches!(slot(&FIELDS[i]), Some(s) if s as u8 == want as u8) {
            out[n] = FIELDS[i].name;
            n += 1;
        }
        i += 1;
    }
    out
}

/// Text columns a [`LeadRow`] carries, in [`LeadRow::text`] order: the
/// exported text fields of the lead field list (id and stage included).
pub const EXPORT_TEXT_FIELDS: [&str; N_TEXT] = names(Slot::Text);
pub const N_TEXT: usize = count(Slot::Text);

/// Calendar-date columns, in [`LeadRow::dates`] order.
pub const EXPORT_DATE_FIELDS: [&str; N_DATE] = names(Slot::Date);
pub const N_DATE: usize = count(Slot::Date);

/// Instant columns, in [`LeadRow::instants`] order.
pub const EXPORT_INSTANT_FIELDS: [&str; N_INSTANT] = names(Slot::Instant);
pub const N_INSTANT: usize = count(Slot::Instant);

/// One lead as the export reads it, borrowed from the driver's row.
#[derive(Debug, Clone, Copy, Default)]
pub struct LeadRow<'a> {
    /// Values of [`EXPORT_TEXT_FIELDS`] (`None` = null).
    pub text: [Option<&'a str>; N_TEXT],
    /// Values of [`EXPORT_DATE_FIELDS`].
    pub dates: [Option<NaiveDate>; N_DATE],
    /// Values of [`EXPORT_INSTANT_FIELDS`].
    pub instants: [Option<DateTime<Utc>>; N_INSTANT],
}

/// Why reading rows stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RowsError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The consumer (the file writer, i.e. the client) failed or went away.
    #[error("output failed: {0}")]
    Sink(io::Error),
}

/// The rows of an open snapshot. Blocking: call from a blocking thread.
pub trait LeadRows: Send {
    /// Calls `f` for every row in the export order
    /// (`last_called` ascending, nulls first, then `id`); stops at the first
    /// error of either side. Returns the rows passed to `f`.
    fn for_each(
        &mut self,
        f: &mut dyn FnMut(&LeadRow<'_>) -> io::Result<()>,
    ) -> Result<u64, RowsError>;
}

/// An open snapshot: its row count and its rows, read in the same
/// transaction so they agree exactly.
pub struct ExportSnapshot {
    /// Rows the filter selects in this snapshot.
    pub total: u64,
    /// The rows themselves.
    pub rows: Box<dyn LeadRows>,
}

impl std::fmt::Debug for ExportSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportSnapshot")
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

/// Reading leads for exports.
#[async_trait]
pub trait ExportStore {
    /// Opens a read-only snapshot of the leads `filter` selects and counts
    /// them in it. The snapshot holds its own connection (outside the pool)
    /// until the rows are read or dropped.
    async fn export_snapshot(&self, filter: &LeadFilter) -> StoreResult<ExportSnapshot>;
}

/// `SELECT … FROM leads WHERE … ORDER BY …` for the export, and the count
/// query of the same filter, with their parameters.
pub(crate) struct ExportQueries {
    pub count: String,
    pub rows: String,
    pub params: Vec<SqlParam>,
}

/// The export's order: stable within a snapshot. An unfiltered SQLite
/// export goes in table (rowid, i.e. insertion) order so rows stream off
/// the table sequentially: in the list order (`last_called, id`) each
/// ~1.2 KB row was fetched by rowid from a 1.2 GB table and 1M leads took
/// 9.5 s instead of 3.7 s (`pulse export`, same machine and load). A
/// filtered export keeps the list order, which its filter's index yields
/// without a sort (`ORDER BY rowid` there would sort whole rows in a temp
/// b-tree: memory and a late first row).
///
/// PostgreSQL's unfiltered export likewise goes in heap order: no ORDER BY,
/// with synchronized and parallel scans off for the snapshot (see
/// [`POSTGRES_EXPORT_SETTINGS`]), so the order is the table's physical one,
/// the same on every read of the same snapshot. The list order sorted 1M
/// rows first (4.8 s before the first of them, `\copy` of the query), and
/// its index scan fetched the heap at random (13.4 s).
pub(crate) fn export_order(dialect: Dialect, filtered: bool) -> &'static str {
    match (dialect, filtered) {
        (Dialect::Sqlite, false) => "ORDER BY rowid",
        (Dialect::Postgres, false) => "",
        _ => ORDER_BY,
    }
}

/// Set in PostgreSQL's export transaction: a synchronized scan may start
/// mid-table (joining another scan) and a parallel one interleaves pages,
/// either of which would make the unfiltered export's heap order unstable.
pub(crate) const POSTGRES_EXPORT_SETTINGS: &str =
    "SET LOCAL synchronize_seqscans = off; SET LOCAL max_parallel_workers_per_gather = 0";

pub(crate) fn export_queries(filter: &LeadFilter, dialect: Dialect) -> ExportQueries {
    let (where_sql, params) = filter.to_sql(dialect, 1);
    let mut cols: Vec<String> = Vec::with_capacity(32);
    for f in EXPORT_TEXT_FIELDS {
        cols.push(match (f, dialect) {
            ("id", Dialect::Postgres) => "id::text".to_string(),
            _ => f.to_string(),
        });
    }
    cols.extend(EXPORT_DATE_FIELDS.iter().map(|f| f.to_string()));
    cols.extend(EXPORT_INSTANT_FIELDS.iter().map(|f| f.to_string()));
    ExportQueries {
        // SQLite's maintained counters (migration 0003) answer in ~1 ms what
        // count(*) over 1M rows takes 30-200 ms for (cold cache), and the
        // X-Total-Leads header, so the first byte, waits for this count.
        // They live in the same snapshot, so they equal the rows sent.
        count: match (dialect, filter.counts_table()) {
            (Dialect::Sqlite, Some(table)) => {
                format!("SELECT coalesce(sum(n), 0) FROM {table} {where_sql}")
            }
            _ => format!("SELECT count(*) FROM leads {where_sql}"),
        },
        rows: format!(
            "SELECT {} FROM leads {where_sql} {}",
            cols.join(", "),
            export_order(dialect, !where_sql.trim().is_empty())
        ),
        params,
    }
}
