//! A conversation opened at a message far back (a search result), or read back past a
//! few pages: the messages around it, read from the store, not the whole way from
//! there to the newest (at most [`WINDOW_SHOWN`] held at once). Newer
//! messages come in pages as the reader scrolls down (or with "Show newer messages"),
//! or all at once with "Jump to the newest". Until the window reaches the newest end,
//! live messages (stored already) wait aside and join when it does.

use super::{Event, FOLLOW_SHOWN, Message, PAGE, Problem, State, WINDOW_SHOWN};
use crate::ids::LocalMessageId;
use crate::model::ChatMessage;
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use iced::widget::{button, container, row, text};
use iced::{Alignment, Element, Length};

/// Messages asked for on each side of the one opened at.
pub const AROUND: usize = PAGE / 2;

/// Live messages that came while a stretch of older history shows, in arrival order:
/// the newest [`FOLLOW_SHOWN`] (older ones are reached through the store's pages).
/// For chats and rooms.
#[derive(Debug, Clone, Default)]
pub struct Held(Vec<ChatMessage>);

impl Held {
    /// Keeps `message` aside, unless it is `shown` already or kept.
    pub fn keep(&mut self, message: ChatMessage, shown: bool) {
        if !shown && !self.0.iter().any(|m| m.id == message.id) {
            self.0.push(message);
            if self.0.len() > FOLLOW_SHOWN {
                self.0.remove(0);
            }
        }
    }

    /// The messages kept, oldest first, to join the newest end.
    pub fn take(&mut self) -> Vec<ChatMessage> {
        std::mem::take(&mut self.0)
    }
}

#[derive(Debug, Default)]
pub struct Window {
    /// Waiting for the messages around this one.
    pending: Option<LocalMessageId>,
    /// The store has newer messages than those shown.
    newer: bool,
    /// A page of newer ones is on its way.
    loading: bool,
    /// Live messages that came meanwhile.
    held: Held,
    /// Where the search matched in the message asked for, until it shows.
    marks: Vec<std::ops::Range<usize>>,
}

impl State {
    /// Is the chat showing a stretch of its history that does not reach the newest
    /// end (or about to)?
    pub fn in_window(&self) -> bool {
        self.window.pending.is_some() || self.window.newer
    }

    /// Opens at message `id` (a search result), highlighted: at once when it is on
    /// screen; else the messages around it are asked of the store.
    /// `marks`: where the search matched in its text.
    pub fn open_at(
        &mut self,
        id: &LocalMessageId,
        marks: Vec<std::ops::Range<usize>>,
    ) -> Option<Event> {
        self.window.marks = marks;
        if self.messages.iter().any(|m| &m.id == id) {
            self.actions.highlight = Some(id.clone());
            self.actions.marks = std::mem::take(&mut self.window.marks);
            return Some(Event::Show);
        }
        if !self.stored {
            return None;
        }
        self.window.pending = Some(id.clone());
        Some(Event::LoadAround(id.clone()))
    }

    /// The messages around the one asked for arrived (oldest first): they replace
    /// what is shown, the one asked for highlighted. `Newest` when it could not be
    /// read (gone meanwhile): the chat goes back to its newest page.
    pub fn around_loaded(&mut self, result: Result<Vec<ChatMessage>, String>) -> Option<Event> {
        let target = self.window.pending.take()?;
        let page = match result {
            Ok(page) => page,
            Err(detail) => {
                self.problem = Some(Problem::History(detail));
                return Some(Event::Newest);
            }
        };
        let Some(at) = page.iter().position(|m| m.id == target) else {
            return Some(Event::Newest);
        };
        let after = page.len() - at - 1;
        self.messages.clear();
        self.ids.clear();
        self.unfolded.clear();
        self.unread = 0;
        self.unread_from = None;
        for m in page {
            if self.ids.insert(m.id.clone()) {
                self.messages.push(m);
            }
        }
        self.loaded = true;
        self.loading_older = false;
        // Older pages come from the store again, then the archive.
        self.store_done = false;
        self.exhausted = false;
        self.archive_cursor = None;
        self.following = false;
        self.window.newer = after >= AROUND;
        if !self.window.newer {
            self.join_held();
        }
        self.actions.highlight = Some(target);
        self.actions.marks = std::mem::take(&mut self.window.marks);
        Some(Event::Show)
    }

    /// The next page of newer messages, unless one is on its way or the newest end
    /// is shown.
    pub(super) fn load_newer(&mut self) -> Option<Event> {
        if !self.window.newer || self.window.loading || self.window.pending.is_some() {
            return None;
        }
        let newest = self.messages.last()?.id.clone();
        self.window.loading = true;
        Some(Event::LoadNewer(newest))
    }

    /// A page of newer messages arrived (oldest first). A short one reaches the
    /// newest end: the held live messages join.
    pub fn newer_loaded(&mut self, result: Result<Vec<ChatMessage>, String>) {
        self.window.loading = false;
        let page = match result {
            Ok(page) => page,
            Err(detail) => {
                self.problem = Some(Problem::History(detail));
                return;
            }
        };
        let short = page.len() < PAGE;
        for m in page {
            if self.ids.insert(m.id.clone()) {
                self.messages.push(m);
                // Below the reader now: they stay where they are (the list's anchor)
                // until they scroll down to it.
                self.following = false;
            }
        }
        if short {
            self.window.newer = false;
            self.join_held();
            // The bar under the list goes: what is on screen stays put all the same.
            self.following = false;
        }
        // The oldest leave the view as the reader goes down; the store has them.
        if self.messages.len() > WINDOW_SHOWN {
            let excess = self.messages.len() - WINDOW_SHOWN;
            for gone in self.messages.drain(..excess) {
                self.ids.remove(&gone.id);
                self.unfolded.remove(&gone.id);
            }
            self.store_done = false;
            self.exhausted = false;
        }
    }

    /// An older page came in: the newest beyond [`WINDOW_SHOWN`] leave the view, and
    /// the chat shows a stretch of its history from then on (newer pages come back
    /// from the store on scrolling down, live messages wait). Only stored history can
    /// be read back.
    pub(super) fn drop_newest(&mut self) {
        if !self.stored || self.messages.len() <= WINDOW_SHOWN {
            return;
        }
        for gone in self.messages.drain(WINDOW_SHOWN..) {
            self.ids.remove(&gone.id);
            self.unfolded.remove(&gone.id);
        }
        self.window.newer = true;
        self.following = false;
    }

    /// A live message while the window does not reach the newest end: kept aside.
    /// Always `false` (nothing new on screen).
    pub(super) fn hold(&mut self, message: ChatMessage) -> bool {
        let shown = self.ids.contains(&message.id);
        self.window.held.keep(message, shown);
        false
    }

    fn join_held(&mut self) {
        for m in self.window.held.take() {
            if self.ids.insert(m.id.clone()) {
                self.messages.push(m);
            }
        }
    }

    /// "Jump to the newest": the window closes and the chat is as on opening, its
    /// newest page to be read again (the app does).
    pub fn leave_window(&mut self) {
        self.window = Window::default();
        self.messages.clear();
        self.ids.clear();
        self.unfolded.clear();
        self.loaded = false;
        self.loading_older = false;
        self.store_done = false;
        self.exhausted = false;
        self.archive_cursor = None;
        self.following = true;
        self.actions.highlight = None;
    }

    /// The bar under the list while newer messages are not shown.
    pub(super) fn window_bar(&self, lang: Lang) -> Option<Element<'_, Message>> {
        self.window.newer.then(|| {
            bar(
                lang,
                self.window.loading,
                Message::LoadNewer,
                Message::Newest,
            )
        })
    }
}

/// "You are reading older messages", with Show newer messages (`newer`, waiting while
/// a page is `loading`) and Jump to the newest (`newest`); for chats and rooms.
pub fn bar<'a, M: Clone + 'a>(lang: Lang, loading: bool, newer: M, newest: M) -> Element<'a, M> {
    let newer = button(text(tr(lang, T::ShowNewer)).size(13))
        .padding([2, 6])
        .style(theme::link_button)
        .on_press_maybe((!loading).then_some(newer));
    let newest = button(text(tr(lang, T::JumpToNewest)).size(13))
        .padding([2, 6])
        .style(theme::link_button)
        .on_press(newest);
    container(
        row![
            text(tr(lang, T::ReadingOlder))
                .size(13)
                .style(theme::muted)
                .width(Length::Fill),
            newer,
            newest,
        ]
        .spacing(8)
        .align_y(Alignment::Center),
    )
    .padding([4, 12])
    .width(Length::Fill)
    .style(theme::bar)
    .into()
}
