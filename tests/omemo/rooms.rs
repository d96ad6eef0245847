//! OMEMO in group chats (issue #17) through Loquat's real session, against slixmpp-omemo
//! in the same room on Prosody: a members-only, non-anonymous room (made by the peer
//! through the owner form) is encrypted both ways, our own reflected message keeps its
//! text, and what the peer sent while Loquat was away is decrypted from the room archive
//! after a restart; in an open room nothing is encrypted and the lock says why.

use super::Peer;
use super::session::{params, stop};
use super::support::muc::{fresh_room, join, joined};
use super::support::{TestServer, session::Updates};
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{ChatMessage, Delivery, Direction};
use loquat::omemo::AtRestKey;
use loquat::session::omemo::trust::Report;
use loquat::session::omemo::undecryptable;
use loquat::session::{Command, Handle, UpdateKind};
use loquat::store::Store;
use std::io::Write;
use std::time::Duration;
use support::session::{online, wait_for};
use tokio_xmpp::parsers::jid::BareJid;

use super::support;

impl Peer {
    /// Has the peer create `room` (private: members-only, non-anonymous, Loquat a member).
    fn make_room(&mut self, room: &BareJid, private: bool) {
        let kind = if private { "private" } else { "open" };
        writeln!(self.stdin, "make-room {room} {kind}").unwrap();
        self.stdin.flush().unwrap();
        self.expect("ROOM-READY", 40);
    }

    /// Has the peer configure `room` again (as `make_room`).
    fn configure_room(&mut self, room: &BareJid, private: bool) {
        let kind = if private { "private" } else { "open" };
        writeln!(self.stdin, "configure {room} {kind}").unwrap();
        self.stdin.flush().unwrap();
        self.expect("ROOM-READY", 40);
    }

    /// Has the peer send `text` to the room with every recipient key's MAC broken.
    fn send_room_bad_mac(&mut self, room: &BareJid, text: &str) {
        writeln!(self.stdin, "send-room-bad-mac {room} {text}").unwrap();
        self.stdin.flush().unwrap();
        self.expect("SENT", 40);
    }

    /// Has the peer encrypt `text` to the room's members and send it there.
    fn send_room(&mut self, room: &BareJid, text: &str) {
        writeln!(self.stdin, "send-room {room} {text}").unwrap();
        self.stdin.flush().unwrap();
        self.expect("SENT", 40);
    }

    /// The next room message the peer read: `Ok(text)` when it decrypted it,
    /// `Err("plain: …")` when it came in plain text, `Err(why)` when it did not decrypt.
    fn room_received(&mut self, secs: u64) -> Result<String, String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let Ok(line) = self.lines.recv_timeout(left) else {
                self.fail("the peer reported no room message");
            };
            self.seen.push(line.clone());
            let body = |json: &str| {
                let v: serde_json::Value = serde_json::from_str(json).unwrap();
                v["body"].as_str().unwrap_or_default().to_owned()
            };
            if let Some(json) = line.strip_prefix("ROOM-DECRYPTED ") {
                return Ok(body(json));
            }
            if let Some(json) = line.strip_prefix("ROOM-PLAIN ") {
                return Err(format!("plain: {}", body(json)));
            }
            if let Some(json) = line.strip_prefix("ROOM-UNDECRYPTABLE ") {
                return Err(json.to_owned());
            }
            if line.starts_with("peer failed") {
                self.fail("the peer failed");
            }
        }
    }
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

/// The next message from someone else in `room` (live or from its archive).
async fn incoming(u: &mut Updates, room: &BareJid, what: &str) -> ChatMessage {
    let mine = |m: &ChatMessage| {
        m.conversation == ConversationId::Room(room.clone()) && m.direction == Direction::Incoming
    };
    wait_for(u, 40, what, |k| match k {
        UpdateKind::Message(m) if mine(m) => Some(m.clone()),
        UpdateKind::History(ms) => ms.iter().find(|m| mine(m)).cloned(),
        _ => None,
    })
    .await
}

/// The session's report about `room` once it knows whether the room is private.
async fn room_report(u: &mut Updates, h: &Handle, room: &BareJid) -> Report {
    h.send(Command::OmemoStatus { peer: room.clone() })
        .expect("alive");
    wait_for(u, 30, "the room's OMEMO report", |k| match k {
        UpdateKind::Omemo(r)
            if r.peer == *room && r.room.as_ref().is_some_and(|s| s.private.is_some()) =>
        {
            Some(r.clone())
        }
        _ => None,
    })
    .await
}

async fn delivered(u: &mut Updates, id: &LocalMessageId) {
    let state = wait_for(u, 30, "our room message confirmed", |k| match k {
        UpdateKind::Delivery { id: i, state } if i == id => match state {
            Delivery::Delivered | Delivery::Failed(_) => Some(state.clone()),
            _ => None,
        },
        _ => None,
    })
    .await;
    assert_eq!(state, Delivery::Delivered, "the room reflected our message");
}

fn stored(store: &Store, account: &AccountId, room: &BareJid) -> Vec<ChatMessage> {
    store
        .latest(account, &ConversationId::Room(room.clone()), 100)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_room_is_encrypted_both_ways_and_its_archive_reads_after_a_restart() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-r-a");
    let (bob, bob_pw) = server.fresh_user("omemo-r-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-room".to_owned());
    let key = AtRestKey::generate().unwrap();
    let room = fresh_room("omemo-private");

    let (mut u, h, _) = online(params(&server, &account, &alice, &alice_pw, &store, &key)).await;
    let (mut peer, _) = Peer::start(&server, &bob, &bob_pw, &alice);
    peer.devices(1);
    peer.make_room(&room, true);
    join(&h, &room, "alice", None);
    joined(&mut u, &room).await;
    let report = room_report(&mut u, &h, &room).await;
    assert_eq!(
        report.room.as_ref().unwrap().private,
        Some(true),
        "{report:?}"
    );

    // The peer encrypts to the room's members: Loquat shows the text.
    peer.send_room(&room, "hello the private room");
    let m = incoming(&mut u, &room, "the peer's room message").await;
    assert_eq!(m.body, "hello the private room");
    assert_eq!(m.sender, "peer");

    // Loquat encrypts to every member's devices: the peer decrypts it (a plain message
    // would be `Err("plain: …")`), and our reflection confirms ours, text kept.
    let id = send(&h, &room, "from Loquat, encrypted");
    assert_eq!(
        peer.room_received(40),
        Ok("from Loquat, encrypted".to_owned())
    );
    delivered(&mut u, &id).await;
    let mine = store.find_message(&account, &id).unwrap().unwrap();
    assert_eq!(mine.body, "from Loquat, encrypted");

    // A file in the encrypted room: encrypted before upload, its `aesgcm://` link in an
    // OMEMO message the peer decrypts, downloads and checks.
    let (bytes, hash) = super::files::content(50_000, 3);
    let path = dir.path().join("plan.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let sent = loquat::transfer::send_file_encrypted(
        h.clone(),
        super::files::client(&server),
        loquat::transfer::Recipient::Room(room.clone()),
        path,
    )
    .finish()
    .await;
    assert!(sent.is_ok(), "{sent:?}");
    let link = peer.room_received(40).expect("the peer decrypts the link");
    assert!(link.starts_with("aesgcm://"), "{link}");
    let file: serde_json::Value = serde_json::from_str(&peer.expect("FILE", 30)).unwrap();
    assert_eq!(file["sha256"], hash.as_str(), "{file}");
    stop(u, h).await;

    // Sent while Loquat is away: the room archive has it, encrypted to Loquat's device.
    peer.send_room(&room, "while you were away");
    let (mut u, h, _) = online(params(&server, &account, &alice, &alice_pw, &store, &key)).await;
    joined(&mut u, &room).await;
    let m = incoming(&mut u, &room, "the archived room message").await;
    assert_eq!(m.body, "while you were away");
    peer.send_room(&room, "after the restart");
    let m = incoming(&mut u, &room, "a room message after the restart").await;
    assert_eq!(m.body, "after the restart");
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop(u, h).await;

    let bodies: Vec<String> = stored(&store, &account, &room)
        .into_iter()
        .map(|m| m.body)
        .collect();
    for b in &bodies {
        assert!(
            !b.contains("OMEMO encrypted"),
            "a fallback kept: {bodies:?}"
        );
        assert!(undecryptable(b).is_none(), "{bodies:?}");
    }
    assert!(
        bodies.iter().any(|b| b.starts_with("aesgcm://")),
        "the shared file: {bodies:?}"
    );
    for text in [
        "hello the private room",
        "from Loquat, encrypted",
        "while you were away",
        "after the restart",
    ] {
        assert_eq!(
            bodies.iter().filter(|b| *b == text).count(),
            1,
            "{text:?} once: {bodies:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_room_is_not_encrypted_and_says_why() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-o-a");
    let (bob, bob_pw) = server.fresh_user("omemo-o-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-open".to_owned());
    let key = AtRestKey::generate().unwrap();
    let room = fresh_room("omemo-open");

    let (mut u, h, _) = online(params(&server, &account, &alice, &alice_pw, &store, &key)).await;
    let (mut peer, _) = Peer::start(&server, &bob, &bob_pw, &alice);
    peer.devices(1);
    peer.make_room(&room, false);
    join(&h, &room, "alice", None);
    joined(&mut u, &room).await;
    let report = room_report(&mut u, &h, &room).await;
    assert_eq!(
        report.room.as_ref().unwrap().private,
        Some(false),
        "{report:?}"
    );

    let id = send(&h, &room, "plain in the open room");
    assert_eq!(
        peer.room_received(40),
        Err("plain: plain in the open room".to_owned())
    );
    delivered(&mut u, &id).await;
    stop(u, h).await;
}

/// The owner makes a private room open while Loquat is in it: the room says its
/// configuration changed (status 104), Loquat asks it again what it is, the lock says it
/// is not private any more, and what Loquat sends next goes in plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_made_open_is_asked_again_and_no_longer_encrypted() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-c-a");
    let (bob, bob_pw) = server.fresh_user("omemo-c-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-change".to_owned());
    let key = AtRestKey::generate().unwrap();
    let room = fresh_room("omemo-change");

    let (mut u, h, _) = online(params(&server, &account, &alice, &alice_pw, &store, &key)).await;
    let (mut peer, _) = Peer::start(&server, &bob, &bob_pw, &alice);
    peer.devices(1);
    peer.make_room(&room, true);
    join(&h, &room, "alice", None);
    joined(&mut u, &room).await;
    let report = room_report(&mut u, &h, &room).await;
    assert_eq!(report.room.unwrap().private, Some(true));
    send(&h, &room, "while private");
    assert_eq!(peer.room_received(40), Ok("while private".to_owned()));

    peer.configure_room(&room, false);
    wait_for(
        &mut u,
        30,
        "the room is not private any more",
        |k| match k {
            UpdateKind::Omemo(r)
                if r.peer == room && r.room.as_ref().is_some_and(|s| s.private == Some(false)) =>
            {
                Some(())
            }
            _ => None,
        },
    )
    .await;
    send(&h, &room, "now open");
    assert_eq!(peer.room_received(40), Err("plain: now open".to_owned()));
    stop(u, h).await;
}

/// A room message whose key fails its MAC is kept and shown as "bad MAC", never as its
/// text or the fallback, and never dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecryptable_room_message_is_kept_with_its_reason() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-u-a");
    let (bob, bob_pw) = server.fresh_user("omemo-u-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-undecryptable".to_owned());
    let key = AtRestKey::generate().unwrap();
    let room = fresh_room("omemo-bad");

    let (mut u, h, _) = online(params(&server, &account, &alice, &alice_pw, &store, &key)).await;
    let (mut peer, _) = Peer::start(&server, &bob, &bob_pw, &alice);
    peer.devices(1);
    peer.make_room(&room, true);
    join(&h, &room, "alice", None);
    joined(&mut u, &room).await;
    peer.send_room(&room, "a good one first");
    assert_eq!(
        incoming(&mut u, &room, "the good message").await.body,
        "a good one first"
    );
    // Our answer ends the key exchange: the peer's next message is a plain Signal
    // message, whose last bytes are its MAC (a pre-key message ends with fields the MAC
    // does not cover).
    send(&h, &room, "got it");
    assert_eq!(peer.room_received(40), Ok("got it".to_owned()));
    peer.send_room_bad_mac(&room, "must not show");
    let m = incoming(&mut u, &room, "the altered message").await;
    assert_eq!(
        undecryptable(&m.body),
        Some(loquat::session::omemo::Undecryptable::BadMac),
        "{:?}",
        m.body
    );
    stop(u, h).await;
    let bodies: Vec<String> = stored(&store, &account, &room)
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert!(
        !bodies
            .iter()
            .any(|b| b.contains("must not show") || b.contains("OMEMO encrypted")),
        "{bodies:?}"
    );
}

/// A member's new device is news in the room, where the person sees the member: Bob's
/// phone is verified, then Bob adds a laptop; at the next join the room (not Bob's 1:1
/// chat, which has no history) gets the notice, naming Bob.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_new_device_is_announced_in_the_room() {
    use loquat::session::omemo::trust;
    use support::session::jid;
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-nd-a");
    let (bob, bob_pw) = server.fresh_user("omemo-nd-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-room-new-device".to_owned());
    let key = AtRestKey::generate().unwrap();
    let room = fresh_room("omemo-new-device");
    let p = params(&server, &account, &alice, &alice_pw, &store, &key);

    let (mut u, h, _) = online(p.clone()).await;
    let (mut phone, phone_id) = Peer::start(&server, &bob, &bob_pw, &alice);
    phone.devices(1);
    phone.make_room(&room, true);
    join(&h, &room, "alice", None);
    joined(&mut u, &room).await;
    // Bob's devices, fetched as the room's member, with the phone's fingerprint.
    let fp = wait_for(&mut u, 40, "the phone's fingerprint", |k| match k {
        UpdateKind::Omemo(r) if r.peer == jid(&bob) => r
            .contact
            .iter()
            .flatten()
            .find(|d| d.id == phone_id)
            .and_then(|d| d.fingerprint.clone()),
        _ => None,
    })
    .await;
    trust::set_verified(&store, &account, &jid(&bob), phone_id, Some(&fp)).unwrap();
    stop(u, h).await;

    let (mut laptop, laptop_id) = Peer::start(&server, &bob, &bob_pw, &alice);
    laptop.devices(1);
    let (mut u, h, _) = online(p).await;
    joined(&mut u, &room).await;
    let notice = wait_for(&mut u, 40, "the new-device notice", |k| match k {
        UpdateKind::Message(m) if trust::new_device(&m.body).is_some() => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(notice.conversation, ConversationId::Room(room.clone()));
    assert_eq!(
        trust::new_device(&notice.body).map(|(d, _)| d),
        Some(laptop_id)
    );
    assert_eq!(trust::new_device_member(&notice.body), Some(jid(&bob)));
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop(u, h).await;
    let chat = store
        .latest(&account, &ConversationId::Chat(jid(&bob)), 10)
        .unwrap();
    assert!(chat.is_empty(), "nothing in Bob's chat: {chat:?}");
    let notices = stored(&store, &account, &room)
        .into_iter()
        .filter(|m| trust::new_device(&m.body).is_some())
        .count();
    assert_eq!(notices, 1);
}

/// In a room as in a chat: the member's reinstalled device (same id, new key) gets
/// nothing from us until its new key is accepted, and the room says so; nothing goes in
/// plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_members_device_whose_key_changed_gets_nothing_in_the_room() {
    use loquat::session::omemo::{Undecryptable, trust};
    use support::session::jid;
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-rk-a");
    let (bob, bob_pw) = server.fresh_user("omemo-rk-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-room-key".to_owned());
    let key = AtRestKey::generate().unwrap();
    let room = fresh_room("omemo-room-key");
    let p = params(&server, &account, &alice, &alice_pw, &store, &key);

    let (mut u, h, _) = online(p).await;
    let (mut phone, phone_id) = Peer::start(&server, &bob, &bob_pw, &alice);
    phone.devices(1);
    phone.make_room(&room, true);
    join(&h, &room, "alice", None);
    joined(&mut u, &room).await;
    room_report(&mut u, &h, &room).await;
    let id = send(&h, &room, "before");
    assert_eq!(phone.room_received(40), Ok("before".to_owned()));
    delivered(&mut u, &id).await;
    drop(phone);

    let (mut again, again_id) = Peer::start_as(&server, &bob, &bob_pw, &alice, Some(phone_id));
    assert_eq!(again_id, phone_id);
    again.make_room(&room, true);
    again.send_room(&room, "after the reinstall");
    let m = incoming(&mut u, &room, "the message under the new key").await;
    assert_eq!(
        undecryptable(&m.body),
        Some(Undecryptable::UntrustedIdentity),
        "{}",
        m.body
    );

    let id = send(&h, &room, "while the key changed");
    let here = ConversationId::Room(room.clone());
    let notice = wait_for(&mut u, 30, "the changed-key notice", |k| match k {
        UpdateKind::Message(m) if trust::key_changed(&m.body).is_some() => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(notice.conversation, here);
    let (device, _, whose) = trust::key_changed(&notice.body).unwrap();
    assert_eq!((device, whose), (phone_id, jid(&bob)));
    let why = wait_for(&mut u, 30, "the failure", |k| match k {
        UpdateKind::Delivery {
            id: i,
            state: Delivery::Failed(why),
        } if *i == id => Some(why.clone()),
        _ => None,
    })
    .await;
    assert!(why.contains("changed"), "{why}");
    let got = again.got_any(5);
    assert!(got.is_none(), "the device got our message: {got:?}");
    stop(u, h).await;
}
