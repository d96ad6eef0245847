//! MUC on literal XML: status codes, errors, messages, archives, invitations.

use super::super::test_support::*;
use super::super::*;
use super::*;

const ROOM: &str = "tea@conference.example.org";

fn room() -> BareJid {
    BareJid::new(ROOM).unwrap_or_else(|_| unreachable!())
}

/// A state that has sent a join for `me` to the room; returns the disco IQ id.
fn joining() -> (ProtoState, String) {
    let mut s = state();
    let out = s.muc_join(room(), "me", None);
    let id = iq_id(&out[0]);
    (s, id)
}

fn muc(ev: &[Event]) -> Vec<&MucEvent> {
    ev.iter()
        .filter_map(|e| match e {
            Event::Muc(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn pres(nick: &str, extra: &str, inner: &str) -> Stanza {
    stanza(&format!(
        "<presence xmlns='jabber:client' from='{ROOM}/{nick}' to='me@example.org/desk' {extra}>\
         <x xmlns='http://jabber.org/protocol/muc#user'>{inner}</x></presence>"
    ))
}

fn joined() -> ProtoState {
    let (mut s, disco) = joining();
    s.handle(
        stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{disco}' from='{ROOM}'>\
             <query xmlns='http://jabber.org/protocol/disco#info'><identity category='conference' type='text'/>\
             <feature var='http://jabber.org/protocol/muc'/><feature var='urn:xmpp:sid:0'/><feature var='urn:xmpp:mam:2'/></query></iq>"
        )),
        0,
    );
    s.handle(
        pres(
            "bob",
            "",
            "<item affiliation='owner' role='moderator' jid='bob@example.org/x'/>",
        ),
        0,
    );
    let ev = s.handle(
        pres(
            "me",
            "",
            "<item affiliation='none' role='participant'/><status code='110'/>",
        ),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::Joined { occupants, created: false, .. }] if occupants.len() == 2),
        "{ev:?}"
    );
    s
}

#[test]
fn join_presence_suppresses_history_and_carries_password() {
    let mut s = state();
    let out = s.muc_join(room(), "me", Some("secret"));
    let info = to_xml(&out[0]);
    assert!(
        info.contains("disco#info") && info.contains(&format!("to='{ROOM}'")),
        "{info}"
    );
    let xml = to_xml(&out[1]);
    assert!(xml.contains(&format!("to='{ROOM}/me'")), "{xml}");
    assert!(xml.contains("maxstanzas='0'"), "{xml}");
    assert!(xml.contains("<password>secret</password>"), "{xml}");
}

#[test]
fn self_presence_110_joins_and_201_configures_an_instant_room() {
    let (mut s, _) = joining();
    let ev = s.handle(
        pres(
            "me",
            "",
            "<item affiliation='owner' role='moderator'/><status code='110'/><status code='201'/>",
        ),
        0,
    );
    // The room is locked until configured: no "joined" before the room accepts.
    assert!(muc(&ev).is_empty(), "{ev:?}");
    let (config, id) = ev
        .iter()
        .find_map(|e| match e {
            Event::Reply(st) => Some((to_xml(st), iq_id(st))),
            _ => None,
        })
        .unwrap_or_default();
    assert!(
        config.contains("muc#owner") && config.contains("type='submit'"),
        "{config}"
    );
    let ev = s.handle(
        stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{id}' from='{ROOM}'/>"
        )),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::Joined { created: true, nick, .. }] if nick == "me"),
        "{ev:?}"
    );
    assert!(s.rooms.get(&room()).is_some_and(|r| r.joined));
}

#[test]
fn status_210_means_the_room_assigned_our_nick() {
    let (mut s, _) = joining();
    let ev = s.handle(
        pres(
            "me (2)",
            "",
            "<item affiliation='none' role='participant'/><status code='110'/><status code='210'/>",
        ),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::Joined { nick, .. }] if nick == "me (2)"),
        "{ev:?}"
    );
    assert_eq!(
        s.rooms.get(&room()).map(|r| r.nick.as_str()),
        Some("me (2)")
    );
}

#[test]
fn exits_by_status_code() {
    for (codes, exit) in [
        ("<status code='301'/>", Exit::Banned),
        ("<status code='307'/>", Exit::Kicked),
        ("<status code='321'/>", Exit::AffiliationChanged),
        ("<status code='322'/>", Exit::MembersOnly),
        ("<status code='332'/>", Exit::Shutdown),
        ("", Exit::Left),
    ] {
        let mut s = joined();
        let ev = s.handle(
            pres(
                "me",
                "type='unavailable'",
                &format!(
                    "<item affiliation='none' role='none'><actor nick='bob'/><reason>Be nice</reason></item>\
                     <status code='110'/>{codes}"
                ),
            ),
            0,
        );
        match muc(&ev).as_slice() {
            [MucEvent::Left { room: r, departure }] => {
                assert_eq!(r, &room());
                assert_eq!(departure.exit, exit, "{codes}");
                assert_eq!(departure.reason.as_deref(), Some("Be nice"));
                assert_eq!(departure.actor.as_deref(), Some("bob"));
            }
            other => unreachable!("{codes}: {other:?}"),
        }
        assert!(s.rooms.get(&room()).is_none(), "{codes}");
    }
    // Someone else kicked: an occupant leaves, we stay.
    let mut s = joined();
    let ev = s.handle(
        pres(
            "bob",
            "type='unavailable'",
            "<item affiliation='owner' role='none'/><status code='307'/>",
        ),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::OccupantLeft { nick, departure, .. }] if nick == "bob" && departure.exit == Exit::Kicked),
        "{ev:?}"
    );
    assert!(s.rooms.get(&room()).is_some_and(|r| r.joined));
}

#[test]
fn destroyed_room_says_why() {
    let mut s = joined();
    let ev = s.handle(
        pres(
            "me",
            "type='unavailable'",
            "<item affiliation='none' role='none'/><status code='110'/>\
             <destroy jid='new@conference.example.org'><reason>Moved</reason></destroy>",
        ),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::Left { departure, .. }] if departure.exit == Exit::Destroyed && departure.reason.as_deref() == Some("Moved")),
        "{ev:?}"
    );
}

#[test]
fn nick_change_303_renames_occupants_and_ourselves() {
    let mut s = joined();
    let ev = s.handle(
        pres(
            "me",
            "type='unavailable'",
            "<item affiliation='none' role='participant' nick='tea lover'/><status code='303'/><status code='110'/>",
        ),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::NickChanged { old, new, own: true, .. }] if old == "me" && new == "tea lover"),
        "{ev:?}"
    );
    let r = s.rooms.get(&room()).unwrap_or_else(|| unreachable!());
    assert_eq!(r.nick, "tea lover");
    assert!(r.occupants.contains_key("tea lover") && !r.occupants.contains_key("me"));
}

#[test]
fn occupants_join_and_change_role() {
    let mut s = joined();
    let ev = s.handle(
        pres("carol", "", "<item affiliation='member' role='visitor'/>"),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::Occupant { occupant, joined: true, .. }] if occupant.role == Role::Visitor && occupant.affiliation == Affiliation::Member),
        "{ev:?}"
    );
    let ev = s.handle(
        pres(
            "carol",
            "",
            "<item affiliation='member' role='participant'/>",
        ),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::Occupant { occupant, joined: false, .. }] if occupant.role == Role::Participant),
        "{ev:?}"
    );
}

#[test]
fn join_errors_become_typed_errors() {
    for (condition, expected) in [
        ("conflict", MucError::NicknameInUse),
        ("not-authorized", MucError::PasswordRequired),
        ("registration-required", MucError::MembersOnly),
        ("forbidden", MucError::Banned),
        ("item-not-found", MucError::RoomNotFound),
        ("service-unavailable", MucError::ServiceUnavailable),
    ] {
        let (mut s, _) = joining();
        let ev = s.handle(
            stanza(&format!(
                "<presence xmlns='jabber:client' from='{ROOM}/me' type='error'>\
                 <x xmlns='http://jabber.org/protocol/muc'/>\
                 <error type='cancel'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
            )),
            0,
        );
        assert!(
            matches!(muc(&ev).as_slice(), [MucEvent::JoinFailed { error, .. }] if *error == expected),
            "{condition}: {ev:?}"
        );
        assert!(s.rooms.get(&room()).is_none());
    }
    // The same error once joined (a nick change refused) leaves us in the room.
    let mut s = joined();
    let ev = s.handle(
        stanza(&format!(
            "<presence xmlns='jabber:client' from='{ROOM}/bob' type='error'>\
             <error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
        )),
        0,
    );
    assert!(
        matches!(
            muc(&ev).as_slice(),
            [MucEvent::Refused {
                error: MucError::NicknameInUse,
                ..
            }]
        ),
        "{ev:?}"
    );
    assert!(s.rooms.get(&room()).is_some_and(|r| r.joined));
}

fn groupchat(nick: &str, by: &str, extra: &str) -> Stanza {
    stanza(&format!(
        "<message xmlns='jabber:client' type='groupchat' id='g1' from='{ROOM}/{nick}' to='me@example.org/desk'>\
         <body>hello room</body><stanza-id xmlns='urn:xmpp:sid:0' id='S1' by='{by}'/>{extra}</message>"
    ))
}

fn message_of(ev: Vec<Event>) -> ChatMessage {
    match ev.into_iter().find_map(|e| match e {
        Event::Message { message, .. } => Some(*message),
        _ => None,
    }) {
        Some(m) => m,
        None => unreachable!("no message"),
    }
}

#[test]
fn groupchat_messages_trust_the_room_stanza_id_only() {
    let mut s = joined();
    let m = message_of(s.handle(groupchat("bob", ROOM, ""), 5));
    assert!(m.conversation.is_room());
    assert_eq!(m.sender, "bob");
    assert_eq!(*m.peer(), room());
    assert_eq!(m.direction, Direction::Incoming);
    assert_eq!(m.server_id.as_deref(), Some("S1"));
    // A stanza-id stamped by someone else than the room is ignored.
    let m = message_of(s.handle(groupchat("bob", "me@example.org", ""), 5));
    assert_eq!(m.server_id, None);
    // A room that does not advertise urn:xmpp:sid:0 is not trusted either.
    let (mut s2, _) = joining();
    s2.handle(
        pres(
            "me",
            "",
            "<item affiliation='none' role='participant'/><status code='110'/>",
        ),
        0,
    );
    let m = message_of(s2.handle(groupchat("bob", ROOM, ""), 5));
    assert_eq!(m.server_id, None);
}

#[test]
fn live_message_item_jid_is_never_read() {
    let mut s = joined();
    let m = message_of(s.handle(
        groupchat(
            "bob",
            ROOM,
            "<x xmlns='http://jabber.org/protocol/muc#user'><item jid='boss@example.org/x' affiliation='owner' role='moderator'/></x>",
        ),
        5,
    ));
    assert_eq!(m.sender, "bob");
    assert!(!format!("{m:?}").contains("boss"));
    assert!(s.rooms.get(&room()).is_some_and(|r| {
        r.occupants
            .get("bob")
            .is_some_and(|o| o.real_jid.as_ref().map(|j| j.as_str()) == Some("bob@example.org"))
    }));
}

#[test]
fn our_reflected_message_is_outgoing_with_our_origin_id() {
    let mut s = joined();
    let m = message_of(s.handle(
        groupchat(
            "me",
            ROOM,
            "<origin-id xmlns='urn:xmpp:sid:0' id='local-1'/>",
        ),
        5,
    ));
    assert_eq!(m.direction, Direction::Outgoing);
    assert_eq!(m.id.0, "local-1");
    assert_eq!(m.origin_id.as_deref(), Some("local-1"));
}

#[test]
fn groupchat_from_a_room_we_are_not_in_is_dropped() {
    let mut s = state();
    let ev = s.handle(groupchat("bob", ROOM, ""), 5);
    assert!(matches!(ev.as_slice(), [Event::Dropped(_)]), "{ev:?}");
}

#[test]
fn subject_is_reported() {
    let mut s = joined();
    let ev = s.handle(
        stanza(&format!(
            "<message xmlns='jabber:client' type='groupchat' from='{ROOM}/bob'><subject>Green tea only</subject></message>"
        )),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::Subject { subject, by: Some(b), .. }] if subject == "Green tea only" && b == "bob"),
        "{ev:?}"
    );
}

#[test]
fn room_archive_results_only_from_the_queried_room() {
    let mut s = joined();
    let (qid, q) = s.muc_mam_query(&room(), crate::xmpp::mam::From::Newest);
    let xml = to_xml(&q);
    assert!(
        xml.contains(&format!("to='{ROOM}'")) && xml.contains("urn:xmpp:mam:2"),
        "{xml}"
    );
    let result = |from: &str, qid: &str| {
        stanza(&format!(
            "<message xmlns='jabber:client' from='{from}' to='me@example.org/desk'>\
             <result xmlns='urn:xmpp:mam:2' queryid='{qid}' id='A1'><forwarded xmlns='urn:xmpp:forward:0'>\
             <delay xmlns='urn:xmpp:delay' stamp='2024-05-01T10:00:00Z'/>\
             <message xmlns='jabber:client' from='{ROOM}/bob' type='groupchat'><body>old</body></message>\
             </forwarded></result></message>"
        ))
    };
    for (from, q) in [
        ("other@conference.example.org", qid.as_str()),
        ("tea@conference.example.org/bob", qid.as_str()),
        (ROOM, "nope"),
    ] {
        let ev = s.handle(result(from, q), i64::MAX / 2);
        assert!(
            matches!(ev.as_slice(), [Event::Dropped(_)]),
            "{from} {q}: {ev:?}"
        );
    }
    let ev = s.handle(result(ROOM, &qid), i64::MAX / 2);
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::Archived { message, .. }] if message.server_id.as_deref() == Some("A1") && message.sender == "bob" && message.conversation.is_room()),
        "{ev:?}"
    );
    let id = iq_id(&q);
    let ev = s.handle(
        stanza(&format!(
            "<iq xmlns='jabber:client' type='result' id='{id}' from='{ROOM}'>\
             <fin xmlns='urn:xmpp:mam:2' complete='true'><set xmlns='http://jabber.org/protocol/rsm'>\
             <first>A1</first><last>A1</last></set></fin></iq>"
        )),
        0,
    );
    assert!(
        matches!(
            muc(&ev).as_slice(),
            [MucEvent::ArchivePage {
                complete: true,
                backward: true,
                ..
            }]
        ),
        "{ev:?}"
    );
}

#[test]
fn invitations_direct_and_mediated() {
    let mut s = state();
    let ev = s.handle(
        stanza(&format!(
            "<message xmlns='jabber:client' from='bob@example.org/x' to='me@example.org'>\
             <x xmlns='jabber:x:conference' jid='{ROOM}' reason='Tea time' password='pw'/></message>"
        )),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::Invitation(i)] if i.direct && i.room == room() && i.from.as_str() == "bob@example.org" && i.password.as_deref() == Some("pw")),
        "{ev:?}"
    );
    let ev = s.handle(
        stanza(&format!(
            "<message xmlns='jabber:client' from='{ROOM}' to='me@example.org'>\
             <x xmlns='http://jabber.org/protocol/muc#user'><invite from='bob@example.org/x'><reason>Join us</reason></invite></x></message>"
        )),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::Invitation(i)] if !i.direct && i.reason.as_deref() == Some("Join us") && i.from.as_str() == "bob@example.org"),
        "{ev:?}"
    );
}

#[test]
fn self_ping_answers() {
    for (answer, joined_after) in [
        ("type='result'", true),
        (
            "type='error'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq",
            true,
        ),
        (
            "type='error'><error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq",
            false,
        ),
    ] {
        let mut s = joined();
        let ping = s.muc_self_ping(&room()).unwrap_or_else(|| unreachable!());
        assert!(to_xml(&ping).contains(&format!("to='{ROOM}/me'")));
        let id = iq_id(&ping);
        // Errors come from the room itself.
        let from = if joined_after && answer.contains("result") {
            format!("{ROOM}/me")
        } else {
            ROOM.to_owned()
        };
        let xml = if answer.ends_with("</iq") {
            format!("<iq xmlns='jabber:client' id='{id}' from='{from}' {answer}>")
        } else {
            format!("<iq xmlns='jabber:client' id='{id}' from='{from}' {answer}/>")
        };
        let ev = s.handle(stanza(&xml), 0);
        assert!(
            matches!(muc(&ev).as_slice(), [MucEvent::SelfPing { joined, .. }] if *joined == joined_after),
            "{answer}: {ev:?}"
        );
    }
}

#[test]
fn outgoing_stanzas() {
    let id = LocalMessageId("o-1".into());
    let xml = to_xml(&super::groupchat(room(), "hi all", &id));
    assert!(
        xml.contains("type='groupchat'") && xml.contains("origin-id") && xml.contains("o-1"),
        "{xml}"
    );
    let xml = to_xml(&subject(room(), "New topic"));
    assert!(xml.contains("<subject>New topic</subject>"), "{xml}");
    let bob = BareJid::new("bob@example.org").unwrap_or_else(|_| unreachable!());
    let xml = to_xml(&direct_invite(bob.clone(), &room(), Some("come"), None));
    assert!(
        xml.contains("jabber:x:conference") && xml.contains(&format!("jid='{ROOM}'")),
        "{xml}"
    );
    let xml = to_xml(&mediated_invite(room(), &bob, None));
    assert!(
        xml.contains("<invite") && xml.contains("to='bob@example.org'"),
        "{xml}"
    );
    let xml = to_xml(&change_nick(&room(), "newme").unwrap_or_else(|| unreachable!()));
    assert!(xml.contains(&format!("to='{ROOM}/newme'")), "{xml}");
}

#[test]
fn a_room_body_over_the_limit_is_stored_cut_and_says_so() {
    use crate::xmpp::message::MAX_BODY_BYTES;
    let mut s = joined();
    let body = |text: &str| {
        stanza(&format!(
            "<message xmlns='jabber:client' type='groupchat' from='{ROOM}/bob'><body>{text}</body></message>"
        ))
    };
    let long = "y".repeat(MAX_BODY_BYTES + 1);
    let m = message_of(s.handle(body(&long), 5));
    assert_eq!(m.body.len(), MAX_BODY_BYTES);
    assert!(m.truncated);
    let whole = "z".repeat(100_000);
    let m = message_of(s.handle(body(&whole), 5));
    assert_eq!(m.body, whole);
    assert!(!m.truncated);
}

#[test]
fn moderation_requests_name_the_role_or_affiliation_and_the_reason() {
    let mut s = joined();
    let xml = to_xml(&s.muc_set_role(&room(), "bob", Role::Visitor, Some(" be calm ")));
    assert!(
        xml.contains("type='set'") || xml.contains("type=\"set\""),
        "{xml}"
    );
    assert!(
        xml.contains("http://jabber.org/protocol/muc#admin"),
        "{xml}"
    );
    assert!(
        xml.contains("nick='bob'") || xml.contains("nick=\"bob\""),
        "{xml}"
    );
    assert!(
        xml.contains("role='visitor'") || xml.contains("role=\"visitor\""),
        "{xml}"
    );
    assert!(xml.contains(">be calm</reason>"), "{xml}");
    let xml = to_xml(&s.muc_set_role(&room(), "bob", Role::Moderator, Some("  ")));
    assert!(
        xml.contains("moderator") && !xml.contains("reason"),
        "{xml}"
    );
    let bob = BareJid::new("bob@example.org").unwrap_or_else(|_| unreachable!());
    let xml = to_xml(&s.muc_set_affiliation(&room(), &bob, Affiliation::Outcast, None));
    assert!(
        xml.contains("jid='bob@example.org'") || xml.contains("jid=\"bob@example.org\""),
        "{xml}"
    );
    assert!(
        xml.contains("affiliation='outcast'") || xml.contains("affiliation=\"outcast\""),
        "{xml}"
    );
    // A refusal comes back in words for the room.
    let id = iq_id(&s.muc_set_role(&room(), "bob", Role::None, None));
    let ev = s.handle(
        stanza(&format!(
            "<iq xmlns='jabber:client' type='error' id='{id}' from='{ROOM}'>\
             <error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
        )),
        0,
    );
    assert!(
        matches!(muc(&ev).as_slice(), [MucEvent::Refused { error, .. }] if *error == MucError::NotAllowed),
        "{ev:?}"
    );
}

#[test]
fn destroy_is_an_owner_request_with_the_reason() {
    let mut s = joined();
    let xml = to_xml(&s.muc_destroy(&room(), Some("moved to tea2")));
    assert!(
        xml.contains("http://jabber.org/protocol/muc#owner"),
        "{xml}"
    );
    assert!(xml.contains("<destroy"), "{xml}");
    assert!(xml.contains(">moved to tea2</reason>"), "{xml}");
}

/// A groupchat message from bob carrying a delay `from` someone, stamped in 2020.
fn delayed_groupchat(delay_from: &str) -> Stanza {
    stanza(&format!(
        "<message xmlns='jabber:client' from='{ROOM}/bob' to='me@example.org/desk' type='groupchat'>\
         <body>old news</body><delay xmlns='urn:xmpp:delay' {delay_from} stamp='2020-01-01T00:00:00Z'/></message>"
    ))
}

fn room_message_time(ev: &[Event]) -> i64 {
    ev.iter()
        .find_map(|e| match e {
            Event::Message { message, .. } => Some(message.timestamp_ms),
            _ => None,
        })
        .unwrap_or_else(|| unreachable!("no message: {ev:?}"))
}

#[test]
fn a_senders_delay_does_not_back_date_a_room_message() {
    let now = 2_000_000_000_123;
    for from in [
        "",
        "from='bob@example.org/x'",
        &format!("from='{ROOM}/bob'"),
    ] {
        let mut s = joined();
        let ev = s.handle(delayed_groupchat(from), now);
        // Live room messages keep whole seconds (see room_message).
        assert_eq!(
            room_message_time(&ev),
            2_000_000_000_000,
            "delay {from:?} was believed"
        );
    }
}

#[test]
fn the_rooms_own_delay_dates_its_history() {
    let mut s = joined();
    let ev = s.handle(
        delayed_groupchat(&format!("from='{ROOM}'")),
        2_000_000_000_123,
    );
    assert_eq!(room_message_time(&ev), 1_577_836_800_000);
}

/// Issue #20, weakness 9: a flood of joins (distinct nicks) lists at most
/// `MAX_OCCUPANTS`; known occupants still update, and a place freed by a departure
/// is taken by the next newcomer.
#[test]
fn a_join_flood_lists_at_most_max_occupants() {
    let mut s = joined();
    let flood = MAX_OCCUPANTS + 500;
    let mut listed = 0;
    for i in 0..flood {
        let ev = s.handle(
            pres(
                &format!("n{i}"),
                "",
                "<item affiliation='none' role='participant'/>",
            ),
            0,
        );
        if matches!(
            muc(&ev).as_slice(),
            [MucEvent::Occupant { joined: true, .. }]
        ) {
            listed += 1;
        }
    }
    let occupants = |s: &ProtoState| s.rooms.rooms.get(&room()).map_or(0, |r| r.occupants.len());
    assert_eq!(occupants(&s), MAX_OCCUPANTS);
    assert_eq!(listed, MAX_OCCUPANTS - 2, "bob and me were there first");
    // bob (listed before the flood) still updates.
    let ev = s.handle(
        pres("bob", "", "<item affiliation='owner' role='visitor'/>"),
        0,
    );
    assert!(
        matches!(
            muc(&ev).as_slice(),
            [MucEvent::Occupant { joined: false, .. }]
        ),
        "{ev:?}"
    );
    s.handle(
        pres(
            "n0",
            "type='unavailable'",
            "<item affiliation='none' role='none'/>",
        ),
        0,
    );
    let ev = s.handle(
        pres("late", "", "<item affiliation='none' role='participant'/>"),
        0,
    );
    assert!(
        matches!(
            muc(&ev).as_slice(),
            [MucEvent::Occupant { joined: true, .. }]
        ),
        "{ev:?}"
    );
    assert_eq!(occupants(&s), MAX_OCCUPANTS);
}
