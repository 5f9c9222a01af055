//! Account administration and its limits.

use reqwest::StatusCode;
use serde_json::json;

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};

dual_backend_tests!(
    admin_cannot_escalate_to_or_act_on_master_admin,
    non_admins_cannot_reach_user_endpoints,
    master_admin_manages_users,
    concurrent_logins_stay_within_the_hashing_limit,
);

async fn admin_cannot_escalate_to_or_act_on_master_admin(app: TestApp) {
    let master = app.admin_token().await;
    let (admin_id, admin) = app.user_with_role(&master, "adm@pulse.test", "admin").await;
    let users: serde_json::Value = app.get("/api/users", &admin).await.json().await.unwrap();
    let master_id = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["account_type"] == "master_admin")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let r = app
        .post("/api/users", &admin, json!({"email": "m2@x.test", "password": "long-enough-1", "account_type": "master_admin"}))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "create a master_admin");
    let (_, tc) = app.user_with_role(&admin, "tc@x.test", "telecaller").await;
    drop(tc);
    let tc_id = app
        .get("/api/users", &admin)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "tc@x.test")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .patch(
            &format!("/api/users/{tc_id}"),
            &admin,
            json!({"account_type": "master_admin"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "promote to master_admin");
    let r = app
        .patch(
            &format!("/api/users/{admin_id}"),
            &admin,
            json!({"account_type": "master_admin"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "promote self");
    for path in ["disable", "reset-password", "approve"] {
        let r = app
            .post(&format!("/api/users/{master_id}/{path}"), &admin, json!({}))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} a master_admin");
    }
    let r = app
        .patch(
            &format!("/api/users/{master_id}"),
            &admin,
            json!({"account_type": "standard"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "demote a master_admin");
    // The master_admin still signs in with the old password.
    app.admin_token().await;
}

async fn non_admins_cannot_reach_user_endpoints(app: TestApp) {
    let master = app.admin_token().await;
    for role in ["telecaller", "ops_team", "standard"] {
        let (id, tok) = app
            .user_with_role(&master, &format!("{role}@pulse.test"), role)
            .await;
        assert_eq!(
            app.get("/api/users", &tok).await.status(),
            StatusCode::FORBIDDEN,
            "{role} list"
        );
        let r = app
            .post(
                "/api/users",
                &tok,
                json!({"email": "z@x.test", "account_type": "standard"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} create");
        let r = app
            .post(&format!("/api/users/{id}/approve"), &tok, json!({}))
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} approve");
        let r = app
            .patch(
                &format!("/api/users/{id}"),
                &tok,
                json!({"account_type": "admin"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role} escalate self");
        assert_eq!(
            app.get("/api/audit", &tok).await.status(),
            StatusCode::FORBIDDEN,
            "{role} audit"
        );
    }
}

async fn master_admin_manages_users(app: TestApp) {
    let master = app.admin_token().await;
    let (status, body) = status_json(
        app.post(
            "/api/users",
            &master,
            json!({"email": "gen@x.test", "account_type": "ops_team"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let temp = body["temporary_password"]
        .as_str()
        .expect("generated password returned");
    app.token("gen@x.test", temp).await;
    let (status, _) = status_json(
        app.post(
            "/api/users",
            &master,
            json!({"email": "GEN@x.test", "account_type": "ops_team"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = status_json(
        app.post(
            "/api/users",
            &master,
            json!({"email": "r@x.test", "account_type": "wizard"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["detail"].as_str().unwrap().contains("wizard"),
        "{body}"
    );
    let (status, _) = status_json(
        app.get(&format!("/api/users/{}", uuid::Uuid::new_v4()), &master)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The master_admin cannot lock themselves out.
    let me: serde_json::Value = app.get("/api/auth/me", &master).await.json().await.unwrap();
    let r = app
        .post(
            &format!("/api/users/{}/disable", me["id"].as_str().unwrap()),
            &master,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Every change is audited.
    let (status, log) = status_json(app.get("/api/audit?action=user.create", &master).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
}

async fn concurrent_logins_stay_within_the_hashing_limit(app: TestApp) {
    // Attempts in flight count toward the throttle (review H1): at most 5 per account and
    // client at once, so the right passwords are 4 and the wrong ones are other accounts.
    let names: Vec<String> = (0..8).map(|i| format!("nobody{i}@pulse.test")).collect();
    let logins = (0..12).map(|i| {
        if i % 3 == 0 {
            app.login("admin", crate::helpers::ADMIN_PASSWORD)
        } else {
            app.login(&names[i - 1 - i / 3], "wrong-password")
        }
    });
    let results = futures_util::future::join_all(logins).await;
    let ok = results
        .iter()
        .filter(|r| r.status() == StatusCode::OK)
        .count();
    assert_eq!(ok, 4);
    let peak = app.state.hasher.peak_concurrency();
    assert!(
        (1..=2).contains(&peak),
        "at most PULSE_HASH_CONCURRENCY=2 hashes at once, saw {peak}"
    );
}
