//! `pulse import` and `pulse seed` through their library functions, against
//! the real store of a running app, on both backends.

use std::collections::HashSet;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use pulse::cli::seed::{ensure_telecallers, seed_leads};
use pulse::domain::{Lead, PhoneNumber};
use pulse::import::lines::import_jsonl;
use pulse::seed::{DEMO_PASSWORD, TELECALLERS};
use pulse::store::filter::LeadFilter;
use pulse::store::{BulkBatch, DuplicatePolicy, Store};
use serde_json::Value;

use crate::dual_backend_tests;
use crate::helpers::{Backend, TestApp};

const GEN_LEADS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/anchors/gen_leads.py"
);

/// Runs gen_leads.py and returns the JSON lines it wrote.
fn generate(n: usize, dir: &Path) -> String {
    let prefix = dir.join("gen");
    let status = std::process::Command::new("python3")
        .arg(GEN_LEADS)
        .arg(n.to_string())
        .arg(&prefix)
        .args(["--formats", "jsonl"])
        .status()
        .expect("run gen_leads.py");
    assert!(status.success(), "gen_leads.py failed");
    std::fs::read_to_string(prefix.with_extension("jsonl")).unwrap()
}

/// Every stored phone number, with our own SQL (independent of LeadStore).
async fn stored_phones(app: &TestApp) -> Vec<String> {
    const SQL: &str = "SELECT phone_number FROM leads";
    match app.backend {
        Backend::Sqlite => {
            let path = app.database_url.strip_prefix("sqlite://").unwrap();
            let conn = rusqlite::Connection::open(path).unwrap();
            let mut stmt = conn.prepare(SQL).unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        }
        Backend::Postgres => {
            let (client, conn) = tokio_postgres::connect(&app.database_url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            let rows = client.query(SQL, &[]).await.unwrap();
            rows.iter().map(|r| r.get(0)).collect()
        }
    }
}

fn store(app: &TestApp) -> &dyn Store {
    app.state.store.as_ref()
}

async fn import(
    app: &TestApp,
    text: String,
    policy: DuplicatePolicy,
) -> pulse::import::lines::ImportReport {
    import_jsonl(store(app), Cursor::new(text.into_bytes()), policy, false)
        .await
        .expect("import runs")
}

async fn imports_a_generated_file_lead_by_lead(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let text = generate(300, dir.path());
    let report = import(&app, text.clone(), DuplicatePolicy::Skip).await;
    assert_eq!(report.rejected, vec![], "every generated line is valid");
    assert_eq!(
        (report.lines, report.inserted, report.skipped.len()),
        (300, 300, 0)
    );
    let mut ids = Vec::new();
    for line in text.lines() {
        let mut want: Lead = serde_json::from_str(line).unwrap();
        // gen_leads.py spells `Interested No DL`; Pulse stores the
        // original's `Interested, No DL` (DESIGN §4), every other field as is
        want.status = pulse::domain::Status::parse(&want.status)
            .unwrap()
            .name()
            .to_owned();
        let got = store(&app).get_lead(want.id, None).await.unwrap();
        assert_eq!(got.as_ref(), Some(&want), "lead {} round-trips", want.id);
        // …and serialises to the very same JSON object as the file's line.
        let back: Value = serde_json::to_value(got.unwrap()).unwrap();
        let mut line_json = serde_json::from_str::<Value>(line).unwrap();
        line_json["status"] = Value::String(want.status.clone());
        assert_eq!(back, line_json);
        ids.push(want.id);
    }
    assert_eq!(stored_phones(&app).await.len(), 300);
    // Derived data (status counters, name search) agrees with the file,
    // though SQLite rebuilds it in bulk after a large import.
    let leads: Vec<Lead> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary = store(&app)
        .status_summary(&LeadFilter::default())
        .await
        .unwrap();
    assert_eq!(summary.iter().map(|c| c.count).sum::<i64>(), 300);
    let new = leads.iter().filter(|l| l.status == "New").count() as i64;
    let got = summary
        .iter()
        .filter(|c| c.status == "New")
        .map(|c| c.count)
        .sum::<i64>();
    assert_eq!(got, new);
    let name = leads[0].name.clone();
    let by_name = LeadFilter {
        names: vec![name.clone()],
        ..Default::default()
    };
    let want = leads
        .iter()
        .filter(|l| l.name.to_lowercase().contains(&name.to_lowercase()))
        .count();
    let found: i64 = store(&app)
        .status_summary(&by_name)
        .await
        .unwrap()
        .iter()
        .map(|c| c.count)
        .sum();
    assert_eq!(found as usize, want, "name search finds {name:?}");

    // The same file again: every line is a duplicate of itself.
    let again = import(&app, text.clone(), DuplicatePolicy::Skip).await;
    assert_eq!((again.inserted, again.updated), (0, 0));
    let skipped: Vec<_> = again.skipped.iter().map(|(l, id)| (*l, *id)).collect();
    let want: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (i as u64 + 1, *id))
        .collect();
    assert_eq!(skipped, want, "(line, holder) of each duplicate");

    // With replace, the stored leads take the file's values again.
    let changed = text.replace("\"source\": \"", "\"source\": \"re-");
    let replaced = import(&app, changed, DuplicatePolicy::Replace).await;
    assert_eq!(
        (replaced.inserted, replaced.updated, replaced.skipped.len()),
        (0, 300, 0)
    );
    let first = store(&app).get_lead(ids[0], None).await.unwrap().unwrap();
    assert!(first.source.unwrap().starts_with("re-"));
    assert_eq!(stored_phones(&app).await.len(), 300);
}

async fn bad_lines_are_reported_by_line_and_never_written(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let good: Vec<Value> = generate(8, dir.path())
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let with = |i: usize, field: &str, v: Value| {
        let mut lead = good[i].clone();
        lead[field] = v;
        lead.to_string()
    };
    let mut no_id = good[6].clone();
    no_id.as_object_mut().unwrap().remove("id");
    no_id["phone_number"] = "+91 98765-43210".into();
    let lines = [
        good[0].to_string(),                                      // 1 ok
        with(1, "phone_number", "12345".into()),                  // 2 bad phone
        with(2, "status", "Maybe Later".into()),                  // 3 unknown status
        with(3, "remarks", "nul\u{0}inside".into()),              // 4 NUL
        r#"{"id": "broken", "name": "#.to_string(),               // 5 broken JSON
        with(4, "phone_number", good[0]["phone_number"].clone()), // 6 duplicate of line 1
        no_id.to_string(),                                        // 7 ok, new id, normalised
        String::new(),                                            // 8 blank: ignored
        with(5, "end_date", "2025-13-45".into()),                 // 9 bad date
        with(7, "status", "highly interested".into()),            // 10 ok, canonical status
    ];
    let report = import(&app, lines.join("\n"), DuplicatePolicy::Skip).await;
    let rejected: Vec<_> = report
        .rejected
        .iter()
        .map(|r| (r.line, r.field.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [
            (2, "phone_number"),
            (3, "status"),
            (4, "remarks"),
            (5, "json"),
            (9, "end_date")
        ],
        "{:#?}",
        report.rejected
    );
    assert!(report.rejected[0].reason.contains("\"12345\""));
    let first_id = good[0]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(report.skipped, vec![(6, first_id)]);
    assert_eq!((report.lines, report.inserted), (9, 3));

    let mut phones = stored_phones(&app).await;
    phones.sort();
    let mut want = vec![
        good[0]["phone_number"].as_str().unwrap().to_string(),
        "9876543210".to_string(),
        good[7]["phone_number"].as_str().unwrap().to_string(),
    ];
    want.sort();
    assert_eq!(phones, want, "only the three good lines were written");
    for (i, lead) in good.iter().enumerate().take(6).skip(1) {
        let id = lead["id"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            store(&app).get_lead(id, None).await.unwrap(),
            None,
            "line of lead {i}"
        );
    }
    let normalised = store(&app)
        .find_by_phone("9876543210")
        .await
        .unwrap()
        .unwrap();
    let lead = store(&app)
        .get_lead(normalised, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lead.name, good[6]["name"].as_str().unwrap());
    let eighth: uuid::Uuid = good[7]["id"].as_str().unwrap().parse().unwrap();
    let lead = store(&app).get_lead(eighth, None).await.unwrap().unwrap();
    assert_eq!(lead.status, "Highly Interested");
}

/// Lines, then an I/O error: as if the disk failed half-way.
struct FailingReader(Cursor<Vec<u8>>);

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(std::io::Error::other("disk on fire")),
            n => Ok(n),
        }
    }
}

async fn a_failure_half_way_writes_nothing(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    // More than one batch is sent before the error.
    let text = generate(5000, dir.path());
    let reader = BufReader::new(FailingReader(Cursor::new(text.into_bytes())));
    let err = import_jsonl(store(&app), reader, DuplicatePolicy::Skip, false)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("disk on fire"), "{err:#}");
    assert_eq!(stored_phones(&app).await.len(), 0);

    // A bulk stream whose sender goes away without Commit is rolled back.
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let leads: Vec<Lead> = pulse::seed::DemoLeads::new(3).take(100).collect();
    tx.send(BulkBatch::Leads(leads)).await.unwrap();
    drop(tx);
    assert!(
        store(&app)
            .bulk_import(rx, DuplicatePolicy::Skip)
            .await
            .is_err()
    );
    assert_eq!(stored_phones(&app).await.len(), 0);
}

async fn seed_writes_valid_unique_leads_and_telecaller_accounts(app: TestApp) {
    assert_eq!(ensure_telecallers(store(&app)).await.unwrap(), 12);
    assert_eq!(
        ensure_telecallers(store(&app)).await.unwrap(),
        0,
        "idempotent"
    );
    let out = seed_leads(store(&app), 2000, 9, false).await.unwrap();
    assert_eq!((out.inserted, out.skipped_duplicates.len()), (2000, 0));
    let phones = stored_phones(&app).await;
    assert_eq!(phones.len(), 2000);
    assert_eq!(phones.iter().collect::<HashSet<_>>().len(), 2000);
    for p in &phones {
        assert_eq!(PhoneNumber::parse(p).unwrap().as_str(), p);
    }
    // The same seed again: the same phones, all skipped.
    let again = seed_leads(store(&app), 2000, 9, false).await.unwrap();
    assert_eq!((again.inserted, again.skipped_duplicates.len()), (0, 2000));
    // Every demo telecaller can sign in, and has leads.
    let (email, _, _) = TELECALLERS[0];
    app.token(email, DEMO_PASSWORD).await;
    let lead = pulse::seed::DemoLeads::new(9).next().unwrap();
    assert_eq!(
        store(&app).get_lead(lead.id, None).await.unwrap(),
        Some(lead)
    );
}

/// A line with `Read` chunking that splits UTF-8 characters still parses.
async fn reads_standard_input_sized_chunks(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let text = generate(50, dir.path());
    let reader = BufReader::with_capacity(7, Cursor::new(text.into_bytes()));
    let report = import_jsonl(store(&app), reader, DuplicatePolicy::Skip, false)
        .await
        .unwrap();
    assert_eq!(report.inserted, 50);
}

/// The file importer's `replace` reads stored leads, merges the file into
/// them and sends the versions it read: a lead someone changed in between
/// is a conflict and keeps the other writer's change.
async fn replace_refuses_a_lead_changed_since_it_was_read(app: TestApp) {
    let leads: Vec<Lead> = pulse::seed::DemoLeads::new(5).take(2).collect();
    store(&app)
        .insert_leads_batch(leads.clone(), DuplicatePolicy::Skip)
        .await
        .unwrap();
    let (stored, _) = store(&app)
        .list_leads(&LeadFilter::default(), 1, 10)
        .await
        .unwrap();
    let by_id = |id| stored.iter().find(|l| l.id == id).unwrap().clone();
    let (s1, s2) = (by_id(leads[0].id), by_id(leads[1].id));
    // Someone edits the first lead after the importer read it.
    let mut edited = s1.clone();
    edited.name = "Edited meanwhile".into();
    edited.updated_at = s1.updated_at + chrono::Duration::seconds(1);
    store(&app)
        .insert_leads_batch(vec![edited], DuplicatePolicy::Replace)
        .await
        .unwrap();
    // The importer's merged leads, with the versions it read.
    let (mut m1, mut m2) = (s1.clone(), s2.clone());
    m1.name = "From the file".into();
    m2.name = "From the file too".into();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(BulkBatch::Versions(vec![
        (s1.id, s1.updated_at),
        (s2.id, s2.updated_at),
    ]))
    .await
    .unwrap();
    tx.send(BulkBatch::Leads(vec![m1, m2])).await.unwrap();
    tx.send(BulkBatch::Commit).await.unwrap();
    drop(tx);
    let out = store(&app)
        .bulk_import(rx, DuplicatePolicy::Replace)
        .await
        .unwrap();
    assert_eq!(out.updated, 1, "{out:?}");
    assert_eq!(out.inserted, 0, "{out:?}");
    assert_eq!(out.conflicts, vec![(0, s1.id)], "{out:?}");
    let (now, total) = store(&app)
        .list_leads(&LeadFilter::default(), 1, 10)
        .await
        .unwrap();
    assert_eq!(total, 2);
    let name = |id| now.iter().find(|l| l.id == id).unwrap().name.clone();
    assert_eq!(name(s1.id), "Edited meanwhile");
    assert_eq!(name(s2.id), "From the file too");
}

dual_backend_tests!(
    replace_refuses_a_lead_changed_since_it_was_read,
    imports_a_generated_file_lead_by_lead,
    bad_lines_are_reported_by_line_and_never_written,
    a_failure_half_way_writes_nothing,
    seed_writes_valid_unique_leads_and_telecaller_accounts,
    reads_standard_input_sized_chunks,
);
