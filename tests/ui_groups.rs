//! Headless UI tests of contact groups in the contact list: sections per roster group,
//! collapsible, "Ungrouped" last; renaming a group and changing a contact's groups send
//! the roster commands. And a contact's profile panel (vCard, clients, actions). In
//! English and Chinese.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_groups`
//! Screenshots: `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_groups -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]

mod support;
use support::app::{click, count, interact, shows, sim};
use support::session::jid;
use support::view::Where;
use support::view::run_tasks as run;

use iced::widget::Id;
use loquat::ids::AccountId;
use loquat::model::{Account, Contact, Subscription};
use loquat::session::{Command, Handle, Update, UpdateKind};
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::i18n::Lang;
use loquat::ui::screen::sidebar::groups::{GROUPS_ID, RENAME_ID};
use loquat::ui::{App, Message};
use tokio::sync::mpsc::UnboundedReceiver;
use xmpp_parsers::jid::FullJid;

fn account() -> Account {
    let mut account = Account::new(jid("alice@example.org"));
    account.id = AccountId("acc".into());
    account
}

fn contact(address: &str, name: &str, groups: &[&str]) -> Contact {
    Contact {
        jid: jid(address),
        name: Some(name.into()),
        subscription: Subscription::Both,
        pending_out: false,
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    }
}

fn start(rt: &tokio::runtime::Runtime, lang: Lang) -> (App, UnboundedReceiver<Command>) {
    let mut app = App::from_startup(lang, Startup::default());
    let task = app.update(Message::Started(Startup {
        accounts: vec![LoadedAccount::new(account(), Some("pw".into()))],
        ..Startup::default()
    }));
    run(rt, &mut app, task);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    for kind in [
        UpdateKind::Ready(Handle::new(tx)),
        UpdateKind::Online {
            bound: FullJid::new("alice@example.org/desk").unwrap(),
            mechanism: "SCRAM-SHA-256".into(),
            resumed: false,
        },
        UpdateKind::Roster(vec![
            contact("bob@example.org", "Bob", &["Work", "Friends"]),
            contact("carol@example.org", "Carol", &["Work"]),
            contact("dave@example.org", "Dave", &[]),
        ]),
    ] {
        let _ = app.update(Message::Session(Update {
            account: account().id,
            kind,
        }));
    }
    (app, rx)
}

fn commands(rx: &mut UnboundedReceiver<Command>) -> Vec<Command> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

#[test]
fn groups_are_collapsible_sections_with_ungrouped_last() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, ungrouped, rename, save) in [
        (Lang::En, "Ungrouped (1)", "Rename", "Save"),
        (Lang::ZhCn, "未分组 (1)", "重命名", "保存"),
    ] {
        let (mut app, mut rx) = start(&rt, lang);
        assert!(shows(&app, "▾ Work (2)"), "{lang:?}");
        assert!(shows(&app, "▾ Friends (1)"), "{lang:?}");
        assert!(shows(&app, &format!("▾ {ungrouped}")), "{lang:?}");
        // Bob is in two groups: two lines.
        assert_eq!(count(&app, "Bob"), 2);
        // Sections in order: Friends, Work, then Ungrouped.
        let y = |needle: &str| support::app::texts(&app, needle)[0].y;
        assert!(y("Friends (1)") < y("Work (2)") && y("Work (2)") < y(ungrouped));

        // Collapsing Work hides Carol (only in Work) and Bob's line there.
        for task in click(&mut app, "▾ Work (2)") {
            run(&rt, &mut app, task);
        }
        assert!(shows(&app, "▸ Work (2)"));
        assert!(!shows(&app, "Carol"));
        assert_eq!(count(&app, "Bob"), 1);
        for task in click(&mut app, "▸ Work (2)") {
            run(&rt, &mut app, task);
        }
        assert!(shows(&app, "Carol"));

        // Rename Work: one command for the account; its session sets each member.
        let renames: Vec<_> = support::app::texts(&app, rename);
        assert_eq!(renames.len(), 2, "one Rename per real group");
        interact(&mut app, |ui| {
            ui.click(rename).expect("Rename");
        });
        // The first Rename is Friends' (sections are sorted).
        interact(&mut app, |ui| {
            ui.click(Id::new(RENAME_ID)).expect("rename field");
            for _ in 0.."Friends".len() {
                ui.tap_key(iced::keyboard::key::Named::Backspace);
            }
            ui.typewrite("Pals");
        });
        for task in click(&mut app, save) {
            run(&rt, &mut app, task);
        }
        let sent = commands(&mut rx);
        assert!(
            matches!(sent.as_slice(), [Command::RenameGroup { from, to }] if from == "Friends" && to == "Pals"),
            "{sent:?}"
        );
    }
}

#[test]
fn a_contacts_groups_are_edited_in_its_form() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, edit, save) in [(Lang::En, "Edit", "Save"), (Lang::ZhCn, "编辑", "保存")] {
        let (mut app, mut rx) = start(&rt, lang);
        assert!(shows(&app, edit));
        // Dave's Edit button (what it sends).
        let _ = app.update(Message::Sidebar(
            loquat::ui::screen::sidebar::Message::StartEdit(
                account().id,
                jid("dave@example.org"),
                "Dave".into(),
            ),
        ));
        interact(&mut app, |ui| {
            ui.click(Id::new(GROUPS_ID)).expect("groups field");
            ui.typewrite("Family, 家人");
        });
        for task in click(&mut app, save) {
            run(&rt, &mut app, task);
        }
        let sent = commands(&mut rx);
        assert!(
            matches!(sent.as_slice(), [Command::SetContactGroups { jid, name, groups }]
                if jid.as_str() == "dave@example.org" && name.as_deref() == Some("Dave")
                    && groups == &["Family".to_string(), "家人".to_string()]),
            "{lang:?}: {sent:?}"
        );
    }
}

/// The contact list with groups, in English and Chinese, for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_groups_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, theme, name) in [
        (Lang::En, iced::Theme::Light, "groups"),
        (Lang::ZhCn, iced::Theme::Dark, "groups-zh"),
    ] {
        let (mut app, _rx) = start(&rt, lang);
        let _ = app.update(Message::Sidebar(
            loquat::ui::screen::sidebar::Message::Groups(
                loquat::ui::screen::sidebar::groups::Message::Toggle("Friends".into()),
            ),
        ));
        let _ = std::fs::remove_file(dir.join(format!("{name}-tiny-skia.png")));
        let mut ui = sim(&app);
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        assert!(snapshot.matches_image(dir.join(name)).expect("png"));
    }
}

/// The session's side of a profile: answers the vCard and version questions.
fn answer_profiles(
    rt: &tokio::runtime::Runtime,
    mut rx: UnboundedReceiver<Command>,
) -> std::sync::Arc<std::sync::Mutex<Vec<Command>>> {
    let others = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = others.clone();
    rt.spawn(async move {
        while let Some(command) = rx.recv().await {
            match command {
                Command::Query { payload, reply, .. } if payload.name() == "vCard" => {
                    let card: xmpp_parsers::minidom::Element = "<vCard xmlns='vcard-temp'>\
                        <FN>Bob Builder</FN><NICKNAME>bob</NICKNAME>\
                        <EMAIL><USERID>bob@example.org</USERID></EMAIL>\
                        <ADR><LOCALITY>Bristol</LOCALITY></ADR><DESC>Can we fix it?</DESC></vCard>"
                        .parse()
                        .unwrap();
                    reply.send(Ok(Some(card)));
                }
                Command::Query { payload, reply, .. } if payload.name() == "query" => {
                    let v: xmpp_parsers::minidom::Element = "<query xmlns='jabber:iq:version'>\
                        <name>slix-peer</name><version>1.0</version><os>TestOS</os></query>"
                        .parse()
                        .unwrap();
                    reply.send(Ok(Some(v)));
                }
                other => keep.lock().unwrap().push(other),
            }
        }
    });
    others
}

fn open_profile(rt: &tokio::runtime::Runtime, app: &mut App) {
    let _ = app.update(Message::Session(Update {
        account: account().id,
        kind: UpdateKind::Presence {
            from: xmpp_parsers::jid::Jid::new("bob@example.org/phone").unwrap(),
            show: loquat::model::Show::Online,
            status: None,
        },
    }));
    let task = app.update(Message::Sidebar(
        loquat::ui::screen::sidebar::Message::OpenProfile(account().id, jid("bob@example.org")),
    ));
    run(rt, app, task);
}

#[test]
fn a_contacts_profile_shows_the_card_the_clients_and_acts() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, groups_line, client, block, start_chat) in [
        (
            Lang::En,
            "Friends, Work",
            "slix-peer 1.0 on TestOS",
            "Block",
            "Start chat",
        ),
        (
            Lang::ZhCn,
            "Friends, Work",
            "slix-peer 1.0（TestOS）",
            "屏蔽",
            "开始聊天",
        ),
    ] {
        let (mut app, rx) = start(&rt, lang);
        let others = answer_profiles(&rt, rx);
        open_profile(&rt, &mut app);
        for needle in [
            "Bob Builder",
            "bob@example.org",
            "Bristol",
            "Can we fix it?",
            client,
            "phone",
        ] {
            assert!(shows(&app, needle), "{lang:?}: {needle}");
        }
        // Groups sorted as the roster has them, joined.
        assert!(
            shows(&app, groups_line) || shows(&app, "Work, Friends"),
            "{lang:?}"
        );
        for task in click(&mut app, block) {
            run(&rt, &mut app, task);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        let sent = others.lock().unwrap().clone();
        assert!(
            sent.iter().any(|c| matches!(c, Command::Block { jids, report: false } if jids.len() == 1 && jids[0].to_string() == "bob@example.org")),
            "{sent:?}"
        );
        for task in click(&mut app, start_chat) {
            run(&rt, &mut app, task);
        }
        assert!(
            !shows(&app, client),
            "{lang:?}: the chat replaced the profile"
        );
    }
}

/// The profile panel, for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_profile_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, theme, name) in [
        (Lang::En, iced::Theme::Light, "profile"),
        (Lang::ZhCn, iced::Theme::Dark, "profile-zh"),
    ] {
        let (mut app, rx) = start(&rt, lang);
        let _others = answer_profiles(&rt, rx);
        open_profile(&rt, &mut app);
        let _ = std::fs::remove_file(dir.join(format!("{name}-tiny-skia.png")));
        let mut ui = sim(&app);
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        assert!(snapshot.matches_image(dir.join(name)).expect("png"));
    }
}

/// The whole window in iced's own `UserInterface`, frame after frame with the widget
/// state kept, as the runtime runs it.
struct Window {
    app: App,
    renderer: iced::Renderer,
    cache: Option<iced_runtime::user_interface::Cache>,
}

const WINDOW: iced::Size = iced::Size::new(1280.0, 800.0);
const OVER_SIDEBAR: iced::Point = iced::Point::new(150.0, 400.0);

impl Window {
    fn ui<T>(
        &mut self,
        f: impl FnOnce(
            &mut iced_runtime::UserInterface<'_, Message, iced::Theme, iced::Renderer>,
            &mut iced::Renderer,
        ) -> T,
    ) -> T {
        let cache = self.cache.take().unwrap_or_default();
        let mut ui =
            iced_runtime::UserInterface::build(self.app.view(), WINDOW, cache, &mut self.renderer);
        let out = f(&mut ui, &mut self.renderer);
        self.cache = Some(ui.into_cache());
        out
    }

    /// The events through one frame; the messages they produced.
    fn frame(&mut self, events: &[iced::Event]) -> Vec<Message> {
        let mut produced = Vec::new();
        self.ui(|ui, renderer| {
            let _ = ui.update(
                events,
                iced::mouse::Cursor::Available(OVER_SIDEBAR),
                renderer,
                &mut iced_runtime::core::clipboard::Null,
                &mut produced,
            );
        });
        produced
    }

    /// The contact names built, with their top in the sidebar's content, and the
    /// sidebar's viewport (top, height) in the same terms.
    fn names(&mut self) -> (Vec<(String, f32)>, (f32, f32)) {
        let mut found = Where::new(loquat::ui::screen::sidebar::SCROLL_ID);
        self.ui(|ui, renderer| ui.operate(renderer, &mut found));
        let (bounds, translation) = found.list.expect("the sidebar scrolls");
        let names = found
            .texts
            .into_iter()
            .filter(|(text, _)| text.starts_with("Contact "))
            .map(|(text, b)| (text, b.y))
            .collect();
        (names, (bounds.y + translation.y, bounds.height))
    }
}

/// A roster of 500 builds only the lines near the screen; scrolling down to its end
/// shows every contact once, in order, and a line never moves when the chunks around
/// it are built or dropped (each stand-in is exactly as tall as its lines).
#[test]
fn a_long_roster_builds_only_the_lines_near_the_screen() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (mut app, _rx) = start(&rt, Lang::En);
    let roster: Vec<Contact> = (0..500)
        .map(|i| {
            let group = ["Family", "Friends", "Work"][i * 3 / 500];
            contact(
                &format!("c{i:03}@example.org"),
                &format!("Contact {i:03}"),
                &[group],
            )
        })
        .collect();
    let _ = app.update(Message::Session(Update {
        account: account().id,
        kind: UpdateKind::Roster(roster),
    }));
    let mut window = Window {
        app,
        renderer: support::view::headless(),
        cache: None,
    };
    let redraw = support::view::redraw;
    let wheel = iced::Event::Mouse(iced::mouse::Event::WheelScrolled {
        delta: iced::mouse::ScrollDelta::Pixels { x: 0.0, y: -300.0 },
    });

    let _ = window.frame(&[redraw()]);
    let (first, (top, height)) = window.names();
    let mut seen: Vec<String> = first
        .into_iter()
        .filter(|(_, y)| *y >= top && *y < top + height)
        .map(|(name, _)| name)
        .collect();
    assert!(
        !seen.is_empty(),
        "the first lines show before any scrolling"
    );
    let mut most_built = 0;
    for step in 0..200 {
        let mut produced = window.frame(std::slice::from_ref(&wheel));
        produced.extend(window.frame(&[redraw()]));
        // The lines on screen, before and after the chunks came and went.
        let (before, (top, height)) = window.names();
        let on_screen = |names: &[(String, f32)]| -> Vec<(String, f32)> {
            names
                .iter()
                .filter(|(_, y)| *y >= top && *y < top + height)
                .cloned()
                .collect()
        };
        let visible = on_screen(&before);
        for message in produced {
            let _ = window.app.update(message);
        }
        let (after, _) = window.names();
        for (name, y) in &visible {
            let now = after.iter().find(|(n, _)| n == name).map(|(_, y)| *y);
            assert_eq!(
                now,
                Some(*y),
                "step {step}: {name} moved when the chunks changed"
            );
        }
        most_built = most_built.max(after.len());
        for (name, _) in on_screen(&after) {
            if !seen.contains(&name) {
                seen.push(name);
            }
        }
        if seen.last().is_some_and(|n| n == "Contact 499") {
            break;
        }
    }
    let expected: Vec<String> = (0..500).map(|i| format!("Contact {i:03}")).collect();
    let differs = seen.iter().zip(&expected).position(|(a, b)| a != b);
    assert!(
        differs.is_none() && seen.len() == expected.len(),
        "every contact on screen once, in order: {} seen, first difference at {differs:?}",
        seen.len()
    );
    assert!(
        most_built <= 80,
        "{most_built} of 500 contact lines built at once"
    );
}
