//! One error type for every handler, answered as `{"detail": …}` (the
//! original system's shape).
//!
//! Policy: client errors carry a safe, specific message. Anything else is
//! logged once here, with the request id, and the client gets an opaque 500
//! naming only that request id.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::request_id;
use crate::domain::DomainError;
use crate::import::ImportError;
use crate::service::ServiceError;
use crate::store::StoreError;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// 401: not signed in, or the credentials are wrong.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but the role may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such object, or not one the caller may see.
    #[error("{0}")]
    NotFound(String),
    /// 409: clashes with existing data.
    #[error("{0}")]
    Conflict(String),
    /// 410: it existed, and is gone for good (an expired export file).
    #[error("{0}")]
    Gone(String),
    /// 413: the body is too large.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: a file in a format the endpoint does not read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but invalid.
    #[error("{0}")]
    Unprocessable(String),
    /// 429: too many attempts; try again after the delay.
    #[error("{message}")]
    TooManyRequests {
        /// What to tell the client.
        message: String,
        /// When to try again.
        retry_after: Duration,
    },
    /// 503: busy; try again after the delay.
    #[error("{message}")]
    Unavailable {
        /// What to tell the client.
        message: String,
        /// When to try again.
        retry_after: Duration,
    },
    /// 500: a bug or an outage; details go to the log only.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::auth::password::Busy> for AppError {
    fn from(e: crate::auth::password::Busy) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<crate::store::filter::TooManyTerms> for AppError {
    fn from(e: crate::store::filter::TooManyTerms) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<crate::export::admission::Refused> for AppError {
    fn from(e: crate::export::admission::Refused) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AppError::Conflict(format!("already exists ({what})")),
            StoreError::Busy => AppError::Unavailable {
                message: "the database is busy with a long write (an import or restore); try again shortly".into(),
                retry_after: Duration::from_secs(2),
            },
            other => AppError::Internal(other.into()),
        }
    }
}

/// The one mapping of a use-case's failure to an answer.
impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Unauthenticated(m) => AppError::Unauthorized(m),
            ServiceError::Forbidden(m) => AppError::Forbidden(m),
            ServiceError::NotFound(m) => AppError::NotFound(m),
            ServiceError::Conflict(m) => AppError::Conflict(m),
            ServiceError::Gone(m) => AppError::Gone(m),
            ServiceError::Invalid(m) => AppError::Unprocessable(m),
            ServiceError::Malformed(m) => AppError::BadRequest(m),
            ServiceError::TooLarge(m) => AppError::PayloadTooLarge(m),
            ServiceError::Unsupported(m) => AppError::UnsupportedMediaType(m),
            ServiceError::Throttled {
                message,
                retry_after,
            } => AppError::TooManyRequests {
                message,
                retry_after,
            },
            ServiceError::Busy {
                message,
                retry_after,
            } => AppError::Unavailable {
                message,
                retry_after,
            },
            // the messages start with the field name (DESIGN §3)
            ServiceError::Domain(e) => AppError::Unprocessable(e.to_string()),
            ServiceError::Account(e) => AppError::Unprocessable(e.to_string()),
            ServiceError::Store(e) => e.into(),
            ServiceError::Internal(e) => AppError::Internal(e),
        }
    }
}

impl From<DomainError> for AppError {
    fn from(e: DomainError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        ServiceError::from(e).into()
    }
}

impl AppError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The body of every error answer: `{"detail": "…"}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A safe message for the client (or the request id, for a 500).
    pub detail: String,
}

impl ErrorBody {
    /// The body saying `detail`, as JSON text (an event's data).
    pub fn json(detail: impl Into<String>) -> String {
        let body = ErrorBody {
            detail: detail.into(),
        };
        serde_json::to_string(&body).unwrap_or_default()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let rid = request_id::current();
        let detail = match &self {
            AppError::Internal(e) => {
                tracing::error!(request_id = %rid, error = %format!("{e:#}"), "internal error");
                format!("internal error (request id {rid})")
            }
            other => other.to_string(),
        };
        let mut response = (status, Json(ErrorBody { detail })).into_response();
        if let AppError::TooManyRequests { retry_after, .. }
        | AppError::Unavailable { retry_after, .. } = &self
        {
            let secs = retry_after.as_secs().max(1).to_string();
            if let Ok(v) = HeaderValue::from_str(&secs) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// Handler result.
pub type AppResult<T> = Result<T, AppError>;
