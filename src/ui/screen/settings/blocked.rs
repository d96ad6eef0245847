//! Settings > Accounts: each account's blocked addresses (XEP-0191), with Unblock.
//! The list is the server's: it shows what every client of the account blocked.

use super::Message;
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use iced::widget::{button, column, container, row, text};
use iced::{Alignment, Element, Length};

/// Most blocked addresses listed on a card (the server may keep thousands).
const SHOWN: usize = 200;

pub fn view<'a>(lang: Lang, state: &'a AccountState) -> Element<'a, Message> {
    let blocking = &state.blocking;
    let title = format!("{} ({})", tr(lang, T::BlockedTitle), blocking.items.len());
    let mut list = column![text(title).size(14).style(theme::heading)].spacing(4);
    if !blocking.supported {
        list = list.push(
            text(tr(lang, T::BlockedUnsupported))
                .size(13)
                .style(theme::muted),
        );
    } else if blocking.items.is_empty() {
        list = list.push(text(tr(lang, T::BlockedNone)).size(13).style(theme::muted));
    }
    for jid in blocking.items.iter().take(SHOWN) {
        list = list.push(
            row![
                text(jid.to_string()).size(13).width(Length::Fill),
                button(text(tr(lang, T::Unblock)).size(12))
                    .padding([2, 8])
                    .style(theme::secondary_button)
                    .on_press(Message::Unblock(state.account.id.clone(), jid.clone())),
            ]
            .spacing(8)
            .align_y(Alignment::Center),
        );
    }
    container(list).width(Length::Fill).into()
}
