//! RFC 4180 CSV: UTF-8 with a BOM (so Excel reads UTF-8), CRLF row ends,
//! `"`-quoting with `""` doubling, and the formula-injection guard.
//!
//! The guard: a field that, after any leading `'`s, starts with `=` `+` `-`
//! `@` TAB CR or a full-width `＝ ＋ － ＠` gets one more leading `'`, so a
//! spreadsheet shows it as text. Counting the `'`s already there (not just
//! "`'` then one of those") is what makes the guard exactly reversible by
//! [`strip_csv_guard`]: `'=1` is written `''=1` and reads back as `'=1`.
//! Text is never cut (CSV has no cell limit) and control characters pass
//! through as they are (quoted when they are CR/LF).

use std::io::{self, Write};

use crate::export::num::{push_iso_date, push_ist_datetime};
use crate::export::row::{Cell, Column, Finished, RowWriter};

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// Buffered output handed to the sink in one `write_all`.
const CHUNK: usize = 128 * 1024;

/// True for the characters that make a spreadsheet read a cell as a formula.
fn is_trigger(c: char) -> bool {
    matches!(
        c,
        '=' | '+' | '-' | '@' | '\t' | '\r' | '\u{FF1D}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF20}'
    )
}

/// True if the CSV writer prefixes `s` with a `'`.
pub fn needs_csv_guard(s: &str) -> bool {
    s.trim_start_matches('\'')
        .chars()
        .next()
        .is_some_and(is_trigger)
}

/// The inverse of the writer's guard, for Pulse's CSV import: removes
/// exactly one leading `'` when the writer would have added it (i.e. when
/// the rest still needs the guard); returns anything else unchanged.
pub fn strip_csv_guard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if needs_csv_guard(rest) => rest,
        _ => s,
    }
}

/// Appends one field: guarded, then quoted if it holds `,` `"` CR LF or
/// starts or ends with a space (readers that trim would lose it).
fn push_field(b: &mut Vec<u8>, s: &str) {
    let guard = needs_csv_guard(s);
    let bytes = s.as_bytes();
    let quote = bytes
        .iter()
        .any(|&c| matches!(c, b',' | b'"' | b'\r' | b'\n'))
        || bytes.first() == Some(&b' ')
        || bytes.last() == Some(&b' ');
    if quote {
        b.push(b'"');
    }
    if guard {
        b.push(b'\'');
    }
    if quote {
        for part in s.split_inclusive('"') {
            b.extend_from_slice(part.as_bytes());
            if part.ends_with('"') {
                b.push(b'"');
            }
        }
        b.push(b'"');
    } else {
        b.extend_from_slice(bytes);
    }
}

/// A streaming CSV writer: see the module doc and [`RowWriter`].
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    sent: u64,
    rows: u64,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the BOM and the header row and flushes them.
    pub fn new(out: W, columns: &[Column]) -> io::Result<Self> {
        let mut w = Self {
            out,
            buf: Vec::with_capacity(CHUNK + 16 * 1024),
            sent: 0,
            rows: 0,
        };
        w.buf.extend_from_slice(BOM);
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                w.buf.push(b',');
            }
            push_field(&mut w.buf, &c.header);
        }
        w.buf.extend_from_slice(b"\r\n");
        w.flush()?;
        Ok(w)
    }

    fn drain(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)?;
        self.sent += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

impl<W: Write> RowWriter for CsvWriter<W> {
    type Out = W;

    fn write_row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        let b = &mut self.buf;
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            match *cell {
                Cell::Empty => {}
                Cell::Text(s) | Cell::SharedText(s) => push_field(b, s),
                Cell::Date(d) => push_iso_date(b, d),
                Cell::DateTime(t) => push_ist_datetime(b, t),
            }
        }
        b.extend_from_slice(b"\r\n");
        self.rows += 1;
        if self.buf.len() >= CHUNK {
            self.drain()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.out.flush()
    }

    fn rows_written(&self) -> u64 {
        self.rows
    }

    fn bytes_written(&self) -> u64 {
        self.sent + self.buf.len() as u64
    }

    fn finish(mut self) -> io::Result<Finished<W>> {
        self.flush()?;
        Ok(Finished {
            out: self.out,
            rows: self.rows,
            bytes: self.sent,
            sheets: 1,
        })
    }
}

#[cfg(test)]
#[path = "csv_tests.rs"]
mod tests;
