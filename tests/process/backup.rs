//! `pulse backup --out` and `pulse restore` offline: the leads of one
//! database, restored into another, back up to the same lead lines.

use std::io::Read;
use std::path::Path;
use std::process::Command;

fn pulse(data_dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(args)
        .env("PULSE_DATA_DIR", data_dir)
        .env_remove("PULSE_DATABASE_URL")
        .env("PULSE_LOG_FORMAT", "json")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The lead lines of a backup file (the header, with its time, dropped).
fn lead_lines(path: &Path) -> Vec<String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header: serde_json::Value = serde_json::from_str(&lines.remove(0)).unwrap();
    assert_eq!(header["pulse_backup"], 1);
    assert_eq!(header["leads"].as_u64().unwrap() as usize, lines.len());
    lines
}

#[test]
fn backup_and_restore_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let (ok, out) = pulse(&one, &["seed", "--leads", "300"]);
    assert!(ok, "{out}");
    let a = tmp.path().join("a.jsonl.gz");
    let (ok, out) = pulse(&one, &["backup", "--out", a.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains("300 leads backed up"), "{out}");

    // Into another, empty database; then back up that one.
    let (ok, out) = pulse(&two, &["restore", a.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains("restored 300 leads (replacing 0)"), "{out}");
    let b = tmp.path().join("b.jsonl.gz");
    let (ok, out) = pulse(&two, &["backup", "--out", b.to_str().unwrap()]);
    assert!(ok, "{out}");
    let (la, lb) = (lead_lines(&a), lead_lines(&b));
    assert_eq!(la.len(), 300);
    assert_eq!(la, lb, "the restored leads back up to different lines");
    // Histories and unmasked documents are in the file.
    assert!(la.iter().any(|l| l.contains("\"status_history\":[{")));

    // A damaged file is refused by name, and nothing changes.
    let bad = tmp.path().join("bad.jsonl.gz");
    let bytes = std::fs::read(&a).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 3]).unwrap();
    let (ok, out) = pulse(&two, &["restore", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(out.contains("is not a usable backup"), "{out}");
    let c = tmp.path().join("c.jsonl.gz");
    assert!(pulse(&two, &["backup", "--out", c.to_str().unwrap()]).0);
    assert_eq!(lead_lines(&c), la);
}
