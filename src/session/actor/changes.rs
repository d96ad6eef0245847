//! Corrections, reactions, retractions, replies and chat states: the session's side.
//! Incoming changes are applied by the store (persist, then emit
//! [`UpdateKind::MessageChanged`]); our own are applied to the store first, queued with
//! the stanza that carries them (`store::sending`), then sent, again after a new stream
//! or a restart until the server confirmed them.

use super::{Actor, now_ms};
use crate::config::Settings;
use crate::ids::{ConversationId, LocalMessageId};
use crate::model::{Author, Change, ChatMessage, Direction, Modification};
use crate::session::UpdateKind;
use crate::store::{ChangeOutcome, QueuedChange};
use crate::xmpp;
use xmpp_parsers::chatstates::ChatState;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::{Id, Lang, Message, MessageType};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::stanza_id::OriginId;

/// The id others name a message by: the room's stanza-id in rooms (when we know it),
/// the sender's id in chats.
fn reference_id(m: &ChatMessage) -> Option<String> {
    let sender_ids = || m.stanza_id_attr.clone().or_else(|| m.origin_id.clone());
    if m.conversation.is_room() {
        m.server_id.clone().or_else(sender_ids)
    } else {
        sender_ids().or_else(|| m.server_id.clone())
    }
}

/// An empty message to the conversation (type chat, groupchat for a room), with
/// our id as stanza id and origin-id.
fn empty_to(conversation: &ConversationId, id: &LocalMessageId) -> Option<Message> {
    let (to, type_) = match conversation {
        ConversationId::Chat(j) => (Jid::from(j.clone()), MessageType::Chat),
        ConversationId::Room(r) => (Jid::from(r.clone()), MessageType::Groupchat),
        ConversationId::Private { room, nick } => (
            Jid::from(room.with_resource_str(nick).ok()?),
            MessageType::Chat,
        ),
    };
    let mut m = Message::new(Some(to));
    m.type_ = type_;
    m.id = Some(Id(id.0.clone()));
    m.payloads.push(OriginId { id: id.0.clone() }.into());
    if matches!(conversation, ConversationId::Private { .. }) {
        m.payloads
            .push(xmpp_parsers::minidom::Element::builder("x", xmpp::muc::NS_MUC_USER).build());
    }
    Some(m)
}

impl Actor {
    /// A change from someone (live or from an archive): applied by the store.
    pub(super) async fn on_modify(&mut self, m: Modification) {
        let m2 = m.clone();
        match self.with_store(move |s| s.apply_change(&m2)).await {
            Some(Ok(ChangeOutcome::Changed(message))) => {
                self.emit(UpdateKind::MessageChanged(*message))
            }
            Some(Ok(ChangeOutcome::Refused)) => log::warn!(
                "{}: a change to message {} in {} from someone who did not send it was ignored",
                self.own,
                m.target,
                m.conversation
            ),
            Some(Ok(ChangeOutcome::Pending | ChangeOutcome::Unchanged)) | None => {}
            Some(Err(e)) => log::warn!("could not apply a change to a message: {e}"),
        }
    }

    /// Our stored message `id` in `conversation`, if it is there.
    async fn stored(
        &self,
        conversation: &ConversationId,
        id: &LocalMessageId,
    ) -> Option<ChatMessage> {
        let (account, id2) = (self.account.clone(), id.clone());
        match self
            .with_store(move |s| s.find_message(&account, &id2))
            .await
        {
            Some(Ok(Some(m))) if m.conversation() == *conversation => Some(m),
            Some(Err(e)) => {
                log::warn!("could not read message {id}: {e}");
                None
            }
            _ => {
                self.emit(UpdateKind::Notice(format!(
                    "The message to change ({id}) is not stored here."
                )));
                None
            }
        }
    }

    /// Applies our own change to our own message to the store, shows it, and sends
    /// `stanza`.
    async fn apply_own(&mut self, target: &ChatMessage, change: Change, stanza: Option<Message>) {
        let author = Author {
            direction: Direction::Outgoing,
            nick: target.sender.clone(),
            occupant_id: target.extras.occupant_id.clone(),
        };
        self.apply_own_as(target, author, change, stanza).await;
    }

    /// Applies our own change (made as `author`) to the store, shows it, and sends
    /// `stanza`.
    async fn apply_own_as(
        &mut self,
        target: &ChatMessage,
        author: Author,
        change: Change,
        stanza: Option<Message>,
    ) {
        let Some(reference) = reference_id(target) else {
            return;
        };
        let m = Modification {
            account: self.account.clone(),
            conversation: target.conversation(),
            target: reference,
            author,
            change,
            at_ms: now_ms(),
        };
        // Stored first: what the user changed is never only in memory.
        match self.with_store(move |s| s.apply_change(&m)).await {
            Some(Ok(ChangeOutcome::Changed(message))) => {
                self.emit(UpdateKind::MessageChanged(*message))
            }
            Some(Ok(_)) | None => {}
            Some(Err(e)) => {
                self.emit(UpdateKind::Notice(format!(
                    "Your change was not sent, because it could not be saved first: {e}"
                )));
                return;
            }
        }
        if let Some(st) = stanza {
            self.send_change(target.conversation(), st).await;
        }
    }

    /// Queues our change with the stanza that carries it, then sends it if it can go
    /// now; otherwise it goes after the next sign-in (rooms: the next join).
    async fn send_change(&mut self, conversation: ConversationId, message: Message) {
        let Some(id) = message.id.as_ref().map(|i| LocalMessageId(i.0.clone())) else {
            return;
        };
        let queued = QueuedChange {
            id: id.clone(),
            conversation: conversation.clone(),
            stanza: String::from(&Element::from(message.clone())),
        };
        let stanza = Stanza::Message(message);
        let account = self.account.clone();
        if let Some(Err(e)) = self
            .with_store(move |s| s.queue_change(&account, &queued))
            .await
        {
            log::warn!("{}: could not queue a change: {e}", self.own);
        }
        if !self.transmit_change(&conversation, id, stanza).await {
            self.emit(UpdateKind::Notice(
                "Not connected: the change is saved here and will be sent when Loquat is connected again."
                    .to_owned(),
            ));
        }
    }

    /// Sends a queued change if its conversation can take it now (online; rooms:
    /// joined). The server's confirmation takes it out of the queue (`on_delivery`).
    async fn transmit_change(
        &mut self,
        conversation: &ConversationId,
        id: LocalMessageId,
        stanza: Stanza,
    ) -> bool {
        let ready = self.online
            && match conversation {
                ConversationId::Room(r) => self.proto.rooms.get(r).is_some_and(|r| r.joined),
                _ => true,
            };
        if !ready {
            return false;
        }
        // Until the stream is replaced, it sends what it took again by itself.
        self.in_flight.insert(id.clone());
        // A correction or reply in an encrypted chat is encrypted too (or waits, or fails).
        let stanza = match conversation {
            ConversationId::Chat(to) => match self.omemo_outgoing(to, stanza, &id).await {
                Some(s) => s,
                None => return true,
            },
            ConversationId::Room(room) => match self.omemo_room_outgoing(room, stanza, &id).await {
                Some(s) => s,
                None => return true,
            },
            _ => stanza,
        };
        self.out
            .send_tracked(stanza, id, self.delivery_tx.clone())
            .await
    }

    /// Sends again, in the order made, the changes still waiting: those in chats and
    /// private chats after a new stream (`room` None), a room's once it is joined.
    pub(super) async fn flush_changes(&mut self, room: Option<&BareJid>) {
        let account = self.account.clone();
        let queued = match self.with_store(move |s| s.queued_changes(&account)).await {
            Some(Ok(q)) => q,
            Some(Err(e)) => {
                log::warn!("could not read the queued changes: {e}");
                return;
            }
            None => return,
        };
        for change in queued {
            let wanted = match (&change.conversation, room) {
                (ConversationId::Room(r), Some(room)) => r == room,
                (ConversationId::Room(_), None) | (_, Some(_)) => false,
                (_, None) => true,
            };
            if !wanted || self.in_flight.contains(&change.id) {
                continue;
            }
            let stanza = change
                .stanza
                .parse::<Element>()
                .ok()
                .and_then(|e| Message::try_from(e).ok());
            let Some(stanza) = stanza else {
                log::warn!(
                    "{}: a queued change that cannot be read: {}",
                    self.own,
                    change.id
                );
                let (account, id) = (self.account.clone(), change.id.clone());
                let _ = self
                    .with_store(move |s| s.unqueue_change(&account, &id))
                    .await;
                continue;
            };
            log::info!("{}: sending change {} again", self.own, change.id);
            if !self
                .transmit_change(&change.conversation, change.id, Stanza::Message(stanza))
                .await
            {
                return;
            }
        }
    }

    pub(super) async fn correct(
        &mut self,
        conversation: ConversationId,
        target: LocalMessageId,
        body: String,
        id: LocalMessageId,
    ) {
        let body = body.trim_end().to_owned();
        if body.trim().is_empty() {
            return;
        }
        let Some(original) = self.stored(&conversation, &target).await else {
            return;
        };
        if original.direction != Direction::Outgoing || original.extras.retracted.is_some() {
            return;
        }
        // XEP-0308 names the original's own id, in rooms too.
        let Some(named) = original
            .stanza_id_attr
            .clone()
            .or_else(|| original.origin_id.clone())
        else {
            return;
        };
        let stanza = empty_to(&conversation, &id).map(|mut m| {
            m.bodies.insert(Lang(String::new()), body.clone());
            xmpp::correction::mark(&mut m, &named);
            m
        });
        let change = Change::Correct {
            body,
            id: Some(id.0.clone()),
        };
        self.apply_own(&original, change, stanza).await;
    }

    pub(super) async fn react(
        &mut self,
        conversation: ConversationId,
        target: LocalMessageId,
        emojis: Vec<String>,
    ) {
        let Some(message) = self.stored(&conversation, &target).await else {
            return;
        };
        let Some(named) = reference_id(&message) else {
            return;
        };
        let id = LocalMessageId::generate();
        let stanza = empty_to(&conversation, &id).map(|mut m| {
            xmpp::reactions::mark(&mut m, &named, &emojis);
            m
        });
        let own = self.own.to_string();
        if let ConversationId::Room(room) = &conversation {
            // Stored at once under the key the room's reflection will carry (so the
            // reflection replaces it): our occupant id where the room stamps them, our
            // nick where it does not. Not known yet (not in, or the room has not told
            // us our occupant id): the reflection says under which key it counts.
            let known = self.proto.rooms.get(room).and_then(|r| {
                let oid = r.own_occupant_id().map(str::to_owned);
                r.own_reactor(room, &own)
                    .map(|(key, nick)| (key, nick, oid))
            });
            let Some((reactor, nick, occupant_id)) = known else {
                if let Some(st) = stanza {
                    self.send_change(conversation, st).await;
                }
                return;
            };
            let author = Author {
                direction: Direction::Outgoing,
                nick: nick.clone(),
                occupant_id,
            };
            let change = Change::React {
                reactor,
                name: nick,
                emojis,
            };
            self.apply_own_as(&message, author, change, stanza).await;
            return;
        }
        let change = Change::React {
            reactor: crate::model::extras::reactor_key(
                &conversation,
                Direction::Outgoing,
                &own,
                "",
                None,
            ),
            name: String::new(),
            emojis,
        };
        self.apply_own(&message, change, stanza).await;
    }

    pub(super) async fn retract(&mut self, conversation: ConversationId, target: LocalMessageId) {
        let Some(message) = self.stored(&conversation, &target).await else {
            return;
        };
        if message.direction != Direction::Outgoing || message.extras.retracted.is_some() {
            return;
        }
        // XEP-0424: the origin-id in chats; in rooms the room's stanza-id when known.
        let named = if conversation.is_room() {
            message
                .server_id
                .clone()
                .or_else(|| message.origin_id.clone())
        } else {
            message
                .origin_id
                .clone()
                .or_else(|| message.stanza_id_attr.clone())
        };
        let Some(named) = named else {
            return;
        };
        let id = LocalMessageId::generate();
        let stanza = empty_to(&conversation, &id).map(|mut m| {
            xmpp::retraction::mark(&mut m, &named);
            m
        });
        self.apply_own(&message, Change::Retract, stanza).await;
    }

    pub(super) async fn moderate(
        &mut self,
        room: xmpp_parsers::jid::BareJid,
        target: LocalMessageId,
        reason: Option<String>,
    ) {
        let Some(message) = self
            .stored(&ConversationId::Room(room.clone()), &target)
            .await
        else {
            return;
        };
        if message.extras.retracted.is_some() {
            return;
        }
        // XEP-0425 names the message by the room's stanza-id.
        let Some(stanza_id) = message.server_id.clone() else {
            self.emit(UpdateKind::Notice(
                "This message cannot be removed: the room gave it no archive id.".to_owned(),
            ));
            return;
        };
        self.request_moderation(room, stanza_id, reason).await;
    }

    pub(super) async fn reply(
        &mut self,
        conversation: ConversationId,
        to: LocalMessageId,
        body: String,
        id: LocalMessageId,
    ) {
        let Some(quoted) = self.stored(&conversation, &to).await else {
            return;
        };
        let Some(named) = reference_id(&quoted) else {
            return;
        };
        let own_nick = match &conversation {
            ConversationId::Private { room, .. } => self.own_nick_in(room),
            _ => None,
        };
        let mut reply = xmpp::reply::reference(&quoted, named, &self.own, own_nick.as_deref());
        if crate::session::omemo::is_marker(&quoted.body) {
            // An OMEMO marker is no text to quote to the other side.
            reply.fallback = None;
        }
        match conversation {
            ConversationId::Chat(peer) => self.send_chat(peer, body, id, Some(reply)).await,
            ConversationId::Room(room) => self.send_room(room, body, id, None, Some(reply)).await,
            ConversationId::Private { room, nick } => {
                self.send_private(room, nick, body, id, Some(reply)).await
            }
        }
    }

    pub(super) async fn send_chat_state(&mut self, conversation: ConversationId, state: ChatState) {
        // The privacy setting is the session's to keep, whatever the UI asks.
        let allowed = self
            .with_store(|s| {
                Settings::load(s)
                    .map(|settings| settings.chat_states)
                    .map_err(|e| crate::store::StoreError::Io(e.to_string()))
            })
            .await;
        if !matches!(allowed, Some(Ok(true)) | None) || !self.online {
            return;
        }
        let (to, room) = match &conversation {
            ConversationId::Chat(j) => (Jid::from(j.clone()), false),
            ConversationId::Room(r) => {
                if !self.proto.rooms.get(r).is_some_and(|r| r.joined) {
                    return;
                }
                (Jid::from(r.clone()), true)
            }
            ConversationId::Private { room, nick } => match room.with_resource_str(nick) {
                Ok(j) => (Jid::from(j), false),
                Err(_) => return,
            },
        };
        self.send(xmpp::chatstates::standalone(to, room, state))
            .await;
    }
}
