//! Two devices in memory talking through the library: sessions, both message kinds, and
//! the errors a tampered or misaddressed message gives.

use super::*;

const ALICE: &str = "alice@localhost";
const BOB: &str = "bob@localhost";

fn pair() -> (Omemo, Omemo) {
    (
        Omemo::open(MemoryStore::default()).unwrap(),
        Omemo::open(MemoryStore::default()).unwrap(),
    )
}

/// Alice starts a session with Bob from his bundle (through its XML) and sends `text`.
fn first_message(alice: &mut Omemo, bob: &Omemo, text: &str) -> Element {
    let bundle = xml::parse_bundle(&xml::bundle_element(&bob.bundle().unwrap())).unwrap();
    alice.build_session(BOB, bob.device_id(), &bundle).unwrap();
    alice
        .encrypt(text, &[(BOB, bob.device_id())])
        .unwrap()
        .element
}

#[test]
fn a_new_device_has_an_identity_and_a_full_bundle() {
    let o = Omemo::open(MemoryStore::default()).unwrap();
    assert!(o.device_id() > 0 && o.device_id() < 0x8000_0000);
    let b = o.bundle().unwrap();
    assert_eq!(b.identity_key.len(), 33);
    assert_eq!(b.signed_pre_key.len(), 33);
    assert_eq!(b.signature.len(), 64);
    assert_eq!(b.pre_keys.len(), PRE_KEYS as usize);
    assert_eq!(o.fingerprint().split(' ').count(), 8);
}

#[test]
fn the_identity_survives_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path()).unwrap();
    let key = crate::omemo::AtRestKey::generate().unwrap();
    let first = Omemo::open(SledStore::open(&db, "acct", key.clone()).unwrap()).unwrap();
    let (id, bundle) = (first.device_id(), first.bundle().unwrap());
    drop(first);
    let again = Omemo::open(SledStore::open(&db, "acct", key.clone()).unwrap()).unwrap();
    assert_eq!(again.device_id(), id);
    assert_eq!(again.bundle().unwrap(), bundle);
    // Another account in the same database is another device.
    let other = Omemo::open(SledStore::open(&db, "other", key).unwrap()).unwrap();
    assert_ne!(other.device_id(), id);
}

/// The identity's private key is nowhere in the database in the clear, and a wrong key
/// (another keyring) is an error, not a silent new identity.
#[test]
fn keys_at_rest_are_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path()).unwrap();
    let key = crate::omemo::AtRestKey::generate().unwrap();
    let store = SledStore::open(&db, "acct", key).unwrap();
    let o = Omemo::open(store.clone()).unwrap();
    let private = store.identity().unwrap().unwrap().private;
    assert_eq!(private.len(), 32);
    let mut values = 0;
    for name in db.tree_names() {
        for item in db.open_tree(name).unwrap().iter() {
            let (_, v) = item.unwrap();
            values += 1;
            assert!(
                !v.windows(private.len()).any(|w| w == private.as_slice()),
                "the private key is stored in the clear"
            );
            assert!(!v.windows(4).any(|w| w == b"priv"), "plain JSON stored");
        }
    }
    assert!(
        values > 100,
        "identity, signed pre-key and pre-keys: {values}"
    );
    drop(o);
    let wrong = crate::omemo::AtRestKey::generate().unwrap();
    let reopened = Omemo::open(SledStore::open(&db, "acct", wrong).unwrap());
    assert!(reopened.is_err(), "opened with another key");
}

#[test]
fn pre_key_message_then_normal_messages_both_ways() {
    let (mut alice, mut bob) = pair();
    let el = first_message(&mut alice, &bob, "hello bob");
    let text = String::from(&el);
    assert!(text.contains("prekey='true'"), "{text}");
    let d = bob.decrypt(ALICE, &el).unwrap();
    assert_eq!(d.body.as_deref(), Some("hello bob"));
    assert!(d.prekey);
    assert_eq!(d.device, alice.device_id());
    // The pre-key is used up, and refilled.
    assert_eq!(bob.pre_key_count().unwrap(), PRE_KEYS as usize - 1);
    assert!(bob.refill_pre_keys().unwrap());
    assert_eq!(bob.pre_key_count().unwrap(), PRE_KEYS as usize);

    let reply = bob
        .encrypt("hi alice 你好", &[(ALICE, alice.device_id())])
        .unwrap();
    assert!(!String::from(&reply.element).contains("prekey"));
    let d = alice.decrypt(BOB, &reply.element).unwrap();
    assert_eq!(d.body.as_deref(), Some("hi alice 你好"));
    assert!(!d.prekey);

    let again = alice.encrypt("second", &[(BOB, bob.device_id())]).unwrap();
    assert_eq!(
        bob.decrypt(ALICE, &again.element).unwrap().body.as_deref(),
        Some("second")
    );
}

#[test]
fn errors_are_values() {
    let (mut alice, mut bob) = pair();
    let carol = Omemo::open(MemoryStore::default()).unwrap();
    let el = first_message(&mut alice, &bob, "one");
    bob.decrypt(ALICE, &el).unwrap();
    // The same message twice.
    assert!(matches!(
        bob.decrypt(ALICE, &el),
        Err(OmemoError::Duplicate | OmemoError::UnknownPreKey)
    ));
    // Until Bob answers, Alice's messages stay pre-key messages.
    let reply = bob
        .encrypt("ack", &[(ALICE, alice.device_id())])
        .unwrap()
        .element;
    alice.decrypt(BOB, &reply).unwrap();

    let normal = alice
        .encrypt("two", &[(BOB, bob.device_id())])
        .unwrap()
        .element;
    assert!(!String::from(&normal).contains("prekey"));
    // Not for this device.
    let mut carol = carol;
    assert_eq!(carol.decrypt(ALICE, &normal), Err(OmemoError::NotForUs));

    // A key element altered in transit: bad MAC, and the session still works after.
    let mut e = xml::parse_encrypted(&normal).unwrap();
    let k = e
        .keys
        .iter_mut()
        .find(|k| k.rid == bob.device_id())
        .unwrap();
    let last = k.data.len() - 1;
    k.data[last] ^= 1;
    assert_eq!(
        bob.decrypt(ALICE, &xml::encrypted_element(&e)),
        Err(OmemoError::BadMac)
    );

    // The untouched message still decrypts (the failed attempt left the session alone).
    assert_eq!(
        bob.decrypt(ALICE, &normal).unwrap().body.as_deref(),
        Some("two")
    );

    // The payload altered: the GCM tag does not match. (The key was decrypted, so its
    // message key is spent: OMEMO 0.3 authenticates key and payload separately.)
    let three = alice
        .encrypt("three", &[(BOB, bob.device_id())])
        .unwrap()
        .element;
    let mut e = xml::parse_encrypted(&three).unwrap();
    e.payload.as_mut().unwrap()[0] ^= 1;
    assert_eq!(
        bob.decrypt(ALICE, &xml::encrypted_element(&e)),
        Err(OmemoError::BadTag)
    );

    // A normal message from a device we have no session with.
    let from_stranger = xml::encrypted_element(&xml::Encrypted {
        sid: 77,
        ..xml::parse_encrypted(&normal).unwrap()
    });
    assert!(matches!(
        bob.decrypt(ALICE, &from_stranger),
        Err(OmemoError::NoSession { device: 77, .. })
    ));

    // Nothing to encrypt for.
    assert_eq!(
        carol.encrypt("x", &[(BOB, 5)]).unwrap_err(),
        OmemoError::NoRecipients
    );

    // A bundle whose signature does not verify.
    let mut b = bob.bundle().unwrap();
    b.signature[0] ^= 1;
    assert!(matches!(
        carol.build_session(BOB, bob.device_id(), &b),
        Err(OmemoError::BadBundle(_))
    ));

    // The same identity key spelt with its ignored top bit set: the signature still
    // verifies (the point is the same), but it is not how a key is written, and
    // trusting it would trust a second spelling of one key. The fuzz target found it.
    let mut b = bob.bundle().unwrap();
    if let Some(last) = b.identity_key.last_mut() {
        *last ^= 0x80;
    }
    assert!(matches!(
        carol.build_session(BOB, bob.device_id(), &b),
        Err(OmemoError::BadBundle("key encoding"))
    ));
}

#[test]
fn one_message_to_several_devices() {
    let (mut alice, mut bob) = pair();
    let mut bob2 = Omemo::open(MemoryStore::default()).unwrap();
    for b in [&bob, &bob2] {
        alice
            .build_session(BOB, b.device_id(), &b.bundle().unwrap())
            .unwrap();
    }
    let out = alice
        .encrypt(
            "to both",
            &[
                (BOB, bob.device_id()),
                (BOB, bob2.device_id()),
                (BOB, 12345),
            ],
        )
        .unwrap();
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(
        bob.decrypt(ALICE, &out.element).unwrap().body.as_deref(),
        Some("to both")
    );
    assert_eq!(
        bob2.decrypt(ALICE, &out.element).unwrap().body.as_deref(),
        Some("to both")
    );
}

#[test]
fn the_trust_decision_is_first_key_wins_and_a_change_is_refused() {
    let (a, b) = ([5u8; 33], [6u8; 33]);
    assert_eq!(trust(None, &a), Trust::New);
    assert_eq!(trust(Some(&a), &a), Trust::Same);
    assert_eq!(trust(Some(&a), &b), Trust::Changed);
}

/// Bob's device is re-created with the same device id and a new identity: Alice refuses
/// its messages (and her bundle session to it), keeps the new key aside, and only after
/// she accepts that key (by the fingerprint shown) do messages flow again both ways.
#[test]
fn a_changed_identity_is_refused_until_accepted() {
    let (mut alice, mut bob) = pair();
    let hello = first_message(&mut bob, &alice, "hello");
    // (`first_message` names the other side BOB on both sides.)
    let id = bob.device_id();
    assert_eq!(
        alice.decrypt(BOB, &hello).unwrap().body.as_deref(),
        Some("hello")
    );
    let old = alice.remote_fingerprint(BOB, id).unwrap().unwrap();
    assert_eq!(alice.changed_fingerprint(BOB, id).unwrap(), None);

    // The same device id with a new identity key.
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path()).unwrap();
    let key = crate::omemo::AtRestKey::generate().unwrap();
    let mut store = SledStore::open(&db, "bob", key).unwrap();
    drop(Omemo::open(store.clone()).unwrap());
    let mut identity = store.identity().unwrap().unwrap();
    identity.device_id = id;
    identity.registration_id = id;
    store.set_identity(&identity).unwrap();
    let mut bob2 = Omemo::open(store).unwrap();
    assert_eq!(bob2.device_id(), id);
    let new = bob2.fingerprint();
    assert_ne!(new, old);

    let again = first_message(&mut bob2, &alice, "it is me, reinstalled");
    assert!(matches!(
        alice.decrypt(BOB, &again),
        Err(OmemoError::UntrustedIdentity)
    ));
    // Nothing accepted silently: the old key stays, the new one is set aside.
    assert_eq!(alice.remote_fingerprint(BOB, id).unwrap().unwrap(), old);
    assert_eq!(
        alice.changed_fingerprint(BOB, id).unwrap(),
        Some(new.clone())
    );
    // Alice's side refuses the new bundle too.
    let bundle = xml::parse_bundle(&xml::bundle_element(&bob2.bundle().unwrap())).unwrap();
    assert!(matches!(
        alice.build_session(BOB, id, &bundle),
        Err(OmemoError::UntrustedIdentity)
    ));
    // Accepting another fingerprint than the one shown does nothing.
    assert!(!alice.accept_changed_identity(BOB, id, &old).unwrap());
    assert!(alice.accept_changed_identity(BOB, id, &new).unwrap());
    assert_eq!(alice.remote_fingerprint(BOB, id).unwrap(), Some(new));
    assert_eq!(alice.changed_fingerprint(BOB, id).unwrap(), None);

    let later = bob2
        .encrypt("after", &[(BOB, alice.device_id())])
        .unwrap()
        .element;
    assert_eq!(
        alice.decrypt(BOB, &later).unwrap().body.as_deref(),
        Some("after")
    );
    let reply = alice.encrypt("welcome back", &[(BOB, id)]).unwrap().element;
    assert_eq!(
        bob2.decrypt(BOB, &reply).unwrap().body.as_deref(),
        Some("welcome back")
    );
}

/// Two senders that fetched Bob's bundle before he published it again can pick the same
/// pre-key. The second one's first message still decrypts (before: "no session", the
/// message lost): a used pre-key is kept aside, no longer offered in the bundle.
#[test]
fn two_senders_who_picked_the_same_pre_key_both_get_through() {
    let (mut alice, mut bob) = pair();
    let mut carol = Omemo::open(MemoryStore::default()).unwrap();
    const CAROL: &str = "carol@localhost";
    let mut bundle = xml::parse_bundle(&xml::bundle_element(&bob.bundle().unwrap())).unwrap();
    bundle.pre_keys.truncate(1);
    let shared_id = bundle.pre_keys[0].0;
    alice.build_session(BOB, bob.device_id(), &bundle).unwrap();
    carol.build_session(BOB, bob.device_id(), &bundle).unwrap();

    let from_carol = carol
        .encrypt("from carol", &[(BOB, bob.device_id())])
        .unwrap();
    let d = bob.decrypt(CAROL, &from_carol.element).unwrap();
    assert_eq!(d.body.as_deref(), Some("from carol"));
    // Bob publishes his bundle again: the used pre-key is not offered any more.
    assert!(bob.refill_pre_keys().unwrap());
    let offered = bob.bundle().unwrap().pre_keys;
    assert_eq!(offered.len(), PRE_KEYS as usize);
    assert!(offered.iter().all(|(id, _)| *id != shared_id));

    let from_alice = alice
        .encrypt("from alice", &[(BOB, bob.device_id())])
        .unwrap();
    let d = bob.decrypt(ALICE, &from_alice.element).unwrap();
    assert_eq!(d.body.as_deref(), Some("from alice"));
    // Both sessions go on.
    let reply = bob
        .encrypt("to carol", &[(CAROL, carol.device_id())])
        .unwrap();
    assert_eq!(
        carol.decrypt(BOB, &reply.element).unwrap().body.as_deref(),
        Some("to carol")
    );
}

/// Used pre-keys are forgotten after two weeks, and only the newest 200 are kept.
#[test]
fn used_pre_keys_are_forgotten_after_two_weeks_or_beyond_200() {
    use store::{USED_PRE_KEY_SECS, USED_PRE_KEYS_KEPT, stale_used_pre_keys};
    let now = 10 * USED_PRE_KEY_SECS;
    assert!(stale_used_pre_keys(vec![(1, now - 60), (2, now - USED_PRE_KEY_SECS)], now).is_empty());
    assert_eq!(
        stale_used_pre_keys(vec![(1, now - 60), (2, now - USED_PRE_KEY_SECS - 1)], now),
        vec![2]
    );
    let many: Vec<(u32, u64)> = (0..USED_PRE_KEYS_KEPT as u32 + 3)
        .map(|id| (id, now - 1000 + u64::from(id)))
        .collect();
    let mut stale = stale_used_pre_keys(many, now);
    stale.sort_unstable();
    assert_eq!(stale, vec![0, 1, 2], "the three oldest go");

    // In the sealed store: a used pre-key is still readable, no longer offered, and gone
    // once forgotten.
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path()).unwrap();
    let key = crate::omemo::AtRestKey::generate().unwrap();
    let mut s = SledStore::open(&db, "acct", key).unwrap();
    s.set_pre_key(7, b"record seven").unwrap();
    s.use_pre_key(7, 1234).unwrap();
    assert_eq!(s.pre_key(7).unwrap().as_deref(), Some(&b"record seven"[..]));
    assert!(s.pre_key_ids().unwrap().is_empty());
    assert_eq!(s.used_pre_keys().unwrap(), vec![(7, 1234)]);
    s.forget_used_pre_key(7).unwrap();
    assert_eq!(s.pre_key(7).unwrap(), None);
}
