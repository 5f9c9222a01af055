//! The one parse of the leads filters: the list, the status summary and
//! exports (API and pages) and `pulse export` read the same parameters with
//! the same rules (NUL refused, `all` means no filter, the pipeline's own
//! status names, dates as `YYYY-MM-DD`).

use chrono::NaiveDate;
use serde::Deserialize;

use super::{ServiceError, ServiceResult};
use crate::domain::{Actor, DomainError, Stage, Status};
use crate::store::filter::LeadFilter;

/// A `YYYY-MM-DD` date from a query or body field, naming the field when it is not one.
pub fn parse_date(field: &str, value: &str) -> ServiceResult<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        ServiceError::Invalid(format!(
            "{field}: invalid date {value:?}: expected YYYY-MM-DD"
        ))
    })
}

/// The filter parameters of the list, the status summary and exports
/// (query string, the `filters` object of an export body, the options of
/// `pulse export`). Text, so that a bad value gets an answer naming the
/// parameter; an empty value means "not given", as the original clients
/// send them.
#[derive(Debug, Default, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct FilterQuery {
    /// Names (partial) and phone numbers, comma-separated.
    pub search: Option<String>,
    /// A stage code or name, or `all`.
    pub stage: Option<String>,
    /// A status name, or `all`.
    pub status: Option<String>,
    /// A lead source, exact.
    pub source: Option<String>,
    /// An assigned telecaller's login.
    pub telecaller: Option<String>,
    /// Import date on or after (`YYYY-MM-DD`).
    pub start_date: Option<String>,
    /// Import date on or before (`YYYY-MM-DD`).
    pub end_date: Option<String>,
    /// Only leads with no telecaller (`true`/`false`, also a JSON boolean).
    #[serde(deserialize_with = "bool_or_text")]
    pub unassigned_only: Option<String>,
}

impl FilterQuery {
    /// Every filter name, for JSON bodies that refuse unknown ones.
    pub const FIELDS: &'static [&'static str] = &[
        "search",
        "stage",
        "status",
        "source",
        "telecaller",
        "start_date",
        "end_date",
        "unassigned_only",
    ];
}

/// Reads a JSON `filters` object, refusing names that are not filters: a
/// misspelt filter must not silently widen an export to every lead.
pub fn strict_filters<'de, D: serde::Deserializer<'de>>(d: D) -> Result<FilterQuery, D::Error> {
    use serde::de::Error;
    let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    if let Some(unknown) = map
        .keys()
        .find(|k| !FilterQuery::FIELDS.contains(&k.as_str()))
    {
        return Err(D::Error::custom(format!(
            "unknown filter {unknown:?}; filters are {}",
            FilterQuery::FIELDS.join(", ")
        )));
    }
    serde_json::from_value(serde_json::Value::Object(map)).map_err(D::Error::custom)
}

/// `unassigned_only` arrives as text in a query string and as a boolean in a
/// JSON export body; both become text for one parser.
fn bool_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<B>::deserialize(d)? {
        None => None,
        Some(B::Bool(b)) => Some(b.to_string()),
        Some(B::Text(t)) => Some(t),
    })
}

/// A parameter's value, trimmed; blank means not given.
pub(super) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A select's value: also `all` means "no filter" (the original UI's
/// stage and status selects send it).
fn selected(v: &Option<String>) -> Option<&str> {
    given(v).filter(|s| !s.eq_ignore_ascii_case("all"))
}

impl FilterQuery {
    /// Parses into a [`LeadFilter`] limited to `actor`'s scope.
    pub fn into_filter(self, actor: &Actor) -> ServiceResult<LeadFilter> {
        let mut f = self.parse()?;
        f.own_only = actor.lead_scope();
        Ok(f)
    }

    /// Parses into a [`LeadFilter`] of no one's scope (`pulse export`, which
    /// runs with the database's own rights).
    pub fn parse(self) -> ServiceResult<LeadFilter> {
        let mut f = LeadFilter::default();
        for (field, value) in [
            ("search", &self.search),
            ("source", &self.source),
            ("telecaller", &self.telecaller),
        ] {
            if given(value).is_some_and(|v| v.contains('\0')) {
                return Err(DomainError::NulCharacter { field }.into());
            }
        }
        if let Some(s) = given(&self.search) {
            f.add_search(s)?;
        }
        f.stage = selected(&self.stage)
            .map(str::parse::<Stage>)
            .transpose()
            .map_err(DomainError::from)?;
        f.status = selected(&self.status)
            .map(|s| Status::parse(s).map(|s| s.name().to_string()))
            .transpose()
            .map_err(DomainError::from)?;
        f.source = given(&self.source).map(str::to_string);
        f.telecaller = given(&self.telecaller).map(str::to_string);
        f.start_date = given(&self.start_date)
            .map(|d| parse_date("start_date", d))
            .transpose()?;
        f.end_date = given(&self.end_date)
            .map(|d| parse_date("end_date", d))
            .transpose()?;
        f.unassigned_only = match given(&self.unassigned_only) {
            None => false,
            Some(v) if matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes") => true,
            Some(v) if matches!(v.to_ascii_lowercase().as_str(), "false" | "0" | "no") => false,
            Some(v) => {
                return Err(ServiceError::Invalid(format!(
                    "unassigned_only: expected true or false, got {v:?}"
                )));
            }
        };
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AccountType;
    use uuid::Uuid;

    fn actor(role: AccountType) -> Actor {
        Actor {
            id: Uuid::nil(),
            login: "tc@pulse.example".into(),
            role,
        }
    }

    fn q(f: impl FnOnce(&mut FilterQuery)) -> FilterQuery {
        let mut q = FilterQuery::default();
        f(&mut q);
        q
    }

    #[test]
    fn one_parse_for_every_caller() {
        let f = q(|q| {
            q.search = Some(" Asha, 9876543210 ".into());
            q.stage = Some("S2".into());
            q.status = Some("interested".into());
            q.start_date = Some("2026-09-01".into());
            q.unassigned_only = Some("yes".into());
            q.source = Some("  ".into());
        })
        .parse()
        .unwrap();
        assert_eq!(f.names, ["Asha"]);
        assert_eq!(f.phones, ["9876543210"]);
        assert_eq!(f.stage, Some(Stage::S2));
        assert_eq!(
            f.status.as_deref(),
            Some("Interested"),
            "the status's own name"
        );
        assert_eq!(f.start_date, NaiveDate::from_ymd_opt(2026, 9, 1));
        assert!(f.unassigned_only);
        assert_eq!(f.source, None, "blank means not given");
        assert_eq!(f.own_only, None, "parse alone is of no one's scope");
    }

    #[test]
    fn all_means_no_filter() {
        let f = q(|q| {
            q.stage = Some("ALL".into());
            q.status = Some("all".into());
        })
        .parse()
        .unwrap();
        assert_eq!((f.stage, f.status), (None, None));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        type Case = (fn(&mut FilterQuery), &'static str);
        let cases: [Case; 6] = [
            (
                |q| q.search = Some("a\0b".into()),
                "search: must not contain the NUL",
            ),
            (
                |q| q.telecaller = Some("\0".into()),
                "telecaller: must not contain the NUL",
            ),
            (|q| q.stage = Some("S9".into()), "stage: "),
            (
                |q| q.status = Some("Maybe".into()),
                "status: unknown status",
            ),
            (
                |q| q.end_date = Some("01/09/2026".into()),
                "end_date: invalid date",
            ),
            (
                |q| q.unassigned_only = Some("perhaps".into()),
                "unassigned_only: expected",
            ),
        ];
        for (set, want) in cases {
            let err = q(set).parse().unwrap_err().to_string();
            assert!(err.starts_with(want), "{err:?} should start with {want:?}");
        }
    }

    #[test]
    fn scope_and_masking_come_from_the_actor() {
        let tc = actor(AccountType::Telecaller);
        let f = FilterQuery::default().into_filter(&tc).unwrap();
        assert_eq!(f.own_only.as_deref(), Some("tc@pulse.example"));
        let ops = actor(AccountType::OpsTeam);
        assert_eq!(
            FilterQuery::default().into_filter(&ops).unwrap().own_only,
            None
        );
    }
}
