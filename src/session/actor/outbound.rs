//! Our chat messages, from the outbox to "read": stored first, sent when the stream is
//! up (again from the outbox after a new stream), and moved forward through sent,
//! acked, delivered and read, never backwards.

use super::{Actor, now_ms};
use crate::ids::{ConversationId, LocalMessageId};
use crate::model::{ChatMessage, Delivery, Direction, Extras, ReplyTo};
use crate::session::UpdateKind;
use crate::xmpp;
use tokio_xmpp::parsers::jid::BareJid;

impl Actor {
    /// Sends again, with their original ids and in order, the messages an earlier run
    /// stored but the server never confirmed (written offline, or the app was quit).
    pub(super) async fn flush_outbox(&mut self) {
        let account = self.account.clone();
        let pending = match self.with_store(move |s| s.outbox(&account)).await {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                log::warn!("could not read the outbox: {e}");
                return;
            }
            None => return,
        };
        for m in pending {
            if m.conversation.is_room() || self.in_flight.contains(&m.id) {
                continue;
            }
            log::info!("{}: sending {} again from the outbox", self.own, m.id);
            let oob = m.attachment.map(|a| a.url);
            self.transmit_with(
                m.conversation.jid().clone(),
                &m.body,
                m.id,
                oob.as_deref(),
                m.conversation.private_nick(),
                m.extras.reply_to.as_ref(),
            )
            .await;
        }
    }

    pub(super) async fn on_delivery(
        &self,
        id: LocalMessageId,
        state: Delivery,
        peer: Option<BareJid>,
    ) {
        let account = self.account.clone();
        let (id2, state2) = (id.clone(), state.clone());
        let result = self
            .with_store(move |s| {
                // Only the peer we wrote to may confirm or bounce our message, and a
                // state never goes backwards (a late "sent" must not hide "delivered").
                let Some(current) = s.find_message(&account, &id2)? else {
                    return Ok(false);
                };
                if current.direction != Direction::Outgoing
                    || peer.as_ref().is_some_and(|p| p != current.peer())
                    || !moves_forward(&current.delivery, &state2)
                {
                    return Ok(false);
                }
                Ok(s.set_delivery(&account, &id2, &state2)?.is_some())
            })
            .await;
        if state == Delivery::Acked || (state == Delivery::Sent && !self.sm_enabled) {
            self.out.forget(&id);
        }
        if state == Delivery::Acked || (state == Delivery::Sent && !self.sm_enabled) {
            // A change of ours the server took leaves the queue of changes.
            let (account, id) = (self.account.clone(), id.clone());
            if let Some(Err(e)) = self
                .with_store(move |s| s.unqueue_change(&account, &id))
                .await
            {
                log::warn!("could not update the queued changes: {e}");
            }
        }
        if state == Delivery::Sent && !self.sm_enabled {
            // Without stream management "sent" is the last word the server gives.
            let (account, id) = (self.account.clone(), id.clone());
            if let Some(Err(e)) = self
                .with_store(move |s| s.release_outbox(&account, &id))
                .await
            {
                log::warn!("could not update the outbox: {e}");
            }
        }
        match result {
            None | Some(Ok(true)) => {
                if state == Delivery::Read {
                    self.mark_earlier_read(&id).await;
                }
                self.emit(UpdateKind::Delivery { id, state })
            }
            Some(Ok(false)) => {}
            Some(Err(e)) => log::warn!("could not record delivery state: {e}"),
        }
    }

    /// A displayed marker covers every earlier message of ours in that conversation
    /// (looked up in the newest page only).
    pub(super) async fn mark_earlier_read(&self, id: &LocalMessageId) {
        let (account, id) = (self.account.clone(), id.clone());
        let changed = self
            .with_store(move |s| {
                let Some(read) = s.find_message(&account, &id)? else {
                    return Ok(Vec::new());
                };
                let mut changed = Vec::new();
                for m in s.latest(&account, &read.conversation(), 50)? {
                    if m.direction == Direction::Outgoing
                        && m.id != read.id
                        && m.timestamp_ms <= read.timestamp_ms
                        && rank(&m.delivery) < rank(&Delivery::Read)
                        && rank(&m.delivery) >= rank(&Delivery::Sent)
                        && s.set_delivery(&account, &m.id, &Delivery::Read)?.is_some()
                    {
                        changed.push(m.id);
                    }
                }
                Ok(changed)
            })
            .await;
        if let Some(Ok(ids)) = changed {
            for id in ids {
                self.emit(UpdateKind::Delivery {
                    id,
                    state: Delivery::Read,
                });
            }
        }
    }

    /// A chat message (a reply (XEP-0461) to an earlier one when `reply` names it).
    pub(super) async fn send_chat(
        &mut self,
        to: BareJid,
        body: String,
        id: LocalMessageId,
        reply: Option<ReplyTo>,
    ) {
        let body = body.trim_end().to_owned();
        if body.trim().is_empty() {
            return;
        }
        let message = ChatMessage {
            truncated: false,
            extras: Extras {
                reply_to: reply.clone(),
                ..Default::default()
            },
            id: id.clone(),
            account: self.account.clone(),
            conversation: ConversationId::Chat(to.clone()),
            direction: Direction::Outgoing,
            sender: String::new(),
            body: body.clone(),
            timestamp_ms: now_ms(),
            stanza_id_attr: Some(id.0.clone()),
            origin_id: Some(id.0.clone()),
            server_id: None,
            delivery: Delivery::Pending,
            attachment: None,
        };
        // Stored first: a message the user wrote is never only in memory.
        if !self.store_message(message).await {
            return;
        }
        // Offline it waits in the outbox, behind older ones, for the next stream. A
        // session without a store (the sign-in check, tests) has no outbox: the stream's
        // own queue holds it instead (lost after a failed resumption; never the app's
        // case). Holding it back there lost it outright (`a_cut_connection_loses_nothing_
        // either_way`, whenever the cut was noticed before the message was written).
        if self.online || self.store.is_none() {
            self.transmit_with(to, &body, id, None, None, reply.as_ref())
                .await;
        }
    }

    /// The user asked to try a failed (or stuck) message again: same id, same text.
    pub(super) async fn resend(&mut self, id: LocalMessageId) {
        let (account, id2) = (self.account.clone(), id.clone());
        let found = self
            .with_store(move |s| {
                let m = s.find_message(&account, &id2)?;
                if let Some(m) = &m
                    && m.direction == Direction::Outgoing
                    && matches!(m.delivery, Delivery::Failed(_) | Delivery::Pending)
                {
                    // Back into the outbox until the server confirms it this time.
                    s.set_delivery(&account, &id2, &Delivery::Pending)?;
                }
                Ok(m)
            })
            .await;
        let message = match found {
            Some(Ok(Some(m))) => m,
            Some(Ok(None)) | None => return,
            Some(Err(e)) => {
                log::warn!("could not read the message to send again: {e}");
                return;
            }
        };
        if message.direction != Direction::Outgoing
            || !matches!(message.delivery, Delivery::Failed(_) | Delivery::Pending)
            || message.conversation.is_room()
        {
            return;
        }
        self.emit(UpdateKind::Delivery {
            id: id.clone(),
            state: Delivery::Pending,
        });
        self.in_flight.remove(&id);
        if self.online {
            let oob = message.attachment.map(|a| a.url);
            self.transmit_with(
                message.conversation.jid().clone(),
                &message.body,
                id,
                oob.as_deref(),
                message.conversation.private_nick(),
                message.extras.reply_to.as_ref(),
            )
            .await;
        }
    }

    /// Hands a stored message to the stream and follows it to "sent" and "acked"; with
    /// an OOB URL (XEP-0066) when the message shares a file, to an occupant when it is
    /// private, as a reply (XEP-0461) when it is one.
    pub(super) async fn transmit_with(
        &mut self,
        to: BareJid,
        body: &str,
        id: LocalMessageId,
        oob: Option<&str>,
        private_nick: Option<&str>,
        reply: Option<&ReplyTo>,
    ) {
        self.in_flight.insert(id.clone());
        let bare = to.clone();
        let to = match private_nick {
            Some(nick) => ConversationId::Private {
                room: to,
                nick: nick.to_owned(),
            },
            None => ConversationId::Chat(to),
        };
        // A private message goes to the occupant, never to the room's bare address.
        let Some(chat) = xmpp::message::compose(&to, body, &id, oob, reply) else {
            let _ = self.delivery_tx.send((
                id,
                Delivery::Failed("the occupant's nickname is not a valid address".to_owned()),
            ));
            return;
        };
        // Encrypted (or held for the contact's devices, or refused) by OMEMO.
        let chat = if private_nick.is_none() {
            match self.omemo_outgoing(&bare, chat, &id).await {
                Some(chat) => chat,
                None => return,
            }
        } else {
            chat
        };
        if !self
            .out
            .send_tracked(chat, id.clone(), self.delivery_tx.clone())
            .await
        {
            let _ = self
                .delivery_tx
                .send((id, Delivery::Failed("not connected".to_owned())));
        }
    }
}

/// Whether a message may go from `current` to `new`. States only move forward; a
/// failure (a bounce) may come after the server took the message but not after the
/// recipient confirmed it; a failed message moves on only when the user retries.
fn moves_forward(current: &Delivery, new: &Delivery) -> bool {
    match (current, new) {
        (Delivery::Failed(_), _) => false,
        (_, Delivery::Failed(_)) => matches!(
            current,
            Delivery::Pending | Delivery::Sent | Delivery::Acked
        ),
        _ => rank(current) < rank(new),
    }
}

/// Order of delivery states; a message only moves forward.
fn rank(d: &Delivery) -> u8 {
    match d {
        Delivery::Pending => 0,
        Delivery::Failed(_) => 1,
        Delivery::Sent => 2,
        Delivery::Acked => 3,
        Delivery::Delivered => 4,
        Delivery::Read => 5,
    }
}
