//! Headless UI tests of Settings > Accounts > Profile (issue #18): "Edit profile…"
//! loads our profile from the server, the form shows it, what is typed is saved back to
//! the vCard, and the answer is said in words. In English and Chinese. The session's side
//! is played here: each `Command::Query` is answered as a server without PEP would
//! (tests/own_profile.rs does it against Prosody).
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_own_profile`
//! Screenshots: `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_own_profile -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]

mod support;
use support::app::{click, interact, shows};
use support::session::jid;
use support::view::run_tasks as run;

use iced::widget::Id;
use loquat::ids::AccountId;
use loquat::model::Account;
use loquat::session::{Command, Handle, Update, UpdateKind};
use loquat::store::Store;
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::i18n::Lang;
use loquat::ui::screen::settings::profile::Field;
use loquat::ui::{App, Message};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use xmpp_parsers::jid::FullJid;
use xmpp_parsers::minidom::Element;

const ME: &str = "alice@example.org";

fn account() -> Account {
    let mut account = Account::new(jid(ME));
    account.id = AccountId("acc".into());
    account
}

/// The pretend server's vCard, the vCards set, and the avatars the session was asked
/// to publish.
struct Server {
    vcard: String,
    sets: Vec<String>,
    published: Vec<Vec<u8>>,
}

fn start(rt: &tokio::runtime::Runtime, lang: Lang) -> (App, Arc<Mutex<Server>>) {
    let store = Store::open_temporary().unwrap();
    let mut app = App::from_startup(lang, Startup::default());
    let task = app.update(Message::Started(Startup {
        accounts: vec![LoadedAccount::new(account(), Some("pw".into()))],
        store: Some(store),
        ..Startup::default()
    }));
    run(rt, &mut app, task);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Command>();
    let server = Arc::new(Mutex::new(Server {
        vcard: "<vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN><DESC>老朋友</DESC>\
                <PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0KGgo=</BINVAL></PHOTO></vCard>"
            .into(),
        sets: Vec::new(),
        published: Vec::new(),
    }));
    let s = server.clone();
    rt.spawn(async move {
        while let Some(command) = rx.recv().await {
            if let Command::PublishAvatar { picture } = &command {
                s.lock().unwrap().published.push(picture.0.to_vec());
            }
            if let Command::Query {
                payload,
                reply,
                get,
                ..
            } = command
            {
                let mut s = s.lock().unwrap();
                // No PEP here: the vCard4 and disco questions get nothing.
                let answer = match (payload.name(), get) {
                    ("vCard", true) => Some(s.vcard.parse::<Element>().unwrap()),
                    ("vCard", false) => {
                        let set = String::from(&payload);
                        s.vcard = set.clone();
                        s.sets.push(set);
                        None
                    }
                    _ => None,
                };
                reply.send(Ok(answer));
            }
        }
    });
    for kind in [
        UpdateKind::Ready(Handle::new(tx)),
        UpdateKind::Online {
            bound: FullJid::new("alice@example.org/desk").unwrap(),
            mechanism: "SCRAM-SHA-256".into(),
            resumed: false,
        },
    ] {
        let _ = app.update(Message::Session(Update {
            account: account().id,
            kind,
        }));
    }
    let _ = app.update(Message::Sidebar(
        loquat::ui::screen::sidebar::Message::OpenAccounts,
    ));
    (app, server)
}

fn type_into(app: &mut App, id: &'static str, value: &str) {
    let value = value.to_owned();
    interact(app, move |ui| {
        ui.click(Id::new(id)).expect("field");
        ui.typewrite(&value);
    });
}

struct Words {
    title: &'static str,
    edit: &'static str,
    nickname: &'static str,
    save: &'static str,
    saved: &'static str,
}

const EN: Words = Words {
    title: "Profile",
    edit: "Edit profile…",
    nickname: "Nickname",
    save: "Save profile",
    saved: "Your profile is saved.",
};

const ZH: Words = Words {
    title: "个人资料",
    edit: "编辑个人资料…",
    nickname: "昵称",
    save: "保存资料",
    saved: "你的资料已保存。",
};

fn open_form(rt: &tokio::runtime::Runtime, app: &mut App, w: &Words) {
    for task in click(app, w.edit) {
        run(rt, app, task);
    }
}

#[test]
fn our_profile_is_loaded_edited_and_saved() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, w) in [(Lang::En, &EN), (Lang::ZhCn, &ZH)] {
        let (mut app, server) = start(&rt, lang);
        assert!(shows(&app, w.title), "{lang:?}");
        assert!(!shows(&app, w.nickname), "{lang:?}: the form is closed");
        open_form(&rt, &mut app, w);
        // What the server has is in the form.
        assert!(shows(&app, "Juliet Capulet"), "{lang:?}");
        assert!(shows(&app, "老朋友"), "{lang:?}");
        assert!(shows(&app, w.nickname), "{lang:?}");
        type_into(&mut app, Field::Nickname.id(), "Jules");
        type_into(&mut app, Field::Email.id(), "juliet@example.org");
        for task in click(&mut app, w.save) {
            run(&rt, &mut app, task);
        }
        let sets = server.lock().unwrap().sets.clone();
        let [set] = sets.as_slice() else {
            panic!("{lang:?}: one vCard set: {sets:?}")
        };
        let card = loquat::xmpp::profile::parse_vcard(&set.parse::<Element>().unwrap()).unwrap();
        assert_eq!(card.full_name.as_deref(), Some("Juliet Capulet"));
        assert_eq!(card.nickname.as_deref(), Some("Jules"));
        assert_eq!(card.emails, ["juliet@example.org"]);
        assert_eq!(card.note.as_deref(), Some("老朋友"));
        assert!(set.contains("iVBORw0KGgo="), "the PHOTO is kept: {set}");
        assert!(shows(&app, w.saved), "{lang:?}");
    }
}

fn png_file(dir: &std::path::Path, w: u32, h: u32) -> PathBuf {
    let img = image::RgbaImage::from_fn(w, h, |x, _| {
        // Left third red, middle green, right third blue: the square crop is all green.
        let third = w / 3;
        let c = if x < third {
            [220, 30, 30, 255]
        } else if x < w - third {
            [30, 200, 60, 255]
        } else {
            [30, 30, 220, 255]
        };
        image::Rgba(c)
    });
    let path = dir.join(format!("pic-{w}x{h}.png"));
    img.save(&path).unwrap();
    path
}

struct AvatarWords {
    preview: &'static str,
    publish: &'static str,
    not_used: &'static str,
    remove: &'static str,
    removed: &'static str,
}

const AV_EN: AvatarWords = AvatarWords {
    preview: "Your new avatar (the centre square of the picture):",
    publish: "Publish",
    not_used: "That picture could not be used",
    remove: "Remove avatar",
    removed: "your avatar is removed",
};

const AV_ZH: AvatarWords = AvatarWords {
    preview: "新头像（取图片中间的正方形）：",
    publish: "发布",
    not_used: "无法使用这张图片",
    remove: "移除头像",
    removed: "头像已移除",
};

/// A picture dropped on the window while Settings is shown (the window's FileDropped
/// event becomes `Message::FilesChosen`, which iced_test cannot raise: the message is
/// fed here) is previewed as its centre square and published only on "Publish"; the
/// same drop on the chats screen is no avatar. Then "Remove avatar" empties the
/// vCard's photo.
#[test]
fn a_dropped_picture_is_previewed_then_published_and_removed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wide = png_file(dir.path(), 300, 100);
    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "not a picture").unwrap();
    for (lang, w) in [(Lang::En, &AV_EN), (Lang::ZhCn, &AV_ZH)] {
        let (mut app, server) = start(&rt, lang);
        // Not a picture: said, nothing to publish.
        let task = app.update(Message::FilesChosen(vec![junk.clone()]));
        run(&rt, &mut app, task);
        assert!(!shows(&app, w.preview), "{lang:?}");
        assert!(support::app::texts(&app, w.not_used).len() == 1, "{lang:?}");

        let task = app.update(Message::FilesChosen(vec![wide.clone()]));
        run(&rt, &mut app, task);
        assert!(shows(&app, w.preview), "{lang:?}");
        assert!(server.lock().unwrap().published.is_empty(), "{lang:?}");
        for task in click(&mut app, w.publish) {
            run(&rt, &mut app, task);
        }
        // Let the pretend session take the command.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let published = server.lock().unwrap().published.clone();
        let [png] = published.as_slice() else {
            panic!("{lang:?}: one avatar published: {}", published.len())
        };
        let img = image::load_from_memory(png).unwrap().to_rgba8();
        assert_eq!(img.dimensions(), (256, 256));
        assert!(
            img.pixels().all(|p| p.0[1] > 150 && p.0[0] < 100),
            "{lang:?}: the centre square (green) only"
        );
        assert!(!shows(&app, w.preview), "{lang:?}");

        // Our avatar shows: it can be removed; the vCard loses its photo.
        let _ = app.update(Message::Session(Update {
            account: account().id,
            kind: UpdateKind::Avatars(vec![(jid(ME), Some(wide.clone()))]),
        }));
        for task in click(&mut app, w.remove) {
            run(&rt, &mut app, task);
        }
        let sets = server.lock().unwrap().sets.clone();
        let [set] = sets.as_slice() else {
            panic!("{lang:?}: one vCard set: {sets:?}")
        };
        assert!(!set.contains("PHOTO"), "{lang:?}: {set}");
        assert!(set.contains("Juliet Capulet"), "{lang:?}: {set}");
        assert!(!support::app::texts(&app, w.removed).is_empty(), "{lang:?}");

        // On the chats screen a dropped picture is no avatar.
        let _ = app.update(Message::Settings(
            loquat::ui::screen::settings::Message::Back,
        ));
        let task = app.update(Message::FilesChosen(vec![wide.clone()]));
        run(&rt, &mut app, task);
        assert!(
            app_settings_preview(&app).is_none(),
            "{lang:?}: no preview from the chats screen"
        );
    }
}

fn app_settings_preview(app: &App) -> Option<AccountId> {
    app.own_avatar_preview().map(|p| p.account.clone())
}

/// Settings with the profile form open, in English and Chinese, for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_profile_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, theme, name, w) in [
        (Lang::En, iced::Theme::Light, "own-profile", &EN),
        (Lang::ZhCn, iced::Theme::Dark, "own-profile-zh", &ZH),
    ] {
        let (mut app, _server) = start(&rt, lang);
        open_form(&rt, &mut app, w);
        type_into(&mut app, Field::Nickname.id(), "Jules");
        // A dropped picture waiting for "Publish", over a current avatar.
        let tmp = tempfile::tempdir().unwrap();
        let wide = png_file(tmp.path(), 300, 100);
        let thumb = tmp.path().join("thumb.png");
        std::fs::write(
            &thumb,
            loquat::avatar::thumbnail_png(&std::fs::read(&wide).unwrap()).unwrap(),
        )
        .unwrap();
        let _ = app.update(Message::Session(Update {
            account: account().id,
            kind: UpdateKind::Avatars(vec![(jid(ME), Some(thumb))]),
        }));
        let task = app.update(Message::FilesChosen(vec![wide]));
        run(&rt, &mut app, task);
        let _ = std::fs::remove_file(dir.join(format!("{name}-tiny-skia.png")));
        let mut ui = support::app::sim_sized(&app, (1000.0, 1100.0));
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        assert!(snapshot.matches_image(dir.join(name)).expect("png"));
    }
}
