//! OMEMO 2 (`urn:xmpp:omemo:2`, XEP-0384 0.8) on the wire: the device list (PEP node
//! `urn:xmpp:omemo:2:devices`, item `current`), the bundles (node
//! `urn:xmpp:omemo:2:bundles`, one item per device, its id the device id), the
//! `<encrypted>` element, and the SCE envelope (XEP-0420) the payload carries. Builders
//! and bounded parsers: everything here reads what any peer on the network sent, so
//! counts and sizes are capped, and nothing panics. The crypto is `crate::omemo::v2`.

use super::muc::AttrExt;
use crate::omemo::xml::{
    KeyEntry, MAX_KEY_DATA, MAX_KEYS, MAX_PAYLOAD, MAX_PRE_KEYS, NS_PUBSUB, SIGNATURE_LEN,
    XmlError, b64, device_id, device_list_in, parse_device_list_in, unb64,
};
use xmpp_parsers::minidom::Element;

pub const NS: &str = "urn:xmpp:omemo:2";
pub const DEVICES_NODE: &str = "urn:xmpp:omemo:2:devices";
pub const BUNDLES_NODE: &str = "urn:xmpp:omemo:2:bundles";
/// Interest in OMEMO 2 device-list notifications (XEP-0163), in our disco features.
pub const DEVICES_NOTIFY: &str = "urn:xmpp:omemo:2:devices+notify";
pub const NS_SCE: &str = "urn:xmpp:sce:1";
const NS_CLIENT: &str = "jabber:client";
const NS_DATA: &str = "jabber:x:data";
/// A public key as OMEMO 2 writes it: 32 bytes, no type byte (Curve25519 for the
/// pre-keys, Ed25519 for the identity key).
pub const KEY_LEN: usize = 32;
/// Recipient JIDs in one `<header>` (each with its `<keys>`).
const MAX_JIDS: usize = 100;
/// The longest body we take from an envelope (the payload is capped before this).
pub const MAX_BODY: usize = 128 * 1024;

/// A device's public keys as published in its OMEMO 2 bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle2 {
    /// Ed25519 form (`<ik>`).
    pub identity_key: Vec<u8>,
    pub signed_pre_key_id: u32,
    /// Curve25519, 32 bytes (`<spk>`).
    pub signed_pre_key: Vec<u8>,
    /// XEdDSA signature of the 32 bytes of `signed_pre_key` (`<spks>`).
    pub signature: Vec<u8>,
    pub pre_keys: Vec<(u32, Vec<u8>)>,
}

/// One recipient device's key: `jid`'s device `entry.rid` (`entry.prekey` is `kex`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key2 {
    pub jid: String,
    pub entry: KeyEntry,
}

/// An `<encrypted xmlns='urn:xmpp:omemo:2'>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted2 {
    pub sid: u32,
    pub keys: Vec<Key2>,
    /// None for an empty OMEMO message (key transport).
    pub payload: Option<Vec<u8>>,
}

/// Why an SCE envelope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the envelope is not well-formed: {0}")]
    Malformed(&'static str),
    /// Its `<from jid>` is missing or not the sender: someone replayed or forged it.
    #[error("the envelope names another sender")]
    WrongSender,
}

/// `<devices xmlns='urn:xmpp:omemo:2'><device id='…'/>…</devices>`
pub fn device_list_element(devices: &[u32]) -> Element {
    device_list_in("devices", NS, devices)
}

/// The device ids of an OMEMO 2 device list, without duplicates; bad ids are skipped,
/// more than [`MAX_DEVICES`](crate::omemo::xml::MAX_DEVICES) ignored. Labels are not read.
pub fn parse_device_list(el: &Element) -> Result<Vec<u32>, XmlError> {
    parse_device_list_in(el, "devices", NS)
}

/// `<bundle xmlns='urn:xmpp:omemo:2'><spk id/><spks/><ik/><prekeys><pk id/>…</prekeys></bundle>`
pub fn bundle_element(b: &Bundle2) -> Element {
    let text = |name: &str, bytes: &[u8]| Element::builder(name, NS).append(b64(bytes)).build();
    let mut pre_keys = Element::builder("prekeys", NS);
    for (id, key) in &b.pre_keys {
        pre_keys = pre_keys.append(
            Element::builder("pk", NS)
                .a("id", &id.to_string())
                .append(b64(key))
                .build(),
        );
    }
    Element::builder("bundle", NS)
        .append(
            Element::builder("spk", NS)
                .a("id", &b.signed_pre_key_id.to_string())
                .append(b64(&b.signed_pre_key))
                .build(),
        )
        .append(text("spks", &b.signature))
        .append(text("ik", &b.identity_key))
        .append(pre_keys.build())
        .build()
}

fn key32(el: &Element, what: &'static str) -> Result<Vec<u8>, XmlError> {
    let k = unb64(&el.text(), KEY_LEN, what)?;
    if k.len() == KEY_LEN {
        Ok(k)
    } else {
        Err(XmlError::Bad(what))
    }
}

/// A peer's OMEMO 2 bundle: 32-byte keys, a 64-byte signature; pre-keys with a bad id or
/// key are skipped, and at least one must remain.
pub fn parse_bundle(el: &Element) -> Result<Bundle2, XmlError> {
    if !el.is("bundle", NS) {
        return Err(XmlError::WrongElement("bundle"));
    }
    let child = |name: &'static str| el.get_child(name, NS).ok_or(XmlError::Missing(name));
    let spk = child("spk")?;
    let signed_pre_key_id = match spk.attr("id").map(str::trim).map(str::parse) {
        Some(Ok(id)) => id,
        Some(Err(_)) => return Err(XmlError::Bad("spk id")),
        None => return Err(XmlError::Missing("spk id")),
    };
    let signed_pre_key = key32(spk, "spk")?;
    let signature = unb64(&child("spks")?.text(), SIGNATURE_LEN, "spks")?;
    if signature.len() != SIGNATURE_LEN {
        return Err(XmlError::Bad("spks"));
    }
    let identity_key = key32(child("ik")?, "ik")?;
    let mut pre_keys = Vec::new();
    if let Some(pks) = el.get_child("prekeys", NS) {
        for pk in pks.children().filter(|c| c.is("pk", NS)) {
            if pre_keys.len() >= MAX_PRE_KEYS {
                break;
            }
            let Some(Ok(id)) = pk.attr("id").map(str::trim).map(str::parse::<u32>) else {
                continue;
            };
            if let Ok(key) = key32(pk, "pk") {
                pre_keys.push((id, key));
            }
        }
    }
    if pre_keys.is_empty() {
        return Err(XmlError::Missing("pk"));
    }
    Ok(Bundle2 {
        identity_key,
        signed_pre_key_id,
        signed_pre_key,
        signature,
        pre_keys,
    })
}

/// `<encrypted xmlns='urn:xmpp:omemo:2'><header sid><keys jid><key rid [kex]/>…</keys>…</header><payload/></encrypted>`
pub fn encrypted_element(e: &Encrypted2) -> Element {
    let mut header = Element::builder("header", NS).a("sid", &e.sid.to_string());
    let mut jids: Vec<&str> = Vec::new();
    for k in &e.keys {
        if !jids.contains(&k.jid.as_str()) {
            jids.push(&k.jid);
        }
    }
    for jid in jids {
        let mut keys = Element::builder("keys", NS).a("jid", jid);
        for k in e.keys.iter().filter(|k| k.jid == jid) {
            let mut key = Element::builder("key", NS).a("rid", &k.entry.rid.to_string());
            if k.entry.prekey {
                key = key.a("kex", "true");
            }
            keys = keys.append(key.append(b64(&k.entry.data)).build());
        }
        header = header.append(keys.build());
    }
    let mut enc = Element::builder("encrypted", NS).append(header.build());
    if let Some(p) = &e.payload {
        enc = enc.append(Element::builder("payload", NS).append(b64(p)).build());
    }
    enc.build()
}

/// An incoming OMEMO 2 `<encrypted>`. Keys with a bad rid or data are skipped; at most
/// [`MAX_KEYS`] keys over at most 100 JIDs are read.
pub fn parse_encrypted(el: &Element) -> Result<Encrypted2, XmlError> {
    if !el.is("encrypted", NS) {
        return Err(XmlError::WrongElement("encrypted"));
    }
    let header = el
        .get_child("header", NS)
        .ok_or(XmlError::Missing("header"))?;
    let sid = device_id(header.attr("sid"), "sid")?;
    let mut keys = Vec::new();
    for group in header
        .children()
        .filter(|c| c.is("keys", NS))
        .take(MAX_JIDS)
    {
        let Some(jid) = group.attr("jid").map(str::trim) else {
            continue;
        };
        if jid.is_empty() || jid.len() > 3071 {
            continue;
        }
        for k in group.children().filter(|c| c.is("key", NS)) {
            if keys.len() >= MAX_KEYS {
                break;
            }
            let Ok(rid) = device_id(k.attr("rid"), "rid") else {
                continue;
            };
            let prekey = matches!(k.attr("kex").map(str::trim), Some("true" | "1"));
            let Ok(data) = unb64(&k.text(), MAX_KEY_DATA, "key") else {
                continue;
            };
            if data.is_empty() {
                continue;
            }
            keys.push(Key2 {
                jid: jid.to_owned(),
                entry: KeyEntry { rid, prekey, data },
            });
        }
    }
    let payload = match el.get_child("payload", NS) {
        Some(p) => Some(unb64(&p.text(), MAX_PAYLOAD, "payload")?),
        None => None,
    };
    Ok(Encrypted2 { sid, keys, payload })
}

/// The SCE envelope of a chat message: the body, random padding (`rpad`), the time and
/// the sender's bare JID, as XEP-0384's SCE profile asks.
pub fn envelope(body: &str, from: &str, rpad: &str, stamp: &str) -> Element {
    Element::builder("envelope", NS_SCE)
        .append(
            Element::builder("content", NS_SCE)
                .append(Element::builder("body", NS_CLIENT).append(body).build())
                .build(),
        )
        .append(Element::builder("rpad", NS_SCE).append(rpad).build())
        .append(Element::builder("time", NS_SCE).a("stamp", stamp).build())
        .append(Element::builder("from", NS_SCE).a("jid", from).build())
        .build()
}

/// The body of a decrypted SCE envelope sent by `sender` (bare JID). The envelope's
/// `<from jid>` must be `sender`: an envelope lifted from another conversation (or
/// forged by a server that relays another's key) is refused. `None` when the content
/// carries no body (other elements are not read yet).
pub fn parse_envelope(bytes: &[u8], sender: &str) -> Result<Option<String>, EnvelopeError> {
    if bytes.len() > MAX_PAYLOAD {
        return Err(EnvelopeError::Malformed("too large"));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| EnvelopeError::Malformed("not UTF-8"))?;
    let el: Element = text
        .parse()
        .map_err(|_| EnvelopeError::Malformed("not XML"))?;
    if !el.is("envelope", NS_SCE) {
        return Err(EnvelopeError::Malformed("not an envelope"));
    }
    let from = el
        .get_child("from", NS_SCE)
        .and_then(|f| f.attr("jid"))
        .map(str::trim);
    let same = from
        .and_then(|f| f.parse::<xmpp_parsers::jid::BareJid>().ok())
        .zip(sender.parse::<xmpp_parsers::jid::BareJid>().ok())
        .is_some_and(|(a, b)| a == b);
    if !same {
        return Err(EnvelopeError::WrongSender);
    }
    let content = el
        .get_child("content", NS_SCE)
        .ok_or(EnvelopeError::Malformed("no content"))?;
    let Some(body) = content.get_child("body", NS_CLIENT) else {
        return Ok(None);
    };
    let body = body.text();
    if body.len() > MAX_BODY {
        return Err(EnvelopeError::Malformed("body too large"));
    }
    Ok(Some(body))
}

/// A PEP publish of `item` as item `id` of `node`, readable by anyone; for the bundles
/// node also `max_items=max` (one item per device), as the XEP asks.
pub fn publish(node: &str, id: &str, item: Element) -> Element {
    let field = |var: &str, value: &str, hidden: bool| {
        let mut f = Element::builder("field", NS_DATA).a("var", var);
        if hidden {
            f = f.a("type", "hidden");
        }
        f.append(Element::builder("value", NS_DATA).append(value).build())
            .build()
    };
    let mut form = Element::builder("x", NS_DATA)
        .a("type", "submit")
        .append(field(
            "FORM_TYPE",
            "http://jabber.org/protocol/pubsub#publish-options",
            true,
        ))
        .append(field("pubsub#access_model", "open", false));
    if node == BUNDLES_NODE {
        form = form.append(field("pubsub#max_items", "max", false));
    }
    Element::builder("pubsub", NS_PUBSUB)
        .append(
            Element::builder("publish", NS_PUBSUB)
                .a("node", node)
                .append(
                    Element::builder("item", NS_PUBSUB)
                        .a("id", id)
                        .append(item)
                        .build(),
                )
                .build(),
        )
        .append(
            Element::builder("publish-options", NS_PUBSUB)
                .append(form.build())
                .build(),
        )
        .build()
}

/// The payload of a PEP get for `device`'s bundle (item `device` of the bundles node).
pub fn bundle_request(device: u32) -> Element {
    Element::builder("pubsub", NS_PUBSUB)
        .append(
            Element::builder("items", NS_PUBSUB)
                .a("node", BUNDLES_NODE)
                .append(
                    Element::builder("item", NS_PUBSUB)
                        .a("id", &device.to_string())
                        .build(),
                )
                .build(),
        )
        .build()
}

#[cfg(test)]
#[path = "omemo2/tests.rs"]
mod tests;
