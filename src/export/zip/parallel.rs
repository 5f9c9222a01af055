//! pigz-style parallel deflate of one ZIP entry: the caller hands over
//! ~1 MiB chunks in order; each is deflated as an independent piece
//! ([`deflate_piece`]) either by a helper thread (when one is idle) or on
//! the caller's thread, and the pieces go into the entry in order with
//! their CRCs combined. Each helper may have [`QUEUED_PER_HELPER`] chunks
//! waiting before the caller deflates one itself: producing a chunk's XML
//! takes less time than deflating it, so with a queue of one the helper sat
//! idle while the caller deflated every other chunk (63% / 37% of the CPU
//! samples at 1M leads); with two, the caller deflates only the overflow and
//! both cores stay busy. Memory stays flat: at most
//! `QUEUED_PER_HELPER × helpers + 2` chunks are in the air.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use flate2::Compress;

use super::{DeflatedPiece, ZipWriter, deflate_piece, piece_compressor};

/// Chunks a helper may have queued before the caller deflates inline.
const QUEUED_PER_HELPER: usize = 2;

type Done = (Vec<u8>, io::Result<DeflatedPiece>);

struct Job {
    input: Vec<u8>,
    piece: DeflatedPiece,
    done: mpsc::Sender<Done>,
}

enum Pending {
    Ready(Vec<u8>, DeflatedPiece),
    Waiting(mpsc::Receiver<Done>),
}

/// Parallel compressor for the chunks of one entry at a time; see the
/// module doc. Dropping it stops and joins the helper threads.
pub struct ParallelDeflate {
    jobs: Option<mpsc::Sender<Job>>,
    helpers: Vec<JoinHandle<()>>,
    pending: VecDeque<Pending>,
    in_flight: usize,
    z: Compress,
    spare_inputs: Vec<Vec<u8>>,
    spare_pieces: Vec<DeflatedPiece>,
}

impl std::fmt::Debug for ParallelDeflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelDeflate")
            .field("helpers", &self.helpers.len())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl ParallelDeflate {
    /// Starts `helpers` (≥ 1) helper threads.
    pub fn new(helpers: usize) -> io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut handles = Vec::with_capacity(helpers);
        let lowered = crate::export::priority::lowered();
        for i in 0..helpers.max(1) {
            let rx = Arc::clone(&rx);
            let h = std::thread::Builder::new()
                .name(format!("pulse-deflate-{i}"))
                .spawn(move || {
                    crate::export::priority::inherit(lowered);
                    let mut z = piece_compressor();
                    loop {
                        // The lock is held only while waiting for one job.
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(mut job) = job else { return };
                        let r = deflate_piece(&mut z, &job.input, &mut job.piece);
                        let _ = job.done.send((job.input, r.map(|()| job.piece)));
                    }
                })?;
            handles.push(h);
        }
        Ok(Self {
            jobs: Some(tx),
            helpers: handles,
            pending: VecDeque::new(),
            in_flight: 0,
            z: piece_compressor(),
            spare_inputs: Vec::new(),
            spare_pieces: Vec::new(),
        })
    }

    /// Takes one chunk of the open entry of `zip`, writes every piece that
    /// is ready (in order) and returns an empty buffer to fill next.
    pub fn push<W: Write>(
        &mut self,
        input: Vec<u8>,
        zip: &mut ZipWriter<W>,
    ) -> io::Result<Vec<u8>> {
        self.poll()?;
        let mut piece = self.spare_pieces.pop().unwrap_or_default();
        match &self.jobs {
            Some(jobs) if self.in_flight < QUEUED_PER_HELPER * self.helpers.len() => {
                let (done, rx) = mpsc::channel();
                let job = Job { input, piece, done };
                jobs.send(job)
                    .map_err(|_| io::Error::other("deflate helper gone"))?;
                self.in_flight += 1;
                self.pending.push_back(Pending::Waiting(rx));
            }
            _ => {
                deflate_piece(&mut self.z, &input, &mut piece)?;
                self.pending.push_back(Pending::Ready(input, piece));
            }
        }
        self.write_ready(zip, QUEUED_PER_HELPER * self.helpers.len() + 2)?;
        let mut buf = self.spare_inputs.pop().unwrap_or_default();
        buf.clear();
        Ok(buf)
    }

    /// Writes every outstanding piece (call before finishing or flushing
    /// the entry).
    pub fn drain<W: Write>(&mut self, zip: &mut ZipWriter<W>) -> io::Result<()> {
        self.write_ready(zip, 0)
    }

    /// Turns finished helper jobs into `Ready` without blocking.
    fn poll(&mut self) -> io::Result<()> {
        for p in self.pending.iter_mut() {
            if let Pending::Waiting(rx) = p
                && let Ok((input, r)) = rx.try_recv()
            {
                *p = Pending::Ready(input, r?);
                self.in_flight -= 1;
            }
        }
        Ok(())
    }

    /// Writes ready pieces from the front; blocks on the front one while
    /// more than `keep` are pending.
    fn write_ready<W: Write>(&mut self, zip: &mut ZipWriter<W>, keep: usize) -> io::Result<()> {
        while let Some(front) = self.pending.pop_front() {
            let (input, piece) = match front {
                Pending::Ready(i, p) => (i, p),
                Pending::Waiting(rx) if self.pending.len() >= keep => {
                    let (i, r) = rx
                        .recv()
                        .map_err(|_| io::Error::other("deflate helper died"))?;
                    self.in_flight -= 1;
                    (i, r?)
                }
                waiting => {
                    self.pending.push_front(waiting);
                    return Ok(());
                }
            };
            zip.write_deflated(&piece)?;
            self.spare_inputs.push(input);
            self.spare_pieces.push(piece);
        }
        Ok(())
    }
}

impl Drop for ParallelDeflate {
    fn drop(&mut self) {
        self.jobs = None; // helpers see the channel close and return
        for h in self.helpers.drain(..) {
            let _ = h.join();
        }
    }
}
