use super::*;
use crate::xmpp::test_support::{stanza, state};
use crate::xmpp::to_xml;
use xmpp_parsers::iq::Iq;

fn jid(s: &str) -> Jid {
    Jid::new(s).unwrap_or_else(|_| unreachable!("{s}"))
}

fn id_of(st: &Stanza) -> String {
    match st {
        Stanza::Iq(Iq::Get { id, .. } | Iq::Set { id, .. }) => id.clone(),
        other => unreachable!("{other:?}"),
    }
}

/// Discovery with these server features, answered; returns the fetch request, if any.
fn discovered(s: &mut ProtoState, features: &[&str]) -> Option<Stanza> {
    let req = discover(s);
    let xml = to_xml(&req);
    assert!(xml.contains("to='example.org'"), "{xml}");
    assert!(xml.contains("disco#info"), "{xml}");
    let feats: String = features
        .iter()
        .map(|f| format!("<feature var='{f}'/>"))
        .collect();
    let ev = s.handle(
        stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{}' from='example.org'>\
             <query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='server' type='im'/>{feats}</query></iq>",
            id_of(&req)
        )),
        0,
    );
    match ev.as_slice() {
        [Event::Reply(fetch)] => crate::xmpp::parse_stanza(&to_xml(fetch)),
        [
            Event::Blocking(BlockEvent::List {
                supported: false, ..
            }),
        ] => None,
        other => unreachable!("{other:?}"),
    }
}

fn with_list(xml_items: &str) -> ProtoState {
    let mut s = state();
    let fetch = discovered(&mut s, &[ns::BLOCKING, ns::SPAM_REPORTING]);
    let fetch = fetch.unwrap_or_else(|| unreachable!());
    let xml = to_xml(&fetch);
    assert!(xml.contains("type='get'"), "{xml}");
    assert!(
        xml.contains("<blocklist xmlns='urn:xmpp:blocking'"),
        "{xml}"
    );
    let ev = s.handle(
        stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{}'>\
             <blocklist xmlns='urn:xmpp:blocking'>{xml_items}</blocklist></iq>",
            id_of(&fetch)
        )),
        0,
    );
    assert!(
        matches!(
            ev.as_slice(),
            [Event::Blocking(BlockEvent::List {
                supported: true,
                reporting: true,
                ..
            })]
        ),
        "{ev:?}"
    );
    s
}

#[test]
fn the_blocklist_is_fetched_when_the_server_blocks() {
    let s = with_list("<item jid='spam@evil.example'/><item jid='spam.example'/>");
    assert_eq!(
        s.blocklist.items(),
        vec![jid("spam.example"), jid("spam@evil.example")]
    );
    let b = &s.blocklist;
    assert!(b.blocks(&jid("spam@evil.example")));
    assert!(b.blocks(&jid("spam@evil.example/bot")));
    assert!(b.blocks(&jid("anyone@spam.example/x")), "a whole domain");
    assert!(!b.blocks(&jid("friend@evil.example")));
    assert!(!b.blocks(&jid("me@example.org")));
}

#[test]
fn a_server_without_blocking_is_never_asked_for_the_list() {
    let mut s = state();
    assert!(discovered(&mut s, &["urn:xmpp:mam:2"]).is_none());
    assert!(block(&mut s, vec![jid("a@b")], false).is_none());
    assert!(unblock(&mut s, vec![jid("a@b")]).is_none());
}

#[test]
fn blocking_carries_a_report_only_where_the_server_takes_them() {
    let mut s = with_list("");
    let st = block(&mut s, vec![jid("spam@evil.example")], true).unwrap_or_else(|| unreachable!());
    let xml = to_xml(&st);
    assert!(xml.contains("type='set'"), "{xml}");
    assert!(
        xml.contains("<block xmlns='urn:xmpp:blocking'><item jid='spam@evil.example'><report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'/></item></block>"),
        "{xml}"
    );
    // The server's answer applies the change even before its push.
    let ev = s.handle(
        stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{}'/>",
            id_of(&st)
        )),
        0,
    );
    assert!(
        matches!(ev.as_slice(), [Event::Blocking(BlockEvent::List { items, .. })] if items.len() == 1)
    );
    assert!(s.blocklist.blocks(&jid("spam@evil.example/x")));

    let mut s = state();
    let fetch = discovered(&mut s, &[ns::BLOCKING]).unwrap_or_else(|| unreachable!());
    s.handle(
        stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{}'><blocklist xmlns='urn:xmpp:blocking'/></iq>",
            id_of(&fetch)
        )),
        0,
    );
    let st = block(&mut s, vec![jid("spam@evil.example")], true).unwrap_or_else(|| unreachable!());
    assert!(!to_xml(&st).contains("report"), "{}", to_xml(&st));
}

#[test]
fn a_refused_block_changes_nothing_and_says_why() {
    let mut s = with_list("");
    let st = block(&mut s, vec![jid("x@y")], false).unwrap_or_else(|| unreachable!());
    let ev = s.handle(
        stanza(&format!(
            "<iq xmlns='jabber:client' type='error' id='{}'><error type='cancel'>\
             <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
            id_of(&st)
        )),
        0,
    );
    assert!(
        matches!(
            ev.as_slice(),
            [Event::Blocking(BlockEvent::Refused { block: true, .. })]
        ),
        "{ev:?}"
    );
    assert!(s.blocklist.is_empty());
}

#[test]
fn pushes_from_our_other_clients_change_the_list() {
    let mut s = with_list("<item jid='a@x'/>");
    let ev = s.handle(
        stanza(
            "<iq xmlns='jabber:client' type='set' id='push1'>\
             <block xmlns='urn:xmpp:blocking'><item jid='b@x'/></block></iq>",
        ),
        0,
    );
    assert!(
        matches!(ev.first(), Some(Event::Blocking(BlockEvent::List { items, .. })) if items.len() == 2)
    );
    assert!(matches!(ev.last(), Some(Event::Reply(r)) if to_xml(r).contains("type='result'")));
    s.handle(
        stanza(
            "<iq xmlns='jabber:client' type='set' id='push2' from='me@example.org'>\
             <unblock xmlns='urn:xmpp:blocking'><item jid='a@x'/></unblock></iq>",
        ),
        0,
    );
    assert_eq!(s.blocklist.items(), vec![jid("b@x")]);
    // An empty unblock unblocks everyone.
    s.handle(
        stanza(
            "<iq xmlns='jabber:client' type='set' id='push3'>\
             <unblock xmlns='urn:xmpp:blocking'/></iq>",
        ),
        0,
    );
    assert!(s.blocklist.is_empty());
}

#[test]
fn a_push_from_anyone_else_is_refused() {
    let mut s = with_list("<item jid='a@x'/>");
    let ev = s.handle(
        stanza(
            "<iq xmlns='jabber:client' type='set' id='evil' from='mallory@evil.example/r'>\
             <unblock xmlns='urn:xmpp:blocking'/></iq>",
        ),
        0,
    );
    assert!(
        matches!(ev.as_slice(), [Event::Reply(r)] if to_xml(r).contains("type='error'")),
        "{ev:?}"
    );
    assert_eq!(s.blocklist.len(), 1);
}

/// Hostile: a blocklist of 50,000 entries keeps [`MAX_BLOCKLIST`]; entries that are not
/// JIDs are skipped, not fatal; a push cannot grow the list past the cap either.
#[test]
fn a_huge_or_broken_blocklist_is_capped() {
    let mut items = String::from("<item jid='@@bad'/><item/><item jid=''/>");
    for i in 0..50_000 {
        items.push_str(&format!("<item jid='spam{i}@evil.example'/>"));
    }
    let t = std::time::Instant::now();
    let mut s = with_list(&items);
    let read = t.elapsed();
    assert_eq!(s.blocklist.len(), MAX_BLOCKLIST);
    // The cost of the cap on every stanza: a lookup in the full list.
    let from = jid("friend@example.org/a");
    let t = std::time::Instant::now();
    for _ in 0..10_000 {
        assert!(!s.blocklist.blocks(&from));
    }
    eprintln!(
        "figures: a 50,000-item blocklist ({} KB of XML) read and capped in {read:?};          one lookup in {MAX_BLOCKLIST} entries {:?}",
        items.len() / 1024,
        t.elapsed() / 10_000
    );
    let mut push = String::new();
    for i in 0..100 {
        push.push_str(&format!("<item jid='more{i}@evil.example'/>"));
    }
    s.handle(
        stanza(&format!(
            "<iq xmlns='jabber:client' type='set' id='p'><block xmlns='urn:xmpp:blocking'>{push}</block></iq>"
        )),
        0,
    );
    assert_eq!(s.blocklist.len(), MAX_BLOCKLIST);
}

/// What a blocked sender sends is dropped before it is stored or shown; others' not.
#[test]
fn blocked_senders_are_silenced() {
    let mut s = with_list("<item jid='spam@evil.example'/>");
    let dropped = [
        "<message xmlns='jabber:client' type='chat' id='m1' from='spam@evil.example/bot' to='me@example.org/desk'><body>buy now</body></message>",
        "<presence xmlns='jabber:client' from='spam@evil.example/bot'/>",
        "<presence xmlns='jabber:client' type='subscribe' from='spam@evil.example'/>",
        "<message xmlns='jabber:client' type='chat' from='spam@evil.example/bot'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>",
        // A carbon of what they sent to our other client.
        "<message xmlns='jabber:client' from='me@example.org' type='chat'><received xmlns='urn:xmpp:carbons:2'>\
         <forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' type='chat' id='m2' from='spam@evil.example/bot' to='me@example.org/phone'><body>hi</body></message></forwarded></received></message>",
    ];
    for xml in dropped {
        let ev = s.handle(stanza(xml), 0);
        assert!(
            !ev.iter().any(|e| matches!(
                e,
                Event::Message { .. }
                    | Event::Presence { .. }
                    | Event::SubscriptionRequest(_)
                    | Event::ChatState { .. }
            )),
            "{xml}: {ev:?}"
        );
    }
    let ev = s.handle(
        stanza("<message xmlns='jabber:client' type='chat' id='m3' from='friend@example.org/a' to='me@example.org/desk'><body>hello</body></message>"),
        0,
    );
    assert!(
        ev.iter().any(|e| matches!(e, Event::Message { .. })),
        "{ev:?}"
    );
    let ev = s.handle(
        stanza("<presence xmlns='jabber:client' type='subscribe' from='friend@example.org'/>"),
        0,
    );
    assert!(
        matches!(ev.as_slice(), [Event::SubscriptionRequest(_)]),
        "{ev:?}"
    );
    // Unblocked again: they are heard.
    s.handle(
        stanza("<iq xmlns='jabber:client' type='set' id='u'><unblock xmlns='urn:xmpp:blocking'><item jid='spam@evil.example'/></unblock></iq>"),
        0,
    );
    let ev = s.handle(stanza(dropped[0]), 0);
    assert!(
        ev.iter().any(|e| matches!(e, Event::Message { .. })),
        "{ev:?}"
    );
}
