//! Stanzas in: each protocol event goes where it belongs; incoming chat messages are
//! stored (persist, then emit) before they are shown or receipted.

use super::{Actor, now_ms, sync};
use crate::ids::LocalMessageId;
use crate::model::{ChatMessage, Direction};
use crate::session::UpdateKind;
use crate::session::history_sync::PageEnd;
use crate::store::Inserted;
use crate::xmpp::Event;
use tokio_xmpp::Stanza;

impl Actor {
    pub(super) async fn on_stanza(&mut self, stanza: Stanza) {
        let Some(stanza) = self.avatar_inbound(stanza).await else {
            return;
        };
        let Some(stanza) = self.omemo_inbound(stanza).await else {
            return;
        };
        let events = self.proto.handle(stanza, now_ms());
        self.on_events(events).await;
    }

    /// Requests that waited too long fail (see `ProtoState::expire`).
    pub(super) async fn expire_requests(&mut self) {
        let events = self.proto.expire(now_ms());
        if !events.is_empty() {
            self.on_events(events).await;
            self.flush_live().await;
        }
    }

    async fn on_events(&mut self, events: Vec<Event>) {
        for event in events {
            // Anything else may depend on the chat messages before it being stored (a
            // receipt for a carbon of our own message, say): store them first.
            if !matches!(&event, Event::Message { message, .. } if !message.conversation.is_room())
            {
                self.flush_live().await;
            }
            match event {
                Event::Message { message, .. } if message.conversation.is_room() => {
                    self.on_room_message(*message).await
                }
                Event::Message { message, receipt } => {
                    self.live.push((*message, receipt));
                }
                roster @ (Event::Roster { .. }
                | Event::ContactChanged { .. }
                | Event::ContactRemoved { .. }) => self.on_roster_event(roster).await,
                // Held back while the UI is behind (`session::flood`).
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
                Event::Answer { token, result } => self.on_answer(token, result).await,
                Event::Blocking(e) => self.on_block_event(e),
                Event::Modify(m) => self.on_modify(*m).await,
                Event::ChatState {
                    conversation,
                    nick,
                    state,
                } => self.emit(UpdateKind::ChatState {
                    conversation,
                    nick,
                    state,
                }),
            }
        }
    }

    /// Stores the incoming chat messages collected by `on_stanza` (one transaction, one
    /// flush), then shows the new ones and sends the receipts they asked for: only once a
    /// message is on disk do we confirm it.
    pub(super) async fn flush_live(&mut self) {
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
                    if let Some(r) = receipt {
                        self.receipt_for(&message, *r).await;
                    }
                    self.emit(UpdateKind::Message(message));
                }
            }
            Some(Ok(results)) => {
                for ((message, receipt), result) in batch.into_iter().zip(results) {
                    if let Some(r) = receipt {
                        self.receipt_for(&message, *r).await;
                    }
                    if result == Inserted::New {
                        self.emit(UpdateKind::Message(message));
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

    /// Persist, then emit. Returns whether the message is safely stored.
    pub(super) async fn store_message(&self, message: ChatMessage) -> bool {
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
}

/// What the user reads when a message could not be stored. Nothing is lost: an incoming
/// message is neither receipted nor passed by the archive position, so the next catch-up
/// brings it again; an outgoing one was not sent and its text is repeated here.
pub(super) fn store_failure_notice(message: &ChatMessage, e: &crate::store::StoreError) -> String {
    let why = match e {
        crate::store::StoreError::Full => {
            "the disk is full. Free some space; messages from the server archive are fetched again on the next connection".to_owned()
        }
        other => other.to_string(),
    };
    match message.direction {
        Direction::Incoming => format!(
            "A message from {} could not be saved: {why}",
            message.peer()
        ),
        Direction::Outgoing => format!(
            "Your message to {} was not sent, because it could not be saved first: {why}. Its text: {}",
            message.peer(),
            message.body
        ),
    }
}
