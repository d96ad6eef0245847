//! Headless UI tests of several accounts with `iced_test`: the inbox filter, the
//! "as <account>" line and writing from another account, per-account errors, and the
//! account settings (edit without / with reconnect, disable, remove).
//!
//! Run with `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_accounts`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;

use support::session::jid;

use iced::Rectangle;
use iced::keyboard::{Key, key::Named};
use iced::widget::Id;
use iced_test::Simulator;
use iced_test::selector::{Candidate, Target};
use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Contact, Delivery, Direction, Show, Subscription};
use loquat::session::{Command, Handle, SessionError, Update, UpdateKind};
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::chat::{COMPOSER_ID, write_as_id};
use loquat::ui::i18n::Lang;
use loquat::ui::screen::settings::{self, edit};
use loquat::ui::screen::sidebar::{self, ShowChoice, account_card_id, filter_id};
use loquat::ui::{App, Message};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

/// The next command a session got, past the notes of which chat is on screen
/// (`Command::Viewing`, sent on every opened chat).
fn next_command(
    rx: &mut UnboundedReceiver<Command>,
) -> Result<Command, tokio::sync::mpsc::error::TryRecvError> {
    loop {
        match rx.try_recv() {
            // What is on screen and "typing" are not what these tests are about.
            Ok(
                Command::Viewing { .. }
                | Command::SendChatState { .. }
                | Command::OmemoStatus { .. },
            ) => continue,
            other => return other,
        }
    }
}
use xmpp_parsers::jid::{BareJid, FullJid};

/// A window tall enough for two account cards and the lists below them.
const TALL: (f32, f32) = (1100.0, 1400.0);

fn sim(app: &App) -> Simulator<'_, Message> {
    support::app::sim_sized(app, TALL)
}

/// Every text on screen containing `needle`, with where it is.
fn texts(app: &App, needle: &str) -> Vec<Rectangle> {
    support::view::found_in(sim(app), needle, false)
}

fn shows(app: &App, needle: &str) -> bool {
    !texts(app, needle).is_empty()
}

/// Where the widget with this id is.
fn area(app: &App, id: Id) -> Rectangle {
    sim(app).find(id).expect("widget on screen").bounds()
}

/// Is there a text containing `needle` inside the widget with this id?
fn shows_in(app: &App, id: Id, needle: &str) -> bool {
    let area = area(app, id);
    texts(app, needle)
        .iter()
        .any(|bounds| area.contains(bounds.center()))
}

fn interact(app: &mut App, steps: impl FnOnce(&mut Simulator<'_, Message>)) {
    let _ = support::app::interact_in(TALL, app, steps);
}

/// Clicks the text `label` that lies inside the widget with id `inside`.
fn click_in(app: &mut App, inside: Id, label: &'static str) {
    let area = area(app, inside);
    interact(app, |ui| {
        ui.click(move |candidate: Candidate<'_>| -> Option<Target> {
            match candidate {
                Candidate::Text {
                    content, bounds, ..
                } if content == label && area.contains(bounds.center()) => {
                    Some(Target::from(candidate))
                }
                _ => None,
            }
        })
        .unwrap_or_else(|e| panic!("{label:?} not found: {e}"));
    });
}

fn click(app: &mut App, id: Id) {
    interact(app, |ui| {
        ui.click(id).expect("clickable widget");
    });
}

fn bob() -> Contact {
    Contact {
        jid: jid("bob@example.org"),
        name: Some("Bob".into()),
        subscription: Subscription::Both,
        pending_out: false,
        groups: Vec::new(),
    }
}

fn chat(account: &AccountId, peer: &BareJid, body: &str, ts: i64) -> ChatMessage {
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account.clone(),
        conversation: loquat::ids::ConversationId::Chat(peer.clone()),
        direction: Direction::Incoming,
        sender: String::new(),
        body: body.into(),
        timestamp_ms: ts,
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    }
}

struct Two {
    app: App,
    work: AccountId,
    home: AccountId,
    work_rx: UnboundedReceiver<Command>,
    home_rx: UnboundedReceiver<Command>,
}

fn session(app: &mut App, account: &AccountId, kind: UpdateKind) {
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind,
    }));
}

/// Two online accounts, "Work" and "Home", both with Bob in their roster; Carol wrote
/// to Work, Dave (newer) to Home.
fn two_accounts() -> Two {
    let mut work = Account::new(jid("alice@work.example"));
    work.display_name = Some("Work".into());
    work.position = 0;
    let mut home = Account::new(jid("alice@home.example"));
    home.display_name = Some("Home".into());
    home.position = 1;
    let (work_id, home_id) = (work.id.clone(), home.id.clone());
    let mut loaded_home = LoadedAccount::new(home, Some("pw2".into()));
    loaded_home.contacts = vec![bob()];
    let mut loaded_work = LoadedAccount::new(work, Some("pw1".into()));
    loaded_work.contacts = vec![bob()];
    // Stored out of order on purpose: the app lists accounts by position.
    let mut app = App::from_startup(
        Lang::En,
        Startup {
            accounts: vec![loaded_home, loaded_work],
            ..Startup::default()
        },
    );
    let (work_tx, work_rx) = unbounded_channel();
    let (home_tx, home_rx) = unbounded_channel();
    session(&mut app, &work_id, UpdateKind::Ready(Handle::new(work_tx)));
    session(&mut app, &home_id, UpdateKind::Ready(Handle::new(home_tx)));
    for (id, bound) in [
        (&work_id, "alice@work.example/loquat"),
        (&home_id, "alice@home.example/loquat"),
    ] {
        session(
            &mut app,
            id,
            UpdateKind::Online {
                bound: FullJid::new(bound).expect("full jid"),
                mechanism: "SCRAM-SHA-256".into(),
                resumed: false,
            },
        );
    }
    let now = chrono::Utc::now().timestamp_millis();
    let carol = chat(
        &work_id,
        &jid("carol@example.org"),
        "from carol",
        now - 5_000,
    );
    let dave = chat(&home_id, &jid("dave@example.org"), "from dave", now);
    // Contacts: strangers' chats would be requests, listed apart (issue #18).
    for (account, peer) in [
        (&work_id, "carol@example.org"),
        (&home_id, "dave@example.org"),
    ] {
        session(
            &mut app,
            account,
            UpdateKind::ContactChanged(loquat::model::Contact {
                jid: jid(peer),
                name: None,
                subscription: loquat::model::Subscription::Both,
                pending_out: false,
                groups: Vec::new(),
            }),
        );
    }
    session(&mut app, &work_id, UpdateKind::Message(carol));
    session(&mut app, &home_id, UpdateKind::Message(dave));
    Two {
        app,
        work: work_id,
        home: home_id,
        work_rx,
        home_rx,
    }
}

#[test]
fn the_filter_shows_all_accounts_or_one() {
    let Two {
        mut app,
        work,
        home,
        ..
    } = two_accounts();
    assert!(
        shows(&app, "carol@example.org"),
        "Work's conversation shows"
    );
    assert!(shows(&app, "dave@example.org"), "Home's conversation shows");
    // Merged, newest first: Dave (Home) above Carol (Work).
    let dave = texts(&app, "dave@example.org")[0];
    let carol = texts(&app, "carol@example.org")[0];
    assert!(dave.y < carol.y, "newest activity first across accounts");
    // Unread per account in the filter: one each, two in all.
    assert!(shows_in(&app, filter_id(Some(&work)), "1"));
    assert!(shows_in(&app, filter_id(Some(&home)), "1"));
    assert!(shows_in(&app, filter_id(None), "2"));
    // Each line names its account.
    assert!(shows_in(&app, account_card_id(&work), "Work"));

    click(&mut app, filter_id(Some(&home)));
    assert!(shows(&app, "dave@example.org"));
    assert!(
        !shows(&app, "carol@example.org"),
        "Work's conversation is hidden when only Home shows"
    );
    assert!(!shows(&app, "from carol"));
    assert!(
        sim(&app).find(account_card_id(&work)).is_err(),
        "only Home's card shows"
    );

    click(&mut app, filter_id(None));
    assert!(shows(&app, "carol@example.org"), "All accounts again");
    assert!(shows(&app, "dave@example.org"));
}

#[test]
fn the_composer_says_who_writes_and_the_header_switches_accounts() {
    let Two {
        mut app,
        work,
        home,
        mut work_rx,
        mut home_rx,
    } = two_accounts();
    interact(&mut app, |ui| {
        ui.click("Bob").expect("Bob in the contacts");
    });
    let bob = jid("bob@example.org");
    assert_eq!(app.current_conversation(), Some((&work, &bob)));
    assert!(shows(&app, "as Work"), "the composer says who writes");
    assert!(!shows(&app, "as Home"));

    // Bob is in both rosters: the header offers both accounts. Pick Home.
    click(&mut app, write_as_id(&home));
    assert_eq!(app.current_conversation(), Some((&home, &bob)));
    assert!(shows(&app, "as Home"));
    assert!(!shows(&app, "as Work"));

    interact(&mut app, |ui| {
        ui.click(Id::new(COMPOSER_ID)).expect("composer");
        ui.typewrite("hi from home");
        ui.tap_key(Key::Named(Named::Enter));
    });
    match next_command(&mut home_rx) {
        Ok(Command::SendChat { to, body, .. }) => {
            assert_eq!(to, bob);
            assert_eq!(body, "hi from home");
        }
        other => panic!("expected SendChat on Home, got {other:?}"),
    }
    assert!(
        next_command(&mut work_rx).is_err(),
        "nothing went out from Work"
    );

    // The choice is remembered: open someone else, then Bob again from the contacts.
    interact(&mut app, |ui| {
        ui.click("carol@example.org").expect("Carol's conversation");
    });
    assert_eq!(
        app.current_conversation(),
        Some((&work, &jid("carol@example.org")))
    );
    assert!(shows(&app, "as Work"));
    interact(&mut app, |ui| {
        ui.click("Bob").expect("Bob in the contacts");
    });
    assert_eq!(app.current_conversation(), Some((&home, &bob)));
}

#[test]
fn one_failing_account_shows_its_error_on_its_own_card_only() {
    let Two {
        mut app,
        work,
        home,
        mut work_rx,
        ..
    } = two_accounts();
    session(
        &mut app,
        &home,
        UpdateKind::Failed(SessionError::Auth {
            condition: "not-authorized".into(),
        }),
    );
    let wrong = "Wrong address or password";
    assert!(shows_in(&app, account_card_id(&home), wrong));
    assert!(shows_in(&app, account_card_id(&home), "Fix"));
    assert!(!shows_in(&app, account_card_id(&work), wrong));
    assert!(shows_in(&app, account_card_id(&work), "Connected"));
    assert!(!shows_in(&app, account_card_id(&home), "Connected"));
    assert_eq!(texts(&app, wrong).len(), 1, "said once, on Home's card");

    // Work still sends.
    interact(&mut app, |ui| {
        ui.click("carol@example.org").expect("Carol's conversation");
    });
    interact(&mut app, |ui| {
        ui.click(Id::new(COMPOSER_ID)).expect("composer");
        ui.typewrite("still here");
        ui.tap_key(Key::Named(Named::Enter));
    });
    assert!(matches!(
        next_command(&mut work_rx),
        Ok(Command::SendChat { .. })
    ));

    // The account list says the same; "Fix" opens Home's editor with the hint.
    interact(&mut app, |ui| {
        ui.click("Accounts")
            .expect("the way to the account settings");
    });
    assert!(app.is_accounts_screen());
    assert!(shows_in(&app, settings::card_id(&home), wrong));
    assert!(shows_in(&app, settings::card_id(&work), "Connected"));
    assert!(!shows_in(&app, settings::card_id(&work), wrong));
    click_in(&mut app, settings::card_id(&home), "Fix");
    assert!(shows_in(
        &app,
        settings::card_id(&home),
        "The server refused the password"
    ));
}

#[test]
fn renaming_keeps_the_session_and_a_new_password_reconnects() {
    let Two {
        mut app,
        home,
        mut home_rx,
        ..
    } = two_accounts();
    let generation = |app: &App| app.account_state(&home).map(|s| s.generation);
    let before = generation(&app);
    interact(&mut app, |ui| {
        ui.click("Accounts").expect("account settings");
    });

    // Name and colour: no reconnect.
    click_in(&mut app, settings::card_id(&home), "Edit");
    interact(&mut app, |ui| {
        ui.click(Id::new(edit::NAME_ID)).expect("name field");
        ui.typewrite(" office");
    });
    click_in(&mut app, settings::card_id(&home), "Save");
    assert_eq!(generation(&app), before, "renaming does not reconnect");
    assert!(shows_in(&app, settings::card_id(&home), "Home office"));
    assert!(app.account_state(&home).is_some_and(|s| s.is_online()));

    // A new password: a fresh session with it.
    click_in(&mut app, settings::card_id(&home), "Edit");
    interact(&mut app, |ui| {
        ui.click(Id::new(edit::PASSWORD_ID))
            .expect("password field");
        ui.typewrite("new-secret");
    });
    click_in(&mut app, settings::card_id(&home), "Save");
    let state = app.account_state(&home).expect("home");
    assert_ne!(Some(state.generation), before, "a new password reconnects");
    assert_eq!(state.password.as_deref(), Some("new-secret"));
    assert!(
        next_command(&mut home_rx).is_err(),
        "the old session gets nothing more"
    );

    // The fresh session reports in with its own handle.
    let (tx, mut home_rx) = unbounded_channel();
    session(&mut app, &home, UpdateKind::Ready(Handle::new(tx)));

    // Disabling ends the session; enabling starts a fresh one.
    click_in(&mut app, settings::card_id(&home), "Disable");
    let state = app.account_state(&home).expect("home");
    assert!(
        !state.wants_session(),
        "no subscription for a disabled account"
    );
    assert!(shows_in(&app, settings::card_id(&home), "Disabled"));
    assert!(matches!(
        next_command(&mut home_rx),
        Ok(Command::Disconnect)
    ));
    let disabled_at = state.generation;
    click_in(&mut app, settings::card_id(&home), "Enable");
    let state = app.account_state(&home).expect("home");
    assert!(state.wants_session());
    assert_ne!(state.generation, disabled_at);
}

#[test]
fn presence_for_all_goes_to_every_connected_account() {
    let Two {
        mut app,
        mut work_rx,
        mut home_rx,
        ..
    } = two_accounts();
    let _ = app.update(Message::Sidebar(sidebar::Message::ShowPickedForAll(
        ShowChoice {
            show: Show::Away,
            lang: Lang::En,
        },
    )));
    for rx in [&mut work_rx, &mut home_rx] {
        match next_command(rx) {
            Ok(Command::SetPresence { show, .. }) => assert_eq!(show, Show::Away),
            other => panic!("expected SetPresence, got {other:?}"),
        }
    }
}

#[test]
fn removing_asks_about_history_and_stops_the_session_first() {
    let Two {
        mut app,
        work,
        home,
        mut home_rx,
        ..
    } = two_accounts();
    interact(&mut app, |ui| {
        ui.click("Accounts").expect("account settings");
    });
    click_in(&mut app, settings::card_id(&home), "Remove");
    assert!(shows_in(
        &app,
        settings::card_id(&home),
        "Also delete its message history"
    ));
    click_in(&mut app, settings::card_id(&home), "Remove");
    assert!(shows_in(&app, settings::card_id(&home), "Removing"));
    assert!(matches!(
        next_command(&mut home_rx),
        Ok(Command::Disconnect)
    ));
    assert!(app.account_state(&home).is_some_and(|s| !s.wants_session()));

    // The removal worked (the task itself is not run here): Home leaves the app.
    let _ = app.update(Message::AccountRemoved {
        account: home.clone(),
        was_enabled: true,
        result: Ok(()),
    });
    assert!(app.account_state(&home).is_none());
    assert!(app.account_state(&work).is_some());
    assert!(sim(&app).find(settings::card_id(&home)).is_err());
}

/// The running app keeps its widget tree between frames (the simulator above builds a
/// fresh one each time). Switching the conversation, or the account it is written
/// from, must not reuse message-list state of another kind of row.
#[test]
fn switching_conversations_reuses_the_widget_tree_safely() {
    use iced_test::core::renderer::Headless;
    use iced_test::runtime::user_interface::{Cache, UserInterface};

    let Two { mut app, home, .. } = two_accounts();
    let mut renderer = iced_test::futures::futures::executor::block_on(
        <iced_test::renderer::Renderer as Headless>::new(
            iced::Font::with_name("Fira Sans"),
            iced::Pixels(16.0),
            std::env::var("ICED_TEST_BACKEND").ok().as_deref(),
        ),
    )
    .expect("headless renderer");
    let size = iced::Size::new(1100.0, 720.0);
    let mut cache = Cache::default();
    let mut frame = |app: &App, cache: Cache| {
        UserInterface::build(app.view(), size, cache, &mut renderer).into_cache()
    };
    cache = frame(&app, cache);
    // Carol's conversation (a day separator and a message) ...
    interact(&mut app, |ui| {
        ui.click("carol@example.org").expect("Carol");
    });
    cache = frame(&app, cache);
    // ... then Bob's (still loading: one "loading" row) ...
    interact(&mut app, |ui| {
        ui.click("Bob").expect("Bob");
    });
    cache = frame(&app, cache);
    // ... then Bob from Home, and a message arrives there.
    click(&mut app, write_as_id(&home));
    cache = frame(&app, cache);
    let now = chrono::Utc::now().timestamp_millis();
    session(
        &mut app,
        &home,
        UpdateKind::Message(chat(&home, &jid("bob@example.org"), "hello", now)),
    );
    cache = frame(&app, cache);
    interact(&mut app, |ui| {
        ui.click("carol@example.org").expect("Carol");
    });
    let _ = frame(&app, cache);
}

/// An account stuck on "only PLAIN offered": its card offers "Fix", the editor says
/// what to tick, and ticking "Allow sending the password in plain form" and saving
/// writes the account's preference (which the session reads when it connects) and
/// starts a fresh session; unticking removes it again.
#[test]
fn allowing_plain_login_in_the_editor_persists_into_the_account_setting() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let _guard = rt.enter();
    let store = loquat::store::Store::open_temporary().expect("store");
    let mut account = Account::new(jid("alice@plain.example"));
    account.display_name = Some("Plain".into());
    let id = account.id.clone();
    store.save_account(&account).expect("save account");
    let mut app = App::from_startup(
        Lang::En,
        Startup {
            store: Some(store.clone()),
            accounts: vec![LoadedAccount::new(account, Some("pw".into()))],
            ..Startup::default()
        },
    );
    let pref = loquat::session::connect::allow_plain_pref(&id);
    session(
        &mut app,
        &id,
        UpdateKind::Failed(loquat::session::insecure::Insecure::PlainOnly.error()),
    );
    interact(&mut app, |ui| {
        ui.click("Accounts").expect("account settings");
    });
    assert!(shows_in(
        &app,
        settings::card_id(&id),
        "Settings > Accounts > Edit"
    ));
    let before = app.account_state(&id).map(|s| s.generation);
    click_in(&mut app, settings::card_id(&id), "Fix");
    assert!(shows_in(
        &app,
        settings::card_id(&id),
        "tick \"Allow sending the password in plain form\""
    ));
    let label = "Allow sending the password in plain form (PLAIN) over TLS when the server offers nothing better";
    click_in(&mut app, settings::card_id(&id), label);
    let card = area(&app, settings::card_id(&id));
    let messages: Vec<Message> = {
        let mut ui = sim(&app);
        ui.click(move |candidate: Candidate<'_>| -> Option<Target> {
            match candidate {
                Candidate::Text {
                    content, bounds, ..
                } if content == "Save" && card.contains(bounds.center()) => {
                    Some(Target::from(candidate))
                }
                _ => None,
            }
        })
        .expect("Save");
        ui.into_messages().collect()
    };
    for message in messages {
        let task = app.update(message);
        support::view::run_tasks(&rt, &mut app, task);
    }
    assert_eq!(store.pref(&pref).expect("read").as_deref(), Some("true"));
    let state = app.account_state(&id).expect("account");
    assert!(state.allow_plain);
    assert_ne!(
        Some(state.generation),
        before,
        "a fresh session tries again"
    );

    // Off again: the preference goes away.
    click_in(&mut app, settings::card_id(&id), "Edit");
    click_in(&mut app, settings::card_id(&id), label);
    let card = area(&app, settings::card_id(&id));
    let messages: Vec<Message> = {
        let mut ui = sim(&app);
        ui.click(move |candidate: Candidate<'_>| -> Option<Target> {
            match candidate {
                Candidate::Text {
                    content, bounds, ..
                } if content == "Save" && card.contains(bounds.center()) => {
                    Some(Target::from(candidate))
                }
                _ => None,
            }
        })
        .expect("Save");
        ui.into_messages().collect()
    };
    for message in messages {
        let task = app.update(message);
        support::view::run_tasks(&rt, &mut app, task);
    }
    assert_eq!(store.pref(&pref).expect("read"), None);
    assert!(app.account_state(&id).is_some_and(|s| !s.allow_plain));
}
