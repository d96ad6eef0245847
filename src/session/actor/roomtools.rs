//! The actor's side of [`crate::session::roomtools`]: private messages to occupants
//! (stored, then sent) and IQ queries whose answers go back to whoever asked.

use super::{Actor, now_ms};
use crate::ids::LocalMessageId;
use crate::model::{ChatMessage, Delivery, Direction, Extras, ReplyTo};
use crate::session::Command;
use crate::session::files::Reply;
use crate::session::roomtools::QueryError;
use crate::xmpp::PendingIq;
use std::collections::HashMap;
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza_error::StanzaError;

type QueryReply = Reply<Result<Option<Element>, QueryError>>;

/// Queries waiting for their answer.
#[derive(Default)]
pub(super) struct Tools {
    waiting: HashMap<u64, QueryReply>,
    /// Our moderation requests (XEP-0425) waiting for the room's answer.
    moderations: HashMap<u64, Moderation>,
    next: u64,
}

/// A moderation request sent to a room: asked again in the older form when the room
/// does not know the newer one.
struct Moderation {
    room: BareJid,
    stanza_id: String,
    reason: Option<String>,
    older: bool,
}

impl Actor {
    /// A new stream will never answer the old questions.
    pub(super) fn tools_reset(&mut self) {
        for (_, r) in self.tools.waiting.drain() {
            r.send(Err(QueryError::NoAnswer));
        }
        self.tools.moderations.clear();
    }

    pub(super) async fn on_tool_command(&mut self, command: Command) {
        match command {
            Command::SendPrivate {
                room,
                nick,
                body,
                id,
            } => self.send_private(room, nick, body, id, None).await,
            Command::Query {
                to,
                get,
                payload,
                reply,
            } => {
                if self.proto.bound.is_none() {
                    reply.send(Err(QueryError::NotConnected));
                    return;
                }
                self.tools.next += 1;
                let token = self.tools.next;
                let iq = self
                    .proto
                    .request(PendingIq::Query(token), Some(to), get, payload);
                self.tools.waiting.insert(token, reply.clone());
                if !self.send(iq).await {
                    self.tools.waiting.remove(&token);
                    reply.send(Err(QueryError::NotConnected));
                }
            }
            _ => {}
        }
    }

    pub(super) async fn on_answer(
        &mut self,
        token: u64,
        result: Result<Option<Element>, StanzaError>,
    ) {
        if self.omemo_answer(token, &result).await || self.avatar_answer(token, &result).await {
            return;
        }
        if let Some(reply) = self.tools.waiting.remove(&token) {
            reply.send(result.map_err(|e| QueryError::from_stanza_error(&e)));
            return;
        }
        let Some(asked) = self.tools.moderations.remove(&token) else {
            return;
        };
        // Done: the room announces the removal to everyone, us included.
        let Err(e) = result else { return };
        use xmpp_parsers::stanza_error::DefinedCondition as C;
        let unknown = matches!(
            e.defined_condition,
            C::FeatureNotImplemented | C::BadRequest | C::ServiceUnavailable
        );
        if unknown && !asked.older {
            self.send_moderation(Moderation {
                older: true,
                ..asked
            })
            .await;
            return;
        }
        let why = QueryError::from_stanza_error(&e);
        self.emit(crate::session::UpdateKind::Notice(format!(
            "{} did not remove the message: {why}",
            asked.room
        )));
    }

    /// As a moderator, asks `room` to remove the message it archived as `stanza_id`.
    pub(super) async fn request_moderation(
        &mut self,
        room: BareJid,
        stanza_id: String,
        reason: Option<String>,
    ) {
        self.send_moderation(Moderation {
            room,
            stanza_id,
            reason,
            older: false,
        })
        .await;
    }

    async fn send_moderation(&mut self, asked: Moderation) {
        let payload = if asked.older {
            crate::xmpp::retraction::moderate_request_0(&asked.stanza_id, asked.reason.as_deref())
        } else {
            crate::xmpp::retraction::moderate_request(&asked.stanza_id, asked.reason.as_deref())
        };
        self.tools.next += 1;
        let token = self.tools.next;
        let iq = self.proto.request(
            PendingIq::Query(token),
            Some(xmpp_parsers::jid::Jid::from(asked.room.clone())),
            false,
            payload,
        );
        self.tools.moderations.insert(token, asked);
        if !self.online || !self.send(iq).await {
            self.tools.moderations.remove(&token);
            self.emit(crate::session::UpdateKind::Notice(
                "Not connected: the message was not removed.".to_owned(),
            ));
        }
    }

    /// Persist, then send: the message waits in the outbox like any other. A reply
    /// (XEP-0461) to an earlier message of the private chat when `reply` names it.
    pub(super) async fn send_private(
        &mut self,
        room: BareJid,
        nick: String,
        body: String,
        id: LocalMessageId,
        reply: Option<ReplyTo>,
    ) {
        let body = body.trim_end().to_owned();
        if body.trim().is_empty() || nick.is_empty() {
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
            conversation: crate::ids::ConversationId::Private {
                room: room.clone(),
                nick: nick.clone(),
            },
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
        if !self.store_message(message).await {
            return;
        }
        self.transmit_with(room, &body, id, None, Some(&nick), reply.as_ref())
            .await;
    }
}
