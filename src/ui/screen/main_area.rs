//! What the main area beside the sidebar shows: one thing at a time, so opening a room
//! closes the chat (and the join dialog) without any code keeping several "open"
//! fields in step.

use crate::ids::AccountId;
use crate::ui::chat;
use crate::ui::room::{form, join, members};
use xmpp_parsers::jid::BareJid;

#[derive(Default)]
pub enum MainArea {
    /// Nothing chosen yet: a hint to pick a conversation.
    #[default]
    Nothing,
    /// A 1:1 conversation.
    Chat(Box<chat::State>),
    /// A joined (or known) room, with its private chats.
    Room(AccountId, BareJid),
    /// The "join a group chat" dialog, joining from this account.
    Join(AccountId, Box<join::State>),
    /// An owner's configuration dialog of a room.
    RoomSettings(Box<form::State>),
    /// The member and ban lists of a room (owners and admins).
    RoomMembers(Box<members::State>),
    /// A contact's profile (`screen::profile`).
    Profile(Box<crate::ui::screen::profile::State>),
}

impl MainArea {
    pub fn chat(&self) -> Option<&chat::State> {
        match self {
            MainArea::Chat(c) => Some(c),
            _ => None,
        }
    }

    pub fn chat_mut(&mut self) -> Option<&mut chat::State> {
        match self {
            MainArea::Chat(c) => Some(c),
            _ => None,
        }
    }

    /// The room on screen.
    pub fn room(&self) -> Option<(&AccountId, &BareJid)> {
        match self {
            MainArea::Room(account, room) => Some((account, room)),
            _ => None,
        }
    }

    pub fn is_room(&self, account: &AccountId, room: &BareJid) -> bool {
        self.room() == Some((account, room))
    }

    /// The join dialog, with the account it joins from.
    pub fn join_mut(&mut self) -> Option<(&mut AccountId, &mut join::State)> {
        match self {
            MainArea::Join(account, form) => Some((account, form)),
            _ => None,
        }
    }

    /// The conversation the sidebar marks as open (a chat or a room).
    pub fn open(&self) -> Option<(&AccountId, &BareJid)> {
        match self {
            MainArea::Chat(c) => Some((&c.account, c.conversation.jid())),
            MainArea::Room(account, room) => Some((account, room)),
            _ => None,
        }
    }

    /// Shows the chat (the previous content is dropped).
    pub fn show_chat(&mut self, chat: chat::State) {
        *self = MainArea::Chat(Box::new(chat));
    }

    /// Closes the chat if it is what shows.
    pub fn close_chat(&mut self) {
        if matches!(self, MainArea::Chat(_)) {
            *self = MainArea::Nothing;
        }
    }

    /// Closes whatever group chat thing shows (room, join dialog, room settings).
    pub fn close_rooms(&mut self) {
        if !matches!(self, MainArea::Chat(_)) {
            *self = MainArea::Nothing;
        }
    }
}
