//! Export threads run at a lower CPU priority than the HTTP server.
//!
//! Why: an export is CPU-bound for as long as it runs (reading, XML,
//! deflate — three threads each), and eight of them at once on two cores
//! left a leads-list request (2.5 ms of work) waiting up to 140 ms for a
//! core. With the export threads at nice [`EXPORT_NICE`], the scheduler
//! gives the request-serving threads the core as soon as they wake; the
//! exports take the rest, so their throughput is unchanged on an otherwise
//! idle machine.
//!
//! Only threads that exports own call [`lower_this_thread`] (niceness is
//! per thread on Linux and cannot be raised back without privilege, so it
//! must never be applied to a pooled thread that later serves requests).

/// The niceness of export threads (0 = normal, 19 = lowest).
pub const EXPORT_NICE: i32 = 10;

/// Lowers the calling thread's priority to [`EXPORT_NICE`]. Best effort: a
/// platform or sandbox that refuses leaves the priority as it was.
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        let _ = rustix::process::setpriority_process(Some(tid), EXPORT_NICE);
    }
}

/// Runs `f` on a new thread named `name` at export priority, inside the
/// caller's tokio runtime (for timers), and returns its result through a
/// channel: an error from the receiver means the thread could not start or
/// panicked. Use this instead of `spawn_blocking` for export work.
pub fn spawn<T, F>(name: &str, f: F) -> tokio::sync::oneshot::Receiver<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Handle::try_current().ok();
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            lower_this_thread();
            let _entered = runtime.as_ref().map(|r| r.enter());
            let _ = tx.send(f());
        });
    if let Err(e) = spawned {
        // The closure (and the sender) is dropped: the receiver says so.
        tracing::error!(error = %e, thread = name, "could not start an export thread");
    }
    rx
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn lowers_only_the_calling_thread() {
        let before = rustix::process::getpriority_process(None).unwrap();
        let inside = std::thread::spawn(|| {
            super::lower_this_thread();
            rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(inside, super::EXPORT_NICE.max(before));
        assert_eq!(rustix::process::getpriority_process(None).unwrap(), before);
    }
}
