//! The login throttle under floods: parallel guesses, sprays from one proxy, a distributed
//! attack on one account, oversized credentials (review H1, H2, H3, M5).

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::dual_backend_tests;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp};

dual_backend_tests!(
    mod one_hasher with &[("PULSE_HASH_CONCURRENCY", "1")];
    parallel_guesses_are_counted_before_hashing,
    oversized_credentials_are_refused_before_hashing,
);
dual_backend_tests!(failures_under_many_names_from_one_proxy_do_not_lock_out_others,);
dual_backend_tests!(
    mod behind_proxy with &[("PULSE_TRUSTED_PROXIES", "127.0.0.1/32,::1/128")];
    the_right_password_from_another_client_gets_in,
    past_the_account_ceiling_only_known_devices_get_in,
);

async fn login_from(app: &TestApp, email: &str, password: &str, ip: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
}

/// H1: 50 concurrent wrong guesses for one account: at most 5 are evaluated.
async fn parallel_guesses_are_counted_before_hashing(app: TestApp) {
    let app = &app;
    let all =
        (0..50).map(|i| async move { app.login(ADMIN_EMAIL, &format!("wrong-guess-{i}")).await });
    let statuses: Vec<StatusCode> = join_all(all).await.iter().map(|r| r.status()).collect();
    let unauthorized = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        unauthorized <= 5,
        "{unauthorized} guesses evaluated: {statuses:?}"
    );
    assert_eq!(unauthorized + throttled, 50, "{statuses:?}");
}

/// H3: a login or password longer than any real one never reaches the hasher.
async fn oversized_credentials_are_refused_before_hashing(app: TestApp) {
    let password = "p".repeat(1000 * 1024);
    let login = "l".repeat(500 * 1024);
    let emails: Vec<String> = (0..100).map(|i| format!("user{i}@pulse.test")).collect();
    let mut all = Vec::new();
    for email in &emails {
        all.push(app.login(email, &password));
        all.push(app.login(&login, "short-password"));
    }
    for r in join_all(all).await {
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.state.hasher.peak_concurrency(), 0, "nothing was hashed");
    assert_eq!(app.state.throttle.sizes(), [0, 0, 0], "nothing was kept");
    // The right password still works, at once.
    app.admin_token().await;
}

/// H2: with the shipped defaults every client of a local proxy is 127.0.0.1; 20 failures
/// under 20 names must not refuse another user's correct password.
async fn failures_under_many_names_from_one_proxy_do_not_lock_out_others(app: TestApp) {
    for i in 0..20 {
        let r = login_from(
            &app,
            &format!("nobody{i}@pulse.test"),
            "bad",
            &format!("203.0.113.{i}"),
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    for _ in 0..5 {
        login_from(&app, "someone@pulse.test", "bad", "203.0.113.99").await;
    }
    let r = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "203.0.113.50").await;
    assert_eq!(r.status(), StatusCode::OK);
}

/// M5: 5 failures for an account from one client; its owner, elsewhere, signs in. The
/// failing client itself waits; the user name and the e-mail are one account.
async fn the_right_password_from_another_client_gets_in(app: TestApp) {
    for _ in 0..5 {
        let r = login_from(&app, ADMIN_EMAIL, "bad-guess", "198.51.100.1").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "198.51.100.1").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let r = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "198.51.100.2").await;
    assert_eq!(r.status(), StatusCode::OK);
    // IPv6 clients are one client per /64.
    for i in 0..5 {
        let ip = format!("2001:db8:7:7::{i:x}");
        assert_eq!(
            login_from(&app, ADMIN_EMAIL, "bad", &ip).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let r = login_from(&app, ADMIN_EMAIL, "bad", "2001:db8:7:7:abcd::1").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// M5: past ~100 failures an hour on one account, only a browser that signed in to it
/// before (its device cookie) is let through — with the right password it always gets in.
async fn past_the_account_ceiling_only_known_devices_get_in(app: TestApp) {
    let r = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "192.0.2.1").await;
    assert_eq!(r.status(), StatusCode::OK);
    let device = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("pulse_device_"))
        .expect("a device cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let app_ref = &app;
    for round in 0..25 {
        let all = (0..4).map(|i| async move {
            let ip = format!("10.0.{round}.{i}");
            login_from(app_ref, ADMIN_EMAIL, "bad", &ip).await.status()
        });
        for s in join_all(all).await {
            assert_eq!(s, StatusCode::UNAUTHORIZED);
        }
    }
    let stranger = login_from(&app, ADMIN_EMAIL, ADMIN_PASSWORD, "192.0.2.77").await;
    assert_eq!(stranger.status(), StatusCode::TOO_MANY_REQUESTS);
    let known = app
        .client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", "192.0.2.77")
        .header("cookie", &device)
        .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(known.status(), StatusCode::OK);
    let body: serde_json::Value = known.json().await.unwrap();
    let admin = body["token"].as_str().unwrap().to_string();
    // A forged device cookie does not count.
    let forged = app
        .client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", "192.0.2.78")
        .header("cookie", {
            let last = if device.ends_with('0') { '1' } else { '0' };
            format!("{}{last}", &device[..device.len() - 1])
        })
        .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another account is untouched (its sign-in comes from 127.0.0.1, a stranger).
    app.user_with_role(&admin, "other@pulse.test", "ops_team")
        .await;
}
