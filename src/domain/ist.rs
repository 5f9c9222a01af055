//! India Standard Time helpers.
//!
//! Timestamps are stored in UTC; "today", callback dates and every date shown
//! or exported are IST (DESIGN §3, §4). IST is a fixed +05:30 with no daylight
//! saving, so a `FixedOffset` is exact and no time-zone database is needed.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// Seconds east of UTC for IST (+05:30).
pub const IST_OFFSET_SECS: i32 = 5 * 3600 + 30 * 60;

/// India Standard Time, UTC+05:30.
pub const IST: FixedOffset = match FixedOffset::east_opt(IST_OFFSET_SECS) {
    Some(offset) => offset,
    // unreachable: 19,800 s is well inside the ±24 h that chrono accepts
    None => panic!("IST offset out of range"),
};

/// The IST offset as a value, for APIs that want a getter rather than a const.
pub fn ist() -> FixedOffset {
    IST
}

/// `utc` as IST wall-clock time (same instant).
pub fn to_ist(utc: DateTime<Utc>) -> DateTime<FixedOffset> {
    utc.with_timezone(&IST)
}

/// The IST calendar date at the instant `now`. Between 18:30 and 24:00 UTC
/// this is already the next day, which is why "today" is never `Utc::now()`'s date.
pub fn today_ist(now: DateTime<Utc>) -> NaiveDate {
    to_ist(now).date_naive()
}

/// The IST calendar date right now (reads the system clock).
pub fn ist_today() -> NaiveDate {
    today_ist(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn ist_dates_around_midnight() {
        let cases = [
            ("2025-06-01T00:00:00Z", "2025-06-01"),
            ("2025-06-01T18:29:59Z", "2025-06-01"),
            ("2025-06-01T18:30:00Z", "2025-06-02"),
            ("2025-12-31T20:00:00Z", "2026-01-01"),
            ("2024-02-28T19:00:00Z", "2024-02-29"),
        ];
        for (now, want) in cases {
            assert_eq!(today_ist(utc(now)).to_string(), want, "at {now}");
        }
    }

    #[test]
    fn to_ist_keeps_the_instant() {
        let t = utc("2026-04-08T23:27:47.315Z");
        let local = to_ist(t);
        assert_eq!(local.to_rfc3339(), "2026-04-09T04:57:47.315+05:30");
        assert_eq!(local.with_timezone(&Utc), t);
        assert_eq!(ist().local_minus_utc(), 19_800);
    }
}
