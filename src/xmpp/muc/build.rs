//! Stanzas we send to rooms and to people we invite.

use super::{AttrExt, NS_CONFERENCE, NS_MUC, NS_MUC_USER};
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::{Lang, Message, MessageType};
use xmpp_parsers::minidom::Element;
use xmpp_parsers::presence::Presence;
use xmpp_parsers::stanza::Stanza;

/// `<presence to='room/nick'><x xmlns='…muc'><history maxstanzas='0'/></x></presence>`:
/// no history from the room; its archive fills the gap, deduplicated.
pub fn join_presence(room: &BareJid, nick: &str, password: Option<&str>) -> Stanza {
    let to = room
        .with_resource_str(nick)
        .map(Jid::from)
        .unwrap_or_else(|_| Jid::from(room.clone()));
    let mut x = Element::builder("x", NS_MUC).append(
        Element::builder("history", NS_MUC)
            .a("maxstanzas", "0")
            .build(),
    );
    if let Some(pw) = password.filter(|p| !p.is_empty()) {
        x = x.append(Element::builder("password", NS_MUC).append(pw).build());
    }
    let mut p = Presence::available().with_to(to);
    p.payloads.push(x.build());
    Stanza::Presence(p)
}

/// A nick change is a presence to the new occupant address.
pub fn change_nick(room: &BareJid, new_nick: &str) -> Option<Stanza> {
    let to = Jid::from(room.with_resource_str(new_nick).ok()?);
    Some(Stanza::Presence(Presence::available().with_to(to)))
}

/// A new subject for the room.
pub fn subject(room: BareJid, subject: &str) -> Stanza {
    let mut m = Message::groupchat(Some(Jid::from(room)));
    m.subjects.insert(Lang(String::new()), subject.to_owned());
    Stanza::Message(m)
}

/// XEP-0249 direct invitation.
pub fn direct_invite(
    to: BareJid,
    room: &BareJid,
    reason: Option<&str>,
    password: Option<&str>,
) -> Stanza {
    let mut x = Element::builder("x", NS_CONFERENCE).a("jid", room.as_str());
    if let Some(r) = reason.filter(|r| !r.is_empty()) {
        x = x.a("reason", r);
    }
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        x = x.a("password", p);
    }
    let mut m = Message::new(Some(Jid::from(to)));
    m.type_ = MessageType::Normal;
    m.payloads.push(x.build());
    Stanza::Message(m)
}

/// A mediated invitation, sent through the room.
pub fn mediated_invite(room: BareJid, to: &BareJid, reason: Option<&str>) -> Stanza {
    let mut invite = Element::builder("invite", NS_MUC_USER).a("to", to.as_str());
    if let Some(r) = reason.filter(|r| !r.is_empty()) {
        invite = invite.append(Element::builder("reason", NS_MUC_USER).append(r).build());
    }
    let mut m = Message::new(Some(Jid::from(room)));
    m.type_ = MessageType::Normal;
    m.payloads.push(
        Element::builder("x", NS_MUC_USER)
            .append(invite.build())
            .build(),
    );
    Stanza::Message(m)
}

/// Declines a mediated invitation, through the room.
pub fn decline(room: BareJid, inviter: &BareJid) -> Stanza {
    let mut m = Message::new(Some(Jid::from(room)));
    m.type_ = MessageType::Normal;
    m.payloads.push(
        Element::builder("x", NS_MUC_USER)
            .append(
                Element::builder("decline", NS_MUC_USER)
                    .a("to", inviter.as_str())
                    .build(),
            )
            .build(),
    );
    Stanza::Message(m)
}
