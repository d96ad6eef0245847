//! Files in encrypted chats (issue #17 phase 3, XEP-0454) against slixmpp-omemo on
//! Prosody with http_file_share: Loquat encrypts a file before upload and sends the
//! `aesgcm://` link inside its OMEMO message, and the peer downloads, decrypts and checks
//! it (it reports the SHA-256); the peer does the same the other way, and Loquat's
//! download decrypts and checks it. The upload server only ever holds ciphertext.

use super::Peer;
use super::session::{params, stop};
use super::support::TestServer;
use super::support::session::{jid, online, wait_for};
use loquat::ids::AccountId;
use loquat::model::{Direction, Trust};
use loquat::omemo::AtRestKey;
use loquat::session::UpdateKind;
use loquat::store::Store;
use loquat::transfer::{self, DownloadLimits};
use sha2::{Digest, Sha256};
use std::io::Write;

pub(super) fn client(server: &TestServer) -> reqwest::Client {
    transfer::http_client(&Trust {
        extra_roots_pem: Some(server.ca_pem()),
        pinned_sha256: Vec::new(),
    })
    .unwrap()
}

/// Bytes that do not repeat (a picture's worth), and their SHA-256 in hex.
pub(super) fn content(n: usize, seed: u8) -> (Vec<u8>, String) {
    let mut data = Vec::with_capacity(n);
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    for _ in 0..n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data.push((x >> 24) as u8);
    }
    let hash = Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (data, hash)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_file_goes_both_ways_as_an_aesgcm_link() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("omemo-f-a");
    let (bob, bob_pw) = server.fresh_user("omemo-f-b");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("omemo-files".to_owned());
    let key = AtRestKey::generate().unwrap();
    let (mut updates, handle, _) =
        online(params(&server, &account, &alice, &alice_pw, &store, &key)).await;
    let (mut peer, _) = Peer::start(&server, &bob, &bob_pw, &alice);
    peer.devices(1);

    // Loquat -> slixmpp-omemo.
    let (ours, our_hash) = content(300_000, 1);
    let path = dir.path().join("holiday photo.jpg");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&ours)
        .unwrap();
    let sent = transfer::send_file_encrypted(
        handle.clone(),
        client(&server),
        transfer::Recipient::Chat(jid(&bob)),
        path,
    )
    .finish()
    .await;
    assert!(sent.is_ok(), "{sent:?}");
    let link = peer.received(30).expect("the peer decrypts the message");
    assert!(link.starts_with("aesgcm://localhost:"), "{link}");
    assert!(link.contains("holiday%20photo.jpg#"), "{link}");
    let report = peer.expect("FILE", 30);
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["sha256"], our_hash.as_str(), "{report}");
    assert_eq!(report["size"], 300_000);
    // What the upload server holds is ciphertext with its 16-byte tag.
    let https = transfer::aesgcm::fetch_url(&link);
    let stored = client(&server)
        .get(&https)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(stored.len(), 300_000 + 16);
    assert!(
        stored[..1000] != ours[..1000],
        "the server holds plain bytes"
    );

    // slixmpp-omemo -> Loquat.
    let (theirs, _) = content(120_000, 2);
    let their_path = dir.path().join("from-bob.png");
    std::fs::write(&their_path, &theirs).unwrap();
    writeln!(peer.stdin, "send-file {}", their_path.display()).unwrap();
    peer.stdin.flush().unwrap();
    peer.expect("SENT", 30);
    let attachment = wait_for(&mut updates, 30, "the file message", |k| match k {
        UpdateKind::Message(m) if m.direction == Direction::Incoming => m.attachment.clone(),
        _ => None,
    })
    .await;
    assert!(attachment.url.starts_with("aesgcm://"), "{attachment:?}");
    assert_eq!(attachment.name, "from-bob.png");
    let downloads = dir.path().join("downloads");
    let got = transfer::download(
        client(&server),
        attachment.url.clone(),
        downloads.clone(),
        attachment.name.clone(),
        DownloadLimits::default(),
    )
    .finish()
    .await
    .unwrap()
    .expect("a file");
    let bytes = std::fs::read(&got).unwrap();
    assert!(
        bytes == theirs,
        "not decrypted and whole: {} bytes",
        bytes.len()
    );

    // The same link with another key: refused, and nothing is left behind.
    let (address, _) = attachment.url.split_once('#').unwrap();
    let wrong = format!("{address}#{}", "ab".repeat(44));
    let refused = transfer::download(
        client(&server),
        wrong,
        downloads.clone(),
        "wrong.png".to_owned(),
        DownloadLimits::default(),
    )
    .finish()
    .await;
    let err = refused.expect_err("a wrong key must not give a file");
    assert!(err.to_string().contains("does not match its key"), "{err}");
    assert!(!downloads.join("wrong.png").exists());
    stop(updates, handle).await;
}
