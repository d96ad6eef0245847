#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
//! Modern XMPP against a client we did not write: slixmpp (PyPI, its own plugins for
//! XEP-0085, 0308, 0424, 0444, 0461) corrects, reacts, retracts, replies and types at
//! Loquat through a real Prosody, and Loquat does each of those back, which slixmpp's
//! plugins must read. What Loquat stored must be the same live, after a restart on the
//! same data folder, and on a fresh data folder that only has the server archive.
//!
//! `cargo test --test modern` (needs Prosody and the slixmpp venv that
//! `tests/run-all.sh` makes).

mod support;

use futures::StreamExt;
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{ChatMessage, Direction};
use loquat::session::{ChatState, Command, Handle, UpdateKind};
use loquat::store::Store;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::TestServer;
use support::session::{Updates, jid, local_params, wait_for};

/// slixmpp running `slix_peer.py modern --listen`: its output, line by line.
struct Peer {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Peer {
    fn start(server: &TestServer, user: &str, password: &str, target: &[&str]) -> Peer {
        let mut args = vec!["modern"];
        args.extend_from_slice(target);
        args.push("--listen");
        Peer::run(server, user, password, &args)
    }

    /// slixmpp running `slix_peer.py <args>`.
    fn run(server: &TestServer, user: &str, password: &str, args: &[&str]) -> Peer {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/slix_peer.py");
        let mut child = std::process::Command::new(support::slix::python())
            .arg(script)
            .args(["--jid", user, "--password", password])
            .args(["--port", &server.c2s_port().to_string()])
            .arg("--ca")
            .arg(server.ca_path())
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("run the slixmpp peer");
        let stdout = child.stdout.take().expect("peer stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Peer {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (blocking) for a line starting with `prefix`; fails on the peer's error.
    fn wait_line(&mut self, prefix: &str, secs: u64) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                    assert!(!line.starts_with("peer failed"), "{line}");
                }
                Err(_) => panic!(
                    "the slixmpp peer did not print {prefix:?} in {secs} s; it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// What slixmpp's plugins read from each message Loquat sent (`SEEN` lines).
    fn seen_json(&self) -> Vec<serde_json::Value> {
        self.seen
            .iter()
            .filter_map(|l| l.strip_prefix("SEEN "))
            .map(|j| serde_json::from_str(j).expect("peer JSON"))
            .collect()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Running {
    updates: Updates,
    handle: Handle,
    store: Store,
    account: AccountId,
}

async fn start(
    server: &TestServer,
    dir: &Path,
    account: &str,
    user: &str,
    password: &str,
) -> Running {
    start_at(server, server.c2s_port(), dir, account, user, password).await
}

/// As [`start`], connecting to `port` (a fault proxy in front of the server).
async fn start_at(
    server: &TestServer,
    port: u16,
    dir: &Path,
    account: &str,
    user: &str,
    password: &str,
) -> Running {
    let _ = env_logger::builder().is_test(true).try_init();
    let store = Store::open(dir).expect("open the data folder");
    let account = AccountId(account.to_owned());
    let params = local_params(
        account.clone(),
        port,
        server.ca_pem(),
        user,
        password,
        Some(store.clone()),
    );
    let (mut updates, handle, _) = support::session::online(params).await;
    wait_for(&mut updates, 60, "the catch-up", |k| {
        matches!(k, UpdateKind::CaughtUp).then_some(())
    })
    .await;
    Running {
        updates,
        handle,
        store,
        account,
    }
}

async fn quit(mut r: Running) {
    loquat::session::sign_out_all(vec![r.handle.clone()]).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while r.updates.next().await.is_some() {}
    })
    .await;
    r.store.flush().expect("flush");
}

fn history(r: &Running, conversation: &ConversationId) -> Vec<ChatMessage> {
    r.store
        .latest(&r.account, conversation, 100)
        .expect("read the history")
}

fn by_body<'a>(history: &'a [ChatMessage], body: &str) -> &'a ChatMessage {
    history.iter().find(|m| m.body == body).unwrap_or_else(|| {
        panic!(
            "no message {body:?} in {:#?}",
            history.iter().map(|m| &m.body).collect::<Vec<_>>()
        )
    })
}

/// What slixmpp did must show in Loquat's store exactly so: four messages (no second
/// copy for the correction, no fallback text for the retraction), the correction in
/// place with its earlier text, the reactions, the retraction without text, the reply
/// without its quote.
fn check_peer_changes(history: &[ChatMessage], from_peer: impl Fn(&ChatMessage) -> bool) {
    let theirs: Vec<&ChatMessage> = history.iter().filter(|m| from_peer(m)).collect();
    let bodies: Vec<&str> = theirs.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies,
        ["hello", "react to me", "", "yes, hello"],
        "the peer's messages as stored: {theirs:#?}"
    );
    let hello = theirs[0];
    assert!(hello.edited(), "{hello:#?}");
    assert_eq!(hello.earlier_versions()[0].body, "helo");
    let reacted = theirs[1];
    let reactions: Vec<&loquat::model::extras::Reactions> = reacted
        .extras
        .reactions
        .iter()
        .filter(|r| !r.mine)
        .collect();
    assert_eq!(reactions.len(), 1, "{reacted:#?}");
    let mut emojis = reactions[0].emojis.clone();
    emojis.sort();
    assert_eq!(emojis, ["🎉", "👍"]);
    let retracted = theirs[2];
    assert!(retracted.extras.retracted.is_some(), "{retracted:#?}");
    assert!(
        !serde_json::to_string(retracted)
            .unwrap()
            .contains("delete me")
    );
    let reply = theirs[3];
    let to = reply.extras.reply_to.as_ref().expect("a reply reference");
    assert!(
        [hello.stanza_id_attr.as_deref(), hello.server_id.as_deref()]
            .contains(&Some(to.id.as_str())),
        "the reply names the corrected message: {to:?} {hello:#?}"
    );
}

/// What Loquat did must be stored so too: its corrected message, its reaction beside
/// the peer's, its retracted message, its reply.
fn check_own_changes(history: &[ChatMessage]) {
    let ours: Vec<&ChatMessage> = history
        .iter()
        .filter(|m| m.direction == Direction::Outgoing && m.body != "bye")
        .collect();
    let bodies: Vec<&str> = ours.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["my first, fixed", "", "sure"], "{ours:#?}");
    assert_eq!(ours[0].earlier_versions()[0].body, "my first");
    assert!(ours[1].extras.retracted.is_some());
    assert!(ours[2].extras.reply_to.is_some());
    let reacted = by_body(history, "react to me");
    let mine: Vec<_> = reacted.extras.reactions.iter().filter(|r| r.mine).collect();
    // Exactly one: in a room, what Loquat stored at once and the room's reflection of
    // it count under the same key.
    assert_eq!(mine.len(), 1, "{reacted:#?}");
    assert_eq!(mine[0].emojis, ["❤"], "{reacted:#?}");
}

/// Loquat corrects, reacts, retracts, replies and types in `conversation`; returns
/// once slixmpp saw the final "bye".
async fn loquat_does_it_all(r: &mut Running, peer: &mut Peer, conversation: &ConversationId) {
    let h = r.handle.clone();
    let send = |body: &str, id: &LocalMessageId| match conversation {
        ConversationId::Chat(to) => Command::SendChat {
            to: to.clone(),
            body: body.to_owned(),
            id: id.clone(),
        },
        ConversationId::Room(room) => Command::SendRoom {
            room: room.clone(),
            body: body.to_owned(),
            id: id.clone(),
        },
        ConversationId::Private { .. } => unreachable!(),
    };
    let history_now = history(r, conversation);
    let theirs = |body: &str| by_body(&history_now, body).id.clone();
    let first = LocalMessageId("loquat-first".into());
    h.send(send("my first", &first)).unwrap();
    h.send(Command::Correct {
        conversation: conversation.clone(),
        target: first.clone(),
        body: "my first, fixed".into(),
        id: LocalMessageId("loquat-fix".into()),
    })
    .unwrap();
    h.send(Command::React {
        conversation: conversation.clone(),
        target: theirs("react to me"),
        emojis: vec!["❤".into()],
    })
    .unwrap();
    let oops = LocalMessageId("loquat-oops".into());
    h.send(send("oops", &oops)).unwrap();
    // In a room, retracting names the room's stanza-id: wait for the reflection.
    if conversation.is_room() {
        wait_for(&mut r.updates, 20, "the reflection of oops", |k| {
            matches!(k, UpdateKind::Delivery { id, .. } if *id == oops).then_some(())
        })
        .await;
    }
    h.send(Command::Retract {
        conversation: conversation.clone(),
        target: oops,
    })
    .unwrap();
    h.send(Command::Reply {
        conversation: conversation.clone(),
        to: theirs("hello"),
        body: "sure".into(),
        id: LocalMessageId("loquat-reply".into()),
    })
    .unwrap();
    for state in [ChatState::Composing, ChatState::Paused] {
        h.send(Command::SendChatState {
            conversation: conversation.clone(),
            state,
        })
        .unwrap();
    }
    h.send(send("bye", &LocalMessageId("loquat-bye".into())))
        .unwrap();
    let done = tokio::task::block_in_place(|| peer.wait_line("done", 60));
    assert_eq!(done, "done");
}

/// What slixmpp's own plugins read from Loquat's stanzas.
fn check_peer_saw(
    peer: &Peer,
    reacted_id: &str,
    hello_id: &str,
    retracted_id: &str,
    fallback: &str,
) {
    let seen = peer.seen_json();
    let find = |what: &str| -> &serde_json::Value {
        seen.iter()
            .find(|s| !s[what].is_null())
            .unwrap_or_else(|| panic!("slixmpp saw no {what} from Loquat: {seen:#?}"))
    };
    let correction = find("replace");
    assert_eq!(correction["replace"], "loquat-first");
    assert_eq!(correction["body"], "my first, fixed");
    let reactions = find("reactions");
    assert_eq!(reactions["reactions"][0], reacted_id);
    assert_eq!(reactions["reactions"][1][0], "❤");
    let retract = find("retract");
    assert_eq!(retract["retract"], retracted_id, "{retract}");
    let reply = find("reply");
    assert_eq!(reply["reply"][0], hello_id);
    assert_eq!(
        reply["reply"][2], fallback,
        "the fallback quote slixmpp reads"
    );
    assert!(reply["body"].as_str().unwrap().ends_with("sure"), "{reply}");
    let typing = find("chat_state");
    for state in ["composing", "paused"] {
        assert!(
            seen.iter().any(|s| s["chat_state"] == state),
            "{state}: {typing} {seen:#?}"
        );
    }
    // The retraction's stanza itself carries the current version too.
    assert!(
        peer.seen
            .iter()
            .any(|l| l.starts_with("RECV") && l.contains("urn:xmpp:message-retract:1")),
        "{:#?}",
        peer.seen
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modern_xmpp_with_slixmpp_in_a_chat_live_after_a_restart_and_from_the_archive() {
    let server = TestServer::start();
    let (alice, pa) = server.fresh_user("alice");
    let (bob, pb) = server.fresh_user("bob");
    let data = tempfile::tempdir().unwrap();
    let conversation = ConversationId::Chat(jid(&bob));

    // Live: slixmpp does everything at Loquat.
    let mut r = start(&server, data.path(), "acc-alice", &alice, &pa).await;
    let mut peer = Peer::start(&server, &bob, &pb, &["--to", &alice]);
    tokio::task::block_in_place(|| peer.wait_line("sent", 60));
    let states = {
        let mut states = Vec::new();
        let mut changed = 0;
        while !states.contains(&ChatState::Paused) {
            let (state, change) =
                wait_for(&mut r.updates, 20, "the peer's chat states", |k| match k {
                    UpdateKind::ChatState {
                        conversation: c,
                        nick: None,
                        state,
                    } if *c == conversation => Some((Some(state.clone()), 0)),
                    UpdateKind::MessageChanged(m) if m.conversation() == conversation => {
                        Some((None, 1))
                    }
                    _ => None,
                })
                .await;
            changed += change;
            states.extend(state);
        }
        assert!(
            changed >= 3,
            "correction, reactions and retraction shown as changes"
        );
        states
    };
    assert_eq!(states, [ChatState::Composing, ChatState::Paused]);
    check_peer_changes(&history(&r, &conversation), |m| {
        m.direction == Direction::Incoming
    });

    // Loquat does everything at slixmpp.
    let hist = history(&r, &conversation);
    let reacted_id = by_body(&hist, "react to me")
        .stanza_id_attr
        .clone()
        .unwrap();
    loquat_does_it_all(&mut r, &mut peer, &conversation).await;
    check_peer_saw(&peer, &reacted_id, "m1", "loquat-oops", "> hello\n");
    check_own_changes(&history(&r, &conversation));
    assert_eq!(r.store.pending_changes(), 0);
    quit(r).await;

    // After a restart on the same data folder: the same.
    let r = start(&server, data.path(), "acc-alice", &alice, &pa).await;
    let after_restart = history(&r, &conversation);
    check_peer_changes(&after_restart, |m| m.direction == Direction::Incoming);
    check_own_changes(&after_restart);
    quit(r).await;

    // A fresh data folder, filled from the server archive only: the same.
    let fresh = tempfile::tempdir().unwrap();
    let r = start(&server, fresh.path(), "acc-alice-fresh", &alice, &pa).await;
    let archived = history(&r, &conversation);
    check_peer_changes(&archived, |m| m.direction == Direction::Incoming);
    check_own_changes(&archived);
    assert_eq!(
        r.store.pending_changes(),
        0,
        "every archived change found its message"
    );
    quit(r).await;
}

/// The chat view's own paths, with a real session and slixmpp on the other side: Up in
/// the empty composer then Enter sends a correction slixmpp reads as one, Reply in a
/// message's row then Enter sends a reply slixmpp reads with its reference and
/// fallback, and typing then 5 s of nothing sends "paused".
#[cfg(feature = "gui")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_chat_view_sends_slixmpp_reads_as_correction_reply_and_paused() {
    use iced::keyboard::{Key, key::Named};
    use loquat::ui::chat;
    use loquat::ui::timeline::actions::Action;
    let server = TestServer::start();
    let (alice, pa) = server.fresh_user("alice");
    let (bob, pb) = server.fresh_user("bob");
    let data = tempfile::tempdir().unwrap();
    let mut r = start(&server, data.path(), "acc-alice", &alice, &pa).await;
    let conversation = ConversationId::Chat(jid(&bob));
    let mut peer = Peer::start(&server, &bob, &pb, &["--to", &alice]);
    tokio::task::block_in_place(|| peer.wait_line("sent", 60));
    wait_for(&mut r.updates, 20, "the peer's reply", |k| {
        matches!(k, UpdateKind::Message(m) if m.body == "yes, hello").then_some(())
    })
    .await;
    let first = LocalMessageId("loquat-frist".into());
    r.handle
        .send(Command::SendChat {
            to: jid(&bob),
            body: "my frist".into(),
            id: first.clone(),
        })
        .unwrap();
    wait_for(&mut r.updates, 20, "our message stored", |k| {
        matches!(k, UpdateKind::Message(m) if m.id == first).then_some(())
    })
    .await;

    // The chat as the window shows it, with what the store holds.
    let account = loquat::model::Account::new(jid(&alice));
    let bob_jid = jid(&bob);
    let mut view = chat::State::new(r.account.clone(), conversation.clone(), true);
    view.history_loaded(false, Ok(history(&r, &conversation)));
    let hello = by_body(view.messages(), "hello").id.clone();
    // What the app does with the view's events: the commands go to the session.
    let run = |view: &mut chat::State,
               act: &dyn Fn(&mut iced_test::Simulator<'_, chat::Message>)|
     -> Vec<Command> {
        let messages: Vec<chat::Message> = tokio::task::block_in_place(|| {
            let mut ui = iced_test::simulator(view.view(chat::Context {
                lang: loquat::ui::i18n::Lang::En,
                peer_label: "Bob".into(),
                peer: &bob_jid,
                availability: loquat::ui::app::account_state::Availability {
                    show: loquat::model::Show::Online,
                    status: None,
                },
                in_roster: true,
                account: &account,
                write_as: Vec::new(),
                account_online: true,
                muted: false,
                blocked: None,
                request: false,
                transfers: None,
                previews: None,
            }));
            act(&mut ui);
            ui.into_messages().collect()
        });
        let mut commands = Vec::new();
        for m in messages {
            match view.update(m) {
                Some(chat::Event::Command(c)) => {
                    view.sent();
                    commands.push(c)
                }
                Some(chat::Event::Composing) => commands.push(Command::SendChatState {
                    conversation: conversation.clone(),
                    state: ChatState::Composing,
                }),
                _ => {}
            }
        }
        commands
    };
    let composer = iced::widget::Id::new(chat::COMPOSER_ID);
    let mut sent = run(&mut view, &|ui| {
        ui.click(composer.clone()).expect("composer");
        ui.tap_key(Key::Named(Named::ArrowUp));
    });
    sent.extend(run(&mut view, &|ui| {
        ui.click(composer.clone()).expect("composer");
        for _ in 0..4 {
            ui.tap_key(Key::Named(Named::Backspace));
        }
        ui.typewrite("irst");
        ui.tap_key(Key::Named(Named::Enter));
    }));
    view.update(chat::Message::Action(Action::Toggle(hello)));
    sent.extend(run(&mut view, &|ui| {
        ui.click("Reply").expect("Reply");
    }));
    sent.extend(run(&mut view, &|ui| {
        ui.click(composer.clone()).expect("composer");
        ui.typewrite("sure");
        ui.tap_key(Key::Named(Named::Enter));
    }));
    sent.extend(run(&mut view, &|ui| {
        ui.click(composer.clone()).expect("composer");
        ui.typewrite("b");
    }));
    let later = std::time::Instant::now() + Duration::from_secs(6);
    if let Some(chat::Event::Paused) = view.update(chat::Message::Tick(later)) {
        sent.push(Command::SendChatState {
            conversation: conversation.clone(),
            state: ChatState::Paused,
        });
    }
    // Typing says "composing" as it goes; besides those, exactly these three.
    let besides: Vec<&Command> = sent
        .iter()
        .filter(|c| {
            !matches!(
                c,
                Command::SendChatState {
                    state: ChatState::Composing,
                    ..
                }
            )
        })
        .collect();
    assert!(
        matches!(
            besides.as_slice(),
            [
                Command::Correct { .. },
                Command::Reply { .. },
                Command::SendChatState {
                    state: ChatState::Paused,
                    ..
                }
            ]
        ),
        "{sent:?}"
    );
    for command in sent {
        r.handle.send(command).unwrap();
    }
    r.handle
        .send(Command::SendChat {
            to: jid(&bob),
            body: "bye".into(),
            id: LocalMessageId::generate(),
        })
        .unwrap();
    tokio::task::block_in_place(|| peer.wait_line("done", 60));

    let seen = peer.seen_json();
    let saw = |what: &str| -> Vec<&serde_json::Value> {
        seen.iter().filter(|s| !s[what].is_null()).collect()
    };
    let corrections = saw("replace");
    assert!(
        matches!(corrections.as_slice(), [c] if c["replace"] == "loquat-frist" && c["body"] == "my first"),
        "{seen:#?}"
    );
    let replies = saw("reply");
    assert!(
        matches!(replies.as_slice(), [r] if r["reply"][0] == "m1"
            && r["reply"][2] == "> hello\n"
            && r["body"].as_str().is_some_and(|b| b.ends_with("sure"))),
        "{seen:#?}"
    );
    let states: Vec<&serde_json::Value> = saw("chat_state")
        .into_iter()
        .map(|s| &s["chat_state"])
        .collect();
    assert!(
        states.contains(&&serde_json::json!("composing")),
        "{states:?}"
    );
    assert!(states.contains(&&serde_json::json!("paused")), "{states:?}");
    quit(r).await;
}

/// Someone else in the room (slixmpp as `mallory`) tries to correct and retract the
/// peer's messages.
fn forge(server: &TestServer, user: &str, password: &str, room: &str) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/slix_peer.py");
    let out = std::process::Command::new(support::slix::python())
        .arg(script)
        .args(["--jid", user, "--password", password])
        .args(["--port", &server.c2s_port().to_string()])
        .arg("--ca")
        .arg(server.ca_path())
        .args(["forge", "--room", room, "--nick", "mallory"])
        .output()
        .expect("run the slixmpp peer");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("sent 2"),
        "the forging peer failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until the store's history of `conversation` passes `ready`.
async fn stored_until(
    r: &Running,
    conversation: &ConversationId,
    what: &str,
    ready: impl Fn(&[ChatMessage]) -> bool,
) {
    for _ in 0..300 {
        if ready(&history(r, conversation)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: {:#?}", history(r, conversation));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modern_xmpp_with_slixmpp_in_a_room_live_after_a_restart_and_from_the_archive() {
    // The room (and its archive) outlives its occupants, for the fresh data folder.
    let server = TestServer::start_with("muc_room_default_persistent = true");
    let (alice, pa) = server.fresh_user("alice");
    let (bob, pb) = server.fresh_user("bob");
    let (mallory, pm) = server.fresh_user("mallory");
    let room = support::muc::fresh_room("modern");
    let conversation = ConversationId::Room(room.clone());
    let data = tempfile::tempdir().unwrap();
    let from_peer = |m: &ChatMessage| m.sender == "peer";

    let mut r = start(&server, data.path(), "acc-alice", &alice, &pa).await;
    support::muc::join(&r.handle, &room, "alice", None);
    support::muc::joined(&mut r.updates, &room).await;
    let mut peer = Peer::start(
        &server,
        &bob,
        &pb,
        &[
            "--room",
            room.as_str(),
            "--nick",
            "peer",
            "--other",
            "alice",
        ],
    );
    tokio::task::block_in_place(|| peer.wait_line("sent", 60));
    let mut states = Vec::new();
    while !states.contains(&ChatState::Paused) {
        let state = wait_for(&mut r.updates, 20, "the peer's chat states", |k| match k {
            UpdateKind::ChatState {
                conversation: c,
                nick: Some(nick),
                state,
            } if *c == conversation && nick == "peer" => Some(state.clone()),
            _ => None,
        })
        .await;
        states.push(state);
    }
    assert_eq!(states, [ChatState::Composing, ChatState::Paused]);
    stored_until(&r, &conversation, "the peer's changes", |h| {
        h.iter().filter(|m| from_peer(m)).count() == 4
    })
    .await;
    check_peer_changes(&history(&r, &conversation), from_peer);
    let hist = history(&r, &conversation);
    let hello = by_body(&hist, "hello");
    assert!(
        hello.extras.occupant_id.is_some(),
        "Prosody stamps occupant ids: {hello:#?}"
    );
    let reacted = by_body(&hist, "react to me");
    assert!(
        reacted.extras.reactions[0].reactor.starts_with("oid:"),
        "a room reaction counts under the occupant id: {reacted:#?}"
    );

    // Someone else cannot correct or retract the peer's messages.
    tokio::task::block_in_place(|| forge(&server, &mallory, &pm, room.as_str()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    check_peer_changes(&history(&r, &conversation), from_peer);
    assert!(
        !history(&r, &conversation)
            .iter()
            .any(|m| m.body == "forged"),
        "a correction of someone else's message is not a message either"
    );

    // Loquat does everything in the room.
    let reacted_id = reacted.server_id.clone().expect("the room's stanza-id");
    let hello_id = hello.server_id.clone().expect("the room's stanza-id");
    loquat_does_it_all(&mut r, &mut peer, &conversation).await;
    // The room reflects in order: once "bye" is back, our reaction's reflection was too.
    wait_for(&mut r.updates, 20, "the reflection of bye", |k| {
        matches!(k, UpdateKind::Delivery { id, .. } if id.0 == "loquat-bye").then_some(())
    })
    .await;
    let hist = history(&r, &conversation);
    let oops_sid = hist
        .iter()
        .find(|m| m.id.0 == "loquat-oops")
        .and_then(|m| m.server_id.clone())
        .expect("our retracted message learnt its stanza-id from the reflection");
    // In a room the quote names its author.
    check_peer_saw(
        &peer,
        &reacted_id,
        &hello_id,
        &oops_sid,
        "> peer:\n> hello\n",
    );
    check_own_changes(&hist);
    quit(r).await;

    // After a restart on the same data folder: the same.
    let r = start(&server, data.path(), "acc-alice", &alice, &pa).await;
    let after_restart = history(&r, &conversation);
    check_peer_changes(&after_restart, from_peer);
    check_own_changes(&after_restart);
    quit(r).await;

    // A fresh data folder: joining fills the room from its archive; the same.
    let fresh = tempfile::tempdir().unwrap();
    let mut r = start(&server, fresh.path(), "acc-alice-fresh", &alice, &pa).await;
    support::muc::join(&r.handle, &room, "alice", None);
    support::muc::joined(&mut r.updates, &room).await;
    stored_until(&r, &conversation, "the room's archive", |h| {
        h.iter().any(|m| m.body == "bye")
    })
    .await;
    let archived = history(&r, &conversation);
    check_peer_changes(&archived, from_peer);
    check_own_changes(&archived);
    assert!(!archived.iter().any(|m| m.body == "forged"));
    quit(r).await;
}

/// A correction, a reaction and a retraction made while the link is down are kept with
/// the history, survive quitting, and go out with their own ids once Loquat is online
/// again: slixmpp's plugins read each of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_offline_reach_slixmpp_after_a_restart() {
    let server = TestServer::start();
    let (alice, pa) = server.fresh_user("alice");
    let (bob, pb) = server.fresh_user("bob");
    let data = tempfile::tempdir().unwrap();
    let conversation = ConversationId::Chat(jid(&bob));
    let proxy = support::FaultProxy::start(server.c2s_port());

    let mut r = start_at(&server, proxy.port(), data.path(), "acc-a", &alice, &pa).await;
    let mut peer = Peer::start(&server, &bob, &pb, &["--to", &alice]);
    tokio::task::block_in_place(|| peer.wait_line("sent", 60));
    wait_for(&mut r.updates, 30, "the peer's last message", |k| match k {
        UpdateKind::Message(m) if m.body == "yes, hello" => Some(()),
        _ => None,
    })
    .await;
    let h = r.handle.clone();
    let (first, oops) = (
        LocalMessageId("loquat-first".into()),
        LocalMessageId("loquat-oops".into()),
    );
    for (id, body) in [(&first, "my first"), (&oops, "oops")] {
        h.send(Command::SendChat {
            to: jid(&bob),
            body: body.into(),
            id: id.clone(),
        })
        .unwrap();
    }
    tokio::task::block_in_place(|| peer.wait_line("SEEN {\"body\": \"oops\"", 30));

    // The link goes down and stays down.
    proxy.black_hole();
    proxy.cut_all();
    wait_for(&mut r.updates, 30, "the cut", |k| {
        matches!(k, UpdateKind::Disconnected { .. }).then_some(())
    })
    .await;
    let reacted = by_body(&history(&r, &conversation), "react to me")
        .id
        .clone();
    h.send(Command::Correct {
        conversation: conversation.clone(),
        target: first.clone(),
        body: "my first, fixed".into(),
        id: LocalMessageId("loquat-fix".into()),
    })
    .unwrap();
    h.send(Command::React {
        conversation: conversation.clone(),
        target: reacted,
        emojis: vec!["❤".into()],
    })
    .unwrap();
    h.send(Command::Retract {
        conversation: conversation.clone(),
        target: oops,
    })
    .unwrap();
    for _ in 0..3 {
        let notice = wait_for(&mut r.updates, 20, "the offline notice", |k| match k {
            UpdateKind::Notice(n) => Some(n.clone()),
            _ => None,
        })
        .await;
        assert!(notice.contains("will be sent"), "{notice}");
    }
    assert_eq!(r.store.queued_changes(&r.account).unwrap().len(), 3);
    // Shown at once, whatever the link.
    check_own_offline_changes(&history(&r, &conversation));
    quit(r).await;

    // Next start, the link is back: the changes go out, before what is written next.
    proxy.restore();
    let r = start_at(&server, proxy.port(), data.path(), "acc-a", &alice, &pa).await;
    r.handle
        .send(Command::SendChat {
            to: jid(&bob),
            body: "bye".into(),
            id: LocalMessageId("loquat-bye".into()),
        })
        .unwrap();
    let done = tokio::task::block_in_place(|| peer.wait_line("done", 60));
    assert_eq!(done, "done");
    let seen = peer.seen_json();
    let at = |what: &str| {
        seen.iter()
            .position(|s| !s[what].is_null())
            .unwrap_or_else(|| panic!("slixmpp saw no {what} from Loquat: {seen:#?}"))
    };
    assert_eq!(seen[at("replace")]["replace"], "loquat-first");
    assert_eq!(seen[at("replace")]["body"], "my first, fixed");
    assert_eq!(seen[at("reactions")]["reactions"][1][0], "❤");
    assert_eq!(seen[at("retract")]["retract"], "loquat-oops");
    let bye = seen.iter().position(|s| s["body"] == "bye").unwrap();
    assert!(
        at("replace") < at("reactions") && at("reactions") < at("retract") && at("retract") < bye,
        "in the order made, before what came after: {seen:#?}"
    );
    // Confirmed by the server, the queue empties (it is emptied on the server's ack).
    let mut left = usize::MAX;
    for _ in 0..50 {
        left = r.store.queued_changes(&r.account).unwrap().len();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "the server took every change");
    check_own_offline_changes(&history(&r, &conversation));
    quit(r).await;
}

fn check_own_offline_changes(history: &[ChatMessage]) {
    let first = history
        .iter()
        .find(|m| m.id.0 == "loquat-first")
        .expect("our first message");
    assert_eq!(first.body, "my first, fixed");
    let oops = history
        .iter()
        .find(|m| m.id.0 == "loquat-oops")
        .expect("our retracted message");
    assert!(oops.extras.retracted.is_some());
    assert!(
        by_body(history, "react to me")
            .extras
            .reactions
            .iter()
            .any(|r| r.mine && r.emojis == ["❤"])
    );
}

/// A moderator's removal (XEP-0425) sent to a real room: Prosody 0.12 without
/// mod_muc_moderation knows neither form, so Loquat asks in the newer form, then in the
/// older one, then says in words that the room did not remove it; the message stays as
/// it was (nothing changes until a room announces a removal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_that_cannot_moderate_refuses_and_the_message_stays() {
    let server = TestServer::start();
    let (alice, pa) = server.fresh_user("alice");
    let room = support::muc::fresh_room("moderate");
    let conversation = ConversationId::Room(room.clone());
    let data = tempfile::tempdir().unwrap();
    let mut r = start(&server, data.path(), "acc-alice", &alice, &pa).await;
    support::muc::join(&r.handle, &room, "alice", None);
    support::muc::joined(&mut r.updates, &room).await;
    let spam = LocalMessageId("loquat-spam".into());
    r.handle
        .send(Command::SendRoom {
            room: room.clone(),
            body: "buy now".into(),
            id: spam.clone(),
        })
        .unwrap();
    stored_until(&r, &conversation, "the room's id for it", |h| {
        h.iter().any(|m| m.id == spam && m.server_id.is_some())
    })
    .await;
    r.handle
        .send(Command::Moderate {
            room: room.clone(),
            target: spam.clone(),
            reason: Some("advertising".into()),
        })
        .unwrap();
    let notice = wait_for(&mut r.updates, 20, "the refusal", |k| match k {
        UpdateKind::Notice(n) => Some(n.clone()),
        UpdateKind::MessageChanged(m) if m.id == spam => {
            panic!("changed before the room said so: {m:#?}")
        }
        _ => None,
    })
    .await;
    assert!(
        notice.contains(room.as_str()) && notice.contains("did not remove the message"),
        "{notice}"
    );
    let hist = history(&r, &conversation);
    assert!(by_body(&hist, "buy now").extras.retracted.is_none());
    quit(r).await;
}

/// Replies in a room's private chat (XEP-0461 with the XEP-0428 fallback): slixmpp, an
/// occupant, writes to Loquat privately; Loquat's reply names slixmpp's message and
/// slixmpp as the room knows it, goes to the occupant as a private message, and
/// slixmpp's plugins read it; slixmpp's reply to it is stored without its quote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_in_a_room_private_chat_with_slixmpp() {
    let server = TestServer::start();
    let (alice, pa) = server.fresh_user("alice");
    let (bob, pb) = server.fresh_user("bob");
    let room = support::muc::fresh_room("private");
    let private = ConversationId::Private {
        room: room.clone(),
        nick: "peer".into(),
    };
    let data = tempfile::tempdir().unwrap();
    let mut r = start(&server, data.path(), "acc-alice", &alice, &pa).await;
    support::muc::join(&r.handle, &room, "alice", None);
    support::muc::joined(&mut r.updates, &room).await;
    let mut peer = Peer::run(
        &server,
        &bob,
        &pb,
        &[
            "private",
            "--room",
            room.as_str(),
            "--nick",
            "peer",
            "--other",
            "alice",
        ],
    );
    tokio::task::block_in_place(|| peer.wait_line("sent", 60));
    stored_until(&r, &private, "the peer's private message", |h| {
        h.iter().any(|m| m.body == "psst")
    })
    .await;
    let psst = by_body(&history(&r, &private), "psst").clone();
    assert_eq!(psst.direction, Direction::Incoming);

    r.handle
        .send(Command::Reply {
            conversation: private.clone(),
            to: psst.id.clone(),
            body: "sure".into(),
            id: LocalMessageId("loquat-preply".into()),
        })
        .unwrap();
    tokio::task::block_in_place(|| peer.wait_line("SEEN", 60));
    let seen = peer.seen_json();
    let reply = &seen[0];
    assert_eq!(reply["type"], "chat", "{reply}");
    assert_eq!(
        reply["muc_user"], true,
        "a private message of the room: {reply}"
    );
    assert_eq!(reply["reply"][0], "p1", "{reply}");
    assert_eq!(
        reply["reply"][1],
        format!("{room}/peer"),
        "the author as the room knows them: {reply}"
    );
    assert_eq!(reply["reply"][2], "> psst\n", "{reply}");
    assert!(reply["body"].as_str().unwrap().ends_with("sure"), "{reply}");

    // slixmpp's reply to Loquat's: stored without its quote, naming ours.
    tokio::task::block_in_place(|| peer.wait_line("done", 60));
    stored_until(&r, &private, "the peer's reply", |h| {
        h.iter()
            .any(|m| m.direction == Direction::Incoming && m.body == "indeed")
    })
    .await;
    let hist = history(&r, &private);
    let theirs = by_body(&hist, "indeed");
    let to = theirs.extras.reply_to.as_ref().expect("a reply reference");
    assert_eq!(to.id, "loquat-preply", "{theirs:#?}");
    assert_eq!(to.to.as_deref(), Some(format!("{room}/alice").as_str()));
    let ours = by_body(&hist, "sure");
    assert_eq!(ours.direction, Direction::Outgoing);
    let ours_to = ours.extras.reply_to.as_ref().expect("our reply reference");
    assert_eq!(ours_to.id, "p1");
    assert_eq!(hist.len(), 3, "{hist:#?}");
    quit(r).await;
}

/// Our reaction in a room is stored (and shown) at once, under the key the room's
/// reflection carries (our occupant id: Prosody stamps them), not only when the room
/// reflects it: here the room's answers are held back while Loquat reacts. Once they
/// flow again, Loquat sends the reaction again, and the reflection replaces ours: one
/// reaction of ours, never two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_room_reaction_is_stored_at_once_and_its_reflection_replaces_it() {
    let server = TestServer::start();
    let (alice, pa) = server.fresh_user("alice");
    let (bob, pb) = server.fresh_user("bob");
    let room = support::muc::fresh_room("react");
    let conversation = ConversationId::Room(room.clone());
    let data = tempfile::tempdir().unwrap();
    let proxy = support::FaultProxy::start(server.c2s_port());
    let mut r = start_at(&server, proxy.port(), data.path(), "acc-alice", &alice, &pa).await;
    support::muc::join(&r.handle, &room, "alice", None);
    support::muc::joined(&mut r.updates, &room).await;
    let mut peer = Peer::run(
        &server,
        &bob,
        &pb,
        &[
            "flood",
            "--room",
            room.as_str(),
            "--nick",
            "peer",
            "--first",
            "react to me",
            "--count",
            "0",
        ],
    );
    tokio::task::block_in_place(|| peer.wait_line("sent", 60));
    stored_until(&r, &conversation, "the peer's message", |h| {
        h.iter()
            .any(|m| m.body == "react to me" && m.server_id.is_some())
    })
    .await;
    let target = by_body(&history(&r, &conversation), "react to me").clone();

    proxy.black_hole();
    r.handle
        .send(Command::React {
            conversation: conversation.clone(),
            target: target.id.clone(),
            emojis: vec!["❤".into()],
        })
        .unwrap();
    let shown = wait_for(
        &mut r.updates,
        10,
        "our reaction, stored at once",
        |k| match k {
            UpdateKind::MessageChanged(m) if m.id == target.id => Some(m.clone()),
            _ => None,
        },
    )
    .await;
    let mine = |m: &ChatMessage| -> Vec<loquat::model::extras::Reactions> {
        m.extras
            .reactions
            .iter()
            .filter(|r| r.mine)
            .cloned()
            .collect()
    };
    let at_once = mine(&shown);
    assert_eq!(at_once.len(), 1, "{shown:#?}");
    assert_eq!(at_once[0].emojis, ["❤"]);
    assert!(
        at_once[0].reactor.starts_with("oid:"),
        "Prosody stamps occupant ids: ours is known from our self-presence: {shown:#?}"
    );
    assert_eq!(
        mine(by_body(&history(&r, &conversation), "react to me")),
        at_once,
        "stored, not only shown"
    );

    // The link comes back (the stream resumed, or a new one and a rejoin): the
    // reaction goes out again and its reflection replaces ours.
    proxy.restore();
    let reflected = wait_for(
        &mut r.updates,
        60,
        "the reflection of our reaction",
        |k| match k {
            UpdateKind::MessageChanged(m) if m.id == target.id => Some(m.clone()),
            _ => None,
        },
    )
    .await;
    let after = mine(&reflected);
    assert_eq!(after.len(), 1, "no second reaction of ours: {reflected:#?}");
    assert_eq!(after[0].reactor, at_once[0].reactor);
    assert!(
        after[0].at_ms > at_once[0].at_ms,
        "the reflection's: {reflected:#?}"
    );
    let stored = by_body(&history(&r, &conversation), "react to me").clone();
    assert_eq!(mine(&stored), after, "{stored:#?}");
    assert_eq!(stored.extras.reactions.len(), 1, "{stored:#?}");
    quit(r).await;
}
