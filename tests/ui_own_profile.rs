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
use support::app::{click, interact, shows, sim};
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

/// The pretend server's vCard, and the vCards set.
struct Server {
    vcard: String,
    sets: Vec<String>,
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
    }));
    let s = server.clone();
    rt.spawn(async move {
        while let Some(command) = rx.recv().await {
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
        let _ = std::fs::remove_file(dir.join(format!("{name}-tiny-skia.png")));
        let mut ui = support::app::sim_sized(&app, (1000.0, 1100.0));
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        assert!(snapshot.matches_image(dir.join(name)).expect("png"));
    }
    let _ = sim;
}
