//! Leads on SQLite: dates as TEXT `YYYY-MM-DD`, instants as INTEGER
//! milliseconds, histories as JSON text (see migration 0002). Every
//! `WHERE` comes from [`LeadFilter::to_sql`]; the row mapping lives in
//! [`lead_from_row`] / [`lead_values`] only.

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, ToSql, TransactionBehavior, params_from_iter};
use uuid::Uuid;

use super::{SqliteStore, from_ms, to_ms};
use crate::domain::lead_fields::FIELD_COUNT;
use crate::domain::{FIELDS, FieldMut, FieldRef, Lead, Stage};
use crate::store::error::{StoreError, StoreResult};
use crate::store::filter::{Dialect, LEAD_COLUMNS, LeadFilter, LeadOrder, SqlParam, and_where};
use crate::store::leads::{
    BulkOutcome, DeleteOutcome, InsertOutcome, LeadEdit, LeadMatch, LeadStore, LeadsVersion,
    PrefsStore, StatusCount,
};

impl ToSql for SqlParam {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlParam::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            SqlParam::Date(d) => ToSqlOutput::Owned(Value::Text(d.to_string())),
            SqlParam::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            SqlParam::Instant(t) => ToSqlOutput::Owned(Value::Integer(to_ms(*t))),
        })
    }
}

fn conversion(idx: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
}

fn date(r: &Row, idx: usize) -> rusqlite::Result<Option<NaiveDate>> {
    r.get::<_, Option<String>>(idx)?
        .map(|s| s.parse().map_err(|e| conversion(idx, e)))
        .transpose()
}

fn json<T: serde::de::DeserializeOwned>(r: &Row, idx: usize) -> rusqlite::Result<T> {
    let text: String = r.get(idx)?;
    serde_json::from_str(&text).map_err(|e| conversion(idx, e))
}

/// Where each lead field is among a statement's columns, found by name once
/// per statement: [`lead_at`] then reads every row of it without a lookup.
pub(crate) struct ColumnMap([usize; FIELD_COUNT]);

impl ColumnMap {
    /// The columns of `stmt` named as the lead fields (in any order, among
    /// others); an error names a missing one.
    pub(crate) fn of(stmt: &rusqlite::Statement) -> rusqlite::Result<Self> {
        let mut at = [0; FIELD_COUNT];
        for (slot, f) in at.iter_mut().zip(FIELDS) {
            *slot = stmt.column_index(f.name)?;
        }
        Ok(Self(at))
    }
}

/// A row holding the lead columns (by name: [`LEAD_COLUMNS`], in any order,
/// among others) as a lead. For many rows of one statement, [`lead_at`]
/// with its [`ColumnMap`] saves the lookups.
pub(crate) fn lead_from_row(r: &Row) -> rusqlite::Result<Lead> {
    lead_at(r, &ColumnMap::of(r.as_ref())?)
}

/// The lead in row `r`, its columns where `cols` found them, each read by
/// its field's type.
pub(crate) fn lead_at(r: &Row, cols: &ColumnMap) -> rusqlite::Result<Lead> {
    let mut lead = Lead::default();
    for (f, &i) in FIELDS.iter().zip(&cols.0) {
        match lead.field_mut(f) {
            FieldMut::Uuid(v) => {
                let text: String = r.get(i)?;
                *v = text.parse().map_err(|e| conversion(i, e))?;
            }
            FieldMut::RequiredText(v) => *v = r.get(i)?,
            FieldMut::Text(v) => *v = r.get(i)?,
            FieldMut::Date(v) => *v = date(r, i)?,
            FieldMut::Instant(v) => *v = r.get::<_, Option<i64>>(i)?.map(from_ms),
            FieldMut::RequiredInstant(v) => *v = from_ms(r.get(i)?),
            FieldMut::Stage(v) => {
                let code: String = r.get(i)?;
                *v = code.parse().map_err(|e| conversion(i, e))?;
            }
            FieldMut::RemarkLog(v) => *v = json(r, i)?,
            FieldMut::StatusLog(v) => *v = json(r, i)?,
        }
    }
    Ok(lead)
}

/// A lead's values in [`LEAD_COLUMNS`] order, each by its field's type.
pub(crate) fn lead_values(l: &Lead) -> Vec<Value> {
    let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::Text);
    let day = |d: &Option<NaiveDate>| d.map_or(Value::Null, |d| Value::Text(d.to_string()));
    FIELDS
        .iter()
        .map(|f| match l.field(f) {
            FieldRef::Uuid(v) => Value::Text(v.to_string()),
            FieldRef::RequiredText(v) => Value::Text(v.clone()),
            FieldRef::Text(v) => text(v),
            FieldRef::Date(v) => day(v),
            FieldRef::Instant(v) => v.map_or(Value::Null, |t| Value::Integer(to_ms(t))),
            FieldRef::RequiredInstant(v) => Value::Integer(to_ms(*v)),
            FieldRef::Stage(v) => Value::Text(v.code().to_string()),
            FieldRef::RemarkLog(v) => {
                Value::Text(serde_json::to_string(v).unwrap_or_else(|_| "[]".into()))
            }
            FieldRef::StatusLog(v) => {
                Value::Text(serde_json::to_string(v).unwrap_or_else(|_| "[]".into()))
            }
        })
        .collect()
}

fn placeholders(n: usize, first: usize) -> String {
    (first..first + n)
        .map(|i| Dialect::Sqlite.placeholder(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `UPDATE leads SET <every column but id> WHERE id = ?1`, values as [`lead_values`].
fn update_sql() -> String {
    let sets: Vec<String> = LEAD_COLUMNS
        .names()
        .enumerate()
        .skip(1)
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect();
    format!("UPDATE leads SET {} WHERE id = ?1", sets.join(", "))
}

/// The `AND …` condition limiting a statement to a telecaller's leads,
/// from the one builder, numbered from `first`.
fn scope_condition(scope: Option<&str>, first: usize) -> (String, Vec<SqlParam>) {
    let filter = LeadFilter {
        own_only: scope.map(str::to_string),
        ..Default::default()
    };
    let (sql, params) = filter.to_sql(Dialect::Sqlite, first);
    let cond = sql
        .strip_prefix("WHERE ")
        .map(|c| format!(" AND {c}"))
        .unwrap_or_default();
    (cond, params)
}

fn load(conn: &Connection, id: Uuid, scope: Option<&str>) -> StoreResult<Option<Lead>> {
    let (cond, scope_params) = scope_condition(scope, 2);
    let sql = format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = ?1{cond}");
    let mut params: Vec<SqlParam> = vec![SqlParam::Text(id.to_string())];
    params.extend(scope_params);
    let mut stmt = conn.prepare_cached(&sql)?;
    Ok(stmt
        .query_row(params_from_iter(params.iter()), lead_from_row)
        .optional()?)
}

/// How many leads match `filter`. The maintained counters (migration 0003)
/// answer in ~1 ms where count(*) walks an index of up to 1M entries.
fn count_in(conn: &Connection, filter: &LeadFilter) -> StoreResult<i64> {
    let (where_sql, params) = filter.to_sql(Dialect::Sqlite, 1);
    let count_sql = match filter.counts_table() {
        // one indexed column: counting its index range beats summing
        // counters (unassigned: the planner would scan another index)
        Some(_) if filter.one_indexed_column() => {
            let hint = if filter.unassigned_only {
                " INDEXED BY leads_unassigned_status"
            } else {
                ""
            };
            format!("SELECT count(*) FROM leads{hint} {where_sql}")
        }
        Some(table) => format!("SELECT coalesce(sum(n), 0) FROM {table} {where_sql}"),
        None => format!("SELECT count(*) FROM leads {where_sql}"),
    };
    Ok(conn
        .prepare_cached(&count_sql)?
        .query_row(params_from_iter(params.iter()), |r| r.get(0))?)
}

/// Page `page` of `limit` leads among the `total` matching `filter`, in `order`.
fn page_in(
    conn: &Connection,
    filter: &LeadFilter,
    order: LeadOrder,
    page: u32,
    limit: u32,
    total: i64,
) -> StoreResult<Vec<Lead>> {
    let (where_sql, mut params) = filter.to_sql(Dialect::Sqlite, 1);
    let (reversed, take, skip) = LeadOrder::window(total, page, limit);
    let n = params.len();
    params.push(SqlParam::Int(take));
    params.push(SqlParam::Int(skip));
    // the page's rowids first (from a covering index where one serves),
    // whole rows for those only: an import-date range in the list order
    // sorted 58k whole leads (~700 ms at 1M), its (import_date,
    // last_called, id) index entries take ~40 ms
    let order_by = order.order_by(reversed);
    let sql = format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE rowid IN (SELECT rowid FROM leads \
         {where_sql} {order_by} LIMIT ?{} OFFSET ?{}) {order_by}",
        n + 1,
        n + 2
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let cols = ColumnMap::of(&stmt)?;
    let mut leads = stmt
        .query_map(params_from_iter(params.iter()), |r| lead_at(r, &cols))?
        .collect::<Result<Vec<_>, _>>()?;
    if reversed {
        leads.reverse();
    }
    Ok(leads)
}

/// `columns` of the first `cap` leads matching `filter` in `order`, each
/// row read by `row` (the workspace's kept ids and matches).
fn first_in_order<T>(
    conn: &Connection,
    filter: &LeadFilter,
    order: LeadOrder,
    cap: u32,
    columns: &str,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let (where_sql, mut params) = filter.to_sql(Dialect::Sqlite, 1);
    params.push(SqlParam::Int(i64::from(cap)));
    let sql = format!(
        "SELECT {columns} FROM leads {where_sql} {} LIMIT ?{}",
        order.order_by(false),
        params.len()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(params.iter()), row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

fn dedup(ids: &[Uuid]) -> Vec<Uuid> {
    let mut seen = std::collections::HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

#[async_trait]
impl LeadStore for SqliteStore {
    async fn insert_lead(&self, lead: &Lead) -> StoreResult<InsertOutcome> {
        let lead = lead.clone();
        self.pool
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let existing: Option<String> = tx
                    .query_row(
                        "SELECT id FROM leads WHERE phone_number = ?1",
                        [&lead.phone_number],
                        |r| r.get(0),
                    )
                    .optional()?;
                if let Some(id) = existing {
                    let id = id
                        .parse()
                        .map_err(|e| StoreError::Backend(format!("bad lead id {id:?}: {e}")))?;
                    return Ok(InsertOutcome::DuplicatePhone(id));
                }
                tx.execute(
                    &format!(
                        "INSERT INTO leads ({LEAD_COLUMNS}) VALUES ({})",
                        placeholders(crate::store::filter::LEAD_COLUMN_COUNT, 1)
                    ),
                    params_from_iter(lead_values(&lead)),
                )?;
                tx.commit()?;
                Ok(InsertOutcome::Inserted)
            })
            .await
    }

    async fn get_lead(&self, id: Uuid, scope: Option<&str>) -> StoreResult<Option<Lead>> {
        let scope = scope.map(str::to_string);
        self.pool
            .run(move |conn| load(conn, id, scope.as_deref()))
            .await
    }

    async fn get_leads(&self, ids: &[Uuid], scope: Option<&str>) -> StoreResult<Vec<Lead>> {
        let ids = dedup(ids);
        let scope = scope.map(str::to_string);
        // one closure on one connection: the cached statement per id is an
        // index lookup in-process (no round trip to amortise)
        self.pool
            .run(move |conn| {
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    out.extend(load(conn, id, scope.as_deref())?);
                }
                Ok(out)
            })
            .await
    }

    async fn find_by_phone(&self, phone: &str) -> StoreResult<Option<Uuid>> {
        let phone = phone.to_string();
        self.pool
            .run(move |conn| {
                let id: Option<String> = conn
                    .query_row(
                        "SELECT id FROM leads WHERE phone_number = ?1",
                        [&phone],
                        |r| r.get(0),
                    )
                    .optional()?;
                Ok(id.and_then(|s| s.parse().ok()))
            })
            .await
    }

    async fn list_leads_ordered(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        page: u32,
        limit: u32,
    ) -> StoreResult<(Vec<Lead>, i64)> {
        let filter = filter.clone();
        self.pool
            .run(move |conn| {
                // one read transaction: the page and its total see one snapshot
                let tx = conn.transaction()?;
                let total = count_in(&tx, &filter)?;
                let leads = page_in(&tx, &filter, order, page, limit, total)?;
                Ok((leads, total))
            })
            .await
    }

    async fn count_leads(&self, filter: &LeadFilter) -> StoreResult<i64> {
        let filter = filter.clone();
        self.pool.run(move |conn| count_in(conn, &filter)).await
    }

    async fn leads_page(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        page: u32,
        limit: u32,
        total: i64,
    ) -> StoreResult<Vec<Lead>> {
        let filter = filter.clone();
        self.pool
            .run(move |conn| page_in(conn, &filter, order, page, limit, total))
            .await
    }

    async fn status_summary(&self, filter: &LeadFilter) -> StoreResult<Vec<StatusCount>> {
        let filter = filter.clone();
        self.pool
            .run(move |conn| {
                let (where_sql, params) = filter.to_sql(Dialect::Sqlite, 1);
                // the maintained counters of migration 0003 answer in ~1 ms
                // what GROUP BY over the leads takes up to ~0.9 s for
                let sql = match filter.counts_table() {
                    // a covering (column, stage, status) index of migration 0009
                    Some(_) if filter.one_indexed_column() => format!(
                        "SELECT stage, status, count(*) FROM leads {where_sql} GROUP BY stage, status"
                    ),
                    Some(table @ "lead_status_counts") => format!(
                        "SELECT stage, status, n FROM {table} {}",
                        and_where(&where_sql, "n > 0")
                    ),
                    Some(table) => format!(
                        "SELECT stage, status, sum(n) FROM {table} {where_sql} \
                         GROUP BY stage, status HAVING sum(n) > 0"
                    ),
                    None => format!(
                        "SELECT stage, status, count(*) FROM leads {where_sql} GROUP BY stage, status"
                    ),
                };
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
                    let stage: String = r.get(0)?;
                    Ok(StatusCount {
                        stage: stage.parse::<Stage>().map_err(|e| conversion(0, e))?,
                        status: r.get(1)?,
                        count: r.get(2)?,
                    })
                })?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
    }

    async fn sources(&self, filter: &LeadFilter) -> StoreResult<Vec<(String, i64)>> {
        let filter = filter.clone();
        self.pool
            .run(move |conn| {
                let (where_sql, params) = filter.to_sql(Dialect::Sqlite, 1);
                let sql = format!(
                    "SELECT source, count(*) FROM leads {} GROUP BY source",
                    and_where(&where_sql, "source IS NOT NULL AND source <> ''")
                );
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt.query_map(params_from_iter(params.iter()), |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
                let mut out = rows.collect::<Result<Vec<(String, i64)>, _>>()?;
                // sorted here, not by SQL: collations differ between backends
                out.sort();
                Ok(out)
            })
            .await
    }

    async fn merge_sources(&self, from: &[String], to: &str) -> StoreResult<u64> {
        let from: Vec<String> = from.iter().filter(|s| *s != to).cloned().collect();
        let to = to.to_string();
        if from.is_empty() {
            return Ok(0);
        }
        self.pool
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let sql = format!(
                    "UPDATE leads SET source = ?1, updated_at = ?2 WHERE source IN ({})",
                    placeholders(from.len(), 3)
                );
                let mut params: Vec<Value> =
                    vec![Value::Text(to), Value::Integer(to_ms(Utc::now()))];
                params.extend(from.into_iter().map(Value::Text));
                let n = tx.execute(&sql, params_from_iter(params))?;
                tx.commit()?;
                Ok(n as u64)
            })
            .await
    }

    async fn matching_lead_ids(
        &self,
        filter: &LeadFilter,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Uuid>> {
        let filter = filter.clone();
        self.pool
            .run(move |conn| {
                let (where_sql, mut params) = filter.to_sql(Dialect::Sqlite, 1);
                let mut where_sql = where_sql;
                if let Some(after) = after {
                    params.push(SqlParam::Text(after.to_string()));
                    where_sql = and_where(&where_sql, &format!("id > ?{}", params.len()));
                }
                params.push(SqlParam::Int(i64::from(limit)));
                let sql = format!(
                    "SELECT id FROM leads {where_sql} ORDER BY id LIMIT ?{}",
                    params.len()
                );
                let ids = conn
                    .prepare_cached(&sql)?
                    .query_map(params_from_iter(params.iter()), |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(ids.iter().filter_map(|s| s.parse().ok()).collect())
            })
            .await
    }

    async fn ordered_lead_ids(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        cap: u32,
    ) -> StoreResult<Vec<Uuid>> {
        let filter = filter.clone();
        self.pool
            .run(move |conn| {
                first_in_order(conn, &filter, order, cap, "id", |r| {
                    let id: String = r.get(0)?;
                    id.parse().map_err(|e| conversion(0, e))
                })
            })
            .await
    }

    async fn ordered_matches(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        cap: u32,
    ) -> StoreResult<Vec<LeadMatch>> {
        let filter = filter.clone();
        self.pool
            .run(move |conn| {
                first_in_order(conn, &filter, order, cap, "id, stage, status", |r| {
                    let id: String = r.get(0)?;
                    let stage: String = r.get(1)?;
                    Ok(LeadMatch {
                        id: id.parse().map_err(|e| conversion(0, e))?,
                        stage: stage.parse::<Stage>().map_err(|e| conversion(1, e))?,
                        status: r.get(2)?,
                    })
                })
            })
            .await
    }

    async fn leads_version(&self) -> StoreResult<LeadsVersion> {
        self.pool
            .run(|conn| {
                // the counters of migration 0003, the updated-at index of
                // 0009 and the table's rowid b-tree: three index reads
                let v = conn.query_row(
                    "SELECT (SELECT coalesce(sum(n), 0) FROM lead_status_counts), \
                            (SELECT max(updated_at) FROM leads), \
                            (SELECT coalesce(max(rowid), 0) FROM leads)",
                    [],
                    |r| {
                        Ok(LeadsVersion {
                            leads: r.get(0)?,
                            last_update_ms: r.get(1)?,
                            last_row: r.get(2)?,
                        })
                    },
                )?;
                Ok(v)
            })
            .await
    }

    async fn delete_leads(&self, ids: &[Uuid], scope: Option<&str>) -> StoreResult<DeleteOutcome> {
        let ids = dedup(ids);
        let scope = scope.map(str::to_string);
        self.pool
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let (cond, scope_params) = scope_condition(scope.as_deref(), 2);
                let mut out = DeleteOutcome::default();
                {
                    let mut stmt =
                        tx.prepare_cached(&format!("DELETE FROM leads WHERE id = ?1{cond}"))?;
                    // a deleted lead's call events go with it (ARCHITECTURE.md,
                    // "Storage decisions"): the audit keeps the delete itself
                    let mut events =
                        tx.prepare_cached("DELETE FROM call_events WHERE lead_id = ?1")?;
                    for id in ids {
                        let mut params = vec![SqlParam::Text(id.to_string())];
                        params.extend(scope_params.iter().cloned());
                        if stmt.execute(params_from_iter(params.iter()))? == 1 {
                            events.execute([id.to_string()])?;
                            out.deleted.push(id);
                        } else {
                            out.not_found.push(id);
                        }
                    }
                }
                tx.commit()?;
                Ok(out)
            })
            .await
    }

    async fn update_leads(
        &self,
        ids: &[Uuid],
        scope: Option<&str>,
        mut edit: LeadEdit,
    ) -> StoreResult<BulkOutcome> {
        let ids = dedup(ids);
        let scope = scope.map(str::to_string);
        self.pool
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let mut out = BulkOutcome::default();
                let update = update_sql();
                for id in ids {
                    let Some(mut lead) = load(&tx, id, scope.as_deref())? else {
                        out.not_found.push(id);
                        continue;
                    };
                    if !edit(&mut lead) {
                        out.unchanged += 1;
                        continue;
                    }
                    tx.prepare_cached(&update)?
                        .execute(params_from_iter(lead_values(&lead)))?;
                    out.changed.push(lead);
                }
                tx.commit()?;
                Ok(out)
            })
            .await
    }
}

#[async_trait]
impl PrefsStore for SqliteStore {
    async fn get_prefs(&self, user_id: Uuid) -> StoreResult<Option<serde_json::Value>> {
        self.pool
            .run(move |conn| {
                let text: Option<String> = conn
                    .prepare_cached("SELECT prefs FROM user_prefs WHERE user_id = ?1")?
                    .query_row([user_id.to_string()], |r| r.get(0))
                    .optional()?;
                Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
            })
            .await
    }

    async fn set_prefs(&self, user_id: Uuid, prefs: &serde_json::Value) -> StoreResult<()> {
        let text = prefs.to_string();
        self.pool
            .run(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO user_prefs (user_id, prefs, updated_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (user_id) DO UPDATE SET prefs = excluded.prefs, \
                     updated_at = excluded.updated_at",
                )?
                .execute(rusqlite::params![
                    user_id.to_string(),
                    text,
                    to_ms(Utc::now())
                ])?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod row_mapping_tests {
    use super::*;

    /// The mapping goes by column name: the columns selected backwards,
    /// after another one, give back the same lead.
    #[test]
    fn a_row_maps_by_column_name_in_any_order() {
        let conn = Connection::open_in_memory().unwrap();
        let cols: Vec<&str> = LEAD_COLUMNS.names().collect();
        conn.execute_batch(&format!("CREATE TABLE leads ({})", cols.join(", ")))
            .unwrap();
        let mut lead = Lead {
            id: Uuid::from_u128(7),
            name: "Ravi".into(),
            phone_number: "9876543210".into(),
            status: "New".into(),
            created_at: from_ms(1_000),
            updated_at: from_ms(2_000),
            ..Lead::default()
        };
        lead.email = Some("r@example.com".into());
        lead.notes = Some("night shift only".into());
        lead.end_date = Some("2026-05-01".parse().unwrap());
        lead.last_called = Some(from_ms(3_000));
        conn.execute(
            &format!(
                "INSERT INTO leads ({LEAD_COLUMNS}) VALUES ({})",
                placeholders(cols.len(), 1)
            ),
            params_from_iter(lead_values(&lead)),
        )
        .unwrap();
        let reversed: Vec<&str> = cols.iter().rev().copied().collect();
        let sql = format!("SELECT 42 AS other, {} FROM leads", reversed.join(", "));
        let got = conn.query_row(&sql, [], lead_from_row).unwrap();
        assert_eq!(got, lead);
        let missing = format!("SELECT {} FROM leads", cols[1..].join(", "));
        assert!(conn.query_row(&missing, [], lead_from_row).is_err());
    }
}
