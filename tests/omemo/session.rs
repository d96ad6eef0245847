//! OMEMO through Loquat's real session actor (issue #17, phase 2): the session opens the
//! account's sealed OMEMO state from its store, publishes its device list and bundle,
//! and decrypts what slixmpp-omemo sends, live and from the archive after a restart,
//! storing the text (never the fallback body).

use super::Peer;
use super::support::{self, TestServer};
use futures::StreamExt;
use loquat::ids::{AccountId, ConversationId, LocalMessageId};
use loquat::model::{Delivery, Direction};
use loquat::omemo::AtRestKey;
use loquat::session::omemo::{Choice, set_choice, undecryptable};
use loquat::session::{Command, Handle, SessionParams, UpdateKind};
use loquat::store::Store;
use std::time::Duration;
use support::session::{Updates, jid, local_params, online, wait_for};

pub(super) fn params(
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
pub(super) async fn next_body(updates: &mut Updates, what: &str) -> String {
    wait_for(updates, 30, what, |k| match k {
        UpdateKind::Message(m) if m.direction == Direction::Incoming => Some(m.body.clone()),
        _ => None,
    })
    .await
}

pub(super) async fn stop(updates: Updates, handle: Handle) {
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

pub(super) fn send(handle: &Handle, to: &str, body: &str) -> LocalMessageId {
    let id = LocalMessageId::generate();
    handle
        .send(Command::SendChat {
            to: jid(to),
            body: body.to_owned(),
            id: id.clone(),
        })
        .expect("send");
    id
}

/// Two Loquat devices of one account and slixmpp-omemo: what the peer sends both read;
/// what one Loquat device sends is encrypted to the peer (which decrypts it: a plain
/// message would fail `received`) and to the other Loquat device, which reads its carbon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loquat_sends_encrypted_and_its_second_device_reads_both_ways() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-2d-a");
    let (bob, bob_pw) = server.fresh_user("omemo-2d-b");
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let stores: Vec<Store> = dirs
        .iter()
        .map(|d| Store::open(&d.path().join("db")).unwrap())
        .collect();
    let accounts = [AccountId("omemo-a1".into()), AccountId("omemo-a2".into())];
    let keys = [
        AtRestKey::generate().unwrap(),
        AtRestKey::generate().unwrap(),
    ];
    let (mut u1, h1, _) = online(params(
        &server,
        &accounts[0],
        &alice,
        &alice_pw,
        &stores[0],
        &keys[0],
    ))
    .await;
    let (mut u2, h2, _) = online(params(
        &server,
        &accounts[1],
        &alice,
        &alice_pw,
        &stores[1],
        &keys[1],
    ))
    .await;
    let (mut peer, _) = Peer::start(&server, &bob, &bob_pw, &alice);
    let devices = peer.devices(2);
    assert_eq!(
        devices.len(),
        2,
        "both Loquat devices published: {devices:?}"
    );

    peer.send("to both of you");
    assert_eq!(
        next_body(&mut u1, "the first device reads").await,
        "to both of you"
    );
    assert_eq!(
        next_body(&mut u2, "the second device reads").await,
        "to both of you"
    );

    send(&h1, &bob, "from Loquat's first device");
    assert_eq!(
        peer.received(30)
            .expect("slixmpp-omemo decrypts Loquat's message"),
        "from Loquat's first device"
    );
    let carbon = wait_for(
        &mut u2,
        30,
        "the carbon at the second device",
        |k| match k {
            UpdateKind::Message(m) if m.direction == Direction::Outgoing => Some(m.body.clone()),
            _ => None,
        },
    )
    .await;
    assert_eq!(carbon, "from Loquat's first device");

    send(&h2, &bob, "from the second device");
    assert_eq!(peer.received(30).unwrap(), "from the second device");
    stop(u1, h1).await;
    stop(u2, h2).await;
}

/// With encryption on for a contact that publishes no OMEMO device, the message fails
/// with the reason and nothing leaves in plain text; turned off, it goes as plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_encryption_on_nothing_is_sent_in_plain_text() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-on-a");
    let (carol, carol_pw) = server.fresh_user("omemo-on-c");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-on".to_owned());
    let key = AtRestKey::generate().unwrap();
    let (mut ua, ha, _) = online(params(&server, &account, &alice, &alice_pw, &store, &key)).await;
    // Carol's client has no OMEMO at all.
    let (mut uc, hc, _) = online(local_params(
        AccountId("carol".into()),
        server.c2s_port(),
        server.ca_pem(),
        &carol,
        &carol_pw,
        None,
    ))
    .await;

    set_choice(&store, &account, &jid(&carol), Choice::On).unwrap();
    let id = send(&ha, &carol, "must stay secret");
    let why = wait_for(&mut ua, 30, "the failure", |k| match k {
        UpdateKind::Delivery {
            id: i,
            state: Delivery::Failed(why),
        } if *i == id => Some(why.clone()),
        _ => None,
    })
    .await;
    assert!(why.contains("no OMEMO device"), "{why}");

    set_choice(&store, &account, &jid(&carol), Choice::Off).unwrap();
    send(&ha, &carol, "plain on purpose");
    let got = next_body(&mut uc, "the plain message").await;
    assert_eq!(
        got, "plain on purpose",
        "the secret one never arrived first"
    );
    stop(ua, ha).await;
    stop(uc, hc).await;
}

/// A message whose key fails its MAC is stored and shown as "bad MAC", never as text;
/// a message from a device we have no session with (here: the session was lost) is
/// "no session". Both times Loquat sends a key transport message, as other clients do,
/// and the peer's next message reads again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_mac_is_reported_and_a_lost_session_is_repaired() {
    use loquat::omemo::OmemoStore;
    use loquat::session::omemo::Undecryptable;
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-r-a");
    let (bob, bob_pw) = server.fresh_user("omemo-r-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-repair".to_owned());
    let key = AtRestKey::generate().unwrap();
    let p = params(&server, &account, &alice, &alice_pw, &store, &key);
    let (mut updates, handle, _) = online(p.clone()).await;
    let (mut peer, bob_device) = Peer::start(&server, &bob, &bob_pw, &alice);
    peer.devices(1);
    peer.send("one");
    assert_eq!(next_body(&mut updates, "one").await, "one");
    send(&handle, &bob, "two");
    assert_eq!(peer.received(30).unwrap(), "two");

    peer.send_bad_mac("three");
    let body = next_body(&mut updates, "the bad MAC message").await;
    assert_eq!(undecryptable(&body), Some(Undecryptable::BadMac), "{body}");
    peer.expect("KEYTRANSPORT", 30);
    peer.send("four");
    assert_eq!(next_body(&mut updates, "four").await, "four");
    stop(updates, handle).await;

    // The session with the peer's device is lost (as after restoring an old backup).
    let mut state = store.omemo_state(&account, key.clone()).unwrap();
    assert!(state.remove_session(bob.as_str(), bob_device).unwrap());
    let (mut updates, handle, _) = online(p).await;
    peer.send("five");
    let body = next_body(&mut updates, "the message without a session").await;
    assert_eq!(
        undecryptable(&body),
        Some(Undecryptable::NoSession),
        "{body}"
    );
    peer.expect("KEYTRANSPORT", 30);
    peer.send("six");
    assert_eq!(next_body(&mut updates, "six").await, "six");
    stop(updates, handle).await;

    let stored = store
        .latest(&account, &ConversationId::Chat(jid(&bob)), 50)
        .unwrap();
    let bodies: Vec<&str> = stored.iter().map(|m| m.body.as_str()).collect();
    assert!(
        !bodies.contains(&"three") && !bodies.contains(&"five"),
        "{bodies:?}"
    );
    assert_eq!(bodies.len(), 6, "nothing dropped: {bodies:?}");
}

/// An account whose OMEMO state does not open (the keyring holds another key) sends no
/// chat in plain text unless encryption was turned off for it; its old state is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_that_does_not_open_sends_nothing_in_plain_text() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-k-a");
    let (carol, carol_pw) = server.fresh_user("omemo-k-c");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-wrong-key".to_owned());
    let right = AtRestKey::generate().unwrap();
    let device = loquat::omemo::Omemo::open(store.omemo_state(&account, right.clone()).unwrap())
        .unwrap()
        .device_id();
    let wrong = AtRestKey::generate().unwrap();
    let (mut ua, ha, _) =
        online(params(&server, &account, &alice, &alice_pw, &store, &wrong)).await;
    let (mut uc, hc, _) = online(local_params(
        AccountId("carol".into()),
        server.c2s_port(),
        server.ca_pem(),
        &carol,
        &carol_pw,
        None,
    ))
    .await;
    let id = send(&ha, &carol, "must stay secret");
    let why = wait_for(&mut ua, 30, "the failure", |k| match k {
        UpdateKind::Delivery {
            id: i,
            state: Delivery::Failed(why),
        } if *i == id => Some(why.clone()),
        _ => None,
    })
    .await;
    assert!(why.contains("could not be opened"), "{why}");
    set_choice(&store, &account, &jid(&carol), Choice::Off).unwrap();
    send(&ha, &carol, "plain on purpose");
    assert_eq!(
        next_body(&mut uc, "the plain message").await,
        "plain on purpose"
    );
    stop(ua, ha).await;
    stop(uc, hc).await;
    let again = loquat::omemo::Omemo::open(store.omemo_state(&account, right).unwrap()).unwrap();
    assert_eq!(again.device_id(), device, "the state was not replaced");
}
