//! The way out of a session into the stanza stream.
//!
//! It remembers, per outgoing chat message, how far the stream got with it, so
//! that after a failed resumption the actor knows which messages the old stream took
//! and lost.

use crate::ids::LocalMessageId;
use crate::model::Delivery;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tokio_xmpp::Stanza;
use tokio_xmpp::stanzastream::{StanzaSender, StanzaStage, StanzaState, StanzaToken};

type DeliveryTx = mpsc::UnboundedSender<(LocalMessageId, Delivery)>;

type Tokens = Arc<Mutex<HashMap<LocalMessageId, StanzaToken>>>;

pub(super) struct Outgoing {
    sender: Arc<StanzaSender>,
    tokens: Tokens,
}

impl Outgoing {
    pub(super) fn start(sender: Arc<StanzaSender>) -> Outgoing {
        Outgoing {
            sender,
            tokens: Arc::default(),
        }
    }

    /// Hands a stanza to the stream; `None` if the stream is broken. In its own task:
    /// the library panics on send when the stream died under us, and that must not take
    /// the session down. Awaited here, not in a background task: the stream's sender
    /// holds a lock its receiver needs, and a receiver polled while that lock is held
    /// returns "pending" without ever waking the session again (seen as a catch-up that
    /// stopped after one page).
    async fn queue(&self, stanza: Stanza) -> Option<StanzaToken> {
        let sender = self.sender.clone();
        match tokio::spawn(async move { sender.send(Box::new(stanza)).await }).await {
            Ok(token) => Some(token),
            Err(e) => {
                log::warn!("could not queue a stanza: {e}");
                None
            }
        }
    }

    /// Queues a stanza; false when the stream is broken.
    pub(super) async fn send(&self, stanza: Stanza) -> bool {
        self.queue(stanza).await.is_some()
    }

    /// Queues our chat message `id` and reports "sent" and "acked" on `delivery`.
    pub(super) async fn send_tracked(
        &self,
        stanza: Stanza,
        id: LocalMessageId,
        delivery: DeliveryTx,
    ) -> bool {
        let Some(token) = self.queue(stanza).await else {
            return false;
        };
        if let Ok(mut t) = self.tokens.lock() {
            t.insert(id.clone(), token.clone());
        }
        tokio::spawn(follow(token, id, delivery));
        true
    }

    /// The message needs no more following (acknowledged, or final without stream
    /// management).
    pub(super) fn forget(&self, id: &LocalMessageId) {
        if let Ok(mut t) = self.tokens.lock() {
            t.remove(id);
        }
    }

    /// On a new (not resumed) stream: the messages the old stream had written but the
    /// server never acknowledged. The library drops them with the old stream's state,
    /// so they must be sent again (same ids: the receiver drops a copy it already has).
    pub(super) fn lost_on_reset(&self) -> Vec<LocalMessageId> {
        let mut lost = Vec::new();
        if let Ok(mut t) = self.tokens.lock() {
            t.retain(|id, token| {
                let keep = matches!(
                    token.state(),
                    StanzaState::Queued | StanzaState::Acked { .. }
                );
                if !keep {
                    lost.push(id.clone());
                }
                keep
            });
        }
        lost
    }
}

/// Follows one message through the stream: "sent" when written, "acked" when the server
/// confirmed it (XEP-0198).
async fn follow(mut token: StanzaToken, id: LocalMessageId, tx: DeliveryTx) {
    if let Some(StanzaState::Sent { .. } | StanzaState::Acked { .. }) =
        token.wait_for(StanzaStage::Sent).await
    {
        let _ = tx.send((id.clone(), Delivery::Sent));
    }
    if let Some(StanzaState::Acked { .. }) = token.wait_for(StanzaStage::Acked).await {
        let _ = tx.send((id, Delivery::Acked));
    }
}
