//! One timeline for every conversation (issue #15): a chat and a room draw the same
//! message the same way (sender, time, clickable link, file card, inline image), a
//! room's link opens, and a file dropped on a room is uploaded and shared in the room
//! as a groupchat message (against Prosody with http_file_share).
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_timeline`; screenshots for review:
//! `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_timeline -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;

use support::session::jid;

use iced::{Point, Rectangle};
use iced_test::selector::Candidate;
use iced_test::simulator;
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Account, Attachment, ChatMessage, Delivery, Direction, Trust};
use loquat::session::rooms::{Affiliation, Role, RoomUpdate};
use loquat::session::{Command, UpdateKind};
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::chat;
use loquat::ui::i18n::Lang;
use loquat::ui::room;
use loquat::ui::room::joined;
use loquat::ui::screen::main_area::MainArea;
use loquat::ui::timeline::previews::{self, Previews};
use loquat::ui::{App, Message};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::view::{joined_room, occupant};
use xmpp_parsers::jid::BareJid;

const LINK: &str = "https://example.org/tea";
const IMAGE_URL: &str = "https://files.example.org/up/cup.png";

/// Bob's messages, five minutes and more apart so each shows its name: a link, an
/// image and a document.
fn bobs_messages(account: &AccountId, peer: &BareJid, room: bool) -> Vec<ChatMessage> {
    let start = support::today_minus(3_600_000);
    let file = |url: &str, name: &str, mime: &str| Attachment {
        url: url.into(),
        name: name.into(),
        size: Some(48_000),
        mime: Some(mime.into()),
    };
    [
        (format!("{LINK} is open today"), None),
        (
            IMAGE_URL.to_owned(),
            Some(file(IMAGE_URL, "cup.png", "image/png")),
        ),
        (
            "https://files.example.org/up/menu.pdf".to_owned(),
            Some(file(
                "https://files.example.org/up/menu.pdf",
                "menu.pdf",
                "application/pdf",
            )),
        ),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (body, attachment))| ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account.clone(),
        conversation: if room {
            ConversationId::Room(peer.clone())
        } else {
            ConversationId::Chat(peer.clone())
        },
        direction: Direction::Incoming,
        sender: "bob".into(),
        body,
        timestamp_ms: start + i as i64 * 600_000,
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: attachment.map(Box::new),
    })
    .collect()
}

fn picture() -> previews::Picture {
    let px: Vec<u8> = (0..120 * 80).flat_map(|_| [200u8, 120, 60, 255]).collect();
    previews::Picture {
        handle: iced::widget::image::Handle::from_rgba(120, 80, px),
        file: PathBuf::from("/tmp/cup.png"),
    }
}

fn loaded_previews() -> Previews {
    let mut p = Previews::default();
    let _ = p.update(previews::Message::Loaded(IMAGE_URL.into(), Ok(picture())));
    p
}

/// What a view shows of the messages: its texts (left of `max_x`, so a room's
/// occupant list is not counted) and where bob's name lines are, top to bottom.
struct Shown {
    texts: Vec<String>,
    names: Vec<Rectangle>,
}

fn shown<M>(view: iced::Element<'_, M>, max_x: f32) -> Shown {
    let mut ui = simulator(view);
    let found = Arc::new(Mutex::new((Vec::new(), Vec::new())));
    let seen = found.clone();
    let _ = ui.find(move |c: Candidate<'_>| -> Option<()> {
        if let Candidate::Text {
            content, bounds, ..
        } = c
            && bounds.x < max_x
            && let Ok(mut f) = seen.lock()
        {
            f.0.push(content.to_owned());
            if content == "bob" {
                f.1.push(bounds);
            }
        }
        None
    });
    let (texts, mut names) = std::mem::take(&mut *found.lock().expect("lock"));
    names.sort_by(|a: &Rectangle, b: &Rectangle| a.y.total_cmp(&b.y));
    Shown { texts, names }
}

/// Clicks just below bob's `n`th name line (on the start of that message's body) and
/// returns what the view produced.
fn click_body<M>(view: iced::Element<'_, M>, name: Rectangle) -> Vec<M> {
    let mut ui = simulator(view);
    ui.point_at(Point::new(name.x + 8.0, name.y + name.height + 12.0));
    let _ = ui.simulate(iced_test::simulator::click());
    ui.into_messages().collect()
}

struct Chat {
    state: chat::State,
    account: Account,
}

fn chat_with_bob() -> Chat {
    let account = Account::new(jid("alice@example.org"));
    let bob = jid("bob@example.org");
    let mut state = chat::State::new(account.id.clone(), ConversationId::Chat(bob), false);
    for m in bobs_messages(&account.id, &jid("bob@example.org"), false) {
        state.push(m);
    }
    Chat { state, account }
}

fn chat_view<'a>(chat: &'a Chat, previews: &'a Previews) -> iced::Element<'a, chat::Message> {
    chat.state.view(chat::Context {
        lang: Lang::En,
        peer_label: "Bob".into(),
        peer: chat.state.conversation.jid(),
        availability: loquat::ui::app::account_state::Availability {
            show: loquat::model::Show::Online,
            status: None,
        },
        in_roster: true,
        account: &chat.account,
        write_as: Vec::new(),
        account_online: true,
        muted: false,
        blocked: None,
        request: false,
        transfers: None,
        previews: Some(previews),
    })
}

fn tea_room() -> joined::Room {
    let mut r = joined_room(vec![
        occupant("alice", Role::Participant, Affiliation::None),
        occupant("bob", Role::Participant, Affiliation::None),
    ]);
    let (account, jid) = (r.account.clone(), r.jid.clone());
    for m in bobs_messages(&account, &jid, true) {
        r.push(m, true);
    }
    r
}

fn room_view<'a>(
    r: &'a joined::Room,
    previews: &'a Previews,
) -> iced::Element<'a, joined::Message> {
    r.view_in(joined::Context {
        lang: Lang::En,
        previews: Some(previews),
        transfers: None,
        avatar: None,
    })
}

#[test]
fn a_link_an_image_and_a_file_show_the_same_in_a_chat_and_in_a_room() {
    let previews = loaded_previews();
    let chat = chat_with_bob();
    let r = tea_room();
    let in_chat = shown(chat_view(&chat, &previews), 700.0);
    let in_room = shown(room_view(&r, &previews), 700.0);

    // The same parts: bob's name over each message, its time, the document's card
    // (name, size, Download, Save as) and no card for the image (it shows inline).
    let time = |m: &ChatMessage| {
        loquat::ui::i18n::timefmt::local(m.timestamp_ms)
            .map(|t| loquat::ui::i18n::timefmt::time(&t))
            .expect("a local time")
    };
    let messages = bobs_messages(&chat.account.id, &jid("bob@example.org"), false);
    for shown in [&in_chat, &in_room] {
        assert_eq!(
            shown.names.len(),
            3,
            "a name line per message: {:?}",
            shown.texts
        );
        for m in &messages {
            assert!(shown.texts.contains(&time(m)), "{:?}", shown.texts);
        }
        for part in ["menu.pdf", "Download", "Today"] {
            assert_eq!(
                shown.texts.iter().filter(|t| t.as_str() == part).count(),
                1,
                "{part}: {:?}",
                shown.texts
            );
        }
        assert!(
            !shown.texts.iter().any(|t| t.contains("cup.png")),
            "the image shows inline, not as a card or its URL: {:?}",
            shown.texts
        );
    }

    // The link is a link in both: a click on it asks to open its address.
    let chat_click = click_body(chat_view(&chat, &previews), in_chat.names[0]);
    assert!(
        chat_click
            .iter()
            .any(|m| matches!(m, chat::Message::OpenLink(u) if u == LINK)),
        "{chat_click:?}"
    );
    let room_click = click_body(room_view(&r, &previews), in_room.names[0]);
    assert!(
        room_click.iter().any(|m| matches!(
            m,
            joined::Message::Timeline(loquat::ui::timeline::Message::OpenLink(u)) if u == LINK
        )),
        "{room_click:?}"
    );

    // The image is the picture in both: a click opens its full view.
    let chat_click = click_body(chat_view(&chat, &previews), in_chat.names[1]);
    assert!(
        chat_click.iter().any(|m| matches!(
            m,
            chat::Message::Transfers(loquat::ui::timeline::transfers::Message::Preview(
                previews::Message::ShowFull(u)
            )) if u == IMAGE_URL
        )),
        "{chat_click:?}"
    );
    let room_click = click_body(room_view(&r, &previews), in_room.names[1]);
    assert!(
        room_click.iter().any(|m| matches!(
            m,
            joined::Message::Timeline(loquat::ui::timeline::Message::Preview(
                previews::Message::ShowFull(u)
            )) if u == IMAGE_URL
        )),
        "{room_click:?}"
    );
}

#[test]
fn a_room_link_opens_and_a_file_card_downloads() {
    let previews = loaded_previews();
    let mut panel = room::Panel::default();
    let r = tea_room();
    let key = (r.account.clone(), r.jid.clone());
    panel.rooms.insert(key.clone(), r);
    let mut area = MainArea::Room(key.0.clone(), key.1.clone());
    let names = {
        let r = &panel.rooms[&key];
        shown(room_view(r, &previews), 700.0).names
    };
    let clicked = click_body(room_view(&panel.rooms[&key], &previews), names[0]);
    let asks: Vec<_> = clicked
        .into_iter()
        .filter_map(|m| panel.update(&mut area, room::Message::Room(m), None, None))
        .collect();
    assert!(
        matches!(asks.as_slice(), [room::Event::Timeline(joined::Event::OpenLink(u))] if u == LINK),
        "{asks:?}"
    );
    // The document's Download button asks for that message's file.
    let clicked = {
        let mut ui = simulator(room_view(&panel.rooms[&key], &previews));
        ui.click("Download").expect("Download");
        ui.into_messages().collect::<Vec<_>>()
    };
    let asks: Vec<_> = clicked
        .into_iter()
        .filter_map(|m| panel.update(&mut area, room::Message::Room(m), None, None))
        .collect();
    assert!(
        matches!(asks.as_slice(), [room::Event::Timeline(joined::Event::Download(m))]
            if m.attachment.as_ref().is_some_and(|a| a.name == "menu.pdf")),
        "{asks:?}"
    );
}

#[test]
fn a_room_has_the_multi_line_composer_and_attach() {
    let mut r = tea_room();
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(r.view(Lang::En));
        ui.click(iced::widget::Id::new(joined::COMPOSER_ID))
            .expect("composer");
        ui.typewrite("first line");
        ui.tap_key(iced::keyboard::Key::Named(
            iced::keyboard::key::Named::Enter,
        ));
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages.into_iter().filter_map(|m| r.update(m)).collect();
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(loquat::session::Command::SendChatState { .. }), joined::Event::Command(loquat::session::Command::SendRoom { body, .. })] if body == "first line"),
        "Enter sends: {events:?}"
    );
    let messages: Vec<joined::Message> = {
        let mut ui = simulator(r.view(Lang::En));
        ui.click("Attach").expect("Attach");
        ui.into_messages().collect()
    };
    let events: Vec<_> = messages.into_iter().filter_map(|m| r.update(m)).collect();
    assert!(
        matches!(events.as_slice(), [joined::Event::Attach]),
        "{events:?}"
    );
}

/// Drives the app with alice's session until `done` says so (or fails after `secs`).
fn pump<T>(
    rt: &tokio::runtime::Runtime,
    app: &mut App,
    updates: &mut support::session::Updates,
    secs: u64,
    what: &str,
    mut done: impl FnMut(&App, &UpdateKind) -> Option<T>,
) -> T {
    use futures::StreamExt;
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let next = rt.block_on(async { tokio::time::timeout(left, updates.next()).await });
        let update = match next {
            Ok(Some(u)) => u,
            Ok(None) => panic!("alice's session ended while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        };
        let kind = update.kind.clone();
        let task = app.update(Message::Session(update));
        support::view::run_tasks(rt, app, task);
        if let Some(t) = done(app, &kind) {
            return t;
        }
    }
}

#[test]
fn a_file_dropped_on_a_room_is_shared_in_the_room() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = support::TestServer::start();
    let (a, pa) = server.fresh_user("alice");
    let (b, pb) = server.fresh_user("bob");
    let room_jid = support::muc::fresh_room("files");

    // Bob is in the room.
    let (mut b_updates, b_handle) = rt.block_on(async {
        let (mut u, h, _) =
            support::session::online(support::muc::params(&server, &b, &pb, None)).await;
        support::muc::join(&h, &room_jid, "bob", None);
        support::muc::joined(&mut u, &room_jid).await;
        (u, h)
    });

    // Alice's app, with her real session.
    let mut account = Account::new(jid(&a));
    account.trust = Trust {
        extra_roots_pem: Some(server.ca_pem()),
        pinned_sha256: Vec::new(),
    };
    let id = account.id.clone();
    let mut app = App::from_startup(
        Lang::En,
        Startup {
            accounts: vec![LoadedAccount::new(account, Some(pa.clone()))],
            ..Startup::default()
        },
    );
    let params = support::session::local_params(
        id.clone(),
        server.c2s_port(),
        server.ca_pem(),
        &a,
        &pa,
        None,
    );
    let mut a_updates: support::session::Updates = Box::pin(loquat::session::run(params));
    let a_handle = pump(&rt, &mut app, &mut a_updates, 10, "ready", |_, k| match k {
        UpdateKind::Ready(h) => Some(h.clone()),
        _ => None,
    });
    pump(
        &rt,
        &mut app,
        &mut a_updates,
        20,
        "online",
        |_, k| match k {
            UpdateKind::Online { .. } => Some(()),
            UpdateKind::Failed(e) => panic!("login failed: {e}"),
            _ => None,
        },
    );
    // Joined through the session, then opened from the inbox.
    support::muc::join(&a_handle, &room_jid, "alice", None);
    pump(
        &rt,
        &mut app,
        &mut a_updates,
        20,
        "joined",
        |_, k| match k {
            UpdateKind::Room(RoomUpdate::Joined { room, .. }) if *room == room_jid => Some(()),
            _ => None,
        },
    );
    let open = app.update(Message::Rooms(room::Message::Open(
        id.clone(),
        room_jid.clone(),
    )));
    support::view::run_tasks(&rt, &mut app, open);

    // The file is dropped on the window: uploaded, then shared in the room.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tea-menu.txt");
    std::fs::write(&path, "sencha, gyokuro, matcha\n").expect("write");
    let upload = app.update(Message::FilesChosen(vec![path]));
    support::view::run_tasks(&rt, &mut app, upload);
    // It waits until the room's lock knows whether the room is encrypted: the session
    // (no OMEMO on this account) says so, then it goes as it is.
    pump(
        &rt,
        &mut app,
        &mut a_updates,
        20,
        "the room's lock",
        |_, k| match k {
            UpdateKind::Omemo(r) if r.peer == room_jid => Some(()),
            _ => None,
        },
    );

    // Bob sees it in the room, as a file from alice.
    let got = rt.block_on(support::session::wait_for(
        &mut b_updates,
        20,
        "the file in the room",
        |k| match k {
            UpdateKind::Message(m) if m.conversation.is_room() && m.attachment.is_some() => {
                Some(m.clone())
            }
            _ => None,
        },
    ));
    assert_eq!(*got.peer(), room_jid);
    assert_eq!(got.sender, "alice");
    assert_eq!(
        got.attachment.as_ref().map(|f| f.name.as_str()),
        Some("tea-menu.txt")
    );
    // Alice's room shows her file once the room reflected it.
    pump(
        &rt,
        &mut app,
        &mut a_updates,
        20,
        "reflected",
        |_, k| match k {
            UpdateKind::Delivery {
                state: Delivery::Delivered,
                ..
            } => Some(()),
            _ => None,
        },
    );
    assert!(support::view::count(app.view(), "tea-menu.txt") >= 1);
    assert_eq!(support::view::count(app.view(), "✓ in the room"), 1);
    drop(b_handle);
}

fn shoot<M>(view: iced::Element<'_, M>, size: iced::Size, dir: &std::path::Path, name: &str) {
    let mut ui = iced_test::simulator::Simulator::with_size(Default::default(), size, view);
    let snapshot = ui.snapshot(&iced::Theme::Light).expect("snapshot");
    let path = dir.join(name);
    let _ = std::fs::remove_file(path.with_file_name(format!("{name}-tiny-skia.png")));
    assert!(snapshot.matches_image(&path).expect("write png"));
}

/// Renders a room and a chat with the same messages to PNG for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_timelines_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let previews = loaded_previews();
    let mut r = tea_room();
    let (account, room_jid) = (r.account.clone(), r.jid.clone());
    r.apply(&RoomUpdate::Subject {
        room: room_jid.clone(),
        subject: "Green tea only 🍵".into(),
        by: Some("bob".into()),
    });
    let now = chrono::Utc::now().timestamp_millis();
    for (sender, body, direction, at, delivery) in [
        (
            "carol",
            "Hi all — 大家好",
            Direction::Incoming,
            now - 120_000,
            Delivery::Delivered,
        ),
        (
            "carol",
            "A very long word: https://example.org/a/really/long/path/that/does/not/fit/in/one/line/of/the/bubble/at/all",
            Direction::Incoming,
            now - 100_000,
            Delivery::Delivered,
        ),
        (
            "alice",
            "Sencha for me.",
            Direction::Outgoing,
            now - 60_000,
            Delivery::Delivered,
        ),
        (
            "alice",
            "And one still on its way",
            Direction::Outgoing,
            now,
            Delivery::Sent,
        ),
    ] {
        r.push(
            ChatMessage {
                truncated: false,
                extras: Default::default(),
                id: LocalMessageId::generate(),
                account: account.clone(),
                conversation: ConversationId::Room(room_jid.clone()),
                direction,
                sender: sender.into(),
                body: body.into(),
                timestamp_ms: at,
                stanza_id_attr: None,
                origin_id: None,
                server_id: None,
                delivery,
                attachment: None,
            },
            true,
        );
    }
    for name in [
        "quarterly_tea_import_statistics_for_the_whole_region_2026_final_v3_really_final.pdf",
        "invoice\u{202E}fdp.exe",
    ] {
        r.push(
            ChatMessage {
                truncated: false,
                extras: Default::default(),
                id: LocalMessageId::generate(),
                account: account.clone(),
                conversation: ConversationId::Room(room_jid.clone()),
                direction: Direction::Incoming,
                sender: "dave".into(),
                body: format!("https://files.example.org/up/{name}"),
                timestamp_ms: now,
                stanza_id_attr: None,
                origin_id: None,
                server_id: None,
                delivery: Delivery::Delivered,
                attachment: Some(Box::new(Attachment {
                    url: format!("https://files.example.org/up/{name}"),
                    name: name.into(),
                    size: None,
                    mime: None,
                })),
            },
            true,
        );
    }
    let size = iced::Size::new(1100.0, 900.0);
    shoot(room_view(&r, &previews), size, &dir, "timeline-room");
    r.leaving = true;
    shoot(room_view(&r, &previews), size, &dir, "room-leave");
    let mut owned = joined_room(vec![
        occupant("alice", Role::Moderator, Affiliation::Owner),
        loquat::session::rooms::Occupant {
            real_jid: Some(jid("bob@example.org")),
            ..occupant("bob", Role::Participant, Affiliation::None)
        },
        occupant("carol", Role::Visitor, Affiliation::None),
    ]);
    owned.lines = r.lines.clone();
    owned.moderating = Some(joined::moderation::Moderating {
        nick: "bob".into(),
        reason: "too loud".into(),
    });
    shoot(room_view(&owned, &previews), size, &dir, "room-moderation");
    let mut panel = room::Panel::default();
    let account = AccountId("acc".into());
    let mut area = MainArea::Nothing;
    panel.update(
        &mut area,
        room::Message::OpenJoin,
        Some(account.clone()),
        Some("alice".into()),
    );
    panel.apply(
        &mut area,
        &account,
        &RoomUpdate::Bookmarks(vec![
            loquat::session::rooms::Bookmark {
                room: jid("tea@conference.example.org"),
                name: Some("Tea lovers".into()),
                nick: Some("alice".into()),
                password: None,
                autojoin: true,
            },
            loquat::session::rooms::Bookmark {
                room: jid("coffee@conference.example.org"),
                name: None,
                nick: None,
                password: None,
                autojoin: false,
            },
        ]),
    );
    shoot(
        panel
            .main_view(&area, Lang::En, Vec::new(), Default::default())
            .expect("join dialog"),
        size,
        &dir,
        "bookmarks",
    );
    // Corrected, reacted to and deleted messages.
    {
        let mut changed_room = tea_room();
        let originals: Vec<ChatMessage> = changed_room
            .lines
            .iter()
            .filter_map(|l| match l {
                joined::Line::Chat(m) => Some((**m).clone()),
                _ => None,
            })
            .collect();
        for m in changed(originals) {
            changed_room.replace(&m);
        }
        shoot(
            room_view(&changed_room, &previews),
            size,
            &dir,
            "timeline-changes",
        );
    }
    // Members and bans, on the ban list with one entry and a refusal said in words.
    {
        use loquat::ui::room::members;
        use loquat::xmpp::muc::affiliations::Affiliated;
        let mut dialog = members::State::new(account.clone(), jid("tea@conference.example.org"));
        dialog.update(members::Message::Show(Affiliation::Outcast));
        dialog.update(members::Message::Loaded(
            Affiliation::Outcast,
            Ok(vec![Affiliated {
                jid: jid("spammer@evil.example"),
                nick: Some("sp4m".into()),
                reason: Some("links to a shop, again".into()),
            }]),
        ));
        dialog.update(members::Message::Address("troll@bad.example".into()));
        dialog.update(members::Message::Changed(
            jid("troll@bad.example"),
            Affiliation::Outcast,
            Err(loquat::session::roomtools::QueryError::Refused {
                condition: loquat::session::roomtools::Condition::Forbidden,
                text: None,
            }),
        ));
        let area = MainArea::RoomMembers(Box::new(dialog));
        shoot(
            panel
                .main_view(&area, Lang::En, Vec::new(), Default::default())
                .expect("members dialog"),
            size,
            &dir,
            "room-members",
        );
    }
    let chat = chat_with_bob();
    shoot(chat_view(&chat, &previews), size, &dir, "timeline-chat");
    modern_shots(&dir, size, &previews);
}

/// The message actions, the edit and reply bars, a received reply's quote, styled
/// text and /me, in English and Chinese.
fn modern_shots(dir: &std::path::Path, size: iced::Size, previews: &Previews) {
    use loquat::ui::timeline::actions::Action;
    let account = Account::new(jid("alice@example.org"));
    let bob = jid("bob@example.org");
    let start = support::today_minus(1_800_000);
    let message = |direction: Direction, body: &str, minute: i64| {
        let id = LocalMessageId::generate();
        ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: id.clone(),
            account: account.id.clone(),
            conversation: ConversationId::Chat(bob.clone()),
            direction,
            sender: String::new(),
            body: body.into(),
            timestamp_ms: start + minute * 60_000,
            stanza_id_attr: Some(id.0.clone()),
            origin_id: Some(id.0.clone()),
            server_id: None,
            delivery: Delivery::Read,
            attachment: None,
        }
    };
    let question = message(
        Direction::Incoming,
        "Shall we meet for tea at five?\nOr is six better?",
        0,
    );
    let yes = message(Direction::Outgoing, "Five is perfect", 1);
    let mut reply = message(Direction::Incoming, "Great, see you then!", 7);
    reply.extras.reply_to = Some(loquat::model::extras::ReplyTo {
        id: yes.id.0.clone(),
        to: None,
        fallback: None,
    });
    let styled = message(
        Direction::Incoming,
        "I *really* like _this_ place, ~not~ the `other` one: https://example.org/tea\n> They have sencha\nand matcha\n```\nlet cups = 2;\n```",
        14,
    );
    let me = message(Direction::Incoming, "/me waves from the door", 20);
    let mine = message(Direction::Outgoing, "On my way *now*", 21);
    let mut chat = Chat {
        state: chat::State::new(account.id.clone(), ConversationId::Chat(bob.clone()), false),
        account: account.clone(),
    };
    for m in [&question, &yes, &reply, &styled, &me, &mine] {
        chat.state.push(m.clone());
    }
    fn view<'a>(
        chat: &'a Chat,
        lang: Lang,
        previews: &'a Previews,
    ) -> iced::Element<'a, chat::Message> {
        chat.state.view(chat::Context {
            lang,
            peer_label: "Bob".into(),
            peer: chat.state.conversation.jid(),
            availability: loquat::ui::app::account_state::Availability {
                show: loquat::model::Show::Online,
                status: None,
            },
            in_roster: true,
            account: &chat.account,
            write_as: Vec::new(),
            account_online: true,
            muted: false,
            blocked: None,
            request: false,
            transfers: None,
            previews: Some(previews),
        })
    }
    for (lang, tag) in [(Lang::En, "en"), (Lang::ZhCn, "zh")] {
        // Styled text, /me and a received reply, with bob's message's row open.
        chat.state.actions = Default::default();
        chat.state
            .update(chat::Message::Action(Action::Toggle(question.id.clone())));
        shoot(
            view(&chat, lang, previews),
            size,
            dir,
            &format!("modern-actions-{tag}"),
        );
        chat.state
            .update(chat::Message::Action(Action::MoreReactions));
        shoot(
            view(&chat, lang, previews),
            size,
            dir,
            &format!("modern-more-reactions-{tag}"),
        );
        // Our message's row: Edit and Delete too; then Delete's question.
        chat.state
            .update(chat::Message::Action(Action::Toggle(mine.id.clone())));
        shoot(
            view(&chat, lang, previews),
            size,
            dir,
            &format!("modern-own-actions-{tag}"),
        );
        chat.state
            .update(chat::Message::Action(Action::Delete(mine.id.clone())));
        shoot(
            view(&chat, lang, previews),
            size,
            dir,
            &format!("modern-delete-{tag}"),
        );
        chat.state.update(chat::Message::Action(Action::Dismiss));
        // Editing our last message (Up in the empty composer).
        chat.state.update(chat::Message::Action(Action::EditLast));
        shoot(
            view(&chat, lang, previews),
            size,
            dir,
            &format!("modern-editing-{tag}"),
        );
        chat.state
            .update(chat::Message::Action(Action::CancelCompose));
        // The emoji picker open above the composer.
        chat.state.update(chat::Message::Action(Action::Picker));
        shoot(
            view(&chat, lang, previews),
            size,
            dir,
            &format!("modern-picker-{tag}"),
        );
        chat.state.update(chat::Message::Action(Action::Picker));
        // Replying to bob, and the quote clicked: the original highlighted.
        chat.state
            .update(chat::Message::Action(Action::Reply(question.id.clone())));
        chat.state
            .update(chat::Message::Action(Action::Jump(yes.id.clone())));
        shoot(
            view(&chat, lang, previews),
            size,
            dir,
            &format!("modern-reply-{tag}"),
        );
    }
    // The same in the dark theme: the row, the quote and the reply bar.
    chat.state.actions = Default::default();
    chat.state
        .update(chat::Message::Action(Action::Reply(question.id.clone())));
    chat.state
        .update(chat::Message::Action(Action::Toggle(mine.id.clone())));
    let mut ui = iced_test::simulator::Simulator::with_size(
        Default::default(),
        size,
        view(&chat, Lang::En, previews),
    );
    let snapshot = ui.snapshot(&iced::Theme::Dark).expect("snapshot");
    let path = dir.join("modern-dark");
    let _ = std::fs::remove_file(dir.join("modern-dark-tiny-skia.png"));
    assert!(snapshot.matches_image(&path).expect("write png"));
    // A room moderator removing a message, with a reason.
    let mut r = joined_room(vec![
        occupant("alice", Role::Moderator, Affiliation::Owner),
        occupant("bob", Role::Participant, Affiliation::None),
    ]);
    let (acc, room_jid) = (r.account.clone(), r.jid.clone());
    let mut spam = message(
        Direction::Incoming,
        "Cheap pills at https://spam.example",
        25,
    );
    spam.account = acc;
    spam.conversation = ConversationId::Room(room_jid);
    spam.sender = "mallory".into();
    let spam_id = spam.id.clone();
    r.push(spam, true);
    let act = |a| joined::Message::Timeline(loquat::ui::timeline::Message::Action(a));
    r.update(act(Action::Toggle(spam_id.clone())));
    shoot(room_view(&r, previews), size, dir, "modern-room-actions");
    r.update(act(Action::Remove(spam_id)));
    r.update(act(Action::Reason("advertising".into())));
    shoot(room_view(&r, previews), size, dir, "modern-room-remove");
}

/// Bob's first message corrected and reacted to (by bob and by us), his last one
/// retracted, as the session hands changed messages over (`MessageChanged`).
fn changed(mut messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
    use loquat::model::extras::{Reactions, Retraction, Version};
    let first = &mut messages[0];
    first.extras.versions = vec![
        Version {
            body: "https://example.org/tea is opne today".into(),
            at_ms: first.timestamp_ms,
            id: None,
        },
        Version {
            body: first.body.clone(),
            at_ms: first.timestamp_ms + 1000,
            id: Some("fix-1".into()),
        },
    ];
    first.extras.reactions = vec![
        Reactions {
            reactor: "bob".into(),
            name: "bob".into(),
            mine: false,
            emojis: vec!["👍".into(), "🍵".into()],
            at_ms: 1,
        },
        Reactions {
            reactor: "me".into(),
            name: String::new(),
            mine: true,
            emojis: vec!["👍".into()],
            at_ms: 2,
        },
    ];
    let last = messages.last_mut().expect("a message");
    last.body.clear();
    last.attachment = None;
    last.extras.retracted = Some(Retraction {
        at_ms: 3,
        moderated: false,
        by: None,
        reason: None,
    });
    messages
}

#[test]
fn edits_reactions_and_deletions_show_the_same_in_a_chat_and_a_room_and_a_click_toggles_ours() {
    let previews = loaded_previews();
    let mut chat = chat_with_bob();
    let mut r = tea_room();
    let originals: Vec<ChatMessage> = chat.state.messages().to_vec();
    let room_originals: Vec<ChatMessage> = r
        .lines
        .iter()
        .filter_map(|l| match l {
            joined::Line::Chat(m) => Some((**m).clone()),
            _ => None,
        })
        .collect();
    // The session's MessageChanged: the stored versions replace the shown ones.
    for m in changed(originals) {
        assert!(chat.state.replace(&m));
    }
    let room_messages = changed(room_originals);
    for m in &room_messages {
        assert!(r.replace(m));
    }
    for texts in [
        shown(chat_view(&chat, &previews), 2000.0).texts,
        shown(room_view(&r, &previews), 700.0).texts,
    ] {
        for wanted in ["👍 2", "🍵 1", "edited", "This message was deleted."] {
            assert!(texts.iter().any(|t| t == wanted), "{wanted:?} in {texts:?}");
        }
        assert!(
            !texts.iter().any(|t| t.contains("menu.pdf")),
            "the deleted file is gone"
        );
    }
    // Clicking our 👍 takes it away; clicking 🍵 adds it to ours.
    let clicked: Vec<chat::Message> = {
        let mut ui = simulator(chat_view(&chat, &previews));
        ui.click("👍 2").expect("chip");
        ui.into_messages().collect()
    };
    let events: Vec<chat::Event> = clicked
        .into_iter()
        .filter_map(|m| chat.state.update(m))
        .collect();
    assert!(
        matches!(events.as_slice(), [chat::Event::React { emojis, .. }] if emojis.is_empty()),
        "{events:?}"
    );
    let clicked: Vec<joined::Message> = {
        let mut ui = simulator(room_view(&r, &previews));
        ui.click("🍵 1").expect("chip");
        ui.into_messages().collect()
    };
    let events: Vec<joined::Event> = clicked.into_iter().filter_map(|m| r.update(m)).collect();
    assert!(
        matches!(events.as_slice(), [joined::Event::Command(Command::React { emojis, conversation: ConversationId::Room(_), .. })]
            if *emojis == vec!["👍".to_owned(), "🍵".to_owned()]),
        "{events:?}"
    );
    // A later change (a correction arriving) replaces the text in place.
    let mut fixed = room_messages[0].clone();
    fixed.body = "the cup, again".into();
    assert!(r.replace(&fixed));
    assert!(
        shown(room_view(&r, &previews), 700.0)
            .texts
            .iter()
            .any(|t| t == "the cup, again")
    );
}
