//! Message replies (XEP-0461) with the fallback indication (XEP-0428): the reply names
//! the message it answers (`id`, and `to`, its author), and the part of the body that
//! quotes it for clients without replies is marked, so we hide it when we understand
//! the reference. Offsets are in Unicode code points (XEP-0428).

use super::muc::AttrExt;
use crate::ids::ConversationId;
use crate::model::{ChatMessage, Direction, ReplyTo};
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;

pub const NS_REPLY: &str = "urn:xmpp:reply:0";
pub const NS_FALLBACK: &str = "urn:xmpp:fallback:0";

/// The reply reference of `m`, if any.
pub fn parse(m: &Message) -> Option<ReplyTo> {
    let r = m.payloads.iter().find(|p| p.is("reply", NS_REPLY))?;
    let id = r.attr("id").filter(|i| !i.is_empty())?.to_owned();
    Some(ReplyTo {
        id,
        to: r.attr("to").filter(|t| !t.is_empty()).map(str::to_owned),
        fallback: None,
    })
}

/// The code point ranges of the body that are fallback for `for_ns`; the whole body
/// when the fallback names no range.
fn fallback_ranges(m: &Message, for_ns: &str, body_chars: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for f in m
        .payloads
        .iter()
        .filter(|p| p.is("fallback", NS_FALLBACK) && p.attr("for") == Some(for_ns))
    {
        let mut any = false;
        for b in f.children().filter(|c| c.is("body", NS_FALLBACK)) {
            any = true;
            let start = b.attr("start").and_then(|s| s.parse::<usize>().ok());
            let end = b.attr("end").and_then(|s| s.parse::<usize>().ok());
            match (start, end) {
                (Some(s), Some(e)) if s <= e && e <= body_chars => out.push((s, e)),
                (None, None) => out.push((0, body_chars)),
                _ => {}
            }
        }
        if !any {
            out.push((0, body_chars));
        }
    }
    out
}

/// `body` without the quote a reply carries for clients that lack replies (only when
/// `m` has a reply reference we can show instead).
pub fn strip_fallback(m: &Message, body: &str) -> String {
    if parse(m).is_none() {
        return body.to_owned();
    }
    let chars = body.chars().count();
    let ranges = fallback_ranges(m, NS_REPLY, chars);
    if ranges.is_empty() {
        return body.to_owned();
    }
    body.chars()
        .enumerate()
        .filter(|(i, _)| !ranges.iter().any(|(s, e)| *i >= *s && *i < *e))
        .map(|(_, c)| c)
        .collect()
}

/// The quote put in front of a reply for clients without replies: each line of the
/// quoted text after `> `, with the author's name first when known.
pub fn quote(author: Option<&str>, quoted: &str) -> String {
    let mut out = String::new();
    if let Some(a) = author.filter(|a| !a.is_empty()) {
        out.push_str(&format!("> {a}:\n"));
    }
    for line in quoted.lines() {
        out.push_str("> ");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Our reply's reference to `quoted`, which others name by `id`: its author (`to`) as
/// the reply's receivers know them, and the fallback quote. `own` is our address;
/// `own_nick` our nick in the room of a private chat.
pub fn reference(
    quoted: &ChatMessage,
    id: String,
    own: &BareJid,
    own_nick: Option<&str>,
) -> ReplyTo {
    let occupant =
        |room: &BareJid, nick: &str| room.with_resource_str(nick).ok().map(|j| j.to_string());
    let (to, name) = match (&quoted.conversation, quoted.direction) {
        (ConversationId::Room(room), _) => {
            (occupant(room, &quoted.sender), Some(quoted.sender.as_str()))
        }
        // In a private chat both sides are occupants of the room: `room@service/nick`.
        (ConversationId::Private { room, nick }, Direction::Incoming) => {
            (occupant(room, nick), None)
        }
        (ConversationId::Private { room, .. }, Direction::Outgoing) => {
            (own_nick.and_then(|n| occupant(room, n)), None)
        }
        (ConversationId::Chat(_), Direction::Outgoing) => (Some(own.to_string()), None),
        (ConversationId::Chat(peer), Direction::Incoming) => (Some(peer.to_string()), None),
    };
    let fallback = if quoted.extras.retracted.is_some() {
        String::new()
    } else {
        quote(name, &quoted.body)
    };
    ReplyTo {
        id,
        to,
        fallback: Some(fallback).filter(|f| !f.is_empty()),
    }
}

/// Makes `m` (whose body already starts with `fallback`) a reply to `to`'s message `id`.
pub fn mark(m: &mut Message, reply: &ReplyTo, fallback: &str) {
    let mut r = Element::builder("reply", NS_REPLY).a("id", &reply.id);
    if let Some(to) = &reply.to {
        r = r.a("to", to);
    }
    m.payloads.push(r.build());
    if !fallback.is_empty() {
        let end = fallback.chars().count().to_string();
        m.payloads.push(
            Element::builder("fallback", NS_FALLBACK)
                .a("for", NS_REPLY)
                .append(
                    Element::builder("body", NS_FALLBACK)
                        .a("start", "0")
                        .a("end", &end)
                        .build(),
                )
                .build(),
        );
    }
}

/// Makes a built message (chat, private or groupchat) a reply: the stored fallback
/// quote goes before its body, and the reference and fallback range are added.
pub fn add_to(stanza: &mut xmpp_parsers::stanza::Stanza, reply: &ReplyTo) {
    let xmpp_parsers::stanza::Stanza::Message(m) = stanza else {
        return;
    };
    let fallback = reply.fallback.clone().unwrap_or_default();
    if !fallback.is_empty() {
        for body in m.bodies.values_mut() {
            *body = format!("{fallback}{body}");
        }
    }
    mark(m, reply, &fallback);
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::to_xml;
    use super::*;
    use xmpp_parsers::stanza::Stanza;

    fn message(xml: &str) -> Message {
        match stanza(xml) {
            Stanza::Message(m) => m,
            _ => unreachable!(),
        }
    }

    /// XEP-0461 Example 2 (with its fallback): the quote is hidden, the answer stays.
    #[test]
    fn the_xeps_reply_loses_its_quote() {
        let body = "> Anna wrote:\n> We should bake a cake\nGreat idea!";
        let end = "> Anna wrote:\n> We should bake a cake\n".chars().count();
        let m = message(&format!(
            "<message xmlns='jabber:client' to='anna@example.com' id='message-id2' type='chat'>\
             <body>{body}</body>\
             <reply to='anna@example.com/laptop' id='message-id1' xmlns='urn:xmpp:reply:0'/>\
             <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='{end}'/></fallback></message>"
        ));
        assert_eq!(
            parse(&m),
            Some(ReplyTo {
                id: "message-id1".into(),
                to: Some("anna@example.com/laptop".into()),
                fallback: None,
            })
        );
        assert_eq!(strip_fallback(&m, body), "Great idea!");
    }

    #[test]
    fn offsets_count_code_points_and_bad_ranges_strip_nothing() {
        let body = "> 你好 😀\nok";
        let m = message(
            "<message xmlns='jabber:client' type='chat'><body>x</body>\
             <reply id='r' xmlns='urn:xmpp:reply:0'/>\
             <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='7'/></fallback></message>",
        );
        assert_eq!(strip_fallback(&m, body), "ok");
        let m = message(
            "<message xmlns='jabber:client' type='chat'><body>x</body>\
             <reply id='r' xmlns='urn:xmpp:reply:0'/>\
             <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='999'/></fallback></message>",
        );
        assert_eq!(strip_fallback(&m, body), body);
        // No reply reference: a fallback alone hides nothing.
        let m = message(
            "<message xmlns='jabber:client' type='chat'><body>x</body>\
             <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:reply:0'><body start='0' end='7'/></fallback></message>",
        );
        assert_eq!(strip_fallback(&m, body), body);
    }

    #[test]
    fn our_reply_carries_reference_and_fallback_range() {
        let q = quote(Some("Anna"), "We should\nbake a cake");
        assert_eq!(q, "> Anna:\n> We should\n> bake a cake\n");
        let mut m = Message::chat(None);
        m.bodies.insert(
            xmpp_parsers::message::Lang(String::new()),
            format!("{q}Yes!"),
        );
        let reply = ReplyTo {
            id: "m1".into(),
            to: Some("anna@example.com".into()),
            fallback: None,
        };
        mark(&mut m, &reply, &q);
        let xml = to_xml(&Stanza::Message(m.clone()));
        assert!(
            xml.contains("<reply xmlns='urn:xmpp:reply:0' id='m1' to='anna@example.com'/>"),
            "{xml}"
        );
        assert!(xml.contains("end='34'"), "{xml}");
        assert_eq!(strip_fallback(&m, &format!("{q}Yes!")), "Yes!");
    }
}
