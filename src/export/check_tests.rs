//! Ignored tests run by hand: export a `gen_leads.py` JSONL to a file for
//! `anchors/validate_xlsx.py` (and LibreOffice), and a throughput benchmark.
//!
//! ```sh
//! PY=$(/work/shared/anchors/setup.sh | tail -1)
//! $PY /work/shared/anchors/gen_leads.py --adversarial /tmp/adv
//! PULSE_CHECK_JSONL=/tmp/adv.jsonl PULSE_CHECK_OUT=/tmp/adv.xlsx \
//!   cargo test --lib export_jsonl_for_validation -- --ignored
//! $PY /work/shared/anchors/validate_xlsx.py /tmp/adv.xlsx /tmp/adv.jsonl --lo
//! cargo test --release --lib bench_xlsx_100k -- --ignored --nocapture
//! ```

use std::io::{BufRead, BufReader, BufWriter};
use std::time::Instant;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::format::Format;
use super::row::{Cell, Column, ColumnKind, RowWriter};
use super::xlsx::{XlsxOptions, XlsxWriter};

/// gen_leads.py's scalar fields, in its order.
#[rustfmt::skip]
const FIELDS: [&str; 32] = [
    "id", "name", "phone_number", "email", "vehicle", "driving_license", "experience",
    "interested_ev", "monthly_salary", "residing_chennai", "current_location", "preferred_shift",
    "allotted_shift", "default_vehicle", "end_date", "dl_no", "badge_no", "aadhar_card",
    "pan_card", "gas_bill", "bank_passbook", "stage", "status", "assigned_telecaller",
    "assigned_date", "callback_date", "last_called", "source", "import_date", "remarks",
    "created_at", "updated_at",
];
#[rustfmt::skip]
const SHARED: [&str; 11] = [
    "vehicle", "driving_license", "experience", "interested_ev", "residing_chennai",
    "preferred_shift", "allotted_shift", "stage", "status", "assigned_telecaller", "source",
];

fn kind(f: &str) -> ColumnKind {
    match f {
        "last_called" | "created_at" | "updated_at" => ColumnKind::DateTime,
        "end_date" | "assigned_date" | "callback_date" | "import_date" => ColumnKind::Date,
        _ => ColumnKind::Text,
    }
}

#[test]
#[ignore = "manual: needs PULSE_CHECK_JSONL and PULSE_CHECK_OUT"]
fn export_jsonl_for_validation() {
    let src = std::env::var("PULSE_CHECK_JSONL").expect("PULSE_CHECK_JSONL");
    let dst = std::env::var("PULSE_CHECK_OUT").expect("PULSE_CHECK_OUT");
    let per_sheet = std::env::var("PULSE_CHECK_ROWS_PER_SHEET").ok();
    let cols: Vec<Column> = FIELDS
        .iter()
        .map(|&f| Column::new(f, 16.0, kind(f)))
        .collect();
    let out = BufWriter::new(std::fs::File::create(&dst).unwrap());
    let mut w = if dst.ends_with(".csv") {
        Format::Csv.writer(out, &cols).unwrap()
    } else {
        let mut opts = XlsxOptions::default();
        if let Some(n) = per_sheet {
            opts.max_rows_per_sheet = n.parse().unwrap();
        }
        if let Ok(n) = std::env::var("PULSE_CHECK_THREADS") {
            opts.deflate_threads = n.parse().unwrap();
        }
        super::format::FormatWriter::Xlsx(Box::new(XlsxWriter::new(out, &cols, opts).unwrap()))
    };
    let mut spent = std::time::Duration::ZERO;
    for line in BufReader::new(std::fs::File::open(src).unwrap()).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        let row: Vec<Cell<'_>> = FIELDS
            .iter()
            .map(|&f| match (v.get(f).and_then(|x| x.as_str()), kind(f)) {
                (None, _) => Cell::Empty,
                (Some(s), ColumnKind::DateTime) => {
                    Cell::DateTime(DateTime::parse_from_rfc3339(s).unwrap().to_utc())
                }
                (Some(s), ColumnKind::Date) => Cell::Date(s.parse::<NaiveDate>().unwrap()),
                (Some(s), _) if SHARED.contains(&f) => Cell::SharedText(s),
                (Some(s), _) => Cell::Text(s),
            })
            .collect();
        let t0 = Instant::now();
        w.write_row(&row).unwrap();
        spent += t0.elapsed();
    }
    let t0 = Instant::now();
    let f = w.finish().unwrap();
    spent += t0.elapsed();
    eprintln!(
        "{dst}: {} rows, {} sheets, {} bytes; writer time {:.3} s (JSON parsing excluded)",
        f.rows,
        f.sheets,
        f.bytes,
        spent.as_secs_f64()
    );
}

/// 100k synthetic leads × 38 columns (the next issue's shape) to a sink.
#[test]
#[ignore = "benchmark: cargo test --release --lib bench_xlsx_100k -- --ignored --nocapture"]
fn bench_xlsx_100k() {
    let n: usize = std::env::var("PULSE_BENCH_ROWS").map_or(100_000, |v| v.parse().unwrap());
    let kinds: Vec<ColumnKind> = (0..38)
        .map(|i| match i % 19 {
            5 | 11 => ColumnKind::Date,
            7 | 13 | 17 => ColumnKind::DateTime,
            _ => ColumnKind::Text,
        })
        .collect();
    let cols: Vec<Column> = kinds
        .iter()
        .enumerate()
        .map(|(i, &k)| Column::new(format!("Column {i}"), 14.0, k))
        .collect();
    let stages = ["S1", "S2", "S3", "S4"];
    let statuses = [
        "New",
        "Interested",
        "Call back 1D",
        "Not Reachable",
        "Verified",
    ];
    let base = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let day = NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
    let remark = "Called twice, asked to call back after 5 pm; interested in EV, has DL.";
    let texts: Vec<String> = (0..1000)
        .map(|i| format!("{:08x}-lead-{i} Rajesh Kumar 98400{:05}", i * 7919, i))
        .collect();
    let threads = std::env::var("PULSE_BENCH_THREADS").map_or(1, |v| v.parse().unwrap());
    let opts = XlsxOptions {
        deflate_threads: threads,
        ..XlsxOptions::default()
    };
    let mut w = XlsxWriter::new(std::io::sink(), &cols, opts).unwrap();
    let xml_only = std::env::var_os("PULSE_BENCH_XML_ONLY").is_some();
    let mut sst = super::xlsx::bench_shared_strings();
    let mut buf = Vec::with_capacity(1 << 20);
    let t0 = Instant::now();
    let mut row = Vec::with_capacity(38);
    for r in 0..n {
        row.clear();
        for (c, k) in kinds.iter().enumerate() {
            row.push(match (k, c % 6) {
                (ColumnKind::Date, _) => Cell::Date(day),
                (ColumnKind::DateTime, _) => Cell::DateTime(
                    base + chrono::Duration::milliseconds((r * 977 + c) as i64 * 1013),
                ),
                (_, 0) => Cell::SharedText(stages[(r + c) % 4]),
                (_, 1) => Cell::SharedText(statuses[(r + c) % 5]),
                (_, 2) if r % 3 == 0 => Cell::Empty,
                (_, 3) => Cell::Text(remark),
                _ => Cell::Text(&texts[(r * 31 + c) % 1000]),
            });
        }
        if xml_only {
            super::xlsx::bench_push_row(&mut buf, &row, &mut sst);
            if buf.len() > 256 * 1024 {
                buf.clear();
            }
            continue;
        }
        w.write_row(&row).unwrap();
    }
    if xml_only {
        eprintln!("XML only: {:.3} s", t0.elapsed().as_secs_f64());
    }
    let xml = w.sheet_xml_bytes();
    let f = w.finish().unwrap();
    let s = t0.elapsed().as_secs_f64();
    eprintln!(
        "{n} rows x 38 cols, {threads} deflate thread(s): {s:.3} s, {:.0} rows/s, sheet XML {:.1} MB at {:.0} MB/s, \
         xlsx {:.1} MB",
        n as f64 / s,
        xml as f64 / 1e6,
        xml as f64 / 1e6 / s,
        f.bytes as f64 / 1e6
    );
}
