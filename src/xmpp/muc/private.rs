//! Private messages between occupants (XEP-0045 §7.5): type chat to or from
//! `room@service/nick`. They are a conversation of their own with that occupant, never
//! a chat with the room's bare address (which would mix every occupant together).

use super::{NS_MUC_USER, Rooms};
use crate::ids::LocalMessageId;
use crate::model::Direction;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::stanza::Stanza;

/// The occupant's nick when `m` (a 1:1 message, already unwrapped from a carbon or an
/// archive) is a private message in a room: the other side is a full address whose
/// bare part is a room we know, or the message carries the muc#user marker.
pub fn private_nick(rooms: &Rooms, m: &Message, direction: Direction) -> Option<String> {
    if !matches!(m.type_, MessageType::Chat | MessageType::Normal) {
        return None;
    }
    let other = match direction {
        Direction::Incoming => m.from.as_ref()?,
        Direction::Outgoing => m.to.as_ref()?,
    };
    let nick = other.resource()?.to_string();
    let marked = m.payloads.iter().any(|p| {
        p.is("x", NS_MUC_USER)
            && p.get_child("invite", NS_MUC_USER).is_none()
            && p.get_child("decline", NS_MUC_USER).is_none()
    });
    let known_room = rooms.rooms.contains_key(&other.to_bare());
    (known_room || marked).then_some(nick)
}

/// A private message to one occupant: type chat to `room/nick`, marked with an empty
/// muc#user `<x/>`, with our id as stanza id and origin-id.
pub fn private_message(
    room: &BareJid,
    nick: &str,
    body: &str,
    id: &LocalMessageId,
) -> Option<Stanza> {
    let to = Jid::from(room.with_resource_str(nick).ok()?);
    let mut m = crate::xmpp::message::outgoing(to, MessageType::Chat, body, id);
    m.payloads.push(Element::builder("x", NS_MUC_USER).build());
    Some(Stanza::Message(m))
}

#[cfg(test)]
mod tests {
    use super::super::super::test_support::*;
    use super::super::super::*;
    use super::*;
    use crate::ids::ConversationId;

    const ROOM: &str = "tea@conference.example.org";

    fn room() -> BareJid {
        BareJid::new(ROOM).unwrap_or_else(|_| unreachable!())
    }

    fn messages(ev: Vec<Event>) -> Vec<crate::model::ChatMessage> {
        ev.into_iter()
            .filter_map(|e| match e {
                Event::Message { message, .. } => Some(*message),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_private_message_from_an_occupant_is_its_own_conversation() {
        let mut s = state();
        let _ = s.muc_join(room(), "me", None);
        let ev = s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' type='chat' id='p1' from='{ROOM}/bob' to='me@example.org/desk'>\
                 <body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>"
            )),
            1_000,
        );
        let got = messages(ev);
        assert_eq!(got.len(), 1, "{got:?}");
        let m = &got[0];
        assert_eq!(m.body, "psst");
        assert_eq!(m.sender, "bob");
        assert!(!m.conversation.is_room());
        assert_eq!(
            m.conversation(),
            ConversationId::Private {
                room: room(),
                nick: "bob".into()
            }
        );
        assert_ne!(m.conversation(), ConversationId::Chat(room()));
        assert_ne!(m.conversation(), ConversationId::Room(room()));
    }

    #[test]
    fn marked_private_message_from_an_unknown_room_is_still_private() {
        let mut s = state();
        let ev = s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' type='chat' from='{ROOM}/carol'>\
                 <body>hi</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>"
            )),
            1_000,
        );
        let got = messages(ev);
        assert_eq!(got[0].conversation.private_nick(), Some("carol"));
    }

    #[test]
    fn an_ordinary_chat_is_not_private() {
        let mut s = state();
        let _ = s.muc_join(room(), "me", None);
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' type='chat' from='bob@example.org/phone'>\
                 <body>hello</body></message>",
            ),
            1_000,
        );
        let got = messages(ev);
        assert_eq!(got[0].conversation.private_nick(), None);
        assert_eq!(
            got[0].conversation(),
            ConversationId::Chat(
                BareJid::new("bob@example.org").unwrap_or_else(|_| unreachable!())
            )
        );
    }

    #[test]
    fn a_sent_carbon_of_a_private_message_is_ours_in_that_conversation() {
        let mut s = state();
        let _ = s.muc_join(room(), "me", None);
        let ev = s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' from='me@example.org' to='me@example.org/desk'>\
                 <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
                 <message xmlns='jabber:client' type='chat' from='me@example.org/phone' to='{ROOM}/bob'>\
                 <body>from my phone</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>\
                 </forwarded></sent></message>"
            )),
            1_000,
        );
        let got = messages(ev);
        assert_eq!(got[0].conversation.private_nick(), Some("bob"));
        assert_eq!(got[0].direction, Direction::Outgoing);
    }

    /// Replies (XEP-0461) in a private chat: an occupant's reply loses its quote, and
    /// ours names the occupant (or us) by the room address, goes to the occupant as a
    /// private message and carries the fallback (XEP-0428).
    #[test]
    fn replies_in_a_private_chat_name_occupants_both_ways() {
        let mut s = state();
        let _ = s.muc_join(room(), "me", None);
        let quote = "> hi bob\n";
        let end = quote.chars().count();
        let got = messages(s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' type='chat' id='p1' from='{ROOM}/bob' to='me@example.org/desk'>\
                 <body>{quote}hello you</body><x xmlns='http://jabber.org/protocol/muc#user'/>\
                 <reply xmlns='urn:xmpp:reply:0' id='ours-1' to='{ROOM}/me'/>\
                 <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='{end}'/></fallback></message>"
            )),
            1_000,
        ));
        let theirs = &got[0];
        assert_eq!(theirs.conversation.private_nick(), Some("bob"));
        assert_eq!(theirs.body, "hello you", "the quote is hidden");
        let r = theirs
            .extras
            .reply_to
            .clone()
            .unwrap_or_else(|| unreachable!());
        assert_eq!(
            (r.id.as_str(), r.to.as_deref()),
            ("ours-1", Some("tea@conference.example.org/me"))
        );

        // Our reply to it: to the occupant, naming bob as the room knows him.
        let own = BareJid::new("me@example.org").unwrap_or_else(|_| unreachable!());
        let reply = crate::xmpp::reply::reference(theirs, "p1".into(), &own, Some("me"));
        assert_eq!(reply.to.as_deref(), Some("tea@conference.example.org/bob"));
        assert_eq!(reply.fallback.as_deref(), Some("> hello you\n"));
        let id = LocalMessageId("r1".into());
        let st =
            crate::xmpp::message::compose(&theirs.conversation, "sure", &id, None, Some(&reply))
                .unwrap_or_else(|| unreachable!());
        let xml = to_xml(&st);
        assert!(xml.contains(&format!("to='{ROOM}/bob'")), "{xml}");
        assert!(xml.contains("type='chat'"), "{xml}");
        assert!(
            xml.contains("<x xmlns='http://jabber.org/protocol/muc#user'/>"),
            "{xml}"
        );
        assert!(
            xml.contains(&format!(
                "<reply xmlns='urn:xmpp:reply:0' id='p1' to='{ROOM}/bob'/>"
            )),
            "{xml}"
        );
        assert!(xml.contains("<body>&gt; hello you\nsure</body>"), "{xml}");
        assert!(xml.contains("for='urn:xmpp:reply:0'><body"), "{xml}");
        assert!(
            xml.contains("end='12'") && xml.contains("start='0'"),
            "{xml}"
        );

        // A reply to our own private message names us by our nick in the room.
        let mut ours = theirs.clone();
        ours.direction = Direction::Outgoing;
        ours.sender = String::new();
        let reply = crate::xmpp::reply::reference(&ours, "ours-1".into(), &own, Some("me"));
        assert_eq!(reply.to.as_deref(), Some("tea@conference.example.org/me"));
    }

    #[test]
    fn outgoing_private_message_goes_to_the_occupant_with_the_marker() {
        let id = LocalMessageId("m1".into());
        let st = private_message(&room(), "bob", "psst", &id).unwrap_or_else(|| unreachable!());
        let xml = to_xml(&st);
        assert!(xml.contains(&format!("to='{ROOM}/bob'")), "{xml}");
        assert!(xml.contains("type='chat'"), "{xml}");
        assert!(
            xml.contains("<x xmlns='http://jabber.org/protocol/muc#user'/>"),
            "{xml}"
        );
        assert!(
            xml.contains("<origin-id xmlns='urn:xmpp:sid:0' id='m1'/>"),
            "{xml}"
        );
    }
}
