//! A room opened at a message far back (a search result), as a chat is (see
//! `ui::chat::window`): the messages around it from the store, newer ones a page at a
//! time or all at once ("Jump to the newest"); live messages meanwhile wait aside.

use crate::ids::{AccountId, ConversationId, LocalMessageId};
use crate::model::ChatMessage;
use crate::ui::app::startup::blocking;
use crate::ui::chat::{AROUND, Held, PAGE, WINDOW_SHOWN};
use crate::ui::i18n::Lang;
use crate::ui::room::history::{self, contains};
use crate::ui::room::joined::{LIST_ID, Line, Message as RoomMessage, Older, Room};
use crate::ui::{App, Message};
use iced::{Element, Task};
use xmpp_parsers::jid::BareJid;

#[derive(Debug, Clone, Default)]
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

/// What the room's window asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// The page after the newest message shown.
    Newer,
    /// Back to the newest messages.
    Newest,
}

impl Room {
    /// Is the room showing a stretch of its history that does not reach the newest
    /// end (or about to)?
    pub fn in_window(&self) -> bool {
        self.window.pending.is_some() || self.window.newer
    }

    /// A message newer than everything shown while the stretch does not reach the
    /// newest end: kept aside (counted unread as usual when the room is not `open`).
    pub fn hold(&mut self, message: ChatMessage, open: bool) {
        self.count(&message, open);
        let shown = contains(self, &message);
        self.window.held.keep(message, shown);
    }

    /// Would this message go after everything shown?
    pub fn is_beyond(&self, message: &ChatMessage) -> bool {
        self.lines
            .iter()
            .rev()
            .find_map(|l| match l {
                Line::Chat(m) => Some(m.timestamp_ms),
                Line::Notes(_) => None,
            })
            .is_none_or(|t| t < message.timestamp_ms)
    }

    fn join_held(&mut self) {
        for m in self.window.held.take() {
            if !contains(self, &m) {
                self.lines.push(Line::Chat(Box::new(m)));
                history::settle_last(self);
            }
        }
    }

    /// The bar under the list while newer messages are not shown.
    pub(super) fn window_bar(&self, lang: Lang) -> Option<Element<'_, RoomMessage>> {
        self.window.newer.then(|| {
            crate::ui::chat::window_bar(
                lang,
                self.window.loading,
                RoomMessage::LoadNewer,
                RoomMessage::Newest,
            )
        })
    }

    /// An older page came in (oldest first, from the store or the archive): above
    /// every line; the newest beyond [`WINDOW_SHOWN`] leave the view and the room
    /// shows a stretch of its history from then on (newer pages come back from the
    /// store on scrolling down, live messages wait). Only `stored` history can be
    /// read back.
    pub fn older_loaded(&mut self, page: Vec<ChatMessage>, stored: bool) {
        history::merge_older(self, page);
        if self.older == Older::Loading {
            self.older = Older::Available;
        }
        if !stored {
            return;
        }
        let mut chats = 0;
        let Some(cut) = self.lines.iter().position(|l| {
            chats += usize::from(matches!(l, Line::Chat(_)));
            chats > WINDOW_SHOWN
        }) else {
            return;
        };
        for gone in self.lines.drain(cut..) {
            if let Line::Chat(m) = gone {
                self.unfolded.remove(&m.id);
            }
        }
        self.window.newer = true;
        self.following = false;
    }

    /// A page of newer messages arrived (oldest first): after every line; a short one
    /// reaches the newest end and the held live messages join. The oldest beyond
    /// [`WINDOW_SHOWN`] leave the view: true when they did (the store has them).
    pub fn newer_loaded(&mut self, page: Vec<ChatMessage>) -> bool {
        self.window.loading = false;
        let short = page.len() < PAGE;
        for m in page {
            if !contains(self, &m) {
                self.lines.push(Line::Chat(Box::new(m)));
            }
        }
        // Below the reader now: they stay where they are (the list's anchor) until
        // they scroll down to it.
        self.following = false;
        if short {
            self.window.newer = false;
            self.join_held();
        }
        history::drop_oldest(self, WINDOW_SHOWN)
    }

    /// Scrolled down to the end of the stretch: the next newer page, unless one is on
    /// its way.
    pub(super) fn wants_newer(&mut self) -> bool {
        if !self.window.newer || self.window.loading || self.window.pending.is_some() {
            return false;
        }
        self.window.loading = true;
        true
    }
}

impl App {
    /// Opens the room at message `id` (a search result), highlighted: at once when it
    /// is on screen, else with the messages around it read from the store.
    pub(in crate::ui) fn room_open_at(
        &mut self,
        account: AccountId,
        room: BareJid,
        id: &LocalMessageId,
        marks: Vec<std::ops::Range<usize>>,
    ) -> Task<Message> {
        let open = self.open_room(account.clone(), room.clone());
        let Some(r) = self.rooms.rooms.get_mut(&(account.clone(), room.clone())) else {
            return open;
        };
        if r.lines
            .iter()
            .any(|l| matches!(l, Line::Chat(m) if m.id == *id))
        {
            r.actions.highlight = Some(id.clone());
            r.actions.marks = marks;
            return Task::batch([open, crate::ui::timeline::actions::show(LIST_ID)]);
        }
        r.window.marks = marks;
        let Some(store) = self.store.clone() else {
            return open;
        };
        r.window.pending = Some(id.clone());
        let conversation = ConversationId::Room(room);
        let (a, c, id) = (account.clone(), conversation.clone(), id.clone());
        let read = Task::perform(
            blocking(move || store.around(&a, &c, &id, AROUND).map_err(|e| e.to_string())),
            move |result| Message::ChatWindow {
                account: account.clone(),
                conversation: conversation.clone(),
                around: true,
                result: result.and_then(|r| r),
            },
        );
        Task::batch([open, read])
    }

    /// Opens the room's private chat with `nick` at message `id` (a search result),
    /// highlighted with its `marks`: shown at once when it is there, else its stored
    /// pages are read back until it is (private chats are short).
    pub(in crate::ui) fn private_open_at(
        &mut self,
        account: AccountId,
        room: BareJid,
        nick: String,
        id: &LocalMessageId,
        marks: Vec<std::ops::Range<usize>>,
    ) -> Task<Message> {
        use crate::ui::room::private::Event as PrivateEvent;
        let open = self.open_room(account.clone(), room.clone());
        let Some(r) = self.rooms.rooms.get_mut(&(account.clone(), room.clone())) else {
            return open;
        };
        let first = r.update(RoomMessage::OpenPrivate(nick.clone()));
        let Some(p) = r.privates.get_mut(&nick) else {
            return open;
        };
        p.actions.seeking = Some((id.0.clone(), crate::ui::timeline::actions::SEEK_PAGES));
        p.actions.marks = marks;
        let next = match first {
            // Its first page is read now; the seek goes on when it comes.
            Some(crate::ui::room::joined::Event::LoadPrivate { nick, before }) => {
                return Task::batch([open, self.private_load(account, room, nick, before)]);
            }
            _ => p.seek_step(),
        };
        let step = match next {
            Some(PrivateEvent::Show) => {
                crate::ui::timeline::actions::show(crate::ui::room::private::PRIVATE_LIST_ID)
            }
            Some(PrivateEvent::LoadStored(before)) => {
                self.private_load(account, room, nick, before)
            }
            _ => Task::none(),
        };
        Task::batch([open, step])
    }

    /// Newer messages, or back to the newest, in the open room.
    pub(in crate::ui) fn room_window(
        &mut self,
        account: AccountId,
        room: BareJid,
        ask: Ask,
    ) -> Task<Message> {
        let key = (account.clone(), room.clone());
        let Some(r) = self.rooms.rooms.get_mut(&key) else {
            return Task::none();
        };
        if ask == Ask::Newest {
            r.window = Window::default();
            r.lines.clear();
            r.older = Older::Available;
            r.following = true;
            r.actions.highlight = None;
            self.rooms.paging.remove(&key);
            return self.load_latest(account, room);
        }
        let newest = r.lines.iter().rev().find_map(|l| match l {
            Line::Chat(m) => Some(m.id.clone()),
            Line::Notes(_) => None,
        });
        let (Some(store), Some(newest)) = (self.store.clone(), newest) else {
            r.window.loading = false;
            return Task::none();
        };
        let conversation = ConversationId::Room(room);
        let (a, c) = (account.clone(), conversation.clone());
        Task::perform(
            blocking(move || {
                store
                    .after(&a, &c, &newest, PAGE)
                    .map_err(|e| e.to_string())
            }),
            move |result| Message::ChatWindow {
                account: account.clone(),
                conversation: conversation.clone(),
                around: false,
                result: result.and_then(|r| r),
            },
        )
    }

    /// A stretch of the room's history arrived: the messages around the one asked
    /// for (`around`), or the page after the newest shown.
    pub(in crate::ui) fn room_window_loaded(
        &mut self,
        account: AccountId,
        room: BareJid,
        around: bool,
        result: Result<Vec<ChatMessage>, String>,
    ) -> Task<Message> {
        let key = (account.clone(), room.clone());
        let Some(r) = self.rooms.rooms.get_mut(&key) else {
            return Task::none();
        };
        let page = match result {
            Ok(page) => page,
            Err(e) => {
                log::warn!("stored history of {room}: {e}");
                r.window.loading = false;
                if around && r.window.pending.take().is_some() {
                    return self.room_window(account, room, Ask::Newest);
                }
                return Task::none();
            }
        };
        if !around {
            if r.newer_loaded(page) {
                self.rooms.paging.entry(key).or_default().store_done = false;
            }
            return Task::none();
        }
        let Some(target) = r.window.pending.take() else {
            return Task::none();
        };
        let Some(at) = page.iter().position(|m| m.id == target) else {
            // Gone meanwhile: back to the newest.
            return self.room_window(account, room, Ask::Newest);
        };
        let after = page.len() - at - 1;
        r.lines = page.into_iter().map(|m| Line::Chat(Box::new(m))).collect();
        r.unread_from = None;
        r.older = Older::Available;
        r.following = false;
        r.window.newer = after >= AROUND;
        if !r.window.newer {
            r.join_held();
        }
        r.actions.highlight = Some(target);
        r.actions.marks = std::mem::take(&mut r.window.marks);
        // The newest page is not what shows; older pages come from the store again.
        let paging = self.rooms.paging.entry(key).or_default();
        paging.loaded = true;
        paging.store_done = false;
        paging.cursor = None;
        crate::ui::timeline::actions::show(LIST_ID)
    }
}

#[cfg(test)]
mod tests;
