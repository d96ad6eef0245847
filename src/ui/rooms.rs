//! The group chat panel: the list of rooms (marked as rooms, unread and mentions counted
//! apart), the join dialog, and the open room. The app delegates room updates, room
//! messages and this panel's messages here; it sends the commands this panel returns.

use super::i18n::{Lang, T, tr, trf};
use super::parts;
use super::roomtools::Request;
use super::theme;
use super::{join, room, roomform};
use crate::ids::AccountId;
use crate::model::ChatMessage;
use crate::session::Command;
use crate::session::rooms::{Invitation, RoomUpdate};
use iced::widget::{button, column, container, row, scrollable, text};
use iced::{Alignment, Element, Length};
use std::collections::BTreeMap;
use xmpp_parsers::jid::BareJid;

type Key = (AccountId, BareJid);

#[derive(Debug, Default)]
pub struct Panel {
    pub rooms: BTreeMap<Key, room::Room>,
    /// The join dialog, with the account it joins from.
    pub joining: Option<(AccountId, join::State)>,
    pub open: Option<Key>,
    /// Invitations waiting for Join or Decline.
    pub invitations: Vec<(AccountId, Invitation)>,
    /// An owner's configuration dialog (shown over the room).
    pub config: Option<roomform::State>,
    /// Work for the app to run on an account's session (see `roomtools`).
    pub requests: Vec<(AccountId, Request)>,
}

#[derive(Debug, Clone)]
pub enum Message {
    OpenJoin,
    Join(join::Message),
    Open(AccountId, BareJid),
    Room(room::Message),
    AcceptInvitation(usize),
    DeclineInvitation(usize),
    Config(roomform::Message),
}

/// A command for the session of one account.
pub type Outgoing = Option<(AccountId, Command)>;

impl Panel {
    /// Is a room (or the join dialog) in the main area?
    pub fn shows_something(&self) -> bool {
        self.joining.is_some() || self.open.is_some() || self.config.is_some()
    }

    /// The conversation view took the main area.
    pub fn close(&mut self) {
        self.open = None;
        self.joining = None;
        self.config = None;
    }

    /// `default_account`: where a new join goes (the first account signed in).
    /// `default_nick`: the nickname for a room joined from an invitation when no other
    /// room of that account suggests one.
    pub fn update(
        &mut self,
        message: Message,
        default_account: Option<AccountId>,
        default_nick: Option<String>,
    ) -> Outgoing {
        match message {
            Message::OpenJoin => {
                let account = default_account?;
                let nick = self
                    .rooms
                    .iter()
                    .find(|((a, _), _)| *a == account)
                    .map(|(_, r)| r.nick.clone())
                    .unwrap_or_default();
                self.open = None;
                self.joining = Some((account, join::State::new(&nick)));
                None
            }
            Message::Join(m) => {
                let (account, form) = self.joining.as_mut()?;
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
                        room::Room::new(
                            account.clone(),
                            room.clone(),
                            nick.clone(),
                            password.clone(),
                        )
                    });
                Some((
                    account,
                    Command::JoinRoom {
                        room,
                        nick,
                        password,
                    },
                ))
            }
            Message::Open(account, jid) => {
                let key = (account, jid);
                if let Some(r) = self.rooms.get_mut(&key) {
                    r.mark_read();
                    self.joining = None;
                    self.open = Some(key);
                }
                None
            }
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
                        room::Room::new(
                            account.clone(),
                            inv.room.clone(),
                            nick.clone(),
                            inv.password.clone(),
                        )
                    });
                self.joining = None;
                self.open = Some((account.clone(), inv.room.clone()));
                Some((
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
                (!inv.direct).then_some((
                    account,
                    Command::DeclineInvite {
                        room: inv.room,
                        inviter: inv.from,
                    },
                ))
            }
            Message::Room(m) => {
                let key = self.open.clone()?;
                let r = self.rooms.get_mut(&key)?;
                match r.update(m)? {
                    room::Event::Command(command) => Some((key.0, command)),
                    room::Event::Configure => {
                        let (account, jid) = key;
                        self.config = Some(roomform::State::new(account.clone(), jid.clone()));
                        self.requests.push((account, Request::ConfigForm(jid)));
                        None
                    }
                }
            }
            Message::Config(m) => {
                let dialog = self.config.as_mut()?;
                match dialog.update(m)? {
                    roomform::Event::Submit(form) => {
                        let (account, jid) = (dialog.account.clone(), dialog.room.clone());
                        self.requests
                            .push((account, Request::SubmitConfig(jid, form)));
                    }
                    roomform::Event::Close => self.config = None,
                    roomform::Event::Saved => {
                        let key = (dialog.account.clone(), dialog.room.clone());
                        self.config = None;
                        if let Some(r) = self.rooms.get_mut(&key) {
                            r.saved = true;
                        }
                    }
                }
                None
            }
        }
    }

    /// A room update from a session.
    pub fn apply(&mut self, account: &AccountId, update: &RoomUpdate) {
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
            RoomUpdate::Bookmarks(_) => return,
        };
        let key = (account.clone(), jid.clone());
        // The join dialog learns how its join went.
        if let Some((a, form)) = self.joining.as_mut()
            && a == account
            && BareJid::new(form.room.trim()).ok().as_ref() == Some(&jid)
        {
            match update {
                RoomUpdate::JoinFailed { error, .. } => form.failed(error.clone()),
                RoomUpdate::Joined { .. } => {
                    self.joining = None;
                    self.open = Some(key.clone());
                }
                _ => {}
            }
        }
        if let RoomUpdate::Joining { nick, .. } = update {
            self.rooms.entry(key.clone()).or_insert_with(|| {
                room::Room::new(account.clone(), jid.clone(), nick.clone(), None)
            });
        }
        if let Some(r) = self.rooms.get_mut(&key) {
            r.apply(update);
        }
    }

    /// A stored room message.
    pub fn push(&mut self, message: &ChatMessage) {
        let key = (message.account.clone(), message.peer.clone());
        let open = self.open.as_ref() == Some(&key);
        if message.private_nick.is_some() {
            if let Some(r) = self.rooms.get_mut(&key) {
                r.push_private(message.clone());
            }
            return;
        }
        if let Some(r) = self.rooms.get_mut(&key) {
            r.push(message.clone(), open);
        }
    }

    /// The narrow list of rooms beside the sidebar.
    pub fn list_view(&self, lang: Lang) -> Element<'_, Message> {
        let mut list = column![].spacing(6);
        for (i, (_, inv)) in self.invitations.iter().enumerate() {
            list = list.push(
                container(
                    column![
                        text(trf(
                            lang,
                            T::RoomInvitation,
                            &[
                                ("from", &parts::short(inv.from.as_str(), 20)),
                                ("room", &parts::short(inv.room.as_str(), 20)),
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
                .style(theme::notice_box),
            );
        }
        list = list.push(text(tr(lang, T::RoomsHeading)).style(theme::heading));
        for ((account, jid), r) in &self.rooms {
            let selected = self.open.as_ref() == Some(&(account.clone(), jid.clone()));
            let name = jid.node().map(|n| n.to_string()).unwrap_or_default();
            let mut line = row![text(parts::short(&name, 18)).width(Length::Fill)]
                .spacing(4)
                .align_y(Alignment::Center);
            if r.mentions > 0 {
                line = line.push(parts::unread(r.mentions, true));
            }
            if r.unread > r.mentions {
                line = line.push(parts::unread(r.unread - r.mentions, false));
            }
            list = list.push(
                button(line)
                    .width(Length::Fill)
                    .style(theme::list_item(selected))
                    .on_press(Message::Open(account.clone(), jid.clone())),
            );
        }
        list = list.push(
            button(text(tr(lang, T::JoinRoomTitle)).size(13))
                .style(theme::link_button)
                .on_press(Message::OpenJoin),
        );
        container(scrollable(list))
            .padding(10)
            .width(190)
            .height(Length::Fill)
            .style(theme::sidebar)
            .into()
    }

    /// The main area: the join dialog or the open room.
    pub fn main_view(&self, lang: Lang) -> Option<Element<'_, Message>> {
        if let Some(dialog) = &self.config {
            return Some(dialog.view(lang).map(Message::Config));
        }
        if let Some((_, form)) = &self.joining {
            return Some(
                container(form.view(lang).map(Message::Join))
                    .padding(20)
                    .into(),
            );
        }
        let r = self.rooms.get(self.open.as_ref()?)?;
        Some(r.view(lang).map(Message::Room))
    }
}
