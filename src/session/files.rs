//! What the session offers file transfers: a one-shot answer channel that fits in a
//! (clonable) [`super::Command`].

use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Where the session sends the answer to one request. Clonable so commands stay
/// `Clone`; only the first answer is delivered.
pub struct Reply<T>(Arc<Mutex<Option<oneshot::Sender<T>>>>);

impl<T> Clone for Reply<T> {
    fn clone(&self) -> Self {
        Reply(self.0.clone())
    }
}

impl<T> std::fmt::Debug for Reply<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reply")
    }
}

impl<T> Reply<T> {
    pub fn channel() -> (Reply<T>, oneshot::Receiver<T>) {
        let (tx, rx) = oneshot::channel();
        (Reply(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    /// Delivers the answer (ignored if already answered or nobody waits).
    pub fn send(&self, value: T) {
        if let Ok(mut slot) = self.0.lock()
            && let Some(tx) = slot.take()
        {
            let _ = tx.send(value);
        }
    }
}
