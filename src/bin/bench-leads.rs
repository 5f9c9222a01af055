//! List, search and summary latency on a large leads table (issue 3 §6).
//!
//! ```text
//! python3 ../shared/anchors/gen_leads.py 1000000 /tmp/leads1m --formats jsonl
//! cargo run --release --bin bench-leads -- --jsonl /tmp/leads1m.jsonl \
//!     [--db sqlite:///tmp/pulse-bench.sqlite | --db postgres://…] [--runs 40]
//! ```
//!
//! Loads the JSON lines once (through the store's bulk import) when the
//! database holds no leads, then times the store calls behind each endpoint
//! and prints p50/p95. Store calls, not HTTP: JSON encoding of a 50-lead
//! page adds well under a millisecond.

use std::io::BufRead;
use std::time::{Duration, Instant};

use pulse::domain::{Lead, Stage};
use pulse::store::filter::LeadFilter;
use pulse::store::{BulkBatch, DuplicatePolicy, Store};
use tokio::sync::mpsc;

struct Args {
    db: String,
    jsonl: Option<String>,
    runs: usize,
}

fn args() -> Args {
    let mut a = Args {
        db: "sqlite:///tmp/pulse-bench-leads.sqlite".into(),
        jsonl: None,
        runs: 40,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => a.db = value(),
            "--jsonl" => a.jsonl = Some(value()),
            "--runs" => a.runs = value().parse().expect("--runs N"),
            other => panic!("unknown argument {other}; see the file's doc comment"),
        }
    }
    a
}

async fn load(store: &dyn Store, path: &str) -> anyhow::Result<u64> {
    let started = Instant::now();
    let (tx, rx) = mpsc::channel(4);
    let path = path.to_string();
    let reader = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let file = std::io::BufReader::new(std::fs::File::open(&path)?);
        let mut batch = Vec::with_capacity(20_000);
        for line in file.lines() {
            batch.push(serde_json::from_str::<Lead>(&line?)?);
            if batch.len() == 20_000 {
                tx.blocking_send(BulkBatch::Leads(std::mem::take(&mut batch)))?;
            }
        }
        tx.blocking_send(BulkBatch::Leads(batch))?;
        tx.blocking_send(BulkBatch::Commit)?;
        Ok(())
    });
    let outcome = store.bulk_import(rx, DuplicatePolicy::Skip).await?;
    reader.await??;
    println!(
        "loaded {} leads in {:.1} s",
        outcome.inserted,
        started.elapsed().as_secs_f64()
    );
    Ok(outcome.inserted)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Runs `f` `runs` times after two warm-up calls; prints p50/p95 in ms.
async fn time<F, Fut>(label: &str, runs: usize, mut f: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<String>>,
{
    f().await?;
    f().await?;
    let mut samples = Vec::with_capacity(runs);
    let mut note = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        note = f().await?;
        samples.push(t.elapsed());
    }
    samples.sort();
    println!(
        "{label:<44} p50 {:>8.2} ms   p95 {:>8.2} ms   {note}",
        percentile(&samples, 0.5),
        percentile(&samples, 0.95)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args();
    let store = pulse::store::connect(&args.db).await?;
    store.migrate().await?;
    let (_, mut total) = store.list_leads(&LeadFilter::default(), 1, 1).await?;
    if total == 0 {
        let path = args
            .jsonl
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("the database is empty: pass --jsonl FILE"))?;
        total = load(store.as_ref(), path).await? as i64;
    }
    println!("{} leads in {} ({})", total, args.db, store.backend_name());

    // filter values taken from the data itself
    let sources = store.sources(&LeadFilter::default()).await?;
    let source = sources
        .iter()
        .max_by_key(|(_, n)| *n)
        .map(|(s, _)| s.clone())
        .unwrap_or_default();
    let (sample, _) = store.list_leads(&LeadFilter::default(), 1, 1).await?;
    let day = sample
        .first()
        .and_then(|l| l.import_date)
        .unwrap_or_default();
    let telecaller = "priya.tc@pulse.example".to_string();
    let start = day - chrono::Days::new(15);
    let end = day + chrono::Days::new(15);

    let mut cases: Vec<(String, LeadFilter)> = vec![("unfiltered".into(), LeadFilter::default())];
    cases.push((
        "stage=S2".into(),
        LeadFilter {
            stage: Some(Stage::S2),
            ..Default::default()
        },
    ));
    cases.push((
        "status=RNR".into(),
        LeadFilter {
            status: Some("RNR".into()),
            ..Default::default()
        },
    ));
    cases.push((
        format!("source={source}"),
        LeadFilter {
            source: Some(source.clone()),
            ..Default::default()
        },
    ));
    cases.push((
        format!("telecaller={telecaller}"),
        LeadFilter {
            telecaller: Some(telecaller.clone()),
            ..Default::default()
        },
    ));
    cases.push((
        format!("import_date {start}..{end}"),
        LeadFilter {
            start_date: Some(start),
            end_date: Some(end),
            ..Default::default()
        },
    ));
    cases.push((
        "unassigned_only".into(),
        LeadFilter {
            unassigned_only: true,
            ..Default::default()
        },
    ));
    let runs = args.runs;
    println!("-- list: page 1 of 50, with its total (COUNT) --");
    for (label, filter) in &cases {
        let s = store.clone();
        time(label, runs, || {
            let s = s.clone();
            let f = filter.clone();
            async move {
                let (leads, total) = s.list_leads(&f, 1, 50).await?;
                Ok(format!("{} rows, total {total}", leads.len()))
            }
        })
        .await?;
    }
    println!("-- search --");
    for term in ["kumar", "Senthil", "முருகன்", "9876543210", "zzzz-no-match"] {
        let mut filter = LeadFilter::default();
        filter.add_search(term).expect("a few terms");
        let s = store.clone();
        time(&format!("search={term}"), runs, || {
            let s = s.clone();
            let f = filter.clone();
            async move {
                let (leads, total) = s.list_leads(&f, 1, 50).await?;
                Ok(format!("{} rows, total {total}", leads.len()))
            }
        })
        .await?;
    }
    println!("-- status summary --");
    let summaries = [
        ("unfiltered".to_string(), LeadFilter::default()),
        (
            format!("source={source}"),
            LeadFilter {
                source: Some(source.clone()),
                ..Default::default()
            },
        ),
        (
            format!("import_date {start}..{end}"),
            LeadFilter {
                start_date: Some(start),
                end_date: Some(end),
                ..Default::default()
            },
        ),
        (
            format!("telecaller={telecaller}"),
            LeadFilter {
                telecaller: Some(telecaller.clone()),
                ..Default::default()
            },
        ),
    ];
    for (label, filter) in &summaries {
        let s = store.clone();
        time(label, runs, || {
            let s = s.clone();
            let f = filter.clone();
            async move {
                let counts = s.status_summary(&f).await?;
                let n: i64 = counts.iter().map(|c| c.count).sum();
                Ok(format!("{n} leads"))
            }
        })
        .await?;
    }
    println!("-- other --");
    let s = store.clone();
    time("list page 2000 (deep OFFSET)", runs.min(10), || {
        let s = s.clone();
        async move {
            let (leads, _) = s.list_leads(&LeadFilter::default(), 2000, 50).await?;
            Ok(format!("{} rows", leads.len()))
        }
    })
    .await?;
    let s = store.clone();
    time("sources", runs.min(10), || {
        let s = s.clone();
        async move {
            Ok(format!(
                "{} sources",
                s.sources(&LeadFilter::default()).await?.len()
            ))
        }
    })
    .await?;
    Ok(())
}
