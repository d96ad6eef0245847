//! Sessions against a real Prosody started by the test (see tests/support).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use futures::StreamExt;
use loquat::ids::{AccountId, LocalMessageId};
use loquat::model::{Delivery, Direction, Subscription};
use loquat::session::connect::{self, ConnectConfig};
use loquat::session::{Command, Handle, SessionError, UpdateKind};
use loquat::store::Store;
use std::time::Duration;
use support::TestServer;
use support::muc::params;
use tokio_xmpp::stanzastream::{Event as RawEvent, StanzaStream, StreamEvent};

use support::session::{Updates, jid, local_config, online, wait_for};

fn config(server: &TestServer, user: &str, password: &str) -> ConnectConfig {
    local_config(server.c2s_port(), server.ca_pem(), user, password)
}

/// A bare stanza stream for playing a misbehaving peer.
async fn raw_client(server: &TestServer, user: &str, password: &str) -> StanzaStream {
    let cfg = config(server, user, password);
    let mut stream = StanzaStream::new(
        Box::new(move |_, slot| {
            let cfg = cfg.clone();
            tokio::spawn(async move {
                let auth = connect::connect(&cfg).await.expect("raw client login");
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
            other => panic!("raw client did not come online: {other:?}"),
        }
    }
    stream
}

fn raw(xml: &str) -> Box<tokio_xmpp::Stanza> {
    Box::new(loquat::xmpp::parse_stanza(xml).expect("test stanza parses"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_uses_scram_never_plain() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("login");
    let (_updates, _handle, mechanism) = online(params(&server, &a, &pa, None)).await;
    assert!(
        mechanism.starts_with("SCRAM-"),
        "negotiated {mechanism}, expected SCRAM"
    );
    assert_ne!(mechanism, "PLAIN");
    // Prosody 0.12 binds only with tls-unique, and only below TLS 1.3: on our TLS 1.3
    // connection it offers no -PLUS, so the client sends the `y` flag, which it takes.
    assert_eq!(mechanism, "SCRAM-SHA-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_fails_once_and_does_not_retry() {
    let server = TestServer::start();
    let (a, _pa) = server.fresh_user("wrongpw");
    let mut updates: Updates = Box::pin(loquat::session::run(params(
        &server,
        &a,
        "not-the-password",
        None,
    )));
    let mut attempts = 0;
    let error = wait_for(&mut updates, 20, "Failed", |k| match k {
        UpdateKind::Connecting { .. } => {
            attempts += 1;
            None
        }
        UpdateKind::Failed(e) => Some(e.clone()),
        UpdateKind::Online { .. } => panic!("logged in with a wrong password"),
        _ => None,
    })
    .await;
    assert!(matches!(error, SessionError::Auth { .. }), "{error:?}");
    assert_eq!(attempts, 1);
    // No retry loop: nothing more happens for a while (the backoff would start at 1 s).
    match tokio::time::timeout(Duration::from_secs(4), updates.next()).await {
        Err(_) | Ok(None) => {}
        Ok(Some(u)) => panic!("unexpected activity after an auth failure: {:?}", u.kind),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificate_is_reported_with_fingerprint() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("cert");
    let mut p = params(&server, &a, &pa, None);
    p.trust.extra_roots_pem = None;
    let mut updates: Updates = Box::pin(loquat::session::run(p));
    let error = wait_for(&mut updates, 20, "Failed", |k| match k {
        UpdateKind::Failed(e) => Some(e.clone()),
        UpdateKind::Online { .. } => panic!("trusted a certificate from an unknown CA"),
        _ => None,
    })
    .await;
    let SessionError::Certificate {
        fingerprint_sha256,
        names,
        ..
    } = error
    else {
        panic!("expected a certificate error, got {error:?}");
    };
    assert_eq!(fingerprint_sha256.len(), 64);
    assert!(names.iter().any(|n| n == "localhost"), "{names:?}");

    // Pinning that exact certificate lets the user in, without any CA.
    let mut p = params(&server, &a, &pa, None);
    p.trust.extra_roots_pem = None;
    p.trust.pinned_sha256 = vec![fingerprint_sha256];
    let (_u, _h, _m) = online(p).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_roster_push_and_messages_both_ways() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("alice");
    let (b, pb) = server.fresh_user("bob");
    let dir_a = tempfile::tempdir().expect("tempdir");
    let dir_b = tempfile::tempdir().expect("tempdir");
    let store_a = Store::open(dir_a.path()).expect("store a");
    let store_b = Store::open(dir_b.path()).expect("store b");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, Some(store_a.clone()))).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, Some(store_b.clone()))).await;

    // Alice adds Bob: a roster push arrives, and Bob is asked.
    ha.send(Command::AddContact {
        jid: jid(&b),
        name: Some("Bob".into()),
        subscribe: true,
    })
    .expect("send");
    let c = wait_for(&mut ua, 10, "roster push for Bob", |k| match k {
        UpdateKind::ContactChanged(c) if c.jid == jid(&b) => Some(c.clone()),
        _ => None,
    })
    .await;
    assert_eq!(c.name.as_deref(), Some("Bob"));
    wait_for(&mut ub, 10, "subscription request", |k| match k {
        UpdateKind::SubscriptionRequest { from } if *from == jid(&a) => Some(()),
        _ => None,
    })
    .await;
    hb.send(Command::AnswerSubscription {
        jid: jid(&a),
        accept: true,
    })
    .expect("send");
    wait_for(&mut ua, 10, "subscription to Bob", |k| match k {
        UpdateKind::ContactChanged(c)
            if c.jid == jid(&b)
                && matches!(c.subscription, Subscription::To | Subscription::Both) =>
        {
            Some(())
        }
        _ => None,
    })
    .await;

    // Alice -> Bob.
    let id = LocalMessageId::generate();
    ha.send(Command::SendChat {
        to: jid(&b),
        body: "Hello Bob, 你好".into(),
        id: id.clone(),
    })
    .expect("send");
    let got = wait_for(&mut ub, 10, "message at Bob", |k| match k {
        UpdateKind::Message(m) if m.direction == Direction::Incoming => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got.body, "Hello Bob, 你好");
    assert_eq!(*got.peer(), jid(&a));
    // Bob's client sent a receipt: Alice sees it delivered.
    wait_for(&mut ua, 10, "delivery receipt", |k| match k {
        UpdateKind::Delivery {
            id: i,
            state: Delivery::Delivered,
        } if *i == id => Some(()),
        _ => None,
    })
    .await;

    // Bob looks at the conversation: Alice sees her message as read.
    hb.send(Command::MarkDisplayed {
        peer: jid(&a),
        id: got.stanza_id_attr.clone().expect("stanza id"),
    })
    .expect("send");
    wait_for(&mut ua, 10, "displayed marker", |k| match k {
        UpdateKind::Delivery {
            id: i,
            state: Delivery::Read,
        } if *i == id => Some(()),
        _ => None,
    })
    .await;

    // Bob -> Alice.
    hb.send(Command::SendChat {
        to: jid(&a),
        body: "Hi Alice".into(),
        id: LocalMessageId::generate(),
    })
    .expect("send");
    wait_for(&mut ua, 10, "message at Alice", |k| match k {
        UpdateKind::Message(m) if m.direction == Direction::Incoming && m.body == "Hi Alice" => {
            Some(())
        }
        _ => None,
    })
    .await;

    // Both sides stored both messages.
    let conv_a = loquat::ids::ConversationId::Chat(jid(&b));
    let conv_b = loquat::ids::ConversationId::Chat(jid(&a));
    let hist_a = store_a
        .latest(&AccountId(format!("acc-{a}")), &conv_a, 10)
        .expect("history a");
    let hist_b = store_b
        .latest(&AccountId(format!("acc-{b}")), &conv_b, 10)
        .expect("history b");
    let bodies =
        |h: &[loquat::model::ChatMessage]| h.iter().map(|m| m.body.clone()).collect::<Vec<_>>();
    assert_eq!(bodies(&hist_a), vec!["Hello Bob, 你好", "Hi Alice"]);
    assert_eq!(bodies(&hist_b), vec!["Hello Bob, 你好", "Hi Alice"]);
    let stored = hist_a
        .iter()
        .find(|m| m.id == id)
        .expect("own message stored");
    assert_eq!(stored.delivery, Delivery::Read);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_resource_sees_own_message_as_carbon() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("carbon");
    let (b, pb) = server.fresh_user("peer");
    let mut p1 = params(&server, &a, &pa, None);
    p1.resource = Some("desk".into());
    let mut p2 = params(&server, &a, &pa, None);
    p2.resource = Some("laptop".into());
    let (_u1, h1, _) = online(p1).await;
    let (mut u2, _h2, _) = online(p2).await;
    let (_ub, _hb, _) = online(params(&server, &b, &pb, None)).await;
    // Carbons are enabled right after login; give the server a moment to process it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = LocalMessageId::generate();
    h1.send(Command::SendChat {
        to: jid(&b),
        body: "sent from the desk".into(),
        id: id.clone(),
    })
    .expect("send");
    let m = wait_for(&mut u2, 10, "carbon at the laptop", |k| match k {
        UpdateKind::Message(m) if m.body == "sent from the desk" => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(m.direction, Direction::Outgoing);
    assert_eq!(*m.peer(), jid(&b));
    assert_eq!(m.id, id, "the carbon keeps our message id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_carbon_and_forged_roster_push_are_ignored() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("victim");
    let (b, pb) = server.fresh_user("mallory");
    let mut p = params(&server, &a, &pa, None);
    p.resource = Some("desk".into());
    let (mut ua, _ha, _) = online(p).await;
    let mallory = raw_client(&server, &b, &pb).await;
    let victim = format!("{a}/desk");

    mallory
        .send(raw(&format!(
            "<message xmlns='jabber:client' to='{victim}' type='chat' id='f1'>\
             <received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>\
             <message xmlns='jabber:client' from='boss@localhost/x' to='{a}' type='chat'>\
             <body>forged carbon</body></message></forwarded></received></message>"
        )))
        .await;
    mallory
        .send(raw(&format!(
            "<iq xmlns='jabber:client' to='{victim}' type='set' id='r1'>\
             <query xmlns='jabber:iq:roster'><item jid='evil@localhost' name='Trusted' subscription='both'/></query></iq>"
        )))
        .await;
    mallory
        .send(raw(&format!(
            "<message xmlns='jabber:client' to='{victim}' type='chat' id='f2'><body>marker</body></message>"
        )))
        .await;

    // Everything up to Mallory's ordinary message: the forgeries must not show up.
    wait_for(&mut ua, 15, "marker message", |k| match k {
        UpdateKind::Message(m) if m.body == "forged carbon" => panic!("forged carbon accepted"),
        UpdateKind::ContactChanged(c) if c.jid.as_str() == "evil@localhost" => {
            panic!("forged roster push accepted")
        }
        UpdateKind::Message(m) if m.body == "marker" => Some(()),
        _ => None,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_written_offline_go_out_once_in_order_after_a_restart() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("offline");
    let (b, pb) = server.fresh_user("receiver");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");

    // First run: the server is unreachable (a port nobody listens on).
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut offline = params(&server, &a, &pa, Some(store.clone()));
    offline.server.port = Some(closed_port);
    let mut updates: Updates = Box::pin(loquat::session::run(offline));
    let handle = wait_for(&mut updates, 10, "Ready", |k| match k {
        UpdateKind::Ready(h) => Some(h.clone()),
        _ => None,
    })
    .await;
    let bodies = ["one", "two", "three"];
    for body in bodies {
        handle
            .send(Command::SendChat {
                to: jid(&b),
                body: body.into(),
                id: LocalMessageId::generate(),
            })
            .expect("send");
        // Each message is stored (and shown) although nothing can be sent.
        wait_for(&mut updates, 10, "stored while offline", |k| match k {
            UpdateKind::Message(m) if m.body == body => Some(()),
            UpdateKind::Online { .. } => panic!("reached a closed port"),
            _ => None,
        })
        .await;
    }
    // The app is quit.
    drop(updates);
    drop(handle);
    let account = AccountId(format!("acc-{a}"));
    assert_eq!(store.outbox(&account).expect("outbox").len(), 3);

    // Next start, the network is back.
    let (mut ub, _hb, _) = online(params(&server, &b, &pb, None)).await;
    let (mut ua, _ha, _) = online(params(&server, &a, &pa, Some(store.clone()))).await;
    let mut received = Vec::new();
    while received.len() < 3 {
        let body = wait_for(&mut ub, 15, "messages from the outbox", |k| match k {
            UpdateKind::Message(m) if m.direction == Direction::Incoming => Some(m.body.clone()),
            _ => None,
        })
        .await;
        received.push(body);
    }
    assert_eq!(received, bodies);
    // Exactly once: nothing more arrives.
    let extra = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(u) = ub.next().await {
            if let UpdateKind::Message(m) = u.kind {
                return Some(m.body);
            }
        }
        None
    })
    .await;
    assert!(matches!(extra, Err(_) | Ok(None)), "duplicate: {extra:?}");
    // The server acknowledged them (stream management): the outbox is empty again.
    for _ in 0..3 {
        wait_for(&mut ua, 10, "server acks", |k| match k {
            UpdateKind::Delivery {
                state: Delivery::Acked | Delivery::Delivered,
                ..
            } => Some(()),
            _ => None,
        })
        .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(store.outbox(&account).expect("outbox").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_device_fills_its_history_from_the_archive_once() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("archive");
    let (b, pb) = server.fresh_user("chatter");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;
    ha.send(Command::SendChat {
        to: jid(&b),
        body: "first, from A".into(),
        id: LocalMessageId::generate(),
    })
    .expect("send");
    wait_for(&mut ub, 10, "A's message", |k| match k {
        UpdateKind::Message(m) if m.body == "first, from A" => Some(()),
        _ => None,
    })
    .await;
    for body in ["second, from B", "third, from B"] {
        hb.send(Command::SendChat {
            to: jid(&a),
            body: body.into(),
            id: LocalMessageId::generate(),
        })
        .expect("send");
        wait_for(&mut ua, 10, "B's message", |k| match k {
            UpdateKind::Message(m) if m.body == body => Some(()),
            _ => None,
        })
        .await;
    }

    // A new device of A with an empty store: the archive brings the conversation. It
    // signs in a second later: a first sign-in counts what was stamped from its own
    // second on as news (archive stamps have whole seconds).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let account = AccountId("new-device".into());
    let conv = loquat::ids::ConversationId::Chat(jid(&b));
    let mut p = params(&server, &a, &pa, Some(store.clone()));
    p.account = account.clone();
    p.resource = Some("new".into());
    let (mut un, _hn, _) = online(p.clone()).await;
    let mut seen = 0;
    while seen < 3 {
        seen += wait_for(&mut un, 15, "archived history", |k| match k {
            UpdateKind::History(messages) => Some(messages.len()),
            UpdateKind::Message(m) => panic!("old history shown as a new message: {}", m.body),
            _ => None,
        })
        .await;
    }
    // Old history is not news: nothing counts as unread.
    assert_eq!(store.unread(&account, &conv).expect("unread"), 0);
    let history = store.latest(&account, &conv, 10).expect("history");
    let summary: Vec<(String, Direction)> = history
        .iter()
        .map(|m| (m.body.clone(), m.direction))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("first, from A".to_string(), Direction::Outgoing),
            ("second, from B".to_string(), Direction::Incoming),
            ("third, from B".to_string(), Direction::Incoming),
        ]
    );
    drop(un);

    // B writes while the new device is away; its next sign-in catches up, and nothing
    // already stored is stored again.
    hb.send(Command::SendChat {
        to: jid(&a),
        body: "fourth, while you were away".into(),
        id: LocalMessageId::generate(),
    })
    .expect("send");
    wait_for(&mut ua, 10, "B's fourth message", |k| match k {
        UpdateKind::Message(m) if m.body == "fourth, while you were away" => Some(()),
        _ => None,
    })
    .await;
    let (mut un, _hn, _) = online(p).await;
    wait_for(&mut un, 15, "caught-up message", |k| match k {
        UpdateKind::Message(m) if m.body == "fourth, while you were away" => Some(()),
        _ => None,
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    // What arrived while away is news.
    assert_eq!(store.unread(&account, &conv).expect("unread"), 1);
    let history = store.latest(&account, &conv, 10).expect("history");
    let bodies: Vec<&str> = history.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies,
        vec![
            "first, from A",
            "second, from B",
            "third, from B",
            "fourth, while you were away"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_connection_loses_nothing_either_way() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("flaky");
    let (b, pb) = server.fresh_user("steady");
    let proxy = support::FaultProxy::start(server.c2s_port());
    let mut pa_params = params(&server, &a, &pa, None);
    pa_params.server.port = Some(proxy.port());
    let (mut ua, ha, _) = online(pa_params).await;
    let (mut ub, hb, _) = online(params(&server, &b, &pb, None)).await;

    let send = |h: &Handle, to: &str, body: &str| {
        h.send(Command::SendChat {
            to: jid(to),
            body: body.into(),
            id: LocalMessageId::generate(),
        })
        .expect("send");
    };
    send(&ha, &b, "before the cut");
    wait_for(&mut ub, 10, "first message", |k| match k {
        UpdateKind::Message(m) if m.body == "before the cut" => Some(()),
        _ => None,
    })
    .await;

    proxy.cut_all();
    // Both sides write while A's link is down.
    send(&ha, &b, "written during the cut");
    send(&hb, &a, "sent to A during the cut");
    send(&ha, &b, "also during the cut");

    let mut at_b = Vec::new();
    while at_b.len() < 2 {
        let body = wait_for(&mut ub, 30, "messages after the cut", |k| match k {
            UpdateKind::Message(m) if m.direction == Direction::Incoming => Some(m.body.clone()),
            _ => None,
        })
        .await;
        at_b.push(body);
    }
    assert_eq!(at_b, vec!["written during the cut", "also during the cut"]);
    let mut reconnected = false;
    wait_for(&mut ua, 30, "B's message after the cut", |k| match k {
        UpdateKind::Online { .. } => {
            reconnected = true;
            None
        }
        UpdateKind::Message(m) if m.body == "sent to A during the cut" => Some(()),
        _ => None,
    })
    .await;
    assert!(reconnected, "A never went through a reconnection");
    // And nothing twice.
    let extra = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(u) = ub.next().await {
            if let UpdateKind::Message(m) = u.kind
                && m.direction == Direction::Incoming
            {
                return Some(m.body);
            }
        }
        None
    })
    .await;
    assert!(matches!(extra, Err(_) | Ok(None)), "duplicate: {extra:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_message_can_be_sent_again_with_its_id() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("retrier");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let (mut ua, ha, _) = online(params(&server, &a, &pa, Some(store.clone()))).await;

    // Nobody has this address yet: the server bounces the message.
    let ghost = format!("ghost-{}", std::process::id());
    let ghost_jid = format!("{ghost}@localhost");
    let id = LocalMessageId::generate();
    ha.send(Command::SendChat {
        to: jid(&ghost_jid),
        body: "are you there?".into(),
        id: id.clone(),
    })
    .expect("send");
    let reason = wait_for(&mut ua, 10, "the bounce", |k| match k {
        UpdateKind::Delivery {
            id: i,
            state: Delivery::Failed(reason),
        } if *i == id => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert!(!reason.is_empty());

    // The address exists now; "Retry" sends the same message again.
    server.register(&ghost, "localhost", "ghost-pw");
    let (mut ug, hg, _) = online(params(&server, &ghost_jid, "ghost-pw", None)).await;
    // The retrier is a contact of the ghost's: a stranger's message gets no receipt
    // until accepted (issue #18).
    hg.send(Command::AddContact {
        jid: jid(&a),
        name: None,
        subscribe: false,
    })
    .expect("add");
    wait_for(&mut ug, 10, "the retrier in the roster", |k| match k {
        UpdateKind::ContactChanged(c) if c.jid.as_str() == a => Some(()),
        _ => None,
    })
    .await;
    ha.send(Command::Resend { id: id.clone() }).expect("send");
    let got = wait_for(&mut ug, 10, "the retried message", |k| match k {
        UpdateKind::Message(m) if m.direction == Direction::Incoming => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got.body, "are you there?");
    assert_eq!(got.origin_id.as_deref(), Some(id.0.as_str()), "same id");
    wait_for(&mut ua, 10, "delivered after the retry", |k| match k {
        UpdateKind::Delivery {
            id: i,
            state: Delivery::Delivered,
        } if *i == id => Some(()),
        _ => None,
    })
    .await;
    let account = AccountId(format!("acc-{a}"));
    let stored = store
        .find_message(&account, &id)
        .expect("read")
        .expect("stored");
    assert_eq!(stored.delivery, Delivery::Delivered);
}

/// Issue 14: a 100 kB message is legal (Prosody takes stanzas up to 256 KiB); it
/// arrives and is stored whole, without the "cut by Loquat's limit" flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_kb_message_arrives_and_is_stored_whole() {
    let server = TestServer::start();
    let (a, pa) = server.fresh_user("long");
    let (b, pb) = server.fresh_user("reader");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("store");
    let (_ua, ha, _) = online(params(&server, &a, &pa, None)).await;
    let (mut ub, _hb, _) = online(params(&server, &b, &pb, Some(store.clone()))).await;
    // 1,000 lines of 100 bytes (the last without its line break, which sending trims).
    let body = (0..1000)
        .map(|i| format!("line {i:04} {}", "x".repeat(89)))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(body.len(), 99_999);
    ha.send(Command::SendChat {
        to: jid(&b),
        body: body.clone(),
        id: LocalMessageId::generate(),
    })
    .expect("send");
    let got = wait_for(&mut ub, 20, "the 100 kB message", |k| match k {
        UpdateKind::Message(m) if m.direction == Direction::Incoming => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got.body.len(), body.len(), "no byte lost");
    assert!(got.body == body, "the body arrives as sent");
    assert!(!got.truncated);
    let stored = store
        .latest(&got.account, &got.conversation(), 5)
        .expect("history");
    assert!(
        stored.iter().any(|m| m.body == body && !m.truncated),
        "stored whole"
    );
}
