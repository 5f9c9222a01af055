//! Validation errors of the domain layer. Each names the offending field so
//! the HTTP layer can answer 422 and an import can report the row's reason.

use super::phone::PhoneError;
use super::pipeline::{StageError, StatusError};

/// A lead (or patch) failed validation. Messages start with the field name:
/// `phone_number: invalid phone number "12345": …`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A phone field did not parse as an Indian mobile number.
    #[error("{field}: {source}")]
    Phone {
        /// The field, e.g. `phone_number`.
        field: &'static str,
        /// What was wrong with the value.
        source: PhoneError,
    },
    /// A text field held U+0000. PostgreSQL cannot store it, so both
    /// backends reject it alike (DESIGN §3).
    #[error("{field}: must not contain the NUL character (U+0000)")]
    NulCharacter {
        /// The field that held the NUL.
        field: &'static str,
    },
    /// A required text field was empty or only whitespace.
    #[error("{field}: must not be empty")]
    Empty {
        /// The empty field.
        field: &'static str,
    },
    /// A text field is longer than its limit (see [`MAX_TEXT_CHARS`], [`MAX_REMARK_CHARS`]).
    #[error("{field}: must be at most {max} characters")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its limit, in characters.
        max: usize,
    },
    /// A lead already holds the most entries a history may have.
    #[error("{field}: a lead keeps at most {max} entries")]
    TooMany {
        /// The history, e.g. `remarks_history`.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// A document number that is all mask characters but the last four (as shown to roles
    /// that see PII masked) and is not the stored number's own mask: writing it would
    /// destroy the real number.
    #[error(
        "{field}: looks like a masked value (mask characters and the last 4); send the full number, or leave the field out to keep it"
    )]
    Masked {
        /// The document field.
        field: &'static str,
    },
    /// `stage` named no stage.
    #[error("stage: {0}")]
    Stage(#[from] StageError),
    /// `status` named no status.
    #[error("status: {0}")]
    Status(#[from] StatusError),
}

impl DomainError {
    /// The name of the offending field, e.g. for a JSON error's `loc`.
    pub fn field(&self) -> &'static str {
        match self {
            DomainError::Phone { field, .. }
            | DomainError::NulCharacter { field }
            | DomainError::Empty { field }
            | DomainError::TooLong { field, .. }
            | DomainError::TooMany { field, .. }
            | DomainError::Masked { field } => field,
            DomainError::Stage(_) => "stage",
            DomainError::Status(_) => "status",
        }
    }
}

/// Carries a [`DomainError`] out of a store edit closure (which can only answer
/// "changed or not"): the edit records the refusal and answers false, and the caller
/// turns it into the error after the store call.
#[derive(Clone, Debug, Default)]
pub struct Refusal(std::sync::Arc<std::sync::Mutex<Option<DomainError>>>);

impl Refusal {
    /// `Ok(v)` is passed on; `Err` is recorded and becomes `None`.
    pub fn keep<T>(&self, r: Result<T, DomainError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                None
            }
        }
    }

    /// The recorded refusal, as an error.
    pub fn check(&self) -> Result<(), DomainError> {
        match self.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Rejects a NUL anywhere in `value`, naming `field`.
pub fn reject_nul(field: &'static str, value: &str) -> Result<(), DomainError> {
    if value.contains('\0') {
        Err(DomainError::NulCharacter { field })
    } else {
        Ok(())
    }
}

/// The longest value of a lead's text field (name, e-mail, documents, …), in characters.
/// Bounds every list page, export and backup row (review M9).
pub const MAX_TEXT_CHARS: usize = 1_000;
/// The longest remark, in characters.
pub const MAX_REMARK_CHARS: usize = 10_000;
/// The most entries `remarks_history` (and `status_history`) may hold.
pub const MAX_HISTORY: usize = 1_000;

/// Rejects a NUL, or more than `max` characters, naming `field`.
pub fn check_text(field: &'static str, value: &str, max: usize) -> Result<(), DomainError> {
    reject_nul(field, value)?;
    // bytes >= chars: most values skip the count
    if value.len() > max && value.chars().count() > max {
        return Err(DomainError::TooLong { field, max });
    }
    Ok(())
}

/// The limit of `field`: remarks are longer than the other fields.
pub fn max_chars(field: &str) -> usize {
    if field == "remarks" || field == "remark" {
        MAX_REMARK_CHARS
    } else {
        MAX_TEXT_CHARS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::phone::PhoneNumber;
    use crate::domain::pipeline::Status;

    #[test]
    fn messages_name_the_field() {
        let phone = DomainError::Phone {
            field: "phone_number",
            source: PhoneNumber::parse("12345").unwrap_err(),
        };
        let cases = [
            (
                phone,
                "phone_number",
                r#"phone_number: invalid phone number "12345": expected a 10-digit Indian mobile number starting with 6-9"#,
            ),
            (
                reject_nul("remarks", "a\0b").unwrap_err(),
                "remarks",
                "remarks: must not contain the NUL character (U+0000)",
            ),
            (
                DomainError::Empty { field: "name" },
                "name",
                "name: must not be empty",
            ),
        ];
        for (err, field, msg) in cases {
            assert_eq!(err.field(), field);
            assert_eq!(err.to_string(), msg);
        }
        let err = DomainError::from(Status::parse("Maybe").unwrap_err());
        assert_eq!(err.field(), "status");
        assert!(
            err.to_string()
                .starts_with(r#"status: unknown status "Maybe""#)
        );
        let err = DomainError::from("S9".parse::<crate::domain::Stage>().unwrap_err());
        assert_eq!(err.field(), "stage");
        assert!(reject_nul("name", "fine: ✓ 👍").is_ok());
    }
}
