//! History you can trust across a restart: a client we did not write (slixmpp) floods a
//! chat and a room at full speed while Loquat is online; Loquat quits through its quit
//! path and starts again on the same data folder; then the order and count of what is
//! stored, and of what the conversation shows, must be exactly what was sent, each
//! message once. Messages sent while Loquat was closed must be unread after the start.
//!
//! `cargo test --test restart` (needs Prosody and the slixmpp venv that
//! `tests/run-all.sh` makes).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;

use futures::StreamExt;
use iced::Settings;
use iced_test::Simulator;
use iced_test::selector::Candidate;
use loquat::ids::{AccountId, ConversationId};
use loquat::model::{Account, ChatMessage};
use loquat::session::{Command, Handle, UpdateKind};
use loquat::store::Store;
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::i18n::Lang;
use loquat::ui::{App, Message};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::TestServer;
use support::session::{Updates, jid, wait_for};
use support::slix::{To, flood};
use support::view::run_tasks;
use tokio_xmpp::parsers::jid::BareJid;

/// One signed-in Loquat on a data folder.
struct Running {
    updates: Updates,
    handle: Handle,
    store: Store,
}

fn account_id(user: &str) -> AccountId {
    AccountId(format!("acc-{user}"))
}

/// Starts Loquat's session for `user` on the store in `dir`, and waits until it is
/// online and its catch-up ended.
async fn start(server: &TestServer, dir: &Path, user: &str, password: &str) -> Running {
    let _ = env_logger::builder().is_test(true).try_init();
    let store = Store::open(dir).expect("open the data folder");
    let params = support::muc::params(server, user, password, Some(store.clone()));
    let (mut updates, handle, _) = support::session::online(params).await;
    wait_for(&mut updates, 60, "the catch-up", |k| {
        matches!(k, UpdateKind::CaughtUp).then_some(())
    })
    .await;
    Running {
        updates,
        handle,
        store,
    }
}

/// The app's quit path (`session::sign_out_all`): the session signs out and ends;
/// then the store is closed.
async fn quit(mut r: Running) {
    loquat::session::sign_out_all(vec![r.handle.clone()]).await;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while r.updates.next().await.is_some() {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the session did not end within 10 s of quitting"
    );
    r.store.flush().expect("flush");
}

/// Waits until `n` messages whose body starts with `prefix` were shown live.
async fn shown_live(r: &mut Running, n: usize, prefix: &str) {
    let mut seen = 0;
    wait_for(&mut r.updates, 120, &format!("{n} × {prefix:?}"), |k| {
        if let UpdateKind::Message(m) = k
            && m.body.starts_with(prefix)
        {
            seen += 1;
        }
        (seen >= n).then_some(())
    })
    .await;
}

/// Waits until `n` messages whose body starts with `prefix` were shown, live or as
/// history.
async fn shown(r: &mut Running, n: usize, prefix: &str) {
    let mut seen = std::collections::HashSet::new();
    wait_for(&mut r.updates, 120, &format!("{n} × {prefix:?}"), |k| {
        let bodies: Vec<&ChatMessage> = match k {
            UpdateKind::Message(m) => vec![m],
            UpdateKind::History(ms) => ms.iter().collect(),
            _ => Vec::new(),
        };
        for m in bodies {
            if m.body.starts_with(prefix) {
                seen.insert(m.body.clone());
            }
        }
        (seen.len() >= n).then_some(())
    })
    .await;
}

/// Waits until the session was quiet for `quiet` (what comes late is stored by then).
async fn settle(r: &mut Running, quiet: Duration) {
    while let Ok(Some(_)) = tokio::time::timeout(quiet, r.updates.next()).await {}
}

fn expected(
    first: Option<&str>,
    prefix: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Vec<String> {
    first
        .map(str::to_owned)
        .into_iter()
        .chain(range.map(|i| format!("{prefix} {i:04}")))
        .collect()
}

/// The bodies of a conversation as stored, in its order.
fn stored(store: &Store, account: &AccountId, conversation: &ConversationId) -> Vec<String> {
    store
        .latest(account, conversation, 100_000)
        .expect("read history")
        .into_iter()
        .map(|m: ChatMessage| m.body)
        .collect()
}

/// Texts on screen that start with one of `prefixes`, top to bottom.
fn lines_on_screen(app: &App, prefixes: &[&str]) -> Vec<String> {
    let mut ui = Simulator::with_size(Settings::default(), (1100.0, 4000.0), app.view());
    let hits = Arc::new(Mutex::new(Vec::new()));
    let seen = hits.clone();
    let prefixes: Vec<String> = prefixes.iter().map(|p| p.to_string()).collect();
    let _ = ui.find(move |c: Candidate<'_>| -> Option<()> {
        if let Candidate::Text {
            content, bounds, ..
        } = c
            && prefixes.iter().any(|p| content.starts_with(p.as_str()))
            && let Ok(mut seen) = seen.lock()
        {
            seen.push((bounds.x, bounds.y, content.to_owned()));
        }
        None
    });
    let mut lines = hits.lock().map(|h| h.clone()).unwrap_or_default();
    // The timeline, not the inbox's previews of the last message on the left.
    let timeline = lines.iter().map(|l| l.0).fold(0.0f32, f32::max) - 200.0;
    lines.retain(|l| l.0 > timeline);
    lines.sort_by(|a, b| a.1.total_cmp(&b.1));
    lines.into_iter().map(|(_, _, t)| t).collect()
}

/// What a person sees after starting Loquat on `store`: the window title, and the
/// conversation `label` (clicked in the inbox) as its lines top to bottom.
fn what_the_ui_shows(
    store: &Store,
    user: &str,
    label: &str,
    prefixes: &[&str],
) -> (String, Vec<String>) {
    what_the_ui_shows_after(store, user, label, prefixes, None)
}

/// [`what_the_ui_shows`], after "Load older messages" in the opened room as often as
/// it is offered (at most `older` times).
fn what_the_ui_shows_after(
    store: &Store,
    user: &str,
    label: &str,
    prefixes: &[&str],
    older: Option<usize>,
) -> (String, Vec<String>) {
    // Its own thread: the app's tasks run on a runtime of their own, as in the app.
    std::thread::scope(|s| {
        s.spawn(|| ui_shows(store, user, label, prefixes, older))
            .join()
            .expect("the UI thread")
    })
}

fn ui_shows(
    store: &Store,
    user: &str,
    label: &str,
    prefixes: &[&str],
    older: Option<usize>,
) -> (String, Vec<String>) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut account = Account::new(jid(user));
    account.id = account_id(user);
    let mut loaded = LoadedAccount::new(account.clone(), Some("pw".into()));
    loaded.conversations = store.conversations(&account.id).expect("conversations");
    // As the app starts: with the cached roster (strangers' chats are requests).
    loaded.contacts = store
        .roster(&account.id)
        .map(|(_, contacts)| contacts)
        .unwrap_or_default();
    let mut app = App::from_startup(Lang::En, Startup::default());
    let task = app.update(Message::Started(Startup {
        accounts: vec![loaded],
        store: Some(store.clone()),
        ..Startup::default()
    }));
    run_tasks(&rt, &mut app, task);
    let title = app.title();
    let clicked: Vec<Message> = {
        let mut ui = Simulator::with_size(Settings::default(), (1100.0, 800.0), app.view());
        ui.click(label)
            .unwrap_or_else(|e| panic!("{label:?} not in the inbox: {e}"));
        ui.into_messages().collect()
    };
    for m in clicked {
        let task = app.update(m);
        run_tasks(&rt, &mut app, task);
    }
    for _ in 0..older.unwrap_or(0) {
        if !shows_text(&app, "Load older messages") {
            break;
        }
        let task = app.update(Message::Rooms(loquat::ui::room::Message::Room(
            loquat::ui::room::joined::Message::LoadOlder,
        )));
        run_tasks(&rt, &mut app, task);
    }
    (title, lines_on_screen(&app, prefixes))
}

/// Whether some text on screen is exactly `needle`.
fn shows_text(app: &App, needle: &str) -> bool {
    let mut ui = Simulator::with_size(Settings::default(), (1100.0, 4000.0), app.view());
    let needle = needle.to_owned();
    ui.find(move |c: Candidate<'_>| match c {
        Candidate::Text { content, .. } if content == needle => Some(()),
        _ => None,
    })
    .is_ok()
}

fn assert_same_order(what: &str, got: &[String], want: &[String]) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} messages, {} sent",
        got.len(),
        want.len()
    );
    if let Some(i) = got.iter().zip(want).position(|(g, w)| g != w) {
        let around = &got[i.saturating_sub(2)..(i + 3).min(got.len())];
        panic!(
            "{what}: order broken at #{i}: got {around:?}, sent {:?}",
            want[i]
        );
    }
}

/// What an opened conversation shows: the newest of what was sent, in order, at least
/// the first page's worth (or all of them).
fn assert_shows_the_newest(on_screen: &[String], sent: &[String]) {
    let first_page = sent.len().min(50);
    assert!(
        on_screen.len() >= first_page,
        "on screen after a restart: {} lines, expected at least {first_page}",
        on_screen.len()
    );
    let tail = &sent[sent.len().saturating_sub(on_screen.len())..];
    assert_same_order("after a restart, on screen", on_screen, tail);
}

async fn chat_order_survives_a_restart_with(count: u32) {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("alice");
    let (bob, bob_pw) = server.fresh_user("bob");
    let data = tempfile::tempdir().expect("data folder");
    let chat = ConversationId::Chat(jid(&bob));
    let me = account_id(&alice);

    let mut loquat = start(&server, data.path(), &alice, &alice_pw).await;
    let (b, bp, a) = (bob.clone(), bob_pw.clone(), alice.clone());
    let srv = &server;
    std::thread::scope(|s| {
        s.spawn(move || flood(srv, &b, &bp, To::Chat(&a), count, "msg"));
    });
    shown_live(&mut loquat, count as usize, "msg ").await;
    let sent = expected(None, "msg", 1..=count);
    assert_same_order("live, stored", &stored(&loquat.store, &me, &chat), &sent);
    quit(loquat).await;
    chat_reads_the_same_after_a_restart(&server, data.path(), (&alice, &alice_pw), &bob, &sent)
        .await;
}

/// Starts Loquat again on `dir` and quits: the chat with `peer` must read `sent`, in
/// the store and on screen.
async fn chat_reads_the_same_after_a_restart(
    server: &TestServer,
    dir: &Path,
    (user, password): (&str, &str),
    peer: &str,
    sent: &[String],
) {
    let chat = ConversationId::Chat(jid(peer));
    let loquat = start(server, dir, user, password).await;
    let after = stored(&loquat.store, &account_id(user), &chat);
    quit(loquat).await;
    assert_same_order("after a restart, stored", &after, sent);
    let store = Store::open(dir).expect("reopen");
    let (_, on_screen) = what_the_ui_shows(&store, user, peer, &["msg "]);
    assert_shows_the_newest(&on_screen, sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_order_survives_a_restart() {
    chat_order_survives_a_restart_with(50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_order_survives_a_restart_after_500() {
    chat_order_survives_a_restart_with(500).await;
}

/// The flood reaches the server while Loquat signs in for the first time, so some of it
/// comes in the catch-up's archive pages and the rest live, in whichever mix the timing
/// gives: the order must be the sending order, live, after a restart and on screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_order_holds_when_a_flood_meets_the_sign_in() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("alice");
    let (bob, bob_pw) = server.fresh_user("bob");
    let data = tempfile::tempdir().expect("data folder");
    let chat = ConversationId::Chat(jid(&bob));
    let me = account_id(&alice);
    let count = 500;
    let (b, bp, a) = (bob.clone(), bob_pw.clone(), alice.clone());
    let srv = &server;
    let mut loquat = None;
    std::thread::scope(|s| {
        s.spawn(move || flood(srv, &b, &bp, To::Chat(&a), count, "msg"));
        // slixmpp signs in (about 0.3 s) while Loquat does.
        loquat = Some(tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async {
                let store = Store::open(data.path()).expect("open the data folder");
                let params = support::muc::params(srv, &alice, &alice_pw, Some(store.clone()));
                let (updates, handle, _) = support::session::online(params).await;
                Running {
                    updates,
                    handle,
                    store,
                }
            })
        }));
    });
    let mut loquat = loquat.expect("signed in");
    shown(&mut loquat, count as usize, "msg ").await;
    settle(&mut loquat, Duration::from_secs(2)).await;
    let sent = expected(None, "msg", 1..=count);
    assert_same_order("live, stored", &stored(&loquat.store, &me, &chat), &sent);
    quit(loquat).await;
    chat_reads_the_same_after_a_restart(&server, data.path(), (&alice, &alice_pw), &bob, &sent)
        .await;
}

/// Joins `room` as `nick` and waits until the join (and the room's catch-up) is done.
async fn join(r: &mut Running, room: &BareJid, nick: &str) {
    support::muc::join(&r.handle, room, nick, None);
    support::muc::joined(&mut r.updates, room).await;
    settle(r, Duration::from_secs(2)).await;
}

/// Rooms people come back to outlive their occupants (a room that is destroyed when the
/// last one leaves takes its archive with it).
fn server_with_lasting_rooms() -> TestServer {
    TestServer::start_with("muc_room_default_persistent = true")
}

async fn room_order_survives_a_restart_with(count: u32, first: Option<&str>) {
    let server = server_with_lasting_rooms();
    let (alice, alice_pw) = server.fresh_user("alice");
    let (peer, peer_pw) = server.fresh_user("peer");
    let data = tempfile::tempdir().expect("data folder");
    let room = support::muc::fresh_room("order");
    let conv = ConversationId::Room(room.clone());
    let me = account_id(&alice);

    let mut loquat = start(&server, data.path(), &alice, &alice_pw).await;
    join(&mut loquat, &room, "alice").await;
    let (p, pp, r) = (peer.clone(), peer_pw.clone(), room.to_string());
    let srv = &server;
    std::thread::scope(|s| {
        s.spawn(move || {
            flood(
                srv,
                &p,
                &pp,
                To::Room {
                    room: &r,
                    nick: "flooder",
                    first,
                },
                count,
                "flood",
            )
        });
    });
    shown_live(&mut loquat, count as usize, "flood ").await;
    settle(&mut loquat, Duration::from_secs(1)).await;
    let sent = expected(first, "flood", 1..=count);
    assert_same_order("live, stored", &stored(&loquat.store, &me, &conv), &sent);
    quit(loquat).await;

    let mut loquat = start(&server, data.path(), &alice, &alice_pw).await;
    // The room comes back by itself (autojoin), with what the room sends on join.
    support::muc::joined(&mut loquat.updates, &room).await;
    settle(&mut loquat, Duration::from_secs(3)).await;
    let after = stored(&loquat.store, &me, &conv);
    quit(loquat).await;
    assert_same_order("after a restart, stored", &after, &sent);
    let store = Store::open(data.path()).expect("reopen");
    let label = room.node().map(|n| n.to_string()).unwrap_or_default();
    let (_, on_screen) = what_the_ui_shows(&store, &alice, &label, &["flood ", "hello room"]);
    assert_shows_the_newest(&on_screen, &sent);
    // "Load older messages" reaches back to the first message, in order (it stopped
    // at an earlier point after a flood, with an endless spinner).
    let (_, all) = what_the_ui_shows_after(
        &store,
        &alice,
        &label,
        &["flood ", "hello room"],
        Some(sent.len() / 50 + 2),
    );
    // Three pages at most are held as it reads back (the newest let go): the oldest.
    let held = sent.len().min(loquat::ui::chat::WINDOW_SHOWN);
    assert_same_order("after a restart, paged back on screen", &all, &sent[..held]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_order_survives_a_restart() {
    room_order_survives_a_restart_with(50, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_order_survives_a_restart_after_a_word_and_500() {
    room_order_survives_a_restart_with(500, Some("hello room from peer")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_survives_a_restart() {
    let server = server_with_lasting_rooms();
    let (alice, alice_pw) = server.fresh_user("alice");
    let (bob, bob_pw) = server.fresh_user("bob");
    let data = tempfile::tempdir().expect("data folder");
    let room = support::muc::fresh_room("unread");
    let chat = ConversationId::Chat(jid(&bob));
    let conv = ConversationId::Room(room.clone());
    let me = account_id(&alice);

    // Seen: a chat message and a room message, read before quitting.
    let mut loquat = start(&server, data.path(), &alice, &alice_pw).await;
    // Bob is a contact: a stranger's unread chat would be a request, out of the title's
    // count (issue #18).
    loquat
        .handle
        .send(Command::AddContact {
            jid: jid(&bob),
            name: None,
            subscribe: false,
        })
        .expect("add bob");
    wait_for(&mut loquat.updates, 10, "bob in the roster", |k| match k {
        UpdateKind::ContactChanged(c) if c.jid.as_str() == bob => Some(()),
        _ => None,
    })
    .await;
    join(&mut loquat, &room, "alice").await;
    let (b, bp, a, r) = (bob.clone(), bob_pw.clone(), alice.clone(), room.to_string());
    let srv = &server;
    std::thread::scope(|s| {
        s.spawn(|| flood(srv, &b, &bp, To::Chat(&a), 1, "seen"));
        s.spawn(|| {
            flood(
                srv,
                &b,
                &bp,
                To::Room {
                    room: &r,
                    nick: "bob",
                    first: None,
                },
                1,
                "seen in room",
            )
        });
    });
    shown_live(&mut loquat, 2, "seen").await;
    loquat.store.mark_read(&me, &chat).expect("read");
    loquat.store.mark_read(&me, &conv).expect("read");
    quit(loquat).await;

    // While Loquat is closed: 5 in the chat, 5 in the room.
    flood(&server, &bob, &bob_pw, To::Chat(&alice), 5, "while closed");
    flood(
        &server,
        &bob,
        &bob_pw,
        To::Room {
            room: &room.to_string(),
            nick: "bob",
            first: None,
        },
        5,
        "room while closed",
    );

    let mut loquat = start(&server, data.path(), &alice, &alice_pw).await;
    support::muc::joined(&mut loquat.updates, &room).await;
    settle(&mut loquat, Duration::from_secs(3)).await;
    let (chat_unread, room_unread) = (
        loquat.store.unread(&me, &chat).expect("unread"),
        loquat.store.unread(&me, &conv).expect("unread"),
    );
    let chat_lines = stored(&loquat.store, &me, &chat);
    let room_lines = stored(&loquat.store, &me, &conv);
    quit(loquat).await;
    assert_eq!(
        room_lines,
        expected(Some("seen in room 0001"), "room while closed", 1..=5),
        "each room message once, in order"
    );
    assert_eq!(
        chat_lines,
        expected(Some("seen 0001"), "while closed", 1..=5),
        "each message once, in order"
    );
    assert_eq!(
        chat_unread, 5,
        "what came to the chat while closed is unread"
    );
    assert_eq!(
        room_unread, 5,
        "what came to the room while closed is unread"
    );
    let store = Store::open(data.path()).expect("reopen");
    let (title, _) = what_the_ui_shows(&store, &alice, &bob, &["while closed"]);
    // Rooms add their mentions to the window title, not every line (as in the inbox).
    assert_eq!(title, "(5) Loquat", "the window title counts the chat's 5");
}
