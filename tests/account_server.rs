//! Account actions on the server (XEP-0077) against a real Prosody: a password change
//! (the keyring learns it only after the server accepted it), a new account made from
//! the sign-in screen's path (in-band registration), and removing an account from the
//! server, then from this computer.
//!
//! Uses the real Secret Service when there is a session bus (`tests/run-all.sh` or
//! `/tmp/kr.sh`), else passwords in memory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod support;

use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::{Account, ServerOverride, Trust};
use loquat::secrets::{KeyringSecrets, MemorySecrets, SecretStore};
use loquat::session::register::{self, ChangeError, RemoveError};
use loquat::session::{Command, SessionError, SessionParams, UpdateKind};
use loquat::store::Store;
use loquat::xmpp::register::RegisterError;
use std::sync::Arc;
use support::TestServer;
use support::session::{Updates, jid, local_params, online, wait_for};

fn secret_store() -> Arc<dyn SecretStore> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        Arc::new(KeyringSecrets::init().expect("the keyring of the session bus"))
    } else {
        Arc::new(MemorySecrets::new())
    }
}

/// Deletes keyring entries the test created, also when it fails halfway.
struct Forget(Arc<dyn SecretStore>, AccountId);

impl Drop for Forget {
    fn drop(&mut self) {
        let _ = self.0.delete(&self.1);
    }
}

fn server_override(server: &TestServer) -> ServerOverride {
    ServerOverride {
        host: Some("127.0.0.1".into()),
        port: Some(server.c2s_port()),
        direct_tls: false,
    }
}

fn trust(server: &TestServer) -> Trust {
    Trust {
        extra_roots_pem: Some(server.ca_pem()),
        pinned_sha256: Vec::new(),
    }
}

fn params(server: &TestServer, id: &AccountId, address: &str, password: &str) -> SessionParams {
    local_params(
        id.clone(),
        server.c2s_port(),
        server.ca_pem(),
        address,
        password,
        None,
    )
}

/// A one-off sign-in as onboarding does it: `Ok` when online, the error otherwise.
async fn sign_in(server: &TestServer, address: &str, password: &str) -> Result<(), SessionError> {
    let mut p = params(server, &AccountId::generate(), address, password);
    p.verify_only = true;
    let mut updates: Updates = Box::pin(loquat::session::run(p));
    wait_for(&mut updates, 30, "online or failed", |k| match k {
        UpdateKind::Online { .. } => Some(Ok(())),
        UpdateKind::Failed(e) => Some(Err(e.clone())),
        _ => None,
    })
    .await
}

async fn secret(secrets: &Arc<dyn SecretStore>, id: &AccountId) -> Option<String> {
    let (s, i) = (secrets.clone(), id.clone());
    tokio::task::spawn_blocking(move || s.get(&i))
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_reaches_the_server_then_the_keyring() {
    let server = TestServer::start();
    let (address, old) = server.fresh_user("pwchange");
    let id = AccountId::generate();
    let secrets = secret_store();
    let _forget = Forget(secrets.clone(), id.clone());
    secrets.set(&id, &old).unwrap();

    let (updates, handle, _) = online(params(&server, &id, &address, &old)).await;
    let new = "a new password 新密码";
    register::change_password_and_save(&handle, &jid(&address), new, Some(secrets.clone()), &id)
        .await
        .unwrap_or_else(|e| panic!("password change: {e}\n{}", server.log_tail()));
    assert_eq!(secret(&secrets, &id).await.as_deref(), Some(new));

    // The old password no longer signs in; the new one does.
    match sign_in(&server, &address, &old).await {
        Err(SessionError::Auth { .. }) => {}
        other => panic!("the old password still works or failed otherwise: {other:?}"),
    }
    sign_in(&server, &address, new)
        .await
        .unwrap_or_else(|e| panic!("the new password does not sign in: {e}"));

    // A change the server never got leaves the keyring as it was.
    drop(updates);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let refused = register::change_password_and_save(
        &handle,
        &jid(&address),
        "never sent",
        Some(secrets.clone()),
        &id,
    )
    .await;
    assert_eq!(
        refused,
        Err(ChangeError::Refused(RegisterError::NotConnected))
    );
    assert_eq!(secret(&secrets, &id).await.as_deref(), Some(new));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_band_registration_makes_an_account_that_signs_in() {
    let server = TestServer::start_with("allow_registration = true");
    let (mut form, registrar) =
        register::open("localhost", &server_override(&server), &trust(&server))
            .await
            .unwrap_or_else(|e| panic!("registration form: {e}\n{}", server.log_tail()));
    assert_eq!(
        form.fillable(),
        loquat::xmpp::register::Fillable::Yes,
        "{form:?}"
    );
    let user = support::unique_local("ibr");
    let password = support::random_password();
    form.set("username", &user);
    form.set("password", &password);
    registrar
        .submit(form.clone())
        .await
        .unwrap_or_else(|e| panic!("registration: {e}\n{}", server.log_tail()));
    assert!(server.user_exists(&user, "localhost"));
    sign_in(&server, &format!("{user}@localhost"), &password)
        .await
        .unwrap_or_else(|e| panic!("the new account does not sign in: {e}"));

    // The same name again is taken.
    let (mut again, registrar) =
        register::open("localhost", &server_override(&server), &trust(&server))
            .await
            .unwrap();
    again.set("username", &user);
    again.set("password", "other");
    assert_eq!(registrar.submit(again).await, Err(RegisterError::Conflict));
}

/// A server whose certificate nobody vouches for: registering reports it with its
/// fingerprint (as sign-in does), and pinning that certificate lets the registration
/// through, without any CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_reports_an_untrusted_certificate_and_a_pin_lets_it_through() {
    let server = TestServer::start_with("allow_registration = true");
    let untrusted = register::open("localhost", &server_override(&server), &Trust::default())
        .await
        .map(|_| ());
    let Err(RegisterError::Certificate {
        fingerprint_sha256,
        names,
        ..
    }) = untrusted
    else {
        panic!("expected a certificate error, got {untrusted:?}");
    };
    assert_eq!(fingerprint_sha256.len(), 64);
    assert!(names.iter().any(|n| n == "localhost"), "{names:?}");

    let pinned = Trust {
        extra_roots_pem: None,
        pinned_sha256: vec![fingerprint_sha256],
    };
    let (mut form, registrar) = register::open("localhost", &server_override(&server), &pinned)
        .await
        .unwrap_or_else(|e| panic!("registration form with the pin: {e}"));
    let user = support::unique_local("pinned");
    form.set("username", &user);
    form.set("password", &support::random_password());
    registrar.submit(form).await.unwrap();
    assert!(server.user_exists(&user, "localhost"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_registration_says_so() {
    let server = TestServer::start();
    let refused = register::open("localhost", &server_override(&server), &trust(&server)).await;
    assert_eq!(refused.err(), Some(RegisterError::Unsupported));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_account_on_the_server_then_here() {
    let server = TestServer::start();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let secrets = secret_store();
    let (address, password) = server.fresh_user("gone");
    let (friend, friend_password) = server.fresh_user("friend");
    let account = Account::new(jid(&address));
    let id = account.id.clone();
    let _forget = Forget(secrets.clone(), id.clone());
    store.save_account(&account).unwrap();
    secrets.set(&id, &password).unwrap();

    // Some history, stored as it arrives.
    let mut p = params(&server, &id, &address, &password);
    p.store = Some(store.clone());
    let (mut updates, handle, _) = online(p).await;
    let (_fu, fh, _) = online(params(
        &server,
        &AccountId::generate(),
        &friend,
        &friend_password,
    ))
    .await;
    fh.send(Command::SendChat {
        to: jid(&address),
        body: "before the removal".into(),
        id: LocalMessageId::generate(),
    })
    .unwrap();
    wait_for(&mut updates, 20, "the message", |k| {
        matches!(k, UpdateKind::Message(m) if m.body == "before the removal").then_some(())
    })
    .await;
    assert_eq!(store.conversations(&id).unwrap().len(), 1);

    register::remove_everywhere(
        &handle,
        &jid(&address),
        Some(store.clone()),
        Some(secrets.clone()),
        &id,
    )
    .await
    .unwrap_or_else(|e: RemoveError| panic!("removal: {e}\n{}", server.log_tail()));

    let local = address.split('@').next().unwrap();
    assert!(
        !server.user_exists(local, "localhost"),
        "still on the server"
    );
    match sign_in(&server, &address, &password).await {
        Err(SessionError::Auth { .. }) => {}
        other => panic!("the removed account still signs in or failed otherwise: {other:?}"),
    }
    assert!(store.accounts().unwrap().iter().all(|a| a.id != id));
    assert!(store.conversations(&id).unwrap().is_empty(), "history left");
    assert_eq!(secret(&secrets, &id).await, None, "password left");
}
