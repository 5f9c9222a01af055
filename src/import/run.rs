//! One import from start to commit: parse on a blocking thread, resolve
//! duplicates (within the file, then against the database, a batch at a
//! time) into a spool, then write the spool through the store's
//! one-transaction bulk import.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::mapping::{ColumnChoice, FIELDS, Field, Present};
use super::report::{Counts, ReportRow, ReportWriter};
use super::row::{RowDefaults, merge};
use super::spool::Spool;
use super::{FileInfo, Format, ImportError, Item, ParseContext, Upsert, detect, parse_file};
use crate::domain::Lead;
use crate::store::{BatchOutcome, BulkBatch, DuplicatePolicy, ImportJournal, Store};

/// Rows per batch between the parser, the duplicate resolver and the store.
const BATCH: usize = 1024;

/// What to do with a row whose phone (or id) is already stored.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
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
    /// Record what the import writes under this id, for its undo (none:
    /// `pulse import`, which is not undone by id).
    pub journal: Option<ImportJournal>,
    /// A person's mapping of the columns, over the guessed one.
    pub choices: Vec<ColumnChoice>,
    /// Decide and report everything `action` would do, write nothing (the
    /// wizard's counts for `skip` as well as `replace`; `Action::Preview`
    /// is a dry run of `replace`).
    pub dry_run: bool,
    /// The original's bulk-import (with `Action::Replace`; see [`Upsert`]).
    pub upsert: Option<Upsert>,
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
    ImportError::Io(std::io::Error::other("the import's next stage stopped"))
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
///
/// The phases: the format (`detect_format`); for `replace` and `preview`
/// a first pass that finds the last row of each phone (`last_rows`); the
/// main parse on a blocking thread (`spawn_parser`); per batch, the
/// duplicate resolution against the file and the database (`Resolver`),
/// into the spool (`spawn_spooler`) — all without a write transaction;
/// then, only when the whole file was read without error, the write phase
/// (`write_phase`: the spool replayed into the store's one-transaction
/// bulk import, where merged leads still need the version they were read
/// at) and the report of what the store refused (`commit`).
pub async fn import_file(
    store: Arc<dyn Store>,
    req: ImportRequest,
) -> Result<ImportOutcome, ImportError> {
    let format = detect_format(&req).await?;
    let source = Arc::new(Source {
        path: req.path.clone(),
        defaults: req.defaults.clone(),
        users: req.users,
        choices: req.choices,
        upsert: req.upsert,
        format,
    });
    let dry_run = req.dry_run || req.action == Action::Preview;
    let first_wins = source.upsert.is_some();

    // `replace` (and `preview`, which shows what replace would do): the
    // last row of a phone wins (the original's bulk-import: the first), so
    // a first pass finds it.
    let last = if req.action != Action::Skip {
        let pass = last_rows(source.clone(), req.watch.clone(), req.max_rows, first_wins);
        Some(pass.await?)
    } else {
        None
    };

    let (tx, mut rx) = mpsc::channel::<Vec<Item>>(4);
    let pause = super::pause::take(&req.file_name);
    let telecallers = source.upsert.as_ref().map(|u| u.telecallers.clone());
    let parser = spawn_parser(source, req.watch.clone(), req.max_rows, pause, tx);

    // Into an empty table (the first load of a deployment, the benchmark)
    // no row can match a stored lead: skip the per-batch lookups. A lead
    // written meanwhile by someone else is still caught by the store.
    let empty_at_start = store
        .list_leads(&crate::store::filter::LeadFilter::default(), 1, 1)
        .await?
        .1
        == 0;
    let started = std::time::Instant::now();
    // Parse, validate and resolve the whole file first, into the spool:
    // no write transaction is open meanwhile (review H4).
    let (btx, brx) = mpsc::channel::<BulkBatch>(4);
    let spooler = spawn_spooler(req.report_path.with_extension("spool"), brx);

    let mut r = Resolver {
        store: &store,
        telecallers: telecallers.as_ref(),
        assigned_to: std::collections::HashSet::new(),
        first_wins,
        action: req.action,
        dry_run,
        actor: &req.actor,
        now: req.defaults.now,
        last,
        empty_at_start,
        btx: &btx,
        report: ReportWriter::create(&req.report_path)?,
        counts: Counts::default(),
        seq: 0,
        sent: Vec::new(),
        lookup_time: std::time::Duration::ZERO,
        send_time: std::time::Duration::ZERO,
    };
    let mut failed: Option<ImportError> = None;
    while let Some(items) = rx.recv().await {
        if let Err(e) = r.batch(items).await {
            failed = Some(e);
            break;
        }
    }
    drop(rx);
    r.counts.telecallers_assigned = r.assigned_to.len() as u64;
    let parsed = parser
        .await
        .map_err(|e| ImportError::Io(std::io::Error::other(e)));
    let Resolver {
        mut report,
        mut counts,
        sent,
        lookup_time,
        send_time,
        ..
    } = r;
    drop(btx);
    let spooled = spooler
        .await
        .map_err(|e| ImportError::Io(std::io::Error::other(e)))
        .and_then(|s| s.map_err(ImportError::Io));
    let (info, spool) = match (failed, parsed, spooled) {
        (None, Ok(Ok(info)), Ok(spool)) => (info, spool),
        // A spool that failed (a full disk) stopped the rest: its cause first.
        (_, _, Err(e)) | (Some(e), _, _) | (None, Ok(Err(e)) | Err(e), _) => return Err(e),
    };
    let parsed_at = started.elapsed();
    let (spooled_leads, on_disk) = (spool.leads(), spool.on_disk());
    if !dry_run {
        let w = (req.action, req.journal);
        write_phase(&store, w, spool, &sent, &mut report, &mut counts).await?;
    }
    counts.rows_read = info.rows_read;
    tracing::info!(
        rows = info.rows_read,
        total_ms = started.elapsed().as_millis() as u64,
        parse_ms = parsed_at.as_millis() as u64,
        write_ms = (started.elapsed() - parsed_at).as_millis() as u64,
        lookup_ms = lookup_time.as_millis() as u64,
        spool_wait_ms = send_time.as_millis() as u64,
        spooled_leads,
        spool_on_disk = on_disk,
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

/// Keeps the resolved write stream (`brx`) in a [`Spool`] until the parse
/// is over; on a blocking thread, as its file is written there.
fn spawn_spooler(
    path: PathBuf,
    mut brx: mpsc::Receiver<BulkBatch>,
) -> tokio::task::JoinHandle<std::io::Result<Spool>> {
    tokio::task::spawn_blocking(move || {
        let mut spool = Spool::new(path);
        while let Some(msg) = brx.blocking_recv() {
            spool.push(msg)?;
        }
        Ok(spool)
    })
}

/// The write phase: the spool replayed into the store's one-transaction
/// bulk import, committed, and what the store refused reported.
async fn write_phase(
    store: &Arc<dyn Store>,
    (action, journal): (Action, Option<ImportJournal>),
    spool: Spool,
    sent: &[(u32, u32)],
    report: &mut ReportWriter,
    counts: &mut Counts,
) -> Result<(), ImportError> {
    let (btx, brx) = mpsc::channel::<BulkBatch>(4);
    let writer = spawn_writer(store, action, brx);
    let fed = tokio::task::spawn_blocking(move || {
        if let Some(j) = journal {
            btx.blocking_send(BulkBatch::Journal(j))
                .map_err(|_| std::io::Error::other("the database writer stopped"))?;
        }
        spool.replay(&mut |m| {
            btx.blocking_send(m)
                .map_err(|_| std::io::Error::other("the database writer stopped"))
        })?;
        btx.blocking_send(BulkBatch::Commit)
            .map_err(|_| std::io::Error::other("the database writer stopped"))
    })
    .await
    .map_err(|e| ImportError::Io(std::io::Error::other(e)))?;
    // The store's error first: feeding stops because the writer did.
    let outcome = writer
        .await
        .map_err(|e| ImportError::Io(std::io::Error::other(e)))??;
    fed?;
    commit(outcome, sent, report, counts)
}

/// The file an import reads, shared by its passes (each on a blocking thread).
struct Source {
    path: PathBuf,
    defaults: RowDefaults,
    users: HashMap<String, String>,
    choices: Vec<ColumnChoice>,
    upsert: Option<Upsert>,
    format: Format,
}

impl Source {
    /// One pass over the file, `emit` called for every row.
    fn parse(
        &self,
        emit: &mut dyn FnMut(Item) -> Result<(), ImportError>,
    ) -> Result<FileInfo, ImportError> {
        let cx = ParseContext {
            defaults: &self.defaults,
            users: &self.users,
            choices: &self.choices,
            upsert: self.upsert.as_ref(),
            limit: None,
        };
        parse_file(&self.path, self.format, &cx, emit)
    }
}

/// The forced format, or the one the content says.
async fn detect_format(req: &ImportRequest) -> Result<Format, ImportError> {
    match req.format {
        Some(f) => Ok(f),
        None => {
            let (path, name) = (req.path.clone(), req.file_name.clone());
            tokio::task::spawn_blocking(move || detect::detect(&path, &name))
                .await
                .map_err(|e| ImportError::Io(std::io::Error::other(e)))?
        }
    }
}

/// The last-row pass: phone → (position among the leads, row) of the last
/// lead with that phone (`first`: of the first).
async fn last_rows(
    source: Arc<Source>,
    watch: Option<ImportWatch>,
    max_rows: u64,
    first: bool,
) -> Result<HashMap<u64, (u64, u64)>, ImportError> {
    tokio::task::spawn_blocking(move || -> Result<_, ImportError> {
        let mut last = HashMap::new();
        let mut seq = 0u64;
        let mut rows = 0u64;
        source.parse(&mut |item| {
            if let Some(w) = &watch {
                w.check()?;
            }
            rows += 1;
            if rows > max_rows {
                return Err(too_many_rows(max_rows));
            }
            if let Item::Lead { row, lead, .. } = item {
                let key = phone_key(&lead.phone_number);
                if first {
                    last.entry(key).or_insert((seq, row));
                } else {
                    last.insert(key, (seq, row));
                }
                seq += 1;
            }
            Ok(())
        })?;
        Ok(last)
    })
    .await
    .map_err(|e| ImportError::Io(std::io::Error::other(e)))?
}

/// The main parse, on a blocking thread: rows to `tx` in batches of [`BATCH`].
fn spawn_parser(
    source: Arc<Source>,
    watch: Option<ImportWatch>,
    max_rows: u64,
    pause: Option<(u64, Arc<super::pause::Pause>)>,
    tx: mpsc::Sender<Vec<Item>>,
) -> tokio::task::JoinHandle<Result<FileInfo, ImportError>> {
    tokio::task::spawn_blocking(move || -> Result<FileInfo, ImportError> {
        let mut batch = Vec::with_capacity(BATCH);
        let mut rows = 0u64;
        let info = source.parse(&mut |item| {
            if let Some(w) = &watch {
                w.check()?;
                w.rows.fetch_add(1, Ordering::Relaxed);
            }
            rows += 1;
            if rows > max_rows {
                return Err(too_many_rows(max_rows));
            }
            super::pause::at(&pause, rows);
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
}

type Writer = tokio::task::JoinHandle<crate::store::StoreResult<BatchOutcome>>;

/// The store's one-transaction bulk import, fed through `brx` (a preview
/// writes nothing and has none).
fn spawn_writer(store: &Arc<dyn Store>, action: Action, brx: mpsc::Receiver<BulkBatch>) -> Writer {
    let store = store.clone();
    // Every lead sent is either new or an already merged stored lead
    // (its stored id): `Replace` makes the store write it either way.
    // With `skip` only new leads are sent, and one that someone else
    // wrote meanwhile is skipped by the store, not overwritten.
    let policy = match action {
        Action::Skip => DuplicatePolicy::Skip,
        _ => DuplicatePolicy::Replace,
    };
    tokio::spawn(async move { store.bulk_import(brx, policy).await })
}

/// (stored lead, the version it was read at) of merged leads.
type Versions = Vec<(Uuid, DateTime<Utc>)>;

/// A lead of the file that passed the duplicate check within the file.
/// sheet, row, the lead, the fields the file has, the fields it held masked-looking.
type Candidate = (u32, u64, Box<Lead>, Present, Present);

/// Resolves the file's rows a batch at a time: duplicates within the file,
/// then against the stored leads (looked up by phone and id), merged or
/// skipped by the action, reported, and sent to the writer.
struct Resolver<'a> {
    store: &'a Arc<dyn Store>,
    /// [`Upsert`]: names → telecaller logins.
    telecallers: Option<&'a HashMap<String, String>>,
    /// [`Upsert`]: the telecallers leads were assigned to.
    assigned_to: std::collections::HashSet<String>,
    /// [`Upsert`]: within the file the first row of a phone wins.
    first_wins: bool,
    action: Action,
    dry_run: bool,
    actor: &'a str,
    now: DateTime<Utc>,
    /// The last-row pass (`replace`, `preview`).
    last: Option<HashMap<u64, (u64, u64)>>,
    empty_at_start: bool,
    btx: &'a mpsc::Sender<BulkBatch>,
    report: ReportWriter,
    counts: Counts,
    /// Position of the next lead among the file's leads.
    seq: u64,
    /// (sheet, row) of every lead sent to the store, by stream position.
    sent: Vec<(u32, u32)>,
    lookup_time: std::time::Duration,
    send_time: std::time::Duration,
}

impl Resolver<'_> {
    fn preview(&self) -> bool {
        self.dry_run
    }

    /// One batch of the parser's items.
    async fn batch(&mut self, items: Vec<Item>) -> Result<(), ImportError> {
        let cands = self.within_file(items)?;
        let phones: Vec<String> = cands.iter().map(|c| c.2.phone_number.clone()).collect();
        let ids: Vec<Uuid> = cands.iter().map(|c| c.2.id).collect();
        let t = std::time::Instant::now();
        let stored = if self.empty_at_start {
            Vec::new()
        } else {
            self.store.leads_matching(&phones, &ids).await?
        };
        self.lookup_time += t.elapsed();
        let (out, versions) = self.against_stored(cands, &stored)?;
        self.send(out, versions).await
    }

    /// Reports rejected rows and rows a later row of the same phone
    /// overrides; the rest are candidates.
    fn within_file(&mut self, items: Vec<Item>) -> Result<Vec<Candidate>, ImportError> {
        let skipped = if self.preview() {
            "would_skip"
        } else {
            "skipped"
        };
        let mut cands: Vec<Candidate> = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Item::Rejected {
                    sheet,
                    row,
                    field,
                    reason,
                } => {
                    self.counts.rejected += 1;
                    self.report.push(ReportRow {
                        sheet,
                        row,
                        outcome: "rejected".into(),
                        field,
                        reason,
                        lead_id: None,
                        name: None,
                    })?;
                }
                Item::Lead {
                    sheet,
                    row,
                    mut lead,
                    mut present,
                    masked,
                    notes,
                } => {
                    if !notes.is_empty() {
                        self.counts.mapped_with_warning += 1;
                    }
                    for reason in notes {
                        self.report.push(ReportRow {
                            sheet,
                            row,
                            outcome: "warning".into(),
                            field: "status".into(),
                            reason,
                            lead_id: None,
                            name: None,
                        })?;
                    }
                    let key = phone_key(&lead.phone_number);
                    let earlier = match &self.last {
                        Some(last) => {
                            let this = self.seq;
                            self.seq += 1;
                            let which = if self.first_wins {
                                "an earlier"
                            } else {
                                "a later"
                            };
                            last.get(&key).filter(|(s, _)| *s != this).map(|(_, r)| {
                                format!("{which} row ({r}) has the same phone number")
                            })
                        }
                        // `skip`: the store itself keeps the first lead of a
                        // phone in one stream and reports the rest, so no map
                        // of every phone is held here (~32 MB per 1M rows).
                        None => None,
                    };
                    if let Some(reason) = earlier {
                        self.counts.skipped_duplicates += 1;
                        self.report.push(ReportRow {
                            sheet,
                            row,
                            outcome: skipped.into(),
                            field: "phone_number".into(),
                            reason,
                            lead_id: None,
                            name: Some(lead.name.clone()),
                        })?;
                        continue;
                    }
                    self.resolve_telecaller(sheet, row, &mut lead, &mut present)?;
                    cands.push((sheet, row, lead, present, masked));
                }
            }
        }
        Ok(cands)
    }

    /// [`Upsert`]: the row's `assigned_telecaller` cell as a telecaller's
    /// login, or — naming nobody — reported and taken as not given.
    fn resolve_telecaller(
        &mut self,
        sheet: u32,
        row: u64,
        lead: &mut Lead,
        present: &mut Present,
    ) -> Result<(), ImportError> {
        let Some(names) = self.telecallers else {
            return Ok(());
        };
        if !present.contains(Field::AssignedTelecaller) {
            return Ok(());
        }
        let Some(typed) = lead.assigned_telecaller.take() else {
            return Ok(());
        };
        if let Some(login) = names.get(&Upsert::key(&typed)) {
            lead.assigned_telecaller = Some(login.clone());
            return Ok(());
        }
        present.remove(Field::AssignedTelecaller);
        self.counts.telecallers_unresolved += 1;
        self.report.push(ReportRow {
            sheet,
            row,
            outcome: "warning".into(),
            field: "assigned_telecaller".into(),
            reason: format!(
                "assigned_telecaller: {typed:?} is not the name or login of an active telecaller: not assigned"
            ),
            lead_id: None,
            name: None,
        })?;
        Ok(())
    }

    /// [`Upsert`]: a lead about to be written that got its telecaller from
    /// the file is counted, and assigned for the import's day unless the
    /// file gave the date (`before`: the stored lead's telecaller).
    fn assigned(&mut self, lead: &mut Lead, present: Present, before: Option<&str>) {
        if self.telecallers.is_none() || !present.contains(Field::AssignedTelecaller) {
            return;
        }
        let Some(login) = lead.assigned_telecaller.clone() else {
            return;
        };
        if before != Some(login.as_str()) && !present.contains(Field::AssignedDate) {
            lead.assigned_date = Some(crate::domain::today_ist(self.now));
        }
        self.counts.leads_assigned += 1;
        self.assigned_to.insert(login);
    }

    /// New leads, and stored leads merged with their rows (or skipped, or
    /// unchanged): the leads to send, and the versions the merged ones
    /// were read at.
    fn against_stored(
        &mut self,
        cands: Vec<Candidate>,
        stored: &[Lead],
    ) -> Result<(Vec<Lead>, Versions), ImportError> {
        let updated = if self.preview() {
            "would_update"
        } else {
            "updated"
        };
        let by_phone: HashMap<&str, &Lead> = stored
            .iter()
            .map(|l| (l.phone_number.as_str(), l))
            .collect();
        let by_id: HashMap<Uuid, &Lead> = stored.iter().map(|l| (l.id, l)).collect();
        let mut out = Vec::with_capacity(cands.len());
        // The versions merged leads were read at: the store replaces a lead
        // only if it is still at that version (see `BulkBatch::Versions`).
        let mut versions = Vec::new();
        for (sheet, row, mut lead, present, masked) in cands {
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
                    self.report.push(ReportRow {
                        sheet,
                        row,
                        outcome: "inserted".into(),
                        field: super::row::field_names(masked),
                        reason: "a masked-looking document number (mask characters and the last 4) is not a number: left empty".into(),
                        lead_id: Some(lead.id),
                        name: None,
                    })?;
                }
                self.assigned(&mut lead, present, None);
                self.counts.inserted += 1;
                out.push(*lead);
                self.sent.push((sheet, row as u32));
                continue;
            };
            if self.action == Action::Skip {
                self.counts.skipped_duplicates += 1;
                self.report.push(ReportRow {
                    sheet,
                    row,
                    outcome: if self.preview() {
                        "would_skip"
                    } else {
                        "skipped"
                    }
                    .into(),
                    field: "phone_number".into(),
                    reason: format!("already stored as lead {}", stored.id),
                    lead_id: Some(stored.id),
                    name: Some(lead.name.clone()),
                })?;
                continue;
            }
            match merge(stored, &lead, present, self.actor, self.now) {
                None => self.counts.unchanged += 1,
                Some(merged)
                    if by_key.is_some_and(|other| other.id != stored.id)
                        && merged.phone_number != stored.phone_number =>
                {
                    // The edited phone belongs to another stored lead.
                    self.counts.rejected += 1;
                    self.report.push(ReportRow {
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
                        name: None,
                    })?;
                }
                Some(mut merged) => {
                    let before = stored.assigned_telecaller.as_deref();
                    self.assigned(&mut merged, present, before);
                    self.counts.updated += 1;
                    self.report.push(ReportRow {
                        sheet,
                        row,
                        outcome: updated.into(),
                        field: changed_fields(stored, &merged),
                        reason: "the file's values differ from the stored lead".into(),
                        lead_id: Some(stored.id),
                        name: None,
                    })?;
                    versions.push((stored.id, stored.updated_at));
                    out.push(merged);
                    self.sent.push((sheet, row as u32));
                }
            }
        }
        Ok((out, versions))
    }

    /// The write phase of a batch: versions first, then the leads.
    async fn send(&mut self, out: Vec<Lead>, versions: Versions) -> Result<(), ImportError> {
        if !self.preview() && !versions.is_empty() {
            self.btx
                .send(BulkBatch::Versions(versions))
                .await
                .map_err(|_| writer_stopped())?;
        }
        if !self.preview() && !out.is_empty() {
            let t = std::time::Instant::now();
            self.btx
                .send(BulkBatch::Leads(out))
                .await
                .map_err(|_| writer_stopped())?;
            self.send_time += t.elapsed();
        }
        Ok(())
    }
}

/// After the commit: reports what the store refused (leads written
/// meanwhile by someone else, stale versions) and counts the rows' outcomes.
fn commit(
    outcome: BatchOutcome,
    sent: &[(u32, u32)],
    report: &mut ReportWriter,
    counts: &mut Counts,
) -> Result<(), ImportError> {
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
            reason: format!("phone or id already used by lead {holder} (stored, or a row above)"),
            lead_id: Some(holder),
            name: None,
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
            name: None,
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
    Ok(())
}

/// The start of a file as it would be imported: the format, what the
/// parser found (encoding, sheets, header row, columns) and the first
/// `rows` rows — valid leads with their notes, or rejections with their
/// reasons. No database is read; the same errors as an import refuse it.
pub async fn peek(
    path: PathBuf,
    file_name: String,
    defaults: RowDefaults,
    choices: Vec<ColumnChoice>,
    rows: u64,
) -> Result<(FileInfo, Vec<Item>), ImportError> {
    tokio::task::spawn_blocking(move || {
        let format = detect::detect(&path, &file_name)?;
        let users = HashMap::new();
        let cx = ParseContext {
            defaults: &defaults,
            users: &users,
            choices: &choices,
            upsert: None,
            limit: Some(rows),
        };
        let mut items = Vec::new();
        let info = parse_file(&path, format, &cx, &mut |item| {
            items.push(item);
            Ok(())
        })?;
        Ok((info, items))
    })
    .await
    .map_err(|e| ImportError::Io(std::io::Error::other(e)))?
}

/// `lead_date` default: today in IST.
pub fn today(now: DateTime<Utc>) -> chrono::NaiveDate {
    crate::domain::today_ist(now)
}
