#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]
//! Blocking (XEP-0191) and the quiet box for strangers (issue #18), against a real
//! Prosody (`mod_blocklist`), with slixmpp playing the other people.

mod support;

use loquat::ids::{AccountId, ConversationId};
use loquat::model::{Account, ChatMessage, Direction};
use loquat::session::{Command, Update, UpdateKind};
use loquat::store::Store;
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::i18n::Lang;
use loquat::ui::{App, Message};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::TestServer;
use support::session::{Updates, jid, local_params, online, wait_for};
use support::slix::{To, flood};
use tokio_xmpp::parsers::jid::Jid;

fn blocklist_of(kind: &UpdateKind) -> Option<Vec<Jid>> {
    match kind {
        UpdateKind::Blocklist {
            items,
            supported: true,
            ..
        } => Some(items.clone()),
        UpdateKind::Blocklist {
            supported: false, ..
        } => panic!("the test server must offer blocking (mod_blocklist)"),
        _ => None,
    }
}

fn history(store: &Store, account: &AccountId, peer: &str) -> Vec<ChatMessage> {
    store
        .latest(account, &ConversationId::Chat(jid(peer)), 1000)
        .expect("history")
}

/// A blocked person's messages are neither stored nor shown; the block is kept by the
/// server (a new session finds it); unblocking lets them through again.
#[tokio::test(flavor = "multi_thread")]
async fn blocking_round_trip_and_blocked_messages_are_not_stored() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("alice");
    let (bob, bob_pw) = server.fresh_user("bob");
    let (carol, carol_pw) = server.fresh_user("carol");
    let store = Store::open_temporary().expect("store");
    let account = AccountId("alice".into());
    let params = local_params(
        account.clone(),
        server.c2s_port(),
        server.ca_pem(),
        &alice,
        &alice_pw,
        Some(store.clone()),
    );
    let (mut updates, handle, _) = online(params.clone()).await;
    let first = wait_for(&mut updates, 10, "the blocklist", blocklist_of).await;
    assert!(first.is_empty(), "{first:?}");
    // Another client of the same account (a second resource) hears of the block.
    let mut other = local_params(
        AccountId("alice-phone".into()),
        server.c2s_port(),
        server.ca_pem(),
        &alice,
        &alice_pw,
        None,
    );
    other.resource = Some("phone".into());
    let (mut other_updates, other_handle, _) = online(other).await;
    wait_for(
        &mut other_updates,
        10,
        "the phone's blocklist",
        blocklist_of,
    )
    .await;

    handle
        .send(Command::Block {
            jids: vec![Jid::new(&bob).unwrap()],
            report: false,
        })
        .unwrap();
    let items = wait_for(&mut updates, 10, "bob blocked", |k| {
        blocklist_of(k).filter(|i| !i.is_empty())
    })
    .await;
    assert_eq!(items, vec![Jid::new(&bob).unwrap()]);
    let pushed = wait_for(&mut other_updates, 10, "the push to the phone", |k| {
        blocklist_of(k).filter(|i| !i.is_empty())
    })
    .await;
    assert_eq!(
        pushed,
        vec![Jid::new(&bob).unwrap()],
        "pushed by the server"
    );
    other_handle.sign_out().await;
    drop(other_updates);

    // Bob writes while blocked, then Carol: once Carol's message is here, Bob's would
    // have been too.
    let (b, c) = (bob.clone(), carol.clone());
    let port_server = &server;
    flood(
        port_server,
        &b,
        &bob_pw,
        To::Chat(&alice),
        3,
        "while blocked",
    );
    flood(
        port_server,
        &c,
        &carol_pw,
        To::Chat(&alice),
        1,
        "from carol",
    );
    wait_for(&mut updates, 20, "carol's message", |k| match k {
        UpdateKind::Message(m) if m.peer().as_str() == carol => Some(()),
        UpdateKind::Message(m) if m.peer().as_str() == bob => {
            panic!("a blocked sender's message was shown: {}", m.body)
        }
        _ => None,
    })
    .await;
    assert!(history(&store, &account, &bob).is_empty(), "nothing stored");
    assert_eq!(history(&store, &account, &carol).len(), 1);
    handle.sign_out().await;
    drop(updates);

    // The block lives on the server: a new session (without the store) is told.
    let fresh = local_params(
        AccountId("alice-2".into()),
        server.c2s_port(),
        server.ca_pem(),
        &alice,
        &alice_pw,
        None,
    );
    let (mut updates, handle, _) = online(fresh).await;
    let items = wait_for(&mut updates, 10, "the kept blocklist", blocklist_of).await;
    assert_eq!(items, vec![Jid::new(&bob).unwrap()]);
    handle
        .send(Command::Unblock {
            jids: vec![Jid::new(&bob).unwrap()],
        })
        .unwrap();
    wait_for(&mut updates, 10, "bob unblocked", |k| {
        blocklist_of(k).filter(Vec::is_empty)
    })
    .await;
    flood(&server, &bob, &bob_pw, To::Chat(&alice), 1, "unblocked");
    let body = wait_for(&mut updates, 20, "bob's message", |k| match k {
        UpdateKind::Message(m) if m.peer().as_str() == bob => Some(m.body.clone()),
        _ => None,
    })
    .await;
    assert_eq!(body, "unblocked 0001");
}

/// A TCP listener that counts connections: any attempt to fetch a URL pointing at it.
fn hit_counter() -> (u16, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, hits)
}

/// Someone writing with slixmpp (`tests/peers/stranger_peer.py`): one message whose
/// body is `url`, asking for a receipt; what comes back is read line by line.
struct Writer {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Writer {
    fn start(server: &TestServer, user: &str, pw: &str, to: &str, url: &str, id: &str) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/stranger_peer.py");
        let mut child = std::process::Command::new(support::slix::python())
            .arg(script)
            .args(["--jid", user, "--password", pw])
            .args(["--port", &server.c2s_port().to_string()])
            .arg("--ca")
            .arg(server.ca_path())
            .args(["--to", to, "--url", url, "--id", id, "--wait", "40"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("run the stranger peer");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Writer { child, lines }
    }

    /// Every line printed so far.
    fn printed(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Feeds the session's updates into the app (running what they start, as the runtime
/// would) until `done` says so; fails after `secs`.
fn pump(
    rt: &tokio::runtime::Runtime,
    app: &mut App,
    updates: &mut Updates,
    secs: u64,
    what: &str,
    mut done: impl FnMut(&App, &UpdateKind) -> bool,
) {
    use futures::StreamExt;
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let next = rt.block_on(async { tokio::time::timeout(left, updates.next()).await });
        let update: Update = match next {
            Ok(Some(u)) => u,
            Ok(None) => panic!("the session ended while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        };
        let kind = update.kind.clone();
        let task = app.update(Message::Session(update));
        support::view::run_tasks(rt, app, task);
        if done(app, &kind) {
            return;
        }
    }
}

/// Keeps feeding updates for `secs` (what arrives meanwhile is handled).
fn idle(rt: &tokio::runtime::Runtime, app: &mut App, updates: &mut Updates, secs: u64) {
    use futures::StreamExt;
    let deadline = Instant::now() + Duration::from_secs(secs);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rt.block_on(async { tokio::time::timeout(left, updates.next()).await }) {
            Ok(Some(update)) => {
                let task = app.update(Message::Session(update));
                support::view::run_tasks(rt, app, task);
            }
            _ => return,
        }
    }
}

fn message_from<'a>(kind: &'a UpdateKind, peer: &str) -> Option<&'a ChatMessage> {
    match kind {
        UpdateKind::Message(m) if m.peer().as_str() == peer => Some(m),
        _ => None,
    }
}

/// A stranger's message with an image lands in Requests: stored, no notification, its
/// image never fetched, no receipt. A contact's message, the control, notifies, has
/// its image fetched and is receipted. Accepting the stranger sends the held receipt
/// and moves the chat to the inbox.
#[test]
fn a_strangers_message_waits_quietly_in_requests() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("alice");
    let (bob, bob_pw) = server.fresh_user("bob");
    let (eve, eve_pw) = server.fresh_user("eve");
    // One listener per sender: a late retry of the contact's fetch cannot blur the count.
    let (port, hits) = hit_counter();
    let (eve_port, eve_hits) = hit_counter();
    let store = Store::open_temporary().unwrap();
    let mut account = Account::new(jid(&alice));
    account.id = AccountId("alice".into());
    let id = account.id.clone();

    let mut app = App::from_startup(Lang::En, Startup::default());
    let task = app.update(Message::Started(Startup {
        accounts: vec![LoadedAccount::new(account, Some(alice_pw.clone()))],
        store: Some(store.clone()),
        ..Startup::default()
    }));
    support::view::run_tasks(&rt, &mut app, task);
    let params = local_params(
        id.clone(),
        server.c2s_port(),
        server.ca_pem(),
        &alice,
        &alice_pw,
        Some(store.clone()),
    );
    let mut updates: Updates = {
        let _guard = rt.enter();
        Box::pin(loquat::session::run(params))
    };
    pump(&rt, &mut app, &mut updates, 20, "the blocklist", |_, k| {
        blocklist_of(k).is_some()
    });
    // Bob becomes a contact (Alice adds him through the app; no need for his answer).
    let add = app.update(Message::Sidebar(
        loquat::ui::screen::sidebar::Message::Request(
            id.clone(),
            jid(&bob),
            loquat::ui::screen::sidebar::RequestAction::Accept,
        ),
    ));
    support::view::run_tasks(&rt, &mut app, add);
    pump(
        &rt,
        &mut app,
        &mut updates,
        10,
        "bob in the roster",
        |_, k| matches!(k, UpdateKind::ContactChanged(c) if c.jid.as_str() == bob),
    );

    // The control: a contact's picture is fetched, their message notifies and is
    // receipted.
    let bob_url = format!("https://localhost:{port}/bob.png");
    let bob_writes = Writer::start(&server, &bob, &bob_pw, &alice, &bob_url, "b1");
    let mut bob_notifies = None;
    pump(
        &rt,
        &mut app,
        &mut updates,
        20,
        "bob's message",
        |app, k| {
            message_from(k, &bob).is_some_and(|m| {
                bob_notifies = Some(app.notifies(m));
                true
            })
        },
    );
    assert_eq!(bob_notifies, Some(true), "a contact's message notifies");
    let deadline = Instant::now() + Duration::from_secs(10);
    while hits.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
        idle(&rt, &mut app, &mut updates, 1);
    }
    assert!(
        hits.load(Ordering::SeqCst) >= 1,
        "the control: a contact's picture is fetched on its own"
    );
    let mut bob_lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !bob_lines.iter().any(|l: &String| l == "RECEIPT b1") && Instant::now() < deadline {
        idle(&rt, &mut app, &mut updates, 1);
        bob_lines.extend(bob_writes.printed());
    }
    assert!(
        bob_lines.iter().any(|l| l == "RECEIPT b1"),
        "a contact gets a receipt: {bob_lines:?}"
    );

    // Eve is a stranger.
    let eve_url = format!("https://localhost:{eve_port}/eve.png");
    let eve_writes = Writer::start(&server, &eve, &eve_pw, &alice, &eve_url, "e1");
    let mut eve_message = None;
    pump(
        &rt,
        &mut app,
        &mut updates,
        20,
        "eve's message",
        |app, k| {
            message_from(k, &eve).is_some_and(|m| {
                eve_message = Some((m.clone(), app.notifies(m)));
                true
            })
        },
    );
    let (message, notifies) = eve_message.unwrap();
    assert_eq!(message.direction, Direction::Incoming);
    assert!(!notifies, "a stranger's message does not notify");
    assert_eq!(history(&store, &id, &eve).len(), 1, "it is stored");
    assert!(support::app::shows(&app, "Requests (1)"), "it is a request");
    // Long enough for a fetch and a receipt to have happened.
    idle(&rt, &mut app, &mut updates, 3);
    assert_eq!(
        eve_hits.load(Ordering::SeqCst),
        0,
        "a stranger's picture is never fetched on its own"
    );
    let mut eve_lines = eve_writes.printed();
    assert!(
        eve_lines.iter().any(|l| l == "sent 1")
            && !eve_lines.iter().any(|l| l.starts_with("RECEIPT")),
        "no receipt to a stranger: {eve_lines:?}"
    );

    // Accept, from the request's own button.
    for task in support::app::click(&mut app, "Accept") {
        support::view::run_tasks(&rt, &mut app, task);
    }
    pump(
        &rt,
        &mut app,
        &mut updates,
        10,
        "eve in the roster",
        |_, k| matches!(k, UpdateKind::ContactChanged(c) if c.jid.as_str() == eve),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !eve_lines.iter().any(|l| l == "RECEIPT e1") && Instant::now() < deadline {
        idle(&rt, &mut app, &mut updates, 1);
        eve_lines.extend(eve_writes.printed());
    }
    assert!(
        eve_lines.iter().any(|l| l == "RECEIPT e1"),
        "accepting sends the held receipt: {eve_lines:?}"
    );
    assert!(!support::app::shows(&app, "Requests ("), "no requests left");
    assert_eq!(eve_hits.load(Ordering::SeqCst), 0, "still never fetched");
}
