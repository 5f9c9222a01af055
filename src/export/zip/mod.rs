//! A minimal streaming ZIP writer: no seeking, so it can write to an HTTP
//! body. Each entry is a local header with the data-descriptor flag (bit 3,
//! sizes and CRC-32 unknown up front), raw deflate data streamed through,
//! then a data descriptor; the central directory goes at the end.
//!
//! ZIP64 is used only where a value needs it (an entry's size or offset, the
//! directory's size, offset or entry count at or past `0xFFFF_FFFF`), the way
//! Go's `archive/zip` does: the central directory and the data descriptor
//! get 8-byte values, local headers stay plain. Excel, LibreOffice, Python's
//! `zipfile` and Info-ZIP read sizes from the central directory. Names are
//! UTF-8 (bit 11); the DOS time is fixed, so the same rows give the same
//! bytes (the audit log records a file hash).
//!
//! Deflate is zlib-rs at level 1 (`flate2::Compress`): measured the fastest
//! that still gives files about XlsxWriter's size (~450 MB/s of sheet XML
//! per core). Parallel compression fits in through
//! [`ZipWriter::write_deflated`]: pieces made by [`deflate_piece`] on any
//! thread (pigz-style: independent, byte-aligned by a sync flush, CRCs
//! combined) are appended in order.

use std::io::{self, Write};

use flate2::{Compress, Crc, FlushCompress};

mod deflate;
mod parallel;

use deflate::deflate_into;
pub use deflate::{DeflatedPiece, deflate_piece, piece_compressor};
pub use parallel::ParallelDeflate;

const LOCAL_SIG: u32 = 0x0403_4b50;
const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD64_SIG: u32 = 0x0606_4b50;
const EOCD64_LOCATOR_SIG: u32 = 0x0706_4b50;
/// Bit 3: sizes in a data descriptor; bit 11: UTF-8 names.
const FLAGS: u16 = 1 << 3 | 1 << 11;
const DEFLATE: u16 = 8;
const VERSION_DEFLATE: u16 = 20;
const VERSION_ZIP64: u16 = 45;
/// 2024-01-01 00:00:00 in DOS format, fixed for reproducible output.
const DOS_DATE: u16 = (2024 - 1980) << 9 | 1 << 5 | 1;
const DOS_TIME: u16 = 0;
/// Values at or past this need ZIP64 (0xFFFF_FFFF itself is the marker).
pub const ZIP64_LIMIT: u64 = 0xFFFF_FFFF;
/// Output is collected up to this size before one `write_all` on the sink,
/// so a slow sink (an HTTP body) sees few, large writes.
const OUT_CHUNK: usize = 128 * 1024;

struct Entry {
    name: Box<str>,
    offset: u64,
    crc: u32,
    compressed: u64,
    uncompressed: u64,
}

struct Open {
    name: Box<str>,
    offset: u64,
    data_start: u64,
    crc: Crc,
    uncompressed: u64,
}

/// A streaming ZIP writer over any [`Write`]. Entries are written one at a
/// time: [`ZipWriter::start_entry`], data, [`ZipWriter::finish_entry`].
pub struct ZipWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// Bytes already handed to `out`.
    sent: u64,
    entries: Vec<Entry>,
    open: Option<Open>,
    z: Compress,
    /// The compressor holds input not yet flushed to a byte boundary.
    z_dirty: bool,
    /// Raw pieces were appended since the compressor's last output: its
    /// window no longer matches the data, so it must restart.
    z_stale: bool,
    zip64_limit: u64,
}

impl<W: Write> std::fmt::Debug for ZipWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipWriter")
            .field("bytes", &self.bytes_written())
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

impl<W: Write> ZipWriter<W> {
    /// A writer with the standard ZIP64 limit.
    pub fn new(out: W) -> Self {
        Self::with_zip64_limit(out, ZIP64_LIMIT)
    }

    /// A writer that switches to ZIP64 for values at or past `limit` (tests
    /// use a small one to exercise the ZIP64 records without 4 GiB of data).
    pub fn with_zip64_limit(out: W, limit: u64) -> Self {
        Self {
            out,
            buf: Vec::with_capacity(OUT_CHUNK + 1024),
            sent: 0,
            entries: Vec::new(),
            open: None,
            z: piece_compressor(),
            z_dirty: false,
            z_stale: false,
            zip64_limit: limit.min(ZIP64_LIMIT),
        }
    }

    /// Bytes written so far, including those still buffered here.
    pub fn bytes_written(&self) -> u64 {
        self.sent + self.buf.len() as u64
    }

    fn drain(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            self.sent += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    fn drain_if_big(&mut self) -> io::Result<()> {
        if self.buf.len() >= OUT_CHUNK {
            self.drain()?;
        }
        Ok(())
    }

    /// Starts an entry named `name` (UTF-8, `/`-separated), finishing the
    /// open one if any.
    pub fn start_entry(&mut self, name: &str) -> io::Result<()> {
        self.finish_entry()?;
        let offset = self.bytes_written();
        let b = &mut self.buf;
        put32(b, LOCAL_SIG);
        put16(b, VERSION_DEFLATE);
        put16(b, FLAGS);
        put16(b, DEFLATE);
        put16(b, DOS_TIME);
        put16(b, DOS_DATE);
        put32(b, 0); // CRC-32 and sizes: in the data descriptor
        put32(b, 0);
        put32(b, 0);
        put16(
            b,
            u16::try_from(name.len()).map_err(|_| io::Error::other("name too long"))?,
        );
        put16(b, 0);
        b.extend_from_slice(name.as_bytes());
        self.z.reset();
        self.z_dirty = false;
        self.z_stale = false;
        self.open = Some(Open {
            name: name.into(),
            offset,
            data_start: self.bytes_written(),
            crc: Crc::new(),
            uncompressed: 0,
        });
        self.drain_if_big()
    }

    fn open_entry(&mut self) -> io::Result<&mut Open> {
        self.open
            .as_mut()
            .ok_or_else(|| io::Error::other("zip: no entry started"))
    }

    /// Deflates `data` into the open entry on this thread.
    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let open = self.open_entry()?;
        open.crc.update(data);
        open.uncompressed += data.len() as u64;
        if self.z_stale {
            self.z.reset();
            self.z_stale = false;
        }
        self.z_dirty |= !data.is_empty();
        let (out, sent) = (&mut self.out, &mut self.sent);
        deflate_into(&mut self.z, data, &mut self.buf, FlushCompress::None, |b| {
            out.write_all(b)?;
            *sent += b.len() as u64;
            b.clear();
            Ok(())
        })?;
        self.drain_if_big()
    }

    /// Brings the deflate stream to a byte boundary (sync flush) if it holds
    /// unflushed input, so that a raw piece or [`Self::flush`] can follow.
    fn sync(&mut self) -> io::Result<()> {
        if self.z_dirty {
            let (out, sent) = (&mut self.out, &mut self.sent);
            deflate_into(&mut self.z, &[], &mut self.buf, FlushCompress::Sync, |b| {
                out.write_all(b)?;
                *sent += b.len() as u64;
                b.clear();
                Ok(())
            })?;
            self.z_dirty = false;
        }
        Ok(())
    }

    /// Appends a piece deflated elsewhere by [`deflate_piece`] to the open
    /// entry (pieces must come in data order).
    pub fn write_deflated(&mut self, piece: &DeflatedPiece) -> io::Result<()> {
        self.open_entry()?;
        self.sync()?;
        let open = self.open_entry()?;
        open.uncompressed += piece.len;
        open.crc.combine(&piece.crc);
        self.z_stale = true;
        if self.buf.len() + piece.data.len() > OUT_CHUNK {
            self.drain()?;
            self.out.write_all(&piece.data)?;
            self.sent += piece.data.len() as u64;
        } else {
            self.buf.extend_from_slice(&piece.data);
        }
        Ok(())
    }

    /// Ends the open entry (final deflate block, data descriptor); no-op if
    /// none is open.
    pub fn finish_entry(&mut self) -> io::Result<()> {
        if self.open.is_none() {
            return Ok(());
        }
        if self.z_stale {
            self.z.reset(); // an empty final block, referring to nothing
        }
        let (out, sent) = (&mut self.out, &mut self.sent);
        deflate_into(
            &mut self.z,
            &[],
            &mut self.buf,
            FlushCompress::Finish,
            |b| {
                out.write_all(b)?;
                *sent += b.len() as u64;
                b.clear();
                Ok(())
            },
        )?;
        let open = self.open.take().expect("checked above");
        let compressed = self.bytes_written() - open.data_start;
        let crc = open.crc.sum();
        let big = compressed >= self.zip64_limit || open.uncompressed >= self.zip64_limit;
        let b = &mut self.buf;
        put32(b, DESCRIPTOR_SIG);
        put32(b, crc);
        if big {
            put64(b, compressed);
            put64(b, open.uncompressed);
        } else {
            put32(b, compressed as u32);
            put32(b, open.uncompressed as u32);
        }
        self.entries.push(Entry {
            name: open.name,
            offset: open.offset,
            crc,
            compressed,
            uncompressed: open.uncompressed,
        });
        self.drain_if_big()
    }

    /// Adds a whole entry at once (the small workbook parts).
    pub fn add_entry(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        self.start_entry(name)?;
        self.write(data)?;
        self.finish_entry()
    }

    /// Sends everything produced so far to the sink and flushes it (a sync
    /// flush of the open entry's deflate stream: a few bytes).
    pub fn flush(&mut self) -> io::Result<()> {
        if self.open.is_some() {
            self.sync()?;
        }
        self.drain()?;
        self.out.flush()
    }

    /// Writes the central directory; returns the flushed sink and the total
    /// bytes written to it.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.finish_entry()?;
        let limit = self.zip64_limit;
        let cd_start = self.bytes_written();
        let entries = std::mem::take(&mut self.entries);
        for e in &entries {
            central_record(&mut self.buf, e, limit);
            self.drain_if_big()?;
        }
        let cd_end = self.bytes_written();
        let count = entries.len() as u64;
        let (cd_size, b) = (cd_end - cd_start, &mut self.buf);
        let zip64 = count >= 0xFFFF || cd_size >= limit || cd_start >= limit;
        if zip64 {
            put32(b, EOCD64_SIG);
            put64(b, 44); // size of the rest of this record
            put16(b, VERSION_ZIP64);
            put16(b, VERSION_ZIP64);
            put32(b, 0); // this disk
            put32(b, 0); // disk with the directory
            put64(b, count);
            put64(b, count);
            put64(b, cd_size);
            put64(b, cd_start);
            put32(b, EOCD64_LOCATOR_SIG);
            put32(b, 0);
            put64(b, cd_end);
            put32(b, 1); // disks
        }
        let clamp16 = |v: u64| {
            if zip64 && v >= 0xFFFF {
                0xFFFF
            } else {
                v as u16
            }
        };
        let clamp32 = |v: u64| if v >= limit { 0xFFFF_FFFF } else { v as u32 };
        put32(b, EOCD_SIG);
        put16(b, 0);
        put16(b, 0);
        put16(b, clamp16(count));
        put16(b, clamp16(count));
        put32(b, clamp32(cd_size));
        put32(b, clamp32(cd_start));
        put16(b, 0); // comment length
        self.drain()?;
        self.out.flush()?;
        Ok((self.out, self.sent))
    }
}

/// One central-directory record; ZIP64 extra field only for the values that
/// need it, in the order APPNOTE 4.5.3 fixes (sizes, then offset).
fn central_record(b: &mut Vec<u8>, e: &Entry, limit: u64) {
    let wide: Vec<u64> = [e.uncompressed, e.compressed, e.offset]
        .into_iter()
        .filter(|&v| v >= limit)
        .collect();
    let clamp32 = |v: u64| if v >= limit { 0xFFFF_FFFF } else { v as u32 };
    let version = if wide.is_empty() {
        VERSION_DEFLATE
    } else {
        VERSION_ZIP64
    };
    put32(b, CENTRAL_SIG);
    // Made by Unix, spec 4.5: Info-ZIP converts names of MS-DOS-made
    // entries from CP437 in places despite the UTF-8 flag (seen with ZIP64
    // entries), and reads the Unix mode below (a plain 0644 file).
    put16(b, 3 << 8 | VERSION_ZIP64);
    put16(b, version);
    put16(b, FLAGS);
    put16(b, DEFLATE);
    put16(b, DOS_TIME);
    put16(b, DOS_DATE);
    put32(b, e.crc);
    put32(b, clamp32(e.compressed));
    put32(b, clamp32(e.uncompressed));
    put16(b, e.name.len() as u16);
    put16(
        b,
        if wide.is_empty() {
            0
        } else {
            4 + 8 * wide.len() as u16
        },
    );
    put16(b, 0); // comment
    put16(b, 0); // disk
    put16(b, 0); // internal attributes
    put32(b, 0o100_644 << 16); // external attributes: -rw-r--r--
    put32(b, clamp32(e.offset));
    b.extend_from_slice(e.name.as_bytes());
    if !wide.is_empty() {
        put16(b, 0x0001);
        put16(b, 8 * wide.len() as u16);
        for v in wide {
            put64(b, v);
        }
    }
}

#[cfg(test)]
mod tests;
