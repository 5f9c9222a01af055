//! The original system's frontend and clients against Pulse (COMPAT.md §5,
//! issue 19): one story per checklist group, sending the requests COMPAT
//! says they send and reading back the keys they read and the side effects.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{ADMIN_EMAIL, TestApp, status_json};
use crate::leads::{API, create, delete, get_lead, phone, today};

dual_backend_tests!(
    saves_as_the_original_frontend_sends_them,
    skip_pagination_streams_every_lead,
    the_users_page_and_password_routes,
    create_lead_and_its_duplicate_check,
    bulk_routes_with_the_original_bodies,
    calls_no_responses_and_the_telecaller_desk,
    sources_summary_and_zip_headers,
);

dual_backend_tests!(mod cors with &[("PULSE_CORS_ORIGINS", "https://fe.example")];
    a_frontend_elsewhere_reads_the_export_headers);

/// The original frontend served from another origin (`PULSE_CORS_ORIGINS`).
async fn a_frontend_elsewhere_reads_the_export_headers(app: TestApp) {
    let t = app.admin_token().await;
    create(&app, &t, json!({"name": "C", "phone_number": phone(1)})).await;
    let url = app.url(&format!("{API}/bulk-export"));
    let pre = app
        .client
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://fe.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success(), "preflight: {}", pre.status());
    assert_eq!(
        pre.headers()["access-control-allow-origin"],
        "https://fe.example"
    );
    let r = app
        .client
        .post(&url)
        .header("origin", "https://fe.example")
        .bearer_auth(&t)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for h in [
        "x-total-leads",
        "x-total-files",
        "x-batch-size",
        "content-disposition",
    ] {
        assert!(exposed.contains(h), "{h} in {exposed}");
    }
    assert!(
        r.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let other = app
        .client
        .get(app.url("/api/auth/me"))
        .header("origin", "https://evil.example")
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

async fn get(app: &TestApp, t: &str, path: &str) -> (StatusCode, Value) {
    status_json(app.get(path, t).await).await
}

async fn post(app: &TestApp, t: &str, path: &str, body: Value) -> (StatusCode, Value) {
    status_json(app.post(path, t, body).await).await
}

async fn patch(app: &TestApp, t: &str, path: &str, body: Value) -> (StatusCode, Value) {
    status_json(app.patch(path, t, body).await).await
}

/// Every key of the dialog's save (COMPAT §2.5 b), as loaded: many `null`.
fn dialog_save(lead: &Value, changes: Value) -> Value {
    let mut body = json!({});
    for k in [
        "name",
        "phone_number",
        "email",
        "source",
        "vehicle",
        "driving_license",
        "experience",
        "interested_ev",
        "monthly_salary",
        "current_location",
        "preferred_shift",
        "stage",
        "status",
        "assigned_telecaller",
        "telecaller_notes",
        "notes",
        "remarks",
        "dl_no",
        "badge_no",
        "aadhar_card",
        "pan_card",
        "gas_bill",
        "bank_passbook",
    ] {
        body[k] = lead.get(k).cloned().unwrap_or(Value::Null);
    }
    for (k, v) in changes.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

async fn saves_as_the_original_frontend_sends_them(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, tc) = app.user_with_role(&admin, "tc@x.test", "telecaller").await;
    let (_, ops) = app.user_with_role(&admin, "ops@x.test", "ops_team").await;
    let lead = create(
        &app,
        &admin,
        json!({"name": "Ravi", "phone_number": phone(1), "email": "r@x.test",
               "vehicle": "e-auto", "dl_no": "TN0120190001234", "remarks": "first",
               "assigned_telecaller": "tc@x.test"}),
    )
    .await;
    let id = lead["id"].as_str().unwrap();
    let url = format!("{API}/leads/{id}");

    // the telecaller opens the dialog (as they see the lead: documents masked) and saves it
    // with a new experience: every other key as loaded, the unchanged assigned_telecaller too
    let (_, seen) = get_lead(&app, &tc, id).await;
    assert_ne!(seen["dl_no"], "TN0120190001234", "masked for a telecaller");
    let body = dialog_save(&seen, json!({"experience": "2 years", "stage": "S3"}));
    let (status, saved) = patch(&app, &tc, &url, body).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["success"], true);
    let l = &saved["lead"];
    assert_eq!(l["experience"], "2 years");
    assert_eq!(l["email"], "r@x.test");
    assert_eq!(l["stage"], "S1", "a sent stage is ignored");
    assert_eq!(l["assigned_telecaller"], "tc@x.test");
    assert_eq!(
        l["remarks_history"].as_array().unwrap().len(),
        1,
        "remark unchanged"
    );
    assert_eq!(
        l["status_history"].as_array().unwrap().len(),
        0,
        "status unchanged"
    );
    let (_, stored) = get_lead(&app, &admin, id).await;
    assert_eq!(
        stored["dl_no"], "TN0120190001234",
        "the mask sent back changes nothing"
    );
    assert_eq!(stored["vehicle"], "e-auto");

    // nulls leave alone, "" clears a text and a date field
    let (status, saved) = patch(
        &app,
        &admin,
        &url,
        json!({"email": null, "vehicle": "", "end_date": "2026-05-01", "name": null}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (status, saved) = patch(&app, &admin, &url, json!({"end_date": "", "vehicle": null})).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (_, stored) = get_lead(&app, &admin, id).await;
    assert_eq!(stored["email"], "r@x.test");
    assert_eq!(stored["name"], "Ravi");
    assert_eq!(
        stored["vehicle"],
        Value::Null,
        "\"\" cleared it, null left it cleared"
    );
    assert_eq!(stored["end_date"], Value::Null);

    // the inline select: {status, stage}; the stage follows the status, history once
    let (status, saved) = patch(
        &app,
        &tc,
        &url,
        json!({"status": "Interested, No DL", "stage": "S1"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["status"], "Interested, No DL");
    let (_, saved) = patch(
        &app,
        &tc,
        &url,
        json!({"status": "Verified", "stage": "S1"}),
    )
    .await;
    assert_eq!(
        (saved["stage"].clone(), saved["status"].clone()),
        (json!("S3"), json!("Schedule Pending"))
    );
    let history = saved["lead"]["status_history"].as_array().unwrap().len();
    let (_, again) = patch(
        &app,
        &tc,
        &url,
        json!({"status": "Schedule Pending", "stage": "S2"}),
    )
    .await;
    assert_eq!(
        again["lead"]["status_history"].as_array().unwrap().len(),
        history,
        "no change, no entry"
    );

    // a numeric phone; a changed assignment is still refused to a telecaller, allowed to ops
    let (status, saved) = patch(
        &app,
        &admin,
        &url,
        json!({"phone_number": 9_876_500_999_u64}),
    )
    .await;
    assert_eq!(
        (status, saved["phone_number"].clone()),
        (StatusCode::OK, json!("9876500999"))
    );
    let (status, _) = patch(
        &app,
        &tc,
        &url,
        json!({"assigned_telecaller": "ops@x.test"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, saved) = patch(
        &app,
        &ops,
        &url,
        dialog_save(&stored, json!({"assigned_telecaller": "TC@x.test"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the same telecaller in other case: unchanged; {saved}"
    );
    // bad input is still a clear 422 and changes nothing
    let (status, body) = patch(
        &app,
        &admin,
        &url,
        json!({"end_date": "soon", "email": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(get_lead(&app, &admin, id).await.1["email"], "r@x.test");
}

async fn skip_pagination_streams_every_lead(app: TestApp) {
    let admin = app.admin_token().await;
    let (tc_id, tc) = app.user_with_role(&admin, "tc@x.test", "telecaller").await;
    for i in 0..130u32 {
        let who = if i % 2 == 0 {
            json!("tc@x.test")
        } else {
            Value::Null
        };
        create(
            &app,
            &admin,
            json!({"name": format!("Lead {i}"), "phone_number": phone(i),
                   "assigned_telecaller": who, "remarks": if i == 3 { "" } else { "r" }}),
        )
        .await;
    }
    // the Driver Onboarding page's call
    let r = app
        .get(&format!("{API}/leads?skip_pagination=true"), &admin)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-total-leads"], "130");
    let text = r.text().await.unwrap();
    assert!(
        text.starts_with("{\"total\":130,"),
        "the count first: {}",
        &text[..40]
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    let leads = body["leads"].as_array().unwrap();
    assert_eq!(leads.len(), 130, "past the page limit of 100");
    let mut ids: Vec<&str> = leads.iter().map(|l| l["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 130);
    for l in leads {
        for k in [
            "id",
            "name",
            "phone_number",
            "status",
            "stage",
            "assigned_telecaller",
            "import_date",
            "source",
            "last_called",
            "callback_date",
            "remarks",
        ] {
            assert!(l.get(k).is_some(), "{k} in {l}");
        }
        let named = l["assigned_telecaller"] == "tc@x.test";
        assert_eq!(
            l["assigned_telecaller_name"],
            if named {
                json!("Test telecaller")
            } else {
                Value::Null
            }
        );
    }
    // with the page's filters; telecaller by user id (the pickers key by id)
    let (_, b) = get(
        &app,
        &admin,
        &format!("{API}/leads?skip_pagination=true&search=Lead%2012"),
    )
    .await;
    assert_eq!(b["total"], b["leads"].as_array().unwrap().len());
    assert_eq!(b["total"], 11, "Lead 12 and Lead 120..129");
    let (_, b) = get(
        &app,
        &admin,
        &format!("{API}/leads?skip_pagination=true&telecaller={tc_id}"),
    )
    .await;
    assert_eq!(b["total"], 65);
    // a telecaller gets their own; the paged list names the telecaller too
    let (_, b) = get(&app, &tc, &format!("{API}/leads?skip_pagination=true")).await;
    assert_eq!(b["leads"].as_array().unwrap().len(), 65);
    let (_, b) = get(
        &app,
        &tc,
        &format!("{API}/leads?telecaller={tc_id}&limit=5"),
    )
    .await;
    assert_eq!(
        (
            b["total"].clone(),
            b["leads"][0]["assigned_telecaller_name"].clone()
        ),
        (json!(65), json!("Test telecaller"))
    );
    let (status, _) = get(&app, &admin, &format!("{API}/leads?skip_pagination=maybe")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_users_page_and_password_routes(app: TestApp) {
    let admin = app.admin_token().await;
    // the page loads these three in one go
    for path in ["/api/users", "/api/stats", "/api/password-reset/requests"] {
        let (status, body) = get(&app, &admin, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let (_, reqs) = get(&app, &admin, "/api/password-reset/requests").await;
    assert_eq!(reqs, json!([]));
    // the original's create: no last_name
    let (status, made) = post(&app, &admin, "/api/users/create",
        json!({"first_name": "Tara", "email": "tara@x.test", "password": "tara-password-1", "account_type": "telecaller"})).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    assert!(made["message"].is_string());
    let tara = made["user"]["id"].as_str().unwrap().to_string();
    // self-registration, then approve / reject in the body form
    for (email, first) in [("p1@x.test", "P1"), ("p2@x.test", "P2")] {
        let r = app
            .client
            .post(app.url("/api/auth/register"))
            .json(
                &json!({"first_name": first, "last_name": "", "email": email,
                          "password": "pending-pass-1", "account_type": "telecaller"}),
            )
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(r).await;
        assert_eq!(
            (status, body["status"].clone()),
            (StatusCode::OK, json!("pending")),
            "{body}"
        );
    }
    let (_, stats) = get(&app, &admin, "/api/stats").await;
    for k in [
        "total_users",
        "admin_users",
        "standard_users",
        "ops_team_users",
        "pending_users",
        "pending_password_resets",
    ] {
        assert!(stats[k].is_u64(), "{k} in {stats}");
    }
    assert_eq!(
        (stats["total_users"].clone(), stats["pending_users"].clone()),
        (json!(4), json!(2))
    );
    let (_, users) = get(&app, &admin, "/api/users").await;
    let id_of = |email: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (p1, p2) = (id_of("p1@x.test"), id_of("p2@x.test"));
    let (status, b) = post(&app, &admin, "/api/users/approve", json!({"user_id": p1})).await;
    assert_eq!(
        (status, b["user"]["status"].clone()),
        (StatusCode::OK, json!("active"))
    );
    let (status, b) = post(&app, &admin, "/api/users/reject", json!({"user_id": p2})).await;
    assert_eq!(
        (status, b["user"]["status"].clone()),
        (StatusCode::OK, json!("disabled"))
    );
    let (status, _) = post(&app, &admin, "/api/users/reject", json!({"user_id": p1})).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "only a pending user can be rejected"
    );
    let (status, _) = post(
        &app,
        &admin,
        "/api/users/approve",
        json!({"user_id": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // the telecaller pickers, readable by ops_team (who assigns)
    let (_, ops) = app.user_with_role(&admin, "ops@x.test", "ops_team").await;
    let (status, tcs) = get(&app, &ops, "/api/users/telecallers").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = tcs
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "pending and disabled included: {tcs}");
    assert!(names.contains(&"Tara") && names.contains(&"P1"));
    let (_, tara_token) = (0, app.token("tara@x.test", "tara-password-1").await);
    let (status, _) = get(&app, &tara_token, "/api/users/telecallers").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // role change and temporary password, then the reset with it (no session)
    let (status, b) = post(
        &app,
        &admin,
        "/api/users/change-account-type",
        json!({"user_id": tara, "new_account_type": "ops_team"}),
    )
    .await;
    assert_eq!(
        (status, b["old_type"].clone(), b["new_type"].clone()),
        (StatusCode::OK, json!("telecaller"), json!("ops_team"))
    );
    let (status, b) = post(
        &app,
        &admin,
        &format!("/api/users/{tara}/generate-temp-password"),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, b["user_email"].clone()),
        (StatusCode::OK, json!("tara@x.test"))
    );
    let temporary = b["temporary_password"].as_str().unwrap().to_string();
    let reset = |temp: String| {
        app.client.post(app.url("/api/auth/reset-with-temp-password"))
        .json(&json!({"email": "tara@x.test", "temp_password": temp, "new_password": "tara-new-pass-1"}))
        .send()
    };
    assert_eq!(
        reset("wrong-temporary".into()).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(reset(temporary).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        app.login("tara@x.test", "tara-new-pass-1").await.status(),
        StatusCode::OK
    );
    // delete: the account is disabled and can no longer sign in
    let r = delete(&app, &format!("/api/users/{tara}"), &admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.login("tara@x.test", "tara-new-pass-1").await.status(),
        StatusCode::FORBIDDEN
    );
    let (_, me) = get(&app, &admin, "/api/auth/me").await;
    let r = delete(
        &app,
        &format!("/api/users/{}", me["id"].as_str().unwrap()),
        &admin,
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "not oneself");
}

async fn create_lead_and_its_duplicate_check(app: TestApp) {
    let t = app.admin_token().await;
    let url = format!("{API}/create-lead");
    // the dialog checks first, then creates
    let (status, d) = post(
        &app,
        &t,
        &format!("{API}/check-duplicate"),
        json!({"phone_number": 9876500001_u64}),
    )
    .await;
    assert_eq!(
        (status, d.clone()),
        (
            StatusCode::OK,
            json!({"success": true, "duplicate_found": false})
        )
    );
    let (status, c) = post(
        &app,
        &t,
        &url,
        json!({
        "name": "Anbu", "phone_number": 9876500001_u64, "email": "", "source": "",
        "has_driving_license": "yes", "driving_license_no": "TN0120190001234",
        "has_badge": "no", "badge_no": "B-1", "status": "New"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(
        (c["success"].clone(), c["message"].is_string()),
        (json!(true), true)
    );
    let id = c["lead_id"].as_str().unwrap().to_string();
    let (_, l) = get_lead(&app, &t, &id).await;
    assert_eq!(
        (
            l["source"].clone(),
            l["driving_license"].clone(),
            l["dl_no"].clone(),
            l["badge_no"].clone()
        ),
        (
            json!("Manual Entry"),
            json!("Yes"),
            json!("TN0120190001234"),
            Value::Null
        )
    );
    assert_eq!(l["import_date"], today());
    let (_, d) = post(
        &app,
        &t,
        &format!("{API}/check-duplicate"),
        json!({"phone_number": "+91 98765 00001"}),
    )
    .await;
    assert_eq!(d["duplicate_found"], true);
    for k in ["name", "phone_number", "email", "status", "stage", "source"] {
        assert!(d["existing_lead"].get(k).is_some(), "{k} in {d}");
    }
    // skip (the default): nothing written
    let (status, c) = post(
        &app,
        &t,
        &url,
        json!({"name": "Other", "phone_number": "9876500001"}),
    )
    .await;
    assert_eq!(
        (status, c["success"].clone(), c["duplicate"].clone()),
        (StatusCode::OK, json!(false), json!(true))
    );
    assert_eq!(get_lead(&app, &t, &id).await.1["name"], "Anbu");
    // replace: the existing lead takes the new fields
    let (status, c) = post(
        &app,
        &t,
        &url,
        json!({"name": "Anbu R", "phone_number": "9876500001",
        "current_location": "Guindy", "duplicate_action": "replace"}),
    )
    .await;
    assert_eq!(
        (status, c["success"].clone()),
        (StatusCode::OK, json!(true)),
        "{c}"
    );
    let (_, l) = get_lead(&app, &t, &id).await;
    assert_eq!(
        (l["name"].clone(), l["current_location"].clone()),
        (json!("Anbu R"), json!("Guindy"))
    );
    let (status, _) = post(&app, &t, &url, json!({"phone_number": "9876500002"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "name is required");
    let (status, _) = post(&app, &t, &format!("{API}/check-duplicate"), json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn bulk_routes_with_the_original_bodies(app: TestApp) {
    let t = app.admin_token().await;
    app.user_with_role(&t, "tc@x.test", "telecaller").await;
    let mut ids = Vec::new();
    for i in 0..4u32 {
        let l = create(
            &app,
            &t,
            json!({"name": format!("B{i}"), "phone_number": phone(i)}),
        )
        .await;
        ids.push(l["id"].as_str().unwrap().to_string());
    }
    // the Driver Onboarding page's bulk assign
    let (status, b) = patch(&app, &t, &format!("{API}/bulk-assign"),
        json!({"lead_ids": [ids[0], ids[1], ids[2]], "telecaller_email": "tc@x.test", "assignment_date": "2026-09-10"})).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(
        (
            b["success"].clone(),
            b["modified_count"].clone(),
            b["message"].is_string()
        ),
        (json!(true), json!(3), true)
    );
    let (_, l) = get_lead(&app, &t, &ids[0]).await;
    assert_eq!(
        (
            l["assigned_telecaller"].clone(),
            l["assigned_date"].clone(),
            l["assigned_telecaller_name"].clone()
        ),
        (
            json!("tc@x.test"),
            json!("2026-09-10"),
            json!("Test telecaller")
        )
    );
    let (status, _) = patch(&app, &t, &format!("{API}/bulk-assign"),
        json!({"lead_ids": [ids[3]], "telecaller_email": "nobody@x.test", "assignment_date": "2026-09-10"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "unknown telecaller");
    let (_, b) = patch(
        &app,
        &t,
        &format!("{API}/reassign-date"),
        json!({"lead_ids": [ids[0], ids[1]], "new_date": "2026-09-12"}),
    )
    .await;
    assert_eq!(
        (b["success"].clone(), b["modified_count"].clone()),
        (json!(true), json!(2))
    );
    assert_eq!(
        get_lead(&app, &t, &ids[1]).await.1["assigned_date"],
        "2026-09-12"
    );
    // bulk status, both paths: updated_count = leads found
    let (_, b) = patch(
        &app,
        &t,
        &format!("{API}/leads/bulk-update-status"),
        json!({"lead_ids": [ids[0], ids[3]], "status": "Not Interested"}),
    )
    .await;
    assert_eq!(
        (b["success"].clone(), b["updated_count"].clone()),
        (json!(true), json!(2))
    );
    let (status, b) = patch(
        &app,
        &t,
        &format!("{API}/leads-bulk/status"),
        json!({"lead_ids": [ids[0], ids[1]], "status": "Not Interested"}),
    )
    .await;
    assert_eq!(
        (status, b["updated_count"].clone()),
        (StatusCode::OK, json!(2)),
        "found, one unchanged"
    );
    assert_eq!(
        get_lead(&app, &t, &ids[1]).await.1["status"],
        "Not Interested"
    );
    // the page's bulk unassign
    let (status, b) = post(
        &app,
        &t,
        "/api/telecallers/deassign-leads",
        json!({"lead_ids": [ids[0], ids[1], ids[3]]}),
    )
    .await;
    assert_eq!(
        (status, b["success"].clone(), b["deassigned_count"].clone()),
        (StatusCode::OK, json!(true), json!(2)),
        "{b}"
    );
    assert_eq!(
        get_lead(&app, &t, &ids[0]).await.1["assigned_telecaller"],
        Value::Null
    );
    assert_eq!(
        get_lead(&app, &t, &ids[2]).await.1["assigned_telecaller"],
        "tc@x.test"
    );
    // deletes
    let r = delete(&app, &format!("{API}/leads/{}", ids[3]), &t).await;
    let (status, b) = status_json(r).await;
    assert_eq!((status, b["message"].is_string()), (StatusCode::OK, true));
    let (status, b) = post(
        &app,
        &t,
        &format!("{API}/leads/bulk-delete"),
        json!({"lead_ids": [ids[0], ids[1]]}),
    )
    .await;
    assert_eq!(
        (status, b["deleted_count"].clone(), b["message"].is_string()),
        (StatusCode::OK, json!(2), true)
    );
    assert_eq!(get_lead(&app, &t, &ids[0]).await.0, StatusCode::NOT_FOUND);
}

async fn calls_no_responses_and_the_telecaller_desk(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, tc) = app.user_with_role(&admin, "tc@x.test", "telecaller").await;
    let day = today();
    let mut ids = Vec::new();
    for i in 0..3u32 {
        let l = create(
            &app,
            &admin,
            json!({"name": format!("C{i}"), "phone_number": phone(i)}),
        )
        .await;
        ids.push(l["id"].as_str().unwrap().to_string());
    }
    patch(&app, &admin, &format!("{API}/bulk-assign"),
        json!({"lead_ids": [ids[0], ids[1]], "telecaller_email": "tc@x.test", "assignment_date": day})).await;
    patch(&app, &admin, &format!("{API}/bulk-assign"),
        json!({"lead_ids": [ids[2]], "telecaller_email": "tc@x.test", "assignment_date": "2026-01-01"})).await;
    // the desk's Call button and No response button
    let (status, c) = post(
        &app,
        &tc,
        &format!("{API}/leads/{}/mark-called", ids[0]),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(
        (c["success"].clone(), c["lead_id"].clone()),
        (json!(true), json!(ids[0]))
    );
    assert!(c["last_called"].is_string());
    assert_eq!(c["last_called_by"], "tc@x.test");
    let (_, c) = post(
        &app,
        &tc,
        &format!("{API}/leads/{}/mark-no-response", ids[1]),
        json!({}),
    )
    .await;
    assert_eq!(
        (c["status"].clone(), c["last_no_response_by"].clone()),
        (json!("RNR"), json!("tc@x.test"))
    );
    assert!(c["last_no_response"].is_string());
    let (_, c) = post(
        &app,
        &admin,
        &format!("{API}/leads/{}/call-done", ids[2]),
        json!({}),
    )
    .await;
    assert_eq!(
        (c["success"].clone(), c["message"].is_string()),
        (json!(true), true)
    );
    // the No Response dialog
    let (status, n) = get(&app, &admin, &format!("{API}/no-response-leads")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (n["success"].clone(), n["total_count"].clone()),
        (json!(true), json!(1))
    );
    let g = &n["telecaller_groups"][0];
    assert_eq!(
        (
            g["telecaller_email"].clone(),
            g["telecaller_name"].clone(),
            g["count"].clone()
        ),
        (json!("tc@x.test"), json!("tc"), json!(1))
    );
    assert_eq!(g["leads"][0]["id"], ids[1]);
    // the desk: all, and the day's
    let (status, d) = get(
        &app,
        &tc,
        "/api/telecaller-desk/leads?telecaller_email=tc@x.test",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(
        (
            d["success"].clone(),
            d["total_assigned"].clone(),
            d["date_filter"].clone()
        ),
        (json!(true), json!(3), Value::Null)
    );
    let (_, d) = get(
        &app,
        &admin,
        &format!("/api/telecaller-desk/leads?telecaller_email=tc@x.test&date={day}"),
    )
    .await;
    assert_eq!(
        (
            d["total_assigned"].clone(),
            d["total_callbacks"].clone(),
            d["date_filter"].clone()
        ),
        (json!(2), json!(0), json!(day))
    );
    let (status, _) = get(
        &app,
        &admin,
        "/api/telecaller-desk/leads?telecaller_email=ghost@x.test",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // a callback due that day, on a lead assigned for another day
    patch(
        &app,
        &admin,
        &format!("{API}/leads/{}", ids[2]),
        json!({"callback_date": day}),
    )
    .await;
    let (_, d) = get(
        &app,
        &admin,
        &format!("/api/telecaller-desk/leads?telecaller_email=tc@x.test&date={day}"),
    )
    .await;
    assert_eq!(d["total_callbacks"], 1);
    assert_eq!(d["callback_leads"][0]["id"], ids[2]);
    // statistics and the daily summary from the call events
    let (status, s) = get(
        &app,
        &admin,
        &format!("/api/telecaller-desk/call-statistics?start_date={day}&end_date={day}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let tc_stats = s["statistics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["telecaller_email"] == "tc@x.test")
        .unwrap();
    assert_eq!(
        tc_stats["total_calls"], 2,
        "called + no response: {tc_stats}"
    );
    let d0 = &tc_stats["daily_stats"][0];
    assert_eq!(
        (d0["date"].clone(), d0["call_count"].clone()),
        (json!(day), json!(2))
    );
    assert_eq!(d0["calls"][0]["lead_name"], "C0");
    assert_eq!(d0["call_times"][0].as_str().unwrap().len(), 8);
    let admin_stats = s["statistics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["telecaller_email"] == ADMIN_EMAIL)
        .unwrap();
    assert_eq!(admin_stats["total_calls"], 1);
    let (_, own) = get(&app, &tc, "/api/telecaller-desk/call-statistics").await;
    assert_eq!(own["total_telecallers"], 1, "a telecaller sees their own");
    let (status, s) = get(
        &app,
        &admin,
        &format!("/api/telecaller-desk/daily-summary?start_date={day}&end_date={day}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let line = &s["summaries"][0];
    assert_eq!(
        (
            line["telecaller_email"].clone(),
            line["total_leads"].clone(),
            line["calls_done"].clone(),
            line["no_response"].clone()
        ),
        (json!("tc@x.test"), json!(3), json!(2), json!(1))
    );
    // the day's call log
    let r = app
        .client
        .post(app.url(&format!(
            "/api/telecaller-desk/export-call-logs?telecaller=tc@x.test&date={day}"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cd.contains(&format!("call_logs_tc_{day}.xlsx")), "{cd}");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"));
    // remarks on the original's path and body
    let (status, r) = post(
        &app,
        &tc,
        &format!("{API}/{}/remarks", ids[0]),
        json!({"remark_text": "call at 5"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["success"].clone(),
            r["remark"]["text"].clone(),
            r["remark"]["user_email"].clone()
        ),
        (json!(true), json!("call at 5"), json!("tc@x.test"))
    );
    post(
        &app,
        &tc,
        &format!("{API}/{}/remarks", ids[0]),
        json!({"remark_text": "second"}),
    )
    .await;
    let (_, r) = get(&app, &tc, &format!("{API}/{}/remarks", ids[0])).await;
    assert_eq!(
        (
            r["success"].clone(),
            r["count"].clone(),
            r["remarks"][0]["text"].clone()
        ),
        (json!(true), json!(2), json!("second"))
    );
    let (status, _) = post(
        &app,
        &tc,
        &format!("{API}/{}/remarks", uuid::Uuid::new_v4()),
        json!({"remark_text": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn sources_summary_and_zip_headers(app: TestApp) {
    let t = app.admin_token().await;
    for (i, s) in [
        "Walk-in",
        "walk-in ",
        "Walk-in",
        "uploads/march leads.xlsx",
        "WALK-IN",
    ]
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
    let (_, s) = get(&app, &t, &format!("{API}/sources")).await;
    assert_eq!(s["success"], true);
    let last = s["sources"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["value"].clone(), last["label"].clone()),
        (json!("uploads/march leads.xlsx"), json!("march leads"))
    );
    let (status, m) = get(&app, &t, &format!("{API}/sources/merge-suggestions")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (m["success"].clone(), m["total_suggestions"].clone()),
        (json!(true), json!(1))
    );
    let sug = &m["suggestions"][0];
    assert_eq!(
        (sug["target"].clone(), sug["total_affected"].clone()),
        (json!("Walk-in"), json!(2))
    );
    // the frontend merges the suggestion as it got it
    let variants: Vec<Value> = sug["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["source"].clone())
        .collect();
    let (status, r) = post(
        &app,
        &t,
        &format!("{API}/sources/merge"),
        json!({"target": sug["target"], "variants": variants}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["success"].clone(),
            r["total_leads_updated"].clone(),
            r["target"].clone()
        ),
        (json!(true), json!(2), json!("Walk-in"))
    );
    let (_, m) = get(&app, &t, &format!("{API}/sources/merge-suggestions")).await;
    assert_eq!(m["total_suggestions"], 0);
    let (_, s) = get(&app, &t, &format!("{API}/status-summary")).await;
    assert_eq!(
        (s["success"].clone(), s["total_leads"].clone()),
        (json!(true), json!(5))
    );
    assert_eq!(s["summary"]["S4"]["Churn"], 0);
    assert_eq!(s["summary"]["S1"]["Interested, No DL"], 0);
    // the batched export's two headers
    let r = app
        .client
        .post(app.url(&format!("{API}/batch-export-zip")))
        .bearer_auth(&t)
        .json(&json!({"batch_size": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-total-leads"], "5");
    assert_eq!(r.headers()["x-total-files"], "3");
    assert_eq!(r.headers()["x-batch-size"], "2");
}
