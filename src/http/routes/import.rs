//! `POST /api/driver-onboarding/import-leads` (multipart upload of an xlsx,
//! CSV or JSON lines file), `GET …/import-leads/jobs/{id}` and
//! `GET …/import-leads/{id}/report.csv`. Thin: stream the upload to a
//! temporary file (hashing it on the way), parse the form's options, then
//! either hand the file to `import::run` and answer with the outcome, or —
//! above `PULSE_IMPORT_JOB_THRESHOLD` — keep it in the uploads' file store,
//! queue an import job (`jobs::import_job`) and answer 202.

use std::path::Path;

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::domain::Actor;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::ApiPath;
use crate::http::state::AppState;
use crate::http::upload::{TempFile, multipart_error, receive_file};
use crate::import::report::ReportRow;
use crate::import::run::Action;
use crate::import::values::{Cell, parse_date};
use crate::jobs::import_job::ImportResult;
use crate::service::imports::{self, ImportDone, ImportForm, Imported};
use crate::store::{ExportJob, JobKind, JobStatus};

/// The path of the upload route (also given its own body limit).
pub const IMPORT_PATH: &str = "/api/driver-onboarding/import-leads";

/// Form fields other than the file are short.
const MAX_FIELD_BYTES: usize = 1024;

/// The import routes; `limit` is `PULSE_IMPORT_MAX_BYTES` (the router's
/// general body limit is far smaller).
pub fn routes(limit: u64) -> Router<AppState> {
    // The multipart framing adds a few hundred bytes to the file itself.
    let body_limit = usize::try_from(limit.saturating_add(64 << 10)).unwrap_or(usize::MAX);
    Router::new()
        .route(
            "/api/driver-onboarding/import-leads",
            post(import_leads).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route(
            "/api/driver-onboarding/import-leads/{id}/report.csv",
            get(report_csv),
        )
        .route(
            "/api/driver-onboarding/import-leads/jobs/{id}",
            get(one_job).delete(cancel_job),
        )
        .route(
            "/api/driver-onboarding/import-leads/jobs/{id}/events",
            get(job_events),
        )
        .route("/api/driver-onboarding/imports/{id}", get(one_import))
        .route("/api/driver-onboarding/imports/{id}/undo", post(undo))
        .route(
            "/api/driver-onboarding/imports/undo-jobs/{id}",
            get(one_undo_job),
        )
}

async fn short_text(mut field: Field<'_>, name: &str) -> AppResult<String> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        out.extend_from_slice(&chunk);
        if out.len() > MAX_FIELD_BYTES {
            return Err(AppError::Unprocessable(format!(
                "{name}: longer than {MAX_FIELD_BYTES} bytes"
            )));
        }
    }
    String::from_utf8(out).map_err(|_| AppError::Unprocessable(format!("{name}: not UTF-8")))
}

fn parse_bool(name: &str, v: &str) -> AppResult<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(AppError::Unprocessable(format!(
            "{name}: expected true or false, not {v:?}"
        ))),
    }
}

async fn import_leads(
    State(state): State<AppState>,
    actor: Actor,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    imports::may_import(&actor)?;
    let multipart = multipart.map_err(|e| {
        AppError::UnsupportedMediaType(format!(
            "send the file as multipart/form-data with a `file` field ({})",
            e.body_text()
        ))
    })?;
    let dir = imports::work_dir(&state).await?;
    // The received files are deleted when the request ends (`TempFile`).
    let (form, _files) = read_form(&state, multipart, &dir).await?;
    Ok(match imports::import(&state, &actor, form).await? {
        Imported::Now(done) => Json(ImportAnswer::new(*done)).into_response(),
        Imported::Queued(job) => {
            let mut response =
                (StatusCode::ACCEPTED, Json(ImportJobView::new(&job))).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("{IMPORT_PATH}/jobs/{}", job.id)) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            response
        }
    })
}

/// The form's fields, as the document describes them (read field by field
/// by `read_form`).
#[derive(utoipa::ToSchema)]
pub struct ImportFormFields {
    /// The xlsx, CSV or JSON lines file.
    #[schema(format = Binary)]
    pub file: String,
    /// A mongoexport of the original `users` (telecaller ids → logins).
    #[schema(format = Binary)]
    pub users: Option<String>,
    /// The source of every lead, unless read from the file.
    pub lead_source: Option<String>,
    /// The import date of every lead (today in IST unless given).
    pub lead_date: Option<chrono::NaiveDate>,
    /// Read each lead's source from the file when it has one (default true).
    pub read_source_from_file: Option<bool>,
    /// What to do with a lead whose phone number exists (default skip).
    pub duplicate_action: Option<Action>,
}

/// The form's short options.
struct Options {
    lead_source: Option<String>,
    lead_date: Option<chrono::NaiveDate>,
    from_file: bool,
    action: Action,
}

impl Options {
    const NAMES: [&'static str; 4] = [
        "lead_source",
        "lead_date",
        "read_source_from_file",
        "duplicate_action",
    ];

    fn set(&mut self, name: &str, v: String) -> AppResult<()> {
        match name {
            "lead_source" => {
                if v.contains('\0') {
                    return Err(AppError::Unprocessable(
                        "lead_source: must not contain the NUL character (U+0000)".into(),
                    ));
                }
                self.lead_source = Some(v.trim().to_owned()).filter(|s| !s.is_empty());
            }
            "lead_date" => {
                self.lead_date = parse_date(&Cell::Text(v))
                    .map_err(|e| AppError::Unprocessable(format!("lead_date: {e}")))?;
            }
            "read_source_from_file" => self.from_file = parse_bool(name, &v)?,
            _ => self.action = v.parse().map_err(AppError::Unprocessable)?,
        }
        Ok(())
    }
}

/// Reads the form: the file (and the optional `users` file) onto local
/// disk, the options as text.
async fn read_form(
    state: &AppState,
    mut multipart: Multipart,
    dir: &Path,
) -> AppResult<(ImportForm, Vec<TempFile>)> {
    let limit = state.config.import_max_bytes;
    let mut files = Vec::new();
    let mut upload: Option<imports::Upload> = None;
    let mut users = std::collections::HashMap::new();
    let mut opts = Options {
        lead_source: None,
        lead_date: None,
        from_file: true,
        action: Action::Skip,
    };
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" if upload.is_some() => {
                return Err(AppError::Unprocessable(
                    "file: give one file per import".into(),
                ));
            }
            "file" | "users" => {
                let (u, guard) = receive_file(field, dir, limit).await?;
                files.push(guard);
                if name == "file" {
                    upload = Some(u);
                } else {
                    // A mongoexport of the original `users`: telecaller ids → logins.
                    users = imports::read_users(&u.path).await?;
                }
            }
            n if Options::NAMES.contains(&n) => opts.set(n, short_text(field, n).await?)?,
            other => {
                return Err(AppError::Unprocessable(format!(
                    "unknown form field {other:?}: expected file, users, lead_source, lead_date, read_source_from_file, duplicate_action"
                )));
            }
        }
    }
    let upload = upload.ok_or_else(|| AppError::Unprocessable("file: required".into()))?;
    let form = ImportForm {
        upload,
        users,
        lead_source: opts.lead_source,
        lead_date: opts.lead_date,
        read_source_from_file: opts.from_file,
        action: opts.action,
        choices: Vec::new(),
        dry_run: false,
    };
    Ok((form, files))
}

/// The answer of a synchronous import: the counts and the file's shape, as
/// an import job's `result` has them, and where its report is; beside them
/// the original's keys (`success`, `message`, `imported_count`,
/// `duplicate_count`, `total_in_file`, `duplicates_found`, and with
/// duplicates `duplicates` — the report's skipped rows — and
/// `duplicate_phones`, which Pulse's report does not carry: empty).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportAnswer {
    #[serde(flatten)]
    result: ImportResult,
    #[serde(flatten)]
    original: OriginalImport,
    import_id: Uuid,
    file_name: String,
    sha256: String,
    bytes: u64,
    duplicate_action: Action,
    committed: bool,
    /// `synchronous`.
    mode: &'static str,
    seconds: f64,
    report: ReportLink,
}

/// Where a synchronous import's report is, and its first rows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportLink {
    url: String,
    lines: u64,
    rows: Vec<ReportRow>,
}

impl ImportAnswer {
    fn new(done: ImportDone) -> ImportAnswer {
        let r = &done.result;
        let (inserted, skipped, read) = (r.inserted, r.skipped_duplicates, r.rows_read);
        let skipped_rows: Vec<ReportRow> = done
            .shown
            .iter()
            .filter(|r| r.outcome == "skipped" || r.outcome == "would_skip")
            .cloned()
            .collect();
        let original = OriginalImport {
            success: true,
            message: format!("{inserted} lead(s) imported, {skipped} duplicate(s) skipped"),
            imported_count: inserted,
            duplicate_count: skipped,
            total_in_file: read,
            duplicates_found: skipped > 0,
            duplicates: (skipped > 0).then_some(skipped_rows),
            duplicate_phones: (skipped > 0).then(Vec::new),
        };
        ImportAnswer {
            original,
            import_id: done.id,
            file_name: done.upload.name,
            sha256: done.upload.sha256,
            bytes: done.upload.bytes,
            duplicate_action: done.action,
            committed: done.action != Action::Preview,
            mode: "synchronous",
            seconds: done.seconds,
            report: ReportLink {
                url: format!("{IMPORT_PATH}/{}/report.csv", done.id),
                lines: done.report_lines,
                rows: done.shown,
            },
            result: done.result,
        }
    }
}

/// The original's keys of an import answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OriginalImport {
    success: bool,
    message: String,
    imported_count: u64,
    duplicate_count: u64,
    total_in_file: u64,
    duplicates_found: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicates: Option<Vec<ReportRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate_phones: Option<Vec<String>>,
}

/// A text parameter of a job.
fn param_text(job: &ExportJob, key: &str) -> Option<String> {
    job.params
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// An import job as the API shows it.
#[derive(Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportJobView {
    /// `job`.
    mode: &'static str,
    id: Uuid,
    import_id: Uuid,
    kind: JobKind,
    status: JobStatus,
    file_name: Option<String>,
    bytes: Option<u64>,
    sha256: Option<String>,
    duplicate_action: Option<String>,
    committed: bool,
    rows_done: i64,
    /// Once done: the counts and the file's shape.
    #[schema(value_type = Option<ImportResult>)]
    result: Option<Value>,
    error: Option<String>,
    attempts: i32,
    max_attempts: i32,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    url: String,
    report_url: Option<String>,
}

impl ImportJobView {
    fn new(job: &ExportJob) -> ImportJobView {
        let done = job.status == JobStatus::Done;
        let action = param_text(job, "action");
        ImportJobView {
            mode: "job",
            id: job.id,
            import_id: job.id,
            kind: job.kind,
            status: job.status,
            file_name: param_text(job, "file_name"),
            bytes: job.params.get("bytes").and_then(Value::as_u64),
            sha256: param_text(job, "sha256"),
            committed: done && action.as_deref() != Some("preview"),
            duplicate_action: action,
            rows_done: job.rows_done,
            result: job.result.clone(),
            error: job.error.clone(),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            expires_at: job.expires_at,
            url: format!("{IMPORT_PATH}/jobs/{}", job.id),
            report_url: done.then(|| format!("{IMPORT_PATH}/{}/report.csv", job.id)),
        }
    }
}

/// What an undo did: `{import_id, removed, restored}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UndoResult {
    import_id: Uuid,
    removed: u64,
    restored: u64,
}

/// An undo job as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UndoJobView {
    id: Uuid,
    kind: JobKind,
    import_id: Option<String>,
    file_name: Option<String>,
    status: JobStatus,
    /// Once done: what was removed and restored.
    #[schema(value_type = Option<UndoResult>)]
    result: Option<Value>,
    error: Option<String>,
    attempts: i32,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    url: String,
}

impl UndoJobView {
    fn new(job: &ExportJob) -> UndoJobView {
        UndoJobView {
            id: job.id,
            kind: job.kind,
            import_id: param_text(job, "import_id"),
            file_name: param_text(job, "file_name"),
            status: job.status,
            result: job.result.clone(),
            error: job.error.clone(),
            attempts: job.attempts,
            created_at: job.created_at,
            finished_at: job.finished_at,
            url: format!("/api/driver-onboarding/imports/undo-jobs/{}", job.id),
        }
    }
}

/// A committed import.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportRecordView {
    id: Uuid,
    file_name: String,
    actor: String,
    created_at: DateTime<Utc>,
    inserted: u64,
    replaced: u64,
    undone_at: Option<DateTime<Utc>>,
    undone_by: Option<String>,
    undo_url: String,
}

async fn one_import(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ImportRecordView>> {
    let r = imports::record(&state, &actor, id).await?;
    Ok(Json(ImportRecordView {
        id: r.id,
        file_name: r.file_name,
        actor: r.actor,
        created_at: r.created_at,
        inserted: r.inserted,
        replaced: r.replaced,
        undone_at: r.undone.as_ref().map(|u| u.0),
        undone_by: r.undone.map(|u| u.1),
        undo_url: format!("/api/driver-onboarding/imports/{id}/undo"),
    }))
}

async fn undo(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<(StatusCode, Json<UndoJobView>)> {
    let job = imports::undo(&state, &actor, id).await?;
    Ok((StatusCode::ACCEPTED, Json(UndoJobView::new(&job))))
}

async fn one_undo_job(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<UndoJobView>> {
    Ok(Json(UndoJobView::new(
        &imports::undo_job(&state, &actor, id).await?,
    )))
}

async fn one_job(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ImportJobView>> {
    Ok(Json(ImportJobView::new(
        &imports::job(&state, &actor, id).await?,
    )))
}

/// Server-sent progress of an import job (the wizard's progress bar), as
/// an export job's: `progress` events, then `end`.
async fn job_events(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<
    axum::response::sse::Sse<
        impl futures_util::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
> {
    let first = imports::job(&state, &actor, id).await?;
    Ok(super::exports_jobs::follow(
        state.services.clone(),
        first,
        // the event data is the job's typed view, as `GET …/jobs/{id}` answers
        ImportJobView::new,
    ))
}

async fn cancel_job(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ImportJobView>> {
    Ok(Json(ImportJobView::new(
        &imports::cancel_job(&state, &actor, id).await?,
    )))
}

async fn report_csv(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let (id, stream) = imports::report(&state, &actor, &id).await?;
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"import-{id}-report.csv\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
