//! The leads workspace's bulk actions and the Bulk Export button over HTTP
//! (no browser): filter-wide actions answered and audited with their
//! filter, the one-time download that holds its permit, the export job for
//! a large export, a busy server, and who may do what. The browser stories
//! are in `tests/browser/bulk.rs`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::leads::{API, create, phone};

dual_backend_tests!(
    mod web_bulk_default with &[];
    web_bulk_filter_wide_and_ticked_actions,
    web_bulk_permissions,
    web_bulk_past_ten_thousand_runs_as_a_job,
);

dual_backend_tests!(
    mod web_export_small_threshold with &[("PULSE_EXPORT_JOB_THRESHOLD", "5"), ("PULSE_EXPORT_CONCURRENCY", "1")];
    web_export_download_ticket_job_and_busy,
);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A page form post as the holder of `token` (pages take the bearer token
/// as they take the cookie); same-origin as a browser would say.
async fn form(
    app: &TestApp,
    token: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(app.url(path))
        .bearer_auth(token)
        .header("origin", &app.base)
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn page(app: &TestApp, token: &str, path: &str) -> (StatusCode, String) {
    let r = client()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The notice a redirect carries (decoded), and where it goes.
fn notice(r: &reqwest::Response) -> (String, String) {
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    let cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("pulse_notice="))
        .expect("a notice")
        .to_string();
    let raw = cookie
        .trim_start_matches("pulse_notice=")
        .split(';')
        .next()
        .unwrap();
    let text = percent_decode(&raw[1..]);
    (
        to,
        format!(
            "{}{text}",
            if raw.starts_with('e') { "error: " } else { "" }
        ),
    )
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

async fn total(app: &TestApp, token: &str, query: &str) -> i64 {
    let (s, v) = status_json(
        app.get(&format!("{API}/leads?limit=1&{query}"), token)
            .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["total"].as_i64().unwrap()
}

async fn leads(app: &TestApp, token: &str, n: u32, from: u32, source: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for i in from..from + n {
        let l = create(
            app,
            token,
            json!({"name": format!("Bulk {i}"), "phone_number": phone(i), "source": source}),
        )
        .await;
        ids.push(l["id"].as_str().unwrap().to_string());
    }
    ids
}

async fn web_bulk_filter_wide_and_ticked_actions(app: TestApp) {
    let admin = app.admin_token().await;
    app.user_with_role(&admin, "tc@x.test", "telecaller").await;
    app.user_with_role(&admin, "ops@x.test", "ops_team").await;
    let a = leads(&app, &admin, 7, 0, "Fair A").await;
    leads(&app, &admin, 3, 100, "Fair B").await;

    // the page offers active telecallers only, by name
    let (s, html) = page(&app, &admin, "/leads").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(r#"<option value="tc@x.test">"#),
        "telecaller list"
    );
    assert!(
        !html.contains(r#"<option value="ops@x.test">"#),
        "not a telecaller"
    );

    // every lead the filter matches when the form arrives, not only the page
    let r = form(
        &app,
        &admin,
        "/leads/bulk",
        &[
            ("source", "Fair A"),
            ("scope", "matching"),
            ("action", "assign"),
            ("telecaller", "tc@x.test"),
            ("assigned_date", "2026-03-04"),
        ],
    )
    .await;
    let (to, text) = notice(&r);
    assert_eq!(to, "/leads?source=Fair%20A");
    assert_eq!(text, "7 assigned");
    assert_eq!(total(&app, &admin, "telecaller=tc@x.test").await, 7);
    let (_, lead) = status_json(app.get(&format!("{API}/leads/{}", a[0]), &admin).await).await;
    assert_eq!(
        lead["assigned_date"].as_str().unwrap_or_default()[..10],
        *"2026-03-04"
    );
    // again: nothing changes, and it says so
    let r = form(
        &app,
        &admin,
        "/leads/bulk",
        &[
            ("source", "Fair A"),
            ("scope", "matching"),
            ("action", "assign"),
            ("telecaller", "tc@x.test"),
            ("assigned_date", "2026-03-04"),
        ],
    )
    .await;
    assert_eq!(notice(&r).1, "0 assigned, 7 already so");
    // a login that is no active telecaller is refused, naming it; nothing changes
    let r = form(
        &app,
        &admin,
        "/leads/bulk",
        &[
            ("scope", "matching"),
            ("action", "assign"),
            ("telecaller", "ops@x.test"),
        ],
    )
    .await;
    let text = notice(&r).1;
    assert!(
        text.starts_with("error: ") && text.contains("ops@x.test"),
        "{text}"
    );
    assert_eq!(total(&app, &admin, "telecaller=ops@x.test").await, 0);

    // ticked rows: one id that names nothing is reported, the rest done
    let bogus = uuid::Uuid::new_v4().to_string();
    let r = form(
        &app,
        &admin,
        "/leads/bulk",
        &[
            ("lead_id", &a[0]),
            ("lead_id", &a[1]),
            ("lead_id", &bogus),
            ("action", "unassign"),
        ],
    )
    .await;
    assert_eq!(
        notice(&r).1,
        "2 unassigned, 1 not found (deleted meanwhile or not yours)"
    );
    assert_eq!(total(&app, &admin, "telecaller=tc@x.test").await, 5);
    // nothing ticked
    let r = form(&app, &admin, "/leads/bulk", &[("action", "unassign")]).await;
    assert!(notice(&r).1.starts_with("error: No leads were selected"));

    // status over a filter; the counts follow
    let r = form(
        &app,
        &admin,
        "/leads/bulk",
        &[
            ("source", "Fair B"),
            ("scope", "matching"),
            ("action", "status"),
            ("status", "Verified"),
        ],
    )
    .await;
    assert_eq!(notice(&r).1, "3 set to Verified");
    assert_eq!(
        total(&app, &admin, "stage=S3").await,
        3,
        "Verified moves on to S3"
    );
    let r = form(
        &app,
        &admin,
        "/leads/bulk",
        &[
            ("scope", "matching"),
            ("action", "status"),
            ("status", "No such status"),
        ],
    )
    .await;
    assert!(
        notice(&r).1.starts_with("error: "),
        "a bad status is refused"
    );

    // inline status of one row
    let r = form(
        &app,
        &admin,
        &format!("/leads/{}/status", a[2]),
        &[("status", "RNR"), ("back", "/leads?source=Fair%20A")],
    )
    .await;
    let (to, text) = notice(&r);
    assert_eq!(to, "/leads?source=Fair%20A");
    assert!(text.ends_with("status RNR (S1)"), "{text}");
    assert_eq!(total(&app, &admin, "status=RNR").await, 1);

    // delete asks first (the page without the script), stating the count
    let r = form(
        &app,
        &admin,
        "/leads/bulk",
        &[
            ("source", "Fair A"),
            ("scope", "matching"),
            ("action", "delete"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("Delete 7 leads?"), "{html}");
    assert_eq!(
        total(&app, &admin, "source=Fair A").await,
        7,
        "nothing deleted yet"
    );
    let r = form(
        &app,
        &admin,
        "/leads/bulk",
        &[
            ("source", "Fair A"),
            ("scope", "matching"),
            ("action", "delete"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(notice(&r).1, "7 deleted");
    assert_eq!(total(&app, &admin, "").await, 3);
    // audited with the filter
    let (_, log) = status_json(app.get("/api/audit?action=leads.bulk_filter", &admin).await).await;
    let entries = log["entries"]
        .as_array()
        .or(log.as_array())
        .cloned()
        .unwrap_or_default();
    let del = entries
        .iter()
        .find(|e| e["details"]["action"] == "delete")
        .unwrap_or_else(|| panic!("no audit entry: {log}"));
    assert_eq!(del["details"]["filters"]["source"], "Fair A");
    assert_eq!(del["details"]["matched"], 7);
}

async fn web_bulk_permissions(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, tc) = app.user_with_role(&admin, "tc@x.test", "telecaller").await;
    let (_, ops) = app.user_with_role(&admin, "ops@x.test", "ops_team").await;
    let ids = leads(&app, &admin, 4, 0, "Perm").await;
    form(
        &app,
        &admin,
        "/leads/bulk",
        &[
            ("lead_id", &ids[0]),
            ("lead_id", &ids[1]),
            ("action", "assign"),
            ("telecaller", "tc@x.test"),
        ],
    )
    .await;

    // a telecaller: no assign, delete or export controls, and the server refuses them too
    let (_, html) = page(&app, &tc, "/leads").await;
    assert!(!html.contains("Bulk Export"));
    assert!(!html.contains(r#"id="b-assign""#) && !html.contains(r#"id="b-delete""#));
    assert!(
        html.contains(r#"id="b-status-go""#),
        "a telecaller may set statuses of own leads"
    );
    for action in ["assign", "unassign", "delete"] {
        let r = form(
            &app,
            &tc,
            "/leads/bulk",
            &[
                ("scope", "matching"),
                ("action", action),
                ("telecaller", "tc@x.test"),
                ("confirm", "yes"),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let r = form(&app, &tc, "/leads/export", &[("format", "csv")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // "all matching" for a telecaller is all of their own, nothing else
    let r = form(
        &app,
        &tc,
        "/leads/bulk",
        &[
            ("scope", "matching"),
            ("action", "status"),
            ("status", "RNR"),
        ],
    )
    .await;
    assert_eq!(notice(&r).1, "2 set to RNR");
    assert_eq!(total(&app, &admin, "status=RNR").await, 2);
    // someone else's lead, ticked by id: not found, unchanged
    let r = form(
        &app,
        &tc,
        "/leads/bulk",
        &[
            ("lead_id", &ids[3]),
            ("action", "status"),
            ("status", "Junk"),
        ],
    )
    .await;
    assert_eq!(
        notice(&r).1,
        "0 set to Junk, 1 not found (deleted meanwhile or not yours)"
    );
    let r = form(
        &app,
        &tc,
        &format!("/leads/{}/status", ids[3]),
        &[("status", "Junk")],
    )
    .await;
    assert!(notice(&r).1.starts_with("error: "));
    assert_eq!(total(&app, &admin, "status=Junk").await, 0);

    // ops may assign and export, not delete
    let (_, html) = page(&app, &ops, "/leads").await;
    assert!(html.contains("Bulk Export") && html.contains(r#"id="b-assign""#));
    assert!(!html.contains(r#"id="b-delete""#));
    let r = form(
        &app,
        &ops,
        "/leads/bulk",
        &[
            ("lead_id", &ids[3]),
            ("action", "delete"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(total(&app, &admin, "").await, 4);
}

async fn prepare(
    app: &TestApp,
    token: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, Value, Option<String>) {
    let r = client()
        .post(app.url("/leads/export"))
        .bearer_auth(token)
        .header("origin", &app.base)
        .header("accept", "application/json")
        .form(fields)
        .send()
        .await
        .unwrap();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null), retry)
}

async fn web_export_download_ticket_job_and_busy(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, ops) = app.user_with_role(&admin, "ops@x.test", "ops_team").await;
    leads(&app, &admin, 4, 0, "Small").await;
    leads(&app, &admin, 6, 50, "Large").await;

    // small (4 ≤ 5): a one-time URL; the file has the chooser's columns and every row
    let (s, v, _) = prepare(
        &app,
        &ops,
        &[
            ("source", "Small"),
            ("format", "csv"),
            ("columns", "name,phone_number,status"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 4);
    let url = v["download"].as_str().unwrap().to_string();
    assert!(url.starts_with("/exports/download/"));
    // the ticket holds the only permit: another export is busy, with a retry delay
    let started = Instant::now();
    let (s, v, retry) = prepare(&app, &admin, &[("source", "Small"), ("format", "csv")]).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "waited for a permit first"
    );
    assert!(v["detail"].as_str().unwrap().contains("busy"), "{v}");
    assert_eq!(retry.as_deref(), Some("2"));
    assert_eq!(v["retry_after"], 2);
    // another user cannot use the link — and it is then spent
    let r = client()
        .get(app.url(&url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    let (s, v, _) = prepare(
        &app,
        &ops,
        &[
            ("source", "Small"),
            ("format", "csv"),
            ("columns", "name,phone_number,status"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "the spent ticket freed its permit: {v}");
    let url = v["download"].as_str().unwrap().to_string();
    let r = client()
        .get(app.url(&url))
        .bearer_auth(&ops)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-total-leads"], "4");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let csv = r.text().await.unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap().trim_start_matches('\u{feff}');
    assert_eq!(header.split(',').count(), 3, "{header}");
    assert_eq!(lines.count(), 4);
    let r = client()
        .get(app.url(&url))
        .bearer_auth(&ops)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE, "one-time");

    // large (10 > 5): a job, followed to its file
    let (s, v, _) = prepare(
        &app,
        &ops,
        &[("format", "xlsx"), ("columns", "name,phone_number")],
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["total"], 10);
    let job = v["job"].as_str().unwrap().to_string();
    assert_eq!(v["events"], format!("/api/exports/{job}/events"));
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let (_, j) = status_json(app.get(&format!("/api/exports/{job}"), &ops).await).await;
        if j["status"] == "done" {
            break j;
        }
        assert!(j["status"] == "queued" || j["status"] == "running", "{j}");
        assert!(Instant::now() < deadline, "job never finished: {j}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["rows_done"], 10);
    assert_eq!(done["columns"], json!(["name", "phone_number"]));
    // the Exports page lists it with its download; another ops user's page does not
    let (s, html) = page(&app, &ops, "/exports").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!(r#"href="/api/exports/{job}/download""#)));
    assert!(html.contains("status-done"));
    let (_, other) = app.user_with_role(&admin, "ops2@x.test", "ops_team").await;
    let (_, html) = page(&app, &other, "/exports").await;
    assert!(!html.contains(&job));
    // a telecaller has no Exports page
    let (_, tc) = app.user_with_role(&admin, "tc@x.test", "telecaller").await;
    let (s, _) = page(&app, &tc, "/exports").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // without the page's script the form posts plainly: 303 to the download, or to the Exports page
    let r = form(
        &app,
        &ops,
        "/leads/export",
        &[("source", "Small"), ("format", "csv")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(to.starts_with("/exports/download/"), "{to}");
    let r = client()
        .get(app.url(&to))
        .bearer_auth(&ops)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-total-leads"], "4");
    r.bytes().await.unwrap();
    let r = form(&app, &ops, "/leads/export", &[("format", "csv")]).await;
    let (to, text) = notice(&r);
    assert_eq!(to, "/exports");
    assert!(text.starts_with("10 leads are being exported"), "{text}");
    // bad input is said, not half-done
    let (s, v, _) = prepare(&app, &ops, &[("format", "pdf")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("xlsx or csv"), "{v}");
}

/// `n` leads of `source` in one import (the synchronous importer: fast).
async fn import_leads(app: &TestApp, token: &str, n: u64, source: &str) {
    let mut csv = b"name,phone\n".to_vec();
    for i in 0..n {
        csv.extend(format!("Big {i},{}\n", 7_000_000_000 + i).as_bytes());
    }
    let (status, answer, _) =
        crate::import_support::upload(app, token, &[("lead_source", source)], "big.csv", &csv)
            .await;
    assert!(status.is_success(), "{status} {answer}");
}

/// A filter-wide action over more than 10,000 leads (the default
/// `PULSE_BULK_JOB_THRESHOLD`) becomes a `bulk_leads` job: the form
/// answers with its page, the page shows progress and then the counts,
/// every lead is changed, and the audit names the filter with the counts.
async fn web_bulk_past_ten_thousand_runs_as_a_job(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, ops) = app.user_with_role(&admin, "ops@x.test", "ops_team").await;
    import_leads(&app, &admin, 10_050, "Big Fair").await;
    leads(&app, &admin, 3, 900, "Small").await;
    assert_eq!(total(&app, &admin, "source=Big Fair").await, 10_050);

    // a role that may not delete cannot queue a delete job: refused, nothing queued
    let r = form(
        &app,
        &ops,
        "/leads/bulk",
        &[
            ("source", "Big Fair"),
            ("scope", "matching"),
            ("action", "delete"),
            ("confirm", "yes"),
        ],
    )
    .await;
    assert_ne!(r.status(), StatusCode::SEE_OTHER, "refused, not redirected");
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(total(&app, &admin, "source=Big Fair").await, 10_050);
    // bad input is refused at once, beside the form, and queues nothing
    let r = form(
        &app,
        &admin,
        "/leads/bulk",
        &[
            ("source", "Big Fair"),
            ("scope", "matching"),
            ("action", "status"),
            ("status", "No Such Status"),
        ],
    )
    .await;
    assert!(notice(&r).1.starts_with("error: "), "{:?}", notice(&r));

    // the status change runs as a job
    let r = form(
        &app,
        &admin,
        "/leads/bulk",
        &[
            ("source", "Big Fair"),
            ("scope", "matching"),
            ("action", "status"),
            ("status", "Junk"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(to.starts_with("/leads/bulk/jobs/"), "{to}");
    let job_id = to.trim_start_matches("/leads/bulk/jobs/").to_string();
    let (s, html) = page(&app, &admin, &to).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Status change to Junk"), "{html}");
    assert!(html.contains("10,050 leads matched"), "{html}");
    // the owner's page, not another user's
    let (s, _) = page(&app, &ops, &to).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let started = Instant::now();
    let html = loop {
        let (_, html) = page(&app, &admin, &to).await;
        if html.contains(r#"data-status="done""#) || html.contains(r#"data-status="failed""#) {
            break html;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the job did not end: {html}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(html.contains(r#"data-status="done""#), "{html}");
    assert!(html.contains("10,050 set to Junk"), "{html}");
    assert!(!html.contains("hx-trigger"), "a done job stops polling");
    assert_eq!(
        total(&app, &admin, "source=Big Fair&status=Junk").await,
        10_050
    );
    assert_eq!(total(&app, &admin, "source=Small&status=Junk").await, 0);
    // audited once, with the filter and the final counts
    let (_, log) = status_json(app.get("/api/audit?action=leads.bulk_filter", &admin).await).await;
    let entries = log["entries"]
        .as_array()
        .or(log.as_array())
        .cloned()
        .unwrap_or_default();
    let of_job: Vec<&Value> = entries
        .iter()
        .filter(|e| e["details"]["job_id"] == job_id.as_str())
        .collect();
    assert_eq!(of_job.len(), 1, "{log}");
    let d = &of_job[0]["details"];
    assert_eq!(d["action"], "status");
    assert_eq!(d["filters"]["source"], "Big Fair");
    assert_eq!(d["matched"], 10_050);
    assert_eq!(d["changed"], 10_050);
    assert_eq!(d["unchanged"], 0);
    assert_eq!(of_job[0]["actor_email"], crate::helpers::ADMIN_EMAIL);
}
