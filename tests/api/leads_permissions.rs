//! DESIGN §2 for leads: every endpoint × each of the five roles, the
//! telecaller's own-only scope (404, never 403) and document masking.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::dual_backend_tests;
use crate::helpers::{TestApp, status_json};
use crate::leads::{API, create, get_lead, phone};

dual_backend_tests!(
    every_endpoint_for_every_role,
    telecallers_see_only_their_leads,
    documents_are_masked_for_all_but_master_admin,
);

const TC: &str = "tc@perm.test";
const ROLES: [&str; 5] = [
    "master_admin",
    "admin",
    "ops_team",
    "telecaller",
    "standard",
];

/// A token per role, in [`ROLES`] order.
async fn tokens(app: &TestApp) -> Vec<String> {
    let master = app.admin_token().await;
    let mut out = vec![master.clone()];
    for role in &ROLES[1..] {
        let email = if *role == "telecaller" {
            TC.to_string()
        } else {
            format!("{role}@perm.test")
        };
        out.push(app.user_with_role(&master, &email, role).await.1);
    }
    out
}

async fn every_endpoint_for_every_role(app: TestApp) {
    let tokens = tokens(&app).await;
    let master = tokens[0].clone();
    // (method, path, body, expected for master_admin, admin, ops_team, telecaller, standard);
    // {own} is a lead assigned to the telecaller, {other} one that is not
    const OK: u16 = 200;
    const NEW: u16 = 201;
    const NO: u16 = 403;
    const GONE: u16 = 404;
    let cases: Vec<(&str, &str, Value, [u16; 5])> = vec![
        ("GET", "/leads", json!(null), [OK, OK, OK, OK, OK]),
        ("GET", "/leads/{own}", json!(null), [OK, OK, OK, OK, OK]),
        ("GET", "/leads/{other}", json!(null), [OK, OK, OK, GONE, OK]),
        (
            "POST",
            "/leads",
            json!({"name": "N", "phone_number": "{phone}"}),
            [NEW, NEW, NEW, NEW, NO],
        ),
        (
            "POST",
            "/create-lead",
            json!({"name": "N", "phone_number": "{phone}"}),
            // the original's 200 on its path
            [OK, OK, OK, OK, NO],
        ),
        (
            "PATCH",
            "/leads/{own}",
            json!({"remarks": "r"}),
            [OK, OK, OK, OK, NO],
        ),
        (
            "PATCH",
            "/leads/{other}",
            json!({"remarks": "r"}),
            [OK, OK, OK, GONE, NO],
        ),
        (
            "PATCH",
            "/leads/{own}",
            // {own} is TC's already: the unchanged assignment the original frontend sends
            // with every save is no assignment, so the telecaller may send it too (a changed
            // one is refused to them: compat.rs)
            json!({"assigned_telecaller": TC}),
            [OK, OK, OK, OK, NO],
        ),
        ("DELETE", "/leads/{own}", json!(null), [OK, OK, NO, NO, NO]),
        (
            "PATCH",
            "/bulk-assign",
            json!({"lead_ids": ["{other}"], "telecaller": TC}),
            [OK, OK, OK, NO, NO],
        ),
        (
            "POST",
            "/leads/{own}/unassign",
            json!({}),
            [OK, OK, OK, NO, NO],
        ),
        (
            "PATCH",
            "/reassign-date",
            json!({"lead_ids": ["{own}"], "new_date": "2026-01-01"}),
            [OK, OK, OK, NO, NO],
        ),
        (
            "PATCH",
            "/leads/bulk-update-status",
            json!({"lead_ids": ["{own}"], "status": "RNR"}),
            [OK, OK, OK, OK, NO],
        ),
        (
            "POST",
            "/leads/bulk-delete",
            json!({"lead_ids": ["{own}"]}),
            [OK, OK, NO, NO, NO],
        ),
        (
            "POST",
            "/leads/{own}/call-done",
            json!({}),
            [OK, OK, OK, OK, NO],
        ),
        (
            "POST",
            "/leads/{other}/call-done",
            json!({}),
            [OK, OK, OK, GONE, NO],
        ),
        (
            "POST",
            "/leads/{own}/remarks",
            json!({"remark": "hi"}),
            [OK, OK, OK, OK, NO],
        ),
        (
            "POST",
            "/leads/{other}/remarks",
            json!({"remark": "hi"}),
            [OK, OK, OK, GONE, NO],
        ),
        (
            "GET",
            "/leads/{own}/remarks",
            json!(null),
            [OK, OK, OK, OK, OK],
        ),
        (
            "GET",
            "/leads/{other}/remarks",
            json!(null),
            [OK, OK, OK, GONE, OK],
        ),
        ("GET", "/status-summary", json!(null), [OK, OK, OK, OK, OK]),
        ("GET", "/sources", json!(null), [OK, OK, OK, OK, OK]),
        (
            "POST",
            "/sources/merge",
            json!({"from": ["a"], "to": "b"}),
            [OK, OK, NO, NO, NO],
        ),
        (
            "GET",
            "/telecaller-summary?telecaller=tc@perm.test",
            json!(null),
            [OK, OK, OK, OK, NO],
        ),
        (
            "GET",
            "/telecaller-desk?telecaller=tc@perm.test",
            json!(null),
            [OK, OK, OK, OK, NO],
        ),
        (
            "GET",
            "/telecaller-desk?telecaller=someone@else",
            json!(null),
            [OK, OK, OK, GONE, NO],
        ),
    ];
    let mut n = 0u32;
    for (method, path, body, expected) in &cases {
        for (r, role) in ROLES.iter().enumerate() {
            // fresh leads for every call, so destructive cases do not interfere
            n += 2;
            let own = create(
                &app,
                &master,
                json!({"name": "Own", "phone_number": phone(n), "assigned_telecaller": TC}),
            )
            .await;
            let other = create(
                &app,
                &master,
                json!({"name": "Other", "phone_number": phone(n + 1)}),
            )
            .await;
            let fill = |s: &str| {
                s.replace("{own}", own["id"].as_str().unwrap())
                    .replace("{other}", other["id"].as_str().unwrap())
                    .replace("{phone}", &phone(100_000 + n))
            };
            let url = app.url(&format!("{API}{}", fill(path)));
            let mut req = match *method {
                "GET" => app.client.get(&url),
                "POST" => app.client.post(&url),
                "PATCH" => app.client.patch(&url),
                "DELETE" => app.client.delete(&url),
                m => panic!("method {m}"),
            };
            if !body.is_null() {
                let body: Value = serde_json::from_str(&fill(&body.to_string())).unwrap();
                req = req.json(&body);
            }
            let resp = req.bearer_auth(&tokens[r]).send().await.unwrap();
            let (status, answer) = status_json(resp).await;
            assert_eq!(
                status.as_u16(),
                expected[r],
                "{method} {path} as {role}: {answer}"
            );
            if status.is_client_error() {
                // refused means untouched
                assert_eq!(
                    get_lead(&app, &master, own["id"].as_str().unwrap()).await.1,
                    own
                );
                assert_eq!(
                    get_lead(&app, &master, other["id"].as_str().unwrap())
                        .await
                        .1,
                    other
                );
            }
        }
    }
    // no token at all
    let r = app
        .client
        .get(app.url(&format!("{API}/leads")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn telecallers_see_only_their_leads(app: TestApp) {
    let tokens = tokens(&app).await;
    let (master, tc) = (&tokens[0], &tokens[3]);
    for i in 0..5 {
        let who = if i < 2 { Some("TC@perm.test") } else { None };
        create(&app, master, json!({"name": "S", "phone_number": phone(i), "assigned_telecaller": who, "source": "X"})).await;
    }
    let (_, body) = status_json(app.get(&format!("{API}/leads"), tc).await).await;
    assert_eq!(body["total"], 2);
    let (_, body) = status_json(
        app.get(&format!("{API}/leads?unassigned_only=true"), tc)
            .await,
    )
    .await;
    assert_eq!(body["total"], 0);
    let (_, s) = status_json(app.get(&format!("{API}/status-summary"), tc).await).await;
    assert_eq!(s["total_leads"], 2);
    let (_, s) = status_json(app.get(&format!("{API}/sources"), tc).await).await;
    assert_eq!(
        s["sources"],
        json!([{"value": "X", "label": "X", "source": "X", "count": 2}])
    );
    // a lead a telecaller creates is theirs; handing it to someone else is refused
    let (status, l) = status_json(
        app.post(
            &format!("{API}/leads"),
            tc,
            json!({"name": "Mine", "phone_number": phone(50)}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(l["assigned_telecaller"], TC);
    let r = app
        .post(
            &format!("{API}/leads"),
            tc,
            json!({"name": "Gift", "phone_number": phone(51), "assigned_telecaller": "x@y"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // a number taken by a lead out of reach is still a conflict (the 409 names
    // an id the telecaller cannot open: 404)
    let (_, all) = status_json(
        app.get(&format!("{API}/leads?unassigned_only=true"), master)
            .await,
    )
    .await;
    let hidden = all["leads"][0]["phone_number"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, mine) = status_json(app.get(&format!("{API}/leads"), tc).await).await;
    let mine_id = mine["leads"][0]["id"].as_str().unwrap();
    let r = app
        .patch(
            &format!("{API}/leads/{mine_id}"),
            tc,
            json!({"phone_number": hidden}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "own lead, taken number");
}

async fn documents_are_masked_for_all_but_master_admin(app: TestApp) {
    let tokens = tokens(&app).await;
    let docs = json!({"dl_no": "TN0120074787142", "badge_no": "36267", "aadhar_card": "548249957695",
                      "pan_card": "LDEPQ7463D", "gas_bill": "7726978651", "bank_passbook": "000123456789"});
    let mut body = json!({"name": "M", "phone_number": phone(1), "assigned_telecaller": TC});
    for (k, v) in docs.as_object().unwrap() {
        body[k] = v.clone();
    }
    let lead = create(&app, &tokens[0], body).await;
    let id = lead["id"].as_str().unwrap();
    for (r, role) in ROLES.iter().enumerate() {
        let (_, one) = get_lead(&app, &tokens[r], id).await;
        let (_, list) = status_json(app.get(&format!("{API}/leads"), &tokens[r]).await).await;
        let in_list = &list["leads"][0];
        for (field, value) in docs.as_object().unwrap() {
            let value = value.as_str().unwrap();
            for shown in [&one[field], &in_list[field]] {
                let shown = shown.as_str().unwrap();
                if *role == "master_admin" {
                    assert_eq!(shown, value, "{role} {field}");
                } else {
                    assert_ne!(shown, value, "{role} sees {field}");
                    assert!(shown.starts_with('X'), "{role} {field}: {shown}");
                    assert!(
                        shown.ends_with(&value[value.len() - 4..]),
                        "{role} {field}: {shown}"
                    );
                }
            }
        }
    }
    // the response to a write by a non-master is masked too
    let (_, patched) = status_json(
        app.patch(
            &format!("{API}/leads/{id}"),
            &tokens[1],
            json!({"name": "M2"}),
        )
        .await,
    )
    .await;
    assert_eq!(patched["dl_no"], "XXXXXXXXXXX7142");
    // and the stored value was not overwritten by the mask
    assert_eq!(
        get_lead(&app, &tokens[0], id).await.1["dl_no"],
        "TN0120074787142"
    );
}
