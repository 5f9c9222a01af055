//! Smart column mapping: a file's header row → lead fields. Headers are
//! compared with case, spacing and punctuation removed, against the field
//! names, the headers Pulse's own export writes (`export::engine_columns`)
//! and the synonyms that job portals and walk-in registers use.

use serde::Serialize;

/// A lead field a column can fill. The discriminant is the bit of the
/// field in a [`Present`] mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Field {
    Id,
    Name,
    PhoneNumber,
    Email,
    Vehicle,
    DrivingLicense,
    Experience,
    InterestedEv,
    MonthlySalary,
    ResidingChennai,
    CurrentLocation,
    PreferredShift,
    AllottedShift,
    DefaultVehicle,
    EndDate,
    DlNo,
    BadgeNo,
    AadharCard,
    PanCard,
    GasBill,
    BankPassbook,
    Stage,
    Status,
    AssignedTelecaller,
    AssignedDate,
    CallbackDate,
    LastCalled,
    Source,
    ImportDate,
    Remarks,
    CreatedAt,
    UpdatedAt,
    RemarksHistory,
    StatusHistory,
}

/// Every field, in [`Field`] order.
pub const FIELDS: [Field; 34] = [
    Field::Id,
    Field::Name,
    Field::PhoneNumber,
    Field::Email,
    Field::Vehicle,
    Field::DrivingLicense,
    Field::Experience,
    Field::InterestedEv,
    Field::MonthlySalary,
    Field::ResidingChennai,
    Field::CurrentLocation,
    Field::PreferredShift,
    Field::AllottedShift,
    Field::DefaultVehicle,
    Field::EndDate,
    Field::DlNo,
    Field::BadgeNo,
    Field::AadharCard,
    Field::PanCard,
    Field::GasBill,
    Field::BankPassbook,
    Field::Stage,
    Field::Status,
    Field::AssignedTelecaller,
    Field::AssignedDate,
    Field::CallbackDate,
    Field::LastCalled,
    Field::Source,
    Field::ImportDate,
    Field::Remarks,
    Field::CreatedAt,
    Field::UpdatedAt,
    Field::RemarksHistory,
    Field::StatusHistory,
];

impl Field {
    /// The lead's JSON field name.
    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::PhoneNumber => "phone_number",
            Field::Email => "email",
            Field::Vehicle => "vehicle",
            Field::DrivingLicense => "driving_license",
            Field::Experience => "experience",
            Field::InterestedEv => "interested_ev",
            Field::MonthlySalary => "monthly_salary",
            Field::ResidingChennai => "residing_chennai",
            Field::CurrentLocation => "current_location",
            Field::PreferredShift => "preferred_shift",
            Field::AllottedShift => "allotted_shift",
            Field::DefaultVehicle => "default_vehicle",
            Field::EndDate => "end_date",
            Field::DlNo => "dl_no",
            Field::BadgeNo => "badge_no",
            Field::AadharCard => "aadhar_card",
            Field::PanCard => "pan_card",
            Field::GasBill => "gas_bill",
            Field::BankPassbook => "bank_passbook",
            Field::Stage => "stage",
            Field::Status => "status",
            Field::AssignedTelecaller => "assigned_telecaller",
            Field::AssignedDate => "assigned_date",
            Field::CallbackDate => "callback_date",
            Field::LastCalled => "last_called",
            Field::Source => "source",
            Field::ImportDate => "import_date",
            Field::Remarks => "remarks",
            Field::CreatedAt => "created_at",
            Field::UpdatedAt => "updated_at",
            Field::RemarksHistory => "remarks_history",
            Field::StatusHistory => "status_history",
        }
    }

    /// The field with this JSON name.
    pub fn from_name(name: &str) -> Option<Field> {
        FIELDS.iter().copied().find(|f| f.name() == name)
    }

    /// A document number (PII, masked in exports for most roles).
    pub fn is_document(self) -> bool {
        matches!(
            self,
            Field::DlNo
                | Field::BadgeNo
                | Field::AadharCard
                | Field::PanCard
                | Field::GasBill
                | Field::BankPassbook
        )
    }

    /// A text field (not a date, an instant, the id, the stage or a history).
    pub fn is_text(self) -> bool {
        !matches!(
            self,
            Field::Id
                | Field::Stage
                | Field::EndDate
                | Field::AssignedDate
                | Field::CallbackDate
                | Field::ImportDate
                | Field::LastCalled
                | Field::CreatedAt
                | Field::UpdatedAt
                | Field::RemarksHistory
                | Field::StatusHistory
        )
    }

    fn bit(self) -> u64 {
        1 << (self as u8)
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnUse {
    /// The header as written.
    pub header: String,
    /// The field it fills, or `None` when ignored.
    pub field: Option<&'static str>,
    /// Why it was ignored (`unknown header`, `derived`, `duplicate of column N`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
}

/// The mapping of one header row.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// For each column position: the field and how its instants are read.
    pub columns: Vec<Option<(Field, Zone)>>,
    /// The report of every non-empty header.
    pub uses: Vec<ColumnUse>,
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

/// Synonyms, already normalised. The field's own name and Pulse's export
/// header (also normalised) are implied.
const SYNONYMS: &[(Field, &[&str])] = &[
    (Field::Id, &["leadid", "uuid"]),
    (
        Field::Name,
        &[
            "drivername",
            "fullname",
            "candidatename",
            "leadname",
            "customername",
            "nameofdriver",
            "nameofthedriver",
            "name",
        ],
    ),
    (
        Field::PhoneNumber,
        &[
            "phone",
            "phoneno",
            "phonenumber",
            "mobile",
            "mobileno",
            "mobilenumber",
            "mobilenum",
            "contact",
            "contactno",
            "contactnumber",
            "whatsapp",
            "whatsappno",
            "whatsappnumber",
            "cell",
            "cellno",
            "cellphone",
            "phonenum",
            "primaryphone",
        ],
    ),
    (Field::Email, &["emailid", "emailaddress", "mail", "mailid"]),
    (Field::Vehicle, &["vehicletype", "vehiclepreference"]),
    (
        Field::DrivingLicense,
        &[
            "drivinglicence",
            "license",
            "licence",
            "hasdl",
            "hasdrivinglicense",
            "dlavailable",
        ],
    ),
    (
        Field::Experience,
        &[
            "drivingexperience",
            "exp",
            "yearsofexperience",
            "experienceyears",
        ],
    ),
    (
        Field::InterestedEv,
        &["interestedinev", "evinterest", "interestedinevdriving"],
    ),
    (
        Field::MonthlySalary,
        &[
            "salary",
            "expectedsalary",
            "salaryexpectation",
            "salaryexpected",
        ],
    ),
    (
        Field::ResidingChennai,
        &[
            "residinginchennai",
            "chennairesident",
            "inchennai",
            "livesinchennai",
        ],
    ),
    (
        Field::CurrentLocation,
        &[
            "location",
            "area",
            "city",
            "address",
            "locality",
            "currentaddress",
        ],
    ),
    (Field::PreferredShift, &["shift", "shiftpreference"]),
    (Field::AllottedShift, &["allotedshift", "assignedshift"]),
    (Field::DefaultVehicle, &["vehicleno", "vehiclenumber"]),
    (Field::EndDate, &["lastworkingday", "lastworkingdate"]),
    (
        Field::DlNo,
        &[
            "dl",
            "dlnumber",
            "drivinglicensenumber",
            "drivinglicenseno",
            "licenseno",
            "licensenumber",
        ],
    ),
    (Field::BadgeNo, &["badge", "badgenumber"]),
    (
        Field::AadharCard,
        &[
            "aadhar",
            "aadhaar",
            "aadhaarcard",
            "aadharno",
            "aadhaarno",
            "aadharnumber",
            "aadhaarnumber",
        ],
    ),
    (Field::PanCard, &["pan", "panno", "pannumber"]),
    (Field::GasBill, &["gasbillno", "gasbillnumber"]),
    (
        Field::BankPassbook,
        &[
            "passbook",
            "bankaccount",
            "accountnumber",
            "bankaccountnumber",
            "accountno",
        ],
    ),
    (Field::Stage, &["pipelinestage", "leadstage"]),
    (Field::Status, &["leadstatus", "currentstatus"]),
    (
        Field::AssignedTelecaller,
        &[
            "telecaller",
            "assignedto",
            "caller",
            "telecalleremail",
            "telecallername",
        ],
    ),
    (Field::AssignedDate, &["assignmentdate", "dateassigned"]),
    (
        Field::CallbackDate,
        &["callback", "followupdate", "callbackon"],
    ),
    (
        Field::LastCalled,
        &[
            "lastcalledist",
            "lastcalledutc",
            "lastcall",
            "lastcalledat",
            "lastcalledon",
        ],
    ),
    (Field::Source, &["leadsource", "sourcename", "channel"]),
    (
        Field::ImportDate,
        &["dateofimport", "importedon", "leaddate", "importeddate"],
    ),
    (
        Field::Remarks,
        &["remark", "notes", "note", "comments", "comment"],
    ),
    (
        Field::CreatedAt,
        &[
            "createdatist",
            "createdatutc",
            "created",
            "createdon",
            "createddate",
        ],
    ),
    (
        Field::UpdatedAt,
        &[
            "updatedatist",
            "updatedatutc",
            "updated",
            "updatedon",
            "lastupdated",
        ],
    ),
];

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
            SYNONYMS
                .iter()
                .find(|(_, names)| names.contains(&n.as_str()))
                .map(|(f, _)| *f)
        });
    Ok(found.map(|f| (f, zone)))
}

/// Maps a header row. Later columns naming a field already taken are ignored
/// (reported), so a sheet with `Phone` and `Alternate Phone` takes the first.
pub fn map_headers<S: AsRef<str>>(headers: &[S]) -> Mapping {
    let mut m = Mapping {
        columns: Vec::with_capacity(headers.len()),
        uses: Vec::new(),
    };
    let mut taken: Vec<(Field, usize)> = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.as_ref();
        let mut usage = ColumnUse {
            header: h.to_owned(),
            field: None,
            ignored: None,
        };
        let mut col = None;
        match field_of(h) {
            Err(why) => usage.ignored = Some(why.into()),
            Ok(None) => usage.ignored = Some("unknown header".into()),
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
}
