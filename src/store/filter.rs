//! The leads filter grammar (shared by the list, the status summary and
//! every export) and the one dialect-aware builder that turns it into SQL
//! for both backends. Handlers parse query strings / JSON into
//! [`LeadFilter`]; stores call [`LeadFilter::to_sql`].

use chrono::{DateTime, NaiveDate, Utc};
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
    /// An instant (INTEGER milliseconds on SQLite, TIMESTAMPTZ on PostgreSQL).
    Instant(DateTime<Utc>),
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
    /// Digits-only search terms that are no whole phone number: a lead
    /// matches when its phone number contains one (the original's search).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_parts: Vec<String>,
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
    /// Not called since this instant (never called, or last called before
    /// it): the desk's pending leads. Never taken from a client.
    #[serde(skip)]
    pub not_called_since: Option<DateTime<Utc>>,
}

/// The most distinct search terms one filter may hold. Each is an OR arm (and an FTS
/// subquery) in the SQL: 1,001 went past SQLite's expression depth and answered 500
/// (review M10); 500 is far beyond any search a person types or pastes.
pub const MAX_SEARCH_TERMS: usize = 500;

/// A search with more than [`MAX_SEARCH_TERMS`] distinct terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("search: at most {MAX_SEARCH_TERMS} comma-separated terms (got {0})")]
pub struct TooManyTerms(pub usize);

impl LeadFilter {
    /// Splits a comma-separated `search` into phone numbers (anything that
    /// normalises to a valid mobile), digits-only fragments of a phone number
    /// (the original matched those anywhere in the number) and name
    /// fragments; repeated terms count once. More than [`MAX_SEARCH_TERMS`]
    /// in all is refused (the filter is left unchanged).
    pub fn add_search(&mut self, search: &str) -> Result<(), TooManyTerms> {
        let mut phones = self.phones.clone();
        let mut parts = self.phone_parts.clone();
        let mut names = self.names.clone();
        for term in search.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (list, value) = match PhoneNumber::parse(term) {
                Ok(p) => (&mut phones, p.as_str().to_string()),
                Err(_) if term.bytes().all(|b| b.is_ascii_digit()) => {
                    (&mut parts, term.to_string())
                }
                Err(_) => (&mut names, term.to_string()),
            };
            if !list.contains(&value) {
                list.push(value);
            }
            if phones.len() + parts.len() + names.len() > MAX_SEARCH_TERMS {
                let total = search.split(',').filter(|t| !t.trim().is_empty()).count();
                return Err(TooManyTerms(total));
            }
        }
        self.phones = phones;
        self.phone_parts = parts;
        self.names = names;
        Ok(())
    }
}

/// The one order of every leads list and export: never called first, then
/// the oldest call, ties broken by id so pages are stable. SQLite sorts
/// NULLs first by default and accepts `NULLS FIRST` since 3.30; on
/// PostgreSQL it is needed to match the `leads_order` index.
pub const ORDER_BY: &str = "ORDER BY last_called ASC NULLS FIRST, id";

/// A sort key of the leads workspace; each is led by an index that ends in
/// `id` (migrations 0002 and 0009), so an unfiltered page is an index walk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LeadSortKey {
    /// The list's own order ([`ORDER_BY`]): never called first.
    #[default]
    LastCalled,
    /// Name, byte order.
    Name,
    /// Import date, leads without one first.
    ImportDate,
    /// Last change.
    Updated,
}

impl LeadSortKey {
    /// Every key, in the order the pages offer them.
    pub const ALL: [LeadSortKey; 4] = [
        LeadSortKey::LastCalled,
        LeadSortKey::Name,
        LeadSortKey::ImportDate,
        LeadSortKey::Updated,
    ];

    /// The key's name in a URL (`sort=name`).
    pub fn as_str(self) -> &'static str {
        match self {
            LeadSortKey::LastCalled => "last_called",
            LeadSortKey::Name => "name",
            LeadSortKey::ImportDate => "import_date",
            LeadSortKey::Updated => "updated",
        }
    }

    /// The key named `text` (see [`LeadSortKey::as_str`]).
    pub fn parse(text: &str) -> Option<LeadSortKey> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    fn column(self) -> &'static str {
        match self {
            LeadSortKey::LastCalled => "last_called",
            LeadSortKey::Name => "name",
            LeadSortKey::ImportDate => "import_date",
            LeadSortKey::Updated => "updated_at",
        }
    }
}

/// The order of a page of leads: a key and a direction, ties broken by id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LeadOrder {
    /// What to sort by.
    pub key: LeadSortKey,
    /// Largest first.
    pub descending: bool,
}

impl LeadOrder {
    /// `ORDER BY …` for both dialects; `reversed` flips it (a late page is
    /// read from the far end of the index and flipped back in memory). NULLs
    /// sort first ascending and last descending on both backends, which is
    /// the backward walk of each index.
    pub fn order_by(self, reversed: bool) -> String {
        let column = self.key.column();
        if self.descending != reversed {
            format!("ORDER BY {column} DESC NULLS LAST, id DESC")
        } else {
            format!("ORDER BY {column} ASC NULLS FIRST, id ASC")
        }
    }

    /// Where to read page `page` (1-based) of `limit` rows among `total`:
    /// `(reversed, limit, offset)`. Past the middle the page is read in the
    /// reversed order from the end, so the last page costs what the first
    /// does instead of an OFFSET walk over every row before it.
    pub fn window(total: i64, page: u32, limit: u32) -> (bool, i64, i64) {
        let limit = i64::from(limit);
        let offset = i64::from(page.saturating_sub(1)) * limit;
        if offset >= total || offset + limit <= total / 2 {
            return (false, limit, offset);
        }
        let from_end = total - offset - limit;
        if from_end < 0 {
            (true, limit + from_end, 0)
        } else {
            (true, limit, from_end)
        }
    }
}

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
            && self.phone_parts.is_empty()
            && self.assigned_on.is_none()
            && self.callback_on.is_none()
            && self.callback_before.is_none()
            && self.not_called_since.is_none()
    }

    /// True when, besides stage and status, the filter reads exactly one of
    /// the source, the telecaller (a filter or a telecaller's own scope), the
    /// import-date range or unassigned-only: then an index led by that column
    /// and ending in (stage, status) (SQLite's migration 0009) answers counts
    /// per stage and status as a covering range scan (~25 ms for 100k leads
    /// of 1M), faster than summing `lead_counts` when imports are spread over
    /// many days (seeded data: 760k counter rows for 1M leads).
    pub fn one_indexed_column(&self) -> bool {
        if !self.only_counted_columns() {
            return false;
        }
        let used = [
            self.source.is_some(),
            self.telecaller.is_some() || self.own_only.is_some(),
            self.start_date.is_some() || self.end_date.is_some(),
            self.unassigned_only,
        ];
        used.iter().filter(|u| **u).count() == 1
    }

    /// True when only stage, status, source, the telecaller (a filter or a
    /// telecaller's own scope) and unassigned-only filter: then its `WHERE`
    /// applies to `lead_source_telecaller_counts`, PostgreSQL's counts per
    /// (source, telecaller, stage, status) kept in every writing
    /// transaction (its migration 0013).
    pub fn source_telecaller_counts(&self) -> bool {
        self.only_counted_columns() && self.start_date.is_none() && self.end_date.is_none()
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
        if !self.names.is_empty() || !self.phones.is_empty() || !self.phone_parts.is_empty() {
            let mut any = Vec::new();
            // A phrase of trigrams is a case-insensitive substring match
            // answered by the index alone: ~3 ms for a common name on 1M
            // leads, where `name LIKE` on the same FTS table re-reads every
            // candidate row (~165 ms). All the phrases go in one MATCH (FTS5's
            // OR), so 500 terms are one subquery, not 500 nested arms (which
            // overflowed SQLite's expression depth once the list query put
            // the filter inside a subquery of its own).
            // Each phrase names its column (migration 0018 indexes the
            // phone number's trigrams too): digits never match a name.
            let trigram = |t: &&String| dialect == Dialect::Sqlite && t.chars().count() >= 3;
            let phrases: Vec<String> = self
                .names
                .iter()
                .filter(trigram)
                .map(|n| format!("name : \"{}\"", n.replace('"', "\"\"")))
                .chain(
                    self.phone_parts
                        .iter()
                        .filter(trigram)
                        .map(|p| format!("phone_number : \"{p}\"")),
                )
                .collect();
            if !phrases.is_empty() {
                let ph = b.bind(SqlParam::Text(phrases.join(" OR ")));
                any.push(format!(
                    "rowid IN (SELECT rowid FROM leads_name_fts WHERE leads_name_fts MATCH {ph})"
                ));
            }
            for name in &self.names {
                if dialect == Dialect::Sqlite && name.chars().count() >= 3 {
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
            for part in &self.phone_parts {
                // digits only: no LIKE wildcard to escape
                if dialect == Dialect::Sqlite && part.chars().count() >= 3 {
                    continue;
                }
                let ph = b.bind(SqlParam::Text(format!("%{part}%")));
                any.push(format!("phone_number LIKE {ph}"));
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
        if let Some(t) = self.not_called_since {
            // a prefix of every filter index's (…, last_called NULLS FIRST, id) tail
            let ph = b.bind(SqlParam::Instant(t));
            b.conditions
                .push(format!("(last_called IS NULL OR last_called < {ph})"));
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
