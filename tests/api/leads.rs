//! The leads API: create, read, change, delete, filters, order, pipeline
//! rules, bad input. Bulk operations are in `leads_bulk.rs`, the
//! permission matrix in `leads_permissions.rs`.

use chrono::{Days, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};

pub const API: &str = "/api/driver-onboarding";

dual_backend_tests!(
    create_read_update_delete,
    create_lead_alias_and_defaults,
    duplicate_phone_is_409_naming_the_existing_lead,
    bad_input_is_4xx_and_changes_nothing,
    every_filter_selects_the_right_leads,
    pages_are_stable_and_ordered,
    completion_status_moves_the_lead_on_and_history_grows,
    callback_status_sets_the_callback_date,
    remarks_and_call_done,
    status_summary_matches_independent_counts,
    sources_are_counted_and_merged,
    summary_follows_every_change,
);

/// A distinct valid mobile number for `n`.
pub fn phone(n: u32) -> String {
    format!("98{n:08}")
}

/// Creates a lead as `token` and returns it; panics unless 201.
pub async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, lead) = status_json(app.post(&format!("{API}/leads"), token, body).await).await;
    assert_eq!(status, StatusCode::CREATED, "create lead: {lead}");
    lead
}

pub async fn get_lead(app: &TestApp, token: &str, id: &str) -> (StatusCode, Value) {
    status_json(app.get(&format!("{API}/leads/{id}"), token).await).await
}

pub async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The leads of a list query (`query` without the `?`), all pages of 100.
pub async fn list_all(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let (status, body) = status_json(
            app.get(&format!("{API}/leads?{query}&limit=100&page={page}"), token)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "list {query}: {body}");
        let leads = body["leads"].as_array().unwrap().clone();
        let done = leads.len() < 100;
        out.extend(leads);
        if done {
            break;
        }
    }
    out
}

fn ids(leads: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = leads
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

async fn create_read_update_delete(app: TestApp) {
    let t = app.admin_token().await;
    let lead = create(
        &app,
        &t,
        json!({"name": "Ravi Kumar", "phone_number": "+91 98765-43210", "source": "Walk-in",
               "dl_no": "TN0120074787142"}),
    )
    .await;
    let id = lead["id"].as_str().unwrap();
    assert_eq!(lead["phone_number"], "9876543210");
    assert_eq!(
        (lead["stage"].as_str(), lead["status"].as_str()),
        (Some("S1"), Some("New"))
    );

    let (status, got) = get_lead(&app, &t, id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, lead, "read back exactly what was created");
    assert_eq!(
        got["dl_no"], "TN0120074787142",
        "master_admin sees documents"
    );

    let (status, patched) = status_json(
        app.patch(
            &format!("{API}/leads/{id}"),
            &t,
            json!({"name": "Ravi K.", "email": "ravi@example.com", "source": "",
                   "vehicle": null, "stage": "S4"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    // the original's {success, lead}, the lead's keys beside them
    assert_eq!(patched["success"], true);
    assert_eq!(patched["name"], "Ravi K.");
    assert_eq!(patched["email"], "ravi@example.com");
    assert_eq!(patched["source"], Value::Null, "\"\" clears");
    assert_eq!(patched["stage"], "S1", "a sent stage is ignored");
    let (_, read) = get_lead(&app, &t, id).await;
    assert_eq!(read, patched["lead"]);
    assert_eq!(read["name"], patched["name"]);

    let r = delete(&app, &format!("{API}/leads/{id}"), &t).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(get_lead(&app, &t, id).await.0, StatusCode::NOT_FOUND);
    let r = delete(&app, &format!("{API}/leads/{id}"), &t).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "second delete");
}

async fn create_lead_alias_and_defaults(app: TestApp) {
    let t = app.admin_token().await;
    let (status, lead) = status_json(
        app.post(
            &format!("{API}/create-lead"),
            &t,
            json!({"name": "Anbu", "phone_number": "09876500001", "stage": "S2 - Docs Collection",
                   "assigned_telecaller": "tc@pulse.test"}),
        )
        .await,
    )
    .await;
    // the original's answer on its path: 200 {success, message, lead_id}
    assert_eq!(status, StatusCode::OK, "{lead}");
    assert_eq!(lead["success"], true);
    assert_eq!(lead["lead_id"], lead["lead"]["id"]);
    let lead = &lead["lead"];
    // the original starts every new lead in S1; its stage is not taken from the body
    assert_eq!(lead["stage"], "S1");
    assert_eq!(lead["status"], "New");
    let today = crate::leads::today();
    assert_eq!(lead["import_date"], today);
    assert_eq!(lead["assigned_date"], today);
    assert_eq!(
        lead["status_history"].as_array().unwrap().len(),
        0,
        "no change yet"
    );
}

/// Today's date in IST, as the API writes dates.
pub fn today() -> String {
    pulse::domain::ist_today().to_string()
}

async fn duplicate_phone_is_409_naming_the_existing_lead(app: TestApp) {
    let t = app.admin_token().await;
    let first = create(&app, &t, json!({"name": "A", "phone_number": "9876543210"})).await;
    let id = first["id"].as_str().unwrap();
    let (status, body) = status_json(
        app.post(
            &format!("{API}/leads"),
            &t,
            json!({"name": "B", "phone_number": "+919876543210"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["detail"].as_str().unwrap().contains(id), "{body}");

    // a patch onto a taken number is refused the same way, and changes nothing
    let other = create(&app, &t, json!({"name": "C", "phone_number": "9876543211"})).await;
    let oid = other["id"].as_str().unwrap();
    let (status, body) = status_json(
        app.patch(
            &format!("{API}/leads/{oid}"),
            &t,
            json!({"phone_number": "9876543210", "name": "changed"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["detail"].as_str().unwrap().contains(id), "{body}");
    assert_eq!(get_lead(&app, &t, oid).await.1, other);
    let all = list_all(&app, &t, "").await;
    assert_eq!(all.len(), 2);
}

async fn bad_input_is_4xx_and_changes_nothing(app: TestApp) {
    let t = app.admin_token().await;
    let lead = create(
        &app,
        &t,
        json!({"name": "Stable", "phone_number": phone(1)}),
    )
    .await;
    let id = lead["id"].as_str().unwrap();
    let path = format!("{API}/leads/{id}");

    // create: invalid phone, NUL, unknown status, blank name → 422 naming the field
    for (body, field) in [
        (
            json!({"name": "X", "phone_number": "12345"}),
            "phone_number",
        ),
        (json!({"name": "X\u{0}Y", "phone_number": phone(2)}), "name"),
        (
            json!({"name": "X", "phone_number": phone(2), "status": "Maybe"}),
            "status",
        ),
        (
            json!({"name": "X", "phone_number": phone(2), "stage": "S9"}),
            "stage",
        ),
        (json!({"name": " ", "phone_number": phone(2)}), "name"),
    ] {
        let (status, err) = status_json(app.post(&format!("{API}/leads"), &t, body).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert!(err["detail"].as_str().unwrap().starts_with(field), "{err}");
    }
    let (status, _) = status_json(
        app.post(
            &format!("{API}/leads"),
            &t,
            json!({"name": "X", "phone_number": phone(2), "end_date": "31/12/2026"}),
        )
        .await,
    )
    .await;
    assert!(status.is_client_error());

    // patch: the same rules, and the lead is untouched afterwards
    for body in [
        json!({"phone_number": "555", "name": "changed"}),
        json!({"status": "Maybe", "name": "changed"}),
        json!({"remarks": "a\u{0}b", "name": "changed"}),
        json!({"callback_date": "tomorrow", "name": "changed"}),
        json!({"name": ""}),
    ] {
        let r = app.patch(&path, &t, body.clone()).await;
        assert!(r.status().is_client_error(), "{body} → {}", r.status());
        assert_eq!(get_lead(&app, &t, id).await.1, lead, "after {body}");
    }
    let r = app
        .post(&format!("{path}/remarks"), &t, json!({"remark": "x\u{0}"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .patch(
            &format!("{API}/leads/bulk-update-status"),
            &t,
            json!({"lead_ids": [id], "status": "Nope"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .patch(
            &format!("{API}/reassign-date"),
            &t,
            json!({"lead_ids": [id], "new_date": "2026-13-01"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(get_lead(&app, &t, id).await.1, lead);

    // unknown and malformed ids
    let unknown = uuid::Uuid::new_v4();
    assert_eq!(
        get_lead(&app, &t, &unknown.to_string()).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_lead(&app, &t, "not-a-uuid").await.0,
        StatusCode::NOT_FOUND
    );
    let r = app
        .patch(&format!("{API}/leads/{unknown}"), &t, json!({"name": "x"}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app
        .post(&format!("{API}/leads/{unknown}/call-done"), &t, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // list parameters
    for q in [
        "start_date=2026-02-30",
        "end_date=yesterday",
        "stage=S7",
        "status=Maybe",
        "page=0",
        "limit=abc",
        "unassigned_only=perhaps",
    ] {
        let (status, body) = status_json(app.get(&format!("{API}/leads?{q}"), &t).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {body}");
        let param = q.split('=').next().unwrap();
        assert!(
            body["detail"].as_str().unwrap().contains(param),
            "{q}: {body}"
        );
    }
    assert_eq!(list_all(&app, &t, "").await.len(), 1, "nothing was created");
}

async fn every_filter_selects_the_right_leads(app: TestApp) {
    let t = app.admin_token().await;
    let specs = [
        (
            "Priya Raman",
            "S1",
            "Interested",
            "Facebook",
            Some("a@tc.test"),
            "2026-01-05",
        ),
        (
            "PRIYA devi",
            "S2",
            "Verified",
            "Walk-in",
            Some("A@TC.test"),
            "2026-01-10",
        ),
        (
            "Karthik",
            "S3",
            "Training WIP",
            "Facebook",
            None,
            "2026-01-15",
        ),
        (
            "கார்த்திக் ராஜா",
            "S1",
            "RNR",
            "Referral",
            Some("b@tc.test"),
            "2026-01-20",
        ),
        (
            "50%_off Kumar",
            "S4",
            "DONE!",
            "Walk-in",
            None,
            "2026-01-25",
        ),
    ];
    let mut made = Vec::new();
    for (i, (name, stage, status, source, tc, day)) in specs.iter().enumerate() {
        let lead = create(
            &app,
            &t,
            json!({"name": name, "phone_number": phone(i as u32), "stage": stage,
                   "status": status, "source": source, "assigned_telecaller": tc,
                   "import_date": day}),
        )
        .await;
        made.push(lead);
    }
    let id = |i: usize| made[i]["id"].as_str().unwrap().to_string();
    let want = |is: &[usize]| {
        let mut v: Vec<String> = is.iter().map(|i| id(*i)).collect();
        v.sort();
        v
    };
    let cases: Vec<(&str, Vec<usize>)> = vec![
        ("", vec![0, 1, 2, 3, 4]),
        ("search=priya", vec![0, 1]),
        ("search=RAMAN", vec![0]),
        ("search=கார்த்", vec![3]),
        ("search=karthik, 9800000004", vec![2, 4]),
        ("search=%25_", vec![4]),
        ("search=_", vec![4]),
        ("search=50%25_o", vec![4]),
        ("search=ri", vec![0, 1]),
        ("search=\"pri", vec![]),
        ("search=9800000001", vec![1]),
        // a digits-only fragment matches inside the phone number (the
        // original's search, COMPAT §2.3; it used to be a name fragment)
        ("search=980000000", vec![0, 1, 2, 3, 4]),
        ("search=00003", vec![3]),
        ("search=03, priya", vec![0, 1, 3]),
        ("stage=S1", vec![0, 3]),
        ("stage=S2%20-%20Docs%20Collection", vec![1]),
        ("status=verified", vec![1]),
        ("status=DONE", vec![4]),
        ("source=Facebook", vec![0, 2]),
        ("telecaller=a@tc.test", vec![0, 1]),
        ("telecaller=B@TC.TEST", vec![3]),
        ("unassigned_only=true", vec![2, 4]),
        ("start_date=2026-01-10", vec![1, 2, 3, 4]),
        ("end_date=2026-01-10", vec![0, 1]),
        ("start_date=2026-01-10&end_date=2026-01-20", vec![1, 2, 3]),
        ("source=Walk-in&stage=S4", vec![4]),
        ("stage=&status=&source=", vec![0, 1, 2, 3, 4]),
    ];
    for (q, expect) in cases {
        let got = ids(&list_all(&app, &t, q).await);
        assert_eq!(got, want(&expect), "filter {q}");
        let (_, body) = status_json(app.get(&format!("{API}/leads?{q}"), &t).await).await;
        assert_eq!(body["total"], expect.len(), "total for {q}");
    }
}

async fn pages_are_stable_and_ordered(app: TestApp) {
    let t = app.admin_token().await;
    let mut all = Vec::new();
    for i in 0..12 {
        let l = create(
            &app,
            &t,
            json!({"name": format!("L{i}"), "phone_number": phone(i)}),
        )
        .await;
        all.push(l["id"].as_str().unwrap().to_string());
    }
    // call 3 of them, oldest first: they sort after the never-called ones
    let called = [all[5].clone(), all[1].clone(), all[9].clone()];
    for id in &called {
        let r = app
            .post(&format!("{API}/leads/{id}/call-done"), &t, json!({}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut never: Vec<String> = all
        .iter()
        .filter(|i| !called.contains(i))
        .cloned()
        .collect();
    never.sort();
    let expected: Vec<String> = never.into_iter().chain(called.iter().cloned()).collect();

    let mut seen = Vec::new();
    for page in 1..=3 {
        let (status, body) = status_json(
            app.get(&format!("{API}/leads?limit=5&page={page}"), &t)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["total"], 12);
        assert_eq!(body["total_pages"], 3);
        assert_eq!(body["page"], page);
        assert_eq!(body["limit"], 5);
        seen.extend(
            body["leads"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_string()),
        );
    }
    assert_eq!(
        seen, expected,
        "never called first (by id), then oldest call"
    );
    let (_, body) = status_json(app.get(&format!("{API}/leads?limit=1000"), &t).await).await;
    assert_eq!(body["limit"], 100, "limit is capped");
    let (_, body) = status_json(app.get(&format!("{API}/leads?page=9"), &t).await).await;
    assert_eq!(body["leads"].as_array().unwrap().len(), 0);
}

async fn completion_status_moves_the_lead_on_and_history_grows(app: TestApp) {
    let t = app.admin_token().await;
    let lead = create(&app, &t, json!({"name": "P", "phone_number": phone(1)})).await;
    let id = lead["id"].as_str().unwrap();
    let (status, l) = status_json(
        app.patch(
            &format!("{API}/leads/{id}"),
            &t,
            json!({"status": "highly interested"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(
        (l["stage"].as_str(), l["status"].as_str()),
        (Some("S2"), Some("Docs Upload Pending"))
    );
    let hist: Vec<(String, String)> = l["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["stage"].as_str().unwrap().into(),
                e["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        hist,
        [
            ("S1".to_string(), "Highly Interested".to_string()),
            ("S2".to_string(), "Docs Upload Pending".to_string())
        ]
    );
    assert_eq!(
        l["status_history"][0]["changed_by"],
        crate::helpers::ADMIN_EMAIL
    );
    // through the bulk endpoint too
    let (_, r) = status_json(
        app.patch(
            &format!("{API}/leads/bulk-update-status"),
            &t,
            json!({"lead_ids": [id], "status": "Verified"}),
        )
        .await,
    )
    .await;
    assert_eq!(r["updated"], 1);
    let (_, l) = get_lead(&app, &t, id).await;
    assert_eq!(
        (l["stage"].as_str(), l["status"].as_str()),
        (Some("S3"), Some("Schedule Pending"))
    );
    assert_eq!(l["status_history"].as_array().unwrap().len(), 4);
}

async fn callback_status_sets_the_callback_date(app: TestApp) {
    let t = app.admin_token().await;
    let lead = create(&app, &t, json!({"name": "P", "phone_number": phone(1)})).await;
    let id = lead["id"].as_str().unwrap();
    let (_, l) = status_json(
        app.patch(
            &format!("{API}/leads/{id}"),
            &t,
            json!({"status": "Call back 1W"}),
        )
        .await,
    )
    .await;
    let today = pulse::domain::ist_today();
    let expect = today.checked_add_days(Days::new(7)).unwrap().to_string();
    assert_eq!(l["callback_date"], expect);
    let (_, l) = status_json(
        app.patch(
            &format!("{API}/leads/{id}"),
            &t,
            json!({"status": "Call back 1D", "callback_date": "2030-01-01"}),
        )
        .await,
    )
    .await;
    assert_eq!(l["callback_date"], "2030-01-01", "an explicit date wins");
}

async fn remarks_and_call_done(app: TestApp) {
    let t = app.admin_token().await;
    let lead = create(&app, &t, json!({"name": "P", "phone_number": phone(1)})).await;
    let id = lead["id"].as_str().unwrap();
    for text in ["first call", "=2000+500 deposit"] {
        let (status, r) = status_json(
            app.post(
                &format!("{API}/leads/{id}/remarks"),
                &t,
                json!({"remark": text}),
            )
            .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["remarks"], text);
    }
    let (status, r) = status_json(app.get(&format!("{API}/leads/{id}/remarks"), &t).await).await;
    assert_eq!(status, StatusCode::OK);
    let texts: Vec<&str> = r["remarks_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["remark"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["first call", "=2000+500 deposit"]);
    assert_eq!(
        r["remarks_history"][1]["updated_by"],
        crate::helpers::ADMIN_EMAIL
    );

    let before = Utc::now() - chrono::Duration::seconds(1);
    let (status, l) = status_json(
        app.post(&format!("{API}/leads/{id}/call-done"), &t, json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let called: chrono::DateTime<Utc> = l["last_called"].as_str().unwrap().parse().unwrap();
    assert!(called > before);
    // the original's {success, message, lead_id, last_called}, the lead beside them
    assert_eq!(
        (l["success"].clone(), l["lead_id"].clone()),
        (json!(true), json!(id))
    );
    assert_eq!(get_lead(&app, &t, id).await.1, l["lead"]);
}

async fn status_summary_matches_independent_counts(app: TestApp) {
    let t = app.admin_token().await;
    let statuses = [
        "New",
        "Interested",
        "RNR",
        "Verified",
        "CT WIP",
        "DONE!",
        "RNR",
    ];
    let mut expected: std::collections::HashMap<(String, String), i64> = Default::default();
    let mut fb = 0;
    for i in 0..21u32 {
        let status = statuses[i as usize % statuses.len()];
        let source = if i % 3 == 0 { "Facebook" } else { "Walk-in" };
        let l = create(
            &app,
            &t,
            json!({"name": format!("N{i}"), "phone_number": phone(i), "status": status,
                   "source": source}),
        )
        .await;
        *expected
            .entry((
                l["stage"].as_str().unwrap().into(),
                l["status"].as_str().unwrap().into(),
            ))
            .or_default() += 1;
        if source == "Facebook" {
            fb += 1;
        }
    }
    let (status, s) = status_json(app.get(&format!("{API}/status-summary"), &t).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["total_leads"], 21);
    for ((stage, status), n) in &expected {
        assert_eq!(s["summary"][stage][status], *n, "{stage} {status}");
    }
    assert_eq!(s["summary"]["S3"]["Approved"], 0, "every status listed");
    for stage in ["S1", "S2", "S3", "S4"] {
        let sum: i64 = expected
            .iter()
            .filter(|((st, _), _)| st == stage)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(s["stage_totals"][stage], sum, "{stage}");
    }
    let (_, s) = status_json(
        app.get(&format!("{API}/status-summary?source=Facebook"), &t)
            .await,
    )
    .await;
    assert_eq!(s["total_leads"], fb);
    let (_, s) = status_json(
        app.get(
            &format!("{API}/status-summary?start_date=2000-01-01&end_date=2000-01-02"),
            &t,
        )
        .await,
    )
    .await;
    assert_eq!(s["total_leads"], 0);
}

async fn sources_are_counted_and_merged(app: TestApp) {
    let t = app.admin_token().await;
    for (i, s) in ["FB", "Facebook", "facebook ad", "Walk-in", "FB"]
        .iter()
        .enumerate()
    {
        create(
            &app,
            &t,
            json!({"name": "S", "phone_number": phone(i as u32), "source": s}),
        )
        .await;
    }
    // the original's {value, label} options with Pulse's {source, count} beside them
    let sources = |body: &Value| -> Value {
        assert_eq!(body["success"], true);
        assert_eq!(body["count"], body["sources"].as_array().unwrap().len());
        body["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                assert_eq!((&o["value"], &o["label"]), (&o["source"], &o["source"]));
                json!({"source": o["source"], "count": o["count"]})
            })
            .collect()
    };
    let (_, body) = status_json(app.get(&format!("{API}/sources"), &t).await).await;
    assert_eq!(
        sources(&body),
        json!([
            {"source": "FB", "count": 2},
            {"source": "Facebook", "count": 1},
            {"source": "Walk-in", "count": 1},
            {"source": "facebook ad", "count": 1},
        ])
    );
    let (status, r) = status_json(
        app.post(
            &format!("{API}/sources/merge"),
            &t,
            json!({"from": ["FB", "facebook ad", "nonexistent"], "to": "Facebook"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["merged"], 3);
    assert_eq!(r["total_leads_updated"], 3);
    let (_, body) = status_json(app.get(&format!("{API}/sources"), &t).await).await;
    assert_eq!(
        sources(&body),
        json!([{"source": "Facebook", "count": 4}, {"source": "Walk-in", "count": 1}])
    );
    let r = app
        .post(
            &format!("{API}/sources/merge"),
            &t,
            json!({"from": ["x"], "to": " "}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Counts per (stage, status) of the listed leads, as the summary shows them.
fn tally(leads: &[Value]) -> std::collections::BTreeMap<(String, String), i64> {
    let mut out = std::collections::BTreeMap::new();
    for l in leads {
        let key = (
            l["stage"].as_str().unwrap().to_string(),
            l["status"].as_str().unwrap().to_string(),
        );
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

/// The non-zero cells of a status summary.
fn cells(summary: &Value) -> std::collections::BTreeMap<(String, String), i64> {
    let mut out = std::collections::BTreeMap::new();
    for (stage, statuses) in summary["summary"].as_object().unwrap() {
        for (status, n) in statuses.as_object().unwrap() {
            if n.as_i64().unwrap() > 0 {
                out.insert((stage.clone(), status.clone()), n.as_i64().unwrap());
            }
        }
    }
    out
}

/// The summary (maintained counters on SQLite) must agree with the listed
/// leads (the leads table itself) after every kind of write.
async fn summary_follows_every_change(app: TestApp) {
    let t = app.admin_token().await;
    // bulk assignment needs an active telecaller account
    app.user_with_role(&t, "tc@x.test", "telecaller").await;
    app.user_with_role(&t, "someone@x.test", "telecaller").await;
    const SOURCES: [&str; 3] = ["A", "B", "C"];
    let mut ids = Vec::new();
    for i in 0..12u32 {
        let l = create(
            &app,
            &t,
            json!({"name": format!("C{i}"), "phone_number": phone(i),
                   "source": SOURCES[i as usize % 3],
                   "import_date": format!("2026-02-{:02}", 1 + i),
                   "assigned_telecaller": if i % 2 == 0 { Some("Tc@x.test") } else { None }}),
        )
        .await;
        ids.push(l["id"].as_str().unwrap().to_string());
    }
    let check = |label: &'static str| {
        let app = &app;
        let t = t.clone();
        async move {
            for q in [
                "",
                "source=A",
                "telecaller=tc@X.test",
                "unassigned_only=true",
                "start_date=2026-02-03&end_date=2026-02-08",
                "stage=S2",
                "source=B&stage=S1",
                "status=Highly Interested",
                "stage=S1&status=New",
            ] {
                let listed = tally(&list_all(app, &t, q).await);
                let (_, s) =
                    status_json(app.get(&format!("{API}/status-summary?{q}"), &t).await).await;
                assert_eq!(cells(&s), listed, "after {label}, filter {q:?}");
            }
        }
    };
    check("create").await;
    app.patch(
        &format!("{API}/leads/bulk-update-status"),
        &t,
        json!({"lead_ids": [ids[0], ids[1], ids[2]], "status": "Highly Interested"}),
    )
    .await;
    app.patch(
        &format!("{API}/leads/{}", ids[3]),
        &t,
        json!({"stage": "S3", "source": "A"}),
    )
    .await;
    check("status changes").await;
    app.patch(
        &format!("{API}/bulk-assign"),
        &t,
        json!({"lead_ids": [ids[1], ids[5]], "telecaller": "TC@X.TEST"}),
    )
    .await;
    app.post(&format!("{API}/leads/{}/unassign", ids[0]), &t, json!({}))
        .await;
    app.patch(
        &format!("{API}/leads/{}", ids[7]),
        &t,
        json!({"import_date": "2026-02-05", "assigned_telecaller": "someone@x.test"}),
    )
    .await;
    check("assignments").await;
    app.post(
        &format!("{API}/sources/merge"),
        &t,
        json!({"from": ["C"], "to": "B"}),
    )
    .await;
    app.post(
        &format!("{API}/leads/bulk-delete"),
        &t,
        json!({"lead_ids": [ids[2], ids[4]]}),
    )
    .await;
    delete(&app, &format!("{API}/leads/{}", ids[6]), &t).await;
    check("merge and deletes").await;
}
