//! Pure domain rules: no I/O, no HTTP, no database.
//!
//! Everything here is parsed at the edge and unit-tested without a server:
//! phone numbers ([`phone`]), the pipeline ([`pipeline`]), the lead and its
//! create/patch inputs ([`lead`], [`lead_input`], [`lead_patch`]), PII
//! masking ([`pii`]), roles ([`role`]) and IST dates ([`mod@ist`]).

pub mod error;
pub mod ist;
pub mod lead;
pub mod lead_input;
pub mod lead_patch;
pub mod phone;
pub mod pii;
pub mod pipeline;
pub mod role;

pub use error::{DomainError, Refusal};
pub use ist::{IST, ist, ist_today, to_ist, today_ist};
pub use lead::{Lead, RemarkEntry, StatusEntry};
pub use lead_input::{LeadInput, NewLead};
pub use lead_patch::{LeadPatch, ValidPatch};
pub use phone::{PhoneError, PhoneNumber, looks_like_phone};
pub use pii::{DocumentWrite, PII_FIELDS, document_write, looks_masked, mask_document};
pub use pipeline::{
    Stage, StageError, Status, StatusChange, StatusError, apply_status, match_status,
};
pub use role::{AccountStatus, AccountType, Capability, LeadScope};
