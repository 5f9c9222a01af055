//! Document numbers are PII: everyone but `master_admin` sees them masked,
//! in the JSON API and in exports alike (DESIGN §2).

/// The six document-number fields of a lead, in column order.
pub const PII_FIELDS: [&str; 6] = [
    "dl_no",
    "badge_no",
    "aadhar_card",
    "pan_card",
    "gas_bill",
    "bank_passbook",
];

/// The mask character. `validate_xlsx.py --pii masked` accepts any of
/// `* x X # • ● · . -` or space; `X` reads well in Excel and survives CSV.
const MASK: char = 'X';
/// Used instead when masking with `X` would reproduce the input exactly
/// (a value like `XXXX1234`), so a masked value never equals the original.
const ALT_MASK: char = '*';
/// How many trailing characters stay visible.
const VISIBLE: usize = 4;

/// Masks a document number: mask characters, then its last 4 characters.
///
/// The rule matches what `anchors/validate_xlsx.py --pii masked` checks
/// (`mask_ok`): after the leading mask characters, at most 4 characters
/// remain, they end the value *with spaces and dashes removed*, the result is
/// at least 4 characters long and differs from the value. Hence:
/// - the 4 visible characters are the last 4 that are not a space or `-`
///   (`TN-01-2020-1234567` → `XXXXXXXXXXXXXX4567`; `AB 12 34` shows `1234`,
///   not `2 34`, which the check would reject);
/// - the mask keeps the value's length in characters (not bytes), so the
///   shape of the number is still recognisable;
/// - values with 4 or fewer such characters become exactly `XXXX`: showing
///   "the last 4" would reveal the whole value, and the check needs at least
///   4 characters, so the length is not revealed either;
/// - an empty value stays empty: there is nothing to hide.
pub fn mask_document(value: &str) -> String {
    if value.is_empty() {
        return String::new();
    }
    let significant: Vec<char> = value.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if significant.len() <= VISIBLE {
        return std::iter::repeat_n(MASK, VISIBLE).collect();
    }
    let tail = &significant[significant.len() - VISIBLE..];
    // value has at least as many chars as `significant`, so this is >= 1
    let masked_len = value.chars().count() - VISIBLE;
    let build = |mask: char| -> String {
        std::iter::repeat_n(mask, masked_len)
            .chain(tail.iter().copied())
            .collect()
    };
    let out = build(MASK);
    if out == value { build(ALT_MASK) } else { out }
}

/// Characters a masked document number may start with: ours (`X`, `*`) and what
/// spreadsheets and other tools use.
const MASK_CHARS: [char; 6] = ['X', 'x', '*', '#', '•', '●'];

/// True for a value shaped like a masked document number: at least 4 characters, and
/// all but the last four are mask characters (`XXXXXXXX4950`, `****1234`, `XXXX`).
/// Such a value is what a role without `SeeUnmaskedPii` was shown, never a number.
pub fn looks_masked(value: &str) -> bool {
    let chars: Vec<char> = value.trim().chars().collect();
    if chars.len() < VISIBLE {
        return false;
    }
    let head = &chars[..chars.len() - VISIBLE];
    let all_mask = |cs: &[char]| cs.iter().all(|c| MASK_CHARS.contains(c));
    if head.is_empty() {
        all_mask(&chars)
    } else {
        all_mask(head)
    }
}

/// What to do with a document number sent for a stored lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentWrite {
    /// A real value: write it.
    Write,
    /// The stored number's own mask (a whole lead sent back as it was shown): keep the
    /// stored number.
    Keep,
    /// Another masked-looking value: refuse.
    Refuse,
}

/// Decides whether `sent` may replace `stored` (masked values are never written back).
pub fn document_write(sent: &str, stored: Option<&str>) -> DocumentWrite {
    if !looks_masked(sent) {
        return DocumentWrite::Write;
    }
    match stored {
        Some(s) if !s.is_empty() && (mask_document(s) == sent || s == sent) => DocumentWrite::Keep,
        _ => DocumentWrite::Refuse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A port of `mask_ok` from anchors/validate_xlsx.py.
    fn validator_accepts(cell: &str, src: &str) -> bool {
        const MASK_CHARS: &[char] = &['*', 'x', 'X', '#', '•', '●', '·', '.', '-', ' '];
        let vis = cell.trim_start_matches(MASK_CHARS);
        let compact = src.replace([' ', '-'], "");
        cell.chars().count() >= 4
            && vis.chars().count() <= 4
            && compact.ends_with(vis)
            && cell != src
    }

    #[test]
    fn masking_table() {
        let cases = [
            ("", ""),
            ("1", "XXXX"),
            ("1234", "XXXX"),
            ("12-34", "XXXX"),
            ("12345", "X2345"),
            ("811408714072", "XXXXXXXX4072"),
            ("MPSPD8111Y", "XXXXXX111Y"),
            ("TN0120074787142", "XXXXXXXXXXX7142"),
            ("TN01 20074787142", "XXXXXXXXXXXX7142"),
            ("TN-01-2020-1234567", "XXXXXXXXXXXXXX4567"),
            ("AB 12 34", "XXXX1234"),
            ("XXXX1234", "****1234"),
            ("ஆதார்123456", "XXXXXXX3456"),
            ("   ", "XXXX"),
        ];
        for (input, want) in cases {
            assert_eq!(mask_document(input), want, "input {input:?}");
            if !input.is_empty() {
                assert!(
                    validator_accepts(want, input),
                    "validator rejects {want:?} for {input:?}"
                );
            }
        }
    }

    #[test]
    fn masked_values_are_recognised_and_never_written_back() {
        for v in [
            "XXXXXXXX4950",
            "XXXX",
            "****1234",
            "xxxx1234",
            "##1234",
            "X2345",
        ] {
            assert!(looks_masked(v), "{v}");
        }
        for v in ["TN0120074787142", "AB12345", "123", "", "MPSPD8111Y"] {
            assert!(!looks_masked(v), "{v}");
        }
        let stored = Some("811408714072");
        assert_eq!(document_write("XXXXXXXX4072", stored), DocumentWrite::Keep);
        assert_eq!(
            document_write("XXXXXXXX9999", stored),
            DocumentWrite::Refuse
        );
        assert_eq!(document_write("XXXX", stored), DocumentWrite::Refuse);
        assert_eq!(document_write("XXXXXXXX4072", None), DocumentWrite::Refuse);
        assert_eq!(document_write("811408719999", stored), DocumentWrite::Write);
    }

    #[test]
    fn pii_fields_are_the_six_documents() {
        assert_eq!(
            PII_FIELDS,
            [
                "dl_no",
                "badge_no",
                "aadhar_card",
                "pan_card",
                "gas_bill",
                "bank_passbook"
            ]
        );
    }

    proptest! {
        #[test]
        fn every_nonempty_value_masks_as_the_validator_expects(value in any::<String>()) {
            prop_assume!(!value.is_empty());
            let masked = mask_document(&value);
            prop_assert!(validator_accepts(&masked, &value), "{:?} -> {:?}", value, masked);
        }

        #[test]
        fn document_like_values_keep_their_length(value in "[A-Z0-9 -]{5,20}") {
            let masked = mask_document(&value);
            let significant = value.chars().filter(|c| !matches!(c, ' ' | '-')).count();
            if significant > 4 {
                prop_assert_eq!(masked.chars().count(), value.chars().count());
            } else {
                prop_assert_eq!(masked.as_str(), "XXXX");
            }
            prop_assert!(validator_accepts(&masked, &value));
        }
    }
}
