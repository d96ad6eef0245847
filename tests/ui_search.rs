//! The search field above the inbox (issue #19), headless with iced_test: typing a
//! query shows the matching messages from the index (newest first, with their
//! conversation and sender), clicking one opens its conversation, Esc empties the
//! field; in English and in Chinese.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;
use support::app::{click, shows, sim};
use support::session::jid;
use support::view::run_tasks as run;

use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Contact, Delivery, Direction, Subscription};
use loquat::search::SearchIndex;
use loquat::store::Store;
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::desktop::restore::Message as DeskMessage;
use loquat::ui::desktop::shortcuts::Action;
use loquat::ui::i18n::Lang;
use loquat::ui::screen::search::Message as SearchMessage;
use loquat::ui::{App, Message};
use std::sync::Arc;

fn account() -> Account {
    let mut account = Account::new(jid("alice@example.org"));
    account.id = AccountId("acc".into());
    account
}

fn message(peer: &str, body: &str, ts: i64) -> ChatMessage {
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account().id,
        conversation: ConversationId::Chat(jid(peer)),
        direction: Direction::Incoming,
        sender: String::new(),
        body: body.into(),
        timestamp_ms: ts,
        stanza_id_attr: None,
        origin_id: None,
        server_id: Some(format!("s-{ts}")),
        delivery: Delivery::Delivered,
        attachment: None,
    }
}

/// The app with a store of three messages from two contacts, indexed.
fn start(rt: &tokio::runtime::Runtime, lang: Lang, store: &Store) -> App {
    start_with(rt, lang, store, &[])
}

/// The same with `more` messages stored first.
fn start_with(
    rt: &tokio::runtime::Runtime,
    lang: Lang,
    store: &Store,
    more: &[ChatMessage],
) -> App {
    let index = Arc::new(SearchIndex::open(store).unwrap());
    store.insert_messages(more).unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    store
        .insert_messages(&[
            message("bob@example.org", "明天的报告你写好了吗", now - 60_000),
            message(
                "carol@example.org",
                "The PDF report is attached",
                now - 30_000,
            ),
            message("bob@example.org", "lunch at noon?", now),
        ])
        .unwrap();
    index.sync().unwrap();
    let mut app = App::from_startup(lang, Startup::default());
    let task = app.update(Message::Started(Startup {
        accounts: vec![LoadedAccount::new(account(), Some("pw".into()))],
        store: Some(store.clone()),
        search: Some(index),
        ..Startup::default()
    }));
    run(rt, &mut app, task);
    let _ = app.update(Message::Session(loquat::session::Update {
        account: account().id,
        kind: loquat::session::UpdateKind::Roster(vec![Contact {
            jid: jid("bob@example.org"),
            name: Some("Bob".into()),
            subscription: Subscription::Both,
            pending_out: false,
            groups: Vec::new(),
        }]),
    }));
    app
}

fn search(rt: &tokio::runtime::Runtime, app: &mut App, query: &str) {
    let task = app.update(Message::Search(SearchMessage::Query(query.into())));
    run(rt, app, task);
}

#[test]
fn typing_a_query_shows_the_messages_and_a_click_opens_one() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let mut app = start(&rt, Lang::En, &store);
    assert!(shows(&app, "Search all messages"));

    // A two-character Chinese substring in the middle of a message.
    search(&rt, &mut app, "报告");
    assert!(shows(&app, "1 found, newest first"), "the count");
    assert!(shows(&app, "Bob"), "the conversation, by its contact name");
    assert!(
        !shows(&app, "lunch at noon?"),
        "the lists give way to the results"
    );

    // An English word: the other conversation.
    search(&rt, &mut app, "report");
    assert!(shows(&app, "1 found, newest first"));
    assert!(shows(&app, "carol@example.org"));

    // Clicking the result opens its conversation.
    for task in click(&mut app, "carol@example.org") {
        run(&rt, &mut app, task);
    }
    let (account, peer) = app.current_conversation().expect("a conversation opens");
    assert_eq!(
        (account, peer),
        (&AccountId("acc".into()), &jid("carol@example.org"))
    );
    // The message is highlighted, and in it the word that matched.
    let chat = app.open_chat().unwrap();
    let found = chat.messages().last().unwrap();
    assert_eq!(chat.actions.highlight.as_ref(), Some(&found.id));
    let marked: Vec<&str> = chat
        .actions
        .marks
        .iter()
        .map(|r| &found.body[r.clone()])
        .collect();
    assert_eq!(marked, vec!["report"]);
    if let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") {
        let dir = std::path::PathBuf::from(dir);
        let _ = std::fs::remove_file(dir.join("search-opened-tiny-skia.png"));
        let snapshot = sim(&app).snapshot(&iced::Theme::Light).expect("snapshot");
        assert!(
            snapshot
                .matches_image(dir.join("search-opened"))
                .expect("png")
        );
    }

    // Esc empties the field: the lists come back.
    let _ = app.update(Message::Desk(DeskMessage::Shortcut(Action::Escape)));
    assert!(shows(&app, "Contacts"));
    assert!(!shows(&app, "found, newest first"));

    // Nothing matches: said so.
    search(&rt, &mut app, "xylophone");
    assert!(shows(&app, "No message matches."));
}

/// A result far back in a long conversation: opening it pages back through the
/// store until the message is there, and highlights it.
#[test]
fn a_result_far_back_is_loaded_and_highlighted() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let old = message("dave@example.org", "the zeppelin plan", now - 10_000_000);
    let mut history = vec![old.clone()];
    for i in 0..3 * loquat::ui::chat::PAGE as i64 {
        history.push(message(
            "dave@example.org",
            &format!("later {i}"),
            now - 1_000_000 + i,
        ));
    }
    let mut app = start_with(&rt, Lang::En, &store, &history);
    search(&rt, &mut app, "zeppelin");
    assert!(shows(&app, "1 found, newest first"));
    for task in click(&mut app, "dave@example.org") {
        run(&rt, &mut app, task);
    }
    let chat = app.open_chat().expect("the conversation opens");
    assert_eq!(
        chat.actions.highlight,
        Some(old.id.clone()),
        "found and highlighted"
    );
    assert!(chat.messages().iter().any(|m| m.id == old.id));
}

/// The session says the account joined `room` as alice.
fn join(rt: &tokio::runtime::Runtime, app: &mut App, room: &xmpp_parsers::jid::BareJid) {
    use loquat::session::rooms::RoomUpdate;
    use loquat::session::{Update, UpdateKind};
    for kind in [
        UpdateKind::Room(RoomUpdate::Joining {
            room: room.clone(),
            nick: "alice".into(),
        }),
        UpdateKind::Room(RoomUpdate::Joined {
            room: room.clone(),
            nick: "alice".into(),
            occupants: Vec::new(),
        }),
    ] {
        let task = app.update(Message::Session(Update {
            account: account().id,
            kind,
        }));
        run(rt, app, task);
    }
}

fn shortcut(rt: &tokio::runtime::Runtime, app: &mut App, action: Action) {
    let task = app.update(Message::Desk(DeskMessage::Shortcut(action)));
    run(rt, app, task);
}

fn open(rt: &tokio::runtime::Runtime, app: &mut App, peer: &str) {
    let task = app.update(Message::Sidebar(
        loquat::ui::screen::sidebar::Message::Open(account().id, jid(peer)),
    ));
    run(rt, app, task);
}

/// Ctrl+F searches the conversation on screen only; Ctrl+Shift+F everything again.
#[test]
fn ctrl_f_searches_the_open_conversation() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let mut app = start(&rt, Lang::En, &store);
    open(&rt, &mut app, "carol@example.org");
    shortcut(&rt, &mut app, Action::SearchHere);
    assert!(shows(&app, "Search in carol@example.org (Ctrl+F)"));
    assert!(shows(&app, "In: carol@example.org"));
    // Bob's Chinese message is not in Carol's chat.
    search(&rt, &mut app, "报告");
    assert!(shows(&app, "No message matches."));
    search(&rt, &mut app, "report");
    assert!(shows(&app, "1 found, newest first"));
    // Everywhere again: Bob's message is found.
    shortcut(&rt, &mut app, Action::Search);
    search(&rt, &mut app, "报告");
    assert!(shows(&app, "1 found, newest first"));
    assert!(shows(&app, "Bob"));
}

/// The last word matches the words it begins while it is being typed, and its
/// matches are marked.
#[test]
fn results_come_while_a_word_is_typed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let mut app = start(&rt, Lang::En, &store);
    search(&rt, &mut app, "the PDF rep");
    assert!(shows(&app, "1 found, newest first"));
    assert!(shows(&app, "carol@example.org"));
    search(&rt, &mut app, "the PDF rep ");
    assert!(shows(&app, "No message matches."), "a space ends the word");
}

/// Files, links, a period, a sender: each narrows the results; the account follows
/// the sidebar's account filter, and with several accounts each result names its own.
#[test]
fn filters_narrow_the_results_and_results_name_their_account() {
    use loquat::ui::screen::search::{From, Period};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let mut link = message(
        "bob@example.org",
        "the report: https://example.org/r",
        now - 90_000,
    );
    link.server_id = Some("s-link".into());
    let mut old = message(
        "bob@example.org",
        "last year's report",
        now - 400 * 86_400_000,
    );
    old.server_id = Some("s-old".into());
    let mut app = start_with(&rt, Lang::En, &store, &[link.clone(), old]);
    search(&rt, &mut app, "report");
    assert!(shows(&app, "3 found, newest first"));
    let task = app.update(Message::Search(SearchMessage::Links(true)));
    run(&rt, &mut app, task);
    assert!(
        shows(&app, "1 found, newest first"),
        "only the one with a link"
    );
    let task = app.update(Message::Search(SearchMessage::Links(false)));
    run(&rt, &mut app, task);
    let task = app.update(Message::Search(SearchMessage::Period(Period::Month)));
    run(&rt, &mut app, task);
    assert!(
        shows(&app, "2 found, newest first"),
        "last year's is left out"
    );
    let task = app.update(Message::Search(SearchMessage::From(Some(From {
        value: (
            account().id,
            loquat::search::Sender::Contact(jid("carol@example.org")),
        ),
        name: "carol".into(),
    }))));
    run(&rt, &mut app, task);
    assert!(shows(&app, "1 found, newest first"), "only Carol's");
}

/// Messages from someone the account blocks are never found; unblocked, they are.
#[test]
fn blocked_senders_are_not_found() {
    use loquat::session::{Update, UpdateKind};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let mut app = start(&rt, Lang::En, &store);
    let block = |app: &mut App, items: Vec<&str>| {
        let _ = app.update(Message::Session(Update {
            account: account().id,
            kind: UpdateKind::Blocklist {
                items: items
                    .into_iter()
                    .map(|j| xmpp_parsers::jid::Jid::new(j).unwrap())
                    .collect(),
                supported: true,
                reporting: false,
            },
        }));
    };
    block(&mut app, vec!["bob@example.org"]);
    search(&rt, &mut app, "报告");
    assert!(shows(&app, "No message matches."), "Bob is blocked");
    // A blocked domain too.
    block(&mut app, vec!["example.org"]);
    search(&rt, &mut app, "report");
    assert!(shows(&app, "No message matches."), "example.org is blocked");
    block(&mut app, vec![]);
    search(&rt, &mut app, "报告");
    assert!(shows(&app, "1 found, newest first"), "unblocked");
}

/// With several accounts, each result says which account it is in; the sidebar's
/// account filter narrows the search to that account.
#[test]
fn results_name_their_account_and_follow_the_account_filter() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let index = Arc::new(SearchIndex::open(&store).unwrap());
    let mut work = Account::new(jid("alice@work.example"));
    work.id = AccountId("work".into());
    let mut other = message("dan@work.example", "the quarterly report", 1_000);
    other.account = work.id.clone();
    store
        .insert_messages(&[message("bob@example.org", "my report", 2_000), other])
        .unwrap();
    index.sync().unwrap();
    let mut app = App::from_startup(Lang::En, Startup::default());
    let task = app.update(Message::Started(Startup {
        accounts: vec![
            LoadedAccount::new(account(), Some("pw".into())),
            LoadedAccount::new(work.clone(), Some("pw".into())),
        ],
        store: Some(store.clone()),
        search: Some(index),
        ..Startup::default()
    }));
    run(&rt, &mut app, task);
    search(&rt, &mut app, "report");
    assert!(shows(&app, "2 found, newest first"));
    assert!(shows(&app, "alice@work.example"), "the work account's tag");
    assert!(shows(&app, "alice@example.org"), "the other account's tag");
    // Only the work account in the sidebar: only its messages.
    let task = app.update(Message::Sidebar(
        loquat::ui::screen::sidebar::Message::Filter(Some(work.id.clone())),
    ));
    run(&rt, &mut app, task);
    search(&rt, &mut app, "report");
    assert!(shows(&app, "1 found, newest first"));
    assert!(shows(&app, "dan@work.example"));
}

/// A result thousands of messages back in a room opens the room at it, with the
/// messages around it; newer ones come a page at a time, a live message waits, and
/// "Jump to the newest" goes back to the newest end.
#[test]
fn a_room_result_opens_the_room_at_the_message() {
    use loquat::session::{Update, UpdateKind};
    use loquat::ui::room::joined::Line;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let room = jid("tea@conference.example.org");
    let now = chrono::Utc::now().timestamp_millis();
    let in_room = |body: &str, ts: i64| {
        let mut m = message("tea@conference.example.org", body, ts);
        m.conversation = ConversationId::Room(room.clone());
        m.sender = "bob".into();
        m
    };
    let mut history = Vec::new();
    for i in 0..3_000i64 {
        let body = if i == 1_000 {
            "the samovar is broken".to_owned()
        } else {
            format!("chatter {i}")
        };
        history.push(in_room(&body, now - 10_000_000 + i * 1_000));
    }
    let target = history[1_000].clone();
    let mut app = start_with(&rt, Lang::En, &store, &history);
    join(&rt, &mut app, &room);
    let bodies = |app: &App| -> Vec<String> {
        app.shown_room()
            .unwrap()
            .lines
            .iter()
            .filter_map(|l| match l {
                Line::Chat(m) => Some(m.body.clone()),
                Line::Notes(_) => None,
            })
            .collect()
    };
    search(&rt, &mut app, "samovar");
    assert!(shows(&app, "1 found, newest first"));
    let task = app.update(Message::Search(SearchMessage::Open(0)));
    run(&rt, &mut app, task);
    let shown = app.shown_room().expect("the room opens");
    assert_eq!(
        shown.actions.highlight,
        Some(target.id.clone()),
        "at the message"
    );
    let around = loquat::ui::chat::AROUND;
    let seen = bodies(&app);
    assert_eq!(seen.len(), 2 * around + 1, "only the messages around it");
    assert_eq!(seen[around], "the samovar is broken");
    assert!(shows(&app, "You are reading older messages."));

    // A live message meanwhile waits.
    let live = in_room("tea is ready", now + 1_000);
    store.insert_messages(std::slice::from_ref(&live)).unwrap();
    let task = app.update(Message::Session(Update {
        account: account().id,
        kind: UpdateKind::Message(live.clone()),
    }));
    run(&rt, &mut app, task);
    assert!(!bodies(&app).contains(&"tea is ready".to_owned()));

    // Newer messages, a page at a time.
    for task in click(&mut app, "Show newer messages") {
        run(&rt, &mut app, task);
    }
    let seen = bodies(&app);
    assert_eq!(seen.len(), 2 * around + 1 + loquat::ui::chat::PAGE);
    assert_eq!(
        seen.last().unwrap(),
        &format!("chatter {}", 1_000 + around + loquat::ui::chat::PAGE)
    );

    // Asked again while it is on screen, it is found at once.
    let task = app.update(Message::Search(SearchMessage::Open(0)));
    run(&rt, &mut app, task);
    assert_eq!(
        app.shown_room().unwrap().actions.highlight,
        Some(target.id.clone())
    );

    // Back to the newest: the live message is last, the bar is gone.
    for task in click(&mut app, "Jump to the newest") {
        run(&rt, &mut app, task);
    }
    assert_eq!(
        bodies(&app).last().map(String::as_str),
        Some("tea is ready")
    );
    assert!(!shows(&app, "You are reading older messages."));
}

/// A result thousands of messages back opens with the messages around it (not the
/// whole way to the newest); newer ones come a page at a time, a live message waits
/// until the stretch reaches the newest end, and "Jump to the newest" goes back there.
#[test]
fn a_result_thousands_back_opens_with_the_messages_around_it() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let peer = "erin@example.org";
    let mut history = Vec::new();
    for i in 0..3_000i64 {
        let body = if i == 1_000 {
            "where is the zeppelin".to_owned()
        } else {
            format!("chatter {i}")
        };
        history.push(message(peer, &body, now - 10_000_000 + i * 1_000));
    }
    let target = history[1_000].clone();
    let mut app = start_with(&rt, Lang::En, &store, &history);
    search(&rt, &mut app, "zeppelin");
    assert!(shows(&app, "1 found, newest first"));
    let task = app.update(Message::Search(SearchMessage::Open(0)));
    run(&rt, &mut app, task);
    let chat = app.open_chat().expect("the conversation opens");
    assert_eq!(chat.actions.highlight, Some(target.id.clone()));
    let marked: Vec<&str> = chat
        .actions
        .marks
        .iter()
        .map(|r| &target.body[r.clone()])
        .collect();
    assert_eq!(marked, vec!["zeppelin"], "the match, marked in the message");
    let bodies: Vec<String> = chat.messages().iter().map(|m| m.body.clone()).collect();
    let around = loquat::ui::chat::AROUND;
    assert_eq!(bodies.len(), 2 * around + 1, "only the messages around it");
    assert_eq!(bodies[0], format!("chatter {}", 1_000 - around));
    assert_eq!(bodies[around], "where is the zeppelin");
    assert!(shows(&app, "You are reading older messages."));
    if let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") {
        // For review: the stretch with the message highlighted and the bar below.
        let dir = std::path::PathBuf::from(dir);
        let _ = std::fs::remove_file(dir.join("search-window-tiny-skia.png"));
        let snapshot = sim(&app).snapshot(&iced::Theme::Light).expect("snapshot");
        assert!(
            snapshot
                .matches_image(dir.join("search-window"))
                .expect("png")
        );
    }

    // A live message meanwhile: stored, but not shown in the middle of old history.
    let live = message(peer, "are you there?", now + 1_000);
    store.insert_messages(std::slice::from_ref(&live)).unwrap();
    let _ = app.update(Message::Session(loquat::session::Update {
        account: account().id,
        kind: loquat::session::UpdateKind::Message(live.clone()),
    }));
    assert!(
        !app.open_chat()
            .unwrap()
            .messages()
            .iter()
            .any(|m| m.id == live.id)
    );

    // Newer messages, a page at a time, in order.
    for task in click(&mut app, "Show newer messages") {
        run(&rt, &mut app, task);
    }
    let bodies: Vec<String> = app
        .open_chat()
        .unwrap()
        .messages()
        .iter()
        .map(|m| m.body.clone())
        .collect();
    assert_eq!(bodies.len(), 2 * around + 1 + loquat::ui::chat::PAGE);
    assert_eq!(
        bodies.last().unwrap(),
        &format!("chatter {}", 1_000 + around + loquat::ui::chat::PAGE)
    );

    // Back to the newest: the live message is the last one, the bar is gone.
    for task in click(&mut app, "Jump to the newest") {
        run(&rt, &mut app, task);
    }
    let chat = app.open_chat().unwrap();
    assert_eq!(chat.messages().last().map(|m| m.id.clone()), Some(live.id));
    assert!(!shows(&app, "You are reading older messages."));
}

/// A result in a room's private chat opens that private chat at the message, its
/// stored pages read back until it is there, the match marked.
#[test]
fn a_private_chat_result_opens_the_private_chat_at_the_message() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let room = jid("tea@conference.example.org");
    let now = chrono::Utc::now().timestamp_millis();
    let private = |body: &str, ts: i64| {
        let mut m = message("tea@conference.example.org", body, ts);
        m.conversation = ConversationId::Private {
            room: room.clone(),
            nick: "bob".into(),
        };
        m.sender = "bob".into();
        m
    };
    let mut history = vec![private("the secret recipe", now - 10_000_000)];
    for i in 0..120i64 {
        history.push(private(
            &format!("whisper {i}"),
            now - 1_000_000 + i * 1_000,
        ));
    }
    let target = history[0].clone();
    let mut app = start_with(&rt, Lang::En, &store, &history);
    join(&rt, &mut app, &room);
    search(&rt, &mut app, "recipe");
    assert!(shows(&app, "1 found, newest first"));
    let task = app.update(Message::Search(SearchMessage::Open(0)));
    run(&rt, &mut app, task);
    let shown = app.shown_room().expect("the room opens");
    assert_eq!(
        shown.private_open.as_deref(),
        Some("bob"),
        "its private chat"
    );
    let p = &shown.privates["bob"];
    assert_eq!(
        p.actions.highlight,
        Some(target.id.clone()),
        "at the message"
    );
    let marked: Vec<&str> = p
        .actions
        .marks
        .iter()
        .map(|r| &target.body[r.clone()])
        .collect();
    assert_eq!(marked, vec!["recipe"]);
}

#[test]
fn search_speaks_chinese_too() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let mut app = start(&rt, Lang::ZhCn, &store);
    assert!(shows(&app, "搜索全部消息"));
    search(&rt, &mut app, "写好");
    assert!(shows(&app, "找到 1 条，最新的在前"));
    assert!(shows(&app, "Bob"));
}

#[test]
#[ignore = "writes screenshots for review"]
fn render_search_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, theme, name, query) in [
        (Lang::En, iced::Theme::Light, "search", "the rep"),
        (Lang::ZhCn, iced::Theme::Dark, "search-zh", "报告"),
    ] {
        let store = Store::open_temporary().unwrap();
        let mut app = start(&rt, lang, &store);
        search(&rt, &mut app, query);
        let _ = std::fs::remove_file(dir.join(format!("{name}-tiny-skia.png")));
        let mut ui = sim(&app);
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        assert!(snapshot.matches_image(dir.join(name)).expect("png"));
    }
}

/// Settings has the command that rebuilds the index, and says how far a rebuild is
/// (the button waits while one runs); in both languages.
#[test]
fn settings_rebuild_the_index_and_show_its_progress() {
    use loquat::ui::screen::settings::general;
    let settings = loquat::config::Settings::default();
    let mut page = general::State::open(&settings);
    let messages: Vec<general::Message> = {
        let mut ui = iced_test::Simulator::with_size(
            iced::Settings::default(),
            (1100.0, 2400.0),
            page.view(Lang::En, &settings, None),
        );
        ui.click("Rebuild the search index").expect("the button");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages
        .into_iter()
        .filter_map(|m| page.update(m, &settings))
        .collect();
    assert!(
        matches!(events.as_slice(), [general::Event::RebuildSearch]),
        "{events:?}"
    );
    let running = page.view(Lang::En, &settings, Some((1_200, 5_000)));
    assert_eq!(
        support::view::count(running, "Indexing history: 1200 of 5000 messages"),
        1
    );
    let zh = page.view(Lang::ZhCn, &settings, Some((1_200, 5_000)));
    assert_eq!(
        support::view::count(zh, "正在索引历史消息：1200 / 5000 条"),
        1
    );
}
