//! Steps 2–4 of the import wizard: what was detected and the column
//! mapping (`/imports/wizard/{id}`), the preview with the whole-file counts
//! (`…/preview`, `…/policy`), the run and its result (`…/run`, `…/result`).
//! Every action is a plain form POST answered with 303.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::admin::{require, size_text};
use super::import_upload::refused_file;
use super::imports::{Progress, Step, WHAT, progress, steps};
use super::page::{Layout, PageError, PageResult, PageUser, capitalise, render, see_other};
use crate::domain::Capability;
use crate::http::AppState;
use crate::import::run::Action;
use crate::service::ServiceError;
use crate::service::import_wizard::{self as wizard, Kept, ShownRow};
use crate::service::imports;

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
