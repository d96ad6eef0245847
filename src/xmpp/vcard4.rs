//! Our own profile on the wire (issue #18): the vCard fields people fill, read from the
//! vCard4 PEP node (XEP-0292, `urn:xmpp:vcard4`) or vcard-temp (XEP-0054), and written
//! back to both, plus the nickname as User Nickname (XEP-0172). Also reads a contact's
//! vCard4 into the same [`Card`] the profile panel shows.
//!
//! Sans-io, on literal XML. What comes from the network is bounded like any network
//! text: each field [`crate::xmpp::short_text`], the note [`MAX_NOTE`] characters, at most
//! [`MAX_VALUES`] addresses or numbers. When we write our vCard back we keep the fields
//! we do not edit (the `PHOTO` above all), but only [`MAX_KEPT`] of them, each at most
//! [`MAX_KEPT_BYTES`] of text (a `PHOTO` up to the avatar cap): a hostile or broken
//! server answer cannot make us store and resend megabytes.

use super::profile::{Card, MAX_NOTE, MAX_VALUES, NS_VCARD};
use crate::xmpp::muc::AttrExt;
use xmpp_parsers::disco::DiscoInfoResult;
use xmpp_parsers::minidom::Element;

pub const NS_VCARD4: &str = "urn:ietf:params:xml:ns:vcard-4.0";
/// The PEP node of the vCard4 (XEP-0292).
pub const NODE_VCARD4: &str = "urn:xmpp:vcard4";
/// User Nickname (XEP-0172): the namespace of `<nick/>` and its PEP node.
pub const NS_NICK: &str = "http://jabber.org/protocol/nick";
/// XEP-0398 (user avatar to vCard-based avatars conversion): the feature a server that
/// converts lists on our account. `urn:xmpp:pep-vcardtemp:0` is an older spelling some
/// documents use; both count.
pub const CONVERSION_FEATURES: [&str; 2] = [
    "urn:xmpp:pep-vcard-conversion:0",
    "urn:xmpp:pep-vcardtemp:0",
];
const NS_PUBSUB: &str = "http://jabber.org/protocol/pubsub";
/// The item id XEP-0292 and XEP-0172 use for the one current item.
const CURRENT: &str = "current";
/// Fields of an old vCard kept when we write ours back.
pub const MAX_KEPT: usize = 64;
/// Largest text of one kept field (a `PHOTO` may be as large as an avatar).
pub const MAX_KEPT_BYTES: usize = 16 * 1024;

/// The fields of our own profile the Settings form edits (empty: not set).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnCard {
    pub full_name: String,
    pub nickname: String,
    pub email: String,
    pub phone: String,
    pub url: String,
    pub birthday: String,
    pub note: String,
}

impl OwnCard {
    /// The editable part of a vCard read from the server (the first address and number).
    pub fn from_card(card: &Card) -> OwnCard {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        OwnCard {
            full_name: s(&card.full_name),
            nickname: s(&card.nickname),
            email: card.emails.first().cloned().unwrap_or_default(),
            phone: card.phones.first().cloned().unwrap_or_default(),
            url: s(&card.url),
            birthday: s(&card.birthday),
            note: s(&card.note),
        }
    }

    /// Each field trimmed and cut to what we would accept from anyone else (a pasted
    /// novel in the note is cut, not sent).
    pub fn bounded(&self) -> OwnCard {
        let short = |t: &str| super::short_text(t.trim());
        OwnCard {
            full_name: short(&self.full_name),
            nickname: short(&self.nickname),
            email: short(&self.email),
            phone: short(&self.phone),
            url: short(&self.url),
            birthday: short(&self.birthday),
            note: bounded_note(&self.note),
        }
    }
}

/// A note (about text) as we keep it: bidirectional controls removed, at most
/// [`MAX_NOTE`] characters (cut with "…").
pub fn bounded_note(text: &str) -> String {
    let t: String = text
        .trim()
        .chars()
        .filter(|c| !crate::notify::is_bidi_control(*c))
        .take(MAX_NOTE + 1)
        .collect();
    if t.chars().count() > MAX_NOTE {
        let mut t: String = t.chars().take(MAX_NOTE - 1).collect();
        t.push('…');
        return t;
    }
    t
}

fn non_empty(t: String) -> Option<String> {
    (!t.is_empty()).then_some(t)
}

/// The text of `el`'s child `name` / `inner` (both vCard4), bounded.
fn v4_text(el: &Element, name: &str, inner: &[&str]) -> Option<String> {
    let child = el.get_child(name, NS_VCARD4)?;
    inner
        .iter()
        .find_map(|i| child.get_child(i, NS_VCARD4))
        .and_then(|t| non_empty(super::short_text(t.text().trim())))
}

/// A `<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/>` as the fields we show.
pub fn parse_vcard4(el: &Element) -> Option<Card> {
    if !el.is("vcard", NS_VCARD4) {
        return None;
    }
    let many = |name: &str, inner: &[&str]| -> Vec<String> {
        el.children()
            .filter(|c| c.is(name, NS_VCARD4))
            .filter_map(|c| {
                inner
                    .iter()
                    .find_map(|i| c.get_child(i, NS_VCARD4))
                    .map(|t| super::short_text(t.text().trim()))
            })
            .map(|t| t.strip_prefix("tel:").map(str::to_owned).unwrap_or(t))
            .filter(|t| !t.is_empty())
            .take(MAX_VALUES)
            .collect()
    };
    let adr = el.get_child("adr", NS_VCARD4);
    let adr_text = |name: &str| {
        adr.and_then(|a| a.get_child(name, NS_VCARD4))
            .and_then(|t| non_empty(super::short_text(t.text().trim())))
    };
    Some(Card {
        full_name: v4_text(el, "fn", &["text"]),
        nickname: v4_text(el, "nickname", &["text"]),
        emails: many("email", &["text", "uri"]),
        phones: many("tel", &["uri", "text"]),
        url: v4_text(el, "url", &["uri", "text"]),
        organisation: v4_text(el, "org", &["text"]),
        title: v4_text(el, "title", &["text"]),
        birthday: v4_text(el, "bday", &["date", "text", "date-time"]),
        locality: adr_text("locality"),
        country: adr_text("country"),
        note: el
            .get_child("note", NS_VCARD4)
            .and_then(|n| n.get_child("text", NS_VCARD4))
            .and_then(|t| non_empty(bounded_note(&t.text()))),
    })
}

/// Asks a PEP service for its vCard4 (send to a bare JID: a contact's, or ours).
pub fn items_request() -> Element {
    Element::builder("pubsub", NS_PUBSUB)
        .append(
            Element::builder("items", NS_PUBSUB)
                .a("node", NODE_VCARD4)
                .a("max_items", "1")
                .build(),
        )
        .build()
}

/// The `<vcard/>` in the answer to [`items_request`], when there is one.
pub fn vcard_of_items(payload: Option<&Element>) -> Option<&Element> {
    payload
        .filter(|p| p.is("pubsub", NS_PUBSUB))?
        .get_child("items", NS_PUBSUB)
        .filter(|i| i.attr("node") == Some(NODE_VCARD4))?
        .children()
        .filter(|i| i.is("item", NS_PUBSUB))
        .find_map(|i| i.get_child("vcard", NS_VCARD4))
}

/// The fields in the answer to [`items_request`].
pub fn parse_items(payload: Option<&Element>) -> Option<Card> {
    vcard_of_items(payload).and_then(parse_vcard4)
}

fn text_len(el: &Element) -> usize {
    el.text().len() + el.children().map(text_len).sum::<usize>()
}

/// The children of `old` (in `ns`) we keep when we write it back: not one we edit, not
/// over the caps.
fn kept<'a>(
    old: Option<&'a Element>,
    ns: &'a str,
    edited: &'a [&'a str],
) -> impl Iterator<Item = &'a Element> + 'a {
    old.into_iter()
        .flat_map(|o| o.children())
        .filter(move |c| c.ns() == ns && !edited.contains(&c.name()))
        .filter(|c| {
            let cap = if c.name() == "PHOTO" {
                crate::xmpp::avatar::MAX_AVATAR_BYTES * 4 / 3 + 4096
            } else {
                MAX_KEPT_BYTES
            };
            text_len(c) <= cap
        })
        .take(MAX_KEPT)
}

/// The value of a multi-valued field (`EMAIL`/`USERID`, `email`/`text`...), trimmed.
fn value_of(el: &Element, ns: &str, inner: &[&str]) -> Option<String> {
    inner
        .iter()
        .find_map(|i| el.get_child(i, ns))
        .map(|t| t.text().trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The other addresses or numbers of `old` (fields `name` in `ns`): the form edits only
/// the first one (the one [`OwnCard::from_card`] shows), so every later one is kept as
/// it was, except one equal to `new` (not doubled) and within the same caps as
/// [`kept`].
fn others<'a>(
    old: Option<&'a Element>,
    ns: &'a str,
    name: &'a str,
    inner: &'a [&'a str],
    new: &'a str,
) -> impl Iterator<Item = &'a Element> + 'a {
    old.into_iter()
        .flat_map(|o| o.children())
        .filter(move |c| c.is(name, ns))
        .filter_map(move |c| value_of(c, ns, inner).map(|v| (c, v)))
        .skip(1)
        .filter(move |(c, v)| v != new && text_len(c) <= MAX_KEPT_BYTES)
        .map(|(c, _)| c)
        .take(MAX_KEPT)
}

fn leaf(name: &str, ns: &str, text: &str) -> Element {
    Element::builder(name, ns).append(text).build()
}

/// Our vcard-temp for an IQ set: `card` over what `current` (the answer to a
/// vcard-temp get) had, keeping every field we do not edit, the `PHOTO` first of all,
/// and every e-mail address and number after the first (the one the form edits).
pub fn vcard_temp(current: Option<&Element>, card: &OwnCard) -> Element {
    const EDITED: [&str; 8] = [
        "FN", "NICKNAME", "EMAIL", "TEL", "URL", "BDAY", "DESC", "NOTE",
    ];
    let card = card.bounded();
    let current = current.filter(|c| c.is("vCard", NS_VCARD));
    let mut v = Element::builder("vCard", NS_VCARD).build();
    let field = |v: &mut Element, name: &str, text: &str| {
        if !text.is_empty() {
            v.append_child(leaf(name, NS_VCARD, text));
        }
    };
    field(&mut v, "FN", &card.full_name);
    field(&mut v, "NICKNAME", &card.nickname);
    if !card.email.is_empty() {
        v.append_child(
            Element::builder("EMAIL", NS_VCARD)
                .append(Element::builder("INTERNET", NS_VCARD).build())
                .append(leaf("USERID", NS_VCARD, &card.email))
                .build(),
        );
    }
    for other in others(current, NS_VCARD, "EMAIL", &["USERID"], &card.email) {
        v.append_child(other.clone());
    }
    if !card.phone.is_empty() {
        v.append_child(
            Element::builder("TEL", NS_VCARD)
                .append(Element::builder("VOICE", NS_VCARD).build())
                .append(leaf("NUMBER", NS_VCARD, &card.phone))
                .build(),
        );
    }
    for other in others(current, NS_VCARD, "TEL", &["NUMBER"], &card.phone) {
        v.append_child(other.clone());
    }
    field(&mut v, "URL", &card.url);
    field(&mut v, "BDAY", &card.birthday);
    field(&mut v, "DESC", &card.note);
    for child in kept(current, NS_VCARD, &EDITED) {
        v.append_child(child.clone());
    }
    v
}

/// Our vCard4: `card` over what `current` (our vCard4 item's `<vcard/>`) had, with
/// the same rule as [`vcard_temp`] for the addresses and numbers after the first.
pub fn vcard4(current: Option<&Element>, card: &OwnCard) -> Element {
    const EDITED: [&str; 7] = ["fn", "nickname", "email", "tel", "url", "bday", "note"];
    let card = card.bounded();
    let current = current.filter(|c| c.is("vcard", NS_VCARD4));
    let mut v = Element::builder("vcard", NS_VCARD4).build();
    let field = |v: &mut Element, name: &str, inner: &str, text: &str| {
        if !text.is_empty() {
            v.append_child(
                Element::builder(name, NS_VCARD4)
                    .append(leaf(inner, NS_VCARD4, text))
                    .build(),
            );
        }
    };
    field(&mut v, "fn", "text", &card.full_name);
    field(&mut v, "nickname", "text", &card.nickname);
    field(&mut v, "email", "text", &card.email);
    for other in others(current, NS_VCARD4, "email", &["text", "uri"], &card.email) {
        v.append_child(other.clone());
    }
    let uri = if card.phone.is_empty() {
        String::new()
    } else {
        format!("tel:{}", card.phone.replace(' ', "-"))
    };
    field(&mut v, "tel", "uri", &uri);
    for other in others(current, NS_VCARD4, "tel", &["uri", "text"], &uri) {
        v.append_child(other.clone());
    }
    field(&mut v, "url", "uri", &card.url);
    field(&mut v, "bday", "date", &card.birthday);
    field(&mut v, "note", "text", &card.note);
    for child in kept(current, NS_VCARD4, &EDITED) {
        v.append_child(child.clone());
    }
    v
}

fn publish(node: &str, payload: Element) -> Element {
    Element::builder("pubsub", NS_PUBSUB)
        .append(
            Element::builder("publish", NS_PUBSUB)
                .a("node", node)
                .append(
                    Element::builder("item", NS_PUBSUB)
                        .a("id", CURRENT)
                        .append(payload)
                        .build(),
                )
                .build(),
        )
        .build()
}

/// Publishes our vCard4 (an IQ set without `to`).
pub fn publish_vcard4(vcard: Element) -> Element {
    publish(NODE_VCARD4, vcard)
}

/// Publishes our nickname (XEP-0172); an empty one says we have none.
pub fn publish_nick(nick: &str) -> Element {
    let nick = super::short_text(nick.trim());
    let mut el = Element::builder("nick", NS_NICK).build();
    if !nick.is_empty() {
        el.append_text_node(nick);
    }
    publish(NS_NICK, el)
}

/// What our account's disco#info says we may do with our profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Support {
    /// A PEP service on our account (XEP-0163: identity pubsub/pep).
    pub pep: bool,
    /// The server converts between PEP avatars and vcard-temp (XEP-0398).
    pub conversion: bool,
}

/// Reads our account's disco#info answer.
pub fn support(payload: Option<&Element>) -> Support {
    let Some(info) = payload.and_then(|p| DiscoInfoResult::try_from(p.clone()).ok()) else {
        return Support::default();
    };
    Support {
        pep: info
            .identities
            .iter()
            .any(|i| i.category == "pubsub" && i.type_ == "pep"),
        conversion: info
            .features
            .iter()
            .any(|f| CONVERSION_FEATURES.contains(&f.as_str())),
    }
}

#[cfg(test)]
mod tests;
