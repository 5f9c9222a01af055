//! The file formats of an export and the writer that dispatches to them.

use std::io::{self, Write};

use super::csv;
use super::row::{Cell, Column, Finished, RowWriter};
use super::xlsx;

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
