//! Numbers and times for the writers: integer formatting without `format!`
//! (the hot path formats a row number per row and a serial per date cell),
//! Excel date serials and the IST wall clock.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// IST is a fixed +05:30 (no daylight saving), so a constant is exact.
pub(crate) const IST_OFFSET_MS: i64 = 19_800_000;
const MS_PER_DAY: i64 = 86_400_000;
/// Excel serial of 1970-01-01 in the 1900 date system.
const EXCEL_UNIX_EPOCH: i64 = 25_569;
/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const CE_UNIX_EPOCH: i64 = 719_163;
/// 9999-12-31, the last day Excel can show.
const EXCEL_MAX_SERIAL: i64 = 2_958_465;

/// Appends the decimal digits of `n`.
#[inline]
pub(crate) fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `n` zero-padded to `width` digits (more digits if `n` needs them).
#[inline]
pub(crate) fn push_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = tmp.len();
    let mut n = n;
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(tmp.len() - width.min(tmp.len()));
    buf.extend_from_slice(&tmp[start..]);
}

/// Excel's serial day number (1900 system) of `days` since 1970-01-01, or
/// `None` before 1900-01-01 or after 9999-12-31 (Excel cannot show those).
fn excel_serial(days_since_unix: i64) -> Option<u64> {
    let mut serial = days_since_unix + EXCEL_UNIX_EPOCH;
    // Excel counts the non-existent 1900-02-29 (serial 60), so days before
    // 1900-03-01 are one less than the plain count from 1899-12-30.
    if serial < 61 {
        serial -= 1;
    }
    (1..=EXCEL_MAX_SERIAL)
        .contains(&serial)
        .then_some(serial as u64)
}

/// The Excel serial of a calendar day, `None` if Excel cannot show it.
pub(crate) fn date_serial(d: NaiveDate) -> Option<u64> {
    excel_serial(i64::from(d.num_days_from_ce()) - CE_UNIX_EPOCH)
}

/// An instant as the IST wall clock: (days since 1970-01-01, ms of the day).
pub(crate) fn ist_days_ms(t: DateTime<Utc>) -> (i64, u32) {
    let local = t.timestamp_millis() + IST_OFFSET_MS;
    (
        local.div_euclid(MS_PER_DAY),
        local.rem_euclid(MS_PER_DAY) as u32,
    )
}

/// Appends the Excel serial of an instant's IST wall clock (`45366.5208333334`),
/// or returns false if Excel cannot show the day.
///
/// The fraction is `ms / 86_400_000` rounded *up* to 10 digits (≤ 8.64 µs
/// high, never low): readers that round (openpyxl, to the millisecond) get
/// the exact millisecond back, and readers that truncate to the displayed
/// second never show the second before. Trailing zeros are dropped, so
/// midnight is a bare integer and noon is `.5`.
pub(crate) fn push_datetime_serial(buf: &mut Vec<u8>, t: DateTime<Utc>) -> bool {
    let (days, ms) = ist_days_ms(t);
    let Some(serial) = excel_serial(days) else {
        return false;
    };
    push_u64(buf, serial);
    if ms != 0 {
        const SCALE: u64 = 10_000_000_000;
        let day = MS_PER_DAY as u64;
        let mut frac = (u64::from(ms) * SCALE).div_ceil(day);
        // ms < one day, so frac < SCALE: always exactly 10 digits once padded.
        let mut digits = 10;
        while frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        buf.push(b'.');
        push_padded(buf, frac, digits);
    }
    true
}

/// Appends `YYYY-MM-DD`.
pub(crate) fn push_iso_date(buf: &mut Vec<u8>, d: NaiveDate) {
    let y = d.year();
    if y < 0 {
        buf.push(b'-');
    }
    push_padded(buf, u64::from(y.unsigned_abs()), 4);
    buf.push(b'-');
    push_padded(buf, u64::from(d.month()), 2);
    buf.push(b'-');
    push_padded(buf, u64::from(d.day()), 2);
}

/// Appends the IST wall clock of an instant as `YYYY-MM-DD HH:MM:SS`
/// (milliseconds dropped: the CSV shows what the xlsx format shows).
pub(crate) fn push_ist_datetime(buf: &mut Vec<u8>, t: DateTime<Utc>) {
    let (days, ms) = ist_days_ms(t);
    // Every i64 day count from a valid DateTime<Utc> (+5:30) is a valid date
    // except at chrono's very edge; fall back to the UTC day there.
    let d = i32::try_from(days + CE_UNIX_EPOCH)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(t.date_naive());
    push_iso_date(buf, d);
    let s = ms / 1000;
    buf.push(b' ');
    push_padded(buf, u64::from(s / 3600), 2);
    buf.push(b':');
    push_padded(buf, u64::from(s / 60 % 60), 2);
    buf.push(b':');
    push_padded(buf, u64::from(s % 60), 2);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut b = Vec::new();
        f(&mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn integers() {
        for n in [0u64, 7, 10, 99, 1_048_576, u64::MAX] {
            assert_eq!(s(|b| push_u64(b, n)), n.to_string());
        }
        assert_eq!(s(|b| push_padded(b, 7, 4)), "0007");
        assert_eq!(s(|b| push_padded(b, 12345, 4)), "12345");
        assert_eq!(s(|b| push_padded(b, 0, 2)), "00");
    }

    #[test]
    fn date_serials_match_excel() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(date_serial(d(1900, 1, 1)), Some(1));
        assert_eq!(date_serial(d(1900, 2, 28)), Some(59));
        assert_eq!(date_serial(d(1900, 3, 1)), Some(61));
        assert_eq!(date_serial(d(1970, 1, 1)), Some(25_569));
        assert_eq!(date_serial(d(2024, 3, 15)), Some(45_366));
        assert_eq!(date_serial(d(9999, 12, 31)), Some(2_958_465));
        assert_eq!(date_serial(d(1899, 12, 31)), None);
    }

    #[test]
    fn datetime_serials_are_ist_and_never_low() {
        let t = |y, mo, d, h, mi, se, ms| {
            Utc.with_ymd_and_hms(y, mo, d, h, mi, se).unwrap() + chrono::Duration::milliseconds(ms)
        };
        let ser = |x| s(|b| assert!(push_datetime_serial(b, x)));
        // 2024-03-15 06:30 UTC = 12:00 IST
        assert_eq!(ser(t(2024, 3, 15, 6, 30, 0, 0)), "45366.5");
        // 18:30 UTC is midnight IST of the next day
        assert_eq!(ser(t(2024, 3, 14, 18, 30, 0, 0)), "45366");
        for ms in [1, 999, 45_045_000, 86_399_999] {
            let v = ser(t(2024, 3, 14, 18, 30, 0, ms));
            let f: f64 = v.parse().unwrap();
            let back = (f - 45366.0) * 86_400_000.0;
            assert!(back >= ms as f64 - 1e-3, "{v}: {back} < {ms}");
            assert_eq!(back.round() as i64, ms, "{v}");
        }
    }

    #[test]
    fn iso_text() {
        let t = Utc.with_ymd_and_hms(2024, 12, 31, 20, 15, 9).unwrap();
        assert_eq!(s(|b| push_ist_datetime(b, t)), "2025-01-01 01:45:09");
        let d = NaiveDate::from_ymd_opt(987, 6, 5).unwrap();
        assert_eq!(s(|b| push_iso_date(b, d)), "0987-06-05");
    }
}
