//! Archive catch-up of the account's own archive (XEP-0313) on every new stream.
//!
//! Durable positions, in the store's preferences:
//! - the cursor: the newest archive id stored; forward pages move it, the first backward
//!   page of a first sign-in sets it;
//! - the backfill position: where an unfinished backward fill of older history stands;
//! - a pending gap: the archive no longer had our cursor, so we refill from its newest
//!   end and, unless we reach the time we had stored up to, record a history gap.
//!
//! Each is written only after the page it describes is flushed to the store, and the
//! backfill position before the cursor, so a kill between writes never leaves a cursor
//! past history that was not fetched.

use super::{
    Actor, CatchUp, MAX_BACKFILL_PAGES, UpdateKind, backfill_key, cursor_key, frontier_key,
};
use crate::model::ChatMessage;
use crate::session::order::Walk;
use crate::store::{HistoryGap, Inserted};
use crate::xmpp;
use tokio_xmpp::Stanza;

/// The end of one archive page, as the protocol reported it.
pub(super) struct PageEnd {
    pub queryid: String,
    pub backward: bool,
    pub complete: bool,
    pub first: Option<String>,
    pub last: Option<String>,
    pub failed: bool,
    pub gone: bool,
}

fn gap_key(account: &crate::ids::AccountId) -> String {
    format!("mam-gap-after:{account}")
}

/// The newest message time of the page that set the cursor: up to there we have
/// everything, which is where a gap starts if the archive loses the cursor. (The newest
/// time stored is no measure: live messages after the cursor are newer.)
pub(super) fn cursor_time_key(account: &crate::ids::AccountId) -> String {
    format!("mam-cursor-time:{account}")
}

impl Actor {
    /// On every new (not resumed) stream: fetch what the archive has after the last
    /// archive id we stored; with no local history yet, the newest pages backwards.
    pub(super) async fn start_catch_up(&mut self) {
        let (key, gkey) = (cursor_key(&self.account), gap_key(&self.account));
        let tkey = cursor_time_key(&self.account);
        let fkey = frontier_key(&self.account);
        let account = self.account.clone();
        // What we had before this stream delivered anything (offline messages come right
        // after sign-in): where a gap would start if the archive lost our position.
        let positions = match self
            .with_store(move |s| {
                let cursor = s.pref(&key)?;
                let known = match cursor {
                    Some(_) => match s.pref(&tkey)?.and_then(|t| t.parse().ok()) {
                        Some(t) => Some(t),
                        // Written before the cursor's time was kept.
                        None => s.newest_time(&account)?,
                    },
                    None => None,
                };
                let frontier = match cursor {
                    Some(_) => s.pref(&fkey)?,
                    None => None,
                };
                Ok::<_, crate::store::StoreError>((cursor, s.pref(&gkey)?, known, frontier))
            })
            .await
        {
            None => return,
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                log::warn!("could not read the archive position: {e}");
                (None, None, None, None)
            }
        };
        let (cursor, gap_after, known, frontier) = positions;
        self.known_until = known;
        self.gap_after = gap_after.and_then(|t| t.parse().ok());
        let returning = cursor.is_some();
        let from = match cursor {
            Some(id) => xmpp::mam::From::After(id),
            None => xmpp::mam::From::Newest,
        };
        self.gap_oldest = None;
        self.peek = None;
        // Pages of this stream continue each other; what arrives live from now on sorts
        // after what the archive had before it.
        // A catch-up a kill cut short continues where its pages ended, before what
        // arrived live ahead of them.
        self.walks.end(&Walk::Backward);
        self.start_walk(Walk::Forward, frontier).await;
        self.catch_up_started_ms = super::now_ms();
        self.live_moves_cursor = false;
        // Back after a while: the chat on screen shows its newest messages at once, not
        // after everything older was paged through (asked first, answered first).
        if returning {
            self.peek_viewed().await;
        }
        self.query_archive(from, 0).await;
    }

    /// Builds an archive query and the state that collects its page.
    fn open_query(&mut self, from: xmpp::mam::From, pages: u32) -> (Stanza, Option<CatchUp>) {
        let newest = matches!(from, xmpp::mam::From::Newest);
        let after = match &from {
            xmpp::mam::From::After(id) => Some(id.clone()),
            _ => None,
        };
        let before = match &from {
            xmpp::mam::From::Before(id) => Some(id.clone()),
            _ => None,
        };
        let query = self.proto.mam_query(from);
        let state = match &query {
            Stanza::Iq(tokio_xmpp::parsers::iq::Iq::Set { payload, .. }) => Some(CatchUp {
                queryid: payload.attr("queryid").unwrap_or_default().to_owned(),
                batch: Vec::new(),
                pages,
                newest,
                after,
                before,
                before_presence: !self.presence_sent,
            }),
            _ => None,
        };
        (query, state)
    }

    pub(super) async fn query_archive(&mut self, from: xmpp::mam::From, pages: u32) {
        let (query, state) = self.open_query(from, pages);
        self.catch_up = state;
        self.send(query).await;
    }

    /// Asks for the newest page of the chat on screen, ahead of the catch-up. It moves no
    /// position: the catch-up still pages through everything and finds these stored.
    pub(super) async fn peek_viewed(&mut self) {
        let Some(peer) = self.viewing.clone() else {
            return;
        };
        if self.store.is_none() {
            return;
        }
        self.start_walk(Walk::Peek, None).await;
        let (query, state) = self.open_query(xmpp::mam::From::NewestWith(peer), 0);
        self.peek = state;
        self.send(query).await;
    }

    /// The newest page of the chat on screen arrived: what is new in it is news (the
    /// cursor is older than all of it), stored and shown now.
    async fn on_peek_page(&mut self, failed: bool) {
        let Some(peek) = self.peek.take() else {
            return;
        };
        if failed {
            log::debug!(
                "{}: the archive did not give the chat's newest page",
                self.own
            );
            return;
        }
        log::debug!(
            "{}: newest page of the chat on screen: {} messages",
            self.own,
            peek.batch.len()
        );
        // The catch-up brings the older ones later and finds these in its pages.
        if let Some(new) = self.store_page(peek.batch, Walk::Peek, 0).await {
            self.show_split(new);
        }
    }

    /// The archive no longer has our cursor (it keeps history for a limited time, or
    /// was reset): remember the time we had stored up to, drop the cursor, and fill
    /// from the archive's newest end. Written in that order, so a kill in between
    /// still ends in the same refill.
    async fn position_gone(&mut self) {
        let account = self.account.clone();
        let (key, gkey) = (cursor_key(&account), gap_key(&account));
        let known = self.known_until;
        let result = self
            .with_store(move |s| {
                let after = match known {
                    Some(t) => t,
                    None => s.newest_time(&account)?.unwrap_or(0),
                };
                s.set_pref(&gkey, &after.to_string())?;
                s.remove_pref(&key)?;
                Ok::<_, crate::store::StoreError>(after)
            })
            .await;
        match result {
            Some(Ok(after)) => {
                log::warn!(
                    "{}: the archive no longer has our position; refilling from its newest end",
                    self.own
                );
                self.gap_after = Some(after);
                self.gap_oldest = None;
                self.live_moves_cursor = false;
                self.walks.end(&Walk::Backward);
                self.start_walk(Walk::Forward, None).await;
                self.query_archive(xmpp::mam::From::Newest, 0).await;
            }
            Some(Err(e)) => log::warn!("could not reset the archive position: {e}"),
            None => {}
        }
    }

    /// A refill after a lost position ended. If it reached back to what we had, nothing
    /// is missing; otherwise the time between is a gap the conversations show.
    async fn finish_refill(&mut self, reached: bool) {
        let Some(after_ms) = self.gap_after.take() else {
            return;
        };
        let gap = self
            .gap_oldest
            .take()
            .filter(|_| !reached)
            .filter(|before| *before > after_ms + 1000)
            .map(|before_ms| HistoryGap {
                after_ms,
                before_ms,
            });
        let (account, gkey) = (self.account.clone(), gap_key(&self.account));
        let result = self
            .with_store(move |s| {
                if let Some(gap) = gap {
                    s.add_history_gap(&account, gap)?;
                }
                s.remove_pref(&gkey)
            })
            .await;
        if let Some(Err(e)) = result {
            log::warn!("could not record a history gap: {e}");
            return;
        }
        if let Some(gap) = gap {
            log::warn!(
                "{}: history gap from {} to {}",
                self.own,
                gap.after_ms,
                gap.before_ms
            );
            self.emit(UpdateKind::HistoryGap(gap));
        }
    }

    /// One archive page is complete: store it (one flush), show what is new, move the
    /// positions only after the flush, then ask for the next page.
    pub(super) async fn on_archive_page(&mut self, end: PageEnd) {
        let PageEnd {
            queryid,
            backward,
            complete,
            first,
            last,
            failed,
            gone,
        } = end;
        if self.peek.as_ref().is_some_and(|p| p.queryid == queryid) {
            self.on_peek_page(failed).await;
            return;
        }
        let Some(catch_up) = self.catch_up.take_if(|c| c.queryid == queryid) else {
            return;
        };
        if failed && gone && !backward {
            self.position_gone().await;
            return;
        }
        let batch = catch_up.batch;
        // A page that says "not complete" but does not move (it ends where we asked it
        // to begin, or says nothing of where it ends, or is empty) would be asked for
        // again and again: the archive contradicts itself, so take it as the end
        // (issue #20: a lying server was asked for the same page without end forward,
        // and 200 times backward).
        let stuck = !complete
            && !failed
            && !catch_up.newest
            && (batch.is_empty()
                || if backward {
                    first.is_none() || first == catch_up.before
                } else {
                    last.is_none() || last == catch_up.after
                });
        if stuck {
            log::warn!(
                "{}: the archive says there is more (after {:?}, before {:?}) but gives nothing new; this walk ends here",
                self.own,
                catch_up.after,
                catch_up.before
            );
        }
        let complete = complete || stuck;
        log::debug!(
            "{}: archive page {} ({} messages, backward {backward}, complete {complete}, failed {failed})",
            self.own,
            catch_up.pages,
            batch.len()
        );
        // A refill after a lost position stops once it reaches the time we had.
        let oldest = batch.iter().map(|m| m.timestamp_ms).min();
        if let Some(t) = oldest {
            self.gap_oldest = Some(self.gap_oldest.map_or(t, |g| g.min(t)));
        }
        // Archive stamps have whole seconds (read as the end of their second), so "the
        // same time" is within a second.
        let reached = self
            .gap_after
            .is_some_and(|after| backward && oldest.is_some_and(|t| t <= after + 1000));
        let newest_ms = batch.iter().map(|m| m.timestamp_ms).max();
        // The next page is asked for now, while this one is stored: the server prepares
        // it meanwhile (5,000 waiting for a first sign-in: 11.2 s before, 7.2 s with it).
        // Only the plain "more of the same" cases; if this page cannot be stored, the
        // next is dropped, and the positions stay where they were.
        let pages = catch_up.pages + 1;
        let ahead = match (backward, &first, &last) {
            _ if failed || complete || reached || catch_up.newest => None,
            (true, Some(first), _) if pages < MAX_BACKFILL_PAGES => {
                Some(xmpp::mam::From::Before(first.clone()))
            }
            (false, _, Some(last)) => Some(xmpp::mam::From::After(last.clone())),
            _ => None,
        };
        let prefetched = ahead.is_some();
        if let Some(from) = ahead {
            self.query_archive(from, pages).await;
        }
        // The newest page (a first sign-in, a refill) is what the archive held: history,
        // but for what reached it from the second this catch-up began on, which is news.
        // Forward pages continue it, backward ones go before it.
        let walk = if backward && !catch_up.newest {
            Walk::Backward
        } else {
            Walk::Forward
        };
        let since = self.catch_up_started_ms - self.catch_up_started_ms.rem_euclid(1000);
        let split = match (backward, catch_up.newest) {
            (false, _) => 0,
            (true, true) => batch
                .iter()
                .position(|m| m.timestamp_ms >= since)
                .unwrap_or(batch.len()),
            (true, false) => batch.len(),
        };
        // One page, one insert: its results are anchors for each other.
        let Some(new) = self.store_page(batch, walk, split).await else {
            if prefetched {
                self.catch_up = None;
            }
            return;
        };
        if failed {
            self.show_split(new);
            log::warn!("{}: the archive query failed; catch-up stopped", self.own);
            self.emit(UpdateKind::CaughtUp);
            return;
        }
        let complete = complete || reached;
        let saved = self
            .save_positions(
                backward,
                catch_up.newest,
                complete,
                catch_up.pages,
                (&first, &last),
                newest_ms,
            )
            .await;
        // Shown only once the positions are saved too: whoever sees these messages may
        // quit at once, and the next run must neither fetch them again as old history
        // nor miss what came after them.
        self.show_split(new);
        if !saved {
            if prefetched {
                self.catch_up = None;
            }
            return;
        }
        if prefetched {
            return;
        }
        if backward && (complete || first.is_none() || pages >= MAX_BACKFILL_PAGES) {
            self.finish_refill(reached).await;
        }
        if catch_up.newest {
            // The newest page was what the archive held when asked (history on a first
            // sign-in); what reached it since comes next, forward and as news, then the
            // older history (from the fill position just saved).
            match last {
                Some(last) => {
                    self.query_archive(xmpp::mam::From::After(last), pages)
                        .await
                }
                // An empty archive, asked before our presence: ask once more, so what
                // arrived in between (archived, not pushed to us) is not missed.
                None if catch_up.before_presence => {
                    self.query_archive(xmpp::mam::From::Newest, pages).await
                }
                // An empty archive: everything from now on comes live.
                None => {
                    self.live_moves_cursor = true;
                    self.emit(UpdateKind::CaughtUp)
                }
            }
            return;
        }
        if complete {
            if !backward {
                // Asked before our presence went out: a message that reached the server
                // after this page and before the presence was archived but not pushed.
                if catch_up.before_presence
                    && !stuck
                    && let Some(after) = last.or(catch_up.after)
                {
                    self.query_archive(xmpp::mam::From::After(after), pages)
                        .await;
                    return;
                }
                // Caught up forward; finish a backward fill an earlier run left halfway.
                self.live_moves_cursor = true;
                let key = backfill_key(&self.account);
                if let Some(Ok(Some(oldest))) = self.with_store(move |s| s.pref(&key)).await {
                    // The floor stays: in this stream it is where the newest page ended
                    // (a new stream starts without one).
                    log::info!("{}: resuming the history fill before {oldest}", self.own);
                    self.query_archive(xmpp::mam::From::Before(oldest), pages)
                        .await;
                    return;
                }
            }
            self.emit(UpdateKind::CaughtUp);
            return;
        }
        match (backward, first, last) {
            (false, _, Some(last)) => {
                self.query_archive(xmpp::mam::From::After(last), pages)
                    .await
            }
            (true, Some(first), _) if pages < MAX_BACKFILL_PAGES => {
                self.query_archive(xmpp::mam::From::Before(first), pages)
                    .await
            }
            _ => self.emit(UpdateKind::CaughtUp),
        }
    }

    /// Saves where the catch-up stands after a stored page. The backward fill position
    /// goes first: a kill between the two writes must not leave a cursor that hides
    /// history never fetched. False when a write failed (then nothing moves on).
    async fn save_positions(
        &mut self,
        backward: bool,
        newest: bool,
        complete: bool,
        page: u32,
        (first, last): (&Option<String>, &Option<String>),
        newest_ms: Option<i64>,
    ) -> bool {
        if backward {
            let key = backfill_key(&self.account);
            let oldest = first
                .clone()
                .filter(|_| !complete && page + 1 < MAX_BACKFILL_PAGES);
            if let Some(Err(e)) = self
                .with_store(move |s| match oldest {
                    Some(id) => s.set_pref(&key, &id),
                    None => s.remove_pref(&key),
                })
                .await
            {
                log::warn!("could not save the history fill position: {e}");
                return false;
            }
        }
        // The cursor is the newest archive id stored: forward pages move it, the newest
        // page (of a first sign-in or a refill) sets it.
        let cursor = if backward && !newest {
            None
        } else {
            last.clone()
        };
        if let Some(id) = cursor {
            let key = cursor_key(&self.account);
            // The cursor first: a kill in between leaves an older time, which only
            // makes a refill reach back further than needed.
            let tkey = cursor_time_key(&self.account);
            // Until the catch-up is complete, where its pages ended goes with the
            // position: what arrives live meanwhile is ahead of it, also after a kill.
            let fkey = frontier_key(&self.account);
            let frontier = self
                .walks
                .get(&Walk::Forward)
                .filter(|_| backward || !complete)
                .map(|o| o.frontier());
            let saved = self
                .with_store(move |s| {
                    s.set_pref(&key, &id)?;
                    match frontier {
                        Some(f) => s.set_pref(&fkey, &f)?,
                        None => s.remove_pref(&fkey)?,
                    }
                    match newest_ms {
                        Some(t) => s.set_pref(&tkey, &t.to_string()),
                        None => Ok(()),
                    }
                })
                .await;
            if let Some(Err(e)) = saved {
                log::warn!("could not save the archive position: {e}");
                return false;
            }
        }
        true
    }

    /// Shows what a page added: forward pages as news, older history filled in
    /// backwards as history that counts as read.
    fn show(&self, new: Vec<ChatMessage>, backward: bool) {
        if backward {
            if !new.is_empty() {
                self.emit(UpdateKind::History(new));
            }
        } else {
            for message in new {
                self.emit(UpdateKind::Message(message));
            }
        }
    }

    /// Shows a page's history, then its news.
    fn show_split(&self, (history, news): (Vec<ChatMessage>, Vec<ChatMessage>)) {
        self.show(history, true);
        self.show(news, false);
    }

    /// Stores one page of `walk` (one flush), the new incoming messages from index
    /// `news_from` on as unread; the messages that were new, split into history (before
    /// `news_from`) and news. `None` when it could not be stored (the positions must
    /// then stay where they are).
    async fn store_page(
        &mut self,
        mut batch: Vec<ChatMessage>,
        walk: Walk,
        news_from: usize,
    ) -> Option<(Vec<ChatMessage>, Vec<ChatMessage>)> {
        let stored = if batch.is_empty() {
            Some(Ok(Vec::new()))
        } else {
            let to_store = batch.clone();
            self.store_walk_page(walk, to_store, news_from).await
        };
        match stored {
            Some(Ok(mut results)) => {
                let news_from = news_from.min(batch.len()).min(results.len());
                let news = batch.split_off(news_from);
                let news_results = results.split_off(news_from);
                Some((
                    Inserted::only_new(batch, results),
                    Inserted::only_new(news, news_results),
                ))
            }
            Some(Err(e)) => {
                log::error!("could not store archived messages: {e}");
                self.emit(UpdateKind::Notice(format!(
                    "Messages from the server archive could not be saved: {e}"
                )));
                None
            }
            None => None,
        }
    }
}
