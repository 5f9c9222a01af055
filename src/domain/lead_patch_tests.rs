//! Tests of patching a lead.

use super::*;
use crate::domain::{LeadInput, Stage};
use uuid::Uuid;

fn lead() -> Lead {
    let input = LeadInput {
        name: "Ravi".into(),
        phone_number: "9876543210".into(),
        email: Some("ravi@example.com".into()),
        ..LeadInput::default()
    };
    let created: DateTime<Utc> = "2026-03-01T05:00:00Z".parse().unwrap();
    input
        .validate()
        .unwrap()
        .into_lead(Uuid::nil(), "ops", created)
}

fn now() -> DateTime<Utc> {
    "2026-03-09T10:00:00Z".parse().unwrap()
}

fn patch(json: &str) -> LeadPatch {
    serde_json::from_str(json).unwrap()
}

#[test]
fn absent_and_null_leave_alone_empty_clears() {
    let p =
        patch(r#"{"vehicle": "e-auto", "email": null, "name": null, "end_date": "2026-05-01"}"#);
    assert_eq!(p.vehicle, Some(Some("e-auto".into())));
    assert_eq!(p.email, None);
    assert_eq!(p.experience, None);
    let mut l = lead();
    p.validate().unwrap().apply(&mut l, "tc", now()).unwrap();
    assert_eq!(l.vehicle.as_deref(), Some("e-auto"));
    assert_eq!(
        l.email.as_deref(),
        Some("ravi@example.com"),
        "null leaves alone"
    );
    assert_eq!(l.name, "Ravi", "absent leaves alone");
    assert_eq!(l.end_date, Some("2026-05-01".parse().unwrap()));
    assert_eq!(l.updated_at, now());

    let p = patch(r#"{"email": "", "end_date": "  ", "vehicle": "e-rick"}"#);
    assert_eq!(p.email, Some(None));
    p.validate().unwrap().apply(&mut l, "tc", now()).unwrap();
    assert_eq!(
        (l.email, l.end_date),
        (None, None),
        "\"\" clears text and dates"
    );
    // a date-time for a date field: its date part
    let p = patch(r#"{"end_date": "2026-06-02T00:00:00+05:30"}"#);
    assert_eq!(p.end_date, Some(Some("2026-06-02".parse().unwrap())));
    assert!(serde_json::from_str::<LeadPatch>(r#"{"end_date": "June"}"#).is_err());
}

#[test]
fn phone_as_a_number_and_stage_ignored() {
    let p = patch(r#"{"phone_number": 9876500001, "stage": "S0 - nonsense"}"#);
    assert_eq!(p.phone_number.as_deref(), Some("9876500001"));
    let mut l = lead();
    p.validate().unwrap().apply(&mut l, "tc", now()).unwrap();
    assert_eq!(
        (l.stage, l.phone_number.as_str()),
        (Stage::S1, "9876500001")
    );
    assert!(serde_json::from_str::<LeadPatch>(r#"{"phone_number": true}"#).is_err());
}

#[test]
fn unchanged_status_and_remark_add_no_history() {
    let mut l = lead();
    let before = l.status_history.len();
    patch(r#"{"status": "New", "stage": "S1", "remarks": "Called"}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap();
    assert_eq!(l.status_history.len(), before, "same status: no entry");
    assert_eq!(l.remarks_history.len(), 1);
    patch(r#"{"status": "new", "remarks": "Called"}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap();
    assert_eq!(l.status_history.len(), before);
    assert_eq!(l.remarks_history.len(), 1, "same remark: no entry");
}

#[test]
fn status_goes_through_the_pipeline() {
    let mut l = lead();
    let change = patch(r#"{"status": "HIGHLY INTERESTED"}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap()
        .unwrap();
    assert_eq!(
        (change.stage, change.status),
        (Stage::S2, "Docs Upload Pending")
    );
    assert_eq!(
        (l.stage, l.status.as_str()),
        (Stage::S2, "Docs Upload Pending")
    );
    assert_eq!(l.status_history.len(), 2);

    // a stage alone is ignored: the stage follows the status
    patch(r#"{"stage": "S3"}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap();
    assert_eq!(
        (l.stage, l.status.as_str()),
        (Stage::S2, "Docs Upload Pending")
    );

    // callback derived from status, unless given explicitly
    patch(r#"{"status": "call back 1d"}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap();
    assert_eq!(l.callback_date, Some("2026-03-10".parse().unwrap()));
    patch(r#"{"status": "call back 1d", "callback_date": "2026-04-01"}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap();
    assert_eq!(l.callback_date, Some("2026-04-01".parse().unwrap()));
}

#[test]
fn phone_and_remarks() {
    let mut l = lead();
    let v = patch(r#"{"phone_number": "+91 70000-00001", "remarks": "Voicemail"}"#)
        .validate()
        .unwrap();
    assert_eq!(v.phone().map(|p| p.as_str()), Some("7000000001"));
    v.apply(&mut l, "tc", now()).unwrap();
    assert_eq!(l.phone_number, "7000000001");
    assert_eq!(l.remarks.as_deref(), Some("Voicemail"));
    assert_eq!(l.remarks_history.len(), 1);
    patch(r#"{"remarks": ""}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap();
    assert_eq!(l.remarks, None);
    assert_eq!(l.remarks_history.len(), 1, "history is kept");
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (r#"{"name": ""}"#, "name"),
        (r#"{"phone_number": "5555"}"#, "phone_number"),
        (r#"{"remarks": "a\u0000b"}"#, "remarks"),
        (r#"{"pan_card": "\u0000"}"#, "pan_card"),
        (
            r#"{"assigned_telecaller": "x\u0000"}"#,
            "assigned_telecaller",
        ),
        (r#"{"status": "Nope"}"#, "status"),
    ];
    for (json, field) in cases {
        let err = patch(json).validate().unwrap_err();
        assert_eq!(err.field(), field, "{json}: {err}");
    }
    assert!(patch("{}").validate().is_ok());
}

#[test]
fn masked_documents_are_never_written_back() {
    let mut l = lead();
    l.aadhar_card = Some("811408714072".into());
    // the whole lead sent back as a masked role saw it: the number stays
    patch(r#"{"aadhar_card": "XXXXXXXX4072", "remarks": "called"}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap();
    assert_eq!(l.aadhar_card.as_deref(), Some("811408714072"));
    assert_eq!(l.remarks.as_deref(), Some("called"));
    // any other masked-looking value is refused, naming the field, and changes nothing
    let before = l.clone();
    let err = patch(r#"{"aadhar_card": "XXXXXXXX9999", "name": "Other"}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap_err();
    assert_eq!(err.field(), "aadhar_card");
    assert_eq!(l, before);
    let err = patch(r#"{"dl_no": "XXXX"}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap_err();
    assert_eq!(err.field(), "dl_no");
    // a real value is written
    patch(r#"{"aadhar_card": "811408719999"}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap();
    assert_eq!(l.aadhar_card.as_deref(), Some("811408719999"));
}

#[test]
fn text_fields_and_remarks_have_length_limits() {
    let long = "a".repeat(crate::domain::error::MAX_TEXT_CHARS + 1);
    let err = patch(&format!(r#"{{"current_location": "{long}"}}"#))
        .validate()
        .unwrap_err();
    assert_eq!(err.field(), "current_location");
    let remark = "r".repeat(crate::domain::error::MAX_REMARK_CHARS + 1);
    let err = patch(&format!(r#"{{"remarks": "{remark}"}}"#))
        .validate()
        .unwrap_err();
    assert_eq!(err.field(), "remarks");
    patch(&format!(r#"{{"remarks": "{long}"}}"#))
        .validate()
        .unwrap();
    let mut l = lead();
    for i in 0..crate::domain::error::MAX_HISTORY {
        l.add_remark(&format!("note {i}"), "tc", now()).unwrap();
    }
    let err = l.add_remark("one more", "tc", now()).unwrap_err();
    assert_eq!(err.field(), "remarks_history");
    let err = patch(r#"{"remarks": "one more"}"#)
        .validate()
        .unwrap()
        .apply(&mut l, "tc", now())
        .unwrap_err();
    assert_eq!(err.field(), "remarks_history");
}
