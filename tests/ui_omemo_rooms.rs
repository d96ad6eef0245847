//! OMEMO in group chats (issue #17): the lock in the room's header. A private room
//! (members-only, non-anonymous) whose members publish devices is encrypted; a room that
//! is not private says why, in plain words, and offers no switch; in English and Chinese.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_omemo_rooms`; screenshots for review:
//! `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_omemo_rooms -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]

mod support;

use iced::widget::Id;
use iced_test::selector::Candidate;
use iced_test::simulator;
use loquat::session::omemo::trust::{Device, Report, RoomStatus};
use loquat::session::rooms::{Affiliation, Role};
use loquat::ui::chat::encryption;
use loquat::ui::i18n::Lang;
use loquat::ui::room::joined::{self, Room};
use std::sync::{Arc, Mutex};
use support::session::jid;
use support::view::occupant;

fn room(private: Option<bool>, member_devices: &[u32]) -> Room {
    let mut room = support::view::joined_room(vec![
        occupant("alice", Role::Participant, Affiliation::Member),
        occupant("bob", Role::Moderator, Affiliation::Owner),
    ]);
    let bob = jid("bob@example.org");
    room.encryption.report = Some(Report {
        peer: room.jid.clone(),
        available: true,
        broken: false,
        ours: None,
        own_others: Vec::new(),
        contact: Some(
            member_devices
                .iter()
                .map(|id| Device {
                    jid: bob.clone(),
                    id: *id,
                    fingerprint: Some("a1b2c3d4 e5f60718".into()),
                    verified: false,
                    changed: None,
                })
                .collect(),
        ),
        room: Some(RoomStatus {
            private,
            members: 2,
        }),
    });
    room
}

fn texts(room: &Room, lang: Lang) -> Vec<String> {
    texts_of(room.view(lang))
}

/// Clicks the lock and feeds the messages back; the events the room asks of the app.
fn click_lock(room: &mut Room, lang: Lang) -> Vec<joined::Event> {
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room.view(lang));
        ui.click(Id::new(encryption::LOCK_ID)).expect("the lock");
        ui.into_messages().collect()
    };
    messages
        .into_iter()
        .filter_map(|m| room.update(m))
        .collect()
}

#[test]
fn a_room_that_is_not_private_says_why_and_offers_no_switch() {
    for (lang, pill, why, auto) in [
        (
            Lang::En,
            "Not private",
            "This room is not private: OMEMO needs a members-only room where members see each other's addresses.",
            "Automatic",
        ),
        (
            Lang::ZhCn,
            "非私密",
            "此聊天室不是私密的：OMEMO 需要仅限成员加入、且成员能看到彼此地址的聊天室。",
            "自动",
        ),
    ] {
        let mut room = room(Some(false), &[5]);
        let shown = texts(&room, lang);
        assert!(shown.iter().any(|t| t == pill), "{shown:?}");
        let events = click_lock(&mut room, lang);
        assert!(
            matches!(
                events.as_slice(),
                [joined::Event::Encryption(encryption::Event::Refresh)]
            ),
            "{events:?}"
        );
        let shown = texts(&room, lang);
        assert!(shown.iter().any(|t| t == why), "{shown:?}");
        assert!(!shown.iter().any(|t| t == auto), "no switch: {shown:?}");
    }
}

#[test]
fn a_private_room_with_members_devices_is_encrypted() {
    for (lang, pill, line, auto) in [
        (
            Lang::En,
            "Encrypted",
            "Encrypted: members of this room use OMEMO",
            "Automatic",
        ),
        (
            Lang::ZhCn,
            "已加密",
            "已加密：此聊天室的成员使用 OMEMO",
            "自动",
        ),
    ] {
        let mut room = room(Some(true), &[5]);
        let shown = texts(&room, lang);
        assert!(shown.iter().any(|t| t == pill), "{shown:?}");
        click_lock(&mut room, lang);
        let shown = texts(&room, lang);
        assert!(shown.iter().any(|t| t.starts_with(line)), "{shown:?}");
        assert!(shown.iter().any(|t| t == auto), "the switch: {shown:?}");
    }
    // Nobody else publishes a device: not encrypted, and said so.
    let mut room = room(Some(true), &[]);
    click_lock(&mut room, Lang::En);
    let shown = texts(&room, Lang::En);
    assert!(
        shown
            .iter()
            .any(|t| t.starts_with("Not encrypted: no other member")),
        "{shown:?}"
    );
    // Not known yet.
    let room = self::room(None, &[]);
    let shown = texts(&room, Lang::En);
    assert!(shown.iter().any(|t| t == "Encryption…"), "{shown:?}");
}

/// Renders the room's lock panels in both languages to PNG for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_room_lock_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (lang, private, name) in [
        (Lang::En, false, "omemo-room-not-private-en"),
        (Lang::ZhCn, false, "omemo-room-not-private-zh"),
        (Lang::En, true, "omemo-room-encrypted-en"),
        (Lang::ZhCn, true, "omemo-room-encrypted-zh"),
    ] {
        let mut room = room(Some(private), &[5, 6]);
        room.encryption.open = true;
        let mut ui = iced_test::simulator::Simulator::with_size(
            Default::default(),
            iced::Size::new(1000.0, 700.0),
            room.view(lang),
        );
        let snapshot = ui.snapshot(&iced::Theme::Light).expect("snapshot");
        let path = dir.join(name);
        let _ = std::fs::remove_file(path.with_file_name(format!("{name}-tiny-skia.png")));
        assert!(snapshot.matches_image(&path).expect("write png"));
    }
}

/// The whole app: a room joined from the join dialog gets the session's report on its
/// lock, and the lock's panel says why the room cannot be encrypted.
#[test]
fn the_app_puts_the_sessions_room_report_on_the_rooms_lock() {
    use loquat::model::Account;
    use loquat::session::rooms::RoomUpdate;
    use loquat::session::{Command, Handle, Update, UpdateKind};
    use loquat::ui::app::startup::{LoadedAccount, Startup};
    use loquat::ui::room::join;
    use loquat::ui::{App, Message};
    let account = Account::new(jid("alice@example.org"));
    let id = account.id.clone();
    let mut app = App::from_startup(
        Lang::En,
        Startup {
            accounts: vec![LoadedAccount::new(account, Some("pw".into()))],
            ..Startup::default()
        },
    );
    let (tx, mut commands) = tokio::sync::mpsc::unbounded_channel();
    let session = |app: &mut App, kind: UpdateKind| {
        let _ = app.update(Message::Session(Update {
            account: id.clone(),
            kind,
        }));
    };
    session(&mut app, UpdateKind::Ready(Handle::new(tx)));
    let run = |app: &mut App, act: &dyn Fn(&mut iced_test::Simulator<'_, Message>)| {
        let messages: Vec<Message> = {
            let mut ui = simulator(app.view());
            act(&mut ui);
            ui.into_messages().collect()
        };
        for m in messages {
            let _ = app.update(m);
        }
    };
    run(&mut app, &|ui| {
        drop(ui.click("+ Join a group chat").expect("join"))
    });
    run(&mut app, &|ui| {
        ui.click(Id::new(join::ROOM_ID)).expect("room field");
        ui.typewrite("tea@conference.example.org");
        ui.click(Id::new(join::NICK_ID)).expect("nick field");
        ui.typewrite("alice");
        ui.click("Join").expect("Join");
    });
    let room = jid("tea@conference.example.org");
    session(
        &mut app,
        UpdateKind::Room(RoomUpdate::Joined {
            room: room.clone(),
            nick: "alice".into(),
            occupants: vec![occupant("alice", Role::Participant, Affiliation::None)],
        }),
    );
    session(
        &mut app,
        UpdateKind::Omemo(Report {
            peer: room.clone(),
            available: true,
            broken: false,
            ours: None,
            own_others: Vec::new(),
            contact: None,
            room: Some(RoomStatus {
                private: Some(false),
                members: 0,
            }),
        }),
    );
    let shown = texts_of(app.view());
    assert!(shown.iter().any(|t| t == "Not private"), "{shown:?}");
    while commands.try_recv().is_ok() {}
    run(&mut app, &|ui| {
        drop(ui.click(Id::new(encryption::LOCK_ID)).expect("the lock"))
    });
    let shown = texts_of(app.view());
    assert!(
        shown
            .iter()
            .any(|t| t.starts_with("This room is not private")),
        "{shown:?}"
    );
    // The panel asked the session afresh about the room.
    assert!(
        std::iter::from_fn(|| commands.try_recv().ok())
            .any(|c| matches!(c, Command::OmemoStatus { peer } if peer == room)),
        "no fresh report asked"
    );
}

fn texts_of<M>(view: iced::Element<'_, M>) -> Vec<String> {
    let mut ui = simulator(view);
    let found = Arc::new(Mutex::new(Vec::new()));
    let seen = found.clone();
    let _ = ui.find(move |c: Candidate<'_>| -> Option<()> {
        if let Candidate::Text { content, .. } = c
            && let Ok(mut f) = seen.lock()
        {
            f.push(content.to_owned());
        }
        None
    });
    std::mem::take(&mut *found.lock().unwrap())
}
