//! Tests of creating a lead from input.

use super::*;

fn input(name: &str, phone: &str) -> LeadInput {
    LeadInput {
        name: name.into(),
        phone_number: phone.into(),
        ..LeadInput::default()
    }
}

fn now() -> DateTime<Utc> {
    // 19:00 UTC = 00:30 IST the next day
    "2026-03-09T19:00:00Z".parse().unwrap()
}

#[test]
fn minimal_input_becomes_a_new_s1_lead() {
    let new = input("Murugan  Kumar", "+91 98765-43210")
        .validate()
        .unwrap();
    assert_eq!(new.phone().as_str(), "9876543210");
    let id = Uuid::nil();
    let lead = new.into_lead(id, "ops.admin@pulse.example", now());
    assert_eq!(lead.name, "Murugan  Kumar", "names are kept as entered");
    assert_eq!(lead.phone_number, "9876543210");
    assert_eq!((lead.stage, lead.status.as_str()), (Stage::S1, "New"));
    assert_eq!(lead.import_date, Some("2026-03-10".parse().unwrap()));
    assert!(lead.status_history.is_empty());
    assert!(lead.remarks_history.is_empty());
    assert_eq!(lead.assigned_date, None);
    assert_eq!((lead.created_at, lead.updated_at), (now(), now()));
}

#[test]
fn stage_and_status_resolution() {
    // (stage, status, expected stage, expected status)
    let cases: &[(Option<&str>, Option<&str>, Stage, &str)] = &[
        (None, None, Stage::S1, "New"),
        (Some("S2"), None, Stage::S2, "Docs Upload Pending"),
        (Some("S3 - Training"), None, Stage::S3, "Schedule Pending"),
        (None, Some("dl amount"), Stage::S2, "DL - Amount"),
        // no auto-progression on create
        (
            None,
            Some("highly interested"),
            Stage::S1,
            "Highly Interested",
        ),
        // the status decides the stage
        (Some("S1"), Some("Training WIP"), Stage::S3, "Training WIP"),
    ];
    for &(stage, status, want_stage, want_status) in cases {
        let mut i = input("A", "9876543210");
        i.stage = stage.map(Into::into);
        i.status = status.map(Into::into);
        let lead = i.validate().unwrap().into_lead(Uuid::nil(), "a", now());
        assert_eq!(
            (lead.stage, lead.status.as_str()),
            (want_stage, want_status),
            "{stage:?} {status:?}"
        );
    }
}

#[test]
fn defaults_derived_from_status_and_assignment() {
    let mut i = input("A", "9876543210");
    i.status = Some("call back 1w".into());
    i.assigned_telecaller = Some("priya.tc@pulse.example".into());
    i.remarks = Some("Busy, call back after 6pm".into());
    let lead = i
        .validate()
        .unwrap()
        .into_lead(Uuid::nil(), "priya.tc@pulse.example", now());
    assert_eq!(lead.callback_date, Some("2026-03-17".parse().unwrap()));
    assert_eq!(lead.assigned_date, Some("2026-03-10".parse().unwrap()));
    assert_eq!(lead.status_history.len(), 1);
    assert_eq!(lead.status_history[0].status, "Call back 1W");
    assert_eq!(lead.remarks_history.len(), 1);
    assert_eq!(lead.remarks_history[0].remark, "Busy, call back after 6pm");
}

#[test]
fn errors_name_the_field() {
    let with = |f: fn(&mut LeadInput)| {
        let mut i = input("A", "9876543210");
        f(&mut i);
        i.validate().unwrap_err()
    };
    let cases: Vec<(DomainError, &str)> = vec![
        (with(|i| i.name = "  ".into()), "name"),
        (with(|i| i.phone_number = "12345".into()), "phone_number"),
        (with(|i| i.name = "nul\0inside".into()), "name"),
        (with(|i| i.remarks = Some("nul\0inside".into())), "remarks"),
        (
            with(|i| i.bank_passbook = Some("\0".into())),
            "bank_passbook",
        ),
        (
            with(|i| i.current_location = Some("x\0".into())),
            "current_location",
        ),
        (with(|i| i.stage = Some("S9".into())), "stage"),
        (with(|i| i.status = Some("Maybe".into())), "status"),
    ];
    for (err, field) in cases {
        assert_eq!(err.field(), field, "{err}");
        assert!(err.to_string().starts_with(&format!("{field}: ")), "{err}");
    }
    let err = input("A", "12345").validate().unwrap_err();
    assert!(err.to_string().contains(r#""12345""#), "{err}");
}

#[test]
fn deserialises_from_a_client_body() {
    let body =
        r#"{"name": "Ravi", "phone_number": "09876543210", "status": "Interested", "extra": 1}"#;
    let i: LeadInput = serde_json::from_str(body).unwrap();
    let new = i.validate().unwrap();
    assert_eq!(new.status().name(), "Interested");
    assert!(
        serde_json::from_str::<LeadInput>(r#"{"name": "Ravi"}"#).is_err(),
        "phone is required"
    );
}
