//! XML plumbing for the xlsx reader: a reader whose tokens are bounded as
//! they stream, entity and text handling without a DOCTYPE, OOXML escapes,
//! cell references and attributes read in place.

use std::io::BufReader;

use quick_xml::events::BytesStart;

use super::ImportError;
use super::zip::{BOMB, EntryReader};

/// Text of one cell at most (Excel allows 32,767 characters).
const MAX_CELL_BYTES: usize = 1 << 20;

pub(super) fn bad(msg: impl std::fmt::Display) -> ImportError {
    ImportError::Invalid(format!("not a valid xlsx file: {msg}"))
}

pub(super) fn xml_err(e: quick_xml::Error) -> ImportError {
    if let quick_xml::Error::Io(io) = &e
        && (io.to_string().contains(BOMB) || io.to_string().contains(LONG_TOKEN))
    {
        return ImportError::TooLarge(format!("xlsx entry {io}"));
    }
    bad(e)
}

/// Bytes of one XML token (text between tags, or one tag) at most: quick-xml
/// gathers a whole token in memory before returning it, so a sheet of one
/// endless text node must be refused as it streams. A cell holds at most
/// 32,767 characters (≈ 230 KB escaped); sheets never come near this.
const MAX_TOKEN_BYTES: u64 = 2 << 20;

/// The error [`Tokens`] returns.
const LONG_TOKEN: &str = "holds an XML token longer than 2 MiB";

/// Counts the bytes since the last `<` or `>` as they stream (see
/// [`MAX_TOKEN_BYTES`]); only the tail of each chunk is scanned.
pub(super) struct Tokens<R> {
    inner: R,
    run: u64,
}

impl<R: std::io::Read> std::io::Read for Tokens<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let data = &buf[..n];
        match data.iter().rposition(|&b| b == b'<' || b == b'>') {
            Some(i) => self.run = (n - i - 1) as u64,
            None => self.run += n as u64,
        }
        if self.run > MAX_TOKEN_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the sheet {LONG_TOKEN}"),
            ));
        }
        Ok(n)
    }
}

pub(super) type Xml = quick_xml::Reader<BufReader<Tokens<EntryReader>>>;

pub(super) fn xml_reader(r: EntryReader) -> Xml {
    let r = Tokens { inner: r, run: 0 };
    let mut x = quick_xml::Reader::from_reader(BufReader::with_capacity(64 << 10, r));
    x.config_mut().check_end_names = false;
    x
}

/// Appends the text of an entity or character reference; only XML's five
/// predefined entities exist here (a DOCTYPE that could declare more is
/// refused before).
pub(super) fn push_ref(
    out: &mut String,
    r: &quick_xml::events::BytesRef<'_>,
) -> Result<(), ImportError> {
    if r.is_char_ref() {
        match r.resolve_char_ref() {
            Ok(Some(c)) => out.push(c),
            _ => return Err(bad("bad character reference")),
        }
        return Ok(());
    }
    let name: &[u8] = r;
    let c = match name {
        b"amp" => '&',
        b"lt" => '<',
        b"gt" => '>',
        b"quot" => '"',
        b"apos" => '\'',
        other => {
            return Err(bad(format!(
                "unknown entity &{};",
                String::from_utf8_lossy(other)
            )));
        }
    };
    out.push(c);
    Ok(())
}

pub(super) fn push_text(out: &mut String, raw: &[u8]) -> Result<(), ImportError> {
    if out.len() + raw.len() > MAX_CELL_BYTES {
        return Err(bad("a cell holds more than 1 MiB of text"));
    }
    out.push_str(std::str::from_utf8(raw).map_err(|_| bad("text is not UTF-8"))?);
    Ok(())
}

/// Decodes OOXML's `_xHHHH_` escapes (how Excel — and Pulse's export —
/// write characters XML cannot hold).
pub fn decode_escapes(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("_x") {
        return s.into();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut pending_high: Option<u16> = None;
    while i < b.len() {
        if b.len() - i >= 7
            && b[i] == b'_'
            && b[i + 1] == b'x'
            && b[i + 6] == b'_'
            && b[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit)
        {
            let v = u16::from_str_radix(&s[i + 2..i + 6], 16).unwrap_or(0xFFFD);
            if (0xD800..0xDC00).contains(&v) {
                pending_high = Some(v);
            } else {
                let units: Vec<u16> = pending_high.take().into_iter().chain([v]).collect();
                out.extend(char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}')));
            }
            i += 7;
            continue;
        }
        if pending_high.take().is_some() {
            out.push('\u{FFFD}');
        }
        let c = s[i..].chars().next().unwrap_or('\u{FFFD}');
        out.push(c);
        i += c.len_utf8();
    }
    out.into()
}

/// `A1`-style reference → 0-based column.
pub(super) fn column_of(r: &[u8]) -> Option<usize> {
    let mut col = 0usize;
    let mut letters = 0;
    for &c in r {
        if c.is_ascii_alphabetic() {
            col = col * 26 + usize::from(c.to_ascii_uppercase() - b'A' + 1);
            letters += 1;
            if letters > 3 {
                return None;
            }
        } else {
            break;
        }
    }
    (letters > 0).then(|| col - 1)
}

pub(super) fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<Vec<u8>> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| a.value.into_owned())
}

/// A raw attribute value of a cell or row tag, found without decoding or
/// allocating (`r` and `t` hold ASCII, never entities): this runs twice per
/// cell, 34 million times for a million-row sheet.
pub(super) fn raw_attr<'a>(attrs: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    while i < attrs.len() {
        // skip whitespace, read a name up to '='
        while i < attrs.len() && attrs[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < attrs.len() && attrs[i] != b'=' && !attrs[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &attrs[start..i];
        while i < attrs.len() && (attrs[i] == b'=' || attrs[i].is_ascii_whitespace()) {
            i += 1;
        }
        let quote = *attrs.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let vstart = i + 1;
        let vend = vstart + attrs[vstart..].iter().position(|&b| b == quote)?;
        // `x:r` (a prefixed name) counts as `r`.
        let local = key.rsplit(|&b| b == b':').next().unwrap_or(key);
        if local == name {
            return Some(&attrs[vstart..vend]);
        }
        i = vend + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_escapes() {
        assert_eq!(column_of(b"A1"), Some(0));
        assert_eq!(column_of(b"AB12"), Some(27));
        assert_eq!(column_of(b"XFD1048576"), Some(16_383));
        assert_eq!(column_of(b"12"), None);
        assert_eq!(decode_escapes("a_x000D_b"), "a\rb");
        assert_eq!(decode_escapes("_x005F_x0041_"), "_x0041_");
        assert_eq!(decode_escapes("plain"), "plain");
        assert_eq!(raw_attr(br#" r="B7" t="s""#, b"t"), Some(&b"s"[..]));
        assert_eq!(raw_attr(br#" r="B7" t="s""#, b"r"), Some(&b"B7"[..]));
        assert_eq!(raw_attr(b" s='3'", b"s"), Some(&b"3"[..]));
        assert_eq!(raw_attr(br#" x:r="A1""#, b"r"), Some(&b"A1"[..]));
        assert_eq!(raw_attr(br#" rr="A1""#, b"r"), None);
        assert_eq!(decode_escapes("_xD83D__xDE00_"), "😀");
    }
}
