use super::*;
use crate::xmpp::test_support::stanza;
use xmpp_parsers::stanza::Stanza;

fn message(xml: &str) -> Message {
    match stanza(xml) {
        Stanza::Message(m) => m,
        other => unreachable!("{other:?}"),
    }
}

fn presence(xml: &str) -> Presence {
    match stanza(xml) {
        Stanza::Presence(p) => p,
        other => unreachable!("{other:?}"),
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

const HASH: &str = "111f4b3c50d7b0df729d299bc6f8e9ef9066971f";

fn notification(inner: &str) -> String {
    format!(
        "<message xmlns='jabber:client' from='juliet@capulet.lit' to='romeo@montague.lit/home'>\
         <event xmlns='http://jabber.org/protocol/pubsub#event'>\
         <items node='urn:xmpp:avatar:metadata'>{inner}</items></event></message>"
    )
}

/// XEP-0084 example 5 (two versions, one of them by URL): the PNG in the data node is
/// picked.
#[test]
fn metadata_notification_is_read_and_the_png_is_picked() {
    let xml = notification(&format!(
        "<item id='{HASH}'><metadata xmlns='urn:xmpp:avatar:metadata'>\
         <info bytes='12345' height='64' id='e279f80c38f99c1e7e53e262b440993b2f7eea57' \
         type='image/gif' width='64' url='http://avatars.example/x.gif'/>\
         <info bytes='12345' height='64' id='{HASH}' type='image/png' width='64'/>\
         </metadata></item>"
    ));
    let (from, meta) = metadata_event(&message(&xml)).unwrap();
    assert_eq!(from.as_str(), "juliet@capulet.lit");
    let Metadata::Set(infos) = &meta else {
        unreachable!("{meta:?}")
    };
    assert_eq!(infos.len(), 2);
    let picked = meta.pick().unwrap();
    assert_eq!(picked.id.as_str(), HASH);
    assert_eq!((picked.width, picked.height), (Some(64), Some(64)));
}

#[test]
fn empty_metadata_or_retraction_disables_the_avatar() {
    let xml =
        notification("<item id='current'><metadata xmlns='urn:xmpp:avatar:metadata'/></item>");
    assert_eq!(
        metadata_event(&message(&xml)).unwrap().1,
        Metadata::Disabled
    );
    let xml = notification(&format!("<retract id='{HASH}'/>"));
    assert_eq!(
        metadata_event(&message(&xml)).unwrap().1,
        Metadata::Disabled
    );
    // Other nodes are not ours.
    let other = "<message xmlns='jabber:client' from='j@c.lit'><event xmlns='http://jabber.org/protocol/pubsub#event'>\
                 <items node='urn:xmpp:bookmarks:1'><item id='x'/></items></event></message>";
    assert!(metadata_event(&message(other)).is_none());
}

/// Hostile: thousands of `<info/>` are read no further than `MAX_INFOS`; versions over
/// the size cap, by URL, or with a garbled id are never picked.
#[test]
fn huge_metadata_lists_are_capped() {
    let mut infos = String::new();
    for i in 0..5000 {
        infos.push_str(&format!(
            "<info bytes='{}' id='{:040x}' type='image/png'/>",
            MAX_AVATAR_BYTES + 1,
            i
        ));
    }
    let xml = notification(&format!(
        "<item id='x'><metadata xmlns='urn:xmpp:avatar:metadata'>{infos}</metadata></item>"
    ));
    let (_, meta) = metadata_event(&message(&xml)).unwrap();
    let Metadata::Set(read) = &meta else {
        unreachable!()
    };
    assert_eq!(read.len(), MAX_INFOS);
    assert!(meta.pick().is_none(), "every version is over the cap");
    let garbled = notification(
        "<item id='x'><metadata xmlns='urn:xmpp:avatar:metadata'>\
         <info bytes='10' id='../../etc/passwd' type='image/png'/></metadata></item>",
    );
    let (_, meta) = metadata_event(&message(&garbled)).unwrap();
    assert_eq!(meta, Metadata::Disabled);
    assert!(AvatarHash::parse("../../../../../../../../../../../etc/passwd").is_none());
}

#[test]
fn presence_photo_hash_is_read() {
    let p = |inner: &str| {
        presence(&format!(
            "<presence xmlns='jabber:client' from='juliet@capulet.lit/balcony'>{inner}</presence>"
        ))
    };
    assert_eq!(presence_photo(&p("")), None);
    assert_eq!(
        presence_photo(&p(&format!(
            "<x xmlns='vcard-temp:x:update'><photo>{}</photo></x>",
            HASH.to_uppercase()
        ))),
        Some(PhotoUpdate::Hash(AvatarHash::parse(HASH).unwrap()))
    );
    assert_eq!(
        presence_photo(&p("<x xmlns='vcard-temp:x:update'><photo/></x>")),
        Some(PhotoUpdate::NoPhoto)
    );
    assert_eq!(
        presence_photo(&p("<x xmlns='vcard-temp:x:update'/>")),
        Some(PhotoUpdate::Unknown)
    );
    assert_eq!(
        presence_photo(&p(
            "<x xmlns='vcard-temp:x:update'><photo>nonsense</photo></x>"
        )),
        Some(PhotoUpdate::Unknown)
    );
}

#[test]
fn an_occupants_real_address_is_read_and_garbage_is_none() {
    let p = |inner: &str| {
        presence(&format!(
            "<presence xmlns='jabber:client' from='tea@conference.lit/juliet'>{inner}</presence>"
        ))
    };
    let user = |item: &str| {
        p(&format!(
            "<x xmlns='http://jabber.org/protocol/muc#user'>{item}</x>\
             <x xmlns='vcard-temp:x:update'><photo/></x>"
        ))
    };
    assert_eq!(
        occupant_real_jid(&user(
            "<item affiliation='member' role='participant' jid='juliet@capulet.lit/balcony'/>"
        )),
        BareJid::new("juliet@capulet.lit").ok()
    );
    // Anonymous room: no address; no muc#user at all; not an address; a huge one.
    assert_eq!(occupant_real_jid(&user("<item role='participant'/>")), None);
    assert_eq!(occupant_real_jid(&p("")), None);
    assert_eq!(occupant_real_jid(&user("<item jid='@@/'/>")), None);
    // Longer than a JID part may be (1,023 bytes).
    let huge = format!("<item jid='{}@x.lit'/>", "a".repeat(2_000));
    assert_eq!(occupant_real_jid(&user(&huge)), None);
    // The address in another namespace's item is not the room's word.
    assert_eq!(
        occupant_real_jid(&p(
            "<x xmlns='urn:example'><item jid='mallory@evil.lit'/></x>"
        )),
        None
    );
}

fn data_answer(id: &str, text: &str) -> Element {
    format!(
        "<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'>\
         <item id='{id}'><data xmlns='urn:xmpp:avatar:data'>{text}</data></item></items></pubsub>"
    )
    .parse()
    .unwrap()
}

#[test]
fn data_is_fetched_by_id_and_checked_against_it() {
    let bytes = b"\x89PNG pretend".to_vec();
    let id = AvatarHash::of(&bytes);
    let req = String::from(&data_request(&id));
    assert!(req.contains("node='urn:xmpp:avatar:data'"), "{req}");
    assert!(req.contains(&format!("id='{id}'")), "{req}");
    // Line breaks inside base64 are fine.
    let wrapped: String = b64(&bytes)
        .as_bytes()
        .chunks(4)
        .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
        .collect();
    assert_eq!(
        data_result(Some(&data_answer(id.as_str(), &wrapped)), &id),
        Ok(bytes)
    );
    // Different bytes under the same id: refused.
    let forged = data_answer(id.as_str(), &b64(b"something else"));
    assert_eq!(
        data_result(Some(&forged), &id),
        Err(AvatarError::HashMismatch)
    );
    assert_eq!(data_result(None, &id), Err(AvatarError::Missing));
    let junk = data_answer(id.as_str(), "!!!not base64!!!");
    assert_eq!(data_result(Some(&junk), &id), Err(AvatarError::NotBase64));
}

/// Hostile: base64 over the cap is refused before it is decoded.
#[test]
fn oversized_base64_is_refused() {
    let big = "A".repeat((MAX_AVATAR_BYTES / 3 + 2) * 4);
    let id = AvatarHash::parse(HASH).unwrap();
    assert_eq!(
        data_result(Some(&data_answer(HASH, &big)), &id),
        Err(AvatarError::TooLarge)
    );
    assert_eq!(
        decode_capped(&big, MAX_AVATAR_BYTES),
        Err(AvatarError::TooLarge)
    );
    // Exactly at the cap is fine.
    let at_cap = b64(&vec![7u8; MAX_AVATAR_BYTES]);
    assert_eq!(
        decode_capped(&at_cap, MAX_AVATAR_BYTES).map(|b| b.len()),
        Ok(MAX_AVATAR_BYTES)
    );
    let vcard: Element = format!(
        "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>{big}</BINVAL></PHOTO></vCard>"
    )
    .parse()
    .unwrap();
    assert_eq!(vcard_photo(Some(&vcard), None), Err(AvatarError::TooLarge));
}

#[test]
fn vcard_photo_is_read_and_checked_against_the_presence_hash() {
    let bytes = b"a picture".to_vec();
    let hash = AvatarHash::of(&bytes);
    let vcard: Element = format!(
        "<vCard xmlns='vcard-temp'><FN>Juliet</FN><PHOTO><TYPE>image/png</TYPE>\
         <BINVAL>{}</BINVAL></PHOTO></vCard>",
        b64(&bytes)
    )
    .parse()
    .unwrap();
    assert_eq!(
        vcard_photo(Some(&vcard), Some(&hash)),
        Ok(Some((hash.clone(), bytes.clone())))
    );
    assert_eq!(vcard_photo(Some(&vcard), None), Ok(Some((hash, bytes))));
    let other = AvatarHash::parse(HASH).unwrap();
    assert_eq!(
        vcard_photo(Some(&vcard), Some(&other)),
        Err(AvatarError::HashMismatch)
    );
    let empty: Element = "<vCard xmlns='vcard-temp'><FN>x</FN></vCard>"
        .parse()
        .unwrap();
    assert_eq!(vcard_photo(Some(&empty), None), Ok(None));
    assert_eq!(vcard_photo(None, None), Ok(None));
}

#[test]
fn publishing_builds_data_metadata_and_a_vcard_that_keeps_other_fields() {
    let bytes = b"our png".to_vec();
    let (id, data) = publish_data(&bytes);
    assert_eq!(id, AvatarHash::of(&bytes));
    let xml = String::from(&data);
    assert!(
        xml.contains("<publish node='urn:xmpp:avatar:data'>"),
        "{xml}"
    );
    assert!(xml.contains(&b64(&bytes)), "{xml}");
    // What we publish reads back as what we meant.
    let as_answer: Element = String::from(&data)
        .replace("<publish ", "<items ")
        .replace("</publish>", "</items>")
        .parse()
        .unwrap();
    assert_eq!(data_result(Some(&as_answer), &id), Ok(bytes.clone()));
    let info = Info {
        id: id.clone(),
        bytes: bytes.len() as u64,
        mime: "image/png".into(),
        width: Some(256),
        height: Some(256),
        url: None,
    };
    let meta = publish_metadata(&info);
    let metadata = meta
        .get_child("publish", NS_PUBSUB)
        .and_then(|p| p.get_child("item", NS_PUBSUB))
        .and_then(|i| i.get_child("metadata", NS_METADATA))
        .unwrap();
    assert_eq!(parse_metadata(metadata), Some(Metadata::Set(vec![info])));

    let old: Element =
        "<vCard xmlns='vcard-temp'><FN>Romeo</FN><PHOTO><BINVAL>AAAA</BINVAL></PHOTO></vCard>"
            .parse()
            .unwrap();
    let new = vcard_with_photo(Some(&old), &bytes, "image/png");
    assert_eq!(
        new.get_child("FN", NS_VCARD).map(|f| f.text()),
        Some("Romeo".into())
    );
    assert_eq!(
        new.children().filter(|c| c.is("PHOTO", NS_VCARD)).count(),
        1
    );
    assert_eq!(vcard_photo(Some(&new), Some(&id)), Ok(Some((id, bytes))));
}

#[test]
fn taking_our_avatar_away() {
    // An empty metadata item, which reads as "disabled" to everyone (and to us).
    let el = publish_no_metadata();
    let publish = el.get_child("publish", NS_PUBSUB).unwrap();
    assert_eq!(publish.attr("node"), Some(NS_METADATA));
    let meta = publish
        .get_child("item", NS_PUBSUB)
        .and_then(|i| i.get_child("metadata", NS_METADATA))
        .unwrap();
    assert_eq!(parse_metadata(meta), Some(Metadata::Disabled));
    // The vCard loses its photo and keeps the rest.
    let old: Element =
        "<vCard xmlns='vcard-temp'><FN>Romeo</FN><PHOTO><BINVAL>AAAA</BINVAL></PHOTO></vCard>"
            .parse()
            .unwrap();
    let new = vcard_without_photo(Some(&old));
    assert!(new.get_child("PHOTO", NS_VCARD).is_none());
    assert_eq!(vcard_photo(Some(&new), None), Ok(None));
    assert_eq!(
        new.get_child("FN", NS_VCARD).map(|f| f.text()),
        Some("Romeo".into())
    );
}
