//! The one export engine behind every export (HTTP stream, batch zip, CLI,
//! later background jobs): rows of a store snapshot → cells → a file writer
//! → any [`Write`].
//!
//! Everything here is blocking and runs on one thread per export; the
//! HTTP side ([`super::engine_stream`]) feeds the output into a bounded
//! channel so a slow client slows the writer and a vanished one stops it.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::csv::CsvWriter;
use super::engine_columns::{ExportColumn, MAX_COLUMNS, Masked, file_columns, fill_cells};
use super::format::{Format, FormatWriter};
use super::read_ahead::ReadAhead;
use super::row::{Cell, RowWriter};
use super::xlsx::{XlsxOptions, XlsxWriter};
use super::zip::ZipWriter;
use crate::store::{LeadRows, RowsError, StoreError};

pub use super::engine_columns::{ALL_COLUMNS, HeaderStyle, select_columns, with_headers};

/// Deflate threads per xlsx export (the caller's included). Deflate is
/// ~70% of the work; 2 threads measured fastest on the 2-core target.
pub const DEFLATE_THREADS: usize = 2;
/// How often a long export pushes what it has to the client, so progress
/// shows and idle-timeouts of proxies never fire.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Rows written before the first flush: the client sees data rows at once.
const FIRST_FLUSH_ROWS: u64 = 100;

/// What to export and how.
#[derive(Debug, Clone)]
pub struct ExportSpec {
    /// The columns, in order (see [`select_columns`]).
    pub columns: Vec<ExportColumn>,
    /// xlsx or csv.
    pub format: Format,
    /// Mask document numbers (everyone but master_admin).
    pub mask_pii: bool,
    /// Deflate threads for xlsx (1 = on the writer's thread).
    pub deflate_threads: usize,
    /// Run the export's threads at lowered CPU priority (`export::priority`):
    /// for background jobs and for a streaming export that is not alone.
    pub lower_priority: bool,
    /// A streaming client that takes nothing for this long is treated as gone
    /// (`PULSE_EXPORT_STALL_SECONDS`; unused by jobs, which write to a file).
    pub stall: std::time::Duration,
}

impl ExportSpec {
    /// A spec with the default deflate threads.
    pub fn new(columns: Vec<ExportColumn>, format: Format, mask_pii: bool) -> Self {
        Self {
            columns,
            format,
            mask_pii,
            deflate_threads: DEFLATE_THREADS,
            lower_priority: false,
            stall: super::engine_stream::STALL_TIMEOUT,
        }
    }
}

/// Why an export stopped before its end.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The database failed while reading.
    #[error("reading leads failed: {0}")]
    Store(#[from] StoreError),
    /// The output failed: for HTTP, the client went away.
    #[error("output failed: {0}")]
    Output(#[from] io::Error),
}

impl From<RowsError> for ExportError {
    fn from(e: RowsError) -> Self {
        match e {
            RowsError::Store(s) => ExportError::Store(s),
            RowsError::Sink(io) => ExportError::Output(io),
        }
    }
}

/// Rows and bytes of a finished export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Data rows written.
    pub rows: u64,
    /// Bytes written to the output.
    pub bytes: u64,
}

fn xlsx_options(spec: &ExportSpec) -> XlsxOptions {
    XlsxOptions {
        deflate_threads: spec.deflate_threads.max(1),
        ..XlsxOptions::default()
    }
}

/// Flushes after the first rows and then about once a second.
struct Pacer {
    next_check: u64,
    last: Instant,
    first_done: bool,
}

impl Pacer {
    fn new() -> Self {
        Self {
            next_check: FIRST_FLUSH_ROWS,
            last: Instant::now(),
            first_done: false,
        }
    }

    fn due(&mut self, rows: u64) -> bool {
        if rows < self.next_check {
            return false;
        }
        self.next_check = rows + 4096;
        if !self.first_done || self.last.elapsed() >= FLUSH_EVERY {
            self.first_done = true;
            self.last = Instant::now();
            return true;
        }
        false
    }
}

/// Writes the rows of `rows` as one file to `out` and finishes it. The
/// header (and for xlsx the first ZIP entries) is written and flushed
/// before the first row is read. `progress` counts the rows written (for
/// progress bars, and for the audit when the export is cut short).
pub fn write_export<W: Write>(
    rows: &mut dyn LeadRows,
    spec: &ExportSpec,
    out: W,
    progress: &AtomicU64,
) -> Result<Written, ExportError> {
    let cols = file_columns(&spec.columns);
    let mut writer = match spec.format {
        Format::Xlsx => {
            FormatWriter::Xlsx(Box::new(XlsxWriter::new(out, &cols, xlsx_options(spec))?))
        }
        Format::Csv => FormatWriter::Csv(CsvWriter::new(out, &cols)?),
    };
    let mut pacer = Pacer::new();
    ReadAhead::new(rows).for_each(&mut |row| {
        let mut masked = Masked::default();
        let mut cells = [Cell::Empty; MAX_COLUMNS];
        let n = fill_cells(&spec.columns, row, spec.mask_pii, &mut masked, &mut cells);
        writer.write_row(&cells[..n])?;
        progress.store(writer.rows_written(), Ordering::Relaxed);
        if pacer.due(writer.rows_written()) {
            writer.flush()?;
        }
        Ok(())
    })?;
    let done = writer.finish()?;
    Ok(Written {
        rows: done.rows,
        bytes: done.bytes,
    })
}

/// The open entry of the outer ZIP, as the inner workbook's output.
struct Entry<W: Write>(ZipWriter<W>);

impl<W: Write> Write for Entry<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

// The writer moves between the states a few times per export: a moved
// ZipWriter (~200 bytes) costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
enum Batches<W: Write> {
    Between(ZipWriter<W>),
    In(Box<XlsxWriter<Entry<W>>>),
    Broken,
}

/// The name of the `n`-th (1-based) workbook inside a batch ZIP.
pub fn batch_entry_name(n: u64) -> String {
    format!("driver leads batch {n:04}.xlsx")
}

/// Writes a ZIP of xlsx workbooks of `batch_size` rows each (the last one
/// may be shorter; no rows = one empty workbook) to `out`.
pub fn write_batches<W: Write>(
    rows: &mut dyn LeadRows,
    spec: &ExportSpec,
    batch_size: u64,
    out: W,
    progress: &AtomicU64,
) -> Result<Written, ExportError> {
    let cols = file_columns(&spec.columns);
    // The outer ZIP deflates the workbooks again: helper threads there would
    // fight the outer deflate for the same cores.
    let opts = XlsxOptions::default();
    let mut batches = 0u64;
    let open = |zip: ZipWriter<W>, batches: &mut u64| -> io::Result<Batches<W>> {
        *batches += 1;
        let mut zip = zip;
        zip.start_entry(&batch_entry_name(*batches))?;
        Ok(Batches::In(Box::new(XlsxWriter::new(
            Entry(zip),
            &cols,
            opts.clone(),
        )?)))
    };
    let close = |w: Box<XlsxWriter<Entry<W>>>| -> io::Result<ZipWriter<W>> {
        let mut zip = w.finish()?.out.0;
        zip.finish_entry()?;
        Ok(zip)
    };
    let mut zip = ZipWriter::new(out);
    zip.flush()?;
    let mut state = Batches::Between(zip);
    let mut in_batch = 0u64;
    let mut total = 0u64;
    let mut pacer = Pacer::new();
    ReadAhead::new(rows).for_each(&mut |row| {
        if let Batches::Between(_) = state {
            let Batches::Between(zip) = std::mem::replace(&mut state, Batches::Broken) else {
                unreachable!()
            };
            state = open(zip, &mut batches)?;
            in_batch = 0;
        }
        let Batches::In(w) = &mut state else {
            return Err(io::Error::other("batch writer broken"));
        };
        let mut masked = Masked::default();
        let mut cells = [Cell::Empty; MAX_COLUMNS];
        let n = fill_cells(&spec.columns, row, spec.mask_pii, &mut masked, &mut cells);
        w.write_row(&cells[..n])?;
        in_batch += 1;
        total += 1;
        progress.store(total, Ordering::Relaxed);
        if pacer.due(total) {
            w.flush()?;
        }
        if in_batch == batch_size {
            let Batches::In(w) = std::mem::replace(&mut state, Batches::Broken) else {
                unreachable!()
            };
            state = Batches::Between(close(w)?);
        }
        Ok(())
    })?;
    let zip = match state {
        Batches::In(w) => close(w)?,
        Batches::Between(zip) if batches == 0 => match open(zip, &mut batches)? {
            Batches::In(w) => close(w)?,
            _ => unreachable!(),
        },
        Batches::Between(zip) => zip,
        Batches::Broken => return Err(io::Error::other("batch writer broken").into()),
    };
    let (_, bytes) = zip.finish()?;
    Ok(Written { rows: total, bytes })
}
