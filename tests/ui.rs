//! Headless UI tests with `iced_test`: the real `App::update` and `App::view`, driven
//! by simulated clicks and typing and by the updates a session would send.
//!
//! Run with `ICED_TEST_BACKEND=tiny-skia cargo test --test ui` (any headless backend
//! works; tiny-skia needs no GPU).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;
use support::app::{apply, count as count_text, shows};

use iced::keyboard::{Key, key::Named};
use iced::widget::Id;
use iced_test::simulator;
use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Contact, Delivery, Direction, Subscription};
use loquat::session::{Command, Handle, SessionError, Update, UpdateKind};
use loquat::ui::app::session_bridge::CheckReport;
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::chat::COMPOSER_ID;
use loquat::ui::i18n::Lang;
use loquat::ui::screen::onboarding::{self, ADDRESS_ID, PASSWORD_ID};
use loquat::ui::{App, Message};
use tokio::sync::mpsc;
use xmpp_parsers::jid::BareJid;

#[test]
fn onboarding_rejects_an_invalid_address_and_shows_login_errors() {
    let mut app = App::from_startup(Lang::En, Startup::default());
    assert!(!app.is_main_screen(), "no account: the sign-in form shows");

    // Type a bad address and a password, press Enter in the password field.
    let messages = {
        let mut ui = simulator(app.view());
        ui.click(Id::new(ADDRESS_ID)).expect("address field");
        ui.typewrite("not-a-jid");
        ui.click(Id::new(PASSWORD_ID)).expect("password field");
        ui.typewrite("secret");
        ui.tap_key(Key::Named(Named::Enter));
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    assert!(
        shows(&app, "This is not a valid address"),
        "the invalid address is refused inline"
    );
    assert!(
        app.pending_login().is_none(),
        "no login is tried with a bad address"
    );
    assert!(shows(&app, "not-a-jid"), "what was typed stays");

    // A good address: the check starts.
    let _ = app.update(Message::Onboarding(onboarding::Message::AddressChanged(
        "alice@example.org".into(),
    )));
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Sign in").expect("sign-in button");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    assert!(!shows(&app, "This is not a valid address"));
    let pending = app.pending_login().cloned().expect("a login check runs");

    // A report about some other attempt changes nothing.
    let stale = Update {
        account: AccountId("someone-else".into()),
        kind: UpdateKind::Failed(SessionError::Timeout),
    };
    let _ = app.update(Message::Onboarding(onboarding::Message::Checked(
        CheckReport::Update(Box::new(stale)),
    )));
    assert_eq!(app.pending_login(), Some(&pending));

    // The session says the password is wrong.
    let failed = Update {
        account: pending.clone(),
        kind: UpdateKind::Failed(SessionError::Auth {
            condition: "not-authorized".into(),
        }),
    };
    let _ = app.update(Message::Onboarding(onboarding::Message::Checked(
        CheckReport::Update(Box::new(failed)),
    )));
    assert!(
        shows(&app, "Wrong address or password"),
        "the wrong-password text shows"
    );
    assert!(
        shows(&app, "alice@example.org"),
        "the typed address is kept"
    );
    assert!(app.pending_login().is_none());
    assert!(!app.is_main_screen());

    // An untrusted certificate: fingerprint, names and a way to trust it.
    let _ = app.update(Message::Onboarding(onboarding::Message::Submit));
    let pending = app.pending_login().cloned().expect("second attempt");
    let certificate = Update {
        account: pending,
        kind: UpdateKind::Failed(SessionError::Certificate {
            reason: "unknown issuer".into(),
            fingerprint_sha256: "ab12".into(),
            names: vec!["example.org".into()],
        }),
    };
    let _ = app.update(Message::Onboarding(onboarding::Message::Checked(
        CheckReport::Update(Box::new(certificate)),
    )));
    assert!(shows(&app, "not trusted: unknown issuer"));
    assert!(shows(&app, "AB:12"));
    assert!(shows(&app, "Issued for: example.org"));
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Trust this certificate").expect("trust button");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    assert!(app.pending_login().is_some(), "trusting retries the login");
}

/// A server that offers only PLAIN: the refusal says why and opens Advanced, where
/// "Allow sending the password in plain form" is; ticked, the next check is allowed
/// PLAIN, and the account it adds keeps the choice (its store preference).
#[test]
fn onboarding_offers_allowing_plain_after_a_plain_only_refusal() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let _guard = rt.enter();
    let store = loquat::store::Store::open_temporary().expect("store");
    let mut app = App::from_startup(
        Lang::En,
        Startup {
            store: Some(store.clone()),
            ..Startup::default()
        },
    );
    let label = "Allow sending the password in plain form (PLAIN) over TLS when the server offers nothing better";
    assert!(!shows(&app, label), "under Advanced, closed at first");
    let _ = app.update(Message::Onboarding(onboarding::Message::AddressChanged(
        "alice@plain.example".into(),
    )));
    let _ = app.update(Message::Onboarding(onboarding::Message::PasswordChanged(
        "secret".into(),
    )));
    let _ = app.update(Message::Onboarding(onboarding::Message::Submit));
    let pending = app.pending_login().cloned().expect("a login check runs");
    let refused = Update {
        account: pending,
        kind: UpdateKind::Failed(loquat::session::insecure::Insecure::PlainOnly.error()),
    };
    let _ = app.update(Message::Onboarding(onboarding::Message::Checked(
        CheckReport::Update(Box::new(refused)),
    )));
    assert!(shows(&app, "only offers PLAIN login"));
    assert!(shows(&app, label), "Advanced opened on the refusal");
    let messages = {
        let mut ui = simulator(app.view());
        ui.click(label).expect("the checkbox");
        ui.click("Sign in").expect("sign-in button");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    let pending = app.pending_login().cloned().expect("a second check runs");
    let online = Update {
        account: pending.clone(),
        kind: UpdateKind::Online {
            bound: xmpp_parsers::jid::FullJid::new("alice@plain.example/x").unwrap(),
            mechanism: "PLAIN".into(),
            resumed: false,
        },
    };
    let task = app.update(Message::Onboarding(onboarding::Message::Checked(
        CheckReport::Update(Box::new(online)),
    )));
    support::view::run_tasks(&rt, &mut app, task);
    let state = app.account_state(&pending).expect("the account was added");
    assert!(state.allow_plain);
    assert_eq!(
        store
            .pref(&loquat::session::connect::allow_plain_pref(&pending))
            .unwrap()
            .as_deref(),
        Some("true")
    );
}

/// Clicks Bob in the contact list, and forgets the commands that sent.
fn open_bob(app: &mut App, commands: &mut mpsc::UnboundedReceiver<Command>) {
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Bob").expect("Bob in the contact list");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(app, messages);
    while commands.try_recv().is_ok() {}
}

/// A message from the peer with the stanza id `id`, as the session reports it.
fn incoming(account: &AccountId, peer: &BareJid, id: &str, body: &str) -> Message {
    let mut m = chat(
        account,
        peer,
        LocalMessageId::generate(),
        body,
        Direction::Incoming,
    );
    m.stanza_id_attr = Some(id.into());
    Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(m),
    })
}

fn main_screen_app() -> (App, AccountId, BareJid, mpsc::UnboundedReceiver<Command>) {
    let account = Account::new(BareJid::new("alice@example.org").expect("jid"));
    let id = account.id.clone();
    let bob = BareJid::new("bob@example.org").expect("jid");
    let mut loaded = LoadedAccount::new(account, Some("pw".into()));
    loaded.contacts = vec![Contact {
        jid: bob.clone(),
        name: Some("Bob".into()),
        subscription: Subscription::Both,
        pending_out: false,
        groups: Vec::new(),
    }];
    let mut app = App::from_startup(
        Lang::En,
        Startup {
            accounts: vec![loaded],
            ..Startup::default()
        },
    );
    let (tx, rx) = mpsc::unbounded_channel();
    let _ = app.update(Message::Session(Update {
        account: id.clone(),
        kind: UpdateKind::Ready(Handle::new(tx)),
    }));
    (app, id, bob, rx)
}

fn chat(
    account: &AccountId,
    peer: &BareJid,
    id: LocalMessageId,
    body: &str,
    direction: Direction,
) -> ChatMessage {
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id,
        account: account.clone(),
        conversation: loquat::ids::ConversationId::Chat(peer.clone()),
        direction,
        sender: String::new(),
        body: body.into(),
        timestamp_ms: chrono::Utc::now().timestamp_millis(),
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: if direction == Direction::Outgoing {
            Delivery::Pending
        } else {
            Delivery::Delivered
        },
        attachment: None,
    }
}

#[test]
fn typing_and_enter_sends_a_chat_message_and_shows_it_once() {
    let (mut app, account, bob, mut commands) = main_screen_app();
    assert!(app.is_main_screen());

    // Open the conversation with Bob from the contact list.
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Bob").expect("Bob in the contact list");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    assert!(shows(&app, "bob@example.org"), "the header shows the peer");
    // The session learns which chat is on screen (its catch-up fetches it first).
    match commands.try_recv() {
        Ok(Command::Viewing { peer }) => assert_eq!(peer.as_ref(), Some(&bob)),
        other => panic!("expected Viewing, got {other:?}"),
    }
    // And which OMEMO devices Bob has (the lock in the header).
    match commands.try_recv() {
        Ok(Command::OmemoStatus { peer }) => assert_eq!(peer, bob),
        other => panic!("expected OmemoStatus, got {other:?}"),
    }

    // Type in the composer and press Enter.
    let messages = {
        let mut ui = simulator(app.view());
        ui.click(Id::new(COMPOSER_ID)).expect("composer");
        ui.typewrite("hello 世界");
        ui.tap_key(Key::Named(Named::Enter));
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);

    // Typing said "composing" once (XEP-0085), then Enter sent the message.
    match commands.try_recv() {
        Ok(Command::SendChatState { state, .. }) => {
            assert_eq!(state, loquat::session::ChatState::Composing)
        }
        other => panic!("expected SendChatState, got {other:?}"),
    }
    let command = commands
        .try_recv()
        .expect("a command was sent to the session");
    let Command::SendChat { to, body, id } = command else {
        panic!("expected SendChat, got {command:?}");
    };
    assert_eq!(to, bob);
    assert_eq!(body, "hello 世界");
    assert!(commands.try_recv().is_err(), "exactly one message");
    assert!(
        !shows(&app, "hello 世界"),
        "shown only once the session stored it"
    );

    // The session stores the message and emits it back, twice (dedupe), then a receipt.
    let echo = chat(
        &account,
        &bob,
        id.clone(),
        "hello 世界",
        Direction::Outgoing,
    );
    let emit = |app: &mut App| {
        let _ = app.update(Message::Session(Update {
            account: account.clone(),
            kind: UpdateKind::Message(echo.clone()),
        }));
    };
    emit(&mut app);
    // Once in the conversation, once as the preview in the conversation list.
    assert_eq!(count_text(&app, "hello 世界"), 2, "the message appears");
    assert_eq!(count_text(&app, "sending…"), 1, "one bubble with its tick");
    emit(&mut app);
    assert_eq!(
        count_text(&app, "hello 世界"),
        2,
        "a repeated update is not shown twice"
    );
    assert_eq!(count_text(&app, "sending…"), 1);
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Delivery {
            id,
            state: Delivery::Delivered,
        },
    }));
    assert!(shows(&app, "✓✓"), "the delivery tick updates");
    assert!(!shows(&app, "sending…"));

    // An empty composer sends nothing.
    let messages = {
        let mut ui = simulator(app.view());
        ui.click(Id::new(COMPOSER_ID)).expect("composer");
        ui.typewrite("   ");
        ui.tap_key(Key::Named(Named::Enter));
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    assert!(commands.try_recv().is_err(), "whitespace is not sent");
}

#[test]
fn sending_without_a_session_says_not_connected() {
    let (mut app, _account, _bob, commands) = main_screen_app();
    drop(commands); // the session is gone: sending on its handle fails
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Bob").expect("Bob");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    let messages = {
        let mut ui = simulator(app.view());
        ui.click(Id::new(COMPOSER_ID)).expect("composer");
        ui.typewrite("anyone?");
        ui.tap_key(Key::Named(Named::Enter));
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    assert!(shows(&app, "Not connected"), "the failure is said inline");
}

#[test]
fn messages_for_a_closed_conversation_count_as_unread() {
    let (mut app, account, _bob, _commands) = main_screen_app();
    let carol = BareJid::new("carol@example.org").expect("jid");
    assert_eq!(app.title(), "Loquat");
    // Carol is a contact: a stranger's chat would be a request, not counted (issue #18,
    // tests/ui_requests.rs).
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::ContactChanged(loquat::model::Contact {
            jid: carol.clone(),
            name: None,
            subscription: loquat::model::Subscription::Both,
            pending_out: false,
            groups: Vec::new(),
        }),
    }));
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(chat(
            &account,
            &carol,
            LocalMessageId::generate(),
            "are you there?",
            Direction::Incoming,
        )),
    }));
    assert_eq!(app.title(), "(1) Loquat");
    assert!(
        shows(&app, "are you there?"),
        "the preview shows in the list"
    );

    // Opening it reads it.
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("carol@example.org").expect("carol's conversation");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    assert_eq!(app.title(), "Loquat");
}

#[test]
fn archived_history_lists_the_conversation_without_unread() {
    let (mut app, account, _bob, _commands) = main_screen_app();
    let carol = BareJid::new("carol@example.org").expect("jid");
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::History(vec![chat(
            &account,
            &carol,
            LocalMessageId::generate(),
            "from last year",
            Direction::Incoming,
        )]),
    }));
    assert_eq!(app.title(), "Loquat", "old history is not unread");
    assert!(shows(&app, "from last year"), "the conversation is listed");
}

#[test]
fn a_failed_message_says_why_and_offers_retry() {
    let (mut app, account, bob, mut commands) = main_screen_app();
    open_bob(&mut app, &mut commands);
    let id = LocalMessageId::generate();
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(chat(
            &account,
            &bob,
            id.clone(),
            "hello?",
            Direction::Outgoing,
        )),
    }));
    assert!(!shows(&app, "Retry"), "nothing to retry yet");
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Delivery {
            id: id.clone(),
            state: Delivery::Failed("the recipient's server was not found".into()),
        },
    }));
    assert!(
        shows(&app, "the recipient's server was not found"),
        "the reason in words"
    );
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Retry").expect("a Retry button");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    match commands.try_recv() {
        Ok(Command::Resend { id: again }) => assert_eq!(again, id),
        other => panic!("expected Resend, got {other:?}"),
    }
}

/// Renders the main screen with sample data to PNG files for a person to look at:
/// `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui -- --ignored`.
#[test]
#[ignore = "writes screenshots for review"]
fn render_main_screen_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let (mut app, account, bob, _commands) = main_screen_app();
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Presence {
            from: xmpp_parsers::jid::Jid::new("bob@example.org/phone").expect("jid"),
            show: loquat::model::Show::Away,
            status: Some("on the train".into()),
        },
    }));
    let carol = BareJid::new("carol@example.org").expect("jid");
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::SubscriptionRequest {
            from: carol.clone(),
        },
    }));
    let now = chrono::Utc::now().timestamp_millis();
    let lines = [
        (
            Direction::Incoming,
            "Hi Alice! Did you see https://example.org/loquat?",
            now - 26 * 3600 * 1000,
        ),
        (
            Direction::Outgoing,
            "Yes, looks great.\nLet's try it tonight.",
            now - 25 * 3600 * 1000,
        ),
        (Direction::Incoming, "你好！今天有空吗？", now - 60_000),
        (Direction::Outgoing, "hello 世界", now),
        (Direction::Outgoing, "this one bounced", now),
    ];
    for (direction, body, ts) in lines {
        let mut message = chat(&account, &bob, LocalMessageId::generate(), body, direction);
        message.timestamp_ms = ts;
        if body == "this one bounced" {
            message.delivery = Delivery::Failed("the recipient's server was not found".into());
        }
        let _ = app.update(Message::Session(Update {
            account: account.clone(),
            kind: UpdateKind::Message(message),
        }));
    }
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(chat(
            &account,
            &carol,
            LocalMessageId::generate(),
            "ping",
            Direction::Incoming,
        )),
    }));
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Bob").expect("Bob");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    let shoot = |app: &App, name: &str, theme: iced::Theme| {
        let mut ui = simulator(app.view());
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        let path = dir.join(name);
        let _ = std::fs::remove_file(path.with_file_name(format!("{name}-tiny-skia.png")));
        assert!(snapshot.matches_image(&path).expect("write png"));
    };
    shoot(&app, "main-light", iced::Theme::Light);
    shoot(&app, "main-dark", iced::Theme::Dark);

    // A 100 kB message, folded, and one cut by the storage limit.
    let _ = app.update(incoming(&account, &bob, "huge", &huge_body()));
    let mut cut = chat(
        &account,
        &bob,
        LocalMessageId::generate(),
        "the start of something longer than 256 kB",
        Direction::Incoming,
    );
    cut.truncated = true;
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(cut),
    }));
    shoot(&app, "main-folded", iced::Theme::Light);

    // The contact forms: add, then rename / remove with its confirmation.
    for (label, name) in [
        ("+ Add contact", "form-add"),
        ("Edit", "form-edit"),
        ("Remove", "form-remove"),
    ] {
        let messages = {
            let mut ui = simulator(app.view());
            ui.click(label).expect(label);
            ui.into_messages().collect::<Vec<_>>()
        };
        apply(&mut app, messages);
        shoot(&app, name, iced::Theme::Light);
    }
}

#[test]
fn read_markers_go_out_only_while_the_window_has_the_focus() {
    let (mut app, account, bob, mut commands) = main_screen_app();
    open_bob(&mut app, &mut commands);

    let incoming = |id: &str, body: &str| incoming(&account, &bob, id, body);
    // On screen, window focused: Bob learns we saw it.
    let _ = app.update(incoming("s1", "are you there?"));
    match commands.try_recv() {
        Ok(Command::MarkDisplayed { peer, id }) => {
            assert_eq!(peer, bob);
            assert_eq!(id, "s1");
        }
        other => panic!("expected a displayed marker, got {other:?}"),
    }
    // Window in the background: no marker...
    let _ = app.update(Message::WindowFocused(false));
    let _ = app.update(incoming("s2", "hello?"));
    assert!(commands.try_recv().is_err(), "no marker while unfocused");
    // ...until the user comes back to the window.
    let _ = app.update(Message::WindowFocused(true));
    match commands.try_recv() {
        Ok(Command::MarkDisplayed { id, .. }) => assert_eq!(id, "s2"),
        other => panic!("expected a displayed marker, got {other:?}"),
    }
    assert!(commands.try_recv().is_err(), "one marker per message");
}

/// Messages streaming into the chat on screen get one displayed marker at once, then
/// at most one a second, for the newest (markers are cumulative): a flood does not send
/// one marker back per message.
#[test]
fn a_stream_of_messages_gets_one_displayed_marker_a_second() {
    let (mut app, account, bob, mut commands) = main_screen_app();
    open_bob(&mut app, &mut commands);
    let incoming = |id: &str| incoming(&account, &bob, id, id);
    let _ = app.update(incoming("s1"));
    match commands.try_recv() {
        Ok(Command::MarkDisplayed { id, .. }) => assert_eq!(id, "s1"),
        other => panic!("expected a displayed marker, got {other:?}"),
    }
    for id in ["s2", "s3", "s4"] {
        let _ = app.update(incoming(id));
    }
    assert!(commands.try_recv().is_err(), "no marker during the pause");
    // The pause ends: one marker, for the newest.
    let _ = app.update(Message::DisplayedDue);
    match commands.try_recv() {
        Ok(Command::MarkDisplayed { id, .. }) => assert_eq!(id, "s4"),
        other => panic!("expected a displayed marker, got {other:?}"),
    }
    assert!(commands.try_recv().is_err(), "one marker");
}

#[test]
fn a_history_gap_shows_between_the_messages_around_it_and_nowhere_else() {
    let (mut app, account, bob, _commands) = main_screen_app();
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Bob").expect("Bob in the contact list");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    let now = chrono::Utc::now().timestamp_millis();
    let at = |body: &str, t: i64| {
        let mut m = chat(
            &account,
            &bob,
            LocalMessageId::generate(),
            body,
            Direction::Incoming,
        );
        m.timestamp_ms = t;
        m
    };
    for m in [
        at("before the gap", now - 7_200_000),
        at("after the gap", now - 60_000),
    ] {
        let _ = app.update(Message::Session(Update {
            account: account.clone(),
            kind: UpdateKind::Message(m),
        }));
    }
    let marker = "may be missing";
    assert!(!shows(&app, marker), "no gap known yet");
    // A gap after the newest message: nothing to show yet.
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::HistoryGap(loquat::store::HistoryGap {
            after_ms: now - 30_000,
            before_ms: now - 10_000,
        }),
    }));
    assert!(
        !shows(&app, marker),
        "a gap with nothing after it shows nothing"
    );
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::HistoryGap(loquat::store::HistoryGap {
            after_ms: now - 7_000_000,
            before_ms: now - 120_000,
        }),
    }));
    assert_eq!(
        count_text(&app, marker),
        1,
        "one marker between the two messages"
    );
}

/// 100 kB in numbered lines of 100 characters, so any part of it can be looked for.
fn huge_body() -> String {
    (0..1000)
        .map(|i| format!("line {i:04} {}\n", "x".repeat(89)))
        .collect()
}

#[test]
fn a_100_kb_message_shows_folded_with_the_hidden_amount_until_show_more() {
    let (mut app, account, bob, mut commands) = main_screen_app();
    open_bob(&mut app, &mut commands);
    let body = huge_body();
    assert_eq!(body.len(), 100_000);
    let _ = app.update(incoming(&account, &bob, "huge", &body));

    // Folded: the first 2,000 characters (20 lines), and how much more there is.
    assert!(shows(&app, "line 0000"), "the start shows");
    assert!(shows(&app, "line 0019"));
    assert!(!shows(&app, "line 0020"), "the rest is folded away");
    assert!(!shows(&app, "line 0999"));
    assert_eq!(count_text(&app, "Show more (98000 more characters)"), 1);
    assert!(!shows(&app, "cut at"), "a 100 kB body is whole: no note");

    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Show more (98000 more characters)")
            .expect("the Show more button");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    assert!(shows(&app, "line 0999"), "Show more shows the whole body");
    assert!(!shows(&app, "Show more"));
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Show less").expect("the Show less button");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    assert!(!shows(&app, "line 0999"), "Show less folds it again");
    assert_eq!(count_text(&app, "Show more (98000 more characters)"), 1);

    // A body the storage limit cut says so on its bubble.
    let mut cut = chat(
        &account,
        &bob,
        LocalMessageId::generate(),
        "the start of something very long",
        Direction::Incoming,
    );
    cut.truncated = true;
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(cut),
    }));
    assert_eq!(
        count_text(
            &app,
            "This message was cut at 256 kB by Loquat's size limit"
        ),
        1
    );
}

#[test]
fn a_chat_opened_with_unread_messages_shows_where_they_start() {
    let (mut app, account, bob, _commands) = main_screen_app();
    let _ = app.update(incoming(&account, &bob, "u1", "are you there?"));
    let _ = app.update(incoming(&account, &bob, "u2", "hello?"));
    assert!(!shows(&app, "New messages"), "nothing open yet");
    let messages = {
        let mut ui = simulator(app.view());
        ui.click("Bob").expect("Bob");
        ui.into_messages().collect::<Vec<_>>()
    };
    apply(&mut app, messages);
    assert_eq!(count_text(&app, "New messages"), 1);
}
