//! Importing leads from files people actually have: xlsx workbooks, CSV in
//! any common encoding, Pulse's JSON lines and `mongoexport` output of the
//! system Pulse replaced. Forgiving of the file (headers matched loosely,
//! phones and dates in many spellings, header rows below a title), strict
//! about the data (every lead passes the same rules as one created by hand;
//! a row that does not is rejected with its row number, field and reason).
//!
//! Parsing ([`parse_file`]) runs on a blocking thread and streams items to
//! [`run::import_file`], which resolves duplicates and writes everything
//! through the store's one-transaction bulk import.

pub mod csv;
pub mod detect;
pub mod jsonl;
pub mod lines;
pub mod mapping;
pub mod pause;
pub mod report;
pub mod row;
pub mod run;
pub mod spool;
pub mod status;
pub mod values;
pub mod xlsx;
pub mod xml;
pub mod zip;

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::Serialize;

pub use detect::Format;

/// Where synchronous imports keep their reports (`PULSE_DATA_DIR/import-reports`;
/// deleted after `PULSE_EXPORT_RETENTION` by the jobs' clean-up).
pub fn reports_dir(config: &crate::config::Config) -> std::path::PathBuf {
    config.data_dir.join("import-reports")
}
/// Where the import wizard keeps its uploads (`<id>.upload` and the
/// `<id>.json` record beside it) between its steps.
pub fn wizard_dir(config: &crate::config::Config) -> std::path::PathBuf {
    config.data_dir.join("import-wizard")
}

/// How long an upload of the import wizard is kept.
pub const WIZARD_UPLOAD_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Deletes the wizard's files in `dir` last written more than `max_age`
/// ago (run by the jobs' clean-up with [`WIZARD_UPLOAD_AGE`]); how many.
pub fn sweep_wizard_uploads(dir: &Path, max_age: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > max_age));
        if old && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}
use mapping::{
    ColumnChoice, ColumnPositions, ColumnUse, FIELDS, Field, Mapping, Present, map_headers_with,
};
use row::{RowDefaults, lead_from_cells};
use values::Cell;

use crate::domain::Lead;
use crate::store::StoreError;

/// Why an import stopped as a whole (a bad row only rejects that row).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read as what it claims to be (422).
    #[error("{0}")]
    Invalid(String),
    /// The file, a record of it, or what it inflates to is over a bound (413).
    #[error("{0}")]
    TooLarge(String),
    /// Not a format the importer reads (415).
    #[error("{0}")]
    Unsupported(String),
    /// Reading or writing a local file.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One parsed row.
#[derive(Debug)]
pub enum Item {
    /// A valid lead and the fields the row carried.
    Lead {
        /// Worksheet (1-based tab position) for xlsx, else 1.
        sheet: u32,
        /// Spreadsheet row (header = 1) or line number.
        row: u64,
        /// The lead as the row describes it.
        lead: Box<Lead>,
        /// Which fields the file had for it.
        present: Present,
        /// Document fields left empty because the file held a masked-looking value.
        masked: Present,
        /// What its reading needs saying (a status that was not an exact match).
        notes: row::Notes,
    },
    /// A row that failed validation.
    Rejected {
        /// As above.
        sheet: u32,
        /// As above.
        row: u64,
        /// The offending field.
        field: String,
        /// Why, naming the field and value.
        reason: String,
    },
}

/// What the parser found out about the file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileInfo {
    /// Detected format.
    pub format: Option<Format>,
    /// CSV: the text encoding found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Data rows read (blank rows not counted).
    pub rows_read: u64,
    /// Which column went where, and which were ignored (tabular files).
    pub columns: Vec<ColumnUse>,
    /// xlsx: the worksheets read and those skipped (no phone column).
    pub sheets: Vec<SheetUse>,
    /// CSV: the row the header is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_row: Option<u64>,
}

/// One worksheet of a workbook.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SheetUse {
    /// Its tab name.
    pub name: String,
    /// Whether its rows were read.
    pub imported: bool,
    /// The row its header is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_row: Option<u64>,
}

/// The original's bulk-import (COMPAT §2.14) on this importer, which runs
/// it with [`run::Action::Replace`] and these changes:
///
/// - the columns are `positions` when given (only the first worksheet is
///   read, its first non-blank row is the header), else the header row is
///   found and read by its synonyms as always;
/// - **an update changes only mapped, non-empty cells**: a blank cell of a
///   mapped column is "not given", so it never clears a stored value (the
///   original overwrote with whatever the row had; clearing a lead's
///   e-mail because a re-exported sheet left the cell empty loses data,
///   and `""` is no way to clear a field from a sheet anyway);
/// - within the file the **first** row of a phone wins, later copies are
///   skipped and reported (plain `replace`: the last wins);
/// - `assigned_telecaller` cells are resolved through `telecallers`
///   ([`Upsert::key`] of "first last", first name or login → login); a
///   cell naming nobody is reported and treated as not given (a new lead
///   stays unassigned, a stored one keeps its telecaller); a lead that gets
///   a telecaller this way and no `assigned_date` from the file is assigned
///   for the import's day (IST).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Upsert {
    /// `column_mapping`, if the request had one.
    pub positions: Option<ColumnPositions>,
    /// [`Upsert::key`] of a name → the telecaller's login.
    pub telecallers: HashMap<String, String>,
}

impl Upsert {
    /// How a person's name or login is compared: trimmed, inner
    /// whitespace collapsed, lower-cased.
    pub fn key(name: &str) -> String {
        name.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }
}

/// How many leading rows may come before the header (titles, notes).
const HEADER_SEARCH_ROWS: usize = 10;

/// Everything one parse needs besides the file.
pub struct ParseContext<'a> {
    /// Per-row defaults.
    pub defaults: &'a RowDefaults,
    /// User id → e-mail, for `mongoexport` telecallers.
    pub users: &'a HashMap<String, String>,
    /// A person's mapping of columns (tabular files), over the guesses.
    pub choices: &'a [ColumnChoice],
    /// The original's bulk-import: its column positions, blank cells not given.
    pub upsert: Option<&'a Upsert>,
    /// Stop after this many data rows (a look at the file's start: the
    /// import wizard's preview); `None` reads it all.
    pub limit: Option<u64>,
}

/// Parses `path` as `format`, calling `emit` for every non-blank row in
/// file order. `emit` returning an error stops the parse with it.
pub fn parse_file(
    path: &Path,
    format: Format,
    cx: &ParseContext<'_>,
    emit: &mut dyn FnMut(Item) -> Result<(), ImportError>,
) -> Result<FileInfo, ImportError> {
    let mut info = FileInfo {
        format: Some(format),
        ..FileInfo::default()
    };
    match format {
        Format::Jsonl => {
            let mut r = BufReader::with_capacity(1 << 20, File::open(path)?);
            // A UTF-8 BOM before the first object is tolerated.
            let mut buf = Vec::new();
            let mut number = 0u64;
            while jsonl::read_line(&mut r, &mut buf, number + 1)? {
                if cx.limit.is_some_and(|n| info.rows_read >= n) {
                    break;
                }
                number += 1;
                let line = if number == 1 {
                    buf.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&buf)
                } else {
                    &buf
                };
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                info.rows_read += 1;
                emit(match jsonl::lead_from_line(line, cx.defaults, cx.users) {
                    Ok((mut lead, mut present)) => Item::Lead {
                        sheet: 1,
                        row: number,
                        masked: row::drop_masked_documents(&mut lead, &mut present),
                        lead: Box::new(lead),
                        present,
                        notes: row::Notes::new(),
                    },
                    Err((field, reason)) => Item::Rejected {
                        sheet: 1,
                        row: number,
                        field,
                        reason,
                    },
                })?;
            }
        }
        Format::Csv => {
            let mut rows = csv::CsvRows::open(File::open(path)?)?;
            info.encoding = Some(rows.encoding.to_owned());
            let defaults = RowDefaults {
                csv: true,
                ..cx.defaults.clone()
            };
            let mut next = |cells: &mut Vec<Cell>, width| rows.next_row(cells, width);
            let found = tabular(&mut next, 1, &defaults, cx, &mut info, emit)?;
            if found.is_none() {
                return Err(no_header(&info));
            }
            info.header_row = found;
        }
        Format::Xlsx => {
            let book = xlsx::Workbook::open(File::open(path)?)?;
            let mut any = false;
            // Positions describe one layout: the first worksheet's.
            let sheets = match cx.upsert.and_then(|u| u.positions.as_ref()) {
                Some(_) => book.sheets.len().min(1),
                None => book.sheets.len(),
            };
            for i in 0..sheets {
                if cx.limit.is_some_and(|n| info.rows_read >= n) {
                    break;
                }
                let mut rows = book.sheet(i)?;
                let mut next = |cells: &mut Vec<Cell>, width| rows.next_row(cells, width);
                let found = tabular(&mut next, i as u32 + 1, cx.defaults, cx, &mut info, emit)?;
                any |= found.is_some();
                info.sheets.push(SheetUse {
                    name: book.sheets[i].0.clone(),
                    imported: found.is_some(),
                    header_row: found,
                });
            }
            if !any {
                return Err(no_header(&info));
            }
        }
    }
    Ok(info)
}

fn no_header(info: &FileInfo) -> ImportError {
    let seen: Vec<&str> = info
        .columns
        .iter()
        .map(|c| c.header.as_str())
        .take(20)
        .collect();
    ImportError::Invalid(format!(
        "no phone number column found in the first {HEADER_SEARCH_ROWS} rows (headers seen: {seen:?}); name one e.g. \"Phone\", \"Mobile\" or \"phone_number\""
    ))
}

/// The mapped fields whose cell in this row is blank ([`Upsert`]: not
/// given). Status and stage are left to the row's reading, which already
/// takes a blank one as not given (and reads the stage when the status is
/// blank); a blank name or phone rejects the row anyway.
fn blank_cells(m: &Mapping, cells: &[Cell]) -> Present {
    let mut blank = Present::default();
    for (i, col) in m.columns.iter().enumerate() {
        let Some((f, _)) = *col else { continue };
        if [Field::Status, Field::Stage, Field::Name, Field::PhoneNumber].contains(&f) {
            continue;
        }
        if cells.get(i).is_none_or(Cell::is_blank) {
            blank.insert(f);
        }
    }
    blank
}

type NextRow<'a> = dyn FnMut(&mut Vec<Cell>, usize) -> Result<Option<u64>, ImportError> + 'a;

/// Reads a header row (the first of the first rows that names a phone
/// column) and then every data row. Returns the header's row number, or
/// `None` when no header was found (the rows are then not leads).
fn tabular(
    next: &mut NextRow<'_>,
    sheet: u32,
    d: &RowDefaults,
    cx: &ParseContext<'_>,
    info: &mut FileInfo,
    emit: &mut dyn FnMut(Item) -> Result<(), ImportError>,
) -> Result<Option<u64>, ImportError> {
    let mut cells = Vec::new();
    let mut mapping: Option<(Mapping, u64)> = None;
    let mut looked = 0;
    let mut last_headers: Vec<ColumnUse> = Vec::new();
    while mapping.is_none() {
        let Some(row) = next(&mut cells, xlsx::MAX_COLUMNS)? else {
            break;
        };
        if cells.iter().all(Cell::is_blank) {
            continue;
        }
        let headers: Vec<String> = cells.iter().map(|c| c.text().unwrap_or_default()).collect();
        let m = match cx.upsert.and_then(|u| u.positions.as_ref()) {
            Some(p) => p.mapping(&headers),
            None => map_headers_with(&headers, cx.choices),
        };
        if m.has(Field::PhoneNumber) {
            mapping = Some((m, row));
        } else {
            last_headers = m.uses;
            looked += 1;
            if looked >= HEADER_SEARCH_ROWS {
                break;
            }
        }
    }
    let Some((m, header_row)) = mapping else {
        if info.columns.is_empty() {
            info.columns = last_headers;
        }
        return Ok(None);
    };
    if info.columns.is_empty() {
        info.columns = m.uses.clone();
    }
    let width = m.columns.len();
    while cx.limit.is_none_or(|n| info.rows_read < n)
        && let Some(row) = next(&mut cells, width)?
    {
        if cells.iter().all(Cell::is_blank) {
            continue;
        }
        info.rows_read += 1;
        let blank = match cx.upsert {
            Some(_) => blank_cells(&m, &cells),
            None => Present::default(),
        };
        emit(match lead_from_cells(&m, &mut cells, d) {
            Ok((mut lead, mut present, notes)) => {
                for f in FIELDS.iter().copied().filter(|f| blank.contains(*f)) {
                    present.remove(f);
                }
                Item::Lead {
                    sheet,
                    row,
                    masked: row::drop_masked_documents(&mut lead, &mut present),
                    lead: Box::new(lead),
                    present,
                    notes,
                }
            }
            Err((field, reason)) => Item::Rejected {
                sheet,
                row,
                field,
                reason,
            },
        })?;
    }
    Ok(Some(header_row))
}
