//! The walks through archives that one session keeps, so that each page of a walk
//! continues the one before it in the store's order (see `store::order` for the rule).

use crate::ids::ConversationId;
use crate::store::PageOrder;
use std::collections::HashMap;
use xmpp_parsers::jid::BareJid;

/// Which walk a page belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Walk {
    /// The account archive's catch-up: forward pages, and the newest page of a first
    /// sign-in or a refill (which forward pages continue).
    Forward,
    /// The account archive's fill of older history, backwards.
    Backward,
    /// The newest page of the chat on screen, asked ahead of the catch-up.
    Peek,
    /// Older history of one conversation, on request.
    Older(ConversationId),
    /// A room archive's catch-up.
    Room(BareJid),
}

impl Walk {
    pub(super) fn backward(&self) -> bool {
        matches!(self, Walk::Backward | Walk::Older(_))
    }
}

/// The open walks. A walk that must know what arrived live after it began (forward
/// ones) is started explicitly, before anything of its stream is stored.
#[derive(Debug, Default)]
pub(super) struct Walks {
    open: HashMap<Walk, PageOrder>,
}

impl Walks {
    pub(super) fn take(&mut self, walk: &Walk) -> Option<PageOrder> {
        self.open.remove(walk)
    }

    pub(super) fn get(&self, walk: &Walk) -> Option<&PageOrder> {
        self.open.get(walk)
    }

    pub(super) fn put(&mut self, walk: Walk, order: PageOrder) {
        self.open.insert(walk, order);
    }

    pub(super) fn end(&mut self, walk: &Walk) {
        self.open.remove(walk);
    }
}
