//! The session's OMEMO decisions on literal stanzas, with two real OMEMO devices in memory.

use super::*;
use crate::omemo::{MemoryStore, Omemo};

const ALICE: &str = "alice@localhost";
const BOB: &str = "bob@localhost";

fn pair() -> (Omemo, Omemo, Element) {
    let mut alice = Omemo::open(MemoryStore::default()).unwrap();
    let bob = Omemo::open(MemoryStore::default()).unwrap();
    let bundle = oxml::parse_bundle(&oxml::bundle_element(&bob.bundle().unwrap())).unwrap();
    alice.build_session(BOB, bob.device_id(), &bundle).unwrap();
    let el = alice
        .encrypt("secret words", &[(BOB, bob.device_id())])
        .unwrap()
        .element;
    (alice, bob, el)
}

fn message(xml: &str) -> Message {
    Message::try_from(xml.parse::<Element>().unwrap()).unwrap()
}

fn own() -> BareJid {
    BareJid::new(BOB).unwrap()
}

const FALLBACK: &str =
    "I sent you an OMEMO encrypted message but your client doesn’t seem to support that.";

#[test]
fn a_live_message_is_decrypted_in_place_of_its_fallback_body() {
    let (alice, mut bob, el) = pair();
    let mut m = message(&format!(
        "<message xmlns='jabber:client' from='{ALICE}/phone' to='{BOB}' type='chat' id='m1'>\
         <body>{FALLBACK}</body></message>"
    ));
    m.payloads.push(el);
    let found = rewrite(&mut m, &own(), |from, e| bob.decrypt(from.as_str(), e)).unwrap();
    assert_eq!(found.sender.as_str(), ALICE);
    assert_eq!(found.device, Some(alice.device_id()));
    assert!(found.result.as_ref().unwrap().prekey);
    assert_eq!(m.bodies.values().collect::<Vec<_>>(), ["secret words"]);
    assert!(!m.payloads.iter().any(is_encrypted));
}

#[test]
fn carbons_and_archive_results_are_decrypted_and_failures_say_why() {
    let (_alice, mut bob, el) = pair();
    let wrap = |outer: &str, close: &str| {
        let mut m = message(&format!(
            "<message xmlns='jabber:client' to='{BOB}/pc'>{outer}\
             <forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' from='{ALICE}/phone' to='{BOB}' type='chat'>\
             <body>{FALLBACK}</body></message></forwarded>{close}</message>"
        ));
        let inner = m.payloads[0]
            .get_child_mut("forwarded", NS_FORWARD)
            .unwrap()
            .get_child_mut("message", "jabber:client")
            .unwrap();
        inner.append_child(el.clone());
        m
    };
    let body = |m: &Message| {
        let inner = m.payloads[0]
            .get_child("forwarded", NS_FORWARD)
            .unwrap()
            .get_child("message", "jabber:client")
            .unwrap();
        assert!(inner.get_child("encrypted", oxml::NS).is_none());
        let bodies: Vec<String> = inner
            .children()
            .filter(|c| c.name() == "body")
            .map(|b| b.text())
            .collect();
        bodies
    };
    let mut carbon = wrap("<received xmlns='urn:xmpp:carbons:2'>", "</received>");
    let found = rewrite(&mut carbon, &own(), |f, e| bob.decrypt(f.as_str(), e)).unwrap();
    assert!(found.result.is_ok());
    assert_eq!(body(&carbon), ["secret words"]);

    // The same message again from the archive: already decrypted, said so, not the fallback.
    let mut archived = wrap(
        "<result xmlns='urn:xmpp:mam:2' queryid='q' id='a1'>",
        "</result>",
    );
    let found = rewrite(&mut archived, &own(), |f, e| bob.decrypt(f.as_str(), e)).unwrap();
    assert!(found.result.is_err());
    let bodies = body(&archived);
    assert_eq!(bodies.len(), 1);
    assert!(undecryptable(&bodies[0]).is_some(), "{bodies:?}");

    // Not for this device.
    let mut carol = Omemo::open(MemoryStore::default()).unwrap();
    let mut again = wrap("<received xmlns='urn:xmpp:carbons:2'>", "</received>");
    let found = rewrite(&mut again, &own(), |f, e| carol.decrypt(f.as_str(), e)).unwrap();
    assert_eq!(
        Undecryptable::from_error(found.result.as_ref().unwrap_err()),
        Undecryptable::NotForThisDevice
    );
    assert_eq!(
        body(&again),
        [Undecryptable::NotForThisDevice.body()],
        "the reason, never the fallback"
    );
}

#[test]
fn a_forged_carbon_moves_no_ratchet() {
    let (_alice, mut bob, el) = pair();
    let mut m = message(&format!(
        "<message xmlns='jabber:client' from='mallory@localhost' to='{BOB}/pc'>\
         <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
         <message xmlns='jabber:client' from='{ALICE}/phone' to='{BOB}' type='chat'/>\
         </forwarded></received></message>"
    ));
    m.payloads[0]
        .get_child_mut("forwarded", NS_FORWARD)
        .unwrap()
        .get_child_mut("message", "jabber:client")
        .unwrap()
        .append_child(el);
    let mut called = false;
    assert!(
        rewrite(&mut m, &own(), |f, e| {
            called = true;
            bob.decrypt(f.as_str(), e)
        })
        .is_none()
    );
    assert!(!called);
}

#[test]
fn device_lists_merge_and_notifications_are_read() {
    assert_eq!(merged_device_list(&[1, 2], 3), Some(vec![1, 2, 3]));
    assert_eq!(merged_device_list(&[1, 3], 3), None);
    assert_eq!(merged_device_list(&[], 3), Some(vec![3]));
    let m = message(
        "<message xmlns='jabber:client' from='alice@localhost' type='headline'>\
         <event xmlns='http://jabber.org/protocol/pubsub#event'>\
         <items node='eu.siacs.conversations.axolotl.devicelist'><item id='current'>\
         <list xmlns='eu.siacs.conversations.axolotl'><device id='12'/><device id='34'/></list>\
         </item></items></event></message>",
    );
    let (who, list) = device_list_event(&m).unwrap();
    assert_eq!((who.as_str(), list), (ALICE, vec![12, 34]));
    let other = message(
        "<message xmlns='jabber:client' from='alice@localhost' type='headline'>\
         <event xmlns='http://jabber.org/protocol/pubsub#event'>\
         <items node='urn:xmpp:bookmarks:1'/></event></message>",
    );
    assert!(device_list_event(&other).is_none());
    assert_eq!(
        undecryptable(&Undecryptable::BadMac.body()),
        Some(Undecryptable::BadMac)
    );
    assert_eq!(undecryptable("hello"), None);
}

#[test]
fn the_plan_never_falls_back_to_plain_text_once_encryption_applies() {
    let bob = own();
    let alice = BareJid::new(ALICE).unwrap();
    // Unknown devices: wait, whatever the choice but Off.
    assert_eq!(plan(Choice::Auto, &alice, None, &bob, &[1], 1), Plan::Wait);
    assert_eq!(plan(Choice::On, &alice, None, &bob, &[1], 1), Plan::Wait);
    assert_eq!(plan(Choice::Off, &alice, None, &bob, &[1], 1), Plan::Plain);
    // No OMEMO at the contact: plain by default, refused when turned on.
    assert_eq!(
        plan(Choice::Auto, &alice, Some(&[]), &bob, &[1], 1),
        Plan::Plain
    );
    assert!(matches!(
        plan(Choice::On, &alice, Some(&[]), &bob, &[1], 1),
        Plan::Fail(_)
    ));
    // The contact's devices and our other ones, never this one.
    assert_eq!(
        plan(Choice::Auto, &alice, Some(&[7, 8]), &bob, &[1, 2], 1),
        Plan::Encrypt(vec![
            (alice.clone(), 7),
            (alice.clone(), 8),
            (bob.clone(), 2)
        ])
    );
    assert_eq!(Choice::parse(Some(Choice::On.as_str())), Choice::On);
    assert_eq!(Choice::parse(Some("junk")), Choice::Auto);
    use xmpp_parsers::stanza_error::DefinedCondition as C;
    assert!(means_no_devices(&C::ItemNotFound));
    assert!(
        !means_no_devices(&C::RemoteServerTimeout),
        "a timeout is not 'none'"
    );
}

#[test]
fn a_sealed_message_carries_no_plain_text() {
    let (_alice, _bob, el) = pair();
    let mut m = message(&format!(
        "<message xmlns='jabber:client' to='{ALICE}' type='chat' id='x'><body>top secret</body>\
         <x xmlns='jabber:x:oob'><url>https://files/secret.png</url></x></message>"
    ));
    seal_message(&mut m, el);
    let xml = String::from(&Element::from(m));
    assert!(
        !xml.contains("top secret") && !xml.contains("secret.png"),
        "{xml}"
    );
    assert!(
        xml.contains(FALLBACK_BODY) && xml.contains("urn:xmpp:eme:0"),
        "{xml}"
    );
}

#[test]
fn markers_are_told_from_text() {
    assert!(is_marker(&Undecryptable::BadMac.body()));
    assert!(is_marker(&trust::new_device_body(7, None)));
    assert!(!is_marker("hello"));
    assert!(!is_marker("quoting 🔒omemo-undecryptable:bad-mac later"));
}

/// A message to recipients of both versions carries both `<encrypted>` elements, the
/// fallback body and never the text; one for OMEMO 2 alone says OMEMO 2 in its hint.
#[test]
fn a_message_may_carry_both_versions() {
    let old = Element::builder("encrypted", oxml::NS).build();
    let new = Element::builder("encrypted", x2::NS).build();
    let fresh = || {
        message(&format!(
            "<message xmlns='jabber:client' to='{ALICE}' type='chat' id='x'><body>secret</body></message>"
        ))
    };
    let mut both = fresh();
    seal_message_all(&mut both, vec![new.clone(), old]);
    assert_eq!(both.payloads.iter().filter(|p| is_encrypted(p)).count(), 1);
    assert_eq!(
        both.payloads.iter().filter(|p| is_encrypted_v2(p)).count(),
        1
    );
    let xml = String::from(&Element::from(both));
    assert!(
        !xml.contains("secret") && xml.contains(FALLBACK_BODY),
        "{xml}"
    );
    let mut only = fresh();
    seal_message_all(&mut only, vec![new]);
    let xml = String::from(&Element::from(only));
    assert!(xml.contains("namespace='urn:xmpp:omemo:2'"), "{xml}");
}

/// An OMEMO 2 `<encrypted>` in a chat message (and in a carbon) is read as OMEMO 2 and
/// preferred when the message carries both versions; both are removed.
#[test]
fn omemo_2_is_read_first_and_both_elements_are_removed() {
    let mut m = message(&format!(
        "<message xmlns='jabber:client' from='{BOB}/phone' to='{ALICE}' type='chat'>\
         <body>fallback</body><encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'/></encrypted>\
         <encrypted xmlns='urn:xmpp:omemo:2'><header sid='2'/></encrypted></message>"
    ));
    let own: BareJid = ALICE.parse().unwrap();
    let found = rewrite(&mut m, &own, |_, e| {
        assert!(is_encrypted_v2(e));
        Ok(Decrypted {
            body: Some("text".into()),
            device: 2,
            prekey: false,
        })
    })
    .unwrap();
    assert!(found.v2);
    assert_eq!(found.device, Some(2));
    assert!(
        !m.payloads
            .iter()
            .any(|p| is_encrypted(p) || is_encrypted_v2(p))
    );
    assert_eq!(m.bodies.values().next().map(String::as_str), Some("text"));
}
