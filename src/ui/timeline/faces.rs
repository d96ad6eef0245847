//! Faces beside others' messages in rooms (issue #18): the sender's picture when the
//! room reported one (`room::faces`), else their initial on their XEP-0392 colour (the
//! colour of their nick), on the first message of a run, and an empty space of the same
//! width beside the rest, so bubbles line up. A face opens the sender's profile.

use super::Message;
use crate::model::ChatMessage;
use crate::ui::widgets::avatar;
use iced::Element;
use iced::widget::{button, space};

/// Side of a face beside a message.
pub const SIDE: f32 = 28.0;

/// The face beside `message` (or its place, for a message in a run).
pub fn beside<'a>(
    message: &ChatMessage,
    grouped: bool,
    faces: Option<&std::collections::HashMap<String, std::path::PathBuf>>,
) -> Element<'a, Message> {
    if grouped {
        return space().width(SIDE).height(1).into();
    }
    let nick = crate::notify::shown_name(&message.sender);
    let picture = faces.and_then(|f| f.get(&message.sender));
    let face = avatar::face(&nick, &message.sender, picture.map(|p| p.as_path()), SIDE);
    if message.sender.is_empty() {
        return face;
    }
    // Their profile (`room::occupant_profile`), at the face's own size.
    button(face)
        .padding(0)
        .style(crate::ui::theme::link_button)
        .on_press(Message::SenderProfile(message.sender.clone()))
        .into()
}
