//! One group chat room on screen: subject, messages with nicks in their XEP-0392
//! colours, joins/leaves/nick changes folded into compact lines, the occupant list with
//! roles and affiliations, and the room's true state (joining, in, kicked, lost…) with
//! the reason and a Rejoin button.

use super::fold;
use super::i18n::{Lang, T, tr, trf};
use super::private::{self, Private};
use super::roomedit::{self, Edit};
use super::theme;
use crate::colors::consistent_color;
use crate::ids::{AccountId, LocalMessageId};
use crate::model::{ChatMessage, Direction};
use crate::session::Command;
use crate::session::rooms::{Affiliation, Departure, Exit, MucError, Occupant, Role, RoomUpdate};
use iced::widget::{Id, button, column, container, row, scrollable, text, text_input};
use iced::{Alignment, Element, Length};
use std::collections::{BTreeMap, HashSet};
use xmpp_parsers::jid::BareJid;

pub const COMPOSER_ID: &str = "room-composer";

/// Where we stand with the room.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Joining,
    Joined,
    Out {
        departure: Departure,
        rejoin_in_secs: Option<u64>,
    },
    Failed(MucError),
}

/// Something that happened in the room, shown compactly between messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    Joined(String),
    Left(String),
    Nick { old: String, new: String },
}

/// Whether older messages can be asked for (from the store, then the room's archive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Older {
    #[default]
    Available,
    Loading,
    /// The beginning of the room's history.
    Exhausted,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Chat(Box<ChatMessage>),
    Notes(Vec<Note>),
}

#[derive(Debug, Clone)]
pub struct Room {
    pub account: AccountId,
    pub jid: BareJid,
    pub nick: String,
    pub password: Option<String>,
    pub status: Status,
    pub subject: Option<String>,
    pub occupants: BTreeMap<String, Occupant>,
    pub lines: Vec<Line>,
    pub draft: String,
    /// Unread messages, and among them those that mention our nick.
    pub unread: u32,
    pub mentions: u32,
    /// We created this room (status 201): offer its settings.
    pub created: bool,
    /// The room lets every occupant change the subject.
    pub subject_open: bool,
    /// The subject, nick or invitation being edited.
    pub editing: Option<Edit>,
    /// What the room last refused (nick change, subject, invitation…).
    pub refusal: Option<MucError>,
    /// The last invitation sent, to confirm it.
    pub invited: Option<BareJid>,
    /// The owner's settings were saved (said once, until the next edit).
    pub saved: bool,
    /// The nickname we last asked for (to suggest another when it is taken).
    pub asked_nick: Option<String>,
    /// Private conversations with occupants, by nick; `private_open` is on screen.
    pub privates: BTreeMap<String, Private>,
    pub private_open: Option<String>,
    /// The "Load older messages" line at the top (set by the room's history pager).
    pub older: Older,
    /// The message list is scrolled to its newest end.
    pub following: bool,
    /// Long messages the reader unfolded ("Show more"); the others show folded.
    pub unfolded: HashSet<LocalMessageId>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Rejoin,
    Draft(String),
    Send,
    Edit(roomedit::Message),
    Configure,
    KeepDefaults,
    UseNick(String),
    OpenPrivate(String),
    Private(private::Message),
    LoadOlder,
    Scrolled(iced::widget::scrollable::Viewport),
    /// "Show more" (true) or "Show less" (false) on a long message.
    Unfold(LocalMessageId, bool),
}

/// What the room view asks of its parent: send this command on the room's account.
#[derive(Debug, Clone)]
pub enum Event {
    Command(Command),
    /// Open the owner's configuration dialog.
    Configure,
    /// Show the messages before the oldest one on screen.
    LoadOlder,
}

/// Does `body` mention `nick` (as a whole word, any case)?
pub fn mentions(body: &str, nick: &str) -> bool {
    let nick = nick.trim().to_lowercase();
    if nick.is_empty() {
        return false;
    }
    let body = body.to_lowercase();
    body.match_indices(&nick).any(|(i, _)| {
        let before = body[..i].chars().next_back();
        let after = body[i + nick.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

fn role_word(lang: Lang, role: Role) -> Option<&'static str> {
    match role {
        Role::Moderator => Some(tr(lang, T::RoleModerator)),
        Role::Participant => Some(tr(lang, T::RoleParticipant)),
        Role::Visitor => Some(tr(lang, T::RoleVisitor)),
        Role::None => None,
    }
}

fn affiliation_word(lang: Lang, a: Affiliation) -> Option<&'static str> {
    match a {
        Affiliation::Owner => Some(tr(lang, T::AffOwner)),
        Affiliation::Admin => Some(tr(lang, T::AffAdmin)),
        Affiliation::Member => Some(tr(lang, T::AffMember)),
        Affiliation::None | Affiliation::Outcast => None,
    }
}

impl Room {
    pub fn new(account: AccountId, jid: BareJid, nick: String, password: Option<String>) -> Self {
        Room {
            account,
            jid,
            nick,
            password,
            status: Status::Joining,
            subject: None,
            occupants: BTreeMap::new(),
            lines: Vec::new(),
            draft: String::new(),
            unread: 0,
            mentions: 0,
            created: false,
            subject_open: false,
            editing: None,
            refusal: None,
            invited: None,
            saved: false,
            asked_nick: None,
            privates: BTreeMap::new(),
            private_open: None,
            older: Older::default(),
            following: true,
            unfolded: HashSet::new(),
        }
    }

    fn note(&mut self, note: Note) {
        if let Some(Line::Notes(notes)) = self.lines.last_mut() {
            notes.push(note);
        } else {
            self.lines.push(Line::Notes(vec![note]));
        }
    }

    /// A room update from the session (for this room).
    pub fn apply(&mut self, update: &RoomUpdate) {
        match update {
            RoomUpdate::Joining { nick, .. } => {
                self.nick = nick.clone();
                self.status = Status::Joining;
            }
            RoomUpdate::Joined {
                nick, occupants, ..
            } => {
                self.nick = nick.clone();
                self.status = Status::Joined;
                self.occupants = occupants
                    .iter()
                    .map(|o| (o.nick.clone(), o.clone()))
                    .collect();
            }
            RoomUpdate::JoinFailed { error, .. } => self.status = Status::Failed(error.clone()),
            RoomUpdate::Occupant {
                occupant, joined, ..
            } => {
                if *joined {
                    self.note(Note::Joined(occupant.nick.clone()));
                }
                self.occupants
                    .insert(occupant.nick.clone(), occupant.clone());
            }
            RoomUpdate::OccupantLeft { nick, .. } => {
                self.occupants.remove(nick);
                self.note(Note::Left(nick.clone()));
            }
            RoomUpdate::NickChanged { old, new, own, .. } => {
                if let Some(mut o) = self.occupants.remove(old) {
                    o.nick = new.clone();
                    self.occupants.insert(new.clone(), o);
                }
                if *own {
                    self.nick = new.clone();
                    self.refusal = None;
                }
                // Their private conversation follows them.
                if let Some(p) = self.privates.remove(old) {
                    self.privates.insert(new.clone(), p);
                    if self.private_open.as_deref() == Some(old) {
                        self.private_open = Some(new.clone());
                    }
                }
                self.note(Note::Nick {
                    old: old.clone(),
                    new: new.clone(),
                });
            }
            RoomUpdate::Subject { subject, .. } => {
                self.subject = Some(subject.clone()).filter(|s| !s.trim().is_empty());
            }
            RoomUpdate::Left {
                departure,
                rejoin_in_secs,
                ..
            } => {
                self.occupants.clear();
                self.status = Status::Out {
                    departure: departure.clone(),
                    rejoin_in_secs: *rejoin_in_secs,
                };
            }
            RoomUpdate::Refused { error, .. } => self.refusal = Some(error.clone()),
            RoomUpdate::Created { .. } => self.created = true,
            RoomUpdate::Info { subject_open, .. } => self.subject_open = *subject_open,
            RoomUpdate::Invitation(_) | RoomUpdate::Bookmarks(_) => {}
        }
    }

    /// A stored message of this room; `open` when the room is on screen.
    pub fn push(&mut self, message: ChatMessage, open: bool) {
        if !open && message.direction == Direction::Incoming {
            self.unread += 1;
            if mentions(&message.body, &self.nick) {
                self.mentions += 1;
            }
        }
        self.lines.push(Line::Chat(Box::new(message)));
    }

    /// A stored private message with one occupant.
    pub fn push_private(&mut self, message: ChatMessage) {
        let Some(nick) = message.private_nick.clone() else {
            return;
        };
        let open = self.private_open.as_deref() == Some(nick.as_str());
        self.privates.entry(nick).or_default().push(message, open);
    }

    /// Our own occupant entry.
    pub fn me(&self) -> Option<&Occupant> {
        self.occupants.get(&self.nick)
    }

    pub fn is_owner(&self) -> bool {
        self.me()
            .is_some_and(|o| o.affiliation == Affiliation::Owner)
    }

    /// Moderators may change the subject, and everyone (not visitors) when the room
    /// says so.
    pub fn may_change_subject(&self) -> bool {
        self.me().is_some_and(|o| {
            o.role == Role::Moderator || (self.subject_open && o.role == Role::Participant)
        })
    }

    pub fn mark_read(&mut self) {
        self.unread = 0;
        self.mentions = 0;
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Draft(d) => {
                self.draft = d;
                None
            }
            Message::Scrolled(viewport) => {
                // Anchored at the bottom: the offset is 0 at the newest end, the
                // reversed offset 0 at the top.
                self.following = viewport.absolute_offset().y <= 2.0;
                let at_top = viewport.absolute_offset_reversed().y <= 2.0;
                (at_top && self.older == Older::Available).then(|| {
                    self.older = Older::Loading;
                    Event::LoadOlder
                })
            }
            Message::Unfold(id, unfold) => {
                if unfold {
                    self.unfolded.insert(id);
                } else {
                    self.unfolded.remove(&id);
                }
                None
            }
            Message::LoadOlder => (self.older == Older::Available).then(|| {
                self.older = Older::Loading;
                Event::LoadOlder
            }),
            Message::Rejoin => {
                self.status = Status::Joining;
                Some(Event::Command(Command::JoinRoom {
                    room: self.jid.clone(),
                    nick: self.nick.clone(),
                    password: self.password.clone(),
                }))
            }
            Message::Send => {
                let body = self.draft.trim().to_owned();
                if body.is_empty() || self.status != Status::Joined {
                    return None;
                }
                self.draft.clear();
                Some(Event::Command(Command::SendRoom {
                    room: self.jid.clone(),
                    body,
                    id: LocalMessageId::generate(),
                }))
            }
            Message::Edit(m) => {
                self.refusal = None;
                self.invited = None;
                self.saved = false;
                let subject = self.subject.clone().unwrap_or_default();
                match roomedit::update(&mut self.editing, m, &self.jid, &subject, &self.nick)? {
                    roomedit::Outcome::Command(c) => {
                        if let Command::ChangeNick { nick, .. } = &c {
                            self.asked_nick = Some(nick.clone());
                        }
                        Some(Event::Command(c))
                    }
                    roomedit::Outcome::Invited(to, c) => {
                        self.invited = Some(to);
                        Some(Event::Command(c))
                    }
                }
            }
            Message::Configure => {
                self.created = false;
                Some(Event::Configure)
            }
            Message::KeepDefaults => {
                self.created = false;
                None
            }
            Message::UseNick(nick) => {
                self.refusal = None;
                self.asked_nick = Some(nick.clone());
                Some(Event::Command(Command::ChangeNick {
                    room: self.jid.clone(),
                    nick,
                }))
            }
            Message::OpenPrivate(nick) => {
                if let Some(p) = self.privates.get_mut(&nick) {
                    p.unread = 0;
                }
                self.privates.entry(nick.clone()).or_default();
                self.private_open = Some(nick);
                None
            }
            Message::Private(private::Message::Back) => {
                self.private_open = None;
                None
            }
            Message::Private(m) => {
                let nick = self.private_open.clone()?;
                let p = self.privates.get_mut(&nick)?;
                p.update(m, &self.jid, &nick).map(Event::Command)
            }
        }
    }

    /// The state line when we are not (or not yet) in the room; `None` when joined.
    fn status_view(&self, lang: Lang) -> Option<Element<'_, Message>> {
        let (words, reason, rejoin) = match &self.status {
            Status::Joined => return None,
            Status::Joining => (tr(lang, T::JoiningRoom).to_owned(), None, false),
            Status::Failed(e) => (super::join::describe(lang, e, &self.nick), None, true),
            Status::Out {
                departure,
                rejoin_in_secs,
            } => {
                let secs = rejoin_in_secs.map(|s| s.to_string()).unwrap_or_default();
                let words = match (&departure.exit, rejoin_in_secs) {
                    (Exit::Kicked, _) => match &departure.actor {
                        Some(actor) => trf(lang, T::RoomKicked, &[("actor", actor)]),
                        None => tr(lang, T::RoomKickedNoActor).to_owned(),
                    },
                    (Exit::Banned, _) => tr(lang, T::RoomBannedState).to_owned(),
                    (Exit::Left, _) => tr(lang, T::RoomLeftState).to_owned(),
                    (Exit::Destroyed, _) => tr(lang, T::RoomDestroyed).to_owned(),
                    (Exit::MembersOnly | Exit::AffiliationChanged, _) => {
                        tr(lang, T::RoomMembersOnlyNow).to_owned()
                    }
                    (Exit::Shutdown, Some(_)) => trf(lang, T::RoomShutdown, &[("secs", &secs)]),
                    (Exit::Lost, Some(_)) => trf(lang, T::RoomLost, &[("secs", &secs)]),
                    (Exit::Shutdown | Exit::Lost, None) => tr(lang, T::RoomLostNoRetry).to_owned(),
                };
                (
                    words,
                    departure.reason.clone(),
                    rejoin_in_secs.is_none() && departure.exit != Exit::Banned,
                )
            }
        };
        let mut body = column![text(words)].spacing(4);
        if let Some(reason) = reason {
            body = body
                .push(text(trf(lang, T::RoomReason, &[("reason", &reason)])).style(theme::muted));
        }
        let mut line = row![body.width(Length::Fill)]
            .spacing(12)
            .align_y(Alignment::Center);
        if rejoin {
            line = line.push(
                button(text(tr(lang, T::RoomRejoin)))
                    .style(theme::primary_button)
                    .on_press(Message::Rejoin),
            );
        }
        let style = match self.status {
            Status::Joining => theme::notice_box,
            _ => theme::error_box,
        };
        Some(container(line).padding(10).style(style).into())
    }

    fn occupants_view(&self, lang: Lang) -> Element<'_, Message> {
        let mut list: Vec<&Occupant> = self.occupants.values().collect();
        list.sort_by(|a, b| {
            (a.role, a.affiliation, &a.nick).cmp(&(b.role, b.affiliation, &b.nick))
        });
        let mut col = column![
            text(trf(
                lang,
                T::RoomOccupants,
                &[("count", &list.len().to_string())]
            ))
            .style(theme::heading)
        ]
        .spacing(6);
        for o in list {
            let colour = consistent_color(&o.nick);
            let detail: Vec<&str> = [
                affiliation_word(lang, o.affiliation),
                role_word(lang, o.role),
            ]
            .into_iter()
            .flatten()
            .collect();
            let mut entry = column![
                text(o.nick.clone()).style(theme::nick(colour)),
                text(detail.join(" · ")).size(12).style(theme::muted),
            ]
            .spacing(0);
            if o.nick != self.nick && self.status == Status::Joined {
                entry = entry.push(
                    button(text(tr(lang, T::PrivateMessage)).size(12))
                        .padding([0, 0])
                        .style(theme::link_button)
                        .on_press(Message::OpenPrivate(o.nick.clone())),
                );
            }
            col = col.push(entry);
        }
        if !self.privates.is_empty() {
            col = col.push(text(tr(lang, T::PrivateChats)).style(theme::heading));
            for (nick, p) in &self.privates {
                let mut line = row![text(nick.clone()).width(Length::Fill)].spacing(4);
                if p.unread > 0 {
                    line = line.push(super::parts::unread(p.unread, false));
                }
                let selected = self.private_open.as_deref() == Some(nick.as_str());
                col = col.push(
                    button(line)
                        .width(Length::Fill)
                        .style(theme::list_item(selected))
                        .on_press(Message::OpenPrivate(nick.clone())),
                );
            }
        }
        container(scrollable(col).height(Length::Fill))
            .padding(10)
            .width(220)
            .height(Length::Fill)
            .style(theme::sidebar)
            .into()
    }

    fn line_view<'a>(&'a self, lang: Lang, line: &'a Line) -> Element<'a, Message> {
        match line {
            Line::Chat(m) => {
                // Our own bubble is coloured already: our nick stays plain there, so it
                // never lands a low-contrast colour on the accent.
                let (bubble, sender) = if m.direction == Direction::Outgoing {
                    (
                        theme::bubble_own as fn(&iced::Theme) -> _,
                        text(m.sender.clone()).size(13),
                    )
                } else {
                    let colour = consistent_color(&m.sender);
                    (
                        theme::bubble_other as fn(&iced::Theme) -> _,
                        text(m.sender.clone()).size(13).style(theme::nick(colour)),
                    )
                };
                let body = fold::body(
                    lang,
                    m,
                    self.unfolded.contains(&m.id),
                    fold::plain,
                    |unfold| Message::Unfold(m.id.clone(), unfold),
                );
                container(column![sender, body].spacing(2))
                    .padding(8)
                    .style(bubble)
                    .into()
            }
            Line::Notes(notes) => {
                let words: Vec<String> = notes
                    .iter()
                    .map(|n| match n {
                        Note::Joined(nick) => trf(lang, T::RoomJoinedLine, &[("nick", nick)]),
                        Note::Left(nick) => trf(lang, T::RoomLeftLine, &[("nick", nick)]),
                        Note::Nick { old, new } => {
                            trf(lang, T::RoomNickLine, &[("old", old), ("new", new)])
                        }
                    })
                    .collect();
                text(words.join(" · ")).size(12).style(theme::muted).into()
            }
        }
    }

    pub fn view(&self, lang: Lang) -> Element<'_, Message> {
        if let Some(nick) = &self.private_open
            && let Some(p) = self.privates.get(nick)
        {
            let present = self.occupants.contains_key(nick);
            let main = p
                .view(
                    lang,
                    &self.jid,
                    nick,
                    present,
                    self.status == Status::Joined,
                )
                .map(Message::Private);
            return row![
                iced::widget::container(main).width(Length::Fill),
                self.occupants_view(lang)
            ]
            .into();
        }
        let subject = match &self.subject {
            Some(s) => text(s.clone()),
            None => text(tr(lang, T::RoomNoSubject)).style(theme::muted),
        };
        let header = container(
            column![
                row![
                    text(self.jid.to_string()).size(18).style(theme::heading),
                    container(text(tr(lang, T::RoomBadge)).size(12))
                        .padding([1, 6])
                        .style(theme::tag),
                ]
                .spacing(8)
                .align_y(Alignment::Center),
                subject,
                roomedit::tools_view(self, lang),
            ]
            .spacing(4),
        )
        .padding(12)
        .width(Length::Fill)
        .style(theme::bar);
        let mut messages = column![].spacing(6).padding(12);
        messages = match self.older {
            Older::Available if !self.lines.is_empty() => messages.push(
                button(text(tr(lang, T::LoadOlder)).size(13))
                    .style(theme::link_button)
                    .on_press(Message::LoadOlder),
            ),
            Older::Loading => {
                messages.push(text(tr(lang, T::LoadingOlder)).size(13).style(theme::muted))
            }
            Older::Available | Older::Exhausted => messages,
        };
        for line in &self.lines {
            messages = messages.push(self.line_view(lang, line));
        }
        let mut main = column![header].spacing(0);
        if let Some(status) = self.status_view(lang) {
            main = main.push(container(status).padding(8));
        }
        main = main.push(
            scrollable(messages)
                .anchor_bottom()
                .on_scroll(Message::Scrolled)
                .height(Length::Fill)
                .width(Length::Fill),
        );
        let room_name = self.jid.node().map(|n| n.to_string()).unwrap_or_default();
        let mut input = text_input(
            &trf(lang, T::RoomComposerPlaceholder, &[("room", &room_name)]),
            &self.draft,
        )
        .id(Id::new(COMPOSER_ID))
        .style(theme::input);
        let mut send = button(text(tr(lang, T::RoomSend))).style(theme::primary_button);
        if self.status == Status::Joined {
            input = input.on_input(Message::Draft).on_submit(Message::Send);
            send = send.on_press(Message::Send);
        }
        main = main.push(container(row![input, send].spacing(8)).padding(10));
        row![main.width(Length::Fill), self.occupants_view(lang)].into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_whole_words() {
        assert!(mentions("hey Alice, tea?", "alice"));
        assert!(mentions("alice: tea", "Alice"));
        assert!(!mentions("malice aforethought", "alice"));
        assert!(!mentions("anything", ""));
    }
}
