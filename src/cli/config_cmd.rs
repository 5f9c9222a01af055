//! `pulse config`.

use crate::config::Config;

/// Prints the effective configuration, one `PULSE_*=value` per line.
pub fn run(config: &Config) -> anyhow::Result<()> {
    print!("{}", config.render());
    Ok(())
}
