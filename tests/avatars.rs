#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
//! Avatars (issue #18) through Loquat's real session against a real Prosody (`mod_pep`,
//! `mod_vcard_legacy`), with slixmpp (`tests/peers/avatar_peer.py`) as the other client:
//! an avatar it publishes (XEP-0084) lands in Loquat's cache, checked and made small;
//! one Loquat publishes is read back by slixmpp with the right hash; a stranger's
//! announcements fetch nothing.

mod support;

use image::GenericImageView;
use loquat::ids::AccountId;
use loquat::session::avatars::Picture;
use loquat::session::{Command, UpdateKind};
use loquat::store::Store;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::Arc;
use std::time::Duration;
use support::TestServer;
use support::session::{Updates, jid, local_params, online, wait_for};

fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([seed, (x % 256) as u8, (y % 256) as u8, 255])
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn sha1_hex(bytes: &[u8]) -> String {
    loquat::xmpp::avatar::AvatarHash::of(bytes).to_string()
}

/// Runs the peer with `args` after the common ones; returns its output lines.
fn peer(
    server: &TestServer,
    user: &str,
    pw: &str,
    other: &str,
    args: &[&str],
) -> (std::process::Child, PathBuf) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/avatar_peer.py");
    let log = server
        .dir()
        .join(format!("avatar-peer-{user}-{}.log", args[0]));
    let child = Process::new(support::slix::python())
        .arg(script)
        .args(["--jid", user, "--password", pw, "--other", other])
        .args(["--port", &server.c2s_port().to_string()])
        .arg("--ca")
        .arg(server.ca_path())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start the slixmpp avatar peer");
    (child, log)
}

async fn finish((child, log): (std::process::Child, PathBuf), what: &str) -> String {
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what}: {text}\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    text
}

/// The file Loquat shows for `who`, from the next avatar update naming them.
async fn avatar_of(updates: &mut Updates, who: &str, secs: u64) -> PathBuf {
    let who = jid(who);
    wait_for(updates, secs, "an avatar update", |k| match k {
        UpdateKind::Avatars(list) => list
            .iter()
            .find(|(j, p)| *j == who && p.is_some())
            .and_then(|(_, p)| p.clone()),
        _ => None,
    })
    .await
}

/// Alice (Loquat) and Bob (slixmpp) subscribe to each other; Bob publishes an avatar.
async fn befriend_and_publish(
    server: &TestServer,
    updates: &mut Updates,
    handle: &loquat::session::Handle,
    alice: &str,
    bob: &str,
    bob_pw: &str,
    picture: &Path,
) -> (std::process::Child, PathBuf) {
    handle
        .send(Command::AddContact {
            jid: jid(bob),
            name: Some("Bob".into()),
            subscribe: true,
        })
        .unwrap();
    let child = peer(
        server,
        bob,
        bob_pw,
        alice,
        &["publish", "--file", picture.to_str().unwrap()],
    );
    let bob_jid = jid(bob);
    wait_for(updates, 30, "Bob's subscription request", |k| match k {
        UpdateKind::SubscriptionRequest { from } if *from == bob_jid => Some(()),
        _ => None,
    })
    .await;
    handle
        .send(Command::AnswerSubscription {
            jid: jid(bob),
            accept: true,
        })
        .unwrap();
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avatars_both_ways_with_slixmpp_and_never_a_strangers() {
    let server = TestServer::start();
    let (alice, alice_pw) = server.fresh_user("av-alice");
    let (bob, bob_pw) = server.fresh_user("av-bob");
    let (carol, carol_pw) = server.fresh_user("av-carol");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db")).unwrap();
    let account = AccountId("av".into());
    let params = local_params(
        account.clone(),
        server.c2s_port(),
        server.ca_pem(),
        &alice,
        &alice_pw,
        Some(store.clone()),
    );
    let (mut updates, handle, _) = online(params.clone()).await;

    // Carol, not a contact, publishes an avatar (so a fetch would find one), then
    // announces it to Alice by presence and by a forged notification.
    let carol_pic = png(64, 64, 200);
    let carol_hash = sha1_hex(&carol_pic);
    let carol_file = dir.path().join("carol.png");
    std::fs::write(&carol_file, &carol_pic).unwrap();
    // Readable by anyone: a session that wrongly fetched it would get it.
    let own = peer(
        &server,
        &carol,
        &carol_pw,
        &alice,
        &[
            "publish",
            "--file",
            carol_file.to_str().unwrap(),
            "--alone",
            "--open",
        ],
    );
    let out = finish(own, "carol publishes").await;
    assert!(out.contains(&carol_hash), "{out}");
    let stranger = peer(
        &server,
        &carol,
        &carol_pw,
        &alice,
        &["stranger", "--hash", &carol_hash],
    );
    finish(stranger, "the stranger's announcements").await;

    // Bob's avatar, 300x200: Loquat keeps a 96 px square thumbnail under its hash.
    let bob_pic = png(300, 200, 7);
    let bob_hash = sha1_hex(&bob_pic);
    let bob_file = dir.path().join("bob.png");
    std::fs::write(&bob_file, &bob_pic).unwrap();
    let child = befriend_and_publish(
        &server,
        &mut updates,
        &handle,
        &alice,
        &bob,
        &bob_pw,
        &bob_file,
    )
    .await;
    let path = avatar_of(&mut updates, &bob, 40).await;
    let out = finish(child, "bob publishes").await;
    assert!(out.contains(&format!("published {bob_hash}")), "{out}");
    assert_eq!(path.file_stem().unwrap().to_str().unwrap(), bob_hash);
    assert!(
        path.starts_with(dir.path()),
        "{} is under the data folder",
        path.display()
    );

    // With the cache active, ordinary messages still reach the conversation (the
    // avatar hook once swallowed every message that was not an avatar announcement).
    let (dave, dave_pw) = server.fresh_user("av-dave");
    let (_du, dh, _) = online(local_params(
        AccountId("dave".into()),
        server.c2s_port(),
        server.ca_pem(),
        &dave,
        &dave_pw,
        None,
    ))
    .await;
    dh.send(Command::SendChat {
        to: jid(&alice),
        body: "a plain message".into(),
        id: loquat::ids::LocalMessageId::generate(),
    })
    .unwrap();
    wait_for(&mut updates, 20, "Dave's message", |k| {
        matches!(k, UpdateKind::Message(m) if m.body == "a plain message").then_some(())
    })
    .await;
    let thumb = image::open(&path).unwrap();
    assert_eq!(thumb.dimensions(), (96, 96));

    // Loquat publishes Alice's avatar; slixmpp reads it from her PEP service.
    let mine = png(640, 480, 99);
    handle
        .send(Command::PublishAvatar {
            picture: Picture(Arc::new(mine)),
        })
        .unwrap();
    let published = wait_for(&mut updates, 30, "AvatarPublished", |k| match k {
        UpdateKind::AvatarPublished(r) => Some(r.clone()),
        _ => None,
    })
    .await;
    assert_eq!(published, Ok(()));
    let out = finish(
        peer(&server, &bob, &bob_pw, &alice, &["fetch"]),
        "bob fetches",
    )
    .await;
    let line = out
        .lines()
        .find(|l| l.starts_with("avatar "))
        .unwrap_or_else(|| panic!("{out}"));
    let parts: Vec<&str> = line.split(' ').collect();
    assert_eq!(
        parts[1], parts[2],
        "the published id is the data's SHA-1: {line}"
    );
    assert_eq!(parts[3], "256x256", "{line}");

    // The stranger never got a face: nothing of Carol's was shown or cached.
    let cache_dir = loquat::avatar::cache::account_dir(dir.path(), &account);
    let files: Vec<String> = std::fs::read_dir(&cache_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!files.iter().any(|f| f.contains(&carol_hash)), "{files:?}");
    assert!(files.contains(&format!("{bob_hash}.png")), "{files:?}");

    // After a restart, the session tells the UI who shows what from the cache at once.
    handle.sign_out().await;
    drop(updates);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The cached faces come before the session is even online.
    let mut updates: Updates = Box::pin(loquat::session::run(params));
    let mut seen_bob = false;
    let mut seen_carol = false;
    wait_for(&mut updates, 20, "Online after the restart", |k| match k {
        UpdateKind::Avatars(list) => {
            seen_bob |= list.iter().any(|(j, p)| *j == jid(&bob) && p.is_some());
            seen_carol |= list.iter().any(|(j, _)| *j == jid(&carol));
            None
        }
        UpdateKind::Online { .. } => Some(()),
        _ => None,
    })
    .await;
    assert!(seen_bob, "Bob's avatar from the cache after a restart");
    assert!(!seen_carol);
}
