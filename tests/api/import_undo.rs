//! Issue 20: messy sheets read leniently and explained (synonym headers, a
//! title row, coded and free-text statuses, two status columns), text over
//! the API's limits rejected naming the field (review M9), and the undo of
//! an import by its id — exact without a later edit, refused with one, from
//! a second instance on the same database (a restart) — on both backends.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pulse::domain::{FIELDS, Lead};
use pulse::export::xlsx::{XlsxOptions, XlsxWriter};
use pulse::export::{Cell, Column, ColumnKind, RowWriter};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::import_support::{stored_leads, upload};
use crate::leads::{API, create, phone};

/// An xlsx workbook made by Pulse's own writer: its header row is `title`
/// (a title row: one text cell), then `rows` (the sheet's real header first).
pub(crate) fn xlsx(title: &str, rows: &[Vec<&str>]) -> Vec<u8> {
    let width = rows.iter().map(Vec::len).max().unwrap_or(1);
    let columns: Vec<Column> = (0..width)
        .map(|i| {
            Column::new(
                if i == 0 {
                    title.to_owned()
                } else {
                    String::new()
                },
                12.0,
                ColumnKind::Text,
            )
        })
        .collect();
    let mut w = XlsxWriter::new(Vec::new(), &columns, XlsxOptions::default()).unwrap();
    for r in rows {
        let cells: Vec<Cell<'_>> = (0..width)
            .map(|i| match r.get(i) {
                Some(t) if !t.is_empty() => Cell::Text(t),
                _ => Cell::Empty,
            })
            .collect();
        w.write_row(&cells).unwrap();
    }
    w.finish().unwrap().out
}

fn by_phone(leads: &BTreeMap<Uuid, Lead>, p: &str) -> Lead {
    leads
        .values()
        .find(|l| l.phone_number == p)
        .unwrap_or_else(|| panic!("no lead {p}"))
        .clone()
}

async fn messy_sheets_are_read_leniently_and_explained(app: TestApp) {
    let token = app.admin_token().await;
    let (p1, p2, p3, p4, p5, p6) = (phone(1), phone(2), phone(3), phone(4), phone(5), phone(6));
    let file = xlsx(
        "Walk-in register, Porur — March",
        &[
            vec![
                "Sl.No",
                "Driver Name",
                "Mobile",
                "Status",
                "POC",
                "Lead Generator",
                "Status",
                "Current Stage",
            ],
            vec![
                "1",
                "Ravi",
                &p1,
                "New",
                "priya",
                "Fair",
                "S1-a Not interested",
                "",
            ],
            vec!["2", "Meena", &p2, "call back later", "", "Fair", "", ""],
            vec!["3", "Arun", &p3, "", "", "", "", "docs pending"],
            vec!["4", "Kumar", &p4, "RNR", "", "", "", ""],
            vec!["5", "Selvi", &p5, "Onboarding Complete", "", "", "", ""],
            vec!["6", "Babu", &p6, "Churn", "", "", "Quick Churn", ""],
        ],
    );
    let (status, body, _) = upload(
        &app,
        &token,
        &[("duplicate_action", "skip")],
        "register.xlsx",
        &file,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["rows_read"], 6, "{body}");
    assert_eq!(body["inserted"], 6, "{body}");
    assert_eq!(body["rejected"], 0, "{body}");
    // Ravi (two columns disagree + a coded status), Meena (free text),
    // Arun (the stage column's text), Selvi (unknown), Babu (two columns).
    assert_eq!(body["mapped_with_warning"], 5, "{body}");
    let cols = body["columns"].as_array().unwrap();
    let col = |h: &str| {
        cols.iter()
            .filter(|c| c["header"] == h)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(col("POC")[0]["field"], "assigned_telecaller");
    assert_eq!(col("Lead Generator")[0]["field"], "source");
    assert_eq!(col("Current Stage")[0]["field"], "stage");
    let statuses = col("Status");
    assert_eq!(statuses.len(), 2);
    assert!(
        statuses
            .iter()
            .all(|c| c["field"] == "status" && c["note"].is_string()),
        "{statuses:?}"
    );

    let leads = stored_leads(&app).await;
    let got = |p: &str| {
        let l = by_phone(&leads, p);
        (l.status, l.stage.code().to_owned())
    };
    // The later "Status" column wins where filled (the original's status.1).
    assert_eq!(got(&p1), ("Not Interested".into(), "S1".into()));
    assert_eq!(
        by_phone(&leads, &p1).assigned_telecaller.as_deref(),
        Some("priya")
    );
    assert_eq!(by_phone(&leads, &p1).source.as_deref(), Some("Fair"));
    assert_eq!(got(&p2), ("Call back 1D".into(), "S1".into()));
    assert_eq!(got(&p3), ("Docs Upload Pending".into(), "S2".into()));
    // Real statuses the original mis-mapped to New.
    assert_eq!(got(&p4), ("RNR".into(), "S1".into()));
    assert_eq!(got(&p5), ("New".into(), "S1".into()));
    assert_eq!(got(&p6), ("Quick Churn".into(), "S4".into()));

    // Every non-exact reading is a report line of its row (header = row 2).
    let rows = body["report"]["rows"].as_array().unwrap();
    let notes = |row: u64| -> Vec<String> {
        rows.iter()
            .filter(|r| r["row"] == row && r["outcome"] == "warning")
            .map(|r| r["reason"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(notes(3).len(), 2, "{rows:?}");
    assert!(
        notes(3)
            .iter()
            .any(|n| n == "status 'S1-a Not interested' of column 7 used; 'New' of column 4 not"),
        "{:?}",
        notes(3)
    );
    assert!(
        notes(3)
            .iter()
            .any(|n| n == "'S1-a Not interested' read as Not Interested (stage code S1-A)"),
        "{:?}",
        notes(3)
    );
    assert_eq!(notes(4), vec!["'call back later' read as Call back 1D"]);
    assert_eq!(
        notes(5),
        vec!["'docs pending' (from the stage column) read as Docs Upload Pending"]
    );
    assert!(notes(6).is_empty());
    assert_eq!(
        notes(7),
        vec!["'Onboarding Complete' read as New (unknown status: please check the lead)"]
    );
    assert_eq!(notes(8).len(), 1, "{:?}", notes(8));

    // Review M9: text over the API's limits rejects the row, naming the field.
    let long_name = "n".repeat(1_001);
    let long_remark = "r".repeat(10_001);
    let ok_remark = "r".repeat(10_000);
    let csv = format!(
        "name,phone,remarks\n{long_name},{},\nRavi,{},{long_remark}\nMeena,{},{ok_remark}\n",
        phone(7),
        phone(8),
        phone(9)
    );
    let (status, body, _) = upload(&app, &token, &[], "long.csv", csv.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["inserted"].as_u64(), body["rejected"].as_u64()),
        (Some(1), Some(2)),
        "{body}"
    );
    let rows = body["report"]["rows"].as_array().unwrap();
    let field = |row: u64| {
        rows.iter()
            .find(|r| r["row"] == row)
            .map(|r| r["field"].clone())
    };
    assert_eq!(field(2), Some(json!("name")));
    assert_eq!(field(3), Some(json!("remarks")));
}

/// Polls an undo job until it is final.
async fn wait_undo(app: &TestApp, token: &str, job: &Value) -> Value {
    let url = job["url"].as_str().unwrap_or_else(|| panic!("{job}"));
    let started = Instant::now();
    loop {
        let (status, j) = status_json(app.get(url, token).await).await;
        assert_eq!(status, StatusCode::OK, "{j}");
        if !["queued", "running"].contains(&j["status"].as_str().unwrap()) {
            return j;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{j}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn undo(app: &TestApp, token: &str, import_id: &str) -> (StatusCode, Value) {
    status_json(
        app.post(&format!("{API}/imports/{import_id}/undo"), token, json!({}))
            .await,
    )
    .await
}

/// Every field of every lead equal, or the first difference named.
fn assert_same_leads(got: &BTreeMap<Uuid, Lead>, want: &BTreeMap<Uuid, Lead>) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (id, w) in want {
        let g = &got[id];
        for f in FIELDS {
            assert_eq!(
                format!("{:?}", g.field(f)),
                format!("{:?}", w.field(f)),
                "lead {id}, field {}",
                f.name
            );
        }
    }
}

/// Stored A and B; the file replaces A (name, status, email) and inserts
/// C and D. Returns the answer.
async fn replace_import(app: &TestApp, token: &str) -> Value {
    let csv = format!(
        "Full Name,Phone No,Final Status,E-mail\nRavi Kumar,{},very interested,ravi@example.com\nNew One,{},S2-a docs pending,\nNew Two,{},,\n",
        phone(101),
        phone(103),
        phone(104)
    );
    let (status, body, _) = upload(
        app,
        token,
        &[("duplicate_action", "replace")],
        "update.csv",
        csv.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["inserted"].as_u64(), body["updated"].as_u64()),
        (Some(2), Some(1)),
        "{body}"
    );
    body
}

async fn undo_restores_exactly_from_another_instance(app: TestApp) {
    let token = app.admin_token().await;
    let a = create(&app, &token, json!({"name": "Ravi", "phone_number": phone(101), "status": "Call back 1W", "remarks": "first call", "dl_no": "TN0120074787142"})).await;
    create(
        &app,
        &token,
        json!({"name": "Bala", "phone_number": phone(102)}),
    )
    .await;
    let before = stored_leads(&app).await;
    let body = replace_import(&app, &token).await;
    let import_id = body["import_id"].as_str().unwrap().to_owned();
    let after = stored_leads(&app).await;
    assert_eq!(after.len(), 4);
    let a_id: Uuid = a["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(after[&a_id].name, "Ravi Kumar");
    assert_eq!(after[&a_id].status, "Highly Interested");

    // A second instance on the same database and data directory: what an
    // undo needs is stored, not held in the first process.
    let data_dir = app.dir.path().display().to_string();
    let other = TestApp::spawn_with(
        app.backend,
        &[
            ("PULSE_DATABASE_URL", app.database_url.as_str()),
            ("PULSE_DATA_DIR", data_dir.as_str()),
        ],
    )
    .await;
    let t2 = other.admin_token().await;
    let (status, rec) =
        status_json(other.get(&format!("{API}/imports/{import_id}"), &t2).await).await;
    assert_eq!(status, StatusCode::OK, "{rec}");
    assert_eq!(
        (rec["inserted"].as_u64(), rec["replaced"].as_u64()),
        (Some(2), Some(1)),
        "{rec}"
    );
    assert_eq!(rec["undone_at"], Value::Null);
    let (status, job) = undo(&other, &t2, &import_id).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["kind"], "import_undo");
    let done = wait_undo(&other, &t2, &job).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["removed"], 2, "{done}");
    assert_eq!(done["result"]["restored"], 1, "{done}");
    assert_same_leads(&stored_leads(&app).await, &before);

    // Once only; audited; unknown ids are 404.
    let (status, err) = undo(&app, &token, &import_id).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(
        err["detail"].as_str().unwrap().contains("already undone"),
        "{err}"
    );
    let (status, _) = undo(&app, &token, &Uuid::new_v4().to_string()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, audit) = status_json(app.get("/api/audit?action=import_undo.done", &token).await).await;
    let entry = &audit.as_array().unwrap()[0];
    assert_eq!(entry["details"]["import_id"], import_id.as_str());
    // Another user who may import does not see (nor undo) it.
    let (_, ops) = app
        .user_with_role(&token, "ops-undo@pulse.test", "ops_team")
        .await;
    assert_eq!(
        app.get(&format!("{API}/imports/{import_id}"), &ops)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

async fn undo_after_a_later_edit_is_refused_naming_the_lead(app: TestApp) {
    let token = app.admin_token().await;
    create(
        &app,
        &token,
        json!({"name": "Ravi", "phone_number": phone(101)}),
    )
    .await;
    let body = replace_import(&app, &token).await;
    let import_id = body["import_id"].as_str().unwrap().to_owned();
    let imported = stored_leads(&app).await;
    let c = by_phone(&imported, &phone(103));
    let (status, patched) = status_json(
        app.patch(
            &format!("{API}/leads/{}", c.id),
            &token,
            json!({"remarks": "called, keep"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let edited = stored_leads(&app).await;

    let (status, job) = undo(&app, &token, &import_id).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let done = wait_undo(&app, &token, &job).await;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(error.contains(&c.id.to_string()), "{error}");
    assert!(error.contains("1 lead(s)"), "{error}");
    // Nothing changed: the edit and the import's other leads are there.
    assert_same_leads(&stored_leads(&app).await, &edited);
    let (_, rec) = status_json(app.get(&format!("{API}/imports/{import_id}"), &token).await).await;
    assert_eq!(rec["undone_at"], Value::Null, "{rec}");
    let (_, audit) = status_json(app.get("/api/audit?action=import_undo.fail", &token).await).await;
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
}

dual_backend_tests!(
    messy_sheets_are_read_leniently_and_explained,
    undo_restores_exactly_from_another_instance,
    undo_after_a_later_edit_is_refused_naming_the_lead,
);
