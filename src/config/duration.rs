//! Durations as settings: a number of seconds or humane text (`30m`, `24h`, `7d`).

use std::time::Duration;

use serde::Deserialize;

/// A duration as a number of seconds or humane text (`30m`, `24h`, `7d`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum Humane {
    Seconds(u64),
    Text(String),
}

impl Humane {
    pub(super) fn resolve(&self, var: &str) -> Result<Duration, String> {
        match self {
            Humane::Seconds(s) => Ok(Duration::from_secs(*s)),
            Humane::Text(t) => parse_duration(t).map_err(|e| format!("{var}={t:?}: {e}")),
        }
    }
}

/// Parses `90`, `90s`, `30m`, `24h`, `7d` (one number and an optional unit).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| "expected a duration such as 90, 90s, 30m, 24h or 7d".to_string())?;
    let unit_secs = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        other => return Err(format!("unknown unit {other:?}; use s, m, h or d")),
    };
    n.checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| "duration too large".to_string())
}

/// Prints a duration the way [`parse_duration`] reads it.
pub(super) fn humane(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, n) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if s >= n && s.is_multiple_of(n) {
            return format!("{}{unit}", s / n);
        }
    }
    format!("{s}s")
}
