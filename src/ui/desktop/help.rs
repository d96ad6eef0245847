//! The help overlay (F1 or Ctrl+?): every keyboard shortcut.

use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use iced::widget::{button, column, container, row, space, text};
use iced::{Alignment, Element, Length};

/// The shortcuts as shown: keys, then what they do.
pub const SHORTCUTS: [(&str, T); 10] = [
    ("Ctrl+K", T::KeySwitcher),
    ("Ctrl+F", T::KeySearchHere),
    ("Ctrl+Shift+F", T::KeySearch),
    ("Alt+↑ / Alt+↓", T::KeyPrevNext),
    ("Ctrl+W", T::KeyCloseConversation),
    ("Esc", T::KeyEscape),
    ("Ctrl+Q", T::KeyQuit),
    ("F1 / Ctrl+?", T::KeyHelp),
    ("Enter / Shift+Enter", T::KeySend),
    ("Tab / Shift+Tab", T::KeyFocus),
];

pub fn view<'a, M: Clone + 'a>(lang: Lang, close: M) -> Element<'a, M> {
    let mut lines = column![].spacing(8);
    for (keys, what) in SHORTCUTS {
        lines = lines.push(
            row![
                container(text(keys).size(13))
                    .width(170)
                    .padding([2, 8])
                    .style(theme::tag),
                text(tr(lang, what)).size(14),
            ]
            .spacing(12)
            .align_y(Alignment::Center),
        );
    }
    container(
        column![
            row![
                text(tr(lang, T::HelpTitle)).size(20).style(theme::heading),
                space().width(Length::Fill),
                button(text(tr(lang, T::CloseHelp)).size(13))
                    .style(theme::secondary_button)
                    .on_press(close),
            ]
            .align_y(Alignment::Center),
            lines,
        ]
        .spacing(14),
    )
    .max_width(520)
    .padding(18)
    .style(theme::card)
    .into()
}
