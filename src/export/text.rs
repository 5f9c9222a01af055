//! Cell text for SpreadsheetML: XML escaping with the OOXML `_xHHHH_`
//! escapes, and Excel's 32,767-character cell limit.
//!
//! Traps this handles (each seen in the peers, see anchors/RESULTS.md §2–3):
//! - XML 1.0 forbids C0 controls other than TAB/LF/CR and U+FFFE/U+FFFF,
//!   even as `&#…;` references: written as `_xHHHH_`, which Excel decodes.
//! - A literal `_xHHHH_` in the data would be decoded too: its `_` is written
//!   as `_x005F_`, checked at every `_` (so `_x005F_x0041_` survives, which
//!   XlsxWriter's single regex pass gets wrong).
//! - XML parsers turn a raw CR into LF: CR is written as `&#13;`, which every
//!   parser returns as CR (openpyxl included, no OOXML decoding needed).

/// Excel's maximum characters in a cell (UTF-16 code units).
pub(crate) const EXCEL_MAX_CELL: usize = 32_767;

/// Bytes that need a look: XML specials, CR, C0 controls, `_` (maybe a
/// literal escape), 0xEF (maybe the first byte of U+FFFE/U+FFFF).
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = i != 0x09 && i != 0x0A;
        i += 1;
    }
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'_' as usize] = true;
    t[0xEF] = true;
    t
};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// True if `b` starts with `_xHHHH_` (any hex case): the pattern Excel
/// decodes, so a literal one must have its `_` escaped.
#[inline]
fn is_escape_like(b: &[u8]) -> bool {
    b.len() >= 7
        && b[0] == b'_'
        && b[1] == b'x'
        && b[2..6].iter().all(u8::is_ascii_hexdigit)
        && b[6] == b'_'
}

/// Appends `s` as XML element text with the OOXML escapes (see the module
/// doc). Copies runs of plain bytes in one go; only the bytes flagged in
/// `SPECIAL` are looked at one by one.
pub(crate) fn push_xml_text(buf: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if !SPECIAL[c as usize] {
            i += 1;
            continue;
        }
        let (rep, len): (&[u8], usize) = match c {
            b'&' => (b"&amp;", 1),
            b'<' => (b"&lt;", 1),
            b'>' => (b"&gt;", 1),
            b'\r' => (b"&#13;", 1),
            b'_' if is_escape_like(&b[i..]) => (b"_x005F_", 1),
            b'_' => {
                i += 1;
                continue;
            }
            // U+FFFE / U+FFFF are EF BF BE / EF BF BF in UTF-8.
            0xEF if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) => {
                if b[i + 2] == 0xBE {
                    (b"_xFFFE_", 3)
                } else {
                    (b"_xFFFF_", 3)
                }
            }
            0xEF => {
                i += 1;
                continue;
            }
            ctrl => {
                buf.extend_from_slice(&b[start..i]);
                buf.extend_from_slice(b"_x00");
                buf.push(HEX[usize::from(ctrl >> 4)]);
                buf.push(HEX[usize::from(ctrl & 15)]);
                buf.push(b'_');
                i += 1;
                start = i;
                continue;
            }
        };
        buf.extend_from_slice(&b[start..i]);
        buf.extend_from_slice(rep);
        i += len;
        start = i;
    }
    buf.extend_from_slice(&b[start..]);
}

/// Appends `s` escaped for a double-quoted XML attribute (our own names).
pub(crate) fn push_xml_attr(buf: &mut Vec<u8>, s: &str) {
    for &c in s.as_bytes() {
        match c {
            b'&' => buf.extend_from_slice(b"&amp;"),
            b'<' => buf.extend_from_slice(b"&lt;"),
            b'>' => buf.extend_from_slice(b"&gt;"),
            b'"' => buf.extend_from_slice(b"&quot;"),
            _ => buf.push(c),
        }
    }
}

/// Excel strips leading/trailing whitespace of `<t>` unless told not to; the
/// attribute costs 21 bytes, so it goes only where it matters.
#[inline]
pub(crate) fn needs_preserve(s: &str) -> bool {
    let ws = |c: Option<char>| c.is_some_and(char::is_whitespace);
    ws(s.chars().next()) || ws(s.chars().next_back())
}

/// Text cut to fit Excel's cell limit: the kept prefix and a visible marker.
#[derive(Debug, PartialEq)]
pub(crate) struct Cut<'a> {
    /// The prefix kept, on a character boundary.
    pub kept: &'a str,
    /// Appended after `kept`, e.g. `… [truncated: 7,243 more characters]`.
    pub marker: String,
}

/// `None` when `s` fits in an Excel cell (≤ 32,767 UTF-16 code units, the
/// unit Excel counts); else the prefix to keep and the marker to add.
///
/// When cutting, each kept character costs the larger of its UTF-16 length
/// and its escaped length (`_x0001_` is 7 characters to openpyxl, which
/// does not decode escapes, and to validate_xlsx.py's limit check), so the
/// cut cell is within the limit for every reader. Text that fits as Excel
/// counts it is never cut.
pub(crate) fn cut_for_excel(s: &str) -> Option<Cut<'_>> {
    if s.len() <= EXCEL_MAX_CELL {
        return None; // UTF-16 units ≤ UTF-8 bytes
    }
    if s.encode_utf16().count() <= EXCEL_MAX_CELL {
        return None;
    }
    let total = s.chars().count();
    // Marker length with `total` digits bounds it for any removed count.
    let budget = EXCEL_MAX_CELL - marker(total).chars().count();
    let b = s.as_bytes();
    let (mut used, mut kept_chars, mut end) = (0usize, 0usize, 0usize);
    for (i, c) in s.char_indices() {
        let cost = match c {
            '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' => 7,
            '\u{fffe}' | '\u{ffff}' => 7,
            '_' if is_escape_like(&b[i..]) => 7,
            c => c.len_utf16(),
        };
        if used + cost > budget {
            break;
        }
        used += cost;
        kept_chars += 1;
        end = i + c.len_utf8();
    }
    Some(Cut {
        kept: &s[..end],
        marker: marker(total - kept_chars),
    })
}

fn marker(removed: usize) -> String {
    // Thousands separators make the count readable at a glance.
    let digits = removed.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("… [truncated: {grouped} more characters]")
}

/// Test-only reader of what [`push_xml_text`] writes: XML entities and
/// character references, then the OOXML `_xHHHH_` escapes left to right (as
/// Excel and validate_xlsx.py read them).
#[cfg(test)]
pub(crate) fn decode_xml_text(x: &str) -> String {
    let mut ents = String::with_capacity(x.len());
    let mut rest = x;
    while let Some(p) = rest.find('&') {
        ents.push_str(&rest[..p]);
        let end = rest[p..].find(';').expect("unterminated entity") + p;
        let name = &rest[p + 1..end];
        let ch = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            n if n.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&n[2..], 16).unwrap()).expect("bad char ref")
            }
            n if n.starts_with('#') => char::from_u32(n[1..].parse().unwrap()).expect("bad ref"),
            n => panic!("unknown entity {n}"),
        };
        ents.push(ch);
        rest = &rest[end + 1..];
    }
    ents.push_str(rest);
    let mut out = String::with_capacity(ents.len());
    let b = ents.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if is_escape_like(&b[i..]) {
            let v = u32::from_str_radix(&ents[i + 2..i + 6], 16).unwrap();
            out.push(char::from_u32(v).expect("escape of a surrogate"));
            i += 7;
        } else {
            let c = ents[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut b = Vec::new();
        push_xml_text(&mut b, s);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn escapes() {
        let cases = [
            ("plain text", "plain text"),
            ("a<b>&c\"'", "a&lt;b&gt;&amp;c\"'"),
            ("a\tb\nc\rd", "a\tb\nc&#13;d"),
            ("nul\0in\x0bx\x1f", "nul_x0000_in_x000B_x_x001F_"),
            ("\u{7f}\u{85}", "\u{7f}\u{85}"),
            ("bom\u{fffe}X\u{ffff}", "bom_xFFFE_X_xFFFF_"),
            ("\u{feff}\u{fffd}", "\u{feff}\u{fffd}"),
            ("_x0041_", "_x005F_x0041_"),
            ("_x005F_x0041_", "_x005F_x005F_x005F_x0041_"),
            (
                "_x00ff_ _x12_ _xGGGG_ my_name",
                "_x005F_x00ff_ _x12_ _xGGGG_ my_name",
            ),
            ("\x01x0041_", "_x0001_x0041_"),
            ("tail_", "tail_"),
        ];
        for (raw, want) in cases {
            assert_eq!(esc(raw), want, "{raw:?}");
            assert_eq!(decode_xml_text(want), raw, "{want:?}");
        }
    }

    #[test]
    fn preserve_only_at_the_edges() {
        assert!(!needs_preserve("a b\nc"));
        assert!(needs_preserve(" a"));
        assert!(needs_preserve("a\n"));
        assert!(needs_preserve("\ta"));
        assert!(!needs_preserve(""));
    }

    #[test]
    fn fits_are_not_cut() {
        assert_eq!(cut_for_excel(&"L".repeat(32_767)), None);
        // 32,767 UTF-16 units in more than 32,767 bytes
        assert_eq!(cut_for_excel(&"é".repeat(32_767)), None);
    }

    fn cut_len(c: &Cut<'_>) -> usize {
        c.kept.encode_utf16().count() + c.marker.encode_utf16().count()
    }

    #[test]
    fn long_text_is_cut_with_a_marker() {
        let s = "M".repeat(32_768);
        let c = cut_for_excel(&s).unwrap();
        assert!((32_760..=EXCEL_MAX_CELL).contains(&cut_len(&c)));
        let removed = 32_768 - c.kept.len();
        assert!(
            c.marker.contains(&format!("{removed} more")),
            "{}",
            c.marker
        );

        let s = "X".repeat(39_990) + " 40k chars";
        let c = cut_for_excel(&s).unwrap();
        assert!(cut_len(&c) <= EXCEL_MAX_CELL);
        let removed = s.len() - c.kept.len();
        assert_eq!(
            c.marker,
            format!("… [truncated: 7,{:03} more characters]", removed - 7000)
        );
        assert!(c.kept.len() > 32_000);
    }

    #[test]
    fn cuts_count_utf16_and_escapes() {
        // astral characters are 2 UTF-16 units (Excel) but 1 char (Python)
        let s = "😀".repeat(20_000);
        let c = cut_for_excel(&s).unwrap();
        assert!(cut_len(&c) <= EXCEL_MAX_CELL);
        assert!(s.starts_with(c.kept) && c.kept.chars().count() > 16_000);
        // escaped characters count as what openpyxl sees (7 chars each)
        let s = "\x01".repeat(40_000);
        let c = cut_for_excel(&s).unwrap();
        assert!(esc(c.kept).len() + c.marker.chars().count() <= EXCEL_MAX_CELL);
    }
}
