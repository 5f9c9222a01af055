//! The one list of lead fields: name, type, PII or not, whether clients may
//! write it, its export header and its import synonyms. The store's row
//! mappings (both backends), the column lists, the bulk paths, the write-path
//! NUL check and the importer's header mapping all follow [`FIELDS`]; adding a
//! field is the checklist in ARCHITECTURE.md ("A lead field").
//!
//! The structs ([`Lead`], [`super::LeadInput`], [`super::LeadPatch`]) stay
//! written out, for their doc comments and serde attributes; the tests below
//! check that they agree with the list, and [`Lead::field`] /
//! [`Lead::field_mut`] are the only by-name access to a lead's values.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::lead::{Lead, RemarkEntry, StatusEntry};
use super::pipeline::Stage;

/// How a field is held (in [`Lead`]) and stored (a column of that type on
/// both backends).
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

/// One lead field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// JSON key, column name and `Lead` field name (all the same).
    pub name: &'static str,
    /// How it is held and stored.
    pub ty: FieldType,
    /// A document number: masked for everyone but `master_admin`.
    pub pii: bool,
    /// Whether a client may set it on create or update (`LeadInput`).
    pub client_writable: bool,
    /// Pulse's export header, if the field is exported under its own header.
    pub export_header: Option<&'static str>,
    /// Extra header spellings the importer accepts, already normalised
    /// (see `import::mapping::normalise`); the name and the export header
    /// are implied.
    pub import_synonyms: &'static [&'static str],
}

/// Every lead field, in column order (the order of `SELECT`s, inserts, the
/// PostgreSQL `COPY` and `Lead`'s JSON).
pub const FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "id",
        ty: FieldType::Uuid,
        pii: false,
        client_writable: false,
        export_header: Some("ID"),
        import_synonyms: &["leadid", "uuid"],
    },
    FieldDef {
        name: "name",
        ty: FieldType::RequiredText,
        pii: false,
        client_writable: true,
        export_header: Some("Name"),
        import_synonyms: &[
            "drivername",
            "fullname",
            "candidatename",
            "leadname",
            "customername",
            "nameofdriver",
            "nameofthedriver",
            "name",
        ],
    },
    FieldDef {
        name: "phone_number",
        ty: FieldType::RequiredText,
        pii: false,
        client_writable: true,
        export_header: Some("Phone Number"),
        import_synonyms: &[
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
    },
    FieldDef {
        name: "email",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Email"),
        import_synonyms: &["emailid", "emailaddress", "mail", "mailid"],
    },
    FieldDef {
        name: "vehicle",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Vehicle"),
        import_synonyms: &["vehicletype", "vehiclepreference"],
    },
    FieldDef {
        name: "driving_license",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Driving License"),
        import_synonyms: &[
            "drivinglicence",
            "license",
            "licence",
            "hasdl",
            "hasdrivinglicense",
            "dlavailable",
        ],
    },
    FieldDef {
        name: "experience",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Experience"),
        import_synonyms: &[
            "drivingexperience",
            "exp",
            "yearsofexperience",
            "experienceyears",
        ],
    },
    FieldDef {
        name: "interested_ev",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Interested EV"),
        import_synonyms: &["interestedinev", "evinterest", "interestedinevdriving"],
    },
    FieldDef {
        name: "monthly_salary",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Monthly Salary"),
        import_synonyms: &[
            "salary",
            "expectedsalary",
            "salaryexpectation",
            "salaryexpected",
        ],
    },
    FieldDef {
        name: "residing_chennai",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Residing Chennai"),
        import_synonyms: &[
            "residinginchennai",
            "chennairesident",
            "inchennai",
            "livesinchennai",
        ],
    },
    FieldDef {
        name: "current_location",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Current Location"),
        import_synonyms: &[
            "location",
            "area",
            "city",
            "address",
            "locality",
            "currentaddress",
        ],
    },
    FieldDef {
        name: "preferred_shift",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Preferred Shift"),
        import_synonyms: &["shift", "shiftpreference"],
    },
    FieldDef {
        name: "allotted_shift",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Allotted Shift"),
        import_synonyms: &["allotedshift", "assignedshift"],
    },
    FieldDef {
        name: "default_vehicle",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Default Vehicle"),
        import_synonyms: &["vehicleno", "vehiclenumber"],
    },
    FieldDef {
        name: "end_date",
        ty: FieldType::Date,
        pii: false,
        client_writable: true,
        export_header: Some("End Date"),
        import_synonyms: &["lastworkingday", "lastworkingdate"],
    },
    FieldDef {
        name: "dl_no",
        ty: FieldType::Text,
        pii: true,
        client_writable: true,
        export_header: Some("DL No"),
        import_synonyms: &[
            "dl",
            "dlnumber",
            "drivinglicensenumber",
            "drivinglicenseno",
            "licenseno",
            "licensenumber",
        ],
    },
    FieldDef {
        name: "badge_no",
        ty: FieldType::Text,
        pii: true,
        client_writable: true,
        export_header: Some("Badge No"),
        import_synonyms: &["badge", "badgenumber"],
    },
    FieldDef {
        name: "aadhar_card",
        ty: FieldType::Text,
        pii: true,
        client_writable: true,
        export_header: Some("Aadhar Card"),
        import_synonyms: &[
            "aadhar",
            "aadhaar",
            "aadhaarcard",
            "aadharno",
            "aadhaarno",
            "aadharnumber",
            "aadhaarnumber",
        ],
    },
    FieldDef {
        name: "pan_card",
        ty: FieldType::Text,
        pii: true,
        client_writable: true,
        export_header: Some("PAN Card"),
        import_synonyms: &["pan", "panno", "pannumber"],
    },
    FieldDef {
        name: "gas_bill",
        ty: FieldType::Text,
        pii: true,
        client_writable: true,
        export_header: Some("Gas Bill"),
        import_synonyms: &["gasbillno", "gasbillnumber"],
    },
    FieldDef {
        name: "bank_passbook",
        ty: FieldType::Text,
        pii: true,
        client_writable: true,
        export_header: Some("Bank Passbook"),
        import_synonyms: &[
            "passbook",
            "bankaccount",
            "accountnumber",
            "bankaccountnumber",
            "accountno",
        ],
    },
    FieldDef {
        name: "stage",
        ty: FieldType::Stage,
        pii: false,
        client_writable: true,
        export_header: Some("Stage"),
        import_synonyms: &["pipelinestage", "leadstage", "currentstage"],
    },
    FieldDef {
        name: "status",
        ty: FieldType::RequiredText,
        pii: false,
        client_writable: true,
        export_header: Some("Status"),
        import_synonyms: &["leadstatus", "currentstatus", "finalstatus"],
    },
    FieldDef {
        name: "assigned_telecaller",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Assigned Telecaller"),
        import_synonyms: &[
            "telecaller",
            "assignedto",
            "caller",
            "telecalleremail",
            "telecallername",
            "poc",
            "pocname",
        ],
    },
    FieldDef {
        name: "assigned_date",
        ty: FieldType::Date,
        pii: false,
        client_writable: true,
        export_header: Some("Assigned Date"),
        import_synonyms: &["assignmentdate", "dateassigned"],
    },
    FieldDef {
        name: "callback_date",
        ty: FieldType::Date,
        pii: false,
        client_writable: true,
        export_header: Some("Callback Date"),
        import_synonyms: &["callback", "followupdate", "callbackon"],
    },
    FieldDef {
        name: "last_called",
        ty: FieldType::Instant,
        pii: false,
        client_writable: false,
        export_header: Some("Last Called (IST)"),
        import_synonyms: &[
            "lastcalledist",
            "lastcalledutc",
            "lastcall",
            "lastcalledat",
            "lastcalledon",
        ],
    },
    FieldDef {
        name: "source",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Source"),
        import_synonyms: &["leadsource", "sourcename", "channel", "leadgenerator"],
    },
    FieldDef {
        name: "import_date",
        ty: FieldType::Date,
        pii: false,
        client_writable: true,
        export_header: Some("Import Date"),
        import_synonyms: &[
            "dateofimport",
            "importedon",
            "leaddate",
            "importeddate",
            "date",
            "leadcreationdate",
        ],
    },
    FieldDef {
        name: "remarks",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Remarks"),
        import_synonyms: &["remark"],
    },
    // The original's two notes (COMPAT §2.5, §3.4): its import sent the
    // "remarks"/"notes"/"comments" columns to `notes`; Pulse keeps its own
    // "Remarks" header for `remarks` (its export must round-trip) and sends
    // the rest here.
    FieldDef {
        name: "telecaller_notes",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        export_header: Some("Telecaller Notes"),
        import_synonyms: &["ss", "ss1", "sss", "nextaction", "action", "followup"],
    },
    FieldDef {
        name: "notes",
        ty: FieldType::Text,
        pii: false,
        client_writable: true,
        // not "Notes": anchors/validate_xlsx.py reads that header as `remarks`
        export_header: Some("General Notes"),
        import_synonyms: &[
            "generalnotes",
            "note",
            "notes",
            "comments",
            "comment",
            "dd",
            "dd1",
            "ss2",
        ],
    },
    FieldDef {
        name: "remarks_history",
        ty: FieldType::RemarkLog,
        pii: false,
        client_writable: false,
        export_header: None,
        import_synonyms: &[],
    },
    FieldDef {
        name: "status_history",
        ty: FieldType::StatusLog,
        pii: false,
        client_writable: false,
        export_header: None,
        import_synonyms: &[],
    },
    FieldDef {
        name: "created_at",
        ty: FieldType::RequiredInstant,
        pii: false,
        client_writable: false,
        export_header: Some("Created At (IST)"),
        import_synonyms: &[
            "createdatist",
            "createdatutc",
            "created",
            "createdon",
            "createddate",
        ],
    },
    FieldDef {
        name: "updated_at",
        ty: FieldType::RequiredInstant,
        pii: false,
        client_writable: false,
        export_header: Some("Updated At (IST)"),
        import_synonyms: &[
            "updatedatist",
            "updatedatutc",
            "updated",
            "updatedon",
            "lastupdated",
        ],
    },
];

/// How many fields [`FIELDS`] holds.
pub const FIELD_COUNT: usize = FIELDS.len();

/// The position of `name` in [`FIELDS`]. In a `const` context an unknown name
/// is a compile error, so a by-name lookup cannot go stale.
pub const fn index_of(name: &str) -> usize {
    let mut i = 0;
    while i < FIELDS.len() {
        if eq(FIELDS[i].name.as_bytes(), name.as_bytes()) {
            return i;
        }
        i += 1;
    }
    panic!("not a lead field")
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The field called `name`.
pub fn by_name(name: &str) -> Option<&'static FieldDef> {
    FIELDS.iter().find(|f| f.name == name)
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

impl Lead {
    /// The value of field `f` (one of [`FIELDS`]).
    ///
    /// # Panics
    /// If `f` is not in [`FIELDS`] (a test checks every one is mapped).
    pub fn field(&self, f: &FieldDef) -> FieldRef<'_> {
        match f.name {
            "id" => FieldRef::Uuid(&self.id),
            "name" => FieldRef::RequiredText(&self.name),
            "phone_number" => FieldRef::RequiredText(&self.phone_number),
            "email" => FieldRef::Text(&self.email),
            "vehicle" => FieldRef::Text(&self.vehicle),
            "driving_license" => FieldRef::Text(&self.driving_license),
            "experience" => FieldRef::Text(&self.experience),
            "interested_ev" => FieldRef::Text(&self.interested_ev),
            "monthly_salary" => FieldRef::Text(&self.monthly_salary),
            "residing_chennai" => FieldRef::Text(&self.residing_chennai),
            "current_location" => FieldRef::Text(&self.current_location),
            "preferred_shift" => FieldRef::Text(&self.preferred_shift),
            "allotted_shift" => FieldRef::Text(&self.allotted_shift),
            "default_vehicle" => FieldRef::Text(&self.default_vehicle),
            "end_date" => FieldRef::Date(&self.end_date),
            "dl_no" => FieldRef::Text(&self.dl_no),
            "badge_no" => FieldRef::Text(&self.badge_no),
            "aadhar_card" => FieldRef::Text(&self.aadhar_card),
            "pan_card" => FieldRef::Text(&self.pan_card),
            "gas_bill" => FieldRef::Text(&self.gas_bill),
            "bank_passbook" => FieldRef::Text(&self.bank_passbook),
            "stage" => FieldRef::Stage(&self.stage),
            "status" => FieldRef::RequiredText(&self.status),
            "assigned_telecaller" => FieldRef::Text(&self.assigned_telecaller),
            "assigned_date" => FieldRef::Date(&self.assigned_date),
            "callback_date" => FieldRef::Date(&self.callback_date),
            "last_called" => FieldRef::Instant(&self.last_called),
            "source" => FieldRef::Text(&self.source),
            "import_date" => FieldRef::Date(&self.import_date),
            "remarks" => FieldRef::Text(&self.remarks),
            "telecaller_notes" => FieldRef::Text(&self.telecaller_notes),
            "notes" => FieldRef::Text(&self.notes),
            "remarks_history" => FieldRef::RemarkLog(&self.remarks_history),
            "status_history" => FieldRef::StatusLog(&self.status_history),
            "created_at" => FieldRef::RequiredInstant(&self.created_at),
            "updated_at" => FieldRef::RequiredInstant(&self.updated_at),
            other => panic!("lead field {other} has no accessor"),
        }
    }

    /// The value of field `f`, to set it (row mappers, importers).
    ///
    /// # Panics
    /// If `f` is not in [`FIELDS`].
    pub fn field_mut(&mut self, f: &FieldDef) -> FieldMut<'_> {
        match f.name {
            "id" => FieldMut::Uuid(&mut self.id),
            "name" => FieldMut::RequiredText(&mut self.name),
            "phone_number" => FieldMut::RequiredText(&mut self.phone_number),
            "email" => FieldMut::Text(&mut self.email),
            "vehicle" => FieldMut::Text(&mut self.vehicle),
            "driving_license" => FieldMut::Text(&mut self.driving_license),
            "experience" => FieldMut::Text(&mut self.experience),
            "interested_ev" => FieldMut::Text(&mut self.interested_ev),
            "monthly_salary" => FieldMut::Text(&mut self.monthly_salary),
            "residing_chennai" => FieldMut::Text(&mut self.residing_chennai),
            "current_location" => FieldMut::Text(&mut self.current_location),
            "preferred_shift" => FieldMut::Text(&mut self.preferred_shift),
            "allotted_shift" => FieldMut::Text(&mut self.allotted_shift),
            "default_vehicle" => FieldMut::Text(&mut self.default_vehicle),
            "end_date" => FieldMut::Date(&mut self.end_date),
            "dl_no" => FieldMut::Text(&mut self.dl_no),
            "badge_no" => FieldMut::Text(&mut self.badge_no),
            "aadhar_card" => FieldMut::Text(&mut self.aadhar_card),
            "pan_card" => FieldMut::Text(&mut self.pan_card),
            "gas_bill" => FieldMut::Text(&mut self.gas_bill),
            "bank_passbook" => FieldMut::Text(&mut self.bank_passbook),
            "stage" => FieldMut::Stage(&mut self.stage),
            "status" => FieldMut::RequiredText(&mut self.status),
            "assigned_telecaller" => FieldMut::Text(&mut self.assigned_telecaller),
            "assigned_date" => FieldMut::Date(&mut self.assigned_date),
            "callback_date" => FieldMut::Date(&mut self.callback_date),
            "last_called" => FieldMut::Instant(&mut self.last_called),
            "source" => FieldMut::Text(&mut self.source),
            "import_date" => FieldMut::Date(&mut self.import_date),
            "remarks" => FieldMut::Text(&mut self.remarks),
            "telecaller_notes" => FieldMut::Text(&mut self.telecaller_notes),
            "notes" => FieldMut::Text(&mut self.notes),
            "remarks_history" => FieldMut::RemarkLog(&mut self.remarks_history),
            "status_history" => FieldMut::StatusLog(&mut self.status_history),
            "created_at" => FieldMut::RequiredInstant(&mut self.created_at),
            "updated_at" => FieldMut::RequiredInstant(&mut self.updated_at),
            other => panic!("lead field {other} has no accessor"),
        }
    }
}

#[cfg(test)]
#[path = "lead_fields_tests.rs"]
mod tests;
