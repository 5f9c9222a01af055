//! The leads list as one streamed JSON document, `{"total": N, "leads":
//! [...]}` (the original's `skip_pagination=true` answer): the count comes
//! first, from the same snapshot as the rows, and each lead is written as it
//! is read, so memory stays flat whatever the row count.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::SecondsFormat;

use super::engine::{ExportError, ExportSpec, Written};
use super::engine_columns::{MAX_COLUMNS, Masked, fill_cells};
use super::read_ahead::ReadAhead;
use super::row::Cell;
use crate::store::LeadRows;

/// The fields of a lead in the list, the original's reduced projection
/// (plus `email`, `assigned_date`, `created_at`, `updated_at`).
pub const LIST_FIELDS: &[&str] = &[
    "id",
    "name",
    "phone_number",
    "email",
    "status",
    "stage",
    "assigned_telecaller",
    "assigned_date",
    "import_date",
    "source",
    "last_called",
    "callback_date",
    "remarks",
    "created_at",
    "updated_at",
];

/// Gives a telecaller's display name for a login.
pub type NameOf = Box<dyn Fn(&str) -> String + Send>;

/// Counts what passes through.
struct Counting<W> {
    out: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn json_string<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    serde_json::to_writer(&mut *out, s).map_err(io::Error::other)
}

fn write_cell<W: Write>(out: &mut W, cell: &Cell<'_>, empty_is_null: bool) -> io::Result<()> {
    match cell {
        Cell::Empty => out.write_all(b"null"),
        Cell::Text(s) | Cell::SharedText(s) if empty_is_null && s.is_empty() => {
            out.write_all(b"null")
        }
        Cell::Text(s) | Cell::SharedText(s) => json_string(out, s),
        Cell::Date(d) => write!(out, "\"{}\"", d.format("%Y-%m-%d")),
        Cell::DateTime(t) => write!(
            out,
            "\"{}\"",
            t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        ),
    }
}

/// Writes `{"total": total, "leads": [...]}` from `rows` with the columns of
/// `spec` (keys = the columns' field names), each lead with an
/// `assigned_telecaller_name` from `name_of` when it has a telecaller. The
/// opening (with the total) is flushed before the first row is read.
pub fn write_lead_list<W: Write>(
    rows: &mut dyn LeadRows,
    spec: &ExportSpec,
    total: u64,
    name_of: &dyn Fn(&str) -> String,
    out: W,
    progress: &AtomicU64,
) -> Result<Written, ExportError> {
    let mut out = Counting { out, bytes: 0 };
    write!(out, "{{\"total\":{total},\"leads\":[")?;
    out.flush()?;
    let telecaller = spec
        .columns
        .iter()
        .position(|c| c.key == "assigned_telecaller");
    let mut n: u64 = 0;
    ReadAhead::new(rows).for_each(&mut |row| {
        let mut masked = Masked::default();
        let mut cells = [Cell::Empty; MAX_COLUMNS];
        let len = fill_cells(&spec.columns, row, spec.mask_pii, &mut masked, &mut cells);
        out.write_all(if n == 0 { b"{" } else { b",{" })?;
        for (i, (c, cell)) in spec.columns.iter().zip(&cells[..len]).enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            json_string(&mut out, c.key)?;
            out.write_all(b":")?;
            write_cell(&mut out, cell, c.key == "remarks")?;
        }
        if let Some(i) = telecaller {
            out.write_all(b",\"assigned_telecaller_name\":")?;
            match cells[i] {
                Cell::Text(t) | Cell::SharedText(t) if !t.trim().is_empty() => {
                    json_string(&mut out, &name_of(t))?
                }
                _ => out.write_all(b"null")?,
            }
        }
        out.write_all(b"}")?;
        n += 1;
        progress.store(n, Ordering::Relaxed);
        Ok(())
    })?;
    out.write_all(b"]}")?;
    out.flush()?;
    Ok(Written {
        rows: n,
        bytes: out.bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::engine::select_columns;
    use crate::store::{EXPORT_TEXT_FIELDS, LeadRow, RowsError};

    struct Three;

    impl LeadRows for Three {
        fn for_each(
            &mut self,
            f: &mut dyn FnMut(&LeadRow<'_>) -> io::Result<()>,
        ) -> Result<u64, RowsError> {
            let at = |k: &str| EXPORT_TEXT_FIELDS.iter().position(|f| *f == k).unwrap();
            for i in 0..3 {
                let id = format!("id-{i}");
                let name = format!("Name \"{i}\"\n");
                let mut row = LeadRow::default();
                row.text[at("id")] = Some(&id);
                row.text[at("name")] = Some(&name);
                row.text[at("remarks")] = Some("");
                row.text[at("assigned_telecaller")] = (i == 1).then_some("tc@x.test");
                row.instants[0] = chrono::DateTime::from_timestamp_millis(1_700_000_000_123);
                f(&row).map_err(RowsError::Sink)?;
            }
            Ok(3)
        }
    }

    #[test]
    fn a_list_is_valid_json_with_the_total_first() {
        let fields: Vec<String> = LIST_FIELDS.iter().map(|s| s.to_string()).collect();
        let spec = ExportSpec::new(
            select_columns(Some(&fields)).unwrap(),
            crate::export::Format::Csv,
            true,
        );
        let mut rows = Three;
        let mut out = Vec::new();
        let names = |login: &str| format!("name of {login}");
        let w = write_lead_list(&mut rows, &spec, 3, &names, &mut out, &AtomicU64::new(0)).unwrap();
        assert_eq!(w.rows, 3);
        assert_eq!(w.bytes, out.len() as u64);
        assert!(out.starts_with(b"{\"total\":3,\"leads\":["));
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let leads = v["leads"].as_array().unwrap();
        assert_eq!(leads.len(), 3);
        for l in leads {
            for f in LIST_FIELDS {
                assert!(l.get(*f).is_some(), "{f} in {l}");
            }
            assert_eq!(
                l["remarks"],
                serde_json::Value::Null,
                "\"\" remarks are null"
            );
        }
        assert_eq!(leads[1]["name"], "Name \"1\"\n");
        assert_eq!(leads[1]["assigned_telecaller_name"], "name of tc@x.test");
        assert_eq!(
            leads[0]["assigned_telecaller_name"],
            serde_json::Value::Null
        );
    }
}
