//! `pulse import FILE`: JSON lines go through the one-transaction pipeline
//! of [`crate::import::lines`]; xlsx, CSV and `mongoexport` files (and
//! `--preview`) through the file importer of [`crate::import::run`].

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use chrono::Utc;
use clap::Args;
use uuid::Uuid;

use crate::app::open_store;
use crate::config::Config;
use crate::import::lines::{ImportReport, import_jsonl, write_report};
use crate::store::{DuplicatePolicy, NewAuditEntry, Store};

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
            journal: None,
            choices: Vec::new(),
            upsert: None,
            dry_run: false,
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
