//! The quiet box in the session (see `crate::quiet`): a stranger's message is stored,
//! but the delivery receipt it asks for is held, and no read marker goes to a stranger,
//! until the user accepts them (adds them to the roster, from any of their clients).

use super::Actor;
use crate::model::ChatMessage;
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::jid::BareJid;

impl Actor {
    /// Is `peer` a stranger to this account (a chat with them is a request)?
    pub(super) fn is_stranger(&self, message: &ChatMessage) -> bool {
        let peer = message.peer();
        crate::quiet::is_request(
            &message.conversation,
            &self.own,
            self.roster.iter().any(|c| &c.jid == peer),
        )
    }

    /// Sends the receipt `message` asked for, or holds it when it came from a stranger.
    pub(super) async fn receipt_for(&mut self, message: &ChatMessage, receipt: Stanza) {
        if self.is_stranger(message) {
            log::debug!("{}: receipt to a stranger held", self.own);
            self.held_receipts.hold(message.peer().clone(), receipt);
        } else {
            self.send(receipt).await;
        }
    }

    /// `peer` joined the roster: the receipts held for them go out now.
    pub(super) async fn release_receipts(&mut self, peer: &BareJid) {
        for receipt in self.held_receipts.release(peer) {
            self.send(receipt).await;
        }
    }

    /// A read marker, unless `peer` is a stranger.
    pub(super) async fn mark_displayed(&mut self, peer: BareJid, id: String) {
        let known = peer == self.own || self.roster.iter().any(|c| c.jid == peer);
        if known {
            self.send(crate::xmpp::message::displayed(peer, id)).await;
        } else {
            log::debug!("{}: no read marker to a stranger", self.own);
        }
    }
}
