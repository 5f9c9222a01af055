//! Backups on both backends: only master_admin; a restore gives back
//! exactly the leads that were backed up (ids, histories, unmasked document
//! numbers, timestamps), lead by lead, after the leads were changed; an
//! automatic backup is taken first; a damaged backup changes nothing.

use std::collections::BTreeMap;

use pulse::domain::{CallEvent, CallOutcome, Lead};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, status_json};

const BASE: &str = "/api/driver-onboarding/backups";

/// A lead with histories and every kind of field, phone `phone`.
fn lead(i: u32) -> Lead {
    let v = json!({
        "id": Uuid::new_v4(), "name": format!("Backup Lead {i} — தமிழ்"),
        "phone_number": format!("98{:08}", i), "email": format!("b{i}@example.com"),
        "vehicle": "2W EV", "driving_license": "Yes", "experience": null, "interested_ev": "Yes",
        "monthly_salary": "18000", "residing_chennai": "No", "current_location": "Porur",
        "preferred_shift": "Night", "allotted_shift": null, "default_vehicle": null,
        "end_date": "2026-12-31", "dl_no": format!("TN18200294{i:05}"), "badge_no": "36267",
        "aadhar_card": "548249957695", "pan_card": "LDEPQ7463D", "gas_bill": null,
        "bank_passbook": "SBIN0001", "stage": "S2", "status": "Verification Pending",
        "assigned_telecaller": "arun.tc@pulse.example", "assigned_date": "2026-08-31",
        "callback_date": null, "last_called": "2026-09-09T12:08:47.123Z",
        "source": "Walk-in", "import_date": "2026-08-29", "remarks": "=2000+500 deposit\r\nok",
        "telecaller_notes": format!("call after 6 pm ({i})"), "notes": "knows Tamil, \"Hindi\"",
        "remarks_history": [{"remark": "=2000+500 deposit\r\nok", "updated_by": "arun.tc@pulse.example",
                             "updated_at": "2026-09-09T14:56:13.579Z"}],
        "status_history": [{"status": "Highly Interested", "stage": "S1",
                            "changed_by": "arun.tc@pulse.example", "changed_at": "2026-09-01T04:10:13.484Z"},
                           {"status": "Verification Pending", "stage": "S2",
                            "changed_by": "ops@pulse.example", "changed_at": "2026-09-02T04:10:13.484Z"}],
        "created_at": "2026-08-29T10:00:00.001Z", "updated_at": "2026-09-09T14:56:13.579Z"
    });
    serde_json::from_value(v).unwrap()
}

/// Every stored call event, by lead, oldest first.
async fn all_events(app: &TestApp) -> BTreeMap<Uuid, Vec<CallEvent>> {
    let ids: Vec<Uuid> = all(app).await.into_keys().collect();
    let mut out: BTreeMap<Uuid, Vec<CallEvent>> = BTreeMap::new();
    for e in app.state.store.lead_events(&ids).await.unwrap() {
        out.entry(e.lead_id).or_default().push(e);
    }
    out
}

/// `n` call events on `lead`, a minute apart from `at` (whole
/// milliseconds: SQLite keeps no more), the last a status change.
fn events(lead: Uuid, n: usize, at: &str) -> Vec<CallEvent> {
    let start: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
    (0..n)
        .map(|k| CallEvent {
            id: Uuid::new_v4(),
            lead_id: lead,
            actor_id: Uuid::new_v4(),
            actor_login: format!("tc{}@pulse.example", k % 2),
            outcome: match k % 3 {
                _ if k + 1 == n => CallOutcome::StatusChange,
                0 => CallOutcome::Called,
                1 => CallOutcome::Connected,
                _ => CallOutcome::NoResponse,
            },
            status: (k + 1 == n).then(|| "Verification Pending".to_owned()),
            at: start + chrono::Duration::milliseconds(60_000 * k as i64 + 7),
        })
        .collect()
}

async fn all(app: &TestApp) -> BTreeMap<Uuid, Lead> {
    app.state
        .store
        .all_leads()
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.id, l))
        .collect()
}

/// Queues a backup (202, a job to poll), waits for its job to be done and
/// returns the backup as `GET …/backups` lists it.
pub async fn backup_now(app: &TestApp, token: &str) -> Value {
    let (status, job) = status_json(app.post(BASE, token, json!({})).await).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["kind"], "backup");
    let url = job["url"].as_str().unwrap().to_string();
    let mut polled = job;
    // Up to two minutes: a debug build backs up 10^5 leads in seconds,
    // slower when the suite runs in parallel.
    for _ in 0..2400 {
        polled = status_json(app.get(&url, token).await).await.1;
        if polled["status"] == "done" || polled["status"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(polled["status"], "done", "{polled}");
    assert_eq!(polled["rows_done"], polled["rows_total"], "{polled}");
    let id = polled["backup_id"].as_str().unwrap().to_string();
    let (_, listed) = status_json(app.get(BASE, token).await).await;
    let made = listed["backups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("backup {id} not listed: {listed}"));
    assert_eq!(made["leads"], polled["rows_total"]);
    assert_eq!(made["bytes"], polled["bytes"]);
    assert_eq!(made["download_url"], polled["download_url"]);
    made
}

async fn round_trip_lead_by_lead(app: TestApp) {
    for i in 0..40 {
        let l = lead(i);
        app.state.store.insert_lead(&l).await.unwrap();
    }
    let before = all(&app).await;
    assert_eq!(before.len(), 40);
    // call events on every third lead
    for (k, id) in before.keys().enumerate().filter(|(k, _)| k % 3 == 0) {
        let evs = events(*id, 1 + k % 4, "2026-09-09T12:08:47.123Z");
        app.state.store.record_events(&evs).await.unwrap();
    }
    let events_before = all_events(&app).await;
    assert_eq!(events_before.len(), 14);
    // As stored, each lead is exactly what went in (the store keeps every field).
    assert_eq!(
        before
            .values()
            .next()
            .unwrap()
            .dl_no
            .as_deref()
            .map(|s| s.len()),
        Some(15)
    );
    let root = app.admin_token().await;

    // Only master_admin.
    let (_, admin) = app.user_with_role(&root, "adm@pulse.test", "admin").await;
    assert_eq!(
        app.post(BASE, &admin, json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get(BASE, &admin).await.status(), StatusCode::FORBIDDEN);

    let made = backup_now(&app, &root).await;
    assert_eq!(made["leads"], 40);
    assert_eq!(made["kind"], "manual");
    let id = made["id"].as_str().unwrap().to_string();
    let (_, listed) = status_json(app.get(BASE, &root).await).await;
    assert_eq!(listed["backups"][0]["id"], id.as_str());

    // The download is the full-fidelity file: unmasked PII, histories.
    let r = app.get(&format!("{BASE}/{id}/download"), &root).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    let bytes = r.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, made["bytes"].as_u64().unwrap());
    let (header, in_file) = pulse::backup::format::read(&bytes[..]).unwrap();
    assert_eq!(header.leads, 40);
    let events_in_file: BTreeMap<Uuid, Vec<CallEvent>> = in_file
        .iter()
        .filter(|b| !b.call_events.is_empty())
        .map(|b| (b.lead.id, b.call_events.clone()))
        .collect();
    assert_eq!(events_in_file, events_before);
    let in_file: BTreeMap<Uuid, Lead> = in_file.into_iter().map(|b| (b.lead.id, b.lead)).collect();
    assert_eq!(in_file, before);

    // Change the leads: delete some, edit one, add one.
    let ids: Vec<Uuid> = before.keys().copied().collect();
    app.state.store.delete_leads(&ids[..5], None).await.unwrap();
    // a deleted lead's events went with it (ids[0] and ids[3] had some)
    let left = all_events(&app).await;
    assert_eq!(left.len(), 12);
    assert!(!left.contains_key(&ids[0]) && !left.contains_key(&ids[3]));
    let r = app
        .post(
            &format!("/api/driver-onboarding/leads/{}/mark-called", ids[7]),
            &root,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_ne!(all_events(&app).await, events_before);
    let t = root.clone();
    let r = app
        .patch(
            &format!("/api/driver-onboarding/leads/{}", ids[10]),
            &t,
            json!({"name": "Changed", "remarks": "changed"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.state.store.insert_lead(&lead(99)).await.unwrap();
    assert_ne!(all(&app).await, before);

    let (status, done) = status_json(
        app.post(&format!("{BASE}/{id}/restore"), &root, json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["restored"], 40);
    assert_eq!(done["replaced"], 36);
    assert_eq!(done["pre_restore_backup"]["leads"], 36);
    assert_eq!(done["pre_restore_backup"]["kind"], "pre_restore");

    let after = all(&app).await;
    assert_eq!(after.len(), before.len());
    assert_eq!(
        all_events(&app).await,
        events_before,
        "the call events are back, and only them"
    );
    for (id, l) in &before {
        assert_eq!(
            after.get(id),
            Some(l),
            "lead {id} differs after the restore"
        );
        // Also as the API shows it (the read path, not only the store).
        let (s, shown) = status_json(
            app.get(&format!("/api/driver-onboarding/leads/{id}"), &root)
                .await,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(shown["status_history"].as_array().unwrap().len(), 2);
        assert_eq!(shown["dl_no"].as_str(), l.dl_no.as_deref());
        assert_eq!(shown["notes"].as_str(), l.notes.as_deref());
        let calls = events_before.get(id).map_or(0, |e| e.len() - 1);
        assert_eq!(shown["calling_history"].as_array().unwrap().len(), calls);
    }
    let (_, page) = status_json(app.get("/api/driver-onboarding/leads", &root).await).await;
    assert_eq!(page["total"], 40, "{page}");

    // The restore is audited.
    let (_, audit) = status_json(app.get("/api/audit?action=backup.restore", &root).await).await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");

    // The automatic backup restores the changed state in its turn.
    let pre = done["pre_restore_backup"]["id"].as_str().unwrap();
    let (status, again) = status_json(
        app.post(&format!("{BASE}/{pre}/restore"), &root, json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["restored"], 36);
    assert_eq!(all(&app).await.len(), 36);

    // Delete.
    let r = app
        .client
        .delete(app.url(&format!("{BASE}/{id}")))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.get(&format!("{BASE}/{id}/download"), &root).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, listed) = status_json(app.get(BASE, &root).await).await;
    assert!(!listed.to_string().contains(&id));
}

async fn a_damaged_backup_changes_nothing(app: TestApp) {
    for i in 0..3 {
        app.state.store.insert_lead(&lead(i)).await.unwrap();
    }
    let root = app.admin_token().await;
    let made = backup_now(&app, &root).await;
    let id = made["id"].as_str().unwrap().to_string();
    // Cut the file short behind Pulse's back.
    let dir = app.dir.path().join("backups");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(&id.replace('-', "")))
        .unwrap();
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    app.state.store.insert_lead(&lead(7)).await.unwrap();
    let before = all(&app).await;
    let r = app
        .post(&format!("{BASE}/{id}/restore"), &root, json!({}))
        .await;
    let (status, body): (StatusCode, Value) = status_json(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("cannot be restored"),
        "{body}"
    );
    assert_eq!(all(&app).await, before);
    let r = app
        .post(
            &format!("{BASE}/{}/restore", Uuid::new_v4()),
            &root,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// A backup written before call events and notes existed: lead lines
/// without `call_events`, `telecaller_notes` or `notes`. It restores; the
/// leads come back without events (it held none) and without notes.
async fn an_old_backup_without_events_restores(app: TestApp) {
    let old: Vec<Lead> = (0..3).map(lead).collect();
    let now = app.state.store.all_leads().await.unwrap();
    assert!(now.is_empty());
    app.state.store.insert_lead(&lead(50)).await.unwrap();
    let id50 = all(&app).await.into_keys().next().unwrap();
    app.state
        .store
        .record_events(&events(id50, 3, "2026-09-10T05:00:00.000Z"))
        .await
        .unwrap();
    let mut text = format!(
        "{{\"pulse_backup\":1,\"created_at\":\"2026-09-01T00:00:00Z\",\"leads\":{}}}\n",
        old.len()
    );
    for l in &old {
        let mut v = serde_json::to_value(l).unwrap();
        let m = v.as_object_mut().unwrap();
        m.remove("telecaller_notes");
        m.remove("notes");
        text.push_str(&v.to_string());
        text.push('\n');
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, text.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let id = Uuid::new_v4();
    let created = "2026-09-01T00:00:00Z".parse().unwrap();
    let key = pulse::backup::key(created, id, pulse::backup::Kind::Manual, 3);
    let dir = app.dir.path().join("backups");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(key), &bytes).unwrap();

    let root = app.admin_token().await;
    let (status, done) = status_json(
        app.post(&format!("{BASE}/{id}/restore"), &root, json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["restored"], 3);
    let after = all(&app).await;
    let want: BTreeMap<Uuid, Lead> = old
        .into_iter()
        .map(|mut l| {
            l.telecaller_notes = None;
            l.notes = None;
            (l.id, l)
        })
        .collect();
    assert_eq!(after, want);
    assert!(all_events(&app).await.is_empty());
    let (_, shown) = status_json(
        app.get(
            &format!(
                "/api/driver-onboarding/leads/{}",
                want.keys().next().unwrap()
            ),
            &root,
        )
        .await,
    )
    .await;
    assert_eq!(shown["calling_history"], json!([]), "{shown}");
}

crate::dual_backend_tests!(
    round_trip_lead_by_lead,
    a_damaged_backup_changes_nothing,
    an_old_backup_without_events_restores,
);

async fn backup_jobs_queue_apart_from_exports(app: TestApp) {
    // No workers here (PULSE_WORKERS=0): jobs stay queued. Queue limits of
    // one export job per user and one in all.
    app.state.store.insert_lead(&lead(1)).await.unwrap();
    let root = app.admin_token().await;
    let (status, job) = status_json(app.post(BASE, &root, json!({})).await).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["status"], "queued");
    assert_eq!(job["download_url"], Value::Null);
    let id = job["id"].as_str().unwrap().to_string();
    // One backup at a time: the second names the first.
    let (status, second) = status_json(app.post(BASE, &root, json!({})).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{second}");
    assert!(second["detail"].as_str().unwrap().contains(&id), "{second}");
    // The backup job is not an export job: not listed, not readable, not
    // cancellable there, and it takes no export queue place.
    let (_, exports) = status_json(app.get("/api/exports", &root).await).await;
    assert_eq!(exports["jobs"], json!([]), "{exports}");
    for path in [
        format!("/api/exports/{id}"),
        format!("/api/exports/{id}/download"),
    ] {
        assert_eq!(app.get(&path, &root).await.status(), StatusCode::NOT_FOUND);
    }
    let r = app
        .post(&format!("/api/exports/{id}/cancel"), &root, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .post("/api/exports", &root, json!({"format": "csv"}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = app
        .post("/api/exports", &root, json!({"format": "csv"}))
        .await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // …and an export job is no backup job.
    let (_, exports) = status_json(app.get("/api/exports", &root).await).await;
    let export_id = exports["jobs"][0]["id"].as_str().unwrap().to_string();
    let r = app.get(&format!("{BASE}/jobs/{export_id}"), &root).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, jobs) = status_json(app.get(&format!("{BASE}/jobs"), &root).await).await;
    assert_eq!(jobs["jobs"].as_array().unwrap().len(), 1, "{jobs}");
    assert_eq!(jobs["jobs"][0]["id"], id.as_str());
    // Not yet a backup.
    let (_, listed) = status_json(app.get(BASE, &root).await).await;
    assert_eq!(listed["backups"], json!([]), "{listed}");
    // Only master_admin sees backup jobs; a bad id is a 4xx.
    let (_, admin) = app.user_with_role(&root, "adm2@pulse.test", "admin").await;
    let r = app.get(&format!("{BASE}/jobs/{id}"), &admin).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.get(&format!("{BASE}/jobs/not-a-uuid"), &root).await;
    assert!(r.status().is_client_error(), "{}", r.status());
}

crate::dual_backend_tests!(mod queued with &[("PULSE_WORKERS", "0"), ("PULSE_EXPORT_JOBS_PER_USER", "1"), ("PULSE_EXPORT_QUEUE_MAX", "1")];
    backup_jobs_queue_apart_from_exports,
);

async fn scheduled_backups_are_taken_and_pruned(app: TestApp) {
    // PULSE_BACKUP_SCHEDULE=1h, PULSE_BACKUP_KEEP=2: the first is due at start.
    app.state.store.insert_lead(&lead(1)).await.unwrap();
    let root = app.admin_token().await;
    let mut listed = Value::Null;
    for _ in 0..100 {
        listed = status_json(app.get(BASE, &root).await).await.1;
        if listed["backups"].as_array().is_some_and(|b| !b.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(listed["backups"][0]["kind"], "scheduled", "{listed}");
    // Pruning keeps the newest PULSE_BACKUP_KEEP scheduled ones and no manual one goes.
    let files = &app.state.backups;
    for _ in 0..3 {
        pulse::backup::create(
            app.state.store.as_ref(),
            files,
            pulse::backup::Kind::Scheduled,
        )
        .await
        .unwrap();
    }
    let manual =
        pulse::backup::create(app.state.store.as_ref(), files, pulse::backup::Kind::Manual)
            .await
            .unwrap();
    let newest: Vec<Uuid> = pulse::backup::list(files)
        .await
        .unwrap()
        .into_iter()
        .filter(|b| b.kind == pulse::backup::Kind::Scheduled)
        .take(2)
        .map(|b| b.id)
        .collect();
    assert_eq!(pulse::backup::prune(files, 2).await.unwrap(), 2);
    let left = pulse::backup::list(files).await.unwrap();
    let scheduled: Vec<Uuid> = left
        .iter()
        .filter(|b| b.kind == pulse::backup::Kind::Scheduled)
        .map(|b| b.id)
        .collect();
    assert_eq!(scheduled, newest);
    assert!(left.iter().any(|b| b.id == manual.id));
}

crate::dual_backend_tests!(mod scheduled with &[("PULSE_BACKUP_SCHEDULE", "1h"), ("PULSE_BACKUP_KEEP", "2")];
    scheduled_backups_are_taken_and_pruned,
);
