//! The session actor: owns the stanza stream of one account, turns stanzas into
//! [`Update`]s (persist, then emit) and [`Command`]s into stanzas.

mod rooms;
mod roomtools;
mod sync;

use super::connect::{self, ConnectConfig};
use super::history_sync::{HistorySync, PageEnd};
use super::order;
use super::outgoing::Outgoing;
use super::{Command, Handle, SessionError, SessionParams, Update, UpdateKind};
use crate::ids::{AccountId, LocalMessageId};
use crate::model::{ChatMessage, Contact, Delivery, Direction, Show, Subscription};
use crate::store::{Inserted, Store};
use crate::xmpp::{self, Event, PendingIq, ProtoState};
use futures::{FutureExt, Stream, StreamExt};
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::jid::{BareJid, Jid};
use tokio_xmpp::parsers::presence::Type as PresenceType;
use tokio_xmpp::stanzastream::{
    Connection, Event as StreamEvent, StanzaSender, StanzaStream, StreamEvent as StreamStatus,
};

mod upload;

/// At most this many stanzas that already arrived are handled before the incoming chat
/// messages among them are stored together (see `Actor::flush_live`).
const LIVE_BATCH: usize = 100;

/// Stanzas the stream may hold before `send` waits. Waiting for room stalled the session:
/// the stream in turn waited for the session to take its events, and nothing moved
/// again (143 of 200 messages never left after a reset mid-burst, `tests/delivery.rs`).
/// Messages written while the link is down wait in our outbox, not here, so this queue
/// only has to absorb a burst; keep it large.
const QUEUE_DEPTH: usize = 1024;

/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Starts a session. It runs while the returned stream is alive; dropping the stream
/// ends the session.
pub fn run(params: SessionParams) -> impl Stream<Item = Update> + Send + 'static {
    let (tx, rx) = mpsc::unbounded_channel();
    SessionStream {
        start: Some((params, tx)),
        task: None,
        rx,
    }
}

struct SessionStream {
    start: Option<(SessionParams, mpsc::UnboundedSender<Update>)>,
    task: Option<JoinHandle<()>>,
    rx: mpsc::UnboundedReceiver<Update>,
}

impl Stream for SessionStream {
    type Item = Update;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Update>> {
        if let Some((params, tx)) = self.start.take() {
            // Started on first poll, so it runs on whichever tokio runtime polls us.
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => self.task = Some(rt.spawn(actor(params, tx))),
                Err(_) => {
                    let _ = tx.send(Update {
                        account: params.account.clone(),
                        kind: UpdateKind::Failed(SessionError::Protocol {
                            detail: "no async runtime to run the session".to_owned(),
                        }),
                    });
                }
            }
        }
        self.rx.poll_recv(cx)
    }
}

impl Drop for SessionStream {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// What the reconnect task tells the actor.
enum Report {
    Attempt(u32),
    Authenticated(String),
    Retry(SessionError, Duration),
    Fatal(SessionError),
}

fn jitter(d: Duration) -> Duration {
    // Up to 25% on top, so many clients do not reconnect in lockstep.
    let r = (uuid::Uuid::new_v4().as_u128() % 1000) as u64;
    d + d.mul_f64(r as f64 / 4000.0)
}

/// The connector handed to the stanza stream: our transport, our retry policy.
/// Authentication and certificate failures are final: they are reported and the
/// attempt loop stops until the user acts (no retry loop).
fn reconnector(
    cfg: ConnectConfig,
    reports: mpsc::UnboundedSender<Report>,
    no_retry: bool,
) -> impl FnMut(Option<String>, oneshot::Sender<Connection>) + Send + 'static {
    move |_location, mut slot| {
        let cfg = cfg.clone();
        let reports = reports.clone();
        tokio::spawn(async move {
            let mut attempt = 0u32;
            let mut delay = Duration::from_secs(1);
            loop {
                attempt += 1;
                let _ = reports.send(Report::Attempt(attempt));
                let result = tokio::select! {
                    r = connect::connect(&cfg) => r,
                    _ = slot.closed() => return,
                };
                match result {
                    Ok(auth) => {
                        let _ = reports.send(Report::Authenticated(auth.mechanism));
                        let _ = slot.send(auth.connection);
                        return;
                    }
                    Err(e) if e.is_fatal() || no_retry => {
                        let _ = reports.send(Report::Fatal(e));
                        // Keep the slot until the session is dropped: dropping it would
                        // make the stanza stream treat this as a crash.
                        slot.closed().await;
                        return;
                    }
                    Err(e) => {
                        let wait = jitter(delay);
                        let _ = reports.send(Report::Retry(e, wait));
                        tokio::select! {
                            _ = tokio::time::sleep(wait) => {}
                            _ = slot.closed() => return,
                        }
                        delay = (delay * 2).min(MAX_BACKOFF);
                    }
                }
            }
        });
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

struct Actor {
    account: AccountId,
    own: BareJid,
    tx: mpsc::UnboundedSender<Update>,
    store: Option<Store>,
    proto: ProtoState,
    sender: Arc<StanzaSender>,
    /// The way into `sender`, following our chat messages.
    out: Outgoing,
    /// The stream is up (not suspended): chat messages go out now rather than wait in
    /// the outbox for the next flush, which keeps them in order behind older ones.
    online: bool,
    delivery_tx: mpsc::UnboundedSender<(LocalMessageId, Delivery)>,
    presence: (Show, Option<String>),
    mechanism: String,
    roster_version: Option<String>,
    roster: Vec<Contact>,
    /// The server acknowledges stanzas (XEP-0198) on the current stream.
    sm_enabled: bool,
    /// Messages handed to the stanza stream by this session; its queue (and stream
    /// management) owns them now, so the outbox does not send them a second time.
    in_flight: HashSet<LocalMessageId>,
    /// Archive catch-up, the peek at the chat on screen, chats' older history.
    sync: HistorySync,
    /// Group chat rooms this session wants to be in (see `rooms.rs`).
    rooms: rooms::SessionRooms,
    uploads: upload::Uploads,
    /// Walks through archives, so each page continues the one before (`order.rs`).
    walks: order::Walks,
    /// Incoming chat messages (with the receipt each asks for) waiting to be stored
    /// together at the end of a run of stanzas that arrived at once.
    live: Vec<(ChatMessage, Option<Box<Stanza>>)>,
    tools: roomtools::Tools,
}

async fn actor(params: SessionParams, tx: mpsc::UnboundedSender<Update>) {
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel();
    let account = params.account.clone();
    let _ = tx.send(Update {
        account: account.clone(),
        kind: UpdateKind::Ready(Handle::new(cmd_tx)),
    });

    let (report_tx, mut report_rx) = mpsc::unbounded_channel();
    let cfg = ConnectConfig {
        jid: params.jid.clone(),
        password: params.password.clone().into(),
        server: params.server.clone(),
        trust: params.trust.clone(),
        resource: params.resource.clone(),
        // Off unless the user allowed it for this account (a store preference).
        allow_plain: params.store.as_ref().is_some_and(|s| {
            s.pref(&super::connect::allow_plain_pref(&params.account))
                .ok()
                .flatten()
                .as_deref()
                == Some("true")
        }),
    };
    let no_retry = params.verify_only;
    // A failed resumption (`<failed/>`, also without `h`: see `xml_guard/sm_failed.rs`)
    // is handled inside this stream: it binds afresh and reports a reset.
    let (sender, mut receiver) =
        StanzaStream::new(Box::new(reconnector(cfg, report_tx, no_retry)), QUEUE_DEPTH).split();
    let sender = Arc::new(sender);
    let (delivery_tx, mut delivery_rx) = mpsc::unbounded_channel();
    let mut a = Actor {
        account: account.clone(),
        own: params.jid.clone(),
        tx,
        store: params.store.clone(),
        proto: ProtoState::new(account, params.jid.clone()),
        out: Outgoing::start(sender.clone()),
        sender,
        online: false,
        delivery_tx,
        presence: (Show::Online, None),
        mechanism: String::new(),
        roster_version: None,
        roster: Vec::new(),
        sm_enabled: false,
        in_flight: HashSet::new(),
        sync: HistorySync::new(params.store.is_some()),
        rooms: rooms::SessionRooms::default(),
        uploads: upload::Uploads::default(),
        walks: order::Walks::default(),
        live: Vec::new(),
        tools: roomtools::Tools::default(),
    };
    a.load_cached_roster().await;

    let mut commands_open = true;
    let mut room_tick = tokio::time::interval(rooms::TICK);
    // A stream event taken while looking for more stanzas (see below), not handled yet.
    let mut held: Option<Option<StreamEvent>> = None;
    loop {
        tokio::select! {
            _ = room_tick.tick() => a.rooms_tick().await,
            ev = async {
                match held.take() {
                    Some(ev) => ev,
                    None => receiver.next().await,
                }
            } => match ev {
                Some(StreamEvent::Stanza(st)) => {
                    a.on_stanza(st).await;
                    // Stanzas that already arrived are handled first, so the chat
                    // messages among them are stored with one flush: a flood cost one
                    // flush per message (0.62-0.76 of the rate of a session without a
                    // store, benches/delivery.rs).
                    for _ in 0..LIVE_BATCH {
                        match receiver.next().now_or_never() {
                            Some(Some(StreamEvent::Stanza(st))) => a.on_stanza(st).await,
                            Some(other) => {
                                held = Some(other);
                                break;
                            }
                            None => break,
                        }
                    }
                    a.flush_live().await;
                }
                Some(StreamEvent::Stream(StreamStatus::Reset { bound_jid, features })) => {
                    a.sm_enabled = features.stream_management.is_some();
                    a.on_reset(bound_jid).await;
                }
                Some(StreamEvent::Stream(StreamStatus::Resumed)) => a.on_resumed().await,
                Some(StreamEvent::Stream(StreamStatus::Suspended)) => {
                    a.online = false;
                    a.emit(UpdateKind::Disconnected {
                        error: SessionError::Unreachable { detail: "connection lost; reconnecting".to_owned() },
                        retry_in_secs: Some(0),
                    })
                }
                None => {
                    let mut error = SessionError::Protocol { detail: "the connection ended".to_owned() };
                    while let Ok(r) = report_rx.try_recv() {
                        if let Report::Fatal(e) = r { error = e; }
                    }
                    a.emit(UpdateKind::Failed(error));
                    break;
                }
            },
            r = report_rx.recv() => match r {
                Some(Report::Attempt(n)) => a.emit(UpdateKind::Connecting { attempt: n }),
                Some(Report::Authenticated(m)) => a.mechanism = m,
                Some(Report::Retry(error, wait)) => a.emit(UpdateKind::Disconnected {
                    error,
                    retry_in_secs: Some(wait.as_secs().max(1)),
                }),
                Some(Report::Fatal(e)) => {
                    a.emit(UpdateKind::Failed(e));
                    break;
                }
                None => {}
            },
            c = cmd_rx.recv(), if commands_open => match c {
                Some(Command::Disconnect) => {
                    // Signing out: say so, then close the stream below. A closed stream
                    // ends the session on the server; one that merely drops is kept
                    // for a resumption, and contacts see us online until it expires.
                    a.send(xmpp::presence::own(Show::Offline, None)).await;
                    break;
                }
                Some(c) => a.on_command(c).await,
                None => commands_open = false,
            },
            Some((id, state)) = delivery_rx.recv() => a.on_delivery(id, state, None).await,
        }
    }
    // Close the stream: what is queued goes out (the unavailable presence), then
    // `</stream:stream>`, and the server's answer is awaited, but not for ever.
    // Only then does the session end (`Handle::sign_out` waits for that).
    let Actor { sender, out, .. } = a;
    drop(out);
    match Arc::try_unwrap(sender) {
        Ok(sender) => {
            let stream = StanzaStream::reunite(sender, receiver);
            if tokio::time::timeout(super::CLOSE_WAIT, stream.close())
                .await
                .is_err()
            {
                log::info!("the server did not answer the close of the stream in time");
            }
        }
        // Dropping the halves still closes the stream, in the background.
        Err(_) => log::warn!("stream still shared at the end of the session"),
    }
}

impl Actor {
    fn emit(&self, kind: UpdateKind) {
        let _ = self.tx.send(Update {
            account: self.account.clone(),
            kind,
        });
    }

    /// Starts `walk` afresh: what is stored after this counts as arrived meanwhile. A
    /// forward walk with a `frontier` continues where an earlier run's walk ended.
    async fn start_walk(&mut self, walk: order::Walk, frontier: Option<String>) {
        let backward = walk.backward();
        let started = self
            .with_store(move |s| match frontier {
                Some(f) if !backward => s.page_order_continuing(&f),
                _ => s.page_order(backward),
            })
            .await;
        match started {
            Some(Ok(o)) => self.walks.put(walk, o),
            Some(Err(e)) => log::warn!("could not start an archive walk: {e}"),
            None => {}
        }
    }

    /// Stores one archive page of `walk` (one flush), in the archive's order, the new
    /// incoming messages from index `news_from` on as unread; the insert results, as
    /// `Store::insert_page` gives them.
    async fn store_walk_page(
        &mut self,
        walk: order::Walk,
        batch: Vec<ChatMessage>,
        news_from: usize,
    ) -> Option<Result<Vec<crate::store::Inserted>, crate::store::StoreError>> {
        let existing = self.walks.take(&walk);
        let backward = walk.backward();
        let result = self
            .with_store(move |s| {
                let mut order = match existing {
                    Some(o) => o,
                    None => s.page_order(backward)?,
                };
                let results = s.insert_page_news_from(&batch, &mut order, news_from)?;
                Ok((order, results))
            })
            .await;
        match result {
            Some(Ok((order, results))) => {
                self.walks.put(walk, order);
                Some(Ok(results))
            }
            Some(Err(e)) => Some(Err(e)),
            None => None,
        }
    }

    /// Hands a stanza to the stream; false when the stream is broken.
    async fn send(&self, stanza: Stanza) -> bool {
        self.out.send(stanza).await
    }

    /// Runs a blocking store call off the async threads.
    async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> Option<Result<T, crate::store::StoreError>> {
        let store = self.store.clone()?;
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(r) => Some(r),
            Err(e) => Some(Err(crate::store::StoreError::Io(e.to_string()))),
        }
    }

    async fn load_cached_roster(&mut self) {
        let account = self.account.clone();
        if let Some(Ok((version, contacts))) = self.with_store(move |s| s.roster(&account)).await {
            self.roster_version = version;
            self.roster = contacts;
            if !self.roster.is_empty() {
                self.emit(UpdateKind::Roster(self.roster.clone()));
            }
        }
    }

    async fn save_roster(&self) {
        let account = self.account.clone();
        let version = self.roster_version.clone();
        let contacts = self.roster.clone();
        if let Some(Err(e)) = self
            .with_store(move |s| s.save_roster(&account, version.as_deref(), &contacts))
            .await
        {
            log::warn!("could not cache the roster: {e}");
        }
    }

    async fn on_reset(&mut self, bound: Jid) {
        let bound = match bound.try_into_full() {
            Ok(full) => full,
            Err(bare) => {
                log::warn!("server bound us to a bare JID {bare}");
                return;
            }
        };
        if bound.to_bare() != self.own {
            // Never act as someone else (e.g. an ANONYMOUS login slipped through).
            self.emit(UpdateKind::Failed(SessionError::InsecureLogin {
                detail: format!("the server signed us in as {bound}"),
            }));
            return;
        }
        self.proto.reset(bound.clone());
        self.upload_reset();
        self.tools_reset();
        let ver = if self.roster.is_empty() {
            // An empty cache must not be declared current.
            Some(String::new())
        } else {
            self.roster_version.clone().or(Some(String::new()))
        };
        let roster_get =
            self.proto
                .request(PendingIq::RosterGet, None, true, xmpp::roster::query(ver));
        self.send(roster_get).await;
        // The archive is asked before our presence: the server then keeps what waited
        // for us offline in the archive, and it comes in pages, newest first on a first
        // sign-in, instead of pushed one stanza at a time (Prosody skips offline delivery
        // to a session that queried its archive; 20,000 pushed messages took 38 s to
        // store, and raced the catch-up for their order).
        self.start_catch_up().await;
        self.send(xmpp::presence::own(
            self.presence.0,
            self.presence.1.as_deref(),
        ))
        .await;
        self.sync.presence_sent();
        let carbons = self.proto.request(
            PendingIq::CarbonsEnable,
            None,
            false,
            xmpp::message::carbons_enable(),
        );
        self.send(carbons).await;
        let disco = self.proto.request(
            PendingIq::OwnDiscoInfo,
            Some(Jid::from(self.own.clone())),
            true,
            xmpp::disco::info_query(),
        );
        self.send(disco).await;
        self.emit(UpdateKind::Online {
            bound,
            mechanism: self.mechanism.clone(),
            resumed: false,
        });
        // A new stream, not a resumed one: what the old one wrote but the server never
        // acknowledged died with it. Send it again, in order, with the rest of the outbox.
        for id in self.out.lost_on_reset() {
            log::info!("{}: {id} was lost with the old stream", self.own);
            self.in_flight.remove(&id);
        }
        self.online = true;
        self.flush_outbox().await;
        let abandoned = self.sync.abandon_older();
        self.run_sync(abandoned).await;
        self.rooms_on_reset().await;
    }

    /// Sends again, with their original ids and in order, the messages an earlier run
    /// stored but the server never confirmed (written offline, or the app was quit).
    async fn flush_outbox(&mut self) {
        let account = self.account.clone();
        let pending = match self.with_store(move |s| s.outbox(&account)).await {
            Some(Ok(p)) => p,
            Some(Err(e)) => {
                log::warn!("could not read the outbox: {e}");
                return;
            }
            None => return,
        };
        for m in pending {
            if m.is_room || self.in_flight.contains(&m.id) {
                continue;
            }
            log::info!("{}: sending {} again from the outbox", self.own, m.id);
            let oob = m.attachment.map(|a| a.url);
            self.transmit_with(
                m.peer,
                &m.body,
                m.id,
                oob.as_deref(),
                m.private_nick.as_deref(),
            )
            .await;
        }
    }

    async fn on_resumed(&mut self) {
        if let Some(bound) = self.proto.bound.clone() {
            self.emit(UpdateKind::Online {
                bound,
                mechanism: self.mechanism.clone(),
                resumed: true,
            });
        }
        // The stream re-sent what it had; now what was written while it was down.
        self.online = true;
        self.flush_outbox().await;
    }

    async fn on_stanza(&mut self, stanza: Stanza) {
        for event in self.proto.handle(stanza, now_ms()) {
            // Anything else may depend on the chat messages before it being stored (a
            // receipt for a carbon of our own message, say): store them first.
            if !matches!(&event, Event::Message { message, .. } if !message.is_room) {
                self.flush_live().await;
            }
            match event {
                Event::Message { message, .. } if message.is_room => {
                    self.on_room_message(*message).await
                }
                Event::Message { message, receipt } => {
                    self.live.push((*message, receipt));
                }
                Event::Roster { version, items } => {
                    if let Some(items) = items {
                        self.roster = items;
                        self.roster_version = version;
                        self.save_roster().await;
                        self.emit(UpdateKind::Roster(self.roster.clone()));
                    }
                }
                Event::ContactChanged { version, contact } => {
                    self.roster.retain(|c| c.jid != contact.jid);
                    self.roster.push(contact.clone());
                    if version.is_some() {
                        self.roster_version = version;
                    }
                    self.save_roster().await;
                    self.emit(UpdateKind::ContactChanged(contact));
                }
                Event::ContactRemoved { version, jid } => {
                    self.roster.retain(|c| c.jid != jid);
                    if version.is_some() {
                        self.roster_version = version;
                    }
                    self.save_roster().await;
                    self.emit(UpdateKind::ContactRemoved(jid));
                }
                Event::Presence { from, show, status } => {
                    self.emit(UpdateKind::Presence { from, show, status })
                }
                Event::SubscriptionRequest(from) => {
                    self.emit(UpdateKind::SubscriptionRequest { from })
                }
                Event::Delivery { id, peer, state } => {
                    self.on_delivery(LocalMessageId(id), state, Some(peer))
                        .await
                }
                Event::Archived { queryid, message } => {
                    self.sync.archived(&queryid, *message);
                }
                Event::ArchivePage {
                    queryid,
                    backward,
                    complete,
                    first,
                    last,
                    failed,
                    gone,
                } => {
                    self.on_archive_page(PageEnd {
                        queryid,
                        backward,
                        complete,
                        first,
                        last,
                        failed,
                        gone,
                    })
                    .await
                }
                Event::OwnFeatures { .. } => {}
                Event::Upload(ev) => self.on_upload_event(ev).await,
                Event::CarbonsEnabled(ok) => {
                    if !ok {
                        log::info!("{}: the server did not enable carbons", self.own);
                    }
                }
                Event::Reply(st) => {
                    self.send(*st).await;
                }
                Event::Dropped(why) => log::warn!("{}: {why}", self.own),
                Event::Muc(e) => self.on_muc(e).await,
                Event::Answer { token, result } => self.on_answer(token, result),
            }
        }
    }

    /// Persist, then emit. Returns whether the message is safely stored.
    /// Stores the incoming chat messages collected by `on_stanza` (one transaction, one
    /// flush), then shows the new ones and sends the receipts they asked for: only once a
    /// message is on disk do we confirm it.
    async fn flush_live(&mut self) {
        if self.live.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.live);
        let messages: Vec<ChatMessage> = batch.iter().map(|(m, _)| m.clone()).collect();
        // Once the catch-up has everything before them, the archive position follows
        // what arrives live: the next start asks only for what came after (as news),
        // not for the newest page as if this device had never signed in.
        let follow = self.sync.live_cursor(&messages);
        let (key, tkey) = (
            sync::cursor_key(&self.account),
            sync::cursor_time_key(&self.account),
        );
        let fkey = sync::frontier_key(&self.account);
        let stored = self
            .with_store(move |s| {
                let results = s.insert_messages(&messages)?;
                if let Some((id, time)) = follow {
                    s.set_pref(&key, &id)?;
                    s.set_pref(&tkey, &time.to_string())?;
                    s.remove_pref(&fkey)?;
                }
                Ok(results)
            })
            .await;
        match stored {
            None => {
                for (message, receipt) in batch {
                    self.emit(UpdateKind::Message(message));
                    if let Some(r) = receipt {
                        self.send(*r).await;
                    }
                }
            }
            Some(Ok(results)) => {
                for ((message, receipt), result) in batch.into_iter().zip(results) {
                    if result == Inserted::New {
                        self.emit(UpdateKind::Message(message));
                    }
                    if let Some(r) = receipt {
                        self.send(*r).await;
                    }
                }
            }
            Some(Err(e)) => {
                log::error!("could not store {} message(s): {e}", batch.len());
                for (message, _) in &batch {
                    self.emit(UpdateKind::Notice(store_failure_notice(message, &e)));
                }
            }
        }
    }

    async fn store_message(&self, message: ChatMessage) -> bool {
        let m = message.clone();
        match self.with_store(move |s| s.insert_message(&m)).await {
            None => {
                self.emit(UpdateKind::Message(message));
                true
            }
            Some(Ok(Inserted::New)) => {
                self.emit(UpdateKind::Message(message));
                true
            }
            Some(Ok(Inserted::Duplicate)) => true,
            Some(Err(e)) => {
                log::error!("could not store a message: {e}");
                self.emit(UpdateKind::Notice(store_failure_notice(&message, &e)));
                false
            }
        }
    }

    async fn on_delivery(&self, id: LocalMessageId, state: Delivery, peer: Option<BareJid>) {
        let account = self.account.clone();
        let (id2, state2) = (id.clone(), state.clone());
        let result = self
            .with_store(move |s| {
                // Only the peer we wrote to may confirm or bounce our message, and a
                // state never goes backwards (a late "sent" must not hide "delivered").
                let Some(current) = s.find_message(&account, &id2)? else {
                    return Ok(false);
                };
                if current.direction != Direction::Outgoing
                    || peer.as_ref().is_some_and(|p| *p != current.peer)
                    || !moves_forward(&current.delivery, &state2)
                {
                    return Ok(false);
                }
                Ok(s.set_delivery(&account, &id2, &state2)?.is_some())
            })
            .await;
        if state == Delivery::Acked || (state == Delivery::Sent && !self.sm_enabled) {
            self.out.forget(&id);
        }
        if state == Delivery::Sent && !self.sm_enabled {
            // Without stream management "sent" is the last word the server gives.
            let (account, id) = (self.account.clone(), id.clone());
            if let Some(Err(e)) = self
                .with_store(move |s| s.release_outbox(&account, &id))
                .await
            {
                log::warn!("could not update the outbox: {e}");
            }
        }
        match result {
            None | Some(Ok(true)) => {
                if state == Delivery::Read {
                    self.mark_earlier_read(&id).await;
                }
                self.emit(UpdateKind::Delivery { id, state })
            }
            Some(Ok(false)) => {}
            Some(Err(e)) => log::warn!("could not record delivery state: {e}"),
        }
    }

    /// A displayed marker covers every earlier message of ours in that conversation
    /// (looked up in the newest page only).
    async fn mark_earlier_read(&self, id: &LocalMessageId) {
        let (account, id) = (self.account.clone(), id.clone());
        let changed = self
            .with_store(move |s| {
                let Some(read) = s.find_message(&account, &id)? else {
                    return Ok(Vec::new());
                };
                let mut changed = Vec::new();
                for m in s.latest(&account, &read.conversation(), 50)? {
                    if m.direction == Direction::Outgoing
                        && m.id != read.id
                        && m.timestamp_ms <= read.timestamp_ms
                        && rank(&m.delivery) < rank(&Delivery::Read)
                        && rank(&m.delivery) >= rank(&Delivery::Sent)
                        && s.set_delivery(&account, &m.id, &Delivery::Read)?.is_some()
                    {
                        changed.push(m.id);
                    }
                }
                Ok(changed)
            })
            .await;
        if let Some(Ok(ids)) = changed {
            for id in ids {
                self.emit(UpdateKind::Delivery {
                    id,
                    state: Delivery::Read,
                });
            }
        }
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::SendChat { to, body, id } => self.send_chat(to, body, id).await,
            Command::SetPresence { show, status } => {
                self.presence = (show, status);
                self.send(xmpp::presence::own(show, self.presence.1.as_deref()))
                    .await;
            }
            Command::AddContact {
                jid,
                name,
                subscribe,
            } => {
                let groups = self
                    .roster
                    .iter()
                    .find(|c| c.jid == jid)
                    .map(|c| c.groups.clone())
                    .unwrap_or_default();
                let set = self.proto.request(
                    PendingIq::RosterSet,
                    None,
                    false,
                    xmpp::roster::set_item(jid.clone(), name, groups),
                );
                self.send(set).await;
                if subscribe {
                    self.send(xmpp::presence::subscription(jid, PresenceType::Subscribe))
                        .await;
                }
            }
            Command::RemoveContact { jid } => {
                let set = self.proto.request(
                    PendingIq::RosterSet,
                    None,
                    false,
                    xmpp::roster::remove_item(jid),
                );
                self.send(set).await;
            }
            Command::AnswerSubscription { jid, accept } => {
                let answer = if accept {
                    PresenceType::Subscribed
                } else {
                    PresenceType::Unsubscribed
                };
                self.send(xmpp::presence::subscription(jid.clone(), answer))
                    .await;
                let already = self.roster.iter().any(|c| {
                    c.jid == jid && matches!(c.subscription, Subscription::To | Subscription::Both)
                });
                if accept && !already {
                    // Ask back, as people expect a mutual subscription.
                    self.send(xmpp::presence::subscription(jid, PresenceType::Subscribe))
                        .await;
                }
            }
            Command::Resend { id } => self.resend(id).await,
            Command::MarkDisplayed { peer, id } => {
                self.send(xmpp::message::displayed(peer, id)).await;
            }
            // The store places older pages by the archive's order, not by time.
            Command::ChatLoadOlder {
                peer,
                before,
                below_ms: _,
            } => {
                let query = self
                    .sync
                    .load_older(peer, before, std::time::Instant::now());
                self.run_sync(vec![query]).await;
            }
            Command::Viewing { peer } => {
                let peek = self.sync.viewing(peer);
                self.run_sync(peek).await;
            }
            Command::FindUploadService { reply } => self.find_upload_service(reply).await,
            Command::RequestSlot {
                service,
                filename,
                size,
                content_type,
                reply,
            } => {
                self.request_slot(service, filename, size, content_type, reply)
                    .await
            }
            Command::SendAttachment { to, attachment, id } => {
                self.send_attachment(to, attachment, id).await
            }
            Command::Disconnect => {}
            room => self.on_room_command(room).await,
        }
    }

    async fn send_chat(&mut self, to: BareJid, body: String, id: LocalMessageId) {
        let body = body.trim_end().to_owned();
        if body.trim().is_empty() {
            return;
        }
        let message = ChatMessage {
            truncated: false,
            id: id.clone(),
            account: self.account.clone(),
            peer: to.clone(),
            is_room: false,
            direction: Direction::Outgoing,
            sender: String::new(),
            body: body.clone(),
            timestamp_ms: now_ms(),
            stanza_id_attr: Some(id.0.clone()),
            origin_id: Some(id.0.clone()),
            server_id: None,
            delivery: Delivery::Pending,
            private_nick: None,
            attachment: None,
        };
        // Stored first: a message the user wrote is never only in memory.
        if !self.store_message(message).await {
            return;
        }
        // Offline it waits in the outbox, behind older ones, for the next stream. A
        // session without a store (the sign-in check, tests) has no outbox: the stream's
        // own queue holds it instead (lost after a failed resumption; never the app's
        // case). Holding it back there lost it outright (`a_cut_connection_loses_nothing_
        // either_way`, whenever the cut was noticed before the message was written).
        if self.online || self.store.is_none() {
            self.transmit(to, &body, id).await;
        }
    }

    /// The user asked to try a failed (or stuck) message again: same id, same text.
    async fn resend(&mut self, id: LocalMessageId) {
        let (account, id2) = (self.account.clone(), id.clone());
        let found = self
            .with_store(move |s| {
                let m = s.find_message(&account, &id2)?;
                if let Some(m) = &m
                    && m.direction == Direction::Outgoing
                    && matches!(m.delivery, Delivery::Failed(_) | Delivery::Pending)
                {
                    // Back into the outbox until the server confirms it this time.
                    s.set_delivery(&account, &id2, &Delivery::Pending)?;
                }
                Ok(m)
            })
            .await;
        let message = match found {
            Some(Ok(Some(m))) => m,
            Some(Ok(None)) | None => return,
            Some(Err(e)) => {
                log::warn!("could not read the message to send again: {e}");
                return;
            }
        };
        if message.direction != Direction::Outgoing
            || !matches!(message.delivery, Delivery::Failed(_) | Delivery::Pending)
            || message.is_room
        {
            return;
        }
        self.emit(UpdateKind::Delivery {
            id: id.clone(),
            state: Delivery::Pending,
        });
        self.in_flight.remove(&id);
        if self.online {
            let oob = message.attachment.map(|a| a.url);
            self.transmit_with(
                message.peer,
                &message.body,
                id,
                oob.as_deref(),
                message.private_nick.as_deref(),
            )
            .await;
        }
    }

    /// Hands a stored message to the stream and follows it to "sent" and "acked".
    async fn transmit(&mut self, to: BareJid, body: &str, id: LocalMessageId) {
        self.transmit_with(to, body, id, None, None).await
    }

    /// [`Actor::transmit`], with an OOB URL (XEP-0066) when the message shares a file.
    async fn transmit_with(
        &mut self,
        to: BareJid,
        body: &str,
        id: LocalMessageId,
        oob: Option<&str>,
        private_nick: Option<&str>,
    ) {
        self.in_flight.insert(id.clone());
        // A private message goes to the occupant, never to the room's bare address.
        let private = private_nick.and_then(|n| xmpp::muc::private_message(&to, n, body, &id));
        let mut chat = match private {
            Some(st) => st,
            None => xmpp::message::chat(to, body, &id),
        };
        if let Some(url) = oob {
            xmpp::upload::add_oob(&mut chat, url);
        }
        if !self
            .out
            .send_tracked(chat, id.clone(), self.delivery_tx.clone())
            .await
        {
            let _ = self
                .delivery_tx
                .send((id, Delivery::Failed("not connected".to_owned())));
        }
    }
}

/// Whether a message may go from `current` to `new`. States only move forward; a
/// failure (a bounce) may come after the server took the message but not after the
/// recipient confirmed it; a failed message moves on only when the user retries.
fn moves_forward(current: &Delivery, new: &Delivery) -> bool {
    match (current, new) {
        (Delivery::Failed(_), _) => false,
        (_, Delivery::Failed(_)) => matches!(
            current,
            Delivery::Pending | Delivery::Sent | Delivery::Acked
        ),
        _ => rank(current) < rank(new),
    }
}

/// Order of delivery states; a message only moves forward.
fn rank(d: &Delivery) -> u8 {
    match d {
        Delivery::Pending => 0,
        Delivery::Failed(_) => 1,
        Delivery::Sent => 2,
        Delivery::Acked => 3,
        Delivery::Delivered => 4,
        Delivery::Read => 5,
    }
}

/// What the user reads when a message could not be stored. Nothing is lost: an incoming
/// message is neither receipted nor passed by the archive position, so the next catch-up
/// brings it again; an outgoing one was not sent and its text is repeated here.
fn store_failure_notice(message: &ChatMessage, e: &crate::store::StoreError) -> String {
    let why = match e {
        crate::store::StoreError::Full => {
            "the disk is full. Free some space; messages from the server archive are fetched again on the next connection".to_owned()
        }
        other => other.to_string(),
    };
    match message.direction {
        Direction::Incoming => format!("A message from {} could not be saved: {why}", message.peer),
        Direction::Outgoing => format!(
            "Your message to {} was not sent, because it could not be saved first: {why}. Its text: {}",
            message.peer, message.body
        ),
    }
}
