//! The backup file: gzip of JSON lines. The first line is a header
//! (`{"pulse_backup": 1, "created_at", "leads": N}`), then one lead per line,
//! whole (the domain `Lead`'s own serde form: ids, histories, unmasked
//! document numbers, timestamps), in id order. JSON lines rather than one
//! document: written and read lead by lead, readable with `zcat | jq`.

use std::io::{self, BufRead, BufReader, Read, Write};

use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

use crate::domain::Lead;

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

/// Writes `leads` as a backup into `out`; returns the header written.
pub fn write(leads: &[Lead], out: impl Write) -> io::Result<Header> {
    let header = Header {
        pulse_backup: VERSION,
        created_at: Utc::now(),
        leads: leads.len() as u64,
    };
    // Level 1: backups of 1M leads are CPU-bound at higher levels for a few
    // per cent of size.
    let mut gz = GzEncoder::new(io::BufWriter::new(out), Compression::fast());
    serde_json::to_writer(&mut gz, &header)?;
    gz.write_all(b"\n")?;
    for lead in leads {
        serde_json::to_writer(&mut gz, lead)?;
        gz.write_all(b"\n")?;
    }
    let mut buffered = gz.finish()?;
    buffered.flush()?;
    Ok(header)
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
}

/// Reads a whole backup and checks it (header, every line, the count).
pub fn read(input: impl Read) -> Result<(Header, Vec<Lead>), ReadError> {
    let mut lines = BufReader::new(GzDecoder::new(input)).lines();
    let first = lines
        .next()
        .ok_or_else(|| ReadError::Header("the file is empty".into()))??;
    let header: Header =
        serde_json::from_str(&first).map_err(|e| ReadError::Header(e.to_string()))?;
    if header.pulse_backup != VERSION {
        return Err(ReadError::Header(format!(
            "format version {} is not supported (this Pulse reads {VERSION})",
            header.pulse_backup
        )));
    }
    let mut leads = Vec::with_capacity(header.leads.min(1 << 20) as usize);
    for (i, line) in lines.enumerate() {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        let lead: Lead = serde_json::from_str(&line).map_err(|e| ReadError::Lead {
            line: i as u64 + 2,
            reason: e.to_string(),
        })?;
        leads.push(lead);
    }
    if leads.len() as u64 != header.leads {
        return Err(ReadError::Count {
            expected: header.leads,
            found: leads.len() as u64,
        });
    }
    Ok((header, leads))
}
