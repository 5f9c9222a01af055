//! Streaming CSV reader: the encoding is found first (BOM, else UTF-8 if
//! the whole file is valid UTF-8, else Windows-1252 — what Excel "CSV"
//! saves on Indian Windows), the bytes are decoded as they stream, and
//! records are split by `csv_core` into buffers that grow only up to a
//! bound, so a 100 MB line or 300,000 columns is refused, not buffered.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};

use super::ImportError;
use super::values::Cell;

/// One record (a row, quoted line breaks included) at most.
pub const MAX_RECORD_BYTES: usize = 8 << 20;
/// Columns of one record at most.
pub const MAX_FIELDS: usize = 4096;

/// The encoding of a text file, and how many BOM bytes to skip.
pub fn detect_encoding(file: &mut File) -> Result<(&'static Encoding, u64), ImportError> {
    let mut head = [0u8; 3];
    file.seek(SeekFrom::Start(0))?;
    let n = read_up_to(file, &mut head)?;
    let head = &head[..n];
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok((encoding_rs::UTF_8, 3));
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return Ok((UTF_16LE, 2));
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Ok((UTF_16BE, 2));
    }
    // One streaming pass: valid UTF-8 throughout, or Windows-1252 (which
    // decodes every byte; Latin-1 text is a subset of it).
    file.seek(SeekFrom::Start(0))?;
    let mut r = BufReader::with_capacity(1 << 20, &mut *file);
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let mut chunk = std::mem::take(&mut carry);
        chunk.extend_from_slice(buf);
        let len = buf.len();
        r.consume(len);
        match std::str::from_utf8(&chunk) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => carry = chunk[e.valid_up_to()..].to_vec(),
            Err(_) => return Ok((WINDOWS_1252, 0)),
        }
    }
    if !carry.is_empty() {
        return Ok((WINDOWS_1252, 0));
    }
    Ok((encoding_rs::UTF_8, 0))
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Bytes of the file decoded to UTF-8 as they are read.
struct Decoded<R> {
    inner: R,
    decoder: Option<encoding_rs::Decoder>,
    raw: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(dec) = self.decoder.as_mut() else {
            return self.inner.read(buf);
        };
        while self.pos == self.out.len() {
            if self.eof {
                return Ok(0);
            }
            self.raw.resize(64 << 10, 0);
            let n = self.inner.read(&mut self.raw)?;
            let last = n == 0;
            self.out.clear();
            self.out
                .resize(dec.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16), 0);
            let (_, _, written, _) = dec.decode_to_utf8(&self.raw[..n], &mut self.out, last);
            self.out.truncate(written);
            self.pos = 0;
            self.eof = last;
        }
        let k = buf.len().min(self.out.len() - self.pos);
        buf[..k].copy_from_slice(&self.out[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

/// The records of a CSV file, each with the line it starts on.
pub struct CsvRows {
    input: BufReader<Decoded<File>>,
    reader: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    done: bool,
    /// Line breaks consumed so far (csv_core's own count skips those inside
    /// quoted fields, and the report names physical lines).
    newlines: u64,
    /// The encoding found.
    pub encoding: &'static str,
}

impl CsvRows {
    /// Opens `file`, detecting its encoding and delimiter (`,`, `;` or tab:
    /// whichever the first line holds most of).
    pub fn open(mut file: File) -> Result<CsvRows, ImportError> {
        let (encoding, bom) = detect_encoding(&mut file)?;
        file.seek(SeekFrom::Start(bom))?;
        let decoded = Decoded {
            inner: file,
            decoder: (encoding != encoding_rs::UTF_8)
                .then(|| encoding.new_decoder_without_bom_handling()),
            raw: Vec::new(),
            out: Vec::new(),
            pos: 0,
            eof: false,
        };
        let mut input = BufReader::with_capacity(256 << 10, decoded);
        let head = input.fill_buf()?;
        let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
        let count = |d: u8| first_line.iter().filter(|&&b| b == d).count();
        let delimiter = [b',', b';', b'\t']
            .into_iter()
            .max_by_key(|&d| (count(d), d == b','))
            .unwrap_or(b',');
        Ok(CsvRows {
            input,
            reader: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            out: vec![0; 64 << 10],
            ends: vec![0; 64],
            done: false,
            newlines: 0,
            encoding: encoding.name(),
        })
    }

    /// Reads the next record into `cells` (every field as text, up to
    /// `width` fields kept) and returns its starting line, or `None` at
    /// the end.
    pub fn next_row(
        &mut self,
        cells: &mut Vec<Cell>,
        width: usize,
    ) -> Result<Option<u64>, ImportError> {
        use csv_core::ReadRecordResult as R;
        if self.done {
            return Ok(None);
        }
        cells.clear();
        // Line breaks before the record (the LF of a CRLF that ended the
        // previous one, blank lines) belong to no record: step over them so
        // the line counted is the record's first.
        loop {
            let input = self.input.fill_buf()?;
            let skip = input
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
            if skip == 0 {
                break;
            }
            self.newlines += input[..skip].iter().filter(|&&b| b == b'\n').count() as u64;
            self.input.consume(skip);
        }
        let line = self.newlines + 1;
        let (mut nout, mut nend) = (0usize, 0usize);
        loop {
            let input = self.input.fill_buf()?;
            let (res, nin, o, e) =
                self.reader
                    .read_record(input, &mut self.out[nout..], &mut self.ends[nend..]);
            self.newlines += input[..nin].iter().filter(|&&b| b == b'\n').count() as u64;
            self.input.consume(nin);
            nout += o;
            nend += e;
            match res {
                R::InputEmpty => continue,
                R::OutputFull => {
                    if self.out.len() >= MAX_RECORD_BYTES {
                        return Err(ImportError::TooLarge(format!(
                            "line {line}: a CSV record longer than {} MiB",
                            MAX_RECORD_BYTES >> 20
                        )));
                    }
                    let grown = (self.out.len() * 2).min(MAX_RECORD_BYTES);
                    self.out.resize(grown, 0);
                }
                R::OutputEndsFull => {
                    if self.ends.len() >= MAX_FIELDS {
                        return Err(ImportError::Invalid(format!(
                            "line {line}: more than {MAX_FIELDS} columns"
                        )));
                    }
                    let grown = (self.ends.len() * 2).min(MAX_FIELDS);
                    self.ends.resize(grown, 0);
                }
                R::Record => break,
                R::End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
        let mut start = 0;
        for &end in &self.ends[..nend] {
            if cells.len() >= width {
                break;
            }
            let bytes = &self.out[start..end];
            start = end;
            cells.push(if bytes.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(String::from_utf8_lossy(bytes).into_owned())
            });
        }
        Ok(Some(line))
    }
}
