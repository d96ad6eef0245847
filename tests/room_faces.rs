#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code
//! Faces in rooms (issue #18) through Loquat's real session against a real Prosody,
//! with slixmpp (`tests/peers/room_face_peer.py`) as the room's owner and an occupant:
//! the room's avatar (XEP-0486, its vcard-temp; Prosody 0.12 has none built in, so the
//! test server loads our `tests/support/prosody-plugins/mod_muc_room_vcard.lua`) lands
//! in Loquat's cache, announced by disco#info on join and by the room's presence when it
//! changes; the occupant's vCard photo (XEP-0153 hash in its room presence, the picture
//! asked of `room/nick`) lands there too; and the occupant's profile reads its vCard
//! fields and software version through the room.

mod support;

use image::GenericImageView;
use loquat::ids::AccountId;
use loquat::session::{UpdateKind, profile};
use loquat::store::Store;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use support::TestServer;
use support::muc::{fresh_room, join, joined};
use support::session::{local_params, online, wait_for};

/// Kills the peer when the test ends, also when it fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([seed, (x * 3 % 256) as u8, (y * 5 % 256) as u8, 255])
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn write_png(dir: &Path, name: &str, w: u32, h: u32, seed: u8) -> (PathBuf, String) {
    let bytes = png(w, h, seed);
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    (
        path,
        loquat::xmpp::avatar::AvatarHash::of(&bytes).to_string(),
    )
}

fn stem(path: &Path) -> &str {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
}

/// The peer's next line starting with `prefix` (or a failure it reported).
async fn line(lines: &mut tokio::sync::mpsc::UnboundedReceiver<String>, prefix: &str) -> String {
    let got = tokio::time::timeout(std::time::Duration::from_secs(40), async {
        while let Some(l) = lines.recv().await {
            if l.starts_with(prefix) || l.starts_with("peer failed") || l.starts_with("auth") {
                return Some(l);
            }
        }
        None
    })
    .await
    .expect("the peer in time")
    .expect("the peer's output");
    assert!(got.starts_with(prefix), "peer: {got}");
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_and_occupant_faces_and_the_occupant_profile_with_slixmpp() {
    let server = TestServer::start();
    let (me, my_pw) = server.fresh_user("rf-me");
    let (bob, bob_pw) = server.fresh_user("rf-bob");
    let dir = tempfile::tempdir().unwrap();
    let (bob_file, bob_hash) = write_png(dir.path(), "bob.png", 80, 60, 3);
    let (room_file, room_hash) = write_png(dir.path(), "room.png", 120, 120, 9);
    let (room2_file, room2_hash) = write_png(dir.path(), "room2.png", 64, 64, 50);
    let room = fresh_room("faces");

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/room_face_peer.py");
    let mut child = Child(
        std::process::Command::new(support::slix::python())
            .arg(script)
            .args(["--jid", &format!("{bob}/peer"), "--password", &bob_pw])
            .args(["--port", &server.c2s_port().to_string()])
            .arg("--ca")
            .arg(server.ca_path())
            .args(["--room", room.as_str(), "--nick", "bob"])
            .arg("--photo")
            .arg(&bob_file)
            .arg("--room-photo")
            .arg(&room_file)
            .arg("--room-photo-2")
            .arg(&room2_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("run the slixmpp peer"),
    );
    let mut stdin = child.0.stdin.take().unwrap();
    let stdout = child.0.stdout.take().unwrap();
    let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(l);
        }
    });
    let ready = line(&mut lines, "ready").await;
    assert_eq!(
        ready,
        format!("ready {bob_hash} {room_hash}"),
        "{}",
        server.log_tail()
    );

    let store = Store::open(&dir.path().join("db")).unwrap();
    let params = local_params(
        AccountId("rf".into()),
        server.c2s_port(),
        server.ca_pem(),
        &me,
        &my_pw,
        Some(store),
    );
    let (mut updates, handle, _) = online(params).await;
    join(&handle, &room, "me", None);
    joined(&mut updates, &room).await;

    // The room's avatar (from its disco#info) and Bob's (from his presence), in either
    // order.
    let (mut room_face, mut bob_face) = (None, None);
    let (room_face, bob_face) = wait_for(&mut updates, 40, "the room's and Bob's faces", |k| {
        match k {
            UpdateKind::Avatars(list) => {
                if let Some((_, Some(p))) = list.iter().find(|(j, _)| *j == room) {
                    room_face = Some(p.clone());
                }
            }
            UpdateKind::OccupantAvatars { room: r, faces } if *r == room => {
                if let Some((_, Some(p))) = faces.iter().find(|(n, _)| n == "bob") {
                    bob_face = Some(p.clone());
                }
            }
            _ => {}
        }
        room_face.clone().zip(bob_face.clone())
    })
    .await;
    for (path, hash) in [(&room_face, &room_hash), (&bob_face, &bob_hash)] {
        assert_eq!(stem(path), hash);
        assert!(path.starts_with(dir.path()), "{}", path.display());
        assert_eq!(image::open(path).unwrap().dimensions(), (96, 96));
    }

    // Bob's profile, through the room: his vCard and his client.
    let occupant = room.with_resource_str("bob").unwrap();
    let p = profile::fetch_occupant(&handle, &occupant).await;
    let card = p.card.expect("Bob's vCard through the room");
    assert_eq!(card.full_name.as_deref(), Some("Bob Occupant"));
    assert_eq!(card.nickname.as_deref(), Some("bobby"));
    assert_eq!(card.note.as_deref(), Some("Tea, please"));
    let [(nick, software)] = p.software.as_slice() else {
        panic!("one client: {:?}", p.software)
    };
    assert_eq!(nick, "bob");
    assert_eq!(software.name, "face-peer");
    assert_eq!(software.version.as_deref(), Some("2.0"));
    // Nobody by that nick: nothing, no error.
    let p = profile::fetch_occupant(&handle, &room.with_resource_str("nobody").unwrap()).await;
    assert_eq!(
        (p.card, p.software.len(), p.not_connected),
        (None, 0, false)
    );

    // The owner changes the room's picture while we are in: its presence says so.
    writeln!(stdin, "change").unwrap();
    stdin.flush().unwrap();
    let changed = line(&mut lines, "changed").await;
    assert_eq!(changed, format!("changed {room2_hash}"));
    let new_face = wait_for(&mut updates, 30, "the room's new face", |k| match k {
        UpdateKind::Avatars(list) => list
            .iter()
            .find(|(j, p)| *j == room && p.is_some())
            .and_then(|(_, p)| p.clone()),
        _ => None,
    })
    .await;
    assert_eq!(stem(&new_face), room2_hash);
}
