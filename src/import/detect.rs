//! What a file is, by its first bytes (an upload's name can lie).

use std::io::Read;
use std::path::Path;

use serde::Serialize;

use super::ImportError;

/// The formats the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// An Office Open XML workbook.
    Xlsx,
    /// Comma (or semicolon, tab) separated text in any common encoding.
    Csv,
    /// One JSON object per line: Pulse's or `mongoexport`'s.
    Jsonl,
}

/// Reads the start of `path` and decides its format. `name` (the upload's
/// file name) only explains a refusal.
pub fn detect(path: &Path, name: &str) -> Result<Format, ImportError> {
    let mut head = [0u8; 8192];
    let mut f = std::fs::File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let head = &head[..n];
    let text = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Invalid(format!("{name}: the file is empty")));
    }
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"PK\x03\x04") {
        return Ok(Format::Xlsx);
    }
    if starts(b"PK\x05\x06") {
        return Err(ImportError::Invalid(format!(
            "{name}: an empty ZIP archive"
        )));
    }
    let refuse = |what: &str| {
        Err(ImportError::Unsupported(format!(
            "{name} is {what}, not a spreadsheet: upload .xlsx, .csv or JSON lines"
        )))
    };
    if starts(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return refuse("a legacy Excel 97 (.xls) or other OLE file (save it as .xlsx)");
    }
    for (magic, what) in [
        (&b"%PDF"[..], "a PDF"),
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\x1F\x8B", "gzip data"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xBC\xAF", "a 7-Zip archive"),
    ] {
        if starts(magic) {
            return refuse(what);
        }
    }
    if starts(&[0xFF, 0xFE]) || starts(&[0xFE, 0xFF]) {
        return Ok(Format::Csv);
    }
    // Text has no NUL and few control characters; anything else is binary.
    let controls = text
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    if text.contains(&0) || controls * 100 > text.len() {
        return refuse("binary data");
    }
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return Ok(Format::Jsonl);
    }
    Ok(Format::Csv)
}
