//! Call events on SQLite: ids as TEXT, instants as INTEGER milliseconds;
//! the IST day is computed in SQL (UTC + 5:30, no daylight saving).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Row, params, params_from_iter};
use uuid::Uuid;

use super::{SqliteStore, from_ms, to_ms};
use crate::domain::{CallEvent, CallOutcome, EventCount};
use crate::store::calls::CallStore;
use crate::store::error::StoreResult;

/// IST is UTC+05:30 all year.
const IST_OFFSET_MS: i64 = 19_800_000;

fn bad(idx: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e))
}

/// The columns [`event_from_row`] reads, in its order.
pub(super) const EVENT_COLUMNS: &str = "id, lead_id, actor_id, actor_login, outcome, status, at";

/// Inserts one event row (the statement: [`INSERT_EVENT`]).
pub(super) const INSERT_EVENT: &str =
    "INSERT INTO call_events (id, lead_id, actor_id, actor_login, outcome, status, at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// Runs [`INSERT_EVENT`] for `e`.
pub(super) fn insert_event(
    st: &mut rusqlite::Statement<'_>,
    e: &CallEvent,
) -> rusqlite::Result<()> {
    st.execute(params![
        e.id.to_string(),
        e.lead_id.to_string(),
        e.actor_id.to_string(),
        e.actor_login,
        e.outcome.as_str(),
        e.status,
        to_ms(e.at),
    ])?;
    Ok(())
}

pub(super) fn event_from_row(r: &Row) -> rusqlite::Result<CallEvent> {
    let id: String = r.get(0)?;
    let lead: String = r.get(1)?;
    let actor: String = r.get(2)?;
    let outcome: String = r.get(4)?;
    Ok(CallEvent {
        id: id.parse().map_err(|e| bad(0, e))?,
        lead_id: lead.parse().map_err(|e| bad(1, e))?,
        actor_id: actor.parse().map_err(|e| bad(2, e))?,
        actor_login: r.get(3)?,
        outcome: outcome.parse().map_err(|e| bad(4, e))?,
        status: r.get(5)?,
        at: from_ms(r.get(6)?),
    })
}

#[async_trait]
impl CallStore for SqliteStore {
    async fn record_events(&self, events: &[CallEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let events = events.to_vec();
        self.pool
            .run(move |conn| {
                let tx = conn.transaction()?;
                {
                    let mut st = tx.prepare_cached(INSERT_EVENT)?;
                    for e in &events {
                        insert_event(&mut st, e)?;
                    }
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }

    async fn lead_events(&self, lead_ids: &[Uuid]) -> StoreResult<Vec<CallEvent>> {
        if lead_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = lead_ids.iter().map(Uuid::to_string).collect();
        self.pool
            .run(move |conn| {
                let marks = vec!["?"; ids.len()].join(", ");
                let sql = format!(
                    "SELECT {EVENT_COLUMNS}
                     FROM call_events WHERE lead_id IN ({marks}) ORDER BY lead_id, at, id"
                );
                let mut st = conn.prepare(&sql)?;
                let rows = st.query_map(params_from_iter(ids.iter()), event_from_row)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    async fn count_events(
        &self,
        login: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<EventCount>> {
        let login = login.map(str::to_string);
        self.pool
            .run(move |conn| {
                // two statements, not `?4 IS NULL OR …`: the OR would keep
                // the planner off call_events_actor
                let by_actor = if login.is_some() {
                    "AND actor_login = ?4 COLLATE NOCASE"
                } else {
                    "AND ?4 IS NULL"
                };
                let mut st = conn.prepare_cached(&format!(
                    "SELECT lower(actor_login),
                            date((at + ?3) / 1000, 'unixepoch') AS day,
                            outcome, status, count(*)
                     FROM call_events
                     WHERE at >= ?1 AND at < ?2 {by_actor}
                     GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
                ))?;
                let rows =
                    st.query_map(params![to_ms(from), to_ms(to), IST_OFFSET_MS, login], |r| {
                        let day: String = r.get(1)?;
                        let outcome: String = r.get(2)?;
                        Ok(EventCount {
                            login: r.get(0)?,
                            day: day.parse().map_err(|e| bad(1, e))?,
                            outcome: outcome.parse().map_err(|e| bad(2, e))?,
                            status: r.get(3)?,
                            count: r.get(4)?,
                        })
                    })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }

    async fn calls_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        outcome: Option<CallOutcome>,
    ) -> StoreResult<Vec<CallEvent>> {
        let outcome = outcome.map(|o| o.as_str());
        self.pool
            .run(move |conn| {
                let mut st = conn.prepare_cached(
                    "SELECT id, lead_id, actor_id, actor_login, outcome, status, at
                     FROM call_events
                     WHERE at >= ?1 AND at < ?2 AND outcome <> 'status_change'
                       AND (?3 IS NULL OR outcome = ?3)
                     ORDER BY at, id",
                )?;
                let rows =
                    st.query_map(params![to_ms(from), to_ms(to), outcome], event_from_row)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
            .await
    }
}
