//! Sign-in, sessions and their revocation.

use reqwest::StatusCode;
use serde_json::json;

use crate::dual_backend_tests;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, status_json};

dual_backend_tests!(
    login_with_email_or_user_name_returns_token_user_and_cookie,
    wrong_password_and_unknown_user_get_the_same_401,
    pending_and_disabled_accounts_get_403,
    register_creates_pending_user_and_refuses_admin_types,
    bearer_and_cookie_both_authenticate,
    cookie_changes_need_matching_origin,
    logout_revokes_the_token,
    disable_role_change_and_reset_revoke_sessions,
    change_password_ends_other_sessions,
    failed_logins_are_throttled_per_account,
);

async fn login_with_email_or_user_name_returns_token_user_and_cookie(app: TestApp) {
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let (status, body) = status_json(r).await;
    assert_eq!(status, StatusCode::OK);
    let token = body["token"].as_str().unwrap();
    assert!(token.len() >= 32, "token has at least 128 bits");
    assert_eq!(body["message"], "Login successful");
    for key in [
        "id",
        "first_name",
        "last_name",
        "email",
        "account_type",
        "status",
    ] {
        assert!(
            body["user"].get(key).is_some(),
            "user.{key} missing: {body}"
        );
    }
    assert_eq!(body["user"]["account_type"], "master_admin");
    assert!(
        cookie.starts_with(&format!("pulse_session={token}")),
        "{cookie}"
    );
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );

    let (status, body) = status_json(app.login("admin", ADMIN_PASSWORD).await).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the user name `admin` signs in too: {body}"
    );
    let (status, me) = status_json(
        app.get("/api/auth/me", body["token"].as_str().unwrap())
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], ADMIN_EMAIL);
}

async fn wrong_password_and_unknown_user_get_the_same_401(app: TestApp) {
    let (s1, b1) = status_json(app.login(ADMIN_EMAIL, "not-the-password").await).await;
    let (s2, b2) = status_json(app.login("nobody@pulse.test", "not-the-password").await).await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    assert_eq!(b1, b2, "same body for both");
    assert!(b1["detail"].as_str().unwrap().contains("Incorrect"));
    let (s3, _) = status_json(app.get("/api/auth/me", "made-up-token").await).await;
    assert_eq!(s3, StatusCode::UNAUTHORIZED);
}

async fn pending_and_disabled_accounts_get_403(app: TestApp) {
    let r = app
        .client
        .post(app.url("/api/auth/register"))
        .json(
            &json!({"first_name": "Asha", "last_name": "K", "email": "asha@pulse.test",
                      "password": "asha-password-1", "account_type": "telecaller"}),
        )
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(r).await;
    // the original's 200 {message, status}, Pulse's user beside them
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "pending");
    let id = body["user"]["id"].as_str().unwrap().to_string();
    let (status, body) = status_json(app.login("asha@pulse.test", "asha-password-1").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["detail"].as_str().unwrap().contains("approval"),
        "{body}"
    );
    // A wrong password on a pending account is still just a 401.
    let (status, _) = status_json(app.login("asha@pulse.test", "wrong-password").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let admin = app.admin_token().await;
    let (status, _) = status_json(
        app.post(&format!("/api/users/{id}/approve"), &admin, json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    app.token("asha@pulse.test", "asha-password-1").await;

    let (status, _) = status_json(
        app.post(&format!("/api/users/{id}/disable"), &admin, json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = status_json(app.login("asha@pulse.test", "asha-password-1").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body["detail"].as_str().unwrap().contains("disabled"),
        "{body}"
    );
}

async fn register_creates_pending_user_and_refuses_admin_types(app: TestApp) {
    for t in ["admin", "master_admin"] {
        let r = app
            .client
            .post(app.url("/api/auth/register"))
            .json(
                &json!({"first_name": "A", "last_name": "B", "email": format!("{t}@x.test"),
                          "password": "long-enough-1", "account_type": t}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{t} must be refused");
    }
    let reg = |email: &'static str, password: &'static str| {
        app.client
            .post(app.url("/api/auth/register"))
            .json(
                &json!({"first_name": "A", "last_name": "B", "email": email, "password": password}),
            )
            .send()
    };
    let (status, body) = status_json(reg("std@x.test", "long-enough-1").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "the original's 200");
    assert_eq!(body["status"], "pending");
    assert!(body["message"].is_string());
    assert_eq!(body["user"]["status"], "pending");
    assert_eq!(body["user"]["account_type"], "standard");
    let (status, _) = status_json(reg("STD@x.test", "long-enough-1").await.unwrap()).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "e-mails are unique case-insensitively (the original's 400)"
    );
    let (status, body) = status_json(reg("short@x.test", "short").await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = status_json(reg("not-an-email", "long-enough-1").await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn bearer_and_cookie_both_authenticate(app: TestApp) {
    let token = app.admin_token().await;
    let r = app
        .client
        .get(app.url("/api/auth/me"))
        .header("cookie", format!("pulse_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client
        .get(app.url("/api/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .client
        .get(app.url("/api/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn cookie_changes_need_matching_origin(app: TestApp) {
    let token = app.admin_token().await;
    let cookie = format!("pulse_session={token}");
    let body =
        json!({"email": "o@x.test", "password": "long-enough-1", "account_type": "standard"});
    let r = app
        .client
        .post(app.url("/api/users"))
        .header("cookie", &cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no Origin");
    let r = app
        .client
        .post(app.url("/api/users"))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "foreign Origin");
    let r = app
        .client
        .post(app.url("/api/users"))
        .header("cookie", &cookie)
        .header("origin", app.base.clone())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "own Origin");
}

async fn logout_revokes_the_token(app: TestApp) {
    let token = app.admin_token().await;
    let r = app.post("/api/auth/logout", &token, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cleared = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(
        app.get("/api/auth/me", &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn disable_role_change_and_reset_revoke_sessions(app: TestApp) {
    let admin = app.admin_token().await;
    let (id, tok) = app
        .user_with_role(&admin, "tc1@pulse.test", "telecaller")
        .await;
    let r = app
        .patch(
            &format!("/api/users/{id}"),
            &admin,
            json!({"account_type": "ops_team"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/auth/me", &tok).await.status(),
        StatusCode::UNAUTHORIZED,
        "role change"
    );

    let tok = app.token("tc1@pulse.test", "user-password-1").await;
    let (status, body) = status_json(
        app.post(
            &format!("/api/users/{id}/reset-password"),
            &admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.get("/api/auth/me", &tok).await.status(),
        StatusCode::UNAUTHORIZED,
        "reset"
    );
    let temp = body["temporary_password"].as_str().unwrap();
    assert_eq!(
        app.login("tc1@pulse.test", "user-password-1")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let tok = app.token("tc1@pulse.test", temp).await;

    app.post(&format!("/api/users/{id}/disable"), &admin, json!({}))
        .await;
    assert_eq!(
        app.get("/api/auth/me", &tok).await.status(),
        StatusCode::UNAUTHORIZED,
        "disable"
    );
}

async fn change_password_ends_other_sessions(app: TestApp) {
    let first = app.admin_token().await;
    let second = app.admin_token().await;
    let (status, body) = status_json(
        app.post(
            "/api/auth/change-password",
            &first,
            json!({"old_password": "wrong", "new_password": "new-password-9"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = status_json(
        app.post(
            "/api/auth/change-password",
            &first,
            json!({"old_password": ADMIN_PASSWORD, "new_password": "new-password-9"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = body["token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/auth/me", &second).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/auth/me", fresh).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.token(ADMIN_EMAIL, "new-password-9").await;
}

async fn failed_logins_are_throttled_per_account(app: TestApp) {
    for _ in 0..5 {
        assert_eq!(
            app.login(ADMIN_EMAIL, "bad-guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the client that failed waits, even with the right password"
    );
    assert!(r.headers().get("retry-after").is_some());
}
