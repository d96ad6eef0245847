use super::*;
use crate::xmpp::profile::parse_vcard;

fn el(xml: &str) -> Element {
    match xml.parse() {
        Ok(e) => e,
        Err(e) => unreachable!("test XML does not parse: {e} ({} bytes)", xml.len()),
    }
}

fn juliet() -> OwnCard {
    OwnCard {
        full_name: "Juliet Capulet".into(),
        nickname: "Jules".into(),
        email: "juliet@example.org".into(),
        phone: "+1 555 0100".into(),
        url: "https://example.org/~juliet".into(),
        birthday: "1996-07-31".into(),
        note: "Wherefore art thou?".into(),
    }
}

#[test]
fn a_vcard4_item_reads() {
    // As Prosody's mod_vcard_legacy writes it, and as XEP-0292 shows it.
    let answer = el("<pubsub xmlns='http://jabber.org/protocol/pubsub'>\
         <items node='urn:xmpp:vcard4'><item id='current'>\
         <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'>\
         <fn><text>Juliet Capulet</text></fn><nickname><text>Jules</text></nickname>\
         <email><parameters><type><text>home</text></type></parameters>\
         <text>juliet@example.org</text></email>\
         <tel><uri>tel:+1-555-0100</uri></tel>\
         <url><uri>https://example.org/~juliet</uri></url><bday><date>1996-07-31</date></bday>\
         <org><text>House Capulet</text></org>\
         <adr><locality>Verona</locality><country>Italy</country></adr>\
         <note><text>\u{202E}Wherefore art thou?</text></note>\
         </vcard></item></items></pubsub>");
    let card = parse_items(Some(&answer)).unwrap_or_default();
    assert_eq!(card.full_name.as_deref(), Some("Juliet Capulet"));
    assert_eq!(card.nickname.as_deref(), Some("Jules"));
    assert_eq!(card.emails, ["juliet@example.org"]);
    assert_eq!(card.phones, ["+1-555-0100"]);
    assert_eq!(card.url.as_deref(), Some("https://example.org/~juliet"));
    assert_eq!(card.birthday.as_deref(), Some("1996-07-31"));
    assert_eq!(card.organisation.as_deref(), Some("House Capulet"));
    assert_eq!(card.locality.as_deref(), Some("Verona"));
    assert_eq!(card.country.as_deref(), Some("Italy"));
    assert_eq!(card.note.as_deref(), Some("Wherefore art thou?"));
    // No item, another node, or not pubsub: nothing.
    let empty = el("<pubsub xmlns='http://jabber.org/protocol/pubsub'>\
         <items node='urn:xmpp:vcard4'/></pubsub>");
    assert_eq!(parse_items(Some(&empty)), None);
    let other = el("<pubsub xmlns='http://jabber.org/protocol/pubsub'>\
         <items node='x'><item><vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/></item>\
         </items></pubsub>");
    assert_eq!(parse_items(Some(&other)), None);
    assert_eq!(parse_items(None), None);
}

#[test]
fn a_huge_vcard4_is_cut_to_what_is_shown() {
    // The stream refuses stanzas over 1 MiB (`session::xml_guard`); this is what can
    // still arrive: every field cut, the addresses counted.
    let huge = "x".repeat(450 * 1024);
    let mut xml = format!(
        "<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'><fn><text>{huge}</text></fn>\
         <note><text>{huge}</text></note>"
    );
    for i in 0..1000 {
        xml.push_str(&format!("<email><text>a{i}@x</text></email>"));
    }
    xml.push_str("</vcard>");
    let card = parse_vcard4(&el(&xml)).unwrap_or_default();
    assert_eq!(
        card.full_name.map(|n| n.chars().count()),
        Some(crate::xmpp::MAX_SHORT_TEXT)
    );
    assert_eq!(card.note.map(|n| n.chars().count()), Some(MAX_NOTE));
    assert_eq!(card.emails.len(), MAX_VALUES);
}

#[test]
fn our_vcard_temp_keeps_the_photo_and_what_we_do_not_edit() {
    let current = el(
        "<vCard xmlns='vcard-temp'><FN>Old</FN><NICKNAME>old</NICKNAME>\
         <EMAIL><USERID>old@x</USERID></EMAIL><NOTE>old note</NOTE>\
         <ORG><ORGNAME>House Capulet</ORGNAME></ORG>\
         <PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0KGgo=</BINVAL></PHOTO></vCard>",
    );
    let set = vcard_temp(Some(&current), &juliet());
    let card = parse_vcard(&set).unwrap_or_default();
    assert_eq!(OwnCard::from_card(&card), juliet());
    assert_eq!(card.organisation.as_deref(), Some("House Capulet"));
    let binval = set
        .get_child("PHOTO", NS_VCARD)
        .and_then(|p| p.get_child("BINVAL", NS_VCARD))
        .map(|b| b.text());
    assert_eq!(binval.as_deref(), Some("iVBORw0KGgo="));
    // The old values are gone, not doubled.
    assert_eq!(set.children().filter(|c| c.name() == "FN").count(), 1);
    assert_eq!(set.children().filter(|c| c.name() == "NOTE").count(), 0);
    // Cleared fields are left out.
    let blank = vcard_temp(Some(&current), &OwnCard::default());
    let names: Vec<&str> = blank.children().map(|c| c.name()).collect();
    assert_eq!(names, ["ORG", "PHOTO"]);
}

#[test]
fn our_other_addresses_and_numbers_are_kept() {
    // The form edits the first address and number; the others stay as they were.
    let current = el("<vCard xmlns='vcard-temp'>\
         <EMAIL><INTERNET/><PREF/><USERID>first@x</USERID></EMAIL>\
         <EMAIL><WORK/><USERID>work@x</USERID></EMAIL>\
         <TEL><HOME/><NUMBER>+1 555 0001</NUMBER></TEL>\
         <TEL><CELL/><NUMBER>+1 555 0002</NUMBER></TEL></vCard>");
    let set = vcard_temp(Some(&current), &juliet());
    let card = parse_vcard(&set).unwrap_or_default();
    assert_eq!(card.emails, ["juliet@example.org", "work@x"]);
    assert_eq!(card.phones, ["+1 555 0100", "+1 555 0002"]);
    // Kept with their type.
    let work = set.children().filter(|c| c.name() == "EMAIL").nth(1);
    assert!(work.is_some_and(|w| w.get_child("WORK", NS_VCARD).is_some()));
    // Saved again unchanged, nothing is doubled; the first cleared, the others stay.
    let again = vcard_temp(Some(&set), &juliet());
    assert_eq!(parse_vcard(&again).unwrap_or_default(), card);
    let mut cleared = juliet();
    cleared.email.clear();
    cleared.phone = "+1 555 0002".into();
    let set = vcard_temp(Some(&set), &cleared);
    let card = parse_vcard(&set).unwrap_or_default();
    assert_eq!(card.emails, ["work@x"]);
    assert_eq!(card.phones, ["+1 555 0002"]);

    // The same in the vCard4.
    let current = el("<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'>\
         <email><text>first@x</text></email>\
         <email><parameters><type><text>work</text></type></parameters>\
         <text>work@x</text></email>\
         <tel><uri>tel:+1-555-0001</uri></tel><tel><uri>tel:+1-555-0002</uri></tel>\
         </vcard>");
    let v = vcard4(Some(&current), &juliet());
    let card = parse_vcard4(&v).unwrap_or_default();
    assert_eq!(card.emails, ["juliet@example.org", "work@x"]);
    assert_eq!(card.phones, ["+1-555-0100", "+1-555-0002"]);
    assert!(
        v.children()
            .filter(|c| c.name() == "email")
            .nth(1)
            .is_some_and(|w| w.get_child("parameters", NS_VCARD4).is_some())
    );
    let again = vcard4(Some(&v), &juliet());
    assert_eq!(parse_vcard4(&again).unwrap_or_default(), card);
    let mut same = juliet();
    same.phone = "+1 555 0002".into();
    let v = vcard4(Some(&v), &same);
    assert_eq!(parse_vcard4(&v).unwrap_or_default().phones, ["+1-555-0002"]);
}

#[test]
fn a_hostile_old_vcard_is_not_carried_over() {
    // Thousands of fields and a huge one: a few kept, the huge one dropped.
    let mut xml = String::from("<vCard xmlns='vcard-temp'>");
    xml.push_str(&format!("<TITLE>{}</TITLE>", "t".repeat(200 * 1024)));
    for i in 0..5000 {
        xml.push_str(&format!("<X-{i}>v</X-{i}>"));
    }
    xml.push_str("</vCard>");
    let set = vcard_temp(Some(&el(&xml)), &juliet());
    assert!(set.children().count() <= MAX_KEPT + 7);
    assert!(set.get_child("TITLE", NS_VCARD).is_none());
    // What we type ourselves is bounded too.
    let mut long = juliet();
    long.note = "n".repeat(1_000_000);
    long.full_name = "f".repeat(1_000_000);
    let set = vcard_temp(None, &long);
    assert!(String::from(&set).len() < 10 * 1024);
}

#[test]
fn our_vcard4_reads_back_as_written() {
    let current = el("<vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'>\
         <fn><text>Old</text></fn><impp><uri>xmpp:juliet@example.org</uri></impp></vcard>");
    let v = vcard4(Some(&current), &juliet());
    let card = parse_vcard4(&v).unwrap_or_default();
    // The number goes out as a tel: URI (spaces are not allowed there).
    let mut expect = juliet();
    expect.phone = "+1-555-0100".into();
    assert_eq!(OwnCard::from_card(&card), expect);
    assert!(v.get_child("impp", NS_VCARD4).is_some());
    assert_eq!(v.children().filter(|c| c.name() == "fn").count(), 1);
    let published = publish_vcard4(v);
    assert_eq!(
        parse_items(Some(&el(
            &String::from(&published).replace("publish", "items")
        ))),
        Some(card)
    );
}

#[test]
fn the_nickname_is_published_as_xep_0172() {
    let nick_of = |pubsub: &Element| {
        let publish = pubsub.get_child("publish", NS_PUBSUB)?;
        assert_eq!(publish.attr("node"), Some(NS_NICK));
        let item = publish.get_child("item", NS_PUBSUB)?;
        Some(item.get_child("nick", NS_NICK)?.text())
    };
    assert_eq!(nick_of(&publish_nick(" Jules ")).as_deref(), Some("Jules"));
    assert_eq!(nick_of(&publish_nick("")).as_deref(), Some(""));
}

#[test]
fn what_our_account_offers() {
    let prosody = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='account' type='registered'/>\
         <identity category='pubsub' type='pep'/>\
         <feature var='urn:xmpp:pep-vcard-conversion:0'/></query>");
    assert_eq!(
        support(Some(&prosody)),
        Support {
            pep: true,
            conversion: true
        }
    );
    let plain = el("<query xmlns='http://jabber.org/protocol/disco#info'>\
         <identity category='account' type='registered'/></query>");
    assert_eq!(support(Some(&plain)), Support::default());
    assert_eq!(support(None), Support::default());
}

#[test]
fn a_ten_megabyte_vcard_never_reaches_the_parser() {
    // The answer to our vCard4 (or vcard-temp) request, 10 MB of text, fed as the
    // network gives it, in 16 KiB pieces, through the stream's guard: it is dropped
    // whole, and what goes on to the parser stays a few bytes.
    use crate::session::xml_guard::{DropReason, Guard, MAX_DEPTH, MAX_STANZA_BYTES};
    let header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
        xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>";
    let huge = "x".repeat(10 * 1024 * 1024);
    let answer = format!(
        "<iq type='result' id='v1' from='eve@example.org'>\
         <pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:vcard4'>\
         <item id='current'><vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'>\
         <note><text>{huge}</text></note></vcard></item></items></pubsub></iq><presence/>"
    );
    let mut guard = Guard::new(MAX_DEPTH, MAX_STANZA_BYTES);
    let mut out = Vec::new();
    let mut dropped = guard.feed(header.as_bytes(), &mut out);
    out.clear();
    let mut most = 0;
    for piece in answer.as_bytes().chunks(16 * 1024) {
        dropped.extend(guard.feed(piece, &mut out));
        most = most.max(out.len());
    }
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].reason, DropReason::TooLarge);
    assert!(dropped[0].head.starts_with("<iq type='result' id='v1'"));
    // Only the stand-in for the dropped stanza and the next one get through; the text
    // was never kept (nothing passed on is near the stanza's size).
    let passed = String::from_utf8_lossy(&out);
    assert!(passed.ends_with("<presence/>"), "{passed}");
    assert!(most < 64 * 1024, "{most} bytes passed on");
}
