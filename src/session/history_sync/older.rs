//! A chat's older history on request (`Command::ChatLoadOlder`): one page of the
//! account's archive filtered to one contact, before an archive id. This is how a
//! conversation reaches back past what a first sign-in fetched (at most
//! `MAX_BACKFILL_PAGES`), or past a history gap. What is new is stored as old history
//! (never unread); nothing moves the catch-up's positions.

use super::{Action, HistorySync, OLDER_WAIT, PageEnd, Waiting, Walk};
use crate::ids::ConversationId;
use crate::model::ChatMessage;
use crate::xmpp::mam::From;
use std::time::Instant;
use xmpp_parsers::jid::BareJid;

/// One open query for a chat's older history.
#[derive(Debug)]
pub(super) struct Older {
    pub(super) queryid: String,
    peer: BareJid,
    pub(super) batch: Vec<ChatMessage>,
    asked: Instant,
}

impl HistorySync {
    /// A chat's older history on request: one page of the account's archive filtered
    /// to `peer`, before an archive id (its newest page when `None`). This is how a
    /// conversation reaches back past what a first sign-in fetched, or past a history
    /// gap; nothing moves the catch-up's positions.
    pub fn load_older(&mut self, peer: BareJid, before: Option<String>, now: Instant) -> Action {
        let (queryid, action) = self.query(From::BeforeWith(peer.clone(), before));
        self.older.push(Older {
            queryid,
            peer,
            batch: Vec::new(),
            asked: now,
        });
        action
    }

    /// Pages of older history asked for longer than [`OLDER_WAIT`] before `now` count as
    /// failed: said so, so they can be asked again.
    pub fn expire_older(&mut self, now: Instant) -> Vec<Action> {
        let (late, waiting) = std::mem::take(&mut self.older)
            .into_iter()
            .partition::<Vec<_>, _>(|q| now.saturating_duration_since(q.asked) > OLDER_WAIT);
        self.older = waiting;
        late.into_iter()
            .map(|q| {
                log::warn!("no older archive page with {} in time", q.peer);
                older_failed(q.peer)
            })
            .collect()
    }

    /// A new stream: the pages of older history asked for are not coming; say so, so
    /// they can be asked again.
    pub fn abandon_older(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.older)
            .into_iter()
            .map(|q| older_failed(q.peer))
            .collect()
    }

    pub(super) fn older_page(&mut self, q: Older, end: PageEnd) -> Vec<Action> {
        let Older {
            peer, mut batch, ..
        } = q;
        // Only this contact's messages (a server that ignored the filter gives others).
        batch.retain(|m| !m.conversation.is_room() && *m.peer() == peer);
        self.waiting = Waiting::OlderStored {
            peer: peer.clone(),
            batch: batch.clone(),
            first: end.first,
            complete: end.complete,
            failed: end.failed,
        };
        // Each page goes before the one asked before it (the store's order rule), and
        // all of it is old history, never unread.
        let news_from = batch.len();
        vec![Action::StorePage {
            walk: Walk::Older(ConversationId::Chat(peer)),
            messages: batch,
            news_from,
        }]
    }
}

fn older_failed(peer: BareJid) -> Action {
    Action::OlderPage {
        peer,
        messages: Vec::new(),
        first: None,
        complete: false,
        failed: true,
    }
}
