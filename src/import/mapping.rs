//! Smart column mapping: a file's header row → lead fields. Headers are
//! compared with case, spacing and punctuation removed, against the field
//! names, the headers Pulse's own export writes (`export::engine_columns`)
//! and the synonyms that job portals and walk-in registers use.

use serde::Serialize;

use crate::domain::lead_fields::{FIELD_COUNT, FieldDef, FieldType, index_of};

/// A lead field a column can fill: its position in the lead field list
/// ([`crate::domain::FIELDS`]), which is also its bit in a [`Present`] mask.
/// The named constants are the fields the importer treats specially (and
/// the tests); any other field is filled by its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Field(u8);

impl Serialize for Field {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

// A `Present` mask is a u64.
const _: () = assert!(FIELD_COUNT <= 64);

/// Every field, in lead field list order.
pub const FIELDS: [Field; FIELD_COUNT] = {
    let mut all = [Field(0); FIELD_COUNT];
    let mut i = 0;
    while i < FIELD_COUNT {
        all[i] = Field(i as u8);
        i += 1;
    }
    all
};

#[allow(non_upper_case_globals)] // read as the variants they were
impl Field {
    pub const Id: Field = Field::named("id");
    pub const Name: Field = Field::named("name");
    pub const PhoneNumber: Field = Field::named("phone_number");
    pub const Email: Field = Field::named("email");
    pub const Vehicle: Field = Field::named("vehicle");
    pub const DrivingLicense: Field = Field::named("driving_license");
    pub const Experience: Field = Field::named("experience");
    pub const InterestedEv: Field = Field::named("interested_ev");
    pub const MonthlySalary: Field = Field::named("monthly_salary");
    pub const ResidingChennai: Field = Field::named("residing_chennai");
    pub const CurrentLocation: Field = Field::named("current_location");
    pub const PreferredShift: Field = Field::named("preferred_shift");
    pub const AllottedShift: Field = Field::named("allotted_shift");
    pub const DefaultVehicle: Field = Field::named("default_vehicle");
    pub const EndDate: Field = Field::named("end_date");
    pub const DlNo: Field = Field::named("dl_no");
    pub const BadgeNo: Field = Field::named("badge_no");
    pub const AadharCard: Field = Field::named("aadhar_card");
    pub const PanCard: Field = Field::named("pan_card");
    pub const GasBill: Field = Field::named("gas_bill");
    pub const BankPassbook: Field = Field::named("bank_passbook");
    pub const Stage: Field = Field::named("stage");
    pub const Status: Field = Field::named("status");
    pub const AssignedTelecaller: Field = Field::named("assigned_telecaller");
    pub const AssignedDate: Field = Field::named("assigned_date");
    pub const CallbackDate: Field = Field::named("callback_date");
    pub const LastCalled: Field = Field::named("last_called");
    pub const Source: Field = Field::named("source");
    pub const ImportDate: Field = Field::named("import_date");
    pub const Remarks: Field = Field::named("remarks");
    pub const CreatedAt: Field = Field::named("created_at");
    pub const UpdatedAt: Field = Field::named("updated_at");
    pub const RemarksHistory: Field = Field::named("remarks_history");
    pub const StatusHistory: Field = Field::named("status_history");

    const fn named(name: &str) -> Field {
        Field(index_of(name) as u8)
    }

    fn def(self) -> &'static FieldDef {
        &crate::domain::FIELDS[self.0 as usize]
    }

    /// The lead's JSON field name.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The field with this JSON name.
    pub fn from_name(name: &str) -> Option<Field> {
        FIELDS.iter().copied().find(|f| f.name() == name)
    }

    /// A document number (PII, masked in exports for most roles).
    pub fn is_document(self) -> bool {
        self.def().pii
    }

    /// A text field (not a date, an instant, the id, the stage or a history).
    pub fn is_text(self) -> bool {
        matches!(self.def().ty, FieldType::Text | FieldType::RequiredText)
    }

    /// This field's value in `lead`, to set it.
    pub fn slot(self, lead: &mut crate::domain::Lead) -> crate::domain::FieldMut<'_> {
        lead.field_mut(self.def())
    }

    fn bit(self) -> u64 {
        1 << self.0
    }
}

/// The set of fields a row carried (a column of the file, a key of a JSON
/// line): `replace` overwrites only those.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Present(u64);

impl Present {
    /// Adds `f`.
    pub fn insert(&mut self, f: Field) {
        self.0 |= f.bit();
    }

    /// Whether `f` is in the set.
    pub fn contains(self, f: Field) -> bool {
        self.0 & f.bit() != 0
    }

    /// Takes `f` out.
    pub fn remove(&mut self, f: Field) {
        self.0 &= !f.bit();
    }
}

/// How an instant column without an offset is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Zone {
    /// India Standard Time (Pulse's exports, people).
    Ist,
    /// The header says UTC.
    Utc,
}

/// What became of one column of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ColumnUse {
    /// Its position in the header row, 0-based.
    #[serde(skip)]
    pub column: usize,
    /// The header as written.
    pub header: String,
    /// The field it fills, or `None` when ignored.
    pub field: Option<&'static str>,
    /// Why it was ignored (`unknown header`, `derived`, `duplicate of column N`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    /// How it is used when that needs saying (a second status column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The mapping of one header row.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// For each column position: the field and how its instants are read.
    pub columns: Vec<Option<(Field, Zone)>>,
    /// The report of every non-empty header.
    pub uses: Vec<ColumnUse>,
    /// The status columns, the one read first first (see [`status_rank`]):
    /// a row's status is the first of them that is filled.
    pub status_columns: Vec<usize>,
}

impl Mapping {
    /// Whether a phone column was found (a sheet without one is not leads).
    pub fn has(&self, f: Field) -> bool {
        self.columns.iter().flatten().any(|(g, _)| *g == f)
    }
}

/// Lower-case ASCII letters and digits only (`"Phone No."` → `phoneno`).
/// Non-ASCII letters are kept lower-cased, so a header in Tamil still
/// compares with itself.
pub fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a header names, if any; `Err(reason)` for a known column that
/// is deliberately not imported (the export's derived `… Uploaded` columns).
pub fn field_of(header: &str) -> Result<Option<(Field, Zone)>, &'static str> {
    let n = normalise(header);
    if n.is_empty() {
        return Ok(None);
    }
    if n.ends_with("uploaded") {
        return Err("derived (computed from the document number)");
    }
    let zone = if n.ends_with("utc") {
        Zone::Utc
    } else {
        Zone::Ist
    };
    let found = FIELDS
        .iter()
        .copied()
        .find(|f| normalise(f.name()) == n)
        .or_else(|| {
            crate::domain::FIELDS
                .iter()
                .find(|d| d.import_synonyms.contains(&n.as_str()))
                .and_then(|d| Field::from_name(d.name))
        });
    Ok(found.map(|f| (f, zone)))
}

/// A person's choice for one column of the header row (the import wizard's
/// mapping step): the column at `column` (0-based), if its header reads
/// `header`, fills `field` — or nothing, when `field` is `None` ("don't
/// import"). Columns without a choice keep the guessed field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnChoice {
    /// Position in the header row, 0-based.
    pub column: usize,
    /// The header as written (a choice applies only where it matches, so a
    /// sheet laid out differently keeps its own guesses).
    pub header: String,
    /// The lead field's name (`FIELDS`), or `None`: not imported.
    pub field: Option<String>,
}

impl ColumnChoice {
    /// Checks `field` names a lead field a file may fill.
    pub fn check(&self) -> Result<(), String> {
        match self.field.as_deref() {
            None => Ok(()),
            Some(name) if Field::from_name(name).is_some() => Ok(()),
            Some(name) => Err(format!(
                "column {} ({:?}): {name:?} is not a lead field",
                self.column + 1,
                self.header
            )),
        }
    }
}

/// An explicit mapping by column position, and the whole of it: the
/// original's bulk-import `column_mapping` (COMPAT §2.14), lead field →
/// 0-based column. Columns it does not name are not imported, whatever
/// their header says; the header row is the sheet's first non-blank row,
/// read only to report what each column held.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ColumnPositions(pub Vec<(usize, String)>);

impl ColumnPositions {
    /// Checks every field is a lead field a file may fill, every column is
    /// within a sheet's width, and no field or column is named twice.
    pub fn check(&self) -> Result<(), String> {
        for (i, (column, name)) in self.0.iter().enumerate() {
            if Field::from_name(name).is_none() {
                return Err(format!("column_mapping: {name:?} is not a lead field"));
            }
            if *column >= super::xlsx::MAX_COLUMNS {
                return Err(format!(
                    "column_mapping: {name}: column {column} is past the last column a sheet may have ({})",
                    super::xlsx::MAX_COLUMNS - 1
                ));
            }
            if let Some((_, other)) = self.0[..i].iter().find(|(c, _)| c == column) {
                return Err(format!(
                    "column_mapping: column {column} is mapped to both {other} and {name}"
                ));
            }
            if self.0[..i].iter().any(|(_, n)| n == name) {
                return Err(format!("column_mapping: {name} is mapped twice"));
            }
        }
        Ok(())
    }

    /// The mapping of a sheet whose header row reads `headers` (the
    /// columns past the header's end that the positions name included).
    pub fn mapping<S: AsRef<str>>(&self, headers: &[S]) -> Mapping {
        let width = self
            .0
            .iter()
            .map(|(c, _)| c + 1)
            .max()
            .unwrap_or(0)
            .max(headers.len());
        let header = |i: usize| headers.get(i).map(|h| h.as_ref()).unwrap_or("");
        let mut m = Mapping {
            columns: vec![None; width],
            uses: Vec::new(),
            status_columns: Vec::new(),
        };
        for i in 0..width {
            let chosen = self.0.iter().find(|(c, _)| *c == i);
            let field = chosen.and_then(|(_, n)| Field::from_name(n));
            if let Some(f) = field {
                m.columns[i] = Some((f, zone_of(header(i))));
                if f == Field::Status {
                    m.status_columns.push(i);
                }
            }
            if field.is_some() || !header(i).trim().is_empty() {
                m.uses.push(ColumnUse {
                    column: i,
                    header: header(i).to_owned(),
                    field: field.map(Field::name),
                    ignored: field.is_none().then(|| "not in column_mapping".to_owned()),
                    note: None,
                });
            }
        }
        m
    }
}

/// How an instant column's header says its zone.
fn zone_of(header: &str) -> Zone {
    if normalise(header).ends_with("utc") {
        Zone::Utc
    } else {
        Zone::Ist
    }
}

/// The original's order among status headers (COMPAT §3.4: `status.1`,
/// i.e. a repeated "Status", then status, final status, lead status,
/// current status); lower is read first.
fn status_rank(header: &str) -> usize {
    ["status", "finalstatus", "leadstatus", "currentstatus"]
        .iter()
        .position(|h| *h == normalise(header))
        .unwrap_or(4)
}

/// Maps a header row. Later columns naming a field already taken are ignored
/// (reported), so a sheet with `Phone` and `Alternate Phone` takes the first
/// — but for the status: every status column is read, in the original's
/// order (a repeated header: the later copy first), the first filled one
/// wins for each row.
pub fn map_headers<S: AsRef<str>>(headers: &[S]) -> Mapping {
    map_headers_with(headers, &[])
}

/// [`map_headers`] with a person's choices applied first (see [`ColumnChoice`]).
pub fn map_headers_with<S: AsRef<str>>(headers: &[S], choices: &[ColumnChoice]) -> Mapping {
    let mut m = Mapping {
        columns: Vec::with_capacity(headers.len()),
        uses: Vec::new(),
        status_columns: Vec::new(),
    };
    let mut taken: Vec<(Field, usize)> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.as_ref();
        let mut usage = ColumnUse {
            column: i,
            header: h.to_owned(),
            field: None,
            ignored: None,
            note: None,
        };
        let mut col = None;
        let chosen = choices.iter().find(|c| c.column == i && c.header == h);
        let read = match chosen {
            Some(c) => match c.field.as_deref().and_then(Field::from_name) {
                Some(f) => Ok(Some((f, zone_of(h)))),
                None => Err("not imported (chosen in the mapping)"),
            },
            None => field_of(h),
        };
        match read {
            Err(why) => usage.ignored = Some(why.into()),
            Ok(None) => usage.ignored = Some("unknown header".into()),
            Ok(Some((f, zone))) if f == Field::Status => {
                m.status_columns.push(i);
                usage.field = Some(f.name());
                col = Some((f, zone));
            }
            Ok(Some((f, zone))) => {
                if let Some((_, first)) = taken.iter().find(|(g, _)| *g == f) {
                    usage.ignored = Some(format!(
                        "{} already read from column {}",
                        f.name(),
                        first + 1
                    ));
                } else {
                    taken.push((f, i));
                    usage.field = Some(f.name());
                    col = Some((f, zone));
                }
            }
        }
        m.columns.push(col);
        if !h.trim().is_empty() {
            m.uses.push(usage);
        }
    }
    let order = |i: &usize| (status_rank(headers[*i].as_ref()), std::cmp::Reverse(*i));
    m.status_columns.sort_by_key(order);
    if m.status_columns.len() > 1 {
        let names: Vec<String> = m
            .status_columns
            .iter()
            .map(|i| format!("column {}", i + 1))
            .collect();
        let note = format!(
            "one of {} status columns, read in the order {} (the first filled one wins)",
            names.len(),
            names.join(", ")
        );
        for u in m.uses.iter_mut().filter(|u| u.field == Some("status")) {
            u.note = Some(note.clone());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_and_spelling() {
        let cases = [
            ("Phone Number", Field::PhoneNumber),
            ("MOBILE_NUMBER", Field::PhoneNumber),
            ("contact", Field::PhoneNumber),
            (" Mobile No. ", Field::PhoneNumber),
            ("Driver Name", Field::Name),
            ("full-name", Field::Name),
            ("Assigned Telecaller", Field::AssignedTelecaller),
            ("DL No", Field::DlNo),
            ("Aadhar Card", Field::AadharCard),
            ("Created At (IST)", Field::CreatedAt),
            ("Last Called (IST)", Field::LastCalled),
            ("lead_source", Field::Source),
            ("ID", Field::Id),
        ];
        for (h, f) in cases {
            assert_eq!(field_of(h).unwrap().map(|x| x.0), Some(f), "{h}");
        }
        assert_eq!(
            field_of("Created At (UTC)").unwrap(),
            Some((Field::CreatedAt, Zone::Utc))
        );
        assert!(field_of("DL No Uploaded").is_err());
        assert_eq!(field_of("Favourite colour").unwrap(), None);
    }

    #[test]
    fn every_export_header_maps_back() {
        for c in crate::export::engine::ALL_COLUMNS.iter() {
            let got = field_of(&c.column.header);
            if c.key.ends_with("_uploaded") {
                assert!(got.is_err(), "{}", c.key);
            } else {
                assert_eq!(got.unwrap().map(|x| x.0.name()), Some(c.key), "{}", c.key);
            }
        }
    }

    #[test]
    fn first_column_wins_and_unknown_are_reported() {
        let m = map_headers(&["Mobile", "Phone", "Shoe size", ""]);
        assert_eq!(m.columns[0], Some((Field::PhoneNumber, Zone::Ist)));
        assert_eq!(m.columns[1], None);
        assert_eq!(m.uses.len(), 3);
        assert!(m.uses[1].ignored.as_deref().unwrap().contains("column 1"));
        assert_eq!(m.uses[2].ignored.as_deref(), Some("unknown header"));
    }

    #[test]
    fn every_status_column_is_read_in_the_originals_order() {
        let m = map_headers(&[
            "Current Status",
            "Status",
            "Phone",
            "Final Status",
            "STATUS",
        ]);
        assert_eq!(m.status_columns, vec![4, 1, 3, 0]);
        assert!(
            m.uses
                .iter()
                .filter(|u| u.field == Some("status"))
                .all(|u| u.note.is_some())
        );
        let m = map_headers(&["Phone", "Status"]);
        assert_eq!(m.status_columns, vec![1]);
        assert!(m.uses[1].note.is_none());
    }

    #[test]
    fn positions_are_the_whole_mapping() {
        let p = ColumnPositions(vec![
            (0, "name".into()),
            (2, "phone_number".into()),
            (4, "status".into()),
        ]);
        p.check().unwrap();
        // "Phone" at 1 is not read; column 4 lies past the header's end
        let m = p.mapping(&["Driver", "Phone", "Mobile no", "Colour"]);
        assert_eq!(m.columns.len(), 5);
        assert_eq!(m.columns[0], Some((Field::Name, Zone::Ist)));
        assert_eq!(m.columns[1], None);
        assert_eq!(m.columns[2], Some((Field::PhoneNumber, Zone::Ist)));
        assert_eq!(m.columns[3], None);
        assert_eq!(m.status_columns, vec![4]);
        assert_eq!(m.uses[1].ignored.as_deref(), Some("not in column_mapping"));
        let bad = |v: Vec<(usize, &str)>| {
            ColumnPositions(v.into_iter().map(|(c, f)| (c, f.to_owned())).collect())
                .check()
                .unwrap_err()
        };
        assert!(bad(vec![(0, "shoe_size")]).contains("shoe_size"));
        assert!(bad(vec![(0, "name"), (0, "email")]).contains("column 0"));
        assert!(bad(vec![(1, "name"), (2, "name")]).contains("twice"));
        assert!(bad(vec![(20_000, "name")]).contains("20000"));
    }

    #[test]
    fn choices_override_the_guess_where_the_header_matches() {
        let choice = |column: usize, header: &str, field: Option<&str>| ColumnChoice {
            column,
            header: header.into(),
            field: field.map(Into::into),
        };
        let headers = ["Mobile", "Driver Name", "Area", "Shoe size"];
        let guessed = map_headers(&headers);
        assert_eq!(guessed.columns[1], Some((Field::Name, Zone::Ist)));
        assert_eq!(guessed.columns[3], None);
        let m = map_headers_with(
            &headers,
            &[
                choice(1, "Driver Name", None),
                choice(3, "Shoe size", Some("remarks")),
                // another layout's header at this position: not applied
                choice(2, "City", None),
            ],
        );
        assert_eq!(m.columns[0], Some((Field::PhoneNumber, Zone::Ist)));
        assert_eq!(m.columns[1], None);
        assert!(m.uses[1].ignored.as_deref().unwrap().contains("chosen"));
        assert_eq!(m.columns[2], guessed.columns[2]);
        assert_eq!(m.columns[3], Some((Field::Remarks, Zone::Ist)));
        assert!(choice(0, "x", Some("nonsense")).check().is_err());
        assert!(choice(0, "x", Some("name")).check().is_ok());
    }
}
