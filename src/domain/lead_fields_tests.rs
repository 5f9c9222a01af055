use super::*;
use crate::domain::PII_FIELDS;

fn variant(r: FieldRef<'_>) -> FieldType {
    match r {
        FieldRef::Uuid(_) => FieldType::Uuid,
        FieldRef::RequiredText(_) => FieldType::RequiredText,
        FieldRef::Text(_) => FieldType::Text,
        FieldRef::Date(_) => FieldType::Date,
        FieldRef::Instant(_) => FieldType::Instant,
        FieldRef::RequiredInstant(_) => FieldType::RequiredInstant,
        FieldRef::Stage(_) => FieldType::Stage,
        FieldRef::RemarkLog(_) => FieldType::RemarkLog,
        FieldRef::StatusLog(_) => FieldType::StatusLog,
    }
}

/// `Lead`'s JSON has exactly the listed fields, in list order, and each
/// accessor answers with the listed type.
#[test]
fn lead_struct_agrees_with_the_list() {
    // every text field filled: a field absent from the JSON when empty
    // (`telecaller_notes`, `notes`) still shows its key and place
    let mut lead = Lead::default();
    for f in FIELDS {
        if let FieldMut::Text(v) = lead.field_mut(f) {
            *v = Some(String::new());
        }
    }
    let json = serde_json::to_string(&lead).unwrap();
    let keys = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&json)
        .unwrap()
        .len();
    assert_eq!(keys, FIELDS.len(), "Lead has fields the list lacks: {json}");
    let mut last = 0;
    for f in FIELDS {
        let at = json
            .find(&format!("\"{}\":", f.name))
            .unwrap_or_else(|| panic!("{} is listed but not a Lead field", f.name));
        assert!(at >= last, "{} is out of order in FIELDS", f.name);
        last = at;
        assert_eq!(variant(lead.field(f)), f.ty, "{}", f.name);
    }
}

#[test]
fn names_are_unique_and_index_of_finds_them() {
    for (i, f) in FIELDS.iter().enumerate() {
        assert_eq!(index_of(f.name), i, "{} listed twice", f.name);
        assert_eq!(by_name(f.name), Some(f));
    }
    assert_eq!(by_name("nope"), None);
}

#[test]
fn pii_flags_agree_with_the_masking_list() {
    let ours: Vec<&str> = FIELDS.iter().filter(|f| f.pii).map(|f| f.name).collect();
    assert_eq!(ours, PII_FIELDS.to_vec());
}

/// What a client may send (`LeadInput`) is what the list marks writable:
/// a body naming every writable field sets each of them.
#[test]
fn lead_input_takes_the_writable_fields() {
    let mut body = serde_json::Map::new();
    for f in FIELDS.iter().filter(|f| f.client_writable) {
        let v = match f.ty {
            FieldType::Date => "2024-01-02",
            FieldType::Stage => "S2",
            _ => "x",
        };
        body.insert(f.name.to_string(), v.into());
    }
    let input: crate::domain::LeadInput =
        serde_json::from_value(serde_json::Value::Object(body)).unwrap();
    let dbg = format!("{input:?}");
    for f in FIELDS.iter().filter(|f| f.client_writable) {
        assert!(
            dbg.contains(&format!("{}: Some(", f.name))
                || dbg.contains(&format!("{}: \"x\"", f.name)),
            "LeadInput does not take {}: {dbg}",
            f.name
        );
    }
}
