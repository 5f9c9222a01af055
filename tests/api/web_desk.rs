//! The telecaller desk page over HTTP (issue 21): a telecaller lands on it,
//! works a day with plain form posts and with htmx requests (the card and
//! the figures come back), and cannot reach another telecaller's desk or
//! lead; the roles that may open any desk see it read-only; bad input gets
//! a message. The browser story is in `tests/browser/stories.rs`.

use chrono::{Days, FixedOffset, NaiveDate, Utc};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::web::{new_lead, no_redirects, page, page_login, post_form};

dual_backend_tests!(
    web_desk_a_telecallers_day,
    web_desk_is_their_own_only,
    web_desk_viewed_by_others,
);

const TC: &str = "tc.desk@pulse.example";
const OTHER: &str = "tc.other@pulse.example";
const TC_PASSWORD: &str = "user-password-1";

fn ist_today() -> NaiveDate {
    let ist = FixedOffset::east_opt(19_800).unwrap();
    Utc::now().with_timezone(&ist).date_naive()
}

/// The number shown for a figure (`fig-calls`, …) on a desk page or update.
fn figure(body: &str, key: &str) -> i64 {
    let at = body
        .find(&format!("id=\"fig-{key}\">"))
        .unwrap_or_else(|| panic!("no figure {key} in {body}"));
    let rest = &body[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest.find('<').unwrap();
    rest[start..end].replace(',', "").parse().unwrap()
}

async fn lead(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, lead) = status_json(
        app.get(&format!("/api/driver-onboarding/leads/{id}"), token)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{lead}");
    lead
}

/// An htmx request from a card (what `hx-target="this"` on the card sends).
async fn htmx_post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    id: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let r = no_redirects()
        .post(app.url(path))
        .header("cookie", cookie)
        .header("origin", &app.base)
        .header("hx-request", "true")
        .header("hx-boosted", "true")
        .header("hx-target", format!("lead-{id}"))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Three leads of `TC` (assigned today; one also with a callback due today,
/// one overdue) and one of `OTHER`.
async fn day_of_leads(app: &TestApp, admin: &str) -> [String; 4] {
    let today = ist_today();
    let yesterday = today.checked_sub_days(Days::new(3)).unwrap();
    let a = new_lead(app, admin, json!({"name": "प्रिया शर्मा", "phone_number": "9876500101", "assigned_telecaller": TC, "assigned_date": today})).await;
    let b = new_lead(app, admin, json!({"name": "முருகன் செல்வம்", "phone_number": "9876500102", "assigned_telecaller": TC, "assigned_date": today, "callback_date": today})).await;
    let c = new_lead(app, admin, json!({"name": "Overdue Driver", "phone_number": "9876500103", "assigned_telecaller": TC, "assigned_date": yesterday, "callback_date": yesterday})).await;
    let d = new_lead(app, admin, json!({"name": "Someone Else's", "phone_number": "9876500104", "assigned_telecaller": OTHER, "assigned_date": today})).await;
    [a, b, c, d]
}

async fn web_desk_a_telecallers_day(app: TestApp) {
    let admin = app.admin_token().await;
    app.user_with_role(&admin, TC, "telecaller").await;
    app.user_with_role(&admin, OTHER, "telecaller").await;
    let [a, b, c, _] = day_of_leads(&app, &admin).await;
    // a telecaller signs in and lands on the desk
    let r = no_redirects()
        .post(app.url("/login"))
        .header("origin", &app.base)
        .form(&[("login", TC), ("password", TC_PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[LOCATION], "/");
    let cookie = page_login(&app, TC, TC_PASSWORD).await;
    let r = no_redirects()
        .get(app.url("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[LOCATION], "/desk");
    let (status, body) = page(&app, &cookie, "/desk").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(">प्रिया शर्मा<") && body.contains(">முருகன் செல்வம்<"));
    assert!(!body.contains("Someone Else"), "another telecaller's lead");
    assert!(body.contains("href=\"tel:+919876500101\""), "tap to call");
    assert!(body.contains("href=\"/desk\">Desk</a>"), "the nav entry");
    // the tabs: two assigned today, one callback due, one overdue
    for (label, n) in [("Assigned", 2), ("Callbacks due", 1), ("Overdue", 1)] {
        assert!(
            body.contains(&format!(
                "<span class=\"tab-label\">{label}</span> <span class=\"count\">{n}</span>"
            )),
            "{label} {n}: {body}"
        );
    }
    // pending: the two assigned and the callback due (b is on both lists)
    assert_eq!((figure(&body, "calls"), figure(&body, "pending")), (0, 3));
    // a plain post: 303 back to the same list, the lead named
    let r = post_form(
        &app,
        &cookie,
        &format!("/desk/leads/{a}/call?list=today"),
        &[("outcome", "connected")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert_eq!(
        to,
        format!("/desk?list=today&done=connected&lead={a}#lead-{a}")
    );
    let (_, body) = page(&app, &cookie, to.split('#').next().unwrap()).await;
    assert!(body.contains("Recorded: connected."), "{body}");
    assert_eq!(
        [
            figure(&body, "calls"),
            figure(&body, "connected"),
            figure(&body, "pending")
        ],
        [1, 1, 2]
    );
    let tc_token = app.token(TC, TC_PASSWORD).await;
    assert!(lead(&app, &tc_token, &a).await["last_called"].is_string());
    // htmx: the card comes back with the figures out of band
    let (status, part) = htmx_post(
        &app,
        &cookie,
        &format!("/desk/leads/{b}/call?list=today"),
        &b,
        &[("outcome", "no_response")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        part.starts_with(&format!(
            "<article class=\"card lead-card called\" id=\"lead-{b}\""
        )),
        "{part}"
    );
    for id in ["desk-figures", "desk-tabs"] {
        let at = part.find(&format!("id=\"{id}\"")).expect(id);
        let tag = &part[at..at + part[at..].find('>').unwrap()];
        assert!(tag.contains("hx-swap-oob=\"true\""), "{tag}");
    }
    assert!(!part.contains("<html"), "a fragment, not a page");
    assert_eq!(
        [
            figure(&part, "calls"),
            figure(&part, "no-response"),
            figure(&part, "pending")
        ],
        [2, 1, 0],
        "b counted as called on both of its lists"
    );
    assert_eq!(lead(&app, &tc_token, &b).await["status"], "RNR");
    // a callback in one week
    let (status, part) = htmx_post(
        &app,
        &cookie,
        &format!("/desk/leads/{c}/status?list=overdue"),
        &c,
        &[("status", "Call back 1W")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{part}");
    assert!(part.contains("Status saved."));
    let week = ist_today().checked_add_days(Days::new(7)).unwrap();
    let after = lead(&app, &tc_token, &c).await;
    assert_eq!(
        (after["status"].as_str(), after["callback_date"].as_str()),
        (Some("Call back 1W"), Some(week.to_string().as_str()))
    );
    assert!(part.contains(&format!("Callback due {week}")));
    // plain called: the figures count it
    let r = post_form(
        &app,
        &cookie,
        &format!("/desk/leads/{c}/call"),
        &[("outcome", "called")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = page(&app, &cookie, "/desk").await;
    assert_eq!(figure(&body, "calls"), 3);
    // a remark, and an empty one refused beside its field (plain and htmx)
    let r = post_form(
        &app,
        &cookie,
        &format!("/desk/leads/{a}/remark"),
        &[("remark", "Comes Monday")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(lead(&app, &tc_token, &a).await["remarks"], "Comes Monday");
    let r = post_form(
        &app,
        &cookie,
        &format!("/desk/leads/{a}/remark?list=today"),
        &[("remark", "  ")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&format!("id=\"re-{a}\">Write a remark first.")),
        "{body}"
    );
    let (status, part) = htmx_post(
        &app,
        &cookie,
        &format!("/desk/leads/{a}/remark"),
        &a,
        &[("remark", "")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(part.contains("Write a remark first."));
    // a made-up status or outcome: a message, nothing changed
    let (status, part) = htmx_post(
        &app,
        &cookie,
        &format!("/desk/leads/{a}/status"),
        &a,
        &[("status", "Promoted")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(part.contains(&format!("id=\"se-{a}\"")), "{part}");
    let (status, part) = htmx_post(
        &app,
        &cookie,
        &format!("/desk/leads/{a}/call"),
        &a,
        &[("outcome", "spoke")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(part.contains("Choose called, connected or no response."));
    assert_eq!(lead(&app, &tc_token, &a).await["status"], "New");
    // another day: yesterday's figures are empty; a bad date is named, today shown
    let (_, body) = page(
        &app,
        &cookie,
        &format!(
            "/desk?date={}",
            ist_today().checked_sub_days(Days::new(1)).unwrap()
        ),
    )
    .await;
    assert_eq!(figure(&body, "calls"), 0);
    assert!(body.contains("Back to today"));
    let (status, body) = page(&app, &cookie, "/desk?date=2026-02-30&list=sideways").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("role=\"alert\">Date: "), "{body}");
    assert!(
        body.contains("role=\"alert\">List: expected one of today, callbacks_due, overdue"),
        "{body}"
    );
    assert_eq!(figure(&body, "calls"), 3);
}

async fn web_desk_is_their_own_only(app: TestApp) {
    let admin = app.admin_token().await;
    app.user_with_role(&admin, TC, "telecaller").await;
    app.user_with_role(&admin, OTHER, "telecaller").await;
    let [_, _, _, theirs] = day_of_leads(&app, &admin).await;
    let cookie = page_login(&app, TC, TC_PASSWORD).await;
    // another telecaller's desk and lead: not found, by page or by action
    let (status, _) = page(&app, &cookie, &format!("/desk?telecaller={OTHER}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for (path, form) in [
        ("call", [("outcome", "connected")]),
        ("status", [("status", "Call back 1D")]),
        ("remark", [("remark", "mine now")]),
    ] {
        let r = post_form(
            &app,
            &cookie,
            &format!("/desk/leads/{theirs}/{path}"),
            &form,
        )
        .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let (status, _) = htmx_post(
            &app,
            &cookie,
            &format!("/desk/leads/{theirs}/{path}"),
            &theirs,
            &form,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "htmx {path}");
    }
    // even a made-up outcome on it is a 404 (no probing by the message)
    let r = post_form(
        &app,
        &cookie,
        &format!("/desk/leads/{theirs}/call"),
        &[("outcome", "x")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let after = lead(&app, &admin, &theirs).await;
    assert!(after["last_called"].is_null() && after["remarks"].is_null());
    assert_eq!(after["status"], "New");
    // a cross-site post is refused before anything happens
    let r = no_redirects()
        .post(app.url(&format!("/desk/leads/{theirs}/call")))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .form(&[("outcome", "called")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn web_desk_viewed_by_others(app: TestApp) {
    let admin = app.admin_token().await;
    app.user_with_role(&admin, TC, "telecaller").await;
    app.user_with_role(&admin, OTHER, "telecaller").await;
    app.user_with_role(&admin, "ops.desk@pulse.example", "ops_team")
        .await;
    app.user_with_role(&admin, "std.desk@pulse.example", "standard")
        .await;
    let [a, ..] = day_of_leads(&app, &admin).await;
    let ops = page_login(&app, "ops.desk@pulse.example", TC_PASSWORD).await;
    // ops lands on the leads; the desk asks whose
    let r = no_redirects()
        .get(app.url("/"))
        .header("cookie", &ops)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[LOCATION], "/leads");
    let (status, body) = page(&app, &ops, "/desk").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Choose a telecaller to see their desk."));
    assert!(
        body.contains(&format!(
            "<option value=\"{TC}\">Test telecaller ({TC})</option>"
        )),
        "{body}"
    );
    // a chosen desk: the leads, no action forms; an action is refused
    let (status, body) = page(&app, &ops, &format!("/desk?telecaller={TC}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(">प्रिया शर्मा<") && !body.contains("Someone Else"));
    assert!(body.contains("Desk of Test telecaller"));
    assert!(!body.contains("/call\""), "read-only: {body}");
    let r = post_form(
        &app,
        &ops,
        &format!("/desk/leads/{a}/call"),
        &[("outcome", "called")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(lead(&app, &admin, &a).await["last_called"].is_null());
    // a standard account has no desk (and no nav entry)
    let std = page_login(&app, "std.desk@pulse.example", TC_PASSWORD).await;
    let (status, _) = page(&app, &std, "/desk").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, body) = page(&app, &std, "/leads").await;
    assert!(!body.contains("href=\"/desk\""));
}
