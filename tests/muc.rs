//! Group chat against the test Prosody's MUC component (conference.localhost, with
//! muc_mam): joining, messages, subject, errors, bookmarks, catch-up, kicks, restarts,
//! invitations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{ChatMessage, Delivery, Direction};
use loquat::session::rooms::{Exit, MucError, RoomUpdate};
use loquat::session::{Command, Handle, UpdateKind};
use loquat::store::Store;
use support::TestServer;
use support::muc::{fresh_room, join, joined, params};
use support::session::{Updates, jid, online, wait_for};
use tokio_xmpp::parsers::jid::BareJid;

/// Waits for a room message, live or filled in from the room archive.
async fn room_message(u: &mut Updates, body: &str) -> ChatMessage {
    wait_for(u, 20, body, |k| match k {
        UpdateKind::Message(m) if m.conversation.is_room() && m.body == body => Some(m.clone()),
        UpdateKind::History(ms) => ms
            .iter()
            .find(|m| m.conversation.is_room() && m.body == body)
            .cloned(),
        _ => None,
    })
    .await
}

fn send(h: &Handle, room: &BareJid, body: &str) -> LocalMessageId {
    let id = LocalMessageId::generate();
    h.send(Command::SendRoom {
        room: room.clone(),
        body: body.to_owned(),
        id: id.clone(),
    })
    .expect("session alive");
    id
}

/// Everything that arrives in the next `secs` seconds.
async fn drain(u: &mut Updates, secs: u64) -> Vec<UpdateKind> {
    use futures::StreamExt;
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while let Ok(Some(x)) = tokio::time::timeout_at(deadline, u.next()).await {
        out.push(x.kind);
    }
    out
}

fn history(store: &Store, account: &str, room: &BareJid) -> Vec<ChatMessage> {
    store
        .latest(
            &AccountId(account.to_owned()),
            &ConversationId::Room(room.clone()),
            10_000,
        )
        .expect("read history")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_accounts_exchange_messages_each_seen_once() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("ma");
    let (b, pb) = server.fresh_user("mb");
    let (sa, sb) = (
        Store::open_temporary().expect("store"),
        Store::open_temporary().expect("store"),
    );
    let (mut ua, ha, _) = online(params(&server, &a, &pa, Some(sa.clone()))).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, Some(sb.clone()))).await;
    let room = fresh_room("tea");
    join(&ha, &room, "alice", None);
    joined(&mut ua, &room).await;
    join(&hb, &room, "bob", None);
    joined(&mut ub, &room).await;
    // Alice sees Bob come in.
    wait_for(&mut ua, 10, "bob joins", |k| match k {
        UpdateKind::Room(RoomUpdate::Occupant {
            occupant,
            joined: true,
            ..
        }) if occupant.nick == "bob" => Some(()),
        _ => None,
    })
    .await;

    let id = send(&ha, &room, "hello from alice 你好");
    let at_b = room_message(&mut ub, "hello from alice 你好").await;
    assert_eq!(at_b.sender, "alice");
    assert_eq!(at_b.direction, Direction::Incoming);
    // Alice's own copy is confirmed by the room's reflection.
    wait_for(&mut ua, 10, "reflection confirms", |k| match k {
        UpdateKind::Delivery {
            id: i,
            state: Delivery::Delivered,
        } if *i == id => Some(()),
        _ => None,
    })
    .await;
    send(&hb, &room, "hi alice");
    let at_a = room_message(&mut ua, "hi alice").await;
    assert_eq!(at_a.sender, "bob");
    room_message(&mut ub, "hi alice").await;
    drain(&mut ua, 2).await;
    drain(&mut ub, 2).await;

    for (store, acc) in [(&sa, format!("acc-{a}")), (&sb, format!("acc-{b}"))] {
        let h = history(store, &acc, &room);
        let bodies: Vec<&str> = h.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(
            bodies,
            vec!["hello from alice 你好", "hi alice"],
            "{acc} history: {h:?}"
        );
    }
    let mine = history(&sa, &format!("acc-{a}"), &room);
    assert_eq!(mine[0].direction, Direction::Outgoing);
    assert_eq!(mine[0].delivery, Delivery::Delivered);
    assert!(
        sa.outbox(&AccountId(format!("acc-{a}")))
            .expect("outbox")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subject_change_reaches_everyone() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("sa");
    let (b, pb) = server.fresh_user("sb");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    let room = fresh_room("subj");
    join(&ha, &room, "alice", None);
    joined(&mut ua, &room).await;
    join(&hb, &room, "bob", None);
    joined(&mut ub, &room).await;
    ha.send(Command::SetSubject {
        room: room.clone(),
        subject: "Green tea only".into(),
    })
    .expect("alive");
    for u in [&mut ua, &mut ub] {
        let (subject, by) = wait_for(u, 10, "subject", |k| match k {
            UpdateKind::Room(RoomUpdate::Subject { subject, by, .. })
                if subject == "Green tea only" =>
            {
                Some((subject.clone(), by.clone()))
            }
            _ => None,
        })
        .await;
        assert_eq!(subject, "Green tea only");
        assert_eq!(by.as_deref(), Some("alice"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nick_conflict_is_reported_and_another_nick_works() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("na");
    let (b, pb) = server.fresh_user("nb");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    let room = fresh_room("nick");
    join(&ha, &room, "sam", None);
    joined(&mut ua, &room).await;
    join(&hb, &room, "sam", None);
    let error = wait_for(&mut ub, 20, "join error", |k| match k {
        UpdateKind::Room(RoomUpdate::JoinFailed { error, .. }) => Some(error.clone()),
        UpdateKind::Room(RoomUpdate::Joined { .. }) => panic!("joined with a taken nick"),
        _ => None,
    })
    .await;
    assert_eq!(error, MucError::NicknameInUse);
    join(&hb, &room, "sam2", None);
    assert_eq!(joined(&mut ub, &room).await, "sam2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_protected_room() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("pa");
    let (b, pb) = server.fresh_user("pb");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    let room = fresh_room("secret");
    join(&ha, &room, "owner", None);
    joined(&mut ua, &room).await;
    ha.send(Command::ConfigureRoom {
        room: room.clone(),
        fields: vec![
            (
                "muc#roomconfig_passwordprotectedroom".into(),
                vec!["1".into()],
            ),
            ("muc#roomconfig_roomsecret".into(), vec!["s3cret".into()]),
        ],
    })
    .expect("alive");
    drain(&mut ua, 2).await;
    for wrong in [None, Some("nope")] {
        join(&hb, &room, "guest", wrong);
        let error = wait_for(&mut ub, 20, "password error", |k| match k {
            UpdateKind::Room(RoomUpdate::JoinFailed { error, .. }) => Some(error.clone()),
            UpdateKind::Room(RoomUpdate::Joined { .. }) => panic!("joined without password"),
            _ => None,
        })
        .await;
        assert_eq!(error, MucError::PasswordRequired, "{wrong:?}");
    }
    join(&hb, &room, "guest", Some("s3cret"));
    joined(&mut ub, &room).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookmarks_come_back_after_restart_and_autojoin() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("bk");
    let room = fresh_room("bookmarked");
    {
        let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
        join(&ha, &room, "alice", None);
        joined(&mut ua, &room).await;
        // Give the bookmark publish time to be answered.
        drain(&mut ua, 2).await;
        ha.send(Command::Disconnect).expect("alive");
        drain(&mut ua, 2).await;
    }
    // A new session with an empty local store: the rooms come from the server.
    let (mut ua, _ha, _) = online(params(&server, &a, &pa, None)).await;
    let list = wait_for(&mut ua, 20, "bookmarks", |k| match k {
        UpdateKind::Room(RoomUpdate::Bookmarks(list)) => Some(list.clone()),
        _ => None,
    })
    .await;
    assert!(
        list.iter()
            .any(|b| b.room == room && b.autojoin && b.nick.as_deref() == Some("alice")),
        "{list:?}"
    );
    assert_eq!(joined(&mut ua, &room).await, "alice");
}

/// The bookmark list a new session of `user` fetches, and whether it joins `room` by
/// itself within a few seconds.
async fn next_sign_in(
    server: &TestServer,
    user: &str,
    password: &str,
    room: &BareJid,
) -> (Vec<loquat::session::rooms::Bookmark>, bool) {
    let (mut u, h, _) = online(params(server, user, password, None)).await;
    let list = wait_for(&mut u, 20, "bookmarks", |k| match k {
        UpdateKind::Room(RoomUpdate::Bookmarks(list)) => Some(list.clone()),
        _ => None,
    })
    .await;
    let joins = drain(&mut u, 3).await.iter().any(|k| {
        matches!(k, UpdateKind::Room(RoomUpdate::Joining { room: r, .. }
            | RoomUpdate::Joined { room: r, .. }) if r == room)
    });
    h.send(Command::Disconnect).expect("alive");
    drain(&mut u, 1).await;
    (list, joins)
}

/// Leave tells the room (another occupant sees us go); "leave for now" keeps the
/// bookmark without autojoin, "forget" removes it: neither comes back at the next
/// sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_tells_the_room_and_forgetting_removes_the_bookmark() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("leave-a");
    let (b, pb) = server.fresh_user("leave-b");
    let room = fresh_room("leaving");
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    join(&hb, &room, "bob", None);
    joined(&mut ub, &room).await;
    {
        let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
        join(&ha, &room, "alice", None);
        joined(&mut ua, &room).await;
        wait_for(&mut ub, 20, "alice in the room", |k| match k {
            UpdateKind::Room(RoomUpdate::Occupant { occupant, .. }) if occupant.nick == "alice" => {
                Some(())
            }
            _ => None,
        })
        .await;
        // The autojoin bookmark the join published.
        drain(&mut ua, 2).await;
        ha.send(Command::LeaveRoom { room: room.clone() })
            .expect("alive");
        wait_for(&mut ub, 20, "alice leaving", |k| match k {
            UpdateKind::Room(RoomUpdate::OccupantLeft { nick, .. }) if nick == "alice" => Some(()),
            _ => None,
        })
        .await;
        let left = wait_for(&mut ua, 20, "our own exit", |k| match k {
            UpdateKind::Room(RoomUpdate::Left {
                room: r, departure, ..
            }) if *r == room => Some(departure.exit.clone()),
            _ => None,
        })
        .await;
        assert_eq!(left, Exit::Left);
        drain(&mut ua, 2).await;
        ha.send(Command::Disconnect).expect("alive");
        drain(&mut ua, 1).await;
    }
    // Left for now: still bookmarked, not joined by itself.
    let (list, joins) = next_sign_in(&server, &a, &pa, &room).await;
    assert!(
        list.iter().any(|b| b.room == room && !b.autojoin),
        "{list:?}"
    );
    assert!(!joins, "a room left is not joined again at sign-in");

    // Forgotten: the bookmark is gone for the next sign-in.
    {
        let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
        wait_for(&mut ua, 20, "bookmarks", |k| match k {
            UpdateKind::Room(RoomUpdate::Bookmarks(list))
                if list.iter().any(|b| b.room == room) =>
            {
                Some(())
            }
            _ => None,
        })
        .await;
        ha.send(Command::ForgetBookmark { room: room.clone() })
            .expect("alive");
        let list = wait_for(&mut ua, 20, "the list without it", |k| match k {
            UpdateKind::Room(RoomUpdate::Bookmarks(list)) => Some(list.clone()),
            _ => None,
        })
        .await;
        assert!(!list.iter().any(|b| b.room == room), "{list:?}");
        drain(&mut ua, 2).await;
        ha.send(Command::Disconnect).expect("alive");
        drain(&mut ua, 1).await;
    }
    let (list, joins) = next_sign_in(&server, &a, &pa, &room).await;
    assert!(!list.iter().any(|b| b.room == room), "{list:?}");
    assert!(!joins);
}

/// A room message written while out of the room stays in the outbox across a restart
/// and goes out once when the room is joined again; a message the room took just before
/// the app quit (its echo never seen) is confirmed by the room archive, not sent twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_messages_written_before_a_restart_go_out_once() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("rout-a");
    let (b, pb) = server.fresh_user("rout-b");
    let room = fresh_room("outbox");
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    join(&hb, &room, "bob", None);
    joined(&mut ub, &room).await;
    {
        let store = Store::open(dir.path()).expect("store");
        let (mut ua, ha, _) = online(params(&server, &a, &pa, Some(store.clone()))).await;
        join(&ha, &room, "alice", None);
        joined(&mut ua, &room).await;
        drain(&mut ua, 1).await;
        // Stored (accepted from the user), then the app quits at once: the room may
        // or may not have taken it, and its echo is most likely not seen.
        send(&ha, &room, "sent as the app quit");
        let account = AccountId(format!("acc-{a}"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while history(&store, &account.0, &room).is_empty() {
            assert!(std::time::Instant::now() < deadline, "never stored");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        drop(ua);
        drop(ha);
    }
    let store = Store::open(dir.path()).expect("store");
    let account = AccountId(format!("acc-{a}"));
    let (mut ua, ha, _) = online(params(&server, &a, &pa, Some(store.clone()))).await;
    // The bookmark brings the room back (autojoin); a message written before that waits.
    send(&ha, &room, "written before the room was back");
    joined(&mut ua, &room).await;
    // Whether the first one left before the quit or only from the outbox now: once.
    room_message(&mut ub, "sent as the app quit").await;
    room_message(&mut ub, "written before the room was back").await;
    let seen = drain(&mut ub, 4).await;
    let again = seen
        .iter()
        .filter(|k| matches!(k, UpdateKind::Message(m) if m.conversation.is_room() && m.direction == Direction::Incoming))
        .count();
    assert_eq!(again, 0, "a room message went out twice: {seen:?}");
    drain(&mut ua, 1).await;
    let outbox = store.outbox(&account).expect("outbox");
    assert!(
        outbox.is_empty(),
        "unconfirmed: {:?}",
        outbox.iter().map(|m| &m.body).collect::<Vec<_>>()
    );
    let mine: Vec<String> = history(&store, &account.0, &room)
        .into_iter()
        .filter(|m| m.direction == Direction::Outgoing)
        .map(|m| m.body)
        .collect();
    assert_eq!(
        mine,
        ["sent as the app quit", "written before the room was back"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_messages_while_offline_arrive_once_in_order() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("oa");
    let (b, pb) = server.fresh_user("ob");
    let store_a = Store::open_temporary().expect("store");
    let room = fresh_room("busy");
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    join(&hb, &room, "bob", None);
    joined(&mut ub, &room).await;
    {
        let (mut ua, ha, _) = online(params(&server, &a, &pa, Some(store_a.clone()))).await;
        join(&ha, &room, "alice", None);
        joined(&mut ua, &room).await;
        send(&hb, &room, "before");
        room_message(&mut ua, "before").await;
        ha.send(Command::Disconnect).expect("alive");
        drain(&mut ua, 1).await;
    }
    for i in 0..300 {
        send(&hb, &room, &format!("m{i:03}"));
    }
    room_message(&mut ub, "m299").await;
    // A comes back (autojoin from the bookmark) and catches up from the room archive.
    let (mut ua, _ha, _) = online(params(&server, &a, &pa, Some(store_a.clone()))).await;
    joined(&mut ua, &room).await;
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while !seen.iter().any(|b: &String| b == "m299") {
        use futures::StreamExt;
        match tokio::time::timeout_at(deadline, ua.next()).await {
            Ok(Some(u)) => match u.kind {
                UpdateKind::Message(m) if m.conversation.is_room() => seen.push(m.body),
                UpdateKind::History(ms) => seen.extend(ms.into_iter().map(|m| m.body)),
                _ => {}
            },
            other => panic!("catch-up stalled after {} messages: {other:?}", seen.len()),
        }
    }
    drain(&mut ua, 2).await;
    let stored = history(&store_a, &format!("acc-{a}"), &room);
    let bodies: Vec<String> = stored.iter().map(|m| m.body.clone()).collect();
    let mut expected = vec!["before".to_owned()];
    expected.extend((0..300).map(|i| format!("m{i:03}")));
    assert_eq!(bodies.len(), 301, "stored {} messages", bodies.len());
    if let Some(i) = (0..301).find(|&i| bodies[i] != expected[i]) {
        panic!(
            "out of order from {i}: stored {:?}, expected {:?}",
            &bodies[i..(i + 5).min(301)],
            &expected[i..(i + 5).min(301)]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kicked_by_the_owner_shows_the_kicked_state() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("ka");
    let (b, pb) = server.fresh_user("kb");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    let room = fresh_room("strict");
    join(&hb, &room, "owner", None);
    joined(&mut ub, &room).await;
    join(&ha, &room, "alice", None);
    joined(&mut ua, &room).await;
    hb.send(Command::KickOccupant {
        room: room.clone(),
        nick: "alice".into(),
        reason: Some("Be nice".into()),
    })
    .expect("alive");
    let (departure, rejoin) = wait_for(&mut ua, 20, "kicked", |k| match k {
        UpdateKind::Room(RoomUpdate::Left {
            departure,
            rejoin_in_secs,
            ..
        }) => Some((departure.clone(), *rejoin_in_secs)),
        _ => None,
    })
    .await;
    assert_eq!(departure.exit, Exit::Kicked);
    assert_eq!(departure.reason.as_deref(), Some("Be nice"));
    assert_eq!(rejoin, None, "a kick is not undone behind the owner's back");
    // Rejoin is the user's choice.
    join(&ha, &room, "alice", None);
    joined(&mut ua, &room).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_server_restart_the_room_is_rejoined_by_itself() {
    let mut server = TestServer::start();
    let (a, pa) = server.fresh_user("ra");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let room = fresh_room("restart");
    join(&ha, &room, "alice", None);
    joined(&mut ua, &room).await;
    drain(&mut ua, 1).await;
    server.restart();
    // Back online on a new stream (resumption fails: the server forgot the session),
    // and in the room, without any command.
    wait_for(&mut ua, 60, "online again", |k| match k {
        UpdateKind::Online { resumed: false, .. } => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(joined(&mut ua, &room).await, "alice");
    send(&ha, &room, "still here");
    room_message(&mut ua, "still here").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_invitation_is_received_and_accepted() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("ia");
    let (b, pb) = server.fresh_user("ib");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    let room = fresh_room("party");
    join(&ha, &room, "alice", None);
    joined(&mut ua, &room).await;
    ha.send(Command::InviteToRoom {
        room: room.clone(),
        to: jid(&b),
        reason: Some("Tea time".into()),
        direct: true,
    })
    .expect("alive");
    let invitation = wait_for(&mut ub, 20, "invitation", |k| match k {
        UpdateKind::Room(RoomUpdate::Invitation(i)) => Some(i.clone()),
        _ => None,
    })
    .await;
    assert_eq!(invitation.room, room);
    assert_eq!(invitation.from, jid(&a));
    assert_eq!(invitation.reason.as_deref(), Some("Tea time"));
    assert!(invitation.direct);
    join(&hb, &invitation.room, "bob", invitation.password.as_deref());
    joined(&mut ub, &room).await;
    wait_for(&mut ua, 10, "bob arrives", |k| match k {
        UpdateKind::Room(RoomUpdate::Occupant { occupant, .. }) if occupant.nick == "bob" => {
            Some(())
        }
        _ => None,
    })
    .await;
}

/// "Load older" past the local store: one page of the room's archive before a given
/// archive id is stored (not as unread) and comes back as `RoomOlder`; before the
/// oldest, the archive says it is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_room_history_pages_back_from_the_archive() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("pa");
    let (b, pb) = server.fresh_user("pb");
    let room = fresh_room("past");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    join(&ha, &room, "alice", None);
    joined(&mut ua, &room).await;
    // Bob is in the room while Alice writes: he learns each message's archive id.
    let mut ids = Vec::new();
    {
        let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
        join(&hb, &room, "bob", None);
        joined(&mut ub, &room).await;
        for i in 0..12 {
            let body = format!("line {i:02}");
            send(&ha, &room, &body);
            let m = room_message(&mut ub, &body).await;
            ids.push(m.server_id.expect("the room gives archive ids"));
        }
        hb.send(Command::Disconnect).expect("alive");
        drain(&mut ub, 1).await;
    }
    // Bob again, with a store that has nothing of the room but knows where the archive
    // stood (as after catching up): the catch-up fetches nothing older by itself.
    let store = Store::open_temporary().expect("store");
    let account = format!("acc-{b}");
    store
        .set_pref(&format!("muc-cursor:{account}:{room}"), &ids[11])
        .expect("cursor");
    let (mut ub, hb, _) = online(params(&server, &b, &pb, Some(store.clone()))).await;
    join(&hb, &room, "bob", None);
    joined(&mut ub, &room).await;
    drain(&mut ub, 2).await;
    assert!(history(&store, &account, &room).is_empty());

    hb.send(Command::RoomLoadOlder {
        room: room.clone(),
        before: Some(ids[11].clone()),
    })
    .expect("alive");
    let (messages, first, complete) = wait_for(&mut ub, 20, "older page", |k| match k {
        UpdateKind::RoomOlder {
            room: r,
            messages,
            first,
            complete,
        } if *r == room => Some((messages.clone(), first.clone(), *complete)),
        _ => None,
    })
    .await;
    let bodies: Vec<String> = messages.iter().map(|m| m.body.clone()).collect();
    let expected: Vec<String> = (0..11).map(|i| format!("line {i:02}")).collect();
    assert_eq!(bodies, expected);
    assert_eq!(first.as_ref(), Some(&ids[0]));
    assert!(complete, "the page reached the beginning of the room");
    // Stored, in order, and not unread.
    let stored: Vec<String> = history(&store, &account, &room)
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(stored, expected);
    let conversation = ConversationId::Room(room.clone());
    assert_eq!(
        store
            .unread(&AccountId(account.clone()), &conversation)
            .expect("unread"),
        0
    );

    // Before the oldest: nothing, and the archive says so.
    hb.send(Command::RoomLoadOlder {
        room: room.clone(),
        before: first,
    })
    .expect("alive");
    let (messages, complete) = wait_for(&mut ub, 20, "empty page", |k| match k {
        UpdateKind::RoomOlder {
            room: r,
            messages,
            complete,
            ..
        } if *r == room => Some((messages.len(), *complete)),
        _ => None,
    })
    .await;
    assert_eq!((messages, complete), (0, true));
}

/// Waits until `watcher` sees `nick`'s role in the room become `role`.
async fn sees_role(watcher: &mut Updates, nick: &str, role: loquat::session::rooms::Role) {
    wait_for(watcher, 20, &format!("{nick} as {role:?}"), |k| match k {
        UpdateKind::Room(RoomUpdate::Occupant { occupant, .. })
            if occupant.nick == nick && occupant.role == role =>
        {
            Some(())
        }
        _ => None,
    })
    .await
}

/// The owner takes voice, gives it back, makes a moderator and bans: another occupant
/// sees each change; a change the room refuses comes back in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voice_moderator_and_ban_take_effect_for_everyone() {
    use loquat::session::rooms::{Affiliation, Role};
    let server = TestServer::start();
    let (o, po) = server.fresh_user("mod-o");
    let (b, pb) = server.fresh_user("mod-b");
    let (c, pc) = server.fresh_user("mod-c");
    let (mut uo, ho, _) = online(params(&server, &o, &po, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    let (mut uc, hc, _) = online(params(&server, &c, &pc, None)).await;
    let room = fresh_room("moderated");
    join(&ho, &room, "owner", None);
    joined(&mut uo, &room).await;
    join(&hb, &room, "bob", None);
    joined(&mut ub, &room).await;
    join(&hc, &room, "carol", None);
    joined(&mut uc, &room).await;
    let role = |nick: &str, role, reason: Option<&str>| Command::SetRole {
        room: room.clone(),
        nick: nick.into(),
        role,
        reason: reason.map(str::to_owned),
    };
    ho.send(role("bob", Role::Visitor, Some("calm down")))
        .expect("alive");
    sees_role(&mut uc, "bob", Role::Visitor).await;
    ho.send(role("bob", Role::Participant, None))
        .expect("alive");
    sees_role(&mut uc, "bob", Role::Participant).await;
    ho.send(role("bob", Role::Moderator, None)).expect("alive");
    sees_role(&mut uc, "bob", Role::Moderator).await;

    // Carol is no moderator: the room refuses, and says so.
    hc.send(role("bob", Role::Visitor, None)).expect("alive");
    let refused = wait_for(&mut uc, 20, "refusal", |k| match k {
        UpdateKind::Room(RoomUpdate::Refused { error, .. }) => Some(error.clone()),
        _ => None,
    })
    .await;
    assert!(
        matches!(
            refused,
            MucError::NotAllowed | MucError::Banned | MucError::Other(_)
        ),
        "{refused:?}"
    );

    // Banned by address: bob leaves as banned, and cannot come back.
    ho.send(Command::SetAffiliation {
        room: room.clone(),
        jid: jid(&b),
        affiliation: Affiliation::Outcast,
        reason: Some("spam".into()),
    })
    .expect("alive");
    let exit = wait_for(&mut uc, 20, "bob banned", |k| match k {
        UpdateKind::Room(RoomUpdate::OccupantLeft {
            nick, departure, ..
        }) if nick == "bob" => Some(departure.exit.clone()),
        _ => None,
    })
    .await;
    assert_eq!(exit, Exit::Banned);
    let (exit, reason) = wait_for(&mut ub, 20, "our ban", |k| match k {
        UpdateKind::Room(RoomUpdate::Left { departure, .. }) => {
            Some((departure.exit.clone(), departure.reason.clone()))
        }
        _ => None,
    })
    .await;
    assert_eq!((exit, reason.as_deref()), (Exit::Banned, Some("spam")));
    join(&hb, &room, "bob", None);
    let error = wait_for(&mut ub, 20, "join refused", |k| match k {
        UpdateKind::Room(RoomUpdate::JoinFailed { error, .. }) => Some(error.clone()),
        UpdateKind::Room(RoomUpdate::Joined { .. }) => panic!("a banned user joined"),
        _ => None,
    })
    .await;
    assert_eq!(error, MucError::Banned);
}

/// A room joined on another device (a second session of the same account) shows in
/// this session's bookmark list without a new sign-in (PEP `+notify` in our caps).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bookmark_added_on_another_device_arrives() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("bk-two");
    let room = fresh_room("elsewhere");
    let (mut desk, _hd, _) = online(params(&server, &a, &pa, None)).await;
    // The first list (empty) from the sign-in fetch.
    wait_for(&mut desk, 20, "first bookmarks", |k| match k {
        UpdateKind::Room(RoomUpdate::Bookmarks(_)) => Some(()),
        _ => None,
    })
    .await;
    drain(&mut desk, 1).await;
    let (mut phone, hp, _) = online(params(&server, &a, &pa, None)).await;
    join(&hp, &room, "alice", None);
    joined(&mut phone, &room).await;
    let list = wait_for(&mut desk, 20, "the phone's bookmark", |k| match k {
        UpdateKind::Room(RoomUpdate::Bookmarks(list)) if list.iter().any(|b| b.room == room) => {
            Some(list.clone())
        }
        _ => None,
    })
    .await;
    assert!(
        list.iter().any(|b| b.room == room && b.autojoin),
        "{list:?}"
    );
}

/// The owner destroys the room: the others are told it is gone, and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_destroys_a_room_and_occupants_learn_why() {
    let server = TestServer::start();
    let (o, po) = server.fresh_user("destroy-o");
    let (b, pb) = server.fresh_user("destroy-b");
    let (mut uo, ho, _) = online(params(&server, &o, &po, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    let room = fresh_room("doomed");
    join(&ho, &room, "owner", None);
    joined(&mut uo, &room).await;
    join(&hb, &room, "bob", None);
    joined(&mut ub, &room).await;
    ho.send(Command::DestroyRoom {
        room: room.clone(),
        reason: Some("moved to tea2".into()),
    })
    .expect("alive");
    let departure = wait_for(&mut ub, 20, "the room gone", |k| match k {
        UpdateKind::Room(RoomUpdate::Left { departure, .. }) => Some(departure.clone()),
        _ => None,
    })
    .await;
    assert_eq!(departure.exit, Exit::Destroyed);
    assert_eq!(departure.reason.as_deref(), Some("moved to tea2"));
}
