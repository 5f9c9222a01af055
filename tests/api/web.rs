//! The web pages over HTTP (no browser): sign-in and its messages, the
//! cross-site check, HTML 404, headers, scope, masking, validation and the
//! column preferences. The browser stories are in `tests/browser/`.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, status_json};

dual_backend_tests!(
    web_sign_in_and_out,
    web_sign_in_messages,
    web_cross_site_posts_are_refused,
    web_unknown_pages_and_assets,
    web_workspace_filters_sort_and_prefs,
    web_workspace_totals_and_pages,
    web_kept_search_answers_follow_changes,
    web_telecaller_scope_and_masking,
    web_edit_validation_and_duplicate_phone,
    web_call_outcomes_on_the_lead_page,
    web_notes_on_the_lead_and_edit_pages,
);

pub(crate) fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in through the page; the session cookie's `name=value`.
pub(crate) async fn page_login(app: &TestApp, login: &str, password: &str) -> String {
    let r = no_redirects()
        .post(app.url("/login"))
        .header("origin", &app.base)
        .form(&[("login", login), ("password", password), ("next", "/leads")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {login}");
    let cookie = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    cookie.split(';').next().unwrap().to_string()
}

pub(crate) async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = no_redirects()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

pub(crate) async fn post_form(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    no_redirects()
        .post(app.url(path))
        .header("cookie", cookie)
        .header("origin", &app.base)
        .form(form)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn new_lead(app: &TestApp, token: &str, body: Value) -> String {
    let (status, lead) =
        status_json(app.post("/api/driver-onboarding/leads", token, body).await).await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    lead["id"].as_str().unwrap().to_string()
}

async fn web_sign_in_and_out(app: TestApp) {
    let client = no_redirects();
    // a signed-out visitor goes to sign in, and comes back to the page asked for
    let r = client.get(app.url("/leads?stage=S2")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/login?next=/leads%3Fstage%3DS2");
    let r = client
        .get(app.url("/login?next=/leads%3Fstage%3DS2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    let body = r.text().await.unwrap();
    assert!(
        body.contains(r#"name="next" value="/leads?stage=S2""#),
        "{body}"
    );
    // the user name `admin` signs in as well as the e-mail
    let r = client
        .post(app.url("/login"))
        .header("origin", &app.base)
        .form(&[
            ("login", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "/leads?stage=S2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/leads?stage=S2");
    let set = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        set.starts_with("pulse_session=")
            && set.contains("HttpOnly")
            && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    // the same cookie works for the JSON API
    let r = client
        .get(app.url("/api/auth/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // an off-site `next` is not followed
    let r = client
        .post(app.url("/login"))
        .header("origin", &app.base)
        .form(&[
            ("login", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()[LOCATION], "/leads");
    // pages are HTML, uncached, under the strict CSP
    let r = client
        .get(app.url("/leads"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
    let csp = r.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    let body = r.text().await.unwrap();
    assert!(
        !body.contains("style=\"") && !body.contains("<script>"),
        "no inline style or script"
    );
    assert!(body.contains("Master admin"), "the header names the role");
    // sign out ends the session
    let r = post_form(&app, &cookie, "/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = page(&app, &cookie, "/leads").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the old cookie no longer works"
    );
    // an htmx request without a session sends the whole page to sign in
    let r = client
        .get(app.url("/leads?page=2"))
        .header("cookie", &cookie)
        .header("hx-request", "true")
        .header("hx-current-url", format!("{}/leads?stage=S3", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["hx-redirect"],
        "/login?next=/leads%3Fstage%3DS3"
    );
}

async fn web_sign_in_messages(app: TestApp) {
    let admin = app.admin_token().await;
    let try_login = |login: &'static str, password: &'static str| {
        let app = &app;
        async move {
            let r = no_redirects()
                .post(app.url("/login"))
                .header("origin", &app.base)
                .form(&[("login", login), ("password", password)])
                .send()
                .await
                .unwrap();
            let status = r.status();
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            (status, retry, r.text().await.unwrap())
        }
    };
    let (status, _, body) = try_login("nobody@pulse.example", "wrong-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("password is not right"), "{body}");
    assert!(
        body.contains(r#"value="nobody@pulse.example""#),
        "the login is kept"
    );
    // pending: registered, not approved
    let r = app
        .client
        .post(app.url("/api/auth/register"))
        .json(&json!({"first_name": "P", "last_name": "Q", "email": "pending@pulse.example", "password": "pending-pass-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "the original's 200");
    let (status, _, body) = try_login("pending@pulse.example", "pending-pass-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("waiting for approval"), "{body}");
    // disabled
    let (id, _) = app
        .user_with_role(&admin, "gone@pulse.example", "ops_team")
        .await;
    let r = app
        .post(&format!("/api/users/{id}/disable"), &admin, json!({}))
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let (status, _, body) = try_login("gone@pulse.example", "user-password-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("disabled"), "{body}");
    // throttled after 5 failures, with the time to wait
    for _ in 0..5 {
        try_login("victim@pulse.example", "nope-nope-nope").await;
    }
    let (status, retry, body) = try_login("victim@pulse.example", "nope-nope-nope").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some());
    assert!(body.contains("Try again in"), "{body}");
}

async fn web_cross_site_posts_are_refused(app: TestApp) {
    let cookie = page_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = app.admin_token().await;
    let id = new_lead(
        &app,
        &admin,
        json!({"name": "Csrf Target", "phone_number": "9876500001"}),
    )
    .await;
    let path = format!("/leads/{id}/remarks");
    let client = no_redirects();
    for headers in [
        vec![("origin", "http://evil.example")],
        vec![
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://evil.example"),
        ],
        vec![("sec-fetch-site", "same-site")],
        vec![],
    ] {
        let mut req = client
            .post(app.url(&path))
            .header("cookie", &cookie)
            .form(&[("remark", "forged")]);
        for (k, v) in &headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert!(r.text().await.unwrap().contains("another site"));
    }
    let (_, lead) = status_json(
        app.get(&format!("/api/driver-onboarding/leads/{id}"), &admin)
            .await,
    )
    .await;
    assert_eq!(lead["remarks_history"], json!([]), "nothing was written");
    // the same post from our own page works
    let r = post_form(&app, &cookie, &path, &[("remark", "real")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, lead) = status_json(
        app.get(&format!("/api/driver-onboarding/leads/{id}"), &admin)
            .await,
    )
    .await;
    assert_eq!(lead["remarks"], "real");
}

async fn web_unknown_pages_and_assets(app: TestApp) {
    let client = no_redirects();
    let r = client.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(r.text().await.unwrap().contains("Page not found"));
    let (status, body) =
        status_json(client.get(app.url("/api/no-such")).send().await.unwrap()).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (StatusCode::NOT_FOUND, Some("no such endpoint"))
    );
    let cookie = page_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, body) = page(&app, &cookie, "/leads/not-a-uuid").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Page not found"));
    let (status, _) = page(&app, &cookie, &format!("/leads/{}", uuid::Uuid::new_v4())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // assets: hashed names, immutable; no page weighs more than ~100 KB
    // before data (its HTML with no leads, its CSS and scripts)
    let admin = app.admin_token().await;
    let lead = new_lead(
        &app,
        &admin,
        json!({"name": "Weigh Me", "phone_number": "9876500041"}),
    )
    .await;
    for path in [
        "/login".to_string(),
        "/leads?search=nobody-at-all".to_string(),
        format!("/leads/{lead}"),
        format!("/leads/{lead}/edit"),
    ] {
        let (status, html) = page(&app, &cookie, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let mut weight = html.len();
        for (attr, ext, ctype) in [
            ("href=\"", ".css", "text/css"),
            ("src=\"", ".js", "text/javascript"),
        ] {
            for part in html.split(attr).skip(1) {
                let url = part.split('"').next().unwrap();
                if !url.starts_with("/static/") || !url.ends_with(ext) {
                    continue;
                }
                // as a browser asks: the assets come gzipped
                let r = client
                    .get(app.url(url))
                    .header("accept-encoding", "gzip, deflate, br")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK, "{url}");
                assert_eq!(r.headers()["content-encoding"], "gzip", "{url}");
                assert!(
                    r.headers()[CONTENT_TYPE]
                        .to_str()
                        .unwrap()
                        .starts_with(ctype)
                );
                assert_eq!(
                    r.headers()[CACHE_CONTROL],
                    "public, max-age=31536000, immutable"
                );
                weight += r.bytes().await.unwrap().len();
            }
        }
        assert!(
            weight > 15_000,
            "{path}: htmx itself (~16 KB gzipped) is counted ({weight} bytes)"
        );
        assert!(weight < 100_000, "{path} weighs {weight} bytes");
    }
    let r = client.get(app.url("/static/app.css")).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "only hashed names are served"
    );
}

async fn web_workspace_filters_sort_and_prefs(app: TestApp) {
    let admin = app.admin_token().await;
    for (i, name) in ["Zara Q", "Anbu Q", "Mani Q"].iter().enumerate() {
        new_lead(
            &app,
            &admin,
            json!({"name": name, "phone_number": format!("98765000{i:02}"), "source": "Web Fair"}),
        )
        .await;
    }
    new_lead(
        &app,
        &admin,
        json!({"name": "Other Person", "phone_number": "9876500099", "status": "Verified"}),
    )
    .await;
    let cookie = page_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (status, body) = page(&app, &cookie, "/leads?search=Q&sort=name&dir=asc").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Showing 1–3 of 3"), "{body}");
    let a = body.find(">Anbu Q<").unwrap();
    let m = body.find(">Mani Q<").unwrap();
    let z = body.find(">Zara Q<").unwrap();
    assert!(a < m && m < z, "sorted by name");
    let (_, body) = page(&app, &cookie, "/leads?search=Q&sort=name&dir=desc").await;
    assert!(body.find(">Zara Q<").unwrap() < body.find(">Anbu Q<").unwrap());
    assert!(body.contains(r#"aria-sort="descending""#));
    // stage tabs count every stage under the other filters; S2 holds the Verified lead
    let (_, body) = page(&app, &cookie, "/leads?stage=S2").await;
    assert!(body.contains("Showing 1–1 of 1"), "{body}");
    assert!(body.contains(">Other Person<") && !body.contains(">Zara Q<"));
    // a bad filter value is reported, not a failure
    let (status, body) = page(&app, &cookie, "/leads?start_date=tomorrow").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("start_date: invalid date"), "{body}");
    // the column chooser is remembered per user
    let r = post_form(
        &app,
        &cookie,
        "/leads/prefs",
        &[
            ("col", "phone"),
            ("density", "compact"),
            ("back", "/leads?search=Q"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/leads?search=Q");
    let (_, body) = page(&app, &cookie, "/leads").await;
    assert!(body.contains("density-compact"));
    assert!(
        body.contains(r#"aria-sort="none">Phone</th>"#)
            && !body.contains(r#"aria-sort="none">Source</th>"#),
        "only the chosen columns"
    );
    let other = page_login(&app, "admin", ADMIN_PASSWORD).await;
    let (_, body) = page(&app, &other, "/leads").await;
    assert!(
        body.contains("density-compact"),
        "the same user on another session"
    );
    let (_, tc) = app
        .user_with_role(&admin, "tc.prefs@pulse.example", "telecaller")
        .await;
    let (_, body) = page(&app, &format!("pulse_session={tc}"), "/leads").await;
    assert!(
        body.contains("density-comfortable") && body.contains(r#"aria-sort="none">Source</th>"#),
        "another user keeps the defaults"
    );
}

/// The workspace's total is summed from the tabs' counts (the same filters
/// but stage and status): it must agree with what the pages list, under a
/// stage, a status alone, both, a search, a counted column and a
/// telecaller's own scope, and a page past the last shows the last.
async fn web_workspace_totals_and_pages(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, tc) = app
        .user_with_role(&admin, "tc.pager@pulse.example", "telecaller")
        .await;
    for i in 0..26 {
        let status = if i < 3 { "Not Reachable" } else { "New" };
        let owner = (i == 0 || i == 5).then_some("tc.pager@pulse.example");
        new_lead(
            &app,
            &admin,
            json!({"name": format!("Pager {i:02}"), "phone_number": format!("98766000{i:02}"),
                   "source": "Pager Fair", "status": status, "assigned_telecaller": owner}),
        )
        .await;
    }
    new_lead(
        &app,
        &admin,
        json!({"name": "Pager Verified", "phone_number": "9876600099", "status": "Verified",
               "source": "Pager Fair"}),
    )
    .await;
    new_lead(
        &app,
        &admin,
        json!({"name": "Someone Else", "phone_number": "9876600098", "status": "Not Reachable"}),
    )
    .await;
    let cookie = page_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cases = [
        ("/leads?search=Pager&limit=25", "Showing 1–25 of 27"),
        ("/leads?search=Pager&limit=25&page=2", "Showing 26–27 of 27"),
        // past the last page: the last
        ("/leads?search=Pager&limit=25&page=9", "Showing 26–27 of 27"),
        (
            "/leads?search=pager&status=Not+Reachable",
            "Showing 1–3 of 3",
        ),
        ("/leads?status=Not+Reachable", "Showing 1–4 of 4"),
        ("/leads?stage=S1&status=Not+Reachable", "Showing 1–4 of 4"),
        (
            "/leads?source=Pager+Fair&stage=S1&status=Not+Reachable",
            "Showing 1–3 of 3",
        ),
        ("/leads?source=Pager+Fair&stage=S1", "Showing 1–26 of 26"),
        ("/leads?source=Pager+Fair&stage=S2", "Showing 1–1 of 1"),
        ("/leads?stage=S3", "No leads match"),
        ("/leads?limit=25&page=2", "Showing 26–28 of 28"),
    ];
    for (path, want) in cases {
        let (status, body) = page(&app, &cookie, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.contains(want), "{path}: want {want:?}");
    }
    // the pages list what the total says: 25 leads, then the last 2
    let shown = |body: &str| body.matches(">Pager ").count();
    let (_, first) = page(&app, &cookie, "/leads?search=Pager&limit=25").await;
    let (_, last) = page(&app, &cookie, "/leads?search=Pager&limit=25&page=2").await;
    assert!(shown(&last) > 0, "the last page lists leads");
    assert_eq!(shown(&first) * 2, shown(&last) * 25, "25 leads, then 2");
    let tc = format!("pulse_session={tc}");
    for (path, want) in [
        ("/leads", "Showing 1–2 of 2"),
        ("/leads?status=Not+Reachable", "Showing 1–1 of 1"),
        ("/leads?stage=S1&status=New", "Showing 1–1 of 1"),
    ] {
        let (_, body) = page(&app, &tc, path).await;
        assert!(body.contains(want), "telecaller {path}: want {want:?}");
    }
}

async fn web_telecaller_scope_and_masking(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, tc) = app
        .user_with_role(&admin, "tc.one@pulse.example", "telecaller")
        .await;
    let (_, ops) = app
        .user_with_role(&admin, "ops.one@pulse.example", "ops_team")
        .await;
    let (_, std) = app
        .user_with_role(&admin, "std.one@pulse.example", "standard")
        .await;
    let mine = new_lead(
        &app,
        &admin,
        json!({"name": "Mine Lead", "phone_number": "9876500010", "assigned_telecaller": "tc.one@pulse.example", "aadhar_card": "548249957695"}),
    )
    .await;
    let theirs = new_lead(&app, &admin, json!({"name": "Their Lead", "phone_number": "9876500011", "assigned_telecaller": "someone@pulse.example"})).await;
    let tc = format!("pulse_session={tc}");
    let (_, body) = page(&app, &tc, "/leads").await;
    assert!(body.contains(">Mine Lead<") && !body.contains(">Their Lead<"));
    assert!(body.contains("Showing 1–1 of 1"));
    assert!(
        !body.contains("f-telecaller"),
        "no telecaller filter for a telecaller"
    );
    let (_, body) = page(&app, &tc, "/leads?telecaller=someone@pulse.example").await;
    assert!(
        !body.contains(">Their Lead<"),
        "the scope wins over a filter"
    );
    for path in [format!("/leads/{theirs}"), format!("/leads/{theirs}/edit")] {
        let (status, _) = page(&app, &tc, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = post_form(
        &app,
        &tc,
        &format!("/leads/{theirs}/remarks"),
        &[("remark", "x")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // the telecaller's edit form has no assignment fields
    let (_, body) = page(&app, &tc, &format!("/leads/{mine}/edit")).await;
    assert!(!body.contains("e-assigned_telecaller"));
    // documents: masked for all but master_admin, and never sent back masked
    let ops = format!("pulse_session={ops}");
    let (_, body) = page(&app, &ops, &format!("/leads/{mine}")).await;
    assert!(
        body.contains("XXXXXXXX7695") && !body.contains("548249957695"),
        "masked in the detail"
    );
    let (_, body) = page(&app, &ops, &format!("/leads/{mine}/edit")).await;
    assert!(
        body.contains(r#"name="aadhar_card" type="text" value="""#),
        "the masked value is not in the input"
    );
    assert!(body.contains(r#"placeholder="XXXXXXXX7695""#));
    // saving the form as shown (empty document, the mask typed back) keeps the number
    for value in ["", "XXXXXXXX7695"] {
        let r = post_form(
            &app,
            &ops,
            &format!("/leads/{mine}/edit"),
            &[
                ("name", "Mine Lead"),
                ("aadhar_card", value),
                ("experience", "3 years"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{value:?}");
    }
    let (_, lead) = status_json(
        app.get(&format!("/api/driver-onboarding/leads/{mine}"), &admin)
            .await,
    )
    .await;
    assert_eq!(lead["aadhar_card"], "548249957695");
    assert_eq!(lead["experience"], "3 years");
    let master = page_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, body) = page(&app, &master, &format!("/leads/{mine}/edit")).await;
    assert!(
        body.contains(r#"value="548249957695""#),
        "master_admin edits the real number"
    );
    // a standard user reads but sees no controls to change, and may not post
    let std = format!("pulse_session={std}");
    let (status, body) = page(&app, &std, &format!("/leads/{mine}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !body.contains("Add remark") && !body.contains("/edit\"") && !body.contains("/calls\"")
    );
    let (status, _) = page(&app, &std, &format!("/leads/{mine}/edit")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = post_form(&app, &std, &format!("/leads/{mine}/call-done"), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post_form(
        &app,
        &std,
        &format!("/leads/{mine}/calls"),
        &[("outcome", "connected")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// The lead page's call outcomes: each a plain form POST answered 303 back
/// to the lead, recorded as the API's call events, shown in the timeline; a
/// telecaller only on their own leads; an unknown outcome is a 400 naming it.
async fn web_call_outcomes_on_the_lead_page(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, tc) = app
        .user_with_role(&admin, "tc.calls@pulse.example", "telecaller")
        .await;
    let tc = format!("pulse_session={tc}");
    let mine = new_lead(&app, &admin, json!({"name": "Call Me", "phone_number": "9876500031", "assigned_telecaller": "tc.calls@pulse.example"})).await;
    let other = new_lead(
        &app,
        &admin,
        json!({"name": "Not Yours", "phone_number": "9876500032"}),
    )
    .await;
    let (_, body) = page(&app, &tc, &format!("/leads/{mine}")).await;
    assert!(body.contains(r#"action="/leads/"#) && body.contains("/calls\""));
    assert!(body.contains(r#"value="no_response""#), "{body}");
    for (outcome, notice) in [
        ("called", "Call recorded."),
        ("connected", "Connected call recorded."),
        ("no_response", "No response recorded"),
    ] {
        let r = post_form(
            &app,
            &tc,
            &format!("/leads/{mine}/calls"),
            &[("outcome", outcome)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{outcome}");
        let to = r.headers()[LOCATION].to_str().unwrap().to_string();
        assert_eq!(to, format!("/leads/{mine}?done={outcome}#timeline"));
        let (status, body) = page(&app, &tc, to.trim_end_matches("#timeline")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(notice), "{outcome}: {body}");
    }
    let (_, lead) = status_json(
        app.get(&format!("/api/driver-onboarding/leads/{mine}"), &admin)
            .await,
    )
    .await;
    let outcomes: Vec<&str> = lead["calling_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["called", "connected", "no_response"]);
    assert_eq!(lead["status"], "RNR");
    assert_eq!(lead["last_called_by"], "tc.calls@pulse.example");
    // the timeline shows the three calls and the status change to RNR
    let (_, body) = page(&app, &tc, &format!("/leads/{mine}")).await;
    for text in [
        "Called · connected",
        "Called · no response",
        ">Called<",
        "RNR",
    ] {
        assert!(body.contains(text), "{text}: {body}");
    }
    assert_eq!(body.matches(r#"class="event call""#).count(), 3);
    // bad outcomes are refused with the reason, nothing recorded
    for bad in ["status_change", "hung up", ""] {
        let r = post_form(
            &app,
            &tc,
            &format!("/leads/{mine}/calls"),
            &[("outcome", bad)],
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(r.text().await.unwrap().contains("Unknown call outcome"));
    }
    // another telecaller's lead is out of reach
    let r = post_form(
        &app,
        &tc,
        &format!("/leads/{other}/calls"),
        &[("outcome", "called")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, lead) = status_json(
        app.get(
            &format!("/api/driver-onboarding/leads/{mine}/history"),
            &admin,
        )
        .await,
    )
    .await;
    assert_eq!(lead["calling_history"].as_array().unwrap().len(), 3);
}

async fn web_edit_validation_and_duplicate_phone(app: TestApp) {
    let admin = app.admin_token().await;
    let a = new_lead(
        &app,
        &admin,
        json!({"name": "Lead A", "phone_number": "9876500020"}),
    )
    .await;
    let b = new_lead(&app, &admin, json!({"name": "Lead B", "phone_number": "9876500021", "assigned_telecaller": "tc.two@pulse.example"})).await;
    let cookie = page_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let edit = format!("/leads/{a}/edit");
    let r = post_form(
        &app,
        &cookie,
        &edit,
        &[
            ("name", " "),
            ("phone_number", "12345"),
            ("end_date", "soon"),
            ("vehicle", "Auto"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    for (field, message) in [
        ("name", "A name is needed"),
        ("phone_number", "12345"),
        ("end_date", "Not a date"),
    ] {
        let at = body
            .find(&format!(r#"id="err-{field}""#))
            .unwrap_or_else(|| panic!("no error for {field}: {body}"));
        assert!(body[at..].contains(message), "{field}");
    }
    assert!(body.contains(r#"value="Auto""#), "what was typed is kept");
    let (_, lead) = status_json(
        app.get(&format!("/api/driver-onboarding/leads/{a}"), &admin)
            .await,
    )
    .await;
    assert_eq!(
        (lead["name"].as_str(), lead["vehicle"].as_str()),
        (Some("Lead A"), None),
        "nothing saved"
    );
    // a duplicate phone names the other lead, as a link, to whoever may open it
    let r = post_form(&app, &cookie, &edit, &[("phone_number", "98765 00021")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("Another lead already has this phone number"));
    assert!(body.contains(&format!(r#"href="/leads/{b}""#)), "{body}");
    // a valid change saves, moves the status with the pipeline rules and shows in the timeline
    let r = post_form(
        &app,
        &cookie,
        &edit,
        &[("status", "Highly Interested"), ("name", "Lead A2")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, body) = page(&app, &cookie, &format!("/leads/{a}?done=saved")).await;
    assert!(body.contains("Changes saved") && body.contains("Lead A2"));
    assert!(body.contains("S2 · Docs Upload Pending") && body.contains("S1 · Highly Interested"));
}

/// The lead pages take their fields from the lead field list: the two notes
/// (once missing from both pages) are shown, edited and cleared like any
/// other field, with a NUL refused beside its field.
async fn web_notes_on_the_lead_and_edit_pages(app: TestApp) {
    let admin = app.admin_token().await;
    let id = new_lead(
        &app,
        &admin,
        json!({"name": "Noted Driver", "phone_number": "9876500040",
               "telecaller_notes": "Call after 6 pm"}),
    )
    .await;
    let cookie = page_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, body) = page(&app, &cookie, &format!("/leads/{id}")).await;
    for text in [
        "Notes",
        "Telecaller notes",
        "General notes",
        "Call after 6 pm",
    ] {
        assert!(body.contains(text), "{text} on the lead page");
    }
    let edit = format!("/leads/{id}/edit");
    let (_, form) = page(&app, &cookie, &edit).await;
    assert!(
        form.contains(r#"<textarea id="e-telecaller_notes" name="telecaller_notes""#)
            && form.contains(r#"<textarea id="e-notes" name="notes""#),
        "{form}"
    );
    assert!(form.contains(">Call after 6 pm</textarea>"));
    let r = post_form(&app, &cookie, &edit, &[("notes", "bad\0note")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    let at = body
        .find(r#"id="err-notes""#)
        .expect("the error beside notes");
    assert!(body[at..].contains("NUL"));
    let r = post_form(
        &app,
        &cookie,
        &edit,
        &[("notes", "Prefers e-auto"), ("telecaller_notes", "")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, lead) = status_json(
        app.get(&format!("/api/driver-onboarding/leads/{id}"), &admin)
            .await,
    )
    .await;
    assert_eq!(lead["notes"], "Prefers e-auto");
    assert!(lead["telecaller_notes"].is_null(), "cleared: {lead}");
    let (_, body) = page(&app, &cookie, &format!("/leads/{id}?done=saved")).await;
    assert!(body.contains("Prefers e-auto") && !body.contains("Call after 6 pm"));
}

/// A search's summary and ordered ids are kept between its pages
/// (`service::workspace_cache`): every save, insert or delete — through the
/// API, as another process would — shows on the next page, a reordering is
/// its own answer, and a telecaller's same search is their own.
async fn web_kept_search_answers_follow_changes(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, tc) = app
        .user_with_role(&admin, "tc.keeper@pulse.example", "telecaller")
        .await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let owner = (i == 1).then_some("tc.keeper@pulse.example");
        ids.push(
            new_lead(
                &app,
                &admin,
                json!({"name": format!("Keeper {i}"), "phone_number": format!("98765100{i:02}"),
                       "status": "New", "assigned_telecaller": owner}),
            )
            .await,
        );
    }
    let cookie = page_login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let shows = |body: &str, want: &str| assert!(body.contains(want), "want {want:?}");
    let (_, body) = page(&app, &cookie, "/leads?search=keeper").await;
    shows(&body, "Showing 1–6 of 6");
    // the same page again is answered from what was kept, and still right
    let (_, body) = page(&app, &cookie, "/leads?search=keeper").await;
    shows(&body, "Showing 1–6 of 6");

    // a rename out of the search
    let r = app
        .patch(
            &format!("/api/driver-onboarding/leads/{}", ids[0]),
            &admin,
            json!({"name": "Renamed Person"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let (_, body) = page(&app, &cookie, "/leads?search=keeper").await;
    shows(&body, "Showing 1–5 of 5");
    assert!(!body.contains("Renamed Person"));
    // a status change moves the chips
    let r = app
        .patch(
            &format!("/api/driver-onboarding/leads/{}", ids[2]),
            &admin,
            json!({"status": "Not Reachable"}),
        )
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    let (_, body) = page(&app, &cookie, "/leads?search=keeper&status=Not+Reachable").await;
    shows(&body, "Showing 1–1 of 1");
    shows(&body, "Keeper 2");
    // a delete and an insert
    let r = crate::leads::delete(
        &app,
        &format!("/api/driver-onboarding/leads/{}", ids[3]),
        &admin,
    )
    .await;
    assert!(r.status().is_success(), "{}", r.status());
    new_lead(
        &app,
        &admin,
        json!({"name": "Keeper New", "phone_number": "9876510099", "status": "New"}),
    )
    .await;
    let (_, body) = page(&app, &cookie, "/leads?search=keeper").await;
    shows(&body, "Showing 1–5 of 5");
    shows(&body, "Keeper New");
    assert!(!body.contains(">Keeper 3<"), "the deleted lead is gone");

    // each order is its own answer
    let order = |body: &str| {
        let mut at: Vec<(usize, &str)> = ["Keeper 1", "Keeper 5", "Keeper New"]
            .into_iter()
            .map(|n| (body.find(n).unwrap_or_else(|| panic!("{n} listed")), n))
            .collect();
        at.sort();
        at.into_iter().map(|(_, n)| n).collect::<Vec<_>>()
    };
    let (_, asc) = page(&app, &cookie, "/leads?search=keeper&sort=name&dir=asc").await;
    let (_, desc) = page(&app, &cookie, "/leads?search=keeper&sort=name&dir=desc").await;
    assert_eq!(order(&asc), ["Keeper 1", "Keeper 5", "Keeper New"]);
    assert_eq!(order(&desc), ["Keeper New", "Keeper 5", "Keeper 1"]);

    // the telecaller's same search: only their own lead
    let tc = format!("pulse_session={tc}");
    let (_, body) = page(&app, &tc, "/leads?search=keeper").await;
    shows(&body, "Showing 1–1 of 1");
    shows(&body, "Keeper 1");

    // an import-date range is kept too, and follows an insert
    let range = "/leads?start_date=2000-01-01&end_date=2099-12-31";
    let (_, body) = page(&app, &cookie, range).await;
    shows(&body, "Showing 1–6 of 6");
    new_lead(
        &app,
        &admin,
        json!({"name": "Range Newcomer", "phone_number": "9876510098", "status": "New"}),
    )
    .await;
    let (_, body) = page(&app, &cookie, range).await;
    shows(&body, "Showing 1–7 of 7");
    shows(&body, "Range Newcomer");
}
