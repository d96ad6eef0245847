//! A private conversation with one occupant of a room (`room@service/nick`), shown in
//! place of the room's messages: its own lines, its own composer, a way back.

use super::fold;
use super::i18n::{Lang, T, tr, trf};
use super::theme;
use crate::ids::LocalMessageId;
use crate::model::{ChatMessage, Direction};
use crate::session::Command;
use iced::widget::{Id, button, column, container, row, scrollable, text, text_input};
use iced::{Alignment, Element, Length};
use std::collections::HashSet;
use xmpp_parsers::jid::BareJid;

pub const PRIVATE_COMPOSER_ID: &str = "private-composer";

#[derive(Debug, Clone, Default)]
pub struct Private {
    pub lines: Vec<ChatMessage>,
    pub draft: String,
    pub unread: u32,
    /// Long messages the reader unfolded ("Show more"); the others show folded.
    pub unfolded: HashSet<LocalMessageId>,
}

#[derive(Debug, Clone)]
pub enum Message {
    Draft(String),
    Send,
    Back,
    /// "Show more" (true) or "Show less" (false) on a long message.
    Unfold(LocalMessageId, bool),
}

impl Private {
    /// A stored message of this conversation (ours or theirs), once.
    pub fn push(&mut self, message: ChatMessage, open: bool) {
        if self.lines.iter().any(|m| m.id == message.id) {
            return;
        }
        if !open && message.direction == Direction::Incoming {
            self.unread += 1;
        }
        self.lines.push(message);
    }

    /// The command to send, if any (`Back` is the room's business).
    pub fn update(&mut self, message: Message, room: &BareJid, nick: &str) -> Option<Command> {
        match message {
            Message::Draft(d) => self.draft = d,
            Message::Send => {
                let body = self.draft.trim().to_owned();
                if body.is_empty() {
                    return None;
                }
                self.draft.clear();
                return Some(Command::SendPrivate {
                    room: room.clone(),
                    nick: nick.to_owned(),
                    body,
                    id: LocalMessageId::generate(),
                });
            }
            Message::Back => {}
            Message::Unfold(id, unfold) => {
                if unfold {
                    self.unfolded.insert(id);
                } else {
                    self.unfolded.remove(&id);
                }
            }
        }
        None
    }

    pub fn view<'a>(
        &'a self,
        lang: Lang,
        room: &BareJid,
        nick: &'a str,
        present: bool,
        can_send: bool,
    ) -> Element<'a, Message> {
        let room_name = room.node().map(|n| n.to_string()).unwrap_or_default();
        let header = container(
            row![
                text(trf(
                    lang,
                    T::PrivateHeading,
                    &[("nick", nick), ("room", &room_name)]
                ))
                .size(18)
                .style(theme::heading)
                .width(Length::Fill),
                button(text(tr(lang, T::PrivateBack)))
                    .style(theme::secondary_button)
                    .on_press(Message::Back),
            ]
            .align_y(Alignment::Center),
        )
        .padding(12)
        .width(Length::Fill)
        .style(theme::bar);
        let mut lines = column![].spacing(6).padding(12);
        for m in &self.lines {
            let (style, who) = if m.direction == Direction::Outgoing {
                (theme::bubble_own as fn(&iced::Theme) -> _, String::new())
            } else {
                (
                    theme::bubble_other as fn(&iced::Theme) -> _,
                    nick.to_owned(),
                )
            };
            let mut bubble = column![].spacing(2);
            if !who.is_empty() {
                bubble = bubble.push(text(who).size(13));
            }
            lines = lines.push(
                container(bubble.push(fold::body(
                    lang,
                    m,
                    self.unfolded.contains(&m.id),
                    fold::plain,
                    |unfold| Message::Unfold(m.id.clone(), unfold),
                )))
                .padding(8)
                .style(style),
            );
        }
        let mut main = column![header];
        if !present {
            main = main.push(
                container(text(trf(lang, T::PrivateGone, &[("nick", nick)])))
                    .padding(8)
                    .style(theme::notice_box),
            );
        }
        main = main.push(
            scrollable(lines)
                .anchor_bottom()
                .height(Length::Fill)
                .width(Length::Fill),
        );
        let mut input = text_input(
            &trf(lang, T::PrivatePlaceholder, &[("nick", nick)]),
            &self.draft,
        )
        .id(Id::new(PRIVATE_COMPOSER_ID))
        .style(theme::input);
        let mut send = button(text(tr(lang, T::RoomSend))).style(theme::primary_button);
        if can_send {
            input = input.on_input(Message::Draft).on_submit(Message::Send);
            send = send.on_press(Message::Send);
        }
        main.push(container(row![input, send].spacing(8)).padding(10))
            .into()
    }
}
