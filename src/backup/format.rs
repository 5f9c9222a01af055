//! The backup file: gzip of JSON lines. The first line is a header
//! (`{"pulse_backup": 1, "created_at", "leads": N}`), then one lead per line,
//! whole (the domain `Lead`'s own serde form: ids, histories, unmasked
//! document numbers, timestamps), in the snapshot's order. JSON lines rather than one
//! document: written and read lead by lead, readable with `zcat | jq`.
//!
//! A lead with call events carries them as one more key, `call_events`
//! (`CallEvent`'s serde form, oldest first), written after the lead's own
//! fields. Backups written before events existed have no such key and
//! restore with none; a Pulse that predates the key ignores it (the format
//! version stays 1).

use std::io::{self, BufRead, BufReader, Read, Write};

use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

use crate::domain::{CallEvent, Lead};
use crate::store::BackupLead;

/// The `call_events` key of a lead line (every other key skipped).
#[derive(Deserialize)]
struct Events {
    #[serde(default)]
    call_events: Vec<CallEvent>,
}

/// The format version this code writes and reads.
pub const VERSION: u32 = 1;

/// The first line of a backup.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Header {
    /// Format version ([`VERSION`]).
    pub pulse_backup: u32,
    /// When the snapshot was read.
    pub created_at: DateTime<Utc>,
    /// How many lead lines follow.
    pub leads: u64,
}

/// Writes a backup lead by lead: the header first (the count comes from
/// the snapshot, before any lead), then one line per lead; [`Writer::finish`]
/// checks that exactly the announced number was written.
pub struct Writer<W: Write> {
    gz: GzEncoder<io::BufWriter<W>>,
    header: Header,
    written: u64,
    /// A lead line with call events, assembled before it is written.
    line: Vec<u8>,
}

impl<W: Write> Writer<W> {
    /// Starts a backup of `leads` leads, read at `created_at`, into `out`.
    pub fn new(out: W, leads: u64, created_at: DateTime<Utc>) -> io::Result<Self> {
        let header = Header {
            pulse_backup: VERSION,
            created_at,
            leads,
        };
        // Level 1: backups of 1M leads are CPU-bound at higher levels for a
        // few per cent of size.
        let mut gz = GzEncoder::new(
            io::BufWriter::with_capacity(1 << 16, out),
            Compression::fast(),
        );
        serde_json::to_writer(&mut gz, &header)?;
        gz.write_all(b"\n")?;
        Ok(Writer {
            gz,
            header,
            written: 0,
            line: Vec::new(),
        })
    }

    /// Appends one lead and its call events.
    pub fn lead(&mut self, b: &BackupLead) -> io::Result<()> {
        if b.call_events.is_empty() {
            serde_json::to_writer(&mut self.gz, &b.lead)?;
        } else {
            // `{…lead…,"call_events":[…]}` without serde's flatten (which
            // buffers every field): the lead's object, its `}` replaced
            self.line.clear();
            serde_json::to_writer(&mut self.line, &b.lead)?;
            debug_assert_eq!(self.line.last(), Some(&b'}'));
            self.line.pop();
            self.line.extend_from_slice(b",\"call_events\":");
            serde_json::to_writer(&mut self.line, &b.call_events)?;
            self.line.push(b'}');
            self.gz.write_all(&self.line)?;
        }
        self.gz.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    /// Ends the gzip stream; the header written. Fails when the leads
    /// written are not the number the header announced.
    pub fn finish(self) -> io::Result<(Header, W)> {
        if self.written != self.header.leads {
            return Err(io::Error::other(format!(
                "the snapshot announced {} leads but gave {}",
                self.header.leads, self.written
            )));
        }
        let mut buffered = self.gz.finish()?;
        buffered.flush()?;
        let out = buffered
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        Ok((self.header, out))
    }
}

/// Writes `leads` as a backup into `out`; returns the header written.
pub fn write(leads: &[BackupLead], out: impl Write) -> io::Result<Header> {
    let mut w = Writer::new(out, leads.len() as u64, Utc::now())?;
    for lead in leads {
        w.lead(lead)?;
    }
    Ok(w.finish()?.0)
}

/// Why a file is not a usable backup (line numbers count from 1).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not gzip, truncated, unreadable.
    #[error("cannot read the backup: {0}")]
    Io(#[from] io::Error),
    /// The first line is not a Pulse backup header of a known version.
    #[error("not a Pulse backup (line 1): {0}")]
    Header(String),
    /// A lead line does not parse.
    #[error("line {line}: {reason}")]
    Lead { line: u64, reason: String },
    /// Fewer or more leads than the header says: a cut or spliced file.
    #[error("the header announces {expected} leads but the file holds {found}")]
    Count { expected: u64, found: u64 },
    /// Whoever took the leads stopped taking them (e.g. the database failed).
    #[error("{0}")]
    Stopped(String),
}

/// Reads a backup lead by lead, checking the header, every line and the
/// count: `f` gets each lead in file order; the header is returned once the
/// whole file was read and found right. Memory stays at one line.
pub fn read_each(
    input: impl Read,
    mut f: impl FnMut(BackupLead) -> Result<(), ReadError>,
) -> Result<Header, ReadError> {
    let mut reader = BufReader::with_capacity(1 << 16, GzDecoder::new(input));
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(ReadError::Header("the file is empty".into()));
    }
    let header: Header =
        serde_json::from_str(line.trim_end()).map_err(|e| ReadError::Header(e.to_string()))?;
    if header.pulse_backup != VERSION {
        return Err(ReadError::Header(format!(
            "format version {} is not supported (this Pulse reads {VERSION})",
            header.pulse_backup
        )));
    }
    let mut found = 0u64;
    let mut number = 1u64;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        number += 1;
        let text = line.trim_end_matches(['\n', '\r']);
        if text.is_empty() {
            continue;
        }
        let bad = |reason: String| ReadError::Lead {
            line: number,
            reason,
        };
        let lead: Lead = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        // a second, skipping parse only for lines that may hold events
        let call_events = if text.contains("\"call_events\"") {
            let events: Events = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
            if let Some(e) = events.call_events.iter().find(|e| e.lead_id != lead.id) {
                return Err(bad(format!(
                    "call event {} belongs to lead {}, not to this lead {}",
                    e.id, e.lead_id, lead.id
                )));
            }
            events.call_events
        } else {
            Vec::new()
        };
        let lead = BackupLead { lead, call_events };
        found += 1;
        if found > header.leads {
            return Err(ReadError::Count {
                expected: header.leads,
                found,
            });
        }
        f(lead)?;
    }
    if found != header.leads {
        return Err(ReadError::Count {
            expected: header.leads,
            found,
        });
    }
    Ok(header)
}

/// Reads a whole backup into memory and checks it (small files and tests).
pub fn read(input: impl Read) -> Result<(Header, Vec<BackupLead>), ReadError> {
    let mut leads = Vec::new();
    let header = read_each(input, |l| {
        leads.push(l);
        Ok(())
    })?;
    Ok((header, leads))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CallOutcome;
    use uuid::Uuid;

    fn lead(i: u32, events: usize) -> BackupLead {
        let lead = Lead {
            id: Uuid::new_v4(),
            name: format!("L{i} \"call_events\""),
            phone_number: format!("98{i:08}"),
            status: "New".into(),
            notes: i.is_multiple_of(2).then(|| "n".into()),
            ..Lead::default()
        };
        let call_events = (0..events)
            .map(|k| CallEvent {
                id: Uuid::new_v4(),
                lead_id: lead.id,
                actor_id: Uuid::new_v4(),
                actor_login: "tc@x".into(),
                outcome: if k % 2 == 0 {
                    CallOutcome::Called
                } else {
                    CallOutcome::StatusChange
                },
                status: (k % 2 == 1).then(|| "RNR".into()),
                at: DateTime::from_timestamp_millis(1_790_000_000_000 + k as i64).unwrap(),
            })
            .collect();
        BackupLead { lead, call_events }
    }

    fn gz(text: &str) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn leads_and_their_events_round_trip() {
        let leads: Vec<BackupLead> = (0..5).map(|i| lead(i, i as usize)).collect();
        let mut file = Vec::new();
        write(&leads, &mut file).unwrap();
        let (header, back) = read(&file[..]).unwrap();
        assert_eq!(header.leads, 5);
        assert_eq!(back, leads);
    }

    #[test]
    fn a_line_without_events_reads_with_none_and_a_foreign_event_is_refused() {
        let old = lead(1, 0).lead;
        let text = format!(
            "{{\"pulse_backup\":1,\"created_at\":\"2026-09-01T00:00:00Z\",\"leads\":1}}\n{}\n",
            serde_json::to_string(&old).unwrap()
        );
        let (_, back) = read(&gz(&text)[..]).unwrap();
        assert_eq!(
            back,
            vec![BackupLead {
                lead: old,
                call_events: vec![]
            }]
        );

        let mut b = lead(2, 2);
        b.call_events[1].lead_id = Uuid::new_v4();
        let mut file = Vec::new();
        write(&[b], &mut file).unwrap();
        let err = read(&file[..]).unwrap_err().to_string();
        assert!(
            err.contains("line 2") && err.contains("belongs to lead"),
            "{err}"
        );
    }
}
