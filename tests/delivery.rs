//! Fault-injection tests of issue #6 ("never lose a message"), 1:1 chats, against a real
//! Prosody: the link is reset, black-holed, the server is killed, the app is quit. After
//! each run the oracle (`delivery/oracle.rs`) compares what both sides stored and what
//! the server archive holds with what was sent: every message once, in order.
//!
//! Run: `cargo test --test delivery -- --test-threads=2`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

#[path = "delivery/oracle.rs"]
mod oracle;
mod support;

use loquat::model::Direction;
use loquat::session::UpdateKind;
use oracle::{Side, check};
use std::time::{Duration, Instant};
use support::session::wait_for;
use support::{FaultProxy, TestServer};

fn body(tag: &str, from: &str, i: usize) -> String {
    format!("{tag} {from} #{i:03}")
}

/// (1) The link of A is reset in the middle of a burst of 200 messages each way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_burst_loses_and_duplicates_nothing() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let proxy = FaultProxy::start(server.c2s_port());
    let mut a = Side::new(&server, "burst-a", dir.path());
    let mut b = Side::new(&server, "burst-b", dir.path());
    a.port = proxy.port();
    a.sign_in(&server).await;
    b.sign_in(&server).await;

    let (ja, jb) = (a.jid.clone(), b.jid.clone());
    for i in 0..200 {
        a.send(&jb, body("burst", "a", i));
        b.send(&ja, body("burst", "b", i));
        if i == 100 {
            proxy.cut_all();
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    // The archive may hold A's messages in another order than written: what A wrote
    // before it noticed the cut waits in the stream's queue and goes out on the new
    // stream before the older ones the dead link swallowed are sent again (1 run in
    // about 25; README, "Not guaranteed yet"). Both sides must still read what they
    // received in the archive's order, and A its own in the order written.
    oracle::check_with(&server, &a, &b, 60, false).await;
}

/// (2) A's link goes silent (no reset, no data) for longer than the server keeps a
/// session for resumption; the test server hibernates sessions for 5 s only
/// (`smacks_hibernation_time = 5`, Prosody's default is 600 s) so the test need not
/// wait minutes. A must notice the dead link within 30 s by itself, reconnect once the
/// network is back, send what it wrote meanwhile and catch up on what it missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn black_hole_beyond_resumption_is_noticed_and_caught_up() {
    let server = TestServer::start_with("smacks_hibernation_time = 5");
    let dir = tempfile::tempdir().expect("tempdir");
    let proxy = FaultProxy::start(server.c2s_port());
    let mut a = Side::new(&server, "hole-a", dir.path());
    let mut b = Side::new(&server, "hole-b", dir.path());
    a.port = proxy.port();
    a.sign_in(&server).await;
    b.sign_in(&server).await;
    let (ja, jb) = (a.jid.clone(), b.jid.clone());
    a.send(&jb, body("hole", "a", 0));
    b.send(&ja, body("hole", "b", 0));
    oracle::wait_stored("before the black hole", 20, &a.sent, || {
        b.stored(&ja, Direction::Incoming)
    })
    .await;

    let start = Instant::now();
    proxy.black_hole();
    // The server gives up on the silent link (its own timeouts, compressed) and keeps
    // the session for 5 s; A still believes it is connected.
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.drop_server_side();
    for i in 1..=5 {
        a.send(&jb, body("hole", "a", i));
        b.send(&ja, body("hole", "b", i));
    }
    let updates = &mut a.session.as_mut().expect("session").0;
    wait_for(updates, 40, "A noticing the dead link", |k| match k {
        UpdateKind::Disconnected { .. } => Some(()),
        _ => None,
    })
    .await;
    let noticed = start.elapsed();
    eprintln!("dead link noticed after {:.1} s", noticed.as_secs_f64());
    assert!(
        noticed <= Duration::from_secs(30),
        "the dead link was noticed only after {noticed:?}"
    );
    // Still black-holed for a while: more messages written on both sides.
    for i in 6..=8 {
        a.send(&jb, body("hole", "a", i));
        b.send(&ja, body("hole", "b", i));
    }
    let hole = Duration::from_secs(35);
    if let Some(rest) = hole.checked_sub(start.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    proxy.restore();
    let updates = &mut a.session.as_mut().expect("session").0;
    let resumed = wait_for(updates, 60, "A back online", |k| match k {
        UpdateKind::Online { resumed, .. } => Some(*resumed),
        _ => None,
    })
    .await;
    assert!(
        !resumed,
        "the server should have forgotten the session by now"
    );
    // Everything once, each side's own messages in the order written, and what each
    // side received in the order of its own archive (a message sent into the dead
    // session comes again later, and goes where the archive has it).
    oracle::check_with(&server, &a, &b, 60, false).await;
    eprintln!("black hole run: {:.1} s", start.elapsed().as_secs_f64());
}

/// (3) Prosody is killed (SIGKILL) in the middle of a conversation and started again on
/// the same ports and data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_mid_conversation_loses_nothing() {
    let mut server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = Side::new(&server, "crash-a", dir.path());
    let mut b = Side::new(&server, "crash-b", dir.path());
    a.sign_in(&server).await;
    b.sign_in(&server).await;
    let (ja, jb) = (a.jid.clone(), b.jid.clone());
    for i in 0..60 {
        a.send(&jb, body("crash", "a", i));
        b.send(&ja, body("crash", "b", i));
        if i == 30 {
            server.restart();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Each side and the archive must have everything once. The archive's order may
    // differ from the sending order (messages the server took just before it died can
    // be delivered and archived after ones sent again once it was back); each side must
    // read what it received in the archive's order.
    oracle::check_with(&server, &a, &b, 90, false).await;
}

/// A signs in once (so it has an archive position), quits; B sends `n` messages, all
/// confirmed by the server before A comes back. Returns A (quit) and B.
async fn away_while_b_sends(
    server: &TestServer,
    dir: &std::path::Path,
    tag: &str,
    n: usize,
) -> (Side, Side) {
    let mut a = Side::new(server, &format!("{tag}-a"), dir);
    let mut b = Side::new(server, &format!("{tag}-b"), dir);
    b.sign_in(server).await;
    let ja = a.jid.clone();
    // One message before A's first sign-in: history, and A's position afterwards. A
    // first sign-in counts what the archive stamped from the second it began as news
    // (stamps have whole seconds): A starts in a later second.
    b.send(&ja, body(tag, "b", 0));
    b.wait_all_sent(&ja, 20).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    a.sign_in(server).await;
    oracle::wait_stored("first message", 20, &b.sent, || {
        a.stored(&b.jid, Direction::Incoming)
    })
    .await;
    a.quit();
    for i in 1..=n {
        b.send(&ja, body(tag, "b", i));
    }
    b.wait_all_sent(&ja, 60).await;
    (a, b)
}

/// (5) A is offline (app not running) while B sends 500 messages: all appear once and
/// in order after A signs in again. They come as archive pages: the archive is asked
/// before the presence, so the server does not push them one by one (pushed, they raced
/// the catch-up and came out of order in about one run in four).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_messages_while_offline_arrive_once() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut a, b) = away_while_b_sends(&server, dir.path(), "away", 500).await;
    let start = Instant::now();
    a.reopen_store();
    a.sign_in(&server).await;
    oracle::check(&server, &a, &b, 60).await;
    eprintln!(
        "500 offline messages in A's store after {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// Back after 600 messages with the chat on screen: its newest messages are shown
/// first, not after the catch-up paged through the older ones (12 pages of Prosody's
/// 50); in the end all are stored once, in order, and count as unread once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_on_screen_gets_its_newest_page_first() {
    use futures::StreamExt;
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut a, b) = away_while_b_sends(&server, dir.path(), "peek", 600).await;

    a.reopen_store();
    let peer = support::session::jid(&b.jid);
    let mut updates: support::session::Updates = Box::pin(loquat::session::run(a.params(&server)));
    // The handle comes before the stream is up: the chat with B is on screen.
    let mut shown = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let mut _handle = None;
    while shown.len() < 600 {
        let Ok(Some(update)) = tokio::time::timeout_at(deadline, updates.next()).await else {
            panic!("only {} of B's 600 messages were shown", shown.len());
        };
        match update.kind {
            UpdateKind::Ready(h) => {
                h.send(loquat::session::Command::Viewing {
                    peer: Some(peer.clone()),
                })
                .expect("send");
                _handle = Some(h);
            }
            UpdateKind::Message(m) if *m.peer() == peer => shown.push(m.body),
            UpdateKind::History(ms) => panic!("news shown as history: {}", ms.len()),
            _ => {}
        }
    }
    let at = |i| shown.iter().position(|s| *s == body("peek", "b", i));
    assert!(
        at(600) < at(1) && at(551) < at(1),
        "the newest page was not shown first: #600 at {:?}, #1 at {:?}; shown first: {:?}",
        at(600),
        at(1),
        &shown[..3]
    );
    // Stored once each, in sending order, and unread once each (#0 came before A's first
    // sign-in: history).
    let stored = a.stored(&b.jid, Direction::Incoming);
    oracle::assert_once_in_order("A's store", &stored, &b.sent);
    let conv = loquat::ids::ConversationId::Chat(peer);
    assert_eq!(a.store().unread(&a.account, &conv).expect("unread"), 600);
}

/// Older history than the store has comes from the archive on request, one page at a
/// time, filtered to the chat: stored once, in order, as history (not unread, not news).
/// Here A's store knows where the archive stands but holds nothing of the 301 messages,
/// as after a first sign-in that fetched only so many pages, or a lost database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_reaches_back_into_the_archive_on_request() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut a, b) = away_while_b_sends(&server, dir.path(), "older", 300).await;
    // Catch up once, to learn the archive's position, then start over on a new folder
    // that has that position and no messages.
    a.reopen_store();
    a.sign_in(&server).await;
    oracle::wait_stored("the catch-up", 60, &b.sent, || {
        a.stored(&b.jid, Direction::Incoming)
    })
    .await;
    let keys = [
        format!("mam-cursor:{}", a.account),
        format!("mam-cursor-time:{}", a.account),
    ];
    let positions: Vec<_> = keys
        .iter()
        .map(|k| a.store().pref(k).expect("read a position"))
        .collect();
    assert!(positions[0].is_some(), "no archive position was saved");
    a.quit();
    a.dir = dir.path().join("older-a-new");
    std::fs::create_dir_all(&a.dir).expect("new folder");
    a.reopen_store();
    for (k, v) in keys.iter().zip(&positions) {
        if let Some(v) = v {
            a.store().set_pref(k, v).expect("write a position");
        }
    }
    let mut updates: support::session::Updates = Box::pin(loquat::session::run(a.params(&server)));
    let handle = wait_for(&mut updates, 10, "Ready", |k| match k {
        UpdateKind::Ready(h) => Some(h.clone()),
        _ => None,
    })
    .await;
    wait_for(&mut updates, 30, "the catch-up", |k| {
        matches!(k, UpdateKind::CaughtUp).then_some(())
    })
    .await;
    assert!(a.stored(&b.jid, Direction::Incoming).is_empty());

    let peer = support::session::jid(&b.jid);
    let (mut before, mut pages, mut got) = (None, 0, 0);
    loop {
        handle
            .send(loquat::session::Command::ChatLoadOlder {
                peer: peer.clone(),
                before: before.clone(),
                below_ms: None,
            })
            .expect("send");
        let (n, first, complete) = wait_for(&mut updates, 30, "an older page", |k| match k {
            UpdateKind::ChatOlder {
                peer: p,
                messages,
                first,
                complete,
                failed,
            } if *p == peer => {
                assert!(!failed, "the older page failed");
                assert!(messages.iter().all(|m| *m.peer() == peer));
                Some((messages.len(), first.clone(), *complete))
            }
            UpdateKind::Message(m) => panic!("history shown as news: {}", m.body),
            _ => None,
        })
        .await;
        pages += 1;
        got += n;
        if complete {
            break;
        }
        assert!(
            first.is_some() && first != before,
            "the page did not move back"
        );
        before = first;
        assert!(pages < 20, "too many pages");
    }
    assert_eq!(got, 301, "every message, once, in {pages} pages");
    assert!(
        pages >= 2,
        "one page at a time (the test server gives 50 a page)"
    );
    let stored = a.stored(&b.jid, Direction::Incoming);
    oracle::assert_once_in_order("A's store", &stored, &b.sent);
    let conv = loquat::ids::ConversationId::Chat(peer);
    assert_eq!(a.store().unread(&a.account, &conv).expect("unread"), 0);
}

/// (6) Three messages written while offline, the app quit, started again with the
/// network back: sent once each, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn written_offline_then_quit_then_restarted_sends_once_in_order() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let proxy = FaultProxy::start(server.c2s_port());
    let mut a = Side::new(&server, "quit-a", dir.path());
    let mut b = Side::new(&server, "quit-b", dir.path());
    b.sign_in(&server).await;
    let jb = b.jid.clone();
    // Offline: the network swallows everything.
    proxy.black_hole();
    a.port = proxy.port();
    let mut updates: support::session::Updates = Box::pin(loquat::session::run(a.params(&server)));
    let handle = wait_for(&mut updates, 10, "Ready", |k| match k {
        UpdateKind::Ready(h) => Some(h.clone()),
        _ => None,
    })
    .await;
    a.session = Some((updates, handle));
    for i in 0..3 {
        a.send(&jb, body("quit", "a", i));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.stored(&jb, Direction::Outgoing).len() < 3 {
        assert!(
            Instant::now() < deadline,
            "messages written offline were not stored"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.quit();
    proxy.restore();
    a.reopen_store();
    a.sign_in(&server).await;
    check(&server, &a, &b, 30).await;
}

/// (7) A's data folder is on a small tmpfs that fills up while B writes: A says so in
/// words, does not crash, and its store is not damaged; once space is freed, the next
/// sign-in fetches what could not be saved. Needs root (to mount the tmpfs); elsewhere
/// it says it did not run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full_is_reported_and_the_gap_is_filled_after_space_is_freed() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(disk) = support::Tmpfs::mount(&dir.path().join("small-disk"), "16m") else {
        eprintln!("SKIPPED: mounting a tmpfs needs root (CAP_SYS_ADMIN)");
        return;
    };
    let mut a = Side::new(&server, "full-a", disk.path());
    let mut b = Side::new(&server, "full-b", dir.path());
    a.sign_in(&server).await;
    b.sign_in(&server).await;
    let (ja, jb) = (a.jid.clone(), b.jid.clone());
    for i in 0..5 {
        b.send(&ja, body("full", "b", i));
    }
    oracle::wait_stored("before the disk filled", 20, &b.sent, || {
        a.stored(&jb, Direction::Incoming)
    })
    .await;

    let filler = disk.fill();
    for i in 5..25 {
        b.send(&ja, body("full", "b", i));
    }
    let (updates, handle) = a.session.as_mut().expect("signed in");
    let notice = wait_for(updates, 30, "a notice that the disk is full", |k| match k {
        UpdateKind::Notice(n) => Some(n.clone()),
        _ => None,
    })
    .await;
    assert!(notice.contains("disk is full"), "unclear notice: {notice}");
    // What A writes now cannot be stored first, so it is not sent, and A is told, with
    // the text.
    handle
        .send(loquat::session::Command::SendChat {
            to: support::session::jid(&jb),
            body: "written on a full disk".into(),
            id: loquat::ids::LocalMessageId::generate(),
        })
        .expect("the session takes commands");
    wait_for(
        updates,
        20,
        "a notice for the unsent message",
        |k| match k {
            UpdateKind::Notice(n) if n.contains("written on a full disk") => Some(()),
            _ => None,
        },
    )
    .await;

    // Space comes back; the app is started again: the store opens undamaged and the
    // catch-up brings everything B sent, once, in order.
    a.quit();
    std::fs::remove_file(&filler).expect("free the space");
    a.reopen_store();
    a.sign_in(&server).await;
    // Everything once, in order: a message whose save failed can still reach the disk
    // when the database closes; the catch-up then finds it in the archive and places
    // the others around it.
    oracle::check(&server, &a, &b, 60).await;
}

/// The server archive no longer has the position A stopped at (it keeps history for a
/// limited time, or was reset; here the position is one it never had). A refills from
/// the archive's newest end and, as it cannot reach back to what it had, records a
/// history gap the conversation shows, instead of pretending its history is whole. When
/// the refill does reach what A had, there is no gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_that_lost_our_position_leaves_a_visible_gap() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = Side::new(&server, "gap-a", dir.path());
    let mut b = Side::new(&server, "gap-b", dir.path());
    b.sign_in(&server).await;
    let (ja, jb) = (a.jid.clone(), b.jid.clone());
    // What A had stored an hour ago; the server has forgotten it.
    let hour_ago = chrono::Utc::now().timestamp_millis() - 3_600_000;
    for i in 0..2 {
        a.store_received(
            &jb,
            &format!("forgotten #{i}"),
            hour_ago + i,
            &format!("long-gone-{i}"),
        );
    }
    let cursor = format!("mam-cursor:{}", a.account);
    a.store().set_pref(&cursor, "long-gone-1").expect("cursor");
    for i in 0..3 {
        b.send(&ja, body("gap", "b", i));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while !b.store().outbox(&b.account).expect("outbox").is_empty() {
        assert!(Instant::now() < deadline, "B's messages never left");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    a.sign_in(&server).await;
    let (updates, _) = a.session.as_mut().expect("signed in");
    let gap = wait_for(updates, 30, "a history gap", |k| match k {
        UpdateKind::HistoryGap(g) => Some(*g),
        _ => None,
    })
    .await;
    let stored = a.store().history_gaps(&a.account).expect("gaps");
    assert_eq!(stored, vec![gap]);
    assert_eq!(gap.after_ms, hour_ago + 1, "the gap starts at what A had");
    let received = a.stored(&jb, Direction::Incoming);
    assert_eq!(received[..2], ["forgotten #0", "forgotten #1"]);
    assert_eq!(
        received[2..],
        b.sent[..],
        "B's messages once, in order, after the gap"
    );
    assert!(
        a.store().pref(&cursor).expect("cursor").as_deref() != Some("long-gone-1"),
        "the position was not renewed"
    );

    // Lost again, but this time the archive reaches back to what A has: no new gap.
    a.quit();
    a.reopen_store();
    a.store().set_pref(&cursor, "long-gone-2").expect("cursor");
    a.sign_in(&server).await;
    let (updates, _) = a.session.as_mut().expect("signed in");
    wait_for(updates, 30, "the refill to end", |k| match k {
        UpdateKind::HistoryGap(g) => panic!("a gap where none is: {g:?}"),
        UpdateKind::CaughtUp => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(a.store().history_gaps(&a.account).expect("gaps"), vec![gap]);
    assert_eq!(a.stored(&jb, Direction::Incoming).len(), 5, "nothing twice");
}

/// The archive lost A's position, and A had stored a newer message since (live, from
/// someone else): the refill still reaches back to the position's time, so none of the
/// 60 messages B sent in between (more than one page) is skipped for the newer one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_position_is_refilled_back_to_its_own_time() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = Side::new(&server, "refill-a", dir.path());
    let mut b = Side::new(&server, "refill-b", dir.path());
    b.sign_in(&server).await;
    let (ja, jb) = (a.jid.clone(), b.jid.clone());
    let hour_ago = chrono::Utc::now().timestamp_millis() - 3_600_000;
    // A's position, an hour old and forgotten by the server.
    a.store_received(&jb, "old", hour_ago, "gone-old");
    a.store()
        .set_pref(&format!("mam-cursor:{}", a.account), "gone-old")
        .expect("cursor");
    a.store()
        .set_pref(
            &format!("mam-cursor-time:{}", a.account),
            &hour_ago.to_string(),
        )
        .expect("cursor time");
    for i in 0..60 {
        b.send(&ja, body("refill", "b", i));
    }
    b.wait_all_sent(&ja, 60).await;
    // Then a newer message reached A live from someone else.
    let now = chrono::Utc::now().timestamp_millis();
    a.store_received("carol@localhost", "newer", now, "gone-newer");

    a.sign_in(&server).await;
    let (updates, _) = a.session.as_mut().expect("signed in");
    wait_for(updates, 30, "the refill to end", |k| match k {
        UpdateKind::CaughtUp => Some(()),
        _ => None,
    })
    .await;
    let received = a.stored(&jb, Direction::Incoming);
    assert_eq!(received[0], "old");
    oracle::assert_once_in_order("B's messages after the refill", &received[1..], &b.sent);
    let gaps = a.store().history_gaps(&a.account).expect("gaps");
    assert_eq!(
        gaps.len(),
        1,
        "the hour the server forgot is marked: {gaps:?}"
    );
    assert_eq!(gaps[0].after_ms, hour_ago);
}

/// A database damaged beyond opening, as the app starts it (`Store::open_or_recover`):
/// moved aside and reported, and the next sign-in fills the new one from the server
/// archive: nothing the archive kept is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_rebuilt_from_the_archive() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = Side::new(&server, "damaged-a", dir.path());
    let mut b = Side::new(&server, "damaged-b", dir.path());
    a.sign_in(&server).await;
    b.sign_in(&server).await;
    let (ja, jb) = (a.jid.clone(), b.jid.clone());
    for i in 0..3 {
        b.send(&ja, body("damaged", "b", i));
        a.send(&jb, body("damaged", "a", i));
    }
    oracle::wait_stored("B's messages at A", 20, &b.sent, || {
        a.stored(&jb, Direction::Incoming)
    })
    .await;
    a.wait_all_sent(&jb, 20).await;
    a.quit();
    for entry in std::fs::read_dir(&a.dir)
        .expect("A's data folder")
        .flatten()
    {
        if entry.path().is_file() {
            std::fs::write(entry.path(), b"\x00garbage\xffgarbage").expect("scribble");
        }
    }
    let (store, recovered) = loquat::store::Store::open_or_recover(&a.dir).expect("a new database");
    let recovered = recovered.expect("the damage is reported");
    assert!(recovered.moved_to.exists(), "the damaged files are kept");
    assert!(oracle::bodies(&store, &a.account, &jb, Direction::Incoming).is_empty());
    a.store = Some(store);

    a.sign_in(&server).await;
    let (updates, _) = a.session.as_mut().expect("signed in");
    wait_for(updates, 30, "the archive catch-up", |k| match k {
        UpdateKind::CaughtUp => Some(()),
        _ => None,
    })
    .await;
    oracle::assert_once_in_order("B's messages", &a.stored(&jb, Direction::Incoming), &b.sent);
    oracle::assert_once_in_order("A's own", &a.stored(&jb, Direction::Outgoing), &a.sent);
}

/// (4) The client process (`examples/chaos_client.rs`) is killed with SIGKILL at random
/// moments while it writes and B's 500 messages stream in; then it runs once more to the
/// end. Every message B sent is in A's store once; every message A's store accepted
/// reached B once; nothing is left unconfirmed. `LOQUAT_CHAOS_RUNS` sets the number of
/// kills (20 by default); `client_killed_many_times` runs 100.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_killed_at_random_moments_loses_nothing() {
    let runs = std::env::var("LOQUAT_CHAOS_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    chaos::run(runs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: 100 kills, a few minutes"]
async fn client_killed_many_times() {
    chaos::run(100).await;
}

#[path = "delivery/chaos.rs"]
mod chaos;

/// Soak run (ignored by default): for `LOQUAT_SOAK_MINUTES` minutes (default 2) A and B
/// write to each other at random moments while random faults hit A's link (resets,
/// black holes of 1 to 20 s, now and then a SIGKILL and restart of Prosody); then
/// everything is restored and it prints `sent / received / lost / duplicated` per
/// direction, and the oracle checks both stores and the server archive. Run:
/// `LOQUAT_SOAK_MINUTES=2 cargo test --test delivery soak_with_random_faults -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: LOQUAT_SOAK_MINUTES (default 2) minutes of random faults"]
async fn soak_with_random_faults() {
    let minutes = std::env::var("LOQUAT_SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse::<f64>().ok())
        .filter(|m| *m > 0.0)
        .unwrap_or(2.0);
    soak::run(minutes).await;
}

#[path = "delivery/soak.rs"]
mod soak;
