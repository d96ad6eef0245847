//! A chat's older history on request (`Command::ChatLoadOlder`): one page of the account's
//! archive filtered to one contact, before an archive id. This is how a conversation
//! reaches back past what a first sign-in fetched (at most `MAX_BACKFILL_PAGES`), or
//! past a history gap. What is new is stored as old history (never unread); nothing moves
//! the catch-up's positions.

use super::Actor;
use crate::model::ChatMessage;
use crate::session::UpdateKind;
use crate::session::order::Walk;
use crate::store::Inserted;
use crate::xmpp;
use std::time::{Duration, Instant};
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::jid::BareJid;

/// How long a page of older history the user asked for may take before it counts as
/// failed (said in words, with Retry): a server that never answers must not leave the
/// spinner turning.
pub(super) const OLDER_WAIT: Duration = Duration::from_secs(30);

/// One open query for a chat's older history.
pub(super) struct OlderQuery {
    queryid: String,
    peer: BareJid,
    batch: Vec<ChatMessage>,
    asked: Instant,
}

impl Actor {
    pub(super) async fn chat_load_older(&mut self, peer: BareJid, before: Option<String>) {
        let query = self
            .proto
            .mam_query(xmpp::mam::From::BeforeWith(peer.clone(), before));
        let Stanza::Iq(tokio_xmpp::parsers::iq::Iq::Set { payload, .. }) = &query else {
            return;
        };
        let queryid = payload.attr("queryid").unwrap_or_default().to_owned();
        self.older.push(OlderQuery {
            queryid,
            peer,
            batch: Vec::new(),
            asked: Instant::now(),
        });
        self.send(query).await;
    }

    /// A result of one of these queries: kept for its page's end. False when `queryid`
    /// is not one of them.
    pub(super) fn older_result(&mut self, queryid: &str, message: ChatMessage) -> bool {
        match self.older.iter_mut().find(|q| q.queryid == queryid) {
            Some(q) => {
                q.batch.push(message);
                true
            }
            None => false,
        }
    }

    /// The end of one of these pages: store what is new, then hand the page to the UI.
    /// False when `queryid` is not one of them.
    pub(super) async fn older_page(
        &mut self,
        queryid: &str,
        complete: bool,
        first: Option<String>,
        failed: bool,
    ) -> bool {
        let Some(at) = self.older.iter().position(|q| q.queryid == queryid) else {
            return false;
        };
        let OlderQuery {
            peer, mut batch, ..
        } = self.older.swap_remove(at);
        // Only this contact's messages (a server that ignored the filter gives others).
        batch.retain(|m| !m.is_room && m.peer == peer);
        // Each page goes before the one asked before it (the store's order rule).
        let walk = Walk::Older(crate::ids::ConversationId::Chat(peer.clone()));
        let stored = if batch.is_empty() {
            Some(Ok(Vec::new()))
        } else {
            self.store_walk_page(walk, batch.clone(), batch.len()).await
        };
        let (messages, failed) = match stored {
            Some(Ok(results)) => (Inserted::only_new(batch, results), failed),
            None => (batch, failed),
            Some(Err(e)) => {
                log::error!("could not store older history: {e}");
                self.emit(UpdateKind::Notice(format!(
                    "Older messages from the server archive could not be saved: {e}"
                )));
                (Vec::new(), true)
            }
        };
        if failed {
            log::warn!("{}: older archive page with {peer} failed", self.own);
        }
        self.emit(UpdateKind::ChatOlder {
            peer,
            messages,
            first: if failed { None } else { first },
            complete: complete && !failed,
            failed,
        });
        true
    }

    /// Pages asked for longer than [`OLDER_WAIT`] ago count as failed: said so, so they
    /// can be asked again.
    pub(super) fn expire_older(&mut self) {
        let (late, waiting) = std::mem::take(&mut self.older)
            .into_iter()
            .partition::<Vec<_>, _>(|q| q.asked.elapsed() > OLDER_WAIT);
        self.older = waiting;
        for q in late {
            log::warn!(
                "{}: no older archive page with {} in time",
                self.own,
                q.peer
            );
            self.older_failed(q.peer);
        }
    }

    /// Tells the UI a page of older history with `peer` is not coming.
    fn older_failed(&self, peer: BareJid) {
        self.emit(UpdateKind::ChatOlder {
            peer,
            messages: Vec::new(),
            first: None,
            complete: false,
            failed: true,
        });
    }

    /// A new stream: the pages asked for are not coming; say so, so they can be asked
    /// again.
    pub(super) fn abandon_chat_older(&mut self) {
        for q in std::mem::take(&mut self.older) {
            self.older_failed(q.peer);
        }
    }
}
