//! Headless UI tests of faces in rooms and the occupant profile (issue #18), on the
//! whole app: the room's avatar in its header and the conversation list, occupants'
//! faces in the occupant list and beside their messages (initials where there is
//! none), and an occupant's profile with its actions, in English and Chinese.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_room_faces`
//! Screenshots: `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_room_faces -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]

mod support;
use support::app::{click, found, sim};
use support::session::jid;

use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Delivery, Direction, Show};
use loquat::session::profile::Profile;
use loquat::session::rooms::{Affiliation, Occupant, Role, RoomUpdate};
use loquat::session::{Command, Handle, Update, UpdateKind};
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::i18n::Lang;
use loquat::ui::room::{self, joined, occupant_profile};
use loquat::ui::{App, Message};
use loquat::xmpp::profile::{Card, Software};
use std::path::{Path, PathBuf};
use tokio::sync::mpsc::UnboundedReceiver;
use xmpp_parsers::jid::BareJid;

const ROOM: &str = "tea@conference.example.org";
/// Bob's picture and the room's: colours no theme uses, to find them in a screenshot.
const MAGENTA: [u8; 3] = [230, 20, 200];
const TEAL: [u8; 3] = [10, 190, 170];

fn account() -> AccountId {
    AccountId("acc".into())
}

fn room() -> BareJid {
    jid(ROOM)
}

fn feed(app: &mut App, kind: UpdateKind) {
    let _ = app.update(Message::Session(Update {
        account: account(),
        kind,
    }));
}

fn to_room(app: &mut App, m: joined::Message) {
    let _ = app.update(Message::Rooms(room::Message::Room(m)));
}

/// A thumbnail of one colour as the session caches it.
fn picture(dir: &Path, name: &str, colour: [u8; 3]) -> PathBuf {
    let img =
        image::RgbaImage::from_pixel(64, 64, image::Rgba([colour[0], colour[1], colour[2], 255]));
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let path = dir.join(name);
    std::fs::write(&path, loquat::avatar::thumbnail_png(&png).unwrap()).unwrap();
    path
}

fn occupant(nick: &str, role: Role, affiliation: Affiliation, real: Option<&str>) -> Occupant {
    Occupant {
        nick: nick.into(),
        role,
        affiliation,
        real_jid: real.map(jid),
        show: Show::Online,
    }
}

fn said(nick: &str, body: &str, ts: i64) -> ChatMessage {
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: LocalMessageId::generate(),
        account: account(),
        conversation: ConversationId::Room(room()),
        direction: Direction::Incoming,
        sender: nick.into(),
        body: body.into(),
        timestamp_ms: ts,
        stanza_id_attr: None,
        origin_id: None,
        server_id: Some(format!("s-{ts}")),
        delivery: Delivery::Delivered,
        attachment: None,
    }
}

/// Signed in, in the tea room with Bob (a face, a real address) and 王小明 (neither);
/// the room has a face; both wrote.
fn start(lang: Lang, bob: &Path, room_pic: &Path) -> (App, UnboundedReceiver<Command>) {
    let mut acc = Account::new(jid("alice@example.org"));
    acc.id = account();
    let mut app = App::from_startup(
        lang,
        Startup {
            accounts: vec![LoadedAccount::new(acc, Some("pw".into()))],
            ..Startup::default()
        },
    );
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    feed(&mut app, UpdateKind::Ready(Handle::new(tx)));
    feed(
        &mut app,
        UpdateKind::Room(RoomUpdate::Joining {
            room: room(),
            nick: "alice".into(),
        }),
    );
    feed(
        &mut app,
        UpdateKind::Room(RoomUpdate::Joined {
            room: room(),
            nick: "alice".into(),
            occupants: vec![
                occupant("alice", Role::Participant, Affiliation::Member, None),
                occupant(
                    "bob",
                    Role::Moderator,
                    Affiliation::Owner,
                    Some("bob@example.org"),
                ),
                occupant("王小明", Role::Participant, Affiliation::None, None),
            ],
        }),
    );
    let _ = app.update(Message::Rooms(room::Message::Open(account(), room())));
    feed(
        &mut app,
        UpdateKind::Avatars(vec![(room(), Some(room_pic.to_path_buf()))]),
    );
    feed(
        &mut app,
        UpdateKind::OccupantAvatars {
            room: room(),
            faces: vec![("bob".into(), Some(bob.to_path_buf()))],
        },
    );
    let now = chrono::Utc::now().timestamp_millis();
    feed(
        &mut app,
        UpdateKind::Message(said("bob", "tea is ready", now - 2_000)),
    );
    feed(&mut app, UpdateKind::Message(said("王小明", "谢谢", now)));
    (app, rx)
}

/// Pixels of the screenshot of the app's view within a few steps of `colour`.
fn pixels(app: &App, dir: &Path, name: &str, colour: [u8; 3]) -> usize {
    let mut ui = sim(app);
    let snapshot = ui.snapshot(&iced::Theme::Light).expect("snapshot");
    assert!(snapshot.matches_image(dir.join(name)).expect("png"));
    let file = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(name))
        .expect("the screenshot file");
    let shot = image::open(&file).unwrap().to_rgb8();
    std::fs::remove_file(file).unwrap();
    shot.pixels()
        .filter(|p| p.0.iter().zip(colour).all(|(a, b)| a.abs_diff(b) < 6))
        .count()
}

#[test]
fn faces_in_the_room_header_occupant_list_and_beside_messages() {
    let dir = tempfile::tempdir().unwrap();
    let bob = picture(dir.path(), "bob.png", MAGENTA);
    let room_pic = picture(dir.path(), "room.png", TEAL);
    for lang in [Lang::En, Lang::ZhCn] {
        let (mut app, _rx) = start(lang, &bob, &room_pic);
        let shots = tempfile::tempdir().unwrap();
        // Bob's face: in the occupant list (24 px) and beside his message (28 px).
        let faces = pixels(&app, shots.path(), "faces", MAGENTA);
        assert!(faces > 700, "{lang:?}: {faces} pixels of Bob's face");
        // The room's: in its header (36 px) and the conversation list (32 px).
        let room_face = pixels(&app, shots.path(), "room", TEAL);
        assert!(
            room_face > 1200,
            "{lang:?}: {room_face} pixels of the room's face"
        );
        // No initial for Bob; 王小明 has his, in the list and beside his message.
        assert!(found(&app, "B", true).is_empty(), "{lang:?}");
        assert!(found(&app, "王", true).len() >= 2, "{lang:?}");

        // Bob took his picture away, the room too: initials again.
        feed(
            &mut app,
            UpdateKind::OccupantAvatars {
                room: room(),
                faces: vec![("bob".into(), None)],
            },
        );
        feed(&mut app, UpdateKind::Avatars(vec![(room(), None)]));
        assert_eq!(pixels(&app, shots.path(), "gone", MAGENTA), 0, "{lang:?}");
        assert_eq!(pixels(&app, shots.path(), "gone2", TEAL), 0, "{lang:?}");
        assert!(!found(&app, "B", true).is_empty(), "{lang:?}");
    }
}

fn bobs_profile() -> Profile {
    Profile {
        card: Some(Card {
            full_name: Some("Bob Builder".into()),
            note: Some("Can we fix it?".into()),
            ..Card::default()
        }),
        software: vec![(
            "bob".into(),
            Software {
                name: "Gajim".into(),
                version: Some("1.9".into()),
                os: None,
            },
        )],
        not_connected: false,
    }
}

#[test]
fn the_occupant_profile_shows_what_is_known_and_acts() {
    let dir = tempfile::tempdir().unwrap();
    let bob = picture(dir.path(), "bob.png", MAGENTA);
    let room_pic = picture(dir.path(), "room.png", TEAL);
    for (lang, profile, address, add, block, private, hidden, role, back) in [
        (
            Lang::En,
            "Profile",
            "Address",
            "Add contact",
            "Block",
            "Message privately",
            "The room does not show their address.",
            "Role",
            "Back to the room",
        ),
        (
            Lang::ZhCn,
            "资料",
            "地址",
            "添加联系人",
            "屏蔽",
            "私信",
            "群聊未公开其地址。",
            "角色",
            "返回群聊",
        ),
    ] {
        let (mut app, mut rx) = start(lang, &bob, &room_pic);
        // Every occupant has a "Profile" link in the list.
        assert_eq!(found(&app, profile, true).len(), 3, "{lang:?}");
        to_room(&mut app, joined::Message::OpenProfile("bob".into()));
        // Still asking: the room's fields show, the answers come.
        assert_eq!(found(&app, "bob@example.org", true).len(), 1, "{lang:?}");
        assert_eq!(found(&app, address, true).len(), 1, "{lang:?}");
        assert_eq!(found(&app, role, true).len(), 1, "{lang:?}");
        to_room(
            &mut app,
            joined::Message::Profile(occupant_profile::Message::Loaded(
                room(),
                "bob".into(),
                Box::new(bobs_profile()),
            )),
        );
        assert_eq!(found(&app, "Bob Builder", true).len(), 1, "{lang:?}");
        assert_eq!(found(&app, "Can we fix it?", true).len(), 1, "{lang:?}");
        assert_eq!(found(&app, "Gajim 1.9", true).len(), 1, "{lang:?}");
        // An answer about someone else does not land here.
        to_room(
            &mut app,
            joined::Message::Profile(occupant_profile::Message::Loaded(
                room(),
                "王小明".into(),
                Box::default(),
            )),
        );
        assert_eq!(found(&app, "Bob Builder", true).len(), 1, "{lang:?}");

        // Add his real address; block it.
        let _ = click(&mut app, add);
        let _ = click(&mut app, block);
        let sent: Vec<Command> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert!(
            sent.iter().any(|c| matches!(c,
                Command::AddContact { jid: j, name: Some(n), subscribe: true }
                    if *j == jid("bob@example.org") && n == "bob")),
            "{lang:?}: {sent:?}"
        );
        assert!(
            sent.iter().any(|c| matches!(c,
                Command::Block { jids, .. } if jids.len() == 1 && jids[0].to_bare() == jid("bob@example.org"))),
            "{lang:?}: {sent:?}"
        );
        // Message privately: the private chat in its place.
        let _ = click(&mut app, private);
        assert!(found(&app, "Bob Builder", true).is_empty(), "{lang:?}");

        // Back in the room, his face beside his message opens his profile: the room
        // hides his address, so no contact or block actions.
        let _ = click(&mut app, back);
        let _ = click(&mut app, "王");
        assert_eq!(found(&app, hidden, true).len(), 1, "{lang:?}");
        assert!(found(&app, add, true).is_empty(), "{lang:?}");
        assert!(found(&app, block, true).is_empty(), "{lang:?}");
    }
}

/// A room with faces and an occupant's profile, in English and Chinese, for a person
/// to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_room_faces_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let tmp = tempfile::tempdir().unwrap();
    let bob = picture(tmp.path(), "bob.png", MAGENTA);
    let room_pic = picture(tmp.path(), "room.png", TEAL);
    for (lang, theme, name) in [
        (Lang::En, iced::Theme::Light, "room-faces"),
        (Lang::ZhCn, iced::Theme::Dark, "room-faces-zh"),
    ] {
        let (mut app, _rx) = start(lang, &bob, &room_pic);
        let shot = |app: &App, name: &str| {
            let _ = std::fs::remove_file(dir.join(format!("{name}-tiny-skia.png")));
            let mut ui = sim(app);
            let snapshot = ui.snapshot(&theme).expect("snapshot");
            assert!(snapshot.matches_image(dir.join(name)).expect("png"));
        };
        shot(&app, name);
        to_room(&mut app, joined::Message::OpenProfile("bob".into()));
        to_room(
            &mut app,
            joined::Message::Profile(occupant_profile::Message::Loaded(
                room(),
                "bob".into(),
                Box::new(bobs_profile()),
            )),
        );
        shot(&app, &format!("{name}-profile"));
    }
}
