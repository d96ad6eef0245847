use super::*;

fn parse(xml: &str) -> Element {
    xml.parse().unwrap()
}

#[test]
fn device_lists_round_trip_and_bad_ids_are_skipped() {
    let el = device_list_element(&[1, 42]);
    assert_eq!(parse_device_list(&el).unwrap(), vec![1, 42]);
    let hostile = parse(
        "<devices xmlns='urn:xmpp:omemo:2'><device id='7' label='phone'/><device id='x'/>\
         <device id='0'/><device id='7'/><device/></devices>",
    );
    assert_eq!(parse_device_list(&hostile).unwrap(), vec![7]);
    assert!(parse_device_list(&parse("<list xmlns='eu.siacs.conversations.axolotl'/>")).is_err());
}

#[test]
fn an_encrypted_element_groups_keys_by_jid_and_parses_back() {
    let e = Encrypted2 {
        sid: 5,
        keys: vec![
            Key2 {
                jid: "bob@x".into(),
                entry: KeyEntry {
                    rid: 1,
                    prekey: true,
                    data: vec![1, 2],
                },
            },
            Key2 {
                jid: "alice@x".into(),
                entry: KeyEntry {
                    rid: 2,
                    prekey: false,
                    data: vec![3],
                },
            },
        ],
        payload: Some(vec![9; 16]),
    };
    let el = encrypted_element(&e);
    let xml = String::from(&el);
    assert!(
        xml.contains("jid='bob@x'") && xml.contains("kex='true'"),
        "{xml}"
    );
    assert_eq!(parse_encrypted(&el).unwrap(), e);
}

#[test]
fn hostile_encrypted_elements_are_bounded() {
    let big = "A".repeat(MAX_PAYLOAD * 2);
    let el = parse(&format!(
        "<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'><keys jid='a@b'>\
         <key rid='x'>AA==</key><key rid='2'>!!</key><key rid='3'>AQ==</key></keys>\
         <keys><key rid='4'>AQ==</key></keys></header><payload>{big}</payload></encrypted>"
    ));
    assert_eq!(parse_encrypted(&el), Err(XmlError::TooLarge("payload")));
    let el = parse(
        "<encrypted xmlns='urn:xmpp:omemo:2'><header sid='1'><keys jid='a@b'>\
         <key rid='x'>AA==</key><key rid='2'>!!</key><key rid='3'>AQ==</key></keys>\
         <keys><key rid='4'>AQ==</key></keys></header></encrypted>",
    );
    let e = parse_encrypted(&el).unwrap();
    assert_eq!(e.keys.len(), 1);
    assert_eq!(e.keys[0].entry.rid, 3);
    assert!(e.payload.is_none());
}

#[test]
fn the_envelope_must_name_its_sender() {
    let env = String::from(&envelope(
        "hi <there>",
        "alice@x",
        "pad",
        "2026-01-01T00:00:00Z",
    ));
    assert_eq!(
        parse_envelope(env.as_bytes(), "alice@x")
            .unwrap()
            .as_deref(),
        Some("hi <there>")
    );
    assert_eq!(
        parse_envelope(env.as_bytes(), "mallory@x"),
        Err(EnvelopeError::WrongSender)
    );
    let no_from = "<envelope xmlns='urn:xmpp:sce:1'><content><body xmlns='jabber:client'>x</body></content></envelope>";
    assert_eq!(
        parse_envelope(no_from.as_bytes(), "alice@x"),
        Err(EnvelopeError::WrongSender)
    );
    for bad in ["", "<envelope", "<body xmlns='jabber:client'/>", "\u{0}"] {
        assert!(parse_envelope(bad.as_bytes(), "alice@x").is_err(), "{bad}");
    }
    assert!(parse_envelope(&[0xff, 0xfe], "alice@x").is_err());
}

#[test]
fn bundles_are_published_open_with_max_items() {
    let p = String::from(&publish(
        BUNDLES_NODE,
        "7",
        Element::builder("bundle", NS).build(),
    ));
    assert!(p.contains("pubsub#max_items"), "{p}");
    assert!(p.contains("item id='7'"), "{p}");
    let d = String::from(&publish(DEVICES_NODE, "current", device_list_element(&[7])));
    assert!(
        d.contains("pubsub#access_model") && !d.contains("max_items"),
        "{d}"
    );
}
