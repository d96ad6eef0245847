//! Room archive catch-up (XEP-0313 on the room): forward from the last stored archive
//! id, or the newest pages backwards for a room with no local history. Live messages
//! that arrive meanwhile wait, so history keeps the archive's order. Also single pages
//! of older history, on request (`Command::RoomLoadOlder`).

use super::super::Actor;
use super::{RoomCatchUp, cursor_key};
use crate::ids::ConversationId;
use crate::model::ChatMessage;
use crate::session::UpdateKind;
use crate::session::order::Walk;
use crate::store::Inserted;
use tokio_xmpp::parsers::jid::BareJid;

/// Most archive pages fetched backwards when a room has no local history yet.
const MAX_ROOM_PAGES: u32 = 40;

impl Actor {
    pub(super) async fn start_room_catch_up(&mut self, room: BareJid) {
        let key = cursor_key(&self.account, &room);
        let cursor = match self.with_store(move |s| s.pref(&key)).await {
            Some(Ok(c)) => c,
            _ => None,
        };
        let from = match cursor {
            Some(id) => crate::xmpp::mam::From::After(id),
            None => crate::xmpp::mam::From::Newest,
        };
        // Pages continue each other in the store's order (live messages wait meanwhile).
        self.start_walk(Walk::Room(room.clone()), None).await;
        self.query_room_archive(room, from, 0, false).await;
    }

    /// One page of the room's archive before `before` (the newest page when `None`).
    pub(super) async fn load_older(&mut self, room: BareJid, before: Option<String>) {
        let from = match before {
            Some(id) => crate::xmpp::mam::From::Before(id),
            None => crate::xmpp::mam::From::Newest,
        };
        self.query_room_archive(room, from, 0, true).await;
    }

    /// Pages of older history asked for longer than `OLDER_WAIT` ago count as failed:
    /// said so, so they can be asked again.
    pub(in crate::session::actor) fn expire_room_older(&mut self) {
        let wait = crate::session::history_sync::OLDER_WAIT;
        let late: Vec<String> = self
            .rooms
            .catch_up
            .iter()
            .filter(|(_, c)| c.older && c.asked.elapsed() > wait)
            .map(|(id, _)| id.clone())
            .collect();
        for id in late {
            if let Some(c) = self.rooms.catch_up.remove(&id) {
                log::warn!("{}: no older archive page of {} in time", self.own, c.room);
                self.emit(UpdateKind::RoomOlder {
                    room: c.room,
                    messages: Vec::new(),
                    first: None,
                    complete: false,
                });
            }
        }
    }

    /// A new stream: pages of older history asked for are not coming; say so, so the
    /// room can be asked again.
    pub(super) fn abandon_older(&mut self) {
        for c in self.rooms.catch_up.values().filter(|c| c.older) {
            self.emit(UpdateKind::RoomOlder {
                room: c.room.clone(),
                messages: Vec::new(),
                first: None,
                complete: false,
            });
        }
    }

    async fn query_room_archive(
        &mut self,
        room: BareJid,
        from: crate::xmpp::mam::From,
        pages: u32,
        older: bool,
    ) {
        let (queryid, st) = self.proto.muc_mam_query(&room, from);
        self.rooms.catch_up.insert(
            queryid,
            RoomCatchUp {
                room,
                batch: Vec::new(),
                pages,
                older,
                asked: std::time::Instant::now(),
            },
        );
        self.send(st).await;
    }

    /// A page of older history arrived: store what is new (not as unread), then show it.
    async fn on_older_page(
        &mut self,
        room: BareJid,
        batch: Vec<ChatMessage>,
        first: Option<String>,
        complete: bool,
        failed: bool,
    ) {
        let walk = Walk::Older(ConversationId::Room(room.clone()));
        let stored = if batch.is_empty() {
            Some(Ok(Vec::new()))
        } else {
            self.store_walk_page(walk, batch.clone(), batch.len()).await
        };
        let messages = match stored {
            Some(Ok(results)) => Inserted::only_new(batch, results),
            None => batch,
            Some(Err(e)) => {
                log::error!("could not store older room history: {e}");
                Vec::new()
            }
        };
        if failed {
            log::warn!("{}: older archive page of {room} failed", self.own);
        }
        self.emit(UpdateKind::RoomOlder {
            room,
            messages,
            first: if failed { None } else { first },
            complete: complete && !failed,
        });
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn on_room_archive_page(
        &mut self,
        room: BareJid,
        queryid: String,
        backward: bool,
        complete: bool,
        first: Option<String>,
        last: Option<String>,
        failed: bool,
    ) {
        let Some(catch_up) = self.rooms.catch_up.remove(&queryid) else {
            return;
        };
        if catch_up.room != room {
            return;
        }
        if catch_up.older {
            self.on_older_page(room, catch_up.batch, first, complete, failed)
                .await;
            return;
        }
        let batch = catch_up.batch;
        log::debug!(
            "{}: archive page {} of {room} ({} messages, backward {backward}, complete {complete}, failed {failed})",
            self.own,
            catch_up.pages,
            batch.len()
        );
        // Our own messages the room took while we were away: confirmed now.
        let reflections: Vec<_> = batch
            .iter()
            .filter(|m| m.direction == crate::model::Direction::Outgoing && m.origin_id.is_some())
            .map(|m| m.id.clone())
            .collect();
        // The newest page and forward pages continue each other; pages before the
        // newest go before it.
        let walk = if backward && catch_up.pages > 0 {
            Walk::Older(ConversationId::Room(room.clone()))
        } else {
            Walk::Room(room.clone())
        };
        let stored = if batch.is_empty() {
            Some(Ok(Vec::new()))
        } else {
            let news_from = if backward { batch.len() } else { 0 };
            self.store_walk_page(walk, batch.clone(), news_from).await
        };
        let new: Vec<ChatMessage> = match stored {
            Some(Ok(results)) => Inserted::only_new(batch, results),
            None => batch,
            Some(Err(e)) => {
                log::error!("could not store room history: {e}");
                self.emit(UpdateKind::Notice(format!(
                    "Messages from the archive of {room} could not be saved: {e}"
                )));
                return;
            }
        };
        for id in reflections {
            self.on_delivery(id, crate::model::Delivery::Delivered, Some(room.clone()))
                .await;
        }
        if backward {
            let (account, conversation) = (
                self.account.clone(),
                crate::ids::ConversationId::Room(room.clone()),
            );
            if let Some(Err(e)) = self
                .with_store(move |s| s.mark_read(&account, &conversation))
                .await
            {
                log::warn!("could not mark room history read: {e}");
            }
            if !new.is_empty() {
                self.emit(UpdateKind::History(new));
            }
        } else {
            for m in new {
                self.emit(UpdateKind::Message(m));
            }
        }
        if failed {
            log::warn!("{}: archive of {room} failed; catch-up stopped", self.own);
            self.release_held(&room).await;
            return;
        }
        let cursor = if backward && catch_up.pages > 0 {
            None
        } else {
            last.clone()
        };
        if let Some(id) = cursor {
            let key = cursor_key(&self.account, &room);
            if let Some(Err(e)) = self.with_store(move |s| s.set_pref(&key, &id)).await {
                log::warn!("could not save the room archive position: {e}");
            }
        }
        let pages = catch_up.pages + 1;
        // Forward pages fill the gap since our last message: all of it. Backward pages
        // (no local history yet) stop after a while; older history loads on demand.
        if complete || (backward && pages >= MAX_ROOM_PAGES) {
            self.release_held(&room).await;
            return;
        }
        match (backward, first, last) {
            (false, _, Some(last)) => {
                self.query_room_archive(room, crate::xmpp::mam::From::After(last), pages, false)
                    .await
            }
            (true, Some(first), _) => {
                self.query_room_archive(room, crate::xmpp::mam::From::Before(first), pages, false)
                    .await
            }
            _ => self.release_held(&room).await,
        }
    }

    /// The archive is caught up: store the live messages that waited for it.
    pub(super) async fn release_held(&mut self, room: &BareJid) {
        for m in self.rooms.held.remove(room).unwrap_or_default() {
            self.store_room_message(m).await;
        }
        // Then what we wrote while out of the room and it never confirmed.
        self.flush_room_outbox(room).await;
        self.flush_changes(Some(room)).await;
    }
}
