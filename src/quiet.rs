//! The quiet box for strangers (issue #18): a chat message from someone who is not in
//! the roster (and is not ourselves) is a *request*. It is stored like any message, but
//! it raises no notification, fetches no picture on its own, and gets no delivery
//! receipt or read marker until the user accepts it (adds the sender as a contact).
//! A room's private chats are not requests: the room is one we chose to be in.
//!
//! Pure policy and bounded bookkeeping; the session holds the receipts (see
//! [`HeldReceipts`]) and the UI lists the requests apart from the inbox.

use crate::ids::ConversationId;
use std::collections::{HashMap, VecDeque};
use xmpp_parsers::jid::{BareJid, Jid};

/// Is a chat in `conversation` a request? `in_roster`: its peer is in the account's
/// roster; `own`: the account's address.
pub fn is_request(conversation: &ConversationId, own: &BareJid, in_roster: bool) -> bool {
    match conversation {
        ConversationId::Chat(peer) => !in_roster && peer != own,
        ConversationId::Room(_) | ConversationId::Private { .. } => false,
    }
}

/// Strangers whose receipts are held (the one who wrote longest ago is forgotten first).
pub const MAX_HELD_PEERS: usize = 64;
/// Receipts held per stranger (receipts are for single messages; the newest are kept).
pub const MAX_HELD_PER_PEER: usize = 32;

/// Delivery receipts asked for by strangers, held until they are accepted. Bounded: a
/// flood of strangers costs at most [`MAX_HELD_PEERS`] × [`MAX_HELD_PER_PEER`] entries.
/// Kept in memory only: after a restart an accepted stranger gets no late receipts.
#[derive(Debug)]
pub struct HeldReceipts<R> {
    held: HashMap<BareJid, VecDeque<R>>,
    order: VecDeque<BareJid>,
}

impl<R> Default for HeldReceipts<R> {
    fn default() -> Self {
        HeldReceipts {
            held: HashMap::new(),
            order: VecDeque::new(),
        }
    }
}

impl<R> HeldReceipts<R> {
    pub fn hold(&mut self, peer: BareJid, receipt: R) {
        self.order.retain(|p| p != &peer);
        self.order.push_back(peer.clone());
        let list = self.held.entry(peer).or_default();
        list.push_back(receipt);
        while list.len() > MAX_HELD_PER_PEER {
            list.pop_front();
        }
        while self.order.len() > MAX_HELD_PEERS {
            if let Some(old) = self.order.pop_front() {
                self.held.remove(&old);
            }
        }
    }

    /// The receipts held for `peer`, oldest first (they are no longer held).
    pub fn release(&mut self, peer: &BareJid) -> Vec<R> {
        self.order.retain(|p| p != peer);
        self.held
            .remove(peer)
            .map(|l| l.into_iter().collect())
            .unwrap_or_default()
    }

    /// Forget what `peer` asked (blocked, or the request deleted).
    pub fn drop_peer(&mut self, peer: &BareJid) {
        self.release(peer);
    }

    /// Receipts held in all.
    pub fn len(&self) -> usize {
        self.held.values().map(VecDeque::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

/// The account's blocklist as the UI keeps it (from `UpdateKind::Blocklist`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Blocking {
    pub items: Vec<Jid>,
    /// The server blocks (XEP-0191).
    pub supported: bool,
    /// The server takes spam reports (XEP-0377).
    pub reporting: bool,
}

impl Blocking {
    /// Is this address blocked, by itself or by its domain?
    pub fn blocks(&self, jid: &BareJid) -> bool {
        self.items.iter().any(|item| {
            item.resource().is_none()
                && (item.to_bare() == *jid
                    || (item.node().is_none() && item.domain() == jid.domain()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bare(s: &str) -> BareJid {
        BareJid::new(s).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn only_strangers_chats_are_requests() {
        let own = bare("me@example.org");
        let stranger = ConversationId::Chat(bare("who@spam.example"));
        assert!(is_request(&stranger, &own, false));
        assert!(!is_request(&stranger, &own, true));
        assert!(!is_request(&ConversationId::Chat(own.clone()), &own, false));
        assert!(!is_request(
            &ConversationId::Room(bare("tea@muc.example")),
            &own,
            false
        ));
        let private = ConversationId::Private {
            room: bare("tea@muc.example"),
            nick: "ann".into(),
        };
        assert!(!is_request(&private, &own, false));
    }

    #[test]
    fn held_receipts_are_bounded_and_released_per_peer() {
        let mut h = HeldReceipts::default();
        for i in 0..1000 {
            h.hold(bare(&format!("s{i}@spam.example")), i);
        }
        assert_eq!(h.len(), MAX_HELD_PEERS);
        assert!(h.release(&bare("s0@spam.example")).is_empty(), "forgotten");
        assert_eq!(h.release(&bare("s999@spam.example")), vec![999]);
        let who = bare("one@x");
        for i in 0..100 {
            h.hold(who.clone(), i);
        }
        let got = h.release(&who);
        assert_eq!(got.len(), MAX_HELD_PER_PEER);
        assert_eq!(got.first(), Some(&(100 - MAX_HELD_PER_PEER as i32)));
        assert!(h.release(&who).is_empty(), "released once");
    }

    #[test]
    fn the_blocklist_covers_addresses_and_domains() {
        let b = Blocking {
            items: vec![
                Jid::new("a@x").unwrap_or_else(|_| unreachable!()),
                Jid::new("spam.example").unwrap_or_else(|_| unreachable!()),
                Jid::new("c@x/only").unwrap_or_else(|_| unreachable!()),
            ],
            supported: true,
            reporting: false,
        };
        assert!(b.blocks(&bare("a@x")));
        assert!(b.blocks(&bare("anyone@spam.example")));
        assert!(!b.blocks(&bare("b@x")));
        assert!(!b.blocks(&bare("c@x")), "one resource is not the person");
    }
}
