//! The stories of issue 22 (dashboard, users, sources, backups, audit),
//! one test each, with screenshots of every page at both widths. The
//! permission story (an admin refused on a master_admin) also runs on
//! PostgreSQL.

use serde_json::{Value, json};

use crate::webdriver::Browser;
use crate::{ADMIN_PASSWORD, Backend, Site, screenshots, sign_in};

macro_rules! stories {
    (both: $($both:ident),* ; sqlite: $($one:ident),* $(,)?) => {
        mod admin_sqlite {
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
        mod admin_postgres {
            use super::*;
            $(#[test]
            fn $both() {
                super::$both(Backend::Postgres)
            })*
        }
    };
}

stories!(
    both: users_approve_change_role_and_admin_refused_on_master_admin;
    sqlite: dashboard_numbers_equal_independent_counts,
    a_source_merge,
    backup_and_restore_round_trip,
);

fn no_csp_violations(b: &Browser) {
    let bad: Vec<String> = b
        .console()
        .into_iter()
        .filter(|m| m.contains("Content Security Policy") || m.contains("Refused to"))
        .collect();
    assert!(bad.is_empty(), "CSP violations: {bad:?}");
}

/// The cells of a dashboard table (also when its details are closed).
fn table(b: &Browser, key: &str) -> Vec<Vec<String>> {
    b.find_all(&format!("#table-{key} tbody tr"))
        .iter()
        .map(|tr| {
            let cells = b.exec(
                "return Array.from(arguments[0].cells).map(c => c.textContent);",
                json!([tr.json()]),
            );
            cells
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

/// The list's total for a query, through the API's leads list (another
/// query than the dashboard's counters and grouping).
fn total(site: &Site, query: &str) -> i64 {
    let (status, body) = site.api(
        "GET",
        &format!("/api/driver-onboarding/leads?limit=1&{query}"),
        None,
    );
    assert_eq!(status, 200, "{body}");
    body["total"].as_i64().unwrap()
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn dashboard_numbers_equal_independent_counts(_: Backend) {
    let site = Site::start(Backend::Sqlite, 600);
    // calls and a conversion by the admin, today
    let (_, page) = site.api("GET", "/api/driver-onboarding/leads?limit=6", None);
    let ids: Vec<String> = page["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    for id in &ids[..3] {
        let (s, _) = site.api(
            "POST",
            &format!("/api/driver-onboarding/leads/{id}/call-done"),
            Some(json!({})),
        );
        assert_eq!(s, 200);
    }
    for id in &ids[3..5] {
        let (s, _) = site.api(
            "POST",
            &format!("/api/driver-onboarding/leads/{id}/mark-connected"),
            Some(json!({})),
        );
        assert_eq!(s, 200);
    }
    let (s, body) = site.api(
        "PATCH",
        &format!("/api/driver-onboarding/leads/{}", site.hostile_id),
        Some(json!({"status": "Highly Interested"})),
    );
    assert_eq!(s, 200, "{body}");

    let today = pulse::domain::ist_today();
    let start = today - chrono::Days::new(364);
    let mut b = site.browser();
    sign_in(&b, "admin", ADMIN_PASSWORD);
    b.click_on("nav a[href='/dashboard']");
    b.wait_path("the dashboard", |p| p.starts_with("/dashboard"));
    b.goto(&format!("/dashboard?start_date={start}&end_date={today}"));
    b.wait_text("#h-tc", &today.to_string());
    assert!(b.text_of("#as-of").ends_with("IST"), "the time is shown");

    // the funnel: reached = now in the stage or later, from the list's totals
    let by_stage: Vec<i64> = ["S1", "S2", "S3", "S4"]
        .iter()
        .map(|s| total(&site, &format!("stage={s}")))
        .collect();
    let funnel = table(&b, "funnel");
    assert_eq!(funnel.len(), 4);
    for (i, row) in funnel.iter().enumerate() {
        let reached: i64 = by_stage[i..].iter().sum();
        assert_eq!(row[1], reached.to_string(), "{row:?}");
        assert_eq!(row[2], by_stage[i].to_string(), "{row:?}");
        if i > 0 {
            let prev: i64 = by_stage[i - 1..].iter().sum();
            assert_eq!(
                row[3],
                format!("{:.1}%", reached as f64 * 100.0 / prev as f64)
            );
        }
    }
    assert_eq!(
        b.text_of("#dash-total"),
        by_stage.iter().sum::<i64>().to_string()
    );
    // the chart says the same in text
    let svg = b.text_of("#funnel svg");
    assert!(
        svg.contains(&format!("{} reached", by_stage.iter().sum::<i64>())),
        "{svg}"
    );

    // every status, against the list filtered by it
    let statuses = table(&b, "statuses");
    assert_eq!(statuses.len(), 35, "every pipeline status");
    for row in statuses.iter().filter(|r| r[2] != "0").take(12) {
        let n = total(&site, &format!("stage={}&status={}", row[0], enc(&row[1])));
        assert_eq!(row[2], n.to_string(), "{row:?}");
    }

    // imports per source and period, against the list filtered by both
    let header: Vec<String> = b
        .find_all("#table-imports thead th")
        .iter()
        .map(|h| b.prop(h, "textContent").as_str().unwrap().to_string())
        .collect();
    let imports = table(&b, "imports");
    assert!(imports.len() >= 12, "months: {}", imports.len());
    let mut seen = 0;
    for row in imports.iter().rev().take(4) {
        for (col, source) in header.iter().enumerate().skip(2) {
            if source == "Total" || source == "Other sources" {
                continue;
            }
            let n = total(
                &site,
                &format!(
                    "source={}&start_date={}&end_date={}",
                    enc(source),
                    row[0],
                    row[1]
                ),
            );
            assert_eq!(row[col], n.to_string(), "{source} {row:?}");
            seen += n;
        }
    }
    assert!(seen > 0, "some leads in the last months");

    // telecaller performance: what this story did
    let tc = table(&b, "telecallers");
    let me = tc
        .iter()
        .find(|r| r[0].contains("root@pulse.test") || r[0] == "admin")
        .unwrap_or_else(|| panic!("the admin's row: {tc:?}"));
    assert_eq!((me[1].as_str(), me[2].as_str()), ("5", "2"), "{me:?}");
    assert_eq!(me[4], "1", "one conversion: {me:?}");

    // a CSV of a table, with the export's guard
    let csv = b.exec(
        "var x = new XMLHttpRequest(); x.open('GET', arguments[0], false); x.send(); \
         return [x.status, x.getResponseHeader('content-type'), x.responseText];",
        json!([format!(
            "/dashboard/funnel.csv?start_date={start}&end_date={today}"
        )]),
    );
    assert_eq!(csv[0], 200);
    assert!(csv[1].as_str().unwrap().starts_with("text/csv"));
    let text = csv[2].as_str().unwrap();
    assert!(text.contains("Stage,Reached,Now in stage"), "{text}");
    assert!(text.contains(&format!("S1 Filtering,{}", by_stage.iter().sum::<i64>())));

    screenshots(&mut b, "dashboard");
    no_csp_violations(&b);
    b.goto("/dashboard?start_date=2026-05-01&end_date=2026-01-01");
    b.wait_text("#dash-error", "must not be after end_date");
    // a telecaller has no dashboard and no link to it
    b.click_on("form[action='/logout'] button");
    b.wait_path("signed out", |p| p.starts_with("/login"));
    sign_in(&b, crate::TELECALLER, crate::TELECALLER_PASSWORD);
    assert!(!b.exists("nav a[href='/dashboard']") && !b.exists("nav a[href='/users']"));
    b.goto("/dashboard");
    b.wait_text("main h1", "Not allowed");
}

fn row_of(b: &Browser, login: &str) -> String {
    b.text_of(&format!("tr[data-login='{login}']"))
}

pub fn users_approve_change_role_and_admin_refused_on_master_admin(backend: Backend) {
    let site = Site::start(backend, 50);
    // an admin, another master_admin, and a registration waiting
    for (email, role) in [
        ("adm@pulse.test", "admin"),
        ("boss@pulse.test", "master_admin"),
    ] {
        let (s, body) = site.api(
            "POST",
            "/api/users",
            Some(
                json!({"email": email, "password": "user-password-1", "account_type": role,
                        "first_name": "Test", "last_name": role}),
            ),
        );
        assert_eq!(s, 201, "{body}");
    }
    let (s, body) = site.api(
        "POST",
        "/api/auth/register",
        Some(
            json!({"email": "nila.tc@pulse.test", "password": "nila-password-1",
                    "first_name": "Nila", "last_name": "Venkat", "account_type": "telecaller"}),
        ),
    );
    assert!(s < 300, "{body}");

    let mut b = site.browser();
    sign_in(&b, "adm@pulse.test", "user-password-1");
    b.click_on("nav a[href='/users']");
    b.wait_text("main h1", "Users");
    // pending first, naming the role the approval grants
    assert!(b.text_of("#pending").contains("nila.tc@pulse.test"));
    assert_eq!(
        b.text_of("#pending button.approve"),
        "Approve as Telecaller"
    );
    // the master_admin's row has no controls, and says why
    let boss = row_of(&b, "boss@pulse.test");
    assert!(boss.contains("Only a master admin can change"), "{boss}");
    assert!(!b.exists("tr[data-login='boss@pulse.test'] button"));
    // and an admin cannot grant master_admin
    assert!(!b.exists("option[value=master_admin]"));
    if backend == Backend::Sqlite {
        screenshots(&mut b, "users-admin");
    }
    // approve
    b.click_on("#pending button.approve");
    b.wait_text("p.notice", "Account approved");
    assert!(
        !b.text_of("#pending").contains("nila.tc@pulse.test"),
        "no longer pending"
    );
    assert!(row_of(&b, "nila.tc@pulse.test").contains("Active"));
    // change the role
    let select = b.find("tr[data-login='nila.tc@pulse.test'] select");
    b.exec(
        "arguments[0].value = 'ops_team'; arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
        json!([select.json()]),
    );
    b.click_on("tr[data-login='nila.tc@pulse.test'] button.change-role");
    b.wait_text("p.notice", "Role changed");
    assert!(row_of(&b, "nila.tc@pulse.test").contains("Ops team"));
    let (_, users) = site.api("GET", "/api/users", None);
    let nila = users
        .as_array()
        .or(users["users"].as_array())
        .unwrap()
        .iter()
        .find(|u| u["email"] == "nila.tc@pulse.test")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(nila["account_type"], "ops_team", "{nila}");
    assert_eq!(nila["status"], "active");
    // a forged post on the master_admin from this page is refused
    let (_, all) = site.api("GET", "/api/users", None);
    let boss_id = all
        .as_array()
        .or(all["users"].as_array())
        .unwrap()
        .iter()
        .find(|u| u["email"] == "boss@pulse.test")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // (a plain form made by script: the page offers none for that account)
    b.exec(
        "var f = document.createElement('form'); f.method = 'post'; f.action = arguments[0]; \
         var i = document.createElement('input'); i.name = 'account_type'; i.value = 'standard'; \
         f.appendChild(i); document.body.appendChild(f); f.submit();",
        json!([format!("/users/{boss_id}/role")]),
    );
    b.wait_text("#users-error", "master_admin");
    let (_, all) = site.api("GET", "/api/users", None);
    let boss = all
        .as_array()
        .or(all["users"].as_array())
        .unwrap()
        .iter()
        .find(|u| u["email"] == "boss@pulse.test")
        .cloned()
        .unwrap();
    assert_eq!(boss["account_type"], "master_admin", "unchanged: {boss}");
    assert!(
        row_of(&b, "nila.tc@pulse.test").contains("Ops team"),
        "nobody else changed"
    );
    if backend == Backend::Sqlite {
        screenshots(&mut b, "users-refused");
        // reset a password: shown once
        b.goto("/users");
        b.click_on("tr[data-login='nila.tc@pulse.test'] button.reset");
        b.wait_text("main h1", "Password reset");
        assert!(b.text_of("#temp-password").len() >= 12);
        screenshots(&mut b, "users-password");
    }
    no_csp_violations(&b);
}

pub fn a_source_merge(_: Backend) {
    let site = Site::start(Backend::Sqlite, 80);
    for (i, source) in ["walk in guindy", "WALK-IN GUINDY", "Refferal"]
        .iter()
        .enumerate()
    {
        let (s, body) = site.api(
            "POST",
            "/api/driver-onboarding/leads",
            Some(
                json!({"name": format!("Merge {i}"), "phone_number": format!("61000000{i:02}"),
                        "source": source}),
            ),
        );
        assert_eq!(s, 201, "{body}");
    }
    let before = total(&site, "source=Walk-in%20Guindy");
    let mut b = site.browser();
    sign_in(&b, "admin", ADMIN_PASSWORD);
    b.click_on("nav a[href='/sources']");
    b.wait_text("main h1", "Sources");
    let suggestions = b.text_of("#suggestions");
    assert!(
        suggestions.contains("walk in guindy") && suggestions.contains("WALK-IN GUINDY"),
        "{suggestions}"
    );
    assert!(suggestions.contains("Refferal") && suggestions.contains("Referral"));
    screenshots(&mut b, "sources");
    // merge the Guindy group into the most used name
    let form = b
        .find_all("#suggestions form")
        .into_iter()
        .find(|f| b.text(f).contains("WALK-IN GUINDY"))
        .unwrap();
    assert!(
        b.text(&form).contains("Merge into “Walk-in Guindy”"),
        "{}",
        b.text(&form)
    );
    b.exec(
        "arguments[0].querySelector('button').click();",
        json!([form.json()]),
    );
    b.wait_text("#sources-notice", "Walk-in Guindy");
    assert_eq!(total(&site, "source=Walk-in%20Guindy"), before + 2);
    assert_eq!(total(&site, "source=WALK-IN%20GUINDY"), 0);
    assert!(!b.text_of("#suggestions").contains("WALK-IN GUINDY"));
    no_csp_violations(&b);
}

pub fn backup_and_restore_round_trip(_: Backend) {
    let site = Site::start(Backend::Sqlite, 120);
    let before = total(&site, "");
    let mut b = site.browser();
    sign_in(&b, "admin", ADMIN_PASSWORD);
    b.click_on("nav a[href='/backups']");
    b.wait_text("main h1", "Backups");
    b.click_on("#create-backup");
    b.wait_text("p.notice", "Backup started");
    // the progress part refreshes itself until the backup is listed
    b.wait("the backup in the list", || {
        b.refresh();
        b.exists("table.backups tbody tr").then_some(())
    });
    let row = b.text_of("table.backups tbody tr");
    assert!(row.contains(&before.to_string()), "{row}");
    screenshots(&mut b, "backups");
    // leads change after the backup
    let (s, _) = site.api(
        "POST",
        "/api/driver-onboarding/leads",
        Some(json!({"name": "After the backup", "phone_number": "6200000001"})),
    );
    assert_eq!(s, 201);
    let (s, _) = site.api(
        "DELETE",
        &format!("/api/driver-onboarding/leads/{}", site.devanagari_id),
        None,
    );
    assert!(s < 300);
    assert_eq!(total(&site, ""), before);
    // restore: the confirmation names what is replaced
    b.click_on("table.backups tbody tr a.restore");
    b.wait_text("main h1", "Restore this backup?");
    let warning = b.text_of("#restore-warning");
    assert!(
        warning.contains(&format!("replaces all {before} leads"))
            && warning.contains(&format!("{before} leads of the backup")),
        "{warning}"
    );
    screenshots(&mut b, "backup-restore");
    b.click_on("#restore-confirm");
    b.click_on("#restore-go");
    b.wait_text("p.notice", "Restore started");
    b.wait_text("#jobs", "leads restored");
    assert!(
        b.text_of("#jobs")
            .contains(&format!("{before} leads restored"))
    );
    // the backup's leads are back: the deleted lead, not the new one
    let (s, _) = site.api(
        "GET",
        &format!("/api/driver-onboarding/leads/{}", site.devanagari_id),
        None,
    );
    assert_eq!(s, 200, "the deleted lead is back");
    assert_eq!(total(&site, "search=After%20the%20backup"), 0);
    assert_eq!(total(&site, ""), before);
    b.refresh();
    b.wait_text("table.backups", "Before a restore");
    screenshots(&mut b, "backups-restored");
    // the audit log shows it, filtered by what
    b.click_on("nav a[href='/audit']");
    b.wait_text("main h1", "Audit log");
    b.fill("#a-action", "backup");
    b.click_on("form.toolbar button[type=submit]");
    b.wait_path("the filter in the URL", |p| p.contains("action=backup"));
    b.wait_text("table.audit", "backup.restore");
    for cell in b.find_all("table.audit td.action") {
        assert!(b.text(&cell).starts_with("backup."), "{}", b.text(&cell));
    }
    screenshots(&mut b, "audit");
    no_csp_violations(&b);
}
