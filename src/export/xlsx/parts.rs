//! The small package parts around the worksheets. All but `styles.xml` and
//! the package `.rels` depend on the number of sheets, which rollover makes
//! known only at the end, so they are written after the sheets: ZIP order
//! does not matter to Excel, LibreOffice or openpyxl (all read the central
//! directory and follow the relationships; .NET's System.IO.Packaging, which
//! Office's own SDK uses, also writes `[Content_Types].xml` last).

use crate::export::num::push_u64;
use crate::export::text::push_xml_attr;

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
pub(super) const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG_REL_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const CT_PREFIX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.";

/// Cell style ids (`s="…"`), indexes into `cellXfs` of [`STYLES`].
pub(super) mod style {
    /// Bold: the header row.
    pub const HEADER: u8 = 1;
    /// `yyyy-mm-dd`.
    pub const DATE: u8 = 2;
    /// `yyyy-mm-dd hh:mm:ss`.
    pub const DATE_TIME: u8 = 3;
    /// Text (`@`), the default style of text columns.
    pub const TEXT: u8 = 4;
}

/// `xl/styles.xml`: fonts 0 (regular) and 1 (bold); number formats 164/165.
pub(super) const STYLES: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">",
    "<numFmts count=\"2\"><numFmt numFmtId=\"164\" formatCode=\"yyyy-mm-dd\"/>",
    "<numFmt numFmtId=\"165\" formatCode=\"yyyy-mm-dd hh:mm:ss\"/></numFmts>",
    "<fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font>",
    "<font><b/><sz val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/></font></fonts>",
    "<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill>",
    "<fill><patternFill patternType=\"gray125\"/></fill></fills>",
    "<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>",
    "<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>",
    "<cellXfs count=\"5\">",
    "<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>",
    "<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/>",
    "<xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>",
    "<xf numFmtId=\"165\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>",
    "<xf numFmtId=\"49\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>",
    "</cellXfs><cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/>",
    "</cellStyles></styleSheet>"
);

/// `_rels/.rels`: the package points at the workbook.
pub(super) const PACKAGE_RELS: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
    "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/",
    "relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
);

/// One finished sheet, as the workbook needs it.
#[derive(Debug)]
pub(super) struct SheetInfo {
    pub name: String,
    /// The autofilter range, e.g. `A1:AL1048576`.
    pub filter_last_col: String,
    pub filter_last_row: u32,
}

/// `'Driver Leads (2)'!$A$1:$AL$26`: quotes doubled inside the quoted name.
fn push_filter_ref(b: &mut Vec<u8>, s: &SheetInfo) {
    let mut r = String::with_capacity(s.name.len() + 24);
    r.push('\'');
    r.push_str(&s.name.replace('\'', "''"));
    r.push_str("'!$A$1:$");
    r.push_str(&s.filter_last_col);
    r.push('$');
    push_xml_attr(b, &r);
    push_u64(b, u64::from(s.filter_last_row));
}

/// `xl/workbook.xml`: the sheets in order, the first active, and the
/// `_FilterDatabase` names Excel expects next to each autofilter.
pub(super) fn workbook(sheets: &[SheetInfo]) -> Vec<u8> {
    let mut b = Vec::with_capacity(512 + sheets.len() * 200);
    b.extend_from_slice(XML_DECL.as_bytes());
    for part in [
        "<workbook xmlns=\"",
        MAIN_NS,
        "\" xmlns:r=\"",
        REL_NS,
        "\">",
    ] {
        b.extend_from_slice(part.as_bytes());
    }
    b.extend_from_slice(b"<bookViews><workbookView activeTab=\"0\"/></bookViews><sheets>");
    for (i, s) in sheets.iter().enumerate() {
        b.extend_from_slice(b"<sheet name=\"");
        push_xml_attr(&mut b, &s.name);
        b.extend_from_slice(b"\" sheetId=\"");
        push_u64(&mut b, i as u64 + 1);
        b.extend_from_slice(b"\" r:id=\"rId");
        push_u64(&mut b, i as u64 + 1);
        b.extend_from_slice(b"\"/>");
    }
    b.extend_from_slice(b"</sheets><definedNames>");
    for (i, s) in sheets.iter().enumerate() {
        b.extend_from_slice(b"<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"");
        push_u64(&mut b, i as u64);
        b.extend_from_slice(b"\" hidden=\"1\">");
        push_filter_ref(&mut b, s);
        b.extend_from_slice(b"</definedName>");
    }
    b.extend_from_slice(b"</definedNames></workbook>");
    b
}

/// `xl/_rels/workbook.xml.rels`: rId1..rIdN the sheets, then styles and
/// (if written) the shared strings.
pub(super) fn workbook_rels(sheets: usize, shared_strings: bool) -> Vec<u8> {
    let mut b = Vec::with_capacity(512 + sheets * 160);
    b.extend_from_slice(XML_DECL.as_bytes());
    b.extend_from_slice(b"<Relationships xmlns=\"");
    b.extend_from_slice(PKG_REL_NS.as_bytes());
    b.extend_from_slice(b"\">");
    let rel = |b: &mut Vec<u8>, id: usize, kind: &str, target: &str, n: Option<usize>| {
        b.extend_from_slice(b"<Relationship Id=\"rId");
        push_u64(b, id as u64);
        b.extend_from_slice(b"\" Type=\"");
        b.extend_from_slice(REL_NS.as_bytes());
        b.push(b'/');
        b.extend_from_slice(kind.as_bytes());
        b.extend_from_slice(b"\" Target=\"");
        b.extend_from_slice(target.as_bytes());
        if let Some(n) = n {
            push_u64(b, n as u64);
            b.extend_from_slice(b".xml");
        }
        b.extend_from_slice(b"\"/>");
    };
    for i in 1..=sheets {
        rel(&mut b, i, "worksheet", "worksheets/sheet", Some(i));
    }
    rel(&mut b, sheets + 1, "styles", "styles.xml", None);
    if shared_strings {
        rel(
            &mut b,
            sheets + 2,
            "sharedStrings",
            "sharedStrings.xml",
            None,
        );
    }
    b.extend_from_slice(b"</Relationships>");
    b
}

/// `[Content_Types].xml`.
pub(super) fn content_types(sheets: usize, shared_strings: bool) -> Vec<u8> {
    let mut b = Vec::with_capacity(1024 + sheets * 140);
    b.extend_from_slice(XML_DECL.as_bytes());
    b.extend_from_slice(
        concat!(
            "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">",
            "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.",
            "relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/>"
        )
        .as_bytes(),
    );
    let ov = |b: &mut Vec<u8>, part: &str, n: Option<usize>, kind: &str| {
        b.extend_from_slice(b"<Override PartName=\"/xl/");
        b.extend_from_slice(part.as_bytes());
        if let Some(n) = n {
            push_u64(b, n as u64);
            b.extend_from_slice(b".xml");
        }
        b.extend_from_slice(b"\" ContentType=\"");
        b.extend_from_slice(CT_PREFIX.as_bytes());
        b.extend_from_slice(kind.as_bytes());
        b.extend_from_slice(b"+xml\"/>");
    };
    ov(&mut b, "workbook.xml", None, "sheet.main");
    ov(&mut b, "styles.xml", None, "styles");
    for i in 1..=sheets {
        ov(&mut b, "worksheets/sheet", Some(i), "worksheet");
    }
    if shared_strings {
        ov(&mut b, "sharedStrings.xml", None, "sharedStrings");
    }
    b.extend_from_slice(b"</Types>");
    b
}
