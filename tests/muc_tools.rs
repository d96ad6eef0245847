//! Room tools against the test Prosody's MUC component (conference.localhost): an
//! owner's configuration form, private messages between occupants, browsing the
//! service's rooms. The group chat basics are in `tests/muc.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{ChatMessage, Direction};
use loquat::session::rooms::{MucError, RoomUpdate};
use loquat::session::roomtools;
use loquat::session::{Command, Handle, UpdateKind};
use loquat::store::Store;
use loquat::xmpp::muc::form::FieldKind;
use support::TestServer;
use support::muc::{fresh_room, join, joined, params};
use support::session::{jid, online, wait_for};
use tokio_xmpp::parsers::jid::BareJid;

/// Sets fields of the room's own form and sends it back.
async fn configure(h: &Handle, room: &BareJid, edits: &[(&str, &str)]) {
    let mut form = roomtools::config_form(h, room).await.expect("config form");
    for (var, value) in edits {
        let field = form
            .field_mut(var)
            .unwrap_or_else(|| panic!("the form has no {var}"));
        field.set_single(value);
    }
    roomtools::submit_config(h, room, &form)
        .await
        .expect("configuration accepted");
}

fn history(store: &Store, account: &str, conversation: ConversationId) -> Vec<ChatMessage> {
    store
        .latest(&AccountId(account.to_owned()), &conversation, 1_000)
        .expect("read history")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_changes_name_and_members_only_and_others_see_it() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("ca");
    let (b, pb) = server.fresh_user("cb");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    let room = fresh_room("conf");
    join(&ha, &room, "owner", None);
    joined(&mut ua, &room).await;

    // The form is the service's own: every field we promise to show is there.
    let form = roomtools::config_form(&ha, &room).await.expect("form");
    let kind = |var: &str| form.field(var).map(|f| f.kind);
    assert_eq!(kind("muc#roomconfig_roomname"), Some(FieldKind::TextSingle));
    assert_eq!(kind("muc#roomconfig_membersonly"), Some(FieldKind::Boolean));
    assert_eq!(
        kind("muc#roomconfig_persistentroom"),
        Some(FieldKind::Boolean)
    );
    assert_eq!(
        kind("muc#roomconfig_roomsecret"),
        Some(FieldKind::TextPrivate)
    );
    assert_eq!(kind("muc#roomconfig_whois"), Some(FieldKind::ListSingle));
    assert!(form.field("muc#roomconfig_roomdesc").is_some());

    configure(
        &ha,
        &room,
        &[
            ("muc#roomconfig_roomname", "Tea and cake 茶"),
            ("muc#roomconfig_membersonly", "1"),
        ],
    )
    .await;

    // Anyone can see the new name and the members-only flag…
    let info = roomtools::room_info(&hb, &room).await.expect("room info");
    assert_eq!(info.name.as_deref(), Some("Tea and cake 茶"));
    assert!(info.members_only, "{info:?}");
    // …and a stranger is kept out.
    join(&hb, &room, "stranger", None);
    let error = wait_for(&mut ub, 20, "join refused", |k| match k {
        UpdateKind::Room(RoomUpdate::JoinFailed { error, .. }) => Some(error.clone()),
        UpdateKind::Room(RoomUpdate::Joined { .. }) => panic!("joined a members-only room"),
        _ => None,
    })
    .await;
    assert_eq!(error, MucError::MembersOnly);
    // The owner reads the saved values back from a fresh form.
    let again = roomtools::config_form(&ha, &room).await.expect("form");
    assert!(
        again
            .field("muc#roomconfig_membersonly")
            .is_some_and(|f| f.is_true())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_owner_is_refused_the_form_in_words() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("fa");
    let (b, pb) = server.fresh_user("fb");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    let room = fresh_room("notmine");
    join(&ha, &room, "owner", None);
    joined(&mut ua, &room).await;
    join(&hb, &room, "guest", None);
    joined(&mut ub, &room).await;
    let err = roomtools::config_form(&hb, &room)
        .await
        .expect_err("a guest gets no form");
    assert!(
        matches!(
            err,
            roomtools::QueryError::Refused {
                condition: roomtools::Condition::Forbidden,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_message_between_occupants_is_its_own_conversation() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("pma");
    let (b, pb) = server.fresh_user("pmb");
    let (sa, sb) = (
        Store::open_temporary().expect("store"),
        Store::open_temporary().expect("store"),
    );
    let (mut ua, ha, _) = online(params(&server, &a, &pa, Some(sa.clone()))).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, Some(sb.clone()))).await;
    let room = fresh_room("pm");
    join(&ha, &room, "alice", None);
    joined(&mut ua, &room).await;
    join(&hb, &room, "bob", None);
    joined(&mut ub, &room).await;

    ha.send(Command::SendPrivate {
        room: room.clone(),
        nick: "bob".into(),
        body: "just between us".into(),
        id: LocalMessageId::generate(),
    })
    .expect("alive");
    let at_b = wait_for(&mut ub, 20, "private message", |k| match k {
        UpdateKind::Message(m) if m.body == "just between us" => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(at_b.conversation.private_nick(), Some("alice"));
    assert_eq!(at_b.sender, "alice");
    assert!(!at_b.conversation.is_room());
    assert_eq!(at_b.direction, Direction::Incoming);
    assert_eq!(
        at_b.conversation(),
        ConversationId::Private {
            room: room.clone(),
            nick: "alice".into()
        }
    );
    // Bob answers in the same conversation.
    hb.send(Command::SendPrivate {
        room: room.clone(),
        nick: "alice".into(),
        body: "agreed".into(),
        id: LocalMessageId::generate(),
    })
    .expect("alive");
    let at_a = wait_for(&mut ua, 20, "private answer", |k| match k {
        UpdateKind::Message(m) if m.body == "agreed" => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(at_a.conversation.private_nick(), Some("bob"));

    let private_a = ConversationId::Private {
        room: room.clone(),
        nick: "bob".into(),
    };
    let private_b = ConversationId::Private {
        room: room.clone(),
        nick: "alice".into(),
    };
    let bodies = |ms: Vec<ChatMessage>| ms.into_iter().map(|m| m.body).collect::<Vec<_>>();
    assert_eq!(
        bodies(history(&sa, &format!("acc-{a}"), private_a)),
        vec!["just between us", "agreed"]
    );
    assert_eq!(
        bodies(history(&sb, &format!("acc-{b}"), private_b)),
        vec!["just between us", "agreed"]
    );
    // Neither in the room nor in a chat with the room's bare address.
    for (store, user) in [(&sa, &a), (&sb, &b)] {
        let account = format!("acc-{user}");
        let room_bodies = bodies(history(store, &account, ConversationId::Room(room.clone())));
        assert!(
            !room_bodies
                .iter()
                .any(|b| b == "agreed" || b == "just between us"),
            "{room_bodies:?}"
        );
        assert!(history(store, &account, ConversationId::Chat(room.clone())).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsing_lists_a_room_with_its_name_and_occupant_count() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("ba");
    let (b, pb) = server.fresh_user("bb");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    let room = fresh_room("browse");
    join(&ha, &room, "alice", None);
    joined(&mut ua, &room).await;
    configure(
        &ha,
        &room,
        &[
            ("muc#roomconfig_roomname", "Browse me"),
            ("muc#roomconfig_publicroom", "1"),
            ("muc#roomconfig_changesubject", "1"),
        ],
    )
    .await;
    join(&hb, &room, "bob", None);
    // On joining, the room tells that occupants may change its subject.
    let (mut is_in, mut subject_open) = (false, None);
    while !is_in || subject_open.is_none() {
        match wait_for(&mut ub, 20, "joined and room info", |k| match k {
            UpdateKind::Room(u @ (RoomUpdate::Joined { .. } | RoomUpdate::Info { .. })) => {
                Some(u.clone())
            }
            _ => None,
        })
        .await
        {
            RoomUpdate::Joined { .. } => is_in = true,
            RoomUpdate::Info {
                subject_open: open, ..
            } => subject_open = Some(open),
            _ => {}
        }
    }
    assert_eq!(subject_open, Some(true));

    let service = roomtools::find_muc_service(&hb, &jid("localhost"))
        .await
        .expect("group chat service");
    assert_eq!(service, jid("conference.localhost"));
    let rooms = roomtools::list_rooms(&hb, &service).await.expect("rooms");
    let listed = rooms
        .iter()
        .find(|r| r.jid == room)
        .unwrap_or_else(|| panic!("{room} not among {rooms:?}"));
    assert_eq!(listed.name.as_deref(), Some("Browse me"));
    let infos = roomtools::room_infos(&hb, vec![room.clone()]).await;
    assert_eq!(infos.len(), 1);
    assert_eq!(infos[0].1.name.as_deref(), Some("Browse me"));
    assert_eq!(infos[0].1.occupants, Some(2));
}

/// "Members and bans": the owner puts one user on the member list and bans another
/// with a reason; the lists read back from the room say so, the banned user cannot
/// join (checked from their own session), taking the member off empties the list
/// again, and a user who is not an admin is refused the list in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_keeps_member_and_ban_lists_and_the_room_enforces_them() {
    use loquat::session::rooms::Affiliation;
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("ma");
    let (b, pb) = server.fresh_user("mb");
    let (c, pc) = server.fresh_user("mc");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    let (mut uc, hc, _) = online(params(&server, &c, &pc, None)).await;
    let room = fresh_room("lists");
    join(&ha, &room, "owner", None);
    joined(&mut ua, &room).await;
    let bob = jid(&b);
    let carol = jid(&c);

    roomtools::set_affiliation(&ha, &room, &bob, Affiliation::Member, None)
        .await
        .expect("member added");
    roomtools::set_affiliation(&ha, &room, &carol, Affiliation::Outcast, Some("spam"))
        .await
        .expect("ban accepted");
    let members = roomtools::affiliation_list(&ha, &room, Affiliation::Member)
        .await
        .expect("member list");
    assert_eq!(
        members.iter().map(|m| &m.jid).collect::<Vec<_>>(),
        vec![&bob]
    );
    let banned = roomtools::affiliation_list(&ha, &room, Affiliation::Outcast)
        .await
        .expect("ban list");
    assert_eq!(banned.len(), 1, "{banned:?}");
    assert_eq!(banned[0].jid, carol);
    // (Prosody keeps no reason in its list answer; reading one is tested on literal XML.)
    let owners = roomtools::affiliation_list(&ha, &room, Affiliation::Owner)
        .await
        .expect("owner list");
    assert!(owners.iter().any(|o| o.jid.as_str() == a), "{owners:?}");

    // The room enforces the ban: carol's join is refused as banned.
    join(&hc, &room, "carol", None);
    let error = wait_for(&mut uc, 20, "carol refused", |k| match k {
        UpdateKind::Room(RoomUpdate::JoinFailed { room: r, error }) if *r == room => {
            Some(error.clone())
        }
        UpdateKind::Room(RoomUpdate::Joined { room: r, .. }) if *r == room => {
            panic!("a banned user joined")
        }
        _ => None,
    })
    .await;
    assert_eq!(error, MucError::Banned);

    // Bob, a member but not an admin, may not read the ban list.
    join(&hb, &room, "bob", None);
    joined(&mut ub, &room).await;
    let err = roomtools::affiliation_list(&hb, &room, Affiliation::Outcast)
        .await
        .expect_err("a member gets no ban list");
    assert!(
        matches!(err, roomtools::QueryError::Refused { .. }),
        "{err:?}"
    );

    // Taking bob off the member list.
    roomtools::set_affiliation(&ha, &room, &bob, Affiliation::None, None)
        .await
        .expect("member removed");
    let members = roomtools::affiliation_list(&ha, &room, Affiliation::Member)
        .await
        .expect("member list");
    assert!(members.is_empty(), "{members:?}");
}
