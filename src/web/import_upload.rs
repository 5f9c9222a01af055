//! Step 1 of the import wizard (`GET|POST /imports/new`: a file picked or
//! dropped, kept by `service::import_wizard` under an id, or refused with
//! the importer's reason beside the field) and the template sheet.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;

use super::admin::{require, size_text};
use super::imports::{Step, WHAT, steps};
use super::page::{Layout, PageError, PageResult, PageUser, render, see_other};
use crate::domain::Capability;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::upload::receive_file;
use crate::service::ServiceError;
use crate::service::import_wizard::{self as wizard};
use crate::service::imports;

// ---- step 1: upload

#[derive(askama::Template)]
#[template(path = "import_upload.html")]
struct UploadPage {
    l: Layout,
    steps: Vec<Step>,
    max_bytes: u64,
    max_text: String,
    error: Option<String>,
}

fn upload_page(state: &AppState, user: &PageUser, error: Option<String>) -> UploadPage {
    let max = state.config.import_max_bytes;
    UploadPage {
        l: Layout::new("Import a file", Some(user)),
        steps: steps(1),
        max_bytes: max,
        max_text: size_text(max),
        error,
    }
}

/// `GET /imports/new`.
pub(super) async fn new_form(State(state): State<AppState>, user: PageUser) -> PageResult {
    require(&user, Capability::Import, WHAT)?;
    Ok(render(StatusCode::OK, &upload_page(&state, &user, None)))
}

/// A refusal in plain words beside the file field.
pub(super) fn refused_file(e: ServiceError) -> Result<(StatusCode, String), PageError> {
    use ServiceError as E;
    let status = match &e {
        E::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        E::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        E::Invalid(_) | E::Malformed(_) => StatusCode::UNPROCESSABLE_ENTITY,
        E::Forbidden(_) => return Err(e.into()),
        _ => return Err(e.into()),
    };
    Ok((status, format!("This file was not accepted: {e}.")))
}

/// `POST /imports/new`: keeps the file and goes on to the mapping, or shows
/// the form again with why the file was refused.
pub(super) async fn upload(
    State(state): State<AppState>,
    user: PageUser,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    require(&user, Capability::Import, WHAT)?;
    let limit = state.config.import_max_bytes;
    let again =
        |status: StatusCode, m: String| Ok(render(status, &upload_page(&state, &user, Some(m))));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(64 << 10)) {
        return again(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "This file was not accepted: it is larger than {} (the largest file an import takes).",
                size_text(limit)
            ),
        );
    }
    let Ok(mut multipart) = multipart else {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a file to import.".into(),
        );
    };
    let dir = imports::work_dir(&state).await?;
    let mut received = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                return again(
                    StatusCode::BAD_REQUEST,
                    "The upload was cut off; choose the file again.".into(),
                );
            }
        };
        if field.name() != Some("file") || received.is_some() {
            continue;
        }
        if field.file_name().is_none_or(str::is_empty) {
            break;
        }
        match receive_file(field, &dir, limit).await {
            Ok(r) => received = Some(r),
            Err(AppError::PayloadTooLarge(_)) => {
                return again(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "This file was not accepted: it is larger than {} (the largest file an import takes).",
                        size_text(limit)
                    ),
                );
            }
            Err(AppError::BadRequest(_)) => {
                return again(
                    StatusCode::BAD_REQUEST,
                    "The upload was cut off; choose the file again.".into(),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    let Some((file, _guard)) = received else {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose a file to import.".into(),
        );
    };
    match wizard::keep(&state, &user.actor(), &file).await {
        Ok(kept) => Ok(see_other(&format!("/imports/wizard/{}", kept.id))),
        Err(e) => {
            let (status, m) = refused_file(e)?;
            again(status, m)
        }
    }
}

/// `GET /imports/template.csv`: the lead fields' headers.
pub(super) async fn template(user: PageUser) -> PageResult {
    require(&user, Capability::Import, WHAT)?;
    let mut r = wizard::template_csv().into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"pulse-import-template.csv\""),
    );
    Ok(r)
}
