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
            | DomainError::Empty { field } => field,
            DomainError::Stage(_) => "stage",
            DomainError::Status(_) => "status",
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
