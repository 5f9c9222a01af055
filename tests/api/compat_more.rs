//! More of the original system's calls against Pulse (COMPAT.md §5, issue
//! 19): the login answer's keys, the password-reset request flow, the
//! unwired lead routes and what the call history carries. Same approach as
//! `compat.rs`: the original's bodies, the keys its frontend reads, the side
//! effects read back.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, status_json};
use crate::leads::{API, create, get_lead, list_all, phone, today};

dual_backend_tests!(
    the_login_answer_and_the_password_reset_flow,
    status_route_sync_stage_and_caller_names,
    a_digit_fragment_searches_phone_numbers,
    the_peripheral_stubs,
);

async fn get(app: &TestApp, t: &str, path: &str) -> (StatusCode, Value) {
    status_json(app.get(path, t).await).await
}

async fn post(app: &TestApp, t: &str, path: &str, body: Value) -> (StatusCode, Value) {
    status_json(app.post(path, t, body).await).await
}

async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    status_json(app.login(email, password).await).await
}

async fn reset_with_temporary(
    app: &TestApp,
    email: &str,
    temporary: &str,
    new: &str,
) -> StatusCode {
    app.client
        .post(app.url("/api/auth/reset-with-temp-password"))
        .json(&json!({"email": email, "temp_password": temporary, "new_password": new}))
        .send()
        .await
        .unwrap()
        .status()
}

async fn the_login_answer_and_the_password_reset_flow(app: TestApp) {
    // the login answer: the original's keys beside Pulse's
    let (status, body) = login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["message"].is_string() && body["token"].is_string());
    let user = &body["user"];
    for k in [
        "id",
        "first_name",
        "email",
        "account_type",
        "status",
        "created_at",
    ] {
        assert!(!user[k].is_null(), "{k} in {user}");
    }
    assert_eq!(user["is_temp_password"], json!(false));
    assert_eq!(user["telecaller_id"], Value::Null, "not a telecaller");
    assert!(user.get("password_hash").is_none() && user.get("password").is_none());
    let master = body["token"].as_str().unwrap().to_string();
    let (tc_id, tc) = app.user_with_role(&master, "tc@x.test", "telecaller").await;
    let (_, tc_login) = login(&app, "tc@x.test", "user-password-1").await;
    assert_eq!(tc_login["user"]["telecaller_id"], json!(tc_id));
    let (_, me) = get(&app, &tc, "/api/auth/me").await;
    assert_eq!(
        (me["telecaller_id"].clone(), me["is_temp_password"].clone()),
        (json!(tc_id), json!(false))
    );

    // a user asks (empty body), once
    let (status, b) = post(&app, &tc, "/api/password-reset/request", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert!(b["message"].is_string());
    let (status, b) = post(&app, &tc, "/api/password-reset/request", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "one pending: {b}");
    assert!(b["detail"].is_string());
    let (status, _) = get(&app, &tc, "/api/password-reset/requests").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins only");

    // the users page: the list and the count
    let (status, reqs) = get(&app, &master, "/api/password-reset/requests").await;
    assert_eq!(status, StatusCode::OK);
    let list = reqs.as_array().unwrap();
    assert_eq!(list.len(), 1, "{reqs}");
    let r = &list[0];
    assert_eq!(
        (
            r["user_id"].clone(),
            r["user_email"].clone(),
            r["user_name"].clone(),
            r["status"].clone(),
            r["temporary_password"].clone()
        ),
        (
            json!(tc_id),
            json!("tc@x.test"),
            json!("Test telecaller"),
            json!("pending"),
            Value::Null
        )
    );
    assert!(r["id"].is_string() && r["created_at"].is_string());
    let request_id = r["id"].as_str().unwrap().to_string();
    let (_, stats) = get(&app, &master, "/api/stats").await;
    assert_eq!(stats["pending_password_resets"], json!(1));

    // an admin neither sees nor approves a master_admin's request (DESIGN §2)
    let (_, admin) = app.user_with_role(&master, "adm@x.test", "admin").await;
    let (status, _) = post(&app, &master, "/api/password-reset/request", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, seen_by_admin) = get(&app, &admin, "/api/password-reset/requests").await;
    assert_eq!(
        seen_by_admin.as_array().unwrap().len(),
        1,
        "{seen_by_admin}"
    );
    let (_, all) = get(&app, &master, "/api/password-reset/requests").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let masters = all
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user_email"] == ADMIN_EMAIL)
        .unwrap()["id"]
        .clone();
    let (status, _) = post(
        &app,
        &admin,
        "/api/password-reset/approve",
        json!({"request_id": masters}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // approve: a temporary password, the user's sessions end
    let (status, b) = post(
        &app,
        &admin,
        "/api/password-reset/approve",
        json!({"request_id": request_id}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert!(b["message"].is_string());
    assert_eq!(b["user_email"], json!("tc@x.test"));
    let temporary = b["temporary_password"].as_str().unwrap().to_string();
    let (status, _) = post(
        &app,
        &admin,
        "/api/password-reset/approve",
        json!({"request_id": request_id}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "already processed");
    let (status, _) = post(
        &app,
        &admin,
        "/api/password-reset/approve",
        json!({"request_id": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/auth/me", &tc).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "tc@x.test", "user-password-1").await.0,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let (_, reqs) = get(&app, &master, "/api/password-reset/requests").await;
    let mine = reqs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(request_id))
        .unwrap();
    assert_eq!(mine["status"], json!("approved"));
    let (_, stats) = get(&app, &master, "/api/stats").await;
    assert_eq!(stats["pending_password_resets"], json!(1), "the master's");

    // the temporary password signs in flagged, then is replaced
    let (status, b) = login(&app, "tc@x.test", &temporary).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b["user"]["is_temp_password"], json!(true));
    assert_eq!(
        reset_with_temporary(&app, "tc@x.test", &temporary, "tc-own-pass-1").await,
        StatusCode::OK
    );
    let (status, b) = login(&app, "tc@x.test", "tc-own-pass-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b["user"]["is_temp_password"], json!(false));
    // without a temporary password set, the route is no second way to
    // change a known password (the original's 400)
    assert_eq!(
        reset_with_temporary(&app, "tc@x.test", "tc-own-pass-1", "tc-other-pass-1").await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        login(&app, "tc@x.test", "tc-own-pass-1").await.0,
        StatusCode::OK
    );

    // a temporary password given directly is flagged too, and a
    // change-password clears the flag
    let (_, b) = post(
        &app,
        &admin,
        &format!("/api/users/{tc_id}/generate-temp-password"),
        json!({}),
    )
    .await;
    let temporary = b["temporary_password"].as_str().unwrap().to_string();
    let (_, b) = login(&app, "tc@x.test", &temporary).await;
    assert_eq!(b["user"]["is_temp_password"], json!(true));
    let t = b["token"].as_str().unwrap().to_string();
    let (status, _) = post(
        &app,
        &t,
        "/api/auth/change-password",
        json!({"old_password": temporary, "new_password": "tc-third-pass-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, b) = login(&app, "tc@x.test", "tc-third-pass-1").await;
    assert_eq!(b["user"]["is_temp_password"], json!(false));
    let (_, users) = get(&app, &master, "/api/users").await;
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["is_temp_password"].is_boolean())
    );
}

async fn patch(app: &TestApp, t: &str, path: &str, body: Value) -> (StatusCode, Value) {
    status_json(app.patch(path, t, body).await).await
}

async fn status_route_sync_stage_and_caller_names(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, tc) = app.user_with_role(&admin, "tc@x.test", "telecaller").await;
    let (_, std_user) = app.user_with_role(&admin, "std@x.test", "standard").await;
    let new = |name: &str, n: u32, status: &str| json!({"name": name, "phone_number": phone(n), "status": status});
    // created at a completion status, a lead stays there (as imported ones do)
    let a = create(&app, &admin, new("A", 1, "Highly Interested")).await;
    let b = create(&app, &admin, new("B", 2, "Verified")).await;
    let c = create(&app, &admin, new("C", 3, "CT Pending")).await;
    let id = |l: &Value| l["id"].as_str().unwrap().to_string();
    let (a, b, c) = (id(&a), id(&b), id(&c));
    let sync = |lead: &str| format!("{API}/leads/{lead}/sync-stage");

    let (status, s) = post(&app, &admin, &sync(&a), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(
        (
            s["success"].clone(),
            s["previous_stage"].clone(),
            s["previous_status"].clone(),
            s["new_stage"].clone(),
            s["new_status"].clone(),
            s["lead"]["stage"].clone()
        ),
        (
            json!(true),
            json!("S1"),
            json!("Highly Interested"),
            json!("S2"),
            json!("Docs Upload Pending"),
            json!("S2")
        )
    );
    assert!(s["message"].is_string());
    let (_, stored) = get_lead(&app, &admin, &a).await;
    assert_eq!(
        (stored["stage"].clone(), stored["status"].clone()),
        (json!("S2"), json!("Docs Upload Pending"))
    );
    assert_eq!(
        stored["status_history"].as_array().unwrap().last().unwrap()["status"],
        json!("Docs Upload Pending"),
        "recorded as any status change"
    );
    // not at the completion status: stays, says which it needs
    let (status, s) = post(&app, &admin, &sync(&a), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            s["success"].clone(),
            s["current_stage"].clone(),
            s["current_status"].clone(),
            s["required_status"].clone()
        ),
        (
            json!(false),
            json!("S2"),
            json!("Docs Upload Pending"),
            json!("Verified")
        )
    );
    // S2 Verified needs the documents
    let (_, s) = post(&app, &admin, &sync(&b), json!({})).await;
    assert_eq!(s["success"], json!(false));
    assert_eq!(
        s["missing_documents"],
        json!(["dl_no", "aadhar_card", "gas_bill or bank_passbook"])
    );
    let (_, stored) = get_lead(&app, &admin, &b).await;
    assert_eq!(stored["stage"], json!("S2"), "unchanged");
    let (status, _) = patch(
        &app,
        &admin,
        &format!("{API}/leads/{b}"),
        json!({"dl_no": "TN0120200001234", "aadhar_card": "123456789012", "gas_bill": "GB-77"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, s) = post(&app, &admin, &sync(&b), json!({})).await;
    assert_eq!(
        (s["success"].clone(), s["new_status"].clone()),
        (json!(true), json!("Schedule Pending"))
    );
    let (_, s) = post(&app, &admin, &sync(&c), json!({})).await;
    assert_eq!(
        (s["success"].clone(), s["current_stage"].clone()),
        (json!(false), json!("S4"))
    );
    // rights: a standard user cannot, a telecaller only on their own (404)
    let (status, _) = post(&app, &std_user, &sync(&c), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(&app, &tc, &sync(&c), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(
        &app,
        &admin,
        &sync(&uuid::Uuid::new_v4().to_string()),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // PATCH …/status: {message, lead}; the stage follows the status
    let (status, s) = patch(
        &app,
        &admin,
        &format!("{API}/leads/{c}/status"),
        json!({"status": "Training WIP"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert!(s["message"].is_string());
    assert_eq!(
        (s["lead"]["status"].clone(), s["lead"]["stage"].clone()),
        (json!("Training WIP"), json!("S3"))
    );
    let (_, stored) = get_lead(&app, &admin, &c).await;
    assert_eq!(stored["status"], json!("Training WIP"));
    let (status, s) = patch(
        &app,
        &admin,
        &format!("{API}/leads/{c}/status"),
        json!({"status": "No such status"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(s["detail"].is_string());
    let (status, _) = patch(&app, &admin, &format!("{API}/leads/{c}/status"), json!({})).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "status is required"
    );

    // the callers' names in the histories (COMPAT §2.9)
    let (status, _) = patch(
        &app,
        &admin,
        &format!("{API}/bulk-assign"),
        json!({"lead_ids": [a], "telecaller_email": "tc@x.test", "assignment_date": today()}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for path in ["mark-called", "mark-no-response"] {
        let (status, _) = post(&app, &tc, &format!("{API}/leads/{a}/{path}"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (_, by_admin) = post(
        &app,
        &admin,
        &format!("{API}/leads/{a}/call-done"),
        json!({}),
    )
    .await;
    assert_eq!(by_admin["success"], json!(true));
    let (_, lead) = get_lead(&app, &admin, &a).await;
    let calls = lead["calling_history"].as_array().unwrap();
    let named: Vec<(Value, Value)> = calls
        .iter()
        .map(|c| (c["called_by"].clone(), c["caller_name"].clone()))
        .collect();
    assert!(
        named.contains(&(json!("tc@x.test"), json!("Test telecaller"))),
        "{named:?}"
    );
    assert!(
        named.contains(&(json!(ADMIN_EMAIL), json!("Master Admin"))),
        "{named:?}"
    );
    assert!(calls.iter().all(|c| c["timestamp"].is_string()));
    let nr = &lead["no_response_history"][0];
    assert_eq!(
        (nr["marked_by"].clone(), nr["marker_name"].clone()),
        (json!("tc@x.test"), json!("Test telecaller"))
    );
    assert_eq!(lead["assigned_telecaller_name"], json!("Test telecaller"));
    // the No Response dialog reads the same lead documents
    let (_, n) = get(&app, &admin, &format!("{API}/no-response-leads")).await;
    assert_eq!(
        n["telecaller_groups"][0]["leads"][0]["no_response_history"][0]["marker_name"],
        json!("Test telecaller")
    );
}

/// COMPAT §2.3: a digits-only search term matches anywhere in the phone
/// number (terms OR-ed, names still by fragment); the Driver Onboarding page
/// sends it with `skip_pagination=true`.
async fn a_digit_fragment_searches_phone_numbers(app: TestApp) {
    let admin = app.admin_token().await;
    for (name, number) in [
        ("Priya", "9876501234"),
        ("Ravi", "9123450000"),
        ("Kumar 555", "7005505505"),
        ("Anand", "8111111111"),
    ] {
        create(&app, &admin, json!({"name": name, "phone_number": number})).await;
    }
    let names = |leads: Vec<Value>| {
        let mut v: Vec<String> = leads
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let search = |q: &str| format!("search={}", urlencoding(q));
    // a fragment in the middle, at the end; a short one (below a trigram)
    assert_eq!(
        names(list_all(&app, &admin, &search("0123")).await),
        ["Priya"]
    );
    assert_eq!(
        names(list_all(&app, &admin, &search("0000")).await),
        ["Ravi"]
    );
    assert_eq!(
        names(list_all(&app, &admin, &search("55")).await),
        ["Kumar 555"],
        "digits match the phone, not the name's digits"
    );
    // OR-ed with a name and a whole number
    assert_eq!(
        names(list_all(&app, &admin, &search("2345, Anand, 9876501234")).await),
        ["Anand", "Priya", "Ravi"]
    );
    assert!(list_all(&app, &admin, &search("424242")).await.is_empty());
    // the frontend's call: every match, streamed
    let (status, all) = get(
        &app,
        &admin,
        &format!("{API}/leads?skip_pagination=true&{}", search("111")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (all["total"].clone(), all["leads"][0]["name"].clone()),
        (json!(1), json!("Anand"))
    );
    // a phone edit is searchable at once (the index follows the row)
    let anand = &list_all(&app, &admin, &search("Anand")).await[0];
    let (status, _) = patch(
        &app,
        &admin,
        &format!("{API}/leads/{}", anand["id"].as_str().unwrap()),
        json!({"phone_number": "8222333444"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(list_all(&app, &admin, &search("1111")).await.is_empty());
    assert_eq!(
        names(list_all(&app, &admin, &search("2333")).await),
        ["Anand"]
    );
}

fn urlencoding(q: &str) -> String {
    q.replace(' ', "%20").replace(',', "%2C")
}

/// COMPAT §2.17: what the original answered on an empty system, so the
/// frontend's calls stop failing: no maintenance (no token needed), no
/// uploaded documents (for a lead within reach only).
async fn the_peripheral_stubs(app: TestApp) {
    let r = app
        .client
        .get(app.url("/api/maintenance-status"))
        .send()
        .await
        .unwrap();
    let (status, m) = status_json(r).await;
    assert_eq!(
        (status, m),
        (StatusCode::OK, json!({"maintenance_mode": false}))
    );
    let admin = app.admin_token().await;
    let (_, tc) = app.user_with_role(&admin, "tc@x.test", "telecaller").await;
    let lead = create(&app, &admin, json!({"name": "D", "phone_number": phone(9)})).await;
    let id = lead["id"].as_str().unwrap();
    let (status, d) = get(&app, &admin, &format!("{API}/documents/status/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(
        (d["success"].clone(), d["lead_id"].clone()),
        (json!(true), json!(id))
    );
    for kind in ["dl", "aadhar", "pan", "gas_bill", "bank_passbook"] {
        assert_eq!(
            d["documents"][kind],
            json!({"uploaded": false, "file_path": null, "uploaded_at": null, "filename": null}),
            "{kind}"
        );
    }
    let (status, _) = get(&app, &tc, &format!("{API}/documents/status/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not the telecaller's lead");
    let missing = uuid::Uuid::new_v4();
    let (status, _) = get(&app, &admin, &format!("{API}/documents/status/{missing}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
