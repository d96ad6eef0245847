//! Signing out against a real Prosody, as a contact (a plain tokio-xmpp client, not
//! Loquat) and the server's own session list see it: quitting through the app's real
//! quit path (Ctrl+Q) ends the session within 2 s; an app killed and started again
//! comes back as one session, not beside a ghost of the last one.
//!
//! Each "app" runs on its own tokio runtime: shutting that runtime down is the process
//! ending (its sockets closed, nothing more written), as after `iced::exit()` or a kill.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test
#![cfg(feature = "gui")]

mod support;

use futures::StreamExt;
use loquat::ids::AccountId;
use loquat::model::{Account, ServerOverride, Trust};
use loquat::session::{Command, Handle, Update, UpdateKind};
use loquat::ui::app::account_state::AccountState;
use loquat::ui::app::session_bridge::{params_for, session_for};
use loquat::ui::app::startup::{LoadedAccount, Startup};
use loquat::ui::i18n::Lang;
use loquat::ui::{App, Message};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::presence::Watcher;
use support::session::jid;
use support::{FaultProxy, TestServer};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The account as the app keeps it: a random id, the test server's address and CA.
fn account(server: &TestServer, user: &str) -> Account {
    let mut account = Account::new(jid(user));
    account.id = AccountId::generate();
    account.server = ServerOverride {
        host: Some("127.0.0.1".into()),
        port: Some(server.c2s_port()),
        direct_tls: false,
    };
    account.trust = Trust {
        extra_roots_pem: Some(server.ca_pem()),
        pinned_sha256: Vec::new(),
    };
    account
}

/// Runs the session the app would run for `state` (the parameters of the app's
/// subscription) on `rt`; its updates arrive on the returned channel.
fn start_session(rt: &Runtime, state: &AccountState) -> mpsc::Receiver<Update> {
    let params = params_for(state, None).expect("the account has a password");
    let (tx, rx) = mpsc::channel();
    rt.spawn(async move {
        let mut updates = std::pin::pin!(loquat::session::run(params));
        while let Some(update) = updates.next().await {
            if tx.send(update).is_err() {
                return;
            }
        }
    });
    rx
}

/// The first update `pick` accepts within 20 s; each update also goes to `app`.
fn next<T>(
    rx: &mpsc::Receiver<Update>,
    mut app: Option<&mut App>,
    what: &str,
    mut pick: impl FnMut(&UpdateKind) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let update = rx
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("waiting for {what}: {e}"));
        if let UpdateKind::Failed(e) = &update.kind {
            panic!("session failed while waiting for {what}: {e}");
        }
        let picked = pick(&update.kind);
        if let Some(app) = app.as_deref_mut() {
            let _ = app.update(Message::Session(update));
        }
        if let Some(t) = picked {
            return t;
        }
    }
}

/// Online, with `watcher` subscribed to `user`'s presence and seeing it available.
/// Returns the session's handle.
fn online_and_watched(
    test_rt: &Runtime,
    rx: &mpsc::Receiver<Update>,
    mut app: Option<&mut App>,
    watcher: &Watcher,
    user: &str,
    contact: &str,
) -> Handle {
    let handle = next(rx, app.as_deref_mut(), "Ready", |k| match k {
        UpdateKind::Ready(h) => Some(h.clone()),
        _ => None,
    });
    next(rx, app.as_deref_mut(), "Online", |k| {
        matches!(k, UpdateKind::Online { .. }).then_some(())
    });
    test_rt.block_on(watcher.subscribe(user));
    next(rx, app, "subscription request", |k| match k {
        UpdateKind::SubscriptionRequest { from } if *from == jid(contact) => Some(()),
        _ => None,
    });
    handle
        .send(Command::AnswerSubscription {
            jid: jid(contact),
            accept: true,
        })
        .expect("session alive");
    let seen = test_rt.block_on(watcher.wait(20, |_| !watcher.available(user).is_empty()));
    assert!(
        seen,
        "the contact never saw {user} online: {:?}",
        watcher.seen()
    );
    handle
}

#[test]
fn quit_signs_out() {
    let server = TestServer::start();
    let (user, password) = server.fresh_user("alice");
    let (contact, contact_password) = server.fresh_user("bob");
    let test_rt = runtime();
    let watcher = test_rt.block_on(Watcher::start(&server, &contact, &contact_password));

    let app_rt = runtime();
    let account = account(&server, &user);
    let id = account.id.clone();
    let startup = Startup {
        accounts: vec![LoadedAccount::new(account, Some(password))],
        ..Startup::default()
    };
    let mut app = App::from_startup(Lang::En, startup);
    let state = app.account_state(&id).expect("the account").clone();
    let rx = start_session(&app_rt, &state);
    online_and_watched(&test_rt, &rx, Some(&mut app), &watcher, &user, &contact);
    assert_eq!(server.sessions_of(&user).len(), 1, "one session before");

    // Ctrl+Q, as the person presses it; when the app asks to exit, the process ends.
    let quit = Instant::now();
    let exit_after = support::quit::ctrl_q(&app_rt, &mut app);
    app_rt.shutdown_background();

    let offline = test_rt.block_on(watcher.wait(10, |seen| {
        seen.iter()
            .any(|s| !s.available && s.from.starts_with(&format!("{user}/")))
    }));
    let offline_after = watcher
        .seen()
        .iter()
        .find(|s| !s.available && s.from.starts_with(&format!("{user}/")))
        .map(|s| s.at.duration_since(quit));
    eprintln!("quit -> exit {exit_after:?}, quit -> offline at the contact {offline_after:?}");
    assert!(
        offline,
        "the contact still sees {user} online 10 s after quitting: {:?}\n{}",
        watcher.available(&user),
        server.log_tail()
    );
    let offline_after = offline_after.unwrap_or(Duration::MAX);
    assert!(
        offline_after <= Duration::from_secs(2),
        "offline only {offline_after:?} after quitting"
    );
    assert!(watcher.available(&user).is_empty());
    let left = server.sessions_of(&user);
    assert!(left.is_empty(), "the server still holds {left:?}");
}

#[test]
fn a_killed_app_comes_back_as_one_session_not_beside_a_ghost() {
    let server = TestServer::start();
    let (user, password) = server.fresh_user("alice");
    let (contact, contact_password) = server.fresh_user("bob");
    let test_rt = runtime();
    let watcher = test_rt.block_on(Watcher::start(&server, &contact, &contact_password));
    let state = AccountState::new(account(&server, &user), Some(password));

    let first = runtime();
    let rx = start_session(&first, &state);
    online_and_watched(&test_rt, &rx, None, &watcher, &user, &contact);
    let before = watcher.available(&user);

    // Killed: the connection drops without a goodbye; the server keeps the session for
    // a resumption (that is what a crash leaves), and the contact still sees it.
    first.shutdown_background();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        server.sessions_of(&user).len(),
        1,
        "the kill left no session?"
    );
    assert_eq!(watcher.available(&user), before);

    // Started again, as the app would start it.
    let restarted = Instant::now();
    let second = runtime();
    let rx = start_session(&second, &state);
    next(&rx, None, "Online", |k| {
        matches!(k, UpdateKind::Online { .. }).then_some(())
    });
    let back = test_rt.block_on(watcher.wait(20, |seen| {
        seen.iter()
            .any(|s| s.available && s.at > restarted && s.from.starts_with(&format!("{user}/")))
    }));
    assert!(back, "the contact never saw {user} come back");
    // Anything still on its way settles.
    std::thread::sleep(Duration::from_secs(1));
    let resources = watcher.available(&user);
    let sessions = server.sessions_of(&user);
    eprintln!("before the kill {before:?}; after the restart {resources:?}, sessions {sessions:?}");
    assert_eq!(
        resources.len(),
        1,
        "the contact sees {user} online as {resources:?}"
    );
    assert_eq!(sessions.len(), 1, "the server holds {sessions:?}");
}

#[test]
fn quitting_waits_at_most_two_seconds_for_a_server_that_does_not_answer() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.c2s_port());
    let (user, password) = server.fresh_user("alice");
    let app_rt = runtime();
    let mut account = account(&server, &user);
    account.server.port = Some(proxy.port());
    let id = account.id.clone();
    let startup = Startup {
        accounts: vec![LoadedAccount::new(account, Some(password))],
        ..Startup::default()
    };
    let mut app = App::from_startup(Lang::En, startup);
    let state = app.account_state(&id).expect("the account").clone();
    let rx = start_session(&app_rt, &state);
    next(&rx, Some(&mut app), "Online", |k| {
        matches!(k, UpdateKind::Online { .. }).then_some(())
    });

    // The link goes silent: the goodbye is written but never answered.
    proxy.black_hole();
    let took = support::quit::ctrl_q(&app_rt, &mut app);
    eprintln!("quit -> exit with a silent server: {took:?}");
    assert!(
        took <= loquat::session::SIGN_OUT_WAIT + Duration::from_millis(500),
        "quitting took {took:?}"
    );
    app_rt.shutdown_background();
}

/// Runs `task` on `rt` and returns the messages it produced (nothing else it asks for).
fn outputs(rt: &Runtime, task: iced::Task<Message>) -> Vec<Message> {
    let Some(mut stream) = iced_runtime::task::into_stream(task) else {
        return Vec::new();
    };
    rt.block_on(async {
        let mut out = Vec::new();
        while let Some(action) = stream.next().await {
            if let iced_runtime::Action::Output(message) = action {
                out.push(message);
            }
        }
        out
    })
}

/// Signing in through the form is one session: the session that checked the password
/// goes on as the account's (no available, unavailable, available flap at contacts,
/// and no second login).
#[test]
fn signing_in_is_one_session_a_contact_sees_one_arrival() {
    use loquat::ui::screen::onboarding::Message as Form;

    let server = TestServer::start();
    let (user, password) = server.fresh_user("alice");
    let (contact, contact_password) = server.fresh_user("bob");
    let test_rt = runtime();
    let watcher = test_rt.block_on(Watcher::start(&server, &contact, &contact_password));

    // Alice and Bob are contacts already (set up from another device, then signed out).
    let elsewhere = runtime();
    let state = AccountState::new(account(&server, &user), Some(password.clone()));
    let rx = start_session(&elsewhere, &state);
    let handle = online_and_watched(&test_rt, &rx, None, &watcher, &user, &contact);
    handle.send(Command::Disconnect).expect("session alive");
    let gone = test_rt.block_on(watcher.wait(10, |_| watcher.available(&user).is_empty()));
    assert!(gone, "the other device never signed out");
    elsewhere.shutdown_background();

    // A new install: the sign-in form, filled in as a person would.
    let app_rt = runtime();
    let mut app = App::from_startup(Lang::En, Startup::default());
    let at = |m: Form| Message::Onboarding(m);
    for message in [
        at(Form::AddressChanged(user.clone())),
        at(Form::PasswordChanged(password)),
        at(Form::HostChanged("127.0.0.1".into())),
        at(Form::PortChanged(server.c2s_port().to_string())),
        at(Form::CaPathChanged(server.ca_path().display().to_string())),
    ] {
        let _ = app.update(message);
    }
    let pressed = Instant::now();
    let read_ca = app.update(at(Form::Submit));
    let mut check = iced::Task::none();
    for message in outputs(&app_rt, read_ca) {
        check = app.update(message);
    }
    let id = app
        .pending_login()
        .cloned()
        .expect("the form checks the login");
    let reports = outputs(&app_rt, check);
    assert_eq!(reports.len(), 1, "one decisive report: {reports:?}");
    for message in reports {
        let _ = app.update(message);
    }
    assert!(app.is_main_screen(), "the login worked");
    let state = app.account_state(&id).expect("the new account").clone();
    assert!(
        state.handover.holds(),
        "the checked session waits for the account"
    );

    // The account's subscription starts: it goes on with the checked session.
    let params = params_for(&state, None).expect("password");
    let (tx, rx) = mpsc::channel();
    app_rt.spawn(async move {
        let mut updates = std::pin::pin!(session_for(&params, &state.handover));
        while let Some(update) = updates.next().await {
            if tx.send(update).is_err() {
                return;
            }
        }
    });
    next(&rx, Some(&mut app), "Ready", |k| {
        matches!(k, UpdateKind::Ready(_)).then_some(())
    });
    next(&rx, Some(&mut app), "Online", |k| {
        matches!(k, UpdateKind::Online { .. }).then_some(())
    });
    let arrived = test_rt.block_on(watcher.wait(10, |_| !watcher.available(&user).is_empty()));
    assert!(arrived, "the contact never saw {user} sign in");
    let seen_after = watcher
        .seen()
        .iter()
        .find(|s| s.available && s.at > pressed && s.from.starts_with(&format!("{user}/")))
        .map(|s| s.at.duration_since(pressed));
    // Anything still on its way (a second login, a goodbye) settles.
    std::thread::sleep(Duration::from_secs(2));
    let since: Vec<(bool, String)> = watcher
        .seen()
        .into_iter()
        .filter(|s| s.at > pressed && s.from.starts_with(&format!("{user}/")))
        .map(|s| (s.available, s.from))
        .collect();
    eprintln!("Sign in pressed -> contact sees the presence: {seen_after:?}; seen {since:?}");
    assert_eq!(
        since.iter().filter(|(available, _)| !available).count(),
        0,
        "the contact saw {user} leave while signing in: {since:?}"
    );
    assert_eq!(since.len(), 1, "one arrival, no flap: {since:?}");
    assert_eq!(server.sessions_of(&user).len(), 1, "one session");
}

/// The checked session, once handed over, is the account's own: when its connection
/// drops and the server cannot be reached, it says it will retry instead of giving up
/// as a failed check would.
#[test]
fn a_handed_over_session_retries_after_its_connection_drops() {
    use loquat::ui::app::session_bridge::{CheckReport, check_login};

    let server = TestServer::start();
    let (user, password) = server.fresh_user("alice");
    let proxy = FaultProxy::start(server.c2s_port());
    let mut account = account(&server, &user);
    account.server.port = Some(proxy.port());
    let rt = runtime();
    let mut params = params_for(&AccountState::new(account, Some(password)), None).expect("pw");
    params.verify_only = true;
    let reports: Vec<CheckReport> = rt
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(20), check_login(params).collect()).await
        })
        .expect("the check ends");
    let [CheckReport::SignedIn { session, .. }] = &reports[..] else {
        panic!("not signed in: {reports:?}");
    };
    let running = session.take().expect("a parked session");
    let (tx, rx) = mpsc::channel();
    rt.spawn(async move {
        let mut updates = std::pin::pin!(running);
        while let Some(update) = updates.next().await {
            if tx.send(update).is_err() {
                return;
            }
        }
    });
    next(&rx, None, "Online", |k| {
        matches!(k, UpdateKind::Online { .. }).then_some(())
    });
    // The network goes: the connection is cut and the server refuses new ones.
    drop(proxy);
    let outcome = next(&rx, None, "a retry or a failure", |k| match k {
        // A retry after a failed attempt (0 is the drop itself being reported).
        UpdateKind::Disconnected {
            retry_in_secs: Some(wait),
            ..
        } if *wait >= 1 => Some(Ok(())),
        UpdateKind::Failed(e) => Some(Err(e.clone())),
        _ => None,
    });
    assert!(
        outcome.is_ok(),
        "the session gave up like a failed check: {outcome:?}"
    );
}
