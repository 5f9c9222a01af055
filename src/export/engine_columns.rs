//! The export's columns: the original system's order, readable headers
//! (which `anchors/validate_xlsx.py` maps back to field names), widths, and
//! where each value comes from in a [`LeadRow`].

use std::sync::LazyLock;

use super::row::{Cell, Column, ColumnKind};
pub use crate::config::HeaderStyle;
use crate::domain::mask_document;
use crate::domain::{FIELDS, FieldType};
use crate::store::{EXPORT_DATE_FIELDS, EXPORT_INSTANT_FIELDS, EXPORT_TEXT_FIELDS, LeadRow};

/// Where a column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Src {
    /// Free text: index into [`LeadRow::text`].
    Text(usize),
    /// Low-cardinality text (stage, status, source, telecaller).
    Shared(usize),
    /// A document number (PII): masked unless the caller may see it.
    Doc { text: usize, pii: usize },
    /// Whether the document number is present: `answers[1]` if so, else
    /// `answers[0]` (`No`/`Yes`, or the original's `no`/`yes`).
    Uploaded {
        text: usize,
        answers: &'static [&'static str; 2],
    },
    /// Index into [`LeadRow::dates`].
    Date(usize),
    /// Index into [`LeadRow::instants`].
    Instant(usize),
}

/// One export column: its key (the field name a client asks for), its
/// header and width, and its source.
#[derive(Debug, Clone)]
pub struct ExportColumn {
    /// The name in a request's `columns` list (`phone_number`, `dl_no_uploaded`, …).
    pub key: &'static str,
    /// Header, width and kind for the file writers.
    pub column: Column,
    src: Src,
}

fn idx(list: &[&str], name: &str) -> usize {
    list.iter()
        .position(|f| *f == name)
        .unwrap_or_else(|| panic!("export field {name} missing from the row source"))
}

/// The export header of lead field `key` (the lead field list).
fn header(key: &str) -> &'static str {
    crate::domain::lead_fields::by_name(key)
        .and_then(|f| f.export_header)
        .unwrap_or_else(|| panic!("lead field {key} has no export header"))
}

fn text(key: &'static str, width: f64) -> ExportColumn {
    col(
        key,
        header(key),
        width,
        Src::Text(idx(&EXPORT_TEXT_FIELDS, key)),
    )
}

fn shared(key: &'static str, width: f64) -> ExportColumn {
    col(
        key,
        header(key),
        width,
        Src::Shared(idx(&EXPORT_TEXT_FIELDS, key)),
    )
}

fn col(key: &'static str, header: &'static str, width: f64, src: Src) -> ExportColumn {
    let kind = match src {
        Src::Date(_) => ColumnKind::Date,
        Src::Instant(_) => ColumnKind::DateTime,
        _ => ColumnKind::Text,
    };
    ExportColumn {
        key,
        column: Column::new(header, width, kind),
        src,
    }
}

const LABEL_ANSWERS: [&str; 2] = ["No", "Yes"];
const FIELD_ANSWERS: [&str; 2] = ["no", "yes"];

/// Pulse's key of each `… Uploaded` column and the original system's field
/// name of it (COMPAT §2.15).
const ORIGINAL_UPLOADED: [(&str, &str); 6] = [
    ("dl_no_uploaded", "dl_documents_uploaded"),
    ("badge_no_uploaded", "badge_documents_uploaded"),
    ("aadhar_card_uploaded", "aadhar_documents_uploaded"),
    ("pan_card_uploaded", "pan_documents_uploaded"),
    ("gas_bill_uploaded", "gas_documents_uploaded"),
    ("bank_passbook_uploaded", "bank_documents_uploaded"),
];

/// `columns` with the header row in `style`: for [`HeaderStyle::Fields`]
/// each header is the column's field name (the original's
/// `*_documents_uploaded` for the `… Uploaded` columns, whose cells then
/// read `yes`/`no`). Done once per export, before the first row.
pub fn with_headers(mut columns: Vec<ExportColumn>, style: HeaderStyle) -> Vec<ExportColumn> {
    if style == HeaderStyle::Labels {
        return columns;
    }
    for c in &mut columns {
        let name = ORIGINAL_UPLOADED
            .iter()
            .find(|(k, _)| *k == c.key)
            .map_or(c.key, |(_, orig)| orig);
        c.column.header = name.into();
        if let Src::Uploaded { answers, .. } = &mut c.src {
            *answers = &FIELD_ANSWERS;
        }
    }
    columns
}

/// Every column, in the original system's order (issue 4 §2).
pub static ALL_COLUMNS: LazyLock<Vec<ExportColumn>> = LazyLock::new(|| {
    let mut v = vec![
        text("id", 38.0),
        text("name", 24.0),
        text("phone_number", 14.0),
        text("email", 28.0),
        text("vehicle", 12.0),
        shared("stage", 8.0),
        shared("status", 22.0),
        shared("source", 18.0),
        text("remarks", 40.0),
        text("current_location", 18.0),
        text("preferred_shift", 15.0),
        text("experience", 12.0),
        shared("assigned_telecaller", 26.0),
    ];
    const DOCS: [(&str, &str, &str); 6] = [
        ("dl_no_uploaded", "dl_no", "DL No Uploaded"),
        ("badge_no_uploaded", "badge_no", "Badge No Uploaded"),
        (
            "aadhar_card_uploaded",
            "aadhar_card",
            "Aadhar Card Uploaded",
        ),
        ("pan_card_uploaded", "pan_card", "PAN Card Uploaded"),
        ("gas_bill_uploaded", "gas_bill", "Gas Bill Uploaded"),
        (
            "bank_passbook_uploaded",
            "bank_passbook",
            "Bank Passbook Uploaded",
        ),
    ];
    for (pii, (up_key, key, up_header)) in DOCS.into_iter().enumerate() {
        let t = idx(&EXPORT_TEXT_FIELDS, key);
        v.push(col(
            up_key,
            up_header,
            10.0,
            Src::Uploaded {
                text: t,
                answers: &LABEL_ANSWERS,
            },
        ));
        v.push(col(key, header(key), 18.0, Src::Doc { text: t, pii }));
    }
    let date = |key| {
        col(
            key,
            header(key),
            12.0,
            Src::Date(idx(&EXPORT_DATE_FIELDS, key)),
        )
    };
    let instant = |key| {
        col(
            key,
            header(key),
            20.0,
            Src::Instant(idx(&EXPORT_INSTANT_FIELDS, key)),
        )
    };
    v.extend([
        instant("last_called"),
        date("callback_date"),
        date("assigned_date"),
        date("import_date"),
        instant("created_at"),
        instant("updated_at"),
        text("driving_license", 10.0),
        text("interested_ev", 10.0),
        text("monthly_salary", 12.0),
        text("residing_chennai", 10.0),
        text("allotted_shift", 14.0),
        text("default_vehicle", 14.0),
        date("end_date"),
    ]);
    // A field added to the lead field list with an export header and no
    // place above goes last, 18 wide.
    for f in FIELDS.iter().filter(|f| f.export_header.is_some()) {
        if v.iter().any(|c| c.key == f.name) {
            continue;
        }
        v.push(match f.ty {
            FieldType::Date => date(f.name),
            FieldType::Instant | FieldType::RequiredInstant => instant(f.name),
            _ => text(f.name, 18.0),
        });
    }
    v
});

/// The most columns an export has (every column once): every field with an
/// export header, plus an `… Uploaded` column per document number.
pub const MAX_COLUMNS: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < FIELDS.len() {
        n += FIELDS[i].export_header.is_some() as usize + FIELDS[i].pii as usize;
        i += 1;
    }
    n
};

/// The columns `keys` names, in the order given (`None` or empty: all).
/// Unknown or repeated names are an error naming them.
pub fn select_columns(keys: Option<&[String]>) -> Result<Vec<ExportColumn>, String> {
    let all = &*ALL_COLUMNS;
    let Some(keys) = keys.filter(|k| !k.is_empty()) else {
        return Ok(all.clone());
    };
    let mut out: Vec<ExportColumn> = Vec::with_capacity(keys.len());
    for k in keys {
        let k = k.trim();
        // the original's names of the `… Uploaded` columns name them too
        let k = ORIGINAL_UPLOADED
            .iter()
            .find(|(_, orig)| *orig == k)
            .map_or(k, |(key, _)| key);
        let c = all
            .iter()
            .find(|c| c.key == k)
            .ok_or_else(|| format!("unknown export column {k:?}"))?;
        if out.iter().any(|o| o.key == c.key) {
            return Err(format!("export column {k:?} given twice"));
        }
        out.push(c.clone());
    }
    Ok(out)
}

/// Document numbers of one row, masked (kept so the cells can borrow them).
#[derive(Default)]
pub(crate) struct Masked([Option<String>; 6]);

/// Fills `cells` from `row` for `columns`; returns how many were set.
/// Masks the document numbers into `masked` when `mask_pii` is set.
pub(crate) fn fill_cells<'a>(
    columns: &[ExportColumn],
    row: &LeadRow<'a>,
    mask_pii: bool,
    masked: &'a mut Masked,
    cells: &mut [Cell<'a>; MAX_COLUMNS],
) -> usize {
    if mask_pii {
        for c in columns {
            if let Src::Doc { text, pii } = c.src {
                masked.0[pii] = row.text[text].map(mask_document);
            }
        }
    }
    let masked: &'a Masked = masked;
    let text = |v: Option<&'a str>| v.map_or(Cell::Empty, Cell::Text);
    for (cell, c) in cells.iter_mut().zip(columns) {
        *cell = match c.src {
            Src::Text(i) => text(row.text[i]),
            Src::Shared(i) => row.text[i].map_or(Cell::Empty, Cell::SharedText),
            Src::Doc { pii, .. } if mask_pii => text(masked.0[pii].as_deref()),
            Src::Doc { text: i, .. } => text(row.text[i]),
            Src::Uploaded { text: i, answers } => Cell::SharedText(
                answers[row.text[i].is_some_and(|s| !s.trim().is_empty()) as usize],
            ),
            Src::Date(i) => row.dates[i].map_or(Cell::Empty, Cell::Date),
            Src::Instant(i) => row.instants[i].map_or(Cell::Empty, Cell::DateTime),
        };
    }
    columns.len().min(MAX_COLUMNS)
}

/// The `Column`s of a selection, for the file writers.
pub fn file_columns(columns: &[ExportColumn]) -> Vec<Column> {
    columns.iter().map(|c| c.column.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_columns_in_the_original_order() {
        let keys: Vec<&str> = ALL_COLUMNS.iter().map(|c| c.key).collect();
        assert_eq!(keys.len(), MAX_COLUMNS);
        assert_eq!(&keys[..3], ["id", "name", "phone_number"]);
        assert_eq!(keys[12], "assigned_telecaller");
        assert_eq!(&keys[13..15], ["dl_no_uploaded", "dl_no"]);
        assert_eq!(keys[25], "last_called");
        assert_eq!(keys[37], "end_date");
    }

    #[test]
    fn subsets_and_unknown_names() {
        let cols = select_columns(Some(&["phone_number".into(), "id".into()])).unwrap();
        assert_eq!(cols.len(), 2);
        assert_eq!(cols[0].key, "phone_number");
        assert!(select_columns(Some(&["nope".into()])).is_err());
        assert!(select_columns(Some(&["id".into(), "id".into()])).is_err());
        assert_eq!(select_columns(None).unwrap().len(), MAX_COLUMNS);
    }

    #[test]
    fn field_name_headers() {
        let cols = with_headers(select_columns(None).unwrap(), HeaderStyle::Fields);
        let heads: Vec<&str> = cols.iter().map(|c| &*c.column.header).collect();
        assert_eq!(&heads[..3], ["id", "name", "phone_number"]);
        assert_eq!(
            &heads[12..19],
            [
                "assigned_telecaller",
                "dl_documents_uploaded",
                "dl_no",
                "badge_documents_uploaded",
                "badge_no",
                "aadhar_documents_uploaded",
                "aadhar_card"
            ]
        );
        assert_eq!(heads[24], "bank_passbook");
        assert_eq!(
            &heads[25..31],
            [
                "last_called",
                "callback_date",
                "assigned_date",
                "import_date",
                "created_at",
                "updated_at"
            ]
        );
        let mut row = LeadRow::default();
        row.text[idx(&EXPORT_TEXT_FIELDS, "dl_no")] = Some("TN01");
        let mut m = Masked::default();
        let mut cells = [Cell::Empty; MAX_COLUMNS];
        fill_cells(&cols, &row, false, &mut m, &mut cells);
        assert_eq!(cells[13], Cell::SharedText("yes"));
        assert_eq!(cells[15], Cell::SharedText("no"));
        // the original's names select the columns too; labels stay labels
        let by_orig = select_columns(Some(&["dl_documents_uploaded".into()])).unwrap();
        assert_eq!(by_orig[0].key, "dl_no_uploaded");
        assert_eq!(by_orig[0].column.header, "DL No Uploaded");
        assert_eq!(HeaderStyle::parse(" Fields "), Some(HeaderStyle::Fields));
        assert_eq!(HeaderStyle::parse("nope"), None);
    }

    /// The per-row cell fill of every column, for instruction counts:
    /// `valgrind --tool=callgrind <lib test binary> bench_fill_cells
    /// --ignored --exact` (`PULSE_BENCH_ROWS`, default 200,000; `PULSE_BENCH_FIELDS`
    /// set: the original's field-name columns).
    #[test]
    #[ignore = "benchmark: run under valgrind --tool=callgrind, see the doc"]
    fn bench_fill_cells() {
        let n: usize = std::env::var("PULSE_BENCH_ROWS").map_or(200_000, |v| v.parse().unwrap());
        let style = if std::env::var_os("PULSE_BENCH_FIELDS").is_some() {
            HeaderStyle::Fields
        } else {
            HeaderStyle::Labels
        };
        let cols = with_headers(select_columns(None).unwrap(), style);
        let docs = [
            "dl_no",
            "badge_no",
            "aadhar_card",
            "pan_card",
            "gas_bill",
            "bank_passbook",
        ];
        let values = [
            "TN0120074787142",
            "36267",
            "548249957695",
            "",
            "LDEPQ7463D",
            "SBIN0001",
        ];
        let mut rows = Vec::new();
        for k in 0..8 {
            let mut row = LeadRow::default();
            for (j, f) in EXPORT_TEXT_FIELDS.iter().enumerate() {
                row.text[j] = Some("Rajesh Kumar, Porur");
                if let Some(d) = docs.iter().position(|d| d == f) {
                    row.text[j] = ((k + d) % 3 != 0).then_some(values[d]);
                }
            }
            rows.push(row);
        }
        let mut shown = 0usize;
        for r in 0..n {
            let row = &rows[r % rows.len()];
            let mut m = Masked::default();
            let mut cells = [Cell::Empty; MAX_COLUMNS];
            let k = fill_cells(&cols, std::hint::black_box(row), false, &mut m, &mut cells);
            shown += std::hint::black_box(&cells[..k])
                .iter()
                .filter(|c| matches!(c, Cell::SharedText(_)))
                .count();
        }
        eprintln!("{n} rows, {shown} shared cells");
    }

    #[test]
    fn masking_and_uploaded() {
        let mut row = LeadRow::default();
        let dl = idx(&EXPORT_TEXT_FIELDS, "dl_no");
        row.text[dl] = Some("TN0120074787142");
        let cols = select_columns(Some(&["dl_no_uploaded".into(), "dl_no".into()])).unwrap();
        let mut m = Masked::default();
        let mut cells = [Cell::Empty; MAX_COLUMNS];
        let n = fill_cells(&cols, &row, true, &mut m, &mut cells);
        assert_eq!(n, 2);
        assert_eq!(cells[0], Cell::SharedText("Yes"));
        assert_eq!(cells[1], Cell::Text("XXXXXXXXXXX7142"));
        let mut m = Masked::default();
        fill_cells(&cols, &row, false, &mut m, &mut cells);
        assert_eq!(cells[1], Cell::Text("TN0120074787142"));
    }
}
