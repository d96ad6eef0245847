//! Our own profile against a real Prosody (issue #18), read back by slixmpp
//! (tests/peers/profile_reader.py), a client Loquat did not write: Loquat saves its
//! profile, and the other client finds the fields in our vcard-temp (XEP-0054) and our
//! vCard4 (XEP-0292), our nickname (XEP-0172), and the avatar we had still in the
//! vCard. Loquat reads the profile back as it saved it. Then Loquat takes its avatar
//! away, and the other client sees none.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod support;

use loquat::ids::AccountId;
use loquat::session::avatars::Picture;
use loquat::session::{Command, Handle, UpdateKind, own_profile};
use loquat::xmpp::vcard4::OwnCard;
use std::path::PathBuf;
use std::sync::Arc;
use support::TestServer;
use support::session::{Updates, jid, local_params, online, wait_for};

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| image::Rgba([x as u8, y as u8, 90, 255]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// What another client (`reader`, whose subscription request is accepted) reads of
/// `target`'s profile, as JSON.
async fn read_as_other_client(
    server: &TestServer,
    updates: &mut Updates,
    handle: &Handle,
    (reader, password): &(String, String),
    target: &str,
    first: bool,
) -> serde_json::Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/profile_reader.py");
    let mut cmd = std::process::Command::new(support::slix::python());
    cmd.arg(script)
        .args(["--jid", &format!("{reader}/reader"), "--password", password])
        .args(["--port", &server.c2s_port().to_string()])
        .arg("--ca")
        .arg(server.ca_path())
        .args(["--target", target]);
    let run = tokio::task::spawn_blocking(move || cmd.output().expect("run the slixmpp reader"));
    // The first time, the reader asks to see our presence: we agree. (Later, the
    // server answers for us.)
    let from = jid(reader);
    if first {
        wait_for(updates, 30, "the reader's request", |k| match k {
            UpdateKind::SubscriptionRequest { from: f } if *f == from => Some(()),
            _ => None,
        })
        .await;
        handle
            .send(Command::AnswerSubscription {
                jid: from,
                accept: true,
            })
            .unwrap();
    }
    let out = run.await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("profile "))
        .unwrap_or_else(|| {
            panic!(
                "the reader failed: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    serde_json::from_str(line).unwrap()
}

async fn publish_avatar(updates: &mut Updates, handle: &Handle) {
    handle
        .send(Command::PublishAvatar {
            picture: Picture(Arc::new(png(64, 48))),
        })
        .unwrap();
    let published = wait_for(updates, 30, "AvatarPublished", |k| match k {
        UpdateKind::AvatarPublished(r) => Some(r.clone()),
        _ => None,
    })
    .await;
    assert_eq!(published, Ok(()));
}

fn juliet() -> OwnCard {
    OwnCard {
        full_name: "Juliet Capulet".into(),
        nickname: "Jules".into(),
        email: "juliet@example.org".into(),
        phone: "+1 555 0100".into(),
        url: "https://example.org/~juliet".into(),
        birthday: "1996-07-31".into(),
        note: "Wherefore art thou?\n朱丽叶".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_profile_is_saved_and_another_client_reads_it() {
    let server = TestServer::start();
    let (me, password) = server.fresh_user("me");
    let (mut updates, handle, _) = online(local_params(
        AccountId::generate(),
        server.c2s_port(),
        server.ca_pem(),
        &me,
        &password,
        None,
    ))
    .await;
    let own = jid(&me);
    let reader = server.fresh_user("reader");

    // Nothing yet: an empty form, no error.
    assert_eq!(
        own_profile::load(&handle, &own).await.unwrap(),
        OwnCard::default()
    );
    // An avatar first: saving the profile must keep it in the vCard.
    publish_avatar(&mut updates, &handle).await;

    let saved = own_profile::save(&handle, &own, &juliet()).await.unwrap();
    assert!(saved.vcard4 && saved.nick, "{saved:?}");

    let seen = read_as_other_client(&server, &mut updates, &handle, &reader, &me, true).await;
    assert_eq!(seen["FN"], "Juliet Capulet", "{seen}");
    assert_eq!(seen["NICKNAME"], "Jules", "{seen}");
    assert_eq!(seen["EMAIL"], "juliet@example.org", "{seen}");
    assert_eq!(seen["URL"], "https://example.org/~juliet", "{seen}");
    assert_eq!(seen["BDAY"], "1996-07-31", "{seen}");
    assert_eq!(seen["DESC"], "Wherefore art thou?\n朱丽叶", "{seen}");
    assert_eq!(seen["PHOTO"], true, "the avatar stays in the vCard: {seen}");
    assert_eq!(seen["avatar"].as_array().map(Vec::len), Some(1), "{seen}");
    let v4 = &seen["vcard4"];
    assert_eq!(v4["fn"], "Juliet Capulet", "{seen}");
    assert_eq!(v4["nickname"], "Jules", "{seen}");
    assert_eq!(v4["email"], "juliet@example.org", "{seen}");
    assert_eq!(v4["tel"], "tel:+1-555-0100", "{seen}");
    assert_eq!(v4["bday"], "1996-07-31", "{seen}");
    assert_eq!(v4["note"], "Wherefore art thou?\n朱丽叶", "{seen}");
    assert_eq!(seen["nick"], "Jules", "{seen}");

    // Loquat reads it back (from the vCard4) as it was saved.
    let mut expect = juliet();
    expect.phone = "+1-555-0100".into();
    assert_eq!(own_profile::load(&handle, &own).await.unwrap(), expect);

    // A field cleared is gone for the other client too.
    let mut fewer = juliet();
    fewer.email.clear();
    fewer.note.clear();
    own_profile::save(&handle, &own, &fewer).await.unwrap();
    let seen = read_as_other_client(&server, &mut updates, &handle, &reader, &me, false).await;
    assert!(seen["EMAIL"].is_null() && seen["DESC"].is_null(), "{seen}");
    assert!(seen["vcard4"]["note"].is_null(), "{seen}");
    assert_eq!(seen["FN"], "Juliet Capulet", "{seen}");

    // "Remove avatar": the other client sees no picture in either place, and the
    // profile stays.
    own_profile::remove_avatar(&handle, &own).await.unwrap();
    let seen = read_as_other_client(&server, &mut updates, &handle, &reader, &me, false).await;
    assert_eq!(seen["PHOTO"], false, "{seen}");
    assert_eq!(seen["avatar"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["FN"], "Juliet Capulet", "{seen}");
}

/// XEP-0153 from our side: on a server that adds nothing to our presence (no
/// `mod_vcard_legacy`), a contact sees our avatar's hash in our presence once we have
/// published one, and never an empty `<photo/>` before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_presence_carries_our_avatar_hash() {
    let server = TestServer::start_with(r#"modules_disabled = { "s2s"; "vcard_legacy" }"#);
    let (me, password) = server.fresh_user("me");
    let (reader, reader_pw) = server.fresh_user("watcher");
    let dir = tempfile::tempdir().unwrap();
    let store = loquat::store::Store::open(&dir.path().join("db")).unwrap();
    let (mut updates, handle, _) = online(local_params(
        AccountId::generate(),
        server.c2s_port(),
        server.ca_pem(),
        &me,
        &password,
        Some(store),
    ))
    .await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/profile_reader.py");
    let mut cmd = std::process::Command::new(support::slix::python());
    cmd.arg(script)
        .args([
            "--jid",
            &format!("{reader}/watch"),
            "--password",
            &reader_pw,
        ])
        .args(["--port", &server.c2s_port().to_string()])
        .arg("--ca")
        .arg(server.ca_path())
        .args(["--target", &me, "--watch-photo"]);
    let run = tokio::task::spawn_blocking(move || cmd.output().expect("run the slixmpp reader"));
    let from = jid(&reader);
    wait_for(&mut updates, 30, "the watcher's request", |k| match k {
        UpdateKind::SubscriptionRequest { from: f } if *f == from => Some(()),
        _ => None,
    })
    .await;
    handle
        .send(Command::AnswerSubscription {
            jid: from,
            accept: true,
        })
        .unwrap();
    // Give the approval time to reach the watcher before the picture changes.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let picture = png(64, 48);
    publish_avatar(&mut updates, &handle).await;
    let out = run.await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expect =
        loquat::xmpp::avatar::AvatarHash::of(&loquat::avatar::own_avatar_png(&picture).unwrap());
    assert!(
        stdout.contains(&format!("photo {expect}")),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A server without vcard-temp (no `mod_vcard_legacy`): the profile goes to the vCard4
/// alone, and a contact's Loquat reads it from there (XEP-0292) in the profile panel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vcard4_only_profile_is_saved_and_read_by_a_contact() {
    let server = TestServer::start_with(r#"modules_disabled = { "s2s"; "vcard_legacy" }"#);
    let (me, password) = server.fresh_user("me");
    let (bob, bob_pw) = server.fresh_user("bob");
    let (mut updates, handle, _) = online(local_params(
        AccountId::generate(),
        server.c2s_port(),
        server.ca_pem(),
        &me,
        &password,
        None,
    ))
    .await;
    let (mut bob_updates, bob_handle, _) = online(local_params(
        AccountId::generate(),
        server.c2s_port(),
        server.ca_pem(),
        &bob,
        &bob_pw,
        None,
    ))
    .await;
    // Bob asks to see our presence (the vCard4 node is for contacts); we agree.
    bob_handle
        .send(Command::AddContact {
            jid: jid(&me),
            name: None,
            subscribe: true,
        })
        .unwrap();
    let from = jid(&bob);
    wait_for(&mut updates, 30, "Bob's request", |k| match k {
        UpdateKind::SubscriptionRequest { from: f } if *f == from => Some(()),
        _ => None,
    })
    .await;
    handle
        .send(Command::AnswerSubscription {
            jid: from,
            accept: true,
        })
        .unwrap();
    let me_jid = jid(&me);
    wait_for(&mut bob_updates, 30, "our approval", |k| match k {
        UpdateKind::Roster(r) => r
            .iter()
            .any(|c| {
                c.jid == me_jid
                    && matches!(
                        c.subscription,
                        loquat::model::Subscription::To | loquat::model::Subscription::Both
                    )
            })
            .then_some(()),
        UpdateKind::ContactChanged(c)
            if c.jid == me_jid
                && matches!(
                    c.subscription,
                    loquat::model::Subscription::To | loquat::model::Subscription::Both
                ) =>
        {
            Some(())
        }
        _ => None,
    })
    .await;

    let saved = own_profile::save(&handle, &jid(&me), &juliet())
        .await
        .unwrap();
    assert!(!saved.vcard_temp && saved.vcard4, "{saved:?}");
    let p = loquat::session::profile::fetch(&bob_handle, &jid(&me), &[]).await;
    let card = p.card.expect("our profile, from the vCard4");
    assert_eq!(card.full_name.as_deref(), Some("Juliet Capulet"));
    assert_eq!(card.birthday.as_deref(), Some("1996-07-31"));
    assert_eq!(card.note.as_deref(), Some("Wherefore art thou?\n朱丽叶"));
    // And we read it back ourselves.
    assert_eq!(
        own_profile::load(&handle, &jid(&me))
            .await
            .unwrap()
            .full_name,
        "Juliet Capulet"
    );
}

/// Another client of ours (slixmpp, as a second resource) set a vcard-temp with two
/// e-mail addresses and two numbers; Loquat's form edits the first of each, and saving
/// it keeps the others, in the vcard-temp and in the vCard4, as a contact reads them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_the_form_keeps_our_other_addresses_and_numbers() {
    let server = TestServer::start();
    let (me, password) = server.fresh_user("me");
    let (mut updates, handle, _) = online(local_params(
        AccountId::generate(),
        server.c2s_port(),
        server.ca_pem(),
        &me,
        &password,
        None,
    ))
    .await;
    let own = jid(&me);
    let reader = server.fresh_user("reader");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/profile_reader.py");
    let mut cmd = std::process::Command::new(support::slix::python());
    cmd.arg(script)
        .args(["--jid", &format!("{me}/other"), "--password", &password])
        .args(["--port", &server.c2s_port().to_string()])
        .arg("--ca")
        .arg(server.ca_path())
        .args(["--target", &me])
        .args([
            "--set-vcard",
            "<vCard xmlns='vcard-temp'><FN>Juliet</FN>\
             <EMAIL><INTERNET/><PREF/><USERID>first@example.org</USERID></EMAIL>\
             <EMAIL><INTERNET/><WORK/><USERID>work@example.org</USERID></EMAIL>\
             <TEL><HOME/><NUMBER>+1 555 0001</NUMBER></TEL>\
             <TEL><CELL/><NUMBER>+1 555 0002</NUMBER></TEL></vCard>",
        ]);
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("run the slixmpp writer"))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().any(|l| l == "set"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The form shows the first of each; the person changes the address and saves.
    let mut form = own_profile::load(&handle, &own).await.unwrap();
    assert_eq!(form.email, "first@example.org");
    form.email = "juliet@example.org".into();
    form.nickname = "Jules".into();
    let saved = own_profile::save(&handle, &own, &form).await.unwrap();
    assert!(saved.vcard_temp && saved.vcard4, "{saved:?}");

    let seen = read_as_other_client(&server, &mut updates, &handle, &reader, &me, true).await;
    assert_eq!(seen["NICKNAME"], "Jules", "{seen}");
    assert_eq!(
        seen["EMAILS"],
        serde_json::json!(["juliet@example.org", "work@example.org"]),
        "{seen}"
    );
    let tels = seen["TELS"].as_array().cloned().unwrap_or_default();
    assert_eq!(tels.len(), 2, "{seen}");
    assert!(
        tels.iter().any(|t| t.as_str() == Some("+1 555 0002")),
        "{seen}"
    );
    let v4 = &seen["vcard4"];
    assert_eq!(
        v4["emails"],
        serde_json::json!(["juliet@example.org", "work@example.org"]),
        "{seen}"
    );
    assert_eq!(v4["tels"].as_array().map(Vec::len), Some(2), "{seen}");
}
