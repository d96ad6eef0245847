//! OMEMO in the session (issue #17), the sans-io part: finding the `<encrypted>` of an
//! incoming message (top level, in a carbon, in an archive result), putting the plaintext
//! (or why there is none) in its place as the body, reading device-list notifications,
//! and merging our device into the published device list. The actor's side is
//! `actor/omemo.rs`; the crypto is `crate::omemo`.

use crate::omemo::{Decrypted, OmemoError, xml as oxml};
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
        _ => Undecryptable::Other,
    })
}

/// One `<encrypted>` found and dealt with.
#[derive(Debug)]
pub struct Found {
    /// The sender's bare JID.
    pub sender: BareJid,
    /// The sending device, as the header names it.
    pub device: Option<u32>,
    pub result: Result<Decrypted, OmemoError>,
}

fn is_encrypted(e: &Element) -> bool {
    e.is("encrypted", oxml::NS)
}

fn sender_device(encrypted: &Element) -> Option<u32> {
    encrypted
        .get_child("header", oxml::NS)?
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
    if let Some(i) = message.payloads.iter().position(is_encrypted) {
        let sender = message.from.as_ref()?.to_bare();
        let encrypted = message.payloads.remove(i);
        let found = Found {
            device: sender_device(&encrypted),
            result: decrypt(&sender, &encrypted),
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
    let encrypted = inner.remove_child("encrypted", oxml::NS)?;
    let sender = inner
        .attr("from")
        .and_then(|f| f.parse::<Jid>().ok())
        .map(|j| j.to_bare())?;
    let found = Found {
        device: sender_device(&encrypted),
        result: decrypt(&sender, &encrypted),
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
fn body_of(result: &Result<Decrypted, OmemoError>) -> Option<String> {
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

/// The device list in a PEP items result (empty when there is none).
pub fn device_list_result(pubsub: Option<&Element>) -> Vec<u32> {
    pubsub
        .and_then(oxml::first_item)
        .and_then(|l| oxml::parse_device_list(l).ok())
        .unwrap_or_default()
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

#[cfg(test)]
#[path = "omemo/tests.rs"]
mod tests;
