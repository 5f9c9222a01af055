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
    /// Assigned for this day (the telecaller desk). Never taken from a client.
    #[serde(skip)]
    pub assigned_on: Option<NaiveDate>,
    /// Callback due on this day (the telecaller desk).
    #[serde(skip)]
    pub callback_on: Option<NaiveDate>,
    /// Callback due before this day, i.e. overdue (the telecaller desk).
    #[serde(skip)]
    pub callback_before: Option<NaiveDate>,
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

/// The one order of every leads list and export: never called first, then
/// the oldest call, ties broken by id so pages are stable. SQLite sorts
/// NULLs first by default and accepts `NULLS FIRST` since 3.30; on
/// PostgreSQL it is needed to match the `leads_order` index.
pub const ORDER_BY: &str = "ORDER BY last_called ASC NULLS FIRST, id";

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern, so a name
/// fragment is matched literally.
fn like_contains(fragment: &str) -> String {
    let mut out = String::with_capacity(fragment.len() + 2);
    out.push('%');
    for c in fragment.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Collects conditions and their parameters, numbering placeholders from
/// a starting index so a caller can put its own parameters first.
struct Builder {
    dialect: Dialect,
    next: usize,
    conditions: Vec<String>,
    params: Vec<SqlParam>,
}

impl Builder {
    /// Binds `p` and returns its placeholder.
    fn bind(&mut self, p: SqlParam) -> String {
        let ph = self.dialect.placeholder(self.next);
        self.next += 1;
        self.params.push(p);
        ph
    }

    /// Case-insensitive equality on the telecaller login. Each form matches
    /// an expression index of migration 0003, so it stays an index range scan.
    fn telecaller_is(&mut self, login: &str) -> String {
        let ph = self.bind(SqlParam::Text(login.to_string()));
        match self.dialect {
            Dialect::Sqlite => format!("assigned_telecaller = {ph} COLLATE NOCASE"),
            Dialect::Postgres => format!("lower(assigned_telecaller) = lower({ph})"),
        }
    }
}

impl LeadFilter {
    /// True when the filter reads only `source`, `import_date`,
    /// `assigned_telecaller`, `stage` and `status`: then its `WHERE` also
    /// applies to a table of counts keyed by those columns (SQLite's
    /// `lead_counts`).
    pub fn only_counted_columns(&self) -> bool {
        self.names.is_empty()
            && self.phones.is_empty()
            && self.assigned_on.is_none()
            && self.callback_on.is_none()
            && self.callback_before.is_none()
    }

    /// Which table of maintained counts (SQLite's migration 0003) can answer
    /// counts for this filter with the same `WHERE`: `lead_status_counts`
    /// (per stage and status, ~40 rows) when only stage/status filter,
    /// `lead_counts` when only counted columns do, `None` otherwise.
    pub fn counts_table(&self) -> Option<&'static str> {
        if !self.only_counted_columns() {
            return None;
        }
        let stage_status_only = self.source.is_none()
            && self.telecaller.is_none()
            && self.start_date.is_none()
            && self.end_date.is_none()
            && !self.unassigned_only
            && self.own_only.is_none();
        Some(if stage_status_only {
            "lead_status_counts"
        } else {
            "lead_counts"
        })
    }

    /// The `WHERE …` clause (or `""` when nothing filters) for `dialect`,
    /// with placeholders numbered from `first_param` (1-based), and the
    /// parameters to bind in that order. Columns are unqualified: the
    /// statement must read from `leads` (without an alias). On SQLite a
    /// name fragment of 3+ characters is a phrase query on
    /// `leads_name_fts`, the trigram index of migration 0003 (shorter ones
    /// scan with `LIKE`); on PostgreSQL `name ILIKE …` (pg_trgm's GIN index).
    pub fn to_sql(&self, dialect: Dialect, first_param: usize) -> (String, Vec<SqlParam>) {
        let mut b = Builder {
            dialect,
            next: first_param,
            conditions: Vec::new(),
            params: Vec::new(),
        };
        if !self.names.is_empty() || !self.phones.is_empty() {
            let mut any = Vec::new();
            for name in &self.names {
                if dialect == Dialect::Sqlite && name.chars().count() >= 3 {
                    // A phrase of trigrams is a case-insensitive substring
                    // match answered by the index alone: ~3 ms for a common
                    // name on 1M leads, where `name LIKE` on the same FTS
                    // table re-reads every candidate row (~165 ms).
                    let phrase = format!("\"{}\"", name.replace('"', "\"\""));
                    let ph = b.bind(SqlParam::Text(phrase));
                    any.push(format!(
                        "rowid IN (SELECT rowid FROM leads_name_fts WHERE leads_name_fts MATCH {ph})"
                    ));
                    continue;
                }
                // shorter than a trigram (SQLite) or PostgreSQL: a pattern;
                // an ESCAPE clause only when needed
                let escape = if name.contains(['%', '_', '\\']) {
                    " ESCAPE '\\'"
                } else {
                    ""
                };
                let ph = b.bind(SqlParam::Text(like_contains(name)));
                any.push(match dialect {
                    Dialect::Sqlite => format!("name LIKE {ph}{escape}"),
                    Dialect::Postgres => format!("name ILIKE {ph}{escape}"),
                });
            }
            if !self.phones.is_empty() {
                let phs: Vec<String> = self
                    .phones
                    .iter()
                    .map(|p| b.bind(SqlParam::Text(p.clone())))
                    .collect();
                any.push(format!("phone_number IN ({})", phs.join(", ")));
            }
            b.conditions.push(format!("({})", any.join(" OR ")));
        }
        if let Some(stage) = self.stage {
            let ph = b.bind(SqlParam::Text(stage.code().to_string()));
            b.conditions.push(format!("stage = {ph}"));
        }
        let exact = [("status", &self.status), ("source", &self.source)];
        for (column, value) in exact {
            if let Some(v) = value {
                let ph = b.bind(SqlParam::Text(v.clone()));
                b.conditions.push(format!("{column} = {ph}"));
            }
        }
        if let Some(t) = &self.telecaller {
            let c = b.telecaller_is(t);
            b.conditions.push(c);
        }
        let dates = [
            ("import_date >=", self.start_date),
            ("import_date <=", self.end_date),
            ("assigned_date =", self.assigned_on),
            ("callback_date =", self.callback_on),
            ("callback_date <", self.callback_before),
        ];
        for (cmp, value) in dates {
            if let Some(d) = value {
                let ph = b.bind(SqlParam::Date(d));
                b.conditions.push(format!("{cmp} {ph}"));
            }
        }
        if self.unassigned_only {
            b.conditions
                .push("(assigned_telecaller IS NULL OR assigned_telecaller = '')".into());
        }
        if let Some(login) = &self.own_only {
            let c = b.telecaller_is(login);
            b.conditions.push(c);
        }
        if b.conditions.is_empty() {
            (String::new(), b.params)
        } else {
            (format!("WHERE {}", b.conditions.join(" AND ")), b.params)
        }
    }
}

/// The columns of `leads`, in [`crate::domain::FIELDS`] order, written as
/// a comma-separated list (`format!("SELECT {LEAD_COLUMNS} FROM leads")`):
/// the one list every backend's row mapping and every `SELECT` of whole
/// leads use.
pub const LEAD_COLUMNS: LeadColumns = LeadColumns;

/// See [`LEAD_COLUMNS`].
#[derive(Debug, Clone, Copy)]
pub struct LeadColumns;

impl LeadColumns {
    /// The column names, in order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        crate::domain::FIELDS.iter().map(|f| f.name)
    }
}

impl std::fmt::Display for LeadColumns {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                out.write_str(", ")?;
            }
            out.write_str(name)?;
        }
        Ok(())
    }
}

/// How many columns [`LEAD_COLUMNS`] names.
pub const LEAD_COLUMN_COUNT: usize = crate::domain::lead_fields::FIELD_COUNT;

/// `where_sql` (from [`LeadFilter::to_sql`], possibly empty) with `extra`
/// ANDed on.
pub fn and_where(where_sql: &str, extra: &str) -> String {
    match where_sql.strip_prefix("WHERE ") {
        Some(conds) => format!("WHERE {conds} AND {extra}"),
        None => format!("WHERE {extra}"),
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
