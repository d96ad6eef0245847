//! Carries out what the history sync (`session/history_sync.rs`) decides: archive
//! queries, page stores, position writes in the store's preferences, and what the UI is
//! shown. Every decision is there; this file only does I/O and answers it. Also the
//! walks through archives that pages are stored in (shared with the rooms' catch-up).

use super::{Actor, UpdateKind};
use crate::ids::AccountId;
use crate::model::ChatMessage;
use crate::session::history_sync::{Action, PageEnd, Positions, Saved, Stored};
use crate::session::order::Walk;
use crate::store::{Inserted, StoreError};
use std::collections::VecDeque;

pub(super) fn cursor_key(account: &AccountId) -> String {
    format!("mam-cursor:{account}")
}

/// Where the account catch-up's pages ended in each conversation, saved with its
/// position while it is not complete (see `Store::page_order_continuing`).
pub(super) fn frontier_key(account: &AccountId) -> String {
    format!("mam-frontier:{account}")
}

/// Where an unfinished backward fill of history stands: the oldest archive id stored.
/// The forward cursor is set by the first backward page, so without this an app killed
/// during its first catch-up resumed only forward from the newest page, and the history
/// between that page and what it had stored was never fetched (77 to 147 of 500
/// messages lost, `tests/delivery.rs`, client killed at random moments).
fn fill_key(account: &AccountId) -> String {
    format!("mam-backfill:{account}")
}

fn gap_key(account: &AccountId) -> String {
    format!("mam-gap-after:{account}")
}

/// The newest message time of the page that set the cursor: up to there we have
/// everything, which is where a gap starts if the archive loses the cursor. (The newest
/// time stored is no measure: live messages after the cursor are newer.)
pub(super) fn cursor_time_key(account: &AccountId) -> String {
    format!("mam-cursor-time:{account}")
}

impl Actor {
    /// On every new (not resumed) stream, before our presence: reads what was saved and
    /// starts the catch-up. Without a store there is none.
    pub(super) async fn start_catch_up(&mut self) {
        let (key, gkey) = (cursor_key(&self.account), gap_key(&self.account));
        let tkey = cursor_time_key(&self.account);
        let fkey = frontier_key(&self.account);
        let account = self.account.clone();
        // What we had before this stream delivered anything (offline messages come right
        // after sign-in): where a gap would start if the archive lost our position.
        let saved = match self
            .with_store(move |s| {
                let cursor = s.pref(&key)?;
                let known_until = match cursor {
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
                let gap_after = s.pref(&gkey)?.and_then(|t| t.parse().ok());
                Ok(Saved {
                    cursor,
                    known_until,
                    gap_after,
                    frontier,
                })
            })
            .await
        {
            None => return,
            Some(Ok(saved)) => saved,
            Some(Err(e)) => {
                log::warn!("could not read the archive position: {e}");
                Saved::default()
            }
        };
        let actions = self.sync.signed_in(saved, super::now_ms());
        self.run_sync(actions).await;
    }

    /// Archived messages and page ends from the account's archive.
    pub(super) async fn on_archive_page(&mut self, end: PageEnd) {
        let actions = self.sync.page_end(end);
        self.run_sync(actions).await;
    }

    /// Carries out `actions` in order; the answer to one that needs it comes next.
    pub(super) async fn run_sync(&mut self, actions: Vec<Action>) {
        let mut queue = VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            let next = self.sync_action(action).await;
            for a in next.into_iter().rev() {
                queue.push_front(a);
            }
        }
    }

    async fn sync_action(&mut self, action: Action) -> Vec<Action> {
        match action {
            Action::Query { queryid, from } => {
                let query = self.proto.mam_query_as(from, queryid);
                self.send(query).await;
                Vec::new()
            }
            Action::StartWalk { walk, frontier } => {
                self.start_walk(walk, frontier).await;
                Vec::new()
            }
            Action::EndWalk(walk) => {
                self.walks.end(&walk);
                Vec::new()
            }
            Action::StorePage {
                walk,
                messages,
                news_from,
            } => {
                let stored = self.store_page(walk, messages, news_from).await;
                self.sync.stored(stored)
            }
            Action::SavePositions(positions) => {
                let ok = self.save_positions(positions).await;
                self.sync.saved(ok)
            }
            Action::ForgetPosition { known_until } => {
                let after = self.forget_position(known_until).await;
                if after.is_some() {
                    log::warn!(
                        "{}: the archive no longer has our position; refilling from its newest end",
                        self.own
                    );
                }
                self.sync.position_forgotten(after)
            }
            Action::FinishRefill(gap) => {
                let (account, gkey) = (self.account.clone(), gap_key(&self.account));
                let result = self
                    .with_store(move |s| {
                        if let Some(gap) = gap {
                            s.add_history_gap(&account, gap)?;
                        }
                        s.remove_pref(&gkey)
                    })
                    .await;
                match result {
                    Some(Err(e)) => log::warn!("could not record a history gap: {e}"),
                    _ => {
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
                }
                Vec::new()
            }
            Action::ReadFillPosition => {
                let key = fill_key(&self.account);
                let oldest = match self.with_store(move |s| s.pref(&key)).await {
                    Some(Ok(oldest)) => oldest,
                    _ => None,
                };
                self.sync.fill_position(oldest)
            }
            Action::Show { history, news } => {
                if !history.is_empty() {
                    self.emit(UpdateKind::History(history));
                }
                for message in news {
                    self.emit(UpdateKind::Message(message));
                }
                Vec::new()
            }
            Action::CaughtUp => {
                self.emit(UpdateKind::CaughtUp);
                Vec::new()
            }
            Action::OlderPage {
                peer,
                messages,
                first,
                complete,
                failed,
            } => {
                if failed {
                    log::warn!("{}: older archive page with {peer} failed", self.own);
                }
                self.emit(UpdateKind::ChatOlder {
                    peer,
                    messages,
                    first,
                    complete,
                    failed,
                });
                Vec::new()
            }
        }
    }

    /// Stores one page of `walk` (one flush), the new incoming messages from index
    /// `news_from` on as unread.
    async fn store_page(
        &mut self,
        walk: Walk,
        mut batch: Vec<ChatMessage>,
        news_from: usize,
    ) -> Stored {
        let older = matches!(walk, Walk::Older(_));
        let stored = if batch.is_empty() {
            Some(Ok(Vec::new()))
        } else {
            self.store_walk_page(walk, batch.clone(), news_from).await
        };
        match stored {
            Some(Ok(mut results)) => {
                let news_from = news_from.min(batch.len()).min(results.len());
                let news = batch.split_off(news_from);
                let news_results = results.split_off(news_from);
                Stored::New {
                    history: Inserted::only_new(batch, results),
                    news: Inserted::only_new(news, news_results),
                }
            }
            Some(Err(e)) => {
                log::error!("could not store archived messages: {e}");
                self.emit(UpdateKind::Notice(if older {
                    format!("Older messages from the server archive could not be saved: {e}")
                } else {
                    format!("Messages from the server archive could not be saved: {e}")
                }));
                Stored::Failed
            }
            None => Stored::NoStore,
        }
    }

    /// Saves where the catch-up stands after a stored page, fill position first. False
    /// when a write failed (then nothing moves on).
    async fn save_positions(&mut self, positions: Positions) -> bool {
        let Positions { fill, cursor } = positions;
        if let Some(oldest) = fill {
            let key = fill_key(&self.account);
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
        let Some(cursor) = cursor else {
            return true;
        };
        let key = cursor_key(&self.account);
        // The cursor first: a kill in between leaves an older time, which only makes a
        // refill reach back further than needed.
        let tkey = cursor_time_key(&self.account);
        let fkey = frontier_key(&self.account);
        let frontier = self
            .walks
            .get(&Walk::Forward)
            .filter(|_| cursor.keep_frontier)
            .map(|o| o.frontier());
        let saved = self
            .with_store(move |s| {
                s.set_pref(&key, &cursor.id)?;
                match frontier {
                    Some(f) => s.set_pref(&fkey, &f)?,
                    None => s.remove_pref(&fkey)?,
                }
                match cursor.time {
                    Some(t) => s.set_pref(&tkey, &t.to_string()),
                    None => Ok(()),
                }
            })
            .await;
        if let Some(Err(e)) = saved {
            log::warn!("could not save the archive position: {e}");
            return false;
        }
        true
    }

    /// Remembers the time we had stored up to, then drops the cursor. Written in that
    /// order, so a kill in between still ends in the same refill. The gap's start, or
    /// `None` when it could not be written.
    async fn forget_position(&mut self, known_until: Option<i64>) -> Option<i64> {
        let account = self.account.clone();
        let (key, gkey) = (cursor_key(&account), gap_key(&account));
        let result = self
            .with_store(move |s| {
                let after = match known_until {
                    Some(t) => t,
                    None => s.newest_time(&account)?.unwrap_or(0),
                };
                s.set_pref(&gkey, &after.to_string())?;
                s.remove_pref(&key)?;
                Ok::<_, StoreError>(after)
            })
            .await;
        match result {
            Some(Ok(after)) => Some(after),
            Some(Err(e)) => {
                log::warn!("could not reset the archive position: {e}");
                None
            }
            None => None,
        }
    }

    /// Starts `walk` afresh: what is stored after this counts as arrived meanwhile. A
    /// forward walk with a `frontier` continues where an earlier run's walk ended.
    pub(super) async fn start_walk(&mut self, walk: Walk, frontier: Option<String>) {
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
    pub(super) async fn store_walk_page(
        &mut self,
        walk: Walk,
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
}
