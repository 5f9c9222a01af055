//! What a use-case can fail with. The transport maps each to its answer
//! once (`http/error.rs`); messages are safe to show.

use std::time::Duration;

use crate::domain::{AccountError, DomainError};
use crate::import::ImportError;
use crate::store::StoreError;

/// A use-case's failure.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Not signed in, or the credentials are wrong.
    #[error("{0}")]
    Unauthenticated(String),
    /// Signed in, but the role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No such object, or not one the actor may see.
    #[error("{0}")]
    NotFound(String),
    /// Clashes with existing data or with the object's state.
    #[error("{0}")]
    Conflict(String),
    /// It existed, and is gone for good (an expired file).
    #[error("{0}")]
    Gone(String),
    /// Well-formed but invalid input.
    #[error("{0}")]
    Invalid(String),
    /// Malformed input.
    #[error("{0}")]
    Malformed(String),
    /// The input is too large.
    #[error("{0}")]
    TooLarge(String),
    /// A file in a format that is not read.
    #[error("{0}")]
    Unsupported(String),
    /// Too many attempts or jobs of this actor; try again after the delay.
    #[error("{message}")]
    Throttled {
        /// What to tell the user.
        message: String,
        /// When to try again.
        retry_after: Duration,
    },
    /// Busy for everyone; try again after the delay.
    #[error("{message}")]
    Busy {
        /// What to tell the user.
        message: String,
        /// When to try again.
        retry_after: Duration,
    },
    /// A domain rule refused the input (the message names the field).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// An account field is invalid.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// The store failed (a conflict is shown, anything else is internal).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug or an outage; details go to the log only.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<ImportError> for ServiceError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Invalid(m) => ServiceError::Invalid(m),
            ImportError::TooLarge(m) => ServiceError::TooLarge(m),
            ImportError::Unsupported(m) => ServiceError::Unsupported(m),
            ImportError::Io(e) => ServiceError::Internal(e.into()),
            ImportError::Store(e) => ServiceError::Store(e),
        }
    }
}

impl ServiceError {
    /// An internal error from anything that can be one.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ServiceError::Internal(e.into())
    }
}

/// A use-case's result.
pub type ServiceResult<T> = Result<T, ServiceError>;
