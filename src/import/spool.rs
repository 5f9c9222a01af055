//! What an import will write, kept between the parse and the write phase
//! (review H4: the store's write transaction opens only once the whole
//! file is parsed, validated and checked for duplicates). Up to
//! [`IN_MEMORY_LEADS`] leads stay in memory; beyond, everything goes to a
//! work file beside the report (JSON lines, one batch a line: `Lead`'s
//! serde form, the backup's), deleted when the spool is dropped.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::Lead;
use crate::store::BulkBatch;

/// Leads kept in memory before the spool moves to its file (~1 KB each).
pub const IN_MEMORY_LEADS: usize = 8_192;

/// One message of the write stream, as spooled.
#[derive(Serialize, Deserialize)]
enum Spooled {
    Versions(Vec<(Uuid, DateTime<Utc>)>),
    Leads(Vec<Lead>),
}

/// The write stream of one import, in order.
pub struct Spool {
    path: PathBuf,
    memory: Vec<BulkBatch>,
    leads: usize,
    file: Option<BufWriter<File>>,
}

impl Spool {
    /// An empty spool whose file, if it needs one, is `path`.
    pub fn new(path: PathBuf) -> Spool {
        Spool {
            path,
            memory: Vec::new(),
            leads: 0,
            file: None,
        }
    }

    /// Leads held.
    pub fn leads(&self) -> usize {
        self.leads
    }

    /// Whether the spool went to its file.
    pub fn on_disk(&self) -> bool {
        self.file.is_some()
    }

    /// Appends one message (only `Leads` and `Versions` are spooled).
    pub fn push(&mut self, msg: BulkBatch) -> std::io::Result<()> {
        if let BulkBatch::Leads(l) = &msg {
            self.leads += l.len();
        }
        if self.file.is_none() && self.leads <= IN_MEMORY_LEADS {
            self.memory.push(msg);
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(BufWriter::with_capacity(1 << 20, File::create(&self.path)?));
            for m in std::mem::take(&mut self.memory) {
                self.write(m)?;
            }
        }
        self.write(msg)
    }

    fn write(&mut self, msg: BulkBatch) -> std::io::Result<()> {
        let line = match msg {
            BulkBatch::Leads(l) => Spooled::Leads(l),
            BulkBatch::Versions(v) => Spooled::Versions(v),
            other => return Err(std::io::Error::other(format!("not spooled: {other:?}"))),
        };
        let out = self.file.as_mut().expect("spool file open");
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")
    }

    /// Sends every message, in order, through `send` (blocking; the file
    /// is read back a batch at a time).
    pub fn replay(
        mut self,
        send: &mut dyn FnMut(BulkBatch) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let Some(file) = self.file.take() else {
            for m in std::mem::take(&mut self.memory) {
                send(m)?;
            }
            return Ok(());
        };
        file.into_inner().map_err(|e| e.into_error())?.sync_data()?;
        let mut r = BufReader::with_capacity(1 << 20, File::open(&self.path)?);
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line)? == 0 {
                return Ok(());
            }
            send(match serde_json::from_str(&line)? {
                Spooled::Leads(l) => BulkBatch::Leads(l),
                Spooled::Versions(v) => BulkBatch::Versions(v),
            })?;
        }
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead(n: usize) -> Lead {
        Lead {
            id: Uuid::new_v4(),
            name: format!("Lead {n}"),
            phone_number: format!("98{n:08}"),
            remarks: Some("a \"quoted\"\nremark".into()),
            ..Lead::default()
        }
    }

    #[test]
    fn replays_in_order_from_memory_and_from_its_file() {
        for n in [10, IN_MEMORY_LEADS * 2 + 5] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("x.spool");
            let mut s = Spool::new(path.clone());
            let leads: Vec<Lead> = (0..n).map(lead).collect();
            let v = vec![(leads[0].id, Utc::now())];
            s.push(BulkBatch::Versions(v.clone())).unwrap();
            for c in leads.chunks(1000) {
                s.push(BulkBatch::Leads(c.to_vec())).unwrap();
            }
            assert_eq!(s.leads(), n);
            assert_eq!(s.on_disk(), n > IN_MEMORY_LEADS);
            assert_eq!(path.exists(), n > IN_MEMORY_LEADS);
            let (mut got, mut versions) = (Vec::new(), Vec::new());
            s.replay(&mut |m| {
                match m {
                    BulkBatch::Leads(l) => got.extend(l),
                    BulkBatch::Versions(x) => versions.extend(x),
                    BulkBatch::Commit | BulkBatch::Journal(_) => unreachable!(),
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(got, leads);
            assert_eq!(versions, v);
            assert!(!path.exists(), "the work file is deleted");
        }
    }
}
