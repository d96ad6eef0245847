//! The session actor: owns the stanza stream of one account, turns stanzas into
//! [`Update`]s (persist, then emit) and [`Command`]s into stanzas. This file is the
//! loop and the stream's lifecycle (new, resumed, closed); what the loop hands on lives
//! beside it: `inbound` (stanzas in), `outbound` (our messages out and their delivery
//! state), `roster`, `sync` (archive catch-up, carrying out `session/history_sync.rs`),
//! `changes` (corrections, reactions, retractions, replies, chat states), `rooms`,
//! `roomtools`, `upload`, `reconnect` (connector and retry policy). What goes to the UI
//! passes `session::flood` (presences, room occupants, subjects and typing held back, the
//! latest of each, while the UI is behind; messages never).

mod avatars;
mod blocking;
mod changes;
mod inbound;
mod omemo;
mod outbound;
mod quiet;
mod reconnect;
mod room_faces;
mod rooms;
mod roomtools;
mod roster;
mod sync;
mod upload;

use super::connect::ConnectConfig;
use super::history_sync::HistorySync;
use super::order;
use super::outgoing::Outgoing;
use super::{Command, Handle, SessionError, SessionParams, Update, UpdateKind};
use crate::ids::{AccountId, LocalMessageId};
use crate::model::{ChatMessage, Contact, Delivery, Show};
use crate::store::Store;
use crate::xmpp::{self, PendingIq, ProtoState};
use futures::{FutureExt, Stream, StreamExt};
use reconnect::{Report, reconnector};
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::jid::{BareJid, Jid};
use tokio_xmpp::stanzastream::{
    Event as StreamEvent, StanzaSender, StanzaStream, StreamEvent as StreamStatus,
};

/// At most this many stanzas that already arrived are handled before the incoming chat
/// messages among them are stored together (see `Actor::flush_live`).
const LIVE_BATCH: usize = 100;

/// Stanzas the stream may hold before `send` waits. Waiting for room stalled the session:
/// the stream in turn waited for the session to take its events, and nothing moved
/// again (143 of 200 messages never left after a reset mid-burst, `tests/delivery.rs`).
/// Messages written while the link is down wait in our outbox, not here, so this queue
/// only has to absorb a burst; keep it large.
const QUEUE_DEPTH: usize = 1024;

/// Starts a session. It runs while the returned stream is alive; dropping the stream
/// ends the session.
pub fn run(params: SessionParams) -> impl Stream<Item = Update> + Send + 'static {
    let (tx, rx) = mpsc::unbounded_channel();
    let (outlet, backlog) = super::flood::Outlet::new(tx);
    SessionStream {
        start: Some((params, outlet)),
        task: None,
        rx,
        backlog,
    }
}

struct SessionStream {
    start: Option<(SessionParams, super::flood::Outlet)>,
    task: Option<JoinHandle<()>>,
    rx: mpsc::UnboundedReceiver<Update>,
    /// Updates sent and not taken yet (see `flood`).
    backlog: Arc<std::sync::atomic::AtomicUsize>,
}

impl Stream for SessionStream {
    type Item = Update;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Update>> {
        if let Some((params, tx)) = self.start.take() {
            // Started on first poll, so it runs on whichever tokio runtime polls us.
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => self.task = Some(rt.spawn(actor(params, tx))),
                Err(_) => {
                    tx.send(Update {
                        account: params.account.clone(),
                        kind: UpdateKind::Failed(SessionError::Protocol {
                            detail: "no async runtime to run the session".to_owned(),
                        }),
                    });
                }
            }
        }
        let polled = self.rx.poll_recv(cx);
        if let Poll::Ready(Some(_)) = &polled {
            super::flood::Outlet::taken(&self.backlog);
        }
        polled
    }
}

impl Drop for SessionStream {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

struct Actor {
    account: AccountId,
    own: BareJid,
    tx: super::flood::Outlet,
    /// Contact presences held back while the UI is behind (see `flood`).
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
    /// Receipts strangers asked for, sent when they are accepted (`quiet.rs`).
    held_receipts: crate::quiet::HeldReceipts<Stanza>,
    /// This device's OMEMO state and what it waits for (off without a key: `omemo.rs`).
    crypto: omemo::Crypto,
    /// Avatars: what is fetched, the cache (`avatars.rs`).
    faces: avatars::Faces,
}

async fn actor(params: SessionParams, tx: super::flood::Outlet) {
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel();
    let account = params.account.clone();
    tx.send(Update {
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
        allow_plain: params.allow_plain
            || params
                .store
                .as_ref()
                .is_some_and(|s| super::connect::allows_plain(s, &params.account)),
    };
    let no_retry = params.verify_only;
    // A failed resumption (`<failed/>`, also without `h`: see `xml_guard/sm_failed.rs`)
    // is handled inside this stream: it binds afresh and reports a reset. A resumption
    // answered with something else the library cannot read is not: see `logins` below.
    let open = move || {
        StanzaStream::new(
            Box::new(reconnector(cfg.clone(), report_tx.clone(), no_retry)),
            QUEUE_DEPTH,
        )
        .split()
    };
    let (sender, mut receiver) = open();
    let sender = Arc::new(sender);
    let (delivery_tx, mut delivery_rx) = mpsc::unbounded_channel();
    let (decoded_tx, mut decoded_rx) = mpsc::unbounded_channel();
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
        held_receipts: Default::default(),
        crypto: omemo::Crypto::open(
            params.store.clone(),
            params.account.clone(),
            params.omemo_key.clone(),
        )
        .await,
        faces: avatars::Faces::new(decoded_tx),
    };
    a.load_cached_roster().await;
    a.avatars_open().await;

    let mut commands_open = true;
    let mut room_tick = tokio::time::interval(rooms::TICK);
    // Logins since the last new or resumed stream.
    let mut logins = 0u32;
    // A stream event taken while looking for more stanzas (see below), not handled yet.
    let mut held: Option<Option<StreamEvent>> = None;
    loop {
        tokio::select! {
            _ = room_tick.tick() => {
                a.tx.release();
                a.expire_requests().await;
                a.avatars_save().await;
                a.rooms_tick().await
            }
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
                    a.tx.release();
                }
                Some(StreamEvent::Stream(StreamStatus::Reset { bound_jid, features })) => {
                    a.sm_enabled = features.stream_management.is_some();
                    logins = 0;
                    a.on_reset(bound_jid).await;
                }
                Some(StreamEvent::Stream(StreamStatus::Resumed)) => {
                    logins = 0;
                    a.on_resumed().await
                }
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
                Some(Report::Authenticated(m)) => {
                    a.mechanism = m;
                    logins += 1;
                    if logins >= 2 {
                        // A login that led to neither a new nor a resumed stream: the
                        // resumption was answered with something the library cannot read
                        // (an `h` that is not a number, bytes that are not XML; Prosody's
                        // `<failed/>` without `h` is mended by the XML guard), and it
                        // retried the same resumption forever, about ten logins a second
                        // (`tests/hostile.rs`, `liar_answering_a_resumption_with_garbage_
                        // starts_over`). Start over with a fresh stream; the outbox re-sends.
                        log::warn!("{}: resumption keeps failing; starting a new stream", a.own);
                        logins = 0;
                        let (sender, r) = open();
                        receiver = r;
                        // What was held came from the old stream.
                        held = None;
                        a.restart_stream(Arc::new(sender));
                    }
                }
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
            Some(decoded) = decoded_rx.recv() => a.avatar_decoded(decoded).await,
        }
    }
    // Who shows which avatar, if that changed since the last tick.
    a.avatars_save().await;
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
    fn emit(&self, mut kind: UpdateKind) {
        // A message that changes waiting for it altered as it was stored is shown as
        // stored (a retracted one without its text), not as it arrived.
        if let Some(store) = &self.store
            && store.has_absorbed()
        {
            let fix = |m: &mut ChatMessage| {
                if let Some(stored) = store.take_absorbed(m) {
                    *m = stored;
                }
            };
            match &mut kind {
                UpdateKind::Message(m) => fix(m),
                UpdateKind::History(ms)
                | UpdateKind::RoomOlder { messages: ms, .. }
                | UpdateKind::ChatOlder { messages: ms, .. } => ms.iter_mut().for_each(fix),
                _ => {}
            }
        }
        self.tx.send(Update {
            account: self.account.clone(),
            kind,
        });
    }

    /// Replaces the stanza stream by a fresh one (no stream-management state). What the
    /// old one held is gone: every unconfirmed message goes out again from the outbox
    /// once the new stream is up.
    fn restart_stream(&mut self, sender: Arc<StanzaSender>) {
        self.out = Outgoing::start(sender.clone());
        self.sender = sender;
        self.in_flight.clear();
        self.online = false;
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
            self.emit(UpdateKind::Failed(
                super::insecure::Insecure::BoundAs(bound.to_string()).error(),
            ));
            return;
        }
        self.proto.reset(bound.clone());
        self.upload_reset();
        self.tools_reset();
        self.omemo_on_reset().await;
        self.avatars_reset().await;
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
        let presence = self.own_presence();
        self.send(presence).await;
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
        let blocking = xmpp::blocking::discover(&mut self.proto);
        self.send(blocking).await;
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
        self.flush_changes(None).await;
        let abandoned = self.sync.abandon_older();
        self.run_sync(abandoned).await;
        self.rooms_on_reset().await;
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
        self.flush_changes(None).await;
    }

    async fn on_command(&mut self, command: Command) {
        match command {
            Command::SendChat { to, body, id } => self.send_chat(to, body, id, None).await,
            Command::SetPresence { show, status } => {
                self.presence = (show, status);
                let presence = self.own_presence();
                self.send(presence).await;
            }
            roster @ (Command::AddContact { .. }
            | Command::RemoveContact { .. }
            | Command::AnswerSubscription { .. }
            | Command::SetContactGroups { .. }
            | Command::RenameGroup { .. }) => self.on_roster_command(roster).await,
            Command::Resend { id } => self.resend(id).await,
            Command::MarkDisplayed { peer, id } => self.mark_displayed(peer, id).await,
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
            Command::OmemoStatus { peer } => self.omemo_status(peer).await,
            Command::OmemoAcceptKey {
                peer,
                jid,
                device,
                fingerprint,
            } => self.omemo_accept_key(peer, jid, device, fingerprint).await,
            block @ (Command::Block { .. } | Command::Unblock { .. }) => {
                self.on_block_command(block).await
            }
            Command::Correct {
                conversation,
                target,
                body,
                id,
            } => self.correct(conversation, target, body, id).await,
            Command::React {
                conversation,
                target,
                emojis,
            } => self.react(conversation, target, emojis).await,
            Command::Retract {
                conversation,
                target,
            } => self.retract(conversation, target).await,
            Command::Moderate {
                room,
                target,
                reason,
            } => self.moderate(room, target, reason).await,
            Command::Reply {
                conversation,
                to,
                body,
                id,
            } => self.reply(conversation, to, body, id).await,
            Command::SendChatState {
                conversation,
                state,
            } => self.send_chat_state(conversation, state).await,
            Command::PublishAvatar { picture } => self.publish_avatar(picture).await,
            room => self.on_room_command(room).await,
        }
    }
}
