//! The original's "Bulk Import from Excel" (COMPAT §2.14, issue 19):
//! `POST /api/driver-onboarding/bulk-import`. Not a second importer: the
//! file goes through [`super::imports::import`] — the same parse, row rules,
//! report, journal (so it can be undone), job above
//! `PULSE_IMPORT_JOB_THRESHOLD` and audit as every import — with
//! `Action::Replace` and an [`Upsert`] (see there for what changes: the
//! columns by position, blank cells never clear, the first row of a phone
//! wins, telecallers resolved by name). Before it, the original's automatic
//! backup of every lead ([`super::backups::before_import`]).
//!
//! What the request asks is checked before anything is written (the file
//! type, the mapping, a header the importer can read without one), so bad
//! input is a 4xx and takes no backup.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use super::imports::{self, ImportForm, Imported, Upload};
use super::{ServiceError, ServiceResult, Services};
use crate::backup::BackupInfo;
use crate::domain::{AccountStatus, AccountType, Actor};
use crate::import::Upsert;
use crate::import::mapping::ColumnPositions;
use crate::import::report::{Counts, ReportRow};
use crate::import::run::Action;
use crate::store::ExportJob;
use crate::store::filter::LeadFilter;

/// The lead fields the original's dialog maps (COMPAT §2.14); `name` and
/// `phone_number` must be mapped.
pub const MAPPABLE: [&str; 19] = [
    "name",
    "phone_number",
    "email",
    "vehicle",
    "driving_license",
    "experience",
    "interested_ev",
    "monthly_salary",
    "current_location",
    "status",
    "stage",
    "assigned_telecaller",
    "source",
    "dl_no",
    "badge_no",
    "aadhar_card",
    "pan_card",
    "gas_bill",
    "bank_passbook",
];

/// A bulk-import as asked for.
#[derive(Debug, Clone)]
pub struct BulkForm {
    /// The workbook.
    pub upload: Upload,
    /// `column_mapping` as sent (JSON text), if it was.
    pub column_mapping: Option<String>,
}

/// What a bulk-import did.
#[derive(Debug)]
pub struct BulkImported {
    /// The automatic backup taken first.
    pub backup: BackupInfo,
    /// The import's id (its report's, its undo's).
    pub import_id: Uuid,
    /// Its counts.
    pub counts: Counts,
    /// All report lines.
    pub report_lines: u64,
    /// The first report lines (a synchronous import's; a job's are in its report).
    pub shown: Vec<ReportRow>,
    /// The import job, when the upload was above `PULSE_IMPORT_JOB_THRESHOLD`.
    pub job: Option<ExportJob>,
    /// Leads stored once it was done.
    pub total_leads_now: u64,
}

fn bad(m: String) -> ServiceError {
    ServiceError::Malformed(m)
}

/// `column_mapping` as positions: a JSON object of lead field → 0-based
/// column (a number, or digits as text; `null` or `""`: not mapped). A
/// field the dialog does not map, a bad index, a column given twice, or a
/// mapping without `name` and `phone_number` is refused naming it.
pub fn parse_mapping(text: &str) -> ServiceResult<ColumnPositions> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| bad(format!("column_mapping: not JSON ({e})")))?;
    let Value::Object(map) = value else {
        return Err(bad(
            "column_mapping: expected a JSON object of lead field → 0-based column index".into(),
        ));
    };
    let mut out = Vec::new();
    for (field, v) in map {
        if !MAPPABLE.contains(&field.as_str()) {
            return Err(ServiceError::Invalid(format!(
                "column_mapping: {field:?} is not a field the import maps (expected one of: {})",
                MAPPABLE.join(", ")
            )));
        }
        let index = match &v {
            Value::Null => continue,
            Value::String(s) if s.trim().is_empty() => continue,
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        let index = index.and_then(|i| usize::try_from(i).ok()).ok_or_else(|| {
            ServiceError::Invalid(format!(
                "column_mapping: {field}: {v} is not a 0-based column index"
            ))
        })?;
        out.push((index, field));
    }
    for required in ["name", "phone_number"] {
        if !out.iter().any(|(_, f)| f == required) {
            return Err(ServiceError::Invalid(format!(
                "column_mapping: {required} must be mapped to a column"
            )));
        }
    }
    out.sort();
    let positions = ColumnPositions(out);
    positions.check().map_err(ServiceError::Invalid)?;
    Ok(positions)
}

/// Active telecallers by [`Upsert::key`] of "first last", first name,
/// e-mail and user name → login. A key two telecallers share (two named
/// Priya) resolves to neither: a cell that says only "Priya" is not
/// assigned, rather than assigned to the wrong one.
async fn telecaller_names(svc: &Services) -> ServiceResult<HashMap<String, String>> {
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    for u in svc.store.list_users().await? {
        if u.account_type != AccountType::Telecaller || u.status != AccountStatus::Active {
            continue;
        }
        let full = format!("{} {}", u.first_name, u.last_name);
        let mut keys: Vec<String> = [Some(full.as_str()), Some(&u.first_name), Some(&u.email)]
            .into_iter()
            .chain([u.username.as_deref()])
            .flatten()
            .map(Upsert::key)
            .filter(|k| !k.is_empty())
            .collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            names
                .entry(k)
                .and_modify(|v| *v = None)
                .or_insert_with(|| Some(u.email.clone()));
        }
    }
    Ok(names
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect())
}

/// Checks the request and turns it into the import it runs; nothing is
/// written. Refused (400): a file not named `.xlsx`/`.xls` or not an xlsx
/// workbook; `column_mapping` that is not a JSON object; without a mapping,
/// a first sheet whose header the importer does not recognise. 422: a
/// mapping naming an unknown field or a bad column, or without name and
/// phone_number. 403 without the import capability.
pub async fn prepare(svc: &Services, actor: &Actor, form: BulkForm) -> ServiceResult<ImportForm> {
    imports::may_import(actor)?;
    let upload = form.upload;
    let lower = upload.name.to_ascii_lowercase();
    if !(lower.ends_with(".xlsx") || lower.ends_with(".xls")) {
        return Err(bad(format!(
            "{}: only Excel files (.xlsx, .xls) can be bulk-imported",
            upload.name
        )));
    }
    if upload.bytes == 0 {
        return Err(bad(format!("{}: the file is empty", upload.name)));
    }
    let positions = match form.column_mapping.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(parse_mapping(text)?),
    };
    let (path, name) = (upload.path.clone(), upload.name.clone());
    let format = tokio::task::spawn_blocking(move || crate::import::detect::detect(&path, &name))
        .await
        .map_err(ServiceError::internal)?;
    match format {
        Ok(crate::import::Format::Xlsx) => {}
        Ok(_) => {
            return Err(bad(format!(
                "{}: not an Excel workbook (.xlsx); its content reads as text",
                upload.name
            )));
        }
        Err(
            crate::import::ImportError::Invalid(m) | crate::import::ImportError::Unsupported(m),
        ) => {
            return Err(bad(m));
        }
        Err(e) => return Err(e.into()),
    }
    if positions.is_none() {
        // The header the importer finds by its synonyms, before a backup.
        let defaults = crate::import::row::RowDefaults {
            lead_source: None,
            lead_date: None,
            read_source_from_file: true,
            now: chrono::Utc::now(),
            csv: false,
        };
        let peeked = crate::import::run::peek(
            upload.path.clone(),
            upload.name.clone(),
            defaults,
            Vec::new(),
            1,
        )
        .await;
        match peeked {
            Ok(_) => {}
            Err(crate::import::ImportError::Invalid(m)) => {
                return Err(bad(format!(
                    "{m}; or send column_mapping (lead field → 0-based column)"
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(ImportForm {
        upload,
        users: HashMap::new(),
        lead_source: None,
        lead_date: None,
        read_source_from_file: true,
        action: Action::Replace,
        choices: Vec::new(),
        dry_run: false,
        upsert: Some(Upsert {
            positions,
            telecallers: telecaller_names(svc).await?,
        }),
    })
}

/// Runs a prepared bulk-import: the automatic backup, then the import —
/// now, or as a job waited for (polled every `poll`). The backup comes
/// back with the outcome, or with the error.
pub async fn run(
    svc: &Services,
    actor: &Actor,
    form: ImportForm,
    poll: std::time::Duration,
) -> (Option<BackupInfo>, ServiceResult<BulkImported>) {
    let backup = match super::backups::before_import(svc, actor).await {
        Ok(b) => b,
        Err(e) => return (None, Err(e)),
    };
    let done = imported(svc, actor, form, poll, backup.clone()).await;
    (Some(backup), done)
}

async fn imported(
    svc: &Services,
    actor: &Actor,
    form: ImportForm,
    poll: std::time::Duration,
    backup: BackupInfo,
) -> ServiceResult<BulkImported> {
    let mut out = match imports::import(svc, actor, form).await? {
        Imported::Now(done) => BulkImported {
            backup,
            import_id: done.id,
            counts: done.result.counts(),
            report_lines: done.report_lines,
            shown: done.shown,
            job: None,
            total_leads_now: 0,
        },
        Imported::Queued(job) => {
            let job = imports::wait_job(svc, actor, *job, poll).await?;
            if job.status != crate::store::JobStatus::Done {
                return Err(ServiceError::Invalid(job.error.clone().unwrap_or_else(
                    || format!("the import job was {}", job.status.as_str()),
                )));
            }
            let result = job.result.clone().unwrap_or_default();
            let counts: Counts = serde_json::from_value(result.clone()).unwrap_or_default();
            BulkImported {
                backup,
                import_id: job.id,
                counts,
                report_lines: result
                    .get("report_lines")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                shown: Vec::new(),
                job: Some(job),
                total_leads_now: 0,
            }
        }
    };
    let total = svc.store.count_leads(&LeadFilter::default()).await?;
    out.total_leads_now = u64::try_from(total).unwrap_or(0);
    Ok(out)
}
