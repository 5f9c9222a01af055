//! `POST /api/driver-onboarding/import-leads` (multipart upload of an xlsx,
//! CSV or JSON lines file), `GET …/import-leads/jobs/{id}` and
//! `GET …/import-leads/{id}/report.csv`. Thin: stream the upload to a
//! temporary file (hashing it on the way), parse the form's options, then
//! either hand the file to `import::run` and answer with the outcome, or —
//! above `PULSE_IMPORT_JOB_THRESHOLD` — keep it in the uploads' file store,
//! queue an import job (`jobs::import_job`) and answer 202.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::domain::{AccountType, Capability, today_ist};
use crate::http::AppState;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiPath, CurrentUser};
use crate::http::permissions::require;
use crate::http::request_id;
use crate::import::ImportError;
use crate::import::row::RowDefaults;
use crate::import::run::{Action, ImportRequest, import_file};
use crate::import::values::{Cell, parse_date};
use crate::jobs::import_job::{ImportParams, upload_key};
use crate::store::{Admission, ExportJob, JobKind, JobStatus, NewExportJob};

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
}

fn multipart_error(e: MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge("the upload is larger than PULSE_IMPORT_MAX_BYTES".into())
    } else {
        AppError::BadRequest(format!("multipart body: {}", e.body_text()))
    }
}

/// Deletes the uploaded file when the request ends, however it ends.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn reports_dir(state: &AppState) -> PathBuf {
    crate::import::reports_dir(&state.config)
}

/// What is kept beside a report, for the permission check of its download.
#[derive(Debug, Serialize, Deserialize)]
struct ReportMeta {
    owner: Uuid,
    file_name: String,
    created_at: chrono::DateTime<Utc>,
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

struct Upload {
    file: TempFile,
    name: String,
    bytes: u64,
    sha256: String,
}

async fn receive_file(mut field: Field<'_>, dir: &Path, limit: u64) -> AppResult<Upload> {
    let name = field.file_name().unwrap_or("upload").to_owned();
    let path = dir.join(format!("upload-{}.tmp", Uuid::new_v4()));
    let guard = TempFile(path.clone());
    let file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut out = tokio::io::BufWriter::with_capacity(256 << 10, file);
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        bytes += chunk.len() as u64;
        if bytes > limit {
            return Err(AppError::PayloadTooLarge(format!(
                "the file is larger than {limit} bytes (PULSE_IMPORT_MAX_BYTES)"
            )));
        }
        hasher.update(&chunk);
        out.write_all(&chunk)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    out.flush()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Upload {
        file: guard,
        name,
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

async fn import_leads(
    State(state): State<AppState>,
    current: CurrentUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    require(&current, Capability::Import)?;
    let mut multipart = multipart.map_err(|e| {
        AppError::UnsupportedMediaType(format!(
            "send the file as multipart/form-data with a `file` field ({})",
            e.body_text()
        ))
    })?;
    let dir = reports_dir(&state);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut upload: Option<Upload> = None;
    let mut users = std::collections::HashMap::new();
    let (mut lead_source, mut lead_date, mut from_file, mut action) =
        (None, None, true, Action::Skip);
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                if upload.is_some() {
                    return Err(AppError::Unprocessable(
                        "file: give one file per import".into(),
                    ));
                }
                upload = Some(receive_file(field, &dir, state.config.import_max_bytes).await?);
            }
            "users" => {
                // A mongoexport of the original `users`: telecaller ids → logins.
                let u = receive_file(field, &dir, state.config.import_max_bytes).await?;
                let path = u.file.0.clone();
                users = tokio::task::spawn_blocking(move || {
                    std::fs::File::open(&path)
                        .map_err(ImportError::from)
                        .and_then(|f| crate::import::jsonl::read_users(std::io::BufReader::new(f)))
                })
                .await
                .map_err(|e| AppError::Internal(e.into()))??;
            }
            "lead_source" => {
                let v = short_text(field, &name).await?;
                if v.contains('\0') {
                    return Err(AppError::Unprocessable(
                        "lead_source: must not contain the NUL character (U+0000)".into(),
                    ));
                }
                lead_source = Some(v.trim().to_owned()).filter(|s| !s.is_empty());
            }
            "lead_date" => {
                let v = short_text(field, &name).await?;
                lead_date = parse_date(&Cell::Text(v.clone()))
                    .map_err(|e| AppError::Unprocessable(format!("lead_date: {e}")))?;
            }
            "read_source_from_file" => {
                from_file = parse_bool(&name, &short_text(field, &name).await?)?
            }
            "duplicate_action" => {
                action = short_text(field, &name)
                    .await?
                    .parse()
                    .map_err(AppError::Unprocessable)?;
            }
            other => {
                return Err(AppError::Unprocessable(format!(
                    "unknown form field {other:?}: expected file, users, lead_source, lead_date, read_source_from_file, duplicate_action"
                )));
            }
        }
    }
    let upload = upload.ok_or_else(|| AppError::Unprocessable("file: required".into()))?;
    if upload.bytes == 0 {
        return Err(AppError::Unprocessable(format!(
            "{}: the file is empty",
            upload.name
        )));
    }
    let now = Utc::now();
    let threshold = state.config.import_job_threshold;
    if threshold > 0 && upload.bytes > threshold {
        let params = ImportParams {
            upload_key: String::new(),
            file_name: upload.name.clone(),
            bytes: upload.bytes,
            sha256: upload.sha256.clone(),
            lead_source,
            lead_date: lead_date.unwrap_or_else(|| today_ist(now)),
            read_source_from_file: from_file,
            action,
            users,
        };
        return queue_job(&state, &current, upload, params).await;
    }
    let id = Uuid::new_v4();
    let report_path = dir.join(format!("{id}.csv"));
    let request = ImportRequest {
        path: upload.file.0.clone(),
        file_name: upload.name.clone(),
        format: None,
        defaults: RowDefaults {
            lead_source,
            lead_date: Some(lead_date.unwrap_or_else(|| today_ist(now))),
            read_source_from_file: from_file,
            now,
            csv: false,
        },
        users,
        action,
        actor: current.user.email.clone(),
        report_path: report_path.clone(),
        watch: None,
    };
    let started = std::time::Instant::now();
    let result = import_file(state.store.clone(), request).await;
    let base = json!({
        "via": "api", "import_id": id, "file_name": upload.name, "sha256": upload.sha256,
        "bytes": upload.bytes, "duplicate_action": action,
    });
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let _ = std::fs::remove_file(&report_path);
            let mut details = base;
            details["outcome"] = json!("failed");
            details["error"] = json!(match &e {
                ImportError::Io(_) | ImportError::Store(_) => "internal".to_owned(),
                other => other.to_string(),
            });
            audit(&state, &current, "import", details).await;
            return Err(e.into());
        }
    };
    let meta = ReportMeta {
        owner: current.user.id,
        file_name: upload.name.clone(),
        created_at: now,
    };
    let meta_json = serde_json::to_vec(&meta).map_err(|e| AppError::Internal(e.into()))?;
    tokio::fs::write(dir.join(format!("{id}.json")), meta_json)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let c = &outcome.counts;
    let mut details = base.clone();
    details["outcome"] = json!(if action == Action::Preview {
        "preview"
    } else {
        "committed"
    });
    details["format"] = json!(outcome.info.format);
    details["counts"] = json!(c);
    audit(&state, &current, "import", details).await;
    // The counts and the file's shape, as an import job's `result` has them.
    let mut body = crate::jobs::import_job::result_json(&outcome);
    for (k, v) in [
        ("import_id", json!(id)),
        ("file_name", json!(upload.name)),
        ("sha256", json!(upload.sha256)),
        ("bytes", json!(upload.bytes)),
        ("duplicate_action", json!(action)),
        ("committed", json!(action != Action::Preview)),
        ("mode", json!("synchronous")),
        ("seconds", json!(started.elapsed().as_secs_f64())),
        (
            "report",
            json!({
                "url": format!("{IMPORT_PATH}/{id}/report.csv"),
                "lines": outcome.report_lines,
                "rows": outcome.shown,
            }),
        ),
    ] {
        body[k] = v;
    }
    Ok(Json(body).into_response())
}

/// Keeps the upload in the uploads' file store and queues its import job
/// (admission as export jobs: per user and queue-wide, per kind). 202 with
/// the job; its progress at `…/import-leads/jobs/{id}`.
async fn queue_job(
    state: &AppState,
    current: &CurrentUser,
    upload: Upload,
    mut params: ImportParams,
) -> AppResult<Response> {
    let id = Uuid::new_v4();
    params.upload_key = upload_key(id);
    let (files, from, key) = (
        state.uploads.clone(),
        upload.file.0.clone(),
        params.upload_key.clone(),
    );
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut out = files.create(&key)?;
        std::io::copy(&mut std::fs::File::open(&from)?, &mut out)?;
        out.publish()
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "keeping the upload for its import job: {e}"
        ))
    })?;
    let new = NewExportJob {
        id,
        kind: JobKind::Import,
        params: serde_json::to_value(&params).map_err(anyhow::Error::from)?,
        owner_id: current.user.id,
        owner_email: current.user.email.clone(),
        filters: json!({}),
        columns: Vec::new(),
        format: "csv".into(),
        mask_pii: false,
        max_attempts: i32::try_from(state.config.job_max_attempts).unwrap_or(i32::MAX),
        request_id: Some(request_id::current()),
    };
    let per_user = state.config.export_jobs_per_user;
    let queue_max = state.config.export_queue_max;
    let admitted = state
        .store
        .create_export_job(&new, per_user, queue_max)
        .await;
    let job = match admitted {
        Ok(Admission::Queued(job)) => job,
        other => {
            let _ = state.uploads.delete(&params.upload_key).await;
            return Err(match other? {
                Admission::UserLimit(n) => AppError::TooManyRequests {
                    message: format!(
                        "you have {n} import jobs queued or running (the limit is {per_user}); \
                         try again when one has finished"
                    ),
                    retry_after: std::time::Duration::from_secs(10),
                },
                _ => AppError::Unavailable {
                    message: format!(
                        "the import queue is full ({queue_max} jobs); try again shortly"
                    ),
                    retry_after: std::time::Duration::from_secs(30),
                },
            });
        }
    };
    state.job_wake.notify_one();
    audit(
        state,
        current,
        "import_job.create",
        json!({ "job_id": job.id, "file_name": params.file_name, "sha256": params.sha256,
                "bytes": params.bytes, "duplicate_action": params.action }),
    )
    .await;
    let mut response = (StatusCode::ACCEPTED, Json(job_view(&job))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{IMPORT_PATH}/jobs/{}", job.id)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// An import job as the API shows it.
fn job_view(job: &ExportJob) -> Value {
    let done = job.status == JobStatus::Done;
    json!({
        "mode": "job",
        "id": job.id,
        "import_id": job.id,
        "kind": job.kind,
        "status": job.status,
        "file_name": job.params.get("file_name"),
        "bytes": job.params.get("bytes"),
        "sha256": job.params.get("sha256"),
        "duplicate_action": job.params.get("action"),
        "committed": done && job.params.get("action") != Some(&json!("preview")),
        "rows_done": job.rows_done,
        "result": job.result,
        "error": job.error,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "expires_at": job.expires_at,
        "url": format!("{IMPORT_PATH}/jobs/{}", job.id),
        "report_url": done.then(|| format!("{IMPORT_PATH}/{}/report.csv", job.id)),
    })
}

/// An import job of `current`'s (or anyone's, for admins).
async fn visible_job(state: &AppState, current: &CurrentUser, id: Uuid) -> AppResult<ExportJob> {
    let privileged = matches!(
        current.role(),
        AccountType::MasterAdmin | AccountType::Admin
    );
    match state.store.get_export_job(id).await? {
        Some(j) if j.kind == JobKind::Import && (j.owner_id == current.user.id || privileged) => {
            Ok(j)
        }
        _ => Err(AppError::NotFound("no such import job".into())),
    }
}

async fn one_job(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::Import)?;
    Ok(Json(job_view(&visible_job(&state, &current, id).await?)))
}

/// Cancels a queued or running import job: a running one stops at its next
/// heartbeat and its transaction is rolled back (nothing is written).
async fn cancel_job(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Value>> {
    require(&current, Capability::Import)?;
    let job = visible_job(&state, &current, id).await?;
    if job.status.is_final() {
        return Err(AppError::Conflict(format!(
            "the import job is already {}",
            job.status.as_str()
        )));
    }
    let job = state
        .store
        .cancel_export_job(id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such import job".into()))?;
    if job.status == JobStatus::Cancelled {
        let _ = state.uploads.delete(&upload_key(id)).await;
    }
    audit(
        &state,
        &current,
        "import_job.cancel",
        json!({ "job_id": id }),
    )
    .await;
    Ok(Json(job_view(&job)))
}

async fn report_csv(
    State(state): State<AppState>,
    current: CurrentUser,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    require(&current, Capability::Import)?;
    let missing = || AppError::NotFound("no such import report".into());
    let id: Uuid = id.parse().map_err(|_| missing())?;
    let dir = reports_dir(&state);
    let Ok(meta) = tokio::fs::read(dir.join(format!("{id}.json"))).await else {
        return job_report(&state, &current, id).await;
    };
    let meta: ReportMeta = serde_json::from_slice(&meta).map_err(|_| missing())?;
    let privileged = matches!(
        current.role(),
        AccountType::MasterAdmin | AccountType::Admin
    );
    if meta.owner != current.user.id && !privileged {
        return Err(missing());
    }
    let file = tokio::fs::File::open(dir.join(format!("{id}.csv")))
        .await
        .map_err(|_| missing())?;
    let stream = futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 << 10];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    Ok(report_response(Body::from_stream(stream), id))
}

/// The report of an import job: its file in the exports' store.
async fn job_report(state: &AppState, current: &CurrentUser, id: Uuid) -> AppResult<Response> {
    let job = visible_job(state, current, id)
        .await
        .map_err(|_| AppError::NotFound("no such import report".into()))?;
    let key = match (job.status, &job.file_key) {
        (JobStatus::Done, Some(key)) => key.clone(),
        (JobStatus::Expired, _) => {
            return Err(AppError::Gone(
                "the import report has expired (PULSE_EXPORT_RETENTION)".into(),
            ));
        }
        _ => {
            return Err(AppError::Conflict(format!(
                "the import job is {}; its report is there once it is done",
                job.status.as_str()
            )));
        }
    };
    let size = state
        .files
        .size(&key)
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .ok_or_else(|| AppError::Gone("the import report has expired".into()))?;
    let stream = state
        .files
        .read(&key, 0, size)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(report_response(Body::from_stream(stream), id))
}

fn report_response(body: Body, id: Uuid) -> Response {
    let mut response = body.into_response();
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
    response
}

/// Audits through the service (until this file's use-cases move there).
async fn audit(state: &AppState, current: &CurrentUser, action: &str, details: serde_json::Value) {
    crate::service::audit::record(state, &current.actor(), action, details).await
}
