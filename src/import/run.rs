//! One import from start to commit: parse on a blocking thread, resolve
//! duplicates (within the file, then against the database, a batch at a
//! time), write through the store's one-transaction bulk import.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::mapping::{FIELDS, Field, Present};
use super::report::{Counts, ReportRow, ReportWriter};
use super::row::{RowDefaults, merge};
use super::{FileInfo, Format, ImportError, Item, ParseContext, detect, parse_file};
use crate::domain::Lead;
use crate::store::{BulkBatch, DuplicatePolicy, Store};

/// Rows per batch between the parser, the duplicate resolver and the store.
const BATCH: usize = 1024;

/// What to do with a row whose phone (or id) is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Keep the stored lead; within the file the first row wins.
    Skip,
    /// Update the stored lead with the columns the file has; within the
    /// file the last row wins.
    Replace,
    /// Change nothing; report what `replace` would do (the last row of a
    /// phone within the file wins, as there).
    Preview,
}

impl std::str::FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "skip" => Ok(Action::Skip),
            "replace" => Ok(Action::Replace),
            "preview" => Ok(Action::Preview),
            _ => Err(format!(
                "duplicate_action {s:?}: expected skip, replace or preview"
            )),
        }
    }
}

/// One import's input.
pub struct ImportRequest {
    /// Rows one import may hold (`PULSE_IMPORT_MAX_ROWS`); more → 413, nothing written.
    pub max_rows: u64,
    /// The file (an upload already on disk).
    pub path: PathBuf,
    /// Its name as uploaded (for messages).
    pub file_name: String,
    /// Forced format; `None` detects it from the content.
    pub format: Option<Format>,
    /// Per-row defaults.
    pub defaults: RowDefaults,
    /// User id → e-mail (`mongoexport` telecallers).
    pub users: HashMap<String, String>,
    /// The duplicate policy.
    pub action: Action,
    /// Login of whoever imports (status and remark histories).
    pub actor: String,
    /// Where the report CSV goes.
    pub report_path: PathBuf,
    /// Progress and stop signal, when a job worker runs the import.
    pub watch: Option<ImportWatch>,
}

/// What a job worker sees of an import it runs: rows read so far, and a
/// flag that stops it (the import then fails and writes nothing).
#[derive(Clone, Debug, Default)]
pub struct ImportWatch {
    /// Rows (leads and rejected rows) read by the main pass so far.
    pub rows: Arc<AtomicU64>,
    /// Non-zero: stop at the next row.
    pub stop: Arc<AtomicU8>,
}

impl ImportWatch {
    /// Fails when the import was told to stop.
    fn check(&self) -> Result<(), ImportError> {
        if self.stop.load(Ordering::Relaxed) != 0 {
            return Err(ImportError::Io(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "the import was stopped",
            )));
        }
        Ok(())
    }
}

/// What an import did.
#[derive(Debug)]
pub struct ImportOutcome {
    /// About the file.
    pub info: FileInfo,
    /// The counts.
    pub counts: Counts,
    /// The first report lines.
    pub shown: Vec<ReportRow>,
    /// All report lines (in the CSV file).
    pub report_lines: u64,
}

fn phone_key(p: &str) -> u64 {
    // Validated phones are 10 digits.
    p.parse().unwrap_or(0)
}

fn too_many_rows(max: u64) -> ImportError {
    ImportError::TooLarge(format!(
        "the file holds more than {max} rows (PULSE_IMPORT_MAX_ROWS); split it"
    ))
}

fn writer_stopped() -> ImportError {
    ImportError::Io(std::io::Error::other("the database writer stopped"))
}

/// The names of the fields `a` and `b` differ in (for the report).
fn changed_fields(a: &Lead, b: &Lead) -> String {
    let (Ok(serde_json::Value::Object(x)), Ok(serde_json::Value::Object(y))) =
        (serde_json::to_value(a), serde_json::to_value(b))
    else {
        return String::new();
    };
    FIELDS
        .iter()
        .map(|f| f.name())
        .filter(|k| *k != "updated_at" && x.get(*k) != y.get(*k))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs one import (see the module comment). A failure that is not about
/// one row — reading the file, the database — returns an error and leaves
/// the database exactly as it was.
pub async fn import_file(
    store: Arc<dyn Store>,
    req: ImportRequest,
) -> Result<ImportOutcome, ImportError> {
    let format = match req.format {
        Some(f) => f,
        None => {
            let (path, name) = (req.path.clone(), req.file_name.clone());
            tokio::task::spawn_blocking(move || detect::detect(&path, &name))
                .await
                .map_err(|e| ImportError::Io(std::io::Error::other(e)))??
        }
    };
    let shared = Arc::new((req.path.clone(), req.defaults.clone(), req.users));
    let now = req.defaults.now;

    // `replace` (and `preview`, which shows what replace would do): the
    // last row of a phone wins, so a first pass finds it.
    let last: Option<HashMap<u64, (u64, u64)>> = if req.action != Action::Skip {
        let shared = shared.clone();
        let watch = req.watch.clone();
        let max_rows = req.max_rows;
        Some(
            tokio::task::spawn_blocking(move || -> Result<_, ImportError> {
                let (path, defaults, users) = &*shared;
                let cx = ParseContext { defaults, users };
                let mut last = HashMap::new();
                let mut seq = 0u64;
                let mut rows = 0u64;
                parse_file(path, format, &cx, &mut |item| {
                    if let Some(w) = &watch {
                        w.check()?;
                    }
                    rows += 1;
                    if rows > max_rows {
                        return Err(too_many_rows(max_rows));
                    }
                    if let Item::Lead { row, lead, .. } = item {
                        last.insert(phone_key(&lead.phone_number), (seq, row));
                        seq += 1;
                    }
                    Ok(())
                })?;
                Ok(last)
            })
            .await
            .map_err(|e| ImportError::Io(std::io::Error::other(e)))??,
        )
    } else {
        None
    };

    let (tx, mut rx) = mpsc::channel::<Vec<Item>>(4);
    let parser = {
        let shared = shared.clone();
        let watch = req.watch.clone();
        let max_rows = req.max_rows;
        tokio::task::spawn_blocking(move || -> Result<FileInfo, ImportError> {
            let (path, defaults, users) = &*shared;
            let cx = ParseContext { defaults, users };
            let mut batch = Vec::with_capacity(BATCH);
            let mut rows = 0u64;
            let info = parse_file(path, format, &cx, &mut |item| {
                if let Some(w) = &watch {
                    w.check()?;
                    w.rows.fetch_add(1, Ordering::Relaxed);
                }
                rows += 1;
                if rows > max_rows {
                    return Err(too_many_rows(max_rows));
                }
                batch.push(item);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    tx.blocking_send(full).map_err(|_| writer_stopped())?;
                }
                Ok(())
            })?;
            if !batch.is_empty() {
                tx.blocking_send(batch).map_err(|_| writer_stopped())?;
            }
            Ok(info)
        })
    };

    let preview = req.action == Action::Preview;
    // Into an empty table (the first load of a deployment, the benchmark)
    // no row can match a stored lead: skip the per-batch lookups. A lead
    // written meanwhile by someone else is still caught by the store.
    let empty_at_start = store
        .list_leads(&crate::store::filter::LeadFilter::default(), 1, 1)
        .await?
        .1
        == 0;
    let started = std::time::Instant::now();
    let (mut lookup_time, mut send_time) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    let (btx, brx) = mpsc::channel::<BulkBatch>(4);
    let writer = if preview {
        drop(brx);
        None
    } else {
        let store = store.clone();
        // Every lead sent is either new or an already merged stored lead
        // (its stored id): `Replace` makes the store write it either way.
        // With `skip` only new leads are sent, and one that someone else
        // wrote meanwhile is skipped by the store, not overwritten.
        let policy = match req.action {
            Action::Skip => DuplicatePolicy::Skip,
            _ => DuplicatePolicy::Replace,
        };
        Some(tokio::spawn(
            async move { store.bulk_import(brx, policy).await },
        ))
    };

    let mut report = ReportWriter::create(&req.report_path)?;
    let mut counts = Counts::default();
    let mut seq = 0u64;
    // (sheet, row) of every lead sent to the store, by stream position.
    let mut sent: Vec<(u32, u32)> = Vec::new();
    let (skipped, updated) = if preview {
        ("would_skip", "would_update")
    } else {
        ("skipped", "updated")
    };
    let mut resolve = async |items: Vec<Item>,
                             report: &mut ReportWriter,
                             counts: &mut Counts|
           -> Result<(), ImportError> {
        let mut cands: Vec<(u32, u64, Box<Lead>, Present, Present)> =
            Vec::with_capacity(items.len());
        for item in items {
            match item {
                Item::Rejected {
                    sheet,
                    row,
                    field,
                    reason,
                } => {
                    counts.rejected += 1;
                    report.push(ReportRow {
                        sheet,
                        row,
                        outcome: "rejected".into(),
                        field,
                        reason,
                        lead_id: None,
                    })?;
                }
                Item::Lead {
                    sheet,
                    row,
                    lead,
                    present,
                    masked,
                } => {
                    let key = phone_key(&lead.phone_number);
                    let earlier = match &last {
                        Some(last) => {
                            let this = seq;
                            seq += 1;
                            last.get(&key).filter(|(s, _)| *s != this).map(|(_, r)| {
                                format!("a later row ({r}) has the same phone number")
                            })
                        }
                        // `skip`: the store itself keeps the first lead of a
                        // phone in one stream and reports the rest, so no map
                        // of every phone is held here (~32 MB per 1M rows).
                        None => None,
                    };
                    if let Some(reason) = earlier {
                        counts.skipped_duplicates += 1;
                        report.push(ReportRow {
                            sheet,
                            row,
                            outcome: skipped.into(),
                            field: "phone_number".into(),
                            reason,
                            lead_id: None,
                        })?;
                        continue;
                    }
                    cands.push((sheet, row, lead, present, masked));
                }
            }
        }
        let phones: Vec<String> = cands.iter().map(|c| c.2.phone_number.clone()).collect();
        let ids: Vec<Uuid> = cands.iter().map(|c| c.2.id).collect();
        let t = std::time::Instant::now();
        let stored = if empty_at_start {
            Vec::new()
        } else {
            store.leads_matching(&phones, &ids).await?
        };
        lookup_time += t.elapsed();
        let by_phone: HashMap<&str, &Lead> = stored
            .iter()
            .map(|l| (l.phone_number.as_str(), l))
            .collect();
        let by_id: HashMap<Uuid, &Lead> = stored.iter().map(|l| (l.id, l)).collect();
        let mut out = Vec::with_capacity(cands.len());
        // The versions merged leads were read at: the store replaces a lead
        // only if it is still at that version (see `BulkBatch::Versions`).
        let mut versions = Vec::new();
        for (sheet, row, lead, present, masked) in cands {
            // A file with ids (Pulse's exports) names its leads by id, so an
            // edited phone number updates that lead; otherwise the phone does.
            let (by_key, by_other) = (
                by_phone.get(lead.phone_number.as_str()).copied(),
                by_id.get(&lead.id).copied(),
            );
            let holder = if present.contains(Field::Id) {
                by_other.or(by_key)
            } else {
                by_key.or(by_other)
            };
            let Some(stored) = holder else {
                if masked != Present::default() {
                    report.push(ReportRow {
                        sheet,
                        row,
                        outcome: "inserted".into(),
                        field: super::row::field_names(masked),
                        reason: "a masked-looking document number (mask characters and the last 4) is not a number: left empty".into(),
                        lead_id: Some(lead.id),
                    })?;
                }
                counts.inserted += 1;
                out.push(*lead);
                sent.push((sheet, row as u32));
                continue;
            };
            if req.action == Action::Skip {
                counts.skipped_duplicates += 1;
                report.push(ReportRow {
                    sheet,
                    row,
                    outcome: "skipped".into(),
                    field: "phone_number".into(),
                    reason: format!("already stored as lead {}", stored.id),
                    lead_id: Some(stored.id),
                })?;
                continue;
            }
            match merge(stored, &lead, present, &req.actor, now) {
                None => counts.unchanged += 1,
                Some(merged)
                    if by_key.is_some_and(|other| other.id != stored.id)
                        && merged.phone_number != stored.phone_number =>
                {
                    // The edited phone belongs to another stored lead.
                    counts.rejected += 1;
                    report.push(ReportRow {
                        sheet,
                        row,
                        outcome: "rejected".into(),
                        field: "phone_number".into(),
                        reason: format!(
                            "phone_number: {} already belongs to lead {}",
                            merged.phone_number,
                            by_key.map(|o| o.id).unwrap_or_default()
                        ),
                        lead_id: Some(stored.id),
                    })?;
                }
                Some(merged) => {
                    counts.updated += 1;
                    report.push(ReportRow {
                        sheet,
                        row,
                        outcome: updated.into(),
                        field: changed_fields(stored, &merged),
                        reason: "the file's values differ from the stored lead".into(),
                        lead_id: Some(stored.id),
                    })?;
                    versions.push((stored.id, stored.updated_at));
                    out.push(merged);
                    sent.push((sheet, row as u32));
                }
            }
        }
        if !preview && !versions.is_empty() {
            btx.send(BulkBatch::Versions(versions))
                .await
                .map_err(|_| writer_stopped())?;
        }
        if !preview && !out.is_empty() {
            let t = std::time::Instant::now();
            btx.send(BulkBatch::Leads(out))
                .await
                .map_err(|_| writer_stopped())?;
            send_time += t.elapsed();
        }
        Ok(())
    };

    let mut failed: Option<ImportError> = None;
    while let Some(items) = rx.recv().await {
        if let Err(e) = resolve(items, &mut report, &mut counts).await {
            failed = Some(e);
            break;
        }
    }
    drop(rx);
    let parsed = parser
        .await
        .map_err(|e| ImportError::Io(std::io::Error::other(e)));
    let info = match (failed, parsed) {
        (None, Ok(Ok(info))) => info,
        (failed, parsed) => {
            // Nothing committed: dropping the sender without `Commit` rolls
            // the store's transaction back.
            drop(btx);
            let stored = match writer {
                Some(w) => w.await.ok().and_then(Result::err),
                None => None,
            };
            return Err(match (failed, parsed, stored) {
                (Some(ImportError::Io(e)), _, Some(s))
                    if e.to_string().contains("writer stopped") =>
                {
                    s.into()
                }
                (_, Ok(Err(ImportError::Io(e))), Some(s))
                    if e.to_string().contains("writer stopped") =>
                {
                    s.into()
                }
                (Some(e), _, _) => e,
                (None, Ok(Err(e)), _) => e,
                (None, Err(e), _) => e,
                (None, Ok(Ok(_)), _) => unreachable!("handled above"),
            });
        }
    };
    if let Some(w) = writer {
        btx.send(BulkBatch::Commit)
            .await
            .map_err(|_| writer_stopped())?;
        drop(btx);
        let outcome = w
            .await
            .map_err(|e| ImportError::Io(std::io::Error::other(e)))??;
        counts.inserted = outcome.inserted;
        counts.updated = outcome.updated;
        for (idx, holder) in outcome.skipped_duplicates {
            // A lead written meanwhile by someone else, or two rows with one id.
            counts.skipped_duplicates += 1;
            let (sheet, row) = sent.get(idx as usize).copied().unwrap_or((0, 0));
            report.push(ReportRow {
                sheet,
                row: u64::from(row),
                outcome: "skipped".into(),
                field: "phone_number".into(),
                reason: format!(
                    "phone or id already used by lead {holder} (stored, or a row above)"
                ),
                lead_id: Some(holder),
            })?;
        }
        for (idx, holder) in outcome.conflicts {
            counts.conflicts += 1;
            let (sheet, row) = sent.get(idx as usize).copied().unwrap_or((0, 0));
            report.push(ReportRow {
                sheet,
                row: u64::from(row),
                outcome: "conflict".into(),
                field: "updated_at".into(),
                reason: format!(
                    "not updated: lead {holder} was changed by someone else while the file was imported; import it again to apply this row"
                ),
                lead_id: Some(holder),
            })?;
        }
        // Committed: the rows' outcomes count (a preview writes nothing).
        for (outcome, n) in [
            ("inserted", counts.inserted),
            ("updated", counts.updated),
            ("unchanged", counts.unchanged),
            ("skipped_duplicate", counts.skipped_duplicates),
            ("rejected", counts.rejected),
            ("conflict", counts.conflicts),
        ] {
            crate::metrics::import_rows(outcome, n);
        }
    }
    counts.rows_read = info.rows_read;
    tracing::info!(
        rows = info.rows_read,
        total_ms = started.elapsed().as_millis() as u64,
        lookup_ms = lookup_time.as_millis() as u64,
        store_wait_ms = send_time.as_millis() as u64,
        lookups = !empty_at_start,
        "import resolved and written"
    );
    let lines = report.lines;
    let (_, shown) = report.finish()?;
    Ok(ImportOutcome {
        info,
        counts,
        shown,
        report_lines: lines,
    })
}

/// `lead_date` default: today in IST.
pub fn today(now: DateTime<Utc>) -> chrono::NaiveDate {
    crate::domain::today_ist(now)
}
