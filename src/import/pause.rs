//! A pause point in the main parse of an import, for the tests that prove
//! what other requests may do while a file is being parsed (review H4: no
//! write lock is held then). Nothing in Pulse registers one; an import of
//! a file whose name nobody registered costs one uncontended lock.

use std::sync::{Arc, Condvar, Mutex};

/// One registered pause: the parse of the file stops after `rows` rows
/// until [`Pause::release`].
#[derive(Debug, Default)]
pub struct Pause {
    state: Mutex<(bool, bool)>, // (reached, released)
    changed: Condvar,
}

impl Pause {
    /// Whether the parse has reached the pause point (and waits there).
    pub fn reached(&self) -> bool {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// Lets the parse go on.
    pub fn release(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).1 = true;
        self.changed.notify_all();
    }

    /// Called by the parse thread: marks the point reached and waits.
    fn wait(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 = true;
        while !s.1 {
            s = self.changed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
    }
}

type Registered = Vec<(String, u64, Arc<Pause>)>;

static PAUSES: Mutex<Registered> = Mutex::new(Vec::new());

/// Pauses the next import of a file named `file_name` once its main parse
/// has read `rows` rows (tests only).
pub fn pause_parse(file_name: &str, rows: u64) -> Arc<Pause> {
    let p = Arc::new(Pause::default());
    PAUSES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((file_name.to_owned(), rows, p.clone()));
    p
}

/// The pause registered for `file_name`, taken out of the registry.
pub(super) fn take(file_name: &str) -> Option<(u64, Arc<Pause>)> {
    let mut all = PAUSES.lock().unwrap_or_else(|p| p.into_inner());
    let i = all.iter().position(|(n, _, _)| n == file_name)?;
    let (_, rows, p) = all.swap_remove(i);
    Some((rows, p))
}

/// Waits at the pause point when `rows` reaches it.
pub(super) fn at(pause: &Option<(u64, Arc<Pause>)>, rows: u64) {
    if let Some((at, p)) = pause
        && *at == rows
    {
        p.wait();
    }
}
