//! THE message list, drawn the same for 1:1 chats, rooms and room private chats:
//! day separators, bubbles grouped by sender, times, delivery state, clickable links,
//! file cards and inline images, "Load older messages", the history-gap marker and the
//! unread line; and the composer (attach, multi-line editor, send) under it.
//!
//! A feature that shows on messages is written here once. Each conversation view maps
//! [`Message`] into its own messages and acts on it (open the link, start the download,
//! send the text...).

pub mod actions;
mod anchor;
pub(crate) mod attach;
pub mod changes;
mod faces;
pub mod fold;
pub mod links;
mod list;
mod one_region;
pub mod previews;
pub mod styled;
pub mod transfers;
pub mod typing;

use crate::ids::LocalMessageId;
use crate::model::ChatMessage;
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use iced::keyboard::{Key, key::Named};
use iced::widget::text_editor::{self, Binding, KeyPress};
use iced::widget::{button, row};
use iced::{Alignment, Element};
use previews::Previews;

pub use anchor::anchored;
pub use links::{Segment, has_link, segments};
pub use list::{day_label, keyed as keyed_list, view as list};

/// What a person does in the timeline or its composer.
#[derive(Debug, Clone)]
pub enum Message {
    /// A link in a message body was clicked.
    OpenLink(String),
    /// "Load older messages" at the top of the list.
    LoadOlder,
    /// "Show more" (true) or "Show less" (false) on a long message.
    Unfold(LocalMessageId, bool),
    /// Download the file a message carries.
    Download(LocalMessageId),
    /// Download it to a place the user chooses.
    SaveAs(LocalMessageId),
    /// Try a message that failed again.
    Retry(LocalMessageId),
    /// An inline image (its full view).
    Preview(previews::Message),
    /// The composer's editor.
    Edit(text_editor::Action),
    Send,
    Attach,
    /// A reaction chip under a message: toggle ours with this emoji.
    React(LocalMessageId, String),
    /// A message's actions, or the composer's edit/reply state.
    Action(actions::Action),
    /// A sender's face beside their message in a room: their occupant profile.
    SenderProfile(String),
    /// "Show devices" on an OMEMO notice: open the lock's panel.
    ShowDevices,
}

/// What kind of conversation the timeline shows: decides the sender's colour and how
/// delivery reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chat,
    /// Senders are nicks in their XEP-0392 colours; our own messages are "sent" until
    /// the room reflects them.
    Room,
    RoomPrivate,
}

/// What the list borrows from its conversation.
pub struct Context<'a> {
    pub lang: Lang,
    pub kind: Kind,
    /// Who an incoming message without a sender is from (the contact of a chat).
    pub peer_label: String,
    /// Inline image previews of received files.
    pub previews: Option<&'a Previews>,
    /// The conversation's message actions (the "⋯" row, a question, a highlight).
    pub actions: Option<&'a actions::Actions>,
    /// We are a moderator of this room: "Remove…" on every message.
    pub moderator: bool,
    /// Senders' pictures by nick (rooms; `room::faces`).
    pub faces: Option<&'a std::collections::HashMap<String, std::path::PathBuf>>,
}

/// One row of the list.
#[derive(Debug, Clone)]
pub enum Entry<'a> {
    Message(&'a ChatMessage),
    /// Something that happened (joins, leaves...), in words, shown small.
    Note(String),
    /// An OMEMO notice (a new device, a changed key), in words, with "Show devices".
    DevicesNote(String),
}

/// What sits at the top of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Top {
    LoadOlder,
    Loading,
    Empty,
}

/// The composer: attach (when `attach`), the emoji picker, the multi-line editor and
/// send. Enter sends, Shift+Enter adds a line, Up in an empty composer edits our last
/// message, Esc leaves editing or replying (`actions`). A disabled composer (`enabled`
/// false) takes no input.
pub fn composer<'a>(
    lang: Lang,
    content: &'a text_editor::Content,
    id: &'static str,
    placeholder: String,
    enabled: bool,
    attach: bool,
    actions: &actions::Actions,
) -> Element<'a, Message> {
    let cancellable = actions.composing();
    let mut editor = iced::widget::text_editor(content)
        .id(id)
        .placeholder(placeholder)
        .padding(8)
        .size(15)
        .max_height(160)
        .style(theme::composer);
    if enabled {
        let empty = content.line_count() <= 1 && content.text().trim().is_empty();
        editor = editor
            .on_action(Message::Edit)
            .key_binding(move |press| binding(press, empty, cancellable));
    }
    let mut send = button(iced::widget::text(tr(lang, T::Send)))
        .padding([8, 16])
        .style(theme::primary_button);
    if enabled {
        send = send.on_press(Message::Send);
    }
    let mut line = row![].spacing(8).align_y(Alignment::End);
    if attach {
        let mut button = button(iced::widget::text(tr(lang, T::Attach)))
            .padding([8, 12])
            .style(theme::secondary_button);
        if enabled {
            button = button.on_press(Message::Attach);
        }
        line = line.push(button);
    }
    let mut emoji = button(iced::widget::text("😊").size(16))
        .padding([7, 10])
        .style(theme::secondary_button);
    if enabled {
        emoji = emoji.on_press(Message::Action(actions::Action::Picker));
    }
    line = line.push(iced::widget::tooltip(
        emoji,
        iced::widget::text(tr(lang, T::EmojiPicker)).size(12),
        iced::widget::tooltip::Position::Top,
    ));
    let line = line.push(editor).push(send);
    if !(enabled && actions.picker) {
        return line.into();
    }
    iced::widget::column![picker(), line].spacing(6).into()
}

/// The emoji picker above the composer: a click puts the emoji at the cursor.
fn picker<'a>() -> Element<'a, Message> {
    let mut grid = iced::widget::column![].spacing(2);
    for chunk in actions::PICKER.chunks(10) {
        let mut line = row![].spacing(2);
        for emoji in chunk {
            line = line.push(
                button(iced::widget::text(*emoji).size(20))
                    .padding([2, 6])
                    .style(theme::link_button)
                    .on_press(Message::Action(actions::Action::Emoji((*emoji).to_owned()))),
            );
        }
        grid = grid.push(line);
    }
    iced::widget::container(grid)
        .padding(6)
        .style(theme::card)
        .into()
}

/// The text to send from a composer: without leading empty lines and trailing
/// whitespace; `None` when there is nothing to send.
pub fn to_send(content: &text_editor::Content) -> Option<String> {
    let text = content.text();
    let body = text.trim_end().trim_start_matches(['\n', '\r']);
    (!body.trim().is_empty()).then(|| body.to_string())
}

/// Enter sends; Up in an empty composer edits our last message; Esc cancels an edit or
/// a reply; Shift+Enter (and everything else) keeps the editor's own behaviour.
fn binding(press: KeyPress, empty: bool, cancellable: bool) -> Option<Binding<Message>> {
    let focused = matches!(press.status, text_editor::Status::Focused { .. });
    let plain = !press.modifiers.shift()
        && !press.modifiers.control()
        && !press.modifiers.alt()
        && !press.modifiers.logo();
    if focused && matches!(press.key, Key::Named(Named::Enter)) && !press.modifiers.shift() {
        return Some(Binding::Custom(Message::Send));
    }
    if focused && plain {
        match press.key {
            Key::Named(Named::ArrowUp) if empty => {
                return Some(Binding::Custom(Message::Action(actions::Action::EditLast)));
            }
            Key::Named(Named::Escape) if cancellable => {
                return Some(Binding::Custom(Message::Action(
                    actions::Action::CancelCompose,
                )));
            }
            _ => {}
        }
    }
    Binding::from_key_press(press)
}
