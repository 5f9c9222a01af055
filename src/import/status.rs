//! Statuses as sheets spell them (issue 20, COMPAT §3.3): Pulse's own names
//! first (case, spacing and punctuation ignored: `domain::match_status`);
//! then the original's stage codes (`S1-a Not interested`) and its
//! free-text rules, in its order; anything else becomes `New` — never a
//! rejected row. Every reading that was not an exact match comes with a
//! note for the report.
//!
//! Not reproduced: the original matched its rules before Pulse's names, so
//! real statuses such as RNR, Churn, Duplicate License, Verification
//! Rejected, DL - Amount, Schedule Pending, CT WIP or Terminated came out
//! as New, Duplicate or Not Interested; here they are exact matches. A
//! bare "call back" (no period) is read as Call back 1D — a callback is
//! due — where the original wrote Interested.

use crate::domain::{Stage, Status, match_status};

/// A status cell as read: the status, and why it was read so when that
/// was not an exact match of a Pulse status name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// The status the lead gets.
    pub status: Status,
    /// `'call back later' read as Call back 1D (…)`, or `None` when exact.
    pub note: Option<String>,
}

/// The original's free-text rules, first hit wins: (any of these
/// substrings of the lower-cased text, the status). Rules ⑨ and ⑩ (call
/// backs) are [`callback`]; the rules that need two substrings are
/// [`PAIRS`].
const RULES: &[(&[&str], &str)] = &[
    (
        &["not interest", "reject", "no interest", "uninterested"],
        "Not Interested",
    ),
    (
        &["not reach", "unreachable", "no response", "not responding"],
        "Not Reachable",
    ),
    (&["wrong", "incorrect"], "Wrong Number"),
    (&["duplicate", "dup"], "Duplicate"),
    (&["junk", "invalid", "spam"], "Junk"),
    (
        &["highly interested", "very interested"],
        "Highly Interested",
    ),
    (
        &["interested, no dl", "interest no dl"],
        "Interested, No DL",
    ),
    (
        &["interested, no badge", "interest no badge", "no badge"],
        "Interested, No Badge",
    ),
];

/// After the call backs: (both a substring of the first list and — when
/// the second is not empty — one of the second, the status).
const PAIRS: &[(&[&str], &[&str], &str)] = &[
    (&["interest", "follow"], &[], "Interested"),
    (
        &["doc"],
        &["pending", "upload", "collection"],
        "Docs Upload Pending",
    ),
    (&["verif"], &["pending"], "Verification Pending"),
    (&["verified"], &[], "Verified"),
    (&["training wip", "train wip"], &[], "Training WIP"),
    (&["training complete"], &[], "Training Completed"),
    (&["approved"], &[], "Approved"),
    (&["ct pending"], &[], "CT Pending"),
    (&["done"], &[], "DONE!"),
    (
        &[
            "long distance",
            "out of town",
            "outside",
            "health",
            "medical",
        ],
        &[],
        "Interested",
    ),
];

fn known(name: &str) -> Status {
    Status::parse(name).expect("a Pulse status name")
}

/// Rules ⑨–⑩: a call back, its period from the text (none: the next day).
fn callback(t: &str) -> Option<&'static str> {
    let squeezed: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    if !["callback", "calllater", "callafter"]
        .iter()
        .any(|k| squeezed.contains(k))
    {
        return None;
    }
    let has = |keys: &[&str]| keys.iter().any(|k| squeezed.contains(k));
    Some(if has(&["2w", "2week", "twoweek", "fortnight"]) {
        "Call back 2W"
    } else if has(&["1m", "month"]) {
        "Call back 1M"
    } else if has(&["1w", "week"]) {
        "Call back 1W"
    } else {
        "Call back 1D"
    })
}

/// The original's rules over free text (lower-cased, spaces collapsed).
fn free_text(t: &str) -> Option<&'static str> {
    let squeezed: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    if squeezed.contains("notinterested") {
        return Some("Not Interested");
    }
    for (keys, status) in RULES {
        if keys.iter().any(|k| t.contains(k)) {
            return Some(status);
        }
    }
    if let Some(s) = callback(t) {
        return Some(s);
    }
    PAIRS.iter().find_map(|(any, with, status)| {
        (any.iter().any(|k| t.contains(k))
            && (with.is_empty() || with.iter().any(|k| t.contains(k))))
        .then_some(*status)
    })
}

/// A leading stage code `S<1-4>-<letter>` (`S1-a Not interested`): its
/// stage, the code as written and the text after it.
fn stage_code(t: &str) -> Option<(Stage, &str, &str)> {
    let b = t.as_bytes();
    if b.len() < 4 || !b[0].eq_ignore_ascii_case(&b'S') || !(b'1'..=b'4').contains(&b[1]) {
        return None;
    }
    let rest = t[2..].trim_start();
    let rest = rest.strip_prefix('-')?.trim_start();
    let letter = rest.chars().next().filter(char::is_ascii_alphabetic)?;
    let after = &rest[letter.len_utf8()..];
    if after.chars().next().is_some_and(char::is_alphanumeric) {
        return None; // `S1-abc`: a word, not a code
    }
    let stage = t[..2].parse().ok()?;
    let code_len = t.len() - after.len();
    Some((stage, t[..code_len].trim(), after.trim()))
}

/// Reads one status cell (`raw`, not blank). `from` names where it came
/// from in notes when not the status column (`"the stage column"`).
pub fn read_status(raw: &str, from: Option<&str>) -> Reading {
    let shown = raw.trim();
    let whence = from.map(|f| format!(" (from {f})")).unwrap_or_default();
    if let Some((stage, name)) = match_status(shown) {
        return Reading {
            status: Status::parse(name).unwrap_or(Status::first_of(stage)),
            note: from.map(|_| format!("'{shown}'{whence} read as {name}")),
        };
    }
    let lower: String = shown
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let (code, text) = match stage_code(&lower) {
        Some((stage, code, text)) => (Some((stage, code)), text),
        None => (None, lower.as_str()),
    };
    let exact = match_status(text).map(|(_, n)| n);
    let mapped = exact.or_else(|| free_text(text));
    let (status, how) = match (mapped, code) {
        (Some(name), None) => (known(name), String::new()),
        (Some(name), Some((stage, code))) => {
            let s = known(name);
            let kept = if s.stage() == stage {
                String::new()
            } else {
                format!(
                    "; the stage follows the status ({}), not the code's {}",
                    s.stage().code(),
                    stage.code()
                )
            };
            (s, format!(" (stage code {}{kept})", code.to_uppercase()))
        }
        (None, Some((stage, code))) => (
            Status::first_of(stage),
            format!(
                " (stage code {}: the text names no status, so the first status of {})",
                code.to_uppercase(),
                stage.code()
            ),
        ),
        (None, None) => (
            Status::first_of(Stage::S1),
            " (unknown status: please check the lead)".to_owned(),
        ),
    };
    Reading {
        status,
        note: Some(format!("'{shown}'{whence} read as {}{how}", status.name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings() {
        let cases: &[(&str, &str, bool)] = &[
            // Pulse's names, exactly (case and punctuation aside): no note.
            ("New", "New", false),
            ("call back 1w", "Call back 1W", false),
            ("Interested No DL", "Interested, No DL", false),
            ("DONE", "DONE!", false),
            // Real statuses the original mis-mapped.
            ("RNR", "RNR", false),
            ("Churn", "Churn", false),
            ("Duplicate License", "Duplicate License", false),
            ("Verification Rejected", "Verification Rejected", false),
            ("Training Rejected", "Training Rejected", false),
            ("DL - Amount", "DL - Amount", false),
            ("CT WIP", "CT WIP", false),
            ("Terminated", "Terminated", false),
            // Coded statuses.
            ("S1-a Not interested", "Not Interested", true),
            ("s2-b docs pending", "Docs Upload Pending", true),
            ("S2-c Whatever this is", "Docs Upload Pending", true),
            ("S3 - a Training WIP", "Training WIP", true),
            ("S1-b", "New", true),
            // Free text, the original's rules in its order.
            ("not interested now", "Not Interested", true),
            ("NotInterested", "Not Interested", false),
            ("rejected by family", "Not Interested", true),
            ("switched off / not reachable", "Not Reachable", true),
            ("no response x3", "Not Reachable", true),
            ("wrong no", "Wrong Number", true),
            ("dup entry", "Duplicate", true),
            ("spam", "Junk", true),
            ("very interested!!", "Highly Interested", true),
            ("interest no dl", "Interested, No DL", true),
            ("has licence, no badge", "Interested, No Badge", true),
            ("call back later", "Call back 1D", true),
            ("callback next week", "Call back 1W", true),
            ("call back after 2 weeks", "Call back 2W", true),
            ("call back next month", "Call back 1M", true),
            ("follow up", "Interested", true),
            ("documents pending", "Docs Upload Pending", true),
            ("verification is pending", "Verification Pending", true),
            ("docs verified", "Verified", true),
            ("training complete", "Training Completed", true),
            ("approved by ops", "Approved", true),
            ("ct pending", "CT Pending", false),
            ("all done", "DONE!", true),
            ("out of town till May", "Interested", true),
            // Unknown: New, with a note.
            ("Onboarding Complete", "New", true),
            ("???", "New", true),
        ];
        for (raw, want, noted) in cases {
            let r = read_status(raw, None);
            assert_eq!(r.status.name(), *want, "{raw}: {r:?}");
            assert_eq!(r.note.is_some(), *noted, "{raw}: {r:?}");
            if let Some(n) = &r.note {
                assert!(n.starts_with(&format!("'{raw}' read as {want}")), "{n}");
            }
        }
    }

    #[test]
    fn notes_explain() {
        let r = read_status("call back later", None);
        assert_eq!(
            r.note.as_deref(),
            Some("'call back later' read as Call back 1D")
        );
        let r = read_status("S2-a Not interested", None);
        assert_eq!(
            r.note.as_deref(),
            Some(
                "'S2-a Not interested' read as Not Interested (stage code S2-A; the stage follows the status (S1), not the code's S2)"
            )
        );
        let r = read_status("Maybe later", None);
        assert_eq!(
            r.note.as_deref(),
            Some("'Maybe later' read as New (unknown status: please check the lead)")
        );
        let r = read_status("Interested", Some("the stage column"));
        assert_eq!(
            r.note.as_deref(),
            Some("'Interested' (from the stage column) read as Interested")
        );
    }
}
