//! The command line: `pulse --help` is the map of what the binary does.
//! Each subcommand's `run()` lives in its own file.

mod backup;
mod config_cmd;
mod export;
pub mod import;
mod migrate;
pub mod seed;
mod serve;
mod user;
mod worker;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;

/// Pulse: driver onboarding for an EV fleet — leads, pipeline, exports.
#[derive(Parser, Debug)]
#[command(name = "pulse", version, about, long_about = None)]
pub struct Cli {
    /// A TOML configuration file (PULSE_* environment variables override it).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the HTTP server (migrates the database and creates the first admin if needed).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Export leads to an xlsx or csv file (the same engine as the HTTP export).
    Export(export::ExportArgs),
    /// Manage user accounts: add, list, set-role, disable, set-password.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Import leads from JSON lines (`-` = standard input), xlsx, csv or a mongoexport file, all in one transaction.
    Import(import::ImportArgs),
    /// Write N demo leads and a dozen telecaller accounts (deterministic per seed).
    Seed(seed::SeedArgs),
    /// Back up every lead (ids, histories, unmasked documents) to the backup store or --out FILE.
    Backup(backup::BackupArgs),
    /// Replace every lead with those of a backup file (takes an automatic backup first).
    Restore(backup::RestoreArgs),
    /// Run background export jobs from the shared queue, with no HTTP API (drains on SIGTERM).
    Worker(worker::WorkerArgs),
}

/// Parses the command line and runs the chosen subcommand.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pulse: configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    crate::telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pulse: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve => serve::run(config).await,
            Command::Migrate => migrate::run(config).await,
            Command::Export(args) => export::run(config, args).await,
            Command::Config => config_cmd::run(&config),
            Command::User(cmd) => user::run(config, cmd).await,
            Command::Import(args) => import::run(config, args).await,
            Command::Seed(args) => seed::run(config, args).await,
            Command::Worker(args) => worker::run(config, args).await,
            Command::Backup(args) => backup::run_backup(config, args).await,
            Command::Restore(args) => backup::run_restore(config, args).await,
        }
    });
    // Dropping a runtime waits for every blocking task; an export writer
    // stuck in a read past the drain deadline must not hold the exit (its
    // job is rescued when its lease runs out).
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pulse: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
