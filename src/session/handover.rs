//! A session that is already signed in, passed on rather than started again.
//!
//! The sign-in form checks a new account's login with a session of its own. When the
//! login works, that session becomes the account's session: the form parks it here and
//! the account's subscription takes it up, replaying what the form had read from it
//! (`Ready`, `Online`, ...). Contacts see one sign-in, not available, unavailable,
//! available again, and the account is online as soon as the form says so.

use super::Update;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use std::fmt;
use std::sync::{Arc, Mutex};

struct Parked {
    /// What the form read before it parked the session, in order.
    seen: Vec<Update>,
    rest: BoxStream<'static, Update>,
}

/// Holds at most one parked session. Clones share it; the first [`take`](Self::take)
/// gets it. Dropping the last clone with a session still parked ends that session.
#[derive(Clone, Default)]
pub struct Handover(Arc<Mutex<Option<Parked>>>);

impl Handover {
    /// Parks a running session: `seen` are the updates already read from it.
    pub fn park(seen: Vec<Update>, rest: impl Stream<Item = Update> + Send + 'static) -> Self {
        Handover(Arc::new(Mutex::new(Some(Parked {
            seen,
            rest: rest.boxed(),
        }))))
    }

    /// The parked session, its updates from the first one read: once.
    pub fn take(&self) -> Option<impl Stream<Item = Update> + Send + 'static + use<>> {
        let parked = self.0.lock().ok()?.take()?;
        Some(stream::iter(parked.seen).chain(parked.rest))
    }

    /// Is a session parked here?
    pub fn holds(&self) -> bool {
        self.0.lock().map(|p| p.is_some()).unwrap_or(false)
    }
}

impl fmt::Debug for Handover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handover")
            .field("holds", &self.holds())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AccountId;
    use crate::session::UpdateKind;

    fn update(kind: UpdateKind) -> Update {
        Update {
            account: AccountId("a".into()),
            kind,
        }
    }

    #[test]
    fn the_parked_session_is_taken_once_with_what_was_read_first() {
        let seen = vec![update(UpdateKind::Connecting { attempt: 1 })];
        let rest = stream::iter(vec![update(UpdateKind::Disconnected {
            error: crate::session::SessionError::Timeout,
            retry_in_secs: None,
        })]);
        let handover = Handover::park(seen, rest);
        let other = handover.clone();
        assert!(other.holds());
        let taken: Vec<Update> =
            futures::executor::block_on(handover.take().expect("parked").collect::<Vec<_>>());
        assert!(matches!(taken[0].kind, UpdateKind::Connecting { .. }));
        assert!(matches!(taken[1].kind, UpdateKind::Disconnected { .. }));
        assert_eq!(taken.len(), 2);
        assert!(other.take().is_none(), "taken once");
        assert!(!Handover::default().holds());
    }
}
