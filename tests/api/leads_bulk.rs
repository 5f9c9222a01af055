//! Bulk operations, the audit of bulk deletes, and the telecaller desk.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::leads::{API, create, get_lead, phone, today};

dual_backend_tests!(
    bulk_assign_reports_missing_ids_and_changes_only_the_rest,
    reassign_date_refuses_unassigned_leads,
    unassign_clears_the_assignment,
    bulk_status_is_atomic_and_scoped_for_telecallers,
    bulk_delete_is_audited,
    telecaller_desk_and_summary,
);

async fn three(app: &TestApp, t: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..3 {
        let l = create(
            app,
            t,
            json!({"name": format!("B{i}"), "phone_number": phone(i)}),
        )
        .await;
        ids.push(l["id"].as_str().unwrap().to_string());
    }
    ids
}

async fn bulk_assign_reports_missing_ids_and_changes_only_the_rest(app: TestApp) {
    let t = app.admin_token().await;
    let ids = three(&app, &t).await;
    app.user_with_role(&t, "tc@x.test", "telecaller").await;
    app.user_with_role(&t, "tc2@x.test", "telecaller").await;
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, r) = status_json(
        app.patch(
            &format!("{API}/bulk-assign"),
            &t,
            json!({"lead_ids": [ids[0], ids[1], missing, "garbage"], "telecaller": "tc@x.test",
                   "assigned_date": "2026-05-01"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["updated"], 2);
    assert_eq!(r["not_found"], json!([missing, "garbage"]));
    for (i, want) in [(0, Some("tc@x.test")), (1, Some("tc@x.test")), (2, None)] {
        let (_, l) = get_lead(&app, &t, &ids[i]).await;
        assert_eq!(l["assigned_telecaller"].as_str(), want);
        if want.is_some() {
            assert_eq!(l["assigned_date"], "2026-05-01");
        }
    }
    // without a date: today (IST); an empty id list is refused
    let (_, r) = status_json(
        app.patch(
            &format!("{API}/bulk-assign"),
            &t,
            json!({"lead_ids": [ids[2]], "telecaller": "tc2@x.test"}),
        )
        .await,
    )
    .await;
    assert_eq!(r["updated"], 1);
    assert_eq!(
        get_lead(&app, &t, &ids[2]).await.1["assigned_date"],
        today()
    );
    let r = app
        .patch(
            &format!("{API}/bulk-assign"),
            &t,
            json!({"lead_ids": [], "telecaller": "tc@x.test"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn reassign_date_refuses_unassigned_leads(app: TestApp) {
    let t = app.admin_token().await;
    let ids = three(&app, &t).await;
    app.user_with_role(&t, "tc@x.test", "telecaller").await;
    app.patch(
        &format!("{API}/bulk-assign"),
        &t,
        json!({"lead_ids": [ids[0], ids[1]], "telecaller": "tc@x.test", "assigned_date": "2026-05-01"}),
    )
    .await;
    let (status, r) = status_json(
        app.patch(
            &format!("{API}/reassign-date"),
            &t,
            json!({"lead_ids": ids, "new_date": "2026-06-02"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["updated"], 2);
    assert_eq!(r["not_allowed"], json!([ids[2]]));
    assert_eq!(
        get_lead(&app, &t, &ids[0]).await.1["assigned_date"],
        "2026-06-02"
    );
    assert_eq!(
        get_lead(&app, &t, &ids[2]).await.1["assigned_date"],
        Value::Null
    );
}

async fn unassign_clears_the_assignment(app: TestApp) {
    let t = app.admin_token().await;
    let l = create(
        &app,
        &t,
        json!({"name": "U", "phone_number": phone(1), "assigned_telecaller": "tc@x.test"}),
    )
    .await;
    let id = l["id"].as_str().unwrap();
    let (status, l) = status_json(
        app.post(&format!("{API}/leads/{id}/unassign"), &t, json!({}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["assigned_telecaller"], Value::Null);
    assert_eq!(l["assigned_date"], Value::Null);
    let (_, body) = status_json(
        app.get(&format!("{API}/leads?unassigned_only=true"), &t)
            .await,
    )
    .await;
    assert_eq!(body["total"], 1);
    let r = app
        .post(
            &format!("{API}/leads/{}/unassign", uuid::Uuid::new_v4()),
            &t,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn bulk_status_is_atomic_and_scoped_for_telecallers(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, tc) = app.user_with_role(&admin, "tc@x.test", "telecaller").await;
    let mine = create(
        &app,
        &admin,
        json!({"name": "Mine", "phone_number": phone(1), "assigned_telecaller": "TC@x.test"}),
    )
    .await;
    let theirs = create(
        &app,
        &admin,
        json!({"name": "Theirs", "phone_number": phone(2), "assigned_telecaller": "other@x.test"}),
    )
    .await;
    let (mine_id, theirs_id) = (mine["id"].as_str().unwrap(), theirs["id"].as_str().unwrap());
    let (status, r) = status_json(
        app.patch(
            &format!("{API}/leads/bulk-update-status"),
            &tc,
            json!({"lead_ids": [mine_id, theirs_id], "status": "RNR"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["updated"], 1);
    assert_eq!(
        r["not_found"],
        json!([theirs_id]),
        "out of reach looks like missing"
    );
    let (_, l) = get_lead(&app, &admin, mine_id).await;
    assert_eq!(l["status"], "RNR");
    assert_eq!(l["status_history"][0]["changed_by"], "tc@x.test");
    assert_eq!(get_lead(&app, &admin, theirs_id).await.1, theirs);
}

async fn bulk_delete_is_audited(app: TestApp) {
    let t = app.admin_token().await;
    let ids = three(&app, &t).await;
    let missing = uuid::Uuid::new_v4().to_string();
    let (status, r) = status_json(
        app.post(
            &format!("{API}/leads/bulk-delete"),
            &t,
            json!({"lead_ids": [ids[0], ids[2], missing]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["deleted"], 2);
    assert_eq!(r["not_found"], json!([missing]));
    assert_eq!(get_lead(&app, &t, &ids[0]).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get_lead(&app, &t, &ids[1]).await.0, StatusCode::OK);
    let (_, log) = status_json(app.get("/api/audit?action=leads.bulk_delete", &t).await).await;
    let entry = &log[0];
    assert_eq!(entry["actor_email"], crate::helpers::ADMIN_EMAIL);
    assert_eq!(entry["details"]["count"], 2);
    let mut logged: Vec<String> = entry["details"]["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    logged.sort();
    let mut want = vec![ids[0].clone(), ids[2].clone()];
    want.sort();
    assert_eq!(logged, want);
}

async fn telecaller_desk_and_summary(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, tc) = app.user_with_role(&admin, "tc@x.test", "telecaller").await;
    let today = pulse::domain::ist_today();
    let yesterday = today.pred_opt().unwrap().to_string();
    let tomorrow = today.succ_opt().unwrap().to_string();
    let today = today.to_string();
    let specs = [
        (Some(today.as_str()), None),
        (Some(yesterday.as_str()), Some(today.as_str())),
        (Some(yesterday.as_str()), Some(yesterday.as_str())),
        (Some(yesterday.as_str()), Some(tomorrow.as_str())),
    ];
    for (i, (assigned, callback)) in specs.iter().enumerate() {
        create(
            &app,
            &admin,
            json!({"name": "D", "phone_number": phone(i as u32), "assigned_telecaller": "tc@x.test",
                   "assigned_date": assigned, "callback_date": callback}),
        )
        .await;
    }
    // someone else's lead, due today: not on this desk
    create(
        &app,
        &admin,
        json!({"name": "D", "phone_number": phone(9), "assigned_telecaller": "o@x.test",
               "assigned_date": today, "callback_date": today}),
    )
    .await;
    let (status, desk) = status_json(app.get(&format!("{API}/telecaller-desk"), &tc).await).await;
    assert_eq!(status, StatusCode::OK, "{desk}");
    assert_eq!(desk["today"]["total"], 1);
    assert_eq!(desk["callbacks_due"]["total"], 1);
    assert_eq!(desk["overdue"]["total"], 1);
    let (_, as_admin) = status_json(
        app.get(
            &format!("{API}/telecaller-desk?telecaller=tc@x.test"),
            &admin,
        )
        .await,
    )
    .await;
    assert_eq!(as_admin["today"]["total"], 1);
    let (status, s) = status_json(app.get(&format!("{API}/telecaller-summary"), &tc).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["total_leads"], 4);
    assert_eq!(s["overdue"], 1);
    let r = app
        .get(
            &format!("{API}/telecaller-summary?telecaller=o@x.test"),
            &tc,
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "another telecaller's desk"
    );
    // like the original, no telecaller means the caller's own leads
    let (status, s) =
        status_json(app.get(&format!("{API}/telecaller-summary"), &admin).await).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["telecaller"], crate::helpers::ADMIN_EMAIL);
    assert_eq!(
        (s["success"].clone(), s["total_leads"].clone()),
        (json!(true), json!(0))
    );
}
