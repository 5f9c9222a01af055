//! The import wizard and the import history (issue 21; master_admin, admin,
//! ops_team): step 1 uploads a file (`POST /imports/new`, multipart; kept
//! by `service::import_wizard` under an id), step 2 shows what was detected
//! and the column mapping (`/imports/wizard/{id}`), step 3 the file's first
//! rows as they would be stored and the whole-file counts for the mapping
//! and duplicate policy (`…/preview`; a job for a big file), step 4 runs it
//! and shows the result, the report and the undo (`…/result`). Every
//! action is a plain form POST answered with 303; running jobs refresh
//! their card every second with htmx. `/imports` is the history,
//! `/imports/{id}` one import with its undo.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::admin::{grouped, require, size_text};
use super::lead_detail::ist_text;
use super::page::{Layout, PageError, PageResult, PageUser, capitalise, render, see_other};
use crate::domain::Capability;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::http::upload::receive_file;
use crate::import::run::Action;
use crate::service::ServiceError;
use crate::service::import_wizard::{self as wizard, Kept, Outcome, ShownRow};
use crate::service::imports;
use crate::service::jobs::shown_status;
use crate::store::{ExportJob, JobStatus};

const WHAT: &str = "import leads";

/// The wizard's steps, for the step list at the top of each.
struct Step {
    n: u8,
    label: &'static str,
    current: bool,
}

fn steps(at: u8) -> Vec<Step> {
    ["Upload", "Mapping", "Preview", "Import"]
        .into_iter()
        .zip(1u8..)
        .map(|(label, n)| Step {
            n,
            label,
            current: n == at,
        })
        .collect()
}

/// An import's counts as the pages show them.
struct Counts {
    rows: String,
    inserted: String,
    replaced: String,
    unchanged: String,
    skipped: String,
    rejected: String,
    conflicts: String,
    warned: String,
}

fn counts(result: &Value) -> Counts {
    let n = |k: &str| grouped(result[k].as_i64().unwrap_or(0));
    Counts {
        rows: n("rows_read"),
        inserted: n("inserted"),
        replaced: n("updated"),
        unchanged: n("unchanged"),
        skipped: n("skipped_duplicates"),
        rejected: n("rejected"),
        conflicts: n("conflicts"),
        warned: n("mapped_with_warning"),
    }
}

/// A count or an import as far as it has got.
struct Progress {
    /// Still running: the card refreshes itself.
    running: bool,
    /// Waiting, Running, Done, Failed …
    status: &'static str,
    /// rows done / rows total for the bar (total 0: indeterminate).
    done: i64,
    total: i64,
    text: String,
    /// The counts, once done.
    counts: Option<Counts>,
    /// What went wrong.
    error: Option<String>,
    /// The report's download (once done).
    report: Option<String>,
    /// The job's server-sent progress (while it runs; app.js follows it).
    events: String,
}

fn status_text(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Queued => "Waiting",
        JobStatus::Running => "Running",
        JobStatus::Done => "Done",
        JobStatus::Failed => "Failed",
        JobStatus::Cancelled => "Cancelled",
        JobStatus::Expired => "Expired",
    }
}

fn report_url(id: Uuid) -> String {
    format!("/api/driver-onboarding/import-leads/{id}/report.csv")
}

async fn progress(state: &AppState, user: &PageUser, o: &Outcome) -> Result<Progress, PageError> {
    Ok(match o {
        Outcome::Now { id, result } => Progress {
            running: false,
            status: "Done",
            done: 0,
            total: 0,
            text: String::new(),
            counts: Some(counts(result)),
            error: None,
            report: Some(report_url(*id)),
            events: String::new(),
        },
        Outcome::Job { id } => {
            let job: ExportJob = imports::job(state, &user.actor(), *id).await?;
            let status = shown_status(&job);
            let done = job.rows_done;
            Progress {
                running: !status.is_final(),
                status: status_text(status),
                done,
                total: job.rows_total.unwrap_or(0),
                text: match status {
                    JobStatus::Queued => "waiting for a worker".into(),
                    JobStatus::Running => format!("{} rows read", grouped(done)),
                    _ => String::new(),
                },
                counts: (status == JobStatus::Done)
                    .then(|| job.result.as_ref().map(counts))
                    .flatten(),
                error: match status {
                    JobStatus::Failed => Some(format!(
                        "It failed and wrote nothing: {}",
                        job.error.clone().unwrap_or_default()
                    )),
                    JobStatus::Cancelled => Some("It was cancelled and wrote nothing.".into()),
                    _ => None,
                },
                report: (status == JobStatus::Done).then(|| report_url(*id)),
                events: format!("/api/driver-onboarding/import-leads/jobs/{id}/events"),
            }
        }
    })
}

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
fn refused_file(e: ServiceError) -> Result<(StatusCode, String), PageError> {
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

// ---- step 2: what was detected, the mapping

struct FieldOpt {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

struct ColumnRow {
    column: usize,
    header: String,
    guessed: String,
    changed: bool,
    note: String,
    options: Vec<FieldOpt>,
    none_selected: bool,
}

struct Detected {
    format: String,
    encoding: String,
    sheets: String,
    header_row: String,
}

#[derive(askama::Template)]
#[template(path = "import_mapping.html")]
struct MappingPage {
    l: Layout,
    steps: Vec<Step>,
    id: Uuid,
    file_name: String,
    size: String,
    detected: Detected,
    columns: Vec<ColumnRow>,
    skip: bool,
    lead_source: String,
    error: Option<String>,
}

fn detected(info: &crate::import::FileInfo) -> Detected {
    let format = match info.format {
        Some(crate::import::Format::Xlsx) => "Excel workbook (xlsx)",
        Some(crate::import::Format::Csv) => "CSV",
        Some(crate::import::Format::Jsonl) => "JSON lines (or mongoexport)",
        None => "unknown",
    };
    let read: Vec<&crate::import::SheetUse> = info.sheets.iter().filter(|s| s.imported).collect();
    let sheets = if info.sheets.is_empty() {
        "—".to_string()
    } else {
        let names: Vec<String> = info
            .sheets
            .iter()
            .map(|s| {
                format!(
                    "{}{}",
                    s.name,
                    if s.imported {
                        ""
                    } else {
                        " (skipped: no phone column)"
                    }
                )
            })
            .collect();
        names.join(", ")
    };
    let header_row = info
        .header_row
        .or_else(|| read.first().and_then(|s| s.header_row))
        .map_or("—".to_string(), |r| format!("row {r}"));
    Detected {
        format: format.into(),
        encoding: info.encoding.clone().unwrap_or_else(|| "—".into()),
        sheets,
        header_row,
    }
}

async fn kept(state: &AppState, user: &PageUser, id: &str) -> Result<Kept, PageError> {
    require(user, Capability::Import, WHAT)?;
    Ok(wizard::get(state, &user.actor(), id).await?)
}

fn label_of(field: &str) -> &'static str {
    wizard::mappable_fields()
        .into_iter()
        .find(|(f, _)| *f == field)
        .map_or("", |(_, l)| l)
}

async fn mapping_view(
    state: &AppState,
    user: &PageUser,
    k: &Kept,
    error: Option<String>,
) -> Result<MappingPage, PageError> {
    let look = wizard::look(state, &user.actor(), k).await?;
    let fields = wizard::mappable_fields();
    let columns = look
        .columns
        .iter()
        .map(|c| ColumnRow {
            column: c.column,
            header: c.header.clone(),
            guessed: c.guessed.map_or("nothing (not recognised)".into(), |f| {
                label_of(f).to_string()
            }),
            changed: c.guessed != c.field,
            note: c.note.clone().unwrap_or_default(),
            options: fields
                .iter()
                .map(|(value, label)| FieldOpt {
                    value,
                    label,
                    selected: c.field == Some(*value),
                })
                .collect(),
            none_selected: c.field.is_none(),
        })
        .collect();
    Ok(MappingPage {
        l: Layout::new("Import: mapping", Some(user)),
        steps: steps(2),
        id: k.id,
        file_name: k.file_name.clone(),
        size: size_text(k.bytes),
        detected: detected(&look.info),
        columns,
        skip: k.action != Action::Replace,
        lead_source: k.lead_source.clone().unwrap_or_default(),
        error,
    })
}

/// `GET /imports/wizard/{id}`: step 2.
pub(super) async fn mapping(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let k = kept(&state, &user, &id).await?;
    if k.imported.is_some() {
        return Ok(see_other(&format!("/imports/wizard/{}/result", k.id)));
    }
    Ok(render(
        StatusCode::OK,
        &mapping_view(&state, &user, &k, None).await?,
    ))
}

fn action_of(v: Option<&str>) -> Result<Action, String> {
    match v.unwrap_or("skip") {
        "skip" => Ok(Action::Skip),
        "replace" => Ok(Action::Replace),
        other => Err(format!(
            "Duplicate policy {other:?}: choose skip or replace."
        )),
    }
}

/// `POST /imports/wizard/{id}/mapping`: keeps the mapping (`c<column>` =
/// a field name, or empty for "don't import"), the duplicate policy and
/// the source, counts, and goes on to the preview.
pub(super) async fn save_mapping(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    let k = kept(&state, &user, &id).await?;
    let get = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut picks = Vec::new();
    for (name, value) in &form {
        if let Some(col) = name.strip_prefix('c').and_then(|n| n.parse::<usize>().ok()) {
            picks.push((col, Some(value.clone()).filter(|v| !v.is_empty())));
        }
    }
    let action = match action_of(get("action")) {
        Ok(a) => a,
        Err(m) => {
            let v = mapping_view(&state, &user, &k, Some(m)).await?;
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &v));
        }
    };
    let source = get("lead_source")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    match wizard::choose(&state, &user.actor(), &id, Some(picks), action, source).await {
        Ok(k) => Ok(see_other(&format!("/imports/wizard/{}/preview", k.id))),
        Err(e) => {
            let (status, m) = page_refusal(e)?;
            let v = mapping_view(&state, &user, &k, Some(m)).await?;
            Ok(render(status, &v))
        }
    }
}

/// A service refusal shown on the wizard's page.
fn page_refusal(e: ServiceError) -> Result<(StatusCode, String), PageError> {
    match e {
        e @ (ServiceError::TooLarge(_) | ServiceError::Unsupported(_)) => refused_file(e),
        e => super::admin::refusal(e),
    }
}

// ---- step 3: preview

struct PreviewRow {
    row: u64,
    values: Vec<String>,
    problem: String,
    warnings: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "import_preview.html")]
struct PreviewPage {
    l: Layout,
    steps: Vec<Step>,
    id: Uuid,
    file_name: String,
    headers: Vec<&'static str>,
    rows: Vec<PreviewRow>,
    shown: u64,
    problems: usize,
    warned: usize,
    warned_columns: Vec<String>,
    skip: bool,
    counting: Option<Progress>,
    error: Option<String>,
}

async fn preview_view(
    state: &AppState,
    user: &PageUser,
    k: &Kept,
    error: Option<String>,
) -> Result<PreviewPage, PageError> {
    let look = wizard::look(state, &user.actor(), k).await?;
    let rows: Vec<PreviewRow> = look
        .rows
        .into_iter()
        .map(|r| match r {
            ShownRow::Lead {
                row,
                values,
                warnings,
            } => PreviewRow {
                row,
                values,
                problem: String::new(),
                warnings,
            },
            ShownRow::Rejected { row, reason, .. } => PreviewRow {
                row,
                values: Vec::new(),
                problem: capitalise(&reason),
                warnings: Vec::new(),
            },
        })
        .collect();
    let warned_columns = look
        .columns
        .iter()
        .filter(|c| c.field.is_some() && c.note.is_some())
        .map(|c| format!("{}: {}", c.header, c.note.clone().unwrap_or_default()))
        .collect();
    let counting = match &k.counted {
        Some(o) => Some(progress(state, user, o).await?),
        None => None,
    };
    Ok(PreviewPage {
        l: Layout::new("Import: preview", Some(user)),
        steps: steps(3),
        id: k.id,
        file_name: k.file_name.clone(),
        headers: look.fields.iter().map(|f| label_of(f)).collect(),
        shown: look.info.rows_read,
        problems: rows.iter().filter(|r| !r.problem.is_empty()).count(),
        warned: rows.iter().filter(|r| !r.warnings.is_empty()).count(),
        rows,
        warned_columns,
        skip: k.action != Action::Replace,
        counting,
        error,
    })
}

/// `GET /imports/wizard/{id}/preview`: step 3.
pub(super) async fn preview(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let k = kept(&state, &user, &id).await?;
    if k.imported.is_some() {
        return Ok(see_other(&format!("/imports/wizard/{}/result", k.id)));
    }
    Ok(render(
        StatusCode::OK,
        &preview_view(&state, &user, &k, None).await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct PolicyForm {
    action: String,
}

/// `POST /imports/wizard/{id}/policy`: another duplicate policy, counted again.
pub(super) async fn policy(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<PolicyForm>,
) -> PageResult {
    let k = kept(&state, &user, &id).await?;
    let action = match action_of(Some(&f.action)) {
        Ok(a) => a,
        Err(m) => {
            let v = preview_view(&state, &user, &k, Some(m)).await?;
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &v));
        }
    };
    let source = k.lead_source.clone();
    match wizard::choose(&state, &user.actor(), &id, None, action, source).await {
        Ok(k) => Ok(see_other(&format!("/imports/wizard/{}/preview", k.id))),
        Err(e) => {
            let (status, m) = page_refusal(e)?;
            let v = preview_view(&state, &user, &k, Some(m)).await?;
            Ok(render(status, &v))
        }
    }
}

/// `POST /imports/wizard/{id}/run`: step 4 starts.
pub(super) async fn run(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let k = kept(&state, &user, &id).await?;
    match wizard::run(&state, &user.actor(), &id).await {
        Ok(k) => Ok(see_other(&format!("/imports/wizard/{}/result", k.id))),
        Err(e) => {
            let (status, m) = page_refusal(e)?;
            Ok(render(
                status,
                &preview_view(&state, &user, &k, Some(m)).await?,
            ))
        }
    }
}

// ---- step 4: result

#[derive(askama::Template)]
#[template(path = "import_result.html")]
struct ResultPage {
    l: Layout,
    steps: Vec<Step>,
    import_id: Uuid,
    file_name: String,
    p: Progress,
    undoable: bool,
}

/// `GET /imports/wizard/{id}/result`.
pub(super) async fn result(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let k = kept(&state, &user, &id).await?;
    let Some(o) = &k.imported else {
        return Ok(see_other(&format!("/imports/wizard/{}/preview", k.id)));
    };
    let p = progress(&state, &user, o).await?;
    let import_id = o.id();
    let undoable = match imports::record(&state, &user.actor(), import_id).await {
        Ok(r) => r.undone.is_none(),
        Err(_) => false,
    };
    Ok(render(
        StatusCode::OK,
        &ResultPage {
            l: Layout::new("Import: result", Some(&user)),
            steps: steps(4),
            import_id,
            file_name: k.file_name.clone(),
            p,
            undoable,
        },
    ))
}

// ---- history, one import, undo

struct HistoryRow {
    id: Uuid,
    when: String,
    who: String,
    file_name: String,
    inserted: String,
    replaced: String,
    undone: String,
}

#[derive(askama::Template)]
#[template(path = "imports.html")]
struct HistoryPage {
    l: Layout,
    rows: Vec<HistoryRow>,
    everyone: bool,
}

/// `GET /imports`: the history.
pub(super) async fn history(State(state): State<AppState>, user: PageUser) -> PageResult {
    require(&user, Capability::Import, WHAT)?;
    let list = wizard::history(&state, &user.actor(), 100).await?;
    let rows = list
        .into_iter()
        .map(|r| HistoryRow {
            id: r.id,
            when: ist_text(r.created_at),
            who: r.actor,
            file_name: r.file_name,
            inserted: grouped(r.inserted as i64),
            replaced: grouped(r.replaced as i64),
            undone: r
                .undone
                .map(|(at, by, _)| format!("Undone {} by {by}", ist_text(at)))
                .unwrap_or_default(),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &HistoryPage {
            l: Layout::new("Imports", Some(&user)),
            rows,
            everyone: user.can(Capability::SeeOthersImports),
        },
    ))
}

#[derive(askama::Template)]
#[template(path = "import_one.html")]
struct OnePage {
    l: Layout,
    id: Uuid,
    file_name: String,
    who: String,
    when: String,
    inserted: String,
    replaced: String,
    undone: Option<String>,
    undo: Option<UndoView>,
    report: String,
    notice: Option<super::page::Notice>,
}

struct UndoView {
    job: Uuid,
    running: bool,
    status: &'static str,
    answer: String,
    error: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct OneQuery {
    undo: Option<String>,
}

/// `GET /imports/{id}`: one import, its undo and how that went.
pub(super) async fn one(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Query(q): Query<OneQuery>,
    headers: HeaderMap,
) -> PageResult {
    require(&user, Capability::Import, WHAT)?;
    let id: Uuid = id.parse().map_err(|_| PageError::NotFound)?;
    let actor = user.actor();
    let r = imports::record(&state, &actor, id).await?;
    let undo = match q.undo.as_deref().map(str::parse::<Uuid>) {
        Some(Ok(job)) => {
            let j = imports::undo_job(&state, &actor, job).await?;
            let status = shown_status(&j);
            let res = j.result.clone().unwrap_or_default();
            Some(UndoView {
                job,
                running: !status.is_final(),
                status: status_text(status),
                answer: if status == JobStatus::Done {
                    format!(
                        "Undone: {} inserted leads removed, {} replaced leads restored.",
                        grouped(res["removed"].as_i64().unwrap_or(0)),
                        grouped(res["restored"].as_i64().unwrap_or(0))
                    )
                } else {
                    String::new()
                },
                error: match status {
                    JobStatus::Failed => format!(
                        "Nothing was undone: {}",
                        j.error.clone().unwrap_or_default()
                    ),
                    _ => String::new(),
                },
            })
        }
        _ => None,
    };
    Ok(render(
        StatusCode::OK,
        &OnePage {
            l: Layout::new("Import", Some(&user)),
            id,
            file_name: r.file_name,
            who: r.actor,
            when: ist_text(r.created_at),
            inserted: grouped(r.inserted as i64),
            replaced: grouped(r.replaced as i64),
            undone: r
                .undone
                .map(|(at, by, _)| format!("Undone {} by {by}.", ist_text(at))),
            undo,
            report: report_url(id),
            notice: super::page::take_notice(&headers),
        },
    ))
}

/// `POST /imports/{id}/undo`: queues the undo job, then its page.
pub(super) async fn undo(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> PageResult {
    require(&user, Capability::Import, WHAT)?;
    let id: Uuid = id.parse().map_err(|_| PageError::NotFound)?;
    match imports::undo(&state, &user.actor(), id).await {
        Ok(job) => Ok(see_other(&format!("/imports/{id}?undo={}", job.id))),
        Err(ServiceError::Conflict(m)) => Ok(super::page::see_other_with(
            &format!("/imports/{id}"),
            true,
            &capitalise(&m),
        )),
        Err(e) => Err(e.into()),
    }
}
