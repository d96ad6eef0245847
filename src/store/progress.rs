//! How far a long step of opening the store has come: a schema upgrade, or the rewrite
//! that follows one (minutes at a million messages, once). The window shows it while
//! it waits for the store, instead of a bare "Starting…".

use std::sync::Mutex;

/// The step under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Upgrading the stored history to this version's layout (`schema`).
    Upgrade,
    /// Rewriting the upgraded database into a compact copy (`rebuild`).
    Rewrite,
}

/// `done` of `total` units of the step (messages for an upgrade, entries for a
/// rewrite); `total` is never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub step: Step,
    pub done: u64,
    pub total: u64,
}

impl Progress {
    /// Whole percent, at most 100.
    pub fn percent(&self) -> u64 {
        (self.done.min(self.total) * 100) / self.total.max(1)
    }
}

static CURRENT: Mutex<Option<Progress>> = Mutex::new(None);

#[cfg(test)]
thread_local! {
    /// Every report made on this thread, and `None` for each end (the global above is
    /// shared by tests that run at once).
    pub(super) static SEEN: std::cell::RefCell<Vec<Option<Progress>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

fn with<T>(f: impl FnOnce(&mut Option<Progress>) -> T) -> T {
    // A panic elsewhere while the lock was held leaves nothing half-written here.
    let mut guard = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut guard)
}

/// The step under way while a store opens, if a long one is.
pub fn current() -> Option<Progress> {
    with(|p| *p)
}

/// Notes how far `step` has come (nothing when `total` is 0).
pub(super) fn report(step: Step, done: u64, total: u64) {
    let now = (total > 0).then_some(Progress { step, done, total });
    #[cfg(test)]
    SEEN.with(|seen| seen.borrow_mut().push(now));
    with(|p| *p = now);
}

/// Clears the progress when dropped: at the end of opening the store, however it ends.
pub(super) struct Finished;

impl Drop for Finished {
    fn drop(&mut self) {
        #[cfg(test)]
        SEEN.with(|seen| seen.borrow_mut().push(None));
        with(|p| *p = None);
    }
}
