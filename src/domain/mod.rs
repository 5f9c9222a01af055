//! Pure domain rules: no I/O, no HTTP, no database.
//!
//! Everything here is parsed at the edge and unit-tested without a server:
//! phone numbers ([`phone`]), the pipeline ([`pipeline`]), the lead and its
//! create/patch inputs ([`lead`], [`lead_input`], [`lead_patch`]), the
//! write-path rules of a whole lead ([`lead_rules`]), PII
//! masking ([`pii`]), roles ([`role`]), the acting account ([`actor`]),
//! assignment rules ([`assignment`]), account fields ([`account`]) and IST
//! dates ([`mod@ist`]).

pub mod account;
pub mod actor;
pub mod assignment;
pub mod calls;
pub mod error;
#[macro_use]
pub mod field_meta;
pub mod ist;
pub mod lead;
pub mod lead_fields;
pub mod lead_history;
pub mod lead_input;
pub mod lead_patch;
pub mod lead_rules;
pub mod phone;
pub mod pii;
pub mod pipeline;
pub mod role;
pub mod sources;
pub mod sync_stage;

pub use account::{AccountError, parse_email, parse_name};
pub use actor::Actor;
pub use assignment::Reassigned;
pub use calls::{CallEvent, CallOutcome, EventCount, Figures};
pub use error::{DomainError, Refusal};
pub use ist::{IST, ist, ist_today, to_ist, today_ist};
pub use lead::{Lead, RemarkEntry, StatusEntry};
pub use lead_fields::{FIELDS, FieldDef, FieldMut, FieldRef, FieldType, Group};
pub use lead_input::{LeadInput, NewLead};
pub use lead_patch::{LeadPatch, ValidPatch};
pub use lead_rules::validate_lead;
pub use phone::{PhoneError, PhoneNumber, looks_like_phone};
pub use pii::{DocumentWrite, PII_FIELDS, document_write, looks_masked, mask_document};
pub use pipeline::{
    Stage, StageError, Status, StatusChange, StatusError, apply_status, match_status,
};
pub use role::{AccountStatus, AccountType, Capability, LeadScope};
