//! Settings > Accounts: the account's own avatar (issue #18), with a button to choose a
//! picture; the app crops, scales and publishes it (`ui::app::own_avatar`).

use super::Message;
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use crate::ui::widgets::avatar;
use iced::widget::{button, column, row, text};
use iced::{Alignment, Element};

/// Side of the face on the card.
const SIDE: f32 = 48.0;

pub fn view<'a>(lang: Lang, state: &'a AccountState) -> Element<'a, Message> {
    let own = &state.account.jid;
    let face = avatar::face(
        &state.account.label(),
        own.as_str(),
        state.avatars.get(own).map(|p| p.as_path()),
        SIDE,
    );
    row![
        face,
        column![
            text(tr(lang, T::AvatarTitle))
                .size(14)
                .style(theme::heading),
            button(text(tr(lang, T::ChooseAvatar)).size(12))
                .padding([2, 8])
                .style(theme::secondary_button)
                .on_press(Message::ChooseAvatar(state.account.id.clone())),
        ]
        .spacing(4),
    ]
    .spacing(10)
    .align_y(Alignment::Center)
    .into()
}
