//! `pulse import FILE.jsonl`: JSON lines in the original `driver_leads`
//! field names (what `anchors/gen_leads.py --formats jsonl` writes), all
//! accepted lines committed in one transaction.
//!
//! One thread reads and parses (serde_json), the store writes on another:
//! on 2 cores parsing and inserting each take about half the time, so the
//! pipeline nearly halves the wall-clock time of a 1M-line import.
//!
//! This is not the file importer of [`super::run`] (mapping, merge, preview,
//! row report): it trusts the field names and hands whole leads to
//! [`crate::store::BulkStore::bulk_import`], which is what makes a 1M-line
//! load fast.

use std::fs::File;
use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, anyhow};
use chrono::Utc;
use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::jsonl::lead_from_object;
use crate::domain::{Lead, validate_lead};
use crate::store::{BulkBatch, DuplicatePolicy, Store};

/// Leads per message to the store: large enough that channel overhead is
/// nothing, small enough that the threads overlap and memory stays flat
/// (~8 batches in flight between the reader, the store's preparing thread
/// and its SQLite thread: ~25 MB at 1024 gen_leads lines; 4096 held ~100 MB).
const BATCH: usize = 1024;

const WRITER_STOPPED: &str = "the database writer stopped";

/// A line that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// 1-based line number in the file.
    pub line: u64,
    /// The offending field (`json` when the line is not a JSON object).
    pub field: String,
    /// The reason, naming the field.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// Non-blank lines read.
    pub lines: u64,
    /// New leads written.
    pub inserted: u64,
    /// Stored leads overwritten (`--on-duplicate replace`).
    pub updated: u64,
    /// (line, id of the lead that already has this phone or id).
    pub skipped: Vec<(u64, Uuid)>,
    /// Lines refused by validation; none of their data was written.
    pub rejected: Vec<Rejected>,
}

/// Reads JSON lines from `input` and writes every valid lead through
/// [`crate::store::BulkStore::bulk_import`] in one transaction. A read
/// error mid-way rolls everything back and is returned as the error.
pub async fn import_jsonl<R: BufRead + Send + 'static>(
    store: &dyn Store,
    input: R,
    on_duplicate: DuplicatePolicy,
    progress: bool,
) -> anyhow::Result<ImportReport> {
    let (tx, rx) = mpsc::channel(4);
    let reader = std::thread::spawn(move || read_lines(input, tx, progress));
    let stored = store.bulk_import(rx, on_duplicate).await;
    let read = tokio::task::spawn_blocking(move || reader.join())
        .await?
        .map_err(|_| anyhow!("the reader thread panicked"))?;
    // A read error explains a rolled-back store better than "no commit" —
    // unless the reader only stopped because the store had failed.
    let read = match (read, &stored) {
        (Err(e), Err(_)) if e.to_string().contains(WRITER_STOPPED) => {
            return Err(stored.err().map(anyhow::Error::from).unwrap_or(e));
        }
        (read, _) => read?,
    };
    let outcome = stored.context("writing the leads")?;
    let skipped = outcome
        .skipped_duplicates
        .into_iter()
        .map(|(i, holder)| (u64::from(read.line_of[i as usize]), holder))
        .collect();
    Ok(ImportReport {
        lines: read.lines,
        inserted: outcome.inserted,
        updated: outcome.updated,
        skipped,
        rejected: read.rejected,
    })
}

struct ReadOutcome {
    lines: u64,
    /// Line number of each lead sent, by stream position.
    line_of: Vec<u32>,
    rejected: Vec<Rejected>,
}

fn read_lines<R: BufRead>(
    mut input: R,
    tx: mpsc::Sender<BulkBatch>,
    progress: bool,
) -> anyhow::Result<ReadOutcome> {
    let mut out = ReadOutcome {
        lines: 0,
        line_of: Vec::new(),
        rejected: Vec::new(),
    };
    let mut buf = Vec::with_capacity(4096);
    let mut batch = Vec::with_capacity(BATCH);
    let mut number: u64 = 0;
    let now = Utc::now();
    let send = |batch: Vec<Lead>| {
        tx.blocking_send(BulkBatch::Leads(batch))
            .map_err(|_| anyhow!(WRITER_STOPPED))
    };
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("reading line {}", number + 1))?;
        if n == 0 {
            break;
        }
        number += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.lines += 1;
        match parse_line(&buf, now) {
            Ok(lead) => {
                batch.push(lead);
                out.line_of
                    .push(u32::try_from(number).context("more than 4e9 lines")?);
            }
            Err((field, reason)) => out.rejected.push(Rejected {
                line: number,
                field,
                reason,
            }),
        }
        if batch.len() == BATCH {
            send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))?;
        }
        if progress && number.is_multiple_of(200_000) {
            eprintln!("  {number} lines read");
        }
    }
    if !batch.is_empty() {
        send(batch)?;
    }
    tx.blocking_send(BulkBatch::Commit)
        .map_err(|_| anyhow!(WRITER_STOPPED))?;
    Ok(out)
}

/// One line → a valid lead, or (field, reason).
pub fn parse_line(line: &[u8], now: chrono::DateTime<Utc>) -> Result<Lead, (String, String)> {
    // One UTF-8 check of the whole line, then `from_str`, which trusts it:
    // `from_slice` validates every string again (~1 s of 1M lines).
    let parsed = std::str::from_utf8(line)
        .ok()
        .and_then(|text| serde_json::from_str::<Lead>(text).ok());
    let mut lead = match parsed {
        Some(lead) => lead,
        None => parse_slow(line, now)?,
    };
    validate_lead(&mut lead).map_err(|e| (e.field().to_owned(), e.to_string()))?;
    Ok(lead)
}

/// The rare path: fill in what may be absent (a new id, timestamps, the
/// stage from the status), then find the field that does not parse.
fn parse_slow(line: &[u8], now: chrono::DateTime<Utc>) -> Result<Lead, (String, String)> {
    let json_err = |e: String| ("json".to_owned(), format!("json: {e}"));
    let value: Value = serde_json::from_slice(line).map_err(|e| json_err(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(json_err("expected an object {…}".into()));
    };
    lead_from_object(map, now)
}

fn csv_cell(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Writes every rejected and skipped line (line, outcome, field, reason) as CSV.
pub fn write_report(path: &Path, r: &ImportReport) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(File::create(path)?);
    writeln!(w, "line,outcome,field,reason")?;
    let mut rows: Vec<(u64, String)> = r
        .rejected
        .iter()
        .map(|x| {
            (
                x.line,
                format!("rejected,{},{}", csv_cell(&x.field), csv_cell(&x.reason)),
            )
        })
        .collect();
    rows.extend(r.skipped.iter().map(|(line, holder)| {
        (
            *line,
            format!("skipped,phone_number,\"duplicate of lead {holder}\""),
        )
    }));
    rows.sort_by_key(|(line, _)| *line);
    for (line, rest) in rows {
        writeln!(w, "{line},{rest}")?;
    }
    w.flush()
}
