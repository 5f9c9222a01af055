//! Table-driven tests of the pipeline rules.

use super::*;
use std::collections::HashMap;

/// (current stage, requested, expected stage, expected status, callback, completed)
type Case = (
    Stage,
    &'static str,
    Stage,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn statuses_are_exactly_design_section_4() {
    let want: [(Stage, &str, &[&str]); 4] = [
        (
            Stage::S1,
            "Filtering",
            &[
                "New",
                "Interested",
                "Not Interested",
                "Interested, No DL",
                "Interested, No Badge",
                "Call back 1D",
                "Call back 1W",
                "Call back 2W",
                "Call back 1M",
                "Not Reachable",
                "Wrong Number",
                "Duplicate",
                "Junk",
                "RNR",
                "Highly Interested",
            ],
        ),
        (
            Stage::S2,
            "Docs Collection",
            &[
                "Docs Upload Pending",
                "Verification Pending",
                "Duplicate License",
                "DL - Amount",
                "Verification Rejected",
                "Verified",
            ],
        ),
        (
            Stage::S3,
            "Training",
            &[
                "Schedule Pending",
                "Training WIP",
                "Training Completed",
                "Training Rejected",
                "Re-Training",
                "Absent for training",
                "Approved",
            ],
        ),
        (
            Stage::S4,
            "Customer Readiness",
            &[
                "CT Pending",
                "CT WIP",
                "Shift Details Pending",
                "Terminated",
                "Churn",
                "Quick Churn",
                "DONE!",
            ],
        ),
    ];
    assert_eq!(
        Stage::all().to_vec(),
        want.iter().map(|w| w.0).collect::<Vec<_>>()
    );
    for (stage, label, statuses) in want {
        assert_eq!(stage.label(), label);
        assert_eq!(stage.statuses(), statuses, "{stage}");
        assert_eq!(stage.first_status(), statuses[0]);
        assert_eq!(stage.completion_status(), *statuses.last().unwrap());
    }
}

#[test]
fn status_names_are_unique_after_normalisation() {
    let mut seen: HashMap<String, (Stage, &str)> = HashMap::new();
    for stage in Stage::all() {
        for name in stage.statuses() {
            let key = normalise(name);
            assert!(!key.is_empty());
            if let Some(prev) = seen.insert(key, (stage, name)) {
                panic!("{name:?} in {stage} collides with {prev:?}");
            }
        }
    }
}

#[test]
fn every_canonical_name_matches_itself() {
    for stage in Stage::all() {
        for name in stage.statuses() {
            assert_eq!(match_status(name), Some((stage, *name)));
        }
    }
}

#[test]
fn loose_status_matching() {
    let cases = [
        ("highly interested", Some((Stage::S1, "Highly Interested"))),
        ("HIGHLY-INTERESTED ", Some((Stage::S1, "Highly Interested"))),
        ("DONE", Some((Stage::S4, "DONE!"))),
        ("done!", Some((Stage::S4, "DONE!"))),
        ("call back 1d", Some((Stage::S1, "Call back 1D"))),
        ("Callback 1W", Some((Stage::S1, "Call back 1W"))),
        ("call-back 2w", Some((Stage::S1, "Call back 2W"))),
        ("dl amount", Some((Stage::S2, "DL - Amount"))),
        ("DL-Amount", Some((Stage::S2, "DL - Amount"))),
        ("retraining", Some((Stage::S3, "Re-Training"))),
        (
            "absent for Training",
            Some((Stage::S3, "Absent for training")),
        ),
        ("rnr", Some((Stage::S1, "RNR"))),
        ("duplicate", Some((Stage::S1, "Duplicate"))),
        ("duplicate license", Some((Stage::S2, "Duplicate License"))),
        ("", None),
        ("!!!", None),
        ("Call back 3D", None),
        ("Interested maybe", None),
        ("S1", None),
    ];
    for (input, want) in cases {
        assert_eq!(match_status(input), want, "input {input:?}");
    }
}

#[test]
fn stage_parsing() {
    let cases = [
        ("S1", Some(Stage::S1)),
        ("s1", Some(Stage::S1)),
        (" S1 ", Some(Stage::S1)),
        ("S1 - Filtering", Some(Stage::S1)),
        ("Filtering", Some(Stage::S1)),
        ("S2 - Docs Collection", Some(Stage::S2)),
        ("docs collection", Some(Stage::S2)),
        ("s3", Some(Stage::S3)),
        ("Training", Some(Stage::S3)),
        ("S4 - Customer Readiness", Some(Stage::S4)),
        ("customer-readiness", Some(Stage::S4)),
        ("S5", None),
        ("", None),
        ("S1 - Training", None),
    ];
    for (input, want) in cases {
        assert_eq!(input.parse::<Stage>().ok(), want, "input {input:?}");
    }
    let err = "S9".parse::<Stage>().unwrap_err();
    assert!(err.to_string().contains(r#""S9""#), "{err}");
}

#[test]
fn stage_and_status_serde() {
    assert_eq!(serde_json::to_string(&Stage::S3).unwrap(), r#""S3""#);
    let s: Stage = serde_json::from_str(r#""S2 - Docs Collection""#).unwrap();
    assert_eq!(s, Stage::S2);
    assert!(serde_json::from_str::<Stage>(r#""S7""#).is_err());
    let st: Status = serde_json::from_str(r#""dl amount""#).unwrap();
    assert_eq!(serde_json::to_string(&st).unwrap(), r#""DL - Amount""#);
    assert_eq!(st.stage(), Stage::S2);
    let err = Status::parse("Maybe").unwrap_err();
    assert!(
        err.to_string().starts_with(r#"unknown status "Maybe""#),
        "{err}"
    );
}

#[test]
fn apply_status_rules() {
    let today = day("2026-01-31");
    let cases: &[Case] = &[
        (Stage::S1, "Interested", Stage::S1, "Interested", None, None),
        (
            Stage::S1,
            "Highly Interested",
            Stage::S2,
            "Docs Upload Pending",
            None,
            Some("Highly Interested"),
        ),
        (
            Stage::S2,
            "Verified",
            Stage::S3,
            "Schedule Pending",
            None,
            Some("Verified"),
        ),
        (
            Stage::S3,
            "Approved",
            Stage::S4,
            "CT Pending",
            None,
            Some("Approved"),
        ),
        (Stage::S4, "DONE!", Stage::S4, "DONE!", None, None),
        (Stage::S4, "done", Stage::S4, "DONE!", None, None),
        (
            Stage::S1,
            "Call back 1D",
            Stage::S1,
            "Call back 1D",
            Some("2026-02-01"),
            None,
        ),
        (
            Stage::S1,
            "Call back 1W",
            Stage::S1,
            "Call back 1W",
            Some("2026-02-07"),
            None,
        ),
        (
            Stage::S1,
            "Call back 2W",
            Stage::S1,
            "Call back 2W",
            Some("2026-02-14"),
            None,
        ),
        (
            Stage::S1,
            "Call back 1M",
            Stage::S1,
            "Call back 1M",
            Some("2026-03-02"),
            None,
        ),
        // the status decides the stage, forwards and backwards
        (
            Stage::S1,
            "Training WIP",
            Stage::S3,
            "Training WIP",
            None,
            None,
        ),
        (
            Stage::S3,
            "Not Reachable",
            Stage::S1,
            "Not Reachable",
            None,
            None,
        ),
        (
            Stage::S4,
            "Call back 1D",
            Stage::S1,
            "Call back 1D",
            Some("2026-02-01"),
            None,
        ),
        (
            Stage::S3,
            "Highly Interested",
            Stage::S2,
            "Docs Upload Pending",
            None,
            Some("Highly Interested"),
        ),
    ];
    for &(current, requested, stage, status, callback, completed) in cases {
        let req = Status::parse(requested).unwrap();
        let got = apply_status(current, req, today);
        let ctx = format!("{current} + {requested:?}");
        assert_eq!(got.stage, stage, "{ctx}");
        assert_eq!(got.status, status, "{ctx}");
        assert_eq!(got.callback_date, callback.map(day), "{ctx}");
        assert_eq!(got.completed.map(Status::name), completed, "{ctx}");
        assert_eq!(got.stage_changed, stage != current, "{ctx}");
    }
}

#[test]
fn callback_days_only_for_callback_statuses() {
    for stage in Stage::all() {
        for name in stage.statuses() {
            let st = Status::parse(name).unwrap();
            assert_eq!(
                st.callback_days().is_some(),
                name.starts_with("Call back"),
                "{name}"
            );
            assert_eq!(
                st.is_completion(),
                *name == stage.completion_status(),
                "{name}"
            );
        }
    }
}

#[test]
fn both_spellings_of_the_no_dl_and_no_badge_statuses_are_one_status() {
    for (input, want) in [
        ("Interested No DL", "Interested, No DL"),
        ("interested, no dl", "Interested, No DL"),
        ("Interested No Badge", "Interested, No Badge"),
        ("INTERESTED,NO BADGE", "Interested, No Badge"),
        ("quick churn", "Quick Churn"),
        ("Churn", "Churn"),
    ] {
        let st = Status::parse(input).unwrap();
        assert_eq!(st.name(), want, "{input}");
    }
    assert_eq!(Status::parse("Churn").unwrap().stage(), Stage::S4);
    assert!(!Status::parse("Quick Churn").unwrap().is_completion());
}
