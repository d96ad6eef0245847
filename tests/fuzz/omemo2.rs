//! OMEMO 2 targets: its XML parsers (device list, bundle, `<encrypted>`, the SCE
//! envelope) on generated input, and real OMEMO 2 messages altered before they are
//! decrypted (libomemo-c's version 4 decoders and MACs, our payload HMAC and envelope).

use super::fuzz;
use arbitrary::{Result, Unstructured};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use loquat::omemo::{MemoryStore, Omemo, OmemoError};
use loquat::xmpp::omemo2 as x2;
use xmpp_parsers::minidom::Element;

fn b64_text(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=4)? {
        0 => STANDARD.encode(u.bytes(32)?),
        1 => STANDARD.encode(u.bytes(64)?),
        2 => u
            .choose(&["", "====", "!!", "AA\nAA", " QQ== "])?
            .to_string(),
        3 => "QUFB".repeat(u.int_in_range(0..=3000)?),
        _ => {
            let n = u.int_in_range(0..=80)?;
            STANDARD.encode(u.bytes(n)?)
        }
    })
}

fn id_text(u: &mut Unstructured<'_>) -> Result<String> {
    Ok(match u.int_in_range(0..=3)? {
        0 => u
            .choose(&["0", "-1", "x", "", " 7 ", "4294967296"])?
            .to_string(),
        _ => u.int_in_range(0..=u32::MAX)?.to_string(),
    })
}

fn generated(u: &mut Unstructured<'_>) -> Result<String> {
    let ns = *u.choose(&[x2::NS, x2::NS, "eu.siacs.conversations.axolotl"])?;
    Ok(match u.int_in_range(0..=3)? {
        0 => {
            let mut s = format!("<devices xmlns='{ns}'>");
            for _ in 0..u.int_in_range(0..=300)? {
                s.push_str(&format!("<device id='{}' label='x'/>", id_text(u)?));
            }
            s + "</devices>"
        }
        1 => {
            let mut s = format!(
                "<bundle xmlns='{ns}'><spk id='{}'>{}</spk><spks>{}</spks><ik>{}</ik><prekeys>",
                id_text(u)?,
                b64_text(u)?,
                b64_text(u)?,
                b64_text(u)?
            );
            for _ in 0..u.int_in_range(0..=120)? {
                s.push_str(&format!("<pk id='{}'>{}</pk>", id_text(u)?, b64_text(u)?));
            }
            s + "</prekeys></bundle>"
        }
        2 => {
            let mut s = format!("<encrypted xmlns='{ns}'><header sid='{}'>", id_text(u)?);
            for _ in 0..u.int_in_range(0..=5)? {
                s.push_str("<keys jid='a@b'>");
                for _ in 0..u.int_in_range(0..=20)? {
                    let kex = *u.choose(&["", " kex='true'", " kex='1'", " kex='no'"])?;
                    s.push_str(&format!(
                        "<key rid='{}'{kex}>{}</key>",
                        id_text(u)?,
                        b64_text(u)?
                    ));
                }
                s.push_str("</keys>");
            }
            s.push_str("</header>");
            if u.arbitrary()? {
                s.push_str(&format!("<payload>{}</payload>", b64_text(u)?));
            }
            s + "</encrypted>"
        }
        _ => {
            let from = *u.choose(&["a@b", "c@d", "a@b/r", "", "@"])?;
            let body: String = u.arbitrary()?;
            let body = body.replace(['<', '&'], "");
            format!(
                "<envelope xmlns='urn:xmpp:sce:1'><content><body xmlns='jabber:client'>{body}\
                 </body></content><rpad>{}</rpad><from jid='{from}'/></envelope>",
                id_text(u)?
            )
        }
    })
}

/// The parsers on generated XML: no panic; what they accept keeps the limits and
/// round-trips; an envelope is only read when it names the sender.
#[test]
fn fuzz_omemo2_xml_parsers() {
    fuzz("omemo2_xml", |u| {
        let text = generated(u)?;
        let env = x2::parse_envelope(text.as_bytes(), "a@b");
        if env.is_ok() {
            assert!(text.contains("jid='a@b'"), "{text}");
        }
        let Ok(el) = text.parse::<Element>() else {
            return Ok(());
        };
        if let Ok(devices) = x2::parse_device_list(&el) {
            assert!(devices.len() <= 256 && !devices.contains(&0));
            assert_eq!(
                x2::parse_device_list(&x2::device_list_element(&devices)).unwrap(),
                devices
            );
        }
        if let Ok(b) = x2::parse_bundle(&el) {
            assert_eq!(b.identity_key.len(), 32);
            assert_eq!(b.signed_pre_key.len(), 32);
            assert_eq!(b.signature.len(), 64);
            assert!(b.pre_keys.iter().all(|(_, k)| k.len() == 32));
            assert_eq!(x2::parse_bundle(&x2::bundle_element(&b)).unwrap(), b);
        }
        if let Ok(e) = x2::parse_encrypted(&el) {
            assert!(e.sid != 0 && e.keys.iter().all(|k| k.entry.rid != 0));
            assert_eq!(x2::parse_encrypted(&x2::encrypted_element(&e)).unwrap(), e);
        }
        Ok(())
    });
}

fn mutate(u: &mut Unstructured<'_>, bytes: &mut Vec<u8>) -> Result<()> {
    for _ in 0..u.int_in_range(1..=4)? {
        match u.int_in_range(0..=2)? {
            0 if !bytes.is_empty() => {
                let i = u.choose_index(bytes.len())?;
                bytes[i] ^= u.int_in_range(1..=255)?;
            }
            1 if !bytes.is_empty() => {
                let i = u.choose_index(bytes.len())?;
                bytes.truncate(i);
            }
            _ => {
                let n = u.int_in_range(0..=40)?;
                bytes.extend_from_slice(u.bytes(n)?);
            }
        }
    }
    Ok(())
}

const ALICE: &str = "alice@localhost";
const BOB: &str = "bob@localhost";

/// Real OMEMO 2 messages from Alice to Bob, altered, decrypted by Bob: never a panic or
/// a crash in the library, and never a body other than the one Alice wrote.
#[test]
fn fuzz_omemo2_decrypt_altered_messages() {
    let mut alice = Omemo::open(MemoryStore::default()).unwrap();
    let mut bob = Omemo::open(MemoryStore::default()).unwrap();
    alice
        .build_session_v2(BOB, bob.device_id(), &bob.bundle_v2().unwrap())
        .unwrap();
    let kex = alice
        .encrypt_v2(ALICE, "first", &[(BOB, bob.device_id())])
        .unwrap()
        .element;
    bob.decrypt_v2(ALICE, BOB, &kex).unwrap();
    let reply = bob.empty_v2(ALICE, alice.device_id()).unwrap();
    alice.decrypt_v2(BOB, ALICE, &reply).unwrap();
    let mut templates = vec![(x2::parse_encrypted(&kex).unwrap(), "first".to_owned())];
    for i in 0..3 {
        let text = format!("normal {i}");
        let e = alice
            .encrypt_v2(ALICE, &text, &[(BOB, bob.device_id())])
            .unwrap()
            .element;
        templates.push((x2::parse_encrypted(&e).unwrap(), text));
    }
    fuzz("omemo2_decrypt", |u| {
        let (template, text) = u.choose(&templates)?;
        let mut e = template.clone();
        match u.int_in_range(0..=3)? {
            0 => {
                if let Some(p) = e.payload.as_mut() {
                    mutate(u, p)?;
                }
            }
            1 => e.keys[0].entry.prekey = !e.keys[0].entry.prekey,
            _ => mutate(u, &mut e.keys[0].entry.data)?,
        }
        match bob.decrypt_v2(ALICE, BOB, &x2::encrypted_element(&e)) {
            Ok(d) => assert!(
                d.body.as_deref() == Some(text.as_str()),
                "an altered message decrypted to {:?}",
                d.body
            ),
            Err(OmemoError::Store(s)) => panic!("store error {s}"),
            Err(_) => {}
        }
        Ok(())
    });
}
