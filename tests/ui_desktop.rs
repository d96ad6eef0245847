//! Headless UI tests of the desktop side: the quick switcher, keyboard shortcuts,
//! Settings > General (language and theme switch live), and drafts and the open
//! conversation surviving a restart.
//!
//! Run with `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_desktop`.
//! Screenshots: `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_desktop -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;
use support::app::{click, interact, shows, shows_in, sim};
use support::view::run_tasks as run;

use support::session::jid;

use iced::Task;
use iced::Theme;
use iced::keyboard::{Key, key::Named};
use iced::widget::Id;
use loquat::config::{LanguageChoice, Settings as AppSettings, ThemeChoice, WindowState};
use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Contact, Delivery, Direction, Subscription};
use loquat::session::{Handle, Update, UpdateKind};
use loquat::store::Store;
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::chat::COMPOSER_ID;
use loquat::ui::desktop::restore::{self, Message as DeskMessage};
use loquat::ui::desktop::shortcuts::Action;
use loquat::ui::desktop::switcher::{INPUT_ID, PANEL_ID};
use loquat::ui::i18n::Lang;
use loquat::ui::{App, Message};
use xmpp_parsers::jid::BareJid;

fn shortcut(app: &mut App, action: Action) -> Task<Message> {
    app.update(Message::Desk(DeskMessage::Shortcut(action)))
}

fn contact(jid_: &str, name: &str) -> Contact {
    Contact {
        jid: jid(jid_),
        name: Some(name.into()),
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
}

/// The start-up of "Work" (Bob in its roster) and "Home" (Erin), with fixed ids so a
/// second run finds the first run's state.
fn startup(store: Option<Store>) -> Startup {
    let mut work = Account::new(jid("alice@work.example"));
    work.id = AccountId("work".into());
    work.display_name = Some("Work".into());
    work.position = 0;
    let mut home = Account::new(jid("alice@home.example"));
    home.id = AccountId("home".into());
    home.display_name = Some("Home".into());
    home.position = 1;
    let mut loaded_work = LoadedAccount::new(work, Some("pw1".into()));
    loaded_work.contacts = vec![contact("bob@example.org", "Bob")];
    let mut loaded_home = LoadedAccount::new(home, Some("pw2".into()));
    loaded_home.contacts = vec![
        contact("erin@example.org", "Erin 李"),
        contact("bob@example.org", "Bob"),
    ];
    let desk = Box::new(store.as_ref().map(restore::load).unwrap_or_default());
    Startup {
        accounts: vec![loaded_work, loaded_home],
        store,
        desk,
        ..Startup::default()
    }
}

/// "Work" and "Home": Carol wrote to Work, Dave (newer) to Home; Bob and Erin are
/// contacts without a conversation.
fn two_accounts(lang: Lang, store: Option<Store>) -> Two {
    let mut app = App::from_startup(lang, startup(store));
    let (work_id, home_id) = (AccountId("work".into()), AccountId("home".into()));
    let now = chrono::Utc::now().timestamp_millis();
    for (account, peer, body, ts) in [
        (&work_id, "carol@example.org", "from carol", now - 5_000),
        (&home_id, "dave@example.org", "from dave", now),
    ] {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let _ = app.update(Message::Session(Update {
            account: account.clone(),
            kind: UpdateKind::Ready(Handle::new(tx)),
        }));
        let _ = app.update(Message::Session(Update {
            account: account.clone(),
            kind: UpdateKind::Message(chat(account, &jid(peer), body, ts)),
        }));
    }
    Two {
        app,
        work: work_id,
        home: home_id,
    }
}

#[test]
fn the_switcher_filters_and_opens_a_conversation() {
    let Two { mut app, work, .. } = two_accounts(Lang::En, None);
    assert!(!app.is_switcher_open());
    let _ = shortcut(&mut app, Action::Switcher);
    assert!(app.is_switcher_open(), "Ctrl+K opens the switcher");
    // Conversations and contacts of both accounts are listed.
    for name in ["carol@example.org", "dave@example.org", "Bob", "Erin 李"] {
        assert!(shows_in(&app, PANEL_ID, name), "{name} is listed");
    }

    interact(&mut app, |ui| {
        ui.click(Id::new(INPUT_ID)).expect("switcher field");
        ui.typewrite("CAR");
    });
    assert!(shows_in(&app, PANEL_ID, "carol@example.org"));
    assert!(
        !shows_in(&app, PANEL_ID, "dave@example.org"),
        "typing filters (case does not matter)"
    );
    assert!(!shows_in(&app, PANEL_ID, "Bob"));

    interact(&mut app, |ui| {
        ui.click(Id::new(INPUT_ID)).expect("switcher field");
        ui.tap_key(Key::Named(Named::Enter));
    });
    assert!(!app.is_switcher_open(), "Enter closes the switcher");
    let open = app
        .current_conversation()
        .map(|(a, p)| (a.clone(), p.clone()));
    assert_eq!(open, Some((work.clone(), jid("carol@example.org"))));

    // Nothing matches: a word says so, Enter does nothing, Esc closes.
    let _ = shortcut(&mut app, Action::Switcher);
    interact(&mut app, |ui| {
        ui.click(Id::new(INPUT_ID)).expect("switcher field");
        ui.typewrite("zzz");
        ui.tap_key(Key::Named(Named::Enter));
    });
    assert!(app.is_switcher_open());
    assert!(shows_in(&app, PANEL_ID, "Nothing matches."));
    let _ = shortcut(&mut app, Action::Escape);
    assert!(!app.is_switcher_open(), "Esc closes the switcher");

    // A contact without a conversation opens too; Down picks the second line.
    let _ = shortcut(&mut app, Action::Switcher);
    interact(&mut app, |ui| {
        ui.click(Id::new(INPUT_ID)).expect("switcher field");
        ui.typewrite("example.org");
    });
    let _ = shortcut(&mut app, Action::Down);
    let _ = shortcut(&mut app, Action::Down);
    let _ = shortcut(&mut app, Action::Up);
    interact(&mut app, |ui| {
        ui.click(Id::new(INPUT_ID)).expect("switcher field");
        ui.tap_key(Key::Named(Named::Enter));
    });
    // Order: Dave (newest), Carol, then contacts Bob, Erin. Down, Down, Up = Carol.
    let open = app.current_conversation().map(|(_, p)| p.clone());
    assert_eq!(open, Some(jid("carol@example.org")));
}

#[test]
fn alt_arrows_move_through_the_sidebar_and_ctrl_w_closes() {
    let Two {
        mut app,
        work,
        home,
    } = two_accounts(Lang::En, None);
    let open = |app: &App| {
        app.current_conversation()
            .map(|(a, p)| (a.clone(), p.clone()))
    };
    assert_eq!(open(&app), None);
    // Carol and Dave become contacts: a stranger's unread chat is a request and does
    // not count in the title (issue #18).
    for (account, peer) in [(&work, "carol@example.org"), (&home, "dave@example.org")] {
        let _ = app.update(Message::Session(loquat::session::Update {
            account: account.clone(),
            kind: loquat::session::UpdateKind::ContactChanged(loquat::model::Contact {
                jid: jid(peer),
                name: None,
                subscription: loquat::model::Subscription::Both,
                pending_out: false,
                groups: Vec::new(),
            }),
        }));
    }
    assert_eq!(
        app.title(),
        "(2) Loquat",
        "the unread count is in the title"
    );
    let _ = shortcut(&mut app, Action::Next);
    assert_eq!(
        open(&app),
        Some((home.clone(), jid("dave@example.org"))),
        "Alt+Down with nothing open: the first (newest) conversation"
    );
    assert!(shows(&app, "from dave"), "its messages show");
    let _ = shortcut(&mut app, Action::Next);
    assert_eq!(open(&app), Some((work.clone(), jid("carol@example.org"))));
    assert_eq!(app.title(), "Loquat", "both read now");
    let _ = shortcut(&mut app, Action::Next);
    assert_eq!(
        open(&app),
        Some((work.clone(), jid("carol@example.org"))),
        "stops at the end"
    );
    let _ = shortcut(&mut app, Action::Previous);
    assert_eq!(open(&app), Some((home.clone(), jid("dave@example.org"))));

    let _ = shortcut(&mut app, Action::CloseConversation);
    assert_eq!(open(&app), None, "Ctrl+W closes the conversation");
    assert!(shows(&app, "Pick a contact or a conversation"));
}

/// Chinese typed through an input method: the composer takes the committed text, and
/// the text being composed (preedit) is not part of the message yet.
#[test]
fn the_composer_accepts_input_method_text() {
    use iced_runtime::core::input_method;
    let Two { mut app, .. } = two_accounts(Lang::ZhCn, None);
    click(&mut app, "carol@example.org");
    interact(&mut app, |ui| {
        ui.click(Id::new(COMPOSER_ID)).expect("composer");
        let _ = ui.simulate([
            iced::Event::InputMethod(input_method::Event::Opened),
            iced::Event::InputMethod(input_method::Event::Preedit("nihao".into(), Some(5..5))),
        ]);
    });
    assert_eq!(app.composer_text().as_deref().map(str::trim_end), Some(""));
    interact(&mut app, |ui| {
        ui.click(Id::new(COMPOSER_ID)).expect("composer");
        let _ = ui.simulate([
            iced::Event::InputMethod(input_method::Event::Commit("你好".into())),
            iced::Event::InputMethod(input_method::Event::Commit("，明天见".into())),
        ]);
    });
    assert_eq!(
        app.composer_text().as_deref().map(str::trim_end),
        Some("你好，明天见")
    );
}

#[test]
fn help_opens_with_f1_and_esc_closes_it() {
    let Two { mut app, .. } = two_accounts(Lang::ZhCn, None);
    let _ = shortcut(&mut app, Action::Help);
    assert!(app.is_help_open());
    assert!(shows(&app, "键盘快捷键"));
    assert!(shows(&app, "Ctrl+K"));
    assert!(shows(&app, "快速切换会话"));
    let _ = shortcut(&mut app, Action::Escape);
    assert!(!app.is_help_open());
    assert!(!shows(&app, "键盘快捷键"));
    // The close button works too.
    let _ = shortcut(&mut app, Action::Help);
    click(&mut app, "关闭");
    assert!(!app.is_help_open());
}

#[test]
fn settings_switch_language_and_theme_live_and_save_them() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = Store::open_temporary().expect("store");
    let Two { mut app, .. } = two_accounts(Lang::En, Some(store.clone()));
    assert_eq!(app.theme(), None, "by default the theme follows the system");
    click(&mut app, "Accounts");
    click(&mut app, "General settings");
    assert!(app.is_general_screen());
    assert!(shows(&app, "Appearance"));

    interact(&mut app, |ui| {
        ui.click("Dark").expect("Dark");
    });
    assert_eq!(app.theme(), Some(Theme::Dark), "the theme switches at once");
    click(&mut app, "Light");
    assert_eq!(app.theme(), Some(Theme::Light));

    // Switching the language saves the settings (the task is run as the runtime would).
    let messages: Vec<Message> = {
        let mut ui = sim(&app);
        ui.click("简体中文 (Simplified Chinese)").expect("Chinese");
        ui.into_messages().collect()
    };
    for message in messages {
        let task = app.update(message);
        run(&rt, &mut app, task);
    }
    assert_eq!(app.lang(), Lang::ZhCn);
    assert!(shows(&app, "外观"), "the page is in Chinese at once");
    assert!(!shows(&app, "Appearance"));
    let saved = AppSettings::load(&store).expect("settings");
    assert_eq!(saved.language, LanguageChoice::ChineseSimplified);
    assert_eq!(saved.theme, ThemeChoice::Light);

    // Back to English, and the theme back to following the system (the first
    // "Follow the system" on the page is the theme's).
    click(&mut app, "English（英语）");
    assert_eq!(app.lang(), Lang::En);
    assert!(shows(&app, "Appearance"));
    click(&mut app, "Follow the system");
    assert_eq!(app.theme(), None);
    assert_eq!(app.settings().language, LanguageChoice::English);

    // Esc leaves the page.
    let _ = shortcut(&mut app, Action::Escape);
    assert!(app.is_main_screen());

    // On Settings > Accounts, Esc first closes the account editor, then the page.
    click(&mut app, "Accounts");
    click(&mut app, "Edit");
    assert!(shows(&app, "Display name"));
    let _ = shortcut(&mut app, Action::Escape);
    assert!(app.is_accounts_screen());
    assert!(!shows(&app, "Display name"));
    let _ = shortcut(&mut app, Action::Escape);
    assert!(app.is_main_screen());
}

#[test]
fn notification_and_download_settings_apply() {
    let Two { mut app, .. } = two_accounts(Lang::En, None);
    click(&mut app, "Accounts");
    click(&mut app, "General settings");
    assert_eq!(app.settings().auto_image_max, 10 * 1024 * 1024);
    interact(&mut app, |ui| {
        ui.click(Id::new(loquat::ui::screen::settings::general::IMAGE_MAX_ID))
            .expect("image max");
        ui.tap_key(Key::Named(Named::Backspace));
        ui.tap_key(Key::Named(Named::Backspace));
        ui.typewrite("25");
    });
    assert_eq!(app.settings().auto_image_max, 25 * 1024 * 1024);
    interact(&mut app, |ui| {
        ui.click(Id::new(loquat::ui::screen::settings::general::IMAGE_MAX_ID))
            .expect("image max");
        ui.typewrite("x");
    });
    assert!(shows(&app, "Enter a whole number."));
    assert_eq!(app.settings().auto_image_max, 25 * 1024 * 1024, "kept");

    interact(&mut app, |ui| {
        ui.click(Id::new(loquat::ui::screen::settings::general::MUTE_ID))
            .expect("mute field");
        ui.typewrite("carol@example.org");
        ui.tap_key(Key::Named(Named::Enter));
    });
    assert!(app.settings().muted.contains(&jid("carol@example.org")));
    assert!(!app.settings().notifies(&jid("carol@example.org")));
    click(&mut app, "Unmute");
    assert!(app.settings().muted.is_empty());

    click(&mut app, "Show a notification for new messages");
    assert!(!app.settings().notifications);
    click(&mut app, "Start minimised");
    assert!(app.settings().start_minimised);
    assert!(!app.settings().close_to_tray);
}

#[test]
fn drafts_and_the_open_conversation_survive_a_restart() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = Store::open_temporary().expect("store");
    let Two { mut app, work, .. } = two_accounts(Lang::En, Some(store.clone()));
    click(&mut app, "carol@example.org");
    interact(&mut app, |ui| {
        ui.click(Id::new(COMPOSER_ID)).expect("composer");
        ui.typewrite("明天见, half-written");
    });
    let _ = app.update(Message::Desk(DeskMessage::Resized(iced::Size::new(
        900.0, 650.0,
    ))));
    // Switching away keeps the draft; coming back restores it.
    let _ = shortcut(&mut app, Action::Previous);
    assert_eq!(
        app.current_conversation().map(|(_, p)| p.clone()),
        Some(jid("dave@example.org"))
    );
    assert_eq!(app.composer_text().as_deref(), Some(""));
    let _ = shortcut(&mut app, Action::Next);
    assert_eq!(
        app.composer_text().as_deref().map(str::trim_end),
        Some("明天见, half-written")
    );
    // The debounce timer fires: window state and drafts are written.
    let task = app.update(Message::Desk(DeskMessage::Flush));
    run(&rt, &mut app, task);
    let window = WindowState::load(&store).expect("window state");
    assert_eq!((window.width, window.height), (900.0, 650.0));
    drop(app);

    // A new App booting from the same store: Carol's conversation opens again with
    // the draft in the composer.
    let mut again = App::from_startup(Lang::En, Startup::default());
    let _ = again.update(Message::Started(startup(Some(store.clone()))));
    assert_eq!(
        again.draft(&work, &jid("carol@example.org")),
        Some("明天见, half-written")
    );
    let open = again
        .current_conversation()
        .map(|(a, p)| (a.clone(), p.clone()));
    assert_eq!(open, Some((work, jid("carol@example.org"))));
    assert_eq!(
        again.composer_text().as_deref().map(str::trim_end),
        Some("明天见, half-written")
    );
}

#[test]
fn a_draft_moves_with_write_as_instead_of_staying_behind() {
    let Two {
        mut app,
        work,
        home,
    } = two_accounts(Lang::En, None);
    let bob = jid("bob@example.org");
    let _ = shortcut(&mut app, Action::Switcher);
    interact(&mut app, |ui| {
        ui.click(Id::new(INPUT_ID)).expect("switcher field");
        ui.typewrite("bob");
        ui.tap_key(Key::Named(Named::Enter));
    });
    let open = |app: &App| {
        app.current_conversation()
            .map(|(a, p)| (a.clone(), p.clone()))
    };
    assert_eq!(open(&app), Some((work.clone(), bob.clone())));
    interact(&mut app, |ui| {
        ui.click(Id::new(COMPOSER_ID)).expect("composer");
        ui.typewrite("moving draft");
    });
    interact(&mut app, |ui| {
        ui.click(loquat::ui::chat::write_as_id(&home))
            .expect("write as Home");
    });
    assert_eq!(open(&app), Some((home.clone(), bob.clone())));
    let _ = app.update(Message::Desk(DeskMessage::Flush));
    assert_eq!(app.draft(&home, &bob), Some("moving draft"));
    assert_eq!(app.draft(&work, &bob), None, "no copy left behind");
}

/// Renders Settings > General, the switcher and the help in English and Chinese, light
/// and dark, for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_desktop_screens_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let shoot = |app: &App, name: &str, theme: Theme| {
        let mut ui = sim(app);
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        let path = dir.join(name);
        let _ = std::fs::remove_file(path.with_file_name(format!("{name}-tiny-skia.png")));
        assert!(snapshot.matches_image(&path).expect("write png"));
    };
    for (lang, tag) in [(Lang::En, "en"), (Lang::ZhCn, "zh")] {
        let Two { mut app, .. } = two_accounts(lang, None);
        let _ = app.update(Message::Desk(DeskMessage::Shortcut(Action::Next)));
        let _ = shortcut(&mut app, Action::Switcher);
        interact(&mut app, |ui| {
            ui.click(Id::new(INPUT_ID)).expect("switcher field");
            ui.typewrite("e");
        });
        shoot(&app, &format!("switcher-{tag}-light"), Theme::Light);
        shoot(&app, &format!("switcher-{tag}-dark"), Theme::Dark);
        let _ = shortcut(&mut app, Action::Escape);
        let _ = shortcut(&mut app, Action::Help);
        shoot(&app, &format!("help-{tag}-light"), Theme::Light);
        let _ = shortcut(&mut app, Action::Escape);
        let accounts = if lang == Lang::En {
            "Accounts"
        } else {
            "帐号管理"
        };
        let general = if lang == Lang::En {
            "General settings"
        } else {
            "常规设置"
        };
        click(&mut app, accounts);
        click(&mut app, general);
        shoot(&app, &format!("settings-{tag}-light"), Theme::Light);
        shoot(&app, &format!("settings-{tag}-dark"), Theme::Dark);
    }
}

/// An `xmpp:` link (from the command line or a second launch) opens the chat with the
/// contact's account and puts the link's text in the composer; a contact link opens the
/// add-contact form; a bad link says why in the user's language.
#[test]
fn xmpp_links_open_the_chat_the_form_or_say_why_not() {
    let Two { mut app, home, .. } = two_accounts(Lang::En, None);
    let _ = app.open_uri("xmpp:erin@example.org?message;body=Hello%20%E4%BD%A0%E5%A5%BD");
    let (account, peer) = app.current_conversation().expect("a chat opened");
    assert_eq!((account, peer), (&home, &jid("erin@example.org")));
    assert_eq!(
        app.composer_text().as_deref().map(str::trim_end),
        Some("Hello 你好"),
        "the link's text is the draft"
    );

    let _ = app.open_uri("xmpp:frank@example.org?roster;name=Frank%20F");
    assert_eq!(
        app.adding_contact(),
        Some(("frank@example.org", "Frank F")),
        "the add-contact form is filled in"
    );

    let _ = app.open_uri("xmpp:balcony@rooms.example.org?join;password=s%3Bcret");
    assert_eq!(
        app.joining_room(),
        Some(("balcony@rooms.example.org", "s;cret")),
        "the join dialog is filled in"
    );

    let _ = app.open_uri("xmpp:a@b?exec;cmd=rm");
    assert!(shows(&app, "does not do (exec)"));

    let Two { mut app, .. } = two_accounts(Lang::ZhCn, None);
    let _ = app.open_uri("xmpp:");
    assert!(shows(&app, "没有有效的地址"));
}

/// The conversation header mutes and unmutes that conversation's notifications.
#[test]
fn the_conversation_header_mutes_and_unmutes() {
    let Two { mut app, home, .. } = two_accounts(Lang::En, None);
    let _ = app.open_uri("xmpp:dave@example.org");
    assert_eq!(
        app.current_conversation(),
        Some((&home, &jid("dave@example.org")))
    );
    assert!(app.settings().notifies(&jid("dave@example.org")));
    click(&mut app, "Mute");
    assert!(!app.settings().notifies(&jid("dave@example.org")));
    assert!(shows(&app, "Unmute"), "the header says how to undo it");
    click(&mut app, "Unmute");
    assert!(app.settings().notifies(&jid("dave@example.org")));
}

/// A focused text field stops blinking (and asking for frames) ten seconds after the
/// last key or click, shows its caret steadily, and blinks again at the next key: an
/// open window that nobody touches draws nothing (issue #21, "idle is idle").
#[test]
fn the_caret_stops_blinking_when_nobody_types() {
    use iced::widget::text_input;
    use iced::{Event, Point, keyboard, mouse, window};
    use iced_runtime::core::renderer::Headless;
    use iced_runtime::user_interface::{Cache, State, UserInterface};
    use loquat::ui::widgets::calm::{QUIET_AFTER, calm};
    use std::time::{Duration, Instant};

    let mut renderer = futures::executor::block_on(<iced::Renderer as Headless>::new(
        iced::Font::DEFAULT,
        iced::Pixels(16.0),
        Some("tiny-skia"),
    ))
    .expect("tiny-skia");
    let size = iced::Size::new(400.0, 100.0);
    let inside = Point::new(50.0, 15.0);
    let mut cache = Cache::default();
    // One frame's events through the view; the redraw it asks for.
    let mut frame = |events: &[Event]| -> window::RedrawRequest {
        let view = calm(text_input("Type here", "").on_input(|s| s).into());
        let mut ui: UserInterface<'_, String, iced::Theme, iced::Renderer> =
            UserInterface::build(view, size, std::mem::take(&mut cache), &mut renderer);
        let (state, _) = ui.update(
            events,
            mouse::Cursor::Available(inside),
            &mut renderer,
            &mut iced_runtime::core::clipboard::Null,
            &mut Vec::new(),
        );
        cache = ui.into_cache();
        match state {
            State::Updated { redraw_request, .. } => redraw_request,
            State::Outdated => window::RedrawRequest::NextFrame,
        }
    };
    let redraw = |at: Instant| Event::Window(window::Event::RedrawRequested(at));
    let blinks = |r: window::RedrawRequest| matches!(r, window::RedrawRequest::At(_));

    // Clicked into: the caret blinks (a frame is asked for at the next half second).
    frame(&[
        Event::Window(window::Event::Focused),
        Event::Mouse(mouse::Event::ButtonPressed(mouse::Button::Left)),
        Event::Mouse(mouse::Event::ButtonReleased(mouse::Button::Left)),
    ]);
    let clicked = Instant::now();
    assert!(blinks(frame(&[redraw(
        clicked + Duration::from_millis(100)
    )])));
    assert!(blinks(frame(&[redraw(clicked + QUIET_AFTER / 2)])));
    // Nobody typed for the quiet time: no more frames are asked for. (Far ahead: the
    // idle clock is the process's, and other tests running beside this one click too.)
    let idle = Instant::now() + QUIET_AFTER * 100;
    assert_eq!(frame(&[redraw(idle)]), window::RedrawRequest::Wait);
    assert_eq!(
        frame(&[redraw(idle + Duration::from_secs(60))]),
        window::RedrawRequest::Wait
    );
    // A key: blinking again.
    let key = Event::Keyboard(keyboard::Event::KeyPressed {
        key: keyboard::Key::Character("a".into()),
        modified_key: keyboard::Key::Character("a".into()),
        physical_key: keyboard::key::Physical::Unidentified(
            keyboard::key::NativeCode::Unidentified,
        ),
        location: keyboard::Location::Standard,
        modifiers: keyboard::Modifiers::default(),
        text: Some("a".into()),
        repeat: false,
    });
    frame(&[key]);
    assert!(blinks(frame(&[redraw(
        Instant::now() + Duration::from_millis(100)
    )])));
}
