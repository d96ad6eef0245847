//! What goes into the history sync and what comes out of it.

use super::Walk;
use crate::model::ChatMessage;
use crate::store::HistoryGap;
use crate::xmpp::mam::From;
use xmpp_parsers::jid::BareJid;

/// What was saved of the account's catch-up, read when a new stream starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Saved {
    /// The newest archive id stored.
    pub cursor: Option<String>,
    /// With a cursor: the newest time we have everything up to (the cursor's page's
    /// newest message, or the newest stored time when that was not kept).
    pub known_until: Option<i64>,
    /// A refill after a lost position did not finish: the time it must reach back to.
    pub gap_after: Option<i64>,
    /// Where an unfinished catch-up's pages ended (see the module doc).
    pub frontier: Option<String>,
}

/// The end of one archive page, as the protocol reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageEnd {
    pub queryid: String,
    pub backward: bool,
    pub complete: bool,
    /// The RSM set's first and last archive ids.
    pub first: Option<String>,
    pub last: Option<String>,
    /// The query failed (an error answer or a timeout).
    pub failed: bool,
    /// ... with item-not-found: the archive does not know the id we asked after.
    pub gone: bool,
}

/// What the store made of a page ([`Action::StorePage`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// Stored; the messages that were new, those before `news_from` and those after.
    New {
        history: Vec<ChatMessage>,
        news: Vec<ChatMessage>,
    },
    /// This session has no store: nothing was kept.
    NoStore,
    /// Could not be stored (the actor said why): positions must stay where they are.
    Failed,
}

/// The cursor write of [`Positions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorSave {
    pub id: String,
    /// Save the forward walk's frontier with it (else remove the saved one).
    pub keep_frontier: bool,
    /// The newest message time of the page that set it.
    pub time: Option<i64>,
}

/// Positions to save after a stored page, in this order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions {
    /// The fill position: set (`Some(id)`) or remove (`None`); untouched when absent.
    pub fill: Option<Option<String>>,
    pub cursor: Option<CursorSave>,
}

/// What the actor is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Ask the account's archive (`ProtoState::mam_query_as`).
    Query {
        queryid: String,
        from: From,
    },
    /// Start a walk afresh (a forward one continuing `frontier` when given).
    StartWalk {
        walk: Walk,
        frontier: Option<String>,
    },
    EndWalk(Walk),
    /// Store one page of `walk` (one flush), the new incoming ones from `news_from` on
    /// as unread. Answer: [`HistorySync::stored`].
    StorePage {
        walk: Walk,
        messages: Vec<ChatMessage>,
        news_from: usize,
    },
    /// Answer: [`HistorySync::saved`].
    SavePositions(Positions),
    /// The archive lost our position: save the pending gap's start (`known_until`, or
    /// the newest stored time), then remove the cursor. Answer:
    /// [`HistorySync::position_forgotten`].
    ForgetPosition {
        known_until: Option<i64>,
    },
    /// A refill ended: record `gap` if any, remove the pending gap, and show the gap
    /// once it is saved.
    FinishRefill(Option<HistoryGap>),
    /// Read the fill position. Answer: [`HistorySync::fill_position`].
    ReadFillPosition,
    /// Show what a page added: older history (read), then news.
    Show {
        history: Vec<ChatMessage>,
        news: Vec<ChatMessage>,
    },
    /// The catch-up of this stream is over.
    CaughtUp,
    /// A page of a chat's older history, for the UI (`UpdateKind::ChatOlder`).
    OlderPage {
        peer: BareJid,
        messages: Vec<ChatMessage>,
        first: Option<String>,
        complete: bool,
        failed: bool,
    },
}
