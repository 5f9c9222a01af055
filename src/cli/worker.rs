//! `pulse worker`: a dedicated export-job worker with no HTTP API. Same
//! configuration as `pulse serve`; it claims jobs from the same database,
//! so any number of them (and of servers) share one queue. On SIGTERM or
//! SIGINT it stops claiming, gives running jobs the shutdown grace period,
//! and hands back to the queue what did not finish.

use std::time::Duration;

use clap::Args;

use crate::app::{job_context, open_store, services, shutdown_signal};
use crate::config::Config;
use crate::jobs;

/// Options of `pulse worker`.
#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// Jobs run at once (default: PULSE_WORKERS, at least 1).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
}

/// Runs workers and the job clean-up until a signal.
pub async fn run(config: Config, args: WorkerArgs) -> anyhow::Result<()> {
    let n = args.workers.unwrap_or(config.workers).max(1);
    let store = open_store(&config).await?;
    crate::storage::ensure_storage(&config).await?;
    let grace = config.shutdown_grace;
    let ctx = job_context(&services(store, config));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let handle = jobs::start(ctx, n, stopped);
    tracing::info!(workers = n, "pulse worker running");
    shutdown_signal().await;
    tracing::info!(
        grace_s = grace.as_secs(),
        "shutting down: draining export jobs"
    );
    let _ = stop.send(true);
    if tokio::time::timeout(grace + Duration::from_secs(5), handle)
        .await
        .is_err()
    {
        tracing::warn!(
            "export workers did not stop in time; their jobs are rescued when their leases end"
        );
    }
    Ok(())
}
