//! The streaming xlsx writer.
//!
//! ZIP order: `_rels/.rels`, `xl/styles.xml`, the sheets as rows arrive,
//! then `xl/sharedStrings.xml`, `xl/workbook.xml`, its rels and
//! `[Content_Types].xml` (see `parts.rs` for why the end is fine). Sheet XML
//! is built in a reusable buffer and handed to deflate in chunks of
//! [`CHUNK`] bytes, the unit a parallel compressor would take.

use std::io::{self, Write};

use super::row::{Cell, Column, Finished, RowWriter};
use super::zip::{ParallelDeflate, ZIP64_LIMIT, ZipWriter};

mod parts;
mod sheet;
#[cfg(test)]
mod tests;

/// Benchmark hooks: the XML half of the work without deflate.
#[cfg(test)]
pub(crate) fn bench_shared_strings() -> SharedStrings {
    SharedStrings::new(10_000, 4 << 20)
}
#[cfg(test)]
pub(crate) fn bench_push_row(b: &mut Vec<u8>, cells: &[Cell<'_>], sst: &mut SharedStrings) {
    sheet::push_row(b, 2, cells, sst);
}

use parts::SheetInfo;
use sheet::SharedStrings;

/// Sheet XML handed to deflate at a time on one thread: 256 KiB stays in
/// L2 while it is compressed.
const CHUNK: usize = 256 * 1024;
/// Piece size with parallel deflate: each piece restarts the deflate window
/// (~0.1% bigger output at 1 MiB) and costs a channel round trip.
const PARALLEL_CHUNK: usize = 1 << 20;

/// Excel's last row is 1,048,576; one of them is the header.
pub const MAX_DATA_ROWS: u32 = 1_048_575;

/// Settings of an [`XlsxWriter`]; `Default` is what exports use.
#[derive(Debug, Clone)]
pub struct XlsxOptions {
    /// Name of the first sheet; later ones get ` (2)`, ` (3)`, … (at most 24
    /// characters so the suffix fits Excel's 31; no `[]:*?/\`).
    pub sheet_name: String,
    /// Data rows per sheet before the rows continue on the next sheet (each
    /// with the header row again); 1..=[`MAX_DATA_ROWS`].
    pub max_rows_per_sheet: u32,
    /// Distinct [`Cell::SharedText`] strings kept in the shared-strings
    /// table; later new ones are written inline.
    pub shared_strings_max: usize,
    /// Total bytes of shared-string text kept (same fallback).
    pub shared_strings_max_bytes: usize,
    /// ZIP64 threshold (tests lower it; keep the default otherwise).
    pub zip64_limit: u64,
    /// Threads that deflate the sheets, the caller's included: 1 (the
    /// default) deflates on the caller's thread; N > 1 starts N − 1 helper
    /// threads for this writer (pigz-style pieces, see `zip::parallel`).
    /// Deflate is ~70% of the work, so 2 threads cut the time by ~40%; worth
    /// it when few exports run at once.
    pub deflate_threads: usize,
}

impl Default for XlsxOptions {
    fn default() -> Self {
        Self {
            sheet_name: "Driver Leads".to_owned(),
            max_rows_per_sheet: MAX_DATA_ROWS,
            // Stages, statuses, sources, telecallers: dozens of values. The
            // cap bounds memory (~1 MB) if a caller marks free text shared.
            shared_strings_max: 10_000,
            shared_strings_max_bytes: 4 << 20,
            zip64_limit: ZIP64_LIMIT,
            deflate_threads: 1,
        }
    }
}

/// A streaming xlsx writer: see the module doc and [`RowWriter`].
#[derive(Debug)]
pub struct XlsxWriter<W: Write> {
    zip: ZipWriter<W>,
    columns: Vec<Column>,
    opts: XlsxOptions,
    last_col: String,
    buf: Vec<u8>,
    sheets: Vec<SheetInfo>,
    /// Index in `sheets` of the first sheet of the current name (its
    /// continuations, ` (2)`, … follow it).
    name_start: usize,
    /// Data rows on the current sheet.
    sheet_rows: u32,
    rows: u64,
    xml_bytes: u64,
    sst: SharedStrings,
    parallel: Option<ParallelDeflate>,
    chunk: usize,
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_owned())
}

/// At most 24 characters (so a ` (NN)` continuation fits Excel's 31), none
/// of `[]:*?/\`, no `'` at either end.
fn check_sheet_name(name: &str) -> io::Result<()> {
    if name.is_empty()
        || name.chars().count() > 24
        || name.contains(['[', ']', ':', '*', '?', '/', '\\'])
        || name.starts_with('\'')
        || name.ends_with('\'')
    {
        return Err(invalid("xlsx: bad sheet name"));
    }
    Ok(())
}

impl<W: Write> XlsxWriter<W> {
    /// Starts a workbook on `out`: writes the first parts and the header row
    /// of the first sheet and flushes them, so the client sees bytes now.
    pub fn new(out: W, columns: &[Column], opts: XlsxOptions) -> io::Result<Self> {
        if columns.is_empty() || columns.len() > 16_384 {
            return Err(invalid("xlsx: 1 to 16,384 columns"));
        }
        if !(1..=MAX_DATA_ROWS).contains(&opts.max_rows_per_sheet) {
            return Err(invalid("xlsx: max_rows_per_sheet must be 1..=1,048,575"));
        }
        check_sheet_name(&opts.sheet_name)?;
        let parallel = match opts.deflate_threads {
            0 | 1 => None,
            n => Some(ParallelDeflate::new(n - 1)?),
        };
        let chunk = if parallel.is_some() {
            PARALLEL_CHUNK
        } else {
            CHUNK
        };
        let mut zip = ZipWriter::with_zip64_limit(out, opts.zip64_limit);
        zip.add_entry("_rels/.rels", parts::PACKAGE_RELS.as_bytes())?;
        zip.add_entry("xl/styles.xml", parts::STYLES.as_bytes())?;
        let mut w = Self {
            zip,
            last_col: sheet::col_letters(columns.len() - 1),
            columns: columns.to_vec(),
            sst: SharedStrings::new(opts.shared_strings_max, opts.shared_strings_max_bytes),
            opts,
            buf: Vec::with_capacity(chunk + 64 * 1024),
            sheets: Vec::new(),
            name_start: 0,
            sheet_rows: 0,
            rows: 0,
            xml_bytes: 0,
            parallel,
            chunk,
        };
        w.start_sheet()?;
        w.flush()?;
        Ok(w)
    }

    /// Ends the current sheet and starts another, named `name`, with its
    /// own header row of `columns` (a workbook of several tables: a report
    /// and its details). Rows written next go to it, and past
    /// `max_rows_per_sheet` continue on `name (2)`, …. The names must differ
    /// from the sheets' before (Excel compares them case-insensitively).
    pub fn start_named_sheet(&mut self, name: &str, columns: &[Column]) -> io::Result<()> {
        check_sheet_name(name)?;
        if columns.is_empty() || columns.len() > 16_384 {
            return Err(invalid("xlsx: 1 to 16,384 columns"));
        }
        if self.sheets.iter().any(|s| {
            s.name.to_lowercase() == name.to_lowercase()
                || s.name
                    .to_lowercase()
                    .starts_with(&format!("{} (", name.to_lowercase()))
        }) {
            return Err(invalid("xlsx: a sheet of that name exists"));
        }
        self.end_sheet()?;
        self.opts.sheet_name = name.to_owned();
        self.columns = columns.to_vec();
        self.last_col = sheet::col_letters(columns.len() - 1);
        self.name_start = self.sheets.len();
        self.start_sheet()
    }

    fn start_sheet(&mut self) -> io::Result<()> {
        let n = self.sheets.len() + 1;
        let part = n - self.name_start;
        let name = if part == 1 {
            self.opts.sheet_name.clone()
        } else {
            format!("{} ({part})", self.opts.sheet_name)
        };
        self.sheets.push(SheetInfo {
            name,
            filter_last_col: self.last_col.clone(),
            filter_last_row: 1,
        });
        self.zip
            .start_entry(&format!("xl/worksheets/sheet{n}.xml"))?;
        self.sheet_rows = 0;
        sheet::push_head(&mut self.buf, &self.columns, n == 1);
        Ok(())
    }

    /// Uncompressed worksheet XML produced so far (for metrics and
    /// benchmarks: deflate time is proportional to it).
    pub fn sheet_xml_bytes(&self) -> u64 {
        self.xml_bytes + self.buf.len() as u64
    }

    /// Hands the buffered XML to deflate (here or to the parallel pieces).
    fn deflate_buf(&mut self) -> io::Result<()> {
        self.xml_bytes += self.buf.len() as u64;
        match &mut self.parallel {
            Some(p) => {
                if !self.buf.is_empty() {
                    let next = p.push(std::mem::take(&mut self.buf), &mut self.zip)?;
                    self.buf = next;
                    self.buf.reserve(self.chunk + 64 * 1024);
                }
            }
            None => {
                self.zip.write(&self.buf)?;
                self.buf.clear();
            }
        }
        Ok(())
    }

    /// Everything deflated so far written to the ZIP (before ending an
    /// entry or flushing).
    fn settle(&mut self) -> io::Result<()> {
        self.deflate_buf()?;
        match &mut self.parallel {
            Some(p) => p.drain(&mut self.zip),
            None => Ok(()),
        }
    }

    fn end_sheet(&mut self) -> io::Result<()> {
        let last_row = self.sheet_rows + 1;
        sheet::push_tail(&mut self.buf, &self.last_col, last_row);
        if let Some(s) = self.sheets.last_mut() {
            s.filter_last_row = last_row;
        }
        self.settle()?;
        self.zip.finish_entry()
    }
}

impl<W: Write> RowWriter for XlsxWriter<W> {
    type Out = W;

    fn write_row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        if self.sheet_rows == self.opts.max_rows_per_sheet {
            self.end_sheet()?;
            self.start_sheet()?;
        }
        self.sheet_rows += 1;
        self.rows += 1;
        sheet::push_row(&mut self.buf, self.sheet_rows + 1, cells, &mut self.sst);
        if self.buf.len() >= self.chunk {
            self.deflate_buf()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.settle()?;
        self.zip.flush()
    }

    fn rows_written(&self) -> u64 {
        self.rows
    }

    fn bytes_written(&self) -> u64 {
        self.zip.bytes_written()
    }

    fn finish(mut self) -> io::Result<Finished<W>> {
        self.end_sheet()?;
        let shared = !self.sst.is_empty();
        if shared {
            self.zip
                .add_entry("xl/sharedStrings.xml", &self.sst.xml())?;
        }
        self.zip
            .add_entry("xl/workbook.xml", &parts::workbook(&self.sheets))?;
        let rels = parts::workbook_rels(self.sheets.len(), shared);
        self.zip.add_entry("xl/_rels/workbook.xml.rels", &rels)?;
        let types = parts::content_types(self.sheets.len(), shared);
        self.zip.add_entry("[Content_Types].xml", &types)?;
        let (out, bytes) = self.zip.finish()?;
        Ok(Finished {
            out,
            rows: self.rows,
            bytes,
            sheets: self.sheets.len() as u32,
        })
    }
}
