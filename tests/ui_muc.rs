//! Headless UI tests of group chat: the join dialog's errors, the kicked state with
//! Rejoin, the occupant list. Driven with `iced_test` on the real views and updates.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_muc`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;

use support::session::jid;

use iced::widget::Id;
use iced_test::simulator;
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{ChatMessage, Delivery, Direction};
use loquat::session::Command;
use loquat::session::rooms::{Affiliation, Departure, Exit, MucError, Role, RoomUpdate};
use loquat::ui::i18n::Lang;
use loquat::ui::room::join;
use loquat::ui::room::joined::{self, Room};
use loquat::ui::screen::main_area::MainArea;
use support::view::{click_panel, count, occupant};

fn joined_room() -> Room {
    support::view::joined_room(vec![
        occupant("alice", Role::Participant, Affiliation::Member),
        occupant("bob", Role::Moderator, Affiliation::Owner),
        occupant("carol", Role::Visitor, Affiliation::None),
    ])
}

#[test]
fn join_dialog_shows_errors_in_words_and_offers_a_way_out() {
    let mut form = join::State::new("alice");
    // A bad address is refused before anything is sent.
    let messages: Vec<join::Message> = {
        let mut ui = simulator(form.view(Lang::En));
        ui.click(Id::new(join::ROOM_ID)).expect("room field");
        ui.typewrite("not a room");
        ui.click("Join").expect("Join button");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages
        .into_iter()
        .filter_map(|m| form.update(m))
        .collect();
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(
        count(form.view(Lang::En), "This is not a valid room address."),
        1
    );

    form.room = "tea@conference.example.org".into();
    let event = form.update(join::Message::Submit);
    assert_eq!(
        event,
        Some(join::Event::Join {
            room: jid("tea@conference.example.org"),
            nick: "alice".into(),
            password: None,
        })
    );
    assert_eq!(count(form.view(Lang::En), "Joining…"), 1);

    // The room says the nickname is taken: the words, and a one-click other nickname.
    form.failed(MucError::NicknameInUse);
    assert_eq!(
        count(
            form.view(Lang::En),
            "The nickname alice is already taken in this room. Try alice2?"
        ),
        1
    );
    let messages: Vec<join::Message> = {
        let mut ui = simulator(form.view(Lang::En));
        ui.click("Use alice2").expect("suggestion button");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages
        .into_iter()
        .filter_map(|m| form.update(m))
        .collect();
    assert!(
        matches!(events.as_slice(), [join::Event::Join { nick, .. }] if nick == "alice2"),
        "{events:?}"
    );

    for (error, words) in [
        (
            MucError::PasswordRequired,
            "This room needs a password, or the password was wrong.",
        ),
        (
            MucError::MembersOnly,
            "This room is for members only. Ask an owner to add you.",
        ),
        (MucError::Banned, "You are banned from this room."),
        (MucError::RoomNotFound, "This room does not exist."),
        (
            MucError::ServiceUnavailable,
            "The group chat service is not available right now.",
        ),
    ] {
        form.failed(error.clone());
        assert_eq!(count(form.view(Lang::En), words), 1, "{error:?}");
    }
    // A missing room offers to create it.
    form.failed(MucError::RoomNotFound);
    assert_eq!(count(form.view(Lang::En), "Create it"), 1);
    // And in Chinese.
    form.failed(MucError::PasswordRequired);
    assert_eq!(count(form.view(Lang::ZhCn), "此群聊需要密码"), 1);
}

#[test]
fn kicked_state_shows_reason_and_rejoin() {
    let mut room = joined_room();
    assert_eq!(count(room.view(Lang::En), "Rejoin"), 0);
    room.apply(&RoomUpdate::Left {
        room: room.jid.clone(),
        departure: Departure {
            exit: Exit::Kicked,
            reason: Some("Be nice".into()),
            actor: Some("bob".into()),
        },
        rejoin_in_secs: None,
    });
    let view = || room.view(Lang::En);
    assert_eq!(count(view(), "You were removed from this room by bob."), 1);
    assert_eq!(count(view(), "Reason: Be nice"), 1);
    assert_eq!(count(room.view(Lang::En), "In the room (0)"), 1);
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room.view(Lang::En));
        ui.click("Rejoin").expect("Rejoin button");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages
        .into_iter()
        .filter_map(|m| room.update(m))
        .collect();
    match events.as_slice() {
        [joined::Event::Command(Command::JoinRoom { room: r, nick, .. })] => {
            assert_eq!(r.as_str(), "tea@conference.example.org");
            assert_eq!(nick, "alice");
        }
        other => panic!("expected a rejoin, got {other:?}"),
    }
    assert_eq!(count(room.view(Lang::En), "Joining…"), 1);

    // Trouble the session handles itself: no button, a countdown instead.
    room.apply(&RoomUpdate::Left {
        room: room.jid.clone(),
        departure: Departure {
            exit: Exit::Lost,
            reason: None,
            actor: None,
        },
        rejoin_in_secs: Some(4),
    });
    assert_eq!(
        count(
            room.view(Lang::En),
            "The connection to this room was lost. Rejoining in 4 s…"
        ),
        1
    );
    assert_eq!(
        count(room.view(Lang::En), "Rejoin"),
        1,
        "only the words mention it"
    );
}

#[test]
fn occupant_list_shows_roles_affiliations_and_changes() {
    let mut room = joined_room();
    assert_eq!(count(room.view(Lang::En), "In the room (3)"), 1);
    assert_eq!(count(room.view(Lang::En), "owner · moderator"), 1);
    assert_eq!(count(room.view(Lang::En), "member · participant"), 1);
    assert_eq!(count(room.view(Lang::En), "visitor"), 1);
    room.apply(&RoomUpdate::OccupantLeft {
        room: room.jid.clone(),
        nick: "carol".into(),
        departure: Departure {
            exit: Exit::Left,
            reason: None,
            actor: None,
        },
    });
    room.apply(&RoomUpdate::Occupant {
        room: room.jid.clone(),
        occupant: occupant("dave", Role::Participant, Affiliation::None),
        joined: true,
    });
    assert_eq!(count(room.view(Lang::En), "In the room (3)"), 1);
    assert_eq!(
        count(room.view(Lang::En), "carol"),
        1,
        "carol is only in the note now"
    );
    // Joins and leaves fold into one compact line.
    assert_eq!(count(room.view(Lang::En), "carol left · dave joined"), 1);
    // Sending goes through the session, with the text typed.
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room.view(Lang::En));
        ui.click(Id::new(joined::COMPOSER_ID)).expect("composer");
        ui.typewrite("hello all");
        ui.click("Send").expect("Send");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages
        .into_iter()
        .filter_map(|m| room.update(m))
        .collect();
    assert!(
        // Typing says "composing" to the room once, then Send sends.
        matches!(events.as_slice(), [joined::Event::Command(Command::SendChatState { .. }), joined::Event::Command(Command::SendRoom { body, .. })] if body == "hello all"),
        "{events:?}"
    );
}

#[test]
fn mentions_count_apart_from_ordinary_unread() {
    let mut room = joined_room();
    let msg = |body: &str| ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: room.account.clone(),
        conversation: loquat::ids::ConversationId::Room(room.jid.clone()),
        direction: Direction::Incoming,
        sender: "bob".into(),
        body: body.into(),
        timestamp_ms: 0,
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    };
    let (a, b) = (msg("tea anyone?"), msg("alice, tea?"));
    room.push(a, false);
    room.push(b, false);
    assert_eq!((room.unread, room.mentions), (2, 1));
}

/// Screens for a person to look at:
/// `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_muc -- --ignored`.
#[test]
#[ignore = "writes screenshots for review"]
fn render_room_screens_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let shoot = |view: iced::Element<'_, joined::Message>, name: &str, theme: iced::Theme| {
        let mut ui = simulator(view);
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        let path = dir.join(name);
        let _ = std::fs::remove_file(path.with_file_name(format!("{name}-tiny-skia.png")));
        assert!(snapshot.matches_image(&path).expect("write png"));
    };
    let mut room = joined_room();
    room.apply(&RoomUpdate::Subject {
        room: room.jid.clone(),
        subject: "Green tea only 🍵".into(),
        by: Some("bob".into()),
    });
    for (sender, body, dir) in [
        ("bob", "Welcome to the tea room!", Direction::Incoming),
        ("carol", "Hi all — 大家好", Direction::Incoming),
        ("alice", "Hello! Sencha for me.", Direction::Outgoing),
    ] {
        room.push(
            ChatMessage {
                truncated: false,
                extras: Default::default(),
                id: LocalMessageId::generate(),
                account: room.account.clone(),
                conversation: loquat::ids::ConversationId::Room(room.jid.clone()),
                direction: dir,
                sender: sender.into(),
                body: body.into(),
                timestamp_ms: 0,
                stanza_id_attr: None,
                origin_id: None,
                server_id: None,
                delivery: Delivery::Delivered,
                attachment: None,
            },
            true,
        );
    }
    room.apply(&RoomUpdate::Occupant {
        room: room.jid.clone(),
        occupant: occupant("dave", Role::Participant, Affiliation::None),
        joined: true,
    });
    shoot(room.view(Lang::En), "room-light", iced::Theme::Light);
    shoot(room.view(Lang::ZhCn), "room-dark-zh", iced::Theme::Dark);
    room.apply(&RoomUpdate::Left {
        room: room.jid.clone(),
        departure: Departure {
            exit: Exit::Kicked,
            reason: Some("Be nice".into()),
            actor: Some("bob".into()),
        },
        rejoin_in_secs: None,
    });
    shoot(room.view(Lang::En), "room-kicked", iced::Theme::Light);
    let mut form = join::State::new("alice");
    form.room = "tea@conference.example.org".into();
    form.failed(MucError::NicknameInUse);
    let _ = std::fs::remove_file(dir.join("join-error-tiny-skia.png"));
    let mut ui = simulator(form.view(Lang::En));
    let snapshot = ui.snapshot(&iced::Theme::Light).expect("snapshot");
    assert!(snapshot.matches_image(dir.join("join-error")).expect("png"));

    // The whole window: room list (with an invitation and unread counts) and a room.
    use loquat::session::rooms::Invitation;
    use loquat::session::{Update, UpdateKind};
    use loquat::ui::Message;
    let (mut app, account, _commands) = app_with_account();
    let feed = |app: &mut loquat::ui::App, kind: UpdateKind| {
        let _ = app.update(Message::Session(Update {
            account: account.clone(),
            kind,
        }));
    };
    for name in ["tea", "garden"] {
        let r = jid(&format!("{name}@conference.example.org"));
        feed(
            &mut app,
            UpdateKind::Room(RoomUpdate::Joining {
                room: r.clone(),
                nick: "alice".into(),
            }),
        );
        feed(
            &mut app,
            UpdateKind::Room(RoomUpdate::Joined {
                room: r.clone(),
                nick: "alice".into(),
                occupants: vec![
                    occupant("alice", Role::Participant, Affiliation::Member),
                    occupant("bob", Role::Moderator, Affiliation::Owner),
                ],
            }),
        );
    }
    for (room_name, body) in [
        ("garden", "the roses are out"),
        ("garden", "alice, come and see"),
        ("tea", "Welcome!"),
    ] {
        feed(
            &mut app,
            UpdateKind::Message(ChatMessage {
                truncated: false,
                extras: Default::default(),
                id: LocalMessageId::generate(),
                account: account.clone(),
                conversation: loquat::ids::ConversationId::Room(jid(&format!(
                    "{room_name}@conference.example.org"
                ))),
                direction: Direction::Incoming,
                sender: "bob".into(),
                body: body.into(),
                timestamp_ms: 0,
                stanza_id_attr: None,
                origin_id: None,
                server_id: None,
                delivery: Delivery::Delivered,
                attachment: None,
            }),
        );
    }
    feed(
        &mut app,
        UpdateKind::Room(RoomUpdate::Invitation(Invitation {
            room: jid("party@conference.example.org"),
            from: jid("carol@example.org"),
            reason: None,
            password: None,
            direct: true,
        })),
    );
    let _ = app.update(Message::Rooms(loquat::ui::room::Message::Open(
        account.clone(),
        jid("tea@conference.example.org"),
    )));
    let _ = std::fs::remove_file(dir.join("app-rooms-tiny-skia.png"));
    let mut ui = simulator(app.view());
    let snapshot = ui.snapshot(&iced::Theme::Light).expect("snapshot");
    assert!(snapshot.matches_image(dir.join("app-rooms")).expect("png"));
}

fn app_with_account() -> (
    loquat::ui::App,
    AccountId,
    tokio::sync::mpsc::UnboundedReceiver<Command>,
) {
    use loquat::model::Account;
    use loquat::session::{Handle, Update, UpdateKind};
    use loquat::ui::app::startup::{LoadedAccount, Startup};
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
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let _ = app.update(Message::Session(Update {
        account: id.clone(),
        kind: UpdateKind::Ready(Handle::new(tx)),
    }));
    (app, id, rx)
}

/// The whole app: join from the room list, see the refusal, join again, read the room.
#[test]
fn app_joins_a_room_and_shows_its_state() {
    use loquat::session::{Update, UpdateKind};
    use loquat::ui::Message;
    let (mut app, account, mut commands) = app_with_account();
    let click = |app: &mut loquat::ui::App, what: &str| {
        let messages: Vec<Message> = {
            let mut ui = simulator(app.view());
            ui.click(what).expect(what);
            ui.into_messages().collect()
        };
        for m in messages {
            let _ = app.update(m);
        }
    };
    click(&mut app, "+ Join a group chat");
    let messages: Vec<Message> = {
        let mut ui = simulator(app.view());
        ui.click(Id::new(join::ROOM_ID)).expect("room field");
        ui.typewrite("tea@conference.example.org");
        ui.click(Id::new(join::NICK_ID)).expect("nick field");
        ui.typewrite("alice");
        ui.click("Join").expect("Join");
        ui.into_messages().collect()
    };
    for m in messages {
        let _ = app.update(m);
    }
    let room_jid = jid("tea@conference.example.org");
    match commands.try_recv() {
        Ok(Command::JoinRoom { room, nick, .. }) => {
            assert_eq!(room, room_jid);
            assert_eq!(nick, "alice");
        }
        other => panic!("expected a join, got {other:?}"),
    }
    let session = |app: &mut loquat::ui::App, update: RoomUpdate| {
        let _ = app.update(Message::Session(Update {
            account: account.clone(),
            kind: UpdateKind::Room(update),
        }));
    };
    session(
        &mut app,
        RoomUpdate::JoinFailed {
            room: room_jid.clone(),
            error: MucError::NicknameInUse,
        },
    );
    assert_eq!(count(app.view(), "already taken in this room"), 1);
    click(&mut app, "Use alice2");
    assert!(matches!(commands.try_recv(), Ok(Command::JoinRoom { nick, .. }) if nick == "alice2"));
    session(
        &mut app,
        RoomUpdate::Joined {
            room: room_jid.clone(),
            nick: "alice2".into(),
            occupants: vec![occupant("alice2", Role::Participant, Affiliation::None)],
        },
    );
    assert_eq!(count(app.view(), "In the room (1)"), 1);
    let message = ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account.clone(),
        conversation: loquat::ids::ConversationId::Room(room_jid.clone()),
        direction: Direction::Incoming,
        sender: "bob".into(),
        body: "welcome alice2!".into(),
        timestamp_ms: 0,
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    };
    let _ = app.update(Message::Session(Update {
        account: account.clone(),
        kind: UpdateKind::Message(message),
    }));
    // In the room, and as the room's preview in the inbox.
    assert_eq!(count(app.view(), "welcome alice2!"), 2);
    assert_eq!(count(app.view(), "bob: welcome alice2!"), 1);
    // Kicked: the room says so, and Rejoin asks the session.
    session(
        &mut app,
        RoomUpdate::Left {
            room: room_jid.clone(),
            departure: Departure {
                exit: Exit::Kicked,
                reason: None,
                actor: None,
            },
            rejoin_in_secs: None,
        },
    );
    assert_eq!(count(app.view(), "You were removed from this room."), 1);
    click(&mut app, "Rejoin");
    assert!(matches!(commands.try_recv(), Ok(Command::JoinRoom { nick, .. }) if nick == "alice2"));
}

#[test]
fn invitation_offers_join_and_decline() {
    use loquat::session::rooms::Invitation;
    use loquat::session::{Update, UpdateKind};
    use loquat::ui::Message;
    let (mut app, account, mut commands) = app_with_account();
    let invite = |app: &mut loquat::ui::App, room: &str, direct: bool| {
        let _ = app.update(Message::Session(Update {
            account: account.clone(),
            kind: UpdateKind::Room(RoomUpdate::Invitation(Invitation {
                room: jid(room),
                from: jid("bob@example.org"),
                reason: None,
                password: Some("pw".into()),
                direct,
            })),
        }));
    };
    invite(&mut app, "party@conference.example.org", true);
    assert_eq!(
        count(app.view(), "bob@example.org invites you to party@"),
        1
    );
    let messages: Vec<Message> = {
        let mut ui = simulator(app.view());
        ui.click("Join").expect("Join");
        ui.into_messages().collect()
    };
    for m in messages {
        let _ = app.update(m);
    }
    match commands.try_recv() {
        Ok(Command::JoinRoom {
            room,
            nick,
            password,
        }) => {
            assert_eq!(room.as_str(), "party@conference.example.org");
            assert_eq!(nick, "alice");
            assert_eq!(password.as_deref(), Some("pw"));
        }
        other => panic!("expected a join, got {other:?}"),
    }
    assert_eq!(count(app.view(), "invites you to"), 0);
    // A mediated invitation is declined through the room.
    invite(&mut app, "club@conference.example.org", false);
    let messages: Vec<Message> = {
        let mut ui = simulator(app.view());
        ui.click("Decline").expect("Decline");
        ui.into_messages().collect()
    };
    for m in messages {
        let _ = app.update(m);
    }
    assert!(
        matches!(commands.try_recv(), Ok(Command::DeclineInvite { room, inviter }) if room.as_str() == "club@conference.example.org" && inviter.as_str() == "bob@example.org")
    );
    assert_eq!(count(app.view(), "invites you to"), 0);
}

#[test]
fn a_100_kb_room_message_shows_folded_until_show_more() {
    let mut room = joined_room();
    let body: String = (0..1000)
        .map(|i| format!("line {i:04} {}\n", "x".repeat(89)))
        .collect();
    let id = LocalMessageId::generate();
    room.push(
        ChatMessage {
            id: id.clone(),
            account: room.account.clone(),
            conversation: loquat::ids::ConversationId::Room(room.jid.clone()),
            direction: Direction::Incoming,
            sender: "bob".into(),
            body,
            timestamp_ms: 0,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
            truncated: true,
            extras: Default::default(),
        },
        true,
    );
    let more = "Show more (98000 more characters)";
    assert_eq!(count(room.view(Lang::En), more), 1);
    assert_eq!(count(room.view(Lang::En), "line 0999"), 0, "folded");
    assert_eq!(
        count(room.view(Lang::En), "cut at 256 kB by Loquat's size limit"),
        1
    );
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room.view(Lang::En));
        ui.click(more).expect("the Show more button");
        ui.into_messages().collect()
    };
    for m in messages {
        assert!(room.update(m).is_none(), "unfolding is the view's business");
    }
    assert_eq!(count(room.view(Lang::En), "line 0999"), 1, "unfolded");
    assert_eq!(count(room.view(Lang::En), "Show less"), 1);
    assert_eq!(count(room.view(Lang::ZhCn), "收起"), 1, "and in Chinese");
}

#[test]
fn leave_asks_whether_to_forget_the_bookmark() {
    use loquat::ui::room::{Event, Panel};
    let mut panel = Panel::default();
    let r = joined_room();
    let key = (r.account.clone(), r.jid.clone());
    panel.rooms.insert(key.clone(), r);
    let mut area = MainArea::Room(key.0.clone(), key.1.clone());
    fn main<'a>(
        panel: &'a Panel,
        area: &'a MainArea,
    ) -> iced::Element<'a, loquat::ui::room::Message> {
        panel
            .main_view(area, Lang::En, Vec::new(), Default::default())
            .expect("room")
    }
    assert_eq!(count(main(&panel, &area), "Leave for now"), 0);
    assert!(
        click_panel(&mut panel, &mut area, "Leave").is_empty(),
        "only asks"
    );
    assert_eq!(count(main(&panel, &area), "Leave for now"), 1);
    // Cancel: nothing sent, the question goes.
    assert!(click_panel(&mut panel, &mut area, "Cancel").is_empty());
    assert_eq!(count(main(&panel, &area), "Leave for now"), 0);
    // Leave for now: unavailable presence only (the session keeps the bookmark).
    click_panel(&mut panel, &mut area, "Leave");
    let asks = click_panel(&mut panel, &mut area, "Leave for now");
    assert!(
        matches!(asks.as_slice(), [Event::Commands(a, c)] if *a == key.0
            && matches!(c.as_slice(), [Command::LeaveRoom { room }] if *room == key.1)),
        "{asks:?}"
    );
    // Leave and forget: the bookmark goes too.
    click_panel(&mut panel, &mut area, "Leave");
    let asks = click_panel(&mut panel, &mut area, "Leave and forget the bookmark");
    assert!(
        matches!(asks.as_slice(), [Event::Commands(_, c)]
            if matches!(c.as_slice(), [Command::LeaveRoom { .. }, Command::ForgetBookmark { room }] if *room == key.1)),
        "{asks:?}"
    );
    // And in Chinese.
    panel.rooms.get_mut(&key).expect("room").leaving = true;
    let zh = panel
        .main_view(&area, Lang::ZhCn, Vec::new(), Default::default())
        .expect("room");
    assert_eq!(count(zh, "退出并删除书签"), 1);
}

#[test]
fn the_join_dialog_lists_bookmarks_with_autojoin_and_remove() {
    use loquat::session::rooms::Bookmark;
    use loquat::ui::room::{Event, Message as P, Panel};
    let account = AccountId("acc".into());
    let mut panel = Panel::default();
    let mut area = MainArea::Nothing;
    panel.update(
        &mut area,
        P::OpenJoin,
        Some(account.clone()),
        Some("alice".into()),
    );
    fn main<'a>(
        panel: &'a Panel,
        area: &'a MainArea,
    ) -> iced::Element<'a, loquat::ui::room::Message> {
        panel
            .main_view(area, Lang::En, Vec::new(), Default::default())
            .expect("join dialog")
    }
    assert_eq!(count(main(&panel, &area), "No bookmarked rooms yet"), 1);
    let bookmark = |room: &str, name: Option<&str>, autojoin| Bookmark {
        room: jid(room),
        name: name.map(str::to_owned),
        nick: Some("alice".into()),
        password: None,
        autojoin,
    };
    panel.apply(
        &mut area,
        &account,
        &RoomUpdate::Bookmarks(vec![
            bookmark("tea@conference.example.org", Some("Tea lovers"), true),
            bookmark("coffee@conference.example.org", None, false),
        ]),
    );
    assert_eq!(count(main(&panel, &area), "Tea lovers"), 1);
    assert_eq!(
        count(main(&panel, &area), "coffee@conference.example.org"),
        1
    );
    assert_eq!(count(main(&panel, &area), "No bookmarked rooms yet"), 0);
    let asks = click_panel(&mut panel, &mut area, "Tea lovers");
    assert!(asks.is_empty(), "the name is not a button: {asks:?}");
    let asks = {
        let messages: Vec<P> = {
            let mut ui = simulator(main(&panel, &area));
            ui.click("Remove bookmark").expect("Remove bookmark");
            ui.into_messages().collect()
        };
        messages
            .into_iter()
            .filter_map(|m| panel.update(&mut area, m, None, None))
            .collect::<Vec<_>>()
    };
    assert!(
        matches!(asks.as_slice(), [Event::Command(a, Command::ForgetBookmark { room })]
            if *a == account && room.as_str() == "tea@conference.example.org"),
        "{asks:?}"
    );
    let asks = panel.update(
        &mut area,
        P::BookmarkAutojoin(account.clone(), jid("coffee@conference.example.org"), true),
        None,
        None,
    );
    assert!(
        matches!(
            asks,
            Some(Event::Command(
                _,
                Command::SetBookmarkAutojoin { autojoin: true, .. }
            ))
        ),
        "{asks:?}"
    );
}

/// A nick with bidirectional controls ("\u{202E}nimda" reads as "admin", "\u{2067}"
/// isolates the text after it right to left) shows without them everywhere a room
/// shows nicks: the occupant list, the sender of a message, the typing line, the
/// join note and the moderation box.
#[test]
fn room_nicks_show_without_bidi_controls() {
    let evil = "\u{202E}nimda\u{2067}x";
    let mut room = support::view::joined_room(vec![
        occupant("alice", Role::Moderator, Affiliation::Owner),
        occupant(evil, Role::Participant, Affiliation::None),
    ]);
    room.apply(&RoomUpdate::Occupant {
        room: room.jid.clone(),
        occupant: occupant("\u{202E}wen", Role::Participant, Affiliation::None),
        joined: true,
    });
    room.push(
        ChatMessage {
            id: LocalMessageId::generate(),
            account: room.account.clone(),
            conversation: ConversationId::Room(room.jid.clone()),
            direction: Direction::Incoming,
            sender: evil.into(),
            body: "hello".into(),
            timestamp_ms: 0,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
            truncated: false,
            extras: Default::default(),
        },
        true,
    );
    room.typing.set(evil, loquat::session::ChatState::Composing);
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(room.view(Lang::En));
        ui.click("Moderate…").expect("Moderate…");
        ui.into_messages().collect()
    };
    for m in messages {
        let _ = room.update(m);
    }
    for control in ["\u{202E}", "\u{2067}"] {
        assert_eq!(count(room.view(Lang::En), control), 0, "{control:?} shown");
    }
    // The list, the sender, the typing line, the moderation box.
    assert!(count(room.view(Lang::En), "nimdax") >= 4);
    assert_eq!(count(room.view(Lang::En), "nimdax is typing"), 1);
    assert_eq!(count(room.view(Lang::En), "Moderate nimdax"), 1);
    assert_eq!(count(room.view(Lang::En), "wen joined"), 1);
}
