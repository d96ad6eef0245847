//! The oracle of the fault-injection tests: after a run, what each side stored and what
//! the server archive holds must be exactly what was sent, each message once, in order.

use crate::support::TestServer;
use crate::support::session::{Updates, jid, local_params, online};
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Delivery, Direction};
use loquat::session::{Command, Handle, SessionParams};
use loquat::store::Store;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One account of a test: its address, password, local database and (when signed in)
/// its session.
pub struct Side {
    pub jid: String,
    pub password: String,
    pub account: AccountId,
    pub dir: PathBuf,
    pub store: Option<Store>,
    /// The port the session connects to (the server's, or a fault proxy's).
    pub port: u16,
    pub session: Option<(Updates, Handle)>,
    /// Bodies this side's user sent, in order.
    pub sent: Vec<String>,
}

impl Side {
    pub fn new(server: &TestServer, prefix: &str, dir: &Path) -> Side {
        // RUST_LOG=loquat=debug shows the sessions' logs.
        let _ = env_logger::builder().try_init();
        let (jid, password) = server.fresh_user(prefix);
        let dir = dir.join(prefix);
        std::fs::create_dir_all(&dir).expect("create a data folder");
        let store = Store::open(&dir).expect("open the store");
        Side {
            account: AccountId(format!("acc-{jid}")),
            jid,
            password,
            dir,
            store: Some(store),
            port: server.c2s_port(),
            session: None,
            sent: Vec::new(),
        }
    }

    pub fn params(&self, server: &TestServer) -> SessionParams {
        local_params(
            self.account.clone(),
            self.port,
            server.ca_pem(),
            &self.jid,
            &self.password,
            self.store.clone(),
        )
    }

    /// Signs in and waits until online.
    pub async fn sign_in(&mut self, server: &TestServer) {
        let (updates, handle, _) = online(self.params(server)).await;
        self.session = Some((updates, handle));
    }

    /// Quits the app: the session and the database handle go away.
    pub fn quit(&mut self) {
        self.session = None;
        self.store = None;
    }

    /// Starts the app again on the same data folder.
    pub fn reopen_store(&mut self) {
        self.store = Some(Store::open(&self.dir).expect("reopen the store"));
    }

    /// Waits until the server confirmed everything this side sent to `to`: all of it
    /// stored (sending goes through the session, which stores first) and the outbox
    /// empty. The outbox alone is empty before the session stored anything.
    pub async fn wait_all_sent(&self, to: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.stored(to, Direction::Outgoing).len() < self.sent.len()
            || !self
                .store()
                .outbox(&self.account)
                .expect("outbox")
                .is_empty()
        {
            assert!(
                Instant::now() < deadline,
                "{}'s messages never left",
                self.jid
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stores, as if received long ago, a message from `peer` with the archive id
    /// `server_id` (which the test server never had).
    pub fn store_received(&self, peer: &str, body: &str, time_ms: i64, server_id: &str) {
        let m = loquat::model::ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: LocalMessageId::generate(),
            account: self.account.clone(),
            conversation: ConversationId::Chat(crate::support::session::jid(peer)),
            direction: Direction::Incoming,
            sender: String::new(),
            body: body.into(),
            timestamp_ms: time_ms,
            stanza_id_attr: None,
            origin_id: None,
            server_id: Some(server_id.into()),
            delivery: Delivery::Delivered,
            attachment: None,
        };
        self.store().insert_message(&m).expect("store a message");
    }

    pub fn store(&self) -> &Store {
        self.store.as_ref().expect("the store is open")
    }

    pub fn handle(&self) -> &Handle {
        &self.session.as_ref().expect("signed in").1
    }

    /// The user writes `body` to `to`.
    pub fn send(&mut self, to: &str, body: String) {
        self.handle()
            .send(Command::SendChat {
                to: jid(to),
                body: body.clone(),
                id: LocalMessageId::generate(),
            })
            .expect("the session takes commands");
        self.sent.push(body);
    }

    /// Bodies stored with `peer`, in the store's order, of one direction.
    pub fn stored(&self, peer: &str, direction: Direction) -> Vec<String> {
        bodies(self.store(), &self.account, peer, direction)
    }
}

pub fn bodies(store: &Store, account: &AccountId, peer: &str, direction: Direction) -> Vec<String> {
    store
        .latest(account, &ConversationId::Chat(jid(peer)), 1_000_000)
        .expect("read the history")
        .into_iter()
        .filter(|m| m.direction == direction)
        .map(|m| m.body)
        .collect()
}

/// Waits (polling the store) until every expected body is there, then a little longer
/// so that a late duplicate would show too.
pub async fn wait_stored(
    what: &str,
    secs: u64,
    expected: &[String],
    mut read: impl FnMut() -> Vec<String>,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = read();
        let all = expected.iter().all(|e| got.contains(e));
        if all {
            break;
        }
        if Instant::now() >= deadline {
            let missing = expected.iter().filter(|e| !got.contains(e)).count();
            panic!(
                "{what}: {missing} of {} messages still missing after {secs} s (first missing: {:?})",
                expected.len(),
                expected.iter().find(|e| !got.contains(e))
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

/// `got` is `expected`: nothing lost, nothing twice, nothing out of order. The failure
/// message says which of the three it was.
pub fn assert_once_in_order(what: &str, got: &[String], expected: &[String]) {
    let missing: Vec<&String> = expected.iter().filter(|e| !got.contains(e)).collect();
    let mut seen = std::collections::HashSet::new();
    let duplicated: Vec<&String> = got.iter().filter(|g| !seen.insert(*g)).collect();
    let unexpected: Vec<&String> = got.iter().filter(|g| !expected.contains(g)).collect();
    assert!(
        missing.is_empty(),
        "{what}: lost {} message(s): {missing:?}",
        missing.len()
    );
    assert!(
        duplicated.is_empty(),
        "{what}: {} duplicate(s): {duplicated:?}",
        duplicated.len()
    );
    assert!(unexpected.is_empty(), "{what}: unexpected {unexpected:?}");
    if let Some(i) = got.iter().zip(expected).position(|(g, e)| g != e) {
        panic!(
            "{what}: order broken at #{i}: got {:?}, expected {:?} (stored at #{:?})",
            &got[i..(i + 3).min(got.len())],
            &expected[i..(i + 3).min(expected.len())],
            got.iter().position(|g| *g == expected[i])
        );
    }
}

/// The full check after a run between `a` and `b`:
/// - each side stored what it sent (outgoing) and what the other sent (incoming), each
///   once and in order;
/// - nothing is left in either outbox (the server confirmed every message);
/// - the server archive, read by a new device of `a` that starts from nothing, holds
///   every message of both directions once, in order.
pub async fn check(server: &TestServer, a: &Side, b: &Side, secs: u64) {
    check_with(server, a, b, secs, true).await
}

/// [`check`]; with `archive_order` false, the server archive must still hold every
/// message once, but its order may differ from the sending order (the server's own
/// order after it was killed is not the client's to keep). Each side's store must then
/// read what it received in the archive's order: one order everywhere.
pub async fn check_with(server: &TestServer, a: &Side, b: &Side, secs: u64, archive_order: bool) {
    wait_stored("messages at B", secs, &a.sent, || {
        b.stored(&a.jid, Direction::Incoming)
    })
    .await;
    wait_stored("messages at A", secs, &b.sent, || {
        a.stored(&b.jid, Direction::Incoming)
    })
    .await;
    // What we wrote reads in the order we wrote it.
    assert_once_in_order(
        "A's own messages",
        &a.stored(&b.jid, Direction::Outgoing),
        &a.sent,
    );
    assert_once_in_order(
        "B's own messages",
        &b.stored(&a.jid, Direction::Outgoing),
        &b.sent,
    );
    for side in [a, b] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let outbox = side.store().outbox(&side.account).expect("read the outbox");
            if outbox.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {} message(s) never confirmed by the server, e.g. {:?} ({:?})",
                side.jid,
                outbox.len(),
                outbox[0].body,
                outbox[0].delivery
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let states = side
            .store()
            .latest(
                &side.account,
                &ConversationId::Chat(jid(other(side, a, b))),
                1_000_000,
            )
            .expect("history");
        let failed = states
            .iter()
            .filter(|m| {
                m.direction == Direction::Outgoing && matches!(m.delivery, Delivery::Failed(_))
            })
            .count();
        assert_eq!(failed, 0, "{}: messages shown as failed", side.jid);
    }
    // LOQUAT_KEEP_RUN=DIR keeps the server's folder (its archive files) and both sides'
    // data folders for a post-mortem (a sled database each).
    if let Some(keep) = std::env::var_os("LOQUAT_KEEP_RUN") {
        for dir in [server.dir(), a.dir.as_path(), b.dir.as_path()] {
            let _ = std::process::Command::new("cp")
                .arg("-a")
                .arg(dir)
                .arg(&keep)
                .status();
        }
    }
    // Each side's own archive, read by a new device of that side: after a server kill
    // the two archives may differ in order (each is written when the message passes).
    let (b_to_a, _) = archive(server, a, b, secs, archive_order).await;
    let (a_to_b, _) = archive(server, b, a, secs, archive_order).await;
    // What each side received reads in the order its own archive holds it, always:
    // one order everywhere, also after the faults.
    assert_once_in_order(
        "B received from A",
        &b.stored(&a.jid, Direction::Incoming),
        &a_to_b,
    );
    assert_once_in_order(
        "A received from B",
        &a.stored(&b.jid, Direction::Incoming),
        &b_to_a,
    );
}

fn other<'a>(side: &Side, a: &'a Side, b: &'a Side) -> &'a str {
    if side.jid == a.jid { &b.jid } else { &a.jid }
}

/// A new device of `a` (empty database) fills its history from the server archive:
/// the archive must hold both directions once, in order (with `order` false, in any
/// order). Returns what it read, in its order: B's messages, then A's.
pub async fn archive(
    server: &TestServer,
    a: &Side,
    b: &Side,
    secs: u64,
    order: bool,
) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let account = AccountId(format!("fresh-{}", a.jid));
    let mut p = local_params(
        account.clone(),
        server.c2s_port(),
        server.ca_pem(),
        &a.jid,
        &a.password,
        Some(store.clone()),
    );
    p.resource = Some("fresh-device".into());
    let (_u, _h, _) = online(p).await;
    wait_stored("archive, received", secs, &b.sent, || {
        bodies(&store, &account, &b.jid, Direction::Incoming)
    })
    .await;
    wait_stored("archive, sent", secs, &a.sent, || {
        bodies(&store, &account, &b.jid, Direction::Outgoing)
    })
    .await;
    let received = bodies(&store, &account, &b.jid, Direction::Incoming);
    let sent = bodies(&store, &account, &b.jid, Direction::Outgoing);
    for (what, got, expected) in [
        ("server archive (received)", received.clone(), &b.sent),
        ("server archive (sent)", sent.clone(), &a.sent),
    ] {
        if order {
            assert_once_in_order(what, &got, expected);
        } else {
            let mut sorted = got.clone();
            sorted.sort();
            let mut want = expected.clone();
            want.sort();
            assert_once_in_order(what, &sorted, &want);
            if got != *expected {
                eprintln!("{what}: every message once, but in another order than sent");
            }
        }
    }
    (received, sent)
}
