//! `pulse import FILE.jsonl`: JSON lines in the original `driver_leads`
//! field names (what `anchors/gen_leads.py --formats jsonl` writes), all
//! accepted lines committed in one transaction.
//!
//! One thread reads and parses (serde_json), the store writes on another:
//! on 2 cores parsing and inserting each take about half the time, so the
//! pipeline nearly halves the wall-clock time of a 1M-line import.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, anyhow};
use chrono::Utc;
use clap::Args;
use serde_json::{Map, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::app::open_store;
use crate::config::Config;
use crate::domain::error::reject_nul;
use crate::domain::{DomainError, Lead, PhoneNumber, Stage, Status};
use crate::store::{BulkBatch, DuplicatePolicy, NewAuditEntry, Store};

/// Leads per message to the store: large enough that channel overhead is
/// nothing, small enough that the threads overlap and memory stays flat
/// (~8 batches in flight between the reader, the store's preparing thread
/// and its SQLite thread: ~25 MB at 1024 gen_leads lines; 4096 held ~100 MB).
const BATCH: usize = 1024;

const WRITER_STOPPED: &str = "the database writer stopped";

/// How many rejected or skipped lines are printed (the rest: `--report`).
const PRINT_AT_MOST: usize = 20;

/// `pulse import` arguments.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// JSON lines file to import, or `-` for standard input.
    pub file: PathBuf,
    /// What to do with a lead whose phone (or id) is already stored: skip or replace.
    #[arg(long, default_value = "skip")]
    pub on_duplicate: DuplicatePolicy,
    /// Write every rejected and skipped line (line, outcome, field, reason) to this CSV file.
    #[arg(long, value_name = "FILE.csv")]
    pub report: Option<PathBuf>,
    /// FILE is `mongoexport` output of the original `driver_leads` collection
    /// (extended JSON, legacy field shapes); histories are kept.
    #[arg(long)]
    pub mongoexport: bool,
    /// A `mongoexport` of the original `users`, to turn telecaller user ids into logins.
    #[arg(long, value_name = "FILE")]
    pub users: Option<PathBuf>,
    /// Source for leads that have none (xlsx, csv and mongoexport files).
    #[arg(long)]
    pub lead_source: Option<String>,
    /// Write nothing: read and check the file, report what `--on-duplicate
    /// replace` would do (xlsx, csv and mongoexport files).
    #[arg(long)]
    pub preview: bool,
}

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
        if progress && number % 200_000 == 0 {
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
    validate(&mut lead).map_err(|e| (e.field().to_owned(), e.to_string()))?;
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

/// A JSON object in the lead's field names → a lead (not yet validated):
/// a new id, timestamps and the stage from the status are filled in when
/// absent; otherwise the field whose value does not parse is named.
pub fn lead_from_object(
    mut map: Map<String, Value>,
    now: chrono::DateTime<Utc>,
) -> Result<Lead, (String, String)> {
    let absent = |m: &Map<String, Value>, k: &str| m.get(k).is_none_or(Value::is_null);
    if absent(&map, "id") {
        map.insert("id".into(), Uuid::new_v4().to_string().into());
    }
    if absent(&map, "created_at") {
        map.insert("created_at".into(), now.to_rfc3339().into());
    }
    if absent(&map, "updated_at") {
        let created = map["created_at"].clone();
        map.insert("updated_at".into(), created);
    }
    let status = map.get("status").and_then(Value::as_str).map(Status::parse);
    if absent(&map, "stage") {
        let stage = match status {
            Some(Ok(s)) => s.stage(),
            _ => Stage::S1,
        };
        map.insert("stage".into(), stage.code().into());
    }
    if absent(&map, "status") {
        let stage = map["stage"].as_str().and_then(|s| s.parse().ok());
        let first = Status::first_of(stage.unwrap_or(Stage::S1));
        map.insert("status".into(), first.name().into());
    }
    let err = match serde_json::from_value::<Lead>(Value::Object(map.clone())) {
        Ok(lead) => return Ok(lead),
        Err(e) => e.to_string(),
    };
    // Which field? Put each value alone into a known-good lead.
    let template = serde_json::to_value(template_lead(now)).expect("a lead serialises");
    for (key, value) in &map {
        let mut probe = template.clone();
        if let Some(slot) = probe.get_mut(key.as_str()) {
            *slot = value.clone();
            if let Err(e) = serde_json::from_value::<Lead>(probe) {
                return Err((key.clone(), format!("{key}: {e}")));
            }
        }
    }
    let field = err
        .split('`')
        .nth(1)
        .filter(|_| err.starts_with("missing field"))
        .unwrap_or("json");
    Err((field.to_owned(), format!("{field}: {err}")))
}

fn template_lead(now: chrono::DateTime<Utc>) -> Lead {
    let mut lead: Lead = serde_json::from_value(serde_json::json!({
        "id": Uuid::nil(), "name": "x", "phone_number": "9000000000", "stage": "S1",
        "status": "New", "created_at": now, "updated_at": now,
        "email": null, "vehicle": null, "driving_license": null, "experience": null,
        "interested_ev": null, "monthly_salary": null, "residing_chennai": null,
        "current_location": null, "preferred_shift": null, "allotted_shift": null,
        "default_vehicle": null, "end_date": null, "dl_no": null, "badge_no": null,
        "aadhar_card": null, "pan_card": null, "gas_bill": null, "bank_passbook": null,
        "assigned_telecaller": null, "assigned_date": null, "callback_date": null,
        "last_called": null, "source": null, "import_date": null, "remarks": null,
    }))
    .expect("template lead");
    lead.remarks_history.clear();
    lead
}

/// The write-path rules of DESIGN §3 for a whole lead: no NUL anywhere
/// (histories included: PostgreSQL's JSONB cannot hold `\u0000` either), a
/// name, a normalised phone, a known status (which decides the stage, as
/// for a created lead).
pub fn validate(lead: &mut Lead) -> Result<(), DomainError> {
    let texts: [(&'static str, Option<&str>); 23] = [
        ("name", Some(&lead.name)),
        ("phone_number", Some(&lead.phone_number)),
        ("email", lead.email.as_deref()),
        ("vehicle", lead.vehicle.as_deref()),
        ("driving_license", lead.driving_license.as_deref()),
        ("experience", lead.experience.as_deref()),
        ("interested_ev", lead.interested_ev.as_deref()),
        ("monthly_salary", lead.monthly_salary.as_deref()),
        ("residing_chennai", lead.residing_chennai.as_deref()),
        ("current_location", lead.current_location.as_deref()),
        ("preferred_shift", lead.preferred_shift.as_deref()),
        ("allotted_shift", lead.allotted_shift.as_deref()),
        ("default_vehicle", lead.default_vehicle.as_deref()),
        ("dl_no", lead.dl_no.as_deref()),
        ("badge_no", lead.badge_no.as_deref()),
        ("aadhar_card", lead.aadhar_card.as_deref()),
        ("pan_card", lead.pan_card.as_deref()),
        ("gas_bill", lead.gas_bill.as_deref()),
        ("bank_passbook", lead.bank_passbook.as_deref()),
        ("status", Some(&lead.status)),
        ("assigned_telecaller", lead.assigned_telecaller.as_deref()),
        ("source", lead.source.as_deref()),
        ("remarks", lead.remarks.as_deref()),
    ];
    for (field, value) in texts {
        if let Some(v) = value {
            reject_nul(field, v)?;
        }
    }
    for r in &lead.remarks_history {
        reject_nul("remarks_history", &r.remark)?;
        reject_nul("remarks_history", &r.updated_by)?;
    }
    for s in &lead.status_history {
        reject_nul("status_history", &s.status)?;
        reject_nul("status_history", &s.changed_by)?;
    }
    if lead.name.trim().is_empty() {
        return Err(DomainError::Empty { field: "name" });
    }
    let phone = PhoneNumber::parse(&lead.phone_number).map_err(|source| DomainError::Phone {
        field: "phone_number",
        source,
    })?;
    lead.phone_number = phone.into_string();
    let status = Status::parse(&lead.status)?;
    lead.status = status.name().to_owned();
    lead.stage = status.stage();
    Ok(())
}

/// Runs `pulse import`.
pub async fn run(config: Config, args: ImportArgs) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let is_file = args.file.as_os_str() != "-";
    let spreadsheet = is_file
        && matches!(
            crate::import::detect::detect(&args.file, &args.file.display().to_string()),
            Ok(crate::import::Format::Xlsx | crate::import::Format::Csv)
        );
    if args.mongoexport || spreadsheet || args.preview {
        anyhow::ensure!(is_file, "--mongoexport needs a file, not standard input");
        return run_file(store, args, config.import_max_rows).await;
    }
    let input: Box<dyn BufRead + Send> = if args.file.as_os_str() == "-" {
        Box::new(BufReader::with_capacity(1 << 20, std::io::stdin()))
    } else {
        let file = File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        Box::new(BufReader::with_capacity(1 << 20, file))
    };
    let started = Instant::now();
    eprintln!(
        "importing {} ({})",
        args.file.display(),
        store.backend_name()
    );
    let report = import_jsonl(store.as_ref(), input, args.on_duplicate, true).await?;
    let secs = started.elapsed().as_secs_f64();
    store
        .append_audit(&NewAuditEntry {
            actor_id: None,
            actor_email: None,
            action: "import".into(),
            details: serde_json::json!({
                "via": "cli", "file": args.file.display().to_string(),
                "lines": report.lines, "inserted": report.inserted, "updated": report.updated,
                "skipped_duplicates": report.skipped.len(), "rejected": report.rejected.len(),
            }),
            request_id: None,
        })
        .await?;
    print_report(&report, secs);
    if let Some(path) = &args.report {
        write_report(path, &report).with_context(|| format!("writing {}", path.display()))?;
        println!("report: {}", path.display());
    }
    Ok(())
}

fn print_report(r: &ImportReport, secs: f64) {
    println!(
        "{} lines: {} inserted, {} replaced, {} skipped (duplicate), {} rejected in {secs:.1} s",
        r.lines,
        r.inserted,
        r.updated,
        r.skipped.len(),
        r.rejected.len()
    );
    for x in r.rejected.iter().take(PRINT_AT_MOST) {
        println!("  line {}: rejected: {}", x.line, x.reason);
    }
    if r.rejected.len() > PRINT_AT_MOST {
        println!(
            "  … and {} more rejected lines (see --report)",
            r.rejected.len() - PRINT_AT_MOST
        );
    }
    for (line, holder) in r.skipped.iter().take(PRINT_AT_MOST) {
        println!("  line {line}: skipped: phone or id already used by lead {holder}");
    }
    if r.skipped.len() > PRINT_AT_MOST {
        println!(
            "  … and {} more skipped lines (see --report)",
            r.skipped.len() - PRINT_AT_MOST
        );
    }
}

fn csv_cell(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn write_report(path: &Path, r: &ImportReport) -> std::io::Result<()> {
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

/// `pulse import` of an xlsx, CSV or mongoexport file: the same importer as
/// `POST /api/driver-onboarding/import-leads`.
async fn run_file(
    store: std::sync::Arc<dyn Store>,
    args: ImportArgs,
    max_rows: u64,
) -> anyhow::Result<()> {
    use crate::import::run::{Action, ImportRequest, import_file};
    let users = match &args.users {
        Some(p) => crate::import::jsonl::read_users(BufReader::new(
            File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        ))?,
        None => Default::default(),
    };
    let (report_path, keep_report) = match &args.report {
        Some(p) => (p.clone(), true),
        None => (
            std::env::temp_dir().join(format!("pulse-import-{}.csv", Uuid::new_v4())),
            false,
        ),
    };
    let started = Instant::now();
    eprintln!(
        "importing {} ({})",
        args.file.display(),
        store.backend_name()
    );
    let outcome = import_file(
        store.clone(),
        ImportRequest {
            max_rows,
            path: args.file.clone(),
            file_name: args.file.display().to_string(),
            format: args.mongoexport.then_some(crate::import::Format::Jsonl),
            defaults: crate::import::row::RowDefaults {
                lead_source: args.lead_source.clone(),
                lead_date: None,
                read_source_from_file: true,
                now: Utc::now(),
                csv: false,
            },
            users,
            action: match args.on_duplicate {
                _ if args.preview => Action::Preview,
                DuplicatePolicy::Skip => Action::Skip,
                DuplicatePolicy::Replace => Action::Replace,
            },
            actor: "cli".into(),
            report_path: report_path.clone(),
            watch: None,
        },
    )
    .await?;
    let c = &outcome.counts;
    store
        .append_audit(&NewAuditEntry {
            actor_id: None,
            actor_email: None,
            action: "import".into(),
            details: serde_json::json!({
                "via": "cli", "file": args.file.display().to_string(),
                "format": outcome.info.format, "counts": c,
            }),
            request_id: None,
        })
        .await?;
    println!(
        "{} rows: {} inserted, {} updated, {} unchanged, {} skipped (duplicate), {} rejected{} in {:.1} s{}",
        c.rows_read,
        c.inserted,
        c.updated,
        c.unchanged,
        c.skipped_duplicates,
        c.rejected,
        match c.conflicts {
            0 => String::new(),
            n => format!(", {n} not updated (changed meanwhile: see the report)"),
        },
        started.elapsed().as_secs_f64(),
        if args.preview {
            " (preview: nothing written)"
        } else {
            ""
        }
    );
    for r in outcome.shown.iter().take(PRINT_AT_MOST) {
        println!("  row {}: {}: {}", r.row, r.outcome, r.reason);
    }
    if keep_report {
        println!("report: {}", report_path.display());
    } else {
        std::fs::remove_file(&report_path).ok();
    }
    Ok(())
}
