//! Message retraction (XEP-0424) and moderation (XEP-0425).
//!
//! Read in both versions in use: `urn:xmpp:message-retract:1` (`<retract id='…'/>`;
//! moderated: `<retract id><moderated by xmlns='urn:xmpp:message-moderate:1'/><reason/>
//! </retract>`) and the older fastening form (`<apply-to id xmlns='urn:xmpp:fasten:0'>`
//! with `<retract xmlns='urn:xmpp:message-retract:0'/>`, or `<moderated>` around it).
//! Sent in both, so clients of either version understand us. A retraction comes only
//! from the message's sender; a moderation only from the room itself (checked by the
//! caller, which knows who sent the stanza).

use super::muc::AttrExt;
use xmpp_parsers::message::Message;
use xmpp_parsers::minidom::Element;

pub const NS_RETRACT: &str = "urn:xmpp:message-retract:1";
pub const NS_RETRACT_0: &str = "urn:xmpp:message-retract:0";
pub const NS_MODERATE: &str = "urn:xmpp:message-moderate:1";
pub const NS_MODERATE_0: &str = "urn:xmpp:message-moderate:0";
const NS_FASTEN: &str = "urn:xmpp:fasten:0";

/// What a retraction stanza says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retract {
    /// The sender takes back message `target`.
    Own { target: String },
    /// A moderator removed message `target` (the room's stanza-id).
    Moderated {
        target: String,
        by: Option<String>,
        reason: Option<String>,
    },
}

fn text(el: &Element, name: &str, ns: &str) -> Option<String> {
    el.get_child(name, ns)
        .map(|r| r.text().trim().to_owned())
        .filter(|r| !r.is_empty())
}

fn id_of(el: &Element) -> Option<String> {
    el.attr("id").filter(|i| !i.is_empty()).map(str::to_owned)
}

/// The retraction or moderation `m` carries, if any.
pub fn parse(m: &Message) -> Option<Retract> {
    if let Some(r) = m.payloads.iter().find(|p| p.is("retract", NS_RETRACT)) {
        let target = id_of(r)?;
        return Some(match r.get_child("moderated", NS_MODERATE) {
            Some(moderated) => Retract::Moderated {
                target,
                by: moderated.attr("by").map(str::to_owned),
                reason: text(r, "reason", NS_RETRACT),
            },
            None => Retract::Own { target },
        });
    }
    let apply = m.payloads.iter().find(|p| p.is("apply-to", NS_FASTEN))?;
    let target = id_of(apply)?;
    if let Some(moderated) = apply.get_child("moderated", NS_MODERATE_0) {
        moderated.get_child("retract", NS_RETRACT_0)?;
        return Some(Retract::Moderated {
            target,
            by: moderated.attr("by").map(str::to_owned),
            reason: text(moderated, "reason", NS_MODERATE_0),
        });
    }
    apply
        .get_child("retract", NS_RETRACT_0)
        .map(|_| Retract::Own { target })
}

/// What clients without XEP-0424 show instead.
pub const FALLBACK: &str =
    "This person attempted to retract a previous message, but it's unsupported by your client.";

/// Makes `m` the retraction of our message `target` (both versions, a fallback body
/// marked as such, a hint to archive it).
pub fn mark(m: &mut Message, target: &str) {
    m.payloads.push(
        Element::builder("retract", NS_RETRACT)
            .a("id", target)
            .build(),
    );
    m.payloads.push(
        Element::builder("apply-to", NS_FASTEN)
            .a("id", target)
            .append(Element::builder("retract", NS_RETRACT_0).build())
            .build(),
    );
    m.bodies.insert(
        xmpp_parsers::message::Lang(String::new()),
        FALLBACK.to_owned(),
    );
    m.payloads.push(
        Element::builder("fallback", super::reply::NS_FALLBACK)
            .a("for", NS_RETRACT)
            .build(),
    );
    m.payloads.push(super::changes::store_hint());
}

/// The request a room moderator sends to the room (an IQ set's payload) to remove the
/// message the room archived as `stanza_id` (XEP-0425 v0.3, `urn:xmpp:message-moderate:1`).
pub fn moderate_request(stanza_id: &str, reason: Option<&str>) -> Element {
    let mut b = Element::builder("moderate", NS_MODERATE)
        .a("id", stanza_id)
        .append(Element::builder("retract", NS_RETRACT).build());
    if let Some(reason) = reason {
        b = b.append(
            Element::builder("reason", NS_MODERATE)
                .append(reason)
                .build(),
        );
    }
    b.build()
}

/// The same request in the older form (XEP-0425 v0.2, fastening), for rooms that do not
/// know the newer one.
pub fn moderate_request_0(stanza_id: &str, reason: Option<&str>) -> Element {
    let mut m = Element::builder("moderate", NS_MODERATE_0)
        .append(Element::builder("retract", NS_RETRACT_0).build());
    if let Some(reason) = reason {
        m = m.append(
            Element::builder("reason", NS_MODERATE_0)
                .append(reason)
                .build(),
        );
    }
    Element::builder("apply-to", NS_FASTEN)
        .a("id", stanza_id)
        .append(m.build())
        .build()
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

    /// XEP-0424 (v0.4) Example 2.
    #[test]
    fn the_xeps_retraction() {
        let m = message(
            "<message xmlns='jabber:client' type='chat' to='lord@capulet.example' id='retract-message-1'>\
             <retract id='origin-id-1' xmlns='urn:xmpp:message-retract:1'/>\
             <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>\
             <body>/me retracted a previous message, but it's unsupported by your client.</body>\
             <store xmlns='urn:xmpp:hints'/></message>",
        );
        assert_eq!(
            parse(&m),
            Some(Retract::Own {
                target: "origin-id-1".into()
            })
        );
    }

    /// The fastening form slixmpp 1.8 and older clients send.
    #[test]
    fn the_older_fastening_retraction() {
        let m = message(
            "<message xmlns='jabber:client' type='chat' to='lord@capulet.example' id='r2'>\
             <apply-to id='origin-id-1' xmlns='urn:xmpp:fasten:0'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to>\
             <body>fallback</body></message>",
        );
        assert_eq!(
            parse(&m),
            Some(Retract::Own {
                target: "origin-id-1".into()
            })
        );
    }

    /// XEP-0425 (v0.3) Example 4, and the v0.2 form Prosody 0.12 sends beside it.
    #[test]
    fn the_xeps_moderation() {
        let m = message(
            "<message xmlns='jabber:client' type='groupchat' from='channel@muc.example' id='retraction-id-1'>\
             <retract id='stanza-id-1' xmlns='urn:xmpp:message-retract:1'>\
             <moderated by='channel@muc.example/macbeth' xmlns='urn:xmpp:message-moderate:1'>\
             <occupant-id xmlns='urn:xmpp:occupant-id:0' id='dd72603deec90a38ba552f7c68cbcc61bca202cd'/></moderated>\
             <reason>This message contains inappropriate content for this forum</reason></retract></message>",
        );
        assert_eq!(
            parse(&m),
            Some(Retract::Moderated {
                target: "stanza-id-1".into(),
                by: Some("channel@muc.example/macbeth".into()),
                reason: Some("This message contains inappropriate content for this forum".into()),
            })
        );
        let m = message(
            "<message xmlns='jabber:client' type='groupchat' from='channel@muc.example' id='m2'>\
             <apply-to id='stanza-id-1' xmlns='urn:xmpp:fasten:0'>\
             <moderated by='channel@muc.example/macbeth' xmlns='urn:xmpp:message-moderate:0'>\
             <retract xmlns='urn:xmpp:message-retract:0'/><reason>Spam</reason></moderated></apply-to></message>",
        );
        assert_eq!(
            parse(&m),
            Some(Retract::Moderated {
                target: "stanza-id-1".into(),
                by: Some("channel@muc.example/macbeth".into()),
                reason: Some("Spam".into()),
            })
        );
    }

    #[test]
    fn our_retraction_speaks_both_versions_with_a_fallback() {
        let mut m = Message::chat(None);
        mark(&mut m, "o1");
        let xml = to_xml(&Stanza::Message(m.clone()));
        assert!(
            xml.contains("<retract xmlns='urn:xmpp:message-retract:1' id='o1'/>"),
            "{xml}"
        );
        assert!(xml.contains("urn:xmpp:fasten:0"), "{xml}");
        assert!(xml.contains("for='urn:xmpp:message-retract:1'"), "{xml}");
        assert_eq!(
            parse(&m),
            Some(Retract::Own {
                target: "o1".into()
            })
        );
    }

    /// XEP-0425 (v0.3) Example 1 and (v0.2) Example 1: what a moderator sends.
    #[test]
    fn the_xeps_moderation_requests() {
        let why = "This message contains inappropriate content for this forum";
        let new = moderate_request("stanza-id-1", Some(why));
        assert!(new.is("moderate", NS_MODERATE));
        assert_eq!(new.attr("id"), Some("stanza-id-1"));
        assert!(new.get_child("retract", NS_RETRACT).is_some());
        assert_eq!(
            new.get_child("reason", NS_MODERATE).map(|r| r.text()),
            Some(why.to_owned())
        );
        let old = moderate_request_0("stanza-id-1", None);
        assert!(old.is("apply-to", NS_FASTEN));
        assert_eq!(old.attr("id"), Some("stanza-id-1"));
        let m = old.get_child("moderate", NS_MODERATE_0).unwrap();
        assert!(m.get_child("retract", NS_RETRACT_0).is_some());
        assert!(m.get_child("reason", NS_MODERATE_0).is_none());
    }
}
