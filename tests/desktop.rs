//! Desktop integration seen from outside: `xmpp:` links, the single-instance hand-over
//! between two real processes, notification text, and the translations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")] // it starts the app's binary and uses its interface

mod support;
use support::session::jid;

use loquat::instance::{self, Request, Start};
use loquat::uri::{self, UriError, XmppUri};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The tests that use the session bus take turns: a notification server of one test
/// would otherwise answer (and hold) the notifications of another.
static SESSION_BUS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes this test's turn on the session bus, which `tests/run-all.sh` provides with
/// `dbus-run-session`; without one the test fails and says so.
fn session_bus_turn() -> std::sync::MutexGuard<'static, ()> {
    let turn = SESSION_BUS.lock().unwrap_or_else(|e| e.into_inner());
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        panic!(
            "this test needs a D-Bus session bus: run it inside `dbus-run-session` \
             (tests/run-all.sh does)"
        );
    }
    turn
}

/// The app with one account, `a` (alice@example.org), in English.
fn one_account_app() -> loquat::ui::App {
    use loquat::ids::AccountId;
    use loquat::model::Account;
    use loquat::ui::app::startup::{LoadedAccount, Startup};
    let mut account = Account::new(jid("alice@example.org"));
    account.id = AccountId("a".into());
    // Bob is a contact: a stranger's message would be a quiet request (issue #18).
    let mut loaded = LoadedAccount::new(account, Some("pw".into()));
    loaded.contacts = vec![loquat::model::Contact {
        jid: jid("bob@example.org"),
        name: None,
        subscription: loquat::model::Subscription::Both,
        pending_out: false,
        groups: Vec::new(),
    }];
    loquat::ui::App::from_startup(
        loquat::ui::i18n::Lang::En,
        Startup {
            accounts: vec![loaded],
            ..Startup::default()
        },
    )
}

/// A message from Bob to account `a`, stored already.
fn from_bob(body: &str, timestamp_ms: i64) -> loquat::model::ChatMessage {
    use loquat::model::{ChatMessage, Delivery, Direction};
    ChatMessage {
        truncated: false,
        extras: Default::default(),
        id: loquat::ids::LocalMessageId::generate(),
        account: loquat::ids::AccountId("a".into()),
        conversation: loquat::ids::ConversationId::Chat(jid("bob@example.org")),
        direction: Direction::Incoming,
        sender: String::new(),
        body: body.into(),
        timestamp_ms,
        stanza_id_attr: None,
        origin_id: None,
        server_id: None,
        delivery: Delivery::Delivered,
        attachment: None,
    }
}

#[test]
fn xmpp_links_open_what_they_name() {
    assert_eq!(
        uri::parse("xmpp:juliet@capulet.example"),
        Ok(XmppUri::Message {
            jid: jid("juliet@capulet.example"),
            body: None
        })
    );
    assert_eq!(
        uri::parse(
            "xmpp:juliet@capulet.example?message;body=Wherefore%20art%20thou%3F%20%E4%BD%A0%E5%A5%BD"
        ),
        Ok(XmppUri::Message {
            jid: jid("juliet@capulet.example"),
            body: Some("Wherefore art thou? 你好".into())
        })
    );
    assert_eq!(
        uri::parse("XMPP:balcony@rooms.capulet.example?join;password=s%3Bcret"),
        Ok(XmppUri::Join {
            room: jid("balcony@rooms.capulet.example"),
            password: Some("s;cret".into())
        })
    );
    assert_eq!(
        uri::parse("xmpp:nurse@capulet.example?roster;name=The%20Nurse"),
        Ok(XmppUri::Roster {
            jid: jid("nurse@capulet.example"),
            name: Some("The Nurse".into())
        })
    );
    assert_eq!(
        uri::parse("xmpp:tybalt@capulet.example?subscribe"),
        Ok(XmppUri::Subscribe {
            jid: jid("tybalt@capulet.example")
        })
    );
    // A full JID names the same person; an account part ("xmpp://me@host/") is ignored.
    assert_eq!(
        uri::parse("xmpp://romeo@montague.example/juliet@capulet.example/balcony"),
        Ok(XmppUri::Message {
            jid: jid("juliet@capulet.example"),
            body: None
        })
    );
}

#[test]
fn hostile_links_are_refused_in_words_never_a_panic() {
    let refused = [
        ("", UriError::NotXmpp),
        ("http://evil.example/", UriError::NotXmpp),
        ("javascript:alert(1)", UriError::NotXmpp),
        ("xmpp:", UriError::BadAddress),
        ("xmpp:@", UriError::BadAddress),
        ("xmpp:a@b?message;body=%", UriError::BadEncoding),
        ("xmpp:a@b?message;body=%+1", UriError::BadEncoding),
        ("xmpp:a@b?message;body=%ff%fe", UriError::BadEncoding),
        (
            "xmpp:a@b?exec;cmd=rm",
            UriError::UnknownAction("exec".into()),
        ),
    ];
    for (link, want) in refused {
        assert_eq!(uri::parse(link), Err(want), "link {link:?}");
    }
    // Odd but harmless inputs: no panic, whatever the answer.
    let long = format!("xmpp:{}@example.org", "a".repeat(100_000));
    let odd = [
        long.as_str(),
        "xmpp:é",
        "xmpp:%00@example.org",
        "xmpp:a@b?;;;;=;=",
        "xmpp:a@b?message;body=\u{202e}evil",
        "xmpp:\u{0}",
    ];
    for link in odd {
        let _ = uri::parse(link);
    }
}

#[test]
fn notification_text_is_plain_short_and_cannot_reorder_itself() {
    let preview = loquat::notify::preview(
        "<b>Hi</b> &amp; \u{202e}gnp.exe\u{202c}\n\n\tsecond line "
            .repeat(20)
            .as_str(),
    );
    // The cap counts what the reader sees: entities count as one character.
    let visible = preview
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    assert!(visible.chars().count() <= loquat::notify::PREVIEW_CHARS + 1);
    assert!(
        preview.ends_with('…'),
        "a long text is cut visibly: {preview}"
    );
    assert!(
        !preview.contains('<') && !preview.contains('\n'),
        "{preview}"
    );
    assert!(
        !preview
            .chars()
            .any(|c| ('\u{202a}'..='\u{202e}').contains(&c)),
        "bidi controls survived: {preview:?}"
    );
    assert!(preview.contains("&lt;b&gt;Hi"), "{preview}");
}

/// A second launch of the real binary hands its link to the running instance (here,
/// this test process) and exits at once, without opening a window.
#[test]
fn a_second_launch_hands_its_link_to_the_running_instance() {
    let dir = tempfile::tempdir().expect("a temp folder");
    let socket = instance::socket_path(dir.path());
    let Start::Primary(listener) =
        instance::acquire(&socket, &Request::Show).expect("become the instance")
    else {
        panic!("an empty folder cannot have a running instance");
    };
    let link = "xmpp:bob@example.test?message;body=hello%20from%20a%20link";
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_loquat"))
        .arg(link)
        .env("LOQUAT_DATA_DIR", dir.path())
        // No display: if the hand-over failed, opening a window would fail loudly.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start loquat");
    let request = listener
        .next_request()
        .expect("a request from the second launch");
    assert_eq!(request, Request::Open(link.into()));
    let status = child.wait().expect("the second launch ends");
    assert!(status.success(), "the second launch failed: {status}");
    assert!(started.elapsed() < Duration::from_secs(20));

    // A garbage client does not stop the instance from serving the next launch.
    {
        use std::io::Write;
        let mut bad = std::os::unix::net::UnixStream::connect(&socket).expect("connect");
        let _ = bad.write_all(&vec![b'x'; instance::MAX_REQUEST * 2]);
    }
    let status = Command::new(env!("CARGO_BIN_EXE_loquat"))
        .env("LOQUAT_DATA_DIR", dir.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start loquat again");
    assert_eq!(
        listener.next_request().expect("the plain launch"),
        Request::Show
    );
    let mut status = status;
    assert!(status.wait().expect("it ends").success());
}

/// After a crash the socket file stays behind; the next launch must not hand its link
/// to nobody, but become the instance.
#[test]
fn a_stale_socket_from_a_crash_does_not_block_the_next_start() {
    let dir = tempfile::tempdir().expect("a temp folder");
    let socket = instance::socket_path(dir.path());
    // Bound and dropped without cleanup: what a killed instance leaves.
    drop(std::os::unix::net::UnixListener::bind(&socket).expect("bind"));
    assert!(socket.exists());
    match instance::acquire(&socket, &Request::Show).expect("start") {
        Start::Primary(_) => {}
        Start::HandedOver => panic!("handed over to a dead instance"),
    }
}

#[test]
fn every_text_exists_in_english_and_chinese() {
    use loquat::ui::i18n::{Lang, T, tr};
    let mut missing = Vec::new();
    for &key in T::ALL {
        let en = tr(Lang::En, key);
        let zh = tr(Lang::ZhCn, key);
        if en.trim().is_empty() || zh.trim().is_empty() {
            missing.push(format!("{key:?}"));
        }
    }
    assert!(missing.is_empty(), "texts missing a language: {missing:?}");
    assert!(T::ALL.len() > 100);
}

/// A desktop notification server of our own on the session bus (the one
/// `tests/run-all.sh` starts with `dbus-run-session`): it records what Loquat shows and
/// "clicks" the notification.
mod fake_notifications {
    use std::sync::{Arc, Mutex};
    use zbus::object_server::SignalEmitter;

    #[derive(Debug, Clone)]
    pub struct Shown {
        pub app_name: String,
        pub summary: String,
        pub body: String,
        pub actions: Vec<String>,
    }

    pub struct Server {
        pub shown: Arc<Mutex<Vec<Shown>>>,
    }

    #[zbus::interface(name = "org.freedesktop.Notifications")]
    impl Server {
        #[allow(clippy::too_many_arguments)]
        async fn notify(
            &self,
            app_name: String,
            _replaces_id: u32,
            _app_icon: String,
            summary: String,
            body: String,
            actions: Vec<String>,
            _hints: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
            _expire_timeout: i32,
            #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        ) -> u32 {
            let id = {
                let mut shown = self.shown.lock().expect("lock");
                shown.push(Shown {
                    app_name,
                    summary,
                    body,
                    actions,
                });
                shown.len() as u32
            };
            // The user clicks it a moment later (after Loquat listens for the click).
            let emitter = emitter.to_owned();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                let _ = Server::action_invoked(&emitter, id, "default").await;
            });
            id
        }

        async fn get_capabilities(&self) -> Vec<String> {
            vec!["body".into(), "actions".into()]
        }

        async fn get_server_information(&self) -> (String, String, String, String) {
            (
                "fake".into(),
                "loquat-tests".into(),
                "1".into(),
                "1.2".into(),
            )
        }

        async fn close_notification(&self, _id: u32) {}

        #[zbus(signal)]
        async fn action_invoked(
            emitter: &SignalEmitter<'_>,
            id: u32,
            action_key: &str,
        ) -> zbus::Result<()>;
    }
}

/// A message that arrives while its conversation is not on screen raises a desktop
/// notification with the sender and a plain preview; clicking it opens the conversation.
#[test]
fn a_new_message_notifies_and_a_click_opens_its_conversation() {
    use futures::StreamExt;
    use loquat::ids::AccountId;
    use loquat::session::{Update, UpdateKind};
    use loquat::ui::Message;
    use std::sync::{Arc, Mutex};

    let _turn = session_bus_turn();
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let shown = Arc::new(Mutex::new(Vec::new()));
    let _server = rt
        .block_on(async {
            zbus::connection::Builder::session()?
                .name("org.freedesktop.Notifications")?
                .serve_at(
                    "/org/freedesktop/Notifications",
                    fake_notifications::Server {
                        shown: shown.clone(),
                    },
                )?
                .build()
                .await
        })
        .expect("serve org.freedesktop.Notifications on the session bus");

    let mut app = one_account_app();
    let message = from_bob("<i>see</i> \u{202e}this\nnow", 1);
    let task = app.update(Message::Session(Update {
        account: AccountId("a".into()),
        kind: UpdateKind::Message(message),
    }));
    let stream = iced_runtime::task::into_stream(task).expect("a notification task");
    let outputs: Vec<Message> = rt.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(20),
            stream
                .filter_map(|action| async move {
                    match action {
                        iced_runtime::Action::Output(message) => Some(message),
                        _ => None,
                    }
                })
                .collect(),
        )
        .await
        .expect("the notification was clicked in time")
    });
    let shown = shown.lock().expect("lock").clone();
    assert_eq!(shown.len(), 1, "one notification: {shown:?}");
    assert_eq!(shown[0].app_name, "Loquat");
    assert_eq!(shown[0].summary, "bob@example.org");
    assert_eq!(shown[0].body, "&lt;i&gt;see&lt;/i&gt; this now");
    assert!(shown[0].actions.contains(&"default".to_string()));

    for message in outputs {
        let _ = app.update(message);
    }
    assert_eq!(
        app.current_conversation(),
        Some((&AccountId("a".into()), &jid("bob@example.org"))),
        "the click opened the conversation"
    );
}

/// A tray host of our own: the StatusNotifierWatcher that desktop panels run.
mod fake_tray_host {
    use std::sync::{Arc, Mutex};

    pub struct Watcher {
        pub items: Arc<Mutex<Vec<String>>>,
    }

    #[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
    impl Watcher {
        async fn register_status_notifier_item(&self, service: String) {
            self.items.lock().expect("lock").push(service);
        }

        async fn register_status_notifier_host(&self, _service: String) {}

        #[zbus(property)]
        async fn registered_status_notifier_items(&self) -> Vec<String> {
            self.items.lock().expect("lock").clone()
        }

        #[zbus(property)]
        async fn is_status_notifier_host_registered(&self) -> bool {
            true
        }

        #[zbus(property)]
        async fn protocol_version(&self) -> i32 {
            0
        }
    }
}

/// With a tray host on the desktop, Loquat shows a tray icon whose title carries the
/// unread count, and closing the window can hide it there.
#[test]
fn the_tray_icon_shows_the_unread_count() {
    use futures::StreamExt;
    use loquat::ids::AccountId;
    use loquat::session::{Update, UpdateKind};
    use loquat::ui::i18n::Lang;
    use loquat::ui::{App, Message};
    use std::sync::{Arc, Mutex};

    let _turn = session_bus_turn();
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let items = Arc::new(Mutex::new(Vec::new()));
    let host = rt
        .block_on(async {
            zbus::connection::Builder::session()?
                .name("org.kde.StatusNotifierWatcher")?
                .serve_at(
                    "/StatusNotifierWatcher",
                    fake_tray_host::Watcher {
                        items: items.clone(),
                    },
                )?
                .build()
                .await
        })
        .expect("serve a StatusNotifierWatcher on the session bus");

    // Runs a task to its end and feeds what it produced back, as iced's runtime does.
    fn run(rt: &tokio::runtime::Runtime, app: &mut App, task: iced::Task<Message>) {
        let Some(stream) = iced_runtime::task::into_stream(task) else {
            return;
        };
        let actions: Vec<_> = rt.block_on(stream.collect());
        for action in actions {
            if let iced_runtime::Action::Output(message) = action {
                let next = app.update(message);
                run(rt, app, next);
            }
        }
    }

    let mut app = one_account_app();
    // Notifications off: this test is about the tray, and a notification server left
    // by another test must not hold its tasks.
    for label in [
        "Accounts",
        "General settings",
        "Show a notification for new messages",
    ] {
        let messages: Vec<Message> = {
            let mut ui = iced_test::Simulator::with_size(
                iced::Settings::default(),
                (1100.0, 800.0),
                app.view(),
            );
            ui.click(label)
                .unwrap_or_else(|e| panic!("{label:?} not found: {e}"));
            ui.into_messages().collect()
        };
        for message in messages {
            let task = app.update(message);
            run(&rt, &mut app, task);
        }
    }
    assert!(!app.settings().notifications);
    run(&rt, &mut app, loquat::ui::desktop::start_tray(Lang::En));
    let service = items
        .lock()
        .expect("lock")
        .first()
        .cloned()
        .expect("the tray icon registered with the host");
    let property = |name: &'static str| -> String {
        rt.block_on(async {
            let proxy = zbus::Proxy::new(
                &host,
                service.as_str(),
                "/StatusNotifierItem",
                "org.kde.StatusNotifierItem",
            )
            .await?;
            proxy.get_property::<String>(name).await
        })
        .expect("read a tray property")
    };
    assert_eq!(property("Title"), "Loquat");
    assert_eq!(property("Status"), "Active");
    assert_eq!(property("IconName"), "im.loquat.Loquat");

    for n in 0..3 {
        let message = from_bob(&format!("message {n}"), n);
        // (No notification server here: that part just logs.)
        let task = app.update(Message::Session(Update {
            account: AccountId("a".into()),
            kind: UpdateKind::Message(message),
        }));
        run(&rt, &mut app, task);
    }
    assert_eq!(app.title(), "(3) Loquat");
    assert_eq!(property("Title"), "(3) Loquat");
    assert_eq!(property("Status"), "NeedsAttention");
}

/// An X server that answers but does not let Loquat in (a display started with
/// `-auth`, and no cookie for it: Loquat run as another user, or without `XAUTHORITY`)
/// gets one sentence and a plain failure, not winit's panic. Needs Xvfb.
#[test]
fn an_x_server_that_refuses_loquat_is_said_in_words() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("a temp folder");
    // One MIT-MAGIC-COOKIE-1 entry in the Xauthority format (big-endian lengths); the
    // server accepts its cookies whatever display number an entry names.
    let auth = dir.path().join("server-auth");
    {
        let mut file = std::fs::File::create(&auth).expect("auth file");
        let field = |f: &mut std::fs::File, bytes: &[u8]| {
            f.write_all(&(bytes.len() as u16).to_be_bytes())
                .expect("write");
            f.write_all(bytes).expect("write");
        };
        file.write_all(&256u16.to_be_bytes()).expect("write"); // FamilyLocal
        field(&mut file, b"localhost");
        field(&mut file, b"0");
        field(&mut file, b"MIT-MAGIC-COOKIE-1");
        field(&mut file, &[7u8; 16]);
    }
    let (mut xvfb, display) = xvfb(&["-auth".as_ref(), auth.as_os_str()]);
    let mut app = Command::new(env!("CARGO_BIN_EXE_loquat"))
        .env("DISPLAY", &display)
        .env_remove("WAYLAND_DISPLAY")
        .env("XAUTHORITY", dir.path().join("no-cookie-here"))
        .env("HOME", dir.path())
        .env("XDG_RUNTIME_DIR", dir.path())
        .env("LOQUAT_DATA_DIR", dir.path().join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start loquat");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = app.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = app.kill();
            let _ = xvfb.kill();
            panic!("Loquat kept running on a display that refuses it");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = stderr_of(&mut app);
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    assert_eq!(
        status.code(),
        Some(1),
        "a plain failure, not a panic (101); stderr:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "Loquat could not open its window: the X server on DISPLAY={display} did not let Loquat in"
        )) && stderr.contains("Authorization required"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// What a finished child wrote on its (piped) standard error.
fn stderr_of(child: &mut std::process::Child) -> String {
    use std::io::Read;
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    stderr
}

/// An Xvfb on a free display with `args`, and its `DISPLAY`. Needs Xvfb.
fn xvfb(args: &[&std::ffi::OsStr]) -> (std::process::Child, String) {
    use std::io::Read;
    let mut xvfb = Command::new("Xvfb")
        .args(["-displayfd", "1"])
        .args(args)
        .args(["-screen", "0", "640x480x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb (Debian: xvfb) is needed for this test");
    let mut number = String::new();
    {
        let mut out = xvfb.stdout.take().expect("Xvfb's stdout");
        let mut byte = [0u8; 1];
        while out.read(&mut byte).expect("read") == 1 && byte[0] != b'\n' {
            number.push(char::from(byte[0]));
        }
    }
    (xvfb, format!(":{}", number.trim()))
}

/// An X server with no other client resets itself when its last client leaves, and
/// drops whatever connects meanwhile. Loquat's own checks before iced starts must not
/// be that last client: started alone on a fresh X server (as in a test, a kiosk or a
/// remote session), it opens its window every time. One start in four failed when the
/// check closed its connection right before winit opened its own.
#[test]
fn loquat_opens_its_window_on_an_x_server_it_is_alone_on() {
    let dir = tempfile::tempdir().expect("a temp folder");
    let mut failed = Vec::new();
    for start in 0..12 {
        let (mut xvfb, display) = xvfb(&[]);
        // As a session would: the server has been up a while when Loquat starts.
        std::thread::sleep(Duration::from_millis(500));
        let mut app = Command::new(env!("CARGO_BIN_EXE_loquat"))
            .env("DISPLAY", &display)
            .env_remove("WAYLAND_DISPLAY")
            .env("HOME", dir.path())
            .env("XDG_RUNTIME_DIR", dir.path())
            .env("LOQUAT_DATA_DIR", dir.path().join(format!("data-{start}")))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start loquat");
        // Connecting to X is the first thing iced does: a start that gets past it in a
        // second has its window.
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(1) {
            if app.try_wait().expect("wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let exited = app.try_wait().expect("wait");
        let _ = app.kill();
        let _ = app.wait();
        if let Some(status) = exited {
            failed.push(format!("start {start}: {status}: {}", stderr_of(&mut app)));
        }
        let _ = xvfb.kill();
        let _ = xvfb.wait();
    }
    assert!(failed.is_empty(), "{failed:#?}");
}
