//! Admission of streaming exports: `PULSE_EXPORT_CONCURRENCY` permits in all, at most
//! `PULSE_EXPORT_PER_USER` streams per user (review H5: one user could take every permit),
//! and a short bounded wait for a permit so a burst is absorbed instead of refused (each
//! 10k-lead export holds its permit for ~30 ms).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

/// How long an export waits for a permit before it is refused.
pub const WAIT: Duration = Duration::from_secs(2);
/// Exports allowed to wait, per permit.
pub const QUEUE_PER_PERMIT: usize = 4;

/// Why an export was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// This user already streams `per_user` exports (429).
    #[error("you already have {0} exports streaming; wait for one to finish")]
    PerUser(usize),
    /// Every permit stayed taken for the whole wait, or the queue is full (503).
    #[error("too many exports running; try again shortly")]
    Busy,
}

/// Counts streams per user and hands out the shared permits.
pub struct ExportAdmission {
    permits: Arc<Semaphore>,
    per_user: usize,
    users: Arc<Mutex<HashMap<Uuid, usize>>>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Held for as long as the export streams: its permit and its place in the user's count.
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
    _user: UserSlot,
}

struct UserSlot {
    users: Arc<Mutex<HashMap<Uuid, usize>>>,
    user: Uuid,
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = users.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                users.remove(&self.user);
            }
        }
    }
}

struct Uncount<'a>(&'a AtomicUsize);

impl Drop for Uncount<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ExportAdmission {
    /// Admission over `permits`, `per_user` streams per user.
    pub fn new(permits: Arc<Semaphore>, per_user: usize) -> Self {
        let max_waiting = permits.available_permits().max(1) * QUEUE_PER_PERMIT;
        Self {
            permits,
            per_user: per_user.max(1),
            users: Arc::new(Mutex::new(HashMap::new())),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// Admits one export of `user`, waiting up to [`WAIT`] for a permit.
    pub async fn admit(&self, user: Uuid) -> Result<Admitted, Refused> {
        let slot = {
            let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
            let n = users.entry(user).or_insert(0);
            if *n >= self.per_user {
                return Err(Refused::PerUser(self.per_user));
            }
            *n += 1;
            UserSlot {
                users: self.users.clone(),
                user,
            }
        };
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(Refused::Busy);
                }
                let _queued = Uncount(&self.waiting);
                match tokio::time::timeout(WAIT, self.permits.clone().acquire_owned()).await {
                    Ok(Ok(p)) => p,
                    _ => return Err(Refused::Busy),
                }
            }
        };
        Ok(Admitted {
            _permit: permit,
            _user: slot,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn per_user_cap_and_a_short_wait_for_permits() {
        let permits = Arc::new(Semaphore::new(2));
        let a = ExportAdmission::new(permits, 1);
        let (u1, u2, u3) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let first = a.admit(u1).await.unwrap();
        assert_eq!(a.admit(u1).await.err(), Some(Refused::PerUser(1)));
        let second = a.admit(u2).await.unwrap();
        // all permits taken: the third waits, and gets one when the first ends
        let release = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(first);
        };
        let (third, ()) = tokio::join!(a.admit(u3), release);
        assert!(third.is_ok());
        // nobody releases: refused after the wait
        let started = std::time::Instant::now();
        assert_eq!(a.admit(u1).await.err(), Some(Refused::Busy));
        assert!(started.elapsed() >= WAIT);
        drop(second);
        assert!(
            a.admit(u1).await.is_ok(),
            "a refused export frees its user slot"
        );
    }
}
