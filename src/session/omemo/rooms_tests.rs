use super::*;

fn jid(s: &str) -> BareJid {
    BareJid::new(s).unwrap()
}

fn message(xml: &str) -> Message {
    Message::try_from(xml.parse::<Element>().unwrap()).unwrap()
}

const ENC: &str = "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='77'>\
    <key rid='1'>AAAA</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>AAAA</payload></encrypted>";

#[test]
fn only_members_only_non_anonymous_rooms_are_private() {
    let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(is_private(&f(&["muc_membersonly", "muc_nonanonymous"])));
    assert!(!is_private(&f(&["muc_membersonly", "muc_semianonymous"])));
    assert!(!is_private(&f(&["muc_open", "muc_nonanonymous"])));
}

#[test]
fn a_configuration_change_is_seen() {
    let m = message(
        "<message xmlns='jabber:client' type='groupchat' from='r@muc.x'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><status code='104'/></x></message>",
    );
    assert!(config_changed(&m));
    let m = message(
        "<message xmlns='jabber:client' type='groupchat' from='r@muc.x/eve'>\
         <x xmlns='http://jabber.org/protocol/muc#user'><status code='104'/></x></message>",
    );
    assert!(!config_changed(&m), "from an occupant, not the room");
}

fn keys(private: bool, members: &[&str]) -> RoomKeys {
    RoomKeys {
        private: Some(private),
        members: members.iter().map(|m| jid(m)).collect(),
        lists_pending: 0,
        lists_asked: true,
        joined: true,
    }
}

#[test]
fn the_plan_encrypts_to_every_member_and_our_other_devices_only_in_private_rooms() {
    let (room, me, bob) = (jid("r@muc.x"), jid("me@x"), jid("bob@x"));
    let mut devices = HashMap::new();
    devices.insert(me.clone(), vec![1, 2]);
    devices.insert(bob.clone(), vec![5]);
    let k = keys(true, &["me@x", "bob@x"]);
    assert_eq!(
        plan(Choice::Auto, &room, Some(&k), &devices, &me, 1),
        Plan::Encrypt(vec![(bob.clone(), 5), (me.clone(), 2)])
    );
    // Not known yet: wait; a member's devices not fetched yet: wait.
    assert_eq!(
        plan(Choice::Auto, &room, None, &devices, &me, 1),
        Plan::Wait
    );
    let more = keys(true, &["me@x", "bob@x", "carol@x"]);
    assert_eq!(
        plan(Choice::Auto, &room, Some(&more), &devices, &me, 1),
        Plan::Wait
    );
    // An open room: plain unless the person turned encryption on.
    let open = keys(false, &["me@x", "bob@x"]);
    assert_eq!(
        plan(Choice::Auto, &room, Some(&open), &devices, &me, 1),
        Plan::Plain
    );
    assert!(matches!(
        plan(Choice::On, &room, Some(&open), &devices, &me, 1),
        Plan::Fail(_)
    ));
    assert_eq!(
        plan(Choice::Off, &room, Some(&k), &devices, &me, 1),
        Plan::Plain
    );
    // Nobody else publishes devices.
    devices.insert(bob.clone(), vec![]);
    assert_eq!(
        plan(Choice::Auto, &room, Some(&k), &devices, &me, 1),
        Plan::Plain
    );
    assert!(matches!(
        plan(Choice::On, &room, Some(&k), &devices, &me, 1),
        Plan::Fail(_)
    ));
}

#[test]
fn a_live_room_message_is_decrypted_as_its_occupant_s_real_address() {
    let mut m = message(&format!(
        "<message xmlns='jabber:client' type='groupchat' from='r@muc.x/bob' id='i1'>\
         <body>fallback</body>{ENC}<origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>"
    ));
    let found = rewrite(
        &mut m,
        |r| *r == jid("r@muc.x"),
        |_, nick| (nick == "bob").then(|| jid("bob@x")),
        |s| {
            assert_eq!(s.sender, Some(&jid("bob@x")));
            assert_eq!(s.device, Some(77));
            assert_eq!(s.origin_id, Some("o1"));
            Ok(Decrypted {
                body: Some("secret".into()),
                device: 77,
                prekey: false,
            })
        },
    )
    .unwrap();
    assert_eq!(found.sender, Some(jid("bob@x")));
    assert_eq!(m.bodies.values().next().unwrap(), "secret");
    assert!(!m.payloads.iter().any(is_encrypted));
}

#[test]
fn an_archived_room_message_uses_the_item_jid_and_unknown_senders_are_reported() {
    let xml = |x: &str| {
        format!(
            "<message xmlns='jabber:client' from='r@muc.x' to='me@x/a'>\
             <result xmlns='urn:xmpp:mam:2' id='s1' queryid='q'>\
             <forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' type='groupchat' from='r@muc.x/bob' id='i1'>\
             <body>fallback</body>{ENC}{x}</message></forwarded></result></message>"
        )
    };
    let mut m = message(&xml(
        "<x xmlns='http://jabber.org/protocol/muc#user'><item jid='bob@x/res'/></x>",
    ));
    let found = rewrite(
        &mut m,
        |_| true,
        |_, _| None,
        |s| {
            assert_eq!(s.sender, Some(&jid("bob@x")));
            Ok(Decrypted {
                body: Some("old secret".into()),
                device: 77,
                prekey: false,
            })
        },
    )
    .unwrap();
    assert_eq!(found.origin_id.as_deref(), Some("i1"));
    let s = String::from(&Element::from(m));
    assert!(s.contains("old secret") && !s.contains("fallback") && !s.contains("encrypted"));

    // Without the address: the reason takes the place of the text.
    let mut m = message(&xml(""));
    let found = rewrite(
        &mut m,
        |_| true,
        |_, _| None,
        |s| {
            assert_eq!(s.sender, None);
            Err(OmemoError::UnknownSender)
        },
    )
    .unwrap();
    assert!(found.found().is_none());
    let s = String::from(&Element::from(m));
    assert!(s.contains("unknown-sender") && !s.contains("fallback"));
}

#[test]
fn archives_not_of_our_rooms_are_left_alone_and_chat_decryption_skips_rooms() {
    let archived = format!(
        "<message xmlns='jabber:client' from='r@muc.x'>\
         <result xmlns='urn:xmpp:mam:2' id='s1' queryid='q'>\
         <forwarded xmlns='urn:xmpp:forward:0'>\
         <message xmlns='jabber:client' type='groupchat' from='r@muc.x/bob'>{ENC}</message>\
         </forwarded></result></message>"
    );
    let mut m = message(&archived);
    assert!(rewrite(&mut m, |_| false, |_, _| None, |_| unreachable!()).is_none());
    // A live room message never goes to the chat decryption (its `from` is the room,
    // not the sender: a session must not be bound to it).
    let mut m = message(&format!(
        "<message xmlns='jabber:client' type='groupchat' from='r@muc.x/bob'>{ENC}</message>"
    ));
    let own = jid("me@x");
    assert!(super::super::rewrite(&mut m, &own, |_, _| unreachable!()).is_none());
    assert!(m.payloads.iter().any(is_encrypted));
}

#[test]
fn a_private_message_from_an_occupant_is_decrypted_as_its_real_address() {
    let mut m = message(&format!(
        "<message xmlns='jabber:client' type='chat' from='r@muc.x/bob'>{ENC}</message>"
    ));
    let found = rewrite(
        &mut m,
        |r| *r == jid("r@muc.x"),
        |_, nick| (nick == "bob").then(|| jid("bob@x")),
        |s| {
            assert_eq!(s.sender, Some(&jid("bob@x")), "never the room's address");
            Err(OmemoError::NotForUs)
        },
    )
    .unwrap();
    assert_eq!(found.sender, Some(jid("bob@x")));
    // From a contact (not a room): not ours to read here.
    let mut m = message(&format!(
        "<message xmlns='jabber:client' type='chat' from='bob@x/phone'>{ENC}</message>"
    ));
    assert!(
        rewrite(
            &mut m,
            |r| *r == jid("r@muc.x"),
            |_, _| None,
            |_| unreachable!()
        )
        .is_none()
    );
}
