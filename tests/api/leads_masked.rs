//! Masked document numbers are never written back (review L5, issue 14 item 3), and lead
//! text has length limits (M9).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::import_support::upload;
use crate::leads::{API, create, get_lead};

dual_backend_tests!(
    a_whole_lead_saved_by_any_role_keeps_the_document_numbers,
    other_masked_values_are_refused_naming_the_field,
    imports_never_write_masked_numbers,
    text_fields_and_remarks_have_limits,
    too_many_search_terms_are_refused,
);

const AADHAAR: &str = "811408719012";
const DL: &str = "TN0120074787142";

/// Every role that edits leads reads the lead and sends the whole of it back with a new
/// remark, as an edit form does; the master_admin still sees the real numbers.
async fn a_whole_lead_saved_by_any_role_keeps_the_document_numbers(app: TestApp) {
    let master = app.admin_token().await;
    let (_, admin) = app.user_with_role(&master, "a@pulse.test", "admin").await;
    let (_, ops) = app
        .user_with_role(&master, "o@pulse.test", "ops_team")
        .await;
    let (_, tc) = app
        .user_with_role(&master, "t@pulse.test", "telecaller")
        .await;
    let lead = create(
        &app,
        &master,
        json!({ "name": "Ravi", "phone_number": "9876500001", "aadhar_card": AADHAAR,
                "dl_no": DL, "assigned_telecaller": "t@pulse.test" }),
    )
    .await;
    let id = lead["id"].as_str().unwrap().to_string();
    for (role, token) in [
        ("admin", &admin),
        ("ops_team", &ops),
        ("telecaller", &tc),
        ("master_admin", &master),
    ] {
        let (status, mut shown) = get_lead(&app, token, &id).await;
        assert_eq!(status, StatusCode::OK);
        if role != "master_admin" {
            assert_eq!(
                shown["aadhar_card"], "XXXXXXXX9012",
                "{role} sees it masked"
            );
        }
        let obj = shown.as_object_mut().unwrap();
        obj.insert("remarks".into(), json!(format!("saved by {role}")));
        for k in [
            "id",
            "created_at",
            "updated_at",
            "remarks_history",
            "status_history",
            "calling_history",
            "last_called_by",
            "stage",
            "assigned_telecaller",
            "assigned_date",
        ] {
            obj.remove(k);
        }
        let r = app
            .patch(&format!("{API}/leads/{id}"), token, shown.clone())
            .await;
        let (status, body) = status_json(r).await;
        assert_eq!(status, StatusCode::OK, "{role}: {body}");
        let (_, stored) = get_lead(&app, &master, &id).await;
        assert_eq!(stored["aadhar_card"], AADHAAR, "after {role}'s save");
        assert_eq!(stored["dl_no"], DL, "after {role}'s save");
        assert_eq!(stored["remarks"], format!("saved by {role}"));
    }
}

async fn other_masked_values_are_refused_naming_the_field(app: TestApp) {
    let master = app.admin_token().await;
    let (_, admin) = app.user_with_role(&master, "a@pulse.test", "admin").await;
    let lead = create(
        &app,
        &master,
        json!({ "name": "Ravi", "phone_number": "9876500002", "aadhar_card": AADHAAR }),
    )
    .await;
    let id = lead["id"].as_str().unwrap();
    for token in [&admin, &master] {
        let r = app
            .patch(
                &format!("{API}/leads/{id}"),
                token,
                json!({ "aadhar_card": "XXXXXXXX1111", "name": "Changed" }),
            )
            .await;
        let (status, body) = status_json(r).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["detail"].as_str().unwrap().contains("aadhar_card"),
            "{body}"
        );
        let r = app
            .patch(
                &format!("{API}/leads/{id}"),
                token,
                json!({ "pan_card": "XXXXXX111Y" }),
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "no stored pan_card to keep"
        );
    }
    let (_, stored) = get_lead(&app, &master, id).await;
    assert_eq!(stored["aadhar_card"], AADHAAR);
    assert_eq!(stored["name"], "Ravi");
    // a new lead cannot carry a masked number either
    let r = app
        .post(
            &format!("{API}/leads"),
            &admin,
            json!({ "name": "N", "phone_number": "9876500003", "dl_no": "XXXXXXXXXXX7142" }),
        )
        .await;
    let (status, body) = status_json(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("dl_no"));
}

async fn imports_never_write_masked_numbers(app: TestApp) {
    let master = app.admin_token().await;
    let (_, ops) = app
        .user_with_role(&master, "o@pulse.test", "ops_team")
        .await;
    let lead = create(
        &app,
        &master,
        json!({ "name": "Ravi", "phone_number": "9876500004", "aadhar_card": AADHAAR }),
    )
    .await;
    let id = lead["id"].as_str().unwrap();
    let csv = "name,phone,aadhar card,remarks\r\n\
               Ravi,9876500004,XXXXXXXX9012,edited in excel\r\n\
               New One,9876500005,XXXXXXXX5555,new\r\n";
    let (status, body, _) = upload(
        &app,
        &ops,
        &[("duplicate_action", "replace")],
        "masked.csv",
        csv.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["inserted"], 1, "{body}");
    let (_, stored) = get_lead(&app, &master, id).await;
    assert_eq!(stored["aadhar_card"], AADHAAR);
    let rows = body["report"]["rows"].as_array().unwrap();
    let note = rows
        .iter()
        .find(|r| r["outcome"] == "inserted")
        .unwrap_or_else(|| panic!("the emptied number is reported: {body}"));
    assert_eq!(note["field"], "aadhar_card");
    let new_id = note["lead_id"].as_str().unwrap();
    let (_, new) = get_lead(&app, &master, new_id).await;
    assert_eq!(new["aadhar_card"], Value::Null);
    // JSON lines too
    let jsonl = r#"{"name":"J","phone_number":"9876500006","pan_card":"******111Y"}"#;
    let (status, body, _) = upload(&app, &ops, &[], "m.jsonl", jsonl.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows = body["report"]["rows"].as_array().unwrap();
    let new_id = rows[0]["lead_id"].as_str().unwrap();
    let (_, new) = get_lead(&app, &master, new_id).await;
    assert_eq!(new["pan_card"], Value::Null, "{body}");
}

async fn text_fields_and_remarks_have_limits(app: TestApp) {
    let master = app.admin_token().await;
    let lead = create(
        &app,
        &master,
        json!({ "name": "Ravi", "phone_number": "9876500007" }),
    )
    .await;
    let id = lead["id"].as_str().unwrap();
    let remark = "r".repeat(100_001);
    let r = app
        .post(
            &format!("{API}/leads/{id}/remarks"),
            &master,
            json!({ "remark": remark }),
        )
        .await;
    let (status, body) = status_json(r).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a 100,001-character remark"
    );
    assert!(body["detail"].as_str().unwrap().contains("remark"));
    let r = app
        .patch(
            &format!("{API}/leads/{id}"),
            &master,
            json!({ "current_location": "x".repeat(5_000) }),
        )
        .await;
    let (status, body) = status_json(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("current_location")
    );
    let r = app
        .post(
            &format!("{API}/leads"),
            &master,
            json!({ "name": "n".repeat(5_000), "phone_number": "9876500008" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for i in 0..1000 {
        let r = app
            .post(
                &format!("{API}/leads/{id}/remarks"),
                &master,
                json!({ "remark": format!("note {i}") }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = app
        .post(
            &format!("{API}/leads/{id}/remarks"),
            &master,
            json!({ "remark": "one too many" }),
        )
        .await;
    let (status, body) = status_json(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("remarks_history"));
}

/// M10: more than 500 search terms is a 422 on every path that builds a filter.
async fn too_many_search_terms_are_refused(app: TestApp) {
    let token = app.admin_token().await;
    let terms: Vec<String> = (0..1001).map(|i| format!("t{i:03}")).collect();
    let search = terms.join(",");
    let r = app
        .get(&format!("{API}/leads?search={search}"), &token)
        .await;
    let (status, body) = status_json(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("search"));
    let r = app
        .post(
            &format!("{API}/bulk-export"),
            &token,
            json!({ "filters": { "search": search }, "format": "csv" }),
        )
        .await;
    let (status, body) = status_json(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("at most 500"),
        "{body}"
    );
    let r = app
        .get(
            &format!("{API}/leads?search={}", &terms[..500].join(",")),
            &token,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}
