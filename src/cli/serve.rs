//! `pulse serve`.

use crate::app::Application;
use crate::config::Config;

/// Builds the application and serves until a signal.
pub async fn run(config: Config) -> anyhow::Result<()> {
    Application::build(config).await?.run().await
}
