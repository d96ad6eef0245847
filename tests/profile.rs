//! A contact's profile against a real Prosody, with the contact played by slixmpp
//! (tests/peers/profile_peer.py): Loquat reads the vCard it published (vcard-temp,
//! XEP-0054) and what its client runs (XEP-0092); a contact without a vCard has none.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod support;

use loquat::ids::AccountId;
use loquat::session::profile;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use support::TestServer;
use support::session::{jid, local_params, online};
use xmpp_parsers::jid::FullJid;

/// Kills the peer when the test ends, also when it fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_of_a_slixmpp_contact() {
    let server = TestServer::start();
    let (me, my_password) = server.fresh_user("me");
    let (bob, bob_password) = server.fresh_user("bob");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/profile_peer.py");
    let mut child = Child(
        std::process::Command::new(support::slix::python())
            .arg(script)
            .args(["--jid", &format!("{bob}/peer"), "--password", &bob_password])
            .args(["--port", &server.c2s_port().to_string()])
            .arg("--ca")
            .arg(server.ca_path())
            .args(["--name", "Bob Builder"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("run the slixmpp peer"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let ready = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|l| l == "ready" || l.starts_with("peer failed") || l.starts_with("auth"))
    });
    let ready = tokio::time::timeout(Duration::from_secs(30), ready)
        .await
        .expect("the peer in time")
        .unwrap();
    assert_eq!(ready.as_deref(), Some("ready"), "{}", server.log_tail());

    let (_updates, handle, _) = online(local_params(
        AccountId::generate(),
        server.c2s_port(),
        server.ca_pem(),
        &me,
        &my_password,
        None,
    ))
    .await;
    let peer = FullJid::new(&format!("{bob}/peer")).unwrap();
    let p = profile::fetch(&handle, &jid(&bob), &[peer]).await;
    let card = p.card.expect("Bob's vCard");
    assert_eq!(card.full_name.as_deref(), Some("Bob Builder"));
    assert_eq!(card.nickname.as_deref(), Some("bob"));
    assert_eq!(card.note.as_deref(), Some("Can we fix it?"));
    assert_eq!(card.emails, ["bob@example.org"]);
    let [(resource, software)] = p.software.as_slice() else {
        panic!("one client: {:?}", p.software)
    };
    assert_eq!(resource, "peer");
    assert_eq!(software.name, "slix-peer");
    assert_eq!(software.version.as_deref(), Some("1.0"));
    assert_eq!(software.os.as_deref(), Some("TestOS"));

    // Someone without a vCard, and a client that is not online: nothing, no error.
    let (nobody, _) = server.fresh_user("nobody");
    let gone = FullJid::new(&format!("{nobody}/phone")).unwrap();
    let p = profile::fetch(&handle, &jid(&nobody), &[gone]).await;
    assert_eq!(p.card, None);
    assert!(p.software.is_empty());
    assert!(!p.not_connected);
}
