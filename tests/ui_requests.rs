//! Headless UI tests of the quiet box and blocking (issue #18): strangers' chats and
//! contact requests sit in "Requests" apart from the inbox, with Accept / Block / Block
//! and report / Delete; a chat's header blocks; Settings lists the blocked addresses
//! with Unblock. In English and Chinese.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_requests`
//! Screenshots: `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_requests -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;
use support::app::{click, shows, sim};
use support::session::jid;
use support::view::run_tasks as run;

use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Contact, Delivery, Direction, Subscription};
use loquat::session::{Command, Handle, Update, UpdateKind};
use loquat::store::Store;
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::i18n::Lang;
use loquat::ui::{App, Message};
use tokio::sync::mpsc::UnboundedReceiver;
use xmpp_parsers::jid::{FullJid, Jid};

const SPAM: &str = "spam@evil.example";
const BOB: &str = "bob@example.org";

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

fn feed(app: &mut App, kind: UpdateKind) {
    let _ = app.update(Message::Session(Update {
        account: account().id,
        kind,
    }));
}

/// The app signed in, with Bob as a contact, a server that blocks and takes reports,
/// a message from Bob and one from a stranger (stored too).
fn start(
    rt: &tokio::runtime::Runtime,
    lang: Lang,
    store: &Store,
) -> (App, UnboundedReceiver<Command>) {
    let mut app = App::from_startup(lang, Startup::default());
    let task = app.update(Message::Started(Startup {
        accounts: vec![LoadedAccount::new(account(), Some("pw".into()))],
        store: Some(store.clone()),
        ..Startup::default()
    }));
    run(rt, &mut app, task);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    feed(&mut app, UpdateKind::Ready(Handle::new(tx)));
    feed(
        &mut app,
        UpdateKind::Online {
            bound: FullJid::new("alice@example.org/desk").unwrap(),
            mechanism: "SCRAM-SHA-256".into(),
            resumed: false,
        },
    );
    feed(
        &mut app,
        UpdateKind::Roster(vec![Contact {
            jid: jid(BOB),
            name: Some("Bob".into()),
            subscription: Subscription::Both,
            pending_out: false,
            groups: Vec::new(),
        }]),
    );
    feed(
        &mut app,
        UpdateKind::Blocklist {
            items: Vec::new(),
            supported: true,
            reporting: true,
        },
    );
    let now = chrono::Utc::now().timestamp_millis();
    let (bob, spam) = (
        message(BOB, "lunch?", now - 5_000),
        message(SPAM, "you won a prize https://evil.example/x.png", now),
    );
    store.insert_messages(&[bob.clone(), spam.clone()]).unwrap();
    feed(&mut app, UpdateKind::Message(bob));
    feed(&mut app, UpdateKind::Message(spam));
    (app, rx)
}

fn commands(rx: &mut UnboundedReceiver<Command>) -> Vec<Command> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

#[test]
fn a_strangers_chat_is_a_request_apart_from_the_inbox() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, title, accept, report, delete) in [
        (
            Lang::En,
            "Requests (1)",
            "Accept",
            "Block and report spam",
            "Delete",
        ),
        (
            Lang::ZhCn,
            "请求（1）",
            "接受",
            "屏蔽并举报垃圾信息",
            "删除",
        ),
    ] {
        let store = Store::open_temporary().unwrap();
        let (mut app, mut rx) = start(&rt, lang, &store);
        assert!(shows(&app, title), "{lang:?}");
        assert!(shows(&app, SPAM));
        assert!(shows(&app, "lunch?"), "Bob's chat is in the inbox");
        // The stranger's line is in the requests: above the inbox, in its own box,
        // and a contact's message is not counted there.
        let request = support::app::found(&app, SPAM, true);
        let inbox = support::app::found(&app, "lunch?", true);
        assert_eq!(request.len(), 1, "listed once");
        assert!(request[0].y < inbox[0].y);

        // Block and report.
        for task in click(&mut app, report) {
            run(&rt, &mut app, task);
        }
        let sent = commands(&mut rx);
        assert!(
            matches!(sent.as_slice(), [Command::Block { jids, report: true }] if jids == &vec![Jid::new(SPAM).unwrap()]),
            "{sent:?}"
        );
        // Accept sends the roster addition with a subscription request.
        for task in click(&mut app, accept) {
            run(&rt, &mut app, task);
        }
        let sent = commands(&mut rx);
        assert!(
            matches!(sent.as_slice(), [Command::AddContact { jid: j, subscribe: true, .. }] if j.as_str() == SPAM),
            "{sent:?}"
        );
        // Delete forgets the conversation, here and in the store.
        for task in click(&mut app, delete) {
            run(&rt, &mut app, task);
        }
        assert!(!shows(&app, SPAM), "gone from the sidebar");
        assert!(!shows(&app, title));
        let left = store.conversations(&account().id).unwrap();
        assert_eq!(left.len(), 1, "only Bob's chat is stored: {left:?}");
        assert!(commands(&mut rx).is_empty(), "Delete is local");
    }
}

/// Once the stranger is blocked (a push from the server), their request goes; once
/// accepted (a roster push), their chat moves to the inbox.
#[test]
fn blocking_or_accepting_empties_the_requests() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let (mut app, _rx) = start(&rt, Lang::En, &store);
    feed(
        &mut app,
        UpdateKind::SubscriptionRequest {
            from: jid("eve@x.example"),
        },
    );
    assert!(shows(&app, "Requests (2)"));
    assert!(shows(
        &app,
        "eve@x.example wants to see when you are online."
    ));
    feed(
        &mut app,
        UpdateKind::Blocklist {
            items: vec![Jid::new(SPAM).unwrap(), Jid::new("x.example").unwrap()],
            supported: true,
            reporting: true,
        },
    );
    assert!(!shows(&app, "Requests ("), "blocked people ask for nothing");
    assert!(!shows(&app, SPAM));
    feed(
        &mut app,
        UpdateKind::Blocklist {
            items: Vec::new(),
            supported: true,
            reporting: true,
        },
    );
    assert!(shows(&app, "Requests (1)"), "unblocked: the chat is back");
    feed(
        &mut app,
        UpdateKind::ContactChanged(Contact {
            jid: jid(SPAM),
            name: None,
            subscription: Subscription::None,
            pending_out: true,
            groups: Vec::new(),
        }),
    );
    assert!(!shows(&app, "Requests ("));
    assert!(shows(&app, "you won a prize"), "in the inbox now");
}

#[test]
fn a_chat_header_blocks_and_settings_unblock() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, block, unblock, blocked, delete) in [
        (Lang::En, "Block", "Unblock", "Blocked (1)", "Delete"),
        (Lang::ZhCn, "屏蔽", "取消屏蔽", "已屏蔽 (1)", "删除"),
    ] {
        let store = Store::open_temporary().unwrap();
        let (mut app, mut rx) = start(&rt, lang, &store);
        // The request deleted: the only Block button left is the header's.
        for task in click(&mut app, delete) {
            run(&rt, &mut app, task);
        }
        for task in click(&mut app, "lunch?") {
            run(&rt, &mut app, task);
        }
        for task in click(&mut app, block) {
            run(&rt, &mut app, task);
        }
        let sent = commands(&mut rx);
        assert!(
            sent.iter().any(|c| matches!(c, Command::Block { jids, report: false } if jids == &vec![Jid::new(BOB).unwrap()])),
            "{sent:?}"
        );
        feed(
            &mut app,
            UpdateKind::Blocklist {
                items: vec![Jid::new(BOB).unwrap()],
                supported: true,
                reporting: false,
            },
        );
        assert!(shows(&app, unblock), "the header offers to unblock");

        // Settings > Accounts lists the blocked addresses.
        let _ = app.update(Message::Sidebar(
            loquat::ui::screen::sidebar::Message::OpenAccounts,
        ));
        assert!(shows(&app, blocked), "{lang:?}");
        assert!(shows(&app, BOB));
        for task in click(&mut app, unblock) {
            run(&rt, &mut app, task);
        }
        let sent = commands(&mut rx);
        assert!(
            matches!(sent.as_slice(), [Command::Unblock { jids }] if jids == &vec![Jid::new(BOB).unwrap()]),
            "{sent:?}"
        );
    }
}

/// The sidebar with a request, in English and Chinese, for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_requests_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, theme, name) in [
        (Lang::En, iced::Theme::Light, "requests"),
        (Lang::ZhCn, iced::Theme::Dark, "requests-zh"),
    ] {
        let store = Store::open_temporary().unwrap();
        let (mut app, _rx) = start(&rt, lang, &store);
        feed(
            &mut app,
            UpdateKind::SubscriptionRequest {
                from: jid("eve@x.example"),
            },
        );
        let _ = std::fs::remove_file(dir.join(format!("{name}-tiny-skia.png")));
        {
            let mut ui = sim(&app);
            let snapshot = ui.snapshot(&theme).expect("snapshot");
            assert!(snapshot.matches_image(dir.join(name)).expect("png"));
        }
        for task in click(&mut app, SPAM) {
            run(&rt, &mut app, task);
        }
        let _ = std::fs::remove_file(dir.join(format!("{name}-open-tiny-skia.png")));
        {
            let mut ui = sim(&app);
            let snapshot = ui.snapshot(&theme).expect("snapshot");
            assert!(
                snapshot
                    .matches_image(dir.join(format!("{name}-open")))
                    .expect("png")
            );
        }
        let _ = app.update(Message::Sidebar(
            loquat::ui::screen::sidebar::Message::OpenAccounts,
        ));
        feed(
            &mut app,
            UpdateKind::Blocklist {
                items: vec![Jid::new(SPAM).unwrap(), Jid::new("x.example").unwrap()],
                supported: true,
                reporting: true,
            },
        );
        let _ = std::fs::remove_file(dir.join(format!("{name}-blocked-tiny-skia.png")));
        let mut ui = sim(&app);
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        assert!(
            snapshot
                .matches_image(dir.join(format!("{name}-blocked")))
                .expect("png")
        );
    }
}

/// An open request offers Accept in its header too.
#[test]
fn an_open_request_offers_accept_in_its_header() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let (mut app, mut rx) = start(&rt, Lang::ZhCn, &store);
    assert_eq!(support::app::count(&app, "接受"), 1, "the sidebar's");
    for task in click(&mut app, SPAM) {
        run(&rt, &mut app, task);
    }
    assert_eq!(support::app::count(&app, "接受"), 2, "and the header's");
    let _ = commands(&mut rx);
    let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Accept));
    let sent = commands(&mut rx);
    assert!(
        matches!(sent.as_slice(), [Command::AddContact { jid: j, subscribe: true, .. }] if j.as_str() == SPAM),
        "{sent:?}"
    );
    // Bob's chat is no request: no Accept in its header.
    for task in click(&mut app, "lunch?") {
        run(&rt, &mut app, task);
    }
    assert_eq!(support::app::count(&app, "接受"), 1);
}

/// No read marker to a stranger, even with their chat on screen and the window
/// focused; accepting them sends it.
#[test]
fn no_read_marker_to_a_stranger_until_accepted() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let (mut app, mut rx) = start(&rt, Lang::En, &store);
    let _ = app.update(Message::WindowFocused(true));
    for task in click(&mut app, SPAM) {
        run(&rt, &mut app, task);
    }
    let mut spam = message(SPAM, "still there?", chrono::Utc::now().timestamp_millis());
    spam.stanza_id_attr = Some("m2".into());
    feed(&mut app, UpdateKind::Message(spam));
    let sent = commands(&mut rx);
    assert!(
        !sent
            .iter()
            .any(|c| matches!(c, Command::MarkDisplayed { .. })),
        "{sent:?}"
    );
    feed(
        &mut app,
        UpdateKind::ContactChanged(Contact {
            jid: jid(SPAM),
            name: None,
            subscription: Subscription::None,
            pending_out: true,
            groups: Vec::new(),
        }),
    );
    let sent = commands(&mut rx);
    assert!(
        matches!(sent.as_slice(), [Command::MarkDisplayed { peer, id }] if peer.as_str() == SPAM && id == "m2"),
        "{sent:?}"
    );
}

/// Answering a stranger accepts them, as the Accept button does: the reply goes out
/// after the contact is added, and the chat is no longer kept apart as a request.
#[test]
fn replying_to_a_request_accepts_it() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let store = Store::open_temporary().unwrap();
    let (mut app, mut rx) = start(&rt, Lang::En, &store);
    for task in click(&mut app, SPAM) {
        run(&rt, &mut app, task);
    }
    let _ = commands(&mut rx);
    for c in "thanks, who is this?".chars() {
        let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Edit(
            iced::widget::text_editor::Action::Edit(iced::widget::text_editor::Edit::Insert(c)),
        )));
    }
    let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Send));
    let sent: Vec<Command> = commands(&mut rx)
        .into_iter()
        .filter(|c| matches!(c, Command::AddContact { .. } | Command::SendChat { .. }))
        .collect();
    assert!(
        matches!(sent.as_slice(),
            [Command::AddContact { jid, subscribe: true, .. }, Command::SendChat { to, .. }]
                if jid.as_str() == SPAM && to.as_str() == SPAM),
        "{sent:?}"
    );
    // Bob's own chat is no request: a reply there adds no one.
    for task in click(&mut app, "lunch?") {
        run(&rt, &mut app, task);
    }
    let _ = commands(&mut rx);
    let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Edit(
        iced::widget::text_editor::Action::Edit(iced::widget::text_editor::Edit::Insert('y')),
    )));
    let _ = app.update(Message::Conversation(loquat::ui::chat::Message::Send));
    let sent = commands(&mut rx);
    assert!(
        !sent.iter().any(|c| matches!(c, Command::AddContact { .. })),
        "{sent:?}"
    );
}
