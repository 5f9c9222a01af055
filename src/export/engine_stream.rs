//! The engine's streaming side: the blocking writer's output goes as
//! [`Bytes`] chunks through a bounded channel to an HTTP body.
//!
//! Backpressure: the channel holds [`QUEUED_CHUNKS`] chunks; a slow client
//! blocks the writer in `blocking_send`. Cancellation: when the body is
//! dropped (the client went away) `blocking_send` fails, the writer's next
//! write returns an error and the export stops, reading no further rows.

use std::io::{self, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use super::engine::{ExportError, ExportSpec, write_batches, write_export};
use crate::store::ExportSnapshot;

/// Bytes collected before a chunk goes to the body.
pub const CHUNK_BYTES: usize = 128 * 1024;
/// Chunks queued between the writer and the client (~1 MiB per export).
pub const QUEUED_CHUNKS: usize = 8;
/// A client that takes nothing for this long is treated as gone, so a
/// stalled connection cannot hold an export permit for ever.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(120);

type Chunk = Result<Bytes, io::Error>;

/// A [`Write`] that sends what it gets as [`Bytes`] chunks into a bounded
/// channel, and hashes and counts every byte it manages to send.
pub struct ChannelSink {
    tx: mpsc::Sender<Chunk>,
    rt: tokio::runtime::Handle,
    buf: BytesMut,
    sha: Sha256,
    sent: u64,
}

impl ChannelSink {
    /// A sink feeding `tx`; call from a thread inside the runtime (a blocking
    /// thread, or one that entered its handle as `export::priority::spawn` does).
    pub fn new(tx: mpsc::Sender<Chunk>) -> Self {
        Self {
            tx,
            rt: tokio::runtime::Handle::current(),
            buf: BytesMut::with_capacity(CHUNK_BYTES),
            sha: Sha256::new(),
            sent: 0,
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = self.buf.split().freeze();
        self.sha.update(&chunk);
        let len = chunk.len() as u64;
        // Blocks while the client is slow (backpressure); fails at once when
        // the body was dropped (client gone).
        let sent = self
            .rt
            .block_on(tokio::time::timeout(STALL_TIMEOUT, self.tx.send(Ok(chunk))));
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "client went away",
                ));
            }
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "client stalled: nothing read for 120 s",
                ));
            }
        }
        self.sent += len;
        self.buf.reserve(CHUNK_BYTES);
        Ok(())
    }

    /// Bytes handed to the channel, and the SHA-256 (hex) of them.
    pub fn finish(mut self) -> (u64, String) {
        let _ = self.send();
        (self.sent, hex::encode(self.sha.finalize()))
    }

    /// Ends the body with an error, so the client's download fails visibly
    /// instead of ending cleanly with a truncated file.
    pub fn fail(self, why: String) -> (u64, String) {
        let marker = self.tx.send(Err(io::Error::other(why)));
        let _ = self
            .rt
            .block_on(tokio::time::timeout(Duration::from_secs(5), marker));
        (self.sent, hex::encode(self.sha.finalize()))
    }
}

impl Write for ChannelSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// How an export ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Every byte was handed to the client.
    Completed,
    /// Stopped early; the reason (client gone, database error).
    Aborted(String),
}

impl Ending {
    /// `completed` or `aborted`, as audited.
    pub fn as_str(&self) -> &'static str {
        match self {
            Ending::Completed => "completed",
            Ending::Aborted(_) => "aborted",
        }
    }
}

/// What an export did, for the log and the audit entry.
#[derive(Debug, Clone)]
pub struct ExportOutcome {
    /// Rows the snapshot held (the `X-Total-Leads` header).
    pub total: u64,
    /// Data rows written.
    pub rows: u64,
    /// Bytes sent to the client.
    pub bytes: u64,
    /// SHA-256 (hex) of the bytes sent.
    pub sha256: String,
    /// Completed or aborted.
    pub ending: Ending,
    /// From the start of the writer to its end.
    pub elapsed: Duration,
}

/// The file as a body stream. Holds `guard` (e.g. the admission permit)
/// until it is dropped — after the last byte, or when the client leaves.
pub struct ExportBody {
    rx: mpsc::Receiver<Chunk>,
    ended: bool,
    delivered: Option<oneshot::Sender<bool>>,
    _guard: Option<Box<dyn Send + Sync>>,
}

impl futures_util::Stream for ExportBody {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(c)) => Poll::Ready(Some(c)),
            Poll::Ready(None) => {
                self.ended = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for ExportBody {
    fn drop(&mut self) {
        if let Some(tx) = self.delivered.take() {
            let _ = tx.send(self.ended);
        }
    }
}

/// The end of a running export: await [`ExportEnd::wait`] for its outcome.
pub struct ExportEnd {
    total: u64,
    writer: oneshot::Receiver<WriterReport>,
    delivered: oneshot::Receiver<bool>,
}

struct WriterReport {
    rows: u64,
    bytes: u64,
    sha256: String,
    error: Option<ExportError>,
    elapsed: Duration,
}

impl ExportEnd {
    /// Waits until the writer has stopped and the body is done (sent whole
    /// or dropped), then says how it went.
    pub async fn wait(self) -> ExportOutcome {
        let report = self.writer.await;
        let delivered = self.delivered.await.unwrap_or(false);
        match report {
            Ok(r) => {
                let ending = match (&r.error, delivered) {
                    (None, true) => Ending::Completed,
                    (None, false) => Ending::Aborted("client went away".into()),
                    (Some(ExportError::Output(_)), _) => Ending::Aborted("client went away".into()),
                    (Some(e), _) => Ending::Aborted(e.to_string()),
                };
                ExportOutcome {
                    total: self.total,
                    rows: r.rows,
                    bytes: r.bytes,
                    sha256: r.sha256,
                    ending,
                    elapsed: r.elapsed,
                }
            }
            Err(e) => ExportOutcome {
                total: self.total,
                rows: 0,
                bytes: 0,
                sha256: String::new(),
                ending: Ending::Aborted(format!("the export thread ended without a report: {e}")),
                elapsed: Duration::ZERO,
            },
        }
    }
}

/// What to write: one file, or a ZIP of workbooks of `batch_size` rows.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// One xlsx or csv file.
    File,
    /// A ZIP of xlsx files of this many rows each.
    Batches(u64),
}

/// A started export: its row count, its body and its end.
pub struct ExportStream {
    /// Rows the file will hold (counted in the snapshot).
    pub total: u64,
    /// The bytes, for the HTTP response.
    pub body: ExportBody,
    /// Await for the outcome (audit, log).
    pub end: ExportEnd,
}

/// Starts writing `snapshot` on a thread of its own (`export::priority::spawn`); the file's first bytes
/// are in the body before the first row is read. `guard` lives as long as
/// the body.
pub fn stream(
    snapshot: ExportSnapshot,
    spec: ExportSpec,
    shape: Shape,
    guard: Option<Box<dyn Send + Sync>>,
) -> ExportStream {
    let ExportSnapshot { total, mut rows } = snapshot;
    let (tx, rx) = mpsc::channel(QUEUED_CHUNKS);
    let (delivered_tx, delivered_rx) = oneshot::channel();
    // A thread of its own at export priority, not tokio's blocking pool
    // (`export::priority`).
    let lower = spec.lower_priority;
    let writer = super::priority::spawn("pulse-export", lower, move || {
        let started = Instant::now();
        let mut sink = ChannelSink::new(tx);
        let progress = AtomicU64::new(0);
        let result = match shape {
            Shape::File => write_export(rows.as_mut(), &spec, &mut sink, &progress),
            Shape::Batches(n) => {
                write_batches(rows.as_mut(), &spec, n.max(1), &mut sink, &progress)
            }
        };
        // Stop reading (close the snapshot) before reporting.
        drop(rows);
        let (bytes, sha256) = match &result {
            Ok(_) => sink.finish(),
            Err(e) => sink.fail(e.to_string()),
        };
        let (rows, error) = match result {
            Ok(w) => (w.rows, None),
            Err(e) => (progress.load(Ordering::Relaxed), Some(e)),
        };
        WriterReport {
            rows,
            bytes,
            sha256,
            error,
            elapsed: started.elapsed(),
        }
    });
    ExportStream {
        total,
        body: ExportBody {
            rx,
            ended: false,
            delivered: Some(delivered_tx),
            _guard: guard,
        },
        end: ExportEnd {
            total,
            writer,
            delivered: delivered_rx,
        },
    }
}
