//! `pulse migrate`.

use anyhow::Context;

use crate::config::Config;
use crate::store;

/// Applies pending migrations and reports them.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let store = store::connect(config.database_url.expose())
        .await
        .with_context(|| format!("cannot open database {}", config.database_url_redacted()))?;
    let applied = store.migrate().await.context("migrating")?;
    if applied.is_empty() {
        println!("database is up to date ({})", store.backend_name());
    } else {
        for name in applied {
            println!("applied {name}");
        }
    }
    Ok(())
}
