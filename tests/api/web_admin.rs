//! The administration pages over HTTP (no browser), on both backends: a
//! restore run as a job from the backups page (confirmation, progress, the
//! leads replaced, audited), one backup or restore at a time in the queue,
//! the users page's rules (an admin refused on a master_admin, approval
//! with the role it grants, the temporary password shown once) and the
//! audit log's filters. The browser stories are in `tests/browser/`.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

use crate::backups::backup_now;
use crate::dual_backend_tests;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, status_json};
use crate::web::{page, page_login, post_form};

dual_backend_tests!(
    web_restore_runs_as_a_job,
    web_users_rules_are_enforced_and_shown,
    web_audit_filters_who_what_when,
    web_dashboard_and_sources_by_role_with_guarded_csv,
);

dual_backend_tests!(
    mod queue_only with &[("PULSE_WORKERS", "0")];
    web_one_backup_or_restore_at_a_time,
);

async fn lead_count(app: &TestApp) -> usize {
    app.state.store.all_leads().await.unwrap().len()
}

async fn add_leads(app: &TestApp, token: &str, from: u32, n: u32) {
    for i in from..from + n {
        let r = app
            .post(
                "/api/driver-onboarding/leads",
                token,
                json!({ "name": format!("Restore {i}"), "phone_number": format!("97{i:08}") }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
}

/// Polls the job until it is final.
async fn wait_job(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..300 {
        let (status, job) = status_json(
            app.get(&format!("/api/driver-onboarding/backups/jobs/{id}"), token)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{job}");
        if !matches!(job["status"].as_str(), Some("queued" | "running")) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {id} did not finish");
}

async fn web_restore_runs_as_a_job(app: TestApp) {
    let root = app.admin_token().await;
    add_leads(&app, &root, 0, 5).await;
    let backup = backup_now(&app, &root).await;
    let id = backup["id"].as_str().unwrap().to_string();
    add_leads(&app, &root, 5, 3).await;
    assert_eq!(lead_count(&app).await, 8);
    let cookie = page_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // the list shows it with its leads; the confirmation names what is replaced
    let (status, html) = page(&app, &cookie, "/backups").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("data-id=\"{id}\"")), "{html}");
    let (status, html) = page(&app, &cookie, &format!("/backups/{id}/restore")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("replaces all 8 leads") && html.contains("<strong>5 leads</strong>"),
        "{html}"
    );

    // without the box ticked nothing happens
    let r = post_form(&app, &cookie, &format!("/backups/{id}/restore"), &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Nothing was restored"));
    assert_eq!(lead_count(&app).await, 8);

    // confirmed: a restore job, then the backup's leads
    let r = post_form(
        &app,
        &cookie,
        &format!("/backups/{id}/restore"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/backups?done=restore");
    let (_, audit) = status_json(
        app.get("/api/audit?action=backup.restore_start", &root)
            .await,
    )
    .await;
    let job_id = audit[0]["details"]["job_id"].as_str().unwrap().to_string();
    let job = wait_job(&app, &root, &job_id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["kind"], "restore");
    assert_eq!(job["rows_total"], 5, "the restored leads");
    assert_eq!(lead_count(&app).await, 5);
    let names: Vec<String> = app
        .state
        .store
        .all_leads()
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert!(!names.iter().any(|n| n == "Restore 7"), "{names:?}");

    // the worker audited it with the automatic backup; the page shows the outcome
    let (_, audit) = status_json(app.get("/api/audit?action=backup.restore", &root).await).await;
    assert_eq!(audit[0]["details"]["restored"], 5, "{audit}");
    assert_eq!(audit[0]["details"]["replaced"], 8, "{audit}");
    let (_, html) = page(&app, &cookie, "/backups/jobs").await;
    assert!(html.contains("5 leads restored, 8 replaced"), "{html}");
    let (_, html) = page(&app, &cookie, "/backups").await;
    assert!(
        html.contains("Before a restore"),
        "the automatic backup is listed"
    );

    // an admin has no backups page, and no link to it
    let (_, admin_token) = app.user_with_role(&root, "adm@pulse.test", "admin").await;
    drop(admin_token);
    let admin = page_login(&app, "adm@pulse.test", "user-password-1").await;
    let (status, _) = page(&app, &admin, "/backups").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = post_form(
        &app,
        &admin,
        &format!("/backups/{id}/restore"),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, html) = page(&app, &admin, "/users").await;
    assert!(html.contains("href=\"/users\"") && !html.contains("href=\"/backups\""));
}

async fn web_one_backup_or_restore_at_a_time(app: TestApp) {
    // no workers: what is queued stays queued
    let root = app.admin_token().await;
    add_leads(&app, &root, 0, 2).await;
    let (status, _) = status_json(
        app.post("/api/driver-onboarding/backups", &root, json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let cookie = page_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // a second backup from the page is refused with the one there is
    let r = post_form(&app, &cookie, "/backups", &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("A backup is already queued"), "{html}");
    // and so is a restore (of a backup file that exists)
    let made = pulse::backup::create(
        app.state.store.as_ref(),
        &app.state.backups,
        pulse::backup::Kind::Manual,
    )
    .await
    .unwrap();
    let r = post_form(
        &app,
        &cookie,
        &format!("/backups/{}/restore", made.id),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // nor does the API's synchronous restore run beside the queued backup
    let (status, body) = status_json(
        app.post(
            &format!("/api/driver-onboarding/backups/{}/restore", made.id),
            &root,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("backup job is queued")
    );
    assert_eq!(lead_count(&app).await, 2);
    // the page shows the queued job waiting
    let (_, html) = page(&app, &cookie, "/backups").await;
    assert!(html.contains("Waiting") && html.contains("hx-trigger=\"every 1s\""));
}

async fn web_users_rules_are_enforced_and_shown(app: TestApp) {
    let root = app.admin_token().await;
    let (admin_id, _) = app.user_with_role(&root, "adm@pulse.test", "admin").await;
    let (other_master, _) = app
        .user_with_role(&root, "boss@pulse.test", "master_admin")
        .await;
    // someone registers and waits
    let r = app
        .client
        .post(app.url("/api/auth/register"))
        .json(
            &json!({ "email": "new.tc@pulse.test", "password": "new-user-pass-1",
                        "first_name": "Nila", "last_name": "V", "account_type": "telecaller" }),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let users = app.state.store.list_users().await.unwrap();
    let pending = users
        .iter()
        .find(|u| u.email == "new.tc@pulse.test")
        .unwrap();

    let admin = page_login(&app, "adm@pulse.test", "user-password-1").await;
    let (status, html) = page(&app, &admin, "/users").await;
    assert_eq!(status, StatusCode::OK);
    // pending first, with the role the approval grants
    let pending_at = html.find("Waiting for approval").unwrap();
    let accounts_at = html.find("id=\"all-h\"").unwrap();
    let nila = html.find("new.tc@pulse.test").unwrap();
    assert!(pending_at < nila && nila < accounts_at, "pending first");
    assert!(html.contains("Approve as Telecaller"));
    // an admin gets no controls on a master_admin, and is told why
    assert!(html.contains("Only a master admin can change a master admin"));
    assert!(!html.contains(&format!("/users/{other_master}/role")));
    // nor master_admin among the roles it may grant
    assert!(!html.contains("value=\"master_admin\""));
    // and a post anyway is refused, changing nothing
    for path in ["role", "disable", "reset-password"] {
        let r = post_form(
            &app,
            &admin,
            &format!("/users/{other_master}/{path}"),
            &[("account_type", "standard")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(r.text().await.unwrap().contains("master_admin"));
    }
    let boss = app
        .state
        .store
        .get_user(other_master.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(boss.account_type.as_str(), "master_admin");
    assert_eq!(boss.status.as_str(), "active");
    // nor may an admin make someone a master_admin
    let r = post_form(
        &app,
        &admin,
        &format!("/users/{}/approve", pending.id),
        &[("account_type", "master_admin")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // approval as ops_team instead of the requested telecaller
    let r = post_form(
        &app,
        &admin,
        &format!("/users/{}/approve", pending.id),
        &[("account_type", "ops_team")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let u = app.state.store.get_user(pending.id).await.unwrap().unwrap();
    assert_eq!(
        (u.account_type.as_str(), u.status.as_str()),
        ("ops_team", "active")
    );
    // a role change
    let r = post_form(
        &app,
        &admin,
        &format!("/users/{}/role", pending.id),
        &[("account_type", "telecaller")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let u = app.state.store.get_user(pending.id).await.unwrap().unwrap();
    assert_eq!(u.account_type.as_str(), "telecaller");
    // an admin cannot disable itself
    let r = post_form(&app, &admin, &format!("/users/{admin_id}/disable"), &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // the temporary password is shown once, and works
    let r = post_form(
        &app,
        &admin,
        &format!("/users/{}/reset-password", pending.id),
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let start = html.find("id=\"temp-password\">").unwrap() + "id=\"temp-password\">".len();
    let password = &html[start..start + html[start..].find('<').unwrap()];
    assert!(password.len() >= 12, "{password}");
    let r = app.login("new.tc@pulse.test", password).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, html) = page(&app, &admin, "/users").await;
    assert!(!html.contains(password), "shown only once");
    // a new account from the page, with a generated password
    let r = post_form(
        &app,
        &admin,
        "/users",
        &[
            ("email", "made@pulse.test"),
            ("first_name", "Made"),
            ("last_name", "Here"),
            ("account_type", "ops_team"),
            ("password", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("temp-password"));
    // a bad e-mail is answered on the page, the form kept
    let r = post_form(
        &app,
        &admin,
        "/users",
        &[
            ("email", "not-an-email"),
            ("first_name", "Kept"),
            ("account_type", "ops_team"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("value=\"Kept\""));
    // an ops_team member has no users page
    let (_, _) = app
        .user_with_role(&root, "ops@pulse.test", "ops_team")
        .await;
    let ops = page_login(&app, "ops@pulse.test", "user-password-1").await;
    let (status, _) = page(&app, &ops, "/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn web_audit_filters_who_what_when(app: TestApp) {
    let root = app.admin_token().await;
    let (_, _) = app.user_with_role(&root, "adm@pulse.test", "admin").await;
    let admin = page_login(&app, "adm@pulse.test", "user-password-1").await;
    let r = post_form(
        &app,
        &admin,
        "/users",
        &[
            ("email", "x1@pulse.test"),
            ("first_name", "X"),
            ("account_type", "standard"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = page_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // who
    let (status, html) = page(&app, &cookie, "/audit?actor=ADM@pulse.test").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("user.create"), "{html}");
    assert!(!html.contains(ADMIN_EMAIL), "only the admin's entries");
    // what: an area covers its actions; another area does not match
    let (_, html) = page(&app, &cookie, "/audit?action=user").await;
    assert!(html.contains("user.create"));
    let (_, html) = page(&app, &cookie, "/audit?action=backup").await;
    assert!(html.contains("No entries match"));
    // when: today has them, a day long past has none
    let today = pulse::domain::ist_today().to_string();
    let (_, html) = page(
        &app,
        &cookie,
        &format!("/audit?action=user.create&start_date={today}&end_date={today}"),
    )
    .await;
    assert!(html.contains("user.create"));
    let (_, html) = page(&app, &cookie, "/audit?end_date=2020-01-01").await;
    assert!(html.contains("No entries match"));
    // a bad date is said beside the form
    let (status, html) = page(&app, &cookie, "/audit?start_date=soon").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("start_date"));
    // the API takes the same filters
    let (status, list) = status_json(
        app.get("/api/audit?actor=adm@pulse.test&action=user", &root)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !list.as_array().unwrap().is_empty()
            && list
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["actor_email"] == "adm@pulse.test")
    );
    // an admin may not read it
    let (status, _) = page(&app, &admin, "/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn web_dashboard_and_sources_by_role_with_guarded_csv(app: TestApp) {
    let root = app.admin_token().await;
    let today = pulse::domain::ist_today().to_string();
    for (i, source) in ["=HYPERLINK(\"http://x\")", "Walk-in", "walk in", "Walk-in"]
        .iter()
        .enumerate()
    {
        let r = app
            .post(
                "/api/driver-onboarding/leads",
                &root,
                json!({ "name": format!("Dash {i}"), "phone_number": format!("96{i:08}"),
                        "source": source, "import_date": today }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let (_, _) = app
        .user_with_role(&root, "ops@pulse.test", "ops_team")
        .await;
    let (_, _) = app
        .user_with_role(&root, "tc@pulse.test", "telecaller")
        .await;
    let ops = page_login(&app, "ops@pulse.test", "user-password-1").await;
    let tc = page_login(&app, "tc@pulse.test", "user-password-1").await;

    // ops: the dashboard and the sources, without the merge controls
    let (status, html) = page(&app, &ops, "/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("figures as of") && html.contains("<svg"));
    assert!(html.len() < 100_000, "page weight {}", html.len());
    let (status, html) = page(&app, &ops, "/sources").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Walk-in") && html.contains("walk in"));
    assert!(html.contains("An admin can merge them") && !html.contains("/sources/merge"));
    let r = post_form(
        &app,
        &ops,
        "/sources/merge",
        &[("from", "walk in"), ("to", "Walk-in")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // a telecaller: neither
    for path in ["/dashboard", "/sources", "/dashboard/funnel.csv"] {
        let (status, _) = page(&app, &tc, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }

    // the imports CSV: the export's formula guard on a hostile source name
    let r = crate::web::no_redirects()
        .get(app.url(&format!(
            "/dashboard/imports.csv?start_date={today}&end_date={today}"
        )))
        .header("cookie", &ops)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
    assert!(!csv.contains(",=HYPERLINK"), "{csv}");
    assert!(csv.contains(&format!("{today},{today},")), "{csv}");
    let (status, _) = page(&app, &ops, "/dashboard/nope.csv").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = page(&app, &ops, "/dashboard/funnel.csv?start_date=x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // an admin merges the likely duplicates
    let (_, _) = app.user_with_role(&root, "adm@pulse.test", "admin").await;
    let admin = page_login(&app, "adm@pulse.test", "user-password-1").await;
    let r = post_form(
        &app,
        &admin,
        "/sources/merge",
        &[("from", "walk in"), ("to", "Walk-in")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, list) = status_json(
        app.get("/api/driver-onboarding/leads?source=Walk-in", &root)
            .await,
    )
    .await;
    assert_eq!(list["total"], 3);
    // an empty target is said on the page, nothing merged
    let r = post_form(
        &app,
        &admin,
        "/sources/merge",
        &[("from", "Walk-in"), ("to", " ")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = status_json(
        app.get("/api/driver-onboarding/leads?source=Walk-in", &root)
            .await,
    )
    .await;
    assert_eq!(list["total"], 3);
}
