//! `pulse export --out FILE [--format xlsx|csv] [filters]`: the same engine
//! as the HTTP export, writing to a file (the DB snapshot, the columns, the
//! order, the masking are the same).

use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;

use crate::config::Config;
use crate::export::Format;
use crate::export::engine::{ExportSpec, select_columns, write_export};
use crate::service::leads::FilterQuery;

/// Export leads to an xlsx or csv file.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// xlsx (default) or csv.
    #[arg(long, default_value = "xlsx")]
    format: String,
    /// Names (partial) and phone numbers, comma-separated.
    #[arg(long)]
    search: Option<String>,
    /// Stage (S1…S4 or its name; `all` for any).
    #[arg(long)]
    stage: Option<String>,
    /// Status name (`all` for any).
    #[arg(long)]
    status: Option<String>,
    /// Lead source, exact.
    #[arg(long)]
    source: Option<String>,
    /// Assigned telecaller's login.
    #[arg(long)]
    telecaller: Option<String>,
    /// Import date on or after (YYYY-MM-DD).
    #[arg(long)]
    start_date: Option<String>,
    /// Import date on or before (YYYY-MM-DD).
    #[arg(long)]
    end_date: Option<String>,
    /// Only leads with no telecaller.
    #[arg(long)]
    unassigned_only: bool,
    /// Column keys, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    columns: Vec<String>,
    /// Mask document numbers as for non-master_admin users.
    #[arg(long)]
    mask_pii: bool,
}

/// Writes the export; prints rows, bytes and time.
pub async fn run(config: Config, args: ExportArgs) -> anyhow::Result<()> {
    let format = match args.format.to_ascii_lowercase().as_str() {
        "xlsx" => Format::Xlsx,
        "csv" => Format::Csv,
        other => bail!("--format must be xlsx or csv, not {other:?}"),
    };
    // The API's one filter parse (NUL check, `all`, the status names), with
    // no one's scope: the CLI runs with the database's own rights.
    let filter = FilterQuery {
        search: args.search.clone(),
        stage: args.stage.clone(),
        status: args.status.clone(),
        source: args.source.clone(),
        telecaller: args.telecaller.clone(),
        start_date: args.start_date.clone(),
        end_date: args.end_date.clone(),
        unassigned_only: Some(args.unassigned_only.to_string()),
    }
    .parse()
    .context("the filter options")?;
    let columns = select_columns(Some(&args.columns)).map_err(anyhow::Error::msg)?;
    let store = crate::app::open_store(&config).await?;
    let started = Instant::now();
    let snapshot = store
        .export_snapshot(&filter)
        .await
        .context("opening the export snapshot")?;
    let total = snapshot.total;
    let spec = ExportSpec::new(columns, format, args.mask_pii);
    let out = args.out.clone();
    // A thread like the server's writer, at normal priority (a lone export).
    let written =
        crate::export::priority::spawn("pulse-export", false, move || -> anyhow::Result<_> {
            let mut rows = snapshot.rows;
            let file = std::fs::File::create(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let progress = AtomicU64::new(0);
            let w = write_export(
                rows.as_mut(),
                &spec,
                BufWriter::with_capacity(256 * 1024, file),
                &progress,
            )?;
            Ok(w)
        })
        .await
        .context("the export thread stopped")??;
    eprintln!(
        "pulse: exported {} of {total} leads, {} bytes, to {} in {:.2} s",
        written.rows,
        written.bytes,
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
