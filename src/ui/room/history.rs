//! A room's history on screen: the stored messages come back when the app starts (so a
//! room is not empty before the archive catch-up), and older ones on request, first page
//! by page from the store, then from the room's archive once the store has nothing
//! older. Messages merge by id and sit in time order.

use crate::ids::{AccountId, ConversationId};
use crate::model::{ChatMessage, Direction};
use crate::session::Command;
use crate::ui::app::startup::blocking;
use crate::ui::chat::{FOLLOW_SHOWN, MAX_SHOWN, PAGE};
use crate::ui::i18n::{T, tr};
use crate::ui::room::joined::{Line, Older, Room};
use crate::ui::room::{Key, Panel};
use crate::ui::{App, Message};
use iced::Task;
use xmpp_parsers::jid::BareJid;

/// Where a room's history paging stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    /// The newest stored page was read (or asked for) in this run.
    pub loaded: bool,
    /// The store has nothing older than what is on screen: the archive is next.
    pub store_done: bool,
    /// Where the next archive page starts (the oldest archive id fetched so far).
    pub cursor: Option<String>,
}

/// Is this message (same local id) already on screen?
pub(in crate::ui) fn contains(room: &Room, message: &ChatMessage) -> bool {
    room.lines
        .iter()
        .any(|l| matches!(l, Line::Chat(m) if m.id == message.id))
}

fn chat_time(line: &Line) -> Option<i64> {
    match line {
        Line::Chat(m) => Some(m.timestamp_ms),
        Line::Notes(_) => None,
    }
}

/// The place for a message by time: after every chat line not newer than it (so a
/// message newer than all goes last, after any join/leave notes).
fn slot(lines: &[Line], at: i64) -> usize {
    let newest = lines.iter().rev().find_map(chat_time);
    if newest.is_none_or(|t| t <= at) {
        return lines.len();
    }
    lines
        .iter()
        .position(|l| chat_time(l).is_some_and(|t| t > at))
        .unwrap_or(lines.len())
}

/// The line just pushed (at the end) moves back if older messages follow it in time
/// (a late archive message, a clock that went back).
pub(in crate::ui) fn settle_last(room: &mut Room) {
    let Some(line) = room.lines.pop() else {
        return;
    };
    let at = chat_time(&line).map(|t| slot(&room.lines, t));
    let index = at.unwrap_or(room.lines.len());
    room.lines.insert(index, line);
}

/// The oldest lines leave the screen once more than [`FOLLOW_SHOWN`] messages (while
/// the reader follows the newest end) or [`MAX_SHOWN`] (while scrolled up) are on it, as
/// in a chat: every frame lays out every line, and a busy room would otherwise grow
/// without end. True when lines were dropped (they are in the store).
pub(in crate::ui) fn trim(room: &mut Room) -> bool {
    if room.older == Older::Loading {
        return false;
    }
    let keep = if room.following {
        FOLLOW_SHOWN
    } else {
        MAX_SHOWN
    };
    drop_oldest(room, keep)
}

/// The oldest lines leave the screen until `keep` messages are left (with the notes
/// among them). True when lines were dropped: they are in the store, and older pages
/// can be read again.
pub(in crate::ui) fn drop_oldest(room: &mut Room, keep: usize) -> bool {
    let chats = room
        .lines
        .iter()
        .filter(|l| matches!(l, Line::Chat(_)))
        .count();
    if chats <= keep {
        return false;
    }
    let mut excess = chats - keep;
    let mut cut = 0;
    for line in &room.lines {
        match line {
            Line::Chat(_) if excess == 0 => break,
            Line::Chat(_) => excess -= 1,
            Line::Notes(_) => {}
        }
        cut += 1;
    }
    for gone in room.lines.drain(..cut) {
        if let Line::Chat(m) = gone {
            room.unfolded.remove(&m.id);
        }
    }
    room.older = Older::Available;
    true
}

/// Adds messages that are not new to the user (stored history), each in its place.
fn merge(room: &mut Room, messages: Vec<ChatMessage>) {
    for message in messages {
        if contains(room, &message) {
            continue;
        }
        let index = slot(&room.lines, message.timestamp_ms);
        room.lines.insert(index, Line::Chat(Box::new(message)));
    }
}

/// A page of older messages (oldest first, from the store or the room's archive): above
/// every line, in the page's order, which is the store's (by time they could land among
/// lines of the same second: archive stamps have whole seconds).
pub(in crate::ui) fn merge_older(room: &mut Room, messages: Vec<ChatMessage>) {
    let fresh: Vec<Line> = messages
        .into_iter()
        .filter(|m| !contains(room, m))
        .map(|m| Line::Chat(Box::new(m)))
        .collect();
    room.lines.splice(0..0, fresh);
}

/// The oldest message on screen, and the oldest archive id among those on screen.
fn oldest(room: &Room) -> (Option<&ChatMessage>, Option<String>) {
    let mut chats = room.lines.iter().filter_map(|l| match l {
        Line::Chat(m) => Some(m.as_ref()),
        Line::Notes(_) => None,
    });
    let first = chats.next();
    let archive = first
        .into_iter()
        .chain(chats)
        .find_map(|m| m.server_id.clone());
    (first, archive)
}

impl Panel {
    /// History that is not new to the user (the archive's catch-up backwards): shown
    /// in its place, never counted as unread.
    pub fn merge_history(&mut self, message: &ChatMessage) {
        let key = (message.account.clone(), message.peer().clone());
        if let Some(r) = self.rooms.get_mut(&key) {
            if r.in_window() && r.is_beyond(message) {
                r.hold(message.clone(), true);
            } else {
                merge(r, vec![message.clone()]);
            }
        }
    }
}

impl App {
    /// Every room the store knows, listed and openable before the sessions join them
    /// again; and the reading of their newest stored messages.
    pub(in crate::ui) fn restore_rooms(&mut self) -> Task<Message> {
        let mut rooms = Vec::new();
        for state in &self.accounts {
            let nick = state
                .account
                .jid
                .node()
                .map(|n| n.to_string())
                .unwrap_or_default();
            for entry in state.conversations.iter().filter(|c| c.room) {
                rooms.push((state.account.id.clone(), entry.peer.clone(), nick.clone()));
            }
        }
        let mut tasks = Vec::new();
        for (account, room, nick) in rooms {
            self.rooms.restore(account.clone(), room.clone(), nick);
            tasks.push(self.load_latest(account, room));
        }
        Task::batch(tasks)
    }

    /// Reads the newest stored page of a room, unless that was done in this run.
    pub(in crate::ui) fn load_latest(
        &mut self,
        account: AccountId,
        room: BareJid,
    ) -> Task<Message> {
        let paging = self
            .rooms
            .paging
            .entry((account.clone(), room.clone()))
            .or_default();
        if paging.loaded {
            return Task::none();
        }
        paging.loaded = true;
        let Some(store) = self.store.clone() else {
            paging.store_done = true;
            return Task::none();
        };
        let conversation = ConversationId::Room(room);
        let (a, c) = (account.clone(), conversation.clone());
        Task::perform(
            blocking(move || store.latest(&a, &c, PAGE).map_err(|e| e.to_string())),
            move |result| Message::HistoryLoaded {
                account: account.clone(),
                conversation: conversation.clone(),
                older: false,
                result: result.and_then(|r| r),
            },
        )
    }

    /// Opens a room from the inbox, the switcher or the keyboard: marks it read (in
    /// the list and the store) and reads its stored history if not done yet.
    pub(in crate::ui) fn open_room(&mut self, account: AccountId, room: BareJid) -> Task<Message> {
        let listed = self
            .account_state(&account)
            .is_some_and(|a| a.is_room(&room));
        let nick = self
            .account_state(&account)
            .and_then(|a| a.account.jid.node().map(|n| n.to_string()))
            .unwrap_or_default();
        if listed {
            self.rooms.restore(account.clone(), room.clone(), nick);
        }
        if !self.rooms.contains(&account, &room) {
            return Task::none();
        }
        let key: Key = (account.clone(), room.clone());
        let reset = if self.rooms.rooms.get(&key).is_some_and(|r| r.in_window()) {
            // Opened again from the inbox: at the newest messages.
            self.room_window(
                account.clone(),
                room.clone(),
                crate::ui::room::window::Ask::Newest,
            )
        } else {
            Task::none()
        };
        self.stash_draft();
        self.withdraw_viewing(None);
        self.rooms
            .show(&mut self.main, account.clone(), room.clone());
        if let Some(state) = self.account_mut(&account) {
            state.mark_read(&room);
        }
        let focus = iced::widget::operation::focus(crate::ui::room::joined::COMPOSER_ID);
        let lock = self.room_encryption_opened(&account, &room);
        let load = Task::batch([reset, lock, self.load_latest(account.clone(), room.clone())]);
        let Some(store) = self.store.clone() else {
            return Task::batch([focus, load]);
        };
        let mark = Task::perform(
            blocking(move || {
                store
                    .mark_read(&account, &ConversationId::Room(room))
                    .map_err(|e| e.to_string())
            }),
            |result| Message::Background(result.and_then(|r| r)),
        );
        Task::batch([focus, load, mark])
    }

    /// A page of a room's stored history arrived (the newest, or one before the oldest
    /// shown). At start-up, the newest page also tells how many of the room's unread
    /// messages mention us.
    pub(in crate::ui) fn room_history_loaded(
        &mut self,
        account: AccountId,
        room: BareJid,
        older: bool,
        result: Result<Vec<ChatMessage>, String>,
    ) -> Task<Message> {
        let key: Key = (account.clone(), room.clone());
        let page = match result {
            Ok(page) => page,
            Err(e) => {
                log::warn!("stored history of {room}: {e}");
                Vec::new()
            }
        };
        let short = page.len() < PAGE;
        if let Some(p) = self.rooms.paging.get_mut(&key) {
            p.store_done |= short;
        }
        let unread = self
            .account_state(&account)
            .and_then(|s| s.conversations.iter().find(|c| c.peer == room))
            .map_or(0, |c| c.unread as usize);
        let restored = self.rooms.restored.contains(&key);
        let stored = self.store.is_some();
        let Some(r) = self.rooms.rooms.get_mut(&key) else {
            return Task::none();
        };
        if !older {
            // Our nickname, as our own messages last had it, until the session says.
            if restored
                && let Some(own) = page
                    .iter()
                    .rev()
                    .find(|m| m.direction == Direction::Outgoing && !m.sender.is_empty())
            {
                r.nick = own.sender.clone();
            }
            let nick = r.nick.clone();
            let mentions = page
                .iter()
                .rev()
                .filter(|m| m.direction == Direction::Incoming)
                .take(unread)
                .filter(|m| crate::ui::room::joined::mentions(&m.body, &nick))
                .count();
            if let Some(state) = self.account_mut(&account) {
                state.set_mentions(&room, u32::try_from(mentions).unwrap_or(u32::MAX));
            }
        }
        let Some(r) = self.rooms.rooms.get_mut(&key) else {
            return Task::none();
        };
        if !older && r.in_window() {
            // Opened at a message far back: the newest page is not what shows.
            return Task::none();
        }
        let added = page.iter().filter(|m| !contains(r, m)).count();
        if older {
            r.older_loaded(page, stored);
        } else {
            merge_older(r, page);
        }
        if older && added == 0 && short {
            // Nothing more in the store: ask the archive at once.
            return self.room_archive_page(account, room);
        }
        if !older
            && let Some(r) = self.rooms.rooms.get_mut(&key)
            && r.older == Older::Loading
        {
            r.older = Older::Available;
        }
        self.room_seek_step(account, room)
    }

    /// After an older page of a room: show a reply's original looked for, or load the
    /// next page for it.
    pub(in crate::ui) fn room_seek_step(
        &mut self,
        account: AccountId,
        room: BareJid,
    ) -> Task<Message> {
        let Some(r) = self.rooms.rooms.get_mut(&(account.clone(), room.clone())) else {
            return Task::none();
        };
        match r.seek_step() {
            Some(crate::ui::room::joined::Event::Show(list)) => {
                crate::ui::timeline::actions::show(list)
            }
            Some(crate::ui::room::joined::Event::LoadOlder) => self.room_load_older(account, room),
            _ => Task::none(),
        }
    }

    /// "Load older messages" (or scrolled to the top) in the open room.
    pub(in crate::ui) fn room_load_older(
        &mut self,
        account: AccountId,
        room: BareJid,
    ) -> Task<Message> {
        let key: Key = (account.clone(), room.clone());
        let paging = self.rooms.paging.get(&key).cloned().unwrap_or_default();
        let oldest_id = self
            .rooms
            .rooms
            .get(&key)
            .and_then(|r| oldest(r).0.map(|m| m.id.clone()));
        let store = self.store.clone().filter(|_| !paging.store_done);
        let (Some(store), Some(oldest_id)) = (store, oldest_id) else {
            return self.room_archive_page(account, room);
        };
        let conversation = ConversationId::Room(room);
        let (a, c) = (account.clone(), conversation.clone());
        Task::perform(
            blocking(move || {
                store
                    .before(&a, &c, &oldest_id, PAGE)
                    .map_err(|e| e.to_string())
            }),
            move |result| Message::HistoryLoaded {
                account: account.clone(),
                conversation: conversation.clone(),
                older: true,
                result: result.and_then(|r| r),
            },
        )
    }

    /// Reads a stored page of a room private chat (the newest, or the one before
    /// `before`).
    pub(in crate::ui) fn private_load(
        &mut self,
        account: AccountId,
        room: BareJid,
        nick: String,
        before: Option<crate::ids::LocalMessageId>,
    ) -> Task<Message> {
        let Some(store) = self.store.clone() else {
            return self.private_history_loaded(account, room, nick, Ok(Vec::new()));
        };
        let conversation = ConversationId::Private { room, nick };
        let (a, c) = (account.clone(), conversation.clone());
        Task::perform(
            blocking(move || {
                match &before {
                    Some(id) => store.before(&a, &c, id, PAGE),
                    None => store.latest(&a, &c, PAGE),
                }
                .map_err(|e| e.to_string())
            }),
            move |result| Message::HistoryLoaded {
                account: account.clone(),
                conversation: conversation.clone(),
                older: true,
                result: result.and_then(|r| r),
            },
        )
    }

    /// A stored page of a room private chat arrived.
    pub(in crate::ui) fn private_history_loaded(
        &mut self,
        account: AccountId,
        room: BareJid,
        nick: String,
        result: Result<Vec<ChatMessage>, String>,
    ) -> Task<Message> {
        let page = result.unwrap_or_else(|e| {
            log::warn!("stored private messages with {nick} in {room}: {e}");
            Vec::new()
        });
        let Some(p) = self
            .rooms
            .rooms
            .get_mut(&(account.clone(), room.clone()))
            .and_then(|r| r.privates.get_mut(&nick))
        else {
            return Task::none();
        };
        p.stored(page, PAGE);
        match p.seek_step() {
            Some(crate::ui::room::private::Event::Show) => {
                crate::ui::timeline::actions::show(crate::ui::room::private::PRIVATE_LIST_ID)
            }
            Some(crate::ui::room::private::Event::LoadStored(before)) => {
                self.private_load(account, room, nick, before)
            }
            _ => Task::none(),
        }
    }

    /// Asks the room's archive for the page before the oldest archive id known.
    fn room_archive_page(&mut self, account: AccountId, room: BareJid) -> Task<Message> {
        let key: Key = (account.clone(), room.clone());
        let Some(r) = self.rooms.rooms.get_mut(&key) else {
            return Task::none();
        };
        r.older = Older::Loading;
        let before = self
            .rooms
            .paging
            .get(&key)
            .and_then(|p| p.cursor.clone())
            .or_else(|| self.rooms.rooms.get(&key).and_then(|r| oldest(r).1));
        let command = Command::RoomLoadOlder {
            room: room.clone(),
            before,
        };
        if self.send(&account, command).is_err() {
            if let Some(r) = self.rooms.rooms.get_mut(&key) {
                r.older = Older::Available;
            }
            self.notice(tr(self.lang, T::CommandNotConnected).to_owned());
        }
        Task::none()
    }

    /// A page from the room's archive came back (stored already).
    pub(in crate::ui) fn room_older_arrived(
        &mut self,
        account: AccountId,
        room: BareJid,
        messages: Vec<ChatMessage>,
        first: Option<String>,
        complete: bool,
    ) -> Task<Message> {
        // Nothing, no position and not the end: the page failed (not connected, no
        // answer in time, an error). Say so; the button stays to try again.
        if messages.is_empty() && first.is_none() && !complete {
            self.notice(tr(self.lang, T::ArchiveOlderFailed).to_owned());
        }
        let key: Key = (account, room);
        let paging = self.rooms.paging.entry(key.clone()).or_default();
        if first.is_some() {
            paging.cursor = first;
        }
        let stored = self.store.is_some();
        if let Some(r) = self.rooms.rooms.get_mut(&key) {
            r.older_loaded(messages, stored);
            r.older = if complete {
                Older::Exhausted
            } else {
                Older::Available
            };
        }
        let (account, room) = key;
        self.room_seek_step(account, room)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::LocalMessageId;
    use crate::model::Delivery;

    fn msg(at: i64) -> ChatMessage {
        ChatMessage {
            truncated: false,
            extras: Default::default(),
            id: LocalMessageId::generate(),
            account: AccountId("a".into()),
            conversation: ConversationId::Room(
                BareJid::new("tea@muc.example.org").unwrap_or_else(|_| unreachable!()),
            ),
            direction: Direction::Incoming,
            sender: "bob".into(),
            body: format!("at {at}"),
            timestamp_ms: at,
            stanza_id_attr: None,
            origin_id: None,
            server_id: None,
            delivery: Delivery::Delivered,
            attachment: None,
        }
    }

    fn times(room: &Room) -> Vec<i64> {
        room.lines.iter().filter_map(chat_time).collect()
    }

    #[test]
    fn history_merges_by_id_in_time_order() {
        let m = msg(0);
        let mut room = Room::new(m.account.clone(), m.peer().clone(), "alice".into(), None);
        let (a, b, c) = (msg(10), msg(20), msg(30));
        room.push(c.clone(), true);
        merge(&mut room, vec![a.clone(), b.clone(), c.clone()]);
        assert_eq!(times(&room), [10, 20, 30]);
        merge(&mut room, vec![b]);
        assert_eq!(times(&room), [10, 20, 30], "the same id is shown once");
        room.push(msg(15), true);
        settle_last(&mut room);
        assert_eq!(times(&room), [10, 15, 20, 30]);
        assert_eq!(oldest(&room).0.map(|m| m.id.clone()), Some(a.id));
    }

    #[test]
    fn a_busy_room_keeps_a_window_of_lines_and_the_rest_in_the_store() {
        let m = msg(0);
        let mut room = Room::new(m.account.clone(), m.peer().clone(), "alice".into(), None);
        room.older = Older::Exhausted;
        room.lines
            .push(Line::Notes(vec![crate::ui::room::joined::Note::Joined(
                "bob".into(),
            )]));
        for i in 0..FOLLOW_SHOWN + 10 {
            room.push(msg(i as i64), true);
            trim(&mut room);
        }
        let kept = times(&room);
        assert_eq!(kept.len(), FOLLOW_SHOWN);
        assert_eq!(kept.first(), Some(&10), "the oldest left the screen");
        assert!(matches!(room.lines.first(), Some(Line::Chat(_))));
        assert_eq!(room.older, Older::Available, "they can be paged back in");
        // Scrolled up: more is kept, up to the larger cap.
        room.following = false;
        for i in 0..MAX_SHOWN {
            room.push(msg(1_000 + i as i64), true);
            trim(&mut room);
        }
        assert_eq!(times(&room).len(), MAX_SHOWN);
    }
}
