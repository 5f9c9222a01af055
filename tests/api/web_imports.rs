//! The import wizard's pages over HTTP (issue 21): a messy CSV through the
//! steps with one mapping changed (the change reaches the stored leads),
//! refused files with their reasons beside the field, hostile names and
//! cells shown as text, uploads reachable by their owner only and by the
//! roles that import, and the 24-hour sweep. The browser story is in
//! `tests/browser/imports.rs`.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::Value;

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::import_support::multipart;
use crate::web::{no_redirects, page, page_login, post_form};

dual_backend_tests!(
    web_import_wizard_with_a_changed_mapping,
    web_import_refused_files_say_why,
    web_import_uploads_are_their_owners,
    web_import_uploads_are_swept_after_a_day,
    web_import_big_file_counts_and_runs_as_jobs,
    web_import_xlsx_and_json_lines_are_detected,
);

const PASSWORD: &str = "user-password-1";

/// Synonym headers, a free-text status, a bad phone, a hostile cell.
const MESSY: &str = "Driver Name,Mobile No.,Lead Status,Area,Comments\r\n\
Priya Sharma,98765 01001,call back later,Chennai,<img src=x onerror=alert(1)>\r\n\
Bad Phone,12345,New,Chennai,\r\n\
முருகன் செல்வம்,9876501003,Interested,Madurai,walk-in\r\n";

/// Uploads through the wizard's form; the answer.
async fn upload(app: &TestApp, cookie: &str, name: &str, file: &[u8]) -> reqwest::Response {
    let (ct, body) = multipart(&[], name, file);
    no_redirects()
        .post(app.url("/imports/new"))
        .header("cookie", cookie)
        .header("origin", &app.base)
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Uploads and follows to the mapping page: the wizard id.
async fn wizard_id(app: &TestApp, cookie: &str, name: &str, file: &[u8]) -> String {
    let r = upload(app, cookie, name, file).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    to.strip_prefix("/imports/wizard/").unwrap().to_string()
}

async fn lead_by_phone(app: &TestApp, token: &str, phone: &str) -> Option<Value> {
    let (status, body) = status_json(
        app.get(
            &format!("/api/driver-onboarding/leads?search={phone}&limit=5"),
            token,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let leads = body["leads"].as_array().cloned().unwrap_or_default();
    leads.into_iter().find(|l| l["phone_number"] == phone)
}

async fn web_import_wizard_with_a_changed_mapping(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, _) = app
        .user_with_role(&admin, "ops.wizard@pulse.example", "ops_team")
        .await;
    let cookie = page_login(&app, "ops.wizard@pulse.example", PASSWORD).await;
    let (status, body) = page(&app, &cookie, "/leads").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("href=\"/imports\""),
        "ops see the Imports link"
    );

    let name = "<img src=x onerror=alert(2)>.csv";
    let id = wizard_id(&app, &cookie, name, MESSY.as_bytes()).await;
    // step 2: what was found and the guesses
    let (status, body) = page(&app, &cookie, &format!("/imports/wizard/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("&#60;img src=x onerror=alert(2)&#62;.csv"),
        "the name is text: {body}"
    );
    assert!(!body.contains("<img src=x"), "no markup from the file");
    assert!(body.contains("id=\"det-format\">CSV<"), "{body}");
    assert!(body.contains("id=\"det-encoding\">UTF-8<"), "{body}");
    assert!(body.contains("id=\"det-header\">row 1<"), "{body}");
    // Area was guessed as the current location
    assert!(
        body.contains("<option value=\"current_location\" selected>"),
        "{body}"
    );
    // step 3: Area → don't import, the rest as guessed
    let id_path = format!("/imports/wizard/{id}/mapping");
    let r = post_form(
        &app,
        &cookie,
        &id_path,
        &[
            ("c0", "name"),
            ("c1", "phone_number"),
            ("c2", "status"),
            ("c3", ""),
            ("c4", "notes"),
            ("action", "skip"),
            ("lead_source", "Walk-in register"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, body) = page(&app, &cookie, &format!("/imports/wizard/{id}/preview")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("class=\"problem\" data-row=\"3\""), "{body}");
    assert!(body.contains("class=\"warned\" data-row=\"2\""), "{body}");
    assert!(body.contains("id=\"n-inserted\">2<"), "{body}");
    assert!(body.contains("id=\"n-rejected\">1<"), "{body}");
    assert!(body.contains("id=\"n-warned\">1<"), "{body}");
    assert!(
        body.contains("&#60;img src=x onerror=alert(1)&#62;"),
        "cell as text"
    );
    assert!(!body.contains("<img src=x"));
    assert!(
        lead_by_phone(&app, &admin, "9876501001").await.is_none(),
        "the preview wrote nothing"
    );
    // step 4: run
    let r = post_form(&app, &cookie, &format!("/imports/wizard/{id}/run"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, body) = page(&app, &cookie, &format!("/imports/wizard/{id}/result")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("id=\"n-inserted\">2<"), "{body}");
    assert!(body.contains("id=\"undo-import\""), "{body}");
    let lead = lead_by_phone(&app, &admin, "9876501001").await.unwrap();
    assert_eq!(lead["name"], "Priya Sharma");
    assert_eq!(lead["status"], "Call back 1D", "{lead}");
    assert_eq!(lead["source"], "Walk-in register");
    assert!(
        lead["current_location"].is_null() || lead["current_location"] == "",
        "the column chosen not to import was not: {lead}"
    );
    assert_eq!(lead["notes"], "<img src=x onerror=alert(1)>");
    // running it again is refused; the history lists it
    let r = post_form(&app, &cookie, &format!("/imports/wizard/{id}/run"), &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (status, body) = page(&app, &cookie, "/imports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("&#60;img src=x onerror=alert(2)&#62;.csv"));
    // undo through the page: a job; the leads are gone once it is done
    let import_id = body
        .split("<tr data-id=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let r = post_form(&app, &cookie, &format!("/imports/{import_id}/undo"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    let mut done = false;
    for _ in 0..100 {
        let (_, body) = page(&app, &cookie, &to).await;
        if body.contains("id=\"undo-result\"") {
            assert!(body.contains("2 inserted leads removed"), "{body}");
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(done, "the undo job ended");
    assert!(lead_by_phone(&app, &admin, "9876501001").await.is_none());
}

async fn web_import_refused_files_say_why(app: TestApp) {
    let cookie = page_login(
        &app,
        crate::helpers::ADMIN_EMAIL,
        crate::helpers::ADMIN_PASSWORD,
    )
    .await;
    let cases: [(&str, &[u8], StatusCode, &str); 4] = [
        (
            "empty.csv",
            b"",
            StatusCode::UNPROCESSABLE_ENTITY,
            "the file is empty",
        ),
        (
            "scan.pdf",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "PDF",
        ),
        (
            "no-phone.csv",
            b"Shoe size,Colour\n9,red\n",
            StatusCode::UNPROCESSABLE_ENTITY,
            "no phone number column",
        ),
        (
            "fake.xlsx",
            b"PK\x03\x04 this is not a workbook at all",
            StatusCode::UNPROCESSABLE_ENTITY,
            "not accepted",
        ),
    ];
    for (name, file, want, says) in cases {
        let r = upload(&app, &cookie, name, file).await;
        let status = r.status();
        let body = r.text().await.unwrap();
        assert_eq!(status, want, "{name}: {body}");
        let error = body
            .split("id=\"file-error\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{name}: no error beside the field: {body}"));
        let error = &error[..error.find("</p>").unwrap()];
        assert!(
            error.contains("This file was not accepted"),
            "{name}: {error}"
        );
        assert!(error.contains(says), "{name}: {error}");
    }
    assert!(
        std::fs::read_dir(app.dir.path().join("import-wizard"))
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "nothing refused is kept"
    );
}

async fn web_import_uploads_are_their_owners(app: TestApp) {
    let admin = app.admin_token().await;
    app.user_with_role(&admin, "ops.one@pulse.example", "ops_team")
        .await;
    app.user_with_role(&admin, "admin.two@pulse.example", "admin")
        .await;
    app.user_with_role(&admin, "tc.imp@pulse.example", "telecaller")
        .await;
    let ops = page_login(&app, "ops.one@pulse.example", PASSWORD).await;
    let other = page_login(&app, "admin.two@pulse.example", PASSWORD).await;
    let tc = page_login(&app, "tc.imp@pulse.example", PASSWORD).await;
    let id = wizard_id(&app, &ops, "mine.csv", MESSY.as_bytes()).await;
    for path in [
        format!("/imports/wizard/{id}"),
        format!("/imports/wizard/{id}/preview"),
        format!("/imports/wizard/{id}/result"),
    ] {
        let (status, _) = page(&app, &other, &path).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{path}: another user's upload"
        );
    }
    let r = post_form(&app, &other, &format!("/imports/wizard/{id}/run"), &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // a telecaller has no link and no page
    let (_, body) = page(&app, &tc, "/desk").await;
    assert!(!body.contains("href=\"/imports\""));
    for path in ["/imports", "/imports/new", "/imports/template.csv"] {
        let (status, _) = page(&app, &tc, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let r = upload(&app, &tc, "x.csv", MESSY.as_bytes()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (status, _) = page(&app, &tc, &format!("/imports/wizard/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // the owner still reaches it, and the template is the field list's headers
    let (status, _) = page(&app, &ops, &format!("/imports/wizard/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, csv) = page(&app, &ops, "/imports/template.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.contains("Name,Phone Number,"), "{csv}");
}

async fn web_import_uploads_are_swept_after_a_day(app: TestApp) {
    let cookie = page_login(
        &app,
        crate::helpers::ADMIN_EMAIL,
        crate::helpers::ADMIN_PASSWORD,
    )
    .await;
    let old = wizard_id(&app, &cookie, "old.csv", MESSY.as_bytes()).await;
    let young = wizard_id(&app, &cookie, "young.csv", MESSY.as_bytes()).await;
    let dir = pulse::import::wizard_dir(&app.state.config);
    let day_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(25 * 3600);
    for ext in ["upload", "json"] {
        let f = std::fs::File::options()
            .write(true)
            .open(dir.join(format!("{old}.{ext}")))
            .unwrap();
        f.set_modified(day_ago).unwrap();
    }
    let removed = pulse::import::sweep_wizard_uploads(&dir, pulse::import::WIZARD_UPLOAD_AGE);
    assert_eq!(removed, 2, "the old upload and its record");
    let (status, body) = page(&app, &cookie, &format!("/imports/wizard/{old}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = page(&app, &cookie, &format!("/imports/wizard/{young}")).await;
    assert_eq!(status, StatusCode::OK);
}

/// Polls `path` until its page shows `needle`.
async fn until(app: &TestApp, cookie: &str, path: &str, needle: &str) -> String {
    for _ in 0..200 {
        let (status, body) = page(app, cookie, path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body.contains(needle) {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{path} never showed {needle}");
}

async fn web_import_big_file_counts_and_runs_as_jobs(_app: TestApp) {
    // every file above 100 bytes is a job: the whole-file counts too
    let app = TestApp::spawn_with(_app.backend, &[("PULSE_IMPORT_JOB_THRESHOLD", "100")]).await;
    let cookie = page_login(
        &app,
        crate::helpers::ADMIN_EMAIL,
        crate::helpers::ADMIN_PASSWORD,
    )
    .await;
    let admin = app.admin_token().await;
    let id = wizard_id(&app, &cookie, "big.csv", MESSY.as_bytes()).await;
    let r = post_form(
        &app,
        &cookie,
        &format!("/imports/wizard/{id}/mapping"),
        &[("c3", ""), ("c4", "remarks"), ("action", "replace")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let preview = format!("/imports/wizard/{id}/preview");
    let (_, first) = page(&app, &cookie, &preview).await;
    assert!(
        first.contains("id=\"n-inserted\"")
            || first.contains("data-import-events=\"/api/driver-onboarding/import-leads/jobs/"),
        "counted, or counting with the job's progress events: {first}"
    );
    let body = until(&app, &cookie, &preview, "id=\"n-inserted\">2<").await;
    assert!(body.contains("id=\"n-rejected\">1<"), "{body}");
    assert!(
        lead_by_phone(&app, &admin, "9876501001").await.is_none(),
        "a dry run"
    );
    let r = post_form(&app, &cookie, &format!("/imports/wizard/{id}/run"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let result = format!("/imports/wizard/{id}/result");
    let body = until(&app, &cookie, &result, "id=\"n-inserted\">2<").await;
    assert!(body.contains("id=\"undo-import\""), "{body}");
    let lead = lead_by_phone(&app, &admin, "9876501001").await.unwrap();
    assert_eq!(
        lead["remarks"], "<img src=x onerror=alert(1)>",
        "the job used the mapping: {lead}"
    );
    assert!(lead["notes"].is_null() || lead["notes"] == "", "{lead}");
    assert!(
        lead["current_location"].is_null() || lead["current_location"] == "",
        "{lead}"
    );
}

/// An xlsx with a title row above its header, and a JSON-lines file: the
/// mapping step names the sheet and the header row it found, and both
/// import through the wizard.
async fn web_import_xlsx_and_json_lines_are_detected(app: TestApp) {
    let admin = app.admin_token().await;
    let cookie = page_login(&app, "root@pulse.test", crate::helpers::ADMIN_PASSWORD).await;
    let book = crate::import_undo::xlsx(
        "Walk-in register, week 48",
        &[
            vec!["Driver Name", "Mobile No.", "Lead Status"],
            vec!["Kavya Nair", "9876502101", "Interested"],
            vec!["Arjun Das", "9876502102", "New"],
        ],
    );
    let id = wizard_id(&app, &cookie, "week 48.xlsx", &book).await;
    let (status, body) = page(&app, &cookie, &format!("/imports/wizard/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("id=\"det-format\">Excel workbook (xlsx)<"),
        "{body}"
    );
    let sheets = body
        .split("id=\"det-sheets\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap();
    assert!(!sheets.contains('—'), "the sheet read is named: {sheets}");
    assert!(body.contains("id=\"det-header\">row 2<"), "{body}");
    assert!(
        body.contains("<option value=\"phone_number\" selected>"),
        "{body}"
    );
    let r = post_form(
        &app,
        &cookie,
        &format!("/imports/wizard/{id}/mapping"),
        &[
            ("c0", "name"),
            ("c1", "phone_number"),
            ("c2", "status"),
            ("action", "skip"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = page(&app, &cookie, &format!("/imports/wizard/{id}/preview")).await;
    assert!(body.contains("id=\"n-inserted\">2<"), "{body}");
    let r = post_form(&app, &cookie, &format!("/imports/wizard/{id}/run"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let lead = lead_by_phone(&app, &admin, "9876502101").await.unwrap();
    assert_eq!(lead["name"], "Kavya Nair");
    assert_eq!(lead["status"], "Interested");

    let lines = "{\"name\":\"Meena Iyer\",\"phone_number\":\"9876502103\",\"status\":\"New\"}\n\
                 {\"name\":\"Bad Row\",\"phone_number\":\"12\"}\n";
    let id = wizard_id(&app, &cookie, "leads.jsonl", lines.as_bytes()).await;
    let (status, body) = page(&app, &cookie, &format!("/imports/wizard/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let format = body
        .split("id=\"det-format\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap();
    assert!(format.to_lowercase().contains("json"), "{format}");
    // no header row to map: Preview sends the policy alone
    let r = post_form(
        &app,
        &cookie,
        &format!("/imports/wizard/{id}/mapping"),
        &[("action", "skip")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = page(&app, &cookie, &format!("/imports/wizard/{id}/preview")).await;
    // the rows show the fields the file fills
    assert!(body.contains("Meena Iyer"), "{body}");
    assert!(!body.contains("colspan=\"0\""), "{body}");
    assert!(body.contains("id=\"n-inserted\">1<"), "{body}");
    assert!(body.contains("id=\"n-rejected\">1<"), "{body}");
    let r = post_form(&app, &cookie, &format!("/imports/wizard/{id}/run"), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(lead_by_phone(&app, &admin, "9876502103").await.is_some());
}
