//! Several accounts at once, as the app runs them: one session per account, each with
//! its own `AccountId`, all sharing one `Store`; against a real Prosody serving two
//! domains (`localhost` and `example.test`, see tests/support).
//!
//! The keyring test uses the real Secret Service when there is a session bus
//! (`tests/run-all.sh` provides one with an unlocked gnome-keyring), else passwords in
//! memory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;
use support::session::jid;

use futures::future::join_all;
use futures::{Stream, StreamExt};
use loquat::accounts;
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Account, ChatMessage, Direction, ServerOverride, Show, Trust};
use loquat::secrets::{KeyringSecrets, MemorySecrets, SecretStore};
use loquat::session::{Command, Handle, SessionError, SessionParams, Update, UpdateKind};
use loquat::store::Store;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use support::TestServer;
use tokio_xmpp::parsers::jid::BareJid;

type Updates = Pin<Box<dyn Stream<Item = Update> + Send>>;

/// Seconds to wait for anything the server should do promptly.
const PROMPT: u64 = 20;

fn params(
    server: &TestServer,
    id: &AccountId,
    address: &str,
    password: &str,
    store: Option<Store>,
) -> SessionParams {
    SessionParams {
        account: id.clone(),
        jid: jid(address),
        password: password.to_owned(),
        server: ServerOverride {
            host: Some("127.0.0.1".into()),
            port: Some(server.c2s_port()),
            direct_tls: false,
        },
        trust: Trust {
            extra_roots_pem: Some(server.ca_pem()),
            pinned_sha256: Vec::new(),
        },
        resource: None,
        store,
        verify_only: false,
        allow_plain: false,
        omemo_key: None,
    }
}

/// One running session, as the UI holds it: its update stream and its command handle.
struct Session {
    id: AccountId,
    jid: BareJid,
    updates: Updates,
    handle: Handle,
    /// When set, a `Failed` or `Disconnected` update fails the test at once.
    healthy: bool,
    /// The last updates seen, for failure messages.
    seen: VecDeque<String>,
}

impl Session {
    /// Starts a session and waits for its `Ready` (not for it to be online).
    async fn start(p: SessionParams) -> Session {
        let id = p.account.clone();
        let address = p.jid.clone();
        let mut s = Session {
            id,
            jid: address,
            updates: Box::pin(loquat::session::run(p)),
            handle: Handle::new(tokio::sync::mpsc::unbounded_channel().0),
            healthy: true,
            seen: VecDeque::new(),
        };
        s.handle = s
            .wait_for("Ready", 10, |k| match k {
                UpdateKind::Ready(h) => Some(h.clone()),
                _ => None,
            })
            .await;
        s
    }

    /// Starts a session and waits until it is online.
    async fn online(p: SessionParams) -> Session {
        let mut s = Session::start(p).await;
        s.wait_online().await;
        s
    }

    async fn wait_online(&mut self) {
        self.wait_for("Online", PROMPT, |k| match k {
            UpdateKind::Online { .. } => Some(()),
            _ => None,
        })
        .await
    }

    /// Waits for the first update matching `pick`; fails the test with this account's
    /// address and its recent updates after `secs`, or when the session ends.
    async fn wait_for<T>(
        &mut self,
        what: &str,
        secs: u64,
        mut pick: impl FnMut(&UpdateKind) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            match tokio::time::timeout_at(deadline, self.updates.next()).await {
                Ok(Some(u)) => {
                    assert_eq!(
                        u.account, self.id,
                        "{}: an update carries another account's id: {:?}",
                        self.jid, u.kind
                    );
                    self.remember(&u.kind);
                    if self.healthy
                        && matches!(
                            u.kind,
                            UpdateKind::Failed(_) | UpdateKind::Disconnected { .. }
                        )
                    {
                        panic!(
                            "{}: lost its session while waiting for {what}: {:?}\nrecent: {:?}",
                            self.jid, u.kind, self.seen
                        );
                    }
                    if let Some(t) = pick(&u.kind) {
                        return t;
                    }
                }
                Ok(None) => panic!(
                    "{}: session ended while waiting for {what}; recent updates: {:?}",
                    self.jid, self.seen
                ),
                Err(_) => panic!(
                    "{}: no {what} within {secs} s; recent updates: {:?}",
                    self.jid, self.seen
                ),
            }
        }
    }

    fn remember(&mut self, kind: &UpdateKind) {
        let mut text = format!("{kind:?}");
        if text.len() > 160 {
            let mut cut = 160;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push('…');
        }
        if self.seen.len() == 12 {
            self.seen.pop_front();
        }
        self.seen.push_back(text);
    }

    fn send_chat(&self, to: &BareJid, body: &str) -> LocalMessageId {
        let id = LocalMessageId::generate();
        self.handle
            .send(Command::SendChat {
                to: to.clone(),
                body: body.to_owned(),
                id: id.clone(),
            })
            .unwrap_or_else(|e| panic!("{}: sending to {to}: {e}", self.jid));
        id
    }

    /// Waits for an incoming message with exactly `body`.
    async fn receive(&mut self, body: &str) -> ChatMessage {
        let what = format!("incoming message {body:?}");
        self.wait_for(&what, PROMPT, |k| match k {
            UpdateKind::Message(m) if m.direction == Direction::Incoming && m.body == body => {
                Some(m.clone())
            }
            _ => None,
        })
        .await
    }

    fn command(&self, command: Command) {
        self.handle
            .send(command)
            .unwrap_or_else(|e| panic!("{}: command refused: {e}", self.jid));
    }
}

/// Bodies of one conversation of one account, oldest first.
fn bodies(store: &Store, account: &AccountId, peer: &BareJid) -> Vec<String> {
    store
        .latest(account, &ConversationId::Chat(peer.clone()), 50)
        .unwrap_or_else(|e| panic!("reading history of {account} with {peer}: {e}"))
        .into_iter()
        .map(|m| m.body)
        .collect()
}

/// A message to `to` from `from` arrives at `to`, from `from`, under `to`'s account.
async fn deliver(from: &Session, to: &mut Session, body: &str) -> ChatMessage {
    from.send_chat(&to.jid, body);
    let m = to.receive(body).await;
    assert_eq!(
        *m.peer(),
        from.jid,
        "{}: {body:?} arrived as from {}, sent by {}",
        to.jid,
        *m.peer(),
        from.jid
    );
    assert_eq!(
        m.account, to.id,
        "{}: {body:?} filed under another account",
        to.jid
    );
    m
}

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp folder for the store");
    let store = Store::open(dir.path()).expect("open the store");
    (dir, store)
}

/// Registers `count` users, two thirds on `localhost` and the rest on `example.test`,
/// and saves each as an account of the app (record only; no password in it).
fn app_accounts(
    server: &TestServer,
    store: &Store,
    prefix: &str,
    domains: &[&str],
) -> Vec<(AccountId, String, String)> {
    domains
        .iter()
        .map(|domain| {
            let (address, password) = server.fresh_user_on(prefix, domain);
            let mut account = Account::new(jid(&address));
            account.position = accounts::next_position(store).expect("next position");
            store.save_account(&account).expect("save account");
            (account.id, address, password)
        })
        .collect()
}

/// Signs the accounts in concurrently (as start-up does) and waits until all are online.
async fn sign_in_all(
    server: &TestServer,
    store: &Store,
    list: &[(AccountId, String, String)],
) -> Vec<Session> {
    join_all(list.iter().map(|(id, address, password)| {
        Session::online(params(server, id, address, password, Some(store.clone())))
    }))
    .await
}

/// Someone outside the app (own session, no store) to talk to the app's accounts.
async fn outsider(server: &TestServer, prefix: &str, domain: &str) -> Session {
    let (address, password) = server.fresh_user_on(prefix, domain);
    let id = AccountId(format!("outsider-{address}"));
    Session::online(params(server, &id, &address, &password, None)).await
}

// ------------------------------------------------------------------- (a) and (b)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_accounts_on_two_domains_each_get_and_keep_their_own_messages() {
    let server = TestServer::start();
    let (_dir, store) = temp_store();
    let list = app_accounts(
        &server,
        &store,
        "multi",
        &["localhost", "localhost", "example.test"],
    );
    let mut sessions = sign_in_all(&server, &store, &list).await;
    let peer = outsider(&server, "sender", "example.test").await;

    for s in sessions.iter_mut() {
        let body = format!("for {} only", s.jid);
        deliver(&peer, s, &body).await;
    }

    // Each account stored exactly its own message, though the peer is the same.
    for s in &sessions {
        assert_eq!(
            bodies(&store, &s.id, &peer.jid),
            vec![format!("for {} only", s.jid)],
            "history of {} with {}",
            s.jid,
            peer.jid
        );
        let conversations = store.conversations(&s.id).expect("conversations");
        assert_eq!(
            conversations.len(),
            1,
            "{}: conversations {conversations:?}",
            s.jid
        );
    }

    // Outgoing too: each account's reply is filed under that account.
    let mut peer = peer;
    for s in &sessions {
        let body = format!("reply from {}", s.jid);
        deliver(s, &mut peer, &body).await;
    }
    for s in &sessions {
        let history = bodies(&store, &s.id, &peer.jid);
        assert_eq!(
            history,
            vec![
                format!("for {} only", s.jid),
                format!("reply from {}", s.jid)
            ],
            "history of {}",
            s.jid
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_on_a_fourth_account_disturbs_no_other() {
    let server = TestServer::start();
    let (_dir, store) = temp_store();
    let list = app_accounts(
        &server,
        &store,
        "steady",
        &["localhost", "localhost", "example.test"],
    );
    let mut sessions = sign_in_all(&server, &store, &list).await;
    let mut peer = outsider(&server, "peer", "localhost").await;

    let (bad_address, _right_password) = server.fresh_user_on("badpw", "example.test");
    let bad_id = AccountId::generate();
    let mut bad = Session::start(params(
        &server,
        &bad_id,
        &bad_address,
        "not-the-password",
        Some(store.clone()),
    ))
    .await;
    bad.healthy = false;
    let error = bad
        .wait_for("the authentication failure", PROMPT, |k| match k {
            UpdateKind::Failed(e) => Some(e.clone()),
            UpdateKind::Online { .. } => panic!("{bad_address}: signed in with a wrong password"),
            _ => None,
        })
        .await;
    assert!(
        matches!(error, SessionError::Auth { .. }),
        "{bad_address}: expected an authentication error, got {error:?}"
    );

    // After the failure, the three others still receive and send.
    for s in sessions.iter_mut() {
        deliver(&peer, s, &format!("after the failure, to {}", s.jid)).await;
    }
    for s in &sessions {
        deliver(s, &mut peer, &format!("after the failure, from {}", s.jid)).await;
    }
    for s in &sessions {
        assert_eq!(
            bodies(&store, &s.id, &peer.jid).len(),
            2,
            "{}: history with {}",
            s.jid,
            peer.jid
        );
    }
    // The failed account has stored nothing and stays quiet (no retry loop).
    assert!(
        store
            .conversations(&bad_id)
            .expect("conversations")
            .is_empty()
    );
    match tokio::time::timeout(Duration::from_secs(2), bad.updates.next()).await {
        Err(_) | Ok(None) => {}
        Ok(Some(u)) => panic!(
            "{bad_address}: activity after the auth failure: {:?}",
            u.kind
        ),
    }
}

// ------------------------------------------------------------------- (c)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_an_account_ends_only_its_session() {
    let server = TestServer::start();
    let (_dir, store) = temp_store();
    let list = app_accounts(&server, &store, "toggle", &["localhost", "example.test"]);
    let mut sessions = sign_in_all(&server, &store, &list).await;
    let mut other = sessions.pop().expect("second account");
    let mut target = sessions.pop().expect("first account");
    let mut observer = outsider(&server, "observer", "localhost").await;

    // The observer and the target subscribe to each other.
    observer.command(Command::AddContact {
        jid: target.jid.clone(),
        name: None,
        subscribe: true,
    });
    target
        .wait_for("the observer's subscription request", PROMPT, |k| match k {
            UpdateKind::SubscriptionRequest { from } if *from == observer.jid => Some(()),
            _ => None,
        })
        .await;
    // Accepting also asks back.
    target.command(Command::AnswerSubscription {
        jid: observer.jid.clone(),
        accept: true,
    });
    let target_jid = target.jid.clone();
    observer
        .wait_for("the target's subscription request", PROMPT, |k| match k {
            UpdateKind::SubscriptionRequest { from } if *from == target_jid => Some(()),
            _ => None,
        })
        .await;
    observer.command(Command::AnswerSubscription {
        jid: target.jid.clone(),
        accept: true,
    });
    observer
        .wait_for("the target online", PROMPT, |k| match k {
            UpdateKind::Presence { from, show, .. }
                if from.to_bare() == target_jid && *show != Show::Offline =>
            {
                Some(())
            }
            _ => None,
        })
        .await;

    // Disable: the UI drops the account's subscription, i.e. its update stream.
    let Session {
        updates: target_updates,
        handle: target_handle,
        ..
    } = target;
    drop(target_updates);

    observer
        .wait_for("the target going offline", PROMPT, |k| match k {
            UpdateKind::Presence {
                from,
                show: Show::Offline,
                ..
            } if from.to_bare() == target_jid => Some(()),
            _ => None,
        })
        .await;
    // Its handle now says "not connected" (the actor is gone) instead of panicking.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let sent = target_handle.send(Command::SetPresence {
            show: Show::Away,
            status: None,
        });
        if sent.is_err() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{target_jid}: the handle still accepts commands after the session was dropped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The other account goes on as before, both ways.
    deliver(&observer, &mut other, "still there?").await;
    deliver(&other, &mut observer, "yes").await;
    assert_eq!(
        bodies(&store, &other.id, &observer.jid),
        ["still there?", "yes"]
    );
}

// ------------------------------------------------------------------- (d)

/// The real keyring when there is a session bus, else passwords in memory.
fn secret_store() -> Arc<dyn SecretStore> {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        match KeyringSecrets::init() {
            Ok(k) => {
                eprintln!("accounts test: using the system keyring (Secret Service)");
                Arc::new(k)
            }
            Err(e) => panic!(
                "DBUS_SESSION_BUS_ADDRESS is set but the keyring cannot be used: {e} \
                 (run the tests through tests/run-all.sh, or unset the variable)"
            ),
        }
    } else {
        eprintln!("accounts test: no session bus, passwords kept in memory");
        Arc::new(MemorySecrets::new())
    }
}

/// Deletes keyring entries the test created, also when it fails halfway.
struct ForgetPasswords(Arc<dyn SecretStore>, Vec<AccountId>);

impl Drop for ForgetPasswords {
    fn drop(&mut self) {
        for id in &self.1 {
            let _ = self.0.delete(id);
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| panic!("blocking task failed: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_account_removes_its_password_and_history_only() {
    let server = TestServer::start();
    let (_dir, store) = temp_store();
    let secrets = secret_store();
    let list = app_accounts(&server, &store, "remove", &["localhost", "example.test"]);
    let _cleanup = ForgetPasswords(secrets.clone(), list.iter().map(|a| a.0.clone()).collect());

    // Passwords go to the keyring; sessions read them back from there, as at start-up.
    let mut sessions = Vec::new();
    for (id, address, password) in &list {
        let (s, i, p) = (secrets.clone(), id.clone(), password.clone());
        blocking(move || s.set(&i, &p))
            .await
            .unwrap_or_else(|e| panic!("storing the password of {address}: {e}"));
        let (s, i) = (secrets.clone(), id.clone());
        let stored = blocking(move || s.get(&i))
            .await
            .unwrap_or_else(|e| panic!("reading the password of {address}: {e}"))
            .unwrap_or_else(|| panic!("no password stored for {address}"));
        sessions.push(
            Session::online(params(&server, id, address, &stored, Some(store.clone()))).await,
        );
    }
    let mut keep = sessions.pop().expect("second account");
    let mut gone = sessions.pop().expect("first account");
    let mut peer = outsider(&server, "friend", "localhost").await;

    deliver(&peer, &mut gone, "to the account being removed").await;
    deliver(&peer, &mut keep, "to the account that stays").await;
    deliver(&gone, &mut peer, "from the account being removed").await;
    deliver(&keep, &mut peer, "from the account that stays").await;
    let kept_history = bodies(&store, &keep.id, &peer.jid);
    assert_eq!(kept_history.len(), 2, "history of {}", keep.jid);
    assert_eq!(bodies(&store, &gone.id, &peer.jid).len(), 2);

    // Stop its session (disable), then remove it with its history.
    let (gone_id, gone_jid) = (gone.id.clone(), gone.jid.clone());
    drop(gone);
    let (st, se, id) = (store.clone(), secrets.clone(), gone_id.clone());
    blocking(move || accounts::remove_account(&st, Some(se.as_ref()), &id, true))
        .await
        .unwrap_or_else(|e| panic!("removing {gone_jid}: {e}"));

    let (s, i) = (secrets.clone(), gone_id.clone());
    assert_eq!(
        blocking(move || s.get(&i)).await.expect("keyring read"),
        None,
        "{gone_jid}: its password is still in the keyring"
    );
    let (s, i) = (secrets.clone(), keep.id.clone());
    let kept_password = blocking(move || s.get(&i)).await.expect("keyring read");
    assert_eq!(
        kept_password.as_deref(),
        Some(list.get(1).expect("second account").2.as_str()),
        "{}: its password must stay",
        keep.jid
    );
    let remaining: Vec<AccountId> = store
        .accounts()
        .expect("accounts")
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(remaining, vec![keep.id.clone()]);
    assert!(
        bodies(&store, &gone_id, &peer.jid).is_empty(),
        "{gone_jid}: history survived"
    );
    assert!(
        store
            .conversations(&gone_id)
            .expect("conversations")
            .is_empty()
    );
    assert_eq!(bodies(&store, &keep.id, &peer.jid), kept_history);
    assert_eq!(
        store.conversations(&keep.id).expect("conversations").len(),
        1
    );

    // And the remaining account still works.
    deliver(&peer, &mut keep, "after the removal").await;
    assert_eq!(bodies(&store, &keep.id, &peer.jid).len(), 3);
}

// ------------------------------------------------------------------- (e)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_in_two_accounts_sees_the_account_that_wrote() {
    let server = TestServer::start();
    let (_dir, store) = temp_store();
    let list = app_accounts(&server, &store, "twice", &["localhost", "example.test"]);
    let mut sessions = sign_in_all(&server, &store, &list).await;
    let mut second = sessions.pop().expect("second account");
    let mut first = sessions.pop().expect("first account");
    // The contact keeps its own history, as its own client would.
    let (_contact_dir, contact_store) = temp_store();
    let (contact_address, contact_password) = server.fresh_user_on("contact", "localhost");
    let contact_id = AccountId::generate();
    let mut contact = Session::online(params(
        &server,
        &contact_id,
        &contact_address,
        &contact_password,
        Some(contact_store.clone()),
    ))
    .await;

    // The contact is in both accounts' rosters.
    for s in [&mut first, &mut second] {
        s.command(Command::AddContact {
            jid: contact.jid.clone(),
            name: Some("Shared contact".into()),
            subscribe: false,
        });
        let contact_jid = contact.jid.clone();
        s.wait_for("the roster push for the contact", PROMPT, |k| match k {
            UpdateKind::ContactChanged(c) if c.jid == contact_jid => Some(()),
            _ => None,
        })
        .await;
    }

    // Written from account 2: the contact sees account 2's address, not account 1's.
    let got = deliver(&second, &mut contact, "written as the second account").await;
    assert_ne!(*got.peer(), first.jid);
    let at_contact = bodies(&contact_store, &contact_id, &second.jid);
    assert_eq!(at_contact, ["written as the second account"]);
    assert!(bodies(&contact_store, &contact_id, &first.jid).is_empty());
    // On our side it is filed under account 2 only.
    assert_eq!(
        bodies(&store, &second.id, &contact.jid),
        ["written as the second account"]
    );
    assert!(bodies(&store, &first.id, &contact.jid).is_empty());

    // And from account 1 it is account 1's address.
    deliver(&first, &mut contact, "written as the first account").await;
    assert_eq!(
        bodies(&contact_store, &contact_id, &first.jid),
        ["written as the first account"]
    );
}
