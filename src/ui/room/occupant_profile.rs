//! An occupant's profile (issue #18), opened from the occupant list in place of the
//! room's timeline: their face and nick, their real address when the room shows it,
//! their role and affiliation, and what they say about themselves (their vCard and
//! their client's software, asked of `room/nick` through the room:
//! `session::profile::fetch_occupant`). Actions: message privately, add the real
//! address as a contact, block it (XEP-0191).

use crate::session::Command;
use crate::session::profile::Profile;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::room::joined::{self, Room, Status};
use crate::ui::screen::profile::{details, field};
use crate::ui::theme;
use iced::widget::{button, column, container, row, scrollable, space, text};
use iced::{Alignment, Element, Length};
use xmpp_parsers::jid::BareJid;

/// Side of the occupant's face at the top of their profile.
const FACE: f32 = 56.0;

#[derive(Debug, Clone)]
pub enum Message {
    /// The answers about `nick` in `room` came.
    Loaded(BareJid, String, Box<Profile>),
    MessagePrivately,
    AddContact,
    Block,
    Close,
}

/// The profile on screen: whose, and what they said (`None`: still asking).
#[derive(Debug, Clone)]
pub struct State {
    pub nick: String,
    profile: Option<Profile>,
}

impl State {
    pub fn new(nick: String) -> Self {
        State {
            nick,
            profile: None,
        }
    }
}

impl Room {
    /// Opens `nick`'s profile; the parent asks for the rest.
    pub(super) fn open_profile(&mut self, nick: String) -> Option<joined::Event> {
        self.profile = Some(State::new(nick.clone()));
        Some(joined::Event::OccupantProfile(nick))
    }

    pub(super) fn on_profile(&mut self, message: Message) -> Option<joined::Event> {
        let nick = self.profile.as_ref()?.nick.clone();
        let real = self.occupants.get(&nick).and_then(|o| o.real_jid.clone());
        match message {
            Message::Loaded(room, who, profile) => {
                if let Some(p) = self
                    .profile
                    .as_mut()
                    .filter(|p| room == self.jid && who == p.nick)
                {
                    p.profile = Some(*profile);
                }
                None
            }
            Message::MessagePrivately => {
                self.profile = None;
                self.update(joined::Message::OpenPrivate(nick))
            }
            Message::AddContact => real.map(|jid| {
                joined::Event::Command(Command::AddContact {
                    jid,
                    name: Some(nick),
                    subscribe: true,
                })
            }),
            Message::Block => real.map(|jid| {
                joined::Event::Command(Command::Block {
                    jids: vec![jid.into()],
                    report: false,
                })
            }),
            Message::Close => {
                self.profile = None;
                None
            }
        }
    }

    /// The open profile, if any, in place of the timeline.
    pub(super) fn profile_view(&self, lang: Lang) -> Option<Element<'_, Message>> {
        let state = self.profile.as_ref()?;
        let nick = state.nick.as_str();
        let occupant = self.occupants.get(nick);
        let shown = crate::notify::shown_name(nick).into_owned();
        let mut page = column![
            row![
                crate::ui::widgets::avatar::face(&shown, nick, self.face_of(nick), FACE),
                column![
                    text(shown.clone()).size(24).style(theme::heading),
                    text(trf(lang, T::OccupantIn, &[("room", self.jid.as_str())]))
                        .size(13)
                        .style(theme::muted),
                ]
                .spacing(2)
                .width(Length::Fill),
                button(text(tr(lang, T::ProfileClose)).size(13))
                    .style(theme::link_button)
                    .on_press(Message::Close),
            ]
            .spacing(12)
            .align_y(Alignment::Center),
        ]
        .spacing(8);
        match occupant {
            None => {
                page = page.push(text(tr(lang, T::OccupantGone)).size(13).style(theme::muted));
            }
            Some(o) => {
                page = page.push(match &o.real_jid {
                    Some(jid) => field(lang, T::OccupantAddress, jid.to_string()),
                    None => field(
                        lang,
                        T::OccupantAddress,
                        tr(lang, T::OccupantAddressHidden).to_owned(),
                    ),
                });
                let word = |w: Option<&str>| w.unwrap_or("—").to_owned();
                page = page
                    .push(field(
                        lang,
                        T::OccupantRole,
                        word(joined::role_word(lang, o.role)),
                    ))
                    .push(field(
                        lang,
                        T::OccupantAffiliation,
                        word(joined::affiliation_word(lang, o.affiliation)),
                    ));
            }
        }
        page = page
            .push(space().height(6))
            .push(details(lang, state.profile.as_ref()))
            .push(space().height(10));
        let mut actions = row![].spacing(8);
        if occupant.is_some() && nick != self.nick && self.status == Status::Joined {
            actions = actions.push(
                button(text(tr(lang, T::PrivateMessage)).size(13))
                    .style(theme::primary_button)
                    .on_press(Message::MessagePrivately),
            );
        }
        if occupant.is_some_and(|o| o.real_jid.is_some()) && nick != self.nick {
            actions = actions
                .push(
                    button(text(tr(lang, T::AddContact)).size(13))
                        .style(theme::secondary_button)
                        .on_press(Message::AddContact),
                )
                .push(
                    button(text(tr(lang, T::Block)).size(13))
                        .style(theme::secondary_button)
                        .on_press(Message::Block),
                );
        }
        page = page.push(actions);
        Some(
            container(scrollable(page.padding(20)).height(Length::Fill))
                .width(Length::Fill)
                .height(Length::Fill)
                .into(),
        )
    }
}
