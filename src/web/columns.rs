//! The leads table's columns and what a user chose to see (kept per user
//! through `store::PrefsStore`).

use serde_json::{Value, json};

use crate::domain::{Lead, to_ist};
use crate::store::filter::LeadSortKey;

/// One optional column of the leads table (the name always shows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// Its key in the preferences and the form.
    pub key: &'static str,
    /// Its header.
    pub label: &'static str,
    /// The sort it offers, if any.
    pub sort: Option<LeadSortKey>,
    /// Shown unless the user hid it.
    pub default: bool,
}

/// Every optional column, in table order.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "phone",
        label: "Phone",
        sort: None,
        default: true,
    },
    Column {
        key: "stage",
        label: "Stage",
        sort: None,
        default: true,
    },
    Column {
        key: "status",
        label: "Status",
        sort: None,
        default: true,
    },
    Column {
        key: "telecaller",
        label: "Telecaller",
        sort: None,
        default: true,
    },
    Column {
        key: "source",
        label: "Source",
        sort: None,
        default: true,
    },
    Column {
        key: "import_date",
        label: "Imported",
        sort: Some(LeadSortKey::ImportDate),
        default: true,
    },
    Column {
        key: "last_called",
        label: "Last called",
        sort: Some(LeadSortKey::LastCalled),
        default: true,
    },
    Column {
        key: "updated",
        label: "Updated",
        sort: Some(LeadSortKey::Updated),
        default: false,
    },
    Column {
        key: "callback",
        label: "Callback",
        sort: None,
        default: false,
    },
    Column {
        key: "location",
        label: "Location",
        sort: None,
        default: false,
    },
    Column {
        key: "vehicle",
        label: "Vehicle",
        sort: None,
        default: false,
    },
    Column {
        key: "email",
        label: "E-mail",
        sort: None,
        default: false,
    },
];

/// The export column showing what a table column shows (DESIGN §6 names),
/// so the Bulk Export writes the columns the chooser shows.
pub fn export_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "phone" => "phone_number",
        "stage" => "stage",
        "status" => "status",
        "telecaller" => "assigned_telecaller",
        "source" => "source",
        "import_date" => "import_date",
        "last_called" => "last_called",
        "updated" => "updated_at",
        "callback" => "callback_date",
        "location" => "current_location",
        "vehicle" => "vehicle",
        "email" => "email",
        _ => return None,
    })
}

/// The export columns of what the table shows: the name, then the shown
/// columns in table order.
pub fn export_columns(shown: &[Column]) -> Vec<String> {
    std::iter::once("name")
        .chain(shown.iter().filter_map(|c| export_key(c.key)))
        .map(str::to_string)
        .collect()
}

/// Row density of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Density {
    /// Roomy rows.
    #[default]
    Comfortable,
    /// More rows on a screen.
    Compact,
}

impl Density {
    /// The name in the form and the CSS class suffix.
    pub fn as_str(self) -> &'static str {
        match self {
            Density::Comfortable => "comfortable",
            Density::Compact => "compact",
        }
    }
}

/// What a user chose for the leads table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TablePrefs {
    /// Keys of the optional columns shown, in [`COLUMNS`] order.
    pub shown: Vec<&'static str>,
    /// Row density.
    pub density: Density,
}

impl Default for TablePrefs {
    fn default() -> Self {
        TablePrefs {
            shown: COLUMNS
                .iter()
                .filter(|c| c.default)
                .map(|c| c.key)
                .collect(),
            density: Density::Comfortable,
        }
    }
}

impl TablePrefs {
    /// From the stored JSON (`{"leads_columns": [...], "density": "compact"}`);
    /// unknown keys are dropped, anything unreadable gives the defaults.
    pub fn from_json(v: Option<&Value>) -> TablePrefs {
        let mut prefs = TablePrefs::default();
        let Some(v) = v else { return prefs };
        if let Some(list) = v.get("leads_columns").and_then(Value::as_array) {
            let wanted: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            prefs.shown = COLUMNS
                .iter()
                .filter(|c| wanted.contains(&c.key))
                .map(|c| c.key)
                .collect();
        }
        if v.get("density").and_then(Value::as_str) == Some("compact") {
            prefs.density = Density::Compact;
        }
        prefs
    }

    /// From the column chooser's form fields (`col=…` repeated, `density=…`).
    pub fn from_form(fields: &[(String, String)]) -> TablePrefs {
        let wanted: Vec<&str> = fields
            .iter()
            .filter(|(k, _)| k == "col")
            .map(|(_, v)| v.as_str())
            .collect();
        TablePrefs {
            shown: COLUMNS
                .iter()
                .filter(|c| wanted.contains(&c.key))
                .map(|c| c.key)
                .collect(),
            density: if fields.iter().any(|(k, v)| k == "density" && v == "compact") {
                Density::Compact
            } else {
                Density::Comfortable
            },
        }
    }

    /// The JSON to store.
    pub fn to_json(&self) -> Value {
        json!({ "leads_columns": self.shown, "density": self.density.as_str() })
    }

    /// The columns shown, in table order.
    pub fn columns(&self) -> Vec<Column> {
        COLUMNS
            .iter()
            .filter(|c| self.shown.contains(&c.key))
            .copied()
            .collect()
    }
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// The cell of `column` for `lead` (dates and times in IST).
pub fn cell(column: &str, lead: &Lead) -> String {
    match column {
        "phone" => lead.phone_number.clone(),
        "stage" => lead.stage.code().to_string(),
        "status" => lead.status.clone(),
        "telecaller" => text(&lead.assigned_telecaller),
        "source" => text(&lead.source),
        "import_date" => lead.import_date.map(|d| d.to_string()).unwrap_or_default(),
        "last_called" => lead
            .last_called
            .map(|t| to_ist(t).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "never".into()),
        "updated" => to_ist(lead.updated_at).format("%Y-%m-%d %H:%M").to_string(),
        "callback" => lead
            .callback_date
            .map(|d| d.to_string())
            .unwrap_or_default(),
        "location" => text(&lead.current_location),
        "vehicle" => text(&lead.vehicle),
        "email" => text(&lead.email),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefs_round_trip_and_ignore_unknown_columns() {
        let fields = vec![
            ("col".to_string(), "source".to_string()),
            ("col".to_string(), "phone".to_string()),
            ("col".to_string(), "<script>".to_string()),
            ("density".to_string(), "compact".to_string()),
        ];
        let p = TablePrefs::from_form(&fields);
        assert_eq!(p.shown, vec!["phone", "source"]);
        assert_eq!(p.density, Density::Compact);
        assert_eq!(TablePrefs::from_json(Some(&p.to_json())), p);
        assert_eq!(TablePrefs::from_json(None), TablePrefs::default());
        assert_eq!(
            TablePrefs::from_json(Some(&json!({"leads_columns": 5}))),
            TablePrefs::default()
        );
    }

    #[test]
    fn every_column_exports_as_a_known_export_column() {
        for c in COLUMNS {
            let key = export_key(c.key).unwrap_or_else(|| panic!("{} has no export column", c.key));
            assert!(
                crate::export::engine::select_columns(Some(&[key.to_string()])).is_ok(),
                "{key}"
            );
        }
        let cols = export_columns(&TablePrefs::default().columns());
        assert_eq!(cols[0], "name");
        assert!(cols.contains(&"phone_number".to_string()));
    }
}
