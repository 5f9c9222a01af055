//! Telecallers' calls as events: a telecaller's day played through the API
//! (called, connected, no response, a callback tomorrow, the desk for
//! tomorrow and yesterday), the figures against counts kept by the test as
//! it acts, the admin's summary, the vocabulary (both spellings, Churn),
//! assignments needing an account, and the migration of old spellings.

use chrono::{Days, FixedOffset, NaiveDate, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{Backend, TestApp, status_json};
use crate::import_support::upload;
use crate::leads::{API, create, phone};

dual_backend_tests!(
    a_telecallers_day_and_its_figures,
    vocabulary_both_spellings_import_and_export,
    assignments_need_an_active_telecaller,
    old_spellings_are_migrated,
    auto_progression_and_completed_per_stage,
);

fn ist_today() -> NaiveDate {
    let ist = FixedOffset::east_opt(19_800).unwrap();
    Utc::now().with_timezone(&ist).date_naive()
}

/// The figures the test expects, counted as it acts.
#[derive(Default, Debug, PartialEq)]
struct Tally {
    calls_made: i64,
    connected: i64,
    no_response: i64,
    status_changes: i64,
    conversions: i64,
}

impl Tally {
    fn of(v: &Value) -> Tally {
        let n = |k: &str| v[k].as_i64().unwrap_or_else(|| panic!("{k} in {v}"));
        Tally {
            calls_made: n("calls_made"),
            connected: n("connected"),
            no_response: n("no_response"),
            status_changes: n("status_changes"),
            conversions: n("conversions"),
        }
    }
}

async fn get(app: &TestApp, t: &str, path: &str) -> (StatusCode, Value) {
    status_json(app.get(path, t).await).await
}

async fn post(app: &TestApp, t: &str, path: &str) -> (StatusCode, Value) {
    status_json(app.post(path, t, json!({})).await).await
}

async fn a_telecallers_day_and_its_figures(app: TestApp) {
    let admin = app.admin_token().await;
    const TC: &str = "day.tc@calls.test";
    let (_, tc) = app.user_with_role(&admin, TC, "telecaller").await;
    app.user_with_role(&admin, "other.tc@calls.test", "telecaller")
        .await;
    let mut ids = Vec::new();
    for i in 0..4u32 {
        let l = create(
            &app,
            &admin,
            json!({"name": format!("D{i}"), "phone_number": phone(100 + i)}),
        )
        .await;
        ids.push(l["id"].as_str().unwrap().to_string());
    }
    let other = create(
        &app,
        &admin,
        json!({"name": "O", "phone_number": phone(200)}),
    )
    .await;
    let other = other["id"].as_str().unwrap().to_string();
    let (s, _) = status_json(
        app.patch(
            &format!("{API}/bulk-assign"),
            &admin,
            json!({"lead_ids": ids, "telecaller": TC}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    app.patch(
        &format!("{API}/bulk-assign"),
        &admin,
        json!({"lead_ids": [other], "telecaller": "other.tc@calls.test"}),
    )
    .await;

    let mut mine = Tally::default();
    let lead = |i: usize| format!("{API}/leads/{}", ids[i]);
    // A: called; B: connected; C: no response (→ RNR); A again via call-done
    let (s, a) = post(&app, &tc, &format!("{}/mark-called", lead(0))).await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["success"], true);
    assert_eq!(a["lead"]["last_called_by"], TC);
    mine.calls_made += 1;
    let (s, b) = post(&app, &tc, &format!("{}/mark-connected", lead(1))).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["lead"]["calling_history"][0]["outcome"], "connected");
    mine.calls_made += 1;
    mine.connected += 1;
    let (s, c) = post(&app, &tc, &format!("{}/mark-no-response", lead(2))).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["lead"]["status"], "RNR");
    assert_eq!(c["lead"]["last_no_response_by"], TC);
    assert_eq!(c["last_no_response"], c["lead"]["last_no_response"]);
    let history = c["lead"]["status_history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["status"], "RNR");
    assert_eq!(history.last().unwrap()["changed_by"], TC);
    mine.calls_made += 1;
    mine.no_response += 1;
    mine.status_changes += 1;
    let (s, a2) = post(&app, &tc, &format!("{}/call-done", lead(0))).await;
    assert_eq!(s, StatusCode::OK, "{a2}");
    assert_eq!(a2["calling_history"].as_array().unwrap().len(), 2);
    assert_eq!(a2["status"], "New", "call-done changes no status");
    mine.calls_made += 1;

    // B: call back tomorrow; D: Highly Interested (a conversion, moves to S2)
    let (s, b2) = status_json(
        app.patch(&lead(1), &tc, json!({"status": "Call back 1D"}))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b2}");
    let tomorrow = ist_today().checked_add_days(Days::new(1)).unwrap();
    assert_eq!(b2["callback_date"], tomorrow.to_string());
    assert_eq!(
        b2["last_called_by"], TC,
        "PATCH answers the lead with its calls"
    );
    mine.status_changes += 1;
    let (_, d) = status_json(
        app.patch(&lead(3), &tc, json!({"status": "highly interested"}))
            .await,
    )
    .await;
    assert_eq!(
        (d["stage"].as_str(), d["status"].as_str()),
        (Some("S2"), Some("Docs Upload Pending"))
    );
    mine.status_changes += 1;
    mine.conversions += 1;

    // the summary counts D's Highly Interested although D moved on to S2
    let (_, sum) = get(&app, &admin, &format!("{API}/status-summary")).await;
    assert_eq!(sum["summary"]["S1"]["Highly Interested"], 0);
    assert_eq!(sum["completed"]["S1"], 1, "{sum}");
    assert_eq!(sum["completed"]["S2"], 0, "{sum}");

    // not their lead: 404, and nothing recorded
    for path in [
        "mark-called",
        "mark-connected",
        "mark-no-response",
        "call-done",
        "history",
    ] {
        let r = if path == "history" {
            app.get(&format!("{API}/leads/{other}/{path}"), &tc).await
        } else {
            app.post(&format!("{API}/leads/{other}/{path}"), &tc, json!({}))
                .await
        };
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // an admin's call on the other lead counts for the admin
    let (s, _) = post(&app, &admin, &format!("{API}/leads/{other}/mark-connected")).await;
    assert_eq!(s, StatusCode::OK);

    // the lead's history and its reads
    let (s, h) = get(&app, &tc, &format!("{}/history", lead(2))).await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["no_response_history"].as_array().unwrap().len(), 1);
    assert_eq!(h["no_response_history"][0]["marked_by"], TC);
    assert_eq!(h["calling_history"][0]["outcome"], "no_response");
    let (_, list) = get(&app, &tc, &format!("{API}/leads")).await;
    let by_id = |id: &str| {
        list["leads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        by_id(&ids[0])["calling_history"].as_array().unwrap().len(),
        2
    );
    assert_eq!(by_id(&ids[3])["last_called_by"], Value::Null);

    // the figures: the test's own counts
    let today = ist_today();
    let (s, f) = get(&app, &tc, "/api/telecaller-desk/figures").await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["telecallers"].as_array().unwrap().len(), 1, "{f}");
    assert_eq!(f["telecallers"][0]["telecaller"], TC);
    assert_eq!(Tally::of(&f["telecallers"][0]["totals"]), mine);
    assert_eq!(
        Tally::of(&f["telecallers"][0]["days"][today.to_string()]),
        mine
    );
    let (s, _) = get(
        &app,
        &tc,
        "/api/telecaller-desk/figures?telecaller=other.tc@calls.test",
    )
    .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a telecaller sees only their own figures"
    );
    // yesterday: nothing; a range ending today: the same
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap();
    let (_, f) = get(&app, &admin, &format!("/api/telecaller-desk/figures?telecaller={TC}&start_date={yesterday}&end_date={yesterday}")).await;
    assert_eq!(Tally::of(&f["totals"]), Tally::default());
    let (_, f) = get(
        &app,
        &admin,
        &format!(
            "/api/telecaller-desk/figures?telecaller={TC}&start_date={yesterday}&end_date={today}"
        ),
    )
    .await;
    assert_eq!(Tally::of(&f["totals"]), mine);
    // the admin's summary across telecallers
    let (_, f) = get(&app, &admin, "/api/telecaller-desk/figures").await;
    let logins: Vec<&str> = f["telecallers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["telecaller"].as_str().unwrap())
        .collect();
    assert_eq!(logins, vec![TC, "root@pulse.test"], "{f}");
    let admins = Tally {
        calls_made: 1,
        connected: 1,
        ..Tally::default()
    };
    assert_eq!(Tally::of(&f["telecallers"][1]["totals"]), admins);
    assert_eq!(
        f["totals"]["calls_made"],
        mine.calls_made + admins.calls_made
    );
    let (s, _) = get(
        &app,
        &admin,
        &format!("/api/telecaller-desk/figures?start_date={today}&end_date={yesterday}"),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // the desk today: all four assigned today; their order: uncalled first
    // (D), then the longest-ago called: B, C, A
    let (s, desk) = get(&app, &tc, &format!("{API}/telecaller-desk")).await;
    assert_eq!(s, StatusCode::OK, "{desk}");
    assert_eq!(desk["today"]["total"], 4);
    let order: Vec<&str> = desk["leads"]["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, vec![&ids[3], &ids[1], &ids[2], &ids[0]]);
    assert_eq!(Tally::of(&desk["figures"]), mine);
    // tomorrow: B's callback is due, nothing assigned, no figures yet
    let (_, desk) = get(&app, &tc, &format!("{API}/telecaller-desk?date={tomorrow}")).await;
    assert_eq!(desk["date"], tomorrow.to_string());
    assert_eq!(desk["today"]["total"], 0);
    assert_eq!(desk["callbacks_due"]["total"], 1);
    assert_eq!(desk["callbacks_due"]["leads"][0]["id"], ids[1].as_str());
    assert_eq!(Tally::of(&desk["figures"]), Tally::default());
    // the day after: B is overdue
    let after = tomorrow.checked_add_days(Days::new(1)).unwrap();
    let (_, desk) = get(
        &app,
        &admin,
        &format!("{API}/telecaller-desk?telecaller={TC}&date={after}"),
    )
    .await;
    assert_eq!(desk["overdue"]["total"], 1);
    assert_eq!(desk["callbacks_due"]["total"], 0);
    // yesterday: nothing assigned, nothing due
    let (_, desk) = get(
        &app,
        &tc,
        &format!("{API}/telecaller-desk?date={yesterday}"),
    )
    .await;
    assert_eq!(
        (
            desk["today"]["total"].as_i64(),
            desk["callbacks_due"]["total"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let (s, _) = get(&app, &tc, &format!("{API}/telecaller-desk?date=2026-13-01")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn vocabulary_both_spellings_import_and_export(app: TestApp) {
    let admin = app.admin_token().await;
    let l = create(
        &app,
        &admin,
        json!({"name": "V1", "phone_number": phone(1), "status": "Interested No DL"}),
    )
    .await;
    assert_eq!(l["status"], "Interested, No DL");
    let id = l["id"].as_str().unwrap();
    let (_, p) = status_json(
        app.patch(
            &format!("{API}/leads/{id}"),
            &admin,
            json!({"status": "quick churn"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (p["stage"].as_str(), p["status"].as_str()),
        (Some("S4"), Some("Quick Churn"))
    );
    create(
        &app,
        &admin,
        json!({"name": "V2", "phone_number": phone(2), "status": "Interested, No Badge"}),
    )
    .await;
    create(
        &app,
        &admin,
        json!({"name": "V3", "phone_number": phone(3), "status": "Churn"}),
    )
    .await;

    // import with both spellings
    let csv = format!(
        "Name,Phone Number,Status\nI1,{},Interested No Badge\nI2,{},\"Interested, No DL\"\nI3,{},quick churn\n",
        phone(11),
        phone(12),
        phone(13)
    );
    let (s, body, _) = upload(&app, &admin, &[], "v.csv", csv.as_bytes()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // filters accept both spellings
    for q in [
        "Interested No Badge",
        "Interested, No Badge",
        "interested,no badge",
    ] {
        let (_, list) = get(
            &app,
            &admin,
            &format!("{API}/leads?status={}", urlencode(q)),
        )
        .await;
        assert_eq!(list["total"], 2, "{q}: {list}");
        for l in list["leads"].as_array().unwrap() {
            assert_eq!(l["status"], "Interested, No Badge");
        }
    }
    let (_, sum) = get(&app, &admin, &format!("{API}/status-summary")).await;
    assert_eq!(sum["summary"]["S1"]["Interested, No Badge"], 2, "{sum}");
    assert_eq!(sum["summary"]["S1"]["Interested, No DL"], 1, "{sum}");
    assert_eq!(sum["summary"]["S4"]["Quick Churn"], 2, "{sum}");
    assert_eq!(sum["summary"]["S4"]["Churn"], 1, "{sum}");
    assert!(
        sum["summary"]["S1"].get("Interested No DL").is_none(),
        "{sum}"
    );
    // three leads in S4: each passed the completions of S1–S3, none DONE!
    assert_eq!(
        sum["completed"],
        json!({"S1": 3, "S2": 3, "S3": 3, "S4": 0}),
        "{sum}"
    );

    // the export writes the original's spellings; re-importing it as
    // replace changes nothing
    let r = app
        .post(
            "/api/driver-onboarding/bulk-export",
            &admin,
            json!({"format": "csv", "columns": ["id", "name", "phone_number", "status"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert_eq!(
        text.matches("\"Interested, No Badge\"").count(),
        2,
        "{text}"
    );
    assert_eq!(text.matches("\"Interested, No DL\"").count(), 1, "{text}");
    assert!(!text.contains("Interested No"), "{text}");
    let (s, body, _) = upload(
        &app,
        &admin,
        &[("duplicate_action", "replace")],
        "back.csv",
        text.as_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (_, again) = get(&app, &admin, &format!("{API}/status-summary")).await;
    assert_eq!(again, sum, "a round trip changes no status");
}

fn urlencode(s: &str) -> String {
    s.replace(' ', "%20").replace(',', "%2C")
}

async fn assignments_need_an_active_telecaller(app: TestApp) {
    let admin = app.admin_token().await;
    let l = create(&app, &admin, json!({"name": "A", "phone_number": phone(1)})).await;
    let id = l["id"].as_str().unwrap();
    app.user_with_role(&admin, "ops@assign.test", "ops_team")
        .await;
    let (tc_id, _) = app
        .user_with_role(&admin, "tc@assign.test", "telecaller")
        .await;
    for who in ["nobody@assign.test", "ops@assign.test"] {
        let (s, b) = status_json(
            app.patch(
                &format!("{API}/leads/{id}"),
                &admin,
                json!({"assigned_telecaller": who}),
            )
            .await,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{who}: {b}");
        assert!(b["detail"].as_str().unwrap().contains(who), "{b}");
        let (s, b) = status_json(
            app.patch(
                &format!("{API}/bulk-assign"),
                &admin,
                json!({"lead_ids": [id], "telecaller": who}),
            )
            .await,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{who}: {b}");
        assert!(b["detail"].as_str().unwrap().contains(who), "{b}");
    }
    let (s, b) = status_json(
        app.patch(
            &format!("{API}/leads/{id}"),
            &admin,
            json!({"assigned_telecaller": "TC@assign.test"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // a disabled telecaller is no longer assignable
    let r = app
        .post(&format!("/api/users/{tc_id}/disable"), &admin, json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let (s, _) = status_json(
        app.patch(
            &format!("{API}/bulk-assign"),
            &admin,
            json!({"lead_ids": [id], "telecaller": "tc@assign.test"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // an import keeps an unknown name as text
    let csv = format!(
        "Name,Phone Number,Assigned Telecaller\nI,{},Ravi Kumar\n",
        phone(2)
    );
    let (s, body, _) = upload(&app, &admin, &[], "a.csv", csv.as_bytes()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (_, list) = get(&app, &admin, &format!("{API}/leads?search={}", phone(2))).await;
    assert_eq!(
        list["leads"][0]["assigned_telecaller"], "Ravi Kumar",
        "{list}"
    );
}

/// A database written before 0010 with the old spellings: the lead's status,
/// its history and (SQLite) the summary counters come out in the original's.
async fn old_spellings_are_migrated(app: TestApp) {
    let admin = app.admin_token().await;
    let l = create(
        &app,
        &admin,
        json!({"name": "M", "phone_number": phone(1), "status": "Interested, No DL"}),
    )
    .await;
    let id = l["id"].as_str().unwrap().to_string();
    create(
        &app,
        &admin,
        json!({"name": "N", "phone_number": phone(2), "status": "Interested, No Badge"}),
    )
    .await;
    // undo 0010 and write the old spellings, as an older Pulse did
    let undo = [
        "DROP TABLE call_events",
        "DELETE FROM schema_migrations WHERE name = '0010_call_events'",
        "UPDATE leads SET status = 'Interested No DL' WHERE status = 'Interested, No DL'",
        "UPDATE leads SET status = 'Interested No Badge' WHERE status = 'Interested, No Badge'",
    ];
    match app.backend {
        Backend::Sqlite => {
            let path = app
                .database_url
                .trim_start_matches("sqlite://")
                .trim_start_matches("sqlite:")
                .to_string();
            let conn = rusqlite::Connection::open(path).unwrap();
            for sql in undo {
                conn.execute_batch(sql).unwrap();
            }
            conn.execute_batch("UPDATE leads SET status_history = replace(status_history, 'Interested, No', 'Interested No')").unwrap();
            let n: i64 = conn
                .query_row(
                    "SELECT n FROM lead_status_counts WHERE status = 'Interested No DL'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 1, "the counters follow the old spelling");
        }
        Backend::Postgres => {
            let (client, conn) = tokio_postgres::connect(&app.database_url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            for sql in undo {
                client.batch_execute(sql).await.unwrap();
            }
            client.batch_execute("UPDATE leads SET status_history = replace(status_history::text, 'Interested, No', 'Interested No')::jsonb").await.unwrap();
            let row = client
                .query_one(
                    "SELECT status_history::text FROM leads WHERE status = 'Interested No DL'",
                    &[],
                )
                .await
                .unwrap();
            let h: String = row.get(0);
            assert!(h.contains("\"Interested No DL\""), "{h}");
        }
    }
    let migrated = app.state.store.migrate().await.unwrap();
    assert_eq!(migrated, vec!["0010_call_events".to_string()]);
    let (_, lead) = get(&app, &admin, &format!("{API}/leads/{id}")).await;
    assert_eq!(lead["status"], "Interested, No DL");
    assert_eq!(
        lead["status_history"][0]["status"], "Interested, No DL",
        "{lead}"
    );
    let (_, sum) = get(&app, &admin, &format!("{API}/status-summary")).await;
    assert_eq!(sum["summary"]["S1"]["Interested, No DL"], 1, "{sum}");
    assert_eq!(sum["summary"]["S1"]["Interested, No Badge"], 1, "{sum}");
    assert!(
        sum["summary"]["S1"].get("Interested No DL").is_none(),
        "{sum}"
    );
    assert!(
        sum["summary"]["S1"].get("Interested No Badge").is_none(),
        "{sum}"
    );
    // and the events table is back
    let (s, _) = post(&app, &admin, &format!("{API}/leads/{id}/mark-called")).await;
    assert_eq!(s, StatusCode::OK);
}

/// A completion status moves the lead on, step by step to DONE!; one given
/// on create stays (an imported lead at Highly Interested stays in S1) and
/// counts as reached; `completed` per stage follows the filters; old
/// spellings are accepted by the bulk status change too.
async fn auto_progression_and_completed_per_stage(app: TestApp) {
    let admin = app.admin_token().await;
    let sits = create(
        &app,
        &admin,
        json!({"name": "P1", "phone_number": phone(1), "status": "Highly Interested", "source": "A"}),
    )
    .await;
    assert_eq!(
        (sits["stage"].as_str(), sits["status"].as_str()),
        (Some("S1"), Some("Highly Interested"))
    );
    let moves = create(
        &app,
        &admin,
        json!({"name": "P2", "phone_number": phone(2), "source": "B"}),
    )
    .await;
    let id = moves["id"].as_str().unwrap();
    for (asked, stage, status) in [
        ("highly interested", "S2", "Docs Upload Pending"),
        ("VERIFIED", "S3", "Schedule Pending"),
        ("Approved", "S4", "CT Pending"),
        ("done!", "S4", "DONE!"),
    ] {
        let (s, l) = status_json(
            app.patch(
                &format!("{API}/leads/{id}"),
                &admin,
                json!({"status": asked}),
            )
            .await,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{l}");
        assert_eq!(
            (l["stage"].as_str(), l["status"].as_str()),
            (Some(stage), Some(status)),
            "{asked}"
        );
    }
    let (_, l) = get(&app, &admin, &format!("{API}/leads/{id}")).await;
    let entered: Vec<&str> = l["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        entered,
        [
            "Highly Interested",
            "Docs Upload Pending",
            "Verified",
            "Schedule Pending",
            "Approved",
            "CT Pending",
            "DONE!"
        ],
        "{l}"
    );
    let third = create(
        &app,
        &admin,
        json!({"name": "P3", "phone_number": phone(3), "source": "A"}),
    )
    .await;
    let (s, b) = status_json(
        app.patch(
            &format!("{API}/leads/bulk-update-status"),
            &admin,
            json!({"lead_ids": [third["id"]], "status": "Interested No Badge"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");

    let (_, sum) = get(&app, &admin, &format!("{API}/status-summary")).await;
    assert_eq!(sum["summary"]["S1"]["Interested, No Badge"], 1, "{sum}");
    assert_eq!(
        sum["completed"],
        json!({"S1": 2, "S2": 1, "S3": 1, "S4": 1}),
        "{sum}"
    );
    let (_, sum) = get(&app, &admin, &format!("{API}/status-summary?source=A")).await;
    assert_eq!(
        sum["completed"],
        json!({"S1": 1, "S2": 0, "S3": 0, "S4": 0}),
        "{sum}"
    );
}
