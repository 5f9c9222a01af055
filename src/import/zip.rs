//! A small ZIP reader for xlsx uploads, written for hostile input: it
//! trusts nothing a file declares. The central directory is read with a
//! bound on entries and name lengths; an entry is inflated as a stream
//! (never whole), and the bytes it inflates to are counted as they come
//! out, against a ratio of the compressed bytes actually consumed — so a
//! zip bomb stops after a few megabytes, whatever its headers claim.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use flate2::bufread::DeflateDecoder;

use super::ImportError;

/// More entries than any workbook has (a sheet per entry plus a dozen parts).
const MAX_ENTRIES: usize = 10_000;
/// Inflated bytes allowed per compressed byte consumed, beyond [`SLACK`].
/// Sheet XML deflates 8–20× (repetitive tags); 100× leaves a wide margin
/// while a bomb (≈1000×) stops early.
const MAX_RATIO: u64 = 100;
/// Inflated bytes always allowed (small parts compress extremely well).
const SLACK: u64 = 8 << 20;
/// Inflated bytes allowed for the whole archive (every entry opened, as often as it is
/// opened), beyond [`MAX_RATIO`] × its size: the per-entry slack alone would allow 10,000
/// entries × 8 MiB (review H6).
const ARCHIVE_SLACK: u64 = 64 << 20;

/// One entry of the central directory.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path inside the archive.
    pub name: String,
    method: u16,
    compressed: u64,
    local_offset: u64,
}

/// An opened archive: its entries, and the file to read them from.
pub struct Archive {
    file: File,
    len: u64,
    /// Bytes inflated from all entries so far.
    inflated: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Entries in central-directory order.
    pub entries: Vec<Entry>,
}

fn bad(msg: impl Into<String>) -> ImportError {
    ImportError::Invalid(format!("not a valid xlsx file: {}", msg.into()))
}

fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64le(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

impl Archive {
    /// Reads the central directory of `file`.
    pub fn open(mut file: File) -> Result<Archive, ImportError> {
        let len = file.seek(SeekFrom::End(0))?;
        if len < 22 {
            return Err(bad("too short for a ZIP archive"));
        }
        // The end record is in the last 22 + 65,535 (comment) bytes.
        let tail_len = len.min(22 + 65_535);
        let mut tail = vec![0u8; tail_len as usize];
        file.seek(SeekFrom::Start(len - tail_len))?;
        file.read_exact(&mut tail)?;
        let eocd = (0..=tail.len() - 22)
            .rev()
            .find(|&i| u32le(&tail, i) == 0x0605_4b50)
            .ok_or_else(|| bad("no end of central directory (truncated?)"))?;
        let mut count = u64::from(u16le(&tail, eocd + 10));
        let mut cd_size = u64::from(u32le(&tail, eocd + 12));
        let mut cd_offset = u64::from(u32le(&tail, eocd + 16));
        // ZIP64: the locator sits just before the end record.
        if eocd >= 20 && u32le(&tail, eocd - 20) == 0x0706_4b50 {
            let at = u64le(&tail, eocd - 20 + 8);
            if at.checked_add(56).is_none_or(|end| end > len) {
                return Err(bad("ZIP64 end record out of range"));
            }
            let mut rec = [0u8; 56];
            file.seek(SeekFrom::Start(at))?;
            file.read_exact(&mut rec)?;
            if u32le(&rec, 0) != 0x0606_4b50 {
                return Err(bad("bad ZIP64 end record"));
            }
            count = u64le(&rec, 32);
            cd_size = u64le(&rec, 40);
            cd_offset = u64le(&rec, 48);
        }
        if count as usize > MAX_ENTRIES {
            return Err(bad(format!("{count} entries (at most {MAX_ENTRIES})")));
        }
        if cd_offset.checked_add(cd_size).is_none_or(|end| end > len) || cd_size > 16 << 20 {
            return Err(bad("central directory out of range (truncated?)"));
        }
        let mut cd = vec![0u8; cd_size as usize];
        file.seek(SeekFrom::Start(cd_offset))?;
        file.read_exact(&mut cd)?;
        let mut entries = Vec::with_capacity(count as usize);
        let mut p = 0usize;
        while entries.len() < count as usize {
            if p + 46 > cd.len() || u32le(&cd, p) != 0x0201_4b50 {
                return Err(bad("broken central directory"));
            }
            let method = u16le(&cd, p + 10);
            let mut compressed = u64::from(u32le(&cd, p + 20));
            let mut uncompressed = u64::from(u32le(&cd, p + 24));
            let name_len = usize::from(u16le(&cd, p + 28));
            let extra_len = usize::from(u16le(&cd, p + 30));
            let comment_len = usize::from(u16le(&cd, p + 32));
            let mut local_offset = u64::from(u32le(&cd, p + 42));
            let name_at = p + 46;
            let end = name_at + name_len + extra_len + comment_len;
            if end > cd.len() {
                return Err(bad("broken central directory entry"));
            }
            let name = String::from_utf8_lossy(&cd[name_at..name_at + name_len]).into_owned();
            // ZIP64 extra field: the 0xFFFFFFFF values follow in order.
            let mut x = name_at + name_len;
            let x_end = x + extra_len;
            while x + 4 <= x_end {
                let id = u16le(&cd, x);
                let size = usize::from(u16le(&cd, x + 2));
                let body = x + 4;
                if body + size > x_end {
                    break;
                }
                if id == 0x0001 {
                    let mut q = body;
                    for slot in [&mut uncompressed, &mut compressed, &mut local_offset] {
                        if *slot == 0xFFFF_FFFF && q + 8 <= body + size {
                            *slot = u64le(&cd, q);
                            q += 8;
                        }
                    }
                }
                x = body + size;
            }
            if local_offset.checked_add(compressed).is_none_or(|e| e > len) {
                return Err(bad(format!(
                    "entry {name} lies outside the file (truncated?)"
                )));
            }
            entries.push(Entry {
                name,
                method,
                compressed,
                local_offset,
            });
            p = end;
        }
        // Entries must not share bytes: overlapping entries (one deflate stream named
        // many times) multiply what a small file inflates to. The local header takes at
        // least 30 bytes, so this bound never refuses a well-formed archive.
        let mut spans: Vec<(u64, u64, &str)> = entries
            .iter()
            .map(|e| {
                (
                    e.local_offset,
                    e.local_offset + 30 + e.compressed,
                    e.name.as_str(),
                )
            })
            .collect();
        spans.sort_unstable();
        for w in spans.windows(2) {
            if w[0].1 > w[1].0 {
                return Err(bad(format!("entries {} and {} overlap", w[0].2, w[1].2)));
            }
        }
        Ok(Archive {
            file,
            len,
            inflated: Default::default(),
            entries,
        })
    }

    /// The entry named `name` (ASCII case-insensitive, as Excel is).
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }

    /// A streaming reader of the entry's inflated bytes, bounded as the
    /// module comment says.
    pub fn open_entry(&self, entry: &Entry) -> Result<EntryReader, ImportError> {
        let mut file = self.file.try_clone()?;
        let mut local = [0u8; 30];
        file.seek(SeekFrom::Start(entry.local_offset))?;
        file.read_exact(&mut local)
            .map_err(|_| bad("truncated entry header"))?;
        if u32le(&local, 0) != 0x0403_4b50 {
            return Err(bad(format!("bad local header of {}", entry.name)));
        }
        let skip = 30 + u64::from(u16le(&local, 26)) + u64::from(u16le(&local, 28));
        let start = entry.local_offset + skip;
        if start
            .checked_add(entry.compressed)
            .is_none_or(|e| e > self.len)
        {
            return Err(bad(format!("entry {} is truncated", entry.name)));
        }
        file.seek(SeekFrom::Start(start))?;
        let raw = Counted {
            inner: BufReader::with_capacity(64 << 10, file.take(entry.compressed)),
            consumed: 0,
        };
        let inner = match entry.method {
            0 => Inner::Stored(raw),
            8 => Inner::Deflate(Box::new(DeflateDecoder::new(raw))),
            m => return Err(bad(format!("compression method {m} of {}", entry.name))),
        };
        Ok(EntryReader {
            inner,
            produced: 0,
            name: entry.name.clone(),
            archive_total: self.inflated.clone(),
            archive_cap: ARCHIVE_SLACK + self.len.saturating_mul(MAX_RATIO),
        })
    }
}

/// Counts the compressed bytes the inflater consumes.
struct Counted<R> {
    inner: R,
    consumed: u64,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.consumed += n as u64;
        self.inner.consume(n);
    }
}

enum Inner {
    Stored(Counted<BufReader<io::Take<File>>>),
    Deflate(Box<DeflateDecoder<Counted<BufReader<io::Take<File>>>>>),
}

/// The inflated bytes of one entry.
pub struct EntryReader {
    inner: Inner,
    produced: u64,
    name: String,
    archive_total: std::sync::Arc<std::sync::atomic::AtomicU64>,
    archive_cap: u64,
}

/// The error [`EntryReader`] returns for an entry that inflates too far.
pub const BOMB: &str = "inflates to far more than its compressed size (a zip bomb?)";

impl Read for EntryReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (n, consumed) = match &mut self.inner {
            Inner::Stored(r) => (r.read(buf)?, None),
            Inner::Deflate(d) => {
                let n = d.read(buf).map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", self.name))
                })?;
                (n, Some(d.get_ref().consumed))
            }
        };
        self.produced += n as u64;
        let total = self
            .archive_total
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed)
            + n as u64;
        if total > self.archive_cap {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the archive {BOMB}"),
            ));
        }
        if let Some(c) = consumed
            && self.produced > SLACK + c.saturating_mul(MAX_RATIO)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} {BOMB}", self.name),
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::zip::ZipWriter;

    fn archive(bytes: &[u8]) -> Result<Archive, ImportError> {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, bytes).unwrap();
        Archive::open(f)
    }

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut z = ZipWriter::new(Vec::new());
        for (name, data) in entries {
            z.add_entry(name, data).unwrap();
        }
        z.finish().unwrap().0
    }

    /// Entries deflated at the best level (≈1000:1 for zeros), as a bomb's maker would.
    fn zip_best(entries: &[(&str, &[u8])]) -> Vec<u8> {
        use flate2::{Compression, write::DeflateEncoder};
        use std::io::Write as _;
        let (mut out, mut central) = (Vec::new(), Vec::new());
        for (name, data) in entries {
            let mut enc = DeflateEncoder::new(Vec::new(), Compression::best());
            enc.write_all(data).unwrap();
            let packed = enc.finish().unwrap();
            let offset = out.len() as u32;
            let mut fixed = Vec::new();
            for v in [20u16, 0, 8] {
                fixed.extend_from_slice(&v.to_le_bytes());
            }
            for v in [0u32, 0, packed.len() as u32, data.len() as u32] {
                fixed.extend_from_slice(&v.to_le_bytes());
            }
            fixed.extend_from_slice(&(name.len() as u16).to_le_bytes());
            fixed.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
            out.extend_from_slice(&fixed);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&packed);
            central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            central.extend_from_slice(&20u16.to_le_bytes());
            central.extend_from_slice(&fixed);
            central.extend_from_slice(&[0u8; 10]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&[0u8; 4]);
        let n = (entries.len() as u16).to_le_bytes();
        out.extend_from_slice(&n);
        out.extend_from_slice(&n);
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd.to_le_bytes());
        out.extend_from_slice(&[0u8; 2]);
        out
    }

    /// The central-directory records: (start, local offset field position).
    fn records(b: &[u8]) -> Vec<usize> {
        let eocd = (0..b.len() - 21)
            .rev()
            .find(|&i| u32le(b, i) == 0x0605_4b50)
            .unwrap();
        let mut p = u32le(b, eocd + 16) as usize;
        let mut out = Vec::new();
        while p + 46 <= b.len() && u32le(b, p) == 0x0201_4b50 {
            out.push(p);
            p += 46
                + usize::from(u16le(b, p + 28))
                + usize::from(u16le(b, p + 30))
                + usize::from(u16le(b, p + 32));
        }
        out
    }

    #[test]
    fn overlapping_entries_are_refused() {
        let mut b = zip(&[("a.xml", b"<a/>"), ("b.xml", b"<b/>")]);
        assert!(archive(&b).is_ok());
        let r = records(&b);
        let first = b[r[0] + 42..r[0] + 46].to_vec();
        b[r[1] + 42..r[1] + 46].copy_from_slice(&first);
        match archive(&b) {
            Err(ImportError::Invalid(m)) => assert!(m.contains("overlap"), "{m}"),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("two entries sharing their bytes were accepted"),
        }
    }

    #[test]
    fn the_whole_archive_has_an_inflation_cap() {
        // Each entry stays within its own slack (8 MiB); all of them together do not.
        let zeros = vec![0u8; 7 << 20];
        let names: Vec<String> = (0..40).map(|i| format!("part{i}.xml")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &zeros[..])).collect();
        let a = archive(&zip_best(&entries)).unwrap();
        let mut total = 0u64;
        let mut failed = None;
        for e in &a.entries {
            let mut r = a.open_entry(e).unwrap();
            match io::copy(&mut r, &mut io::sink()) {
                Ok(n) => total += n,
                Err(err) => {
                    failed = Some(err);
                    break;
                }
            }
        }
        let err = failed.unwrap_or_else(|| panic!("{total} bytes inflated without a refusal"));
        assert!(err.to_string().contains(BOMB), "{err}");
        assert!(total <= ARCHIVE_SLACK + a.len * MAX_RATIO);
    }
}
