//! The quick switcher (Ctrl+K): every conversation (rooms marked "#") and contact of
//! every account in one list; typing filters it, Up/Down choose, Enter opens, Esc closes.

use crate::ids::AccountId;
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use crate::ui::widgets;
use iced::widget::{button, column, container, row, scrollable, text, text_input};
use iced::{Alignment, Element, Length};
use std::collections::HashSet;
use xmpp_parsers::jid::BareJid;

/// The widget id of the switcher's field.
pub const INPUT_ID: &str = "switcher-input";
/// The widget id of the switcher's panel.
pub const PANEL_ID: &str = "switcher-panel";
/// How many matches are shown at most.
const SHOWN: usize = 12;

#[derive(Debug, Clone)]
pub enum Message {
    Query(String),
    Submit,
    Pick(AccountId, BareJid),
    Close,
}

/// What the switcher asks of the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Open { account: AccountId, peer: BareJid },
    Close,
}

/// One line: a conversation or a contact, with the account it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub account: AccountId,
    pub peer: BareJid,
    pub label: String,
    pub account_label: String,
    pub colour: [u8; 3],
    pub unread: u32,
}

/// Conversations first (most recent first), then the contacts without one, by name.
pub fn entries(accounts: &[AccountState]) -> Vec<Entry> {
    let mut conversations: Vec<(i64, Entry)> = Vec::new();
    let mut seen: HashSet<(&AccountId, &BareJid)> = HashSet::new();
    for state in accounts {
        for c in &state.conversations {
            seen.insert((&state.account.id, &c.peer));
            let mut line = entry(state, &c.peer, c.unread);
            if c.room {
                line.label = format!("# {}", crate::ui::screen::sidebar::room_label(&c.peer));
            }
            conversations.push((c.last_activity_ms, line));
        }
    }
    conversations.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let mut contacts: Vec<Entry> = accounts
        .iter()
        .flat_map(|state| {
            state
                .contacts
                .keys()
                .filter(|jid| !seen.contains(&(&state.account.id, *jid)))
                .map(move |jid| entry(state, jid, 0))
        })
        .collect();
    contacts.sort_by_cached_key(|e| (e.label.to_lowercase(), e.peer.clone()));
    conversations
        .into_iter()
        .map(|(_, e)| e)
        .chain(contacts)
        .collect()
}

fn entry(state: &AccountState, peer: &BareJid, unread: u32) -> Entry {
    Entry {
        account: state.account.id.clone(),
        peer: peer.clone(),
        label: state.peer_label(peer),
        account_label: state.account.label(),
        colour: state.account.colour(),
        unread,
    }
}

/// The entries matching `query`: every word must be in the name, the address or the
/// account's name (case does not matter).
pub fn filter<'a>(entries: &'a [Entry], query: &str) -> Vec<&'a Entry> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    entries
        .iter()
        .filter(|e| {
            let hay = format!("{} {} {}", e.label, e.peer, e.account_label).to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect()
}

#[derive(Debug, Clone, Default)]
pub struct State {
    query: String,
    selected: usize,
}

impl State {
    pub fn new() -> Self {
        State::default()
    }

    pub fn query(&self) -> &str {
        &self.query
    }

    /// Moves the highlighted line (Up / Down), staying inside the matches.
    pub fn step(&mut self, down: bool, accounts: &[AccountState]) {
        let all = entries(accounts);
        let count = filter(&all, &self.query).len().min(SHOWN);
        self.selected = if down {
            (self.selected + 1).min(count.saturating_sub(1))
        } else {
            self.selected.saturating_sub(1)
        };
    }

    pub fn update(&mut self, message: Message, accounts: &[AccountState]) -> Option<Event> {
        match message {
            Message::Query(query) => {
                self.query = query;
                self.selected = 0;
                None
            }
            Message::Submit => {
                let all = entries(accounts);
                let matches = filter(&all, &self.query);
                matches
                    .get(self.selected)
                    .or(matches.first())
                    .map(|e| Event::Open {
                        account: e.account.clone(),
                        peer: e.peer.clone(),
                    })
            }
            Message::Pick(account, peer) => Some(Event::Open { account, peer }),
            Message::Close => Some(Event::Close),
        }
    }

    pub fn view<'a>(&'a self, lang: Lang, accounts: &'a [AccountState]) -> Element<'a, Message> {
        let all = entries(accounts);
        let matches = filter(&all, &self.query);
        let multi = accounts.len() > 1;
        let input = text_input(tr(lang, T::SwitcherPlaceholder), &self.query)
            .id(INPUT_ID)
            .on_input(Message::Query)
            .on_submit(Message::Submit)
            .size(16)
            .padding(10)
            .style(theme::input);
        let mut list = column![].spacing(2);
        if matches.is_empty() {
            list = list.push(
                container(
                    text(tr(lang, T::SwitcherEmpty))
                        .size(13)
                        .style(theme::muted),
                )
                .padding(8),
            );
        }
        for (index, e) in matches.into_iter().take(SHOWN).enumerate() {
            let mut names = column![text(e.label.clone()).size(14)].spacing(1);
            if e.label != e.peer.as_str() {
                names = names.push(text(e.peer.to_string()).size(11).style(theme::muted));
            }
            let mut line = row![names.width(Length::Fill)]
                .spacing(8)
                .align_y(Alignment::Center);
            if multi {
                line = line.push(
                    row![
                        widgets::chip(e.colour, 10),
                        text(widgets::short(&e.account_label, 18))
                            .size(11)
                            .style(theme::muted),
                    ]
                    .spacing(4)
                    .align_y(Alignment::Center),
                );
            }
            if e.unread > 0 {
                line = line.push(widgets::unread(e.unread, true));
            }
            list = list.push(
                button(line)
                    .width(Length::Fill)
                    .padding([5, 8])
                    .style(theme::list_item(index == self.selected))
                    .on_press(Message::Pick(e.account.clone(), e.peer.clone())),
            );
        }
        container(column![input, scrollable(list).height(Length::Shrink)].spacing(8))
            .id(PANEL_ID)
            .max_width(560)
            .padding(12)
            .style(theme::card)
            .into()
    }
}
