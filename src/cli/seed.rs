//! `pulse seed --leads N [--seed S]`: demo leads ([`crate::seed`]) and the
//! dozen telecaller accounts they are assigned to.
//!
//! Generating runs on one thread and inserting on another (the store's bulk
//! session), so on 2 cores both work at once.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use tokio::sync::mpsc;

use crate::app::open_store;
use crate::auth::password;
use crate::config::Config;
use crate::domain::{AccountStatus, AccountType};
use crate::seed::{DEMO_PASSWORD, DemoLeads, TELECALLERS};
use crate::store::{BatchOutcome, BulkBatch, DuplicatePolicy, NewUser, Store};

/// Leads per message to the store (see `import::lines`).
const BATCH: usize = 1024;

/// `pulse seed` arguments.
#[derive(Args, Debug)]
pub struct SeedArgs {
    /// How many demo leads to write.
    #[arg(long, default_value_t = 1000)]
    pub leads: u64,
    /// Random seed: the same seed gives the same leads (and phone numbers,
    /// so seeding twice skips them as duplicates).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Creates the demo telecaller accounts that do not exist yet (password
/// [`DEMO_PASSWORD`]); returns how many were created.
pub async fn ensure_telecallers(store: &dyn Store) -> anyhow::Result<usize> {
    let mut created = 0;
    for (email, first, last) in TELECALLERS {
        if store.get_user_by_email(email).await?.is_some() {
            continue;
        }
        let password_hash =
            tokio::task::spawn_blocking(|| password::hash_now(DEMO_PASSWORD)).await?;
        store
            .create_user(&NewUser {
                email: email.to_owned(),
                username: None,
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                account_type: AccountType::Telecaller,
                status: AccountStatus::Active,
                password_hash,
                temp_password: false,
            })
            .await
            .with_context(|| format!("creating telecaller {email}"))?;
        created += 1;
    }
    Ok(created)
}

/// Writes `n` demo leads for `seed` in one transaction (duplicates of
/// stored phones are skipped). `progress` prints every 100k leads.
pub async fn seed_leads(
    store: &dyn Store,
    n: u64,
    seed: u64,
    progress: bool,
) -> anyhow::Result<BatchOutcome> {
    let (tx, rx) = mpsc::channel(4);
    let generator = std::thread::spawn(move || {
        let mut leads = DemoLeads::new(seed);
        let mut sent = 0u64;
        while sent < n {
            let take = BATCH.min((n - sent) as usize);
            let batch: Vec<_> = leads.by_ref().take(take).collect();
            sent += take as u64;
            if tx.blocking_send(BulkBatch::Leads(batch)).is_err() {
                return; // the store failed; it reports why
            }
            if progress && sent % 100_000 < take as u64 {
                eprintln!("  {sent} leads generated");
            }
        }
        tx.blocking_send(BulkBatch::Commit).ok();
    });
    let outcome = store.bulk_import(rx, DuplicatePolicy::Skip).await;
    tokio::task::spawn_blocking(move || generator.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the generator thread panicked"))?;
    outcome.context("writing the demo leads")
}

/// Runs `pulse seed`.
pub async fn run(config: Config, args: SeedArgs) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let created = ensure_telecallers(store.as_ref()).await?;
    println!(
        "telecallers: {} accounts ({created} created), e.g. {}, password {DEMO_PASSWORD:?}",
        TELECALLERS.len(),
        TELECALLERS[0].0
    );
    let started = Instant::now();
    eprintln!(
        "seeding {} demo leads (seed {}) into {}",
        args.leads,
        args.seed,
        store.backend_name()
    );
    let out = seed_leads(store.as_ref(), args.leads, args.seed, true).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} leads inserted, {} skipped (phone or id already stored) in {secs:.1} s ({:.0} leads/s)",
        out.inserted,
        out.skipped_duplicates.len(),
        out.inserted as f64 / secs.max(1e-9)
    );
    Ok(())
}
