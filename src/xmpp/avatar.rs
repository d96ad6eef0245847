//! Avatars: User Avatar through PEP (XEP-0084: `urn:xmpp:avatar:metadata` announces a
//! picture by the SHA-1 of its bytes, `urn:xmpp:avatar:data` holds them) and the older
//! vCard-based avatars (XEP-0153: a photo hash in presence under `vcard-temp:x:update`,
//! the picture in the `PHOTO` of the vcard-temp vCard, XEP-0054).
//!
//! Sans-io, on literal XML. Everything from the network is capped before it costs memory:
//! at most [`MAX_INFOS`] `<info/>` of a metadata item are read, base64 longer than
//! [`MAX_AVATAR_BYTES`] decoded is refused before it is decoded, and data whose SHA-1 is
//! not the announced id is refused. Decoding the picture is `crate::avatar`'s business.

use crate::xmpp::muc::AttrExt;
use base64::Engine;
use sha1::{Digest, Sha1};
use xmpp_parsers::jid::BareJid;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::presence::Presence;

pub const NS_METADATA: &str = "urn:xmpp:avatar:metadata";
pub const NS_DATA: &str = "urn:xmpp:avatar:data";
/// Interest in avatar metadata notifications (XEP-0163 `+notify`, in our disco#info).
pub const METADATA_NOTIFY: &str = "urn:xmpp:avatar:metadata+notify";
pub const NS_VCARD: &str = "vcard-temp";
pub const NS_VCARD_UPDATE: &str = "vcard-temp:x:update";
const NS_PUBSUB: &str = "http://jabber.org/protocol/pubsub";
const NS_EVENT: &str = "http://jabber.org/protocol/pubsub#event";

/// `<info/>` elements read from one metadata item; the rest are ignored.
pub const MAX_INFOS: usize = 8;
/// Largest avatar accepted, in bytes (decoded). XEP-0084 asks for far smaller ones; the
/// cap keeps a hostile contact from handing us the whole stanza limit as a picture.
pub const MAX_AVATAR_BYTES: usize = 512 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AvatarError {
    #[error("avatar larger than {MAX_AVATAR_BYTES} bytes")]
    TooLarge,
    #[error("avatar data is not base64")]
    NotBase64,
    #[error("no avatar data in the answer")]
    Missing,
    #[error("avatar data does not match its hash")]
    HashMismatch,
    #[error("not a picture we read: {0}")]
    NotAnImage(String),
}

/// The SHA-1 of an avatar's bytes, 40 lower-case hex digits: its id in XEP-0084 and its
/// hash in XEP-0153, and its file name in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AvatarHash(String);

impl AvatarHash {
    /// A hash as written on the wire (either case); `None` unless 40 hex digits.
    pub fn parse(text: &str) -> Option<AvatarHash> {
        let t = text.trim();
        (t.len() == 40 && t.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| AvatarHash(t.to_ascii_lowercase()))
    }

    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> AvatarHash {
        let digest = Sha1::digest(bytes);
        AvatarHash(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AvatarHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One `<info/>` of a metadata item: one version of the picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub id: AvatarHash,
    pub bytes: u64,
    pub mime: String,
    pub width: Option<u16>,
    pub height: Option<u16>,
    /// Data elsewhere (HTTP); we never fetch those.
    pub url: Option<String>,
}

/// What a metadata item says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metadata {
    /// The versions offered (at most [`MAX_INFOS`]).
    Set(Vec<Info>),
    /// An empty `<metadata/>`: the avatar was taken away.
    Disabled,
}

impl Metadata {
    /// The version we fetch: one held in the data node (no `url`), not over our cap,
    /// PNG first (XEP-0084 requires a PNG version).
    pub fn pick(&self) -> Option<&Info> {
        let Metadata::Set(infos) = self else {
            return None;
        };
        let usable = || {
            infos
                .iter()
                .filter(|i| i.url.is_none() && i.bytes <= MAX_AVATAR_BYTES as u64)
        };
        usable()
            .find(|i| i.mime == "image/png")
            .or_else(|| usable().next())
    }
}

/// Reads a `<metadata xmlns='urn:xmpp:avatar:metadata'/>` element.
pub fn parse_metadata(el: &Element) -> Option<Metadata> {
    if !el.is("metadata", NS_METADATA) {
        return None;
    }
    let infos: Vec<Info> = el
        .children()
        .filter(|c| c.is("info", NS_METADATA))
        .take(MAX_INFOS)
        .filter_map(|c| {
            Some(Info {
                id: AvatarHash::parse(c.attr("id")?)?,
                bytes: c.attr("bytes")?.parse().ok()?,
                mime: c.attr("type")?.chars().take(64).collect(),
                width: c.attr("width").and_then(|w| w.parse().ok()),
                height: c.attr("height").and_then(|h| h.parse().ok()),
                url: c.attr("url").map(|u| u.chars().take(1024).collect()),
            })
        })
        .collect();
    if infos.is_empty() {
        // An empty element disables the avatar; one whose every info is garbled says
        // nothing we can use, which is the same to us.
        return Some(Metadata::Disabled);
    }
    Some(Metadata::Set(infos))
}

/// A PEP notification of someone's avatar metadata: who (the bare `from`), and what.
/// A retraction of the item counts as disabling the avatar.
pub fn metadata_event(message: &Message) -> Option<(BareJid, Metadata)> {
    let event = message.payloads.iter().find(|p| p.is("event", NS_EVENT))?;
    let items = event.get_child("items", NS_EVENT)?;
    if items.attr("node") != Some(NS_METADATA) {
        return None;
    }
    let from = message.from.as_ref()?.to_bare();
    if let Some(item) = items.children().find(|c| c.is("item", NS_EVENT)) {
        let meta = item
            .children()
            .find_map(parse_metadata)
            .unwrap_or(Metadata::Disabled);
        return Some((from, meta));
    }
    if items.children().any(|c| c.is("retract", NS_EVENT)) {
        return Some((from, Metadata::Disabled));
    }
    None
}

/// What a presence says about its sender's vCard photo (XEP-0153).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoUpdate {
    /// `<x/>` without `<photo/>`: the client does not know yet; change nothing.
    Unknown,
    /// An empty `<photo/>`: no avatar.
    NoPhoto,
    Hash(AvatarHash),
}

/// The photo hash of a presence, if it carries `vcard-temp:x:update`.
pub fn presence_photo(presence: &Presence) -> Option<PhotoUpdate> {
    let x = presence
        .payloads
        .iter()
        .find(|p| p.is("x", NS_VCARD_UPDATE))?;
    let Some(photo) = x.get_child("photo", NS_VCARD_UPDATE) else {
        return Some(PhotoUpdate::Unknown);
    };
    let text = photo.text();
    if text.trim().is_empty() {
        return Some(PhotoUpdate::NoPhoto);
    }
    // A garbled hash tells us nothing.
    Some(AvatarHash::parse(&text).map_or(PhotoUpdate::Unknown, PhotoUpdate::Hash))
}

/// The real address a room gives for an occupant in its presence (the muc#user item's
/// `jid`, in non-anonymous rooms or to moderators), as a bare JID; `None` when absent
/// or not an address. Used to show a contact's own avatar for them in rooms.
pub fn occupant_real_jid(presence: &Presence) -> Option<BareJid> {
    const NS_MUC_USER: &str = "http://jabber.org/protocol/muc#user";
    let x = presence.payloads.iter().find(|p| p.is("x", NS_MUC_USER))?;
    let jid = x.get_child("item", NS_MUC_USER)?.attr("jid")?;
    xmpp_parsers::jid::Jid::new(jid).ok().map(|j| j.to_bare())
}

/// Base64 text to bytes, refused before decoding when it would exceed `cap` bytes.
/// Whitespace (line breaks in vCards) is allowed anywhere.
pub fn decode_capped(text: &str, cap: usize) -> Result<Vec<u8>, AvatarError> {
    let significant = text.bytes().filter(|b| !b.is_ascii_whitespace()).count();
    // Four characters carry three bytes.
    if significant / 4 * 3 > cap + 3 {
        return Err(AvatarError::TooLarge);
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| AvatarError::NotBase64)?;
    if bytes.len() > cap {
        return Err(AvatarError::TooLarge);
    }
    Ok(bytes)
}

fn pubsub(child: Element) -> Element {
    Element::builder("pubsub", NS_PUBSUB).append(child).build()
}

/// Asks a contact's PEP service for the data item `id` (send to their bare JID).
pub fn data_request(id: &AvatarHash) -> Element {
    pubsub(
        Element::builder("items", NS_PUBSUB)
            .a("node", NS_DATA)
            .append(
                Element::builder("item", NS_PUBSUB)
                    .a("id", id.as_str())
                    .build(),
            )
            .build(),
    )
}

/// The avatar bytes in the answer to [`data_request`], checked against `id`.
pub fn data_result(payload: Option<&Element>, id: &AvatarHash) -> Result<Vec<u8>, AvatarError> {
    let items = payload
        .filter(|p| p.is("pubsub", NS_PUBSUB))
        .and_then(|p| p.get_child("items", NS_PUBSUB))
        .ok_or(AvatarError::Missing)?;
    let data = items
        .children()
        .filter(|i| i.is("item", NS_PUBSUB))
        .find(|i| {
            i.attr("id")
                .is_none_or(|a| AvatarHash::parse(a).as_ref() == Some(id))
        })
        .and_then(|i| i.get_child("data", NS_DATA))
        .ok_or(AvatarError::Missing)?;
    let bytes = decode_capped(&data.text(), MAX_AVATAR_BYTES)?;
    if AvatarHash::of(&bytes) != *id {
        return Err(AvatarError::HashMismatch);
    }
    Ok(bytes)
}

/// `<vCard xmlns='vcard-temp'/>`: a vCard request (to a bare JID, or none for ours).
pub fn vcard_request() -> Element {
    Element::builder("vCard", NS_VCARD).build()
}

/// The picture of a vCard answer: `None` when it has none. `expected` (the hash the
/// presence announced) must match when given.
pub fn vcard_photo(
    payload: Option<&Element>,
    expected: Option<&AvatarHash>,
) -> Result<Option<(AvatarHash, Vec<u8>)>, AvatarError> {
    let Some(vcard) = payload.filter(|p| p.is("vCard", NS_VCARD)) else {
        return Ok(None);
    };
    let Some(binval) = vcard
        .get_child("PHOTO", NS_VCARD)
        .and_then(|p| p.get_child("BINVAL", NS_VCARD))
    else {
        return Ok(None);
    };
    let bytes = decode_capped(&binval.text(), MAX_AVATAR_BYTES)?;
    if bytes.is_empty() {
        return Ok(None);
    }
    let hash = AvatarHash::of(&bytes);
    if expected.is_some_and(|e| *e != hash) {
        return Err(AvatarError::HashMismatch);
    }
    Ok(Some((hash, bytes)))
}

fn publish(node: &str, id: &AvatarHash, item: Element) -> Element {
    pubsub(
        Element::builder("publish", NS_PUBSUB)
            .a("node", node)
            .append(
                Element::builder("item", NS_PUBSUB)
                    .a("id", id.as_str())
                    .append(item)
                    .build(),
            )
            .build(),
    )
}

/// Publishes our avatar's bytes (XEP-0084, first step; send without `to`).
pub fn publish_data(bytes: &[u8]) -> (AvatarHash, Element) {
    let id = AvatarHash::of(bytes);
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let data = Element::builder("data", NS_DATA).append(b64).build();
    let el = publish(NS_DATA, &id, data);
    (id, el)
}

/// Announces the published data (XEP-0084, second step, once the data is accepted).
pub fn publish_metadata(info: &Info) -> Element {
    let mut i = Element::builder("info", NS_METADATA)
        .a("id", info.id.as_str())
        .a("bytes", &info.bytes.to_string())
        .a("type", info.mime.as_str());
    if let Some(w) = info.width {
        i = i.a("width", &w.to_string());
    }
    if let Some(h) = info.height {
        i = i.a("height", &h.to_string());
    }
    let meta = Element::builder("metadata", NS_METADATA)
        .append(i.build())
        .build();
    publish(NS_METADATA, &info.id, meta)
}

/// Takes our avatar away (XEP-0084 §4.2): an empty metadata item (send without `to`).
pub fn publish_no_metadata() -> Element {
    pubsub(
        Element::builder("publish", NS_PUBSUB)
            .a("node", NS_METADATA)
            .append(
                Element::builder("item", NS_PUBSUB)
                    .a("id", "current")
                    .append(Element::builder("metadata", NS_METADATA).build())
                    .build(),
            )
            .build(),
    )
}

/// Our vCard without its `PHOTO` (everything else kept), for a vcard-temp set that
/// takes the avatar away. `current` is the answer to [`vcard_request`].
pub fn vcard_without_photo(current: Option<&Element>) -> Element {
    let mut vcard = Element::builder("vCard", NS_VCARD).build();
    if let Some(old) = current.filter(|c| c.is("vCard", NS_VCARD)) {
        for child in old.children().filter(|c| !c.is("PHOTO", NS_VCARD)) {
            vcard.append_child(child.clone());
        }
    }
    vcard
}

/// Our vCard with `PHOTO` replaced by `bytes` (everything else we had kept), for a
/// vcard-temp set (XEP-0153 publishing). `current` is the answer to [`vcard_request`].
pub fn vcard_with_photo(current: Option<&Element>, bytes: &[u8], mime: &str) -> Element {
    let mut vcard = Element::builder("vCard", NS_VCARD).build();
    if let Some(old) = current.filter(|c| c.is("vCard", NS_VCARD)) {
        for child in old.children().filter(|c| !c.is("PHOTO", NS_VCARD)) {
            vcard.append_child(child.clone());
        }
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    vcard.append_child(
        Element::builder("PHOTO", NS_VCARD)
            .append(Element::builder("TYPE", NS_VCARD).append(mime).build())
            .append(Element::builder("BINVAL", NS_VCARD).append(b64).build())
            .build(),
    );
    vcard
}

#[cfg(test)]
mod tests;
