//! A presence flood must not fill the channel to the UI (issue #20, weakness 9).
//!
//! The channel from a session to the UI is unbounded on purpose (a slow frame must
//! never stall the socket), so it is bounded by what goes in: the session counts the
//! updates the UI has not taken yet ([`Outlet::backlog`]). While more than
//! [`PRESENCE_BACKLOG`] wait, contact presences are held back in [`HeldPresences`]
//! instead, where a newer presence of the same address replaces the older one (only
//! the latest matters); they go out as the UI catches up. At most [`MAX_HELD`]
//! addresses are held: beyond that a flood's presences are dropped (and counted).
//! Messages and everything else always go through: they are stored, and rare.

use super::{Update, UpdateKind};
use crate::model::Show;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::mpsc;
use xmpp_parsers::jid::Jid;

/// Updates the UI may have waiting before presences are held back.
pub const PRESENCE_BACKLOG: usize = 512;
/// Addresses whose latest presence is held back at most.
pub const MAX_HELD: usize = 4096;

/// The sending end of the channel to the UI, counting what waits in it.
#[derive(Debug, Clone)]
pub struct Outlet {
    tx: mpsc::UnboundedSender<Update>,
    backlog: Arc<AtomicUsize>,
}

impl Outlet {
    /// An outlet and the count its receiver decreases (see [`Outlet::taken`]).
    pub fn new(tx: mpsc::UnboundedSender<Update>) -> (Outlet, Arc<AtomicUsize>) {
        let backlog = Arc::new(AtomicUsize::new(0));
        (
            Outlet {
                tx,
                backlog: backlog.clone(),
            },
            backlog,
        )
    }

    pub fn send(&self, update: Update) {
        if self.tx.send(update).is_ok() {
            self.backlog.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Updates sent that the UI has not taken yet.
    pub fn backlog(&self) -> usize {
        self.backlog.load(Ordering::Relaxed)
    }

    /// The receiver took one update.
    pub fn taken(backlog: &AtomicUsize) {
        let _ = backlog.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            Some(n.saturating_sub(1))
        });
    }
}

/// Contact presences held back while the UI is behind: the latest per address, in
/// the order the addresses first came.
#[derive(Debug, Default)]
pub struct HeldPresences {
    latest: HashMap<Jid, (Show, Option<String>)>,
    order: VecDeque<Jid>,
    /// Presences dropped because [`MAX_HELD`] addresses were held.
    pub dropped: u64,
}

impl HeldPresences {
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Holds the presence of `from`, replacing an older one held for it.
    pub fn hold(&mut self, from: Jid, show: Show, status: Option<String>) {
        if let Some(slot) = self.latest.get_mut(&from) {
            *slot = (show, status);
            return;
        }
        if self.order.len() >= MAX_HELD {
            self.dropped += 1;
            return;
        }
        self.order.push_back(from.clone());
        self.latest.insert(from, (show, status));
    }

    /// Up to `n` held presences, oldest address first, as updates' kinds.
    pub fn release(&mut self, n: usize) -> Vec<UpdateKind> {
        let mut out = Vec::new();
        while out.len() < n {
            let Some(from) = self.order.pop_front() else {
                break;
            };
            if let Some((show, status)) = self.latest.remove(&from) {
                out.push(UpdateKind::Presence { from, show, status });
            }
        }
        out
    }
}

/// Sends a contact presence through `outlet`, or holds it back while the UI is
/// behind (or while older ones are held, so the order per address holds).
pub fn presence(
    outlet: &Outlet,
    held: &mut HeldPresences,
    account: &crate::ids::AccountId,
    from: Jid,
    show: Show,
    status: Option<String>,
) {
    if held.is_empty() && outlet.backlog() < PRESENCE_BACKLOG {
        outlet.send(Update {
            account: account.clone(),
            kind: UpdateKind::Presence { from, show, status },
        });
    } else {
        held.hold(from, show, status);
    }
}

/// Sends as many held presences as the UI has room for.
pub fn release(outlet: &Outlet, held: &mut HeldPresences, account: &crate::ids::AccountId) {
    if held.is_empty() {
        return;
    }
    let room = PRESENCE_BACKLOG.saturating_sub(outlet.backlog());
    for kind in held.release(room) {
        outlet.send(Update {
            account: account.clone(),
            kind,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jid(s: &str) -> Jid {
        Jid::new(s).unwrap_or_else(|_| unreachable!("{s}"))
    }

    /// A flood of 100,000 presences while the UI takes nothing: the channel holds at
    /// most `PRESENCE_BACKLOG`, the held ones at most `MAX_HELD`, and what finally
    /// reaches the UI is each address's latest presence.
    #[test]
    fn a_presence_flood_is_bounded_and_the_latest_wins() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (outlet, backlog) = Outlet::new(tx);
        let mut held = HeldPresences::default();
        let account = crate::ids::AccountId("a".into());
        for i in 0..100_000u32 {
            let from = jid(&format!("c{}@x.org/r", i % 10_000));
            let show = if i >= 90_000 {
                Show::Away
            } else {
                Show::Online
            };
            presence(&outlet, &mut held, &account, from, show, None);
        }
        assert_eq!(outlet.backlog(), PRESENCE_BACKLOG);
        assert_eq!(held.len(), MAX_HELD);
        assert!(held.dropped > 0);
        // The UI catches up, a batch at a time.
        let mut last: HashMap<Jid, Show> = HashMap::new();
        loop {
            let mut got = 0;
            while let Ok(u) = rx.try_recv() {
                Outlet::taken(&backlog);
                got += 1;
                if let UpdateKind::Presence { from, show, .. } = u.kind {
                    last.insert(from, show);
                }
            }
            release(&outlet, &mut held, &account);
            if got == 0 && held.is_empty() {
                break;
            }
        }
        assert_eq!(outlet.backlog(), 0);
        let away = last.values().filter(|s| **s == Show::Away).count();
        assert_eq!(
            away, MAX_HELD,
            "held addresses end with their latest presence"
        );
    }

    #[test]
    fn without_a_backlog_presences_go_straight_through() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (outlet, backlog) = Outlet::new(tx);
        let mut held = HeldPresences::default();
        let account = crate::ids::AccountId("a".into());
        for _ in 0..10_000 {
            presence(
                &outlet,
                &mut held,
                &account,
                jid("b@x.org/r"),
                Show::Online,
                None,
            );
            assert!(rx.try_recv().is_ok());
            Outlet::taken(&backlog);
        }
        assert!(held.is_empty());
        assert_eq!(outlet.backlog(), 0);
    }
}
