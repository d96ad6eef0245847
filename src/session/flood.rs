//! A flood must not fill the channel to the UI (issue #20, weakness 9).
//!
//! The channel from a session to the UI is unbounded on purpose (a slow frame must
//! never stall the socket), so it is bounded by what goes in: the session counts the
//! updates the UI has not taken yet ([`Outlet::backlog`]). While more than
//! [`PRESENCE_BACKLOG`] wait, updates where only the latest matters are held back in
//! [`Held`] instead, one per subject, a newer one replacing the older; they go out as
//! the UI catches up ([`Outlet::release`]). They are:
//! - a contact's presence (per full address);
//! - a room occupant's presence, joining or leaving (per room and nick; "joined" is
//!   kept when a later change of the same occupant replaces it);
//! - a room's subject (per room);
//! - someone's typing state (per conversation and nick); a message from them ends it.
//!
//! At most [`MAX_HELD`] are held: beyond that a flood's updates are dropped (and
//! counted). Messages and everything else always go through at once: messages are
//! stored before they are sent, and never dropped. A room update that changes who is
//! who (joined, left, a nick change, …) first lets out what is held for that room, so
//! the UI sees the room's changes in order.

use super::{Update, UpdateKind};
use crate::ids::ConversationId;
use crate::session::rooms::RoomUpdate;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use xmpp_parsers::jid::{BareJid, Jid};

/// Updates the UI may have waiting before updates are held back.
pub const PRESENCE_BACKLOG: usize = 512;
/// Updates held back at most (one per subject).
pub const MAX_HELD: usize = 4096;

/// The sending end of the channel to the UI, counting what waits in it and holding
/// back what can wait (see the module documentation).
#[derive(Debug, Clone)]
pub struct Outlet {
    tx: mpsc::UnboundedSender<Update>,
    backlog: Arc<AtomicUsize>,
    held: Arc<Mutex<Held>>,
}

impl Outlet {
    /// An outlet and the count its receiver decreases (see [`Outlet::taken`]).
    pub fn new(tx: mpsc::UnboundedSender<Update>) -> (Outlet, Arc<AtomicUsize>) {
        let backlog = Arc::new(AtomicUsize::new(0));
        (
            Outlet {
                tx,
                backlog: backlog.clone(),
                held: Arc::default(),
            },
            backlog,
        )
    }

    /// Sends `update`, or holds it back while the UI is behind (or while older ones
    /// are held, so the order per subject holds).
    pub fn send(&self, update: Update) {
        let Ok(mut held) = self.held.lock() else {
            self.push(update);
            return;
        };
        if let Some(key) = key_of(&update.kind) {
            if held.is_empty() && self.backlog() < PRESENCE_BACKLOG {
                self.push(update);
            } else {
                held.hold(key, update);
            }
            return;
        }
        if let Some(room) = barrier_room(&update.kind) {
            for earlier in held.take_room(room) {
                self.push(earlier);
            }
        }
        if let UpdateKind::Message(m) = &update.kind {
            held.typing_ended(m);
        }
        self.push(update);
    }

    fn push(&self, update: Update) {
        if self.tx.send(update).is_ok() {
            self.backlog.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Sends as many held updates as the UI has room for.
    pub fn release(&self) {
        let Ok(mut held) = self.held.lock() else {
            return;
        };
        if held.is_empty() {
            return;
        }
        let room = PRESENCE_BACKLOG.saturating_sub(self.backlog());
        for update in held.release(room) {
            self.push(update);
        }
    }

    /// Updates sent that the UI has not taken yet.
    pub fn backlog(&self) -> usize {
        self.backlog.load(Ordering::Relaxed)
    }

    /// Updates held back now.
    pub fn held(&self) -> usize {
        self.held.lock().map(|h| h.len()).unwrap_or(0)
    }

    /// Updates dropped because [`MAX_HELD`] were held.
    pub fn dropped(&self) -> u64 {
        self.held.lock().map(|h| h.dropped).unwrap_or(0)
    }

    /// The receiver took one update.
    pub fn taken(backlog: &AtomicUsize) {
        let _ = backlog.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            Some(n.saturating_sub(1))
        });
    }
}

/// What a held update is about: a newer update about the same replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Presence(Jid),
    Occupant(BareJid, String),
    Subject(BareJid),
    Typing(ConversationId, Option<String>),
}

impl Key {
    fn room(&self) -> Option<&BareJid> {
        match self {
            Key::Occupant(room, _) | Key::Subject(room) => Some(room),
            Key::Typing(ConversationId::Room(room), _) => Some(room),
            Key::Typing(ConversationId::Private { room, .. }, _) => Some(room),
            Key::Presence(_) | Key::Typing(..) => None,
        }
    }
}

/// The subject of an update where only the latest matters.
fn key_of(kind: &UpdateKind) -> Option<Key> {
    Some(match kind {
        UpdateKind::Presence { from, .. } => Key::Presence(from.clone()),
        UpdateKind::Room(RoomUpdate::Occupant { room, occupant, .. }) => {
            Key::Occupant(room.clone(), occupant.nick.clone())
        }
        UpdateKind::Room(RoomUpdate::OccupantLeft { room, nick, .. }) => {
            Key::Occupant(room.clone(), nick.clone())
        }
        UpdateKind::Room(RoomUpdate::Subject { room, .. }) => Key::Subject(room.clone()),
        UpdateKind::ChatState {
            conversation, nick, ..
        } => Key::Typing(conversation.clone(), nick.clone()),
        _ => return None,
    })
}

/// The room whose occupants an update changes wholesale (what is held for it goes
/// first).
fn barrier_room(kind: &UpdateKind) -> Option<&BareJid> {
    match kind {
        UpdateKind::Room(
            RoomUpdate::Joining { room, .. }
            | RoomUpdate::Joined { room, .. }
            | RoomUpdate::Created { room }
            | RoomUpdate::JoinFailed { room, .. }
            | RoomUpdate::NickChanged { room, .. }
            | RoomUpdate::Left { room, .. },
        ) => Some(room),
        _ => None,
    }
}

/// Updates held back while the UI is behind: the latest per subject, in the order
/// the subjects first came.
#[derive(Debug, Default)]
pub struct Held {
    latest: HashMap<Key, Update>,
    order: VecDeque<Key>,
    /// Updates dropped because [`MAX_HELD`] were held.
    pub dropped: u64,
}

impl Held {
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    fn hold(&mut self, key: Key, mut update: Update) {
        if let Some(slot) = self.latest.get_mut(&key) {
            // An occupant who came in during the flood still shows as having come in.
            if let (
                UpdateKind::Room(RoomUpdate::Occupant { joined: true, .. }),
                UpdateKind::Room(RoomUpdate::Occupant { joined, .. }),
            ) = (&slot.kind, &mut update.kind)
            {
                *joined = true;
            }
            *slot = update;
            return;
        }
        if self.order.len() >= MAX_HELD {
            self.dropped += 1;
            if self.dropped.is_power_of_two() {
                log::warn!("flood: {} updates dropped so far", self.dropped);
            }
            return;
        }
        self.order.push_back(key.clone());
        self.latest.insert(key, update);
    }

    /// Up to `n` held updates, oldest subject first.
    fn release(&mut self, n: usize) -> Vec<Update> {
        let mut out = Vec::new();
        while out.len() < n {
            let Some(key) = self.order.pop_front() else {
                break;
            };
            if let Some(update) = self.latest.remove(&key) {
                out.push(update);
            }
        }
        out
    }

    /// Everything held about `room`, in order.
    fn take_room(&mut self, room: &BareJid) -> Vec<Update> {
        let mut out = Vec::new();
        let latest = &mut self.latest;
        self.order.retain(|key| {
            if key.room() != Some(room) {
                return true;
            }
            out.extend(latest.remove(key));
            false
        });
        out
    }

    /// `message` arrived: its sender stopped typing it.
    fn typing_ended(&mut self, message: &crate::model::ChatMessage) {
        let conversation = message.conversation();
        let latest = &mut self.latest;
        self.order.retain(|key| match key {
            Key::Typing(c, nick)
                if *c == conversation && nick.as_ref().is_none_or(|n| *n == message.sender) =>
            {
                latest.remove(key);
                false
            }
            _ => true,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AccountId, LocalMessageId};
    use crate::model::{ChatMessage, Delivery, Direction, Show};
    use crate::session::ChatState;
    use crate::session::rooms::{Affiliation, Departure, Exit, Occupant, Role};

    fn jid(s: &str) -> Jid {
        Jid::new(s).unwrap_or_else(|_| unreachable!("{s}"))
    }

    fn bare(s: &str) -> BareJid {
        BareJid::new(s).unwrap_or_else(|_| unreachable!("{s}"))
    }

    fn update(kind: UpdateKind) -> Update {
        Update {
            account: AccountId("a".into()),
            kind,
        }
    }

    fn presence(from: &str, show: Show) -> Update {
        update(UpdateKind::Presence {
            from: jid(from),
            show,
            status: None,
        })
    }

    fn occupant(room: &BareJid, nick: &str, show: Show, joined: bool) -> Update {
        update(UpdateKind::Room(RoomUpdate::Occupant {
            room: room.clone(),
            occupant: Occupant {
                nick: nick.into(),
                role: Role::Participant,
                affiliation: Affiliation::None,
                real_jid: None,
                show,
            },
            joined,
        }))
    }

    fn typing(room: &BareJid, nick: &str, state: ChatState) -> Update {
        update(UpdateKind::ChatState {
            conversation: ConversationId::Room(room.clone()),
            nick: Some(nick.into()),
            state,
        })
    }

    fn room_message(room: &BareJid, nick: &str, body: &str) -> Update {
        update(UpdateKind::Message(ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: LocalMessageId(body.into()),
            account: AccountId("a".into()),
            conversation: ConversationId::Room(room.clone()),
            direction: Direction::Incoming,
            sender: nick.into(),
            body: body.into(),
            timestamp_ms: 0,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
        }))
    }

    /// Everything waiting, taken as the UI would.
    fn take_all(rx: &mut mpsc::UnboundedReceiver<Update>, backlog: &AtomicUsize) -> Vec<Update> {
        let mut out = Vec::new();
        while let Ok(u) = rx.try_recv() {
            Outlet::taken(backlog);
            out.push(u);
        }
        out
    }

    /// A flood of 100,000 presences while the UI takes nothing: the channel holds at
    /// most `PRESENCE_BACKLOG`, the held ones at most `MAX_HELD`, and what finally
    /// reaches the UI is each address's latest presence.
    #[test]
    fn a_presence_flood_is_bounded_and_the_latest_wins() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (outlet, backlog) = Outlet::new(tx);
        for i in 0..100_000u32 {
            let from = format!("c{}@x.org/r", i % 10_000);
            let show = if i >= 90_000 {
                Show::Away
            } else {
                Show::Online
            };
            outlet.send(presence(&from, show));
        }
        assert_eq!(outlet.backlog(), PRESENCE_BACKLOG);
        assert_eq!(outlet.held(), MAX_HELD);
        assert!(outlet.dropped() > 0);
        // The UI catches up, a batch at a time.
        let mut last: HashMap<Jid, Show> = HashMap::new();
        loop {
            let got = take_all(&mut rx, &backlog);
            for u in &got {
                if let UpdateKind::Presence { from, show, .. } = &u.kind {
                    last.insert(from.clone(), *show);
                }
            }
            outlet.release();
            if got.is_empty() && outlet.held() == 0 {
                break;
            }
        }
        assert_eq!(outlet.backlog(), 0);
        let away = last.values().filter(|s| **s == Show::Away).count();
        assert_eq!(
            away, MAX_HELD,
            "held addresses end with their latest presence"
        );
    }

    #[test]
    fn without_a_backlog_presences_go_straight_through() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (outlet, backlog) = Outlet::new(tx);
        for _ in 0..10_000 {
            outlet.send(presence("b@x.org/r", Show::Online));
            assert!(rx.try_recv().is_ok());
            Outlet::taken(&backlog);
        }
        assert_eq!(outlet.held(), 0);
        assert_eq!(outlet.backlog(), 0);
    }

    /// A room flood while the UI takes nothing: 100,000 occupant presences from 2,000
    /// nicks, 10,000 subject changes and 10,000 typing states, with 1,000 messages among
    /// them. Without coalescing all 121,000 updates waited in the channel; now at most
    /// `PRESENCE_BACKLOG` besides the messages, every message arrives (in order), and
    /// each occupant, the subject and the typing line end as they last were, with
    /// "joined" kept for those who came in during the flood.
    #[test]
    fn a_room_flood_is_coalesced_and_no_message_is_lost() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (outlet, backlog) = Outlet::new(tx);
        let room = bare("tea@rooms.x.org");
        let mut sent = 0usize;
        for i in 0..100_000u32 {
            let nick = format!("n{}", i % 2_000);
            let show = if i >= 98_000 {
                Show::Away
            } else {
                Show::Online
            };
            outlet.send(occupant(&room, &nick, show, i < 2_000));
            sent += 1;
            if i % 10 == 0 {
                outlet.send(update(UpdateKind::Room(RoomUpdate::Subject {
                    room: room.clone(),
                    subject: format!("subject {i}"),
                    by: None,
                })));
                outlet.send(typing(&room, "typist", ChatState::Composing));
                sent += 2;
            }
            if i % 100 == 0 {
                outlet.send(room_message(&room, "talker", &format!("m{i}")));
                sent += 1;
            }
        }
        let waiting = outlet.backlog();
        assert!(
            waiting <= PRESENCE_BACKLOG + 1_000,
            "{waiting} of {sent} updates waited"
        );
        let mut messages = Vec::new();
        let mut shows: HashMap<String, (Show, bool)> = HashMap::new();
        let mut subject = String::new();
        let mut typing_states = 0;
        loop {
            let got = take_all(&mut rx, &backlog);
            for u in &got {
                match &u.kind {
                    UpdateKind::Message(m) => messages.push(m.body.clone()),
                    UpdateKind::Room(RoomUpdate::Occupant {
                        occupant, joined, ..
                    }) => {
                        let was_joined = shows.get(&occupant.nick).is_some_and(|s| s.1);
                        shows.insert(
                            occupant.nick.clone(),
                            (occupant.show, *joined || was_joined),
                        );
                    }
                    UpdateKind::Room(RoomUpdate::Subject { subject: s, .. }) => subject = s.clone(),
                    UpdateKind::ChatState { .. } => typing_states += 1,
                    _ => {}
                }
            }
            outlet.release();
            if got.is_empty() && outlet.held() == 0 {
                break;
            }
        }
        let expected: Vec<String> = (0..100_000).step_by(100).map(|i| format!("m{i}")).collect();
        assert_eq!(messages, expected, "every message, in order");
        assert_eq!(shows.len(), 2_000);
        assert!(
            shows
                .values()
                .all(|(show, joined)| *show == Show::Away && *joined)
        );
        assert_eq!(subject, "subject 99990");
        assert!(
            typing_states < 1_000,
            "{typing_states} typing states reached the UI"
        );
        assert_eq!(outlet.dropped(), 0);
    }

    /// What is held about a room goes out before a change of who is who in it: an
    /// occupant's last presence before their nick change, a leave before a rejoin.
    #[test]
    fn held_room_updates_go_out_before_a_nick_change() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (outlet, backlog) = Outlet::new(tx);
        for i in 0..PRESENCE_BACKLOG {
            outlet.send(presence(&format!("c{i}@x.org/r"), Show::Online));
        }
        let room = bare("tea@rooms.x.org");
        outlet.send(occupant(&room, "old", Show::Away, false));
        outlet.send(update(UpdateKind::Room(RoomUpdate::OccupantLeft {
            room: room.clone(),
            nick: "gone".into(),
            departure: Departure {
                exit: Exit::Left,
                reason: None,
                actor: None,
            },
        })));
        outlet.send(update(UpdateKind::Room(RoomUpdate::NickChanged {
            room: room.clone(),
            old: "old".into(),
            new: "new".into(),
            own: false,
        })));
        let got = take_all(&mut rx, &backlog);
        let tail: Vec<String> = got[PRESENCE_BACKLOG..]
            .iter()
            .map(|u| match &u.kind {
                UpdateKind::Room(RoomUpdate::Occupant { occupant, .. }) => {
                    format!("occupant {}", occupant.nick)
                }
                UpdateKind::Room(RoomUpdate::OccupantLeft { nick, .. }) => format!("left {nick}"),
                UpdateKind::Room(RoomUpdate::NickChanged { old, new, .. }) => {
                    format!("{old} -> {new}")
                }
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(tail, ["occupant old", "left gone", "old -> new"]);
        assert_eq!(outlet.held(), 0);
    }

    /// A held "composing" never reaches the UI after the message it was for.
    #[test]
    fn a_message_ends_its_senders_held_typing() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (outlet, backlog) = Outlet::new(tx);
        for i in 0..PRESENCE_BACKLOG {
            outlet.send(presence(&format!("c{i}@x.org/r"), Show::Online));
        }
        let room = bare("tea@rooms.x.org");
        outlet.send(typing(&room, "bob", ChatState::Composing));
        outlet.send(typing(&room, "carol", ChatState::Composing));
        outlet.send(room_message(&room, "bob", "hi"));
        assert_eq!(outlet.held(), 1, "carol still types");
        let mut after = Vec::new();
        loop {
            let got = take_all(&mut rx, &backlog);
            outlet.release();
            if got.is_empty() && outlet.held() == 0 {
                break;
            }
            after.extend(got);
        }
        let typers: Vec<&Option<String>> = after
            .iter()
            .filter_map(|u| match &u.kind {
                UpdateKind::ChatState { nick, .. } => Some(nick),
                _ => None,
            })
            .collect();
        assert_eq!(typers, [&Some("carol".to_owned())]);
    }
}
