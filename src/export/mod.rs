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

pub mod admission;
#[cfg(test)]
mod check_tests;
pub mod csv;
pub mod engine;
mod engine_columns;
pub mod engine_stream;
mod format;
pub mod json_list;
mod num;
pub mod priority;
pub mod read_ahead;
mod row;
#[cfg(test)]
mod testutil;
mod text;
pub mod xlsx;
pub mod zip;

pub use format::{Format, FormatWriter};
pub use row::{Cell, Column, ColumnKind, Finished, RowWriter};
