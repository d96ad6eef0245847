//! Headless UI tests of group chat rooms in the shared inbox: a room sits among the
//! chats (marked "#", newest activity first) with its unread and mention counts apart;
//! its stored history comes back after a restart; "Load older messages" pages through
//! the store, then asks the room's archive.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_inbox`
//! Screenshots: `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_inbox -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;
use support::app::{click, found, shows, sim};

use support::session::jid;

use iced::{Rectangle, Task};
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Delivery, Direction};
use loquat::session::rooms::{Affiliation, Occupant, Role, RoomUpdate};
use loquat::session::{Command, Handle, Update, UpdateKind};
use loquat::store::Store;
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::desktop::restore::Message as DeskMessage;
use loquat::ui::desktop::shortcuts::Action;
use loquat::ui::i18n::Lang;
use loquat::ui::{App, Message};
use support::view::run_tasks as run;
use tokio::sync::mpsc::UnboundedReceiver;

const ROOM: &str = "tea@conference.example.org";
const BOB: &str = "bob@example.org";

/// Is there a text exactly `line` on screen?
fn shows_line(app: &App, line: &str) -> bool {
    !found(app, line, true).is_empty()
}

/// Where the one text exactly `needle` is (fails when it is not there once).
fn at(app: &App, needle: &str) -> Rectangle {
    let hits = found(app, needle, true);
    assert_eq!(hits.len(), 1, "{needle:?} on screen {} times", hits.len());
    hits[0]
}

fn account() -> Account {
    let mut account = Account::new(jid("alice@example.org"));
    account.id = AccountId("acc".into());
    account
}

fn message(peer: &str, room: bool, sender: &str, body: &str, ts: i64) -> ChatMessage {
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account().id,
        conversation: if room {
            ConversationId::Room(jid(peer))
        } else {
            ConversationId::Chat(jid(peer))
        },
        direction: if sender == "alice" {
            Direction::Outgoing
        } else {
            Direction::Incoming
        },
        sender: sender.into(),
        body: body.into(),
        timestamp_ms: ts,
        stanza_id_attr: None,
        origin_id: None,
        server_id: room.then(|| format!("arch-{ts}")),
        delivery: Delivery::Delivered,
        attachment: None,
    }
}

fn feed(app: &mut App, kind: UpdateKind) -> Task<Message> {
    app.update(Message::Session(Update {
        account: account().id,
        kind,
    }))
}

/// The app as it starts with this store (the stored conversations listed), its
/// start-up work run, and a session ready to take commands.
fn start(
    rt: &tokio::runtime::Runtime,
    store: Option<Store>,
    lang: Lang,
) -> (App, UnboundedReceiver<Command>) {
    let mut loaded = LoadedAccount::new(account(), Some("pw".into()));
    if let Some(store) = &store {
        loaded.conversations = store.conversations(&account().id).expect("conversations");
    }
    let mut app = App::from_startup(lang, Startup::default());
    let task = app.update(Message::Started(Startup {
        accounts: vec![loaded],
        store,
        ..Startup::default()
    }));
    run(rt, &mut app, task);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let _ = feed(&mut app, UpdateKind::Ready(Handle::new(tx)));
    (app, rx)
}

fn joined(app: &mut App) {
    let room = jid(ROOM);
    let _ = feed(
        app,
        UpdateKind::Room(RoomUpdate::Joining {
            room: room.clone(),
            nick: "alice".into(),
        }),
    );
    let _ = feed(
        app,
        UpdateKind::Room(RoomUpdate::Joined {
            room,
            nick: "alice".into(),
            occupants: vec![Occupant {
                nick: "alice".into(),
                role: Role::Participant,
                affiliation: Affiliation::Member,
                real_jid: None,
                show: loquat::model::Show::Online,
            }],
        }),
    );
}

#[test]
fn a_room_sits_in_the_inbox_with_its_unread_and_mentions() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (mut app, _commands) = start(&rt, None, Lang::En);
    let now = chrono::Utc::now().timestamp_millis();
    // Carol is a contact: a stranger's chat would be a request, apart (issue #18).
    let _ = feed(
        &mut app,
        UpdateKind::Roster(vec![loquat::model::Contact {
            jid: jid("carol@example.org"),
            name: None,
            subscription: loquat::model::Subscription::Both,
            pending_out: false,
            groups: Vec::new(),
        }]),
    );
    let _ = feed(
        &mut app,
        UpdateKind::Message(message(
            "carol@example.org",
            false,
            "",
            "hi there",
            now - 9_000,
        )),
    );
    joined(&mut app);
    for (body, ts) in [("tea anyone?", now - 5_000), ("alice, tea?", now - 4_000)] {
        let _ = feed(
            &mut app,
            UpdateKind::Message(message(ROOM, true, "bob", body, ts)),
        );
    }
    // One list: the room (newer) above the chat, marked as a room, with one mention
    // and one other unread message; no separate column of rooms.
    let room_line = at(&app, "tea");
    // Her line in the conversations (she is in the contacts below too).
    let chat_line = found(&app, "carol@example.org", true)[0];
    assert!(room_line.y < chat_line.y, "{room_line:?} / {chat_line:?}");
    assert!(shows(&app, "#"));
    assert!(shows(&app, "@1"), "the mention has its own badge");
    assert!(
        shows(&app, "bob: alice, tea?"),
        "the preview names the sender"
    );
    assert!(!shows(&app, "Rooms"));
    // Chats count their unread messages; rooms only their mentions.
    assert_eq!(app.title(), "(2) Loquat");
    // A newer chat message moves the chat up.
    let _ = feed(
        &mut app,
        UpdateKind::Message(message("carol@example.org", false, "", "still there?", now)),
    );
    assert!(found(&app, "carol@example.org", true)[0].y < at(&app, "tea").y);

    // The room opens in the main area from its line; its counts go.
    for task in click(&mut app, "tea") {
        run(&rt, &mut app, task);
    }
    assert!(shows(&app, "In the room (1)"));
    assert!(shows(&app, "alice, tea?"));
    assert!(!shows(&app, "@1"));
    assert_eq!(app.title(), "(2) Loquat", "carol's two messages are unread");
    // A message while the room is open is not unread.
    let _ = feed(
        &mut app,
        UpdateKind::Message(message(ROOM, true, "bob", "alice: milk?", now + 1_000)),
    );
    assert!(!shows(&app, "@1"));
    // Alt+Up goes from the room to the chat above it; Alt+Down back to the room.
    let _ = app.update(Message::Desk(DeskMessage::Shortcut(Action::Previous)));
    assert_eq!(
        app.current_conversation().map(|(_, p)| p.clone()),
        None,
        "the room is first now"
    );
    let _ = app.update(Message::Desk(DeskMessage::Shortcut(Action::Next)));
    assert_eq!(
        app.current_conversation().map(|(_, p)| p.clone()),
        Some(jid("carol@example.org"))
    );
    assert!(!shows(&app, "In the room (1)"));
    let _ = app.update(Message::Desk(DeskMessage::Shortcut(Action::Previous)));
    assert!(shows(&app, "In the room (1)"), "Alt+Up opens the room");

    // The switcher lists the room too.
    let state = app.account_state(&account().id).expect("account").clone();
    let entries = loquat::ui::desktop::switcher::entries(&[state]);
    assert!(entries.iter().any(|e| e.label == "# tea"), "{entries:?}");

    // Joining another room starts from the inbox; with one account, no account picker.
    let _ = click(&mut app, "+ Join a group chat");
    assert!(app.joining_room().is_some());
    assert!(!shows(&app, "Account:"));
}

/// "Work" and "Home", both signed in; their sessions' command queues.
fn two_signed_in() -> (App, Vec<UnboundedReceiver<Command>>, AccountId) {
    let mut work = Account::new(jid("alice@work.example"));
    work.id = AccountId("work".into());
    work.display_name = Some("Work".into());
    let mut home = Account::new(jid("alice@home.example"));
    home.id = AccountId("home".into());
    home.display_name = Some("Home".into());
    home.position = 1;
    let mut app = App::from_startup(
        Lang::En,
        Startup {
            accounts: vec![
                LoadedAccount::new(work.clone(), Some("pw".into())),
                LoadedAccount::new(home.clone(), Some("pw".into())),
            ],
            ..Startup::default()
        },
    );
    let mut sessions = Vec::new();
    for account in [&work, &home] {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let _ = app.update(Message::Session(Update {
            account: account.id.clone(),
            kind: UpdateKind::Ready(Handle::new(tx)),
        }));
        sessions.push(rx);
    }
    (app, sessions, home.id)
}

#[test]
fn the_join_dialog_picks_the_account_when_several_are_signed_in() {
    use loquat::ui::room::{AccountChoice, Message as RoomsMessage};
    let (mut app, mut sessions, home) = two_signed_in();
    let _ = click(&mut app, "+ Join a group chat");
    assert!(
        shows(&app, "Account:"),
        "a picker with two accounts signed in"
    );
    let _ = app.update(Message::Rooms(RoomsMessage::JoinAccount(AccountChoice {
        id: home,
        label: "Home".into(),
    })));
    let messages: Vec<Message> = {
        let mut ui = sim(&app);
        ui.click(iced::widget::Id::new(loquat::ui::room::join::ROOM_ID))
            .expect("room field");
        ui.typewrite(ROOM);
        ui.click(iced::widget::Id::new(loquat::ui::room::join::NICK_ID))
            .expect("nick field");
        ui.typewrite("alice");
        ui.click("Join").expect("Join");
        ui.into_messages().collect()
    };
    for m in messages {
        let _ = app.update(m);
    }
    assert!(sessions[0].try_recv().is_err(), "nothing went to Work");
    assert!(
        matches!(sessions[1].try_recv(), Ok(Command::JoinRoom { room, .. }) if room == jid(ROOM)),
        "Home joins"
    );
}

/// Stores a room's messages as the session would (persist, then emit).
fn stored_room(store: &Store, count: i64) -> Vec<ChatMessage> {
    let base = support::today_minus(100_000);
    let mut messages: Vec<ChatMessage> = (0..count)
        .map(|i| message(ROOM, true, "bob", &format!("old line {i}"), base + i * 10))
        .collect();
    messages.push(message(
        ROOM,
        true,
        "alice",
        "my own word",
        base + count * 10,
    ));
    messages.push(message(
        ROOM,
        true,
        "bob",
        "alice, look",
        base + count * 10 + 5,
    ));
    store.insert_messages(&messages).expect("insert");
    messages
}

#[test]
fn room_history_comes_back_after_a_restart() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = Store::open_temporary().expect("store");
    let stored = stored_room(&store, 3);
    store
        .mark_read(&account().id, &loquat::ids::ConversationId::Room(jid(ROOM)))
        .expect("read");
    // One unread message after the restart, and it mentions us.
    let late = message(
        ROOM,
        true,
        "bob",
        "alice? tea is ready",
        stored[4].timestamp_ms + 5,
    );
    store.insert_message(&late).expect("insert");
    let (mut app, _commands) = start(&rt, Some(store.clone()), Lang::En);
    assert!(
        shows(&app, "#"),
        "the room is listed before any session update"
    );
    assert!(shows(&app, "@1"));
    assert_eq!(app.title(), "(1) Loquat");
    for task in click(&mut app, "tea") {
        run(&rt, &mut app, task);
    }
    for body in [
        "old line 0",
        "old line 2",
        "my own word",
        "alice, look",
        "tea is ready",
    ] {
        assert!(shows(&app, body), "{body} after the restart");
    }
    // The same message live (the session's catch-up) is shown once.
    let _ = feed(&mut app, UpdateKind::Message(late.clone()));
    assert_eq!(found(&app, "alice? tea is ready", true).len(), 1);
    assert_eq!(app.title(), "Loquat");
}

/// What the "Load older messages" line at the top of the room sends (it is scrolled
/// out of sight in a long room; scrolling to the top sends the same).
fn load_older(rt: &tokio::runtime::Runtime, app: &mut App) {
    use loquat::ui::room;
    use loquat::ui::room::joined;
    assert!(shows(app, "Load older messages"));
    let task = app.update(Message::Rooms(room::Message::Room(
        joined::Message::LoadOlder,
    )));
    run(rt, app, task);
}

#[test]
fn load_older_pages_the_store_then_the_archive() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = Store::open_temporary().expect("store");
    let stored = stored_room(&store, 60);
    let (mut app, mut commands) = start(&rt, Some(store), Lang::En);
    joined(&mut app);
    for task in click(&mut app, "tea") {
        run(&rt, &mut app, task);
    }
    // A page of 50: the newest messages, not the oldest.
    assert!(shows_line(&app, "old line 59"));
    assert!(!shows_line(&app, "old line 5"));
    load_older(&rt, &mut app);
    assert!(shows_line(&app, "old line 5"));
    assert!(shows_line(&app, "old line 0"));
    // (Opening the room asks the session about its lock: not an archive request.)
    let asked: Vec<Command> = std::iter::from_fn(|| commands.try_recv().ok()).collect();
    assert!(
        !asked
            .iter()
            .any(|c| matches!(c, Command::RoomLoadOlder { .. })),
        "the store had them: {asked:?}"
    );
    // The store has nothing older: the room's archive is asked, before the oldest
    // archive id on screen.
    load_older(&rt, &mut app);
    match commands.try_recv() {
        Ok(Command::RoomLoadOlder { room, before }) => {
            assert_eq!(room, jid(ROOM));
            assert_eq!(before, stored[0].server_id);
        }
        other => panic!("expected an archive request, got {other:?}"),
    }
    assert!(shows(&app, "Loading older messages…"));
    let mut archived = message(
        ROOM,
        true,
        "dave",
        "from the archive",
        stored[0].timestamp_ms - 50,
    );
    archived.server_id = Some("arch-first".into());
    let _ = feed(
        &mut app,
        UpdateKind::RoomOlder {
            room: jid(ROOM),
            messages: vec![archived],
            first: Some("arch-first".into()),
            complete: true,
        },
    );
    assert!(shows(&app, "from the archive"));
    // The beginning of the room: nothing more to ask for.
    assert!(!shows(&app, "Load older messages"));
    assert!(!shows(&app, "Loading older messages…"));
    let first = at(&app, "from the archive");
    assert!(
        first.y < at(&app, "old line 0").y,
        "older messages go on top"
    );
}

/// The session is told which chat is on screen (its newest page comes first after a
/// long time away), and told again when a room takes its place.
#[test]
fn opening_a_room_withdraws_the_chat_on_screen() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (mut app, mut commands) = start(&rt, None, Lang::En);
    let now = chrono::Utc::now().timestamp_millis();
    let _ = feed(
        &mut app,
        UpdateKind::Message(message(BOB, false, "bob", "hello", now)),
    );
    joined(&mut app);
    let _ = feed(
        &mut app,
        UpdateKind::Message(message(ROOM, true, "bob", "tea anyone?", now)),
    );
    for task in click(&mut app, BOB) {
        run(&rt, &mut app, task);
    }
    match commands.try_recv() {
        Ok(Command::Viewing { peer }) => assert_eq!(peer, Some(jid(BOB))),
        other => panic!("expected Viewing, got {other:?}"),
    }
    // The chat's lock asks which OMEMO devices Bob has.
    assert!(matches!(
        commands.try_recv(),
        Ok(Command::OmemoStatus { .. })
    ));
    for task in click(&mut app, "tea") {
        run(&rt, &mut app, task);
    }
    match commands.try_recv() {
        Ok(Command::Viewing { peer }) => assert_eq!(peer, None),
        other => panic!("expected Viewing withdrawn, got {other:?}"),
    }
}

/// A chat pages older history from the store, then (once the store has nothing older)
/// from the account's archive, as a room does: the user sees the archive's messages on
/// top, and no more "Load older messages" at the archive's beginning.
#[test]
fn a_chat_loads_older_from_the_store_then_the_archive() {
    use loquat::ui::chat;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = Store::open_temporary().expect("store");
    let base = support::today_minus(100_000);
    let stored: Vec<ChatMessage> = (0..60)
        .map(|i| {
            let mut m = message(BOB, false, "bob", &format!("chat line {i}"), base + i * 10);
            m.server_id = Some(format!("arch-{i}"));
            m
        })
        .collect();
    store.insert_messages(&stored).expect("insert");
    let (mut app, mut commands) = start(&rt, Some(store), Lang::En);
    for task in click(&mut app, BOB) {
        run(&rt, &mut app, task);
    }
    assert!(shows_line(&app, "chat line 59"));
    assert!(!shows_line(&app, "chat line 5"));
    let older = |app: &mut App| app.update(Message::Conversation(chat::Message::LoadOlder));
    // Scrolled to the top (or the line there clicked): the rest of the store, and the
    // archive asked at once for what is before it.
    let task = older(&mut app);
    run(&rt, &mut app, task);
    assert!(shows_line(&app, "chat line 0"));
    let asked = loop {
        match commands.try_recv() {
            Ok(Command::Viewing { .. } | Command::OmemoStatus { .. }) => continue,
            Ok(Command::ChatLoadOlder {
                peer,
                before,
                below_ms,
            }) => break (peer, before, below_ms),
            other => panic!("expected an archive request, got {other:?}"),
        }
    };
    assert_eq!(asked.0, jid(BOB));
    assert_eq!(asked.1.as_deref(), Some("arch-0"));
    assert_eq!(asked.2, Some(base));
    assert!(shows(&app, "Loading older messages…"));
    let mut archived = message(BOB, false, "bob", "from the archive", base - 50);
    archived.server_id = Some("arch-older".into());
    let _ = feed(
        &mut app,
        UpdateKind::ChatOlder {
            peer: jid(BOB),
            messages: vec![archived],
            first: Some("arch-older".into()),
            complete: true,
            failed: false,
        },
    );
    assert!(shows(&app, "from the archive"));
    assert!(!shows(&app, "Load older messages"));
    assert!(!shows(&app, "Loading older messages…"));
    assert!(
        at(&app, "from the archive").y < at(&app, "chat line 0").y,
        "older messages go on top"
    );
    let task = older(&mut app);
    run(&rt, &mut app, task);
    assert!(
        commands.try_recv().is_err(),
        "the archive's beginning was reached"
    );
}

/// The inbox with a room and chats, in English and Chinese, for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_inbox_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for (lang, theme, name) in [
        (Lang::En, iced::Theme::Light, "inbox-rooms"),
        (Lang::ZhCn, iced::Theme::Dark, "inbox-rooms-zh"),
    ] {
        let (mut app, _commands) = start(&rt, None, lang);
        let now = chrono::Utc::now().timestamp_millis();
        let _ = feed(
            &mut app,
            UpdateKind::Message(message(
                "carol@example.org",
                false,
                "",
                "see you at 5",
                now - 9_000,
            )),
        );
        joined(&mut app);
        for (body, ts) in [("tea anyone?", now - 5_000), ("alice, tea?", now - 4_000)] {
            let _ = feed(
                &mut app,
                UpdateKind::Message(message(ROOM, true, "bob", body, ts)),
            );
        }
        let _ = feed(
            &mut app,
            UpdateKind::Message(message(
                "dave@example.org",
                false,
                "",
                "早上好",
                now - 20_000,
            )),
        );
        let _ = std::fs::remove_file(dir.join(format!("{name}-tiny-skia.png")));
        {
            let mut ui = sim(&app);
            let snapshot = ui.snapshot(&theme).expect("snapshot");
            assert!(snapshot.matches_image(dir.join(name)).expect("png"));
        }
        for task in click(&mut app, "tea") {
            run(&rt, &mut app, task);
        }
        let _ = std::fs::remove_file(dir.join(format!("{name}-open-tiny-skia.png")));
        let mut ui = sim(&app);
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        assert!(
            snapshot
                .matches_image(dir.join(format!("{name}-open")))
                .expect("png")
        );
    }
    // A short chat: the store has nothing older, the archive may ("Load older messages").
    for (lang, theme, name) in [
        (Lang::En, iced::Theme::Light, "chat-load-older"),
        (Lang::ZhCn, iced::Theme::Dark, "chat-load-older-zh"),
    ] {
        let store = Store::open_temporary().expect("store");
        let now = chrono::Utc::now().timestamp_millis();
        let lines: Vec<ChatMessage> = ["hi Alice", "are you there?", "你好"]
            .iter()
            .enumerate()
            .map(|(i, b)| message(BOB, false, "bob", b, now - 60_000 + i as i64 * 1_000))
            .collect();
        store.insert_messages(&lines).expect("insert");
        let (mut app, _commands) = start(&rt, Some(store), lang);
        for task in click(&mut app, BOB) {
            run(&rt, &mut app, task);
        }
        let _ = std::fs::remove_file(dir.join(format!("{name}-tiny-skia.png")));
        let mut ui = sim(&app);
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        assert!(snapshot.matches_image(dir.join(name)).expect("png"));
    }
    let (mut app, _sessions, _) = two_signed_in();
    let _ = click(&mut app, "+ Join a group chat");
    let _ = std::fs::remove_file(dir.join("join-account-tiny-skia.png"));
    let mut ui = sim(&app);
    let snapshot = ui.snapshot(&iced::Theme::Light).expect("snapshot");
    assert!(
        snapshot
            .matches_image(dir.join("join-account"))
            .expect("png")
    );
}

/// Private messages with an occupant come back after a restart: the newest page when
/// the private chat opens, older ones with "Load older messages", in time order.
#[test]
fn room_private_messages_come_back_from_the_store_page_by_page() {
    use loquat::ui::room;
    use loquat::ui::room::{joined, private};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = Store::open_temporary().expect("store");
    stored_room(&store, 1);
    let base = support::today_minus(50_000);
    let privates: Vec<ChatMessage> = (0..60)
        .map(|i| {
            let mut m = message(ROOM, true, "bob", &format!("pm {i}"), base + i * 10);
            m.conversation = ConversationId::Private {
                room: jid(ROOM),
                nick: "bob".into(),
            };
            m.server_id = None;
            m
        })
        .collect();
    store.insert_messages(&privates).expect("insert");
    let (mut app, _commands) = start(&rt, Some(store), Lang::En);
    joined(&mut app);
    for task in click(&mut app, "tea") {
        run(&rt, &mut app, task);
    }
    assert!(!shows_line(&app, "pm 59"), "not among the room's messages");
    let task = app.update(Message::Rooms(room::Message::Room(
        joined::Message::OpenPrivate("bob".into()),
    )));
    run(&rt, &mut app, task);
    assert!(shows_line(&app, "pm 59"), "the newest page");
    assert!(!shows_line(&app, "pm 5"));
    assert!(shows(&app, "Load older messages"));
    let task = app.update(Message::Rooms(room::Message::Room(
        joined::Message::Private(private::Message::Timeline(
            loquat::ui::timeline::Message::LoadOlder,
        )),
    )));
    run(&rt, &mut app, task);
    assert!(shows_line(&app, "pm 0"));
    assert!(!shows(&app, "Load older messages"), "the store has no more");
    assert!(at(&app, "pm 0").y < at(&app, "pm 1").y, "time order");
    assert!(at(&app, "pm 49").y < at(&app, "pm 50").y);
}
