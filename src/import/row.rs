//! One row of a file → a valid lead (or the field and reason it was
//! rejected for), and the merge of a row into a stored lead for `replace`.

use chrono::{DateTime, NaiveDate, Utc};

use super::mapping::{FIELDS, Field, Mapping, Present};
use super::status::read_status;
use super::values::{Cell, is_cut, is_masked, parse_date, parse_instant, unfloat_phone};
use crate::domain::{FieldMut, Lead, RemarkEntry, Stage, Status, StatusEntry, validate_lead};
use crate::export::csv::strip_csv_guard;

/// What applies to every row of one import.
#[derive(Debug, Clone)]
pub struct RowDefaults {
    /// The source of leads that have none (`lead_source`).
    pub lead_source: Option<String>,
    /// The import date of leads that have none (`lead_date`).
    pub lead_date: Option<NaiveDate>,
    /// A source in the file wins over `lead_source`.
    pub read_source_from_file: bool,
    /// When the import started (new ids' timestamps).
    pub now: DateTime<Utc>,
    /// Cells come from a CSV file: strip Pulse's `'` formula guard.
    pub csv: bool,
}

/// A rejected row: (field, reason).
pub type Reject = (String, String);

/// What a row's reading needs saying in the report (a status that was not
/// an exact match, a second status column that disagreed).
pub type Notes = Vec<String>;

fn reject(f: Field, reason: impl std::fmt::Display) -> Reject {
    (f.name().to_owned(), format!("{}: {reason}", f.name()))
}

/// A lead with every optional field empty.
pub fn blank_lead(now: DateTime<Utc>) -> Lead {
    Lead {
        created_at: now,
        updated_at: now,
        ..Lead::default()
    }
}

/// The text slot of a (nullable) text field.
pub fn text_slot(lead: &mut Lead, f: Field) -> Option<&mut Option<String>> {
    match f.slot(lead) {
        FieldMut::Text(t) => Some(t),
        _ => None,
    }
}

fn date_slot(lead: &mut Lead, f: Field) -> Option<&mut Option<NaiveDate>> {
    match f.slot(lead) {
        FieldMut::Date(d) => Some(d),
        _ => None,
    }
}

/// The cell's text, moved out (the row buffer is refilled for the next
/// row anyway); Pulse's CSV formula guard stripped when `csv`.
fn take_text(cell: &mut Cell, csv: bool) -> Option<String> {
    let t = match std::mem::replace(cell, Cell::Empty) {
        Cell::Text(t) if t.is_empty() => return None,
        Cell::Text(t) => t,
        other => {
            *cell = other;
            cell.text()?
        }
    };
    Some(if csv && t.starts_with('\'') {
        strip_csv_guard(&t).to_owned()
    } else {
        t
    })
}

/// Builds a lead from one row of a sheet or CSV file.
pub fn lead_from_cells(
    mapping: &Mapping,
    cells: &mut [Cell],
    d: &RowDefaults,
) -> Result<(Lead, Present, Notes), Reject> {
    let mut lead = blank_lead(d.now);
    let mut present = Present::default();
    let mut notes = Notes::new();
    let (mut created, mut updated) = (None, None);
    let mut stage: Option<Stage> = None;
    let mut stage_text: Option<String> = None;
    // (column, text) of every filled status column.
    let mut statuses: Vec<(usize, String)> = Vec::new();
    let mut file_source: Option<String> = None;
    for (i, col) in mapping.columns.iter().enumerate() {
        let Some((field, zone)) = *col else { continue };
        let mut blank = Cell::Empty;
        let cell = cells.get_mut(i).unwrap_or(&mut blank);
        present.insert(field);
        let mut text = || take_text(cell, d.csv);
        match field {
            Field::Id => {
                if let Some(t) = text() {
                    lead.id = t
                        .trim()
                        .parse()
                        .map_err(|_| reject(field, format!("{t:?} is not a UUID")))?;
                }
            }
            Field::Name => lead.name = text().unwrap_or_default(),
            Field::PhoneNumber => {
                lead.phone_number = text()
                    .map(|t| unfloat_phone(&t).into_owned())
                    .unwrap_or_default();
            }
            Field::Stage => match text().filter(|t| !t.trim().is_empty()) {
                // Not a stage: the original read it as the status when
                // the status is blank.
                Some(t) => match t.parse() {
                    Ok(st) => stage = Some(st),
                    Err(_) => stage_text = Some(t),
                },
                None => present = remove(present, Field::Stage),
            },
            Field::Status => {
                if let Some(t) = text().filter(|t| !t.trim().is_empty()) {
                    statuses.push((i, t));
                }
            }
            Field::Source => file_source = text(),
            Field::LastCalled => {
                lead.last_called = parse_instant(cell, zone).map_err(|e| reject(field, e))?
            }
            Field::CreatedAt => {
                created = parse_instant(cell, zone).map_err(|e| reject(field, e))?
            }
            Field::UpdatedAt => {
                updated = parse_instant(cell, zone).map_err(|e| reject(field, e))?
            }
            Field::RemarksHistory | Field::StatusHistory => {}
            f => {
                if let Some(slot) = date_slot(&mut lead, f) {
                    *slot = parse_date(cell).map_err(|e| reject(f, e))?;
                } else if let Some(slot) = text_slot(&mut lead, f) {
                    *slot = text();
                }
            }
        }
    }
    if lead.phone_number.trim().is_empty() {
        return Err(reject(Field::PhoneNumber, "missing"));
    }
    if lead.id.is_nil() {
        // A random (v4) id from the thread's RNG: `Uuid::new_v4` asks the
        // OS for every id, a system call per row.
        lead.id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    }
    // A blank status is "not given", not "reset to New".
    let status = mapping
        .status_columns
        .iter()
        .find_map(|c| statuses.iter().find(|(i, _)| i == c));
    if let Some((col, used)) = status {
        for (other, t) in statuses.iter().filter(|(i, _)| i != col) {
            if super::mapping::normalise(t) != super::mapping::normalise(used) {
                notes.push(format!(
                    "status '{}' of column {} used; '{}' of column {} not",
                    used.trim(),
                    col + 1,
                    t.trim(),
                    other + 1
                ));
            }
        }
    } else {
        present = remove(present, Field::Status);
    }
    let reading = match (status, stage, &stage_text) {
        (Some((_, s)), _, _) => Some(read_status(s, None)),
        (None, Some(st), _) => {
            lead.status = Status::first_of(st).name().to_owned();
            None
        }
        (None, None, Some(t)) => Some(read_status(t, Some("the stage column"))),
        (None, None, None) => {
            lead.status = Status::first_of(Stage::S1).name().to_owned();
            None
        }
    };
    if let Some(r) = reading {
        lead.status = r.status.name().to_owned();
        notes.extend(r.note);
    }
    apply_source(&mut lead, file_source, &mut present, d);
    if lead.import_date.is_none() {
        // `lead_date` is for leads that have none: not written by `replace`.
        present = remove(present, Field::ImportDate);
        lead.import_date = d.lead_date;
    }
    if let Some(c) = created {
        lead.created_at = c;
    }
    lead.updated_at = updated.unwrap_or(lead.created_at);
    validate_lead(&mut lead).map_err(|e| (e.field().to_owned(), e.to_string()))?;
    Ok((lead, present, notes))
}

/// `read_source_from_file`: a source in the file wins over `lead_source`;
/// otherwise `lead_source` wins and the file's column does not count as
/// present (so `replace` does not write it).
/// Masked document numbers are not data: a new lead gets none, a stored one keeps its
/// own (the field is taken out of `present`). Returns the fields so emptied, for the
/// report. Every row of every format goes through this.
pub fn drop_masked_documents(lead: &mut Lead, present: &mut Present) -> Present {
    let mut dropped = Present::default();
    for f in FIELDS.iter().copied().filter(|f| f.is_document()) {
        if let Some(slot) = text_slot(lead, f)
            && slot.as_deref().is_some_and(is_masked)
        {
            *slot = None;
            *present = remove(*present, f);
            dropped.insert(f);
        }
    }
    dropped
}

/// The names of the fields in `set`, comma-separated.
pub fn field_names(set: Present) -> String {
    FIELDS
        .iter()
        .filter(|f| set.contains(**f))
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn apply_source(lead: &mut Lead, file: Option<String>, present: &mut Present, d: &RowDefaults) {
    let from_file = file.filter(|s| !s.trim().is_empty());
    lead.source = match (from_file, &d.lead_source) {
        (Some(f), None) => Some(f),
        (Some(f), Some(_)) if d.read_source_from_file => Some(f),
        (_, given) => {
            if given.is_some() {
                *present = remove(*present, Field::Source);
            }
            given.clone()
        }
    };
}

fn remove(p: Present, f: Field) -> Present {
    let mut out = Present::default();
    for g in FIELDS {
        if g != f && p.contains(g) {
            out.insert(g);
        }
    }
    out
}

/// `replace`: the stored lead with the fields the file carried, except
/// values that are not data — masked document numbers, text cut by the
/// export, derived columns (never mapped), and the timestamps Pulse keeps
/// itself. `None` when nothing changes (the lead is not written, so its
/// `updated_at` stays).
pub fn merge(
    stored: &Lead,
    new: &Lead,
    present: Present,
    actor: &str,
    now: DateTime<Utc>,
) -> Option<Lead> {
    let mut out = stored.clone();
    let mut new = new.clone();
    for f in FIELDS {
        if !present.contains(f) {
            continue;
        }
        match f {
            Field::Id | Field::CreatedAt | Field::UpdatedAt | Field::Stage | Field::Status => {}
            Field::Name => {
                if !is_cut(&new.name) {
                    out.name = new.name.clone();
                }
            }
            Field::PhoneNumber => out.phone_number = new.phone_number.clone(),
            Field::LastCalled => {
                // The CSV export writes seconds: equal to the second is equal.
                let same = match (new.last_called, stored.last_called) {
                    (Some(n), Some(s)) => {
                        n == s
                            || (n.timestamp_subsec_millis() == 0 && n.timestamp() == s.timestamp())
                    }
                    (a, b) => a == b,
                };
                if !same {
                    out.last_called = new.last_called;
                }
            }
            Field::RemarksHistory => out.remarks_history = std::mem::take(&mut new.remarks_history),
            Field::StatusHistory => out.status_history = std::mem::take(&mut new.status_history),
            f => {
                if let Some(slot) = date_slot(&mut new, f) {
                    let v = *slot;
                    *date_slot(&mut out, f).expect("date field") = v;
                } else if let Some(slot) = text_slot(&mut new, f) {
                    let v = slot.clone();
                    let keep = v
                        .as_deref()
                        .is_some_and(|s| is_cut(s) || (f.is_document() && is_masked(s)));
                    if !keep {
                        *text_slot(&mut out, f).expect("text field") = v;
                    }
                }
            }
        }
    }
    if present.contains(Field::Status) || present.contains(Field::Stage) {
        out.stage = new.stage;
        out.status = new.status.clone();
    }
    if out == *stored {
        return None;
    }
    if out.status != stored.status && !present.contains(Field::StatusHistory) {
        out.status_history.push(StatusEntry {
            status: out.status.clone(),
            stage: out.stage,
            changed_by: actor.to_owned(),
            changed_at: now,
        });
    }
    if out.remarks != stored.remarks
        && !present.contains(Field::RemarksHistory)
        && let Some(r) = &out.remarks
    {
        out.remarks_history.push(RemarkEntry {
            remark: r.clone(),
            updated_by: actor.to_owned(),
            updated_at: now,
        });
    }
    out.updated_at = now;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::mapping::map_headers;

    fn defaults() -> RowDefaults {
        RowDefaults {
            lead_source: Some("Walk-in".into()),
            lead_date: NaiveDate::from_ymd_opt(2026, 1, 5),
            read_source_from_file: true,
            now: "2026-01-05T10:00:00Z".parse().unwrap(),
            csv: true,
        }
    }

    fn row(headers: &[&str], cells: &[&str]) -> Result<(Lead, Present), Reject> {
        noted(headers, cells).map(|(l, p, _)| (l, p))
    }

    fn noted(headers: &[&str], cells: &[&str]) -> Result<(Lead, Present, Notes), Reject> {
        let m = map_headers(headers);
        let mut cells: Vec<Cell> = cells
            .iter()
            .map(|c| {
                if c.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text((*c).into())
                }
            })
            .collect();
        lead_from_cells(&m, &mut cells, &defaults())
    }

    #[test]
    fn a_messy_row() {
        let (l, p) = row(
            &[
                "Driver Name",
                "Mobile No.",
                "STATUS",
                "Date of import",
                "Remarks",
            ],
            &[
                "Ravi",
                "+91 98765-43210",
                "call back 1w",
                "05/01/2026",
                "'=2+3 deposit",
            ],
        )
        .unwrap();
        assert_eq!(l.phone_number, "9876543210");
        assert_eq!(l.status, "Call back 1W");
        assert_eq!(l.import_date, NaiveDate::from_ymd_opt(2026, 1, 5));
        assert_eq!(l.remarks.as_deref(), Some("=2+3 deposit"));
        assert_eq!(l.source.as_deref(), Some("Walk-in"));
        assert!(p.contains(Field::Remarks) && !p.contains(Field::Email));
    }

    #[test]
    fn rejections_name_the_field() {
        let e = row(&["name", "phone"], &["Ravi", "12345"]).unwrap_err();
        assert_eq!(e.0, "phone_number");
        let long = "x".repeat(crate::domain::error::MAX_TEXT_CHARS + 1);
        let e = row(&["name", "phone", "email"], &["Ravi", "9876543210", &long]).unwrap_err();
        assert_eq!(e.0, "email");
        let remark = "r".repeat(crate::domain::error::MAX_REMARK_CHARS + 1);
        let e = row(
            &["name", "phone", "remarks"],
            &["Ravi", "9876543210", &remark],
        )
        .unwrap_err();
        assert_eq!(e.0, "remarks");
        assert!(e.1.contains("remarks"), "{}", e.1);
        let remark = "r".repeat(crate::domain::error::MAX_REMARK_CHARS);
        assert!(
            row(
                &["name", "phone", "remarks"],
                &["Ravi", "9876543210", &remark]
            )
            .is_ok()
        );
        let e = row(
            &["name", "phone", "end date"],
            &["Ravi", "9876543210", "31/02/2026"],
        )
        .unwrap_err();
        assert_eq!(e.0, "end_date");
        let e = row(&["name", "phone"], &["", "9876543210"]).unwrap_err();
        assert_eq!(e.0, "name");
        let e = row(&["name", "phone"], &["Ra\0vi", "9876543210"]).unwrap_err();
        assert_eq!(e.0, "name");
    }

    #[test]
    fn statuses_are_read_leniently_and_explained() {
        let (l, _, notes) = noted(
            &["name", "phone", "status"],
            &["Ravi", "9876543210", "Maybe"],
        )
        .unwrap();
        assert_eq!((l.status.as_str(), l.stage), ("New", Stage::S1));
        assert_eq!(
            notes,
            vec!["'Maybe' read as New (unknown status: please check the lead)"]
        );
        // Two status columns: the later "Status" wins where filled.
        let h = ["name", "Status", "phone", "Status"];
        let (l, _, notes) = noted(&h, &["Ravi", "New", "9876543210", "S2-a docs pending"]).unwrap();
        assert_eq!(
            (l.status.as_str(), l.stage),
            ("Docs Upload Pending", Stage::S2)
        );
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(
            notes[0].contains("column 4 used; 'New' of column 2 not"),
            "{notes:?}"
        );
        let (l, _, notes) = noted(&h, &["Ravi", "RNR", "9876543210", ""]).unwrap();
        assert_eq!((l.status.as_str(), notes.len()), ("RNR", 0));
        // A stage column that holds a status, the status blank.
        let (l, _, notes) = noted(
            &["name", "phone", "stage"],
            &["Ravi", "9876543210", "interested"],
        )
        .unwrap();
        assert_eq!(l.status, "Interested");
        assert_eq!(
            notes,
            vec!["'interested' (from the stage column) read as Interested"]
        );
        let (l, _, notes) =
            noted(&["name", "phone", "stage"], &["Ravi", "9876543210", "S3"]).unwrap();
        assert_eq!((l.status.as_str(), notes.len()), ("Schedule Pending", 0));
    }

    #[test]
    fn merge_keeps_masked_and_unchanged() {
        let (stored, _) = row(
            &["name", "phone", "dl no"],
            &["Ravi", "9876543210", "TN0120074787142"],
        )
        .unwrap();
        let (same, p) = row(
            &["name", "phone", "dl no"],
            &["Ravi", "9876543210", "XXXXXXXXXXX7142"],
        )
        .unwrap();
        assert_eq!(merge(&stored, &same, p, "a", defaults().now), None);
        let (edited, p) = row(
            &["name", "phone", "status"],
            &["Ravi K", "9876543210", "Interested"],
        )
        .unwrap();
        let out = merge(&stored, &edited, p, "a", defaults().now).unwrap();
        assert_eq!(out.name, "Ravi K");
        assert_eq!(out.dl_no.as_deref(), Some("TN0120074787142"));
        assert_eq!(out.status_history.last().unwrap().status, "Interested");
    }
}
