//! The stories of issue 15, one test each; `both!` runs one on PostgreSQL
//! too (when `PULSE_TEST_PG_URL` is set or the test cluster can start).

use serde_json::json;

use crate::webdriver::Browser;
use crate::{
    ADMIN_PASSWORD, Backend, DEVANAGARI, HOSTILE, Site, TAMIL, TELECALLER, TELECALLER_PASSWORD,
    screenshots, sign_in,
};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(#[test]
            fn $name() {
                super::$name(Backend::Sqlite)
            })*
        }
        mod postgres {
            use super::*;
            $(#[test]
            fn $name() {
                super::$name(Backend::Postgres)
            })*
        }
    };
}

both!(
    sign_in_comes_back_to_the_page_asked_for,
    a_telecaller_sees_only_their_own_leads,
);

macro_rules! sqlite_only {
    ($($name:ident),* $(,)?) => {
        mod sqlite_only {
            use super::*;
            $(#[test]
            fn $name() {
                super::$name(Backend::Sqlite)
            })*
        }
    };
}

sqlite_only!(
    filter_search_paginate_reload_and_sort,
    open_a_lead_remark_call_and_edit,
    hostile_and_indic_names_show_as_text,
    columns_density_keyboard_and_sign_out,
    a_telecallers_day_on_the_desk_at_phone_width,
);

/// Names in the leads table, in order.
fn names(b: &Browser) -> Vec<String> {
    b.find_all("table.leads td.name a")
        .iter()
        .map(|e| b.text(e))
        .collect()
}

/// Every visible form control on the page has a label (or an aria-label).
fn every_control_has_a_label(b: &Browser) {
    let unlabelled = b.exec(
        "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea')).filter(function (e) { return !(e.labels && e.labels.length) && !e.getAttribute('aria-label'); }).map(function (e) { return e.name; })",
        json!([]),
    );
    assert_eq!(unlabelled, json!([]), "controls without a label");
}

fn no_csp_violations(b: &Browser) {
    let bad: Vec<String> = b
        .console()
        .into_iter()
        .filter(|m| m.contains("Content Security Policy") || m.contains("Refused to"))
        .collect();
    assert!(bad.is_empty(), "CSP violations: {bad:?}");
}

pub fn sign_in_comes_back_to_the_page_asked_for(backend: Backend) {
    let site = Site::start(backend, 200);
    let mut b = site.browser();
    b.goto("/leads?stage=S2");
    let at = b.wait_path("the sign-in page", |p| p.starts_with("/login"));
    assert_eq!(at, "/login?next=/leads%3Fstage%3DS2");
    if backend == Backend::Sqlite {
        screenshots(&mut b, "sign-in");
    }
    // a wrong password: a clear message, the login kept
    b.fill("#login", "admin");
    b.fill("#password", "not-the-password");
    b.click_on("form.stack button[type=submit]");
    let msg = b.wait_text("#signin-error", "not right");
    assert!(msg.contains("password"), "{msg}");
    assert_eq!(b.prop(&b.find("#login"), "value"), "admin");
    if backend == Backend::Sqlite {
        screenshots(&mut b, "sign-in-failed");
    }
    // the user name `admin` signs in and lands where it was going
    b.fill("#password", ADMIN_PASSWORD);
    b.click_on("form.stack button[type=submit]");
    b.wait_path("the stage S2 list", |p| p == "/leads?stage=S2");
    b.settle();
    assert!(
        b.text_of(".tabs .tab.current")
            .starts_with("S2 Docs Collection")
    );
    let header = b.text_of("header.top");
    assert!(
        header.contains("Master Admin") && header.contains("Master admin"),
        "{header}"
    );
    // every row of the S2 tab is in S2
    for cell in b.find_all("table.leads tbody tr td:nth-child(3)") {
        assert_eq!(b.text(&cell), "S2");
    }
    no_csp_violations(&b);
}

pub fn a_telecaller_sees_only_their_own_leads(backend: Backend) {
    let site = Site::start(backend, 300);
    let (_, all) = site.api("GET", "/api/driver-onboarding/leads?limit=1", None);
    let (_, own) = site.api(
        "GET",
        &format!("/api/driver-onboarding/leads?limit=1&telecaller={TELECALLER}"),
        None,
    );
    let own_total = own["total"].as_i64().unwrap();
    assert!(
        own_total > 3 && own_total < all["total"].as_i64().unwrap(),
        "the seed spreads leads"
    );
    let mut b = site.browser();
    sign_in(&b, TELECALLER, TELECALLER_PASSWORD);
    assert_eq!(b.path(), "/desk", "a telecaller lands on the desk");
    b.goto("/leads");
    b.settle();
    assert!(b.text_of("header.top").contains("Telecaller"));
    let total = b.text_of("#total");
    assert!(
        total.ends_with(&format!("of {own_total}")),
        "{total} vs {own_total}"
    );
    // the telecaller column of every row is theirs; no telecaller filter is offered
    let cells = b.find_all("table.leads tbody tr td:nth-child(5)");
    assert!(!cells.is_empty());
    for c in cells {
        assert_eq!(b.text(&c), TELECALLER);
    }
    assert!(!b.exists("#f-telecaller") && !b.exists("#f-unassigned"));
    if backend == Backend::Sqlite {
        screenshots(&mut b, "leads-telecaller");
    }
    // someone else's lead is not found, even by its address
    let (_, others) = site.api("GET", "/api/driver-onboarding/leads?limit=100", None);
    let other = others["leads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["assigned_telecaller"] != json!(TELECALLER))
        .expect("a lead of someone else");
    b.goto(&format!("/leads/{}", other["id"].as_str().unwrap()));
    b.wait_text("main h1", "Page not found");
    if backend == Backend::Sqlite {
        screenshots(&mut b, "not-found");
    }
    // their own lead opens, with the controls a telecaller has
    b.goto(&format!("/leads/{}", site.devanagari_id));
    b.wait_text("#lead-name", DEVANAGARI);
    assert!(b.exists("textarea#remark") && b.exists("a[href$='/edit']"));
}

pub fn filter_search_paginate_reload_and_sort(_: Backend) {
    let site = Site::start(Backend::Sqlite, 400);
    let mut b = site.browser();
    sign_in(&b, "admin", ADMIN_PASSWORD);
    let all_total = b.text_of("#total");
    assert!(all_total.ends_with("of 403"), "{all_total}");
    screenshots(&mut b, "leads");
    // a stage tab
    b.click_on(".tabs a[href*='stage=S1']");
    b.wait_path("the S1 tab", |p| p.contains("stage=S1"));
    b.settle();
    let s1 = b.text_of("#total");
    assert_ne!(s1, all_total);
    for cell in b.find_all("table.leads tbody tr td:nth-child(3)") {
        assert_eq!(b.text(&cell), "S1");
    }
    // search, typed with Enter: names and phones
    b.fill("#f-search", "kumar\u{E007}");
    let path = b.wait_path("the search in the URL", |p| p.contains("search=kumar"));
    assert!(path.contains("stage=S1"), "the tab is kept: {path}");
    b.settle();
    let found = names(&b);
    assert!(!found.is_empty());
    for n in &found {
        assert!(n.to_lowercase().contains("kumar"), "{n}");
    }
    let filtered_total = b.text_of("#total");
    // reload keeps every filter
    b.refresh();
    b.settle();
    assert_eq!(b.prop(&b.find("#f-search"), "value"), "kumar");
    assert_eq!(b.text_of("#total"), filtered_total);
    assert!(b.text_of(".tabs .tab.current").starts_with("S1"));
    // a status chip narrows and shows its count
    let chip = b.find(".chips a.chip");
    let chip_text = b.text(&chip);
    b.click(&chip);
    b.wait_path("the status in the URL", |p| p.contains("status="));
    b.settle();
    let count = chip_text.split_whitespace().last().unwrap().to_string();
    let total = b.wait_text("#total", &format!(" of {count}"));
    assert!(
        total.ends_with(&format!(" of {count}")),
        "{chip_text}: {total}"
    );
    // back to all leads; pages
    b.goto("/leads");
    b.settle();
    let first_page = names(&b);
    assert_eq!(first_page.len(), 50);
    b.click_on(".pager a[rel=next]");
    b.wait_path("page 2", |p| p.contains("page=2"));
    b.wait_text("#total", "Showing 51–100 of 403");
    assert_ne!(names(&b), first_page);
    b.click_on(".pager a[rel=last]");
    b.wait_text("#total", "Showing 401–403 of 403");
    assert_eq!(names(&b).len(), 3);
    b.back();
    b.wait_text("#total", "Showing 51–100 of 403");
    // sort by name, both ways (byte order, as the database sorts)
    b.goto("/leads");
    b.settle();
    b.click_on("th a[href*='sort=name']");
    b.wait_path("sorted by name", |p| p.contains("sort=name"));
    b.settle();
    let asc = names(&b);
    let mut sorted = asc.clone();
    sorted.sort();
    assert_eq!(asc, sorted);
    assert_eq!(
        b.prop(&b.find("th[aria-sort=ascending]"), "textContent"),
        "Name ▲"
    );
    b.click_on("th a[href*='sort=name']");
    b.wait_path("sorted by name, descending", |p| p.contains("dir=desc"));
    b.settle();
    let desc = names(&b);
    let mut rsorted = desc.clone();
    rsorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(desc, rsorted);
    // sort by import date keeps the page size and the total
    b.click_on("th a[href*='sort=import_date']");
    b.wait_path("sorted by import date", |p| p.contains("sort=import_date"));
    b.wait_text("#total", "of 403");
    no_csp_violations(&b);
}

pub fn open_a_lead_remark_call_and_edit(_: Backend) {
    let site = Site::start(Backend::Sqlite, 100);
    let mut b = site.browser();
    sign_in(&b, "admin", ADMIN_PASSWORD);
    let link = b.find("table.leads td.name a");
    let name = b.text(&link);
    b.click(&link);
    b.wait_path("the lead's page", |p| {
        p.starts_with("/leads/") && !p.contains('?')
    });
    b.wait_text("#lead-name", &name);
    for group in [
        "Identity",
        "Profile",
        "Documents",
        "Pipeline",
        "Provenance",
        "History",
    ] {
        assert!(b.text_of("main").contains(group), "{group}");
    }
    let id = b.path().trim_start_matches("/leads/").to_string();
    let (_, lead) = site.api("GET", &format!("/api/driver-onboarding/leads/{id}"), None);
    // documents shown to the master admin unmasked
    if let Some(dl) = lead["dl_no"].as_str() {
        assert!(b.text_of("main").contains(dl));
    }
    screenshots(&mut b, "lead");
    every_control_has_a_label(&b);
    // add a remark
    b.fill("#remark", "Will come for training on Monday");
    b.click_on(".remark-form button");
    b.wait_text("[role=status]", "Remark added");
    let first = b.text_of(".timeline li");
    assert!(
        first.contains("Will come for training on Monday"),
        "{first}"
    );
    // an empty remark is refused with a message beside the field
    b.click_on(".remark-form button");
    b.wait_text("#remark-error", "Write a remark first");
    // a call's outcome: connected, then no response (→ RNR)
    b.click_on("form[action$='/calls'] button[value=connected]");
    b.wait_text("[role=status]", "Connected call recorded");
    let first = b.text_of(".timeline li");
    assert!(first.contains("Called · connected"), "{first}");
    let (_, after) = site.api("GET", &format!("/api/driver-onboarding/leads/{id}"), None);
    assert!(after["last_called"].is_string());
    assert_eq!(after["calling_history"][0]["outcome"], "connected");
    b.click_on("form[action$='/calls'] button[value=no_response]");
    b.wait_text("[role=status]", "No response recorded");
    assert!(b.text_of(".badges").contains("RNR"));
    let timeline = b.text_of(".timeline");
    assert!(timeline.contains("Called · no response"), "{timeline}");
    let (_, after) = site.api("GET", &format!("/api/driver-onboarding/leads/{id}"), None);
    assert_eq!(after["status"], "RNR");
    assert_eq!(after["calling_history"][1]["outcome"], "no_response");
    screenshots(&mut b, "lead-calls");
    // edit with validation errors beside their fields
    b.click_on("a[href$='/edit']");
    b.wait_path("the edit form", |p| p.ends_with("/edit"));
    every_control_has_a_label(&b);
    b.fill("#e-phone_number", "12345");
    b.fill("#e-name", " ");
    b.fill("#e-end_date", "");
    b.click_on("form.edit button[type=submit]");
    b.wait_text("#err-phone_number", "12345");
    assert!(b.text_of("#err-name").contains("A name is needed"));
    assert!(b.exists("#edit-errors"));
    screenshots(&mut b, "lead-edit-errors");
    let (_, unchanged) = site.api("GET", &format!("/api/driver-onboarding/leads/{id}"), None);
    assert_eq!(unchanged["name"], lead["name"], "nothing saved");
    // fix them: saved, back on the lead
    b.fill("#e-phone_number", "9000000123");
    b.fill("#e-name", "Renamed Driver");
    b.click_on("form.edit button[type=submit]");
    b.wait_text("[role=status]", "Changes saved");
    assert_eq!(b.text_of("#lead-name"), "Renamed Driver");
    let (_, saved) = site.api("GET", &format!("/api/driver-onboarding/leads/{id}"), None);
    assert_eq!(saved["phone_number"], "9000000123");
    // the notes (fields of the lead field list's Notes group) on both pages
    b.click_on("a[href$='/edit']");
    b.wait_path("the edit form", |p| p.ends_with("/edit"));
    b.fill("#e-telecaller_notes", "Call after 6 pm");
    b.exec(
        "document.getElementById('e-notes').scrollIntoView({block: 'center'})",
        json!([]),
    );
    screenshots(&mut b, "lead-edit-notes");
    b.click_on("form.edit button[type=submit]");
    b.wait_text("[role=status]", "Changes saved");
    assert!(b.text_of("main").contains("Call after 6 pm"));
    let (_, saved) = site.api("GET", &format!("/api/driver-onboarding/leads/{id}"), None);
    assert_eq!(saved["telecaller_notes"], "Call after 6 pm");
    no_csp_violations(&b);
}

pub fn hostile_and_indic_names_show_as_text(_: Backend) {
    let site = Site::start(Backend::Sqlite, 50);
    let mut b = site.browser();
    sign_in(&b, "admin", ADMIN_PASSWORD);
    b.goto("/leads?source=Browser%20test&sort=name");
    b.settle();
    let shown = names(&b);
    assert!(shown.contains(&HOSTILE.to_string()), "{shown:?}");
    assert!(shown.contains(&DEVANAGARI.to_string()) && shown.contains(&TAMIL.to_string()));
    // text, not markup: no image anywhere, no alert (a dialog would fail every command)
    assert_eq!(
        b.exec("return document.querySelectorAll('img').length", json!([])),
        0
    );
    // both scripts are drawn with real glyphs, not as boxes: without a font
    // for them each letter is the same .notdef box as a private-use
    // character, so the text would measure exactly as wide as that many
    // boxes (`document.fonts.check` answers true even for a missing family)
    let width = |text: &str| {
        b.exec(
            "const c = document.createElement('canvas').getContext('2d'); \
             c.font = '32px ' + getComputedStyle(document.body).fontFamily; \
             return c.measureText(arguments[0]).width",
            json!([text]),
        )
        .as_f64()
        .unwrap()
    };
    for text in [DEVANAGARI, TAMIL] {
        let glyphs = width(text);
        let boxes = width(&"\u{E000}".repeat(text.chars().count()));
        assert!(
            glyphs > 0.0 && (glyphs - boxes).abs() > 1.0,
            "{text}: {glyphs} vs {boxes}"
        );
    }
    screenshots(&mut b, "leads-scripts");
    b.goto(&format!("/leads/{}", site.hostile_id));
    b.wait_text("#lead-name", HOSTILE);
    assert!(b.text_of(".timeline").contains(HOSTILE), "the remark too");
    assert_eq!(
        b.exec("return document.querySelectorAll('img').length", json!([])),
        0
    );
    b.goto(&format!("/leads/{}/edit", site.hostile_id));
    assert_eq!(b.prop(&b.find("#e-name"), "value"), HOSTILE);
    no_csp_violations(&b);
}

pub fn columns_density_keyboard_and_sign_out(_: Backend) {
    let site = Site::start(Backend::Sqlite, 60);
    let mut b = site.browser();
    sign_in(&b, "admin", ADMIN_PASSWORD);
    // the first Tab reaches the skip link, "/" the search field
    b.exec(
        "document.activeElement && document.activeElement.blur()",
        json!([]),
    );
    b.keys("\u{E004}");
    assert!(b.focused().starts_with("a[#main]"), "{}", b.focused());
    b.exec("document.activeElement.blur()", json!([]));
    b.keys("/");
    assert_eq!(b.focused(), "input#f-search");
    // the focus is visible: the focused control has an outline
    b.keys("\u{E004}");
    let outline = b.exec(
        "const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth",
        json!([]),
    );
    let outline = outline.as_str().unwrap_or_default().to_string();
    assert!(
        !outline.starts_with("none") && !outline.ends_with(" 0px"),
        "{}: {outline}",
        b.focused()
    );
    every_control_has_a_label(&b);
    // the column chooser: hide Source, compact rows; remembered after a reload
    b.click_on("details.chooser summary");
    let source = b.find("details.chooser input[value=source]");
    assert_eq!(b.prop(&source, "checked"), true);
    b.click(&source);
    b.click_on("details.chooser input[value=compact]");
    b.click_on("details.chooser button[type=submit]");
    b.wait("the compact table", || {
        b.exists("table.density-compact").then_some(())
    });
    b.refresh();
    b.settle();
    let headers = b.text_of("table.leads thead");
    assert!(
        !headers.contains("Source") && headers.contains("Phone"),
        "{headers}"
    );
    assert!(b.exists("table.density-compact"));
    screenshots(&mut b, "leads-compact");
    // sign out; the pages want a sign-in again
    b.click_on("header.top form[action='/logout'] button");
    b.wait_path("the sign-in page", |p| p.starts_with("/login"));
    b.wait_text("[role=status]", "signed out");
    b.goto("/leads");
    b.wait_path("the sign-in page again", |p| p.starts_with("/login?next="));
}

/// The number a desk figure shows (`calls`, `connected`, `no-response`, `pending`).
fn figure(b: &Browser, key: &str) -> i64 {
    b.text_of(&format!("#fig-{key}"))
        .replace(',', "")
        .parse()
        .unwrap()
}

/// Waits until the figure `key` shows `n`.
fn wait_figure(b: &Browser, key: &str, n: i64) {
    let read = "var e = document.querySelector(arguments[0]); return e ? e.textContent : ''";
    b.wait(&format!("figure {key} to be {n}"), || {
        let v = b.exec(read, json!([format!("#fig-{key}")]));
        (v.as_str()?.replace(',', "").parse::<i64>().ok()? == n).then_some(())
    });
}

pub fn a_telecallers_day_on_the_desk_at_phone_width(_: Backend) {
    let site = Site::start(Backend::Sqlite, 200);
    let (_, tamil) = site.api(
        "GET",
        "/api/driver-onboarding/leads?search=6000000002&limit=1",
        None,
    );
    let tamil_id = tamil["leads"][0]["id"].as_str().unwrap().to_string();
    let mut b = site.browser();
    b.resize(390, 844);
    sign_in(&b, TELECALLER, TELECALLER_PASSWORD);
    assert_eq!(b.path(), "/desk", "a telecaller lands on the desk");
    b.wait_text("main h1", "My desk");
    // the three leads of the site were assigned to the telecaller today
    let tab = b.text_of(".desk-tab.current");
    assert!(tab.starts_with("Assigned"), "{tab}");
    for id in [&site.devanagari_id, &site.hostile_id, &tamil_id] {
        assert!(b.exists(&format!("#lead-{id}")), "{id} on the desk");
    }
    let card = |id: &str| format!("#lead-{id}");
    assert_eq!(
        b.text_of(&format!("{} .lc-name", card(&site.devanagari_id))),
        DEVANAGARI
    );
    assert_eq!(b.text_of(&format!("{} .lc-name", card(&tamil_id))), TAMIL);
    assert_eq!(
        b.text_of(&format!("{} .lc-name", card(&site.hostile_id))),
        HOSTILE
    );
    let tel = b.prop(
        &b.find(&format!("{} a.btn-call", card(&site.devanagari_id))),
        "href",
    );
    assert_eq!(tel, "tel:+916000000001");
    // the Noto fonts cover both scripts here too
    for (font, text) in [
        ("Noto Sans Devanagari", DEVANAGARI),
        ("Noto Sans Tamil", TAMIL),
    ] {
        let ok = b.exec(
            "return document.fonts.check('16px \"' + arguments[0] + '\"', arguments[1])",
            json!([font, text]),
        );
        assert_eq!(ok, true, "{font}");
    }
    // one thumb: every button and link of a card is at least 44 px tall, and
    // nothing is wider than the phone
    let small = b.exec(
        "return Array.from(document.querySelectorAll('.lead-card .btn, .desk-tab, .desk-day .btn')).filter(function (e) { return e.getBoundingClientRect().height < 44; }).map(function (e) { return e.textContent.trim(); })",
        json!([]),
    );
    assert_eq!(small, json!([]), "tap targets under 44 px");
    let wide = b.exec("return document.documentElement.scrollWidth", json!([]));
    assert!(
        wide.as_i64().unwrap() <= 390,
        "the page scrolls sideways: {wide}"
    );
    // every control has a label
    let unlabelled = b.exec(
        "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea')).filter(function (e) { return !(e.labels && e.labels.length) && !e.getAttribute('aria-label'); }).map(function (e) { return e.name; })",
        json!([]),
    );
    assert_eq!(unlabelled, json!([]), "controls without a label");
    let calls = figure(&b, "calls");
    let pending = figure(&b, "pending");
    assert_eq!(calls, 0);
    assert!(pending >= 3, "{pending}");
    screenshots_phone_first(&mut b, "desk");

    // called: the card says so, the figures move, the page stays
    let url = b.url();
    b.click_on(&format!(
        "{} button[value=called]",
        card(&site.devanagari_id)
    ));
    b.wait_text(
        &format!("{} .lc-msg", card(&site.devanagari_id)),
        "Call recorded",
    );
    wait_figure(&b, "calls", 1);
    wait_figure(&b, "pending", pending - 1);
    assert_eq!(b.url(), url, "the card was swapped, not the page");
    b.exec(
        "document.getElementById(arguments[0]).scrollIntoView()",
        json!([format!("lead-{}", site.devanagari_id)]),
    );
    screenshots_phone_first(&mut b, "desk-card-recorded");
    b.exec(
        "document.getElementById(arguments[0]).scrollIntoView()",
        json!([format!("lead-{}", site.devanagari_id)]),
    );
    // the keyboard's focus is on the card's message
    assert!(b.focused().starts_with("p"), "{}", b.focused());
    // connected
    b.click_on(&format!("{} button[value=connected]", card(&tamil_id)));
    b.wait_text(&format!("{} .lc-msg", card(&tamil_id)), "connected");
    wait_figure(&b, "calls", 2);
    wait_figure(&b, "connected", 1);
    wait_figure(&b, "pending", pending - 2);
    // no response: RNR on the card
    b.click_on(&format!(
        "{} button[value=no_response]",
        card(&site.devanagari_id)
    ));
    b.wait_text(
        &format!("{} .lc-msg", card(&site.devanagari_id)),
        "no response",
    );
    wait_figure(&b, "no-response", 1);
    wait_figure(&b, "calls", 3);
    assert_eq!(
        b.text_of(&format!("{} .badge.status", card(&site.devanagari_id))),
        "RNR"
    );
    // a callback in a week
    b.click_on(&format!(
        "{} .lc-callbacks button[value='Call back 1W']",
        card(&tamil_id)
    ));
    b.wait_text(&format!("{} .lc-msg", card(&tamil_id)), "Status saved");
    let (_, lead) = site.api(
        "GET",
        &format!("/api/driver-onboarding/leads/{tamil_id}"),
        None,
    );
    let due = lead["callback_date"].as_str().unwrap().to_string();
    assert_eq!(lead["status"], "Call back 1W");
    assert!(
        b.text_of(&card(&tamil_id))
            .contains(&format!("Callback due {due}"))
    );
    // a remark
    b.fill(
        &format!("#r-{}", site.hostile_id),
        "Asked to call after 6 pm",
    );
    b.click_on(&format!(
        "{} form[action*='/remark'] button",
        card(&site.hostile_id)
    ));
    b.wait_text(
        &format!("{} .lc-msg", card(&site.hostile_id)),
        "Remark saved",
    );
    assert!(
        b.text_of(&card(&site.hostile_id))
            .contains("Asked to call after 6 pm")
    );
    // the figures are the server's: a reload shows the same
    b.refresh();
    b.settle();
    assert_eq!(
        [
            figure(&b, "calls"),
            figure(&b, "connected"),
            figure(&b, "no-response"),
            figure(&b, "pending")
        ],
        [3, 1, 1, pending - 2]
    );
    let (_, figures) = site.api(
        "GET",
        &format!("/api/telecaller-desk/figures?telecaller={TELECALLER}"),
        None,
    );
    assert_eq!(figures["totals"]["calls_made"], 3, "{figures}");
    b.exec("window.scrollTo(0, 0)", json!([]));
    screenshots_phone_first(&mut b, "desk-after-calls");
    // the day picker: yesterday has no calls
    b.click_on(".desk-day a[aria-label='Previous day']");
    b.wait_text(".desk-back", "Back to today");
    assert_eq!(figure(&b, "calls"), 0);
    // another telecaller's lead: not found by its address, nor by its action
    let (_, others) = site.api("GET", "/api/driver-onboarding/leads?limit=100", None);
    let other = others["leads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| {
            l["assigned_telecaller"].is_string() && l["assigned_telecaller"] != json!(TELECALLER)
        })
        .expect("a lead of another telecaller");
    let other_id = other["id"].as_str().unwrap();
    b.goto(&format!("/leads/{other_id}"));
    b.wait_text("main h1", "Page not found");
    let status = b.exec(
        "var x = new XMLHttpRequest(); x.open('POST', arguments[0], false); x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded'); x.send('outcome=called'); return x.status;",
        json!([format!("/desk/leads/{other_id}/call")]),
    );
    assert_eq!(status, 404);
    let (_, after) = site.api(
        "GET",
        &format!("/api/driver-onboarding/leads/{other_id}"),
        None,
    );
    assert_eq!(
        after["last_called"], other["last_called"],
        "nothing recorded"
    );
    b.goto(&format!(
        "/desk?telecaller={}",
        other["assigned_telecaller"].as_str().unwrap()
    ));
    b.wait_text("main h1", "Page not found");
    no_csp_violations(&b);
    // an admin picks the telecaller and sees the same day, read-only
    b.goto("/desk");
    b.click_on("header.top form[action='/logout'] button");
    b.wait_path("the sign-in page", |p| p.starts_with("/login"));
    sign_in(&b, "admin", ADMIN_PASSWORD);
    b.goto("/desk");
    b.wait_text("main", "Choose a telecaller");
    b.exec(
        "var s = document.getElementById('d-telecaller'); s.value = arguments[0]; s.dispatchEvent(new Event('change', { bubbles: true }));",
        json!([TELECALLER]),
    );
    b.wait_text("main h1", "Desk of Priya S");
    b.settle();
    assert_eq!(figure(&b, "calls"), 3);
    assert!(b.exists(&card(&tamil_id)) && !b.exists(".lc-outcomes"));
    screenshots_phone_first(&mut b, "desk-admin");
    no_csp_violations(&b);
}

/// Screenshots of the current page at phone width (the design width) and
/// at 1366×768, as `{name}-phone.png` / `-desktop.png`; back at phone width.
fn screenshots_phone_first(b: &mut Browser, name: &str) {
    b.resize(1366, 768);
    screenshots(b, name);
    b.resize(390, 844);
    b.settle();
}
