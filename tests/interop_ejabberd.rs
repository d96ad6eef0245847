//! The same login, roster and message exchange against ejabberd 23.01.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::Direction;
use loquat::session::{Command, SessionError, SessionParams, UpdateKind};
use support::Ejabberd;
use support::session::{Updates, local_params, online, wait_for};
use tokio_xmpp::parsers::jid::BareJid;

fn params(server: &Ejabberd, user: &str, password: &str) -> SessionParams {
    local_params(
        AccountId(format!("acc-{user}")),
        server.c2s_port(),
        server.ca_pem(),
        user,
        password,
        None,
    )
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
    let err = wait_for(&mut bad, 20, "auth failure", |k| match k {
        UpdateKind::Failed(e) => Some(e.clone()),
        UpdateKind::Online { .. } => panic!("logged in with a wrong password"),
        _ => None,
    })
    .await;
    assert!(matches!(err, SessionError::Auth { .. }), "{err:?}");

    let (mut ua, ha, mech) = online(params(&server, a, "pass-a")).await;
    // ejabberd 23.01 offers SCRAM-SHA-256-PLUS but takes only tls-unique (which rustls
    // cannot give) and does not say so (no XEP-0440): plain SCRAM-SHA-256, flag `n`.
    assert_eq!(mech, "SCRAM-SHA-256");
    let (mut ub, _hb, _) = online(params(&server, b, "pass-b")).await;

    ha.send(Command::AddContact {
        jid: BareJid::new(b).expect("jid"),
        name: Some("Bob".into()),
        subscribe: false,
    })
    .expect("send");
    wait_for(&mut ua, 20, "roster push", |k| match k {
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
    let m = wait_for(&mut ub, 20, "message", |k| match k {
        UpdateKind::Message(m) if m.direction == Direction::Incoming => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(m.body, "hello over ejabberd");
    assert_eq!(m.peer().as_str(), a);
}
