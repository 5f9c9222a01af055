//! Call events on PostgreSQL: UUID and TIMESTAMPTZ columns; the IST day is
//! computed in SQL (`AT TIME ZONE '+05:30'` is POSIX-inverted, so the
//! offset is added to UTC instead).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use tokio_postgres::Row;
use uuid::Uuid;

use super::PgStore;
use crate::domain::{CallEvent, CallOutcome, EventCount};
use crate::store::calls::CallStore;
use crate::store::error::{StoreError, StoreResult};

fn outcome(r: &Row, idx: usize) -> StoreResult<crate::domain::CallOutcome> {
    let s: String = r.get(idx);
    s.parse()
        .map_err(|e| StoreError::Backend(format!("call_events: {e}")))
}

fn event_from_row(r: &Row) -> StoreResult<CallEvent> {
    Ok(CallEvent {
        id: r.get(0),
        lead_id: r.get(1),
        actor_id: r.get(2),
        actor_login: r.get(3),
        outcome: outcome(r, 4)?,
        status: r.get(5),
        at: r.get(6),
    })
}

#[async_trait]
impl CallStore for PgStore {
    async fn record_events(&self, events: &[CallEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let st = tx
            .prepare_cached(
                "INSERT INTO call_events (id, lead_id, actor_id, actor_login, outcome, status, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .await?;
        for e in events {
            tx.execute(
                &st,
                &[
                    &e.id,
                    &e.lead_id,
                    &e.actor_id,
                    &e.actor_login,
                    &e.outcome.as_str(),
                    &e.status,
                    &e.at,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn lead_events(&self, lead_ids: &[Uuid]) -> StoreResult<Vec<CallEvent>> {
        if lead_ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, lead_id, actor_id, actor_login, outcome, status, at
                 FROM call_events WHERE lead_id = ANY($1) ORDER BY lead_id, at, id",
                &[&lead_ids],
            )
            .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn count_events(
        &self,
        login: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<EventCount>> {
        let login = login.map(str::to_lowercase);
        // two statements, not `$3 IS NULL OR …`: the OR would keep the
        // planner off call_events_actor
        let by_actor = if login.is_some() {
            "AND lower(actor_login) = $3"
        } else {
            "AND $3::text IS NULL"
        };
        let sql = format!(
            "SELECT lower(actor_login),
                    ((at AT TIME ZONE 'UTC') + interval '5 hours 30 minutes')::date AS day,
                    outcome, status, count(*)
             FROM call_events
             WHERE at >= $1 AND at < $2 {by_actor}
             GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        );
        let rows = self
            .client()
            .await?
            .query(&sql, &[&from, &to, &login])
            .await?;
        rows.iter()
            .map(|r| {
                let day: NaiveDate = r.get(1);
                Ok(EventCount {
                    login: r.get(0),
                    day,
                    outcome: outcome(r, 2)?,
                    status: r.get(3),
                    count: r.get(4),
                })
            })
            .collect()
    }

    async fn calls_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        outcome: Option<CallOutcome>,
    ) -> StoreResult<Vec<CallEvent>> {
        let outcome = outcome.map(|o| o.as_str().to_string());
        let rows = self
            .client()
            .await?
            .query(
                "SELECT id, lead_id, actor_id, actor_login, outcome, status, at
                 FROM call_events
                 WHERE at >= $1 AND at < $2 AND outcome <> 'status_change'
                   AND ($3::text IS NULL OR outcome = $3)
                 ORDER BY at, id",
                &[&from, &to, &outcome],
            )
            .await?;
        rows.iter().map(event_from_row).collect()
    }
}
