//! The import report: counts for the answer, and one CSV line per row that
//! was not simply inserted (rejected, skipped, updated), written to a file
//! as the import goes — so a million rejected rows cost disk, not memory.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Rows of the report kept in memory for the JSON answer.
pub const SHOWN: usize = 100;

/// One line of the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ReportRow {
    /// Worksheet (tab position, 1-based); 1 for CSV and JSON lines.
    pub sheet: u32,
    /// Spreadsheet row (header = 1) or line number.
    pub row: u64,
    /// `rejected`, `skipped`, `updated`, `warning` (how a value was read:
    /// the row is imported); with `preview` `would_skip` and
    /// `would_update` instead of `skipped` and `updated`.
    pub outcome: String,
    /// The field concerned (`phone_number` for duplicates).
    pub field: String,
    /// Why.
    pub reason: String,
    /// The stored lead concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<Uuid>,
}

/// The counts of one import.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Data rows read (blank rows not counted).
    pub rows_read: u64,
    /// New leads written (with `preview`: that would be).
    pub inserted: u64,
    /// Stored leads changed.
    pub updated: u64,
    /// Duplicates whose file row changes nothing (`replace`/`preview`).
    pub unchanged: u64,
    /// Rows not written because their phone (or id) is taken — by a stored
    /// lead (`skip`) or by another row of the file.
    pub skipped_duplicates: u64,
    /// Rows refused by validation.
    pub rejected: u64,
    /// Rows not written because someone changed the stored lead they
    /// update while the import ran (`replace`; reported, never overwritten).
    #[serde(default)]
    pub conflicts: u64,
    /// Rows read with a warning (a status that was not an exact match of a
    /// Pulse status: mapped, or `New`); each warning is a report line.
    #[serde(default)]
    pub mapped_with_warning: u64,
}

/// Writes report lines to `path` and keeps the first [`SHOWN`].
pub struct ReportWriter {
    out: BufWriter<File>,
    path: PathBuf,
    /// The first lines, for the answer.
    pub shown: Vec<ReportRow>,
    /// Lines written.
    pub lines: u64,
}

fn cell(s: &str) -> String {
    // The report is opened in spreadsheets: the export's formula guard.
    let guarded = if crate::export::csv::needs_csv_guard(s) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

impl ReportWriter {
    /// Creates the report file (its header line included).
    pub fn create(path: &Path) -> std::io::Result<ReportWriter> {
        let mut out = BufWriter::new(File::create(path)?);
        writeln!(out, "sheet,row,outcome,field,reason,lead_id")?;
        Ok(ReportWriter {
            out,
            path: path.to_owned(),
            shown: Vec::new(),
            lines: 0,
        })
    }

    /// Appends one line.
    pub fn push(&mut self, r: ReportRow) -> std::io::Result<()> {
        writeln!(
            self.out,
            "{},{},{},{},{},{}",
            r.sheet,
            r.row,
            r.outcome,
            cell(&r.field),
            cell(&r.reason),
            r.lead_id.map(|i| i.to_string()).unwrap_or_default()
        )?;
        self.lines += 1;
        if self.shown.len() < SHOWN {
            self.shown.push(r);
        }
        Ok(())
    }

    /// Flushes the file; returns its path.
    pub fn finish(mut self) -> std::io::Result<(PathBuf, Vec<ReportRow>)> {
        self.out.flush()?;
        Ok((self.path, self.shown))
    }
}
