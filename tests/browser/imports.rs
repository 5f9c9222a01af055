//! The import wizard in Chromium (issue 21): a messy CSV (Windows-1252,
//! synonym headers, a bad phone, free-text statuses, a hostile cell and
//! file name) through every step with one mapping changed, the report
//! downloaded and the import undone; a refused file; a telecaller kept
//! out (also on PostgreSQL). Screenshots of every step at both widths.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::webdriver::Browser;
use crate::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, HOSTILE, Site, TELECALLER, TELECALLER_PASSWORD,
    screenshots, sign_in,
};

macro_rules! stories {
    (both: $($both:ident),* ; sqlite: $($one:ident),* $(,)?) => {
        mod imports_sqlite {
            use super::*;
            $(#[test]
            fn $both() {
                super::$both(Backend::Sqlite)
            })*
            $(#[test]
            fn $one() {
                super::$one(Backend::Sqlite)
            })*
        }
        mod imports_postgres {
            use super::*;
            $(#[test]
            fn $both() {
                super::$both(Backend::Postgres)
            })*
        }
    };
}

stories!(
    both: a_telecaller_cannot_import;
    sqlite: a_messy_csv_through_the_wizard_then_undone,
    a_big_file_counts_and_imports_as_jobs,
    a_refused_file_says_why,
);

fn choose(b: &Browser, css: &str, value: &str) {
    b.exec(
        "var s = document.querySelector(arguments[0]); s.value = arguments[1]; return s.value",
        serde_json::json!([css, value]),
    );
}

fn no_csp_violations(b: &Browser) {
    let bad: Vec<String> = b
        .console()
        .into_iter()
        .filter(|m| m.contains("Content Security Policy") || m.contains("Refused to"))
        .collect();
    assert!(bad.is_empty(), "CSP violations: {bad:?}");
}

fn downloaded(dir: &Path, ext: &str) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        let busy = files
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "crdownload"));
        if !busy
            && let Some(f) = files
                .iter()
                .find(|p| p.extension().is_some_and(|e| e == ext))
        {
            return f.clone();
        }
        assert!(Instant::now() < deadline, "no .{ext} download: {files:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Generated rows in Windows-1252 (`é` is one byte, 0xE9).
fn messy_csv() -> Vec<u8> {
    let text = format!(
        "Driver Name,Mobile No.,Lead Status,Area,Comments\r\n\
         Jos\u{e9} Kumar,98765 02001,call back later,Chennai,{HOSTILE}\r\n\
         Bad Phone,12345,New,Chennai,\r\n\
         Ravi Teja,9876502003,Interested,Madurai,walk-in\r\n\
         Anand Raj,+91 98765 02004,S2-b,Tambaram,\r\n"
    );
    text.chars()
        .map(|c| if c == '\u{e9}' { 0xE9 } else { c as u8 })
        .collect()
}

fn leads_with_phone(site: &Site, phone: &str) -> usize {
    let (status, body) = site.api(
        "GET",
        &format!("/api/driver-onboarding/leads?search={phone}&limit=5"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    body["leads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["phone_number"] == phone)
        .count()
}

pub fn a_messy_csv_through_the_wizard_then_undone(_: Backend) {
    let site = Site::start(Backend::Sqlite, 30);
    let files = tempfile::tempdir().unwrap();
    let file = files
        .path()
        .join("walk-ins <img src=x onerror=alert(3)> & co.csv");
    std::fs::write(&file, messy_csv()).unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let mut b = Browser::start_downloading(&site.base, 1366, 768, downloads.path());
    sign_in(&b, ADMIN_EMAIL, ADMIN_PASSWORD);
    b.click_on("nav a[href='/imports']");
    b.wait_path("the history", |p| p == "/imports");
    b.click_on("#new-import");
    b.wait_path("step 1", |p| p == "/imports/new");
    screenshots(&mut b, "import-1-upload");
    let input = b.find("#import-file");
    b.type_into(&input, file.to_str().unwrap());
    b.click_on("#upload-submit");
    b.wait_path("step 2", |p| p.starts_with("/imports/wizard/"));
    b.settle();
    assert_eq!(b.text_of("#det-format"), "CSV");
    assert_eq!(b.text_of("#det-encoding"), "windows-1252");
    assert_eq!(b.text_of("#det-header"), "row 1");
    let title = b.text_of("h1 .file-name");
    assert_eq!(
        title, "walk-ins <img src=x onerror=alert(3)> & co.csv",
        "the name as text"
    );
    assert!(!b.exists("h1 img"), "no markup from the file name");
    // the guesses from the synonyms
    let picked = |col: u32| {
        b.exec(
            "return document.querySelector(arguments[0]).value",
            serde_json::json!([format!("#c{col}")]),
        )
        .as_str()
        .unwrap()
        .to_string()
    };
    assert_eq!(picked(0), "name");
    assert_eq!(picked(1), "phone_number");
    assert_eq!(picked(2), "status");
    assert_eq!(picked(3), "current_location");
    assert_eq!(picked(4), "notes");
    screenshots(&mut b, "import-2-mapping");
    // change one mapping: the Comments column into the remarks instead
    choose(&b, "#c4", "remarks");
    b.click_on("#to-preview");
    b.wait_path("step 3", |p| p.ends_with("/preview"));
    b.settle();
    let problem = b.text_of("tr.problem");
    assert!(problem.contains("Rejected"), "{problem}");
    assert!(problem.contains("phone"), "{problem}");
    assert!(b.exists("tr.warned"), "a free-text status is marked");
    assert_eq!(b.text_of("#n-inserted"), "3");
    assert_eq!(b.text_of("#n-rejected"), "1");
    assert!(
        b.text_of("#preview-rows").contains(HOSTILE),
        "the cell as text"
    );
    assert!(!b.exists("#preview-rows img"), "no markup from the cells");
    assert!(b.text_of("#preview-rows thead").contains("Remarks"));
    screenshots(&mut b, "import-3-preview");
    b.exec(
        "document.querySelector('#rows-h').scrollIntoView(); return 1",
        serde_json::json!([]),
    );
    b.screenshot("import-3-preview-rows-desktop");
    b.resize(390, 844);
    b.settle();
    b.exec(
        "document.querySelector('#rows-h').scrollIntoView(); return 1",
        serde_json::json!([]),
    );
    b.screenshot("import-3-preview-rows-phone");
    b.resize(1366, 768);
    assert_eq!(
        leads_with_phone(&site, "9876502001"),
        0,
        "nothing written yet"
    );
    b.click_on("#run-import");
    b.wait_path("step 4", |p| p.ends_with("/result"));
    b.settle();
    assert_eq!(b.text_of("#n-inserted"), "3");
    assert_eq!(b.text_of("#n-rejected"), "1");
    assert!(b.text_of("#n-warned").parse::<u32>().unwrap() >= 1);
    screenshots(&mut b, "import-4-result");
    assert_eq!(leads_with_phone(&site, "9876502001"), 1);
    let (_, lead) = site.api(
        "GET",
        "/api/driver-onboarding/leads?search=9876502001&limit=1",
        None,
    );
    assert_eq!(lead["leads"][0]["remarks"], HOSTILE, "the changed mapping");
    b.click_on("#result-report");
    let report = std::fs::read_to_string(downloaded(downloads.path(), "csv")).unwrap();
    assert!(report.contains("rejected"), "{report}");
    assert!(report.contains("warning"), "{report}");
    b.click_on("#undo-import");
    b.wait_path("the import's page", |p| p.starts_with("/imports/"));
    b.wait_text("#undo-result", "removed");
    screenshots(&mut b, "import-5-undone");
    assert_eq!(leads_with_phone(&site, "9876502001"), 0, "undone");
    b.goto("/imports");
    b.settle();
    assert!(b.text_of("#import-history").contains("Undone"));
    assert!(
        b.text_of("#import-history")
            .contains("walk-ins <img src=x onerror=alert(3)> & co.csv")
    );
    screenshots(&mut b, "import-history");
    // keyboard: the mapping's selects are reachable and labelled
    no_csp_violations(&b);
}

pub fn a_refused_file_says_why(_: Backend) {
    let site = Site::start_with(Backend::Sqlite, 5, &[("PULSE_IMPORT_MAX_BYTES", "4096")]);
    let files = tempfile::tempdir().unwrap();
    let pdf = files.path().join("scan.pdf");
    std::fs::write(
        &pdf,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    )
    .unwrap();
    let big = files.path().join("big.csv");
    std::fs::write(
        &big,
        "Phone,Name\n".to_string() + &"9876500000,Someone\n".repeat(400),
    )
    .unwrap();
    let mut b = Browser::start(&site.base, 1366, 768);
    sign_in(&b, ADMIN_EMAIL, ADMIN_PASSWORD);
    b.goto("/imports/new");
    b.settle();
    let input = b.find("#import-file");
    b.type_into(&input, pdf.to_str().unwrap());
    b.click_on("#upload-submit");
    let said = b.wait_text("#file-error", "not accepted");
    assert!(said.contains("PDF"), "{said}");
    assert_eq!(b.path(), "/imports/new");
    screenshots(&mut b, "import-refused");
    // too big: said beside the field before anything is sent
    b.goto("/imports/new");
    b.settle();
    let input = b.find("#import-file");
    b.type_into(&input, big.to_str().unwrap());
    let said = b.wait_text("#file-error", "larger than");
    assert!(said.contains("4.0 KB"), "{said}");
    b.click_on("#upload-submit");
    b.settle();
    assert_eq!(b.path(), "/imports/new", "not sent");
    screenshots(&mut b, "import-refused-too-big");
    no_csp_violations(&b);
}

pub fn a_telecaller_cannot_import(backend: Backend) {
    let site = Site::start(backend, 5);
    let b = Browser::start(&site.base, 390, 844);
    sign_in(&b, TELECALLER, TELECALLER_PASSWORD);
    assert!(!b.exists("nav a[href='/imports']"), "no link");
    b.goto("/imports/new");
    b.settle();
    assert!(b.text_of("main").contains("may not import"));
    b.goto("/imports");
    b.settle();
    assert!(b.text_of("main").contains("may not import"));
}

/// Above `PULSE_IMPORT_JOB_THRESHOLD` the counts and the import are jobs:
/// the page follows their server-sent progress and shows the result when
/// they end.
pub fn a_big_file_counts_and_imports_as_jobs(_: Backend) {
    let site = Site::start_with(
        Backend::Sqlite,
        5,
        &[("PULSE_IMPORT_JOB_THRESHOLD", "1000")],
    );
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("register.csv");
    let mut csv = String::from("Name,Phone,Status\n");
    for i in 0..2000 {
        csv += &format!("Driver {i},98{i:08},Interested\n");
    }
    std::fs::write(&file, csv).unwrap();
    let mut b = Browser::start(&site.base, 1366, 768);
    sign_in(&b, ADMIN_EMAIL, ADMIN_PASSWORD);
    b.goto("/imports/new");
    b.settle();
    let input = b.find("#import-file");
    b.type_into(&input, file.to_str().unwrap());
    b.click_on("#upload-submit");
    b.wait_path("step 2", |p| p.starts_with("/imports/wizard/"));
    b.settle();
    b.click_on("#to-preview");
    b.wait_path("step 3", |p| p.ends_with("/preview"));
    let n = b.wait_text("#n-inserted", "2,000");
    assert_eq!(n, "2,000");
    screenshots(&mut b, "import-job-preview");
    b.click_on("#run-import");
    b.wait_path("step 4", |p| p.ends_with("/result"));
    b.wait_text("#n-inserted", "2,000");
    screenshots(&mut b, "import-job-result");
    let (_, page) = site.api("GET", "/api/driver-onboarding/leads?limit=1", None);
    assert_eq!(
        page["total"], 2008,
        "5 seeded, 3 of the site, 2,000 imported"
    );
    no_csp_violations(&b);
}
