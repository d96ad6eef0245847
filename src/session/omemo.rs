//! OMEMO in the session (issue #17), the sans-io part: finding the `<encrypted>` of an
//! incoming message (top level, in a carbon, in an archive result), putting the plaintext
//! (or why there is none) in its place as the body, reading device-list notifications,
//! and merging our device into the published device list. The actor's side is
//! `actor/omemo.rs`; the crypto is `crate::omemo`.

pub mod rooms;
pub mod trust;

use crate::omemo::{Decrypted, OmemoError, xml as oxml};
use crate::xmpp::muc::AttrExt;
use crate::xmpp::omemo2 as x2;
use xmpp_parsers::jid::{BareJid, Jid};
use xmpp_parsers::message::{Lang, Message};
use xmpp_parsers::minidom::Element;

const NS_CARBONS: &str = "urn:xmpp:carbons:2";
const NS_FORWARD: &str = "urn:xmpp:forward:0";
const NS_MAM: &str = "urn:xmpp:mam:2";
const NS_EVENT: &str = "http://jabber.org/protocol/pubsub#event";
/// Interest in device-list notifications (XEP-0163), in our disco features.
pub const DEVICE_LIST_NOTIFY: &str = "eu.siacs.conversations.axolotl.devicelist+notify";

/// The stored body of a message that could not be decrypted starts with this, followed
/// by the reason's code ([`Undecryptable::code`]). The UI draws it with the reason in the
/// user's language; the fallback text other clients put in the body is never kept.
pub const UNDECRYPTABLE_MARKER: &str = "\u{1F512}omemo-undecryptable:";

/// Why an incoming OMEMO message could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undecryptable {
    /// We have no session with the sending device (and it was not a pre-key message).
    NoSession,
    /// The message carries no key for this device.
    NotForThisDevice,
    /// The key element does not authenticate against our session with the sender.
    BadMac,
    /// The payload was altered.
    Altered,
    /// The sending device's identity key changed.
    UntrustedIdentity,
    /// A room message whose sender's real address we do not know.
    UnknownSender,
    /// An OMEMO 2 message whose envelope names another sender than the one it came
    /// from (replayed from another conversation, or forged).
    WrongSender,
    /// Anything else (malformed, library failure).
    Other,
}

impl Undecryptable {
    pub fn code(self) -> &'static str {
        match self {
            Undecryptable::NoSession => "no-session",
            Undecryptable::NotForThisDevice => "not-for-this-device",
            Undecryptable::BadMac => "bad-mac",
            Undecryptable::Altered => "altered",
            Undecryptable::UntrustedIdentity => "untrusted-identity",
            Undecryptable::UnknownSender => "unknown-sender",
            Undecryptable::WrongSender => "wrong-sender",
            Undecryptable::Other => "other",
        }
    }

    pub fn from_error(e: &OmemoError) -> Undecryptable {
        match e {
            OmemoError::NoSession { .. } | OmemoError::UnknownPreKey => Undecryptable::NoSession,
            OmemoError::NotForUs => Undecryptable::NotForThisDevice,
            OmemoError::BadMac => Undecryptable::BadMac,
            OmemoError::BadTag => Undecryptable::Altered,
            OmemoError::UntrustedIdentity => Undecryptable::UntrustedIdentity,
            OmemoError::UnknownSender => Undecryptable::UnknownSender,
            OmemoError::WrongSender => Undecryptable::WrongSender,
            _ => Undecryptable::Other,
        }
    }

    /// The body stored in place of the text.
    pub fn body(self) -> String {
        format!("{UNDECRYPTABLE_MARKER}{}", self.code())
    }

    /// Whether this error calls for a key transport message to mend the session, as
    /// other clients do.
    pub fn wants_repair(self) -> bool {
        matches!(self, Undecryptable::NoSession | Undecryptable::BadMac)
    }
}

/// The reason stored in `body`, when it is the body of an undecryptable message.
pub fn undecryptable(body: &str) -> Option<Undecryptable> {
    let code = body.strip_prefix(UNDECRYPTABLE_MARKER)?;
    Some(match code {
        "no-session" => Undecryptable::NoSession,
        "not-for-this-device" => Undecryptable::NotForThisDevice,
        "bad-mac" => Undecryptable::BadMac,
        "altered" => Undecryptable::Altered,
        "untrusted-identity" => Undecryptable::UntrustedIdentity,
        "unknown-sender" => Undecryptable::UnknownSender,
        "wrong-sender" => Undecryptable::WrongSender,
        _ => Undecryptable::Other,
    })
}

/// Whether `body` is one of OMEMO's stored markers (an undecryptable message, a new
/// device or changed key notice) rather than text someone wrote: never quoted as text.
pub fn is_marker(body: &str) -> bool {
    undecryptable(body).is_some()
        || trust::new_device(body).is_some()
        || trust::key_changed(body).is_some()
}

/// One `<encrypted>` found and dealt with.
#[derive(Debug)]
pub struct Found {
    /// The sender's bare JID.
    pub sender: BareJid,
    /// The sending device, as the header names it.
    pub device: Option<u32>,
    pub result: Result<Decrypted, OmemoError>,
    /// It was OMEMO 2 (`urn:xmpp:omemo:2`), not 0.3.
    pub v2: bool,
}

pub(crate) fn is_encrypted(e: &Element) -> bool {
    e.is("encrypted", oxml::NS)
}

/// An OMEMO 2 `<encrypted>` (chats only: rooms stay on 0.3).
pub(crate) fn is_encrypted_v2(e: &Element) -> bool {
    e.is("encrypted", x2::NS)
}

/// The `<encrypted>` a chat message is read from: OMEMO 2's when it carries both.
fn chat_encrypted(payloads: &[Element]) -> Option<usize> {
    payloads
        .iter()
        .position(is_encrypted_v2)
        .or_else(|| payloads.iter().position(is_encrypted))
}

pub(crate) fn sender_device(encrypted: &Element) -> Option<u32> {
    encrypted
        .get_child("header", encrypted.ns().as_str())?
        .attr("sid")?
        .parse()
        .ok()
}

/// Decrypts the OMEMO payload of `message` with `decrypt` (the sender's bare JID and the
/// `<encrypted>` element) and puts the text (or the [`Undecryptable`] marker) in place of
/// its body; the `<encrypted>` element is removed. Carbons and archive results count only
/// when they come from our own account (`own`), as the message layer checks too: a
/// forged one must not move a ratchet. `None` when there was nothing to decrypt.
pub fn rewrite(
    message: &mut Message,
    own: &BareJid,
    mut decrypt: impl FnMut(&BareJid, &Element) -> Result<Decrypted, OmemoError>,
) -> Option<Found> {
    // A room's message names the room, not its sender: `rooms::rewrite` reads those (a
    // session must never be bound to a room's address).
    if message.type_ == xmpp_parsers::message::MessageType::Groupchat {
        return None;
    }
    if let Some(i) = chat_encrypted(&message.payloads) {
        let sender = message.from.as_ref()?.to_bare();
        let encrypted = message.payloads.remove(i);
        message
            .payloads
            .retain(|p| !is_encrypted(p) && !is_encrypted_v2(p));
        let found = Found {
            device: sender_device(&encrypted),
            result: decrypt(&sender, &encrypted),
            v2: is_encrypted_v2(&encrypted),
            sender,
        };
        message.bodies.clear();
        if let Some(text) = body_of(&found.result) {
            message.bodies.insert(Lang::default(), text);
        }
        return Some(found);
    }
    let from_own = message.from.as_ref().is_none_or(|f| f.to_bare() == *own);
    if !from_own {
        return None;
    }
    let wrapper = message.payloads.iter_mut().find(|p| {
        p.is("received", NS_CARBONS) || p.is("sent", NS_CARBONS) || p.is("result", NS_MAM)
    })?;
    let inner = wrapper
        .get_child_mut("forwarded", NS_FORWARD)?
        .children_mut()
        .find(|c| c.name() == "message")?;
    let v2 = inner.remove_child("encrypted", x2::NS);
    let old = inner.remove_child("encrypted", oxml::NS);
    let encrypted = v2.or(old)?;
    let sender = inner
        .attr("from")
        .and_then(|f| f.parse::<Jid>().ok())
        .map(|j| j.to_bare())?;
    let found = Found {
        device: sender_device(&encrypted),
        result: decrypt(&sender, &encrypted),
        v2: is_encrypted_v2(&encrypted),
        sender,
    };
    let ns = inner.ns();
    while inner.remove_child("body", ns.as_str()).is_some() {}
    if let Some(text) = body_of(&found.result) {
        inner.append_child(Element::builder("body", ns).append(text).build());
    }
    Some(found)
}

/// What goes in the body: the text, nothing for a key transport message, or the marker.
pub(crate) fn body_of(result: &Result<Decrypted, OmemoError>) -> Option<String> {
    match result {
        Ok(d) => d.body.clone(),
        Err(e) => Some(Undecryptable::from_error(e).body()),
    }
}

/// A device-list notification (PEP `<event>`): whose list, and its devices.
pub fn device_list_event(message: &Message) -> Option<(BareJid, Vec<u32>)> {
    let event = message.payloads.iter().find(|p| p.is("event", NS_EVENT))?;
    let items = event.get_child("items", NS_EVENT)?;
    if items.attr("node") != Some(oxml::DEVICE_LIST_NODE) {
        return None;
    }
    let from = message.from.as_ref()?.to_bare();
    let list = oxml::first_item(event)
        .and_then(|l| oxml::parse_device_list(l).ok())
        .unwrap_or_default();
    Some((from, list))
}

/// An OMEMO 2 device-list notification: whose list, and its devices.
pub fn device_list_event_v2(message: &Message) -> Option<(BareJid, Vec<u32>)> {
    let event = message.payloads.iter().find(|p| p.is("event", NS_EVENT))?;
    let items = event.get_child("items", NS_EVENT)?;
    if items.attr("node") != Some(x2::DEVICES_NODE) {
        return None;
    }
    let from = message.from.as_ref()?.to_bare();
    let list = oxml::first_item(event)
        .and_then(|l| x2::parse_device_list(l).ok())
        .unwrap_or_default();
    Some((from, list))
}

/// The OMEMO 2 device list in a PEP items result (empty when there is none).
pub fn device_list_result_v2(pubsub: Option<&Element>) -> Vec<u32> {
    pubsub
        .and_then(oxml::first_item)
        .and_then(|l| x2::parse_device_list(l).ok())
        .unwrap_or_default()
}

/// The device list in a PEP items result (empty when there is none).
pub fn device_list_result(pubsub: Option<&Element>) -> Vec<u32> {
    pubsub
        .and_then(oxml::first_item)
        .and_then(|l| oxml::parse_device_list(l).ok())
        .unwrap_or_default()
}

/// Whether an error answering a device-list request means we cannot use OMEMO with the
/// contact (no such node, no PEP service, or a list we may not read: Prosody answers
/// `forbidden` for a stranger without one), rather than "unknown" (no answer, a server
/// failure), after which nothing may go out in plain text.
pub fn means_no_devices(condition: &xmpp_parsers::stanza_error::DefinedCondition) -> bool {
    use xmpp_parsers::stanza_error::DefinedCondition as C;
    matches!(
        condition,
        C::ItemNotFound
            | C::ServiceUnavailable
            | C::FeatureNotImplemented
            | C::Forbidden
            | C::NotAuthorized
            | C::NotAllowed
    )
}

/// The list to publish so that `ours` is in `published`, or `None` when it already is.
/// Other devices are never dropped.
pub fn merged_device_list(published: &[u32], ours: u32) -> Option<Vec<u32>> {
    if published.contains(&ours) {
        return None;
    }
    let mut list = published.to_vec();
    list.push(ours);
    Some(list)
}

/// Whether a conversation is encrypted, as the person chose (stored per conversation
/// under [`choice_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Choice {
    /// Encrypted when the contact publishes OMEMO devices (the default, as Conversations
    /// does).
    #[default]
    Auto,
    /// Turned off by the person: plain text.
    Off,
    /// Turned on by the person: never plain text, even when the contact has no devices.
    On,
}

impl Choice {
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::Auto => "auto",
            Choice::Off => "off",
            Choice::On => "on",
        }
    }

    pub fn parse(s: Option<&str>) -> Choice {
        match s {
            Some("off") => Choice::Off,
            Some("on") => Choice::On,
            _ => Choice::Auto,
        }
    }
}

/// The store preference holding the [`Choice`] for `peer` in `account`.
pub fn choice_key(account: &crate::ids::AccountId, peer: &BareJid) -> String {
    format!("omemo.choice.{}.{}", account.0, peer)
}

/// Reads the [`Choice`] for `peer` (Auto when unset or unreadable).
pub fn choice(
    store: &crate::store::Store,
    account: &crate::ids::AccountId,
    peer: &BareJid,
) -> Choice {
    Choice::parse(
        store
            .pref(&choice_key(account, peer))
            .ok()
            .flatten()
            .as_deref(),
    )
}

/// Stores the [`Choice`] for `peer`; the next message sent follows it.
pub fn set_choice(
    store: &crate::store::Store,
    account: &crate::ids::AccountId,
    peer: &BareJid,
    choice: Choice,
) -> Result<(), crate::store::StoreError> {
    let key = choice_key(account, peer);
    match choice {
        Choice::Auto => store.remove_pref(&key),
        other => store.set_pref(&key, other.as_str()),
    }
}

/// What to do with an outgoing chat message to a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Send it as it is (OMEMO off, or the contact has none and the choice allows it).
    Plain,
    /// Encrypt it to these devices (the contact's and our own other ones).
    Encrypt(Vec<(BareJid, u32)>),
    /// Wait for the contact's device list.
    Wait,
    /// Never send it: why.
    Fail(String),
}

/// Decides how a message to `to` goes: `contact` is its device list when known (`None`
/// while not fetched yet), `own` our account's list, `ours` this device.
pub fn plan(
    choice: Choice,
    to: &BareJid,
    contact: Option<&[u32]>,
    own_jid: &BareJid,
    own: &[u32],
    ours: u32,
) -> Plan {
    if choice == Choice::Off {
        return Plan::Plain;
    }
    let Some(contact) = contact else {
        return Plan::Wait;
    };
    if contact.is_empty() {
        return match choice {
            Choice::On => Plan::Fail(format!(
                "{to} has no OMEMO device, and encryption is on for this chat"
            )),
            _ => Plan::Plain,
        };
    }
    let mut devices: Vec<(BareJid, u32)> = contact.iter().map(|d| (to.clone(), *d)).collect();
    if to != own_jid {
        devices.extend(
            own.iter()
                .filter(|d| **d != ours)
                .map(|d| (own_jid.clone(), *d)),
        );
    }
    Plan::Encrypt(devices)
}

/// The text other clients show in place of an OMEMO message they cannot read (and the
/// one we never show, see [`rewrite`]).
pub const FALLBACK_BODY: &str =
    "I sent you an OMEMO encrypted message but your client doesn't seem to support that.";

/// `message` with its text replaced by `encrypted`: the body becomes the fallback text,
/// the out-of-band URL (it would leak a shared file's address) is removed, and the
/// message says it is encrypted (XEP-0380) and asks to be archived (XEP-0334).
pub fn seal_message(message: &mut Message, encrypted: Element) {
    seal_message_all(message, vec![encrypted]);
}

/// As [`seal_message`] with one `<encrypted>` per OMEMO version the recipients need
/// (OMEMO 2's and 0.3's); the encryption hint names 0.3 when it is there (what most
/// clients read), else OMEMO 2.
pub fn seal_message_all(message: &mut Message, encrypted: Vec<Element>) {
    let namespace = if encrypted.iter().any(is_encrypted) {
        oxml::NS
    } else {
        x2::NS
    };
    message.bodies.clear();
    message
        .bodies
        .insert(Lang::default(), FALLBACK_BODY.to_owned());
    message
        .payloads
        .retain(|p| !p.is("x", "jabber:x:oob") && !p.is("fallback", "urn:xmpp:fallback:0"));
    message.payloads.extend(encrypted);
    message.payloads.push(
        Element::builder("encryption", "urn:xmpp:eme:0")
            .a("namespace", namespace)
            .a("name", "OMEMO")
            .build(),
    );
    message
        .payloads
        .push(Element::builder("store", "urn:xmpp:hints").build());
}

#[cfg(test)]
#[path = "omemo/tests.rs"]
mod tests;
