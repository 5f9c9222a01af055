//! The dashboard (admins, ops; DESIGN §8): the funnel S1 → S4 with the
//! conversion between stages and the status breakdown (the status summary:
//! SQLite's counters, kept by triggers in the writing transaction, answer
//! it; PostgreSQL counts), the leads imported per source over time (one
//! sources count per period, on the import-date index) and telecaller
//! performance over a date range (`calls::figures`, the event rows).
//!
//! A whole dashboard is cached per date range for at most [`CACHE_FOR`]
//! and says when it was computed, so the page costs a cache read on all but
//! the first request of a minute whatever the number of leads. Each table
//! is also a CSV written by the export's CSV writer (its formula guard).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};

use super::calls::{FigureReport, MAX_FIGURE_DAYS, figures};
use super::desk::StatusSummary;
use super::filter::{given, parse_date};
use super::{ServiceError, ServiceResult, Services, require};
use crate::domain::{Actor, Capability, Stage, ist_today};
use crate::export::csv::CsvWriter;
use crate::export::{Cell, Column, ColumnKind, RowWriter};
use crate::store::filter::LeadFilter;

/// How long a computed dashboard is served before it is computed again.
pub const CACHE_FOR: Duration = Duration::from_secs(60);

/// The days shown unless asked: the last 30 (IST), today included.
pub const DEFAULT_DAYS: u64 = 30;

/// Sources drawn one by one; the rest are summed as "Other sources".
pub const TOP_SOURCES: usize = 6;

/// One stage of the funnel.
#[derive(Debug, Clone)]
pub struct FunnelStep {
    /// The stage.
    pub stage: Stage,
    /// Leads now in it.
    pub now_in: i64,
    /// Leads that reached it: now in it or in a later stage.
    pub reached: i64,
    /// Percent of the previous stage's `reached` that reached this one
    /// (`None` for S1, or when the previous stage has none).
    pub conversion: Option<f64>,
}

/// Leads imported in one period, per source.
#[derive(Debug, Clone)]
pub struct ImportPeriod {
    /// Its first day.
    pub start: NaiveDate,
    /// Its last day.
    pub end: NaiveDate,
    /// Source → leads imported in it (top sources and "Other sources").
    pub by_source: BTreeMap<String, i64>,
}

/// Leads imported over the range, per source and period.
#[derive(Debug, Clone)]
pub struct Imports {
    /// `day`, `week` or `month`.
    pub period: &'static str,
    /// Every period of the range, oldest first.
    pub periods: Vec<ImportPeriod>,
    /// The sources shown, most leads first (then "Other sources").
    pub sources: Vec<(String, i64)>,
}

/// Everything the dashboard shows, as computed at `computed_at`.
#[derive(Debug)]
pub struct Dashboard {
    /// When these figures were read.
    pub computed_at: DateTime<Utc>,
    /// First day of the range (IST).
    pub start: NaiveDate,
    /// Last day of the range (IST), included.
    pub end: NaiveDate,
    /// Every lead by stage and status (not limited to the range).
    pub summary: StatusSummary,
    /// The funnel from the summary.
    pub funnel: Vec<FunnelStep>,
    /// Imports per source over the range.
    pub imports: Imports,
    /// Calls, connected, conversions per person over the range.
    pub figures: FigureReport,
}

/// A range of IST days, both included.
type Range = (NaiveDate, NaiveDate);

/// Dashboards computed lately, by range, with when.
#[derive(Default)]
pub struct DashboardCache {
    entries: Mutex<HashMap<Range, (Instant, Arc<Dashboard>)>>,
}

impl DashboardCache {
    fn get(&self, key: Range) -> Option<Arc<Dashboard>> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&key)
            .filter(|(at, _)| at.elapsed() < CACHE_FOR)
            .map(|(_, d)| d.clone())
    }

    fn put(&self, key: Range, d: Arc<Dashboard>) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, (at, _)| at.elapsed() < CACHE_FOR);
        // a handful of ranges in use at once; never an unbounded map
        if map.len() >= 32 {
            map.clear();
        }
        map.insert(key, (Instant::now(), d));
    }
}

/// The funnel of a status summary: reached = now in the stage or later.
pub fn funnel(summary: &StatusSummary) -> Vec<FunnelStep> {
    let stages = Stage::all();
    let mut out: Vec<FunnelStep> = Vec::new();
    for stage in stages {
        let now_in = summary.stage_totals.get(stage.code()).copied().unwrap_or(0);
        let reached: i64 = Stage::all()
            .into_iter()
            .filter(|s| *s >= stage)
            .map(|s| summary.stage_totals.get(s.code()).copied().unwrap_or(0))
            .sum();
        let conversion = out
            .last()
            .filter(|prev| prev.reached > 0)
            .map(|prev| reached as f64 * 100.0 / prev.reached as f64);
        out.push(FunnelStep {
            stage,
            now_in,
            reached,
            conversion,
        });
    }
    out
}

/// The periods of `[start, end]`: days up to 31 days, weeks (from Monday)
/// up to 26 weeks, else months; each clipped to the range.
pub fn periods(start: NaiveDate, end: NaiveDate) -> (&'static str, Vec<(NaiveDate, NaiveDate)>) {
    let days = (end - start).num_days() + 1;
    let (name, first_of): (&'static str, fn(NaiveDate) -> NaiveDate) = if days <= 31 {
        ("day", |d| d)
    } else if days <= 26 * 7 {
        ("week", |d| {
            d - Days::new(u64::from(d.weekday().num_days_from_monday()))
        })
    } else {
        ("month", |d| d.with_day(1).unwrap_or(d))
    };
    let next_of = |d: NaiveDate| -> NaiveDate {
        match name {
            "day" => d + Days::new(1),
            "week" => d + Days::new(7),
            _ => d
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(NaiveDate::MAX),
        }
    };
    let mut out = Vec::new();
    let mut at = first_of(start);
    while at <= end {
        let next = next_of(at);
        let last = next.pred_opt().unwrap_or(next).min(end);
        out.push((at.max(start), last));
        at = next;
    }
    (name, out)
}

/// The range asked for (IST days): default the last [`DEFAULT_DAYS`].
pub fn range(
    start: &Option<String>,
    end: &Option<String>,
) -> ServiceResult<(NaiveDate, NaiveDate)> {
    let end = match given(end) {
        Some(d) => parse_date("end_date", d)?,
        None => ist_today(),
    };
    let start = match given(start) {
        Some(d) => parse_date("start_date", d)?,
        None => end - Days::new(DEFAULT_DAYS - 1),
    };
    if start > end {
        return Err(ServiceError::Invalid(
            "start_date: must not be after end_date".into(),
        ));
    }
    if (end - start).num_days() as u64 >= MAX_FIGURE_DAYS {
        return Err(ServiceError::Invalid(format!(
            "start_date: the range may span at most {MAX_FIGURE_DAYS} days"
        )));
    }
    Ok((start, end))
}

/// The dashboard of `[start, end]`, at most [`CACHE_FOR`] old.
pub async fn dashboard(
    svc: &Services,
    actor: &Actor,
    start: &Option<String>,
    end: &Option<String>,
) -> ServiceResult<Arc<Dashboard>> {
    require(actor, Capability::Dashboard)?;
    let key = range(start, end)?;
    if let Some(d) = svc.dashboard.get(key) {
        return Ok(d);
    }
    let d = Arc::new(compute(svc, actor, key.0, key.1).await?);
    svc.dashboard.put(key, d.clone());
    Ok(d)
}

async fn compute(
    svc: &Services,
    actor: &Actor,
    start: NaiveDate,
    end: NaiveDate,
) -> ServiceResult<Dashboard> {
    let computed_at = Utc::now();
    let counts = svc.store.status_summary(&LeadFilter::default()).await?;
    let summary = StatusSummary::from_counts(&counts);
    let imports = imports(svc, start, end).await?;
    let figures = figures(
        svc,
        actor,
        None,
        Some(start.to_string()),
        Some(end.to_string()),
    )
    .await?;
    Ok(Dashboard {
        computed_at,
        start,
        end,
        funnel: funnel(&summary),
        summary,
        imports,
        figures,
    })
}

/// The label of the sources beyond the top ones.
pub const OTHER: &str = "Other sources";

async fn imports(svc: &Services, start: NaiveDate, end: NaiveDate) -> ServiceResult<Imports> {
    let (period, spans) = periods(start, end);
    let mut raw = Vec::with_capacity(spans.len());
    let mut totals: HashMap<String, i64> = HashMap::new();
    for (from, to) in spans {
        let filter = LeadFilter {
            start_date: Some(from),
            end_date: Some(to),
            ..Default::default()
        };
        let counts = svc.store.sources(&filter).await?;
        for (s, n) in &counts {
            *totals.entry(s.clone()).or_default() += n;
        }
        raw.push((from, to, counts));
    }
    let mut ranked: Vec<(String, i64)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let other: i64 = ranked.iter().skip(TOP_SOURCES).map(|(_, n)| n).sum();
    ranked.truncate(TOP_SOURCES);
    let shown: Vec<String> = ranked.iter().map(|(s, _)| s.clone()).collect();
    if other > 0 {
        ranked.push((OTHER.into(), other));
    }
    let periods = raw
        .into_iter()
        .map(|(from, to, counts)| {
            let mut by_source = BTreeMap::new();
            for (s, n) in counts {
                let key = if shown.contains(&s) { s } else { OTHER.into() };
                *by_source.entry(key).or_default() += n;
            }
            ImportPeriod {
                start: from,
                end: to,
                by_source,
            }
        })
        .collect();
    Ok(Imports {
        period,
        periods,
        sources: ranked,
    })
}

/// A table as CSV, through the export's CSV writer: its BOM, quoting and
/// formula guard (a cell starting with `=`, `+`, `-`, `@`, … gets a `'`).
pub fn csv(headers: &[&str], rows: &[Vec<String>]) -> ServiceResult<Vec<u8>> {
    let columns: Vec<Column> = headers
        .iter()
        .map(|h| Column::new(h.to_string(), 16.0, ColumnKind::Text))
        .collect();
    let mut w = CsvWriter::new(Vec::new(), &columns).map_err(anyhow::Error::from)?;
    for row in rows {
        let cells: Vec<Cell<'_>> = row.iter().map(|v| Cell::Text(v)).collect();
        w.write_row(&cells).map_err(anyhow::Error::from)?;
    }
    Ok(w.finish().map_err(anyhow::Error::from)?.out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StatusCount;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn funnel_counts_reached_and_converts() {
        let count = |stage, status: &str, n| StatusCount {
            stage,
            status: status.into(),
            count: n,
        };
        let s = StatusSummary::from_counts(&[
            count(Stage::S1, "New", 60),
            count(Stage::S2, "Verified", 25),
            count(Stage::S3, "Approved", 10),
            count(Stage::S4, "DONE!", 5),
        ]);
        let f = funnel(&s);
        let reached: Vec<i64> = f.iter().map(|x| x.reached).collect();
        assert_eq!(reached, [100, 40, 15, 5]);
        assert_eq!(f[0].conversion, None);
        assert_eq!(f[1].conversion, Some(40.0));
        assert_eq!(f[2].conversion, Some(37.5));
        assert!((f[3].conversion.unwrap() - 33.333).abs() < 0.01);
        let empty = funnel(&StatusSummary::from_counts(&[]));
        assert!(
            empty
                .iter()
                .all(|x| x.reached == 0 && x.conversion.is_none())
        );
    }

    #[test]
    fn periods_cover_the_range_once() {
        let (name, p) = periods(d("2026-03-01"), d("2026-03-30"));
        assert_eq!((name, p.len()), ("day", 30));
        let (name, p) = periods(d("2026-03-04"), d("2026-04-30"));
        assert_eq!(name, "week");
        assert_eq!(
            p[0],
            (d("2026-03-04"), d("2026-03-08")),
            "clipped to the range"
        );
        assert_eq!(p[1].0, d("2026-03-09"), "weeks start on Monday");
        assert_eq!(p.last().unwrap().1, d("2026-04-30"));
        let (name, p) = periods(d("2025-06-15"), d("2026-06-14"));
        assert_eq!(name, "month");
        assert_eq!(p.len(), 13);
        assert_eq!(p[0], (d("2025-06-15"), d("2025-06-30")));
        assert_eq!(p[1], (d("2025-07-01"), d("2025-07-31")));
        // every day exactly once
        for (_, spans) in [
            periods(d("2026-01-01"), d("2026-12-31")),
            periods(d("2026-02-10"), d("2026-05-01")),
        ] {
            for w in spans.windows(2) {
                assert_eq!(w[0].1.succ_opt().unwrap(), w[1].0);
            }
        }
    }

    #[test]
    fn range_defaults_and_limits() {
        let (s, e) = range(&None, &Some("2026-05-30".into())).unwrap();
        assert_eq!((s, e), (d("2026-05-01"), d("2026-05-30")));
        assert!(range(&Some("2026-06-01".into()), &Some("2026-05-01".into())).is_err());
        assert!(range(&Some("2024-01-01".into()), &Some("2026-01-01".into())).is_err());
        assert!(
            range(&Some("soon".into()), &None)
                .unwrap_err()
                .to_string()
                .contains("start_date")
        );
    }

    #[test]
    fn csv_is_guarded_by_the_export_writer() {
        let out = csv(
            &["Source", "Leads"],
            &[
                vec!["=HYPERLINK(\"x\")".into(), "3".into()],
                vec!["Walk-in".into(), "2".into()],
            ],
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let text = text.trim_start_matches('\u{feff}');
        assert_eq!(
            text,
            "Source,Leads\r\n\"'=HYPERLINK(\"\"x\"\")\",3\r\nWalk-in,2\r\n"
        );
    }
}
