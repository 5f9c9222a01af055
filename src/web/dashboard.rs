//! `/dashboard` (admins, ops): the funnel S1 → S4 with conversion between
//! stages, the status breakdown, leads imported per source over time and
//! telecaller performance over a date range — each a server-rendered SVG
//! whose every bar carries its label and number in text (readable without
//! colour), its numbers as a table, and that table as CSV
//! (`/dashboard/{table}.csv`, written by the export's CSV writer). The
//! figures come from `service::dashboard`, at most a minute old, and the
//! page says when they were read.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::admin::{grouped, refusal, require};
use super::page::{Layout, PageError, PageResult, PageUser, encode, render};
use crate::domain::{Capability, to_ist};
use crate::http::AppState;
use crate::service::dashboard::{self, Dashboard};

/// A table of numbers: shown under its chart and downloadable as CSV.
struct Table {
    key: &'static str,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// One horizontal bar with its label above it.
struct Bar {
    label: String,
    value: String,
    /// Label baseline.
    ty: u32,
    /// Bar top.
    y: u32,
    width: u32,
    /// Where the value text starts.
    vx: u32,
    class: &'static str,
    /// A note under the bar (the funnel's conversion).
    note: String,
    ny: u32,
}

struct BarChart {
    id: &'static str,
    title: String,
    desc: String,
    height: u32,
    bars: Vec<Bar>,
}

/// One source's small chart of imports per period.
struct Column {
    x: u32,
    y: u32,
    w: u32,
    height: u32,
    tip: String,
}

struct Multiple {
    label: String,
    total: String,
    columns: Vec<Column>,
    first: String,
    last: String,
}

const W: u32 = 420;
const BAR_MAX: u32 = 270;
const ROW: u32 = 38;

fn bars(
    id: &'static str,
    title: String,
    desc: String,
    items: Vec<(String, i64, String, &'static str, String)>,
) -> BarChart {
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let mut y = 0;
    let mut out = Vec::new();
    for (label, value, value_text, class, note) in items {
        let width = if value > 0 {
            ((value as f64 / max as f64) * f64::from(BAR_MAX))
                .round()
                .max(2.0) as u32
        } else {
            0
        };
        let extra = if note.is_empty() { 0 } else { 16 };
        out.push(Bar {
            label,
            value: value_text,
            ty: y + 13,
            y: y + 18,
            width,
            vx: 2 + width + 6,
            class,
            note,
            ny: y + ROW + 10,
        });
        y += ROW + extra;
    }
    BarChart {
        id,
        title,
        desc,
        height: y.max(ROW),
        bars: out,
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into())
}

fn funnel_chart(d: &Dashboard) -> (BarChart, Table) {
    let mut items = Vec::new();
    let mut rows = Vec::new();
    for (i, s) in d.funnel.iter().enumerate() {
        let next = d.funnel.get(i + 1);
        let note = next
            .and_then(|n| n.conversion.map(|c| (n, c)))
            .map(|(n, c)| format!("↓ {c:.1}% went on to {}", n.stage.code()))
            .unwrap_or_default();
        // the value after the bar stays short: it must fit beside the
        // longest bar at phone width
        items.push((
            format!(
                "{} {} ({} now)",
                s.stage.code(),
                s.stage.label(),
                grouped(s.now_in)
            ),
            s.reached,
            format!("{} reached", grouped(s.reached)),
            "bar-a",
            note,
        ));
        rows.push(vec![
            format!("{} {}", s.stage.code(), s.stage.label()),
            s.reached.to_string(),
            s.now_in.to_string(),
            pct(s.conversion),
        ]);
    }
    let chart = bars(
        "funnel",
        "Funnel S1 → S4".into(),
        "Leads that reached each stage (now in it or a later one), and the share of the previous stage that went on.".into(),
        items,
    );
    let table = Table {
        key: "funnel",
        headers: [
            "Stage",
            "Reached",
            "Now in stage",
            "Conversion from previous stage",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    };
    (chart, table)
}

fn status_chart(d: &Dashboard) -> (BarChart, Table) {
    let mut items = Vec::new();
    let mut rows = Vec::new();
    for stage in crate::domain::Stage::all() {
        let Some(statuses) = d.summary.summary.get(stage.code()) else {
            continue;
        };
        // in pipeline order, not the map's
        for name in stage.statuses() {
            let n = statuses.get(*name).copied().unwrap_or(0);
            rows.push(vec![
                stage.code().to_string(),
                (*name).to_string(),
                n.to_string(),
            ]);
            if n > 0 {
                let class = if stage.code() == "S1" || stage.code() == "S3" {
                    "bar-a"
                } else {
                    "bar-b"
                };
                items.push((
                    format!("{} · {name}", stage.code()),
                    n,
                    grouped(n),
                    class,
                    String::new(),
                ));
            }
        }
    }
    let chart = bars(
        "statuses",
        "Status breakdown".into(),
        format!(
            "Every lead by stage and status ({} in all; statuses with no lead are only in the table).",
            grouped(d.summary.total_leads)
        ),
        items,
    );
    let table = Table {
        key: "statuses",
        headers: ["Stage", "Status", "Leads"].map(String::from).to_vec(),
        rows,
    };
    (chart, table)
}

fn period_label(p: &dashboard::ImportPeriod, period: &str) -> String {
    match period {
        "day" => p.start.format("%d %b").to_string(),
        "week" => format!("wk {}", p.start.format("%d %b")),
        _ => p.start.format("%b %Y").to_string(),
    }
}

fn imports_chart(d: &Dashboard) -> (Vec<Multiple>, Table) {
    let im = &d.imports;
    let n = im.periods.len().max(1) as u32;
    let step = (W / n).max(1);
    let bar_w = (step * 7 / 10).max(1);
    let max = im
        .periods
        .iter()
        .flat_map(|p| p.by_source.values())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let mut multiples = Vec::new();
    for (source, total) in &im.sources {
        let columns = im
            .periods
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let v = p.by_source.get(source).copied().unwrap_or(0);
                let h = if v > 0 {
                    ((v as f64 / max as f64) * 44.0).round().max(1.0) as u32
                } else {
                    0
                };
                Column {
                    x: i as u32 * step,
                    y: 46 - h,
                    w: bar_w,
                    height: h,
                    tip: format!("{}: {} leads", period_label(p, im.period), grouped(v)),
                }
            })
            .collect();
        multiples.push(Multiple {
            label: source.clone(),
            total: grouped(*total),
            columns,
            first: im
                .periods
                .first()
                .map(|p| period_label(p, im.period))
                .unwrap_or_default(),
            last: im
                .periods
                .last()
                .map(|p| period_label(p, im.period))
                .unwrap_or_default(),
        });
    }
    let mut headers = vec!["From".to_string(), "To".to_string()];
    headers.extend(im.sources.iter().map(|(s, _)| s.clone()));
    headers.push("Total".into());
    let rows = im
        .periods
        .iter()
        .map(|p| {
            let mut r = vec![p.start.to_string(), p.end.to_string()];
            let mut sum = 0;
            for (s, _) in &im.sources {
                let v = p.by_source.get(s).copied().unwrap_or(0);
                sum += v;
                r.push(v.to_string());
            }
            r.push(sum.to_string());
            r
        })
        .collect();
    (
        multiples,
        Table {
            key: "imports",
            headers,
            rows,
        },
    )
}

fn telecaller_chart(d: &Dashboard) -> (BarChart, Table) {
    let mut items = Vec::new();
    let mut rows = Vec::new();
    let mut people: Vec<_> = d
        .figures
        .telecallers
        .iter()
        .filter(|t| t.totals.calls_made > 0 || t.totals.conversions > 0)
        .collect();
    people.sort_by(|a, b| {
        b.totals
            .calls_made
            .cmp(&a.totals.calls_made)
            .then(a.telecaller.cmp(&b.telecaller))
    });
    for t in &people {
        let f = &t.totals;
        items.push((
            format!("{} — calls", t.telecaller),
            f.calls_made,
            grouped(f.calls_made),
            "bar-a",
            String::new(),
        ));
        items.push((
            format!("{} — connected", t.telecaller),
            f.connected,
            grouped(f.connected),
            "bar-b",
            String::new(),
        ));
        items.push((
            format!("{} — conversions", t.telecaller),
            f.conversions,
            grouped(f.conversions),
            "bar-c",
            String::new(),
        ));
        let rate = if f.calls_made > 0 {
            format!("{:.1}%", f.connected as f64 * 100.0 / f.calls_made as f64)
        } else {
            "—".into()
        };
        rows.push(vec![
            t.telecaller.clone(),
            f.calls_made.to_string(),
            f.connected.to_string(),
            f.no_response.to_string(),
            f.conversions.to_string(),
            rate,
        ]);
    }
    let chart = bars(
        "telecallers",
        "Telecaller performance".into(),
        format!(
            "Calls made, connected and conversions (changes to a completion status) per person, {} to {}.",
            d.start, d.end
        ),
        items,
    );
    let table = Table {
        key: "telecallers",
        headers: [
            "Who",
            "Calls made",
            "Connected",
            "No response",
            "Conversions",
            "Connected rate",
        ]
        .map(String::from)
        .to_vec(),
        rows,
    };
    (chart, table)
}

#[derive(askama::Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
    start: String,
    end: String,
    query: String,
    as_of: String,
    as_of_iso: String,
    total: String,
    period: &'static str,
    funnel: BarChart,
    funnel_table: Table,
    statuses: BarChart,
    status_table: Table,
    multiples: Vec<Multiple>,
    import_table: Table,
    telecallers: BarChart,
    telecaller_table: Table,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RangeQuery {
    start_date: Option<String>,
    end_date: Option<String>,
}

const WHAT: &str = "open the dashboard";

/// `GET /dashboard`.
pub(super) async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<RangeQuery>,
) -> PageResult {
    require(&user, Capability::Dashboard, WHAT)?;
    let actor = user.actor();
    let (d, error, status) =
        match dashboard::dashboard(&state, &actor, &q.start_date, &q.end_date).await {
            Ok(d) => (d, None, StatusCode::OK),
            Err(e) => {
                let (status, message) = refusal(e)?;
                // the default range, with the message beside the form
                (
                    dashboard::dashboard(&state, &actor, &None, &None).await?,
                    Some(message),
                    status,
                )
            }
        };
    let (funnel, funnel_table) = funnel_chart(&d);
    let (statuses, status_table) = status_chart(&d);
    let (multiples, import_table) = imports_chart(&d);
    let (telecallers, telecaller_table) = telecaller_chart(&d);
    let view = DashboardPage {
        l: Layout::new("Dashboard", Some(&user)),
        start: d.start.to_string(),
        end: d.end.to_string(),
        query: format!(
            "start_date={}&end_date={}",
            encode(&d.start.to_string()),
            encode(&d.end.to_string())
        ),
        as_of: to_ist(d.computed_at)
            .format("%Y-%m-%d %H:%M:%S IST")
            .to_string(),
        as_of_iso: d.computed_at.to_rfc3339(),
        total: grouped(d.summary.total_leads),
        period: d.imports.period,
        funnel,
        funnel_table,
        statuses,
        status_table,
        multiples,
        import_table,
        telecallers,
        telecaller_table,
        error,
    };
    Ok(render(status, &view))
}

/// `GET /dashboard/{table}.csv`: one table's numbers.
pub(super) async fn csv(
    State(state): State<AppState>,
    user: PageUser,
    Path(file): Path<String>,
    Query(q): Query<RangeQuery>,
) -> PageResult {
    require(&user, Capability::Dashboard, WHAT)?;
    let key = file.strip_suffix(".csv").ok_or(PageError::NotFound)?;
    let d = match dashboard::dashboard(&state, &user.actor(), &q.start_date, &q.end_date).await {
        Ok(d) => d,
        Err(e) => {
            let (status, message) = refusal(e)?;
            return Ok((status, message).into_response());
        }
    };
    let table = match key {
        "funnel" => funnel_chart(&d).1,
        "statuses" => status_chart(&d).1,
        "imports" => imports_chart(&d).1,
        "telecallers" => telecaller_chart(&d).1,
        _ => return Err(PageError::NotFound),
    };
    let headers: Vec<&str> = table.headers.iter().map(String::as_str).collect();
    let body = dashboard::csv(&headers, &table.rows)?;
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"pulse-{}-{}-{}.csv\"",
        table.key, d.start, d.end
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
