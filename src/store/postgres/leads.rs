//! Leads on PostgreSQL: native DATE / TIMESTAMPTZ / UUID columns and JSONB
//! histories (see migration 0002). Every `WHERE` comes from
//! [`LeadFilter::to_sql`]; the row mapping lives in [`lead_from_row`] /
//! [`lead_values`] only.

use std::error::Error;

use async_trait::async_trait;
use bytes::BytesMut;
use chrono::{NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{IsolationLevel, Row};
use uuid::Uuid;

use super::PgStore;
use crate::domain::{FIELDS, FieldMut, FieldRef, FieldType, Lead};
use crate::store::error::{StoreError, StoreResult};
use crate::store::filter::{
    Dialect, LEAD_COLUMN_COUNT, LEAD_COLUMNS, LeadFilter, LeadOrder, SqlParam, and_where,
};
use crate::store::leads::{
    BulkOutcome, DeleteOutcome, InsertOutcome, LeadEdit, LeadMatch, LeadStore, LeadsVersion,
    StatusCount,
};

impl ToSql for SqlParam {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        // the checked forms refuse a value bound to a column of another type
        match self {
            SqlParam::Text(t) => t.to_sql_checked(ty, out),
            SqlParam::Date(d) => d.to_sql_checked(ty, out),
            SqlParam::Int(i) => i.to_sql_checked(ty, out),
            SqlParam::Instant(t) => t.to_sql_checked(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <String as ToSql>::accepts(ty)
            || <NaiveDate as ToSql>::accepts(ty)
            || <i64 as ToSql>::accepts(ty)
            || <chrono::DateTime<chrono::Utc> as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

fn refs(params: &[SqlParam]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

fn bad(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("invalid {what} in leads: {e}"))
}

/// The PostgreSQL column type of a lead field (migration 0002).
pub(super) fn pg_type(ty: FieldType) -> Type {
    match ty {
        FieldType::Uuid => Type::UUID,
        FieldType::RequiredText | FieldType::Text | FieldType::Stage => Type::TEXT,
        FieldType::Date => Type::DATE,
        FieldType::Instant | FieldType::RequiredInstant => Type::TIMESTAMPTZ,
        FieldType::RemarkLog | FieldType::StatusLog => Type::JSONB,
    }
}

/// The position of the column named `name` in `r`: `at` when the
/// statement selects it there (a `SELECT {LEAD_COLUMNS}` does), else looked
/// up by name.
fn column(r: &Row, at: usize, name: &str) -> StoreResult<usize> {
    let cols = r.columns();
    if cols.get(at).is_some_and(|c| c.name() == name) {
        return Ok(at);
    }
    cols.iter()
        .position(|c| c.name() == name)
        .ok_or_else(|| StoreError::Backend(format!("no column {name} in a leads row")))
}

/// A row holding the lead columns (by name: [`LEAD_COLUMNS`], in any order,
/// among others) as a lead, each column set by its field's type.
pub(crate) fn lead_from_row(r: &Row) -> StoreResult<Lead> {
    let mut lead = Lead::default();
    for (at, f) in FIELDS.iter().enumerate() {
        let i = column(r, at, f.name)?;
        match lead.field_mut(f) {
            FieldMut::Uuid(v) => *v = r.try_get(i)?,
            FieldMut::RequiredText(v) => *v = r.try_get(i)?,
            FieldMut::Text(v) => *v = r.try_get(i)?,
            FieldMut::Date(v) => *v = r.try_get(i)?,
            FieldMut::Instant(v) => *v = r.try_get(i)?,
            FieldMut::RequiredInstant(v) => *v = r.try_get(i)?,
            FieldMut::Stage(v) => {
                let code: &str = r.try_get(i)?;
                *v = code.parse().map_err(|e| bad(f.name, e))?;
            }
            FieldMut::RemarkLog(v) => {
                let j: serde_json::Value = r.try_get(i)?;
                *v = serde_json::from_value(j).map_err(|e| bad(f.name, e))?;
            }
            FieldMut::StatusLog(v) => {
                let j: serde_json::Value = r.try_get(i)?;
                *v = serde_json::from_value(j).map_err(|e| bad(f.name, e))?;
            }
        }
    }
    Ok(lead)
}

/// Owned values that need converting before binding (stage and histories).
pub(super) struct Converted {
    stage: &'static str,
    remarks: serde_json::Value,
    statuses: serde_json::Value,
}

impl Converted {
    pub(super) fn of(l: &Lead) -> Self {
        Converted {
            stage: l.stage.code(),
            remarks: serde_json::to_value(&l.remarks_history).unwrap_or_default(),
            statuses: serde_json::to_value(&l.status_history).unwrap_or_default(),
        }
    }
}

/// A lead's values in [`LEAD_COLUMNS`] order, each by its field's type.
pub(super) fn lead_values<'a>(
    l: &'a Lead,
    c: &'a Converted,
) -> impl Iterator<Item = &'a (dyn ToSql + Sync)> {
    FIELDS.iter().map(move |f| -> &'a (dyn ToSql + Sync) {
        match l.field(f) {
            FieldRef::Uuid(v) => v,
            FieldRef::RequiredText(v) => v,
            FieldRef::Text(v) => v,
            FieldRef::Date(v) => v,
            FieldRef::Instant(v) => v,
            FieldRef::RequiredInstant(v) => v,
            FieldRef::Stage(_) => &c.stage,
            FieldRef::RemarkLog(_) => &c.remarks,
            FieldRef::StatusLog(_) => &c.statuses,
        }
    })
}

fn placeholders(n: usize, first: usize) -> String {
    (first..first + n)
        .map(|i| Dialect::Postgres.placeholder(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `UPDATE leads SET <every column but id> WHERE id = $1`, values as [`lead_values`].
fn update_sql() -> String {
    let sets: Vec<String> = LEAD_COLUMNS
        .names()
        .enumerate()
        .skip(1)
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect();
    format!("UPDATE leads SET {} WHERE id = $1", sets.join(", "))
}

/// The `AND …` condition limiting a statement to a telecaller's leads,
/// from the one builder, numbered from `first`.
fn scope_condition(scope: Option<&str>, first: usize) -> (String, Vec<SqlParam>) {
    let filter = LeadFilter {
        own_only: scope.map(str::to_string),
        ..Default::default()
    };
    let (sql, params) = filter.to_sql(Dialect::Postgres, first);
    let cond = sql
        .strip_prefix("WHERE ")
        .map(|c| format!(" AND {c}"))
        .unwrap_or_default();
    (cond, params)
}

async fn load(
    client: &impl GenericClient,
    id: Uuid,
    scope: Option<&str>,
    lock: bool,
) -> StoreResult<Option<Lead>> {
    let (cond, scope_params) = scope_condition(scope, 2);
    let lock = if lock { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1{cond}{lock}");
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&id];
    params.extend(refs(&scope_params));
    client
        .query_opt(&sql, &params)
        .await?
        .map(|r| lead_from_row(&r))
        .transpose()
}

/// How many leads match `filter` (its `WHERE` is `where_sql`): from the
/// counts of migration 0013 when they can answer, else counted.
fn count_sql(filter: &LeadFilter, where_sql: &str) -> String {
    if filter.source_telecaller_counts() {
        format!("SELECT coalesce(sum(n), 0)::bigint FROM lead_source_telecaller_counts {where_sql}")
    } else {
        format!("SELECT count(*) FROM leads {where_sql}")
    }
}

/// How many leads match `filter`.
async fn count_in(client: &impl GenericClient, filter: &LeadFilter) -> StoreResult<i64> {
    let (where_sql, params) = filter.to_sql(Dialect::Postgres, 1);
    Ok(client
        .query_one(&count_sql(filter, &where_sql), &refs(&params))
        .await?
        .get(0))
}

/// Page `page` of `limit` leads among the `total` matching `filter`, in `order`.
async fn page_in(
    client: &impl GenericClient,
    filter: &LeadFilter,
    order: LeadOrder,
    page: u32,
    limit: u32,
    total: i64,
) -> StoreResult<Vec<Lead>> {
    let (where_sql, params) = filter.to_sql(Dialect::Postgres, 1);
    let (reversed, take, skip) = LeadOrder::window(total, page, limit);
    let n = params.len();
    let mut all = refs(&params);
    all.push(&take);
    all.push(&skip);
    // the page's ids first, whole rows for those only: an unindexed
    // order (an import-date range by last call) sorts narrow index
    // tuples, not 58k whole leads
    let order_by = order.order_by(reversed);
    let sql = format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE id IN (SELECT id FROM leads {where_sql} \
         {order_by} LIMIT ${} OFFSET ${}) {order_by}",
        n + 1,
        n + 2
    );
    let rows = client.query(&sql, &all).await?;
    let mut leads: Vec<Lead> = rows.iter().map(lead_from_row).collect::<StoreResult<_>>()?;
    if reversed {
        leads.reverse();
    }
    Ok(leads)
}

/// Past this many rows in `lead_source_telecaller_counts` (one per key changed by
/// a statement since the last fold), the next status summary folds them.
const COUNT_ROWS_BEFORE_FOLD: i64 = 5_000;

/// Any fixed number: one process at a time folds the counts.
const FOLD_LOCK: i64 = 0x006c_6561_6463_6e74;

/// Folds the delta rows of `lead_source_telecaller_counts` into one row per key
/// once there are more than [`COUNT_ROWS_BEFORE_FOLD`]: one short
/// transaction, the only statement that deletes there, so writers (which
/// only insert) never wait for it, and a reader's snapshot sees the same
/// sums before and after.
async fn compact_lead_counts(client: &mut deadpool_postgres::Object) -> StoreResult<()> {
    let rows: i64 = client
        .query_one(
            "SELECT count(*) FROM (SELECT 1 FROM lead_source_telecaller_counts LIMIT $1) t",
            &[&(COUNT_ROWS_BEFORE_FOLD + 1)],
        )
        .await?
        .get(0);
    if rows <= COUNT_ROWS_BEFORE_FOLD {
        return Ok(());
    }
    let tx = client.transaction().await?;
    let locked: bool = tx
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&FOLD_LOCK])
        .await?
        .get(0);
    if locked {
        tx.execute(
            "WITH gone AS (DELETE FROM lead_source_telecaller_counts RETURNING *)
             INSERT INTO lead_source_telecaller_counts
                 SELECT source, assigned_telecaller, stage, status, sum(n)
                 FROM gone GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0",
            &[],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn dedup(ids: &[Uuid]) -> Vec<Uuid> {
    let mut seen = std::collections::HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

#[async_trait]
impl LeadStore for PgStore {
    async fn insert_lead(&self, lead: &Lead) -> StoreResult<InsertOutcome> {
        let c = Converted::of(lead);
        let sql = format!(
            "INSERT INTO leads ({LEAD_COLUMNS}) VALUES ({}) ON CONFLICT (phone_number) DO NOTHING",
            placeholders(LEAD_COLUMN_COUNT, 1)
        );
        let client = self.client().await?;
        let n = client
            .execute(&sql, &lead_values(lead, &c).collect::<Vec<_>>())
            .await?;
        if n == 1 {
            return Ok(InsertOutcome::Inserted);
        }
        // ON CONFLICT kept the other lead; it is committed, so it is visible now
        let existing = self.find_by_phone(&lead.phone_number).await?;
        existing
            .map(InsertOutcome::DuplicatePhone)
            .ok_or_else(|| StoreError::Conflict("leads_phone".into()))
    }

    async fn get_lead(&self, id: Uuid, scope: Option<&str>) -> StoreResult<Option<Lead>> {
        let client = self.client().await?;
        load(&client, id, scope, false).await
    }

    async fn get_leads(&self, ids: &[Uuid], scope: Option<&str>) -> StoreResult<Vec<Lead>> {
        let (cond, scope_params) = scope_condition(scope, 2);
        let sql = format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = ANY($1){cond}");
        let ids = ids.to_vec();
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&ids];
        params.extend(refs(&scope_params));
        let rows = self.client().await?.query(&sql, &params).await?;
        rows.iter().map(lead_from_row).collect()
    }

    async fn find_by_phone(&self, phone: &str) -> StoreResult<Option<Uuid>> {
        let row = self
            .client()
            .await?
            .query_opt("SELECT id FROM leads WHERE phone_number = $1", &[&phone])
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn list_leads_ordered(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        page: u32,
        limit: u32,
    ) -> StoreResult<(Vec<Lead>, i64)> {
        let mut client = self.client().await?;
        // one snapshot for the page and its total
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let total = count_in(&tx, filter).await?;
        let leads = page_in(&tx, filter, order, page, limit, total).await?;
        tx.commit().await?;
        Ok((leads, total))
    }

    async fn count_leads(&self, filter: &LeadFilter) -> StoreResult<i64> {
        count_in(&self.client().await?, filter).await
    }

    async fn leads_page(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        page: u32,
        limit: u32,
        total: i64,
    ) -> StoreResult<Vec<Lead>> {
        page_in(&self.client().await?, filter, order, page, limit, total).await
    }

    async fn ordered_lead_ids(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        cap: u32,
    ) -> StoreResult<Vec<Uuid>> {
        let (where_sql, params) = filter.to_sql(Dialect::Postgres, 1);
        let cap = i64::from(cap);
        let mut all = refs(&params);
        all.push(&cap);
        let sql = format!(
            "SELECT id FROM leads {where_sql} {} LIMIT ${}",
            order.order_by(false),
            all.len()
        );
        let rows = self.client().await?.query(&sql, &all).await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn ordered_matches(
        &self,
        filter: &LeadFilter,
        order: LeadOrder,
        cap: u32,
    ) -> StoreResult<Vec<LeadMatch>> {
        let (where_sql, params) = filter.to_sql(Dialect::Postgres, 1);
        let cap = i64::from(cap);
        let mut all = refs(&params);
        all.push(&cap);
        let sql = format!(
            "SELECT id, stage, status FROM leads {where_sql} {} LIMIT ${}",
            order.order_by(false),
            all.len()
        );
        let rows = self.client().await?.query(&sql, &all).await?;
        rows.iter()
            .map(|r| {
                let stage: String = r.get(1);
                Ok(LeadMatch {
                    id: r.get(0),
                    stage: stage.parse().map_err(|e| bad("stage", e))?,
                    status: r.get(2),
                })
            })
            .collect()
    }

    async fn leads_version(&self) -> StoreResult<LeadsVersion> {
        // the delta counters of migration 0013 (a few thousand rows at
        // most: the summary folds them) and the updated-at index of 0009
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT (SELECT coalesce(sum(n), 0) FROM lead_source_telecaller_counts)::bigint, \
                        (SELECT max(updated_at) FROM leads)",
                &[],
            )
            .await?;
        let last: Option<chrono::DateTime<chrono::Utc>> = row.get(1);
        Ok(LeadsVersion {
            leads: row.get(0),
            last_update_ms: last.map(|t| t.timestamp_millis()),
            last_row: 0,
        })
    }

    async fn status_summary(&self, filter: &LeadFilter) -> StoreResult<Vec<StatusCount>> {
        let (where_sql, params) = filter.to_sql(Dialect::Postgres, 1);
        let mut client = self.client().await?;
        let sql = if filter.source_telecaller_counts() {
            compact_lead_counts(&mut client).await?;
            format!(
                "SELECT stage, status, sum(n)::bigint FROM lead_source_telecaller_counts {where_sql} \
                 GROUP BY stage, status HAVING sum(n) > 0"
            )
        } else {
            format!("SELECT stage, status, count(*) FROM leads {where_sql} GROUP BY stage, status")
        };
        let rows = client.query(&sql, &refs(&params)).await?;
        rows.iter()
            .map(|r| {
                let stage: String = r.get(0);
                Ok(StatusCount {
                    stage: stage.parse().map_err(|e| bad("stage", e))?,
                    status: r.get(1),
                    count: r.get(2),
                })
            })
            .collect()
    }

    async fn sources(&self, filter: &LeadFilter) -> StoreResult<Vec<(String, i64)>> {
        let (where_sql, params) = filter.to_sql(Dialect::Postgres, 1);
        let sql = format!(
            "SELECT source, count(*) FROM leads {} GROUP BY source",
            and_where(&where_sql, "source IS NOT NULL AND source <> ''")
        );
        let rows = self.client().await?.query(&sql, &refs(&params)).await?;
        let mut out: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        // sorted here, not by SQL: collations differ between backends
        out.sort();
        Ok(out)
    }

    async fn merge_sources(&self, from: &[String], to: &str) -> StoreResult<u64> {
        let from: Vec<&String> = from.iter().filter(|s| *s != to).collect();
        if from.is_empty() {
            return Ok(0);
        }
        let now = Utc::now();
        Ok(self
            .client()
            .await?
            .execute(
                "UPDATE leads SET source = $1, updated_at = $2 WHERE source = ANY($3)",
                &[&to, &now, &from],
            )
            .await?)
    }

    async fn matching_lead_ids(
        &self,
        filter: &LeadFilter,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Uuid>> {
        let client = self.client().await?;
        let (mut where_sql, params) = filter.to_sql(Dialect::Postgres, 1);
        let limit = i64::from(limit);
        let mut all = refs(&params);
        if let Some(after) = &after {
            all.push(after);
            where_sql = and_where(&where_sql, &format!("id > ${}", all.len()));
        }
        all.push(&limit);
        let sql = format!(
            "SELECT id FROM leads {where_sql} ORDER BY id LIMIT ${}",
            all.len()
        );
        let rows = client.query(&sql, &all).await?;
        Ok(rows.iter().map(|r| r.get::<_, Uuid>(0)).collect())
    }

    async fn delete_leads(&self, ids: &[Uuid], scope: Option<&str>) -> StoreResult<DeleteOutcome> {
        let ids = dedup(ids);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let (cond, scope_params) = scope_condition(scope, 2);
        let stmt = tx
            .prepare(&format!("DELETE FROM leads WHERE id = $1{cond}"))
            .await?;
        // a deleted lead's call events go with it (ARCHITECTURE.md,
        // "Storage decisions"): the audit keeps the delete itself
        let events = tx
            .prepare("DELETE FROM call_events WHERE lead_id = $1")
            .await?;
        let mut out = DeleteOutcome::default();
        for id in ids {
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&id];
            params.extend(refs(&scope_params));
            if tx.execute(&stmt, &params).await? == 1 {
                tx.execute(&events, &[&id]).await?;
                out.deleted.push(id);
            } else {
                out.not_found.push(id);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn update_leads(
        &self,
        ids: &[Uuid],
        scope: Option<&str>,
        mut edit: LeadEdit,
    ) -> StoreResult<BulkOutcome> {
        let ids = dedup(ids);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let update = tx.prepare(&update_sql()).await?;
        let mut out = BulkOutcome::default();
        for id in ids {
            let Some(mut lead) = load(&tx, id, scope, true).await? else {
                out.not_found.push(id);
                continue;
            };
            if !edit(&mut lead) {
                out.unchanged += 1;
                continue;
            }
            let c = Converted::of(&lead);
            tx.execute(&update, &lead_values(&lead, &c).collect::<Vec<_>>())
                .await?;
            out.changed.push(lead);
        }
        tx.commit().await?;
        Ok(out)
    }
}

#[async_trait]
impl crate::store::PrefsStore for PgStore {
    async fn get_prefs(&self, user_id: Uuid) -> StoreResult<Option<serde_json::Value>> {
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT prefs FROM user_prefs WHERE user_id = $1",
                &[&user_id],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn set_prefs(&self, user_id: Uuid, prefs: &serde_json::Value) -> StoreResult<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO user_prefs (user_id, prefs, updated_at) VALUES ($1, $2, now()) \
                 ON CONFLICT (user_id) DO UPDATE SET prefs = excluded.prefs, \
                 updated_at = excluded.updated_at",
                &[&user_id, prefs],
            )
            .await?;
        Ok(())
    }
}
