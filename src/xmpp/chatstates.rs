//! Chat state notifications (XEP-0085): composing, paused, active, inactive, gone.
//! Shown, never stored. In rooms they are per occupant. We send them only when the
//! user allows it (`config`: typing notifications, on by default).

use xmpp_parsers::chatstates::ChatState;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::message::{Message, MessageType};
use xmpp_parsers::ns;
use xmpp_parsers::stanza::Stanza;

/// The chat state `m` carries.
pub fn parse(m: &Message) -> Option<ChatState> {
    m.payloads
        .iter()
        .find(|p| p.ns() == ns::CHATSTATES)
        .and_then(|p| ChatState::try_from(p.clone()).ok())
}

/// A standalone chat state to a contact (type chat) or a room (type groupchat), with a
/// hint not to archive it.
pub fn standalone(to: Jid, room: bool, state: ChatState) -> Stanza {
    let mut m = Message::new(Some(to));
    m.type_ = if room {
        MessageType::Groupchat
    } else {
        MessageType::Chat
    };
    m.payloads.push(state.into());
    m.payloads.push(
        xmpp_parsers::minidom::Element::builder("no-store", super::changes::NS_HINTS).build(),
    );
    Stanza::Message(m)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::to_xml;
    use super::*;

    /// XEP-0085 Example 6 (composing, no body) and a state beside a body.
    #[test]
    fn states_are_read_with_or_without_a_body() {
        let Stanza::Message(m) = stanza(
            "<message xmlns='jabber:client' from='bernardo@shakespeare.lit/pda' to='francisco@shakespeare.lit' type='chat'>\
             <composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
        ) else {
            unreachable!()
        };
        assert_eq!(parse(&m), Some(ChatState::Composing));
        let Stanza::Message(m) = stanza(
            "<message xmlns='jabber:client' from='bernardo@shakespeare.lit/pda' type='chat'>\
             <body>Who's there?</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
        ) else {
            unreachable!()
        };
        assert_eq!(parse(&m), Some(ChatState::Active));
    }

    #[test]
    fn a_standalone_state_is_not_archived() {
        let to = Jid::new("bob@example.org").unwrap_or_else(|_| unreachable!());
        let xml = to_xml(&standalone(to, false, ChatState::Paused));
        assert!(
            xml.contains("<paused xmlns='http://jabber.org/protocol/chatstates'/>"),
            "{xml}"
        );
        assert!(xml.contains("no-store"), "{xml}");
        assert!(xml.contains("type='chat'"), "{xml}");
    }
}
