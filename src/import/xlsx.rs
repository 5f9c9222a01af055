//! Streaming xlsx reader: the sheet XML is parsed as it inflates (quick-xml
//! over [`super::zip`]), one row at a time, so memory stays flat whatever
//! the row count. Only the shared-strings table is held, and it is bounded.
//! A DOCTYPE anywhere is refused (no entity is ever expanded or fetched).

use std::fs::File;

use quick_xml::events::Event;

use super::ImportError;
use super::values::Cell;
use super::xml::{
    Xml, attr, bad, column_of, decode_escapes, push_ref, push_text, raw_attr, xml_err, xml_reader,
};
use super::zip::Archive;

/// Text held by the shared-strings table at most. A workbook saved by Excel
/// keeps every distinct string there; beyond this, the file must be saved
/// as CSV (which streams) — the bound keeps a hostile table from growing
/// memory past it.
pub const MAX_SHARED_BYTES: usize = 24 << 20;
/// Entries of the shared-strings table at most (4 bytes of index each).
const MAX_SHARED_COUNT: usize = 2_000_000;
/// Excel's own limits.
pub const MAX_COLUMNS: usize = 16_384;
const MAX_ROWS: u64 = 1_048_576;

/// The shared-strings table: all text in one buffer, with end offsets.
#[derive(Default)]
struct SharedStrings {
    text: String,
    ends: Vec<u32>,
}

impl SharedStrings {
    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
    }

    fn read(mut x: Xml) -> Result<SharedStrings, ImportError> {
        let mut sst = SharedStrings::default();
        let mut buf = Vec::new();
        let (mut in_t, mut in_rph) = (false, false);
        let mut cur = String::new();
        loop {
            match x.read_event_into(&mut buf).map_err(xml_err)? {
                Event::DocType(_) => return Err(bad("DOCTYPE is not allowed")),
                Event::Start(e) => match e.local_name().as_ref() {
                    b"si" => cur.clear(),
                    b"t" => in_t = true,
                    b"rPh" => in_rph = true,
                    _ => {}
                },
                Event::End(e) => match e.local_name().as_ref() {
                    b"t" => in_t = false,
                    b"rPh" => in_rph = false,
                    b"si" => {
                        let s = decode_escapes(&cur);
                        if sst.text.len() + s.len() > MAX_SHARED_BYTES
                            || sst.ends.len() >= MAX_SHARED_COUNT
                        {
                            return Err(ImportError::TooLarge(format!(
                                "the xlsx shared-strings table holds more than {} MiB of text or {MAX_SHARED_COUNT} strings: save the sheet as CSV and import that",
                                MAX_SHARED_BYTES >> 20
                            )));
                        }
                        sst.text.push_str(&s);
                        sst.ends.push(sst.text.len() as u32);
                    }
                    _ => {}
                },
                Event::Empty(e) if e.local_name().as_ref() == b"si" => {
                    sst.ends.push(sst.text.len() as u32);
                }
                Event::Text(t) if in_t && !in_rph => push_text(&mut cur, &t)?,
                Event::CData(t) if in_t && !in_rph => push_text(&mut cur, &t)?,
                Event::GeneralRef(r) if in_t && !in_rph => push_ref(&mut cur, &r)?,
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        Ok(sst)
    }
}

/// An opened workbook: its worksheets in tab order and the shared strings.
pub struct Workbook {
    archive: Archive,
    /// (sheet name, entry path), in the workbook's tab order.
    pub sheets: Vec<(String, String)>,
    sst: SharedStrings,
}

fn read_small(archive: &Archive, name: &str) -> Result<Option<Xml>, ImportError> {
    match archive.find(name) {
        Some(e) => Ok(Some(xml_reader(archive.open_entry(e)?))),
        None => Ok(None),
    }
}

impl Workbook {
    /// Opens `file` (already known to start like a ZIP archive).
    pub fn open(file: File) -> Result<Workbook, ImportError> {
        let archive = Archive::open(file)?;
        let mut wb = read_small(&archive, "xl/workbook.xml")?.ok_or_else(|| {
            ImportError::Unsupported(
                "a ZIP archive without xl/workbook.xml is not an xlsx workbook".into(),
            )
        })?;
        let mut order: Vec<(String, String)> = Vec::new();
        let mut buf = Vec::new();
        loop {
            match wb.read_event_into(&mut buf).map_err(xml_err)? {
                Event::DocType(_) => return Err(bad("DOCTYPE is not allowed")),
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"sheet" => {
                    let name = attr(&e, b"name").unwrap_or_default();
                    let id = attr(&e, b"id").unwrap_or_default();
                    if order.len() < 1000 {
                        order.push((
                            String::from_utf8_lossy(&name).into_owned(),
                            String::from_utf8_lossy(&id).into_owned(),
                        ));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        let mut targets: Vec<(String, String)> = Vec::new();
        if let Some(mut rels) = read_small(&archive, "xl/_rels/workbook.xml.rels")? {
            loop {
                match rels.read_event_into(&mut buf).map_err(xml_err)? {
                    Event::DocType(_) => return Err(bad("DOCTYPE is not allowed")),
                    Event::Start(e) | Event::Empty(e)
                        if e.local_name().as_ref() == b"Relationship" && targets.len() < 1000 =>
                    {
                        let id = attr(&e, b"Id").unwrap_or_default();
                        let target = attr(&e, b"Target").unwrap_or_default();
                        targets.push((
                            String::from_utf8_lossy(&id).into_owned(),
                            String::from_utf8_lossy(&target).into_owned(),
                        ));
                    }
                    Event::Eof => break,
                    _ => {}
                }
                buf.clear();
            }
        }
        let mut sheets = Vec::new();
        for (name, id) in order {
            let Some((_, target)) = targets.iter().find(|(i, _)| *i == id) else {
                continue;
            };
            let path = match target.strip_prefix('/') {
                Some(abs) => abs.to_owned(),
                None => format!("xl/{target}"),
            };
            // Several sheets naming one part would re-read it once each (a few MiB
            // describing a billion rows, review H6): refused.
            if sheets
                .iter()
                .any(|(_, p): &(String, String)| p.eq_ignore_ascii_case(&path))
            {
                return Err(ImportError::Invalid(format!(
                    "not a valid xlsx file: two sheets are the same part {path}"
                )));
            }
            if archive.find(&path).is_some() {
                sheets.push((name, path));
            }
        }
        if sheets.is_empty() {
            // No usable relationships: take the worksheets by name.
            let mut found: Vec<String> = archive
                .entries
                .iter()
                .filter(|e| e.name.starts_with("xl/worksheets/") && e.name.ends_with(".xml"))
                .map(|e| e.name.clone())
                .collect();
            found.sort_by_key(|n| (n.len(), n.clone()));
            sheets = found.into_iter().map(|p| (p.clone(), p)).collect();
        }
        if sheets.is_empty() {
            return Err(bad("the workbook has no worksheet"));
        }
        let sst = match read_small(&archive, "xl/sharedStrings.xml")? {
            Some(x) => SharedStrings::read(x)?,
            None => SharedStrings::default(),
        };
        Ok(Workbook {
            archive,
            sheets,
            sst,
        })
    }

    /// A row reader over sheet `i` (in tab order).
    pub fn sheet(&self, i: usize) -> Result<SheetRows<'_>, ImportError> {
        let entry = self
            .archive
            .find(&self.sheets[i].1)
            .ok_or_else(|| bad("worksheet vanished"))?;
        Ok(SheetRows {
            xml: xml_reader(self.archive.open_entry(entry)?),
            buf: Vec::with_capacity(64 << 10),
            sst: &self.sst,
            last_row: 0,
            done: false,
            text: String::new(),
        })
    }
}

/// The rows of one worksheet, read as the XML inflates.
pub struct SheetRows<'a> {
    xml: Xml,
    buf: Vec<u8>,
    sst: &'a SharedStrings,
    last_row: u64,
    done: bool,
    text: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Shared,
    Inline,
    Str,
    Bool,
    Error,
    Date,
    Number,
}

impl SheetRows<'_> {
    /// Reads the next row into `cells` (index = column, up to `width`
    /// columns; cells further right are dropped as read) and returns its
    /// 1-based row number, or `None` after the last row.
    pub fn next_row(
        &mut self,
        cells: &mut Vec<Cell>,
        width: usize,
    ) -> Result<Option<u64>, ImportError> {
        if self.done {
            return Ok(None);
        }
        cells.clear();
        let mut in_row = false;
        let mut row_no = 0u64;
        let mut cursor = 0usize;
        // The cell being read: column, kind; in <v> or <t> (not phonetic).
        let mut cell: Option<(usize, Kind)> = None;
        let (mut in_value, mut in_rph) = (false, false);
        loop {
            self.buf.clear();
            let ev = self.xml.read_event_into(&mut self.buf).map_err(xml_err)?;
            let empty = matches!(ev, Event::Empty(_));
            match ev {
                Event::DocType(_) => return Err(bad("DOCTYPE is not allowed")),
                Event::Start(e) | Event::Empty(e)
                    if e.local_name().as_ref() == b"row" && !in_row =>
                {
                    row_no = match raw_attr(e.attributes_raw(), b"r") {
                        Some(r) => std::str::from_utf8(r)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .ok_or_else(|| bad("bad row number"))?,
                        None => self.last_row + 1,
                    };
                    if row_no <= self.last_row || row_no > MAX_ROWS {
                        return Err(bad(format!(
                            "row {row_no} out of order or beyond Excel's last row"
                        )));
                    }
                    self.last_row = row_no;
                    // `<row/>`: an empty row.
                    if empty {
                        return Ok(Some(row_no));
                    }
                    in_row = true;
                }
                Event::End(e) if e.local_name().as_ref() == b"row" => {
                    return Ok(Some(row_no));
                }
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"c" && in_row => {
                    let attrs = e.attributes_raw();
                    let col = match raw_attr(attrs, b"r") {
                        Some(r) => column_of(r).ok_or_else(|| bad("bad cell reference"))?,
                        None => cursor,
                    };
                    if col >= MAX_COLUMNS {
                        return Err(bad("a cell beyond column XFD"));
                    }
                    cursor = col + 1;
                    let kind = match raw_attr(attrs, b"t") {
                        Some(b"s") => Kind::Shared,
                        Some(b"inlineStr") => Kind::Inline,
                        Some(b"str") => Kind::Str,
                        Some(b"b") => Kind::Bool,
                        Some(b"e") => Kind::Error,
                        Some(b"d") => Kind::Date,
                        _ => Kind::Number,
                    };
                    self.text.clear();
                    cell = (!empty).then_some((col, kind));
                }
                Event::End(e) if e.local_name().as_ref() == b"c" => {
                    if let Some((col, kind)) = cell.take()
                        && col < width
                    {
                        let value = finish(&self.text, kind, self.sst)?;
                        if cells.len() <= col {
                            cells.resize(col + 1, Cell::Empty);
                        }
                        cells[col] = value;
                    }
                }
                Event::Start(e) => match e.local_name().as_ref() {
                    b"v" | b"t" if cell.is_some() => in_value = true,
                    b"rPh" => in_rph = true,
                    _ => {}
                },
                Event::End(e) => match e.local_name().as_ref() {
                    b"v" | b"t" => in_value = false,
                    b"rPh" => in_rph = false,
                    b"sheetData" | b"worksheet" => {
                        self.done = true;
                        return Ok(None);
                    }
                    _ => {}
                },
                Event::Text(t) if in_value && !in_rph => push_text(&mut self.text, &t)?,
                Event::CData(t) if in_value && !in_rph => push_text(&mut self.text, &t)?,
                Event::GeneralRef(r) if in_value && !in_rph => push_ref(&mut self.text, &r)?,
                Event::Eof => {
                    if in_row {
                        return Err(bad("the sheet ends in the middle of a row (truncated?)"));
                    }
                    self.done = true;
                    return Ok(None);
                }
                _ => {}
            }
        }
    }
}

fn finish(t: &str, kind: Kind, sst: &SharedStrings) -> Result<Cell, ImportError> {
    Ok(match kind {
        Kind::Shared => {
            let i: usize = t
                .trim()
                .parse()
                .map_err(|_| bad("bad shared string index"))?;
            let s = sst
                .get(i)
                .ok_or_else(|| bad("shared string index out of range"))?;
            if s.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(s.to_owned())
            }
        }
        Kind::Inline | Kind::Str | Kind::Date => {
            if t.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(decode_escapes(t).into_owned())
            }
        }
        Kind::Bool => Cell::Bool(t.trim() == "1"),
        Kind::Error => Cell::Empty,
        Kind::Number => {
            let t = t.trim();
            if t.is_empty() {
                Cell::Empty
            } else {
                t.parse::<f64>()
                    .map(Cell::Number)
                    .unwrap_or_else(|_| Cell::Text(t.to_owned()))
            }
        }
    })
}
