//! The Bulk Export button's first question, "how do I get this file?":
//! up to `PULSE_EXPORT_JOB_THRESHOLD` leads the answer is a one-time
//! download URL that already holds its export permit — admitted now, under
//! the usual limits (a busy server answers busy here, with its retry
//! delay) — so the browser's own download, which cannot show a 503 as
//! anything but a failed file, always starts; more leads become an export
//! job. Tickets live in this process's memory for [`TICKET_TTL`] (a ticket
//! unused by then is dropped with its permit); behind a load balancer the
//! download must reach the instance that issued it (sticky sessions), or
//! the page falls back to a job.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::RngCore;
use rand::rngs::OsRng;
use uuid::Uuid;

use super::exports::{self, ExportRequest, StartedExport, parse_format};
use super::leads_selection::count_matching;
use super::{ServiceError, ServiceResult, Services};
use crate::domain::Actor;
use crate::export::admission::Admitted;
use crate::export::engine::select_columns;
use crate::export::engine_stream::Shape;
use crate::store::ExportJob;

/// How long a download ticket waits for its browser.
pub const TICKET_TTL: Duration = Duration::from_secs(60);

struct Ticket {
    user: Uuid,
    req: ExportRequest,
    permit: Admitted,
    expires: Instant,
}

/// The unredeemed download tickets of this process.
#[derive(Default)]
pub struct Tickets {
    map: Mutex<HashMap<String, Ticket>>,
}

impl Tickets {
    fn take(&self, token: &str) -> Option<Ticket> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.retain(|_, t| t.expires > now);
        map.remove(token)
    }

    fn put(&self, token: String, ticket: Ticket) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.retain(|_, t| t.expires > now);
        map.insert(token, ticket);
    }

    /// Drops the ticket if it is still there after its time.
    fn expire_later(svc: &Services, token: String) {
        let tickets = svc.export_tickets.clone();
        tokio::spawn(async move {
            tokio::time::sleep(TICKET_TTL + Duration::from_millis(50)).await;
            let mut map = tickets.map.lock().unwrap_or_else(|e| e.into_inner());
            if map.get(&token).is_some_and(|t| t.expires <= Instant::now()) {
                map.remove(&token);
            }
        });
    }
}

/// How the file will come.
#[derive(Debug)]
pub enum Prepared {
    /// Download at once from this one-time path (it holds its permit).
    Download {
        /// `/exports/download/<token>`.
        url: String,
        /// Leads the filter matched when asked.
        total: i64,
    },
    /// Too many for one request: a background job was queued.
    Job {
        /// The job.
        job: Box<ExportJob>,
        /// Leads the filter matched when asked.
        total: i64,
    },
}

/// Answers the button: a ticket for a small export, a job for a large one.
pub async fn prepare(svc: &Services, actor: &Actor, req: ExportRequest) -> ServiceResult<Prepared> {
    exports::may_export(actor)?;
    parse_format(req.format.as_deref())?;
    select_columns(req.columns.as_deref()).map_err(ServiceError::Invalid)?;
    let total = count_matching(svc, actor, req.filters.clone()).await?;
    if u64::try_from(total).unwrap_or(0) > svc.config.export_job_threshold {
        let job = exports::create_job(svc, actor, req).await?;
        return Ok(Prepared::Job {
            job: Box::new(job),
            total,
        });
    }
    let permit = svc.export_admission.admit(actor.id).await?;
    let mut raw = [0u8; 24];
    OsRng.fill_bytes(&mut raw);
    let token = hex::encode(raw);
    svc.export_tickets.put(
        token.clone(),
        Ticket {
            user: actor.id,
            req,
            permit,
            expires: Instant::now() + TICKET_TTL,
        },
    );
    Tickets::expire_later(svc, token.clone());
    Ok(Prepared::Download {
        url: format!("/exports/download/{token}"),
        total,
    })
}

/// Starts the export a ticket was issued for, with its permit. A ticket is
/// used once, by the user it was issued to, within its time.
pub async fn redeem(svc: &Services, actor: &Actor, token: &str) -> ServiceResult<StartedExport> {
    let gone = || {
        ServiceError::Gone(
            "this download link was used already or has expired; press Bulk Export again".into(),
        )
    };
    let ticket = svc.export_tickets.take(token).ok_or_else(gone)?;
    if ticket.user != actor.id {
        // another user's link: theirs stays unusable for them too (it is
        // one-time), and this one learns nothing
        return Err(gone());
    }
    exports::start_admitted(svc, actor, ticket.req, Shape::File, "web", ticket.permit).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_ticket_is_taken_once_and_expires() {
        let permits = Arc::new(tokio::sync::Semaphore::new(1));
        let adm = crate::export::admission::ExportAdmission::new(permits.clone(), 1);
        let t = Tickets::default();
        let user = Uuid::new_v4();
        let permit = adm.admit(user).await.unwrap();
        t.put(
            "a".into(),
            Ticket {
                user,
                req: ExportRequest::default(),
                permit,
                expires: Instant::now() + TICKET_TTL,
            },
        );
        assert_eq!(
            permits.available_permits(),
            0,
            "the ticket holds the permit"
        );
        assert!(t.take("b").is_none());
        assert!(t.take("a").is_some());
        assert!(t.take("a").is_none(), "one-time");
        assert_eq!(permits.available_permits(), 1, "released with the ticket");
        let permit = adm.admit(user).await.unwrap();
        t.put(
            "c".into(),
            Ticket {
                user,
                req: ExportRequest::default(),
                permit,
                expires: Instant::now(),
            },
        );
        assert!(t.take("c").is_none(), "expired");
        assert_eq!(permits.available_permits(), 1);
    }
}
