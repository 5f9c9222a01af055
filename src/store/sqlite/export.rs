//! The SQLite export row source: a dedicated connection (outside the pool)
//! holding one read transaction, so the count and the rows come from the
//! same WAL snapshot, and values borrowed straight from SQLite's row buffer.

use std::io;

use async_trait::async_trait;
use chrono::NaiveDate;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};

use super::{SqliteStore, from_ms};
use crate::store::error::{StoreError, StoreResult};
use crate::store::export::{
    EXPORT_TEXT_FIELDS, ExportSnapshot, ExportStore, LeadRow, LeadRows, RowsError,
};
use crate::store::export::{ExportQueries, export_queries};
use crate::store::filter::{Dialect, LeadFilter, SqlParam};

const N_TEXT: usize = EXPORT_TEXT_FIELDS.len();

struct SqliteRows {
    conn: Connection,
    sql: String,
    params: Vec<Value>,
}

fn to_value(p: &SqlParam) -> Value {
    match p {
        SqlParam::Text(s) => Value::Text(s.clone()),
        SqlParam::Date(d) => Value::Text(d.format("%Y-%m-%d").to_string()),
        SqlParam::Int(i) => Value::Integer(*i),
        SqlParam::Instant(t) => Value::Integer(super::to_ms(*t)),
    }
}

/// `YYYY-MM-DD` without going through chrono's format parser (hot path).
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

impl LeadRows for SqliteRows {
    fn for_each(
        &mut self,
        f: &mut dyn FnMut(&LeadRow<'_>) -> io::Result<()>,
    ) -> Result<u64, RowsError> {
        let mut stmt = self
            .conn
            .prepare(&self.sql)
            .map_err(|e| RowsError::Store(e.into()))?;
        let mut rows = stmt
            .query(params_from_iter(self.params.iter()))
            .map_err(|e| RowsError::Store(e.into()))?;
        let mut n = 0u64;
        let store_err = |e: rusqlite::Error| RowsError::Store(e.into());
        while let Some(row) = rows.next().map_err(store_err)? {
            let mut lead = LeadRow::default();
            for (i, slot) in lead.text.iter_mut().enumerate() {
                *slot = match row.get_ref(i).map_err(store_err)? {
                    ValueRef::Null => None,
                    v => Some(v.as_str().map_err(|e| store_err(e.into()))?),
                };
            }
            for (j, slot) in lead.dates.iter_mut().enumerate() {
                *slot = match row.get_ref(N_TEXT + j).map_err(store_err)? {
                    ValueRef::Text(t) => std::str::from_utf8(t).ok().and_then(parse_date),
                    _ => None,
                };
            }
            for (k, slot) in lead.instants.iter_mut().enumerate() {
                *slot = match row
                    .get_ref(N_TEXT + crate::store::N_DATE + k)
                    .map_err(store_err)?
                {
                    ValueRef::Integer(ms) => Some(from_ms(ms)),
                    _ => None,
                };
            }
            f(&lead).map_err(RowsError::Sink)?;
            n += 1;
        }
        Ok(n)
    }
}

#[async_trait]
impl ExportStore for SqliteStore {
    async fn export_snapshot(&self, filter: &LeadFilter) -> StoreResult<ExportSnapshot> {
        let ExportQueries {
            count,
            rows,
            params,
        } = export_queries(filter, Dialect::Sqlite);
        let params: Vec<Value> = params.iter().map(to_value).collect();
        let conn = self.pool().dedicated()?;
        tokio::task::spawn_blocking(move || {
            // A deferred transaction takes its WAL snapshot at the first
            // read: the count below, which the rows then share.
            conn.execute_batch("BEGIN DEFERRED")?;
            let total: i64 =
                conn.query_row(&count, params_from_iter(params.iter()), |r| r.get(0))?;
            Ok(ExportSnapshot {
                total: total.max(0) as u64,
                rows: Box::new(SqliteRows {
                    conn,
                    sql: rows,
                    params,
                }),
            })
        })
        .await
        .map_err(|e| StoreError::Backend(format!("blocking task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::parse_date;

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2024-03-15"),
            chrono::NaiveDate::from_ymd_opt(2024, 3, 15)
        );
        assert_eq!(parse_date("2024-13-15"), None);
        assert_eq!(parse_date("x"), None);
    }
}
