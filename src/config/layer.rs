//! The one table of settings turned into code: [`settings!`] takes one row
//! per setting and writes its field of the file/env `Layer`, its variable,
//! how the variable is read, how layers merge, how the effective value is
//! resolved (default, checks) into [`super::Config`], and its `pulse config`
//! line. A new setting is one row in `config/mod.rs` and one line in the
//! README's table (a test checks the README).

use std::path::PathBuf;
use std::str::FromStr;

use super::duration::Humane;

/// The environment as the loader sees it (`PULSE_*` → value, empty = unset).
pub(super) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Writes, from one row per setting:
/// - `Layer`: every file key, optional (the TOML file and the environment
///   each make one; later layers override earlier ones);
/// - `Layer::from_env` and `Layer::merge`;
/// - `VARIABLES`, in the order `pulse config` prints them;
/// - `Config` (the rows with `=> field: Type = resolve`; the `PULSE_S3_*`
///   rows have none: the storage row resolves them all) and its
///   `from_layer`, which resolves fields in table order (the first invalid
///   setting in that order is the one named);
/// - `Config::rows`, the `(variable, value)` lines of `pulse config`.
///
/// Row: `key: FileType = "PULSE_VAR", reader, [docs => field: Type = resolve,] render;`
/// where `reader` is one of [`read`]'s functions, `resolve` a
/// `fn(&Layer) -> Result<Type, String>` and `render` a `fn(&Config) -> String`.
macro_rules! settings {
    ($(
        $key:ident: $raw:ty = $var:literal, $read:expr,
        $( $(#[$doc:meta])* => $field:ident: $fty:ty = $resolve:expr, )?
        render $render:expr;
    )*) => {
        /// The effective configuration of a Pulse process.
        #[derive(Clone, Debug)]
        pub struct Config {
            $($( $(#[$doc])* pub $field: $fty, )?)*
        }

        /// The file/env layer: every field optional, later layers override earlier ones.
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(in crate::config) struct Layer {
            $( pub(in crate::config) $key: Option<$raw>, )*
        }

        /// Names of every setting, in the order `pulse config` prints them.
        pub const VARIABLES: &[&str] = &[$($var),*];

        impl Layer {
            fn from_env(get: $crate::config::layer::Env<'_>) -> Result<Self, String> {
                Ok(Self {
                    $( $key: {
                        let read: fn($crate::config::layer::Env<'_>, &str) -> Result<Option<$raw>, String> = $read;
                        read(get, $var)?
                    }, )*
                })
            }

            fn merge(self, over: Layer) -> Layer {
                Layer { $( $key: over.$key.or(self.$key), )* }
            }
        }

        impl Config {
            fn from_layer(l: Layer) -> Result<Self, String> {
                $($(
                    let $field: $fty = {
                        let resolve: fn(&Layer) -> Result<$fty, String> = $resolve;
                        resolve(&l)?
                    };
                )?)*
                Ok(Self { $($( $field, )?)* })
            }

            /// `(variable, value)` for every setting, in [`VARIABLES`] order.
            fn rows(&self) -> Vec<(&'static str, String)> {
                vec![$( ($var, {
                    let render: fn(&Config) -> String = $render;
                    render(self)
                }), )*]
            }
        }
    };
}
pub(super) use settings;

/// How a `PULSE_*` variable becomes a layer value; errors name the variable.
pub(super) mod read {
    use super::*;

    /// The text as it is.
    pub fn text(get: Env<'_>, var: &str) -> Result<Option<String>, String> {
        Ok(get(var))
    }

    /// A path.
    pub fn path(get: Env<'_>, var: &str) -> Result<Option<PathBuf>, String> {
        Ok(get(var).map(PathBuf::from))
    }

    /// A number.
    pub fn num<T: FromStr>(get: Env<'_>, var: &str) -> Result<Option<T>, String> {
        get(var)
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| format!("{var}={v:?} is not a valid number"))
            })
            .transpose()
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    pub fn boolean(get: Env<'_>, var: &str) -> Result<Option<bool>, String> {
        get(var)
            .map(|v| parse_bool(&v).ok_or_else(|| format!("{var}={v:?} is not true/false")))
            .transpose()
    }

    /// A comma-separated list (blank items dropped).
    pub fn list(get: Env<'_>, var: &str) -> Result<Option<Vec<String>>, String> {
        Ok(get(var).map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        }))
    }

    /// A duration, checked when resolved (the file may also give seconds).
    pub fn duration(get: Env<'_>, var: &str) -> Result<Option<Humane>, String> {
        Ok(get(var).map(Humane::Text))
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}
