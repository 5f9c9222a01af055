//! The figures against counts the test makes itself: event rows over ten
//! IST days (the edges of IST midnight included) for three telecallers (one
//! login written in two cases), read back per telecaller per day, over
//! ranges, as the admin's summary and on the desk of a past day; status
//! changes and conversions from a bulk status change; a deleted lead's
//! events leaving the figures; the desk of a past and a future day in the
//! design's order.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, Duration, FixedOffset, NaiveDate, Utc};
use pulse::domain::{CallEvent, CallOutcome};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::leads::{API, create, delete, phone};

dual_backend_tests!(
    figures_match_counts_of_the_event_rows,
    bulk_status_and_deletes_in_the_figures,
    the_desk_of_a_past_and_a_future_day,
);

const FIGURES: &str = "/api/telecaller-desk/figures";

/// The five figures, as the test counts them.
#[derive(Default, Debug, Clone, Copy, PartialEq)]
struct Tally([i64; 5]);

impl Tally {
    fn of(v: &Value) -> Tally {
        let n = |k: &str| v[k].as_i64().unwrap_or_else(|| panic!("{k} in {v}"));
        Tally([
            n("calls_made"),
            n("connected"),
            n("no_response"),
            n("status_changes"),
            n("conversions"),
        ])
    }

    /// Counted by hand from one event: the definitions of issue 18 item 3.
    fn count(&mut self, e: &CallEvent) {
        const COMPLETIONS: [&str; 4] = ["Highly Interested", "Verified", "Approved", "DONE!"];
        match e.outcome {
            CallOutcome::Called => self.0[0] += 1,
            CallOutcome::Connected => {
                self.0[0] += 1;
                self.0[1] += 1;
            }
            CallOutcome::NoResponse => {
                self.0[0] += 1;
                self.0[2] += 1;
            }
            CallOutcome::StatusChange => {
                self.0[3] += 1;
                if COMPLETIONS.contains(&e.status.as_deref().unwrap_or("")) {
                    self.0[4] += 1;
                }
            }
        }
    }

    fn add(&mut self, o: Tally) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a += b;
        }
    }
}

fn ist_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&FixedOffset::east_opt(19_800).unwrap())
        .date_naive()
}

/// A small deterministic generator (no dependency, same rows every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const LOGINS: [&str; 4] = [
    "ravi.tc@figures.test",
    "Ravi.TC@figures.test",
    "meena.tc@figures.test",
    "root@pulse.test",
];
const STATUSES: [&str; 7] = [
    "RNR",
    "Highly Interested",
    "Call back 1D",
    "Verified",
    "Docs Upload Pending",
    "DONE!",
    "Not Interested",
];

/// Events from 2026-03-01 to 2026-03-10 (IST), plus four at the edges of
/// IST midnight between the 4th and the 5th.
fn generated_events() -> Vec<CallEvent> {
    let mut g = Lcg(18);
    let start: DateTime<Utc> = "2026-02-28T18:30:00Z".parse().unwrap(); // 03-01 00:00 IST
    let leads: Vec<Uuid> = (0..12).map(|_| Uuid::new_v4()).collect();
    let mut out = Vec::new();
    let event = |login: &str, outcome: CallOutcome, status: Option<&str>, at| CallEvent {
        id: Uuid::new_v4(),
        lead_id: leads[out_len(&at) % leads.len()],
        actor_id: Uuid::new_v4(),
        actor_login: login.to_owned(),
        outcome,
        status: status.map(str::to_owned),
        at,
    };
    for _ in 0..400 {
        let at = start + Duration::milliseconds(g.next(10 * 86_400_000) as i64);
        let login = LOGINS[g.next(4) as usize];
        let (outcome, status) = match g.next(4) {
            0 => (CallOutcome::Called, None),
            1 => (CallOutcome::Connected, None),
            2 => (CallOutcome::NoResponse, Some("RNR")),
            _ => (
                CallOutcome::StatusChange,
                Some(STATUSES[g.next(STATUSES.len() as u64) as usize]),
            ),
        };
        out.push(event(login, outcome, status, at));
    }
    for at in [
        "2026-03-04T18:29:59.999Z", // 03-04 23:59:59.999 IST
        "2026-03-04T18:30:00.000Z", // 03-05 00:00 IST
    ] {
        let at: DateTime<Utc> = at.parse().unwrap();
        out.push(event(LOGINS[0], CallOutcome::Connected, None, at));
        out.push(event(
            LOGINS[1],
            CallOutcome::StatusChange,
            Some("Approved"),
            at,
        ));
    }
    out
}

fn out_len(at: &DateTime<Utc>) -> usize {
    at.timestamp_subsec_millis() as usize
}

/// login (lower-cased) → IST day → tally.
type Expected = BTreeMap<String, BTreeMap<NaiveDate, Tally>>;

fn expected(events: &[CallEvent], from: NaiveDate, to: NaiveDate) -> Expected {
    let mut out = Expected::new();
    for e in events {
        let day = ist_day(e.at);
        if day < from || day > to {
            continue;
        }
        out.entry(e.actor_login.to_lowercase())
            .or_default()
            .entry(day)
            .or_default()
            .count(e);
    }
    out
}

fn total(days: &BTreeMap<NaiveDate, Tally>) -> Tally {
    let mut t = Tally::default();
    for d in days.values() {
        t.add(*d);
    }
    t
}

/// The answer's telecallers as the test's shape.
fn answered(f: &Value) -> Expected {
    let mut out = Expected::new();
    for t in f["telecallers"].as_array().unwrap() {
        let login = t["telecaller"].as_str().unwrap().to_owned();
        let days: BTreeMap<NaiveDate, Tally> = t["days"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(d, v)| (d.parse().unwrap(), Tally::of(v)))
            .collect();
        assert_eq!(Tally::of(&t["totals"]), total(&days), "{login}: {f}");
        out.insert(login, days);
    }
    out
}

/// Today's figures of every actor, their totals only.
async fn totals(app: &TestApp, token: &str) -> BTreeMap<String, Tally> {
    let (_, f) = get(app, token, FIGURES).await;
    answered(&f)
        .into_iter()
        .map(|(k, days)| (k, total(&days)))
        .collect()
}

async fn get(app: &TestApp, t: &str, path: &str) -> (StatusCode, Value) {
    status_json(app.get(path, t).await).await
}

async fn figures_match_counts_of_the_event_rows(app: TestApp) {
    let admin = app.admin_token().await;
    let (_, ravi) = app
        .user_with_role(&admin, "ravi.tc@figures.test", "telecaller")
        .await;
    let events = generated_events();
    app.state.store.record_events(&events).await.unwrap();
    let d = |s: &str| -> NaiveDate { s.parse().unwrap() };

    // the admin's summary over ranges: every telecaller, every day
    for (from, to) in [
        ("2026-03-01", "2026-03-10"),
        ("2026-03-02", "2026-03-08"),
        ("2026-03-05", "2026-03-05"),
        ("2026-02-20", "2026-02-28"),
    ] {
        let (s, f) = get(
            &app,
            &admin,
            &format!("{FIGURES}?start_date={from}&end_date={to}"),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{f}");
        let want = expected(&events, d(from), d(to));
        if from == "2026-03-01" {
            assert_eq!(want.len(), 3, "the generated rows cover every login");
        }
        assert_eq!(answered(&f), want, "{from}..{to}");
        let mut all = Tally::default();
        for days in want.values() {
            all.add(total(days));
        }
        assert_eq!(Tally::of(&f["totals"]), all, "{from}..{to}");
    }

    // one telecaller (either spelling of the login), each day alone
    for day in (1..=10).map(|n| d(&format!("2026-03-{n:02}"))) {
        let (_, f) = get(
            &app,
            &admin,
            &format!("{FIGURES}?telecaller=RAVI.tc@figures.test&start_date={day}&end_date={day}"),
        )
        .await;
        let want = expected(&events, day, day)
            .remove("ravi.tc@figures.test")
            .unwrap_or_default();
        assert_eq!(f["telecallers"].as_array().unwrap().len(), 1, "{f}");
        assert_eq!(Tally::of(&f["totals"]), total(&want), "{day}: {f}");
        assert_eq!(answered(&f)["ravi.tc@figures.test"], want, "{day}");
    }

    // (the per-day answers above include the four events at the edges of
    // IST midnight: one millisecond apart, on the 4th and on the 5th)

    // the telecaller's own figures and their desk of a past day
    let (s, f) = get(
        &app,
        &ravi,
        &format!("{FIGURES}?start_date=2026-03-01&end_date=2026-03-10"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let mine = expected(&events, d("2026-03-01"), d("2026-03-10"))
        .remove("ravi.tc@figures.test")
        .unwrap();
    assert_eq!(
        answered(&f),
        Expected::from([("ravi.tc@figures.test".into(), mine.clone())])
    );
    let (_, desk) = get(
        &app,
        &ravi,
        &format!("{API}/telecaller-desk?date=2026-03-05"),
    )
    .await;
    assert_eq!(
        Tally::of(&desk["figures"]),
        mine.get(&d("2026-03-05")).copied().unwrap_or_default()
    );

    // bad ranges
    for q in [
        "start_date=2026-03-05&end_date=2026-03-04",
        "start_date=2025-03-01&end_date=2026-03-02",
        "start_date=2026-02-30",
    ] {
        let (s, b) = get(&app, &admin, &format!("{FIGURES}?{q}")).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{q}: {b}");
    }
}

async fn bulk_status_and_deletes_in_the_figures(app: TestApp) {
    let admin = app.admin_token().await;
    const TC: &str = "del.tc@figures.test";
    let (_, tc) = app.user_with_role(&admin, TC, "telecaller").await;
    let mut ids = Vec::new();
    for i in 0..4u32 {
        let l = create(
            &app,
            &admin,
            json!({"name": format!("F{i}"), "phone_number": phone(300 + i), "assigned_telecaller": TC}),
        )
        .await;
        ids.push(l["id"].as_str().unwrap().to_string());
    }
    // admin: three leads to Verified (a completion: they move on to S3)
    let (s, b) = status_json(
        app.patch(
            &format!("{API}/leads/bulk-update-status"),
            &admin,
            json!({"lead_ids": &ids[..3], "status": "Verified"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    // the telecaller: two calls on each lead, a no response on the last
    for id in &ids {
        for path in ["mark-called", "mark-connected"] {
            let r = app
                .post(&format!("{API}/leads/{id}/{path}"), &tc, json!({}))
                .await;
            assert_eq!(r.status(), StatusCode::OK);
        }
    }
    let r = app
        .post(
            &format!("{API}/leads/{}/mark-no-response", ids[3]),
            &tc,
            json!({}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let want = BTreeMap::from([
        ("root@pulse.test".to_owned(), Tally([0, 0, 0, 3, 3])),
        (TC.to_owned(), Tally([9, 4, 1, 1, 0])),
    ]);
    assert_eq!(totals(&app, &admin).await, want);

    // a deleted lead's events go with it: its calls leave the figures
    let r = delete(&app, &format!("{API}/leads/{}", ids[0]), &admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    let id0: Uuid = ids[0].parse().unwrap();
    assert!(
        app.state
            .store
            .lead_events(&[id0])
            .await
            .unwrap()
            .is_empty()
    );
    let want = BTreeMap::from([
        ("root@pulse.test".to_owned(), Tally([0, 0, 0, 2, 2])),
        (TC.to_owned(), Tally([7, 3, 1, 1, 0])),
    ]);
    assert_eq!(totals(&app, &admin).await, want);
    let (s, _) = status_json(
        app.post(
            &format!("{API}/leads/bulk-delete"),
            &admin,
            json!({"lead_ids": [&ids[3]]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let want = BTreeMap::from([
        ("root@pulse.test".to_owned(), Tally([0, 0, 0, 2, 2])),
        (TC.to_owned(), Tally([4, 2, 0, 0, 0])),
    ]);
    assert_eq!(totals(&app, &admin).await, want);
    // the others keep theirs
    let (_, h) = get(&app, &admin, &format!("{API}/leads/{}/history", ids[1])).await;
    assert_eq!(h["calling_history"].as_array().unwrap().len(), 2, "{h}");
}

/// The desk of any IST day: assigned that day, callbacks due that day,
/// overdue before it; uncalled first, then the longest-ago called.
async fn the_desk_of_a_past_and_a_future_day(app: TestApp) {
    let admin = app.admin_token().await;
    const TC: &str = "desk.tc@figures.test";
    let (_, tc) = app.user_with_role(&admin, TC, "telecaller").await;
    let today = {
        let ist = FixedOffset::east_opt(19_800).unwrap();
        Utc::now().with_timezone(&ist).date_naive()
    };
    let past = today.checked_sub_days(Days::new(3)).unwrap();
    let future = today.checked_add_days(Days::new(10)).unwrap();
    let mut ids = Vec::new();
    for i in 0..6u32 {
        let l = create(
            &app,
            &admin,
            json!({"name": format!("K{i}"), "phone_number": phone(400 + i)}),
        )
        .await;
        ids.push(l["id"].as_str().unwrap().to_string());
    }
    // 0–2 assigned three days ago, 3–5 today
    for (part, date) in [(&ids[..3], past), (&ids[3..], today)] {
        let (s, b) = status_json(
            app.patch(
                &format!("{API}/bulk-assign"),
                &admin,
                json!({"lead_ids": part, "telecaller": TC, "assigned_date": date.to_string()}),
            )
            .await,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    // calls on 2 then 0 (1 stays uncalled); callbacks: 3 on the future
    // day, 4 the day before it
    for i in [2usize, 0] {
        let r = app
            .post(
                &format!("{API}/leads/{}/mark-called", ids[i]),
                &tc,
                json!({}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    for (i, date) in [
        (3usize, future),
        (4, future.checked_sub_days(Days::new(1)).unwrap()),
    ] {
        let (s, b) = status_json(
            app.patch(
                &format!("{API}/leads/{}", ids[i]),
                &tc,
                json!({"callback_date": date.to_string()}),
            )
            .await,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
    }
    let ids_of = |list: &Value| -> Vec<String> {
        list["leads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (s, desk) = get(&app, &tc, &format!("{API}/telecaller-desk?date={past}")).await;
    assert_eq!(s, StatusCode::OK, "{desk}");
    assert_eq!(desk["date"], past.to_string());
    assert_eq!(desk["today"]["total"], 3);
    assert_eq!(
        ids_of(&desk["today"]),
        vec![ids[1].clone(), ids[2].clone(), ids[0].clone()],
        "uncalled first, then the longest-ago called"
    );
    assert_eq!(
        (
            desk["callbacks_due"]["total"].as_i64(),
            desk["overdue"]["total"].as_i64()
        ),
        (Some(0), Some(0))
    );
    let (_, desk) = get(&app, &tc, &format!("{API}/telecaller-desk?date={today}")).await;
    assert_eq!(desk["today"]["total"], 3);
    let (_, desk) = get(
        &app,
        &admin,
        &format!("{API}/telecaller-desk?telecaller={TC}&date={future}"),
    )
    .await;
    assert_eq!(desk["today"]["total"], 0);
    assert_eq!(ids_of(&desk["callbacks_due"]), vec![ids[3].clone()]);
    assert_eq!(ids_of(&desk["overdue"]), vec![ids[4].clone()]);
    // every lead of theirs, in the same order: the four uncalled, then 2, 0
    let all = ids_of(&desk["leads"]);
    assert_eq!(all.len(), 6);
    assert_eq!(all[4..], [ids[2].clone(), ids[0].clone()]);
}
