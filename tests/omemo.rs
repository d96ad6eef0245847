//! OMEMO 0.3 against an implementation we did not write: slixmpp-omemo (PyPI, python-omemo
//! with its oldmemo backend) on a real Prosody (issue #17, phase 1). The Loquat side is
//! the `loquat::omemo` core over a bare tokio-xmpp stream: it publishes its device list and
//! bundle by PEP (open access, as Conversations does), fetches the peer's, and sends and
//! receives `<encrypted>` messages. The session actor is not involved yet.
//!
//! The peer is `tests/peers/omemo_peer.py`, driven line by line over stdin/stdout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

/// The same peer against Loquat's real session (phase 2).
#[path = "omemo/session.rs"]
mod session;

/// Trust through the real session (phase 3): verification required, new devices.
#[path = "omemo/trust.rs"]
mod trust;

/// Files in encrypted chats (phase 3, XEP-0454).
#[path = "omemo/files.rs"]
mod files;

/// Group chats: members-only, non-anonymous rooms.
#[path = "omemo/rooms.rs"]
mod rooms;

/// OMEMO 2 (`urn:xmpp:omemo:2`) with a twomemo-only peer.
#[path = "omemo/v2.rs"]
mod v2;

use futures::StreamExt;
use loquat::omemo::{AtRestKey, Omemo, OmemoError, SledStore, xml};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::TestServer;
use support::session::local_config;
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::iq::Iq;
use tokio_xmpp::parsers::jid::Jid;
use tokio_xmpp::parsers::message::Message;
use tokio_xmpp::parsers::minidom::Element;
use tokio_xmpp::parsers::presence::Presence;
use tokio_xmpp::stanzastream::{Event as RawEvent, StanzaStream, StreamEvent};

// ---------------------------------------------------------------------------------------
// The peer: slixmpp-omemo in a child process.

struct Peer {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    log: PathBuf,
}

impl Peer {
    /// Signs `user` in with slixmpp-omemo, publishes its OMEMO identity, and waits for
    /// `READY <device id>`.
    fn start(server: &TestServer, user: &str, password: &str, other: &str) -> (Peer, u32) {
        Peer::start_as(server, user, password, other, None)
    }

    /// As [`Peer::start`]; with `device`, a fresh identity under that existing device id
    /// (an app reinstalled with its old id).
    fn start_as(
        server: &TestServer,
        user: &str,
        password: &str,
        other: &str,
        device: Option<u32>,
    ) -> (Peer, u32) {
        Peer::start_with(server, user, password, other, device, &[])
    }

    /// As [`Peer::start_as`], with more arguments for the peer (`--omemo2-only`).
    fn start_with(
        server: &TestServer,
        user: &str,
        password: &str,
        other: &str,
        device: Option<u32>,
        extra: &[&str],
    ) -> (Peer, u32) {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers/omemo_peer.py");
        let python = support::slix::python();
        let ok = Command::new(&python)
            .args(["-c", "import slixmpp_omemo, oldmemo"])
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "slixmpp-omemo is not installed in the venv of {}. Run `bash tests/run-all.sh`, \
             which installs it, or: {0} -m pip install slixmpp-omemo==2.2.0",
            python.display()
        );
        let log = server.dir().join(format!(
            "omemo-peer-{user}{}.log",
            device.map(|d| format!("-{d}")).unwrap_or_default()
        ));
        let mut command = Command::new(python);
        command.arg(script);
        if let Some(d) = device {
            command.args(["--device-id", &d.to_string()]);
        }
        command.args(extra);
        let mut child = command
            .args(["--jid", user, "--password", password, "--other", other])
            .args(["--port", &server.c2s_port().to_string()])
            .arg("--ca")
            .arg(server.ca_path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start the slixmpp-omemo peer");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut peer = Peer {
            child,
            stdin,
            lines,
            seen: Vec::new(),
            log,
        };
        let ready = peer.expect("READY", 60);
        let device = ready.trim().parse().expect("the peer's device id");
        (peer, device)
    }

    /// The rest of the next line starting with `word`, failing on timeout or on a line
    /// saying the peer failed.
    pub(crate) fn expect(&mut self, word: &str, secs: u64) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Some(rest) = line.strip_prefix(word) {
                        return rest.trim().to_owned();
                    }
                    if line.starts_with("peer failed") || line.starts_with("authentication failed")
                    {
                        self.fail(&format!("the peer failed while we waited for {word}"));
                    }
                }
                Err(_) => self.fail(&format!("no {word} from the peer within {secs} s")),
            }
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        panic!(
            "{why}\npeer said:\n  {}\npeer log (tail):\n{}",
            self.seen.join("\n  "),
            tail.join("\n")
        );
    }

    /// Has the peer encrypt `text` to us and send it.
    fn send(&mut self, text: &str) {
        writeln!(self.stdin, "send {text}").unwrap();
        self.stdin.flush().unwrap();
        self.expect("SENT", 30);
    }

    /// Has the peer send `text` with every recipient key's MAC broken.
    fn send_bad_mac(&mut self, text: &str) {
        writeln!(self.stdin, "send-bad-mac {text}").unwrap();
        self.stdin.flush().unwrap();
        self.expect("SENT", 30);
    }

    /// Waits until `other` publishes at least `n` active devices; their ids.
    fn devices(&mut self, n: usize) -> Vec<u32> {
        writeln!(self.stdin, "devices {n}").unwrap();
        self.stdin.flush().unwrap();
        serde_json::from_str(&self.expect("DEVICES", 45)).unwrap()
    }

    /// The first message (decrypted or not, chat or room) the peer reports within `secs`,
    /// if any.
    fn got_any(&mut self, secs: u64) -> Option<String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self.lines.recv_timeout(left).ok()?;
            self.seen.push(line.clone());
            let kind = line.strip_prefix("ROOM-").unwrap_or(&line);
            if ["DECRYPTED ", "UNDECRYPTABLE ", "PLAIN "]
                .iter()
                .any(|w| kind.starts_with(w))
            {
                return Some(line);
            }
        }
    }

    /// The next message the peer decrypted (body), or the failure if it could not.
    fn received(&mut self, secs: u64) -> Result<String, String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let Ok(line) = self.lines.recv_timeout(left) else {
                self.fail("the peer reported no message");
            };
            self.seen.push(line.clone());
            if let Some(json) = line.strip_prefix("DECRYPTED ") {
                let v: serde_json::Value = serde_json::from_str(json).unwrap();
                return Ok(v["body"].as_str().unwrap_or_default().to_owned());
            }
            if let Some(json) = line.strip_prefix("UNDECRYPTABLE ") {
                return Err(json.to_owned());
            }
            if line.starts_with("PLAIN ") || line.starts_with("peer failed") {
                self.fail("the peer got something other than an OMEMO message");
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        for _ in 0..50 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// Loquat's side: the OMEMO core over a bare stanza stream.

struct Loquat {
    key: AtRestKey,
    user: String,
    stream: StanzaStream,
    omemo: Omemo,
    db: sled::Db,
    inbox: VecDeque<Message>,
    next: u32,
    db_dir: tempfile::TempDir,
}

impl Loquat {
    /// Signs `user` in, opens (creates) its OMEMO device in a sled store, publishes the
    /// device list and bundle and sends presence.
    async fn start(server: &TestServer, user: &str, password: &str) -> Loquat {
        let cfg = local_config(server.c2s_port(), server.ca_pem(), user, password);
        let mut stream = StanzaStream::new(
            Box::new(move |_, slot| {
                let cfg = cfg.clone();
                tokio::spawn(async move {
                    let auth = loquat::session::connect::connect(&cfg)
                        .await
                        .expect("login");
                    let _ = slot.send(auth.connection);
                });
            }),
            16,
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(RawEvent::Stream(StreamEvent::Reset { .. }))) => break,
                Ok(Some(_)) => continue,
                other => panic!("could not sign in: {other:?}"),
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let key = AtRestKey::generate().unwrap();
        let omemo = Omemo::open(SledStore::open(&db, user, key.clone()).unwrap()).unwrap();
        let mut me = Loquat {
            key,
            user: user.to_owned(),
            stream,
            omemo,
            db,
            inbox: VecDeque::new(),
            next: 0,
            db_dir: dir,
        };
        let device = me.omemo.device_id();
        let list = xml::publish(
            xml::DEVICE_LIST_NODE,
            "current",
            xml::device_list_element(&[device]),
        );
        me.iq(true, None, list)
            .await
            .expect("publish the device list");
        let bundle = xml::bundle_element(&me.omemo.bundle().unwrap());
        me.iq(
            true,
            None,
            xml::publish(&xml::bundle_node(device), "current", bundle),
        )
        .await
        .expect("publish the bundle");
        me.stream
            .send(Box::new(Stanza::Presence(Presence::available())))
            .await;
        me
    }

    /// Closes the OMEMO state and its database and opens them again from disk, as a
    /// restart of the app would.
    fn reopen(&mut self) {
        let device = self.omemo.device_id();
        drop(std::mem::replace(
            &mut self.omemo,
            Omemo::open(loquat::omemo::MemoryStore::default()).unwrap(),
        ));
        self.db.flush().unwrap();
        drop(std::mem::replace(
            &mut self.db,
            sled::Config::new().temporary(true).open().unwrap(),
        ));
        // sled lets go of its file lock a moment after the last handle is dropped (its
        // flusher thread ends last): wait for it, as `Store::open` does.
        self.db = (0..100)
            .find_map(|_| {
                sled::open(self.db_dir.path())
                    .map_err(|_| std::thread::sleep(std::time::Duration::from_millis(50)))
                    .ok()
            })
            .expect("sled opens again once the lock is released");
        self.omemo =
            Omemo::open(SledStore::open(&self.db, &self.user, self.key.clone()).unwrap()).unwrap();
        assert_eq!(
            self.omemo.device_id(),
            device,
            "the same device after a restart"
        );
    }

    /// Sends an IQ and waits for its answer; messages arriving meanwhile are kept.
    async fn iq(
        &mut self,
        set: bool,
        to: Option<&str>,
        payload: Element,
    ) -> Result<Option<Element>, String> {
        self.next += 1;
        let id = format!("omemo-{}", self.next);
        let to = to.map(|t| Jid::new(t).unwrap());
        let iq = if set {
            Iq::Set {
                from: None,
                to,
                id: id.clone(),
                payload,
            }
        } else {
            Iq::Get {
                from: None,
                to,
                id: id.clone(),
                payload,
            }
        };
        self.stream.send(Box::new(Stanza::Iq(iq))).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(RawEvent::Stanza(Stanza::Iq(Iq::Result {
                    id: got, payload, ..
                }))))
                    if got == id =>
                {
                    return Ok(payload);
                }
                Ok(Some(RawEvent::Stanza(Stanza::Iq(Iq::Error { id: got, error, .. }))))
                    if got == id =>
                {
                    return Err(format!("{error:?}"));
                }
                Ok(Some(RawEvent::Stanza(Stanza::Message(m)))) => self.inbox.push_back(m),
                Ok(Some(_)) => continue,
                other => panic!("no answer to IQ {id}: {other:?}"),
            }
        }
    }

    /// The next `<encrypted>` element that arrives from `from`.
    async fn next_encrypted(&mut self, from: &str, secs: u64) -> Element {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            while let Some(m) = self.inbox.pop_front() {
                let sender = m.from.as_ref().map(|j| j.to_bare().to_string());
                if sender.as_deref() != Some(from) {
                    continue;
                }
                if let Some(e) = m.payloads.iter().find(|p| p.is("encrypted", xml::NS)) {
                    return e.clone();
                }
            }
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(RawEvent::Stanza(Stanza::Message(m)))) => self.inbox.push_back(m),
                Ok(Some(_)) => continue,
                other => panic!("no encrypted message from {from}: {other:?}"),
            }
        }
    }

    /// Fetches `jid`'s device list and the bundle of each device, and builds a session
    /// with each; returns the devices.
    async fn start_sessions(&mut self, jid: &str) -> Vec<u32> {
        let list = self
            .iq(false, Some(jid), xml::items_request(xml::DEVICE_LIST_NODE))
            .await
            .expect("fetch the peer's device list")
            .expect("a device list");
        let devices = xml::parse_device_list(xml::first_item(&list).expect("an item")).unwrap();
        for &d in &devices {
            let b = self
                .iq(false, Some(jid), xml::items_request(&xml::bundle_node(d)))
                .await
                .expect("fetch the peer's bundle")
                .expect("a bundle");
            let bundle = xml::parse_bundle(xml::first_item(&b).expect("an item")).unwrap();
            self.omemo.build_session(jid, d, &bundle).unwrap();
        }
        devices
    }

    /// Sends `encrypted` to `to` as Conversations does: a chat message with a fallback
    /// body and a store hint.
    async fn send(&mut self, to: &str, encrypted: Element) {
        self.next += 1;
        let mut m = Message::chat(Some(Jid::new(to).unwrap()));
        m.id = Some(tokio_xmpp::parsers::message::Id(format!(
            "omemo-msg-{}",
            self.next
        )));
        m.bodies.insert(
            tokio_xmpp::parsers::message::Lang(String::new()),
            "I sent you an OMEMO encrypted message but your client doesn't seem to support that."
                .into(),
        );
        m.payloads.push(encrypted);
        m.payloads
            .push(Element::builder("store", "urn:xmpp:hints").build());
        self.stream.send(Box::new(Stanza::Message(m))).await;
    }

    /// Decrypts what arrives from `from` until a message with a body, and returns it
    /// with the number of key transport messages (no body) before it: python-omemo
    /// answers a pre-key message with one, to complete the session.
    async fn next_text(&mut self, from: &str, secs: u64) -> (String, usize) {
        let mut empty = 0;
        loop {
            let e = self.next_encrypted(from, secs).await;
            match self.omemo.decrypt(from, &e) {
                Ok(d) => match d.body {
                    Some(body) => return (body, empty),
                    None => empty += 1,
                },
                Err(err) => panic!("could not decrypt a message from {from}: {err}"),
            }
        }
    }
}

fn keys_of(e: &Element, rid: u32) -> xml::KeyEntry {
    xml::parse_encrypted(e)
        .unwrap()
        .keys
        .into_iter()
        .find(|k| k.rid == rid)
        .expect("a key for our device")
}

// ---------------------------------------------------------------------------------------

/// (a) slixmpp-omemo starts the session: its first message is a pre-key message Loquat
/// decrypts; once Loquat answered, its next one is a normal message Loquat decrypts too,
/// after Loquat's OMEMO state was closed and opened again from disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slixmpp_omemo_encrypts_to_loquat_and_loquat_decrypts() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("alice");
    let (b, pb) = server.fresh_user("bob");
    let mut alice = Loquat::start(&server, &a, &pa).await;
    let (mut bob, bob_device) = Peer::start(&server, &b, &pb, &a);

    bob.send("hello from slixmpp-omemo 你好");
    let first = alice.next_encrypted(&b, 30).await;
    assert!(
        keys_of(&first, alice.omemo.device_id()).prekey,
        "the first message starts a session"
    );
    let d = alice.omemo.decrypt(&b, &first).unwrap();
    assert_eq!(d.body.as_deref(), Some("hello from slixmpp-omemo 你好"));
    assert!(d.prekey);
    assert_eq!(d.device, bob_device);

    // Loquat answers on the session slixmpp started (a normal message).
    let out = alice.omemo.encrypt("got it", &[(&b, bob_device)]).unwrap();
    assert!(!keys_of(&out.element, bob_device).prekey);
    alice.send(&b, out.element).await;
    assert_eq!(bob.received(30), Ok("got it".to_owned()));

    alice.reopen();
    bob.send("second, on the running session");
    let second = alice.next_encrypted(&b, 30).await;
    assert!(
        !keys_of(&second, alice.omemo.device_id()).prekey,
        "a normal message now"
    );
    let d = alice.omemo.decrypt(&b, &second).unwrap();
    assert_eq!(d.body.as_deref(), Some("second, on the running session"));
    assert!(!d.prekey);
}

/// (b) Loquat starts the session from slixmpp-omemo's published bundle; slixmpp-omemo
/// decrypts the pre-key message, answers, and decrypts Loquat's next (normal) message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loquat_encrypts_to_slixmpp_omemo_from_its_bundle() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("alice");
    let (b, pb) = server.fresh_user("bob");
    let mut alice = Loquat::start(&server, &a, &pa).await;
    let (mut bob, bob_device) = Peer::start(&server, &b, &pb, &a);

    let devices = alice.start_sessions(&b).await;
    assert_eq!(
        devices,
        vec![bob_device],
        "the peer's published device list"
    );
    let out = alice
        .omemo
        .encrypt("hello from Loquat 你好", &[(&b, bob_device)])
        .unwrap();
    assert!(
        keys_of(&out.element, bob_device).prekey,
        "the first message starts a session"
    );
    alice.send(&b, out.element).await;
    assert_eq!(bob.received(30), Ok("hello from Loquat 你好".to_owned()));

    bob.send("answer from slixmpp-omemo");
    let (answer, _key_transports) = alice.next_text(&b, 30).await;
    assert_eq!(answer, "answer from slixmpp-omemo");

    let out = alice
        .omemo
        .encrypt("and a normal message", &[(&b, bob_device)])
        .unwrap();
    assert!(!keys_of(&out.element, bob_device).prekey);
    alice.send(&b, out.element).await;
    assert_eq!(bob.received(30), Ok("and a normal message".to_owned()));
}

/// (c) An altered message is an error, never text: a key element altered in transit is a
/// bad MAC for Loquat (the original still decrypts after it), an altered payload a bad
/// tag; and slixmpp-omemo refuses what Loquat altered on its way out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_message_is_an_error_not_text() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("alice");
    let (b, pb) = server.fresh_user("bob");
    let mut alice = Loquat::start(&server, &a, &pa).await;
    let (mut bob, bob_device) = Peer::start(&server, &b, &pb, &a);
    let ours = alice.omemo.device_id();

    bob.send("one");
    let first = alice.next_encrypted(&b, 30).await;
    alice.omemo.decrypt(&b, &first).unwrap();
    let out = alice.omemo.encrypt("ack", &[(&b, bob_device)]).unwrap();
    alice.send(&b, out.element).await;
    assert_eq!(bob.received(30), Ok("ack".to_owned()));

    // A normal message with its key element altered: the MAC at its end.
    bob.send("two");
    let two = alice.next_encrypted(&b, 30).await;
    let mut e = xml::parse_encrypted(&two).unwrap();
    let k = e.keys.iter_mut().find(|k| k.rid == ours).unwrap();
    assert!(!k.prekey);
    let last = k.data.len() - 1;
    k.data[last] ^= 0x01;
    assert_eq!(
        alice.omemo.decrypt(&b, &xml::encrypted_element(&e)),
        Err(OmemoError::BadMac)
    );
    assert_eq!(
        alice.omemo.decrypt(&b, &two).unwrap().body.as_deref(),
        Some("two")
    );

    // The payload altered: the AES-GCM tag does not match.
    bob.send("three");
    let three = alice.next_encrypted(&b, 30).await;
    let mut e = xml::parse_encrypted(&three).unwrap();
    e.payload.as_mut().unwrap()[0] ^= 0x01;
    assert_eq!(
        alice.omemo.decrypt(&b, &xml::encrypted_element(&e)),
        Err(OmemoError::BadTag)
    );

    // Loquat's own message altered on its way out: slixmpp-omemo does not show it.
    let out = alice.omemo.encrypt("four", &[(&b, bob_device)]).unwrap();
    let mut e = xml::parse_encrypted(&out.element).unwrap();
    let k = e.keys.iter_mut().find(|k| k.rid == bob_device).unwrap();
    let last = k.data.len() - 1;
    k.data[last] ^= 0x01;
    alice.send(&b, xml::encrypted_element(&e)).await;
    let refused = bob.received(30);
    assert!(
        refused.is_err(),
        "slixmpp-omemo showed an altered message: {refused:?}"
    );
    // The session on both sides is intact: the next message goes through.
    let out = alice.omemo.encrypt("five", &[(&b, bob_device)]).unwrap();
    alice.send(&b, out.element).await;
    assert_eq!(bob.received(30), Ok("five".to_owned()));
}
