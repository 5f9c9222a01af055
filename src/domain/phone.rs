//! Indian mobile numbers, normalised once at the edge (DESIGN §3).
//!
//! Leads arrive from spreadsheets typed by hand, so the same number shows up
//! as `+91 98765-43210`, `919876543210`, `09876543210` or, after Excel has
//! turned the column into floats, `9876543210.0`. Uniqueness of
//! `phone_number` only means something if all of these become one value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Inputs longer than this are cut in error messages: a whole pasted
/// paragraph in a phone column must not turn into a megabyte-long error.
const MAX_ECHO_CHARS: usize = 64;

/// A normalised Indian mobile number: exactly 10 ASCII digits, the first 6–9.
///
/// The only way to get one is [`PhoneNumber::parse`] (or deserializing, which
/// calls it), so a value of this type is always valid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhoneNumber(String);

/// The input was not a 10-digit Indian mobile number, even after
/// normalisation. The message quotes the (possibly shortened) input because
/// an importer needs to see which cell was wrong; do not log it (it is PII).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid phone number {value:?}: expected a 10-digit Indian mobile number starting with 6-9"
)]
pub struct PhoneError {
    /// The rejected input, shortened to 64 characters plus `…` if longer.
    pub value: String,
}

impl PhoneError {
    fn new(input: &str) -> Self {
        let mut value: String = input.chars().take(MAX_ECHO_CHARS).collect();
        if input.chars().nth(MAX_ECHO_CHARS).is_some() {
            value.push('…');
        }
        Self { value }
    }
}

impl PhoneNumber {
    /// Normalises and validates `input`.
    ///
    /// Steps: trim; drop whitespace, `-`, `(` and `)`; drop one trailing `.0`
    /// (Excel floats — no other dots are accepted, so `98765.43210` is an
    /// error rather than silently glued together); then drop a leading `+91`,
    /// `91` or `0` only when exactly 10 digits remain, so a real number that
    /// happens to start with 91 (`9123456789`) is kept as is.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let mut s: String = input
            .trim()
            .chars()
            .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '(' | ')')))
            .collect();
        if s.ends_with(".0") {
            s.truncate(s.len() - 2);
        }
        let digits = if let Some(rest) = s.strip_prefix("+91") {
            rest
        } else if s.len() == 12 && s.starts_with("91") {
            &s[2..]
        } else if s.len() == 11 && s.starts_with('0') {
            &s[1..]
        } else {
            &s
        };
        let bytes = digits.as_bytes();
        let valid = bytes.len() == 10
            && bytes.iter().all(u8::is_ascii_digit)
            && matches!(bytes[0], b'6'..=b'9');
        if valid {
            Ok(Self(digits.to_owned()))
        } else {
            Err(PhoneError::new(input))
        }
    }

    /// The 10 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 10 digits, without copying.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// `Some(phone)` when a search term is a phone number in any accepted
/// spelling, so a search box can match it exactly against the normalised
/// column instead of doing a substring search on names.
pub fn looks_like_phone(term: &str) -> Option<PhoneNumber> {
    // Cheap pre-check: a name never has 10 digits, so most terms stop here.
    if term.bytes().filter(u8::is_ascii_digit).count() < 10 {
        return None;
    }
    PhoneNumber::parse(term).ok()
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for PhoneNumber {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for PhoneNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepted_spellings_normalise_to_ten_digits() {
        let cases = [
            ("9876543210", "9876543210"),
            ("+91 98765-43210", "9876543210"),
            ("919876543210", "9876543210"),
            ("9876543210.0", "9876543210"),
            ("09876543210", "9876543210"),
            ("98765 43210", "9876543210"),
            ("  +91-98765-43210  ", "9876543210"),
            ("(+91) 98765 43210", "9876543210"),
            ("+919876543210", "9876543210"),
            ("919876543210.0", "9876543210"),
            ("6000000000", "6000000000"),
            // starts with 91 but is already 10 digits: must not be stripped
            ("9123456789", "9123456789"),
            ("98765\u{a0}43210", "9876543210"),
        ];
        for (input, want) in cases {
            let got = PhoneNumber::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(got.as_str(), want, "input {input:?}");
        }
    }

    #[test]
    fn rejected_inputs() {
        let cases = [
            "",
            "12345",
            "5876543210",  // starts with 5
            "0876543210",  // starts with 0 and is only 10 digits
            "98765432100", // 11 digits, no leading 0
            "98765.43210", // a dot that is not a trailing .0
            "9876543210.00",
            "+1 9876543210",
            "+9198765432",
            "९८७६५४३२१०", // Devanagari digits are not ASCII digits
            "98765432a0",
            "0091 9876543210",
            "+91+919876543210",
        ];
        for input in cases {
            assert!(
                PhoneNumber::parse(input).is_err(),
                "{input:?} should be rejected"
            );
        }
    }

    #[test]
    fn error_names_the_value() {
        let err = PhoneNumber::parse("12345").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid phone number "12345": expected a 10-digit Indian mobile number starting with 6-9"#
        );
        let long = "1".repeat(1000);
        let err = PhoneNumber::parse(&long).unwrap_err();
        assert_eq!(err.value.chars().count(), MAX_ECHO_CHARS + 1);
        assert!(err.value.ends_with('…'));
    }

    #[test]
    fn serde_is_a_plain_string_and_validates() {
        let p = PhoneNumber::parse("+91 98765 43210").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), r#""9876543210""#);
        let back: PhoneNumber = serde_json::from_str(r#""09876543210""#).unwrap();
        assert_eq!(back, p);
        assert!(serde_json::from_str::<PhoneNumber>(r#""12345""#).is_err());
        assert_eq!(p.to_string(), "9876543210");
    }

    #[test]
    fn looks_like_phone_only_for_phone_terms() {
        assert_eq!(
            looks_like_phone("98765 43210").map(PhoneNumber::into_string),
            Some("9876543210".to_owned())
        );
        for term in ["Murugan", "98765", "", "TN0120074787142", "1234567890"] {
            assert_eq!(looks_like_phone(term), None, "{term:?}");
        }
    }

    fn decorated() -> impl Strategy<Value = (String, String)> {
        (
            "[6-9][0-9]{9}",
            prop::sample::select(vec!["", "+91", "+91 ", "+91-", "91", "0", "(+91) "]),
            prop::collection::vec(prop::sample::select(vec!["", "", "", " ", "-"]), 10),
            any::<bool>(),
            prop::sample::select(vec!["", " ", "  ", "\t"]),
        )
            .prop_map(|(digits, prefix, seps, excel, pad)| {
                let mut s = format!("{pad}{prefix}");
                for (d, sep) in digits.chars().zip(&seps) {
                    s.push(d);
                    s.push_str(sep);
                }
                // a separator after the last digit would sit before ".0",
                // which Excel never writes; drop it in that case only
                if excel {
                    s = s.trim_end_matches([' ', '-']).to_owned();
                    s.push_str(".0");
                }
                s.push_str(pad);
                (digits, s)
            })
    }

    proptest! {
        #[test]
        fn any_decorated_mobile_round_trips((digits, input) in decorated()) {
            let p = PhoneNumber::parse(&input).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(p.as_str(), digits.as_str());
            // normalising twice changes nothing
            prop_assert_eq!(PhoneNumber::parse(p.as_str()).unwrap(), p);
        }

        #[test]
        fn arbitrary_input_never_panics_and_output_is_valid(input in any::<String>()) {
            if let Ok(p) = PhoneNumber::parse(&input) {
                let b = p.as_str().as_bytes();
                prop_assert_eq!(b.len(), 10);
                prop_assert!(b.iter().all(u8::is_ascii_digit));
                prop_assert!(matches!(b[0], b'6'..=b'9'));
            }
        }

        #[test]
        fn phone_like_noise_never_panics(input in "[0-9+() .\\-]{0,20}") {
            if let Ok(p) = PhoneNumber::parse(&input) {
                prop_assert_eq!(p.as_str().len(), 10);
                prop_assert!(matches!(p.as_str().as_bytes()[0], b'6'..=b'9'));
            }
        }
    }
}
