//! Group chat: the rooms (listed in the inbox with the chats, see `sidebar`), the join
//! dialog with its account picker, invitations, and the open room. The app delegates
//! room updates, room messages and this panel's messages here; it sends the commands
//! this panel returns. Room history (from the store, then the room's archive) is in
//! `history`.

pub mod browse;
pub mod edit_bar;
pub mod faces;
pub mod form;
mod history;
pub mod join;
pub mod joined;
mod lock;
pub mod members;
pub mod occupant_profile;
pub mod private;
mod routing;
pub mod tasks;
pub mod window;

use crate::ids::AccountId;
use crate::model::ChatMessage;
use crate::session::Command;
use crate::session::rooms::{Bookmark, Invitation, RoomUpdate};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::room::tasks::Request;
use crate::ui::screen::main_area::MainArea;
use crate::ui::theme;
use crate::ui::widgets;
use iced::widget::{button, column, container, pick_list, row, scrollable, text, toggler};
use iced::{Alignment, Element, Length};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use xmpp_parsers::jid::BareJid;

pub use history::Paging;

type Key = (AccountId, BareJid);

/// What the open room shows of files: inline images and its transfer cards.
#[derive(Default, Clone, Copy)]
pub struct RoomFiles<'a> {
    pub previews: Option<&'a crate::ui::timeline::previews::Previews>,
    pub transfers: Option<&'a crate::ui::timeline::transfers::State>,
    /// The open room's account's avatars (the room's own is among them, issue #18).
    pub avatars: Option<&'a crate::ui::widgets::avatar::Faces>,
}

/// A signed-in account the join dialog can join from, as its picker shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountChoice {
    pub id: AccountId,
    pub label: String,
}

impl fmt::Display for AccountChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

#[derive(Debug, Default)]
pub struct Panel {
    pub rooms: BTreeMap<Key, joined::Room>,
    /// Invitations waiting for Join or Decline.
    pub invitations: Vec<(AccountId, Invitation)>,
    /// Work for the app to run on an account's session (see `tasks`).
    pub requests: Vec<(AccountId, Request)>,
    /// Rooms known from stored history only, not (yet) joined in this run.
    restored: HashSet<Key>,
    /// Where each room's history stands (store pages, then the archive).
    pub paging: HashMap<Key, Paging>,
    /// Each account's room bookmarks, as its session last listed them.
    pub bookmarks: HashMap<AccountId, Vec<Bookmark>>,
}

#[derive(Debug, Clone)]
pub enum Message {
    OpenJoin,
    /// The join dialog's account picker.
    JoinAccount(AccountChoice),
    Join(join::Message),
    Open(AccountId, BareJid),
    Room(joined::Message),
    AcceptInvitation(usize),
    DeclineInvitation(usize),
    Config(form::Message),
    Members(members::Message),
    /// Turn joining at sign-in on or off for a bookmarked room.
    BookmarkAutojoin(AccountId, BareJid, bool),
    BookmarkRemove(AccountId, BareJid),
}

/// What the panel asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    /// Send this command to the account's session.
    Command(AccountId, Command),
    /// Open this room (mark it read in the inbox and the store, load its history).
    Open(AccountId, BareJid),
    /// Show older messages of the open room.
    LoadOlder(AccountId, BareJid),
    /// Read a stored page of a private chat in a room (before this message).
    LoadPrivate(
        AccountId,
        BareJid,
        String,
        Option<crate::ids::LocalMessageId>,
    ),
    /// A link, a file or an image in the open room (or one of its private chats).
    Timeline(joined::Event),
    /// Send these commands, in order, to the account's session.
    Commands(AccountId, Vec<Command>),
    /// Newer messages, or the newest, in a room opened at a message far back.
    Window(AccountId, BareJid, window::Ask),
}

impl Panel {
    /// `default_account`: where a new join goes (the first account signed in).
    /// `default_nick`: the nickname for a room joined from an invitation when no other
    /// room of that account suggests one.
    pub fn update(
        &mut self,
        main: &mut MainArea,
        message: Message,
        default_account: Option<AccountId>,
        default_nick: Option<String>,
    ) -> Option<Event> {
        match message {
            Message::JoinAccount(choice) => {
                if let Some((account, _)) = main.join_mut() {
                    *account = choice.id;
                }
                None
            }
            Message::OpenJoin => {
                let account = default_account?;
                let nick = self
                    .rooms
                    .iter()
                    .find(|((a, _), _)| *a == account)
                    .map(|(_, r)| r.nick.clone())
                    .unwrap_or_default();
                *main = MainArea::Join(account, Box::new(join::State::new(&nick)));
                None
            }
            Message::Join(m) => {
                let (account, form) = main.join_mut()?;
                let (room, nick, password) = match form.update(m)? {
                    join::Event::Join {
                        room,
                        nick,
                        password,
                    } => (room, nick, password),
                    join::Event::Browse => {
                        self.requests.push((account.clone(), Request::Browse));
                        return None;
                    }
                    join::Event::RoomInfos(rooms) => {
                        self.requests
                            .push((account.clone(), Request::RoomInfos(rooms)));
                        return None;
                    }
                };
                let account = account.clone();
                self.rooms
                    .entry((account.clone(), room.clone()))
                    .or_insert_with(|| {
                        joined::Room::new(
                            account.clone(),
                            room.clone(),
                            nick.clone(),
                            password.clone(),
                        )
                    });
                Some(Event::Command(
                    account,
                    Command::JoinRoom {
                        room,
                        nick,
                        password,
                    },
                ))
            }
            Message::Open(account, jid) => Some(Event::Open(account, jid)),
            Message::AcceptInvitation(i) => {
                if i >= self.invitations.len() {
                    return None;
                }
                let (account, inv) = self.invitations.remove(i);
                let nick = self
                    .rooms
                    .iter()
                    .find(|((a, _), _)| *a == account)
                    .map(|(_, r)| r.nick.clone())
                    .or(default_nick)
                    .unwrap_or_else(|| "me".to_owned());
                self.rooms
                    .entry((account.clone(), inv.room.clone()))
                    .or_insert_with(|| {
                        joined::Room::new(
                            account.clone(),
                            inv.room.clone(),
                            nick.clone(),
                            inv.password.clone(),
                        )
                    });
                *main = MainArea::Room(account.clone(), inv.room.clone());
                Some(Event::Command(
                    account,
                    Command::JoinRoom {
                        room: inv.room,
                        nick,
                        password: inv.password,
                    },
                ))
            }
            Message::DeclineInvitation(i) => {
                if i >= self.invitations.len() {
                    return None;
                }
                let (account, inv) = self.invitations.remove(i);
                // A direct invitation needs no answer; a mediated one is declined
                // through the room.
                (!inv.direct).then_some(Event::Command(
                    account,
                    Command::DeclineInvite {
                        room: inv.room,
                        inviter: inv.from,
                    },
                ))
            }
            Message::Room(m) => {
                let key = main.room().map(|(a, r)| (a.clone(), r.clone()))?;
                let r = self.rooms.get_mut(&key)?;
                match r.update(m)? {
                    joined::Event::Command(command) => Some(Event::Command(key.0, command)),
                    joined::Event::LoadOlder => Some(Event::LoadOlder(key.0, key.1)),
                    joined::Event::LoadNewer => {
                        Some(Event::Window(key.0, key.1, window::Ask::Newer))
                    }
                    joined::Event::Newest => Some(Event::Window(key.0, key.1, window::Ask::Newest)),
                    joined::Event::LoadPrivate { nick, before } => {
                        Some(Event::LoadPrivate(key.0, key.1, nick, before))
                    }
                    joined::Event::Leave { forget } => {
                        let (account, room) = key;
                        let mut commands = vec![Command::LeaveRoom { room: room.clone() }];
                        if forget {
                            commands.push(Command::ForgetBookmark { room });
                        }
                        Some(Event::Commands(account, commands))
                    }
                    e @ (joined::Event::OpenLink(_)
                    | joined::Event::Attach
                    | joined::Event::Download(_)
                    | joined::Event::SaveAs(_)
                    | joined::Event::Transfers(_)
                    | joined::Event::Show(_)
                    | joined::Event::Focus(_)
                    | joined::Event::Encryption(_)) => Some(Event::Timeline(e)),
                    joined::Event::Members => {
                        let (account, jid) = key;
                        let dialog = members::State::new(account.clone(), jid.clone());
                        let list = dialog.list;
                        *main = MainArea::RoomMembers(Box::new(dialog));
                        self.requests
                            .push((account, Request::AffiliationList(jid, list)));
                        None
                    }
                    joined::Event::OccupantProfile(nick) => {
                        let (account, room) = key;
                        self.requests
                            .push((account, Request::OccupantProfile(room, nick)));
                        None
                    }
                    joined::Event::Configure => {
                        let (account, jid) = key;
                        *main = MainArea::RoomSettings(Box::new(form::State::new(
                            account.clone(),
                            jid.clone(),
                        )));
                        self.requests.push((account, Request::ConfigForm(jid)));
                        None
                    }
                }
            }
            Message::BookmarkAutojoin(account, room, autojoin) => Some(Event::Command(
                account,
                Command::SetBookmarkAutojoin { room, autojoin },
            )),
            Message::BookmarkRemove(account, room) => {
                Some(Event::Command(account, Command::ForgetBookmark { room }))
            }
            Message::Members(m) => {
                let MainArea::RoomMembers(dialog) = main else {
                    return None;
                };
                let (account, room) = (dialog.account.clone(), dialog.room.clone());
                match dialog.update(m)? {
                    members::Event::Load(list) => {
                        self.requests
                            .push((account, Request::AffiliationList(room, list)));
                    }
                    members::Event::Change(jid, to, reason) => {
                        self.requests
                            .push((account, Request::SetAffiliation(room, jid, to, reason)));
                    }
                    members::Event::Close => *main = MainArea::Room(account, room),
                }
                None
            }
            Message::Config(m) => {
                let MainArea::RoomSettings(dialog) = main else {
                    return None;
                };
                match dialog.update(m)? {
                    form::Event::Submit(form) => {
                        let (account, jid) = (dialog.account.clone(), dialog.room.clone());
                        self.requests
                            .push((account, Request::SubmitConfig(jid, form)));
                    }
                    form::Event::Close => {
                        *main = MainArea::Room(dialog.account.clone(), dialog.room.clone());
                    }
                    form::Event::Saved => {
                        let key = (dialog.account.clone(), dialog.room.clone());
                        *main = MainArea::Room(key.0.clone(), key.1.clone());
                        if let Some(r) = self.rooms.get_mut(&key) {
                            r.saved = true;
                        }
                    }
                }
                None
            }
        }
    }

    /// Shows a room (known to the panel) in the main area.
    pub fn show(&mut self, main: &mut MainArea, account: AccountId, jid: BareJid) -> bool {
        let key = (account, jid);
        match self.rooms.get_mut(&key) {
            Some(r) => {
                r.mark_read();
                *main = MainArea::Room(key.0, key.1);
                true
            }
            None => false,
        }
    }

    /// Is this room known to the panel?
    pub fn contains(&self, account: &AccountId, jid: &BareJid) -> bool {
        self.rooms.contains_key(&(account.clone(), jid.clone()))
    }

    /// A room known from stored history (at start-up): listed and openable before the
    /// session joins it again. `nick` is a guess until the session says.
    pub fn restore(&mut self, account: AccountId, jid: BareJid, nick: String) {
        let key = (account.clone(), jid.clone());
        if !self.rooms.contains_key(&key) {
            self.rooms
                .insert(key.clone(), joined::Room::new(account, jid, nick, None));
            self.restored.insert(key);
        }
    }

    /// A room update from a session.
    pub fn apply(&mut self, main: &mut MainArea, account: &AccountId, update: &RoomUpdate) {
        let jid = match update {
            RoomUpdate::Joining { room, .. }
            | RoomUpdate::Joined { room, .. }
            | RoomUpdate::JoinFailed { room, .. }
            | RoomUpdate::Occupant { room, .. }
            | RoomUpdate::OccupantLeft { room, .. }
            | RoomUpdate::NickChanged { room, .. }
            | RoomUpdate::Subject { room, .. }
            | RoomUpdate::Left { room, .. }
            | RoomUpdate::Refused { room, .. }
            | RoomUpdate::Created { room }
            | RoomUpdate::Info { room, .. } => room.clone(),
            RoomUpdate::Invitation(inv) => {
                let known = self
                    .invitations
                    .iter()
                    .any(|(a, i)| a == account && i.room == inv.room);
                if !known {
                    self.invitations.push((account.clone(), inv.clone()));
                }
                return;
            }
            RoomUpdate::Bookmarks(bookmarks) => {
                self.bookmarks.insert(account.clone(), bookmarks.clone());
                // Restored rooms the session will not join by itself: say we are out.
                for key in self.restored.iter().filter(|(a, _)| a == account) {
                    let autojoin = bookmarks.iter().any(|b| b.room == key.1 && b.autojoin);
                    if let Some(r) = self.rooms.get_mut(key).filter(|_| !autojoin) {
                        r.status = joined::Status::Out {
                            departure: crate::session::rooms::Departure {
                                exit: crate::session::rooms::Exit::Left,
                                reason: None,
                                actor: None,
                            },
                            rejoin_in_secs: None,
                        };
                    }
                }
                return;
            }
        };
        let key = (account.clone(), jid.clone());
        // The join dialog learns how its join went.
        if let Some((a, form)) = main.join_mut()
            && a == account
            && BareJid::new(form.room.trim()).ok().as_ref() == Some(&jid)
        {
            match update {
                RoomUpdate::JoinFailed { error, .. } => form.failed(error.clone()),
                RoomUpdate::Joined { .. } => {
                    *main = MainArea::Room(key.0.clone(), key.1.clone());
                }
                _ => {}
            }
        }
        if let RoomUpdate::Joining { nick, .. } = update {
            self.restored.remove(&key);
            self.rooms.entry(key.clone()).or_insert_with(|| {
                joined::Room::new(account.clone(), jid.clone(), nick.clone(), None)
            });
        }
        if let Some(r) = self.rooms.get_mut(&key) {
            r.apply(update);
        }
    }

    /// A stored room message, new to the user. True when it is unread and mentions
    /// our nickname. `open`: the room is on screen.
    pub fn push(&mut self, message: &ChatMessage, open: bool) -> bool {
        let key = (message.account.clone(), message.peer().clone());
        let Some(r) = self.rooms.get_mut(&key) else {
            return false;
        };
        if message.conversation.private_nick().is_some() {
            // A private message asks for attention like a mention does.
            let open = r.private_open.as_deref() == message.conversation.private_nick();
            r.push_private(message.clone());
            return !open;
        }
        if history::contains(r, message) {
            return false;
        }
        let before = r.mentions;
        if r.in_window() && r.is_beyond(message) {
            // Reading older messages: it waits aside until the newest end shows.
            r.hold(message.clone(), open);
            return r.mentions > before;
        }
        r.push(message.clone(), open);
        history::settle_last(r);
        if history::trim(r) {
            // What left the screen is in the store, to be paged back in.
            self.paging.entry(key).or_default().store_done = false;
        }
        r.mentions > before
    }

    /// Invitations waiting for an answer, above the inbox (`None` when there are none).
    pub fn invitations_view(&self, lang: Lang) -> Option<Element<'_, Message>> {
        if self.invitations.is_empty() {
            return None;
        }
        let mut list = column![].spacing(6);
        for (i, (_, inv)) in self.invitations.iter().enumerate() {
            list = list.push(
                container(
                    column![
                        text(trf(
                            lang,
                            T::RoomInvitation,
                            &[
                                ("from", &widgets::short(inv.from.as_str(), 24)),
                                ("room", &widgets::short(inv.room.as_str(), 24)),
                            ],
                        ))
                        .size(13),
                        row![
                            button(text(tr(lang, T::RoomInvitationJoin)).size(13))
                                .style(theme::primary_button)
                                .on_press(Message::AcceptInvitation(i)),
                            button(text(tr(lang, T::RoomInvitationDecline)).size(13))
                                .style(theme::secondary_button)
                                .on_press(Message::DeclineInvitation(i)),
                        ]
                        .spacing(6),
                    ]
                    .spacing(6),
                )
                .padding(8)
                .width(Length::Fill)
                .style(theme::notice_box),
            );
        }
        Some(
            container(list)
                .padding([8, 12])
                .width(300)
                .style(theme::sidebar)
                .into(),
        )
    }

    /// The main area: the owner's configuration dialog, the join dialog or the open
    /// room. `accounts`: the signed-in accounts a join can go from (a picker shows when
    /// there are several).
    pub fn main_view<'a>(
        &'a self,
        main: &'a MainArea,
        lang: Lang,
        accounts: Vec<AccountChoice>,
        files: RoomFiles<'a>,
    ) -> Option<Element<'a, Message>> {
        let (account, room) = match main {
            MainArea::RoomSettings(dialog) => {
                return Some(dialog.view(lang).map(Message::Config));
            }
            MainArea::RoomMembers(dialog) => {
                return Some(dialog.view(lang).map(Message::Members));
            }
            MainArea::Join(account, form) => {
                return Some(self.join_view(lang, account, form, accounts));
            }
            MainArea::Room(account, room) => (account, room),
            MainArea::Chat(_) | MainArea::Nothing | MainArea::Profile(_) => return None,
        };
        let key = (account.clone(), room.clone());
        let r = self.rooms.get(&key)?;
        let cx = joined::Context {
            lang,
            previews: files.previews,
            transfers: files.transfers.and_then(|t| t.view(lang, account, room)),
            avatar: files.avatars.and_then(|a| a.get(room)).map(|p| p.as_path()),
        };
        Some(r.view_in(cx).map(Message::Room))
    }

    fn join_view<'a>(
        &'a self,
        lang: Lang,
        account: &'a AccountId,
        form: &'a join::State,
        accounts: Vec<AccountChoice>,
    ) -> Element<'a, Message> {
        {
            let mut dialog = column![].spacing(12);
            if accounts.len() > 1 {
                let chosen = accounts.iter().find(|c| &c.id == account).cloned();
                dialog = dialog.push(
                    row![
                        text(tr(lang, T::AccountPrompt)).style(theme::muted),
                        pick_list(accounts, chosen, Message::JoinAccount),
                    ]
                    .spacing(8)
                    .align_y(Alignment::Center),
                );
            }
            dialog = dialog.push(form.view(lang).map(Message::Join));
            dialog = dialog.push(self.bookmarks_view(lang, account));
            container(scrollable(dialog)).padding(20).into()
        }
    }

    /// The account's bookmarked rooms: name, address, autojoin on/off, remove.
    fn bookmarks_view<'a>(&'a self, lang: Lang, account: &AccountId) -> Element<'a, Message> {
        let mut list = column![text(tr(lang, T::BookmarksHeading)).style(theme::heading)]
            .spacing(8)
            .max_width(640);
        let bookmarks = self
            .bookmarks
            .get(account)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if bookmarks.is_empty() {
            list = list.push(
                text(tr(lang, T::BookmarksNone))
                    .size(13)
                    .style(theme::muted),
            );
        }
        for b in bookmarks {
            let name = b
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .or_else(|| b.room.node().map(|n| n.to_string()))
                .unwrap_or_else(|| b.room.to_string());
            let (a, room) = (account.clone(), b.room.clone());
            list = list.push(
                container(
                    row![
                        column![
                            text(name).wrapping(iced::widget::text::Wrapping::WordOrGlyph),
                            text(b.room.as_str()).size(12).style(theme::muted),
                        ]
                        .spacing(2)
                        .width(Length::Fill),
                        toggler(b.autojoin)
                            .label(tr(lang, T::BookmarkAutojoin))
                            .on_toggle(move |on| {
                                Message::BookmarkAutojoin(a.clone(), room.clone(), on)
                            }),
                        button(text(tr(lang, T::BookmarkRemove)).size(13))
                            .style(theme::secondary_button)
                            .on_press(Message::BookmarkRemove(account.clone(), b.room.clone())),
                    ]
                    .spacing(12)
                    .align_y(Alignment::Center),
                )
                .padding([8, 12])
                .style(theme::card),
            );
        }
        list.into()
    }

    /// The open room, when files dropped or pasted go to it (not to a private chat).
    pub fn file_target(&self, main: &MainArea) -> Option<Key> {
        let (account, room) = main.room()?;
        let key = (account.clone(), room.clone());
        let r = self.rooms.get(&key)?;
        (r.status == joined::Status::Joined && r.private_open.is_none()).then_some(key)
    }

    /// Our message in a room moved on (sent, reflected, failed).
    pub fn set_delivery(
        &mut self,
        account: &AccountId,
        id: &crate::ids::LocalMessageId,
        state: &crate::model::Delivery,
    ) {
        for ((a, _), r) in self.rooms.iter_mut() {
            if a == account && r.set_delivery(id, state) {
                return;
            }
        }
    }
}
