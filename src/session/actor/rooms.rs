//! Group chat in the session: joins and rejoins (after a new stream, a lost room, a
//! service restart), self-ping (XEP-0410) of quiet rooms, room archive catch-up since
//! the last stored message, the room outbox (acknowledged by the room's reflection),
//! and bookmarks with autojoin.

mod archive;

use super::{Actor, now_ms};
use crate::ids::ConversationId;
use crate::model::{ChatMessage, Delivery, Direction};
use crate::session::rooms::RoomUpdate;
use crate::session::{Command, UpdateKind};
use crate::xmpp;
use crate::xmpp::bookmarks::{Bookmark, BookmarkEvent};
use crate::xmpp::muc::{self, Departure, Exit, MucError, MucEvent};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio_xmpp::parsers::jid::BareJid;

/// How often the session looks at its rooms (rejoins due, pings due).
pub(super) const TICK: Duration = Duration::from_secs(5);
/// A room silent this long gets a self-ping.
const PING_IDLE: Duration = Duration::from_secs(120);
/// No answer to a self-ping in this time: the room is lost, rejoin.
const PING_TIMEOUT: Duration = Duration::from_secs(30);
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// A room the user wants to be in.
struct Wanted {
    nick: String,
    password: Option<String>,
    joined: bool,
    /// The last join was ours, not the user's (rejoin after trouble).
    automatic: bool,
    last_seen: Instant,
    ping_sent: Option<Instant>,
    backoff: Duration,
    rejoin_at: Option<Instant>,
}

struct RoomCatchUp {
    room: BareJid,
    batch: Vec<ChatMessage>,
    pages: u32,
    /// One page of older history the user asked for (not a catch-up: live messages
    /// do not wait for it).
    older: bool,
    /// When it was asked (pages of older history give up after `history_sync::OLDER_WAIT`).
    asked: std::time::Instant,
}

#[derive(Default)]
pub(super) struct SessionRooms {
    wanted: HashMap<BareJid, Wanted>,
    catch_up: HashMap<String, RoomCatchUp>,
    /// Live messages that came while the room's archive was being fetched: stored
    /// after it, so history keeps the archive's order (and duplicates fold).
    held: HashMap<BareJid, Vec<ChatMessage>>,
    bookmarks: HashMap<BareJid, Bookmark>,
}

fn cursor_key(account: &crate::ids::AccountId, room: &BareJid) -> String {
    format!("muc-cursor:{account}:{room}")
}

impl Actor {
    fn emit_room(&self, update: RoomUpdate) {
        self.emit(UpdateKind::Room(update));
    }

    async fn join_room(&mut self, room: BareJid) {
        let Some(w) = self.rooms.wanted.get_mut(&room) else {
            return;
        };
        w.joined = false;
        w.ping_sent = None;
        w.rejoin_at = None;
        let (nick, password) = (w.nick.clone(), w.password.clone());
        for st in self
            .proto
            .muc_join(room.clone(), &nick, password.as_deref())
        {
            self.send(st).await;
        }
        self.emit_room(RoomUpdate::Joining { room, nick });
    }

    /// A new stream (not resumed): we are in no room any more. Rejoin what we were in,
    /// and fetch the bookmarks (which autojoin the rest).
    pub(super) async fn rooms_on_reset(&mut self) {
        self.abandon_older();
        self.rooms.catch_up.clear();
        let held: Vec<BareJid> = self.rooms.held.keys().cloned().collect();
        for room in held {
            self.release_held(&room).await;
        }
        let rooms: Vec<BareJid> = self.rooms.wanted.keys().cloned().collect();
        for room in rooms {
            if let Some(w) = self.rooms.wanted.get_mut(&room) {
                w.automatic = true;
            }
            self.join_room(room).await;
        }
        let fetch = self.proto.bookmarks_fetch();
        self.send(fetch).await;
    }

    pub(super) async fn on_room_command(&mut self, command: Command) {
        match command {
            Command::JoinRoom {
                room,
                nick,
                password,
            } => {
                self.rooms.wanted.insert(
                    room.clone(),
                    Wanted {
                        nick,
                        password,
                        joined: false,
                        automatic: false,
                        last_seen: Instant::now(),
                        ping_sent: None,
                        backoff: FIRST_BACKOFF,
                        rejoin_at: None,
                    },
                );
                self.join_room(room).await;
            }
            Command::LeaveRoom { room } => {
                self.rooms.wanted.remove(&room);
                match self.proto.muc_leave(&room) {
                    Some(st) => {
                        self.send(st).await;
                    }
                    None => self.emit_room(RoomUpdate::Left {
                        room: room.clone(),
                        departure: Departure {
                            exit: Exit::Left,
                            reason: None,
                            actor: None,
                        },
                        rejoin_in_secs: None,
                    }),
                }
                // Keep the bookmark, but do not come back by itself.
                self.set_autojoin(room, false).await;
            }
            Command::ForgetBookmark { room } => {
                if self.rooms.bookmarks.remove(&room).is_some() {
                    let st = self.proto.bookmark_retract(&room);
                    self.send(st).await;
                    self.emit_bookmarks();
                }
            }
            Command::SetBookmarkAutojoin { room, autojoin } => {
                self.set_autojoin(room, autojoin).await;
            }
            Command::SendRoom { room, body, id } => {
                self.send_room(room, body, id, None, None).await
            }
            Command::SendRoomAttachment {
                room,
                attachment,
                id,
            } => {
                let body = attachment.url.clone();
                self.send_room(room, body, id, Some(attachment), None).await
            }
            Command::RoomLoadOlder { room, before } => self.load_older(room, before).await,
            Command::SetSubject { room, subject } => {
                self.send(muc::subject(room, &subject)).await;
            }
            Command::ChangeNick { room, nick } => {
                if let Some(st) = muc::change_nick(&room, &nick) {
                    self.send(st).await;
                }
            }
            Command::InviteToRoom {
                room,
                to,
                reason,
                direct,
            } => {
                let st = if direct {
                    let password = self
                        .rooms
                        .wanted
                        .get(&room)
                        .and_then(|w| w.password.clone());
                    muc::direct_invite(to, &room, reason.as_deref(), password.as_deref())
                } else {
                    muc::mediated_invite(room, &to, reason.as_deref())
                };
                self.send(st).await;
            }
            Command::DeclineInvite { room, inviter } => {
                self.send(muc::decline(room, &inviter)).await;
            }
            Command::ConfigureRoom { room, fields } => {
                let st = self.proto.muc_configure(&room, &fields);
                self.send(st).await;
            }
            Command::KickOccupant { room, nick, reason } => {
                let st = self.proto.muc_kick(&room, &nick, reason.as_deref());
                self.send(st).await;
            }
            Command::SetRole {
                room,
                nick,
                role,
                reason,
            } => {
                let st = self
                    .proto
                    .muc_set_role(&room, &nick, role, reason.as_deref());
                self.send(st).await;
            }
            Command::DestroyRoom { room, reason } => {
                let st = self.proto.muc_destroy(&room, reason.as_deref());
                self.send(st).await;
            }
            Command::SetAffiliation {
                room,
                jid,
                affiliation,
                reason,
            } => {
                let st =
                    self.proto
                        .muc_set_affiliation(&room, &jid, affiliation, reason.as_deref());
                self.send(st).await;
            }
            other => self.on_tool_command(other).await,
        }
    }

    /// Our nick in `room`: the one the room gave us, else the one we asked for.
    /// `jid` is a room we are in, joining, or have bookmarked (not a contact).
    pub(super) fn is_known_room(&self, jid: &BareJid) -> bool {
        self.proto.rooms.get(jid).is_some()
            || self.rooms.wanted.contains_key(jid)
            || self.rooms.bookmarks.contains_key(jid)
    }

    pub(super) fn own_nick_in(&self, room: &BareJid) -> Option<String> {
        self.proto
            .rooms
            .get(room)
            .map(|r| r.nick.clone())
            .or_else(|| self.rooms.wanted.get(room).map(|w| w.nick.clone()))
            .filter(|n| !n.is_empty())
    }

    /// Stored first (it is in the outbox until the room reflects it), sent when joined.
    /// With an `attachment`, `body` is its URL and the message carries an OOB element.
    pub(super) async fn send_room(
        &mut self,
        room: BareJid,
        body: String,
        id: crate::ids::LocalMessageId,
        attachment: Option<crate::model::Attachment>,
        reply: Option<crate::model::ReplyTo>,
    ) {
        let body = body.trim_end().to_owned();
        if body.trim().is_empty() {
            return;
        }
        let nick = self
            .rooms
            .wanted
            .get(&room)
            .map(|w| w.nick.clone())
            .unwrap_or_default();
        let now = now_ms();
        let message = ChatMessage {
            truncated: false,
            extras: crate::model::Extras {
                reply_to: reply.clone(),
                ..Default::default()
            },
            id: id.clone(),
            account: self.account.clone(),
            conversation: ConversationId::Room(room.clone()),
            direction: Direction::Outgoing,
            sender: nick,
            body: body.clone(),
            // Whole seconds, like room archives (see xmpp::muc).
            timestamp_ms: now - now.rem_euclid(1000),
            stanza_id_attr: Some(id.0.clone()),
            origin_id: Some(id.0.clone()),
            server_id: None,
            delivery: Delivery::Pending,
            attachment: attachment.map(Box::new),
        };
        let oob = message.attachment.as_ref().map(|a| a.url.clone());
        if !self.store_message(message).await {
            return;
        }
        if self.proto.rooms.get(&room).is_some_and(|r| r.joined) {
            let to = ConversationId::Room(room.clone());
            if let Some(st) =
                xmpp::message::compose(&to, &body, &id, oob.as_deref(), reply.as_ref())
                // Encrypted (or held, or refused) by OMEMO in a private room.
                && let Some(st) = self.omemo_room_outgoing(&room, st, &id).await
            {
                self.send(st).await;
            }
        }
    }

    /// Sends the room's unconfirmed messages (written while out of the room).
    pub(super) async fn flush_room_outbox(&mut self, room: &BareJid) {
        let account = self.account.clone();
        let Some(Ok(pending)) = self.with_store(move |s| s.outbox(&account)).await else {
            return;
        };
        for m in pending {
            if m.conversation.is_room() && m.peer() == room && m.delivery == Delivery::Pending {
                let oob = m.attachment.as_ref().map(|a| a.url.as_str());
                let to = ConversationId::Room(room.clone());
                if let Some(st) =
                    xmpp::message::compose(&to, &m.body, &m.id, oob, m.extras.reply_to.as_ref())
                    && let Some(st) = self.omemo_room_outgoing(room, st, &m.id).await
                {
                    self.send(st).await;
                }
            }
        }
    }

    /// A live groupchat message: dedupe, store, show; our own reflection confirms ours.
    pub(super) async fn on_room_message(&mut self, message: ChatMessage) {
        let room = message.peer().clone();
        if let Some(w) = self.rooms.wanted.get_mut(&room) {
            w.last_seen = Instant::now();
        }
        if self
            .rooms
            .catch_up
            .values()
            .any(|c| c.room == room && !c.older)
        {
            self.rooms.held.entry(room).or_default().push(message);
            return;
        }
        self.store_room_message(message).await;
    }

    pub(super) async fn store_room_message(&mut self, message: ChatMessage) {
        let room = message.peer().clone();
        let reflection = message.direction == Direction::Outgoing && message.origin_id.is_some();
        let (id, server_id) = (message.id.clone(), message.server_id.clone());
        if !self.store_message(message).await {
            return;
        }
        if let Some(sid) = server_id {
            let key = cursor_key(&self.account, &room);
            if let Some(Err(e)) = self.with_store(move |s| s.set_pref(&key, &sid)).await {
                log::warn!("could not save the room archive position: {e}");
            }
        }
        if reflection {
            self.on_delivery(id, Delivery::Delivered, Some(room)).await;
        }
    }

    /// Lost a room without being told to go: rejoin later, with growing waits.
    fn schedule_rejoin(&mut self, room: &BareJid) -> Option<u64> {
        let w = self.rooms.wanted.get_mut(room)?;
        w.joined = false;
        let wait = w.backoff;
        w.backoff = (w.backoff * 2).min(MAX_BACKOFF);
        w.rejoin_at = Some(Instant::now() + wait);
        w.automatic = true;
        Some(wait.as_secs())
    }

    pub(super) async fn on_muc(&mut self, event: MucEvent) {
        match event {
            MucEvent::Joined {
                room,
                nick,
                occupants,
                created,
            } => {
                let password = match self.rooms.wanted.get_mut(&room) {
                    Some(w) => {
                        w.joined = true;
                        w.automatic = false;
                        w.backoff = FIRST_BACKOFF;
                        w.nick = nick.clone();
                        w.last_seen = Instant::now();
                        w.password.clone()
                    }
                    None => None,
                };
                self.omemo_room_joined(&room, &occupants).await;
                self.emit_room(RoomUpdate::Joined {
                    room: room.clone(),
                    nick: nick.clone(),
                    occupants,
                });
                if created {
                    self.emit_room(RoomUpdate::Created { room: room.clone() });
                }
                // A room that did not exist when we asked before joining (we created it,
                // or it was gone) could not say it stamps stanza-ids: ask again, or its
                // messages would not be recognised in its archive (stored twice).
                if !self.proto.muc_trusts_ids(&room) {
                    let info = self.proto.muc_info(&room);
                    self.send(info).await;
                }
                let bookmarked = self.rooms.bookmarks.get(&room).is_some_and(|b| {
                    b.autojoin && b.nick.as_deref() == Some(&nick) && b.password == password
                });
                if !bookmarked {
                    let name = self.rooms.bookmarks.get(&room).and_then(|b| b.name.clone());
                    let b = Bookmark {
                        room: room.clone(),
                        name,
                        nick: Some(nick),
                        password,
                        autojoin: true,
                    };
                    self.rooms.bookmarks.insert(room.clone(), b.clone());
                    let st = self.proto.bookmark_publish(&b);
                    self.send(st).await;
                    self.emit_bookmarks();
                }
                // The outbox goes out once the catch-up ended (`release_held`): a message
                // the room took before we lost it comes back in the archive and is then
                // confirmed, not sent twice.
                self.start_room_catch_up(room).await;
            }
            MucEvent::JoinFailed { room, error } => {
                let automatic = self.rooms.wanted.get(&room).is_some_and(|w| w.automatic);
                let retry =
                    automatic && matches!(error, MucError::ServiceUnavailable | MucError::Other(_));
                if retry && let Some(secs) = self.schedule_rejoin(&room) {
                    self.emit_room(RoomUpdate::Left {
                        room,
                        departure: Departure {
                            exit: Exit::Lost,
                            reason: Some(error.to_string()),
                            actor: None,
                        },
                        rejoin_in_secs: Some(secs),
                    });
                } else {
                    self.rooms.wanted.remove(&room);
                    self.emit_room(RoomUpdate::JoinFailed { room, error });
                }
            }
            MucEvent::Occupant {
                room,
                occupant,
                joined,
            } => {
                self.seen(&room);
                self.omemo_room_occupant(&room, &occupant).await;
                self.emit_room(RoomUpdate::Occupant {
                    room,
                    occupant,
                    joined,
                })
            }
            MucEvent::OccupantLeft {
                room,
                nick,
                departure,
            } => {
                self.seen(&room);
                self.emit_room(RoomUpdate::OccupantLeft {
                    room,
                    nick,
                    departure,
                })
            }
            MucEvent::NickChanged {
                room,
                old,
                new,
                own,
            } => {
                if own && let Some(w) = self.rooms.wanted.get_mut(&room) {
                    w.nick = new.clone();
                }
                self.emit_room(RoomUpdate::NickChanged {
                    room,
                    old,
                    new,
                    own,
                })
            }
            MucEvent::Left { room, departure } => {
                self.room_faces_left(&room);
                let rejoin = match departure.exit {
                    Exit::Shutdown | Exit::Lost => self.schedule_rejoin(&room),
                    _ => {
                        self.rooms.wanted.remove(&room);
                        None
                    }
                };
                self.emit_room(RoomUpdate::Left {
                    room,
                    departure,
                    rejoin_in_secs: rejoin,
                });
            }
            MucEvent::Subject { room, subject, by } => {
                self.emit_room(RoomUpdate::Subject { room, subject, by })
            }
            MucEvent::Refused { room, error } => {
                self.emit_room(RoomUpdate::Refused { room, error })
            }
            MucEvent::Features {
                room,
                subject_open,
                private,
                avatar,
                ..
            } => {
                self.omemo_room_features(&room, private).await;
                if let Some(hash) = avatar {
                    self.room_avatar_announced(room.clone(), hash).await;
                }
                self.emit_room(RoomUpdate::Info { room, subject_open })
            }
            MucEvent::Archived {
                queryid, message, ..
            } => {
                if let Some(c) = self.rooms.catch_up.get_mut(&queryid) {
                    c.batch.push(*message);
                }
            }
            MucEvent::ArchivePage {
                room,
                queryid,
                backward,
                complete,
                first,
                last,
                failed,
            } => {
                self.on_room_archive_page(room, queryid, backward, complete, first, last, failed)
                    .await
            }
            MucEvent::SelfPing { room, joined } => {
                if let Some(w) = self.rooms.wanted.get_mut(&room) {
                    w.ping_sent = None;
                    w.last_seen = Instant::now();
                }
                if !joined {
                    self.room_lost(room).await;
                }
            }
            MucEvent::Invitation(i) => self.emit_room(RoomUpdate::Invitation(i)),
            MucEvent::Bookmarks(b) => self.on_bookmarks(b).await,
        }
    }

    fn seen(&mut self, room: &BareJid) {
        if let Some(w) = self.rooms.wanted.get_mut(room) {
            w.last_seen = Instant::now();
        }
    }

    /// The room forgot us (failed self-ping): say so and rejoin at once.
    async fn room_lost(&mut self, room: BareJid) {
        log::info!("{}: no longer in {room}; rejoining", self.own);
        self.proto.muc_forget(&room);
        self.emit_room(RoomUpdate::Left {
            room: room.clone(),
            departure: Departure {
                exit: Exit::Lost,
                reason: None,
                actor: None,
            },
            rejoin_in_secs: Some(0),
        });
        if let Some(w) = self.rooms.wanted.get_mut(&room) {
            w.automatic = true;
        }
        self.join_room(room).await;
    }

    /// Changes a bookmark's autojoin (published, and the new list shown).
    async fn set_autojoin(&mut self, room: BareJid, autojoin: bool) {
        if let Some(mut b) = self.rooms.bookmarks.get(&room).cloned()
            && b.autojoin != autojoin
        {
            b.autojoin = autojoin;
            self.rooms.bookmarks.insert(room, b.clone());
            let st = self.proto.bookmark_publish(&b);
            self.send(st).await;
            self.emit_bookmarks();
        }
    }

    /// The bookmark list as the session knows it, sorted by room.
    fn emit_bookmarks(&self) {
        let mut list: Vec<Bookmark> = self.rooms.bookmarks.values().cloned().collect();
        list.sort_by(|a, b| a.room.cmp(&b.room));
        self.emit_room(RoomUpdate::Bookmarks(list));
    }

    async fn on_bookmarks(&mut self, event: BookmarkEvent) {
        let mut autojoin = Vec::new();
        match event {
            BookmarkEvent::All(all) => {
                self.rooms.bookmarks = all.iter().map(|b| (b.room.clone(), b.clone())).collect();
                autojoin.extend(all.into_iter().filter(|b| b.autojoin));
            }
            BookmarkEvent::Changed(b) => {
                self.rooms.bookmarks.insert(b.room.clone(), b.clone());
                if b.autojoin {
                    autojoin.push(b);
                }
            }
            BookmarkEvent::Removed(room) => {
                self.rooms.bookmarks.remove(&room);
            }
            BookmarkEvent::Failed(why) => {
                self.emit(UpdateKind::Notice(format!(
                    "The room bookmark could not be saved: {why}"
                )));
                return;
            }
        }
        self.emit_bookmarks();
        let default_nick = self
            .own
            .node()
            .map(|n| n.to_string())
            .unwrap_or_else(|| "me".to_owned());
        for b in autojoin {
            if self.rooms.wanted.contains_key(&b.room) {
                continue;
            }
            self.rooms.wanted.insert(
                b.room.clone(),
                Wanted {
                    nick: b.nick.clone().unwrap_or_else(|| default_nick.clone()),
                    password: b.password.clone(),
                    joined: false,
                    automatic: true,
                    last_seen: Instant::now(),
                    ping_sent: None,
                    backoff: FIRST_BACKOFF,
                    rejoin_at: None,
                },
            );
            self.join_room(b.room).await;
        }
    }

    /// Every few seconds: rejoin rooms whose wait is over; self-ping quiet rooms; treat
    /// an unanswered ping as a lost room.
    pub(super) async fn rooms_tick(&mut self) {
        let late = self.sync.expire_older(Instant::now());
        self.run_sync(late).await;
        self.expire_room_older();
        if self.proto.bound.is_none() {
            return;
        }
        let now = Instant::now();
        let mut rejoin = Vec::new();
        let mut lost = Vec::new();
        let mut ping = Vec::new();
        for (room, w) in &self.rooms.wanted {
            if !w.joined {
                if w.rejoin_at.is_some_and(|t| t <= now) {
                    rejoin.push(room.clone());
                }
            } else if let Some(sent) = w.ping_sent {
                if now.duration_since(sent) > PING_TIMEOUT {
                    lost.push(room.clone());
                }
            } else if now.duration_since(w.last_seen) > PING_IDLE {
                ping.push(room.clone());
            }
        }
        let mut done = HashSet::new();
        for room in rejoin {
            if done.insert(room.clone()) {
                self.proto.muc_forget(&room);
                self.join_room(room).await;
            }
        }
        for room in lost {
            self.room_lost(room).await;
        }
        for room in ping {
            if let Some(st) = self.proto.muc_self_ping(&room) {
                if let Some(w) = self.rooms.wanted.get_mut(&room) {
                    w.ping_sent = Some(now);
                }
                self.send(st).await;
            }
        }
    }
}
