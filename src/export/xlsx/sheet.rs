//! Worksheet XML, written row by row into a reusable buffer: no per-cell
//! allocation and no `format!` on the path taken per cell.
//!
//! Lean on purpose (the sheet XML of 1M leads is ~1.3 GB and deflate is the
//! bottleneck, so every byte per cell costs time): cells carry no `r`
//! reference (readers count them, as the spec allows; an empty cell before a
//! value is `<c/>`, trailing empty cells are not written), text cells carry
//! no style (the column's default style is text), and `xml:space` appears
//! only on text with whitespace at an edge.

use std::collections::HashMap;

// foldhash, not SipHash: the lookup runs for four cells of every row (SipHash
// was ~2.3% of a 1M-lead export); it is still seeded per process, so crafted
// source names cannot pile up in one bucket.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

use super::parts::{MAIN_NS, style};
use crate::export::num::{push_datetime_serial, push_iso_date, push_u64};
use crate::export::row::{Cell, Column, ColumnKind};
use crate::export::text::{cut_for_excel, needs_preserve, push_xml_text};

// `push_row` writes these two ids as literals.
const _: () = assert!(style::DATE == 2 && style::DATE_TIME == 3);

/// Excel column letters for a 0-based index (`0` → `A`, `37` → `AL`).
pub(super) fn col_letters(mut i: usize) -> String {
    let mut s = Vec::new();
    i += 1;
    while i > 0 {
        s.push(b'A' + ((i - 1) % 26) as u8);
        i = (i - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

/// The shared-strings table, bounded so memory stays flat: past `max`
/// distinct strings or `max_bytes` of text, new strings go inline.
#[derive(Debug)]
pub(crate) struct SharedStrings {
    ids: FastMap<Box<str>, u32>,
    bytes: usize,
    refs: u64,
    max: usize,
    max_bytes: usize,
}

/// Strings longer than this are never shared: the table is for short,
/// repeated labels, and this keeps the cell limit out of the table.
const MAX_SHARED_LEN: usize = 1024;

impl SharedStrings {
    pub(super) fn new(max: usize, max_bytes: usize) -> Self {
        Self {
            ids: FastMap::default(),
            bytes: 0,
            refs: 0,
            max,
            max_bytes,
        }
    }

    /// The id of `s`, adding it if there is room.
    #[inline]
    fn id(&mut self, s: &str) -> Option<u32> {
        let id = match self.ids.get(s) {
            Some(&id) => id,
            None => {
                if s.len() > MAX_SHARED_LEN
                    || self.ids.len() >= self.max
                    || self.bytes + s.len() > self.max_bytes
                {
                    return None;
                }
                let id = self.ids.len() as u32;
                self.ids.insert(s.into(), id);
                self.bytes += s.len();
                id
            }
        };
        self.refs += 1;
        Some(id)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// `xl/sharedStrings.xml`, in id order.
    pub(super) fn xml(&self) -> Vec<u8> {
        let mut by_id = vec![""; self.ids.len()];
        for (s, &id) in &self.ids {
            by_id[id as usize] = s;
        }
        let mut b = Vec::with_capacity(self.bytes + 32 * by_id.len() + 256);
        b.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
        b.extend_from_slice(b"<sst xmlns=\"");
        b.extend_from_slice(MAIN_NS.as_bytes());
        b.extend_from_slice(b"\" count=\"");
        push_u64(&mut b, self.refs);
        b.extend_from_slice(b"\" uniqueCount=\"");
        push_u64(&mut b, by_id.len() as u64);
        b.extend_from_slice(b"\">");
        for s in by_id {
            b.extend_from_slice(b"<si>");
            push_t(&mut b, s);
            b.extend_from_slice(b"</si>");
        }
        b.extend_from_slice(b"</sst>");
        b
    }
}

/// `<t>…</t>` with the text escaped, cut to Excel's limit if needed.
#[inline]
fn push_t(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(if needs_preserve(s) {
        b"<t xml:space=\"preserve\">"
    } else {
        b"<t>"
    });
    match cut_for_excel(s) {
        None => push_xml_text(b, s),
        Some(cut) => {
            push_xml_text(b, cut.kept);
            push_xml_text(b, &cut.marker);
        }
    }
    b.extend_from_slice(b"</t>");
}

#[inline]
fn push_inline(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(b"<c t=\"inlineStr\"><is>");
    push_t(b, s);
    b.extend_from_slice(b"</is></c>");
}

/// Start of a worksheet up to and including the header row.
pub(super) fn push_head(b: &mut Vec<u8>, columns: &[Column], selected: bool) {
    b.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
    b.extend_from_slice(b"<worksheet xmlns=\"");
    b.extend_from_slice(MAIN_NS.as_bytes());
    b.extend_from_slice(b"\"><sheetViews><sheetView workbookViewId=\"0\"");
    if selected {
        b.extend_from_slice(b" tabSelected=\"1\"");
    }
    b.extend_from_slice(concat!(
        "><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>",
        "<selection pane=\"bottomLeft\" activeCell=\"A2\" sqref=\"A2\"/></sheetView></sheetViews>",
        "<sheetFormatPr defaultRowHeight=\"15\"/><cols>"
    ).as_bytes());
    for (i, c) in columns.iter().enumerate() {
        let st = match c.kind {
            ColumnKind::Text => style::TEXT,
            ColumnKind::Date => style::DATE,
            ColumnKind::DateTime => style::DATE_TIME,
        };
        // Not per row: `format!` is fine here.
        let width = if c.width.is_finite() {
            c.width.clamp(0.0, 255.0)
        } else {
            10.0
        };
        let col = format!(
            "<col min=\"{n}\" max=\"{n}\" width=\"{width}\" customWidth=\"1\" style=\"{st}\"/>",
            n = i + 1
        );
        b.extend_from_slice(col.as_bytes());
    }
    b.extend_from_slice(b"</cols><sheetData><row r=\"1\">");
    for c in columns {
        b.extend_from_slice(b"<c t=\"inlineStr\" s=\"");
        push_u64(b, u64::from(style::HEADER));
        b.extend_from_slice(b"\"><is>");
        push_t(b, &c.header);
        b.extend_from_slice(b"</is></c>");
    }
    b.extend_from_slice(b"</row>");
}

/// End of a worksheet whose last row is `last_row` (1-based, header = 1):
/// the autofilter over the used range comes after `sheetData`, where the
/// schema puts it, so it can name a row count known only now.
pub(super) fn push_tail(b: &mut Vec<u8>, last_col: &str, last_row: u32) {
    b.extend_from_slice(b"</sheetData><autoFilter ref=\"A1:");
    b.extend_from_slice(last_col.as_bytes());
    push_u64(b, u64::from(last_row));
    b.extend_from_slice(b"\"/></worksheet>");
}

/// One data row `row` (1-based sheet row number).
#[inline]
pub(super) fn push_row(b: &mut Vec<u8>, row: u32, cells: &[Cell<'_>], sst: &mut SharedStrings) {
    b.extend_from_slice(b"<row r=\"");
    push_u64(b, u64::from(row));
    b.extend_from_slice(b"\">");
    let mut empties = 0usize;
    for cell in cells {
        match *cell {
            Cell::Empty | Cell::Text("") | Cell::SharedText("") => {
                empties += 1;
                continue;
            }
            _ => {}
        }
        for _ in 0..empties {
            b.extend_from_slice(b"<c/>");
        }
        empties = 0;
        match *cell {
            Cell::Text(s) => push_inline(b, s),
            Cell::SharedText(s) => match sst.id(s) {
                Some(id) => {
                    b.extend_from_slice(b"<c t=\"s\"><v>");
                    push_u64(b, u64::from(id));
                    b.extend_from_slice(b"</v></c>");
                }
                None => push_inline(b, s),
            },
            Cell::Date(d) => match crate::export::num::date_serial(d) {
                Some(serial) => {
                    b.extend_from_slice(b"<c s=\"2\"><v>");
                    push_u64(b, serial);
                    b.extend_from_slice(b"</v></c>");
                }
                // Before 1900 or after 9999 Excel has no date: keep the text.
                None => {
                    let mut t = Vec::with_capacity(12);
                    push_iso_date(&mut t, d);
                    push_inline(b, std::str::from_utf8(&t).expect("ASCII"));
                }
            },
            Cell::DateTime(t) => {
                let mark = b.len();
                b.extend_from_slice(b"<c s=\"3\"><v>");
                if push_datetime_serial(b, t) {
                    b.extend_from_slice(b"</v></c>");
                } else {
                    b.truncate(mark);
                    push_inline(b, &t.to_rfc3339());
                }
            }
            Cell::Empty => unreachable!("handled above"),
        }
    }
    b.extend_from_slice(b"</row>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        let got: Vec<String> = [0, 25, 26, 37, 701, 702, 16_383]
            .into_iter()
            .map(col_letters)
            .collect();
        assert_eq!(got, ["A", "Z", "AA", "AL", "ZZ", "AAA", "XFD"]);
    }

    #[test]
    fn shared_strings_are_capped() {
        let mut t = SharedStrings::new(2, 1000);
        assert_eq!(t.id("S1"), Some(0));
        assert_eq!(t.id("S2"), Some(1));
        assert_eq!(t.id("S1"), Some(0));
        assert_eq!(t.id("S3"), None);
        assert_eq!(t.id(&"x".repeat(2000)), None);
        let mut t = SharedStrings::new(100, 5);
        assert_eq!(t.id("abc"), Some(0));
        assert_eq!(t.id("def"), None);
        let xml = String::from_utf8(t.xml()).unwrap();
        assert!(xml.contains("count=\"1\" uniqueCount=\"1\"><si><t>abc</t></si></sst>"));
    }

    #[test]
    fn row_xml_is_lean() {
        let mut b = Vec::new();
        let mut sst = SharedStrings::new(10, 100);
        let d = chrono::NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
        let cells = [
            Cell::Empty,
            Cell::Text("a&b"),
            Cell::SharedText("S1"),
            Cell::Text(""),
            Cell::Date(d),
            Cell::Text(" x"),
            Cell::Empty,
        ];
        push_row(&mut b, 7, &cells, &mut sst);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            concat!(
                "<row r=\"7\"><c/><c t=\"inlineStr\"><is><t>a&amp;b</t></is></c>",
                "<c t=\"s\"><v>0</v></c><c/><c s=\"2\"><v>45366</v></c>",
                "<c t=\"inlineStr\"><is><t xml:space=\"preserve\"> x</t></is></c></row>"
            )
        );
    }
}
