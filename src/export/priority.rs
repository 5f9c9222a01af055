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
//! Only threads that exports own are lowered (niceness is per thread on
//! Linux and cannot be raised back without privilege, so it must never be
//! applied to a pooled thread that later serves requests); the threads an
//! export starts ([`inherit`]) take their starter's priority.
//!
//! A lone streaming export stays at normal priority: measured on 2 cores,
//! nice 10 cost it ~10% (1M xlsx over HTTP 2.8-3.0 s -> 3.1-3.5 s) while a
//! list request beside one export is served promptly either way; with other
//! exports running (and for background jobs) the lowered priority is what
//! keeps requests fast (8 at once: list max 58-73 ms lowered, 77-156 ms not).

/// The niceness of export threads (0 = normal, 19 = lowest).
pub const EXPORT_NICE: i32 = 10;

thread_local! {
    static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Lowers the calling thread's priority to [`EXPORT_NICE`]. Best effort: a
/// platform or sandbox that refuses leaves the priority as it was.
pub fn lower_this_thread() {
    LOWERED.with(|l| l.set(true));
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        let _ = rustix::process::setpriority_process(Some(tid), EXPORT_NICE);
    }
}

/// Call on a thread an export starts with what [`lowered`] said on the
/// starting thread: the new thread gets the same priority.
pub fn inherit(lowered: bool) {
    if lowered {
        lower_this_thread();
    }
}

/// Whether this thread was lowered by [`lower_this_thread`].
pub fn lowered() -> bool {
    LOWERED.with(|l| l.get())
}

/// Runs `f` on a new thread named `name` (at export priority when `lower`), inside the
/// caller's tokio runtime (for timers), and returns its result through a
/// channel: an error from the receiver means the thread could not start or
/// panicked. Use this instead of `spawn_blocking` for export work.
pub fn spawn<T, F>(name: &str, lower: bool, f: F) -> tokio::sync::oneshot::Receiver<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Handle::try_current().ok();
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            inherit(lower);
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
