//! Hostile uploads answer 4xx within 2 s and import nothing. The fixtures
//! are made here: zip bombs, cells far out, a huge shared-strings table,
//! DOCTYPE/entities, renamed and truncated files, a 100 MB CSV line,
//! 300,000 columns, binary garbage, an empty file, a file over the limit.

use std::io::Write;
use std::time::Duration;

use pulse::export::zip::ZipWriter;
use reqwest::StatusCode;

use crate::dual_backend_tests;
use crate::helpers::{Backend, TestApp};
use crate::import_support::*;

const HEADER_ROW: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c><c r="B1" t="inlineStr"><is><t>phone</t></is></c></row>"#;

/// A workbook whose sheet is a valid start and then `spaces` MiB of
/// whitespace inside a row: inflates about 1000:1.
fn zip_bomb(mib: usize) -> Vec<u8> {
    let mut z = ZipWriter::new(Vec::new());
    let wb = workbook(&sheet(HEADER_ROW), None);
    // Re-use the small parts of a valid workbook, then a huge sheet.
    for (name, data) in [
        (
            "xl/workbook.xml",
            r#"<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ] {
        z.add_entry(name, data.as_bytes()).unwrap();
    }
    drop(wb);
    z.start_entry("xl/worksheets/sheet1.xml").unwrap();
    z.write(format!("<worksheet><sheetData>{HEADER_ROW}<row r=\"2\">").as_bytes())
        .unwrap();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..mib {
        z.write(&chunk).unwrap();
    }
    z.write(b"</row></sheetData></worksheet>").unwrap();
    z.finish_entry().unwrap();
    z.finish().unwrap().0
}

fn huge_shared_strings() -> Vec<u8> {
    let mut sst = Vec::with_capacity(48 << 20);
    sst.extend_from_slice(b"<sst>");
    let mut i = 0u64;
    while sst.len() < 48 << 20 {
        write!(
            sst,
            "<si><t>distinct string number {i:012} padding padding</t></si>"
        )
        .unwrap();
        i += 1;
    }
    sst.extend_from_slice(b"</sst>");
    let rows = format!(
        r#"{HEADER_ROW}<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><v>9876543210</v></c></row>"#
    );
    workbook(&sheet(&rows), Some(&sst))
}

fn garbage(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

async fn hostile_files_answer_4xx_quickly(app: TestApp) {
    let token = app.admin_token().await;
    let valid = workbook(&sheet(HEADER_ROW), None);
    let mut docx_like = ZipWriter::new(Vec::new());
    docx_like
        .add_entry("word/document.xml", b"<w:document/>")
        .unwrap();
    let docx_like = docx_like.finish().unwrap().0;

    let mut wide = Vec::with_capacity(2 << 20);
    wide.extend_from_slice(b"name,phone");
    for i in 0..300_000 {
        write!(wide, ",c{i}").unwrap();
    }
    wide.extend_from_slice(b"\nA,9876543210\n");
    let mut long_line = b"name,phone\nA,".to_vec();
    long_line.extend(std::iter::repeat_n(b'9', 100 << 20));
    long_line.push(b'\n');
    let doctype = sheet(&format!(
        "{HEADER_ROW}<row r=\"2\"><c t=\"inlineStr\"><is><t>&lol;</t></is></c></row>"
    ));
    let doctype = [
        br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>"#.as_slice(),
        &doctype[doctype.iter().position(|&b| b == b'>').unwrap() + 1..],
    ]
    .concat();
    let external = sheet(HEADER_ROW);
    let external = [
        br#"<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">"#.as_slice(),
        &external[external.iter().position(|&b| b == b'>').unwrap() + 1..],
    ]
    .concat();

    let cases: Vec<(&str, &str, Vec<u8>, StatusCode)> = vec![
        (
            "zip bomb",
            "bomb.xlsx",
            zip_bomb(256),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "far-out cell only",
            "far.xlsx",
            workbook(
                &sheet(
                    r#"<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>"#,
                ),
                None,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "cell beyond XFD",
            "beyond.xlsx",
            workbook(
                &sheet(&format!(
                    r#"{HEADER_ROW}<row r="2"><c r="XFE2"><v>1</v></c></row>"#
                )),
                None,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "huge shared strings",
            "sst.xlsx",
            huge_shared_strings(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "DOCTYPE with entities",
            "lol.xlsx",
            workbook(&doctype, None),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "external DTD",
            "ext.xlsx",
            workbook(&external, None),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "PNG renamed to .xlsx",
            "photo.xlsx",
            [b"\x89PNG\r\n\x1a\n".as_slice(), &garbage(4096)].concat(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "zip without a workbook",
            "doc.xlsx",
            docx_like,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "truncated zip",
            "cut.xlsx",
            valid[..valid.len() / 2].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "empty file",
            "empty.csv",
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "whitespace only",
            "blank.csv",
            b" \r\n\n".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "100 MB line",
            "long.csv",
            long_line,
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "300k columns",
            "wide.csv",
            wide,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "binary garbage",
            "data.csv",
            garbage(1 << 20),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "legacy xls",
            "old.xls",
            [
                b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".as_slice(),
                &garbage(1000),
            ]
            .concat(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ];
    for (what, name, file, want) in cases {
        let (status, body, took) = upload(&app, &token, &[], name, &file).await;
        assert_eq!(status, want, "{what}: {body}");
        assert!(body["detail"].is_string(), "{what}: {body}");
        assert!(took < Duration::from_secs(2), "{what} took {took:?}");
    }
    assert!(stored_leads(&app).await.is_empty());
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
