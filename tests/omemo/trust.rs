//! OMEMO trust through Loquat's real session (issue #17, phase 3), with slixmpp-omemo as
//! the contact's two devices on Prosody: the session reports the contact's devices with
//! their fingerprints; with "require verification" on, nothing goes out while no device
//! is verified (the reason is given), and then only the verified device can read what
//! Loquat sends; a new unverified device of a contact with a verified one is announced
//! in the conversation (stored as a notice).

use super::Peer;
use super::session::{next_body, params, send, stop};
use super::support::TestServer;
use super::support::session::{Updates, jid, online, wait_for};
use loquat::ids::{AccountId, ConversationId};
use loquat::model::Delivery;
use loquat::omemo::AtRestKey;
use loquat::session::omemo::trust::{self, Report};
use loquat::session::{Command, Handle, UpdateKind};
use loquat::store::Store;

/// Asks the session about `peer` and waits for a report that lists `n` of its devices.
async fn report(updates: &mut Updates, handle: &Handle, peer: &str, n: usize) -> Report {
    handle
        .send(Command::OmemoStatus { peer: jid(peer) })
        .unwrap();
    wait_for(updates, 30, "the devices report", |k| match k {
        UpdateKind::Omemo(r)
            if r.peer == jid(peer) && r.contact.as_ref().is_some_and(|c| c.len() >= n) =>
        {
            Some(r.clone())
        }
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_verification_required_an_unverified_device_gets_nothing() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-t-a");
    let (bob, bob_pw) = server.fresh_user("omemo-t-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-trust".to_owned());
    let key = AtRestKey::generate().unwrap();
    let p = params(&server, &account, &alice, &alice_pw, &store, &key);
    let (mut updates, handle, _) = online(p.clone()).await;
    let (mut phone, phone_id) = Peer::start(&server, &bob, &bob_pw, &alice);
    phone.devices(1);

    // The report: our device and the contact's, each with a fingerprint in groups of 8.
    let r = report(&mut updates, &handle, &bob, 1).await;
    assert!(r.available);
    let ours = r.ours.clone().unwrap();
    assert_eq!(ours.fingerprint.as_deref().map(|f| f.len()), Some(71));
    let device = r
        .contact
        .as_ref()
        .unwrap()
        .iter()
        .find(|d| d.id == phone_id);
    let phone_fp = device
        .and_then(|d| d.fingerprint.clone())
        .expect("the phone's fingerprint");
    assert!(
        phone_fp.split(' ').all(|g| g.len() == 8) && phone_fp.split(' ').count() == 8,
        "{phone_fp}"
    );
    assert!(!device.unwrap().verified);

    // Required, and nothing verified: the message fails with the reason.
    trust::set_require_verification(&store, true).unwrap();
    let id = send(&handle, &bob, "nobody is verified");
    let why = wait_for(&mut updates, 30, "the failure", |k| match k {
        UpdateKind::Delivery {
            id: i,
            state: Delivery::Failed(why),
        } if *i == id => Some(why.clone()),
        _ => None,
    })
    .await;
    assert!(why.contains("verification is required"), "{why}");

    // The phone is verified; then Bob adds a laptop, which nobody verified.
    trust::set_verified(&store, &account, &jid(&bob), phone_id, Some(&phone_fp)).unwrap();
    stop(updates, handle).await;
    let (mut laptop, laptop_id) = Peer::start(&server, &bob, &bob_pw, &alice);
    laptop.devices(1);
    let (mut updates, handle, _) = online(p).await;
    send(&handle, &bob, "for the verified phone only");
    // The new device is announced in the conversation, as a stored notice.
    let notice = wait_for(&mut updates, 30, "the new-device notice", |k| match k {
        UpdateKind::Message(m) if trust::new_device(&m.body).is_some() => Some(m.clone()),
        _ => None,
    })
    .await;
    let (announced, fp) = trust::new_device(&notice.body).unwrap();
    assert_eq!(announced, laptop_id);
    assert!(fp.is_some(), "with its fingerprint");
    assert_eq!(notice.conversation, ConversationId::Chat(jid(&bob)));
    assert_eq!(phone.received(30).unwrap(), "for the verified phone only");
    let got = laptop.received(30);
    assert!(got.is_err(), "the unverified laptop read it: {got:?}");

    // Without the setting, blind trust: both read.
    trust::set_require_verification(&store, false).unwrap();
    send(&handle, &bob, "to both");
    assert_eq!(phone.received(30).unwrap(), "to both");
    assert_eq!(laptop.received(30).unwrap(), "to both");

    // The verification survived the restart; the laptop is announced once.
    let stored = store
        .latest(&account, &ConversationId::Chat(jid(&bob)), 50)
        .unwrap();
    let notices = stored
        .iter()
        .filter(|m| trust::new_device(&m.body).is_some())
        .count();
    assert_eq!(notices, 1);
    stop(updates, handle).await;
}

/// Waits for message `id` to fail; its reason.
async fn failed(updates: &mut Updates, id: &loquat::ids::LocalMessageId) -> String {
    wait_for(updates, 30, "the failure", |k| match k {
        UpdateKind::Delivery {
            id: i,
            state: Delivery::Failed(why),
        } if i == id => Some(why.clone()),
        _ => None,
    })
    .await
}

/// A report about `peer` whose device `device` satisfies `test`.
async fn device_report(
    updates: &mut Updates,
    peer: &str,
    device: u32,
    what: &str,
    test: impl Fn(&trust::Device) -> bool,
) -> trust::Device {
    wait_for(updates, 30, what, |k| match k {
        UpdateKind::Omemo(r) if r.peer == jid(peer) => r
            .contact
            .iter()
            .flatten()
            .find(|d| d.id == device && test(d))
            .cloned(),
        _ => None,
    })
    .await
}

/// Bob's phone is reinstalled with its old device id and a new identity (slixmpp-omemo
/// with fresh state under the same id). Loquat keeps its message as undecryptable with
/// the reason "key changed", reports the device with both fingerprints and keeps the old
/// key until the person accepts the new one; then messages flow both ways again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_whose_key_changed_is_refused_until_its_new_key_is_accepted() {
    use loquat::session::omemo::Undecryptable;
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-k-a");
    let (bob, bob_pw) = server.fresh_user("omemo-k-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-key-changed".to_owned());
    let key = AtRestKey::generate().unwrap();
    let p = params(&server, &account, &alice, &alice_pw, &store, &key);
    let (mut updates, handle, _) = online(p).await;
    let (mut phone, phone_id) = Peer::start(&server, &bob, &bob_pw, &alice);
    phone.devices(1);
    phone.send("before");
    assert_eq!(next_body(&mut updates, "before").await, "before");
    send(&handle, &bob, "hello phone");
    assert_eq!(phone.received(30).unwrap(), "hello phone");
    let old = report(&mut updates, &handle, &bob, 1).await;
    let old_fp = old.contact.unwrap()[0].fingerprint.clone().unwrap();
    drop(phone);

    let (mut again, again_id) = Peer::start_as(&server, &bob, &bob_pw, &alice, Some(phone_id));
    assert_eq!(again_id, phone_id, "the same device id");
    again.devices(1);
    again.send("after the reinstall");
    let body = next_body(&mut updates, "the message under the new key").await;
    assert_eq!(
        loquat::session::omemo::undecryptable(&body),
        Some(Undecryptable::UntrustedIdentity),
        "{body}"
    );
    // The lock's report: the old key is kept, the new one shown beside it.
    handle
        .send(Command::OmemoStatus { peer: jid(&bob) })
        .unwrap();
    let d = device_report(&mut updates, &bob, phone_id, "the key change", |d| {
        d.changed.is_some()
    })
    .await;
    assert_eq!(d.fingerprint.as_deref(), Some(old_fp.as_str()));
    let new_fp = d.changed.clone().unwrap();
    assert_ne!(new_fp, old_fp);
    assert!(!d.verified);

    // Sending meanwhile: nothing for the device whose key changed (its old session is
    // gone with the reinstall), never plain text; the conversation says so, once.
    let id = send(&handle, &bob, "while the key changed");
    let notice = wait_for(&mut updates, 30, "the changed-key notice", |k| match k {
        UpdateKind::Message(m) if trust::key_changed(&m.body).is_some() => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(notice.conversation, ConversationId::Chat(jid(&bob)));
    assert_eq!(
        trust::key_changed(&notice.body),
        Some((phone_id, new_fp.clone(), jid(&bob)))
    );
    let why = failed(&mut updates, &id).await;
    assert!(why.contains("changed"), "{why}");
    let id = send(&handle, &bob, "still changed");
    failed(&mut updates, &id).await;
    let got = again.got_any(5);
    assert!(got.is_none(), "the device got our message: {got:?}");

    handle
        .send(Command::OmemoAcceptKey {
            peer: jid(&bob),
            jid: jid(&bob),
            device: phone_id,
            fingerprint: new_fp.clone(),
        })
        .unwrap();
    let d = device_report(&mut updates, &bob, phone_id, "the accepted key", |d| {
        d.changed.is_none()
    })
    .await;
    assert_eq!(d.fingerprint.as_deref(), Some(new_fp.as_str()));
    assert!(!d.verified, "accepted, not verified");

    again.send("readable again");
    assert_eq!(
        next_body(&mut updates, "readable again").await,
        "readable again"
    );
    send(&handle, &bob, "welcome back");
    assert_eq!(again.received(30).unwrap(), "welcome back");
    stop(updates, handle).await;

    let stored = store
        .latest(&account, &ConversationId::Chat(jid(&bob)), 50)
        .unwrap();
    let bodies: Vec<&str> = stored.iter().map(|m| m.body.as_str()).collect();
    assert!(!bodies.contains(&"after the reinstall"), "{bodies:?}");
    assert_eq!(bodies.len(), 8, "nothing dropped: {bodies:?}");
    let notices = bodies
        .iter()
        .filter(|b| trust::key_changed(b).is_some())
        .count();
    assert_eq!(notices, 1, "the notice once: {bodies:?}");
}

/// Bob's phone is reinstalled under its old device id with a new identity and publishes
/// its bundle, but does not write. Loquat, started afresh, fetches the bundles of Bob's
/// devices before its message goes, its session with the phone included: the new key is
/// recorded as changed (both fingerprints in the report), the phone gets nothing, and the
/// conversation says so. (Before, only a message from the device revealed the change,
/// and Loquat went on encrypting to the old key, which the phone could not read.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reinstalled_device_that_did_not_write_gets_nothing() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-r-a");
    let (bob, bob_pw) = server.fresh_user("omemo-r-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-reinstalled".to_owned());
    let key = AtRestKey::generate().unwrap();
    let p = params(&server, &account, &alice, &alice_pw, &store, &key);
    let (mut updates, handle, _) = online(p.clone()).await;
    let (mut phone, phone_id) = Peer::start(&server, &bob, &bob_pw, &alice);
    phone.devices(1);
    send(&handle, &bob, "hello phone");
    assert_eq!(phone.received(30).unwrap(), "hello phone");
    let old = report(&mut updates, &handle, &bob, 1).await;
    let old_fp = old.contact.unwrap()[0].fingerprint.clone().unwrap();
    stop(updates, handle).await;
    drop(phone);

    // Reinstalled: a fresh identity under the same id, its bundle published; silent.
    let (mut again, again_id) = Peer::start_as(&server, &bob, &bob_pw, &alice, Some(phone_id));
    assert_eq!(again_id, phone_id, "the same device id");
    again.devices(1);

    let (mut updates, handle, _) = online(p).await;
    let id = send(&handle, &bob, "to the reinstalled phone");
    let notice = wait_for(&mut updates, 30, "the changed-key notice", |k| match k {
        UpdateKind::Message(m) if trust::key_changed(&m.body).is_some() => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(notice.conversation, ConversationId::Chat(jid(&bob)));
    let (device, new_fp, whose) = trust::key_changed(&notice.body).unwrap();
    assert_eq!((device, whose), (phone_id, jid(&bob)));
    let why = failed(&mut updates, &id).await;
    assert!(why.contains("changed"), "{why}");
    let got = again.got_any(5);
    assert!(
        got.is_none(),
        "the reinstalled device got our message: {got:?}"
    );

    // The devices panel's report: the old key kept, the new one beside it.
    handle
        .send(Command::OmemoStatus { peer: jid(&bob) })
        .unwrap();
    let d = device_report(&mut updates, &bob, phone_id, "the key change", |d| {
        d.changed.is_some()
    })
    .await;
    assert_eq!(d.fingerprint.as_deref(), Some(old_fp.as_str()));
    assert_eq!(d.changed.as_deref(), Some(new_fp.as_str()));
    assert_ne!(new_fp, old_fp);
    stop(updates, handle).await;
}
