//! Schemas of answer types this layer cannot derive where they are
//! declared: the lead types follow the one field list
//! ([`crate::domain::lead_fields::FIELDS`]), and a few store records (the
//! store stays free of the document). `TestApp` checks every answer of the
//! suite against them, so they cannot drift from what is sent.

use std::borrow::Cow;

use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::StatusEntry;
use crate::domain::lead_fields::{FIELDS, FieldDef, FieldType};
use crate::domain::{AccountStatus, AccountType, Lead, LeadInput, LeadPatch, RemarkEntry, Stage};
use crate::store::{AuditEntry, JobKind, JobStatus, User};

type Schemas = Vec<(String, RefOr<Schema>)>;

/// `{"type": ty}`, or `[ty, "null"]` when `nullable`.
fn typed(ty: Type, nullable: bool) -> ObjectBuilder {
    if nullable {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([ty, Type::Null]))
    } else {
        ObjectBuilder::new().schema_type(ty)
    }
}

fn formatted(ty: Type, format: KnownFormat, nullable: bool) -> RefOr<Schema> {
    typed(ty, nullable)
        .format(Some(SchemaFormat::KnownFormat(format)))
        .into()
}

fn reference<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

fn array_of(items: RefOr<Schema>) -> RefOr<Schema> {
    ArrayBuilder::new().items(items).into()
}

/// A string enum of the given values.
fn string_enum(values: &[&str]) -> RefOr<Schema> {
    typed(Type::String, false)
        .enum_values(Some(values.iter().copied()))
        .into()
}

/// How a lead answer carries a field of this type.
fn field_schema(ty: FieldType) -> RefOr<Schema> {
    match ty {
        FieldType::Uuid => formatted(Type::String, KnownFormat::Uuid, false),
        FieldType::RequiredText => typed(Type::String, false).into(),
        FieldType::Text => typed(Type::String, true).into(),
        FieldType::Date => formatted(Type::String, KnownFormat::Date, true),
        FieldType::Instant => formatted(Type::String, KnownFormat::DateTime, true),
        FieldType::RequiredInstant => formatted(Type::String, KnownFormat::DateTime, false),
        FieldType::Stage => reference::<Stage>(),
        FieldType::RemarkLog => array_of(reference::<RemarkEntry>()),
        FieldType::StatusLog => array_of(reference::<StatusEntry>()),
    }
}

/// Whether a lead answer always has a value for this type (`Option`s may be
/// left out or null).
fn always_present(ty: FieldType) -> bool {
    !matches!(ty, FieldType::Text | FieldType::Date | FieldType::Instant)
}

/// How a client may send a field (dates as `YYYY-MM-DD`, "" or null to
/// clear; the stage as any spelling, ignored where the status decides it).
fn input_schema(f: &FieldDef) -> RefOr<Schema> {
    match f.ty {
        FieldType::Date => formatted(Type::String, KnownFormat::Date, true),
        // any accepted spelling, text or a JSON number
        _ if f.name == "phone_number" => ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Integer]))
            .into(),
        _ => typed(Type::String, true).into(),
    }
}

/// The fields a create must carry: the required texts but the status
/// (`New` unless given).
fn create_requires(f: &FieldDef) -> bool {
    f.ty == FieldType::RequiredText && f.name != "status"
}

fn lead_refs(out: &mut Schemas) {
    for (name, schema) in [
        (Stage::name(), Stage::schema()),
        (RemarkEntry::name(), RemarkEntry::schema()),
        (StatusEntry::name(), StatusEntry::schema()),
    ] {
        out.push((name.into_owned(), schema));
    }
}

impl PartialSchema for Lead {
    fn schema() -> RefOr<Schema> {
        let mut o = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("a lead: every field of the one field list"));
        for f in FIELDS {
            o = o.property(f.name, field_schema(f.ty));
            if always_present(f.ty) {
                o = o.required(f.name);
            }
        }
        o.into()
    }
}

impl ToSchema for Lead {
    fn name() -> Cow<'static, str> {
        "Lead".into()
    }
    fn schemas(out: &mut Schemas) {
        lead_refs(out);
    }
}

impl PartialSchema for LeadInput {
    fn schema() -> RefOr<Schema> {
        let mut o = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("a new lead's fields (those clients may write)"));
        for f in FIELDS.iter().filter(|f| f.client_writable) {
            o = o.property(f.name, input_schema(f));
            if create_requires(f) {
                o = o.required(f.name);
            }
        }
        o.into()
    }
}

impl ToSchema for LeadInput {
    fn name() -> Cow<'static, str> {
        "LeadInput".into()
    }
}

impl PartialSchema for LeadPatch {
    fn schema() -> RefOr<Schema> {
        let mut o = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "any subset of the fields clients may write; null or an absent key leaves a field \
             alone, \"\" clears it; a sent stage is ignored (the stage follows the status)",
            ));
        for f in FIELDS.iter().filter(|f| f.client_writable) {
            o = o.property(f.name, input_schema(f));
        }
        o.into()
    }
}

impl ToSchema for LeadPatch {
    fn name() -> Cow<'static, str> {
        "LeadPatch".into()
    }
}

impl PartialSchema for RemarkEntry {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("remark", typed(Type::String, false))
            .property("updated_by", typed(Type::String, false))
            .property(
                "updated_at",
                formatted(Type::String, KnownFormat::DateTime, false),
            )
            .required("remark")
            .required("updated_by")
            .required("updated_at")
            .into()
    }
}

impl ToSchema for RemarkEntry {
    fn name() -> Cow<'static, str> {
        "RemarkEntry".into()
    }
}

impl PartialSchema for StatusEntry {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("status", typed(Type::String, false))
            .property("stage", reference::<Stage>())
            .property("changed_by", typed(Type::String, false))
            .property(
                "changed_at",
                formatted(Type::String, KnownFormat::DateTime, false),
            )
            .required("status")
            .required("stage")
            .required("changed_by")
            .required("changed_at")
            .into()
    }
}

impl ToSchema for StatusEntry {
    fn name() -> Cow<'static, str> {
        "StatusEntry".into()
    }
    fn schemas(out: &mut Schemas) {
        out.push((Stage::name().into_owned(), Stage::schema()));
    }
}

impl PartialSchema for User {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("id", formatted(Type::String, KnownFormat::Uuid, false))
            .property("email", typed(Type::String, false))
            .property("username", typed(Type::String, false))
            .property("first_name", typed(Type::String, false))
            .property("last_name", typed(Type::String, false))
            .property("account_type", reference::<AccountType>())
            .property("status", reference::<AccountStatus>())
            .property(
                "created_at",
                formatted(Type::String, KnownFormat::DateTime, false),
            )
            .property("is_temp_password", typed(Type::Boolean, false))
            .required("id")
            .required("email")
            .required("first_name")
            .required("last_name")
            .required("account_type")
            .required("status")
            .required("created_at")
            .required("is_temp_password")
            .into()
    }
}

impl ToSchema for User {
    fn name() -> Cow<'static, str> {
        "User".into()
    }
    fn schemas(out: &mut Schemas) {
        out.push((AccountType::name().into_owned(), AccountType::schema()));
        out.push((AccountStatus::name().into_owned(), AccountStatus::schema()));
    }
}

impl PartialSchema for AuditEntry {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("id", typed(Type::Integer, false))
            .property("at", formatted(Type::String, KnownFormat::DateTime, false))
            .property("actor_id", formatted(Type::String, KnownFormat::Uuid, true))
            .property("actor_email", typed(Type::String, true))
            .property("action", typed(Type::String, false))
            .property(
                "details",
                ObjectBuilder::new()
                    .schema_type(SchemaType::AnyValue)
                    .description(Some("what the action touched (free-form, per action)")),
            )
            .property("request_id", typed(Type::String, true))
            .required("id")
            .required("at")
            .required("action")
            .required("details")
            .into()
    }
}

impl ToSchema for AuditEntry {
    fn name() -> Cow<'static, str> {
        "AuditEntry".into()
    }
}

/// Every [`JobStatus`], for its enum.
const JOB_STATUSES: [JobStatus; 6] = [
    JobStatus::Queued,
    JobStatus::Running,
    JobStatus::Done,
    JobStatus::Failed,
    JobStatus::Cancelled,
    JobStatus::Expired,
];

impl PartialSchema for JobStatus {
    fn schema() -> RefOr<Schema> {
        let names: Vec<&str> = JOB_STATUSES.iter().map(|s| s.as_str()).collect();
        string_enum(&names)
    }
}

impl ToSchema for JobStatus {
    fn name() -> Cow<'static, str> {
        "JobStatus".into()
    }
}

impl PartialSchema for JobKind {
    fn schema() -> RefOr<Schema> {
        // as serde writes them (`rename_all = "lowercase"`: `bulkleads`)
        let names: Vec<String> = JobKind::ALL
            .iter()
            .map(|k| {
                serde_json::to_value(k)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect();
        typed(Type::String, false).enum_values(Some(names)).into()
    }
}

impl ToSchema for JobKind {
    fn name() -> Cow<'static, str> {
        "JobKind".into()
    }
}

/// The leads list's streamed answer (`skip_pagination=true`, written by
/// `export::json_list`): `{total, leads}`, each lead its list projection.
pub struct AllLeads;

/// A lead in the streamed list: the fields of
/// [`crate::export::json_list::LIST_FIELDS`] and `assigned_telecaller_name`.
pub struct ListedLead;

impl PartialSchema for ListedLead {
    fn schema() -> RefOr<Schema> {
        let list = crate::export::json_list::LIST_FIELDS;
        let mut o = ObjectBuilder::new().schema_type(Type::Object);
        for f in FIELDS.iter().filter(|f| list.contains(&f.name)) {
            o = o.property(f.name, field_schema(f.ty)).required(f.name);
        }
        o.property("assigned_telecaller_name", typed(Type::String, true))
            .into()
    }
}

impl ToSchema for ListedLead {
    fn name() -> Cow<'static, str> {
        "ListedLead".into()
    }
    fn schemas(out: &mut Schemas) {
        lead_refs(out);
    }
}

impl PartialSchema for AllLeads {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("total", typed(Type::Integer, false))
            .property("leads", array_of(reference::<ListedLead>()))
            .required("total")
            .required("leads")
            .into()
    }
}

impl ToSchema for AllLeads {
    fn name() -> Cow<'static, str> {
        "AllLeads".into()
    }
    fn schemas(out: &mut Schemas) {
        out.push((ListedLead::name().into_owned(), ListedLead::schema()));
        ListedLead::schemas(out);
    }
}

impl PartialSchema for crate::http::routes::compat_leads::OriginalLeadBody {
    fn schema() -> RefOr<Schema> {
        let phone =
            ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Integer]));
        let mut o = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "a lead's fields in Pulse's names or the original's; a duplicate phone is skipped \
             unless duplicate_action is replace",
            ));
        o = o
            .property("phone_number", phone)
            .required("phone_number")
            .required("name");
        for name in ["has_driving_license", "driving_license_no", "has_badge"] {
            o = o.property(name, typed(Type::String, true));
        }
        o = o.property("duplicate_action", string_enum(&["skip", "replace"]));
        for f in FIELDS
            .iter()
            .filter(|f| f.client_writable && f.name != "phone_number")
        {
            o = o.property(f.name, input_schema(f));
        }
        o.into()
    }
}

impl ToSchema for crate::http::routes::compat_leads::OriginalLeadBody {
    fn name() -> Cow<'static, str> {
        "OriginalLead".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lead_schema_follows_the_field_list() {
        let v = serde_json::to_value(Lead::schema()).unwrap();
        let props = v["properties"].as_object().unwrap();
        let names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        let mut keys: Vec<&str> = props.keys().map(String::as_str).collect();
        let mut want = names.clone();
        keys.sort_unstable();
        want.sort_unstable();
        assert_eq!(keys, want);
        assert_eq!(
            v["properties"]["email"]["type"],
            serde_json::json!(["string", "null"])
        );
        let input = serde_json::to_value(LeadInput::schema()).unwrap();
        assert_eq!(
            input["required"],
            serde_json::json!(["name", "phone_number"])
        );
        assert!(input["properties"].get("id").is_none());
    }

    #[test]
    fn a_sample_lead_has_every_key_of_its_schema() {
        let lead = Lead::default();
        let v = serde_json::to_value(&lead).unwrap();
        let schema = serde_json::to_value(Lead::schema()).unwrap();
        for key in schema["required"].as_array().unwrap() {
            assert!(v.get(key.as_str().unwrap()).is_some(), "{key}");
        }
    }
}
