//! The same login, roster and message exchange against ejabberd 23.01.

mod support;

use futures::{Stream, StreamExt};
use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::{Direction, ServerOverride, Trust};
use loquat::session::{Command, Handle, SessionError, SessionParams, Update, UpdateKind};
use std::pin::Pin;
use std::time::Duration;
use support::Ejabberd;
use tokio_xmpp::parsers::jid::BareJid;

type Updates = Pin<Box<dyn Stream<Item = Update> + Send>>;

fn params(server: &Ejabberd, user: &str, password: &str) -> SessionParams {
    SessionParams {
        account: AccountId(format!("acc-{user}")),
        jid: BareJid::new(user).expect("jid"),
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
        store: None,
        verify_only: false,
    }
}

async fn wait_for<T>(
    updates: &mut Updates,
    what: &str,
    mut pick: impl FnMut(&UpdateKind) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, updates.next()).await {
            Ok(Some(u)) => {
                if let Some(t) = pick(&u.kind) {
                    return t;
                }
            }
            Ok(None) => panic!("session ended while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }
}

async fn online(p: SessionParams) -> (Updates, Handle, String) {
    let mut updates: Updates = Box::pin(loquat::session::run(p));
    let handle = wait_for(&mut updates, "Ready", |k| match k {
        UpdateKind::Ready(h) => Some(h.clone()),
        _ => None,
    })
    .await;
    let mechanism = wait_for(&mut updates, "Online", |k| match k {
        UpdateKind::Online { mechanism, .. } => Some(mechanism.clone()),
        UpdateKind::Failed(e) => panic!("login failed: {e}"),
        _ => None,
    })
    .await;
    (updates, handle, mechanism)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ejabberd_login_roster_and_messages() {
    let server = Ejabberd::start();
    let a = "alice@localhost";
    let b = "bob@localhost";
    server.register("alice", "pass-a");
    server.register("bob", "pass-b");

    // Wrong password: one clear error, no retry.
    let mut bad: Updates = Box::pin(loquat::session::run(params(&server, a, "nope")));
    let err = wait_for(&mut bad, "auth failure", |k| match k {
        UpdateKind::Failed(e) => Some(e.clone()),
        UpdateKind::Online { .. } => panic!("logged in with a wrong password"),
        _ => None,
    })
    .await;
    assert!(matches!(err, SessionError::Auth { .. }), "{err:?}");

    let (mut ua, ha, mech) = online(params(&server, a, "pass-a")).await;
    // ejabberd offers SCRAM-SHA-256 and -PLUS; without channel binding we get plain SCRAM.
    assert!(mech.starts_with("SCRAM-"), "{mech}");
    let (mut ub, _hb, _) = online(params(&server, b, "pass-b")).await;

    ha.send(Command::AddContact {
        jid: BareJid::new(b).expect("jid"),
        name: Some("Bob".into()),
        subscribe: false,
    })
    .expect("send");
    wait_for(&mut ua, "roster push", |k| match k {
        UpdateKind::ContactChanged(c) if c.jid.as_str() == b => Some(()),
        _ => None,
    })
    .await;

    ha.send(Command::SendChat {
        to: BareJid::new(b).expect("jid"),
        body: "hello over ejabberd".into(),
        id: LocalMessageId::generate(),
    })
    .expect("send");
    let m = wait_for(&mut ub, "message", |k| match k {
        UpdateKind::Message(m) if m.direction == Direction::Incoming => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(m.body, "hello over ejabberd");
    assert_eq!(m.peer.as_str(), a);
}
