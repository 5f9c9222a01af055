//! Issue 19, COMPAT §2.14: the original's "Bulk Import from Excel"
//! (`POST …/bulk-import`, a workbook and `column_mapping`) on Pulse's
//! importer — backup first, stored phones updated in place with the mapped
//! non-empty cells, repeats within the file skipped, telecallers resolved
//! by name — and the original's `duplicates[]` / `duplicate_phones[]` on
//! `import-leads`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::import_fixtures::{sheet, workbook};
use crate::import_support::{multipart, stored_leads, upload};
use crate::leads::{API, create};

const BULK: &str = "/api/driver-onboarding/bulk-import";
const BACKUPS: &str = "/api/driver-onboarding/backups";

/// A one-sheet workbook of text cells.
fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut xml = String::new();
    for (r, cells) in rows.iter().enumerate() {
        let n = r + 1;
        xml.push_str(&format!("<row r=\"{n}\">"));
        for (c, v) in cells.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            let col = (b'A' + c as u8) as char;
            xml.push_str(&format!(
                "<c r=\"{col}{n}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                esc(v)
            ));
        }
        xml.push_str("</row>");
    }
    workbook(&sheet(&xml), None)
}

/// Posts a bulk-import: `fields` (column_mapping …) and the file.
async fn bulk(
    app: &TestApp,
    token: &str,
    fields: &[(&str, &str)],
    name: &str,
    file: &[u8],
) -> (StatusCode, Value) {
    let (ct, body) = multipart(fields, name, file);
    let r = app
        .client
        .post(app.url(BULK))
        .bearer_auth(token)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    status_json(r).await
}

async fn backups(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, listed) = status_json(app.get(BACKUPS, token).await).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    listed["backups"].as_array().unwrap().clone()
}

/// An active telecaller account named `first last`.
async fn telecaller(app: &TestApp, admin: &str, email: &str, first: &str, last: &str) {
    let r = app
        .post(
            "/api/users",
            admin,
            json!({"email": email, "password": "tele-password-1", "account_type": "telecaller",
                   "first_name": first, "last_name": last}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED, "create telecaller {email}");
}

fn by_phone<'a>(
    leads: &'a std::collections::BTreeMap<uuid::Uuid, pulse::domain::Lead>,
    phone: &str,
) -> &'a pulse::domain::Lead {
    leads
        .values()
        .find(|l| l.phone_number == phone)
        .unwrap_or_else(|| panic!("no lead with phone {phone}"))
}

const HEADER: &[&str] = &[
    "Full Name",
    "Mobile",
    "Mail",
    "City",
    "Caller",
    "Lead Status",
    "Favourite colour",
];

const MAPPING: &str = r#"{"name": 0, "phone_number": 1, "email": 2, "current_location": 3,
    "assigned_telecaller": 4, "status": 5, "vehicle": null}"#;

async fn bulk_import_updates_by_phone_inserts_the_rest_and_resolves_telecallers(app: TestApp) {
    let admin = app.admin_token().await;
    telecaller(&app, &admin, "kavya.tc@pulse.test", "Kavya", "Raman").await;
    telecaller(&app, &admin, "arun.tc@pulse.test", "Arun", "Kumar").await;
    let stored = create(
        &app,
        &admin,
        json!({"name": "Old Name", "phone_number": "9876500001", "email": "old@example.com",
               "current_location": "Chennai", "vehicle": "2W EV"}),
    )
    .await;
    let stored_id = stored["id"].as_str().unwrap().to_owned();

    let file = xlsx(&[
        HEADER,
        // a stored phone (spelt otherwise): updated, the blank e-mail kept
        &[
            "New Name",
            "98765 00001",
            "",
            "Madurai",
            "kavya  RAMAN",
            "Interested",
            "red",
        ],
        // new; telecaller by first name; stage follows the status
        &[
            "Bala",
            "9876500002",
            "bala@example.com",
            "Salem",
            "arun",
            "Docs Upload Pending",
            "",
        ],
        // the same phone again: skipped, the first row wins
        &["Bala Again", "9876500002", "", "Erode", "", "", ""],
        // Pulse's rules reject it
        &["Chitra", "12345", "", "", "", "", ""],
        // a telecaller nobody is: left unassigned
        &["Devi", "9876500004", "", "", "Nobody Known", "", ""],
        // by login, any case
        &["Esha", "9876500005", "", "", "ARUN.TC@pulse.test", "", ""],
    ]);
    let (status, a) = bulk(
        &app,
        &admin,
        &[("column_mapping", MAPPING)],
        "drivers.xlsx",
        &file,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    // the keys the original's frontend reads
    assert_eq!(a["success"], true, "{a}");
    assert!(a["message"].as_str().unwrap().contains("3 new"), "{a}");
    let backup_name = a["backup_created"].as_str().unwrap().to_owned();
    assert!(
        backup_name.starts_with("backup-") && backup_name.ends_with(".jsonl.gz"),
        "{a}"
    );
    assert_eq!(a["new_leads_count"], 3, "{a}");
    assert_eq!(a["updated_leads_count"], 1, "{a}");
    assert_eq!(a["duplicates_updated"], 1, "{a}");
    assert_eq!(a["duplicates_skipped"], 1, "{a}");
    assert_eq!(a["total_leads_now"], 4, "{a}");
    assert_eq!(
        a["telecaller_assignments"],
        json!({"leads_assigned": 3, "telecallers_updated": 2}),
        "{a}"
    );
    // Pulse's own keys beside them
    assert_eq!(a["rejected"], 1, "{a}");
    assert_eq!(a["skipped_duplicates"], 1, "{a}");
    assert_eq!(a["telecallers_unresolved"], 1, "{a}");
    assert_eq!(a["mode"], "synchronous");
    let import_id = a["import_id"].as_str().unwrap();
    let report = a["report"]["url"].as_str().unwrap();
    assert!(report.contains(import_id), "{a}");
    let rows = a["report"]["rows"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["outcome"] == "rejected" && r["row"] == 5),
        "{a}"
    );
    assert!(
        rows.iter()
            .any(|r| r["outcome"] == "skipped" && r["row"] == 4 && r["name"] == "Bala Again"),
        "{a}"
    );

    // the backup came first: of the one lead there was, named as answered
    let listed = backups(&app, &admin).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["kind"], "pre_import");
    assert_eq!(listed[0]["leads"], 1);
    assert_eq!(listed[0]["id"], a["backup_id"]);
    let id: uuid::Uuid = listed[0]["id"].as_str().unwrap().parse().unwrap();
    assert!(
        backup_name.ends_with(&format!("-{}.jsonl.gz", id.simple())),
        "{backup_name}"
    );

    let leads = stored_leads(&app).await;
    assert_eq!(leads.len(), 4);
    let old = by_phone(&leads, "9876500001");
    assert_eq!(old.id.to_string(), stored_id, "the stored lead kept its id");
    assert_eq!(old.name, "New Name");
    assert_eq!(old.current_location.as_deref(), Some("Madurai"));
    assert_eq!(
        old.email.as_deref(),
        Some("old@example.com"),
        "a blank cell"
    );
    assert_eq!(old.vehicle.as_deref(), Some("2W EV"), "an unmapped field");
    assert_eq!(old.status, "Interested");
    assert_eq!(
        old.assigned_telecaller.as_deref(),
        Some("kavya.tc@pulse.test")
    );
    assert!(old.assigned_date.is_some());
    let bala = by_phone(&leads, "9876500002");
    assert_eq!(bala.name, "Bala");
    assert_eq!(bala.current_location.as_deref(), Some("Salem"));
    assert_eq!(
        (bala.stage, bala.status.as_str()),
        (pulse::domain::Stage::S2, "Docs Upload Pending")
    );
    assert_eq!(
        bala.assigned_telecaller.as_deref(),
        Some("arun.tc@pulse.test")
    );
    assert_eq!(
        bala.assigned_date,
        Some(pulse::domain::today_ist(chrono::Utc::now()))
    );
    assert_eq!(by_phone(&leads, "9876500004").assigned_telecaller, None);
    assert_eq!(
        by_phone(&leads, "9876500005")
            .assigned_telecaller
            .as_deref(),
        Some("arun.tc@pulse.test")
    );
    assert!(!leads.values().any(|l| l.name == "Chitra"));

    // audited as an import, marked as the original's bulk-import
    let (_, audit) = status_json(app.get("/api/audit?action=import", &admin).await).await;
    let entry = &audit.as_array().unwrap()[0];
    assert_eq!(entry["details"]["bulk_import"], true, "{entry}");
    assert_eq!(entry["details"]["file_name"], "drivers.xlsx", "{entry}");
    assert_eq!(entry["details"]["counts"]["leads_assigned"], 3, "{entry}");

    // as the telecaller's desk sees it: the assigned lead is theirs
    let tc = app.token("arun.tc@pulse.test", "tele-password-1").await;
    let (status, list) = status_json(app.get(&format!("{API}/leads"), &tc).await).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 2, "{list}");
}

/// Without `column_mapping`: the header row read as Pulse's import reads it.
async fn bulk_import_without_a_mapping_reads_the_headers(app: TestApp) {
    let admin = app.admin_token().await;
    create(
        &app,
        &admin,
        json!({"name": "Stored", "phone_number": "9876500001", "remarks": "keep me"}),
    )
    .await;
    let file = xlsx(&[
        &["Name", "Phone", "Email", "Remarks"],
        &["Stored Renamed", "9876500001", "s@example.com", ""],
        &["Fresh", "9876500002", "", "walk-in"],
    ]);
    let (status, a) = bulk(&app, &admin, &[], "leads.xlsx", &file).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(
        (
            &a["new_leads_count"],
            &a["updated_leads_count"],
            &a["total_leads_now"]
        ),
        (&json!(1), &json!(1), &json!(2)),
        "{a}"
    );
    let leads = stored_leads(&app).await;
    let s = by_phone(&leads, "9876500001");
    assert_eq!(
        (s.name.as_str(), s.email.as_deref(), s.remarks.as_deref()),
        ("Stored Renamed", Some("s@example.com"), Some("keep me"))
    );
}

async fn bulk_import_refuses_bad_requests_before_any_backup(app: TestApp) {
    let admin = app.admin_token().await;
    let good = xlsx(&[HEADER, &["Asha", "9876500001", "", "", "", "", ""]]);
    // not a workbook by name
    let (status, e) = bulk(
        &app,
        &admin,
        &[("column_mapping", MAPPING)],
        "leads.csv",
        b"name,phone\nAsha,9876500001\n",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["detail"].as_str().unwrap().contains(".xlsx"), "{e}");
    // named .xlsx, but text inside
    let (status, e) = bulk(
        &app,
        &admin,
        &[("column_mapping", MAPPING)],
        "leads.xlsx",
        b"name,phone\nAsha,9876500001\n",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    // the mapping lacks the phone
    let (status, e) = bulk(
        &app,
        &admin,
        &[("column_mapping", r#"{"name": 0, "email": 2}"#)],
        "leads.xlsx",
        &good,
    )
    .await;
    assert!(status.is_client_error(), "{status} {e}");
    assert!(
        e["detail"].as_str().unwrap().contains("phone_number"),
        "{e}"
    );
    // a field it does not know, a bad index, not JSON
    for (mapping, names) in [
        (
            r#"{"name": 0, "phone_number": 1, "shoe_size": 3}"#,
            "shoe_size",
        ),
        (r#"{"name": 0, "phone_number": -1}"#, "phone_number"),
        (r#"{"name": 0, "phone_number": 0}"#, "column 0"),
        ("name=0", "column_mapping"),
    ] {
        let (status, e) = bulk(
            &app,
            &admin,
            &[("column_mapping", mapping)],
            "leads.xlsx",
            &good,
        )
        .await;
        assert!(status.is_client_error(), "{mapping}: {status} {e}");
        assert!(
            e["detail"].as_str().unwrap().contains(names),
            "{mapping}: {e}"
        );
    }
    // no mapping and no header the importer knows
    let odd = xlsx(&[&["Colour", "Size"], &["red", "9"]]);
    let (status, e) = bulk(&app, &admin, &[], "odd.xlsx", &odd).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e["detail"].as_str().unwrap().contains("column_mapping"),
        "{e}"
    );
    // roles without the import capability (DESIGN §2)
    for role in ["telecaller", "standard"] {
        let (_, token) = app
            .user_with_role(&admin, &format!("{role}@pulse.test"), role)
            .await;
        let (status, e) = bulk(
            &app,
            &token,
            &[("column_mapping", MAPPING)],
            "leads.xlsx",
            &good,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}: {e}");
    }
    assert!(backups(&app, &admin).await.is_empty());
    assert!(stored_leads(&app).await.is_empty());
}

/// Above the job threshold the answer is held open (a newline, keep-alive
/// spaces) and ends with the same answer, from the import job.
async fn a_large_bulk_import_is_held_open_until_its_job_ends(app: TestApp) {
    let admin = app.admin_token().await;
    create(
        &app,
        &admin,
        json!({"name": "Stored", "phone_number": "9876500001"}),
    )
    .await;
    let file = xlsx(&[
        HEADER,
        &["Stored Again", "9876500001", "", "Vellore", "", "", ""],
        &["Two", "9876500002", "", "", "", "", ""],
        &["Two Again", "9876500002", "", "", "", "", ""],
    ]);
    let (ct, body) = multipart(&[("column_mapping", MAPPING)], "big.xlsx", &file);
    let r = app
        .client
        .post(app.url(BULK))
        .bearer_auth(&admin)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.starts_with('\n'), "{text:?}");
    let a: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(a["success"], true, "{a}");
    assert_eq!(a["mode"], "job", "{a}");
    assert_eq!(a["job"]["status"], "done", "{a}");
    assert_eq!(
        (
            &a["new_leads_count"],
            &a["duplicates_skipped"],
            &a["skipped_duplicates"],
            &a["total_leads_now"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(2)),
        "{a}"
    );
    assert!(a["backup_created"].as_str().unwrap().starts_with("backup-"));
    assert_eq!(backups(&app, &admin).await.len(), 1);
    let leads = stored_leads(&app).await;
    assert_eq!(
        by_phone(&leads, "9876500001").current_location.as_deref(),
        Some("Vellore")
    );
}

/// import-leads, as the original's frontend sends it: the skipped rows are
/// listed with the stored lead each one met.
async fn import_leads_lists_the_duplicates_it_skipped(app: TestApp) {
    let admin = app.admin_token().await;
    create(
        &app,
        &admin,
        json!({"name": "Stored One", "phone_number": "9876500001", "status": "Interested"}),
    )
    .await;
    // (a lead-form export's `p:` phone, as the original read it)
    let csv = "name,phone\nAsha Dup,+91 98765 00001\nNew Person,p:+919876500009\n";
    let (status, a, _) = upload(
        &app,
        &admin,
        &[
            ("lead_source", ""),
            ("lead_date", "2026-11-30"),
            ("read_source_from_file", "true"),
        ],
        "leads.csv",
        csv.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(
        (
            &a["imported_count"],
            &a["duplicate_count"],
            &a["duplicates_found"]
        ),
        (&json!(1), &json!(1), &json!(true)),
        "{a}"
    );
    assert_eq!(
        a["duplicates"],
        json!([{"name": "Asha Dup", "phone_number": "9876500001",
                "normalized_phone": "9876500001", "existing_name": "Stored One",
                "existing_status": "Interested", "existing_phone": "9876500001"}]),
        "{a}"
    );
    assert_eq!(a["duplicate_phones"], json!(["9876500001"]), "{a}");
    // without duplicates: no such keys
    let (status, a, _) = upload(
        &app,
        &admin,
        &[("read_source_from_file", "true")],
        "more.csv",
        b"name,phone\nSomeone,9876500010\n",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(a["duplicates_found"], false);
    assert!(a.get("duplicates").is_none() && a.get("duplicate_phones").is_none());
}

dual_backend_tests!(
    bulk_import_updates_by_phone_inserts_the_rest_and_resolves_telecallers,
    bulk_import_without_a_mapping_reads_the_headers,
    bulk_import_refuses_bad_requests_before_any_backup,
    import_leads_lists_the_duplicates_it_skipped,
);

dual_backend_tests!(
    mod held with &[("PULSE_IMPORT_JOB_THRESHOLD", "100")];
    a_large_bulk_import_is_held_open_until_its_job_ends,
);
