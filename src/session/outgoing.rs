//! The way out of a session: one ordered pump from the actor into the stanza stream.
//!
//! The stanza stream's queue is bounded. Awaiting it from the actor stalled the actor
//! while the link was down and the queue full; the stream in turn waited for the actor
//! to take its events, and nothing moved again (seen as 143 of 200 messages never
//! leaving in `tests/delivery.rs`). Here the actor hands stanzas over without waiting;
//! a task feeds them to the stream in the same order.
//!
//! It also remembers, per outgoing chat message, how far the stream got with it, so
//! that after a failed resumption the actor knows which messages the old stream took
//! and lost.

use crate::ids::LocalMessageId;
use crate::model::Delivery;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_xmpp::Stanza;
use tokio_xmpp::stanzastream::{StanzaSender, StanzaStage, StanzaState, StanzaToken};

type DeliveryTx = mpsc::UnboundedSender<(LocalMessageId, Delivery)>;

struct Job {
    stanza: Stanza,
    track: Option<(LocalMessageId, DeliveryTx)>,
}

type Tokens = Arc<Mutex<HashMap<LocalMessageId, StanzaToken>>>;

pub(super) struct Outgoing {
    tx: mpsc::UnboundedSender<Job>,
    tokens: Tokens,
    pump: JoinHandle<()>,
}

impl Outgoing {
    pub(super) fn start(sender: Arc<StanzaSender>) -> Outgoing {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        let tokens: Tokens = Arc::default();
        let tokens2 = tokens.clone();
        let pump = tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let sender = sender.clone();
                let stanza = job.stanza;
                // In its own task: the library panics on send when the stream died
                // under us, and that must not take the pump down.
                let sent = tokio::spawn(async move { sender.send(Box::new(stanza)).await }).await;
                match (sent, job.track) {
                    (Ok(token), Some((id, delivery))) => {
                        if let Ok(mut t) = tokens2.lock() {
                            t.insert(id.clone(), token.clone());
                        }
                        tokio::spawn(follow(token, id, delivery));
                    }
                    (Ok(_), None) => {}
                    (Err(e), track) => {
                        log::warn!("could not queue a stanza: {e}");
                        if let Some((id, delivery)) = track {
                            let _ = delivery.send((id, Delivery::Failed("not connected".into())));
                        }
                    }
                }
            }
        });
        Outgoing { tx, tokens, pump }
    }

    /// Queues a stanza; false when the session is shutting down.
    pub(super) fn send(&self, stanza: Stanza) -> bool {
        self.tx
            .send(Job {
                stanza,
                track: None,
            })
            .is_ok()
    }

    /// Queues our chat message `id` and reports "sent" and "acked" on `delivery`.
    pub(super) fn send_tracked(
        &self,
        stanza: Stanza,
        id: LocalMessageId,
        delivery: DeliveryTx,
    ) -> bool {
        self.tx
            .send(Job {
                stanza,
                track: Some((id, delivery)),
            })
            .is_ok()
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

    /// Lets queued stanzas reach the stream (up to `wait`), then stops the pump.
    pub(super) async fn close(self, wait: Duration) {
        let Outgoing { tx, pump, .. } = self;
        drop(tx);
        let abort = pump.abort_handle();
        if tokio::time::timeout(wait, pump).await.is_err() {
            abort.abort();
        }
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
