//! Which change to an earlier message a stanza carries, whatever XEP it speaks:
//! correction (`correction`), reactions (`reactions`), retraction or moderation
//! (`retraction`). `message` (chats) and `muc` (rooms) turn the result into a
//! [`Modification`] with its author, and the store applies it (`store::changes`).

use crate::ids::ConversationId;
use crate::model::{Author, Change, Direction, Modification, extras::reactor_key};
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;

pub const NS_HINTS: &str = "urn:xmpp:hints";

/// `<store xmlns='urn:xmpp:hints'/>`: archive this body-less message.
pub fn store_hint() -> Element {
    Element::builder("store", NS_HINTS).build()
}

/// A change found in a stanza, before we know who may make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Correct {
        target: String,
        body: String,
    },
    React {
        target: String,
        emojis: Vec<String>,
    },
    Retract {
        target: String,
    },
    Moderate {
        target: String,
        by: Option<String>,
        reason: Option<String>,
    },
}

/// The change `m` carries, if any. A retraction wins over its fallback body; a
/// correction needs a body.
pub fn detect(m: &Message) -> Option<Found> {
    if let Some(r) = super::retraction::parse(m) {
        return Some(match r {
            super::retraction::Retract::Own { target } => Found::Retract { target },
            super::retraction::Retract::Moderated { target, by, reason } => {
                Found::Moderate { target, by, reason }
            }
        });
    }
    if let Some(target) = super::correction::target(m) {
        let (_, body) = m.get_best_body_cloned(vec!["en", ""])?;
        let (body, _) = super::message::limit_body(body);
        if body.trim().is_empty() {
            return None;
        }
        return Some(Found::Correct { target, body });
    }
    if let Some((target, emojis)) = super::reactions::parse(m) {
        return Some(Found::React { target, emojis });
    }
    None
}

/// Who did it and where, for [`into_modification`].
pub struct Context<'a> {
    pub account: &'a crate::ids::AccountId,
    pub own: &'a str,
    pub conversation: ConversationId,
    pub direction: Direction,
    pub nick: &'a str,
    pub occupant_id: Option<&'a str>,
    /// The change stanza's own id (its origin-id, else its `id`).
    pub id: Option<String>,
    pub at_ms: i64,
}

/// The change as the store applies it; `None` for a moderation (only a room sends
/// those, see `muc`).
pub fn into_modification(found: Found, cx: Context<'_>) -> Modification {
    let author = Author {
        direction: cx.direction,
        nick: cx.nick.to_owned(),
        occupant_id: cx.occupant_id.map(str::to_owned),
    };
    let (target, change) = match found {
        Found::Correct { target, body } => (target, Change::Correct { body, id: cx.id }),
        Found::React { target, emojis } => (
            target,
            Change::React {
                reactor: reactor_key(
                    &cx.conversation,
                    cx.direction,
                    cx.own,
                    cx.nick,
                    cx.occupant_id,
                ),
                name: cx.nick.to_owned(),
                emojis,
            },
        ),
        Found::Retract { target } => (target, Change::Retract),
        Found::Moderate { target, by, reason } => (target, Change::Moderate { by, reason }),
    };
    Modification {
        account: cx.account.clone(),
        conversation: cx.conversation,
        target,
        author,
        change,
        at_ms: cx.at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use crate::ids::ConversationId;
    use crate::model::{Change, Direction, Modification};

    const ROOM: &str = "tea@conference.example.org";

    fn modifications(ev: &[Event]) -> Vec<&Modification> {
        ev.iter()
            .filter_map(|e| match e {
                Event::Modify(m) => Some(m.as_ref()),
                _ => None,
            })
            .collect()
    }

    fn no_message(ev: &[Event]) {
        assert!(
            !ev.iter()
                .any(|e| matches!(e, Event::Message { .. } | Event::Archived { .. })),
            "a change must not be stored as a message: {ev:?}"
        );
    }

    /// A state in room ROOM as `me`, which stamps occupant ids.
    fn in_room() -> ProtoState {
        let mut s = state();
        let out = s.muc_join(
            BareJid::new(ROOM).unwrap_or_else(|_| unreachable!()),
            "me",
            None,
        );
        let disco = muc::iq_id(&out[0]);
        s.handle(
            stanza(&format!(
                "<iq xmlns='jabber:client' type='result' id='{disco}' from='{ROOM}'>\
                 <query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text'/>\
                 <feature var='http://jabber.org/protocol/muc'/><feature var='urn:xmpp:sid:0'/>\
                 <feature var='urn:xmpp:occupant-id:0'/></query></iq>"
            )),
            0,
        );
        s.handle(
            stanza(&format!(
                "<presence xmlns='jabber:client' from='{ROOM}/me'><x xmlns='http://jabber.org/protocol/muc#user'>\
                 <item affiliation='none' role='participant'/><status code='110'/></x></presence>"
            )),
            0,
        );
        s
    }

    #[test]
    fn a_chat_correction_is_a_modification_not_a_second_message() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' type='chat' id='good1' from='bob@example.org/phone'>\
                 <body>fixed</body><replace id='bad1' xmlns='urn:xmpp:message-correct:0'/></message>",
            ),
            7_000,
        );
        no_message(&ev);
        let m = modifications(&ev);
        assert_eq!(m.len(), 1, "{ev:?}");
        assert_eq!(m[0].target, "bad1");
        assert_eq!(
            m[0].conversation,
            ConversationId::Chat(
                BareJid::new("bob@example.org").unwrap_or_else(|_| unreachable!())
            )
        );
        assert_eq!(m[0].author.direction, Direction::Incoming);
        assert_eq!(
            m[0].change,
            Change::Correct {
                body: "fixed".into(),
                id: Some("good1".into())
            }
        );
        assert_eq!(m[0].at_ms, 7_000);
    }

    #[test]
    fn a_body_less_reaction_is_not_dropped_and_a_carbon_is_ours() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' from='me@example.org' to='me@example.org/desk' type='chat'>\
                 <sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
                 <message xmlns='jabber:client' from='me@example.org/phone' to='bob@example.org' type='chat' id='r1'>\
                 <reactions id='m9' xmlns='urn:xmpp:reactions:0'><reaction>👍</reaction></reactions></message>\
                 </forwarded></sent></message>",
            ),
            5,
        );
        let m = modifications(&ev);
        assert_eq!(m.len(), 1, "{ev:?}");
        assert_eq!(m[0].author.direction, Direction::Outgoing);
        assert_eq!(
            m[0].change,
            Change::React {
                reactor: "me@example.org".into(),
                name: String::new(),
                emojis: vec!["👍".into()]
            }
        );
    }

    #[test]
    fn a_moderation_counts_only_from_the_room_itself() {
        let mut s = in_room();
        let moderation = |from: &str| {
            format!(
                "<message xmlns='jabber:client' type='groupchat' from='{from}' id='mod1'>\
                 <retract id='SID-1' xmlns='urn:xmpp:message-retract:1'>\
                 <moderated by='{ROOM}/boss' xmlns='urn:xmpp:message-moderate:1'/>\
                 <reason>spam</reason></retract></message>"
            )
        };
        let ev = s.handle(stanza(&moderation(&format!("{ROOM}/mallory"))), 5);
        assert!(
            modifications(&ev).is_empty(),
            "an occupant cannot moderate: {ev:?}"
        );
        assert!(ev.iter().any(|e| matches!(e, Event::Dropped(_))));
        let ev = s.handle(stanza(&moderation(ROOM)), 5);
        let m = modifications(&ev);
        assert_eq!(m.len(), 1, "{ev:?}");
        assert_eq!(m[0].target, "SID-1");
        assert_eq!(
            m[0].change,
            Change::Moderate {
                by: Some(format!("{ROOM}/boss")),
                reason: Some("spam".into())
            }
        );
        // And nobody moderates a chat.
        let mut s = state();
        let ev = s.handle(
            stanza(&moderation("bob@example.org/x").replace("groupchat", "chat")),
            5,
        );
        assert!(modifications(&ev).is_empty(), "{ev:?}");
    }

    #[test]
    fn room_changes_carry_the_occupant_id_and_a_room_without_them_is_not_believed() {
        let mut s = in_room();
        let ev = s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' type='groupchat' from='{ROOM}/bob' id='c1'>\
                 <body>fixed</body><replace id='orig' xmlns='urn:xmpp:message-correct:0'/>\
                 <occupant-id xmlns='urn:xmpp:occupant-id:0' id='OID-BOB'/></message>"
            )),
            5,
        );
        no_message(&ev);
        let m = modifications(&ev);
        assert_eq!(m[0].author.nick, "bob");
        assert_eq!(m[0].author.occupant_id.as_deref(), Some("OID-BOB"));
        assert_eq!(m[0].conversation.to_string(), ROOM);

        // Reactions in a room are keyed by occupant id.
        let ev = s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' type='groupchat' from='{ROOM}/bob' id='r1'>\
                 <reactions id='SID-7' xmlns='urn:xmpp:reactions:0'><reaction>🐢</reaction></reactions>\
                 <occupant-id xmlns='urn:xmpp:occupant-id:0' id='OID-BOB'/></message>"
            )),
            5,
        );
        assert!(matches!(
            &modifications(&ev)[0].change,
            Change::React { reactor, name, .. } if reactor == "oid:OID-BOB" && name == "bob"
        ));

        // A room that does not say it stamps occupant ids: a claimed one is ignored.
        if let Some(r) = s
            .rooms
            .rooms
            .get_mut(&BareJid::new(ROOM).unwrap_or_else(|_| unreachable!()))
        {
            r.oid = false;
        }
        let ev = s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' type='groupchat' from='{ROOM}/bob' id='c2'>\
                 <body>again</body><replace id='orig' xmlns='urn:xmpp:message-correct:0'/>\
                 <occupant-id xmlns='urn:xmpp:occupant-id:0' id='FORGED'/></message>"
            )),
            5,
        );
        assert_eq!(modifications(&ev)[0].author.occupant_id, None);
    }

    #[test]
    fn chat_states_are_events_from_others_only_and_live_only() {
        let mut s = in_room();
        let ev = s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' type='groupchat' from='{ROOM}/bob'>\
                 <composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
            )),
            5,
        );
        assert!(
            ev.iter().any(|e| matches!(e, Event::ChatState { nick: Some(n), state: xmpp_parsers::chatstates::ChatState::Composing, .. } if n == "bob")),
            "{ev:?}"
        );
        let ev = s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' type='groupchat' from='{ROOM}/me'>\
                 <composing xmlns='http://jabber.org/protocol/chatstates'/></message>"
            )),
            5,
        );
        assert!(
            !ev.iter().any(|e| matches!(e, Event::ChatState { .. })),
            "{ev:?}"
        );
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' type='chat' from='bob@example.org/p'>\
                 <paused xmlns='http://jabber.org/protocol/chatstates'/></message>",
            ),
            5,
        );
        assert!(
            matches!(
                ev.as_slice(),
                [Event::ChatState {
                    nick: None,
                    state: xmpp_parsers::chatstates::ChatState::Paused,
                    ..
                }]
            ),
            "{ev:?}"
        );
    }

    #[test]
    fn a_reply_is_stored_without_its_fallback_quote() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<message xmlns='jabber:client' type='chat' id='m2' from='anna@example.com/laptop'>\
                 <body>&gt; We should bake a cake\nGreat idea!</body>\
                 <reply to='me@example.org/desk' id='m1' xmlns='urn:xmpp:reply:0'/>\
                 <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='24'/></fallback></message>",
            ),
            5,
        );
        let Some(Event::Message { message, .. }) = ev.first() else {
            unreachable!("{ev:?}")
        };
        assert_eq!(message.body, "Great idea!");
        let reply = message
            .extras
            .reply_to
            .clone()
            .unwrap_or_else(|| unreachable!());
        assert_eq!(reply.id, "m1");
    }

    #[test]
    fn archived_changes_come_out_of_our_archive_too() {
        let mut s = state();
        let st = s.mam_query(mam::From::After("A0".into()));
        let Stanza::Iq(xmpp_parsers::iq::Iq::Set { payload, .. }) = st else {
            unreachable!()
        };
        let qid = payload.attr("queryid").unwrap_or_default().to_owned();
        let ev = s.handle(
            stanza(&format!(
                "<message xmlns='jabber:client' to='me@example.org/desk'>\
                 <result xmlns='urn:xmpp:mam:2' queryid='{qid}' id='A7'>\
                 <forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-05-01T10:00:00Z'/>\
                 <message xmlns='jabber:client' from='bob@example.org/p' to='me@example.org' type='chat' id='x'>\
                 <apply-to id='o-1' xmlns='urn:xmpp:fasten:0'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to>\
                 <body>fallback text</body></message></forwarded></result></message>"
            )),
            2_000_000_000_000,
        );
        no_message(&ev);
        let m = modifications(&ev);
        assert_eq!(m.len(), 1, "{ev:?}");
        assert_eq!(m[0].change, Change::Retract);
        assert_eq!(m[0].at_ms, 1_714_557_600_999);
    }

    /// In room ROOM as `me`: the disco answer (stamping occupant ids when `stamps`)
    /// before or after our self-presence, which carries `own_oid` when given.
    fn room_with(stamps: bool, own_oid: Option<&str>, disco_first: bool) -> ProtoState {
        let mut s = state();
        let out = s.muc_join(
            BareJid::new(ROOM).unwrap_or_else(|_| unreachable!()),
            "me",
            None,
        );
        let disco = stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{}' from='{ROOM}'>\
             <query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text'/>\
             <feature var='http://jabber.org/protocol/muc'/><feature var='urn:xmpp:sid:0'/>{}</query></iq>",
            muc::iq_id(&out[0]),
            if stamps {
                "<feature var='urn:xmpp:occupant-id:0'/>"
            } else {
                ""
            }
        ));
        // Someone else's presence first: their occupant id is not ours.
        let bob = stanza(&format!(
            "<presence xmlns='jabber:client' from='{ROOM}/bob'><x xmlns='http://jabber.org/protocol/muc#user'>\
             <item affiliation='none' role='participant'/></x>\
             <occupant-id xmlns='urn:xmpp:occupant-id:0' id='OID-BOB'/></presence>"
        ));
        let own = stanza(&format!(
            "<presence xmlns='jabber:client' from='{ROOM}/me'><x xmlns='http://jabber.org/protocol/muc#user'>\
             <item affiliation='none' role='participant'/><status code='110'/></x>{}</presence>",
            own_oid
                .map(|o| format!("<occupant-id xmlns='urn:xmpp:occupant-id:0' id='{o}'/>"))
                .unwrap_or_default()
        ));
        if disco_first {
            s.handle(disco, 0);
            s.handle(bob, 0);
            s.handle(own, 0);
        } else {
            s.handle(bob, 0);
            s.handle(own, 0);
            s.handle(disco, 0);
        }
        s
    }

    fn own_reactor(s: &ProtoState) -> Option<(String, String)> {
        let room = BareJid::new(ROOM).unwrap_or_else(|_| unreachable!());
        s.rooms
            .get(&room)
            .and_then(|r| r.own_reactor(&room, "me@example.org"))
    }

    #[test]
    fn our_occupant_id_is_read_from_our_self_presence_where_the_room_stamps_them() {
        let room = BareJid::new(ROOM).unwrap_or_else(|_| unreachable!());
        for disco_first in [true, false] {
            let s = room_with(true, Some("OID-ME"), disco_first);
            let r = s.rooms.get(&room).unwrap_or_else(|| unreachable!());
            assert_eq!(r.own_occupant_id(), Some("OID-ME"), "{disco_first}");
            assert_eq!(
                own_reactor(&s),
                Some(("oid:OID-ME".to_owned(), "me".to_owned()))
            );
        }
        // The room stamps them but gave us none (yet): our key is unknown.
        let s = room_with(true, None, true);
        assert_eq!(s.rooms.get(&room).and_then(|r| r.own_occupant_id()), None);
        assert_eq!(own_reactor(&s), None);
        // A room that does not say it stamps them: a claimed one is not believed, and
        // our reactions count under our nick.
        let s = room_with(false, Some("CLAIMED"), true);
        assert_eq!(s.rooms.get(&room).and_then(|r| r.own_occupant_id()), None);
        assert_eq!(
            own_reactor(&s),
            Some(("nick:me".to_owned(), "me".to_owned()))
        );
        // Before the room said what it supports, or before we are in: unknown.
        let mut s = state();
        let _ = s.muc_join(room.clone(), "me", None);
        s.handle(
            stanza(&format!(
                "<presence xmlns='jabber:client' from='{ROOM}/me'><x xmlns='http://jabber.org/protocol/muc#user'>\
                 <item affiliation='none' role='participant'/><status code='110'/></x></presence>"
            )),
            0,
        );
        assert_eq!(own_reactor(&s), None);
    }

    /// What we store at once for our own reaction counts under the key the room's
    /// reflection of it carries: the reflection replaces it, never adds a second one.
    #[test]
    fn our_reaction_key_is_the_one_its_reflection_carries() {
        for (stamps, oid) in [(true, Some("OID-ME")), (false, None)] {
            let mut s = room_with(stamps, oid, true);
            let (key, name) = own_reactor(&s).unwrap_or_else(|| unreachable!());
            let ev = s.handle(
                stanza(&format!(
                    "<message xmlns='jabber:client' type='groupchat' from='{ROOM}/me' id='r1'>\
                     <reactions id='SID-7' xmlns='urn:xmpp:reactions:0'><reaction>🐢</reaction></reactions>\
                     <occupant-id xmlns='urn:xmpp:occupant-id:0' id='OID-ME'/></message>"
                )),
                5,
            );
            let m = modifications(&ev);
            assert_eq!(m.len(), 1, "{ev:?}");
            assert_eq!(m[0].author.direction, Direction::Outgoing);
            assert!(
                matches!(&m[0].change, Change::React { reactor, name: n, .. } if *reactor == key && *n == name),
                "{stamps}: {key} {:?}",
                m[0].change
            );
        }
    }
}
