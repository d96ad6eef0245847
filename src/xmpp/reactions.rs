//! Message reactions (XEP-0444): `<reactions id='…'><reaction>👍</reaction></reactions>`
//! is the reactor's whole set for that message now (an empty one removes theirs). The
//! stanza has no body: it must not be dropped as an empty message.

use xmpp_parsers::message::Message;
use xmpp_parsers::ns;
use xmpp_parsers::reactions::{Reaction, Reactions};

/// `(target id, emojis)` when `m` carries reactions.
pub fn parse(m: &Message) -> Option<(String, Vec<String>)> {
    let r = m
        .payloads
        .iter()
        .find(|p| p.is("reactions", ns::REACTIONS))
        .and_then(|p| Reactions::try_from(p.clone()).ok())?;
    if r.id.is_empty() {
        return None;
    }
    let emojis = r
        .reactions
        .into_iter()
        .map(|e| e.emoji.trim().to_owned())
        .filter(|e| !e.is_empty())
        .collect();
    Some((r.id, emojis))
}

/// Adds our set of reactions to message `target` to `m`, with a hint to archive it.
pub fn mark(m: &mut Message, target: &str, emojis: &[String]) {
    m.payloads.push(
        Reactions {
            id: target.to_owned(),
            reactions: emojis
                .iter()
                .map(|e| Reaction { emoji: e.clone() })
                .collect(),
        }
        .into(),
    );
    m.payloads.push(super::changes::store_hint());
}

#[cfg(test)]
mod tests {
    use super::super::changes::{Found, detect};
    use super::super::test_support::*;
    use super::super::to_xml;
    use super::*;
    use xmpp_parsers::stanza::Stanza;

    /// XEP-0444 Example 3 (two reactions) and Example 5 (all removed).
    #[test]
    fn the_xeps_examples() {
        let Stanza::Message(m) = stanza(
            "<message xmlns='jabber:client' to='romeo@capulet.net/orchard' id='96d73204-a57a-11e9-88b8-4889e7820c76' type='chat'>\
             <reactions id='744f6e18-a57a-11e9-a656-4889e7820c76' xmlns='urn:xmpp:reactions:0'>\
             <reaction>👋</reaction><reaction>🐢</reaction></reactions>\
             <store xmlns='urn:xmpp:hints'/></message>",
        ) else {
            unreachable!()
        };
        assert_eq!(
            parse(&m),
            Some((
                "744f6e18-a57a-11e9-a656-4889e7820c76".into(),
                vec!["👋".into(), "🐢".into()]
            ))
        );
        let Stanza::Message(m) = stanza(
            "<message xmlns='jabber:client' to='romeo@capulet.net/orchard' id='a' type='chat'>\
             <reactions id='744f6e18-a57a-11e9-a656-4889e7820c76' xmlns='urn:xmpp:reactions:0'/></message>",
        ) else {
            unreachable!()
        };
        assert!(matches!(detect(&m), Some(Found::React { emojis, .. }) if emojis.is_empty()));
    }

    #[test]
    fn our_reactions_are_built_with_a_store_hint() {
        let mut m = Message::chat(None);
        mark(&mut m, "t1", &["👍".to_owned()]);
        let xml = to_xml(&Stanza::Message(m));
        assert!(
            xml.contains("<reactions xmlns='urn:xmpp:reactions:0' id='t1'><reaction>👍</reaction></reactions>"),
            "{xml}"
        );
        assert!(xml.contains("urn:xmpp:hints"), "{xml}");
    }
}
