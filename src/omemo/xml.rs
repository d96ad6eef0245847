//! OMEMO 0.3 (`eu.siacs.conversations.axolotl`) on the wire: the device list and bundle
//! PEP items, the `<encrypted>` element, and the PEP requests that carry them. Builders
//! and bounded parsers: everything here reads what any peer on the network sent, so
//! counts and sizes are capped, and nothing panics.

use crate::xmpp::muc::AttrExt;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use xmpp_parsers::minidom::Element;

pub const NS: &str = "eu.siacs.conversations.axolotl";
pub const DEVICE_LIST_NODE: &str = "eu.siacs.conversations.axolotl.devicelist";
pub const NS_PUBSUB: &str = "http://jabber.org/protocol/pubsub";
const NS_DATA: &str = "jabber:x:data";

/// Devices in one device list we read (more are ignored). Real accounts have a handful.
pub const MAX_DEVICES: usize = 256;
/// Pre-keys read from one bundle (more are ignored); clients publish about 100.
pub const MAX_PRE_KEYS: usize = 1_000;
/// Recipient keys in one `<encrypted>` (one per device of everyone in the chat).
pub const MAX_KEYS: usize = 1_000;
/// Largest encrypted payload we decode (the message body, encrypted).
pub const MAX_PAYLOAD: usize = 256 * 1024;
/// Largest per-device key element (a pre-key message is about 200 bytes).
pub const MAX_KEY_DATA: usize = 4 * 1024;
/// A serialised Curve25519 public key: type byte 0x05 and 32 bytes.
pub const PUBLIC_KEY_LEN: usize = 33;
/// An XEdDSA signature.
pub const SIGNATURE_LEN: usize = 64;

/// The PEP node of `device`'s bundle.
pub fn bundle_node(device: u32) -> String {
    format!("eu.siacs.conversations.axolotl.bundles:{device}")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("not an OMEMO {0} element")]
    WrongElement(&'static str),
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("bad {0}")]
    Bad(&'static str),
    #[error("{0} too large")]
    TooLarge(&'static str),
}

/// A device's public keys as published in its bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub identity_key: Vec<u8>,
    pub signed_pre_key_id: u32,
    pub signed_pre_key: Vec<u8>,
    pub signature: Vec<u8>,
    pub pre_keys: Vec<(u32, Vec<u8>)>,
}

/// One recipient device's encrypted key (and tag) in an `<encrypted>` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    pub rid: u32,
    /// A pre-key message (it starts a session), not a normal one.
    pub prekey: bool,
    pub data: Vec<u8>,
}

/// An `<encrypted xmlns='eu.siacs.conversations.axolotl'>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// The sending device.
    pub sid: u32,
    pub keys: Vec<KeyEntry>,
    pub iv: Vec<u8>,
    /// None for a key transport message (no body).
    pub payload: Option<Vec<u8>>,
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes base64 text (whitespace allowed, as some clients wrap lines), refusing more
/// than `max` decoded bytes before decoding.
pub(crate) fn unb64(text: &str, max: usize, what: &'static str) -> Result<Vec<u8>, XmlError> {
    if text.len() / 4 * 3 > max + 3 {
        return Err(XmlError::TooLarge(what));
    }
    let clean: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = STANDARD.decode(clean).map_err(|_| XmlError::Bad(what))?;
    if bytes.len() > max {
        return Err(XmlError::TooLarge(what));
    }
    Ok(bytes)
}

/// The text of `el`'s child `name`, base64-decoded, at most `max` bytes.
fn child_bytes(el: &Element, name: &'static str, max: usize) -> Result<Vec<u8>, XmlError> {
    let c = el.get_child(name, NS).ok_or(XmlError::Missing(name))?;
    unb64(&c.text(), max, name)
}

pub(crate) fn device_id(s: Option<&str>, what: &'static str) -> Result<u32, XmlError> {
    match s.map(str::trim).map(str::parse::<u32>) {
        Some(Ok(id)) if id != 0 => Ok(id),
        Some(_) => Err(XmlError::Bad(what)),
        None => Err(XmlError::Missing(what)),
    }
}

fn public_key(bytes: Vec<u8>, what: &'static str) -> Result<Vec<u8>, XmlError> {
    if bytes.len() == PUBLIC_KEY_LEN && bytes[0] == 0x05 {
        Ok(bytes)
    } else {
        Err(XmlError::Bad(what))
    }
}

/// `<list xmlns='eu.siacs.conversations.axolotl'><device id='…'/>…</list>`
pub fn device_list_element(devices: &[u32]) -> Element {
    device_list_in("list", NS, devices)
}

/// A device list as `<name xmlns='ns'><device id='…'/>…</name>` (OMEMO 0.3's `list`,
/// OMEMO 2's `devices`).
pub fn device_list_in(name: &str, ns: &str, devices: &[u32]) -> Element {
    let mut list = Element::builder(name, ns);
    for d in devices {
        list = list.append(
            Element::builder("device", ns)
                .a("id", &d.to_string())
                .build(),
        );
    }
    list.build()
}

/// The device ids of a device list, without duplicates; devices with a bad id are
/// skipped, more than [`MAX_DEVICES`] ignored.
pub fn parse_device_list(el: &Element) -> Result<Vec<u32>, XmlError> {
    parse_device_list_in(el, "list", NS)
}

/// [`parse_device_list`] for a list element `name` in namespace `ns`.
pub fn parse_device_list_in(el: &Element, name: &str, ns: &str) -> Result<Vec<u32>, XmlError> {
    if !el.is(name, ns) {
        return Err(XmlError::WrongElement("device list"));
    }
    let mut out: Vec<u32> = Vec::new();
    for d in el.children().filter(|c| c.is("device", ns)) {
        if out.len() >= MAX_DEVICES {
            break;
        }
        if let Ok(id) = device_id(d.attr("id"), "device id")
            && !out.contains(&id)
        {
            out.push(id);
        }
    }
    Ok(out)
}

/// `<bundle xmlns='eu.siacs.conversations.axolotl'>…</bundle>`
pub fn bundle_element(b: &Bundle) -> Element {
    let text = |name: &str, bytes: &[u8]| Element::builder(name, NS).append(b64(bytes)).build();
    let mut pre_keys = Element::builder("prekeys", NS);
    for (id, key) in &b.pre_keys {
        pre_keys = pre_keys.append(
            Element::builder("preKeyPublic", NS)
                .a("preKeyId", &id.to_string())
                .append(b64(key))
                .build(),
        );
    }
    Element::builder("bundle", NS)
        .append(
            Element::builder("signedPreKeyPublic", NS)
                .a("signedPreKeyId", &b.signed_pre_key_id.to_string())
                .append(b64(&b.signed_pre_key))
                .build(),
        )
        .append(text("signedPreKeySignature", &b.signature))
        .append(text("identityKey", &b.identity_key))
        .append(pre_keys.build())
        .build()
}

/// A peer's bundle. Keys must be 33-byte Curve25519 keys and the signature 64 bytes;
/// pre-keys with a bad id or key are skipped, and at least one must remain.
pub fn parse_bundle(el: &Element) -> Result<Bundle, XmlError> {
    if !el.is("bundle", NS) {
        return Err(XmlError::WrongElement("bundle"));
    }
    let spk = el
        .get_child("signedPreKeyPublic", NS)
        .ok_or(XmlError::Missing("signedPreKeyPublic"))?;
    let signed_pre_key_id = match spk.attr("signedPreKeyId").map(str::trim).map(str::parse) {
        Some(Ok(id)) => id,
        Some(Err(_)) => return Err(XmlError::Bad("signedPreKeyId")),
        None => return Err(XmlError::Missing("signedPreKeyId")),
    };
    let signed_pre_key = public_key(
        unb64(&spk.text(), PUBLIC_KEY_LEN, "signedPreKeyPublic")?,
        "signedPreKeyPublic",
    )?;
    let signature = child_bytes(el, "signedPreKeySignature", SIGNATURE_LEN)?;
    if signature.len() != SIGNATURE_LEN {
        return Err(XmlError::Bad("signedPreKeySignature"));
    }
    let identity_key = public_key(
        child_bytes(el, "identityKey", PUBLIC_KEY_LEN)?,
        "identityKey",
    )?;
    let mut pre_keys = Vec::new();
    if let Some(pks) = el.get_child("prekeys", NS) {
        for pk in pks.children().filter(|c| c.is("preKeyPublic", NS)) {
            if pre_keys.len() >= MAX_PRE_KEYS {
                break;
            }
            let Some(Ok(id)) = pk.attr("preKeyId").map(str::trim).map(str::parse::<u32>) else {
                continue;
            };
            if let Ok(key) = unb64(&pk.text(), PUBLIC_KEY_LEN, "preKeyPublic")
                .and_then(|k| public_key(k, "preKeyPublic"))
            {
                pre_keys.push((id, key));
            }
        }
    }
    if pre_keys.is_empty() {
        return Err(XmlError::Missing("preKeyPublic"));
    }
    Ok(Bundle {
        identity_key,
        signed_pre_key_id,
        signed_pre_key,
        signature,
        pre_keys,
    })
}

/// `<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='…'>…</header><payload/></encrypted>`
pub fn encrypted_element(e: &Encrypted) -> Element {
    let mut header = Element::builder("header", NS).a("sid", &e.sid.to_string());
    for k in &e.keys {
        let mut key = Element::builder("key", NS).a("rid", &k.rid.to_string());
        if k.prekey {
            key = key.a("prekey", "true");
        }
        header = header.append(key.append(b64(&k.data)).build());
    }
    header = header.append(Element::builder("iv", NS).append(b64(&e.iv)).build());
    let mut enc = Element::builder("encrypted", NS).append(header.build());
    if let Some(p) = &e.payload {
        enc = enc.append(Element::builder("payload", NS).append(b64(p)).build());
    }
    enc.build()
}

/// An incoming `<encrypted>` element. Keys with a bad rid or data are skipped.
pub fn parse_encrypted(el: &Element) -> Result<Encrypted, XmlError> {
    if !el.is("encrypted", NS) {
        return Err(XmlError::WrongElement("encrypted"));
    }
    let header = el
        .get_child("header", NS)
        .ok_or(XmlError::Missing("header"))?;
    let sid = device_id(header.attr("sid"), "sid")?;
    let iv = child_bytes(header, "iv", 16)?;
    if iv.len() != 12 && iv.len() != 16 {
        return Err(XmlError::Bad("iv"));
    }
    let mut keys = Vec::new();
    for k in header.children().filter(|c| c.is("key", NS)) {
        if keys.len() >= MAX_KEYS {
            break;
        }
        let Ok(rid) = device_id(k.attr("rid"), "rid") else {
            continue;
        };
        let prekey = matches!(k.attr("prekey").map(str::trim), Some("true" | "1"));
        let Ok(data) = unb64(&k.text(), MAX_KEY_DATA, "key") else {
            continue;
        };
        if data.is_empty() {
            continue;
        }
        keys.push(KeyEntry { rid, prekey, data });
    }
    let payload = match el.get_child("payload", NS) {
        Some(p) => Some(unb64(&p.text(), MAX_PAYLOAD, "payload")?),
        None => None,
    };
    Ok(Encrypted {
        sid,
        keys,
        iv,
        payload,
    })
}

/// The payload of a PEP publish IQ (type set to our own bare JID) putting `item` into
/// `node` as its item `id`, readable by anyone (`pubsub#access_model=open`, as
/// Conversations publishes OMEMO nodes).
pub fn publish(node: &str, id: &str, item: Element) -> Element {
    let field = |var: &str, value: &str, hidden: bool| {
        let mut f = Element::builder("field", NS_DATA).a("var", var);
        if hidden {
            f = f.a("type", "hidden");
        }
        f.append(Element::builder("value", NS_DATA).append(value).build())
            .build()
    };
    let form = Element::builder("x", NS_DATA)
        .a("type", "submit")
        .append(field(
            "FORM_TYPE",
            "http://jabber.org/protocol/pubsub#publish-options",
            true,
        ))
        .append(field("pubsub#access_model", "open", false))
        .build();
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
                .append(form)
                .build(),
        )
        .build()
}

/// The payload of a PEP get IQ (to the owner's bare JID) for the newest item of `node`.
pub fn items_request(node: &str) -> Element {
    Element::builder("pubsub", NS_PUBSUB)
        .append(
            Element::builder("items", NS_PUBSUB)
                .a("node", node)
                .a("max_items", "1")
                .build(),
        )
        .build()
}

/// The content of the first item in a PEP `<pubsub><items>` result (or a
/// `<event><items>` notification), if any.
pub fn first_item(pubsub: &Element) -> Option<&Element> {
    let items = pubsub.children().find(|c| c.name() == "items")?;
    let item = items.children().find(|c| c.name() == "item")?;
    item.children().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Element {
        xml.parse().unwrap()
    }

    #[test]
    fn device_lists_round_trip_and_bad_ids_are_skipped() {
        let el = device_list_element(&[1, 42, 0x7fff_ffff]);
        assert_eq!(parse_device_list(&el).unwrap(), vec![1, 42, 0x7fff_ffff]);
        let el = parse(
            "<list xmlns='eu.siacs.conversations.axolotl'><device id='7'/><device id='x'/>\
             <device id='0'/><device/><device id='7'/><device id='99999999999'/>\
             <device id='8' label='phone'/></list>",
        );
        assert_eq!(parse_device_list(&el).unwrap(), vec![7, 8]);
        assert!(parse_device_list(&parse("<list xmlns='urn:xmpp:omemo:2'/>")).is_err());
    }

    #[test]
    fn device_lists_are_capped() {
        let many: Vec<u32> = (1..=5_000).collect();
        let el = device_list_element(&many);
        assert_eq!(parse_device_list(&el).unwrap().len(), MAX_DEVICES);
    }

    fn bundle() -> Bundle {
        let key = |b: u8| {
            let mut k = vec![0x05];
            k.extend_from_slice(&[b; 32]);
            k
        };
        Bundle {
            identity_key: key(1),
            signed_pre_key_id: 3,
            signed_pre_key: key(2),
            signature: vec![9; 64],
            pre_keys: vec![(1, key(4)), (2, key(5))],
        }
    }

    #[test]
    fn bundles_round_trip() {
        let b = bundle();
        let el = bundle_element(&b);
        assert_eq!(parse_bundle(&el).unwrap(), b);
        // Through text, as it travels.
        let text = String::from(&el);
        assert_eq!(parse_bundle(&parse(&text)).unwrap(), b);
    }

    #[test]
    fn bad_bundles_are_errors() {
        let mut b = bundle();
        b.identity_key.pop();
        assert_eq!(
            parse_bundle(&bundle_element(&b)),
            Err(XmlError::Bad("identityKey"))
        );
        let mut b = bundle();
        b.signature = vec![1; 63];
        assert!(parse_bundle(&bundle_element(&b)).is_err());
        let mut b = bundle();
        b.pre_keys.clear();
        assert_eq!(
            parse_bundle(&bundle_element(&b)),
            Err(XmlError::Missing("preKeyPublic"))
        );
        assert!(parse_bundle(&parse("<bundle xmlns='eu.siacs.conversations.axolotl'/>")).is_err());
    }

    #[test]
    fn encrypted_elements_round_trip() {
        let e = Encrypted {
            sid: 12,
            keys: vec![
                KeyEntry {
                    rid: 5,
                    prekey: true,
                    data: vec![1, 2, 3],
                },
                KeyEntry {
                    rid: 6,
                    prekey: false,
                    data: vec![4],
                },
            ],
            iv: vec![0; 12],
            payload: Some(b"secret".to_vec()),
        };
        let el = encrypted_element(&e);
        assert_eq!(parse_encrypted(&el).unwrap(), e);
        let text = String::from(&el);
        assert_eq!(parse_encrypted(&parse(&text)).unwrap(), e);
    }

    #[test]
    fn encrypted_elements_from_other_clients() {
        // Line-wrapped base64, prekey='1', a 16-byte IV, no payload (key transport).
        let el = parse(
            "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='3'>\
             <key rid='4' prekey='1'>AQID\nBA==</key><key rid='nope'>AQ==</key>\
             <iv>AAAAAAAAAAAAAAAAAAAAAA==</iv></header></encrypted>",
        );
        let e = parse_encrypted(&el).unwrap();
        assert_eq!(e.keys.len(), 1);
        assert!(e.keys[0].prekey);
        assert_eq!(e.keys[0].data, vec![1, 2, 3, 4]);
        assert_eq!(e.iv.len(), 16);
        assert!(e.payload.is_none());
        let bad_iv = parse(
            "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='3'>\
             <iv>AAAA</iv></header></encrypted>",
        );
        assert_eq!(parse_encrypted(&bad_iv), Err(XmlError::Bad("iv")));
    }

    #[test]
    fn oversized_payloads_are_refused_before_decoding() {
        let big = "A".repeat(MAX_PAYLOAD * 2);
        let el = parse(&format!(
            "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='3'>\
             <iv>AAAAAAAAAAAAAAAA</iv></header><payload>{big}</payload></encrypted>"
        ));
        assert_eq!(parse_encrypted(&el), Err(XmlError::TooLarge("payload")));
    }

    #[test]
    fn pep_payloads_have_the_node_and_open_access() {
        let p = String::from(&publish(
            DEVICE_LIST_NODE,
            "current",
            device_list_element(&[1]),
        ));
        assert!(
            p.contains("node='eu.siacs.conversations.axolotl.devicelist'"),
            "{p}"
        );
        assert!(p.contains("pubsub#access_model"));
        assert!(p.contains(">open<"));
        let result = parse(
            "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n'>\
             <item id='current'><list xmlns='eu.siacs.conversations.axolotl'>\
             <device id='9'/></list></item></items></pubsub>",
        );
        let list = first_item(&result).unwrap();
        assert_eq!(parse_device_list(list).unwrap(), vec![9]);
    }
}
