//! OMEMO 2 between two devices in memory, and its payload and key derivation on known
//! values.

use super::*;
use crate::omemo::{MemoryStore, xml};

const ALICE: &str = "alice@localhost";
const BOB: &str = "bob@localhost";

fn pair() -> (Omemo, Omemo) {
    (
        Omemo::open(MemoryStore::default()).unwrap(),
        Omemo::open(MemoryStore::default()).unwrap(),
    )
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn hkdf_gives_rfc_5869_test_case_1() {
    let mut out = [0u8; 42];
    hkdf(
        &hex("000102030405060708090a0b0c"),
        &[0x0b; 22],
        &hex("f0f1f2f3f4f5f6f7f8f9"),
        &mut out,
    )
    .unwrap();
    assert_eq!(
        out.to_vec(),
        hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
    );
}

#[test]
fn the_payload_opens_with_its_key_and_refuses_any_change() {
    let (ct, material) = seal_payload(b"<envelope/>").unwrap();
    assert_eq!(material.len(), 48);
    assert_eq!(ct.len() % 16, 0);
    assert_eq!(
        open_payload(material.as_slice(), &ct).unwrap(),
        b"<envelope/>"
    );
    let mut bad = ct.clone();
    bad[0] ^= 1;
    assert_eq!(
        open_payload(material.as_slice(), &bad),
        Err(OmemoError::BadTag)
    );
    let mut bad_tag = *material;
    bad_tag[40] ^= 1;
    assert_eq!(open_payload(&bad_tag, &ct), Err(OmemoError::BadTag));
    assert!(open_payload(&material[..32], &ct).is_err());
}

#[test]
fn the_bundle_is_omemo_2_shaped_and_parses_back() {
    let o = Omemo::open(MemoryStore::default()).unwrap();
    let b = o.bundle_v2().unwrap();
    assert_eq!(b.identity_key.len(), 32);
    assert_eq!(b.signed_pre_key.len(), 32);
    assert_eq!(b.signature.len(), 64);
    assert_eq!(b.pre_keys.len(), crate::omemo::PRE_KEYS as usize);
    let back = x2::parse_bundle(&x2::bundle_element(&b)).unwrap();
    assert_eq!(back, b);
}

/// Alice starts an OMEMO 2 session from Bob's bundle; a key exchange, then a normal
/// message; a 0.3 session with the same device lives beside it.
#[test]
fn two_devices_talk_omemo_2_beside_0_3() {
    let (mut alice, mut bob) = pair();
    let bundle = x2::parse_bundle(&x2::bundle_element(&bob.bundle_v2().unwrap())).unwrap();
    alice
        .build_session_v2(BOB, bob.device_id(), &bundle)
        .unwrap();
    assert!(alice.has_session_v2(BOB, bob.device_id()).unwrap());
    assert!(!alice.has_session(BOB, bob.device_id()).unwrap());
    let first = alice
        .encrypt_v2(ALICE, "hello in OMEMO 2", &[(BOB, bob.device_id())])
        .unwrap()
        .element;
    assert!(String::from(&first).contains("kex='true'"));
    let d = bob.decrypt_v2(ALICE, BOB, &first).unwrap();
    assert_eq!(d.body.as_deref(), Some("hello in OMEMO 2"));
    assert!(d.prekey);
    assert_eq!(d.device, alice.device_id());
    // Bob answers on the session the key exchange made; then Alice no longer sends kex.
    let answer = bob
        .encrypt_v2(BOB, "answer", &[(ALICE, alice.device_id())])
        .unwrap()
        .element;
    assert_eq!(
        alice
            .decrypt_v2(BOB, ALICE, &answer)
            .unwrap()
            .body
            .as_deref(),
        Some("answer")
    );
    let second = alice
        .encrypt_v2(ALICE, "second", &[(BOB, bob.device_id())])
        .unwrap()
        .element;
    assert!(!String::from(&second).contains("kex"));
    let d = bob.decrypt_v2(ALICE, BOB, &second).unwrap();
    assert_eq!((d.body.as_deref(), d.prekey), (Some("second"), false));
    // The same replayed is refused.
    assert!(bob.decrypt_v2(ALICE, BOB, &second).is_err());
    // OMEMO 0.3 with the same device is another session.
    let old = xml::parse_bundle(&xml::bundle_element(&bob.bundle().unwrap())).unwrap();
    alice.build_session(BOB, bob.device_id(), &old).unwrap();
    let m = alice.encrypt("in 0.3", &[(BOB, bob.device_id())]).unwrap();
    assert_eq!(
        bob.decrypt(ALICE, &m.element).unwrap().body.as_deref(),
        Some("in 0.3")
    );
    let third = alice
        .encrypt_v2(ALICE, "third", &[(BOB, bob.device_id())])
        .unwrap()
        .element;
    assert_eq!(
        bob.decrypt_v2(ALICE, BOB, &third).unwrap().body.as_deref(),
        Some("third")
    );
}

/// An envelope that names another sender than the account it came from is refused,
/// and so is a message whose keys are for another JID with our device id.
#[test]
fn an_envelope_from_someone_else_is_refused() {
    let (mut alice, mut bob) = pair();
    let bundle = bob.bundle_v2().unwrap();
    alice
        .build_session_v2(BOB, bob.device_id(), &bundle)
        .unwrap();
    let forged = alice
        .encrypt_v2("mallory@localhost", "hi", &[(BOB, bob.device_id())])
        .unwrap()
        .element;
    assert_eq!(
        bob.decrypt_v2(ALICE, BOB, &forged),
        Err(OmemoError::WrongSender)
    );
    let other = alice
        .encrypt_v2(ALICE, "hi", &[(BOB, bob.device_id())])
        .unwrap()
        .element;
    assert_eq!(
        bob.decrypt_v2(ALICE, "carol@localhost", &other),
        Err(OmemoError::NotForUs)
    );
    // Our address written in another case is still ours.
    assert_eq!(
        bob.decrypt_v2(ALICE, "Bob@LocalHost", &other)
            .unwrap()
            .body
            .as_deref(),
        Some("hi")
    );
}

#[test]
fn a_key_altered_in_transit_does_not_decrypt() {
    let (mut alice, mut bob) = pair();
    alice
        .build_session_v2(BOB, bob.device_id(), &bob.bundle_v2().unwrap())
        .unwrap();
    let el = alice
        .encrypt_v2(ALICE, "hi", &[(BOB, bob.device_id())])
        .unwrap()
        .element;
    let mut e = x2::parse_encrypted(&el).unwrap();
    let k = &mut e.keys[0].entry.data;
    let last = k.len() - 1;
    k[last] ^= 1;
    let altered = x2::encrypted_element(&e);
    assert!(bob.decrypt_v2(ALICE, BOB, &altered).is_err());
}
