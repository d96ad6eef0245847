//! A chat's older history on request (`Command::ChatLoadOlder`): one page of the account's
//! archive filtered to one contact, before an archive id. This is how a conversation
//! reaches back past what a first sign-in fetched (at most `MAX_BACKFILL_PAGES`), or
//! past a history gap. What is new is stored as old history (never unread); nothing moves
//! the catch-up's positions.

use super::Actor;
use crate::model::ChatMessage;
use crate::session::UpdateKind;
use crate::session::order::below_floor;
use crate::store::Inserted;
use crate::xmpp;
use tokio_xmpp::Stanza;
use tokio_xmpp::parsers::jid::BareJid;

/// One open query for a chat's older history.
pub(super) struct OlderQuery {
    queryid: String,
    peer: BareJid,
    below_ms: Option<i64>,
    batch: Vec<ChatMessage>,
}

impl Actor {
    pub(super) async fn chat_load_older(
        &mut self,
        peer: BareJid,
        before: Option<String>,
        below_ms: Option<i64>,
    ) {
        // Archive stamps have whole seconds: a page continuing an earlier one sorts
        // below where that one ended, even if the UI did not say so.
        let floor = before
            .as_ref()
            .and_then(|id| self.older_floors.get(id))
            .copied();
        let below_ms = match (below_ms, floor) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
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
            below_ms,
            batch: Vec::new(),
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
            peer,
            below_ms,
            mut batch,
            ..
        } = self.older.swap_remove(at);
        // Only this contact's messages (a server that ignored the filter gives others).
        batch.retain(|m| !m.is_room && m.peer == peer);
        let floor = below_floor(&mut batch, below_ms);
        if let (Some(first), Some(floor)) = (&first, floor) {
            self.older_floors.insert(first.clone(), floor);
        }
        let to_store = batch.clone();
        let (messages, failed) = match self
            .with_store(move |s| s.insert_old_messages(&to_store))
            .await
        {
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

    /// A new stream: the pages asked for are not coming; say so, so they can be asked
    /// again.
    pub(super) fn abandon_chat_older(&mut self) {
        for q in std::mem::take(&mut self.older) {
            self.emit(UpdateKind::ChatOlder {
                peer: q.peer,
                messages: Vec::new(),
                first: None,
                complete: false,
                failed: true,
            });
        }
    }
}
