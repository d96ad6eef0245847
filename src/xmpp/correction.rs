//! Last message correction (XEP-0308): `<replace id='…'/>` names the message whose text
//! the body replaces. Only its sender may correct it (checked where it is applied,
//! `model::extras`, against the stored original).

use xmpp_parsers::message::{Id, Message};
use xmpp_parsers::message_correct::Replace;
use xmpp_parsers::ns;

/// The id of the corrected message, when `m` is a correction.
pub fn target(m: &Message) -> Option<String> {
    m.payloads
        .iter()
        .find(|p| p.is("replace", ns::MESSAGE_CORRECT))
        .and_then(|p| Replace::try_from(p.clone()).ok())
        .map(|r| r.id.0)
        .filter(|id| !id.is_empty())
}

/// Marks `m` (a message with the new text) as the correction of message `target`.
pub fn mark(m: &mut Message, target: &str) {
    m.payloads.push(
        Replace {
            id: Id(target.to_owned()),
        }
        .into(),
    );
}

#[cfg(test)]
mod tests {
    use super::super::changes::{Found, detect};
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

    /// XEP-0308 Example 2.
    const EXAMPLE_2: &str = "<message xmlns='jabber:client' to='juliet@capulet.net/balcony' \
        from='romeo@montague.net/garden' id='good1'><body>But soft, what light through yonder \
        window breaks?</body><replace id='bad1' xmlns='urn:xmpp:message-correct:0'/></message>";

    #[test]
    fn the_xeps_example_is_a_correction_of_bad1() {
        let m = message(EXAMPLE_2);
        assert_eq!(target(&m).as_deref(), Some("bad1"));
        match detect(&m) {
            Some(Found::Correct { target, body }) => {
                assert_eq!(target, "bad1");
                assert!(body.starts_with("But soft, what light"), "{body}");
            }
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn a_correction_is_built_with_replace() {
        let mut m = Message::chat(None);
        mark(&mut m, "orig-1");
        let xml = to_xml(&Stanza::Message(m));
        assert!(
            xml.contains("<replace xmlns='urn:xmpp:message-correct:0' id='orig-1'/>"),
            "{xml}"
        );
    }
}
