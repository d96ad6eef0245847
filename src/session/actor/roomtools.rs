//! The actor's side of [`crate::session::roomtools`]: private messages to occupants
//! (stored, then sent) and IQ queries whose answers go back to whoever asked.

use super::{Actor, now_ms};
use crate::ids::LocalMessageId;
use crate::model::{ChatMessage, Delivery, Direction};
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
    next: u64,
}

impl Actor {
    /// A new stream will never answer the old questions.
    pub(super) fn tools_reset(&mut self) {
        for (_, r) in self.tools.waiting.drain() {
            r.send(Err(QueryError::NoAnswer));
        }
    }

    pub(super) async fn on_tool_command(&mut self, command: Command) {
        match command {
            Command::SendPrivate {
                room,
                nick,
                body,
                id,
            } => self.send_private(room, nick, body, id).await,
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

    pub(super) fn on_answer(&mut self, token: u64, result: Result<Option<Element>, StanzaError>) {
        if let Some(reply) = self.tools.waiting.remove(&token) {
            reply.send(result.map_err(|e| QueryError::from_stanza_error(&e)));
        }
    }

    /// Persist, then send: the message waits in the outbox like any other.
    async fn send_private(
        &mut self,
        room: BareJid,
        nick: String,
        body: String,
        id: LocalMessageId,
    ) {
        let body = body.trim_end().to_owned();
        if body.trim().is_empty() || nick.is_empty() {
            return;
        }
        let message = ChatMessage {
            truncated: false,
            extras: Default::default(),
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
        self.transmit_with(room, &body, id, None, Some(&nick), None)
            .await;
    }
}
