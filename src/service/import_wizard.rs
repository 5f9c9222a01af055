//! The import wizard (issue 21): an upload kept under
//! `PULSE_DATA_DIR/import-wizard` as `<id>.upload` with a small record
//! `<id>.json` beside it (its owner, name, size, SHA-256, the mapping and
//! duplicate policy chosen, and what its preview and its import became),
//! so each step of the pages names it by id. Only its owner reaches it.
//! The jobs' clean-up deletes both files after a day
//! (`import::WIZARD_UPLOAD_AGE`). The counts and the import itself go
//! through [`super::imports::import`] (a job above
//! `PULSE_IMPORT_JOB_THRESHOLD`), with the chosen mapping.
//!
//! The files are local: behind a load balancer the wizard's requests must
//! reach the instance that received the upload (as download tickets do).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::imports::{self, ImportForm, Imported, Upload};
use super::{ServiceError, ServiceResult, Services};
use crate::domain::{Actor, FieldRef, Lead};
use crate::import::mapping::{ColumnChoice, ColumnUse};
use crate::import::row::RowDefaults;
use crate::import::run::{Action, peek};
use crate::import::{FileInfo, Item};

/// Rows the mapping and preview steps show.
pub const SHOWN_ROWS: u64 = 20;

/// What a count or an import became.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Outcome {
    /// Done now: the import's (or dry run's) id — its report's — and its
    /// counts as an import job's `result` has them.
    Now {
        /// The import's id (its report's, and for a real import its undo's).
        id: Uuid,
        /// The counts.
        result: Value,
    },
    /// Queued as an import job (its id is the import's).
    Job {
        /// The job.
        id: Uuid,
    },
}

impl Outcome {
    /// The import's id (its report's).
    pub fn id(&self) -> Uuid {
        match self {
            Outcome::Now { id, .. } | Outcome::Job { id } => *id,
        }
    }
}

/// One upload of the wizard, as its record keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kept {
    /// Its id (the pages' URLs name it).
    pub id: Uuid,
    /// Who uploaded it (the only one who reaches it).
    pub owner: Uuid,
    /// The name it was uploaded under.
    pub file_name: String,
    /// Its size.
    pub bytes: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The columns whose field was changed from the guess.
    #[serde(default)]
    pub choices: Vec<ColumnChoice>,
    /// `skip` or `replace`.
    pub action: Action,
    /// The source of leads whose row names none.
    #[serde(default)]
    pub lead_source: Option<String>,
    /// The whole-file counts for the current mapping and policy (a dry run).
    #[serde(default)]
    pub counted: Option<Outcome>,
    /// The import, once run.
    #[serde(default)]
    pub imported: Option<Outcome>,
}

/// One column of the header row: what was guessed and what is in effect.
#[derive(Debug, Clone)]
pub struct ColumnView {
    /// Position, 0-based.
    pub column: usize,
    /// The header as written.
    pub header: String,
    /// The field the importer guessed (its synonyms), if any.
    pub guessed: Option<&'static str>,
    /// The field in effect (the guess, or the choice), if any.
    pub field: Option<&'static str>,
    /// Why it is not imported, or how it is read.
    pub note: Option<String>,
}

/// A row of the file's start as it would be stored.
#[derive(Debug)]
pub enum ShownRow {
    /// A valid lead: its values for the columns shown, and its warnings.
    Lead {
        /// Spreadsheet row (header = 1) or line.
        row: u64,
        /// One text per shown field.
        values: Vec<String>,
        /// How values were read when not exact (a status mapped).
        warnings: Vec<String>,
    },
    /// Refused: the field and why.
    Rejected {
        /// As above.
        row: u64,
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
}

/// What the file's start shows.
#[derive(Debug)]
pub struct Look {
    /// Format, encoding, sheets, header row, rows read (of the start).
    pub info: FileInfo,
    /// The header row's columns.
    pub columns: Vec<ColumnView>,
    /// The fields shown per row (those a column fills), in file order.
    pub fields: Vec<&'static str>,
    /// The first rows.
    pub rows: Vec<ShownRow>,
}

fn dir(svc: &Services) -> PathBuf {
    crate::import::wizard_dir(&svc.config)
}

fn upload_path(svc: &Services, id: Uuid) -> PathBuf {
    dir(svc).join(format!("{id}.upload"))
}

fn record_path(svc: &Services, id: Uuid) -> PathBuf {
    dir(svc).join(format!("{id}.json"))
}

async fn save(svc: &Services, kept: &Kept) -> ServiceResult<()> {
    let json = serde_json::to_vec(kept).map_err(ServiceError::internal)?;
    let (tmp, to) = (
        dir(svc).join(format!("{}.json.tmp", kept.id)),
        record_path(svc, kept.id),
    );
    tokio::fs::write(&tmp, json)
        .await
        .map_err(ServiceError::internal)?;
    tokio::fs::rename(&tmp, &to)
        .await
        .map_err(ServiceError::internal)
}

fn defaults(kept: &Kept) -> RowDefaults {
    RowDefaults {
        lead_source: kept.lead_source.clone(),
        lead_date: None,
        read_source_from_file: true,
        now: Utc::now(),
        csv: false,
    }
}

/// Keeps `upload` (a received file; it is moved, not copied) as a new
/// wizard upload of `actor`, after reading its start: a file the importer
/// refuses (empty, a wrong type, a bomb, no phone column …) is refused
/// here with the importer's words, and not kept.
pub async fn keep(svc: &Services, actor: &Actor, upload: &Upload) -> ServiceResult<Kept> {
    imports::may_import(actor)?;
    if upload.bytes == 0 {
        return Err(ServiceError::Invalid(
            "the file is empty: choose a sheet with a header row and leads".into(),
        ));
    }
    let max = svc.config.import_max_bytes;
    if upload.bytes > max {
        return Err(ServiceError::TooLarge(format!(
            "the file is larger than {max} bytes (PULSE_IMPORT_MAX_BYTES)"
        )));
    }
    tokio::fs::create_dir_all(dir(svc))
        .await
        .map_err(ServiceError::internal)?;
    let kept = Kept {
        id: Uuid::new_v4(),
        owner: actor.id,
        file_name: upload.name.clone(),
        bytes: upload.bytes,
        sha256: upload.sha256.clone(),
        created_at: Utc::now(),
        choices: Vec::new(),
        action: Action::Skip,
        lead_source: None,
        counted: None,
        imported: None,
    };
    let path = upload_path(svc, kept.id);
    tokio::fs::rename(&upload.path, &path)
        .await
        .map_err(ServiceError::internal)?;
    let checked = peek(
        path.clone(),
        kept.file_name.clone(),
        defaults(&kept),
        Vec::new(),
        1,
    )
    .await;
    if let Err(e) = checked {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e.into());
    }
    save(svc, &kept).await?;
    Ok(kept)
}

/// The wizard upload `id` of `actor` (anyone else's, a bad id or one swept
/// away: not found).
pub async fn get(svc: &Services, actor: &Actor, id: &str) -> ServiceResult<Kept> {
    imports::may_import(actor)?;
    let missing = || {
        ServiceError::NotFound(
            "no such upload (uploads are kept for 24 hours): upload the file again".into(),
        )
    };
    let id: Uuid = id.parse().map_err(|_| missing())?;
    let json = tokio::fs::read(record_path(svc, id))
        .await
        .map_err(|_| missing())?;
    let kept: Kept = serde_json::from_slice(&json).map_err(|_| missing())?;
    if kept.owner != actor.id || !upload_path(svc, id).exists() {
        return Err(missing());
    }
    Ok(kept)
}

fn cell_text(v: FieldRef<'_>, masks: bool, pii: bool) -> String {
    let text = match v {
        FieldRef::Uuid(u) => u.to_string(),
        FieldRef::RequiredText(t) => t.clone(),
        FieldRef::Text(t) => t.clone().unwrap_or_default(),
        FieldRef::Date(d) => d.map(|d| d.to_string()).unwrap_or_default(),
        FieldRef::Instant(t) => t.map(|t| t.to_rfc3339()).unwrap_or_default(),
        FieldRef::RequiredInstant(t) => t.to_rfc3339(),
        FieldRef::Stage(s) => s.code().to_string(),
        FieldRef::RemarkLog(l) => format!("{} entries", l.len()),
        FieldRef::StatusLog(l) => format!("{} entries", l.len()),
    };
    if masks && pii && !text.is_empty() {
        crate::domain::pii::mask_document(&text)
    } else {
        text
    }
}

fn lead_values(lead: &Lead, fields: &[&'static str], masks: bool) -> Vec<String> {
    fields
        .iter()
        .filter_map(|name| crate::domain::FIELDS.iter().find(|d| d.name == *name))
        .map(|d| cell_text(lead.field(d), masks, d.pii))
        .collect()
}

/// The start of the upload under its current mapping: what was detected,
/// the columns (guessed and in effect) and the first rows as they would be
/// stored (document numbers masked for the roles that see them masked).
pub async fn look(svc: &Services, actor: &Actor, kept: &Kept) -> ServiceResult<Look> {
    let path = upload_path(svc, kept.id);
    let (guess, _) = peek(
        path.clone(),
        kept.file_name.clone(),
        defaults(kept),
        Vec::new(),
        1,
    )
    .await?;
    let (info, items) = peek(
        path,
        kept.file_name.clone(),
        defaults(kept),
        kept.choices.clone(),
        SHOWN_ROWS,
    )
    .await?;
    let guessed = |u: &ColumnUse| {
        guess
            .columns
            .iter()
            .find(|g| g.column == u.column)
            .and_then(|g| g.field)
    };
    let columns: Vec<ColumnView> = info
        .columns
        .iter()
        .map(|u| ColumnView {
            column: u.column,
            header: u.header.clone(),
            guessed: guessed(u),
            field: u.field,
            note: u.ignored.clone().or(u.note.clone()),
        })
        .collect();
    let mut fields: Vec<&'static str> = Vec::new();
    for c in &columns {
        if let Some(f) = c.field
            && !fields.contains(&f)
        {
            fields.push(f);
        }
    }
    if info.columns.is_empty() {
        // JSON lines and mongoexport have no header row: show the writable
        // fields the first rows fill, in the field list's order
        for d in crate::domain::FIELDS.iter().filter(|d| d.client_writable) {
            let filled = items.iter().any(|item| match item {
                Item::Lead { lead, .. } => !cell_text(lead.field(d), false, false).is_empty(),
                Item::Rejected { .. } => false,
            });
            if filled {
                fields.push(d.name);
            }
        }
    }
    let masks = actor.masks_pii();
    let rows = items
        .into_iter()
        .map(|item| match item {
            Item::Lead {
                row, lead, notes, ..
            } => ShownRow::Lead {
                row,
                values: lead_values(&lead, &fields, masks),
                warnings: notes,
            },
            Item::Rejected {
                row, field, reason, ..
            } => ShownRow::Rejected { row, field, reason },
        })
        .collect();
    Ok(Look {
        info,
        columns,
        fields,
        rows,
    })
}

fn form(svc: &Services, kept: &Kept, dry_run: bool) -> ImportForm {
    ImportForm {
        upload: Upload {
            path: upload_path(svc, kept.id),
            name: kept.file_name.clone(),
            bytes: kept.bytes,
            sha256: kept.sha256.clone(),
        },
        users: Default::default(),
        lead_source: kept.lead_source.clone(),
        lead_date: None,
        read_source_from_file: true,
        action: kept.action,
        choices: kept.choices.clone(),
        dry_run,
        upsert: None,
    }
}

fn outcome(i: Imported) -> Outcome {
    match i {
        Imported::Now(done) => Outcome::Now {
            id: done.id,
            result: serde_json::to_value(done.result).unwrap_or_default(),
        },
        Imported::Queued(job) => Outcome::Job { id: job.id },
    }
}

/// The mapping form's answer for one column: its position and the field
/// picked (`None`: don't import).
pub type Pick = (usize, Option<String>);

/// Keeps the mapping and policy chosen for upload `id` and counts what
/// they would do over the whole file (a dry run: now, or a job for a big
/// file). `picks` are the header row's columns as the form sent them
/// (`None`: every column as it is now); those that differ from the
/// importer's guess become the upload's choices.
pub async fn choose(
    svc: &Services,
    actor: &Actor,
    id: &str,
    picks: Option<Vec<Pick>>,
    action: Action,
    lead_source: Option<String>,
) -> ServiceResult<Kept> {
    let mut kept = get(svc, actor, id).await?;
    let choices = match picks {
        None => kept.choices.clone(),
        Some(picks) => choices_of(svc, &kept, picks).await?,
    };
    if kept.imported.is_some() {
        return Err(ServiceError::Conflict(
            "this file was already imported; upload it again to import it again".into(),
        ));
    }
    if action == Action::Preview {
        return Err(ServiceError::Invalid(
            "duplicate policy: choose skip or replace".into(),
        ));
    }
    for c in &choices {
        c.check().map_err(ServiceError::Invalid)?;
    }
    if let Some(s) = &lead_source
        && s.contains('\0')
    {
        return Err(ServiceError::Invalid(
            "source: must not contain the NUL character".into(),
        ));
    }
    kept.choices = choices;
    kept.action = action;
    kept.lead_source = lead_source;
    kept.counted = None;
    // The mapping must still find a phone column: refused with the
    // importer's words, and nothing kept.
    look(svc, actor, &kept).await?;
    kept.counted = Some(outcome(
        imports::import(svc, actor, form(svc, &kept, true)).await?,
    ));
    save(svc, &kept).await?;
    Ok(kept)
}

/// The picks that differ from the guess, as choices (a column the header
/// row does not have is refused).
async fn choices_of(
    svc: &Services,
    kept: &Kept,
    picks: Vec<Pick>,
) -> ServiceResult<Vec<ColumnChoice>> {
    let (guess, _) = peek(
        upload_path(svc, kept.id),
        kept.file_name.clone(),
        defaults(kept),
        Vec::new(),
        1,
    )
    .await?;
    let mut out = Vec::new();
    for (column, field) in picks {
        let Some(u) = guess.columns.iter().find(|u| u.column == column) else {
            return Err(ServiceError::Invalid(format!(
                "column {}: the file's header row has no such column",
                column + 1
            )));
        };
        let field = field.filter(|f| !f.is_empty());
        if field.as_deref() != u.field {
            let c = ColumnChoice {
                column,
                header: u.header.clone(),
                field,
            };
            c.check().map_err(ServiceError::Invalid)?;
            out.push(c);
        }
    }
    Ok(out)
}

/// Imports upload `id` with its mapping and policy (now, or a job); once.
pub async fn run(svc: &Services, actor: &Actor, id: &str) -> ServiceResult<Kept> {
    let mut kept = get(svc, actor, id).await?;
    if kept.imported.is_some() {
        return Err(ServiceError::Conflict(
            "this file was already imported; its result is shown below".into(),
        ));
    }
    kept.imported = Some(outcome(
        imports::import(svc, actor, form(svc, &kept, false)).await?,
    ));
    save(svc, &kept).await?;
    Ok(kept)
}

/// The import history: the latest committed imports `actor` may see
/// (their own, or everyone's with `SeeOthersImports`), newest first.
pub async fn history(
    svc: &Services,
    actor: &Actor,
    limit: u32,
) -> ServiceResult<Vec<crate::store::ImportRecord>> {
    imports::may_import(actor)?;
    let owner = (!actor.can(crate::domain::Capability::SeeOthersImports)).then_some(actor.id);
    Ok(svc.store.list_imports(owner, limit.min(500)).await?)
}

/// The template sheet: a CSV (UTF-8 with a BOM, for spreadsheet programs)
/// whose header row is the export header of every lead field a client may
/// write (`domain::FIELDS`) — the importer reads each back to its field.
pub fn template_csv() -> Vec<u8> {
    let headers: Vec<&str> = crate::domain::FIELDS
        .iter()
        .filter(|d| d.client_writable)
        .filter_map(|d| d.export_header)
        .collect();
    let mut out = vec![0xEF, 0xBB, 0xBF];
    out.extend_from_slice(headers.join(",").as_bytes());
    out.extend_from_slice(b"\r\n");
    out
}

/// The lead fields a column may be mapped to, as (name, header for people).
pub fn mappable_fields() -> Vec<(&'static str, &'static str)> {
    crate::domain::FIELDS
        .iter()
        .filter_map(|d| d.export_header.map(|h| (d.name, h)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_maps_back_to_its_fields() {
        let csv = String::from_utf8(template_csv()).unwrap();
        let headers: Vec<&str> = csv
            .trim_start_matches('\u{feff}')
            .trim()
            .split(',')
            .collect();
        assert!(headers.contains(&"Phone Number"));
        let m = crate::import::mapping::map_headers(&headers);
        assert!(m.uses.iter().all(|u| u.field.is_some()), "{:?}", m.uses);
        let writable = crate::domain::FIELDS
            .iter()
            .filter(|d| d.client_writable && d.export_header.is_some())
            .count();
        assert_eq!(headers.len(), writable);
    }
}
