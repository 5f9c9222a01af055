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
use crate::service::ServiceError;
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

async fn short_text(field: Field<'_>, name: &str) -> AppResult<String> {
    text_field(field, name, MAX_FIELD_BYTES).await
}

/// A text field of a form, at most `max` bytes of UTF-8.
pub(super) async fn text_field(mut field: Field<'_>, name: &str, max: usize) -> AppResult<String> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        out.extend_from_slice(&chunk);
        if out.len() > max {
            return Err(AppError::Unprocessable(format!(
                "{name}: longer than {max} bytes"
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
    let (form, files, original) = read_form(&state, multipart, &dir).await?;
    if original && imports::is_large(&state, &form) {
        return Ok(original_job_answer(&state, actor, form, files));
    }
    let _files = files;
    Ok(match imports::import(&state, &actor, form).await? {
        Imported::Now(done) => {
            let dups = duplicates(&state, &actor, done.id, done.result.skipped_duplicates).await;
            Json(ImportAnswer::new(*done, dups)).into_response()
        }
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

/// The original's `duplicates` of an import that skipped `skipped` rows
/// (none: no need to read its report). The import is committed by now:
/// a report that cannot be read back leaves the list empty, it does not
/// fail the answer.
async fn duplicates(
    svc: &crate::service::Services,
    actor: &Actor,
    id: Uuid,
    skipped: u64,
) -> Vec<imports::Duplicate> {
    if skipped == 0 {
        return Vec::new();
    }
    imports::duplicates(svc, actor, id)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(import_id = %id, error = %e, "reading an import's duplicates back from its report failed");
            Vec::new()
        })
}

/// How often the original's held-open answer sends a whitespace byte
/// (valid leading JSON whitespace) while its import job runs, so that no
/// proxy's read timeout fires.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(5);

/// How often the original's held-open answer looks at its job.
const JOB_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// The original's answer to a large upload (issue 19, COMPAT §2.14): the
/// original imported every file before it answered, and its frontend reads
/// `imported_count` & co from that answer — it never polls a job. So: the
/// automatic pre-import backup and the import job, answered as
/// [`held_open`] with [`OriginalJobAnswer`].
fn original_job_answer(
    state: &AppState,
    actor: Actor,
    form: ImportForm,
    files: Vec<TempFile>,
) -> Response {
    let svc = state.services.clone();
    held_open(
        async move {
            // The upload stays on disk until its job has its own copy.
            let _files = files;
            let (backup, job) = imports::backup_then_import_job(&svc, &actor, form, JOB_POLL).await;
            let dups = match &job {
                Ok(j) if j.status == JobStatus::Done => {
                    duplicates(&svc, &actor, j.id, result_count(j, "skipped_duplicates")).await
                }
                _ => Vec::new(),
            };
            OriginalJobAnswer::new(backup, job, dups)
        },
        || {
            OriginalJobAnswer::new(
                None,
                Err(ServiceError::Internal(anyhow::anyhow!(
                    "the import task ended without an answer"
                ))),
                Vec::new(),
            )
        },
    )
}

/// A count of a done import job's `result`.
pub(super) fn result_count(job: &ExportJob, key: &str) -> u64 {
    job.result
        .as_ref()
        .and_then(|r| r.get(key))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// The original's answer to work that outlasts a proxy's patience (a large
/// import; the original did all of it before it answered): 200 and the
/// headers at once, a newline, then a space every [`KEEP_ALIVE`] (valid
/// leading JSON whitespace) while `work` runs, then its answer as JSON. The
/// work runs on a task of its own: a client that hangs up does not cut it
/// short. `lost` answers if the task ends without an answer (a panic).
pub(super) fn held_open<T, W>(work: W, lost: fn() -> T) -> Response
where
    T: Serialize + Send + 'static,
    W: std::future::Future<Output = T> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel::<T>();
    tokio::spawn(async move {
        let _ = tx.send(work.await);
    });
    let body = futures_util::stream::unfold(Some((rx, true)), move |st| async move {
        let (mut rx, first) = st?;
        if first {
            return Some((
                Ok::<_, std::convert::Infallible>(b"\n".to_vec()),
                Some((rx, false)),
            ));
        }
        let answer = match tokio::time::timeout(KEEP_ALIVE, &mut rx).await {
            Err(_) => return Some((Ok(b" ".to_vec()), Some((rx, false)))),
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => lost(),
        };
        let mut bytes = serde_json::to_vec(&answer).unwrap_or_default();
        bytes.push(b'\n');
        Some((Ok(bytes), None))
    });
    let mut response = Body::from_stream(body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Proxies that buffer (nginx) pass the keep-alive bytes on at once.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The answer to the original's large upload, at the end of its held-open
/// body: the original's keys (`success:false` and `detail` when the backup,
/// the queueing or the job failed — the status is 200 by then), the
/// pre-import backup's id and Pulse's view of the import job. `duplicates`
/// and `duplicate_phones` are read back from the job's report (the first
/// [`imports::DUPLICATES_LISTED`]; `job.report_url` has them all).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OriginalJobAnswer {
    #[serde(flatten)]
    original: OriginalImport,
    /// Why the import did not happen (with `success:false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    /// The automatic backup taken before the import.
    backup_id: Option<Uuid>,
    /// The import job, once it was queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<ImportJobView>,
}

impl OriginalJobAnswer {
    fn new(
        backup_id: Option<Uuid>,
        job: Result<ExportJob, ServiceError>,
        dups: Vec<imports::Duplicate>,
    ) -> Self {
        let failed = |detail: String, job: Option<ImportJobView>| OriginalJobAnswer {
            original: OriginalImport {
                success: false,
                message: detail.clone(),
                imported_count: 0,
                duplicate_count: 0,
                total_in_file: 0,
                duplicates_found: false,
                duplicates: None,
                duplicate_phones: None,
            },
            detail: Some(detail),
            backup_id,
            job,
        };
        let job = match job {
            Ok(job) => job,
            Err(ServiceError::Internal(e)) => {
                tracing::error!(error = %e, "the original's large import failed");
                return failed("internal error".into(), None);
            }
            Err(e) => return failed(e.to_string(), None),
        };
        let view = ImportJobView::new(&job);
        if job.status != JobStatus::Done {
            let why = job
                .error
                .clone()
                .unwrap_or_else(|| format!("the import job was {}", job.status.as_str()));
            return failed(why, Some(view));
        }
        let count = |k: &str| result_count(&job, k);
        let (inserted, skipped) = (count("inserted"), count("skipped_duplicates"));
        OriginalJobAnswer {
            original: OriginalImport::new(inserted, skipped, count("rows_read"), dups),
            detail: None,
            backup_id,
            job: Some(view),
        }
    }
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
/// disk, the options as text; and whether the request is the original's.
///
/// The original's request (COMPAT §2.14) is one whose form carries
/// `read_source_from_file` (its frontend always sends it) and none of
/// Pulse's own fields (`duplicate_action` — the original takes it in the
/// query, and ignores it — nor `users`). Pulse's clients send
/// `duplicate_action` and keep their `202` + job for a large upload; the
/// original's large upload is held open until its job ends
/// (`original_job_answer`), after an automatic backup.
async fn read_form(
    state: &AppState,
    mut multipart: Multipart,
    dir: &Path,
) -> AppResult<(ImportForm, Vec<TempFile>, bool)> {
    let (mut original_field, mut pulse_field) = (false, false);
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
        original_field |= name == "read_source_from_file";
        pulse_field |= name == "duplicate_action" || name == "users";
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
        upsert: None,
    };
    Ok((form, files, original_field && !pulse_field))
}

/// The answer of a synchronous import: the counts and the file's shape, as
/// an import job's `result` has them, and where its report is; beside them
/// the original's keys (`success`, `message`, `imported_count`,
/// `duplicate_count`, `total_in_file`, `duplicates_found`, and with
/// duplicates `duplicates` and `duplicate_phones`: the report's skipped
/// rows read back, the first [`imports::DUPLICATES_LISTED`] of them).
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

impl ReportLink {
    /// The report of import `id`.
    pub(super) fn new(id: Uuid, lines: u64, rows: Vec<ReportRow>) -> ReportLink {
        ReportLink {
            url: format!("{IMPORT_PATH}/{id}/report.csv"),
            lines,
            rows,
        }
    }
}

impl ImportAnswer {
    fn new(done: ImportDone, dups: Vec<imports::Duplicate>) -> ImportAnswer {
        let r = &done.result;
        let (inserted, skipped, read) = (r.inserted, r.skipped_duplicates, r.rows_read);
        let original = OriginalImport::new(inserted, skipped, read, dups);
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
            report: ReportLink::new(done.id, done.report_lines, done.shown),
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
    /// The skipped rows and the leads they met (at most
    /// [`imports::DUPLICATES_LISTED`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicates: Option<Vec<imports::Duplicate>>,
    /// Their phone numbers.
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate_phones: Option<Vec<String>>,
}

impl OriginalImport {
    /// A done import's: `duplicates` and `duplicate_phones` only when some
    /// were skipped.
    fn new(inserted: u64, skipped: u64, read: u64, dups: Vec<imports::Duplicate>) -> Self {
        let phones = dups.iter().map(|d| d.phone_number.clone()).collect();
        OriginalImport {
            success: true,
            message: format!("{inserted} lead(s) imported, {skipped} duplicate(s) skipped"),
            imported_count: inserted,
            duplicate_count: skipped,
            total_in_file: read,
            duplicates_found: skipped > 0,
            duplicates: (skipped > 0).then_some(dups),
            duplicate_phones: (skipped > 0).then_some(phones),
        }
    }
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
    pub(super) fn new(job: &ExportJob) -> ImportJobView {
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
