//! Headless UI tests of Settings > Accounts > "On the server" (XEP-0077): the password
//! change asks twice and says in words what the server answered; the deletion waits for
//! the address to be typed, then the account leaves the app. In English and Chinese.
//! The session's side is played here: each `Command::Query` is answered as a server would.
//!
//! `ICED_TEST_BACKEND=tiny-skia cargo test --test ui_account_server`
//! Screenshots: `LOQUAT_UI_SHOTS=/tmp/shots cargo test --test ui_account_server -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
#![cfg(feature = "gui")]

mod support;
use support::app::{click, interact, shows, sim};
use support::session::jid;
use support::view::run_tasks as run;

use iced::widget::Id;
use loquat::ids::AccountId;
use loquat::model::Account;
use loquat::session::roomtools::{Condition, QueryError};
use loquat::session::{Command, Handle, Update, UpdateKind};
use loquat::store::Store;
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::i18n::Lang;
use loquat::ui::screen::settings::account_server::{CONFIRM_ID, NEW_PASSWORD_ID, REPEAT_ID};
use loquat::ui::{App, Message};
use std::sync::{Arc, Mutex};
use xmpp_parsers::jid::FullJid;

const ME: &str = "alice@example.org";

fn account() -> Account {
    let mut account = Account::new(jid(ME));
    account.id = AccountId("acc".into());
    account
}

/// What the pretend server answers next, and the payloads it got.
#[derive(Default)]
struct Server {
    answers: Vec<Result<(), QueryError>>,
    got: Vec<String>,
}

fn start(rt: &tokio::runtime::Runtime, lang: Lang, store: &Store) -> (App, Arc<Mutex<Server>>) {
    let mut app = App::from_startup(lang, Startup::default());
    let task = app.update(Message::Started(Startup {
        accounts: vec![LoadedAccount::new(account(), Some("pw".into()))],
        store: Some(store.clone()),
        ..Startup::default()
    }));
    run(rt, &mut app, task);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Command>();
    let server = Arc::new(Mutex::new(Server::default()));
    let s = server.clone();
    rt.spawn(async move {
        while let Some(command) = rx.recv().await {
            if let Command::Query { payload, reply, .. } = command {
                let mut s = s.lock().unwrap();
                s.got.push(String::from(&payload));
                let answer = if s.answers.is_empty() {
                    Ok(())
                } else {
                    s.answers.remove(0)
                };
                reply.send(answer.map(|()| None));
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
    open_change: &'static str,
    submit_change: &'static str,
    differ: &'static str,
    not_accepted: &'static str,
    changed: &'static str,
    open_delete: &'static str,
    submit_delete: &'static str,
    signed_out_title: &'static str,
}

const EN: Words = Words {
    open_change: "Change password…",
    submit_change: "Change password",
    differ: "The two passwords are not the same.",
    not_accepted: "The server did not accept it: too short",
    changed: "The password was changed on the server and saved.",
    open_delete: "Delete account from the server…",
    submit_delete: "Delete from the server",
    signed_out_title: "Sign in to your XMPP account",
};

const ZH: Words = Words {
    open_change: "修改密码…",
    submit_change: "修改密码",
    differ: "两次输入的密码不一致。",
    not_accepted: "服务器不接受：too short",
    changed: "密码已在服务器上修改并保存。",
    open_delete: "从服务器删除帐号…",
    submit_delete: "从服务器删除",
    signed_out_title: "登录你的 XMPP 帐号",
};

#[test]
fn password_change_asks_twice_and_says_what_the_server_answered() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, w) in [(Lang::En, EN), (Lang::ZhCn, ZH)] {
        let store = Store::open_temporary().unwrap();
        let (mut app, server) = start(&rt, lang, &store);
        for task in click(&mut app, w.open_change) {
            run(&rt, &mut app, task);
        }
        type_into(&mut app, NEW_PASSWORD_ID, "s3cret");
        type_into(&mut app, REPEAT_ID, "s3cre7");
        for task in click(&mut app, w.submit_change) {
            run(&rt, &mut app, task);
        }
        assert!(shows(&app, w.differ), "{lang:?}");
        assert!(server.lock().unwrap().got.is_empty(), "nothing sent");

        // The server refuses in words.
        server
            .lock()
            .unwrap()
            .answers
            .push(Err(QueryError::Refused {
                condition: Condition::NotAcceptable,
                text: Some("too short".into()),
            }));
        interact(&mut app, |ui| {
            ui.click(Id::new(REPEAT_ID)).expect("field");
            ui.tap_key(iced::keyboard::key::Named::Backspace);
            ui.typewrite("t");
        });
        for task in click(&mut app, w.submit_change) {
            run(&rt, &mut app, task);
        }
        assert!(shows(&app, w.not_accepted), "{lang:?}");
        let got = server.lock().unwrap().got.clone();
        assert!(
            matches!(got.as_slice(), [q] if q.contains("jabber:iq:register") && q.contains("<password>s3cret</password>") && q.contains("<username>alice</username>")),
            "{got:?}"
        );

        // Then accepts it.
        for task in click(&mut app, w.submit_change) {
            run(&rt, &mut app, task);
        }
        assert!(shows(&app, w.changed), "{lang:?}");
    }
}

#[test]
fn deleting_on_the_server_waits_for_the_typed_address_then_removes_the_account() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, w) in [(Lang::En, EN), (Lang::ZhCn, ZH)] {
        let store = Store::open_temporary().unwrap();
        store.save_account(&account()).unwrap();
        let (mut app, server) = start(&rt, lang, &store);
        for task in click(&mut app, w.open_delete) {
            run(&rt, &mut app, task);
        }
        // Not yet: the address is not typed.
        for task in click(&mut app, w.submit_delete) {
            run(&rt, &mut app, task);
        }
        assert!(server.lock().unwrap().got.is_empty());
        type_into(&mut app, CONFIRM_ID, "alice@example.or");
        for task in click(&mut app, w.submit_delete) {
            run(&rt, &mut app, task);
        }
        assert!(server.lock().unwrap().got.is_empty(), "a wrong address");
        // Not even when the message comes without the (disabled) button.
        let task = app.update(Message::Settings(
            loquat::ui::screen::settings::Message::Server(
                loquat::ui::screen::settings::account_server::Message::SubmitDelete,
            ),
        ));
        run(&rt, &mut app, task);
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            server.lock().unwrap().got.is_empty(),
            "a wrong address, sent anyway"
        );
        type_into(&mut app, CONFIRM_ID, "g");
        for task in click(&mut app, w.submit_delete) {
            run(&rt, &mut app, task);
        }
        let got = server.lock().unwrap().got.clone();
        assert!(
            matches!(got.as_slice(), [q] if q.contains("<remove/>")),
            "{got:?}"
        );
        assert!(
            shows(&app, w.signed_out_title),
            "{lang:?}: the only account left"
        );
        assert!(store.accounts().unwrap().is_empty());
    }
}

/// The forms, in English and Chinese, for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_account_server_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, theme, name, w) in [
        (Lang::En, iced::Theme::Light, "account-server", EN),
        (Lang::ZhCn, iced::Theme::Dark, "account-server-zh", ZH),
    ] {
        let store = Store::open_temporary().unwrap();
        let (mut app, _server) = start(&rt, lang, &store);
        for task in click(&mut app, w.open_change) {
            run(&rt, &mut app, task);
        }
        type_into(&mut app, NEW_PASSWORD_ID, "s3cret");
        type_into(&mut app, REPEAT_ID, "other");
        for task in click(&mut app, w.submit_change) {
            run(&rt, &mut app, task);
        }
        let _ = std::fs::remove_file(dir.join(format!("{name}-password-tiny-skia.png")));
        {
            let mut ui = sim(&app);
            let snapshot = ui.snapshot(&theme).expect("snapshot");
            assert!(
                snapshot
                    .matches_image(dir.join(format!("{name}-password")))
                    .expect("png")
            );
        }
        let _ = app.update(Message::Settings(
            loquat::ui::screen::settings::Message::Server(
                loquat::ui::screen::settings::account_server::Message::Close,
            ),
        ));
        for task in click(&mut app, w.open_delete) {
            run(&rt, &mut app, task);
        }
        type_into(&mut app, CONFIRM_ID, ME);
        let _ = std::fs::remove_file(dir.join(format!("{name}-delete-tiny-skia.png")));
        let mut ui = sim(&app);
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        assert!(
            snapshot
                .matches_image(dir.join(format!("{name}-delete")))
                .expect("png")
        );
    }
}

/// The sign-in screen's "Create a new account" against a Prosody that allows in-band
/// registration: the password twice, then the account is made and signed in.
#[test]
fn creating_an_account_from_the_sign_in_screen() {
    use loquat::ui::screen::onboarding::{self, register as reg};
    let server = support::TestServer::start_with("allow_registration = true");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (lang, link, title, submit, differ) in [
        (
            Lang::En,
            "Create a new account on a server…",
            "Create an XMPP account",
            "Create account",
            "The two passwords are not the same.",
        ),
        (
            Lang::ZhCn,
            "在服务器上注册新帐号…",
            "注册 XMPP 帐号",
            "注册帐号",
            "两次输入的密码不一致。",
        ),
    ] {
        let mut app = App::from_startup(lang, Startup::default());
        let task = app.update(Message::Started(Startup::default()));
        run(&rt, &mut app, task);
        for task in click(&mut app, link) {
            run(&rt, &mut app, task);
        }
        assert!(shows(&app, title), "{lang:?}");
        let user = support::unique_local("uireg");
        let on = |m: onboarding::Message| Message::Onboarding(m);
        for m in [
            on(onboarding::Message::AddressChanged(format!(
                "{user}@localhost"
            ))),
            on(onboarding::Message::PasswordChanged("pw-one".into())),
            on(onboarding::Message::Register(reg::Message::RepeatChanged(
                "pw-two".into(),
            ))),
            on(onboarding::Message::ToggleAdvanced),
            on(onboarding::Message::HostChanged("127.0.0.1".into())),
            on(onboarding::Message::PortChanged(
                server.c2s_port().to_string(),
            )),
            on(onboarding::Message::CaPathChanged(
                server.ca_path().display().to_string(),
            )),
        ] {
            let task = app.update(m);
            run(&rt, &mut app, task);
        }
        for task in click(&mut app, submit) {
            run(&rt, &mut app, task);
        }
        assert!(shows(&app, differ), "{lang:?}");
        assert!(!server.user_exists(&user, "localhost"));
        let task = app.update(on(onboarding::Message::Register(
            reg::Message::RepeatChanged("pw-one".into()),
        )));
        run(&rt, &mut app, task);
        for task in click(&mut app, submit) {
            run(&rt, &mut app, task);
        }
        assert!(
            server.user_exists(&user, "localhost"),
            "{lang:?}: not registered\n{}",
            server.log_tail()
        );
        // Signed in with it: the sign-in form is gone.
        assert!(!shows(&app, title), "{lang:?}: still on the form");
        assert!(shows(&app, &format!("{user}@localhost")), "{lang:?}");
    }
}

/// The create mode, for a person to look at.
#[test]
#[ignore = "writes screenshots for review"]
fn render_create_account_for_review() {
    let Some(dir) = std::env::var_os("LOQUAT_UI_SHOTS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (lang, theme, name, link) in [
        (
            Lang::En,
            iced::Theme::Light,
            "create-account",
            "Create a new account on a server…",
        ),
        (
            Lang::ZhCn,
            iced::Theme::Dark,
            "create-account-zh",
            "在服务器上注册新帐号…",
        ),
    ] {
        let mut app = App::from_startup(lang, Startup::default());
        let task = app.update(Message::Started(Startup::default()));
        run(&rt, &mut app, task);
        for task in click(&mut app, link) {
            run(&rt, &mut app, task);
        }
        let _ = std::fs::remove_file(dir.join(format!("{name}-tiny-skia.png")));
        let mut ui = sim(&app);
        let snapshot = ui.snapshot(&theme).expect("snapshot");
        assert!(snapshot.matches_image(dir.join(name)).expect("png"));
    }
}

/// "Create a new account" against a Prosody whose certificate nobody vouches for (no
/// CA file given): the form says so with the certificate's fingerprint, and "Trust this
/// certificate" pins it as sign-in does, asks again, makes the account and signs in.
#[test]
fn creating_an_account_after_trusting_the_servers_certificate() {
    use loquat::ui::screen::onboarding::{self, register as reg};
    let server = support::TestServer::start_with("allow_registration = true");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (lang, link, submit, untrusted, trust) in [
        (
            Lang::En,
            "Create a new account on a server…",
            "Create account",
            "The server's certificate is not trusted",
            "Trust this certificate",
        ),
        (
            Lang::ZhCn,
            "在服务器上注册新帐号…",
            "注册帐号",
            "服务器的证书不受信任",
            "信任此证书",
        ),
    ] {
        let mut app = App::from_startup(lang, Startup::default());
        let task = app.update(Message::Started(Startup::default()));
        run(&rt, &mut app, task);
        for task in click(&mut app, link) {
            run(&rt, &mut app, task);
        }
        let user = support::unique_local("uicert");
        let on = |m: onboarding::Message| Message::Onboarding(m);
        for m in [
            on(onboarding::Message::AddressChanged(format!(
                "{user}@localhost"
            ))),
            on(onboarding::Message::PasswordChanged("pw-one".into())),
            on(onboarding::Message::Register(reg::Message::RepeatChanged(
                "pw-one".into(),
            ))),
            on(onboarding::Message::ToggleAdvanced),
            on(onboarding::Message::HostChanged("127.0.0.1".into())),
            on(onboarding::Message::PortChanged(
                server.c2s_port().to_string(),
            )),
        ] {
            let task = app.update(m);
            run(&rt, &mut app, task);
        }
        for task in click(&mut app, submit) {
            run(&rt, &mut app, task);
        }
        assert!(shows(&app, untrusted), "{lang:?}: no certificate problem");
        assert!(shows(&app, "SHA-256"), "{lang:?}: no fingerprint");
        assert!(!server.user_exists(&user, "localhost"));
        for task in click(&mut app, trust) {
            run(&rt, &mut app, task);
        }
        assert!(
            server.user_exists(&user, "localhost"),
            "{lang:?}: not registered after trusting\n{}",
            server.log_tail()
        );
        assert!(!shows(&app, untrusted), "{lang:?}");
        assert!(shows(&app, &format!("{user}@localhost")), "{lang:?}");
    }
}
