//! What a person does to one message, the same in chats, rooms and room private chats:
//! the "⋯" button on a bubble opens a row of actions under it (Reply, quick reactions,
//! Edit and Delete on our own messages, Remove… for a room moderator); Edit and Reply
//! put a bar above the composer (Cancel or Esc leaves it), Delete and Remove ask first.
//! Up in an empty composer edits our last message.
//!
//! The state lives in each conversation ([`Actions`]); what it decides comes back as an
//! [`Outcome`] for the conversation to turn into a session command.

use crate::ids::LocalMessageId;
use crate::model::{ChatMessage, Direction};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use crate::ui::timeline::{Kind, Message};
use iced::widget::text::Wrapping;
use iced::widget::text_editor::{self, Motion};
use iced::widget::{button, column, container, row, space, text, text_input};
use iced::{Alignment, Element, Length};

/// The quick reactions offered on every message.
pub const QUICK: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

/// The emoji the composer's picker offers (a "😊" beside Attach), in rows of ten.
pub const PICKER: [&str; 40] = [
    "😀", "😁", "😂", "🤣", "😊", "😍", "😘", "😎", "🤔", "😉", //
    "🙂", "🙃", "😅", "😇", "🥰", "😜", "😴", "😢", "😭", "😡", //
    "👍", "👎", "👏", "🙏", "💪", "👋", "🤝", "✌️", "👌", "🙌", //
    "❤️", "💔", "🔥", "🎉", "✨", "⭐", "✅", "❌", "☕", "🌹",
];

/// How many older pages a clicked reply quote loads at most to find its original.
pub const SEEK_PAGES: u8 = 20;

/// The widget id of the moderator's reason field (tests type into it).
pub const REASON_ID: &str = "message-remove-reason";

/// Longest quote line shown, in characters.
const QUOTE_CHARS: usize = 80;

/// What a person does to a message or to the composer's edit/reply state.
#[derive(Debug, Clone)]
pub enum Action {
    /// The "⋯" of a message: open its action row (or close it).
    Toggle(LocalMessageId),
    Reply(LocalMessageId),
    Edit(LocalMessageId),
    /// "Delete for everyone": asks first.
    Delete(LocalMessageId),
    /// A moderator's "Remove…": asks for a reason first.
    Remove(LocalMessageId),
    /// The moderator's reason, as typed.
    Reason(String),
    /// Delete or Remove, confirmed.
    Confirm,
    /// The confirmation's Cancel.
    Dismiss,
    /// The composer bar's Cancel (or Esc): no longer editing or replying.
    CancelCompose,
    /// Up in an empty composer: edit our last message.
    EditLast,
    /// A reply's quote was clicked: show the message it answers.
    Jump(LocalMessageId),
    /// A reply's quote whose original is not loaded was clicked: page back through
    /// the history (store, then archive) until it shows, as far as [`SEEK_PAGES`].
    Seek(String),
    /// "+" after the quick reactions: all the picker's emoji, to react with.
    MoreReactions,
    /// The composer's emoji button: open or close the picker.
    Picker,
    /// An emoji picked: into the composer at the cursor.
    Emoji(String),
}

/// Who and what a reply quotes, as captured when Reply was pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub own: bool,
    /// The sender's nick (rooms) or empty (the contact of a chat).
    pub sender: String,
    pub line: String,
}

/// What the composer is doing besides writing a new message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compose {
    Editing(LocalMessageId),
    Replying(LocalMessageId, Quote),
}

/// A question shown under a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    Delete(LocalMessageId),
    Remove(LocalMessageId, String),
}

/// The message actions of one conversation.
#[derive(Debug, Clone, Default)]
pub struct Actions {
    /// The message whose action row is open.
    pub open: Option<LocalMessageId>,
    pub confirm: Option<Confirm>,
    pub compose: Option<Compose>,
    /// The message a clicked quote pointed at, drawn highlighted.
    pub highlight: Option<LocalMessageId>,
    /// Where a search matched in the highlighted message's text (byte ranges), marked.
    pub marks: Vec<std::ops::Range<usize>>,
    /// The composer's emoji picker is open.
    pub picker: bool,
    /// The open action row shows every emoji to react with, not only the quick ones.
    pub more_reactions: bool,
    /// The original of a clicked reply quote, being looked for: the id the reply
    /// names, and how many more older pages may be loaded for it.
    pub seeking: Option<(String, u8)>,
    /// An original looked for and not found in the whole history.
    pub lost: Option<String>,
}

/// What the conversation does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Retract our message for everyone (XEP-0424).
    Retract(LocalMessageId),
    /// Remove a room message as a moderator (XEP-0425).
    Moderate {
        target: LocalMessageId,
        reason: Option<String>,
    },
    /// Scroll to the highlighted message.
    Show,
    /// Load the next older page (looking for a reply's original).
    LoadOlder,
    /// Put the cursor in the composer.
    Focus,
}

/// What the composer's text becomes when sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Send {
    New(String),
    Correct {
        target: LocalMessageId,
        body: String,
    },
    Reply {
        to: LocalMessageId,
        body: String,
    },
}

/// Is `message` the one others name `id` (any of its ids)?
pub fn named(message: &ChatMessage, id: &str) -> bool {
    message.id.0 == id
        || message.server_id.as_deref() == Some(id)
        || message.stanza_id_attr.as_deref() == Some(id)
        || message.origin_id.as_deref() == Some(id)
}

/// May we correct this message?
pub fn editable(message: &ChatMessage) -> bool {
    message.direction == Direction::Outgoing
        && message.extras.retracted.is_none()
        && message.attachment.is_none()
}

/// May we retract this message?
pub fn deletable(message: &ChatMessage) -> bool {
    message.direction == Direction::Outgoing && message.extras.retracted.is_none()
}

/// The first line of a body, shortened.
pub fn first_line(body: &str) -> String {
    let line = body.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut short: String = line.trim().chars().take(QUOTE_CHARS).collect();
    if line.trim().chars().count() > QUOTE_CHARS {
        short.push('…');
    }
    short
}

fn quote_of(message: &ChatMessage) -> Quote {
    Quote {
        own: message.direction == Direction::Outgoing,
        sender: message.sender.clone(),
        line: if message.extras.retracted.is_some() {
            String::new()
        } else if crate::session::omemo::is_marker(&message.body) {
            // Whole, so the bar can put it in words (`bar`).
            message.body.clone()
        } else {
            first_line(&message.body)
        },
    }
}

impl Actions {
    /// Acts on `action`; `messages` are the conversation's messages on screen, oldest
    /// first.
    pub fn update(
        &mut self,
        action: Action,
        messages: &[&ChatMessage],
        composer: &mut text_editor::Content,
    ) -> Option<Outcome> {
        let find = |id: &LocalMessageId| messages.iter().find(|m| &m.id == id).copied();
        // A highlighted original stays so until the next thing the reader does.
        if !matches!(action, Action::Jump(_)) {
            self.highlight = None;
        }
        self.marks.clear();
        match action {
            Action::Toggle(id) => {
                self.confirm = None;
                self.more_reactions = false;
                self.open = (self.open.as_ref() != Some(&id)).then_some(id);
                None
            }
            Action::MoreReactions => {
                self.more_reactions = !self.more_reactions;
                None
            }
            Action::Reply(id) => {
                let message = find(&id)?;
                self.open = None;
                if matches!(self.compose, Some(Compose::Editing(_))) {
                    *composer = text_editor::Content::new();
                }
                self.compose = Some(Compose::Replying(id, quote_of(message)));
                Some(Outcome::Focus)
            }
            Action::Edit(id) => {
                let message = find(&id).filter(|m| editable(m))?;
                self.open = None;
                self.start_edit(message, composer);
                Some(Outcome::Focus)
            }
            Action::EditLast => {
                // Only from an empty composer (the key binding knows it as of the last
                // frame; this is the truth now).
                if !composer.text().trim().is_empty() {
                    return None;
                }
                let message = messages.iter().rev().find(|m| editable(m))?;
                self.open = None;
                self.confirm = None;
                self.start_edit(message, composer);
                None
            }
            Action::CancelCompose => {
                if matches!(self.compose.take(), Some(Compose::Editing(_))) {
                    *composer = text_editor::Content::new();
                }
                None
            }
            Action::Delete(id) => {
                find(&id).filter(|m| deletable(m))?;
                self.confirm = Some(Confirm::Delete(id));
                None
            }
            Action::Remove(id) => {
                find(&id).filter(|m| m.extras.retracted.is_none())?;
                self.confirm = Some(Confirm::Remove(id, String::new()));
                None
            }
            Action::Reason(reason) => {
                if let Some(Confirm::Remove(_, r)) = self.confirm.as_mut() {
                    *r = reason;
                }
                None
            }
            Action::Dismiss => {
                self.confirm = None;
                self.open = None;
                None
            }
            Action::Confirm => {
                self.open = None;
                match self.confirm.take()? {
                    Confirm::Delete(id) => {
                        if matches!(&self.compose, Some(Compose::Editing(e)) if *e == id) {
                            self.compose = None;
                            *composer = text_editor::Content::new();
                        }
                        Some(Outcome::Retract(id))
                    }
                    Confirm::Remove(id, reason) => Some(Outcome::Moderate {
                        target: id,
                        reason: Some(reason.trim().to_owned()).filter(|r| !r.is_empty()),
                    }),
                }
            }
            Action::Jump(id) => {
                find(&id)?;
                self.highlight = Some(id);
                Some(Outcome::Show)
            }
            Action::Seek(reference) => {
                if let Some(m) = messages.iter().find(|m| named(m, &reference)) {
                    self.highlight = Some(m.id.clone());
                    return Some(Outcome::Show);
                }
                self.lost = None;
                self.seeking = Some((reference, SEEK_PAGES));
                Some(Outcome::LoadOlder)
            }
            Action::Picker => {
                self.picker = !self.picker;
                None
            }
            Action::Emoji(emoji) => {
                composer.perform(text_editor::Action::Edit(text_editor::Edit::Paste(
                    std::sync::Arc::new(emoji),
                )));
                Some(Outcome::Focus)
            }
        }
    }

    /// Older messages came in (or none could): is the original being looked for here
    /// now? `Show` when found (highlighted), `LoadOlder` for the next page while pages
    /// are left and `more` older ones exist, else the search ends (`lost`).
    pub fn seek_step(&mut self, messages: &[&ChatMessage], more: bool) -> Option<Outcome> {
        let (reference, left) = self.seeking.take()?;
        if let Some(m) = messages.iter().find(|m| named(m, &reference)) {
            self.highlight = Some(m.id.clone());
            return Some(Outcome::Show);
        }
        if left > 0 && more {
            self.seeking = Some((reference, left - 1));
            return Some(Outcome::LoadOlder);
        }
        self.lost = Some(reference);
        None
    }

    fn start_edit(&mut self, message: &ChatMessage, composer: &mut text_editor::Content) {
        *composer = text_editor::Content::with_text(&message.body);
        composer.perform(text_editor::Action::Move(Motion::DocumentEnd));
        self.compose = Some(Compose::Editing(message.id.clone()));
    }

    /// The composer's text is about to be sent: as a correction, a reply or a new
    /// message. The edit/reply state ends when the conversation says it went out
    /// ([`Actions::sent`]).
    pub fn to_send(&self, body: String) -> Send {
        match &self.compose {
            Some(Compose::Editing(target)) => Send::Correct {
                target: target.clone(),
                body,
            },
            Some(Compose::Replying(to, _)) => Send::Reply {
                to: to.clone(),
                body,
            },
            None => Send::New(body),
        }
    }

    /// What was composed went out.
    pub fn sent(&mut self) {
        self.compose = None;
        self.picker = false;
    }

    /// Whether Esc has something to cancel.
    pub fn composing(&self) -> bool {
        self.compose.is_some()
    }

    /// The bar above the composer while editing or replying, with Cancel.
    pub fn bar<'a>(&self, lang: Lang, kind: Kind, peer: &str) -> Option<Element<'a, Message>> {
        let (title, line) = match self.compose.as_ref()? {
            Compose::Editing(_) => (tr(lang, T::EditingBar).to_owned(), None),
            Compose::Replying(_, quote) => (
                trf(
                    lang,
                    T::ReplyingTo,
                    &[("who", &who(lang, kind, peer, quote.own, &quote.sender))],
                ),
                // An OMEMO marker (undecryptable, new device) in the reader's words.
                Some(first_line(&super::fold::readable_body(lang, &quote.line))),
            ),
        };
        let mut words = column![text(title).size(12).style(theme::heading)].spacing(1);
        if let Some(line) = line {
            words = words.push(
                text(line)
                    .size(12)
                    .style(theme::muted)
                    .wrapping(Wrapping::WordOrGlyph),
            );
        }
        Some(
            container(
                row![
                    container(space())
                        .width(3)
                        .height(28)
                        .style(theme::quote_rule),
                    words.width(Length::Fill),
                    button(text(tr(lang, T::CancelCompose)).size(12))
                        .padding([2, 8])
                        .style(theme::link_button)
                        .on_press(Message::Action(Action::CancelCompose)),
                ]
                .spacing(8)
                .align_y(Alignment::Center),
            )
            .padding([4, 8])
            .width(Length::Fill)
            .style(theme::quote_box)
            .into(),
        )
    }
}

/// What a sender is called in a quote.
pub fn who(lang: Lang, kind: Kind, peer: &str, own: bool, sender: &str) -> String {
    if own {
        tr(lang, T::Me).to_owned()
    } else if sender.trim().is_empty() || kind == Kind::Chat {
        peer.to_owned()
    } else {
        sender.to_owned()
    }
}

/// What the list needs to draw one message's actions.
pub struct Row<'a> {
    pub lang: Lang,
    pub kind: Kind,
    pub actions: &'a Actions,
    /// We are a moderator of this room.
    pub moderator: bool,
}

/// The "⋯" button of a bubble ("Actions" on hover).
pub fn more<'a>(lang: Lang, id: &LocalMessageId, open: bool) -> Element<'a, Message> {
    iced::widget::tooltip(
        button(text("⋯").size(14))
            .padding([0, 6])
            .style(theme::pill(open))
            .on_press(Message::Action(Action::Toggle(id.clone()))),
        container(text(tr(lang, T::ActionsHint)).size(12))
            .padding(4)
            .style(theme::tag),
        iced::widget::tooltip::Position::Top,
    )
    .into()
}

/// The row under an open message: its actions, or the question Delete/Remove asks.
pub fn under<'a>(r: &Row<'_>, message: &ChatMessage) -> Option<Element<'a, Message>> {
    let lang = r.lang;
    let id = &message.id;
    match &r.actions.confirm {
        Some(Confirm::Delete(target)) if target == id => {
            return Some(question(
                lang,
                text(tr(lang, T::DeleteQuestion)).size(13).into(),
                tr(lang, T::DeleteConfirm),
            ));
        }
        Some(Confirm::Remove(target, reason)) if target == id => {
            let field = text_input(tr(lang, T::RemoveReason), reason)
                .id(REASON_ID)
                .on_input(|s| Message::Action(Action::Reason(s)))
                .on_submit(Message::Action(Action::Confirm))
                .padding(4)
                .size(13)
                .width(220)
                .style(theme::input);
            return Some(question(
                lang,
                row![text(tr(lang, T::RemoveQuestion)).size(13), field]
                    .spacing(8)
                    .align_y(Alignment::Center)
                    .into(),
                tr(lang, T::RemoveConfirm),
            ));
        }
        _ => {}
    }
    if r.actions.open.as_ref() != Some(id) {
        return None;
    }
    let retracted = message.extras.retracted.is_some();
    let action = |label: &str, on: Action| {
        button(text(label.to_owned()).size(12))
            .padding([2, 8])
            .style(theme::secondary_button)
            .on_press(Message::Action(on))
    };
    let mut line = row![].spacing(4).align_y(Alignment::Center);
    let mut more: Option<Element<'a, Message>> = None;
    if !retracted {
        line = line.push(action(tr(lang, T::ActionReply), Action::Reply(id.clone())));
        // Ours are marked: a click takes them away again.
        let ours: Vec<&String> = message
            .extras
            .reactions
            .iter()
            .filter(|r| r.mine)
            .flat_map(|r| r.emojis.iter())
            .collect();
        for emoji in QUICK {
            let mine = ours.iter().any(|e| e.as_str() == emoji);
            line = line.push(
                button(text(emoji).size(14))
                    .padding([0, 4])
                    .style(theme::pill(mine))
                    .on_press(Message::React(id.clone(), emoji.to_owned())),
            );
        }
        line = line.push(iced::widget::tooltip(
            button(text(if r.actions.more_reactions { "−" } else { "+" }).size(14))
                .padding([0, 6])
                .style(theme::pill(r.actions.more_reactions))
                .on_press(Message::Action(Action::MoreReactions)),
            text(tr(lang, T::MoreReactions)).size(12),
            iced::widget::tooltip::Position::Top,
        ));
        if r.actions.more_reactions {
            let mut grid = column![].spacing(2);
            for chunk in PICKER.chunks(10) {
                let mut emojis = row![].spacing(2);
                for emoji in chunk {
                    let mine = ours.iter().any(|e| e.as_str() == *emoji);
                    emojis = emojis.push(
                        button(text(*emoji).size(16))
                            .padding([0, 4])
                            .style(theme::pill(mine))
                            .on_press(Message::React(id.clone(), (*emoji).to_owned())),
                    );
                }
                grid = grid.push(emojis);
            }
            more = Some(grid.into());
        }
    }
    if editable(message) {
        line = line.push(action(tr(lang, T::ActionEdit), Action::Edit(id.clone())));
    }
    if deletable(message) {
        line = line.push(
            button(text(tr(lang, T::ActionDelete)).size(12))
                .padding([2, 8])
                .style(theme::danger_button)
                .on_press(Message::Action(Action::Delete(id.clone()))),
        );
    }
    if r.moderator && r.kind == Kind::Room && !retracted {
        line = line.push(
            button(text(tr(lang, T::ActionRemove)).size(12))
                .padding([2, 8])
                .style(theme::danger_button)
                .on_press(Message::Action(Action::Remove(id.clone()))),
        );
    }
    let content: Element<'a, Message> = match more {
        Some(grid) => column![line, grid].spacing(4).into(),
        None => line.into(),
    };
    Some(container(content).padding([2, 4]).style(theme::tag).into())
}

fn question<'a>(lang: Lang, what: Element<'a, Message>, confirm: &str) -> Element<'a, Message> {
    container(
        row![
            what,
            button(text(confirm.to_owned()).size(12))
                .padding([2, 8])
                .style(theme::danger_button)
                .on_press(Message::Action(Action::Confirm)),
            button(text(tr(lang, T::CancelCompose)).size(12))
                .padding([2, 8])
                .style(theme::secondary_button)
                .on_press(Message::Action(Action::Dismiss)),
        ]
        .spacing(8)
        .align_y(Alignment::Center),
    )
    .padding([4, 8])
    .style(theme::tag)
    .into()
}

/// The widget id of the highlighted message (a reply's original), for [`show`].
pub const HIGHLIGHT_ID: &str = "timeline-highlight";

/// Scrolls the list `list` (a scrollable anchored at its newest end) so that the
/// highlighted message is in the middle of it, or as near as the list's ends allow.
pub fn show<T: std::marker::Send + 'static>(list: &'static str) -> iced::Task<T> {
    iced::advanced::widget::operate(reveal::Reveal::new(list, HIGHLIGHT_ID)).discard()
}

mod reveal {
    use iced::advanced::widget::operation::{Outcome, Scrollable, scrollable};
    use iced::advanced::widget::{Id, Operation};
    use iced::widget::scrollable::AbsoluteOffset;
    use iced::{Rectangle, Vector};

    /// Finds a list and a widget in it, then scrolls the list to that widget.
    pub struct Reveal {
        list: Id,
        target: Id,
        frame: Option<(Rectangle, Rectangle)>,
        found: Option<Rectangle>,
    }

    impl Reveal {
        pub fn new(list: &'static str, target: &'static str) -> Self {
            Reveal {
                list: Id::new(list),
                target: Id::new(target),
                frame: None,
                found: None,
            }
        }
    }

    impl Operation for Reveal {
        fn traverse(&mut self, operate: &mut dyn FnMut(&mut dyn Operation)) {
            operate(self);
        }

        fn scrollable(
            &mut self,
            id: Option<&Id>,
            bounds: Rectangle,
            content_bounds: Rectangle,
            _translation: Vector,
            _state: &mut dyn Scrollable,
        ) {
            if id == Some(&self.list) {
                self.frame = Some((bounds, content_bounds));
            }
        }

        fn container(&mut self, id: Option<&Id>, bounds: Rectangle) {
            if id == Some(&self.target) && self.frame.is_some() {
                self.found = Some(bounds);
            }
        }

        fn finish(&self) -> Outcome<()> {
            let (Some((view, content)), Some(target)) = (self.frame, self.found) else {
                return Outcome::None;
            };
            Outcome::Chain(Box::new(scrollable::scroll_to(
                self.list.clone(),
                AbsoluteOffset {
                    x: None,
                    y: Some(offset(view, content, target)),
                },
            )))
        }
    }

    /// The offset (from the newest end: the list is anchored at the bottom) that puts
    /// `target` in the middle of `view`, as near as the content's ends allow. Layout
    /// positions ignore scrolling: `target.y - content.y` is its place in the content.
    pub fn offset(view: Rectangle, content: Rectangle, target: Rectangle) -> f32 {
        let room = (content.height - view.height).max(0.0);
        let from_top =
            (target.y - content.y + target.height / 2.0 - view.height / 2.0).clamp(0.0, room);
        room - from_top
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_target_lands_in_the_middle_or_at_an_end() {
            let view = Rectangle::new([0.0, 100.0].into(), [400.0, 500.0].into());
            let content = Rectangle::new([0.0, 100.0].into(), [400.0, 3000.0].into());
            let at = |y: f32| Rectangle::new([0.0, 100.0 + y].into(), [300.0, 60.0].into());
            // In the middle: 1,500 px down, its centre at the view's centre.
            assert_eq!(offset(view, content, at(1500.0)), 2500.0 - (1530.0 - 250.0));
            // Near the top: the list scrolls as far up as it goes.
            assert_eq!(offset(view, content, at(10.0)), 2500.0);
            // Near the newest end: offset 0, where the list follows new messages.
            assert_eq!(offset(view, content, at(2950.0)), 0.0);
            // A list shorter than its view does not move.
            let short = Rectangle::new([0.0, 100.0].into(), [400.0, 300.0].into());
            assert_eq!(offset(view, short, at(100.0)), 0.0);
        }
    }
}
