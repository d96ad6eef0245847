//! Service discovery (XEP-0030) answers, entity capabilities (XEP-0115), ping (XEP-0199).

use super::{ProtoState, result_reply};
use xmpp_parsers::caps::{Caps, compute_disco, hash_caps};
use xmpp_parsers::disco::{DiscoInfoQuery, DiscoInfoResult, Identity};
use xmpp_parsers::hashes::Algo;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::jid::Jid;
use xmpp_parsers::minidom::Element;
use xmpp_parsers::ns;
use xmpp_parsers::stanza::Stanza;

/// Chat markers (XEP-0333).
const CHAT_MARKERS: &str = "urn:xmpp:chat-markers:0";
/// Interest in bookmark notifications (XEP-0402 with XEP-0163 `+notify`).
const BOOKMARKS_NOTIFY: &str = "urn:xmpp:bookmarks:1+notify";

/// The node of our capabilities.
pub const CAPS_NODE: &str = "https://loquat.im";

/// What this client can do, as we tell others.
pub fn info(node: Option<String>) -> DiscoInfoResult {
    DiscoInfoResult {
        node,
        identities: vec![Identity::new("client", "pc", "en", "Loquat")],
        features: [
            ns::DISCO_INFO,
            ns::CAPS,
            ns::RECEIPTS,
            ns::CARBONS,
            ns::PING,
            ns::SID,
            ns::CHATSTATES,
            ns::OOB,
            ns::MUC,
            // Direct invitations (XEP-0249), handled in `muc`.
            super::muc::NS_CONFERENCE,
            // Displayed markers (XEP-0333), handled in `message`.
            CHAT_MARKERS,
            // Bookmark changes made on another device arrive as PEP notifications.
            BOOKMARKS_NOTIFY,
            // Corrections (XEP-0308), in `correction` and `store::changes`.
            ns::MESSAGE_CORRECT,
            // Reactions (XEP-0444), in `reactions`.
            ns::REACTIONS,
            // Retraction (XEP-0424), both versions in use, in `retraction`.
            super::retraction::NS_RETRACT,
            super::retraction::NS_RETRACT_0,
            // Replies (XEP-0461) and the fallback indication they use (XEP-0428).
            super::reply::NS_REPLY,
            super::reply::NS_FALLBACK,
            // OMEMO device lists (issue #17), in `session::omemo`.
            crate::session::omemo::DEVICE_LIST_NOTIFY,
            super::omemo2::DEVICES_NOTIFY,
            // Avatar changes of contacts (XEP-0084), in `session::avatars`.
            super::avatar::METADATA_NOTIFY,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect(),
        extensions: Vec::new(),
    }
}

/// `<c/>` for our presence.
pub fn caps() -> Option<Caps> {
    let hash = hash_caps(&compute_disco(&info(None)), Algo::Sha_1).ok()?;
    Some(Caps::new(CAPS_NODE, hash))
}

/// Answers an IQ get we know, or `None`.
pub fn answer(
    _state: &ProtoState,
    from: &Option<Jid>,
    id: &str,
    payload: &Element,
) -> Option<Stanza> {
    if payload.is("ping", ns::PING) {
        return Some(result_reply(from.clone(), id.to_owned()));
    }
    if payload.is("query", ns::DISCO_INFO) {
        let query = DiscoInfoQuery::try_from(payload.clone()).ok()?;
        return Some(Stanza::Iq(Iq::Result {
            from: None,
            to: from.clone(),
            id: id.to_owned(),
            payload: Some(info(query.node).into()),
        }));
    }
    None
}

/// Does a disco#info result list `feature`?
pub fn has_feature(payload: Element, feature: &str) -> bool {
    DiscoInfoResult::try_from(payload)
        .map(|r| r.features.contains(feature))
        .unwrap_or(false)
}

/// `<query xmlns='http://jabber.org/protocol/disco#info'/>`.
pub fn info_query() -> Element {
    DiscoInfoQuery { node: None }.into()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    #[test]
    fn disco_info_is_answered_with_our_features() {
        let mut s = state();
        let ev = s.handle(
            stanza(
                "<iq xmlns='jabber:client' type='get' id='d1' from='bob@example.org/x'>\
                 <query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
            ),
            0,
        );
        match ev.as_slice() {
            [Event::Reply(r)] => {
                let xml = to_xml(r);
                assert!(xml.contains("type='result'"), "{xml}");
                assert!(xml.contains("urn:xmpp:receipts"), "{xml}");
                assert!(xml.contains("to='bob@example.org/x'"), "{xml}");
            }
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn everything_handled_is_advertised() {
        let features = info(None).features;
        for feature in [
            "urn:xmpp:receipts",
            "urn:xmpp:carbons:2",
            "urn:xmpp:chat-markers:0",
            "jabber:x:conference",
            "jabber:x:oob",
            "http://jabber.org/protocol/muc",
            "urn:xmpp:bookmarks:1+notify",
            "http://jabber.org/protocol/chatstates",
            "urn:xmpp:message-correct:0",
            "urn:xmpp:reactions:0",
            "urn:xmpp:message-retract:1",
            "urn:xmpp:message-retract:0",
            "urn:xmpp:reply:0",
            "urn:xmpp:fallback:0",
        ] {
            assert!(
                features.iter().any(|f| f == feature),
                "{feature}: {features:?}"
            );
        }
    }

    #[test]
    fn ping_is_answered() {
        let mut s = state();
        let ev = s.handle(
            stanza("<iq xmlns='jabber:client' type='get' id='p' from='example.org'><ping xmlns='urn:xmpp:ping'/></iq>"),
            0,
        );
        assert!(matches!(ev.as_slice(), [Event::Reply(r)] if to_xml(r).contains("result")));
    }

    #[test]
    fn own_sid_feature_is_detected() {
        let mut s = state();
        let req = s.request(
            PendingIq::OwnDiscoInfo,
            Some(Jid::from(s.own.clone())),
            true,
            info_query(),
        );
        let Stanza::Iq(Iq::Get { id, .. }) = req else {
            unreachable!()
        };
        let ev = s.handle(
            stanza(&format!(
                "<iq xmlns='jabber:client' type='result' id='{id}' from='me@example.org'>\
                 <query xmlns='http://jabber.org/protocol/disco#info'>\
                 <identity category='account' type='registered'/><feature var='urn:xmpp:sid:0'/></query></iq>"
            )),
            0,
        );
        assert_eq!(ev, vec![Event::OwnFeatures { sid: true }]);
        assert!(s.sid_trusted);
        assert!(!s.vcard_conversion);
    }

    #[test]
    fn own_vcard_conversion_is_detected() {
        // XEP-0398 as Prosody's mod_vcard_legacy lists it on our account.
        let mut s = state();
        let req = s.request(
            PendingIq::OwnDiscoInfo,
            Some(Jid::from(s.own.clone())),
            true,
            info_query(),
        );
        let Stanza::Iq(Iq::Get { id, .. }) = req else {
            unreachable!()
        };
        s.handle(
            stanza(&format!(
                "<iq xmlns='jabber:client' type='result' id='{id}' from='me@example.org'>\
                 <query xmlns='http://jabber.org/protocol/disco#info'>\
                 <identity category='pubsub' type='pep'/>\
                 <feature var='urn:xmpp:pep-vcard-conversion:0'/></query></iq>"
            )),
            0,
        );
        assert!(s.vcard_conversion);
    }
}
