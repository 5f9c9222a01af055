//! The job queue's lease rules, on the real store of both backends (no
//! workers run here: `PULSE_WORKERS=0`): a job is claimed once, a lost
//! lease can change nothing, an expired lease is rescued (or fails after
//! its last attempt), a release does not count as an attempt, and many
//! claimers at once never take a job twice.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use pulse::store::{Admission, Completion, JobKind, JobStatus, NewExportJob, Store};
use uuid::Uuid;

use crate::dual_backend_tests;
use crate::helpers::{ADMIN_EMAIL, TestApp};

const LEASE: Duration = Duration::from_millis(800);

async fn queue(app: &TestApp, max_attempts: i32) -> Uuid {
    let store = &app.state.store;
    let owner = store.get_user_by_email(ADMIN_EMAIL).await.unwrap().unwrap();
    let job = NewExportJob {
        id: Uuid::new_v4(),
        kind: JobKind::Export,
        params: serde_json::json!({}),
        owner_id: owner.id,
        owner_email: owner.email,
        filters: serde_json::json!({}),
        columns: vec!["name".into()],
        format: "csv".into(),
        mask_pii: true,
        max_attempts,
        request_id: None,
    };
    match store.create_export_job(&job, 1000, 1000).await.unwrap() {
        Admission::Queued(j) => j.id,
        other => panic!("not queued: {other:?}"),
    }
}

fn completion(key: &str) -> Completion {
    Completion {
        rows: 1,
        bytes: 10,
        sha256: "ab".repeat(32),
        file_key: key.into(),
        retention: Some(Duration::from_secs(60)),
        result: None,
    }
}

async fn lost_leases_change_nothing(app: TestApp) {
    let store = app.state.store.clone();
    let id = queue(&app, 3).await;
    let a = store
        .claim_export_job("a", "w1", LEASE, &JobKind::ALL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((a.id, a.status, a.attempts), (id, JobStatus::Running, 1));
    assert!(
        store
            .claim_export_job("x", "w2", LEASE, &JobKind::ALL)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store
            .heartbeat_export_job(id, "x", LEASE, 5, Some(9))
            .await
            .unwrap()
    );
    assert!(
        store
            .heartbeat_export_job(id, "a", LEASE, 5, Some(9))
            .await
            .unwrap()
    );
    let j = store.get_export_job(id).await.unwrap().unwrap();
    assert_eq!((j.rows_done, j.rows_total), (5, Some(9)));
    // Nothing to rescue while the lease holds.
    assert!(store.rescue_export_jobs().await.unwrap().is_empty());

    tokio::time::sleep(LEASE + Duration::from_millis(300)).await;
    let rescued = store.rescue_export_jobs().await.unwrap();
    assert_eq!(rescued.len(), 1);
    assert_eq!(rescued[0].status, JobStatus::Queued);
    assert!(
        rescued[0]
            .error
            .as_deref()
            .unwrap()
            .contains("lease expired")
    );
    // The first worker, late, can neither extend, complete nor fail it.
    assert!(
        !store
            .heartbeat_export_job(id, "a", LEASE, 9, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .complete_export_job(id, "a", &completion("a.csv"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.fail_export_job(id, "a", "late", None).await.unwrap(),
        None
    );
    assert!(!store.release_export_job(id, "a").await.unwrap());

    let b = store
        .claim_export_job("b", "w2", LEASE, &JobKind::ALL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.attempts, 2);
    assert!(
        !store
            .complete_export_job(id, "a", &completion("a.csv"))
            .await
            .unwrap()
    );
    assert!(
        store
            .complete_export_job(id, "b", &completion("b.csv"))
            .await
            .unwrap()
    );
    let j = store.get_export_job(id).await.unwrap().unwrap();
    assert_eq!(j.status, JobStatus::Done);
    assert_eq!(j.file_key.as_deref(), Some("b.csv"));
    assert!(j.error.is_none() && j.expires_at.is_some());
    // A done job cannot be cancelled into anything else.
    assert_eq!(
        store.cancel_export_job(id).await.unwrap().unwrap().status,
        JobStatus::Done
    );
}

async fn retries_back_off_and_attempts_run_out(app: TestApp) {
    let store = app.state.store.clone();
    // A transient failure with attempts left: queued again, not before the back-off.
    let id = queue(&app, 2).await;
    store
        .claim_export_job("a", "w", LEASE, &JobKind::ALL)
        .await
        .unwrap()
        .unwrap();
    let s = store
        .fail_export_job(id, "a", "db hiccup", Some(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(s, Some(JobStatus::Queued));
    assert!(
        store
            .claim_export_job("b", "w", LEASE, &JobKind::ALL)
            .await
            .unwrap()
            .is_none()
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let b = store
        .claim_export_job("b", "w", LEASE, &JobKind::ALL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.attempts, 2);
    // The last attempt's failure is final.
    let s = store
        .fail_export_job(id, "b", "db hiccup again", Some(Duration::from_secs(1)))
        .await
        .unwrap();
    assert_eq!(s, Some(JobStatus::Failed));
    let j = store.get_export_job(id).await.unwrap().unwrap();
    assert_eq!(j.error.as_deref(), Some("db hiccup again"));
    assert!(j.finished_at.is_some());

    // A dead worker on the last attempt: the rescue fails the job with a reason.
    let id = queue(&app, 1).await;
    store
        .claim_export_job("c", "w", LEASE, &JobKind::ALL)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(LEASE + Duration::from_millis(300)).await;
    let rescued = store.rescue_export_jobs().await.unwrap();
    assert_eq!(rescued.len(), 1);
    assert_eq!(rescued[0].status, JobStatus::Failed);
    assert_eq!(
        rescued[0].error.as_deref(),
        Some("its worker stopped (lease expired) during attempt 1 of 1")
    );
    let j = store.get_export_job(id).await.unwrap().unwrap();
    assert_eq!(j.status, JobStatus::Failed);

    // A release at shutdown hands the job back without spending an attempt.
    let id = queue(&app, 1).await;
    store
        .claim_export_job("d", "w", LEASE, &JobKind::ALL)
        .await
        .unwrap()
        .unwrap();
    assert!(store.release_export_job(id, "d").await.unwrap());
    let j = store.get_export_job(id).await.unwrap().unwrap();
    assert_eq!((j.status, j.attempts), (JobStatus::Queued, 0));
}

async fn concurrent_claims_take_each_job_once(app: TestApp) {
    let mut ids = HashSet::new();
    for _ in 0..40 {
        ids.insert(queue(&app, 3).await);
    }
    let store: Arc<dyn Store> = app.state.store.clone();
    let claimers: Vec<_> = (0..8)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let token = format!("t{n}-{}", mine.len());
                    match store
                        .claim_export_job(&token, "w", Duration::from_secs(60), &JobKind::ALL)
                        .await
                        .unwrap()
                    {
                        Some(j) => mine.push(j.id),
                        None => return mine,
                    }
                }
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for c in claimers {
        claimed.extend(c.await.unwrap());
    }
    assert_eq!(claimed.len(), 40, "every job claimed exactly once");
    assert_eq!(claimed.into_iter().collect::<HashSet<_>>(), ids);
}

dual_backend_tests!(
    mod no_workers with &[("PULSE_WORKERS", "0")];
    lost_leases_change_nothing,
    retries_back_off_and_attempts_run_out,
    concurrent_claims_take_each_job_once,
);
