//! The original's backup library, export header row and call-log workbook
//! (COMPAT §2.13, §2.15, §2.16), on both backends: the library by file
//! name over Pulse's backups (list, download, delete, rollback; 400, 403,
//! 404), `bulk-export` / `batch-export-zip` with the original's field-name
//! header row (by request and by `PULSE_EXPORT_HEADERS`), read back by
//! openpyxl and checked by `validate_xlsx.py`, and the call-log workbook's
//! sheets and rows.

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::backups::backup_now;
use crate::dual_backend_tests;
use crate::export_support::{anchors_python, gen_leads, load_jsonl, validate, xlsx_data_rows};
use crate::helpers::{TestApp, status_json};
use crate::leads::{API, create, phone, today};

const LIBRARY: &str = "/api/driver-onboarding/backup-library";
const EXPORT: &str = "/api/driver-onboarding/bulk-export";

dual_backend_tests!(
    backup_library_by_file_name,
    field_name_headers_by_request,
    call_log_workbook_sheets,
);

dual_backend_tests!(mod deployment with &[("PULSE_EXPORT_HEADERS", "fields")];
    field_name_headers_by_deployment,
);

/// Every sheet of an xlsx as openpyxl reads it: `[[name, [[cell…]…]]…]`
/// (dates and times as ISO text, empty cells null).
pub fn sheets(path: &Path) -> Vec<(String, Vec<Vec<Value>>)> {
    let script = r#"
import sys, json, datetime, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
def v(c):
    if isinstance(c, (datetime.datetime, datetime.date)):
        return c.isoformat()
    return c
print(json.dumps([[ws.title, [[v(c) for c in r] for r in ws.iter_rows(values_only=True)]] for ws in wb.worksheets]))
"#;
    let out = Command::new(anchors_python())
        .args(["-c", script])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openpyxl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<(String, Vec<Vec<Value>>)> = serde_json::from_slice(&out.stdout).unwrap();
    v
}

async fn delete(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    status_json(
        app.client
            .delete(app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn backup_library_by_file_name(app: TestApp) {
    let root = app.admin_token().await;
    for i in 0..5u32 {
        create(
            &app,
            &root,
            json!({"name": format!("Lib {i}"), "phone_number": phone(i), "dl_no": format!("TN01{i:011}")}),
        )
        .await;
    }
    let made = backup_now(&app, &root).await;
    let id = made["id"].as_str().unwrap().to_string();

    // the list: the original's keys and Pulse's
    let (s, list) = status_json(app.get(LIBRARY, &root).await).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(
        (list["success"].clone(), list["total_backups"].clone()),
        (json!(true), json!(1))
    );
    let item = &list["backups"][0];
    let name = item["filename"].as_str().unwrap().to_string();
    assert!(
        name.starts_with("backup-")
            && name.ends_with(&format!("-{}.jsonl.gz", id.replace('-', ""))),
        "{name}"
    );
    assert_eq!(item["size_bytes"], made["bytes"]);
    assert!(item["size_mb"].is_number());
    assert_eq!(item["created_at"], made["created_at"]);
    assert!(item["modified_at"].is_string());
    assert_eq!(
        (
            item["id"].clone(),
            item["kind"].clone(),
            item["leads"].clone()
        ),
        (json!(id), json!("manual"), json!(5))
    );
    assert_eq!(
        item["download_url"],
        format!("{LIBRARY}/{name}/download").as_str()
    );

    // the download: the backup's file under that name
    let r = app.get(&format!("{LIBRARY}/{name}/download"), &root).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"{name}\"").as_str()
    );
    let bytes = r.bytes().await.unwrap();
    let (header, leads) = pulse::backup::format::read(&bytes[..]).unwrap();
    assert_eq!((header.leads, leads.len()), (5, 5));
    assert!(
        leads.iter().all(|b| b
            .lead
            .dl_no
            .as_deref()
            .is_some_and(|d| d.starts_with("TN01"))),
        "unmasked"
    );

    // not a library name → 400; a library name of no backup → 404
    for bad in ["backup-21-09-2026-10-00-00.xlsx", "nope.jsonl.gz"] {
        let (s, b) = status_json(app.get(&format!("{LIBRARY}/{bad}/download"), &root).await).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {b}");
        assert!(
            b["detail"].as_str().unwrap().contains("backup-library"),
            "{b}"
        );
        let (s, _) = delete(&app, &format!("{LIBRARY}/{bad}"), &root).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _) = status_json(
            app.post(&format!("{LIBRARY}/{bad}/rollback"), &root, json!({}))
                .await,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }
    let unknown = format!(
        "backup-01-01-2026-00-00-00-{}.jsonl.gz",
        uuid::Uuid::new_v4().simple()
    );
    let (s, _) = status_json(
        app.get(&format!("{LIBRARY}/{unknown}/download"), &root)
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = delete(&app, &format!("{LIBRARY}/{unknown}"), &root).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // the right id under another time stamp is no name of it
    let renamed = format!(
        "backup-01-01-2026-00-00-00-{}.jsonl.gz",
        id.replace('-', "")
    );
    let (s, _) = status_json(
        app.get(&format!("{LIBRARY}/{renamed}/download"), &root)
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // master_admin only (DESIGN §2), before the name is even read
    let (_, admin) = app.user_with_role(&root, "adm@lib.test", "admin").await;
    let (s, b) = status_json(app.get(LIBRARY, &admin).await).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    for path in [
        format!("{LIBRARY}/{name}/download"),
        format!("{LIBRARY}/x/download"),
    ] {
        assert_eq!(app.get(&path, &admin).await.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        delete(&app, &format!("{LIBRARY}/{name}"), &admin).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&format!("{LIBRARY}/{name}/rollback"), &admin, json!({}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // rollback: change the leads, then the original's call (body {})
    let (_, page) = status_json(app.get(&format!("{API}/leads"), &root).await).await;
    let first = page["leads"][0]["id"].as_str().unwrap().to_string();
    let r = app
        .client
        .delete(app.url(&format!("{API}/leads/{first}")))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    for i in 10..13u32 {
        create(
            &app,
            &root,
            json!({"name": format!("New {i}"), "phone_number": phone(i)}),
        )
        .await;
    }
    let (s, done) = status_json(
        app.post(&format!("{LIBRARY}/{name}/rollback"), &root, json!({}))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    assert_eq!(
        (
            done["success"].clone(),
            done["deleted_count"].clone(),
            done["restored_count"].clone(),
            done["rollback_from"].clone()
        ),
        (json!(true), json!(7), json!(5), json!(name))
    );
    assert!(done["message"].as_str().unwrap().contains(&name), "{done}");
    // Pulse's restore keys beside them
    assert_eq!(
        (
            done["backup_id"].clone(),
            done["restored"].clone(),
            done["replaced"].clone()
        ),
        (json!(id), json!(5), json!(7))
    );
    assert_eq!(done["pre_restore_backup"]["kind"], "pre_restore");
    let pre = done["pre_rollback_backup"].as_str().unwrap().to_string();
    let (_, list) = status_json(app.get(LIBRARY, &root).await).await;
    assert_eq!(list["total_backups"], 2);
    assert_eq!(list["backups"][0]["filename"], pre.as_str(), "newest first");
    assert_eq!(list["backups"][0]["leads"], 7);
    assert_eq!(list["backups"][1]["filename"], name.as_str());
    let (_, page) = status_json(app.get(&format!("{API}/leads"), &root).await).await;
    assert_eq!(page["total"], 5);
    assert!(
        page["leads"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == first.as_str())
    );
    // no body at all, as well
    let r = app
        .client
        .post(app.url(&format!("{LIBRARY}/{pre}/rollback")))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, page) = status_json(app.get(&format!("{API}/leads"), &root).await).await;
    assert_eq!(page["total"], 7);

    // delete by name, then it is gone
    let (s, b) = delete(&app, &format!("{LIBRARY}/{name}"), &root).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["success"], true);
    assert!(b["message"].as_str().unwrap().contains(&name), "{b}");
    let (s, _) = delete(&app, &format!("{LIBRARY}/{name}"), &root).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = status_json(app.get(LIBRARY, &root).await).await;
    assert!(
        list["backups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["filename"] != name.as_str())
    );
}

/// The original's header row (COMPAT §2.15), in its order.
const ORIGINAL_HEAD: [&str; 31] = [
    "id",
    "name",
    "phone_number",
    "email",
    "vehicle",
    "stage",
    "status",
    "source",
    "remarks",
    "current_location",
    "preferred_shift",
    "experience",
    "assigned_telecaller",
    "dl_documents_uploaded",
    "dl_no",
    "badge_documents_uploaded",
    "badge_no",
    "aadhar_documents_uploaded",
    "aadhar_card",
    "pan_documents_uploaded",
    "pan_card",
    "gas_documents_uploaded",
    "gas_bill",
    "bank_documents_uploaded",
    "bank_passbook",
    "last_called",
    "callback_date",
    "assigned_date",
    "import_date",
    "created_at",
    "updated_at",
];

/// The header row of the first sheet and the rows by id.
fn head_and_rows(path: &Path) -> (Vec<String>, Vec<Vec<Value>>) {
    let all = sheets(path);
    let rows = &all[0].1;
    let head: Vec<String> = rows[0]
        .iter()
        .map(|c| c.as_str().unwrap_or("").to_string())
        .collect();
    (head, rows[1..].to_vec())
}

fn assert_original_head(head: &[String]) {
    assert_eq!(&head[..31], ORIGINAL_HEAD, "{head:?}");
    // then the rest of the stored fields, as field names
    for f in [
        "driving_license",
        "interested_ev",
        "monthly_salary",
        "end_date",
    ] {
        assert!(head[31..].iter().any(|h| h == f), "{f} in {head:?}");
    }
    assert!(head.iter().all(|h| !h.contains(' ')), "{head:?}");
}

async fn field_name_headers_by_request(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = gen_leads(dir.path(), Some(300));
    let accepted = dir.path().join("accepted.jsonl");
    let n = load_jsonl(&app, &jsonl, &accepted).await as u64;
    let root = app.admin_token().await;

    // labels unless asked (the deployment default)
    let r = app.post(EXPORT, &root, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let labels = dir.path().join("labels.xlsx");
    std::fs::write(&labels, r.bytes().await.unwrap()).unwrap();
    let (head, _) = head_and_rows(&labels);
    assert_eq!(&head[..3], ["ID", "Name", "Phone Number"]);

    // {"headers": "fields"}: the original's header row, yes/no, its headers
    let r = app.post(EXPORT, &root, json!({"headers": "fields"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-total-leads"], n.to_string().as_str());
    assert_eq!(r.headers()["x-expected-leads"], n.to_string().as_str());
    let fields = dir.path().join("fields.xlsx");
    std::fs::write(&fields, r.bytes().await.unwrap()).unwrap();
    let (head, rows) = head_and_rows(&fields);
    assert_original_head(&head);
    assert_eq!(rows.len() as u64, n);
    let source: Vec<Value> = std::fs::read_to_string(&accepted)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let mut yes = 0;
    for row in &rows {
        let id = row[0].as_str().unwrap();
        let lead = source.iter().find(|l| l["id"] == id).unwrap();
        for (up, doc) in [
            ("dl_documents_uploaded", "dl_no"),
            ("badge_documents_uploaded", "badge_no"),
            ("aadhar_documents_uploaded", "aadhar_card"),
            ("pan_documents_uploaded", "pan_card"),
            ("gas_documents_uploaded", "gas_bill"),
            ("bank_documents_uploaded", "bank_passbook"),
        ] {
            let has = lead[doc].as_str().is_some_and(|s| !s.trim().is_empty());
            let want = if has { "yes" } else { "no" };
            assert_eq!(row.get(col(up)), Some(&json!(want)), "{id} {up}");
            yes += has as usize;
            // unmasked for master_admin, as stored
            assert_eq!(
                row.get(col(doc)).cloned().unwrap_or(Value::Null),
                if has { lead[doc].clone() } else { Value::Null },
                "{id} {doc}"
            );
        }
    }
    assert!(yes > 0, "some document numbers");
    // the values are the same leads, field by field (validate_xlsx.py),
    // but for `notes`: the validator reads a `notes` header as remarks
    // (one of its aliases), and the SQL loader stores no notes
    let keys: Vec<&str> = pulse::export::engine::ALL_COLUMNS
        .iter()
        .map(|c| c.key)
        .filter(|k| *k != "notes")
        .collect();
    let r = app
        .post(EXPORT, &root, json!({"headers": "fields", "columns": keys}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let checked = dir.path().join("checked.xlsx");
    std::fs::write(&checked, r.bytes().await.unwrap()).unwrap();
    validate(&checked, &accepted, "full", false);

    // the query string says it too; a bad style is a 422
    let r = app
        .client
        .post(app.url(&format!("{EXPORT}?headers=fields")))
        .bearer_auth(&root)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let q = dir.path().join("q.xlsx");
    std::fs::write(&q, r.bytes().await.unwrap()).unwrap();
    assert_original_head(&head_and_rows(&q).0);
    let (s, b) = status_json(app.post(EXPORT, &root, json!({"headers": "pretty"})).await).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

    // masked per role still (an admin)
    let (_, admin) = app.user_with_role(&root, "adm@hdr.test", "admin").await;
    let r = app
        .post(
            EXPORT,
            &admin,
            json!({"headers": "fields", "columns": ["id", "dl_documents_uploaded", "dl_no"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let m = dir.path().join("m.xlsx");
    std::fs::write(&m, r.bytes().await.unwrap()).unwrap();
    let (head, rows) = head_and_rows(&m);
    assert_eq!(head, ["id", "dl_documents_uploaded", "dl_no"]);
    let shown = rows.iter().find(|r| r[1] == "yes").unwrap();
    let dl = shown[2].as_str().unwrap();
    assert!(dl.starts_with('X') || dl.starts_with('*'), "masked: {dl}");

    // the zip: same columns, X-Total-Files and X-Batch-Size
    let r = app
        .post(
            "/api/driver-onboarding/batch-export-zip",
            &root,
            json!({"batch_size": 100, "headers": "fields"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-total-leads"], n.to_string().as_str());
    assert_eq!(
        r.headers()["x-total-files"],
        n.div_ceil(100).to_string().as_str()
    );
    assert_eq!(r.headers()["x-batch-size"], "100");
    let z = dir.path().join("b.zip");
    std::fs::write(&z, r.bytes().await.unwrap()).unwrap();
    assert_eq!(xlsx_data_rows(&z), n);
    let member = dir.path().join("member.xlsx");
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[2], 'wb').write(z.read(sorted(z.namelist())[0]))",
        ])
        .arg(&z)
        .arg(&member)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_original_head(&head_and_rows(&member).0);

    // an export job keeps the style it was asked with
    let (s, job) = status_json(
        app.post(
            "/api/exports",
            &root,
            json!({"headers": "fields", "columns": ["id", "pan_card_uploaded"]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{job}");
    let url = format!("/api/exports/{}", job["id"].as_str().unwrap());
    let mut polled = job;
    for _ in 0..600 {
        polled = status_json(app.get(&url, &root).await).await.1;
        if polled["status"] == "done" || polled["status"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(polled["status"], "done", "{polled}");
    let r = app.get(&format!("{url}/download"), &root).await;
    assert_eq!(r.status(), StatusCode::OK);
    let j = dir.path().join("job.xlsx");
    std::fs::write(&j, r.bytes().await.unwrap()).unwrap();
    assert_eq!(head_and_rows(&j).0, ["id", "pan_documents_uploaded"]);
}

async fn field_name_headers_by_deployment(app: TestApp) {
    let root = app.admin_token().await;
    for i in 0..3u32 {
        create(
            &app,
            &root,
            json!({"name": format!("Dep {i}"), "phone_number": phone(i), "badge_no": if i == 1 { json!("B1") } else { Value::Null }}),
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    // the original frontend's call: `{}`
    let r = app.post(EXPORT, &root, json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-expected-leads"], "3");
    let p = dir.path().join("dep.xlsx");
    std::fs::write(&p, r.bytes().await.unwrap()).unwrap();
    let (head, rows) = head_and_rows(&p);
    assert_original_head(&head);
    let up = head
        .iter()
        .position(|h| h == "badge_documents_uploaded")
        .unwrap();
    let mut answers: Vec<&str> = rows.iter().map(|r| r[up].as_str().unwrap()).collect();
    answers.sort();
    assert_eq!(answers, ["no", "no", "yes"]);
    // a request still picks labels
    let r = app.post(EXPORT, &root, json!({"headers": "labels"})).await;
    let p = dir.path().join("lab.xlsx");
    std::fs::write(&p, r.bytes().await.unwrap()).unwrap();
    assert_eq!(&head_and_rows(&p).0[..2], ["ID", "Name"]);
    // the zip too, with no body at all
    let r = app
        .client
        .post(app.url("/api/driver-onboarding/batch-export-zip"))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-total-files"], "1");
    assert_eq!(r.headers()["x-batch-size"], "25000");
    // Pulse's own export jobs keep labels unless asked
    let (s, job) = status_json(
        app.post("/api/exports", &root, json!({"columns": ["id"]}))
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{job}");
}

async fn call_log_workbook_sheets(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, tc) = app
        .user_with_role(&admin, "tc@log.test", "telecaller")
        .await;
    let day = today();
    let mut ids = Vec::new();
    for i in 0..5u32 {
        let l = create(
            &app,
            &admin,
            json!({"name": format!("Log {i}"), "phone_number": phone(i)}),
        )
        .await;
        ids.push(l["id"].as_str().unwrap().to_string());
    }
    let assign = |lead_ids: Vec<String>, date: &str| json!({"lead_ids": lead_ids, "telecaller_email": "tc@log.test", "assignment_date": date});
    let r = app
        .patch(
            &format!("{API}/bulk-assign"),
            &admin,
            assign(ids[..4].to_vec(), &day),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // another day's lead is not in the report's leads
    let r = app
        .patch(
            &format!("{API}/bulk-assign"),
            &admin,
            assign(vec![ids[4].clone()], "2026-01-01"),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    // 0 and 1 called, 2 no response, 3 pending
    for (i, what) in [
        (0, "mark-called"),
        (1, "mark-called"),
        (2, "mark-no-response"),
    ] {
        let r = app
            .post(&format!("{API}/leads/{}/{what}", ids[i]), &tc, json!({}))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{what}");
    }
    let r = app
        .client
        .post(app.url(&format!(
            "/api/telecaller-desk/export-call-logs?telecaller=tc@log.test&date={day}"
        )))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("call_logs_tc_{day}.xlsx"))
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("calls.xlsx");
    std::fs::write(&p, r.bytes().await.unwrap()).unwrap();
    let book = sheets(&p);
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Call Report",
            "All Assigned",
            "Calls Done Details",
            "RNR Details",
            "Pending Details"
        ]
    );
    let report = &book[0].1;
    let pair = |r: &Vec<Value>| (r[0].clone(), r[1].clone());
    assert_eq!(
        pair(&report[1]),
        (json!("Telecaller"), json!("tc@log.test"))
    );
    assert_eq!(pair(&report[2]), (json!("Date"), json!(day)));
    assert_eq!(pair(&report[3]), (json!("Total Assigned"), json!("4")));
    assert_eq!(pair(&report[4]), (json!("Calls Done"), json!("2")));
    assert_eq!(pair(&report[5]), (json!("Pending"), json!("1")));
    assert_eq!(pair(&report[6]), (json!("RNR"), json!("1")));
    assert_eq!(
        &report[8][..4],
        [
            json!("Timestamp"),
            json!("Lead Name"),
            json!("Lead Number"),
            json!("Lead Status")
        ]
    );
    let log = &report[9..];
    assert_eq!(log.len(), 3, "{log:?}");
    let mut named: Vec<&str> = log.iter().map(|r| r[1].as_str().unwrap()).collect();
    named.sort();
    assert_eq!(named, ["Log 0", "Log 1", "Log 2"]);
    assert!(
        log.iter()
            .all(|r| r[0].as_str().is_some_and(|t| t.starts_with(&day)))
    );
    let rnr = log.iter().find(|r| r[1] == "Log 2").unwrap();
    assert_eq!(
        (rnr[2].clone(), rnr[3].clone()),
        (json!(phone(2)), json!("RNR"))
    );
    let ids_of = |n: usize| -> Vec<String> {
        let mut v: Vec<String> = book[n].1[1..]
            .iter()
            .map(|r| r[0].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let mut all4 = ids[..4].to_vec();
    all4.sort();
    assert_eq!(ids_of(1), all4);
    let mut done = vec![ids[0].clone(), ids[1].clone()];
    done.sort();
    assert_eq!(ids_of(2), done);
    assert_eq!(ids_of(3), [ids[2].clone()]);
    assert_eq!(ids_of(4), [ids[3].clone()]);
    let head = &book[1].1[0];
    assert_eq!(
        &head[..4],
        [
            json!("id"),
            json!("name"),
            json!("phone_number"),
            json!("status")
        ]
    );
    let assigned_col = head.iter().position(|h| h == "assigned_date").unwrap();
    assert!(
        book[1].1[1][assigned_col]
            .as_str()
            .unwrap()
            .starts_with(&day)
    );

    // a day with no assigned leads and no calls: the report only
    let r = app
        .client
        .post(
            app.url("/api/telecaller-desk/export-call-logs?telecaller=tc@log.test&date=2025-05-05"),
        )
        .bearer_auth(&tc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let p = dir.path().join("empty.xlsx");
    std::fs::write(&p, r.bytes().await.unwrap()).unwrap();
    let book = sheets(&p);
    assert_eq!(book.len(), 1);
    assert_eq!(book[0].1[3][1], "0");
}
