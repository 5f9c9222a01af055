//! What a lead field is ([`FieldDef`]: type, PII, export header, import
//! synonyms, page group and label) and the `lead_fields!` macro that turns
//! the one list in [`super::lead_fields`] into [`FieldDef`]s, the [`Lead`]
//! struct, the client's [`super::LeadInput`] / [`super::LeadPatch`] and the
//! by-name access to a lead's values ([`Lead::field`], [`Lead::field_mut`]).
//!
//! [`Lead`]: super::Lead
//! [`Lead::field`]: super::Lead::field
//! [`Lead::field_mut`]: super::Lead::field_mut

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use super::lead_history::{RemarkEntry, StatusEntry};
use super::pipeline::Stage;

/// How a field is held (in [`super::Lead`]) and stored (a column of that
/// type on both backends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// The lead's id (`UUID` / `TEXT`).
    Uuid,
    /// Text that is always present (`String`).
    RequiredText,
    /// Nullable text (`Option<String>`).
    Text,
    /// Nullable IST day (`Option<NaiveDate>`; `DATE` / `TEXT YYYY-MM-DD`).
    Date,
    /// Nullable instant (`Option<DateTime<Utc>>`; `TIMESTAMPTZ` / ms `INTEGER`).
    Instant,
    /// Instant that is always present (`DateTime<Utc>`).
    RequiredInstant,
    /// The pipeline stage (stored as its code, `S1`…`S4`).
    Stage,
    /// The remarks history (`JSONB` / JSON text).
    RemarkLog,
    /// The status history (`JSONB` / JSON text).
    StatusLog,
}

/// Where the lead's pages (detail and edit) show a field, in page order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Name, phone, e-mail.
    Identity,
    /// What the driver told us.
    Profile,
    /// Document numbers (PII).
    Documents,
    /// Stage, status, assignment, calls.
    Pipeline,
    /// Where the lead came from and when it changed.
    Provenance,
    /// Free-text notes.
    Notes,
    /// Not among the pages' field groups: the id is the page's address, the
    /// remark and the histories are the timeline.
    Unlisted,
}

impl Group {
    /// The groups the pages show, in order.
    pub const SHOWN: [Group; 6] = [
        Group::Identity,
        Group::Profile,
        Group::Documents,
        Group::Pipeline,
        Group::Provenance,
        Group::Notes,
    ];

    /// The group's heading.
    pub fn title(self) -> &'static str {
        match self {
            Group::Identity => "Identity",
            Group::Profile => "Profile",
            Group::Documents => "Documents",
            Group::Pipeline => "Pipeline",
            Group::Provenance => "Provenance",
            Group::Notes => "Notes",
            Group::Unlisted => "",
        }
    }
}

/// One lead field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// JSON key, column name and `Lead` field name (all the same).
    pub name: &'static str,
    /// How it is held and stored.
    pub ty: FieldType,
    /// A document number: masked for everyone but `master_admin`.
    pub pii: bool,
    /// Whether a client may set it on create or update (`LeadInput`,
    /// `LeadPatch`).
    pub client_writable: bool,
    /// Pulse's export header, if the field is exported under its own header.
    pub export_header: Option<&'static str>,
    /// Extra header spellings the importer accepts, already normalised
    /// (see `import::mapping::normalise`); the name and the export header
    /// are implied.
    pub import_synonyms: &'static [&'static str],
    /// Where the lead's pages show it.
    pub group: Group,
    /// Its label on the pages.
    pub label: &'static str,
}

/// A read-only view of one field's value, by type.
#[derive(Debug, Clone, Copy)]
pub enum FieldRef<'a> {
    Uuid(&'a Uuid),
    RequiredText(&'a String),
    Text(&'a Option<String>),
    Date(&'a Option<NaiveDate>),
    Instant(&'a Option<DateTime<Utc>>),
    RequiredInstant(&'a DateTime<Utc>),
    Stage(&'a Stage),
    RemarkLog(&'a Vec<RemarkEntry>),
    StatusLog(&'a Vec<StatusEntry>),
}

impl<'a> FieldRef<'a> {
    /// The text of a text field (`None` for null or a non-text field).
    pub fn text(self) -> Option<&'a str> {
        match self {
            FieldRef::RequiredText(s) => Some(s),
            FieldRef::Text(s) => s.as_deref(),
            _ => None,
        }
    }
}

/// A mutable view of one field's value, by type.
#[derive(Debug)]
pub enum FieldMut<'a> {
    Uuid(&'a mut Uuid),
    RequiredText(&'a mut String),
    Text(&'a mut Option<String>),
    Date(&'a mut Option<NaiveDate>),
    Instant(&'a mut Option<DateTime<Utc>>),
    RequiredInstant(&'a mut DateTime<Utc>),
    Stage(&'a mut Stage),
    RemarkLog(&'a mut Vec<RemarkEntry>),
    StatusLog(&'a mut Vec<StatusEntry>),
}

/// The text a client sent in a field of `LeadInput` / `LeadPatch`, for the
/// NUL and length checks (`None`: absent, null or not text).
pub(super) trait SentText {
    fn sent_text(&self) -> Option<&str>;
}

impl SentText for String {
    fn sent_text(&self) -> Option<&str> {
        Some(self)
    }
}

impl SentText for Option<String> {
    fn sent_text(&self) -> Option<&str> {
        self.as_deref()
    }
}

impl SentText for Option<Option<String>> {
    fn sent_text(&self) -> Option<&str> {
        self.as_ref().and_then(|v| v.as_deref())
    }
}

impl SentText for Option<NaiveDate> {
    fn sent_text(&self) -> Option<&str> {
        None
    }
}

impl SentText for Option<Option<NaiveDate>> {
    fn sent_text(&self) -> Option<&str> {
        None
    }
}

/// The original frontend's save semantics (COMPAT §1.6): the dialog sends
/// every field, many as `null`, so `null` (like an absent key) leaves the
/// field alone (`None`), and `""` (also all blanks) clears it
/// (`Some(None)`). A date may come as a date-time; its date part is taken.
pub(super) fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    use serde::de::Error;
    let value = Option::<serde_json::Value>::deserialize(d)?;
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(Some(None)),
        Some(v) => {
            // "2026-03-01T00:00:00+05:30" for a date field: its date part
            let v = match &v {
                serde_json::Value::String(s)
                    if s.len() > 10
                        && s.is_char_boundary(10)
                        && matches!(s.as_bytes()[10], b'T' | b' ')
                        && T::deserialize(serde_json::Value::String(s.clone())).is_err() =>
                {
                    serde_json::Value::String(s[..10].to_string())
                }
                _ => v,
            };
            T::deserialize(v)
                .map(|t| Some(Some(t)))
                .map_err(D::Error::custom)
        }
    }
}

/// A phone number as text or as a JSON number (the original accepted
/// both); `null` leaves it alone.
pub(super) fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::de::Error;
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(D::Error::custom(format!(
            "expected a phone number as text or a number, got {other}"
        ))),
    }
}

/// A [`FieldType`]'s type in [`super::Lead`].
macro_rules! lead_type {
    (Uuid) => { ::uuid::Uuid };
    (RequiredText) => { String };
    (Text) => { Option<String> };
    (Date) => { Option<::chrono::NaiveDate> };
    (Instant) => { Option<::chrono::DateTime<::chrono::Utc>> };
    (RequiredInstant) => { ::chrono::DateTime<::chrono::Utc> };
    (Stage) => { super::pipeline::Stage };
    (RemarkLog) => { Vec<super::lead_history::RemarkEntry> };
    (StatusLog) => { Vec<super::lead_history::StatusEntry> };
}

/// The value a client sends for a nullable field (`Text` or `Date`).
macro_rules! sent_type {
    (Text) => {
        String
    };
    (Date) => {
        ::chrono::NaiveDate
    };
}

/// Whether clients write a field, from its `write` kind.
macro_rules! writable {
    (no) => {
        false
    };
    ($other:ident) => {
        true
    };
}

/// Sorts the fields by `write` kind into the client structs:
/// - `no`: not in `LeadInput` / `LeadPatch`;
/// - `plain`: optional in `LeadInput`, null-leaves / `""`-clears in
///   `LeadPatch`, copied onto the lead by `move_plain` / `set_plain`;
/// - `custom`: typed as `plain`, set by the hand-written rules of
///   `into_lead` / `apply` (defaults, history, pipeline);
/// - `required`: `String` in `LeadInput`, `Option<String>` in `LeadPatch`;
/// - `phone`: as `required`, and a JSON number is accepted in a patch;
/// - `coded`: optional text parsed by the rules (stage, status).
macro_rules! client_structs {
    (@sort [$($inp:tt)*] [$($pat:tt)*] [$($plain:ident)*] no $name:ident $ty:ident, $($rest:tt)*) => {
        client_structs!(@sort [$($inp)*] [$($pat)*] [$($plain)*] $($rest)*);
    };
    (@sort [$($inp:tt)*] [$($pat:tt)*] [$($plain:ident)*] plain $name:ident $ty:ident, $($rest:tt)*) => {
        client_structs!(@sort
            [$($inp)* $name: Option<sent_type!($ty)>,]
            [$($pat)* #[serde(deserialize_with = "nullable")] $name: Option<Option<sent_type!($ty)>>,]
            [$($plain)* $name] $($rest)*);
    };
    (@sort [$($inp:tt)*] [$($pat:tt)*] [$($plain:ident)*] custom $name:ident $ty:ident, $($rest:tt)*) => {
        client_structs!(@sort
            [$($inp)* $name: Option<sent_type!($ty)>,]
            [$($pat)* #[serde(deserialize_with = "nullable")] $name: Option<Option<sent_type!($ty)>>,]
            [$($plain)*] $($rest)*);
    };
    (@sort [$($inp:tt)*] [$($pat:tt)*] [$($plain:ident)*] required $name:ident $ty:ident, $($rest:tt)*) => {
        client_structs!(@sort [$($inp)* $name: String,] [$($pat)* $name: Option<String>,] [$($plain)*] $($rest)*);
    };
    (@sort [$($inp:tt)*] [$($pat:tt)*] [$($plain:ident)*] phone $name:ident $ty:ident, $($rest:tt)*) => {
        client_structs!(@sort
            [$($inp)* $name: String,]
            [$($pat)* #[serde(deserialize_with = "text_or_number")] $name: Option<String>,]
            [$($plain)*] $($rest)*);
    };
    (@sort [$($inp:tt)*] [$($pat:tt)*] [$($plain:ident)*] coded $name:ident $ty:ident, $($rest:tt)*) => {
        client_structs!(@sort [$($inp)* $name: Option<String>,] [$($pat)* $name: Option<String>,] [$($plain)*] $($rest)*);
    };
    (@sort [$($inp_name:ident: $inp_ty:ty,)*]
        [$($(#[$pat_attr:meta])* $pat_name:ident: $pat_ty:ty,)*]
        [$($plain:ident)*]) => {
        /// A new lead as a client or an import row sends it: only `name` and
        /// `phone_number` are required; `stage` and `status` take any
        /// spelling [`super::Stage`]'s `FromStr` and [`super::match_status`]
        /// accept. Unknown fields are ignored, so the original clients' extra
        /// fields do no harm. The fields are the list's writable ones
        /// ([`super::lead_fields`]).
        #[derive(Debug, Clone, Default, PartialEq, Eq, ::serde::Deserialize)]
        pub struct LeadInput {
            $(
                #[doc = concat!("See [`Lead::", stringify!($inp_name), "`].")]
                pub $inp_name: $inp_ty,
            )*
        }

        /// A partial update. Outer `None` (absent or `null`) = leave the field
        /// alone; for nullable fields `Some(None)` (JSON `""`) clears it. A sent
        /// `stage` is accepted and ignored (the stage follows the status); a new
        /// `remarks` is appended to `remarks_history` when it differs from the
        /// current one, `""` clears the current remark and leaves the history
        /// alone; the notes are replaced, without history.
        #[derive(Debug, Clone, Default, PartialEq, Eq, ::serde::Deserialize)]
        #[serde(default)]
        #[allow(clippy::option_option)] // absent vs null is the point of a PATCH
        pub struct LeadPatch {
            $(
                #[doc = concat!("See [`Lead::", stringify!($pat_name), "`].")]
                $(#[$pat_attr])*
                pub $pat_name: $pat_ty,
            )*
        }

        impl LeadInput {
            /// Every field's text, by name (dates: `None`), for the NUL and
            /// length checks.
            pub(super) fn sent_texts(&self) -> impl Iterator<Item = (&'static str, Option<&str>)> {
                [$((stringify!($inp_name), SentText::sent_text(&self.$inp_name)),)*].into_iter()
            }

            /// Moves the `plain` fields onto `lead`.
            pub(super) fn move_plain(&mut self, lead: &mut Lead) {
                $(lead.$plain = self.$plain.take();)*
            }
        }

        impl LeadPatch {
            /// As [`LeadInput::sent_texts`].
            pub(super) fn sent_texts(&self) -> impl Iterator<Item = (&'static str, Option<&str>)> {
                [$((stringify!($pat_name), SentText::sent_text(&self.$pat_name)),)*].into_iter()
            }

            /// Sets the `plain` fields the patch names on `lead`.
            pub(super) fn set_plain(&mut self, lead: &mut Lead) {
                $(if let Some(v) = self.$plain.take() {
                    lead.$plain = v;
                })*
            }
        }
    };
}

/// The one list of lead fields → [`FieldDef`]s, [`super::Lead`], the client
/// structs and [`super::Lead::field`] / [`super::Lead::field_mut`]. Each
/// entry: its doc and serde attributes on `Lead`, then
/// `name: FieldType, write kind, Group "Label", pii bool, export header,
/// synonyms [...];` (see `client_structs!` for the write kinds).
macro_rules! lead_fields {
    ($(
        $(#[$attr:meta])*
        $name:ident: $ty:ident, write $write:ident, $group:ident $label:literal,
            pii $pii:literal, export $export:expr, synonyms [$($syn:literal),* $(,)?];
    )*) => {
        /// One driver lead. Serialises to (and deserialises from) exactly the JSON
        /// lines of `anchors/gen_leads.py`: dates `YYYY-MM-DD`, timestamps RFC 3339
        /// UTC with `Z`, nulls as `null`. Fields absent from a document (older
        /// documents lack the later-added ones) read as `None` / empty.
        #[derive(Debug, Clone, Default, PartialEq, Eq, ::serde::Serialize, ::serde::Deserialize)]
        pub struct Lead {
            $(
                $(#[$attr])*
                pub $name: lead_type!($ty),
            )*
        }

        /// Every lead field, in column order (the order of `SELECT`s, inserts,
        /// the PostgreSQL `COPY` and `Lead`'s JSON).
        pub const FIELDS: &[FieldDef] = &[
            $(FieldDef {
                name: stringify!($name),
                ty: FieldType::$ty,
                pii: $pii,
                client_writable: writable!($write),
                export_header: $export,
                import_synonyms: &[$($syn),*],
                group: Group::$group,
                label: $label,
            },)*
        ];

        impl Lead {
            /// The value of field `f` (one of [`FIELDS`]).
            ///
            /// # Panics
            /// If `f` is not in [`FIELDS`].
            pub fn field(&self, f: &FieldDef) -> FieldRef<'_> {
                match f.name {
                    $(stringify!($name) => FieldRef::$ty(&self.$name),)*
                    other => panic!("lead field {other} has no accessor"),
                }
            }

            /// The value of field `f`, to set it (row mappers, importers).
            ///
            /// # Panics
            /// If `f` is not in [`FIELDS`].
            pub fn field_mut(&mut self, f: &FieldDef) -> FieldMut<'_> {
                match f.name {
                    $(stringify!($name) => FieldMut::$ty(&mut self.$name),)*
                    other => panic!("lead field {other} has no accessor"),
                }
            }
        }

        client_structs!(@sort [] [] [] $($write $name $ty,)*);
    };
}
