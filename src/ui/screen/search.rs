//! Search (issue #19): the field above the inbox and, while it holds a query or a
//! filter, the results in place of the lists: newest first, each with its
//! conversation, account, sender, time and a snippet with the matches marked. Results
//! come from the index off the UI thread as the person types (the last word matches
//! as the start of a word while it is typed); clicking one opens its conversation at
//! the message. Ctrl+Shift+F searches everything, Ctrl+F the open conversation; Esc
//! empties the field and the filters.
//!
//! Filters: the conversation (Ctrl+F, or a result's conversation), the sender (a
//! result's sender), a period, files, links; the account follows the sidebar's account
//! filter. Messages from people an account blocks are never found.

mod view;

use crate::ids::{AccountId, ConversationId};
use crate::model::ChatMessage;
use crate::search::{Filters, Found, SearchIndex, Sender};
use crate::ui::app::startup::blocking;
use iced::Task;
use std::sync::Arc;

/// The search field (Ctrl+Shift+F and Ctrl+F focus it).
pub const FIELD_ID: &str = "search-all";
/// Results shown at most.
const LIMIT: usize = 50;
/// Characters of a result's snippet.
const SNIPPET: usize = 90;

/// How far back to look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Period {
    #[default]
    Any,
    Day,
    Week,
    Month,
    Year,
}

impl Period {
    pub const ALL: [Period; 5] = [
        Period::Any,
        Period::Day,
        Period::Week,
        Period::Month,
        Period::Year,
    ];

    /// The oldest time it takes in, for a search made at `now_ms`.
    fn since(self, now_ms: i64) -> Option<i64> {
        const DAY: i64 = 24 * 3600 * 1000;
        let days = match self {
            Period::Any => return None,
            Period::Day => 1,
            Period::Week => 7,
            Period::Month => 30,
            Period::Year => 365,
        };
        Some(now_ms - days * DAY)
    }
}

/// A filter with the name it shows under.
#[derive(Debug, Clone, PartialEq)]
pub struct Named<F> {
    pub value: F,
    pub name: String,
}

impl<F> std::fmt::Display for Named<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// Only this conversation (of this account).
pub type Within = Named<(AccountId, ConversationId)>;
/// Only from this sender (in this account).
pub type From = Named<(AccountId, Sender)>;

#[derive(Debug, Default)]
pub struct State {
    query: String,
    /// Bumped with each query; older answers are dropped.
    asked: u64,
    results: Vec<Found>,
    /// The query and filters the results are for.
    answered: Option<(String, Filters)>,
    error: Option<String>,
    /// Only this conversation (Ctrl+F, or picked among the results').
    within: Option<Within>,
    /// Only from this sender (picked among the results').
    from: Option<From>,
    period: Period,
    has_file: bool,
    has_link: bool,
    /// How far a rebuild of the index is (done, total), while one runs.
    indexing: Option<(u64, u64)>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Query(String),
    Results(u64, Filters, Result<Vec<Found>, String>),
    Open(usize),
    /// Only this conversation, or all.
    Within(Option<Within>),
    /// Only this sender, or anyone.
    From(Option<From>),
    /// Only this account, or all (the sidebar's account filter).
    Account(Option<AccountId>),
    /// Ask again (the account filter or the blocklist changed, or Ctrl+F).
    Again,
    Period(Period),
    /// Time to look at a running rebuild of the index.
    Tick,
    Files(bool),
    Links(bool),
    Clear,
}

/// What the search asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    /// Open the conversation of this message, at the message.
    Open(Box<ChatMessage>),
    /// Filter to this account (the sidebar's filter too); the app asks again.
    Account(Option<AccountId>),
}

/// What a search needs from the app besides the query.
#[derive(Debug, Default)]
pub struct Ask {
    pub index: Option<Arc<SearchIndex>>,
    /// The account the sidebar is filtered to.
    pub account: Option<AccountId>,
    /// Each account's blocked contacts (their messages are never found).
    pub hidden: Vec<(AccountId, Sender)>,
    /// Each account's blocked domains.
    pub hidden_domains: Vec<(AccountId, String)>,
}

impl State {
    /// Is a query typed or a filter set (the results show instead of the lists)? A
    /// conversation alone (Ctrl+F before typing) is not a search yet.
    pub fn is_active(&self) -> bool {
        !self.query.trim().is_empty()
            || self.from.is_some()
            || self.period != Period::Any
            || self.has_file
            || self.has_link
    }

    /// Ctrl+F: search only this conversation, named `name`.
    pub fn search_within(
        &mut self,
        account: AccountId,
        conversation: ConversationId,
        name: String,
    ) {
        self.within = Some(Named {
            value: (account, conversation),
            name,
        });
    }

    /// Ctrl+Shift+F: search everything (the conversation filter goes).
    pub fn search_everywhere(&mut self) {
        self.within = None;
    }

    /// The filters as the index takes them.
    fn filters(&self, ask: &Ask) -> Filters {
        let (within_account, conversation) = match &self.within {
            Some(w) => (Some(w.value.0.clone()), Some(w.value.1.clone())),
            None => (None, None),
        };
        let (from_account, from) = match &self.from {
            Some(f) => (Some(f.value.0.clone()), Some(f.value.1.clone())),
            None => (None, None),
        };
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Filters {
            account: within_account.or(from_account).or(ask.account.clone()),
            conversation,
            from,
            since_ms: self.period.since(now_ms),
            until_ms: None,
            has_file: self.has_file,
            has_link: self.has_link,
            hidden: ask.hidden.clone(),
            typing: true,
        }
    }

    /// Asks the index again for the query and filters as they are now.
    fn ask(&mut self, ask: &Ask) -> Task<Message> {
        self.asked += 1;
        if !self.is_active() {
            self.results.clear();
            self.answered = None;
            self.error = None;
            return Task::none();
        }
        let Some(index) = ask.index.clone() else {
            return Task::none();
        };
        let (asked, query, filters) = (self.asked, self.query.clone(), self.filters(ask));
        let domains = ask.hidden_domains.clone();
        let answer = filters.clone();
        Task::perform(
            blocking(move || {
                index
                    .search_in_store(&query, &filters, LIMIT, SNIPPET)
                    .map(|found| {
                        found
                            .into_iter()
                            .filter(|f| !blocked_domain(&f.message, &domains))
                            .collect()
                    })
                    .map_err(|e| e.to_string())
            }),
            move |result| Message::Results(asked, answer.clone(), result.and_then(|r| r)),
        )
    }

    pub fn update(&mut self, message: Message, ask: &Ask) -> (Task<Message>, Option<Event>) {
        let found = |s: &Self, i: usize| s.results.get(i).map(|f| f.message.clone());
        match message {
            Message::Query(query) => {
                self.query = query;
            }
            Message::Results(asked, filters, result) => {
                if asked == self.asked {
                    match result {
                        Ok(found) => {
                            self.results = found;
                            self.answered = Some((self.query.clone(), filters));
                            self.error = None;
                        }
                        Err(e) => self.error = Some(e),
                    }
                }
                return (Task::none(), None);
            }
            Message::Open(i) => {
                return (
                    Task::none(),
                    found(self, i).map(|m| Event::Open(Box::new(m))),
                );
            }
            Message::Within(within) => self.within = within,
            Message::From(from) => self.from = from,
            Message::Tick => {
                let was = self.indexing;
                self.indexing = ask.index.as_ref().and_then(|i| i.progress());
                // Done: what is typed is asked again, of the whole index now.
                if was.is_none() || self.indexing.is_some() {
                    return (Task::none(), None);
                }
            }
            Message::Account(account) => return (Task::none(), Some(Event::Account(account))),
            Message::Again => {}
            Message::Period(p) => self.period = p,
            Message::Files(on) => self.has_file = on,
            Message::Links(on) => self.has_link = on,
            Message::Clear => {
                self.query.clear();
                self.within = None;
                self.from = None;
                self.period = Period::Any;
                self.has_file = false;
                self.has_link = false;
            }
        }
        (self.ask(ask), None)
    }

    /// What is typed.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Is a rebuild's progress on screen (it goes at the next tick once done)?
    pub fn indexing_shown(&self) -> bool {
        self.indexing.is_some()
    }

    /// Is the search narrowed to a conversation?
    pub fn within(&self) -> Option<&(AccountId, ConversationId)> {
        self.within.as_ref().map(|w| &w.value)
    }
}

/// A running rebuild in words.
pub fn indexing_words(lang: crate::ui::i18n::Lang, done: u64, total: u64) -> String {
    use crate::ui::i18n::{T, tr, trf};
    if total == 0 {
        return tr(lang, T::IndexingStarting).to_owned();
    }
    trf(
        lang,
        T::Indexing,
        &[("done", &done.to_string()), ("total", &total.to_string())],
    )
}

/// Is this message's sender in a domain its account blocks?
fn blocked_domain(m: &ChatMessage, domains: &[(AccountId, String)]) -> bool {
    let ConversationId::Chat(peer) = &m.conversation else {
        return false;
    };
    m.direction == crate::model::Direction::Incoming
        && domains
            .iter()
            .any(|(a, d)| *a == m.account && peer.domain().as_str() == d)
}
