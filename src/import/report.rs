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
    /// The row's name, on the lines of duplicates skipped while the file
    /// was read (the original's answer lists them by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
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
    /// [`super::Upsert`]: leads written (inserted or changed) with a
    /// telecaller resolved from their `assigned_telecaller` cell.
    #[serde(default)]
    pub leads_assigned: u64,
    /// [`super::Upsert`]: the distinct telecallers those leads went to.
    #[serde(default)]
    pub telecallers_assigned: u64,
    /// [`super::Upsert`]: `assigned_telecaller` cells that named no active
    /// telecaller (each a `warning` line; the lead's telecaller not set).
    #[serde(default)]
    pub telecallers_unresolved: u64,
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
        writeln!(out, "sheet,row,outcome,field,reason,lead_id,name")?;
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
            "{},{},{},{},{},{},{}",
            r.sheet,
            r.row,
            r.outcome,
            cell(&r.field),
            cell(&r.reason),
            r.lead_id.map(|i| i.to_string()).unwrap_or_default(),
            r.name.as_deref().map(cell).unwrap_or_default()
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

/// Reads report lines back from the report's CSV bytes, fed chunk by chunk
/// as they arrive from wherever the report is kept (the original's answer
/// lists the skipped duplicates, which only the report holds).
pub struct ReportReader {
    reader: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    nout: usize,
    nend: usize,
    header_seen: bool,
}

impl Default for ReportReader {
    fn default() -> Self {
        ReportReader {
            reader: csv_core::Reader::new(),
            out: vec![0; 16 << 10],
            ends: vec![0; 16],
            nout: 0,
            nend: 0,
            header_seen: false,
        }
    }
}

impl ReportReader {
    /// Longest report line read back (the writer's cells are bounded by
    /// the import's own limits; this only keeps a broken file from growing
    /// the buffer without end).
    const MAX_LINE: usize = 16 << 20;

    /// Feeds `input` (an empty slice: the end of the file); `emit` gets
    /// every whole line read. Lines that do not read as a report line are
    /// passed over.
    pub fn feed(&mut self, mut input: &[u8], emit: &mut dyn FnMut(ReportRow)) {
        use csv_core::ReadRecordResult as R;
        let at_end = input.is_empty();
        loop {
            // csv_core reads an empty input as the end of the file.
            if input.is_empty() && !at_end {
                return;
            }
            let (res, nin, o, e) = self.reader.read_record(
                input,
                &mut self.out[self.nout..],
                &mut self.ends[self.nend..],
            );
            input = &input[nin..];
            self.nout += o;
            self.nend += e;
            match res {
                R::InputEmpty => return,
                R::OutputFull if self.out.len() < Self::MAX_LINE => {
                    let n = self.out.len() * 2;
                    self.out.resize(n, 0);
                }
                R::OutputEndsFull if self.ends.len() < 64 => {
                    let n = self.ends.len() * 2;
                    self.ends.resize(n, 0);
                }
                R::OutputFull | R::OutputEndsFull => {
                    // Not a report line: dropped.
                    self.nout = 0;
                    self.nend = 0;
                    self.reader.reset();
                    return;
                }
                R::Record => {
                    if let Some(row) = self.take() {
                        emit(row);
                    }
                }
                R::End => return,
            }
        }
    }

    /// The record just read, as a report line (not the header line).
    fn take(&mut self) -> Option<ReportRow> {
        let (nout, nend) = (
            std::mem::take(&mut self.nout),
            std::mem::take(&mut self.nend),
        );
        if !std::mem::replace(&mut self.header_seen, true) {
            return None;
        }
        let mut fields = Vec::with_capacity(nend);
        let mut start = 0;
        for &end in &self.ends[..nend] {
            let end = end.min(nout);
            fields.push(String::from_utf8_lossy(&self.out[start..end]).into_owned());
            start = end;
        }
        let text = |i: usize| -> String {
            let f: &str = fields.get(i).map(String::as_str).unwrap_or("");
            crate::export::csv::strip_csv_guard(f).to_owned()
        };
        Some(ReportRow {
            sheet: fields.first()?.parse().ok()?,
            row: fields.get(1)?.parse().ok()?,
            outcome: text(2),
            field: text(3),
            reason: text(4),
            lead_id: fields.get(5).and_then(|s| s.parse().ok()),
            name: Some(text(6)).filter(|s| !s.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        let mut w = ReportWriter::create(&path).unwrap();
        let rows = vec![
            ReportRow {
                sheet: 1,
                row: 2,
                outcome: "skipped".into(),
                field: "phone_number".into(),
                reason: "already stored as lead x, \"quoted\"".into(),
                lead_id: Some(Uuid::new_v4()),
                name: Some("=Ravi\nKumar".into()),
            },
            ReportRow {
                sheet: 1,
                row: 3,
                outcome: "rejected".into(),
                field: "phone_number".into(),
                reason: "phone_number: \"123\" is not a mobile".into(),
                lead_id: None,
                name: None,
            },
        ];
        for r in &rows {
            w.push(r.clone()).unwrap();
        }
        w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // in small chunks, as a stream arrives
        let mut got = Vec::new();
        let mut reader = ReportReader::default();
        for chunk in bytes.chunks(7) {
            reader.feed(chunk, &mut |r| got.push(r));
        }
        reader.feed(&[], &mut |r| got.push(r));
        assert_eq!(got, rows);
    }
}
