//! The export engine: file formats (xlsx, csv) written as streams.
//!
//! The format layer is synchronous and allocation-flat: a [`RowWriter`] takes
//! one row of [`Cell`]s at a time and writes bytes to any [`std::io::Write`]
//! (in production an HTTP body fed from a blocking thread). Nothing is kept
//! per row, nothing is seeked, no temporary file is used, and the first bytes
//! leave as soon as the writer is created. A failing writer (client gone)
//! surfaces as an `io::Error` from the next [`RowWriter::write_row`], which is
//! how the engine learns to stop.
//!
//! - [`xlsx`]: the workbook writer (inline strings, shared strings for
//!   low-cardinality text, IST date-times, sheet rollover past Excel's limit).
//! - [`csv`]: RFC 4180 with a BOM and the formula-injection guard.
//! - [`zip`]: the streaming ZIP container under the workbook.
//! - [`engine`]: store snapshot → cells → file, the one path of every
//!   export; [`engine_stream`] feeds it to an HTTP body; [`read_ahead`]
//!   reads the store's rows on a second thread meanwhile.

use std::borrow::Cow;
use std::io::{self, Write};

use chrono::{DateTime, NaiveDate, Utc};

pub mod admission;
#[cfg(test)]
mod check_tests;
pub mod csv;
pub mod engine;
mod engine_columns;
pub mod engine_stream;
mod num;
pub mod priority;
pub mod read_ahead;
#[cfg(test)]
mod testutil;
mod text;
pub mod xlsx;
pub mod zip;

/// One value of a row, borrowed from the row source for the duration of
/// [`RowWriter::write_row`] (so nothing is copied per cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    /// No value (a null). Written as an empty cell / empty CSV field.
    Empty,
    /// Free text (names, remarks, phone numbers). Always a string cell, never
    /// a formula, number, boolean or hyperlink, whatever it looks like.
    Text(&'a str),
    /// Low-cardinality text (stage, status, source, telecaller…) that the
    /// xlsx writer may store once in the shared-strings table. Reads back
    /// exactly like [`Cell::Text`].
    SharedText(&'a str),
    /// A calendar day, written as an Excel date (`yyyy-mm-dd`) / `YYYY-MM-DD`.
    Date(NaiveDate),
    /// An instant, written as the IST (+05:30, fixed) wall clock: an Excel
    /// date-time (`yyyy-mm-dd hh:mm:ss`, millisecond precision in the value)
    /// or `YYYY-MM-DD HH:MM:SS` in CSV.
    DateTime(DateTime<Utc>),
}

/// What a column holds; sets the column's default style in xlsx so values a
/// user types later get the same treatment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Text (`@` number format on the column).
    Text,
    /// [`Cell::Date`] values.
    Date,
    /// [`Cell::DateTime`] values.
    DateTime,
}

/// One output column: header text, xlsx width (in Excel's character units)
/// and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The header cell's text (bold, frozen, with an autofilter in xlsx).
    pub header: Cow<'static, str>,
    /// Column width in Excel character units (e.g. 12.0 for a date).
    pub width: f64,
    /// What the column holds.
    pub kind: ColumnKind,
}

impl Column {
    /// A column with the given header, width and kind.
    pub fn new(header: impl Into<Cow<'static, str>>, width: f64, kind: ColumnKind) -> Self {
        Self {
            header: header.into(),
            width,
            kind,
        }
    }
}

/// What a finished writer hands back: the output and what went into it.
#[derive(Debug)]
pub struct Finished<W> {
    /// The underlying output, flushed.
    pub out: W,
    /// Data rows written (header rows not counted).
    pub rows: u64,
    /// Bytes written to `out`.
    pub bytes: u64,
    /// Worksheets in the workbook (1 for CSV).
    pub sheets: u32,
}

/// A streaming, row-at-a-time file writer. Call from a blocking thread.
pub trait RowWriter {
    /// The output type handed back by [`RowWriter::finish`].
    type Out;

    /// Appends one data row. Cells past the declared columns are written too;
    /// missing trailing cells are empty. An error means the output failed
    /// (e.g. the client went away): stop and drop the writer.
    fn write_row(&mut self, cells: &[Cell<'_>]) -> io::Result<()>;

    /// Pushes everything buffered so far to the output and flushes it, so a
    /// client sees progress (costs a few bytes of compression; call it after
    /// the first rows and then at most every second or so, not per row).
    fn flush(&mut self) -> io::Result<()>;

    /// Data rows written so far.
    fn rows_written(&self) -> u64;

    /// Bytes handed to the output so far (including buffered ones).
    fn bytes_written(&self) -> u64;

    /// Writes the trailer (last sheet, workbook parts, ZIP directory) and
    /// flushes the output.
    fn finish(self) -> io::Result<Finished<Self::Out>>;
}

/// The export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Office Open XML workbook (the default).
    #[default]
    Xlsx,
    /// RFC 4180 CSV, UTF-8 with BOM.
    Csv,
}

impl Format {
    /// The HTTP `Content-Type` of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
        }
    }

    /// A writer of this format with default options; the header row (and,
    /// for xlsx, the first ZIP entries) is written and flushed before this
    /// returns.
    pub fn writer<W: Write>(self, out: W, columns: &[Column]) -> io::Result<FormatWriter<W>> {
        Ok(match self {
            Format::Xlsx => FormatWriter::Xlsx(Box::new(xlsx::XlsxWriter::new(
                out,
                columns,
                xlsx::XlsxOptions::default(),
            )?)),
            Format::Csv => FormatWriter::Csv(csv::CsvWriter::new(out, columns)?),
        })
    }
}

/// Either format's writer, so the engine can pick one at run time without a
/// trait object.
#[derive(Debug)]
pub enum FormatWriter<W: Write> {
    /// See [`xlsx::XlsxWriter`] (boxed: it is ~10× the CSV writer's size).
    Xlsx(Box<xlsx::XlsxWriter<W>>),
    /// See [`csv::CsvWriter`].
    Csv(csv::CsvWriter<W>),
}

impl<W: Write> RowWriter for FormatWriter<W> {
    type Out = W;

    fn write_row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        match self {
            FormatWriter::Xlsx(w) => w.write_row(cells),
            FormatWriter::Csv(w) => w.write_row(cells),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            FormatWriter::Xlsx(w) => w.flush(),
            FormatWriter::Csv(w) => w.flush(),
        }
    }

    fn rows_written(&self) -> u64 {
        match self {
            FormatWriter::Xlsx(w) => w.rows_written(),
            FormatWriter::Csv(w) => w.rows_written(),
        }
    }

    fn bytes_written(&self) -> u64 {
        match self {
            FormatWriter::Xlsx(w) => w.bytes_written(),
            FormatWriter::Csv(w) => w.bytes_written(),
        }
    }

    fn finish(self) -> io::Result<Finished<W>> {
        match self {
            FormatWriter::Xlsx(w) => (*w).finish(),
            FormatWriter::Csv(w) => w.finish(),
        }
    }
}
