//! Cell values → lead values: phone numbers that spreadsheets turned into
//! floats, dates in the Indian and ISO spellings people type, Excel serial
//! numbers, instants with or without an offset.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

use super::mapping::Zone;
use crate::domain::IST;

/// One cell as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing (absent, empty text, an error cell).
    Empty,
    /// Text.
    Text(String),
    /// A number cell of a spreadsheet (dates are numbers there too).
    Number(f64),
    /// A boolean cell.
    Bool(bool),
}

impl Cell {
    /// Empty, or text of whitespace only.
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as text, `None` when empty. Integral numbers print without
    /// a fraction (`9876543210`, not `9876543210.0`).
    pub fn text(&self) -> Option<String> {
        match self {
            Cell::Empty => None,
            Cell::Text(s) if s.is_empty() => None,
            Cell::Text(s) => Some(s.clone()),
            Cell::Number(n) => Some(number_text(*n)),
            Cell::Bool(b) => Some(if *b { "TRUE" } else { "FALSE" }.into()),
        }
    }
}

/// A number as a person would write it: integral values without `.0`.
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Undoes what spreadsheets do to phone numbers before the domain parser
/// sees them: `9.876543210E9` (scientific notation, from a float cell saved
/// as text) becomes `9876543210`. `9876543210.0` is left for
/// `PhoneNumber::parse`, which drops one trailing `.0` (DESIGN §3). The
/// `p:` prefix of lead-form exports (`p:+919876543210`) goes, as the
/// original's import dropped it (COMPAT §3.5).
pub fn unfloat_phone(s: &str) -> std::borrow::Cow<'_, str> {
    let t = s.trim();
    if let Some(rest) = t.strip_prefix("p:").or_else(|| t.strip_prefix("P:")) {
        return rest.trim_start().into();
    }
    if t.contains(['e', 'E'])
        && let Ok(n) = t.parse::<f64>()
        && n.fract() == 0.0
        && (1e9..1e13).contains(&n.abs())
    {
        return number_text(n).into();
    }
    s.into()
}

/// Excel's 1900 date system: serial 1 = 1900-01-01, with the phantom
/// 1900-02-29 (serial 60), so serials from 61 on count from 1899-12-30.
fn serial_to_datetime(serial: f64) -> Option<NaiveDateTime> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor();
    let base = if days >= 61.0 {
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 31)?
    };
    let date = base.checked_add_days(chrono::Days::new(days as u64))?;
    // Pulse writes the fraction rounded up to 10 digits (≤ 8.64 µs high):
    // rounding to the millisecond gives the exact value back.
    let ms = ((serial - days) * 86_400_000.0).round() as i64;
    let (date, ms) = if ms >= 86_400_000 {
        (date.succ_opt()?, ms - 86_400_000)
    } else {
        (date, ms)
    };
    let time = NaiveTime::from_num_seconds_from_midnight_opt(
        (ms / 1000) as u32,
        (ms % 1000) as u32 * 1_000_000,
    )?;
    Some(date.and_time(time))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_of(s: &str) -> Option<u32> {
    let l = s.to_ascii_lowercase();
    if l.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| l.starts_with(m))
        .map(|i| i as u32 + 1)
}

/// A day in `yyyy-mm-dd`, `dd/mm/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy`,
/// `dd-Mon-yyyy` (Indian order: day first), two-digit years as 20yy.
fn parse_day(s: &str) -> Option<NaiveDate> {
    // No allocation: this runs for every date cell of a million-row file.
    let mut it = s.split(['-', '/', '.', ' ']).filter(|p| !p.is_empty());
    let parts = [it.next()?, it.next()?, it.next()?];
    if it.next().is_some() {
        return None;
    }
    let num = |p: &str| p.parse::<i32>().ok();
    if parts[0].len() == 4 {
        let (y, m, d) = (num(parts[0])?, num(parts[1])?, num(parts[2])?);
        return NaiveDate::from_ymd_opt(y, m as u32, d as u32);
    }
    let d = num(parts[0])?;
    let m = num(parts[1])
        .map(|m| m as u32)
        .or_else(|| month_of(parts[1]))?;
    let mut y = num(parts[2])?;
    if parts[2].len() == 2 {
        y += 2000;
    } else if parts[2].len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d as u32)
}

/// `HH:MM`, `HH:MM:SS`, `HH:MM:SS.fff`, optionally with AM/PM.
fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    let (s, pm) = match s.to_ascii_lowercase() {
        l if l.ends_with("pm") => (s[..s.len() - 2].trim(), Some(true)),
        l if l.ends_with("am") => (s[..s.len() - 2].trim(), Some(false)),
        _ => (s, None),
    };
    let mut t = fast_time(s).or_else(|| {
        ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"]
            .iter()
            .find_map(|f| NaiveTime::parse_from_str(s, f).ok())
    })?;
    if let Some(pm) = pm {
        use chrono::Timelike;
        let h = t.hour() % 12 + if pm { 12 } else { 0 };
        t = t.with_hour(h)?;
    }
    Some(t)
}

/// `HH:MM:SS` or `HH:MM` (what Pulse's CSV writes), without chrono's
/// format parser.
fn fast_time(s: &str) -> Option<NaiveTime> {
    let b = s.as_bytes();
    let two = |i: usize| -> Option<u32> {
        let (x, y) = (*b.get(i)?, *b.get(i + 1)?);
        (x.is_ascii_digit() && y.is_ascii_digit())
            .then(|| u32::from(x - b'0') * 10 + u32::from(y - b'0'))
    };
    match b.len() {
        8 if b[2] == b':' && b[5] == b':' => NaiveTime::from_hms_opt(two(0)?, two(3)?, two(6)?),
        5 if b[2] == b':' => NaiveTime::from_hms_opt(two(0)?, two(3)?, 0),
        _ => None,
    }
}

/// A date from a cell: a date text, a date-time text (its day), an ISO
/// instant (its day), or an Excel serial.
pub fn parse_date(cell: &Cell) -> Result<Option<NaiveDate>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Number(n) => serial_to_datetime(*n)
            .map(|d| Some(d.date()))
            .ok_or_else(|| format!("{n} is not a date")),
        Cell::Bool(_) => Err("expected a date, got a boolean".into()),
        Cell::Text(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            let day = t.split(['T', ' ']).next().unwrap_or(t);
            if let Some(d) = parse_day(t).or_else(|| parse_day(day)) {
                return Ok(Some(d));
            }
            if let Ok(n) = t.parse::<f64>() {
                return parse_date(&Cell::Number(n));
            }
            Err(format!(
                "{t:?} is not a date (expected dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd)"
            ))
        }
    }
}

/// An instant from a cell: RFC 3339 with an offset; a naive date-time (or
/// a bare date, at midnight) in `zone`; an Excel serial in `zone`.
pub fn parse_instant(cell: &Cell, zone: Zone) -> Result<Option<DateTime<Utc>>, String> {
    let local = |n: NaiveDateTime| -> Option<DateTime<Utc>> {
        match zone {
            Zone::Utc => Some(Utc.from_utc_datetime(&n)),
            Zone::Ist => IST
                .from_local_datetime(&n)
                .single()
                .map(|t| t.with_timezone(&Utc)),
        }
    };
    match cell {
        Cell::Empty => Ok(None),
        Cell::Number(n) => serial_to_datetime(*n)
            .and_then(local)
            .map(Some)
            .ok_or_else(|| format!("{n} is not a date-time")),
        Cell::Bool(_) => Err("expected a date-time, got a boolean".into()),
        Cell::Text(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            if let Ok(x) = DateTime::parse_from_rfc3339(t) {
                return Ok(Some(x.with_timezone(&Utc)));
            }
            let split = t.find(['T', ' ']);
            let (day, time) = match split {
                Some(i) => (&t[..i], Some(&t[i + 1..])),
                None => (t, None),
            };
            if let Some(d) = parse_day(day) {
                let time = match time {
                    None => Some(NaiveTime::MIN),
                    Some(x) => parse_time(x),
                };
                if let Some(n) = time.map(|tm| d.and_time(tm)).and_then(local) {
                    return Ok(Some(n));
                }
            }
            if let Ok(n) = t.parse::<f64>() {
                return parse_instant(&Cell::Number(n), zone);
            }
            Err(format!("{t:?} is not a date-time"))
        }
    }
}

/// True for a document number as Pulse's exports (or another tool) mask it
/// (`XXXXXXXX4950`, `****1234`, `XXXX`): all mask characters but the last four.
pub fn is_masked(s: &str) -> bool {
    crate::domain::looks_masked(s)
}

/// True for text Pulse's xlsx export cut at Excel's cell limit.
pub fn is_cut(s: &str) -> bool {
    s.ends_with(" more characters]") && s.contains("… [truncated: ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn dates_in_common_spellings() {
        let t = |s: &str| parse_date(&Cell::Text(s.into())).unwrap();
        assert_eq!(t("2024-03-15"), Some(d(2024, 3, 15)));
        assert_eq!(t("15/03/2024"), Some(d(2024, 3, 15)));
        assert_eq!(t("15-03-2024"), Some(d(2024, 3, 15)));
        assert_eq!(t("15.03.2024"), Some(d(2024, 3, 15)));
        assert_eq!(t("5/3/24"), Some(d(2024, 3, 5)));
        assert_eq!(t("15-Mar-2024"), Some(d(2024, 3, 15)));
        assert_eq!(t("15/03/2024 10:30"), Some(d(2024, 3, 15)));
        assert_eq!(t("2024-03-15T10:30:00Z"), Some(d(2024, 3, 15)));
        assert_eq!(t("45366"), Some(d(2024, 3, 15)));
        assert_eq!(t(""), None);
        assert!(parse_date(&Cell::Text("31/02/2024".into())).is_err());
        assert!(parse_date(&Cell::Text("soon".into())).is_err());
        assert_eq!(
            parse_date(&Cell::Number(45366.0)).unwrap(),
            Some(d(2024, 3, 15))
        );
        assert_eq!(parse_date(&Cell::Number(1.0)).unwrap(), Some(d(1900, 1, 1)));
        assert_eq!(
            parse_date(&Cell::Number(61.0)).unwrap(),
            Some(d(1900, 3, 1))
        );
    }

    #[test]
    fn instants() {
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let i = |s: &str, z| parse_instant(&Cell::Text(s.into()), z).unwrap().unwrap();
        assert_eq!(
            i("2024-03-15T06:30:00Z", Zone::Ist),
            utc("2024-03-15T06:30:00Z")
        );
        assert_eq!(
            i("2024-03-15 12:00:00", Zone::Ist),
            utc("2024-03-15T06:30:00Z")
        );
        assert_eq!(
            i("15/03/2024 12:00", Zone::Ist),
            utc("2024-03-15T06:30:00Z")
        );
        assert_eq!(
            i("15/03/2024 12:00 PM", Zone::Ist),
            utc("2024-03-15T06:30:00Z")
        );
        assert_eq!(
            i("2024-03-15 06:30:00", Zone::Utc),
            utc("2024-03-15T06:30:00Z")
        );
        // Pulse's serial for 12:00:00.001 IST, rounded up to 10 digits.
        let n = parse_instant(&Cell::Number(45366.5000000116), Zone::Ist)
            .unwrap()
            .unwrap();
        assert_eq!(n, utc("2024-03-15T06:30:00.001Z"));
    }

    #[test]
    fn float_phones() {
        assert_eq!(unfloat_phone("9.876543210E9"), "9876543210");
        assert_eq!(unfloat_phone("9.87654321e+09"), "9876543210");
        assert_eq!(unfloat_phone("9876543210.0"), "9876543210.0");
        assert_eq!(Cell::Number(9876543210.0).text().unwrap(), "9876543210");
        assert_eq!(unfloat_phone("abcE"), "abcE");
        assert_eq!(unfloat_phone("p:+919876543210"), "+919876543210");
        assert_eq!(unfloat_phone(" P: 9876543210"), "9876543210");
    }

    #[test]
    fn masked_and_cut() {
        assert!(is_masked("XXXXXXXX4950"));
        assert!(is_masked("XXXX"));
        assert!(is_masked("****1234"));
        assert!(!is_masked("TN0120074787142"));
        assert!(!is_masked("AB12345"));
        assert!(is_cut("abc… [truncated: 7,243 more characters]"));
        assert!(!is_cut("abc"));
    }
}
