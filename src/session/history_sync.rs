//! Archive catch-up and history fill, as a state machine without I/O: events in (a
//! sign-in with what was saved, archived messages, the end of a page with its RSM set,
//! what the store made of a page, a chat opened, older history asked for), actions out
//! (ask the archive, store a page, save positions, record a gap, show, caught up). The
//! actor (`actor/sync.rs`) feeds it and carries its actions out; `history_sync/tests.rs`
//! replays page sequences against it without a server.
//!
//! Durable positions, in the store's preferences (the actor reads and writes them):
//! - the cursor: the newest archive id stored; forward pages move it, the first backward
//!   page of a first sign-in sets it; with it, the time of that page's newest message
//!   (where a gap starts if the archive loses the cursor) and, while the catch-up is not
//!   complete, the frontier: where its pages ended in each conversation, so what arrives
//!   live meanwhile stays after them, also after the app was killed;
//! - the fill position: where an unfinished backward fill of older history stands;
//! - a pending gap: the archive no longer had our cursor, so we refill from its newest
//!   end and, unless we reach the time we had stored up to, record a history gap.
//!
//! Each is written only after the page it describes is stored, and the fill position
//! before the cursor, so a kill between writes never leaves a cursor past history that
//! was not fetched. An action that needs an answer (storing, saving, reading) is the last
//! of its batch; its answer (`stored`, `saved`, ...) gives the next actions.

mod actions;
mod older;
#[cfg(test)]
mod tests;

pub use actions::{Action, CursorSave, PageEnd, Positions, Saved, Stored};
use older::Older;

use super::order::Walk;
use crate::model::ChatMessage;
use crate::store::HistoryGap;
use crate::xmpp::mam::From;
use std::time::Duration;
use xmpp_parsers::jid::BareJid;

/// Most archive pages fetched in one catch-up (250 messages each).
pub const MAX_BACKFILL_PAGES: u32 = 200;

/// Most pages of one forward catch-up (250 messages each: 100,000 messages). An archive
/// that keeps inventing new ids would otherwise be walked without end (issue #20); past
/// the cap the walk stops where it stored, keeps its position, and the next sign-in goes
/// on from there.
pub const MAX_FORWARD_PAGES: u32 = 400;

/// How long a page of older history the user asked for may take before it counts as
/// failed (said in words, with Retry): a server that never answers must not leave the
/// spinner turning.
pub const OLDER_WAIT: Duration = Duration::from_secs(30);

/// Archive stamps have whole seconds (read as the end of their second), so "the same
/// time" is within a second.
const SAME_SECOND_MS: i64 = 1000;

/// One open query and the messages of its page so far.
#[derive(Debug)]
struct Open {
    queryid: String,
    batch: Vec<ChatMessage>,
    /// Pages of this catch-up before this one.
    pages: u32,
    /// A newest-first query (first sign-in, or a refill): its page sets the cursor.
    newest: bool,
    /// The archive id a forward query asked after.
    after: Option<String>,
    /// The archive id a backward query asked before.
    before: Option<String>,
    /// Asked before our first presence on this stream went out.
    before_presence: bool,
}

/// A catch-up page between its end and its last write.
#[derive(Debug)]
struct Page {
    backward: bool,
    complete: bool,
    first: Option<String>,
    last: Option<String>,
    failed: bool,
    reached: bool,
    newest_ms: Option<i64>,
    /// This page's number (pages before it) and the query's.
    page: u32,
    newest: bool,
    after: Option<String>,
    before_presence: bool,
    /// The archive said "not complete" but the page did not move (see [`stuck`]): the
    /// walk ends here, and no query follows it.
    stuck: bool,
    /// The next page was asked for before this one was stored.
    prefetched: bool,
    /// A forward walk that reached [`MAX_FORWARD_PAGES`] with the archive still saying
    /// "not complete": it ends here for this stream, its position kept.
    capped: bool,
}

/// What an answer the actor owes us continues.
#[derive(Debug, Default)]
enum Waiting {
    #[default]
    Nothing,
    PeekStored,
    PageStored(Page),
    PageSaved(Page, Vec<ChatMessage>, Vec<ChatMessage>),
    PositionForgotten,
    FillPosition {
        pages: u32,
    },
    OlderStored {
        peer: BareJid,
        batch: Vec<ChatMessage>,
        first: Option<String>,
        complete: bool,
        failed: bool,
    },
}

/// The account archive's catch-up, the peek at the chat on screen, and chats' older
/// history, for one session.
#[derive(Debug)]
pub struct HistorySync {
    /// Without a store there is no catch-up and no peek (older history is only shown).
    has_store: bool,
    next_query: u64,
    catch_up: Option<Open>,
    /// The newest page of the chat on screen, asked ahead of a catch-up.
    peek: Option<Open>,
    older: Vec<Older>,
    waiting: Waiting,
    /// The forward catch-up of this stream is complete: live messages move the archive
    /// position from now on.
    live_moves_cursor: bool,
    /// When this stream's catch-up began: on a first sign-in, what the archive stamped
    /// from that second on is news, older is history.
    catch_up_started_ms: i64,
    /// Refilling after the archive lost our position: the newest time we had stored.
    gap_after: Option<i64>,
    /// Oldest time the refill has stored so far.
    gap_oldest: Option<i64>,
    /// Newest time we had everything up to when this stream's catch-up started.
    known_until: Option<i64>,
    /// Our presence went out on this stream: from then on the server pushes us what
    /// arrives instead of only archiving it.
    presence_sent: bool,
    /// The chat on screen.
    viewing: Option<BareJid>,
}

impl HistorySync {
    pub fn new(has_store: bool) -> HistorySync {
        HistorySync {
            has_store,
            next_query: 0,
            catch_up: None,
            peek: None,
            older: Vec::new(),
            waiting: Waiting::Nothing,
            live_moves_cursor: false,
            catch_up_started_ms: 0,
            gap_after: None,
            gap_oldest: None,
            known_until: None,
            presence_sent: false,
            viewing: None,
        }
    }

    fn query(&mut self, from: From) -> (String, Action) {
        self.next_query += 1;
        let queryid = format!("hs{}", self.next_query);
        (
            queryid.clone(),
            Action::Query {
                queryid,
                from: from.clone(),
            },
        )
    }

    /// Asks the account archive for the next page of the catch-up.
    fn query_archive(&mut self, from: From, pages: u32) -> Action {
        let newest = matches!(from, From::Newest);
        let after = match &from {
            From::After(id) => Some(id.clone()),
            _ => None,
        };
        let before = match &from {
            From::Before(id) => Some(id.clone()),
            _ => None,
        };
        let (queryid, action) = self.query(from);
        self.catch_up = Some(Open {
            queryid,
            batch: Vec::new(),
            pages,
            newest,
            after,
            before,
            before_presence: !self.presence_sent,
        });
        action
    }

    /// A new stream (not a resumed one), before our presence goes out: fetch what the
    /// archive has after the last archive id we stored; with none, the newest pages
    /// backwards. `now_ms` is when the catch-up begins.
    pub fn signed_in(&mut self, saved: Saved, now_ms: i64) -> Vec<Action> {
        self.presence_sent = false;
        self.waiting = Waiting::Nothing;
        self.known_until = saved.cursor.as_ref().and(saved.known_until);
        self.gap_after = saved.gap_after;
        self.gap_oldest = None;
        self.peek = None;
        let returning = saved.cursor.is_some();
        let from = match saved.cursor {
            Some(id) => From::After(id),
            None => From::Newest,
        };
        // Pages of this stream continue each other; what arrives live from now on sorts
        // after what the archive had before it. A catch-up a kill cut short continues
        // where its pages ended, before what arrived live ahead of them.
        let mut actions = vec![
            Action::EndWalk(Walk::Backward),
            Action::StartWalk {
                walk: Walk::Forward,
                frontier: saved.frontier.filter(|_| returning),
            },
        ];
        self.catch_up_started_ms = now_ms;
        self.live_moves_cursor = false;
        // Back after a while: the chat on screen shows its newest messages at once, not
        // after everything older was paged through (asked first, answered first).
        if returning {
            actions.extend(self.peek_viewed());
        }
        actions.push(self.query_archive(from, 0));
        actions
    }

    /// Our presence went out on this stream.
    pub fn presence_sent(&mut self) {
        self.presence_sent = true;
    }

    /// The chat on screen changed (`None`: no chat).
    pub fn viewing(&mut self, peer: Option<BareJid>) -> Vec<Action> {
        let changed = self.viewing != peer;
        self.viewing = peer;
        // Opened while a catch-up runs forward: its newest page now.
        if changed && self.catch_up.as_ref().is_some_and(|c| c.after.is_some()) {
            self.peek_viewed()
        } else {
            Vec::new()
        }
    }

    /// Asks for the newest page of the chat on screen, ahead of the catch-up. It moves no
    /// position: the catch-up still pages through everything and finds these stored.
    fn peek_viewed(&mut self) -> Vec<Action> {
        let Some(peer) = self.viewing.clone() else {
            return Vec::new();
        };
        if !self.has_store {
            return Vec::new();
        }
        let (queryid, query) = self.query(From::NewestWith(peer));
        self.peek = Some(Open {
            queryid,
            batch: Vec::new(),
            pages: 0,
            newest: true,
            after: None,
            before: None,
            before_presence: !self.presence_sent,
        });
        vec![
            Action::StartWalk {
                walk: Walk::Peek,
                frontier: None,
            },
            query,
        ]
    }

    /// Whether the live messages just stored move the archive position, and to where:
    /// once the catch-up has everything before them, the position follows what arrives
    /// live, so the next start asks only for what came after (as news), not for the
    /// newest page as if this device had never signed in.
    pub fn live_cursor(&self, live: &[ChatMessage]) -> Option<(String, i64)> {
        if !self.live_moves_cursor {
            return None;
        }
        live.iter()
            .rev()
            .find_map(|m| Some((m.server_id.clone()?, m.timestamp_ms)))
    }

    /// One archived message of `queryid`'s page. False when it is none of ours.
    pub fn archived(&mut self, queryid: &str, message: ChatMessage) -> bool {
        if let Some(c) = self.catch_up.as_mut().filter(|c| c.queryid == queryid) {
            c.batch.push(message);
        } else if let Some(p) = self.peek.as_mut().filter(|p| p.queryid == queryid) {
            p.batch.push(message);
        } else if let Some(q) = self.older.iter_mut().find(|q| q.queryid == queryid) {
            q.batch.push(message);
        } else {
            return false;
        }
        true
    }

    /// One archive page ended.
    pub fn page_end(&mut self, end: PageEnd) -> Vec<Action> {
        if let Some(at) = self.older.iter().position(|q| q.queryid == end.queryid) {
            let q = self.older.swap_remove(at);
            return self.older_page(q, end);
        }
        if self.peek.as_ref().is_some_and(|p| p.queryid == end.queryid) {
            return self.peek_page(end.failed);
        }
        let Some(catch_up) = self.catch_up.take_if(|c| c.queryid == end.queryid) else {
            return Vec::new();
        };
        let PageEnd {
            backward,
            complete,
            first,
            last,
            failed,
            gone,
            ..
        } = end;
        if failed && gone && !backward {
            // The archive no longer has our cursor (it keeps history for a limited time,
            // or was reset).
            self.waiting = Waiting::PositionForgotten;
            return vec![Action::ForgetPosition {
                known_until: self.known_until,
            }];
        }
        let Open {
            batch,
            pages: page,
            newest,
            after,
            before,
            before_presence,
            ..
        } = catch_up;
        // A page that says "not complete" but does not move would be asked for again and
        // again: the archive contradicts itself, so take it as the end.
        let stuck =
            !complete && !failed && !newest && stuck(backward, &first, &last, &before, &after);
        if stuck {
            log::warn!(
                "the archive says there is more (after {after:?}, before {before:?}) but gives nothing new; this walk ends here"
            );
        }
        let capped = !backward
            && !newest
            && !complete
            && !failed
            && !stuck
            && page.saturating_add(1) >= MAX_FORWARD_PAGES;
        if capped {
            log::warn!(
                "the archive still says there is more after {} forward pages ({} messages \
                 in this one); the catch-up stops here and goes on at the next sign-in",
                page.saturating_add(1),
                batch.len()
            );
        }
        let complete = complete || stuck || capped;
        // A refill after a lost position stops once it reaches the time we had.
        let oldest = batch.iter().map(|m| m.timestamp_ms).min();
        if let Some(t) = oldest {
            self.gap_oldest = Some(self.gap_oldest.map_or(t, |g| g.min(t)));
        }
        let reached = self
            .gap_after
            .is_some_and(|after| backward && oldest.is_some_and(|t| t <= after + SAME_SECOND_MS));
        let newest_ms = batch.iter().map(|m| m.timestamp_ms).max();
        // The next page is asked for now, while this one is stored: the server prepares
        // it meanwhile (5,000 waiting for a first sign-in: 11.2 s before, 7.2 s with it).
        // Only the plain "more of the same" cases; if this page cannot be stored, the
        // next is dropped, and the positions stay where they were.
        let pages = page + 1;
        let ahead = match (backward, &first, &last) {
            _ if failed || complete || reached || newest => None,
            (true, Some(first), _) if pages < MAX_BACKFILL_PAGES => {
                Some(From::Before(first.clone()))
            }
            (false, _, Some(last)) => Some(From::After(last.clone())),
            _ => None,
        };
        let mut actions = Vec::new();
        let prefetched = ahead.is_some();
        if let Some(from) = ahead {
            actions.push(self.query_archive(from, pages));
        }
        // The newest page (a first sign-in, a refill) is what the archive held: history,
        // but for what reached it from the second this catch-up began on, which is news.
        // Forward pages continue it, backward ones go before it.
        let walk = if backward && !newest {
            Walk::Backward
        } else {
            Walk::Forward
        };
        let since = self.catch_up_started_ms - self.catch_up_started_ms.rem_euclid(1000);
        let news_from = match (backward, newest) {
            (false, _) => 0,
            (true, true) => batch
                .iter()
                .position(|m| m.timestamp_ms >= since)
                .unwrap_or(batch.len()),
            (true, false) => batch.len(),
        };
        self.waiting = Waiting::PageStored(Page {
            backward,
            complete,
            first,
            last,
            failed,
            reached,
            newest_ms,
            page,
            newest,
            after,
            before_presence,
            stuck,
            prefetched,
            capped,
        });
        // One page, one insert: its results are anchors for each other.
        actions.push(Action::StorePage {
            walk,
            messages: batch,
            news_from,
        });
        actions
    }

    /// The newest page of the chat on screen ended: what is new in it is news (the
    /// cursor is older than all of it), stored and shown.
    fn peek_page(&mut self, failed: bool) -> Vec<Action> {
        let Some(peek) = self.peek.take() else {
            return Vec::new();
        };
        if failed {
            log::debug!("the archive did not give the chat's newest page");
            return Vec::new();
        }
        // The catch-up brings the older ones later and finds these in its pages.
        self.waiting = Waiting::PeekStored;
        vec![Action::StorePage {
            walk: Walk::Peek,
            messages: peek.batch,
            news_from: 0,
        }]
    }

    /// What the store made of the page of the last [`Action::StorePage`].
    pub fn stored(&mut self, result: Stored) -> Vec<Action> {
        match std::mem::take(&mut self.waiting) {
            Waiting::PeekStored => match result {
                Stored::New { history, news } => vec![Action::Show { history, news }],
                Stored::NoStore | Stored::Failed => Vec::new(),
            },
            Waiting::OlderStored {
                peer,
                batch,
                first,
                complete,
                failed,
            } => {
                let (messages, failed) = match result {
                    Stored::New { mut history, news } => {
                        history.extend(news);
                        (history, failed)
                    }
                    Stored::NoStore => (batch, failed),
                    Stored::Failed => (Vec::new(), true),
                };
                vec![Action::OlderPage {
                    peer,
                    messages,
                    first: if failed { None } else { first },
                    complete: complete && !failed,
                    failed,
                }]
            }
            Waiting::PageStored(page) => match result {
                Stored::New { history, news } => self.page_stored(page, history, news),
                Stored::NoStore | Stored::Failed => {
                    if page.prefetched {
                        self.catch_up = None;
                    }
                    Vec::new()
                }
            },
            other => {
                self.waiting = other;
                Vec::new()
            }
        }
    }

    fn page_stored(
        &mut self,
        page: Page,
        history: Vec<ChatMessage>,
        news: Vec<ChatMessage>,
    ) -> Vec<Action> {
        if page.failed {
            log::warn!("the archive query failed; catch-up stopped");
            return vec![Action::Show { history, news }, Action::CaughtUp];
        }
        let complete = page.complete || page.reached;
        let mut positions = Positions::default();
        if page.backward {
            positions.fill = Some(
                page.first
                    .clone()
                    .filter(|_| !complete && page.page + 1 < MAX_BACKFILL_PAGES),
            );
        }
        // The cursor is the newest archive id stored: forward pages move it, the newest
        // page (of a first sign-in or a refill) sets it. Until the catch-up is complete,
        // where its pages ended goes with it: what arrives live meanwhile is ahead of it,
        // also after a kill.
        if !page.backward || page.newest {
            positions.cursor = page.last.clone().map(|id| CursorSave {
                id,
                // A capped walk is not complete: the next one continues it.
                keep_frontier: page.backward || !complete || page.capped,
                time: page.newest_ms,
            });
        }
        if positions == Positions::default() {
            return self.page_saved(page, history, news, true);
        }
        self.waiting = Waiting::PageSaved(page, history, news);
        vec![Action::SavePositions(positions)]
    }

    /// Whether the positions of the last [`Action::SavePositions`] were saved.
    pub fn saved(&mut self, ok: bool) -> Vec<Action> {
        match std::mem::take(&mut self.waiting) {
            Waiting::PageSaved(page, history, news) => self.page_saved(page, history, news, ok),
            other => {
                self.waiting = other;
                Vec::new()
            }
        }
    }

    fn page_saved(
        &mut self,
        page: Page,
        history: Vec<ChatMessage>,
        news: Vec<ChatMessage>,
        saved: bool,
    ) -> Vec<Action> {
        // Shown only once the positions are saved too: whoever sees these messages may
        // quit at once, and the next run must neither fetch them again as old history
        // nor miss what came after them.
        let mut actions = vec![Action::Show { history, news }];
        if !saved || page.prefetched {
            if !saved && page.prefetched {
                self.catch_up = None;
            }
            return actions;
        }
        let complete = page.complete || page.reached;
        let pages = page.page + 1;
        if page.backward && (complete || page.first.is_none() || pages >= MAX_BACKFILL_PAGES) {
            actions.extend(self.finish_refill(page.reached));
        }
        if page.newest {
            // The newest page was what the archive held when asked (history on a first
            // sign-in); what reached it since comes next, forward and as news, then the
            // older history (from the fill position just saved).
            match page.last {
                Some(last) => actions.push(self.query_archive(From::After(last), pages)),
                // An empty archive, asked before our presence: ask once more, so what
                // arrived in between (archived, not pushed to us) is not missed.
                None if page.before_presence => {
                    actions.push(self.query_archive(From::Newest, pages))
                }
                // An empty archive: everything from now on comes live.
                None => {
                    self.live_moves_cursor = true;
                    actions.push(Action::CaughtUp);
                }
            }
            return actions;
        }
        if complete {
            if !page.backward {
                // Stopped at the page cap: caught up for now. Live messages do not move
                // the position, so the next sign-in continues the walk where it stopped.
                if page.capped {
                    actions.push(Action::CaughtUp);
                    return actions;
                }
                // Asked before our presence went out: a message that reached the server
                // after this page and before the presence was archived but not pushed.
                // Not after a page that did not move: it would be asked for again.
                if page.before_presence
                    && !page.stuck
                    && let Some(after) = page.last.or(page.after)
                {
                    actions.push(self.query_archive(From::After(after), pages));
                    return actions;
                }
                // Caught up forward; finish a backward fill an earlier run left halfway.
                self.live_moves_cursor = true;
                self.waiting = Waiting::FillPosition { pages };
                actions.push(Action::ReadFillPosition);
                return actions;
            }
            actions.push(Action::CaughtUp);
            return actions;
        }
        match (page.backward, page.first, page.last) {
            (false, _, Some(last)) => actions.push(self.query_archive(From::After(last), pages)),
            (true, Some(first), _) if pages < MAX_BACKFILL_PAGES => {
                actions.push(self.query_archive(From::Before(first), pages))
            }
            _ => actions.push(Action::CaughtUp),
        }
        actions
    }

    /// The saved fill position, read after the forward catch-up completed.
    pub fn fill_position(&mut self, oldest: Option<String>) -> Vec<Action> {
        let Waiting::FillPosition { pages } = std::mem::take(&mut self.waiting) else {
            return Vec::new();
        };
        match oldest {
            // The floor stays: in this stream it is where the newest page ended (a new
            // stream starts without one).
            Some(oldest) => {
                log::info!("resuming the history fill before {oldest}");
                vec![self.query_archive(From::Before(oldest), pages)]
            }
            None => vec![Action::CaughtUp],
        }
    }

    /// The cursor is forgotten and the gap's start saved (`Some(start)`), or that could
    /// not be written (`None`): refill from the archive's newest end.
    pub fn position_forgotten(&mut self, gap_after: Option<i64>) -> Vec<Action> {
        if !matches!(self.waiting, Waiting::PositionForgotten) {
            return Vec::new();
        }
        self.waiting = Waiting::Nothing;
        let Some(after) = gap_after else {
            return Vec::new();
        };
        log::warn!("the archive no longer has our position; refilling from its newest end");
        self.gap_after = Some(after);
        self.gap_oldest = None;
        self.live_moves_cursor = false;
        vec![
            Action::EndWalk(Walk::Backward),
            Action::StartWalk {
                walk: Walk::Forward,
                frontier: None,
            },
            self.query_archive(From::Newest, 0),
        ]
    }

    /// A refill after a lost position ended. If it reached back to what we had, nothing
    /// is missing; otherwise the time between is a gap the conversations show.
    fn finish_refill(&mut self, reached: bool) -> Option<Action> {
        let after_ms = self.gap_after.take()?;
        let gap = self
            .gap_oldest
            .take()
            .filter(|_| !reached)
            .filter(|before| *before > after_ms + SAME_SECOND_MS)
            .map(|before_ms| HistoryGap {
                after_ms,
                before_ms,
            });
        Some(Action::FinishRefill(gap))
    }
}

/// Whether a catch-up page the archive says is "not complete" does not move: it says
/// nothing of where it ends (no ids: an empty page), or ends where we asked it to begin (a
/// backward page whose first id is the one we asked before, a forward page whose last
/// id is the one we asked after). Asked for again it would come back the same, without
/// end (issue #20: a lying archive was asked for the same forward page without end, and
/// for the same backward page 200 times).
fn stuck(
    backward: bool,
    first: &Option<String>,
    last: &Option<String>,
    before: &Option<String>,
    after: &Option<String>,
) -> bool {
    // Not "no message in it": a page of receipts or markers only has nothing to store
    // and still moves (a_page_of_receipts_only_does_not_end_the_fill).
    if backward {
        first.is_none() || first == before
    } else {
        last.is_none() || last == after
    }
}
