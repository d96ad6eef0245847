//! 1:1 chat messages: bodies, carbons (XEP-0280), receipts (XEP-0184), unique and
//! stable ids (XEP-0359), delayed delivery (XEP-0203), error bounces.

use super::{Event, ProtoState};
use crate::ids::{ConversationId, LocalMessageId};
use crate::model::{ChatMessage, Delivery, Direction, Extras};
use xmpp_parsers::carbons;
use xmpp_parsers::chatstates::ChatState;
use xmpp_parsers::delay::Delay;
use xmpp_parsers::displayed_markers::{Displayed, Markable};
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::{Id, Lang, Message, MessageType};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::receipts;
use xmpp_parsers::stanza::Stanza;
use xmpp_parsers::stanza_error::StanzaError;
use xmpp_parsers::stanza_id::{OriginId, StanzaId};

/// Longest body we store, in bytes of UTF-8: 256 KiB. That is what the servers let
/// through anyway (Prosody's `c2s_stanza_size_limit` and ejabberd's `max_stanza_size`
/// default to 256 KiB for a whole stanza), so a message a server delivers is stored
/// whole; only a server configured for more (or a broken one) gets a body cut here,
/// and that message carries [`ChatMessage::truncated`] so the timeline says so. The
/// timeline folds long bodies itself (`ui::fold`): this limit is about storage and
/// memory, not about drawing.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// `body` cut to [`MAX_BODY_BYTES`] on a character boundary, and whether it was cut.
pub fn limit_body(mut body: String) -> (String, bool) {
    if body.len() <= MAX_BODY_BYTES {
        return (body, false);
    }
    let mut cut = MAX_BODY_BYTES;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    body.truncate(cut);
    (body, true)
}

/// A delay stamp with whole seconds (Prosody's) means "some time in that second". Taking
/// its start sorted a message the server held back (resent after a stream resumption,
/// or from the archive) before messages it had routed earlier in the same second: the
/// order broke in `tests/delivery.rs` (burst with a reset). The end of that second, but
/// never later than now, keeps the server's order; ties keep arrival order.
fn end_of_second(stamp_ms: i64, now_ms: i64) -> i64 {
    if stamp_ms.rem_euclid(1000) == 0 {
        (stamp_ms + 999).min(now_ms).max(stamp_ms)
    } else {
        stamp_ms
    }
}

pub fn handle(state: &mut ProtoState, mut m: Message, now_ms: i64) -> Vec<Event> {
    if m.type_ == MessageType::Error {
        return error_bounce(m);
    }
    if m.type_ == MessageType::Groupchat || m.type_ == MessageType::Headline {
        return Vec::new();
    }
    if let Some(events) = state.archive_result(&mut m, now_ms) {
        return events;
    }

    // Carbons: only our own account may wrap messages for us (CVE-2017-5589 family).
    let carbon_sent = take::<carbons::Sent>(&mut m);
    let carbon_received = take::<carbons::Received>(&mut m);
    if carbon_sent.is_some() || carbon_received.is_some() {
        let outer_ok =
            matches!(&m.from, Some(f) if f.resource().is_none() && f.to_bare() == state.own);
        if !outer_ok {
            return vec![Event::Dropped(format!(
                "forged carbon from {} dropped",
                m.from
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| "(nobody)".into())
            ))];
        }
        if let Some(sent) = carbon_sent {
            let delay = sent.forwarded.delay;
            let inner = sent.forwarded.message;
            if inner.from.as_ref().map(Jid::to_bare) != Some(state.own.clone()) {
                return vec![Event::Dropped(
                    "sent carbon of someone else's message".into(),
                )];
            }
            let Some(peer) = inner.to.as_ref().map(Jid::to_bare) else {
                return vec![Event::Dropped("sent carbon without recipient".into())];
            };
            return chat_event(
                state,
                inner,
                peer,
                Direction::Outgoing,
                delay,
                now_ms,
                false,
            );
        }
        if let Some(received) = carbon_received {
            let delay = received.forwarded.delay;
            let inner = received.forwarded.message;
            if let Some(to) = &inner.to
                && to.to_bare() != state.own
            {
                return vec![Event::Dropped(
                    "received carbon addressed to someone else".into(),
                )];
            }
            let Some(peer) = inner.from.as_ref().map(Jid::to_bare) else {
                return vec![Event::Dropped("received carbon without sender".into())];
            };
            return chat_event(
                state,
                inner,
                peer,
                Direction::Incoming,
                delay,
                now_ms,
                false,
            );
        }
    }

    let Some(from) = m.from.clone() else {
        return vec![Event::Dropped("message without sender".into())];
    };
    let peer = from.to_bare();
    chat_event(state, m, peer, Direction::Incoming, None, now_ms, true)
}

/// One message from our own archive, with the archive id as its trusted server id: a
/// message to store (`Event::Message`) or a change to an earlier one (`Event::Modify`).
pub(super) fn chat_from_archive(
    state: &ProtoState,
    inner: Message,
    archive_id: String,
    delay: Option<Delay>,
    now_ms: i64,
) -> Vec<Event> {
    if matches!(
        inner.type_,
        MessageType::Groupchat | MessageType::Error | MessageType::Headline
    ) {
        return Vec::new();
    }
    let from = inner.from.as_ref().map(Jid::to_bare);
    let (peer, direction) = if from.as_ref() == Some(&state.own) {
        match inner.to.as_ref().map(Jid::to_bare) {
            Some(to) => (to, Direction::Outgoing),
            None => return Vec::new(),
        }
    } else {
        match from {
            Some(from) => (from, Direction::Incoming),
            None => return Vec::new(),
        }
    };
    chat_event(state, inner, peer, direction, delay, now_ms, false)
        .into_iter()
        .filter_map(|e| match e {
            Event::Message { mut message, .. } => {
                message.server_id = Some(archive_id.clone());
                if message.direction == Direction::Outgoing {
                    message.delivery = Delivery::Acked;
                }
                Some(Event::Message {
                    message,
                    receipt: None,
                })
            }
            Event::Modify(m) => Some(Event::Modify(m)),
            _ => None,
        })
        .collect()
}

/// Turns one (unwrapped) message into events: a delivery receipt, a body to store.
fn chat_event(
    state: &ProtoState,
    mut m: Message,
    peer: BareJid,
    direction: Direction,
    outer_delay: Option<Delay>,
    now_ms: i64,
    live: bool,
) -> Vec<Event> {
    let mut events = Vec::new();
    let private_nick = super::muc::private_nick(&state.rooms, &m, direction);
    if let Some(r) = take::<receipts::Received>(&mut m)
        && direction == Direction::Incoming
    {
        events.push(Event::Delivery {
            id: r.id,
            peer: peer.clone(),
            state: Delivery::Delivered,
        });
    }
    if let Some(d) = take::<Displayed>(&mut m)
        && direction == Direction::Incoming
    {
        events.push(Event::Delivery {
            id: d.id.0,
            peer: peer.clone(),
            state: Delivery::Read,
        });
    }
    let wants_receipt = take::<receipts::Request>(&mut m).is_some();
    // The archive's or carbon's own delay first; inside the message, only our
    // server's (offline storage): a sender's stamp must not back-date it.
    let own_delay = super::delay::take_trusted(&mut m, &super::delay::own_server(&state.own));
    let delay = outer_delay.or(own_delay);
    let origin_id = take::<OriginId>(&mut m).map(|o| o.id);
    let server_id = server_id(state, &mut m);
    let timestamp_ms = delay
        .map(|d| d.stamp.0.timestamp_millis())
        .filter(|t| *t > 0 && *t <= now_ms + 60_000)
        .map(|t| end_of_second(t, now_ms))
        .unwrap_or(now_ms);
    let conversation = match &private_nick {
        Some(nick) => ConversationId::Private {
            room: peer.clone(),
            nick: nick.clone(),
        },
        None => ConversationId::Chat(peer.clone()),
    };
    if live
        && direction == Direction::Incoming
        && let Some(chat_state) = super::chatstates::parse(&m)
    {
        events.push(Event::ChatState {
            conversation: conversation.clone(),
            nick: None,
            state: chat_state,
        });
    }
    if let Some(found) = super::changes::detect(&m) {
        if matches!(found, super::changes::Found::Moderate { .. }) {
            events.push(Event::Dropped(format!(
                "moderation from {peer} ignored (only a room moderates)"
            )));
            return events;
        }
        let own = state.own.to_string();
        events.push(Event::Modify(Box::new(super::changes::into_modification(
            found,
            super::changes::Context {
                account: &state.account,
                own: &own,
                conversation,
                direction,
                nick: private_nick.as_deref().unwrap_or_default(),
                occupant_id: None,
                id: origin_id
                    .clone()
                    .or_else(|| m.id.as_ref().map(|i| i.0.clone())),
                at_ms: timestamp_ms,
            },
        ))));
        return events;
    }
    let oob = take::<xmpp_parsers::oob::Oob>(&mut m);
    let Some((_, body)) = m.get_best_body_cloned(vec!["en", ""]) else {
        return events;
    };
    let reply_to = super::reply::parse(&m);
    let body = match &reply_to {
        Some(_) => Some(super::reply::strip_fallback(&m, &body))
            .filter(|b| !b.trim().is_empty())
            .unwrap_or(body),
        None => body,
    };
    let (body, truncated) = limit_body(body);
    let attachment = super::upload::attachment(oob, &body).map(Box::new);
    if body.trim().is_empty() {
        return events;
    }
    let stanza_id_attr = m.id.as_ref().map(|i| i.0.clone());
    // Our own sent messages keep our id, so receipts and markers find them.
    let id = match (direction, &origin_id, &stanza_id_attr) {
        (Direction::Outgoing, Some(o), _) => LocalMessageId(o.clone()),
        (Direction::Outgoing, None, Some(s)) => LocalMessageId(s.clone()),
        _ => LocalMessageId::generate(),
    };
    let receipt = match (live, wants_receipt, &m.from, &stanza_id_attr) {
        (true, true, Some(from), Some(id)) if m.type_ != MessageType::Groupchat => {
            Some(Box::new(receipt_for(from.clone(), id.clone())))
        }
        _ => None,
    };
    events.push(Event::Message {
        message: Box::new(ChatMessage {
            id,
            account: state.account.clone(),
            conversation: conversation.clone(),
            direction,
            sender: match direction {
                Direction::Incoming => private_nick.clone().unwrap_or_default(),
                Direction::Outgoing => String::new(),
            },
            body,
            timestamp_ms,
            stanza_id_attr,
            origin_id,
            server_id,
            delivery: match direction {
                Direction::Incoming => Delivery::Delivered,
                Direction::Outgoing => Delivery::Sent,
            },
            attachment,
            truncated,
            extras: Extras {
                reply_to,
                ..Extras::default()
            },
        }),
        receipt,
    });
    events
}

/// A stanza-id stamped by our own server, when our server says it stamps them.
fn server_id(state: &ProtoState, m: &mut Message) -> Option<String> {
    let own = Jid::from(state.own.clone());
    let mut found = None;
    m.payloads.retain(|el| {
        if el.is("stanza-id", ns::SID)
            && let Ok(sid) = StanzaId::try_from(el.clone())
            && sid.by == own
        {
            found = Some(sid.id);
            return false;
        }
        true
    });
    if state.sid_trusted { found } else { None }
}

fn error_bounce(m: Message) -> Vec<Event> {
    let Some(id) = m.id.map(|i| i.0) else {
        return vec![Event::Dropped("error without id".into())];
    };
    let Some(peer) = m.from.as_ref().map(Jid::to_bare) else {
        return vec![Event::Dropped("error without sender".into())];
    };
    let text = m
        .payloads
        .into_iter()
        .find_map(|el| StanzaError::try_from(el).ok())
        .map(|e| describe_error(&e))
        .unwrap_or_else(|| "the message could not be delivered".into());
    vec![Event::Delivery {
        id,
        peer,
        state: Delivery::Failed(text),
    }]
}

/// Plain words for a stanza error.
pub fn describe_error(e: &StanzaError) -> String {
    use xmpp_parsers::stanza_error::DefinedCondition as C;
    let base = match e.defined_condition {
        C::RemoteServerNotFound => "the recipient's server was not found".to_owned(),
        C::RemoteServerTimeout => "the recipient's server did not answer".to_owned(),
        C::ServiceUnavailable => "the recipient cannot receive messages".to_owned(),
        C::ItemNotFound => "the recipient does not exist".to_owned(),
        C::NotAllowed | C::Forbidden => "you are not allowed to send this message".to_owned(),
        C::ResourceConstraint | C::PolicyViolation => {
            "the server refused the message (too many or too large)".to_owned()
        }
        ref other => format!("delivery failed ({other:?})"),
    };
    match e.texts.values().next() {
        Some(t) if !t.trim().is_empty() => format!("{base}: {}", t.trim()),
        _ => base,
    }
}

/// Removes and returns the first payload of type `T` (malformed payloads are dropped).
fn take<T: TryFrom<Element, Error = xmpp_parsers::FromElementError>>(m: &mut Message) -> Option<T> {
    m.extract_payload::<T>().ok().flatten()
}

/// `<message><received xmlns='urn:xmpp:receipts' id='..'/></message>`
pub fn receipt_for(to: Jid, id: String) -> Stanza {
    let mut m = Message::new(Some(to));
    m.type_ = MessageType::Chat;
    m.payloads.push(receipts::Received { id }.into());
    Stanza::Message(m)
}

/// The one shape of a message we write (chat, room, room private): `type_`, our id as
/// stanza id and as origin-id (XEP-0359, how a reflection, a carbon or an archive copy
/// is matched to what we stored), and the body. Callers add what their kind asks for.
pub fn outgoing(to: Jid, type_: MessageType, body: &str, id: &LocalMessageId) -> Message {
    let mut m = Message::new(Some(to));
    m.type_ = type_;
    m.id = Some(Id(id.0.clone()));
    m.bodies.insert(Lang(String::new()), body.to_owned());
    m.payloads.push(OriginId { id: id.0.clone() }.into());
    m
}

/// Every message we write, to any conversation: a chat message (asking for a receipt
/// and a marker), a room's groupchat, or a private message to one occupant (to
/// `room/nick`, never the room's bare address); with an OOB element (XEP-0066) when its
/// body is the URL of a file it shares, and a reply element (XEP-0461) when it answers an
/// earlier message. `None` when the nick makes no valid address.
pub fn compose(
    to: &ConversationId,
    body: &str,
    id: &LocalMessageId,
    oob: Option<&str>,
    reply: Option<&crate::model::ReplyTo>,
) -> Option<Stanza> {
    let mut stanza = match to {
        ConversationId::Chat(jid) => chat(jid.clone(), body, id),
        ConversationId::Room(room) => super::muc::groupchat(room.clone(), body, id),
        ConversationId::Private { room, nick } => {
            super::muc::private_message(room, nick, body, id)?
        }
    };
    if let Some(reply) = reply {
        super::reply::add_to(&mut stanza, reply);
    }
    if let Some(url) = oob {
        super::upload::add_oob(&mut stanza, url);
    }
    Some(stanza)
}

/// An outgoing chat message with our id as stanza id and origin-id, asking for a receipt.
pub fn chat(to: BareJid, body: &str, id: &LocalMessageId) -> Stanza {
    let mut m = outgoing(Jid::from(to), MessageType::Chat, body, id);
    m.payloads.push(receipts::Request.into());
    m.payloads.push(Markable.into());
    m.payloads.push(ChatState::Active.into());
    Stanza::Message(m)
}

/// "I have seen everything up to message `id`" (XEP-0333), sent only while the
/// conversation is on screen and focused.
pub fn displayed(to: BareJid, id: String) -> Stanza {
    let mut m = Message::chat(Some(Jid::from(to)));
    m.payloads.push(Displayed { id: Id(id) }.into());
    Stanza::Message(m)
}

/// `<iq type='set'><enable xmlns='urn:xmpp:carbons:2'/></iq>` payload.
pub fn carbons_enable() -> Element {
    carbons::Enable.into()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;
    use crate::model::Direction;

    fn only_message(ev: Vec<Event>) -> (ChatMessage, Option<Stanza>) {
        let mut found = None;
        for e in ev {
            if let Event::Message { message, receipt } = e {
                found = Some((*message, receipt.map(|r| *r)));
            }
        }
        match found {
            Some(f) => f,
            None => unreachable!("no message event"),
        }
    }

    #[test]
    fn incoming_chat_is_read_and_receipt_prepared() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' type='chat' id='m1' from='bob@example.org/phone' to='me@example.org/desk'>\
                 <body>你好 Alice</body><request xmlns='urn:xmpp:receipts'/>\
                 <origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>",
            ),
            1_000,
        );
        let (m, receipt) = only_message(ev);
        assert_eq!(m.body, "你好 Alice");
        assert_eq!(m.peer().as_str(), "bob@example.org");
        assert_eq!(m.direction, Direction::Incoming);
        assert_eq!(m.origin_id.as_deref(), Some("o1"));
        assert_eq!(m.stanza_id_attr.as_deref(), Some("m1"));
        assert_eq!(m.timestamp_ms, 1_000);
        let xml = to_xml(&receipt.unwrap_or_else(|| unreachable!()));
        assert!(
            xml.contains("urn:xmpp:receipts") && xml.contains("id='m1'"),
            "{xml}"
        );
        assert!(xml.contains("to='bob@example.org/phone'"), "{xml}");
    }

    #[test]
    fn delay_sets_the_time() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' type='chat' from='bob@example.org/phone'>\
                 <body>late</body><delay xmlns='urn:xmpp:delay' from='example.org' stamp='2020-01-01T00:00:00Z'/></message>",
            ),
            2_000_000_000_000,
        );
        let (m, _) = only_message(ev);
        // Whole seconds: the end of that second, so it sorts after what came live then.
        assert_eq!(m.timestamp_ms, 1_577_836_800_999);
    }

    #[test]
    fn a_whole_second_stamp_never_lands_in_the_future() {
        assert_eq!(end_of_second(5_000, 5_400), 5_400);
        assert_eq!(end_of_second(5_000, 9_000), 5_999);
        assert_eq!(end_of_second(5_123, 9_000), 5_123);
    }

    #[test]
    fn sent_carbon_from_own_account_is_an_outgoing_message() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' from='me@example.org' to='me@example.org/desk' type='chat'>\
                 <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
                 <message xmlns='jabber:client' from='me@example.org/phone' to='bob@example.org' type='chat' id='x1'>\
                 <body>from my phone</body><origin-id xmlns='urn:xmpp:sid:0' id='x1'/></message>\
                 </forwarded></sent></message>",
            ),
            5,
        );
        let (m, receipt) = only_message(ev);
        assert_eq!(m.direction, Direction::Outgoing);
        assert_eq!(m.peer().as_str(), "bob@example.org");
        assert_eq!(m.id.0, "x1");
        assert!(receipt.is_none(), "no receipts for carbons");
    }

    #[test]
    fn forged_carbons_are_dropped() {
        let mut s = state();
        for from in [
            "bob@example.org/phone",
            "bob@example.org",
            "me@example.org/phone",
        ] {
            let ev = s.handle(
                stanza(&format!(
                    "<message xmlns='jabber:client' from='{from}' to='me@example.org/desk' type='chat'>\
                     <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
                     <message xmlns='jabber:client' from='alice@example.org/x' to='me@example.org' type='chat'>\
                     <body>forged</body></message></forwarded></received></message>"
                )),
                5,
            );
            assert!(
                !ev.iter().any(|e| matches!(e, Event::Message { .. })),
                "{from}: {ev:?}"
            );
        }
    }

    #[test]
    fn receipt_and_error_update_delivery() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' from='bob@example.org/phone' type='chat'>\
                 <received xmlns='urn:xmpp:receipts' id='abc'/></message>",
            ),
            5,
        );
        assert!(
            matches!(ev.as_slice(), [Event::Delivery { id, state: Delivery::Delivered, .. }] if id == "abc")
        );
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' from='nobody@nowhere.invalid' type='error' id='abc'>\
                 <error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
            ),
            5,
        );
        assert!(
            matches!(ev.as_slice(), [Event::Delivery { state: Delivery::Failed(t), .. }] if t.contains("server was not found")),
            "{ev:?}"
        );
    }

    #[test]
    fn displayed_marker_marks_our_message_read() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' from='bob@example.org/phone' type='chat'>\
                 <displayed xmlns='urn:xmpp:chat-markers:0' id='m42'/></message>",
            ),
            5,
        );
        assert!(
            matches!(ev.as_slice(), [Event::Delivery { id, state: Delivery::Read, .. }] if id == "m42"),
            "{ev:?}"
        );
        let to = BareJid::new("bob@example.org").unwrap_or_else(|_| unreachable!());
        let xml = to_xml(&displayed(to, "m7".into()));
        assert!(
            xml.contains("urn:xmpp:chat-markers:0") && xml.contains("id='m7'"),
            "{xml}"
        );
    }

    #[test]
    fn stanza_id_is_trusted_only_from_our_server_when_advertised() {
        let xml = "<message xmlns='jabber:client' type='chat' from='bob@example.org/phone'>\
                   <body>hi</body><stanza-id xmlns='urn:xmpp:sid:0' by='me@example.org' id='S1'/>\
                   <stanza-id xmlns='urn:xmpp:sid:0' by='bob@example.org' id='EVIL'/></message>";
        let mut s = state();
        let (m, _) = only_message(s.handle(stanza(xml), 5));
        assert_eq!(m.server_id, None, "not advertised yet");
        s.sid_trusted = true;
        let (m, _) = only_message(s.handle(stanza(xml), 5));
        assert_eq!(m.server_id.as_deref(), Some("S1"));
    }

    #[test]
    fn outgoing_chat_carries_ids_and_receipt_request() {
        let id = LocalMessageId("L1".into());
        let to = BareJid::new("bob@example.org").unwrap_or_else(|_| unreachable!());
        let xml = to_xml(&chat(to, "hi <b>", &id));
        assert!(xml.contains("id='L1'"), "{xml}");
        assert!(xml.contains("origin-id"), "{xml}");
        assert!(xml.contains("urn:xmpp:receipts"), "{xml}");
        assert!(xml.contains("hi &lt;b&gt;"), "{xml}");
    }

    fn incoming_body(body: &str) -> ChatMessage {
        let mut s = state();
        let ev = s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' type='chat' from='bob@example.org/p'><body>{body}</body></message>"
            )),
            5,
        );
        only_message(ev).0
    }

    #[test]
    fn a_body_over_the_limit_is_stored_cut_and_says_so() {
        // Three-byte characters, so the limit falls inside one: the cut keeps whole ones.
        let body = "中".repeat(MAX_BODY_BYTES / 3 + 100);
        let m = incoming_body(&body);
        assert!(m.truncated, "a cut body carries the flag");
        assert!(m.body.len() <= MAX_BODY_BYTES);
        assert!(
            m.body.len() > MAX_BODY_BYTES - 4,
            "cut at the limit, not before"
        );
        assert!(
            body.starts_with(&m.body),
            "the stored part is the body's start"
        );
    }

    #[test]
    fn a_100_kb_body_is_stored_whole() {
        let body = "0123456789".repeat(10_000);
        let m = incoming_body(&body);
        assert_eq!(m.body, body, "every byte of a 100 kB body is kept");
        assert!(!m.truncated);
        let exact = "x".repeat(MAX_BODY_BYTES);
        let m = incoming_body(&exact);
        assert_eq!(
            m.body.len(),
            MAX_BODY_BYTES,
            "a body of exactly the limit is whole"
        );
        assert!(!m.truncated);
    }
}

#[cfg(test)]
mod compose_tests {
    use super::*;

    fn bare(s: &str) -> BareJid {
        BareJid::new(s).unwrap_or_else(|_| unreachable!())
    }

    fn message(st: Option<Stanza>) -> Message {
        match st {
            Some(Stanza::Message(m)) => m,
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn one_constructor_for_chats_rooms_and_room_private_messages() {
        let id = LocalMessageId("L1".to_owned());
        let room = bare("tea@conference.example.org");
        let cases = [
            (
                ConversationId::Chat(bare("bob@example.org")),
                MessageType::Chat,
                "bob@example.org",
            ),
            (
                ConversationId::Room(room.clone()),
                MessageType::Groupchat,
                "tea@conference.example.org",
            ),
            (
                ConversationId::Private {
                    room: room.clone(),
                    nick: "bob".to_owned(),
                },
                MessageType::Chat,
                "tea@conference.example.org/bob",
            ),
        ];
        for (to, type_, address) in cases {
            let url = "https://up.example.org/a/cat.png";
            let m = message(compose(&to, url, &id, Some(url), None));
            assert_eq!(m.type_, type_, "{to:?}");
            assert_eq!(
                m.to.as_ref().map(|j| j.to_string()).as_deref(),
                Some(address)
            );
            // Our id as stanza id and origin-id: how a reflection, a carbon or an archive
            // copy is matched to what we stored.
            assert_eq!(m.id, Some(Id("L1".to_owned())));
            assert!(
                m.payloads
                    .iter()
                    .any(|p| p.is("origin-id", ns::SID) && p.attr("id") == Some("L1"))
            );
            assert_eq!(m.bodies.values().next().map(String::as_str), Some(url));
            assert!(m.payloads.iter().any(|p| p.is("x", ns::OOB)));
            // Only a chat asks for a receipt.
            let receipt = m.payloads.iter().any(|p| p.is("request", ns::RECEIPTS));
            assert_eq!(receipt, matches!(to, ConversationId::Chat(_)), "{to:?}");
        }
        // No OOB unless a file is shared.
        let m = message(compose(
            &ConversationId::Room(room.clone()),
            "hi",
            &id,
            None,
            None,
        ));
        assert!(!m.payloads.iter().any(|p| p.is("x", ns::OOB)));
        // A reply (XEP-0461) names the message it answers, in chats and rooms alike.
        let reply = crate::model::ReplyTo {
            id: "S9".to_owned(),
            to: None,
            fallback: None,
        };
        for to in [
            ConversationId::Chat(bare("bob@example.org")),
            ConversationId::Room(room),
        ] {
            let m = message(compose(&to, "yes", &id, None, Some(&reply)));
            assert_eq!(
                super::super::reply::parse(&m),
                Some(reply.clone()),
                "{to:?}"
            );
        }
    }
}
