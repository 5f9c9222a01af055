//! Hostile upload fixtures, made here (shared by the API suite and the
//! process test that measures the server's memory).

use std::io::Write;

use pulse::export::zip::ZipWriter;

/// A workbook with one sheet of the given XML (shared strings optional),
/// built with Pulse's own ZIP writer.
pub fn workbook(sheet_xml: &[u8], shared_strings: Option<&[u8]>) -> Vec<u8> {
    let mut z = ZipWriter::new(Vec::new());
    z.add_entry(
        "[Content_Types].xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#,
    )
    .unwrap();
    z.add_entry(
        "xl/workbook.xml",
        br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Leads" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    )
    .unwrap();
    z.add_entry(
        "xl/_rels/workbook.xml.rels",
        br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
    )
    .unwrap();
    if let Some(sst) = shared_strings {
        z.add_entry("xl/sharedStrings.xml", sst).unwrap();
    }
    z.add_entry("xl/worksheets/sheet1.xml", sheet_xml).unwrap();
    z.finish().unwrap().0
}

/// Sheet XML around `rows` (each a `<row>…</row>`).
pub fn sheet(rows: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>"#
    )
    .into_bytes()
}

pub const HEADER_ROW: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c><c r="B1" t="inlineStr"><is><t>phone</t></is></c></row>"#;

/// A ZIP archive of `entries` (name, content), each deflated at the best
/// level — as a bomb's maker would, unlike Pulse's fast writer.
pub fn zip_best(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use flate2::{Compression, Crc, write::DeflateEncoder};
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let mut enc = DeflateEncoder::new(Vec::new(), Compression::best());
        enc.write_all(data).unwrap();
        let packed = enc.finish().unwrap();
        let mut crc = Crc::new();
        crc.update(data);
        let offset = out.len() as u32;
        let le16 = |v: u16| v.to_le_bytes();
        let le32 = |v: u32| v.to_le_bytes();
        let mut fixed = Vec::new();
        fixed.extend_from_slice(&le16(20)); // version needed
        fixed.extend_from_slice(&le16(0)); // flags
        fixed.extend_from_slice(&le16(8)); // deflate
        fixed.extend_from_slice(&le32(0)); // time, date
        fixed.extend_from_slice(&le32(crc.sum()));
        fixed.extend_from_slice(&le32(packed.len() as u32));
        fixed.extend_from_slice(&le32(data.len() as u32));
        fixed.extend_from_slice(&le16(name.len() as u16));
        fixed.extend_from_slice(&le16(0)); // extra
        out.extend_from_slice(&le32(0x0403_4b50));
        out.extend_from_slice(&fixed);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&packed);
        central.extend_from_slice(&le32(0x0201_4b50));
        central.extend_from_slice(&le16(20)); // made by
        central.extend_from_slice(&fixed);
        central.extend_from_slice(&[0u8; 10]); // comment len, disk, attrs
        central.extend_from_slice(&le32(offset));
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]);
    let n = (entries.len() as u16).to_le_bytes();
    out.extend_from_slice(&n);
    out.extend_from_slice(&n);
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0u8; 2]);
    out
}

/// A workbook whose sheet is a header row and then `mib` MiB of `filler`
/// repeated inside `<sheetData>`, deflated at the best level (≈1000:1 for
/// whitespace).
pub fn zip_bomb(mib: usize, filler: &[u8]) -> Vec<u8> {
    let mut sheet = format!("<worksheet><sheetData>{HEADER_ROW}").into_bytes();
    while sheet.len() < mib << 20 {
        sheet.extend_from_slice(filler);
    }
    sheet.extend_from_slice(b"</sheetData></worksheet>");
    zip_best(&[
        (
            "xl/workbook.xml",
            br#"<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
        ("xl/worksheets/sheet1.xml", &sheet),
    ])
}

pub fn huge_shared_strings() -> Vec<u8> {
    let mut sst = Vec::with_capacity(48 << 20);
    sst.extend_from_slice(b"<sst>");
    let mut i = 0u64;
    while sst.len() < 48 << 20 {
        write!(
            sst,
            "<si><t>distinct string number {i:012} padding padding</t></si>"
        )
        .unwrap();
        i += 1;
    }
    sst.extend_from_slice(b"</sst>");
    let rows = format!(
        r#"{HEADER_ROW}<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><v>9876543210</v></c></row>"#
    );
    workbook(&sheet(&rows), Some(&sst))
}

pub fn garbage(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// (what, file name, bytes, expected HTTP status).
pub fn hostile() -> Vec<(&'static str, &'static str, Vec<u8>, u16)> {
    let valid = workbook(&sheet(HEADER_ROW), None);
    let mut docx_like = ZipWriter::new(Vec::new());
    docx_like
        .add_entry("word/document.xml", b"<w:document/>")
        .unwrap();
    let docx_like = docx_like.finish().unwrap().0;

    let mut wide = Vec::with_capacity(2 << 20);
    wide.extend_from_slice(b"name,phone");
    for i in 0..300_000 {
        write!(wide, ",c{i}").unwrap();
    }
    wide.extend_from_slice(b"\nA,9876543210\n");
    let mut long_line = b"name,phone\nA,".to_vec();
    long_line.extend(std::iter::repeat_n(b'9', 100 << 20));
    long_line.push(b'\n');
    let doctype = sheet(&format!(
        "{HEADER_ROW}<row r=\"2\"><c t=\"inlineStr\"><is><t>&lol;</t></is></c></row>"
    ));
    let doctype = [
        br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>"#.as_slice(),
        &doctype[doctype.iter().position(|&b| b == b'>').unwrap() + 1..],
    ]
    .concat();
    let external = sheet(HEADER_ROW);
    let external = [
        br#"<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">"#.as_slice(),
        &external[external.iter().position(|&b| b == b'>').unwrap() + 1..],
    ]
    .concat();

    vec![
        (
            "zip bomb (one endless text node)",
            "bomb.xlsx",
            zip_bomb(256, b"          "),
            413,
        ),
        (
            "zip bomb (endless empty elements)",
            "bomb2.xlsx",
            zip_bomb(256, b"<x/>"),
            413,
        ),
        (
            "far-out cell only",
            "far.xlsx",
            workbook(
                &sheet(
                    r#"<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>"#,
                ),
                None,
            ),
            422,
        ),
        (
            "cell beyond XFD",
            "beyond.xlsx",
            workbook(
                &sheet(&format!(
                    r#"{HEADER_ROW}<row r="2"><c r="XFE2"><v>1</v></c></row>"#
                )),
                None,
            ),
            422,
        ),
        (
            "huge shared strings",
            "sst.xlsx",
            huge_shared_strings(),
            413,
        ),
        (
            "DOCTYPE with entities",
            "lol.xlsx",
            workbook(&doctype, None),
            422,
        ),
        ("external DTD", "ext.xlsx", workbook(&external, None), 422),
        (
            "PNG renamed to .xlsx",
            "photo.xlsx",
            [b"\x89PNG\r\n\x1a\n".as_slice(), &garbage(4096)].concat(),
            415,
        ),
        ("zip without a workbook", "doc.xlsx", docx_like, 415),
        (
            "truncated zip",
            "cut.xlsx",
            valid[..valid.len() / 2].to_vec(),
            422,
        ),
        ("empty file", "empty.csv", Vec::new(), 422),
        ("whitespace only", "blank.csv", b" \r\n\n".to_vec(), 422),
        ("100 MB line", "long.csv", long_line, 413),
        ("300k columns", "wide.csv", wide, 422),
        ("binary garbage", "data.csv", garbage(1 << 20), 415),
        (
            "legacy xls",
            "old.xls",
            [
                b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".as_slice(),
                &garbage(1000),
            ]
            .concat(),
            415,
        ),
    ]
}
