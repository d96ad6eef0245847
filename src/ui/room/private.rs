//! A private conversation with one occupant of a room (`room@service/nick`), shown in
//! place of the room's messages: its own lines, its own composer, a way back.

use crate::ids::LocalMessageId;
use crate::model::{ChatMessage, Direction};
use crate::session::{ChatState, Command};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use crate::ui::timeline;
use crate::ui::timeline::previews::Previews;
use iced::widget::{button, column, container, row, scrollable, text, text_editor};
use iced::{Alignment, Element, Length};
use std::collections::HashSet;
use xmpp_parsers::jid::BareJid;

pub const PRIVATE_COMPOSER_ID: &str = "private-composer";
/// The widget id of a private chat's message list.
pub const PRIVATE_LIST_ID: &str = "private-list";

#[derive(Debug, Clone, Default)]
pub struct Private {
    pub lines: Vec<ChatMessage>,
    pub composer: text_editor::Content,
    pub unread: u32,
    /// Long messages the reader unfolded ("Show more"); the others show folded.
    pub unfolded: HashSet<LocalMessageId>,
    /// Where the stored history stands.
    pub history: History,
    /// The "⋯" row, a question, editing.
    pub actions: timeline::actions::Actions,
    /// Our typing, as said to the occupant (XEP-0085): composing, then paused.
    composing: timeline::typing::Composing,
}

/// The stored history of a private chat: read when it first opens, older pages on
/// request, until the store has nothing older.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum History {
    #[default]
    NotRead,
    Loading,
    /// More may be stored before the oldest line.
    More,
    /// Everything stored is on screen.
    All,
}

#[derive(Debug, Clone)]
pub enum Message {
    Timeline(timeline::Message),
    Back,
}

/// What the private chat asks of its room.
#[derive(Debug, Clone)]
pub enum Event {
    Command(Command),
    /// Read the stored page before this message (`None`: the newest page).
    LoadStored(Option<LocalMessageId>),
    /// A link, a file card or an image: the room acts on it.
    Timeline(timeline::Message),
    /// Scroll to the highlighted message.
    Show,
    /// Put the cursor in the composer.
    Focus,
}

/// The conversation of a private chat with `nick` in `room`.
fn conversation(room: &BareJid, nick: &str) -> crate::ids::ConversationId {
    crate::ids::ConversationId::Private {
        room: room.clone(),
        nick: nick.to_owned(),
    }
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
        let at = self
            .lines
            .iter()
            .rposition(|m| m.timestamp_ms <= message.timestamp_ms)
            .map_or(0, |i| i + 1);
        self.lines.insert(at, message);
    }

    /// Asks for the newest stored page the first time the chat opens.
    pub fn opened(&mut self) -> Option<Event> {
        (self.history == History::NotRead).then(|| {
            self.history = History::Loading;
            Event::LoadStored(None)
        })
    }

    /// A stored page (oldest first) arrived: merged in time order, once each.
    pub fn stored(&mut self, page: Vec<ChatMessage>, page_size: usize) {
        let full = page.len() >= page_size;
        for message in page {
            if !self.lines.iter().any(|m| m.id == message.id) {
                let at = self
                    .lines
                    .iter()
                    .position(|m| m.timestamp_ms > message.timestamp_ms)
                    .unwrap_or(self.lines.len());
                self.lines.insert(at, message);
            }
        }
        self.history = if full { History::More } else { History::All };
    }

    /// The stored page before the oldest shown, unless one is on its way or there is
    /// none.
    fn load_older(&mut self) -> Option<Event> {
        if self.history != History::More {
            return None;
        }
        self.history = History::Loading;
        Some(Event::LoadStored(self.lines.first().map(|m| m.id.clone())))
    }

    /// After a stored page: show a reply's original looked for, or load the next page.
    pub fn seek_step(&mut self) -> Option<Event> {
        let shown: Vec<&ChatMessage> = self.lines.iter().collect();
        let more = self.history == History::More;
        match self.actions.seek_step(&shown, more)? {
            timeline::actions::Outcome::Show => Some(Event::Show),
            timeline::actions::Outcome::LoadOlder => self.load_older(),
            _ => None,
        }
    }

    /// "Paused" is still to be said to the occupant.
    pub fn typing_pending(&self) -> bool {
        self.composing.waiting()
    }

    /// A second passed: "paused" when five went by since the last keystroke.
    pub fn tick(&mut self, now: std::time::Instant, room: &BareJid, nick: &str) -> Option<Event> {
        self.composing
            .tick(now)
            .then(|| chat_state(room, nick, ChatState::Paused))
    }

    /// What to do (`Back` is the room's business).
    pub fn update(&mut self, message: Message, room: &BareJid, nick: &str) -> Option<Event> {
        let message = match message {
            Message::Back => return None,
            Message::Timeline(m) => m,
        };
        match message {
            timeline::Message::Edit(action) => {
                let edit = action.is_edit();
                self.composer.perform(action);
                if !edit {
                    return None;
                }
                let state = if self.composer.text().trim().is_empty() {
                    self.composing.emptied().then_some(ChatState::Paused)
                } else {
                    self.composing
                        .keystroke(std::time::Instant::now())
                        .then_some(ChatState::Composing)
                };
                return state.map(|state| chat_state(room, nick, state));
            }
            timeline::Message::Send => {
                let body = timeline::to_send(&self.composer)?;
                self.composer = text_editor::Content::new();
                let id = LocalMessageId::generate();
                let command = match self.actions.to_send(body) {
                    timeline::actions::Send::Correct { target, body } => Command::Correct {
                        conversation: conversation(room, nick),
                        target,
                        body,
                        id,
                    },
                    timeline::actions::Send::Reply { to, body } => Command::Reply {
                        conversation: conversation(room, nick),
                        to,
                        body,
                        id,
                    },
                    timeline::actions::Send::New(body) => Command::SendPrivate {
                        room: room.clone(),
                        nick: nick.to_owned(),
                        body,
                        id,
                    },
                };
                self.actions.sent();
                self.composing.sent();
                return Some(Event::Command(command));
            }
            timeline::Message::Action(action) => {
                let shown: Vec<&ChatMessage> = self.lines.iter().collect();
                return match self.actions.update(action, &shown, &mut self.composer)? {
                    timeline::actions::Outcome::Retract(target) => {
                        Some(Event::Command(Command::Retract {
                            conversation: conversation(room, nick),
                            target,
                        }))
                    }
                    timeline::actions::Outcome::Moderate { .. } => None,
                    timeline::actions::Outcome::Show => Some(Event::Show),
                    timeline::actions::Outcome::Focus => Some(Event::Focus),
                    timeline::actions::Outcome::LoadOlder => {
                        self.load_older().or_else(|| self.seek_step())
                    }
                };
            }
            timeline::Message::Unfold(id, unfold) => {
                if unfold {
                    self.unfolded.insert(id);
                } else {
                    self.unfolded.remove(&id);
                }
            }
            timeline::Message::LoadOlder => return self.load_older(),
            other => return Some(Event::Timeline(other)),
        }
        None
    }

    pub fn view<'a>(
        &'a self,
        lang: Lang,
        previews: Option<&'a Previews>,
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
                    &[
                        ("nick", &crate::notify::shown_name(nick)),
                        ("room", &room_name)
                    ]
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
        let cx = timeline::Context {
            lang,
            kind: timeline::Kind::RoomPrivate,
            peer_label: crate::notify::shown_name(nick).into_owned(),
            previews,
            actions: Some(&self.actions),
            moderator: false,
            faces: None,
        };
        let top = match self.history {
            History::Loading => Some(timeline::Top::Loading),
            History::More if !self.lines.is_empty() => Some(timeline::Top::LoadOlder),
            _ => self.lines.is_empty().then_some(timeline::Top::Empty),
        };
        let list = timeline::list(
            &cx,
            self.lines.iter().map(timeline::Entry::Message),
            &self.unfolded,
            &[],
            top,
            None,
        )
        .map(Message::Timeline);
        let mut main = column![header];
        if !present {
            main = main.push(
                container(text(trf(
                    lang,
                    T::PrivateGone,
                    &[("nick", &crate::notify::shown_name(nick))],
                )))
                .padding(8)
                .style(theme::notice_box),
            );
        }
        main = main.push(
            scrollable(list)
                .id(PRIVATE_LIST_ID)
                .anchor_bottom()
                .height(Length::Fill)
                .width(Length::Fill),
        );
        // Files go to the room, not (yet) privately: no attach button here.
        let composer = timeline::composer(
            lang,
            &self.composer,
            PRIVATE_COMPOSER_ID,
            trf(
                lang,
                T::PrivatePlaceholder,
                &[("nick", &crate::notify::shown_name(nick))],
            ),
            can_send,
            false,
            &self.actions,
        )
        .map(Message::Timeline);
        let mut bar = column![].spacing(6);
        if let Some(compose) = self.actions.bar(lang, timeline::Kind::RoomPrivate, nick) {
            bar = bar.push(compose.map(Message::Timeline));
        }
        main.push(
            container(bar.push(composer))
                .padding(10)
                .width(Length::Fill)
                .style(theme::bar),
        )
        .into()
    }
}

/// Our chat state in the private chat with `nick` of `room`.
fn chat_state(room: &BareJid, nick: &str, state: ChatState) -> Event {
    Event::Command(Command::SendChatState {
        conversation: conversation(room, nick),
        state,
    })
}
