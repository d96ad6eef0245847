//! A contact that watches someone's presence: a plain tokio-xmpp stanza stream, not a
//! Loquat session, so what it sees is what any other client would see.

use super::TestServer;
use super::session::local_config;
use futures::StreamExt;
use loquat::session::connect;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_xmpp::parsers::presence::Type as PresenceType;
use tokio_xmpp::stanzastream::{Event, StanzaStream, StreamEvent};
use xmpp_parsers::stanza::Stanza;

/// One presence the watcher received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    /// The full JID it came from.
    pub from: String,
    pub available: bool,
}

/// A signed-in contact (with its initial presence sent, so the server routes presence
/// to it) recording every available / unavailable presence it receives.
pub struct Watcher {
    sender: mpsc::UnboundedSender<Stanza>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Watcher {
    /// Signs `user` in on `server`; run it on a runtime that outlives what it watches.
    pub async fn start(server: &TestServer, user: &str, password: &str) -> Watcher {
        let cfg = local_config(server.c2s_port(), server.ca_pem(), user, password);
        let mut stream = StanzaStream::new(
            Box::new(move |_, slot| {
                let cfg = cfg.clone();
                tokio::spawn(async move {
                    let auth = connect::connect(&cfg).await.expect("watcher login");
                    let _ = slot.send(auth.connection);
                });
            }),
            64,
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(Event::Stream(StreamEvent::Reset { .. }))) => break,
                Ok(Some(_)) => continue,
                other => panic!("watcher did not come online: {other:?}"),
            }
        }
        // One task owns the whole stream: a split stream's receiver, polled while its
        // sender holds their shared lock, may never wake again.
        let (sender, mut outgoing) = mpsc::unbounded_channel::<Stanza>();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    event = stream.next() => event,
                    stanza = outgoing.recv() => {
                        match stanza {
                            Some(stanza) => {
                                stream.send(Box::new(stanza)).await;
                            }
                            None => return,
                        }
                        continue;
                    }
                };
                let Some(event) = event else { return };
                let Event::Stanza(Stanza::Presence(p)) = event else {
                    continue;
                };
                let available = match p.type_ {
                    PresenceType::None => true,
                    PresenceType::Unavailable => false,
                    _ => continue,
                };
                let from = p.from.map(|j| j.to_string()).unwrap_or_default();
                if let Ok(mut log) = log.lock() {
                    log.push(Seen {
                        at: Instant::now(),
                        from,
                        available,
                    });
                }
            }
        });
        let watcher = Watcher { sender, seen };
        watcher.send("<presence xmlns='jabber:client'/>").await;
        watcher
    }

    pub async fn send(&self, xml: &str) {
        let stanza = loquat::xmpp::parse_stanza(xml).expect("test stanza parses");
        self.sender
            .send(stanza)
            .expect("the watcher's stream is running");
    }

    /// Asks `bare` for a subscription to their presence.
    pub async fn subscribe(&self, bare: &str) {
        self.send(&format!(
            "<presence xmlns='jabber:client' type='subscribe' to='{bare}'/>"
        ))
        .await;
    }

    /// Everything received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The resources of `bare` available now, after the presences received so far.
    pub fn available(&self, bare: &str) -> Vec<String> {
        let prefix = format!("{bare}/");
        let mut last = BTreeMap::new();
        for s in self.seen() {
            if let Some(resource) = s.from.strip_prefix(&prefix) {
                last.insert(resource.to_owned(), s.available);
            }
        }
        last.into_iter()
            .filter(|(_, available)| *available)
            .map(|(resource, _)| resource)
            .collect()
    }

    /// Waits until `done` holds for what was received, or `secs` pass; whether it did.
    pub async fn wait(&self, secs: u64, mut done: impl FnMut(&[Seen]) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if done(&self.seen()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
