//! The one list of lead fields. Each entry gives the field's name, type,
//! how clients write it (`write`: see `client_structs!` in
//! [`super::field_meta`]), its group and label on the lead's pages, PII or
//! not, its export header and its import synonyms, with the doc comment and
//! serde attributes of its [`Lead`] field. From it `lead_fields!` makes
//! [`FIELDS`], the [`Lead`] struct, [`super::LeadInput`],
//! [`super::LeadPatch`] and [`Lead::field`] / [`Lead::field_mut`]; the
//! store's row mappings and column lists (both backends), the bulk paths,
//! the write-path NUL check, the export columns, the importer's header
//! mapping, the backup format and the lead pages follow [`FIELDS`]. Adding a
//! field is the checklist in ARCHITECTURE.md ("A lead field").

pub use super::field_meta::{FieldDef, FieldMut, FieldRef, FieldType, Group};
use super::field_meta::{SentText, nullable, text_or_number};

lead_fields! {
    /// Stable identity, also in exports and backups.
    id: Uuid, write no, Unlisted "ID",
        pii false, export Some("ID"), synonyms ["leadid", "uuid"];
    /// Driver's name as entered; not trimmed (data carries over exactly).
    name: RequiredText, write required, Identity "Name",
        pii false, export Some("Name"), synonyms [
            "drivername",
            "fullname",
            "candidatename",
            "leadname",
            "customername",
            "nameofdriver",
            "nameofthedriver",
            "name",
        ];
    /// Normalised 10-digit mobile (see [`super::PhoneNumber`]); unique.
    phone_number: RequiredText, write phone, Identity "Phone",
        pii false, export Some("Phone Number"), synonyms [
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
        ];
    /// E-mail address, free text.
    email: Text, write plain, Identity "E-mail",
        pii false, export Some("Email"), synonyms ["emailid", "emailaddress", "mail", "mailid"];
    /// Vehicle preference ("e-auto", "2W EV", …).
    vehicle: Text, write plain, Profile "Vehicle",
        pii false, export Some("Vehicle"), synonyms ["vehicletype", "vehiclepreference"];
    /// Has a driving licence ("Yes"/"No").
    driving_license: Text, write plain, Profile "Driving licence",
        pii false, export Some("Driving License"), synonyms [
            "drivinglicence",
            "license",
            "licence",
            "hasdl",
            "hasdrivinglicense",
            "dlavailable",
        ];
    /// Driving experience, free text ("2 years", "Fresher").
    experience: Text, write plain, Profile "Experience",
        pii false, export Some("Experience"), synonyms [
            "drivingexperience",
            "exp",
            "yearsofexperience",
            "experienceyears",
        ];
    /// Interested in driving an EV ("Yes"/"No").
    interested_ev: Text, write plain, Profile "Interested in EV",
        pii false, export Some("Interested EV"), synonyms [
            "interestedinev",
            "evinterest",
            "interestedinevdriving",
        ];
    /// Expected salary, free text ("27500", "25k").
    monthly_salary: Text, write plain, Profile "Monthly salary",
        pii false, export Some("Monthly Salary"), synonyms [
            "salary",
            "expectedsalary",
            "salaryexpectation",
            "salaryexpected",
        ];
    /// Lives in Chennai ("Yes"/"No").
    residing_chennai: Text, write plain, Profile "Lives in Chennai",
        pii false, export Some("Residing Chennai"), synonyms [
            "residinginchennai",
            "chennairesident",
            "inchennai",
            "livesinchennai",
        ];
    /// Area or city.
    current_location: Text, write plain, Profile "Current location",
        pii false, export Some("Current Location"), synonyms [
            "location",
            "area",
            "city",
            "address",
            "locality",
            "currentaddress",
        ];
    /// Shift the driver asked for.
    preferred_shift: Text, write plain, Profile "Preferred shift",
        pii false, export Some("Preferred Shift"), synonyms ["shift", "shiftpreference"];
    /// Shift the driver was given.
    allotted_shift: Text, write plain, Profile "Allotted shift",
        pii false, export Some("Allotted Shift"), synonyms ["allotedshift", "assignedshift"];
    /// Registration of the vehicle allotted by default.
    default_vehicle: Text, write plain, Profile "Default vehicle",
        pii false, export Some("Default Vehicle"), synonyms ["vehicleno", "vehiclenumber"];
    /// Last working day, for terminated drivers.
    end_date: Date, write plain, Profile "End date",
        pii false, export Some("End Date"), synonyms ["lastworkingday", "lastworkingdate"];
    /// Driving licence number (PII).
    dl_no: Text, write plain, Documents "DL number",
        pii true, export Some("DL No"), synonyms [
            "dl",
            "dlnumber",
            "drivinglicensenumber",
            "drivinglicenseno",
            "licenseno",
            "licensenumber",
        ];
    /// Badge number (PII).
    badge_no: Text, write plain, Documents "Badge number",
        pii true, export Some("Badge No"), synonyms ["badge", "badgenumber"];
    /// Aadhaar number (PII; the original's spelling of the field).
    aadhar_card: Text, write plain, Documents "Aadhaar",
        pii true, export Some("Aadhar Card"), synonyms [
            "aadhar",
            "aadhaar",
            "aadhaarcard",
            "aadharno",
            "aadhaarno",
            "aadharnumber",
            "aadhaarnumber",
        ];
    /// PAN (PII).
    pan_card: Text, write plain, Documents "PAN",
        pii true, export Some("PAN Card"), synonyms ["pan", "panno", "pannumber"];
    /// Gas bill consumer number (PII).
    gas_bill: Text, write plain, Documents "Gas bill",
        pii true, export Some("Gas Bill"), synonyms ["gasbillno", "gasbillnumber"];
    /// Bank account number (PII).
    bank_passbook: Text, write plain, Documents "Bank passbook",
        pii true, export Some("Bank Passbook"), synonyms [
            "passbook",
            "bankaccount",
            "accountnumber",
            "bankaccountnumber",
            "accountno",
        ];
    /// Pipeline stage.
    stage: Stage, write coded, Pipeline "Stage",
        pii false, export Some("Stage"), synonyms ["pipelinestage", "leadstage", "currentstage"];
    /// Canonical status name of `stage` (see [`super::match_status`]).
    status: RequiredText, write coded, Pipeline "Status",
        pii false, export Some("Status"), synonyms ["leadstatus", "currentstatus", "finalstatus"];
    /// Login (usually e-mail) of the telecaller, or a name from an import
    /// for whom no account exists yet.
    assigned_telecaller: Text, write plain, Pipeline "Telecaller",
        pii false, export Some("Assigned Telecaller"), synonyms [
            "telecaller",
            "assignedto",
            "caller",
            "telecalleremail",
            "telecallername",
            "poc",
            "pocname",
        ];
    /// IST day the lead is assigned to.
    assigned_date: Date, write custom, Pipeline "Assigned for",
        pii false, export Some("Assigned Date"), synonyms ["assignmentdate", "dateassigned"];
    /// IST day a callback is due.
    callback_date: Date, write custom, Pipeline "Callback",
        pii false, export Some("Callback Date"), synonyms [
            "callback",
            "followupdate",
            "callbackon",
        ];
    /// When the lead was last called.
    last_called: Instant, write no, Pipeline "Last called",
        pii false, export Some("Last Called (IST)"), synonyms [
            "lastcalledist",
            "lastcalledutc",
            "lastcall",
            "lastcalledat",
            "lastcalledon",
        ];
    /// Import batch or channel ("Facebook Ad", "Walk-in Porur").
    source: Text, write plain, Provenance "Source",
        pii false, export Some("Source"), synonyms [
            "leadsource",
            "sourcename",
            "channel",
            "leadgenerator",
        ];
    /// IST day of import.
    import_date: Date, write custom, Provenance "Imported",
        pii false, export Some("Import Date"), synonyms [
            "dateofimport",
            "importedon",
            "leaddate",
            "importeddate",
            "date",
            "leadcreationdate",
        ];
    /// Latest remark.
    remarks: Text, write custom, Unlisted "Remark",
        pii false, export Some("Remarks"), synonyms ["remark"];
    // The original's two notes (COMPAT §2.5, §3.4): its import sent the
    // "remarks"/"notes"/"comments" columns to `notes`; Pulse keeps its own
    // "Remarks" header for `remarks` (its export must round-trip) and sends
    // the rest here.
    /// The telecaller's notes on the lead (the original's "Telecaller Notes").
    /// Like the original's documents, a lead without notes has no such key, so
    /// its JSON stays the anchors' shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    telecaller_notes: Text, write plain, Notes "Telecaller notes",
        pii false, export Some("Telecaller Notes"), synonyms [
            "ss",
            "ss1",
            "sss",
            "nextaction",
            "action",
            "followup",
        ];
    /// General notes (the original's `notes`: where its import put a sheet's
    /// remarks); absent from the JSON when empty, as `telecaller_notes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    // export: not "Notes": anchors/validate_xlsx.py reads that header as `remarks`
    notes: Text, write plain, Notes "General notes",
        pii false, export Some("General Notes"), synonyms [
            "generalnotes",
            "note",
            "notes",
            "comments",
            "comment",
            "dd",
            "dd1",
            "ss2",
        ];
    /// Every remark ever set, oldest first.
    #[serde(default)]
    remarks_history: RemarkLog, write no, Unlisted "Remarks",
        pii false, export None, synonyms [];
    /// Every status change, oldest first.
    #[serde(default)]
    status_history: StatusLog, write no, Unlisted "Status history",
        pii false, export None, synonyms [];
    /// Created (stored UTC, shown in IST).
    created_at: RequiredInstant, write no, Provenance "Created",
        pii false, export Some("Created At (IST)"), synonyms [
            "createdatist",
            "createdatutc",
            "created",
            "createdon",
            "createddate",
        ];
    /// Last changed (stored UTC, shown in IST).
    updated_at: RequiredInstant, write no, Provenance "Updated",
        pii false, export Some("Updated At (IST)"), synonyms [
            "updatedatist",
            "updatedatutc",
            "updated",
            "updatedon",
            "lastupdated",
        ];
}

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

#[cfg(test)]
#[path = "lead_fields_tests.rs"]
mod tests;
