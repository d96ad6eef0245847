//! OMEMO in group chats (issue #17), the sans-io part: whether a room can carry OMEMO
//! (members-only and non-anonymous, as Conversations and Dino require: every member must
//! be able to know every other member's address to encrypt to their devices), who its
//! members are, how an outgoing room message goes, and the groupchat `<encrypted>` of an
//! incoming message (live, or in the room's archive) decrypted with the sender's real
//! address. The actor's side is `actor/omemo/rooms.rs`.

use super::{Choice, Found, Plan, body_of, is_encrypted, sender_device};
use crate::omemo::{Decrypted, OmemoError, xml as oxml};
use crate::xmpp::muc::NS_MUC_USER;
use std::collections::{BTreeSet, HashMap};
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::{Lang, Message, MessageType};
use xmpp_parsers::minidom::Element;

const NS_FORWARD: &str = "urn:xmpp:forward:0";
const NS_MAM: &str = "urn:xmpp:mam:2";
const NS_SID: &str = "urn:xmpp:sid:0";

/// Whether a room whose disco#info lists `features` can carry OMEMO.
pub fn is_private(features: &[String]) -> bool {
    let has = |f: &str| features.iter().any(|x| x == f);
    has("muc_membersonly") && has("muc_nonanonymous")
}

/// Whether a groupchat message from a room says its configuration changed (status 104,
/// or 172/173/174: now non-anonymous, semi-anonymous, fully anonymous): ask it again
/// what it is.
pub fn config_changed(message: &Message) -> bool {
    message.type_ == MessageType::Groupchat
        && message
            .from
            .as_ref()
            .is_some_and(|f| f.resource().is_none())
        && message
            .payloads
            .iter()
            .filter(|p| p.is("x", NS_MUC_USER))
            .flat_map(|x| x.children())
            .filter(|c| c.is("status", NS_MUC_USER))
            .any(|s| matches!(s.attr("code"), Some("104" | "172" | "173" | "174")))
}

/// What OMEMO knows about one room.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomKeys {
    /// Members-only and non-anonymous (`None` until the room answered).
    pub private: Option<bool>,
    /// The members' real addresses: the affiliation lists we could read, and everyone
    /// with an affiliation whose address their presence showed.
    pub members: BTreeSet<BareJid>,
    /// Affiliation-list requests still out.
    pub lists_pending: usize,
    /// The lists were asked for since we last joined (only in a room that may be
    /// private: an open room's lists are of no use, and mostly refused).
    pub lists_asked: bool,
    /// We are in the room.
    pub joined: bool,
}

impl RoomKeys {
    /// We know enough to decide: the room answered and the member lists are in.
    pub fn settled(&self) -> bool {
        self.private.is_some() && self.lists_pending == 0
    }
}

/// Decides how a message to `room` goes: `room_keys` what we know of it, `devices` the
/// device lists we know (`None` for a member while not fetched), `own`/`ours` as for a
/// chat. Encryption needs a private room; it is on by default once a member other than
/// us publishes devices. Members without devices cannot read it (as in Conversations).
pub fn plan(
    choice: Choice,
    room: &BareJid,
    room_keys: Option<&RoomKeys>,
    devices: &HashMap<BareJid, Vec<u32>>,
    own: &BareJid,
    ours: u32,
) -> Plan {
    if choice == Choice::Off {
        return Plan::Plain;
    }
    let Some(keys) = room_keys.filter(|k| k.settled()) else {
        return Plan::Wait;
    };
    if keys.private != Some(true) {
        return match choice {
            Choice::On => Plan::Fail(format!(
                "{room} is not a members-only room where members see each other's addresses, and encryption is on for it"
            )),
            _ => Plan::Plain,
        };
    }
    let others: Vec<&BareJid> = keys.members.iter().filter(|m| *m != own).collect();
    if others.iter().any(|m| !devices.contains_key(*m)) {
        return Plan::Wait;
    }
    let mut to: Vec<(BareJid, u32)> = others
        .iter()
        .flat_map(|m| {
            devices
                .get(*m)
                .into_iter()
                .flatten()
                .map(|d| ((*m).clone(), *d))
        })
        .collect();
    if to.is_empty() {
        return match choice {
            Choice::On => Plan::Fail(format!(
                "no member of {room} has an OMEMO device, and encryption is on for it"
            )),
            _ => Plan::Plain,
        };
    }
    to.extend(
        devices
            .get(own)
            .into_iter()
            .flatten()
            .filter(|d| **d != ours)
            .map(|d| (own.clone(), *d)),
    );
    Plan::Encrypt(to)
}

/// A groupchat `<encrypted>` found and dealt with.
#[derive(Debug)]
pub struct RoomFound {
    pub room: BareJid,
    /// The sender's real address, when the room said it.
    pub sender: Option<BareJid>,
    pub device: Option<u32>,
    /// The origin-id (or the id) the sender gave the message: our own reflected message
    /// is recognised by it.
    pub origin_id: Option<String>,
    pub result: Result<Decrypted, OmemoError>,
}

impl RoomFound {
    pub fn found(&self) -> Option<Found> {
        Some(Found {
            sender: self.sender.clone()?,
            device: self.device,
            result: self.result.clone(),
            v2: false,
        })
    }
}

/// How the actor decrypts one groupchat `<encrypted>`: the room, the sender's real
/// address (when known), the sending device, the origin-id, and the element.
pub struct Sealed<'a> {
    pub room: &'a BareJid,
    pub sender: Option<&'a BareJid>,
    pub device: Option<u32>,
    pub origin_id: Option<&'a str>,
    pub encrypted: &'a Element,
}

/// The real address an `<x muc#user><item jid>` in a room message gives (non-anonymous
/// rooms put it in their archive).
fn item_jid(message: &Element) -> Option<BareJid> {
    message
        .children()
        .filter(|c| c.is("x", NS_MUC_USER))
        .flat_map(|x| x.children())
        .find(|c| c.is("item", NS_MUC_USER))?
        .attr("jid")?
        .parse::<Jid>()
        .ok()
        .map(|j| j.to_bare())
}

fn origin_id(message: &Element) -> Option<String> {
    message
        .get_child("origin-id", NS_SID)
        .and_then(|o| o.attr("id"))
        .or_else(|| message.attr("id"))
        .map(str::to_owned)
}

/// Decrypts the OMEMO payload of a groupchat message, live (`from` = room/nick), or a
/// result of the archive of one of our rooms (`is_room`; `from` = the room), and
/// puts the text (or the undecryptable marker) in place of its body. The sender's real
/// address is the archive's `<item jid>` or else `occupant(room, nick)` (live: the
/// occupant's presence). `None` when this is not a room's OMEMO message.
pub fn rewrite(
    message: &mut Message,
    is_room: impl Fn(&BareJid) -> bool,
    occupant: impl Fn(&BareJid, &str) -> Option<BareJid>,
    decrypt: impl FnOnce(Sealed<'_>) -> Result<Decrypted, OmemoError>,
) -> Option<RoomFound> {
    let from = message.from.clone()?;
    let room = from.to_bare();
    // Live: every groupchat message (one from a room we are not in has no known sender),
    // and a private message from an occupant of one of our rooms (decrypted as its real
    // address, never the room's); archive results only from our rooms.
    let live =
        message.type_ == MessageType::Groupchat || (from.resource().is_some() && is_room(&room));
    if live && let Some(i) = message.payloads.iter().position(is_encrypted) {
        let nick = from.resource()?.to_string();
        let encrypted = message.payloads.remove(i);
        let sender = occupant(&room, &nick);
        let element = Element::from(message.clone());
        let origin_id = origin_id(&element);
        let device = sender_device(&encrypted);
        let result = decrypt(Sealed {
            room: &room,
            sender: sender.as_ref(),
            device,
            origin_id: origin_id.as_deref(),
            encrypted: &encrypted,
        });
        message.bodies.clear();
        if let Some(text) = body_of(&result) {
            message.bodies.insert(Lang::default(), text);
        }
        return Some(RoomFound {
            room,
            sender,
            device,
            origin_id,
            result,
        });
    }
    if from.resource().is_some() || !is_room(&room) {
        return None;
    }
    let inner = message
        .payloads
        .iter_mut()
        .find(|p| p.is("result", NS_MAM))?
        .get_child_mut("forwarded", NS_FORWARD)?
        .children_mut()
        .find(|c| c.name() == "message" && c.attr("type") == Some("groupchat"))?;
    let inner_from = inner.attr("from").and_then(|f| f.parse::<Jid>().ok())?;
    if inner_from.to_bare() != room {
        return None;
    }
    let encrypted = inner.remove_child("encrypted", oxml::NS)?;
    let sender = item_jid(inner).or_else(|| {
        inner_from
            .resource()
            .and_then(|nick| occupant(&room, nick.as_str()))
    });
    let origin_id = origin_id(inner);
    let device = sender_device(&encrypted);
    let result = decrypt(Sealed {
        room: &room,
        sender: sender.as_ref(),
        device,
        origin_id: origin_id.as_deref(),
        encrypted: &encrypted,
    });
    let ns = inner.ns();
    while inner.remove_child("body", ns.as_str()).is_some() {}
    if let Some(text) = body_of(&result) {
        inner.append_child(Element::builder("body", ns).append(text).build());
    }
    Some(RoomFound {
        room,
        sender,
        device,
        origin_id,
        result,
    })
}

/// Puts `text` as the body of a room message rewritten by [`rewrite`] (live, or the
/// archived one inside).
pub fn put_text(message: &mut Message, text: &str) {
    let inner = message
        .payloads
        .iter_mut()
        .find(|p| p.is("result", NS_MAM))
        .and_then(|r| r.get_child_mut("forwarded", NS_FORWARD))
        .and_then(|f| f.children_mut().find(|c| c.name() == "message"));
    match inner {
        Some(inner) => {
            let ns = inner.ns();
            while inner.remove_child("body", ns.as_str()).is_some() {}
            inner.append_child(Element::builder("body", ns).append(text).build());
        }
        None => {
            message.bodies.clear();
            message.bodies.insert(Lang::default(), text.to_owned());
        }
    }
}

#[cfg(test)]
#[path = "rooms_tests.rs"]
mod tests;
