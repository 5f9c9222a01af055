//! Hostile uploads answer 4xx within 2 s and import nothing. The fixtures
//! are made here: zip bombs, cells far out, a huge shared-strings table,
//! DOCTYPE/entities, renamed and truncated files, a 100 MB CSV line,
//! 300,000 columns, binary garbage, an empty file, a file over the limit.

use std::time::Duration;

use reqwest::StatusCode;

use crate::dual_backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::import_fixtures::hostile;
use crate::import_support::*;

async fn hostile_files_answer_4xx_quickly(app: TestApp) {
    let token = app.admin_token().await;
    for (what, name, file, want) in hostile() {
        let want = StatusCode::from_u16(want).unwrap();
        let (status, body, took) = upload(&app, &token, &[], name, &file).await;
        assert_eq!(status, want, "{what}: {body}");
        assert!(body["detail"].is_string(), "{what}: {body}");
        assert!(took < Duration::from_secs(2), "{what} took {took:?}");
    }
    assert!(stored_leads(&app).await.is_empty());
    // Refused imports are audited too (those refused after the upload).
    let (_, audit) =
        crate::helpers::status_json(app.get("/api/audit?action=import", &token).await).await;
    let failed = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["details"]["outcome"] == "failed")
        .count();
    assert!(failed >= 10, "{failed} failed imports audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_uploads_over_their_own_limit_are_413() {
    let app = TestApp::spawn_with(Backend::Sqlite, &[("PULSE_IMPORT_MAX_BYTES", "10000")]).await;
    let token = app.admin_token().await;
    let mut file = b"name,phone\n".to_vec();
    for i in 0..1000u64 {
        file.extend(format!("L{i},{}\n", 7_000_000_000 + i).as_bytes());
    }
    let (status, body, took) = upload(&app, &token, &[], "big.csv", &file).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(took < Duration::from_secs(2));
    // the general body limit (1 MiB) does not apply to the import route
    let app2 = TestApp::spawn_with(Backend::Sqlite, &[("PULSE_MAX_BODY_BYTES", "1000")]).await;
    let token = app2.admin_token().await;
    let (status, body, _) = upload(&app2, &token, &[], "ok.csv", &file).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["inserted"], 1000);
}

dual_backend_tests!(hostile_files_answer_4xx_quickly);

/// H6: two sheets naming one worksheet part, and a file over PULSE_IMPORT_MAX_ROWS, are
/// refused and import nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amplifying_workbooks_and_too_many_rows_are_refused() {
    use pulse::export::zip::ZipWriter;
    let app = TestApp::spawn_with(Backend::Sqlite, &[("PULSE_IMPORT_MAX_ROWS", "5")]).await;
    let token = app.admin_token().await;
    let rows: String = (0..3)
        .map(|i| {
            format!(
                r#"<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>N{i}</t></is></c><c r="B{r}" t="inlineStr"><is><t>98765000{i:02}</t></is></c></row>"#,
                r = i + 2
            )
        })
        .collect();
    let sheet_xml =
        crate::import_fixtures::sheet(&format!("{}{rows}", crate::import_fixtures::HEADER_ROW));
    let mut z = ZipWriter::new(Vec::new());
    z.add_entry("[Content_Types].xml", br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#).unwrap();
    let sheets: String = (1..=3)
        .map(|i| format!(r#"<sheet name="S{i}" sheetId="{i}" r:id="rId{i}"/>"#))
        .collect();
    z.add_entry("xl/workbook.xml", format!(r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheets}</sheets></workbook>"#).as_bytes()).unwrap();
    let rels: String = (1..=3)
        .map(|i| format!(r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#))
        .collect();
    z.add_entry("xl/_rels/workbook.xml.rels", format!(r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>"#).as_bytes()).unwrap();
    z.add_entry("xl/worksheets/sheet1.xml", &sheet_xml).unwrap();
    let book = z.finish().unwrap().0;
    let (status, body, _) = upload(&app, &token, &[], "dup.xlsx", &book).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("same part"),
        "{body}"
    );
    // 6 rows, 5 allowed: 413, nothing written (also with replace, which reads twice)
    let csv: String = std::iter::once("name,phone\n".to_string())
        .chain((0..6).map(|i| format!("N{i},98765001{i:02}\n")))
        .collect();
    for action in ["skip", "replace"] {
        let (status, body, _) = upload(
            &app,
            &token,
            &[("duplicate_action", action)],
            "many.csv",
            csv.as_bytes(),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{action}: {body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("PULSE_IMPORT_MAX_ROWS")
        );
    }
    assert!(stored_leads(&app).await.is_empty());
    let five: String = csv.lines().take(6).map(|l| format!("{l}\n")).collect();
    let (status, body, _) = upload(&app, &token, &[], "five.csv", five.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["inserted"], 5);
}
