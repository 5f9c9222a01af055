//! The leads filter grammar (shared by the list, the status summary and
//! every export) and the one dialect-aware builder that turns it into SQL
//! for both backends. Handlers parse query strings / JSON into
//! [`LeadFilter`]; stores call [`LeadFilter::to_sql`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{PhoneNumber, Stage};

/// SQL dialect: only placeholders and a few functions differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `?1`, `?2`, … placeholders.
    Sqlite,
    /// `$1`, `$2`, … placeholders.
    Postgres,
}

impl Dialect {
    /// The placeholder for the `n`-th (1-based) parameter.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    }
}

/// A value bound to a placeholder; each backend converts it to its driver's type.
#[derive(Clone, Debug, PartialEq)]
pub enum SqlParam {
    /// Text.
    Text(String),
    /// A calendar date (TEXT `YYYY-MM-DD` on SQLite, DATE on PostgreSQL).
    Date(NaiveDate),
    /// An integer.
    Int(i64),
}

/// Which leads: every field optional; all given fields must hold (AND).
/// Field names are the leads list's query parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadFilter {
    /// Names (partial, case-insensitive) and phone numbers (exact after
    /// normalisation); a lead matches if it matches any term.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Normalised phone numbers from the search terms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    /// Pipeline stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<Stage>,
    /// Canonical status name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Lead source, exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Assigned telecaller's login, exact (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telecaller: Option<String>,
    /// Import date on or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<NaiveDate>,
    /// Import date on or before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<NaiveDate>,
    /// Only leads with no telecaller.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unassigned_only: bool,
    /// Set by the permission layer for telecallers: only leads assigned to
    /// this login. Never taken from a client.
    #[serde(skip)]
    pub own_only: Option<String>,
}

impl LeadFilter {
    /// Splits a comma-separated `search` into phone numbers (anything that
    /// normalises to a valid mobile) and name fragments.
    pub fn add_search(&mut self, search: &str) {
        for term in search.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            match PhoneNumber::parse(term) {
                Ok(p) => self.phones.push(p.as_str().to_string()),
                Err(_) => self.names.push(term.to_string()),
            }
        }
    }
}
