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
    for m in more {
        store.insert_messages(std::slice::from_ref(m)).unwrap();
    }
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
        (Lang::En, iced::Theme::Light, "search", "report"),
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
