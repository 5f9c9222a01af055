//! The engine's streaming side: the blocking writer's output goes as
//! [`Bytes`] chunks through a bounded channel to an HTTP body.
//!
//! Backpressure: the channel holds [`QUEUED_CHUNKS`] chunks; a slow client
//! blocks the writer in `blocking_send`. Cancellation: when the body is
//! dropped (the client went away) `blocking_send` fails, the writer's next
//! write returns an error and the export stops, reading no further rows.
//!
//! A stalled client (nothing read for [`ExportSpec::stall`]) is treated as gone: the
//! writer stops *and releases the admission guard at once* — the body, which hyper keeps
//! for as long as the connection is open, no longer holds the permit (review H5). A body
//! whose writer failed always ends with an error after the queued chunks, never with a
//! clean end (M1): the client sees a broken transfer, not a truncated file.

use std::io::{self, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

type Guard = Box<dyn Send + Sync>;

/// What the writer's sink and the body share.
#[derive(Default)]
struct Shared {
    /// The writer did not deliver the whole file.
    failed: AtomicBool,
    /// The admission guard: released when the body goes or the writer gives up.
    guard: Mutex<Option<Guard>>,
}

impl Shared {
    fn fail(&self) {
        self.failed.store(true, Ordering::SeqCst);
        self.release();
    }

    fn release(&self) {
        let guard = self.guard.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(guard);
    }
}

/// A [`Write`] that sends what it gets as [`Bytes`] chunks into a bounded
/// channel, and hashes and counts every byte it manages to send.
pub struct ChannelSink {
    tx: mpsc::Sender<Chunk>,
    rt: tokio::runtime::Handle,
    buf: BytesMut,
    sha: Sha256,
    sent: u64,
    shared: Arc<Shared>,
    stall: Duration,
}

impl ChannelSink {
    /// A sink feeding `tx`; call from a thread inside the runtime (a blocking
    /// thread, or one that entered its handle as `export::priority::spawn` does).
    pub fn new(tx: mpsc::Sender<Chunk>) -> Self {
        Self::shared(tx, Arc::default(), STALL_TIMEOUT)
    }

    fn shared(tx: mpsc::Sender<Chunk>, shared: Arc<Shared>, stall: Duration) -> Self {
        Self {
            tx,
            rt: tokio::runtime::Handle::current(),
            buf: BytesMut::with_capacity(CHUNK_BYTES),
            sha: Sha256::new(),
            sent: 0,
            shared,
            stall,
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
            .block_on(tokio::time::timeout(self.stall, self.tx.send(Ok(chunk))));
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                self.shared.fail();
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "client went away",
                ));
            }
            Err(_) => {
                // Free the permit now: hyper may keep the body for as long as the
                // client keeps the connection open.
                self.shared.fail();
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "client stalled: nothing read for {} s",
                        self.stall.as_secs()
                    ),
                ));
            }
        }
        self.sent += len;
        self.buf.reserve(CHUNK_BYTES);
        Ok(())
    }

    /// Bytes handed to the channel, and the SHA-256 (hex) of them.
    pub fn finish(mut self) -> (u64, String) {
        if self.send().is_err() {
            self.shared.fail();
        }
        (self.sent, hex::encode(self.sha.finalize()))
    }

    /// Ends the body with an error, so the client's download fails visibly
    /// instead of ending cleanly with a truncated file.
    pub fn fail(self, why: String) -> (u64, String) {
        // Flagged first: when the marker cannot be queued (a stalled client's channel is
        // full) the body still ends with an error after the queued chunks.
        self.shared.fail();
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
    errored: bool,
    delivered: Option<oneshot::Sender<bool>>,
    shared: Arc<Shared>,
}

impl futures_util::Stream for ExportBody {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.errored {
            return Poll::Ready(None);
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Err(e))) => {
                self.errored = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Some(c)) => Poll::Ready(Some(c)),
            Poll::Ready(None) if self.shared.failed.load(Ordering::SeqCst) => {
                self.errored = true;
                Poll::Ready(Some(Err(io::Error::other(
                    "the export stopped before its end; the file is incomplete",
                ))))
            }
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
        self.shared.release();
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
    spawn_writer(
        snapshot,
        spec,
        guard,
        move |rows, spec, sink, progress| match shape {
            Shape::File => write_export(rows, spec, sink, progress),
            Shape::Batches(n) => write_batches(rows, spec, n.max(1), sink, progress),
        },
    )
}

/// Starts writing `snapshot` as the leads list's JSON document
/// (`{"total", "leads"}`, see [`super::json_list`]) on a thread of its own,
/// with the same backpressure and cancellation as a file.
pub fn stream_lead_list(
    snapshot: ExportSnapshot,
    spec: ExportSpec,
    name_of: super::json_list::NameOf,
) -> ExportStream {
    let total = snapshot.total;
    spawn_writer(snapshot, spec, None, move |rows, spec, sink, progress| {
        super::json_list::write_lead_list(rows, spec, total, &name_of, sink, progress)
    })
}

type WriteFn = dyn FnOnce(
        &mut dyn crate::store::LeadRows,
        &ExportSpec,
        &mut ChannelSink,
        &AtomicU64,
    ) -> Result<super::engine::Written, ExportError>
    + Send;

fn spawn_writer(
    snapshot: ExportSnapshot,
    spec: ExportSpec,
    guard: Option<Box<dyn Send + Sync>>,
    write: impl FnOnce(
        &mut dyn crate::store::LeadRows,
        &ExportSpec,
        &mut ChannelSink,
        &AtomicU64,
    ) -> Result<super::engine::Written, ExportError>
    + Send
    + 'static,
) -> ExportStream {
    let write: Box<WriteFn> = Box::new(write);
    let ExportSnapshot { total, mut rows } = snapshot;
    let (tx, rx) = mpsc::channel(QUEUED_CHUNKS);
    let (delivered_tx, delivered_rx) = oneshot::channel();
    let shared = Arc::new(Shared {
        failed: AtomicBool::new(false),
        guard: Mutex::new(guard),
    });
    let sink_shared = shared.clone();
    // A thread of its own at export priority, not tokio's blocking pool
    // (`export::priority`).
    let lower = spec.lower_priority;
    let writer = super::priority::spawn("pulse-export", lower, move || {
        let started = Instant::now();
        let mut sink = ChannelSink::shared(tx, sink_shared, spec.stall);
        let progress = AtomicU64::new(0);
        let result = write(rows.as_mut(), &spec, &mut sink, &progress);
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
            errored: false,
            delivered: Some(delivered_tx),
            shared,
        },
        end: ExportEnd {
            total,
            writer,
            delivered: delivered_rx,
        },
    }
}

#[cfg(test)]
mod stall_tests {
    use super::*;
    use futures_util::StreamExt;

    /// M1 + H5: a client that reads nothing past the stall limit, then drains what was
    /// queued, gets an error at the end, not a clean end; the guard went at the stall.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_body_ends_with_an_error_and_frees_its_guard() {
        let (tx, rx) = mpsc::channel(QUEUED_CHUNKS);
        let guard = Arc::new(());
        let shared = Arc::new(Shared {
            failed: AtomicBool::new(false),
            guard: Mutex::new(Some(Box::new(guard.clone()))),
        });
        let (delivered, _) = oneshot::channel();
        let mut body = ExportBody {
            rx,
            ended: false,
            errored: false,
            delivered: Some(delivered),
            shared: shared.clone(),
        };
        let mut sink = ChannelSink::shared(tx, shared, Duration::from_millis(200));
        let handle = tokio::runtime::Handle::current();
        let writer = std::thread::spawn(move || {
            let _enter = handle.enter();
            let chunk = vec![b'x'; CHUNK_BYTES];
            let mut result = Ok(());
            for _ in 0..QUEUED_CHUNKS + 4 {
                result = sink.write_all(&chunk);
                if result.is_err() {
                    break;
                }
            }
            match result {
                Ok(()) => sink.finish(),
                Err(e) => sink.fail(e.to_string()),
            }
        });
        // read nothing until the writer gave up
        let (sent, _) = tokio::task::spawn_blocking(move || writer.join().unwrap())
            .await
            .unwrap();
        assert!(sent > 0);
        assert_eq!(
            Arc::strong_count(&guard),
            1,
            "the guard is released at the stall"
        );
        let mut got = Vec::new();
        while let Some(item) = body.next().await {
            got.push(item.is_ok());
        }
        assert_eq!(
            got.last(),
            Some(&false),
            "the body ends with an error: {got:?}"
        );
        assert!(got[..got.len() - 1].iter().all(|ok| *ok));
    }
}
