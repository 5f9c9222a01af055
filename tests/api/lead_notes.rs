//! The original's two notes fields, `telecaller_notes` and `notes`, kept
//! everywhere a lead goes: create, read, patch (limits and NUL like every
//! text field), the export's columns, the import's headers (Pulse's own and
//! the original's), a `mongoexport` line, and back through an export.
//! (Backups: `backups.rs`.)

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{Backend, TestApp, status_json};
use crate::import_support::upload;
use crate::leads::{API, create, get_lead, list_all, phone};

dual_backend_tests!(
    notes_through_the_api,
    notes_through_import_and_export,
    a_database_before_0011_is_migrated,
);

async fn notes_through_the_api(app: TestApp) {
    let admin = app.admin_token().await;
    let l = create(
        &app,
        &admin,
        json!({"name": "N1", "phone_number": phone(1),
               "telecaller_notes": "call after 6 pm", "notes": "knows Tamil, Hindi"}),
    )
    .await;
    assert_eq!(l["telecaller_notes"], "call after 6 pm");
    assert_eq!(l["notes"], "knows Tamil, Hindi");
    let id = l["id"].as_str().unwrap().to_string();
    let (s, got) = get_lead(&app, &admin, &id).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (got["telecaller_notes"].as_str(), got["notes"].as_str()),
        (Some("call after 6 pm"), Some("knows Tamil, Hindi"))
    );

    // patch: one replaced, the other untouched
    let path = format!("{API}/leads/{id}");
    let (s, p) = status_json(
        app.patch(
            &path,
            &admin,
            json!({"telecaller_notes": "switched off twice"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(p["telecaller_notes"], "switched off twice");
    assert_eq!(p["notes"], "knows Tamil, Hindi");
    // as the original frontend saves: null leaves the field, "" clears it
    let (_, p) = status_json(app.patch(&path, &admin, json!({"notes": null})).await).await;
    assert_eq!(p["notes"], "knows Tamil, Hindi");
    let (_, p) = status_json(app.patch(&path, &admin, json!({"notes": ""})).await).await;
    assert_eq!(p["notes"], Value::Null);
    assert_eq!(p["telecaller_notes"], "switched off twice");

    // the limits of every text field, naming the field; nothing written
    for (field, value, why) in [
        ("telecaller_notes", "x".repeat(1_001), "at most 1000"),
        ("notes", "y".repeat(1_001), "at most 1000"),
        ("notes", "a\u{0}b".to_string(), "notes"),
    ] {
        let (s, b) = status_json(app.patch(&path, &admin, json!({ field: value })).await).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {b}");
        let detail = b["detail"].as_str().unwrap();
        assert!(detail.contains(field) && detail.contains(why), "{b}");
        let (s, b) = status_json(
            app.post(
                &format!("{API}/leads"),
                &admin,
                json!({"name": "N2", "phone_number": phone(2), field: value}),
            )
            .await,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {b}");
    }
    let (_, after) = get_lead(&app, &admin, &id).await;
    assert_eq!(after["telecaller_notes"], "switched off twice");
    assert_eq!(after["notes"], Value::Null);
    assert_eq!(list_all(&app, &admin, "").await.len(), 1);
    // exactly at the limit is fine
    let (s, _) = status_json(
        app.patch(&path, &admin, json!({"notes": "z".repeat(1_000)}))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

async fn notes_through_import_and_export(app: TestApp) {
    let admin = app.admin_token().await;
    // Pulse's own headers, and the original's (§3.4): "SS" → telecaller
    // notes, "Comments" → notes; "Remarks" stays Pulse's remarks.
    let csv = format!(
        "Name,Phone Number,Telecaller Notes,General Notes,Remarks\n\
         I1,{},tn one,gn one,rm one\n\
         I2,{},,gn two,\n",
        phone(11),
        phone(12),
    );
    let (s, body, _) = upload(&app, &admin, &[], "own.csv", csv.as_bytes()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["inserted"], 2, "{body}");
    let orig = format!(
        "Name,Phone,SS,Comments,Remarks\nO1,{},ss text,comment text,remark text\n",
        phone(13)
    );
    let (s, body, _) = upload(&app, &admin, &[], "orig.csv", orig.as_bytes()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let cols: Vec<(String, Value)> = body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["header"].as_str().unwrap().to_owned(), c["field"].clone()))
        .collect();
    assert_eq!(
        cols[2..],
        [
            ("SS".to_owned(), json!("telecaller_notes")),
            ("Comments".to_owned(), json!("notes")),
            ("Remarks".to_owned(), json!("remarks")),
        ],
        "{body}"
    );
    // a mongoexport line of the original collection
    let mongo = format!(
        r#"{{"_id":{{"$oid":"66d0a1b2c3d4e5f601234567"}},"name":"M1","phone_number":"{}","status":"New","telecaller_notes":"mongo tn","notes":"mongo gn","created_at":{{"$date":"2026-09-01T04:10:13.484Z"}}}}"#,
        phone(14)
    );
    let (s, body, _) = upload(&app, &admin, &[], "driver_leads.json", mongo.as_bytes()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["inserted"], 1, "{body}");

    let by_phone = |leads: &[Value], n: u32| {
        leads
            .iter()
            .find(|l| l["phone_number"] == phone(n))
            .cloned()
            .unwrap_or_else(|| panic!("no lead {}", phone(n)))
    };
    let leads = list_all(&app, &admin, "").await;
    let notes = |l: &Value| {
        (
            l["telecaller_notes"].as_str().map(str::to_owned),
            l["notes"].as_str().map(str::to_owned),
            l["remarks"].as_str().map(str::to_owned),
        )
    };
    let some = |v: &str| Some(v.to_owned());
    assert_eq!(
        notes(&by_phone(&leads, 11)),
        (some("tn one"), some("gn one"), some("rm one"))
    );
    assert_eq!(notes(&by_phone(&leads, 12)), (None, some("gn two"), None));
    assert_eq!(
        notes(&by_phone(&leads, 13)),
        (some("ss text"), some("comment text"), some("remark text"))
    );
    assert_eq!(
        notes(&by_phone(&leads, 14)),
        (some("mongo tn"), some("mongo gn"), None)
    );

    // the export's columns, in every full export too
    let export = |columns: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let r = app
                .post(
                    "/api/driver-onboarding/bulk-export",
                    &admin,
                    json!({"format": "csv", "columns": columns}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
            r.text().await.unwrap()
        }
    };
    let full = export(Value::Null).await;
    let header = full.lines().next().unwrap();
    assert!(
        header.contains("Telecaller Notes") && header.contains("General Notes"),
        "{header}"
    );
    let text = export(json!([
        "phone_number",
        "telecaller_notes",
        "notes",
        "remarks"
    ]))
    .await;
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].sort();
    assert_eq!(
        lines,
        vec![
            "\u{feff}Phone Number,Telecaller Notes,General Notes,Remarks".to_owned(),
            format!("{},tn one,gn one,rm one", phone(11)),
            format!("{},,gn two,", phone(12)),
            format!("{},ss text,comment text,remark text", phone(13)),
            format!("{},mongo tn,mongo gn,", phone(14)),
        ]
    );

    // the full export read back as replace changes nothing
    let (s, body, _) = upload(
        &app,
        &admin,
        &[("duplicate_action", "replace")],
        "back.csv",
        full.as_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["unchanged"], 4, "{body}");
    // and a changed note in it is taken
    let changed = full.replace("mongo tn", "changed tn");
    let (s, body, _) = upload(
        &app,
        &admin,
        &[("duplicate_action", "replace")],
        "back2.csv",
        changed.as_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["updated"], 1, "{body}");
    let leads = list_all(&app, &admin, "").await;
    assert_eq!(
        notes(&by_phone(&leads, 14)),
        (some("changed tn"), some("mongo gn"), None)
    );
}

/// A database as it was before 0011: no notes columns, and the call events
/// of a lead deleted then still there. Migrating adds the columns (empty)
/// and drops only the orphaned events.
async fn a_database_before_0011_is_migrated(app: TestApp) {
    let admin = app.admin_token().await;
    let l = create(&app, &admin, json!({"name": "M", "phone_number": phone(1)})).await;
    let id = l["id"].as_str().unwrap().to_string();
    let r = app
        .post(&format!("{API}/leads/{id}/mark-called"), &admin, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let orphan = uuid::Uuid::new_v4();
    let undo = [
        "ALTER TABLE leads DROP COLUMN telecaller_notes",
        "ALTER TABLE leads DROP COLUMN notes",
        "DELETE FROM schema_migrations WHERE name = '0011_lead_notes'",
    ];
    let insert = format!(
        "INSERT INTO call_events (id, lead_id, actor_id, actor_login, outcome, status, at)
         VALUES ('{}', '{orphan}', '{}', 'tc@x', 'called', NULL, {})",
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        match app.backend {
            Backend::Sqlite => "1790000000000",
            Backend::Postgres => "now()",
        }
    );
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
            conn.execute_batch(&insert).unwrap();
        }
        Backend::Postgres => {
            let (client, conn) = tokio_postgres::connect(&app.database_url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            for sql in undo {
                client.batch_execute(sql).await.unwrap();
            }
            client.batch_execute(&insert).await.unwrap();
        }
    }
    let lead_id: uuid::Uuid = id.parse().unwrap();
    let both = [lead_id, orphan];
    assert_eq!(app.state.store.lead_events(&both).await.unwrap().len(), 2);
    let migrated = app.state.store.migrate().await.unwrap();
    assert_eq!(migrated, vec!["0011_lead_notes".to_string()]);
    let left = app.state.store.lead_events(&both).await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].lead_id, lead_id);
    let (_, got) = get_lead(&app, &admin, &id).await;
    assert_eq!(
        (got["name"].as_str(), got.get("notes")),
        (Some("M"), None),
        "{got}"
    );
    let (s, p) = status_json(
        app.patch(
            &format!("{API}/leads/{id}"),
            &admin,
            json!({"notes": "after"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (s, p["notes"].as_str()),
        (StatusCode::OK, Some("after")),
        "{p}"
    );
}
