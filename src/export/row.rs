//! The row model every format writes: [`Cell`]s of [`Column`]s through a
//! [`RowWriter`], ending in [`Finished`].

use std::borrow::Cow;
use std::io;

use chrono::{DateTime, NaiveDate, Utc};

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
