//! The "join a group chat" dialog: room address, nickname, optional password, and the
//! room's refusal in words (with a way out: another nickname, creating the room).

use crate::session::rooms::MucError;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::room::browse;
use crate::ui::theme;
use iced::widget::{Id, button, column, container, row, text, text_input};
use iced::{Element, Length};
use xmpp_parsers::jid::BareJid;

pub const ROOM_ID: &str = "join-room";
pub const NICK_ID: &str = "join-nick";
pub const PASSWORD_ID: &str = "join-password";

#[derive(Debug, Clone, Default)]
pub struct State {
    pub room: String,
    pub nick: String,
    pub password: String,
    /// Waiting for the room's answer.
    pub busy: bool,
    pub problem: Option<Problem>,
    /// "Browse…": the rooms of the account's service.
    pub browse: Option<browse::State>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    InvalidAddress,
    EmptyNick,
    Room(MucError),
}

#[derive(Debug, Clone)]
pub enum Message {
    Room(String),
    Nick(String),
    Password(String),
    Submit,
    UseNick(String),
    OpenBrowse,
    Browse(browse::Message),
}

/// What the dialog asks of its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Join {
        room: BareJid,
        nick: String,
        password: Option<String>,
    },
    /// List the rooms of the account's group chat service.
    Browse,
    /// Ask these rooms for their name and occupant count.
    RoomInfos(Vec<BareJid>),
}

/// A nickname suggestion when ours is taken: "name2", "name3", …
pub fn suggest_nick(nick: &str) -> String {
    let base = nick.trim_end_matches(|c: char| c.is_ascii_digit());
    let n: u32 = nick[base.len()..].parse().unwrap_or(1);
    format!("{base}{}", n + 1)
}

impl State {
    pub fn new(nick: &str) -> Self {
        State {
            nick: nick.to_owned(),
            ..State::default()
        }
    }

    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Room(r) => self.room = r,
            Message::Nick(n) => self.nick = n,
            Message::Password(p) => self.password = p,
            Message::UseNick(n) => {
                self.nick = n;
                return self.submit();
            }
            Message::Submit => return self.submit(),
            Message::OpenBrowse => {
                self.browse = Some(browse::State::loading());
                return Some(Event::Browse);
            }
            Message::Browse(m) => {
                let b = self.browse.as_mut()?;
                match b.update(m)? {
                    browse::Event::Infos(rooms) => return Some(Event::RoomInfos(rooms)),
                    browse::Event::Pick(jid) => {
                        self.room = jid.to_string();
                        self.problem = None;
                        self.browse = None;
                    }
                    browse::Event::Close => self.browse = None,
                }
            }
        }
        None
    }

    fn submit(&mut self) -> Option<Event> {
        let Ok(room) = BareJid::new(self.room.trim()) else {
            self.problem = Some(Problem::InvalidAddress);
            return None;
        };
        if room.node().is_none() {
            self.problem = Some(Problem::InvalidAddress);
            return None;
        }
        let nick = self.nick.trim().to_owned();
        if nick.is_empty() {
            self.problem = Some(Problem::EmptyNick);
            return None;
        }
        self.problem = None;
        self.busy = true;
        Some(Event::Join {
            room,
            nick,
            password: (!self.password.is_empty()).then(|| self.password.clone()),
        })
    }

    /// The room refused us.
    pub fn failed(&mut self, error: MucError) {
        self.busy = false;
        self.problem = Some(Problem::Room(error));
    }

    fn problem_view(&self, lang: Lang) -> Option<Element<'_, Message>> {
        let problem = self.problem.as_ref()?;
        let words = match problem {
            Problem::InvalidAddress => tr(lang, T::RoomAddressInvalid).to_owned(),
            Problem::EmptyNick => tr(lang, T::RoomNickEmpty).to_owned(),
            Problem::Room(e) => describe(lang, e, &self.nick),
        };
        let mut body = column![text(words).style(theme::error_text)].spacing(8);
        if let Problem::Room(MucError::NicknameInUse) = problem {
            let suggestion = suggest_nick(self.nick.trim());
            body = body.push(
                button(text(trf(
                    lang,
                    T::MucUseSuggestion,
                    &[("suggestion", &suggestion)],
                )))
                .style(theme::secondary_button)
                .on_press(Message::UseNick(suggestion)),
            );
        }
        if let Problem::Room(MucError::RoomNotFound) = problem {
            body = body.push(
                button(text(tr(lang, T::MucCreateInstead)))
                    .style(theme::secondary_button)
                    .on_press(Message::Submit),
            );
        }
        Some(container(body).padding(10).style(theme::error_box).into())
    }

    pub fn view(&self, lang: Lang) -> Element<'_, Message> {
        let mut form = column![
            text(tr(lang, T::JoinRoomTitle))
                .size(20)
                .style(theme::heading),
            text(tr(lang, T::RoomAddressLabel)),
            text_input(tr(lang, T::RoomAddressPlaceholder), &self.room)
                .id(Id::new(ROOM_ID))
                .style(theme::input)
                .on_input(Message::Room)
                .on_submit(Message::Submit),
            text(tr(lang, T::RoomNickLabel)),
            text_input("", &self.nick)
                .id(Id::new(NICK_ID))
                .style(theme::input)
                .on_input(Message::Nick)
                .on_submit(Message::Submit),
            text(tr(lang, T::RoomPasswordLabel)),
            text_input("", &self.password)
                .id(Id::new(PASSWORD_ID))
                .secure(true)
                .style(theme::input)
                .on_input(Message::Password)
                .on_submit(Message::Submit),
        ]
        .spacing(8)
        .max_width(440);
        if let Some(problem) = self.problem_view(lang) {
            form = form.push(problem);
        }
        let label = if self.busy {
            tr(lang, T::JoiningRoom)
        } else {
            tr(lang, T::JoinRoomButton)
        };
        let mut join = button(text(label)).style(theme::primary_button);
        if !self.busy {
            join = join.on_press(Message::Submit);
        }
        let browse = button(text(tr(lang, T::BrowseOpen)))
            .style(theme::secondary_button)
            .on_press(Message::OpenBrowse);
        form = form.push(row![join, browse].spacing(8));
        if let Some(b) = &self.browse {
            form = form.push(b.view(lang).map(Message::Browse));
        }
        container(form)
            .padding(20)
            .width(Length::Fill)
            .style(theme::card)
            .into()
    }
}

/// A room's refusal in plain words.
pub fn describe(lang: Lang, error: &MucError, nick: &str) -> String {
    match error {
        MucError::NicknameInUse => {
            let suggestion = suggest_nick(nick.trim());
            trf(
                lang,
                T::MucNickInUse,
                &[("nick", nick.trim()), ("suggestion", &suggestion)],
            )
        }
        MucError::PasswordRequired => tr(lang, T::MucPasswordRequired).to_owned(),
        MucError::MembersOnly => tr(lang, T::MucMembersOnly).to_owned(),
        MucError::Banned => tr(lang, T::MucBanned).to_owned(),
        MucError::RoomNotFound => tr(lang, T::MucNotFound).to_owned(),
        MucError::ServiceUnavailable => tr(lang, T::MucServiceUnavailable).to_owned(),
        MucError::RoomFull => tr(lang, T::MucRoomFull).to_owned(),
        MucError::NotAllowed => tr(lang, T::MucNotAllowed).to_owned(),
        MucError::Other(detail) => trf(lang, T::MucOtherError, &[("detail", detail)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nick_suggestions_count_up() {
        assert_eq!(suggest_nick("alice"), "alice2");
        assert_eq!(suggest_nick("alice2"), "alice3");
        assert_eq!(suggest_nick("r2d2"), "r2d3");
    }
}
