//! The one error type of every store, and what each driver's errors become.

/// Errors from a store. Constraint violations are told apart so the HTTP
/// layer can answer 409 instead of 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the text names what clashed.
    #[error("already exists: {0}")]
    Conflict(String),
    /// Anything else: connection, I/O, a bug.
    #[error("database error: {0}")]
    Backend(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, msg)
                if f.code == rusqlite::ErrorCode::ConstraintViolation
                    && msg.as_deref().is_some_and(|m| m.contains("UNIQUE")) =>
            {
                StoreError::Conflict(msg.clone().unwrap_or_default())
            }
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        if let Some(db) = e.as_db_error()
            && *db.code() == tokio_postgres::error::SqlState::UNIQUE_VIOLATION
        {
            return StoreError::Conflict(db.constraint().unwrap_or("unique").to_string());
        }
        StoreError::Backend(format!("{e:#}"))
    }
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;
