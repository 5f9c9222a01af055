//! More of the original system's calls against Pulse (COMPAT.md §5, issue
//! 19): the login answer's keys, the password-reset request flow, the
//! unwired lead routes and what the call history carries. Same approach as
//! `compat.rs`: the original's bodies, the keys its frontend reads, the side
//! effects read back.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, status_json};

dual_backend_tests!(the_login_answer_and_the_password_reset_flow,);

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
