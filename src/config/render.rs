//! `pulse config`: the effective value of every setting, secrets redacted.

use super::Config;

impl Config {
    /// `pulse config` output: one `PULSE_*=value` line per setting, secrets redacted.
    pub fn render(&self) -> String {
        self.rows()
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect()
    }
}

/// A secret that is set prints `[redacted]`; an unset one, `unset`.
pub(super) fn redacted_or<T>(value: &Option<T>, unset: &str) -> String {
    match value {
        Some(_) => "[redacted]".into(),
        None => unset.into(),
    }
}

/// An optional setting that is unset prints `off`.
pub(super) fn or_off(value: Option<String>) -> String {
    value.unwrap_or_else(|| "off".into())
}
