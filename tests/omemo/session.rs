//! OMEMO through Loquat's real session actor (issue #17, phase 2): the session opens the
//! account's sealed OMEMO state from its store, publishes its device list and bundle,
//! and decrypts what slixmpp-omemo sends, live and from the archive after a restart,
//! storing the text (never the fallback body).

use super::Peer;
use super::support::{self, TestServer};
use futures::StreamExt;
use loquat::ids::{AccountId, ConversationId};
use loquat::model::Direction;
use loquat::omemo::AtRestKey;
use loquat::session::omemo::undecryptable;
use loquat::session::{Handle, SessionParams, UpdateKind};
use loquat::store::Store;
use std::time::Duration;
use support::session::{Updates, jid, local_params, online, wait_for};

fn params(
    server: &TestServer,
    account: &AccountId,
    user: &str,
    password: &str,
    store: &Store,
    key: &AtRestKey,
) -> SessionParams {
    let mut p = local_params(
        account.clone(),
        server.c2s_port(),
        server.ca_pem(),
        user,
        password,
        Some(store.clone()),
    );
    p.omemo_key = Some(key.clone());
    p
}

/// The body of the next incoming chat message the session shows.
async fn next_body(updates: &mut Updates, what: &str) -> String {
    wait_for(updates, 30, what, |k| match k {
        UpdateKind::Message(m) if m.direction == Direction::Incoming => Some(m.body.clone()),
        _ => None,
    })
    .await
}

async fn stop(updates: Updates, handle: Handle) {
    handle.sign_out().await;
    let mut updates = updates;
    // Until the session ends (its stream closes).
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while updates.next().await.is_some() {}
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_decrypts_live_and_from_the_archive_after_a_restart() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-s-a");
    let (bob, bob_pw) = server.fresh_user("omemo-s-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-session".to_owned());
    let key = AtRestKey::generate().unwrap();

    let (mut updates, handle, _) =
        online(params(&server, &account, &alice, &alice_pw, &store, &key)).await;
    let (mut peer, _bob_device) = Peer::start(&server, &bob, &bob_pw, &alice);
    // Loquat published its device list (and bundle) at sign-in.
    let devices = peer.devices(1);
    assert_eq!(devices.len(), 1, "one Loquat device: {devices:?}");

    peer.send("hello from slixmpp-omemo");
    assert_eq!(
        next_body(&mut updates, "the live message").await,
        "hello from slixmpp-omemo"
    );
    peer.send("and a second one");
    assert_eq!(
        next_body(&mut updates, "the second live message").await,
        "and a second one"
    );
    stop(updates, handle).await;

    // Sent while Loquat is offline: the archive has them.
    peer.send("while you were away");
    peer.send("still away");

    let (mut updates, handle, _) =
        online(params(&server, &account, &alice, &alice_pw, &store, &key)).await;
    let mut got = vec![
        next_body(&mut updates, "an archived message").await,
        next_body(&mut updates, "another archived message").await,
    ];
    got.sort();
    assert_eq!(got, ["still away", "while you were away"]);
    // The same device after the restart: no new identity, nothing re-keyed.
    assert_eq!(peer.devices(1), devices, "the same single device");
    peer.send("after the restart");
    assert_eq!(
        next_body(&mut updates, "a message after the restart").await,
        "after the restart"
    );
    stop(updates, handle).await;

    let stored = store
        .latest(&account, &ConversationId::Chat(jid(&bob)), 50)
        .unwrap();
    let bodies: Vec<&str> = stored.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies.len(), 5, "{bodies:?}");
    for b in &bodies {
        assert!(
            !b.contains("OMEMO encrypted"),
            "a fallback body was kept: {bodies:?}"
        );
        assert!(undecryptable(b).is_none(), "{bodies:?}");
    }
}
