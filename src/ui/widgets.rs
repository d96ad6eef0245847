//! Small pieces several panels share: the account chip and tag, unread badges, and the
//! connection line of an account in plain words.

pub mod avatar;
pub mod calm;

/// The `Widget` methods of a wrapper that only passes them to its `content` field (an
/// `Element`): used inside `impl Widget<M, iced::Theme, iced::Renderer> for ...`, beside
/// the wrapper's own `operate` and `update`.
macro_rules! delegate_to_content {
    () => {
        fn size(&self) -> iced::Size<iced::Length> {
            self.content.as_widget().size()
        }
        fn size_hint(&self) -> iced::Size<iced::Length> {
            self.content.as_widget().size_hint()
        }
        fn layout(
            &mut self,
            tree: &mut iced::advanced::widget::Tree,
            renderer: &iced::Renderer,
            limits: &iced::advanced::layout::Limits,
        ) -> iced::advanced::layout::Node {
            self.content.as_widget_mut().layout(tree, renderer, limits)
        }
        fn draw(
            &self,
            tree: &iced::advanced::widget::Tree,
            renderer: &mut iced::Renderer,
            theme: &iced::Theme,
            style: &iced::advanced::renderer::Style,
            layout: iced::advanced::Layout<'_>,
            cursor: iced::advanced::mouse::Cursor,
            viewport: &iced::Rectangle,
        ) {
            self.content
                .as_widget()
                .draw(tree, renderer, theme, style, layout, cursor, viewport)
        }
        fn tag(&self) -> iced::advanced::widget::tree::Tag {
            self.content.as_widget().tag()
        }
        fn state(&self) -> iced::advanced::widget::tree::State {
            self.content.as_widget().state()
        }
        fn children(&self) -> Vec<iced::advanced::widget::Tree> {
            self.content.as_widget().children()
        }
        fn diff(&self, tree: &mut iced::advanced::widget::Tree) {
            self.content.as_widget().diff(tree)
        }
        fn mouse_interaction(
            &self,
            tree: &iced::advanced::widget::Tree,
            layout: iced::advanced::Layout<'_>,
            cursor: iced::advanced::mouse::Cursor,
            viewport: &iced::Rectangle,
            renderer: &iced::Renderer,
        ) -> iced::advanced::mouse::Interaction {
            self.content
                .as_widget()
                .mouse_interaction(tree, layout, cursor, viewport, renderer)
        }
        fn overlay<'b>(
            &'b mut self,
            tree: &'b mut iced::advanced::widget::Tree,
            layout: iced::advanced::Layout<'b>,
            renderer: &iced::Renderer,
            viewport: &iced::Rectangle,
            translation: iced::Vector,
        ) -> Option<iced::advanced::overlay::Element<'b, M, iced::Theme, iced::Renderer>> {
            self.content
                .as_widget_mut()
                .overlay(tree, layout, renderer, viewport, translation)
        }
    };
}
pub(crate) use delegate_to_content;

use crate::model::Account;
use crate::session::SessionError;
use crate::ui::app::account_state::{AccountState, Connection};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::screen::onboarding::session_error_text;
use crate::ui::theme;
use iced::widget::{container, row, space, text};
use iced::{Alignment, Element, Theme};

/// A label cut to `max` characters, with an ellipsis when cut.
pub fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_string();
    }
    let cut: String = label.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// The account's colour as a small square.
pub fn chip<'a, M: 'a>(colour: [u8; 3], size: u32) -> Element<'a, M> {
    container(space())
        .width(size)
        .height(size)
        .style(theme::account_chip(colour))
        .into()
}

/// Chip and label of an account, for list lines ("■ Work").
pub fn account_tag<'a, M: 'a>(account: &Account, max_chars: usize) -> Element<'a, M> {
    row![
        chip(account.colour(), 9),
        text(short(&account.label(), max_chars))
            .size(11)
            .style(theme::muted),
    ]
    .spacing(4)
    .align_y(Alignment::Center)
    .into()
}

/// The two buttons under a destructive question: `confirm` (in the danger style, e.g.
/// Remove) and Cancel.
pub fn confirm_buttons<'a, M: Clone + 'a>(
    lang: Lang,
    confirm: T,
    on_confirm: M,
    on_cancel: M,
) -> Element<'a, M> {
    row![
        iced::widget::button(text(tr(lang, confirm)).size(13))
            .style(theme::danger_button)
            .on_press(on_confirm),
        iced::widget::button(text(tr(lang, T::Cancel)).size(13))
            .style(theme::secondary_button)
            .on_press(on_cancel),
    ]
    .spacing(8)
    .into()
}

/// An unread count; `strong` for conversations, quieter for account totals.
pub fn unread<'a, M: 'a>(count: u32, strong: bool) -> Element<'a, M> {
    container(text(count.to_string()).size(11))
        .padding([1, 7])
        .style(if strong {
            theme::badge
        } else {
            theme::badge_muted
        })
        .into()
}

/// The count of unread messages that mention us: "@3".
pub fn mentions<'a, M: 'a>(count: u32) -> Element<'a, M> {
    container(text(format!("@{count}")).size(11))
        .padding([1, 7])
        .style(theme::badge_mention)
        .into()
}

/// Errors a person fixes in the account settings (password, certificate) rather than
/// by trying again.
pub fn needs_fix(error: &SessionError) -> bool {
    match error {
        SessionError::Auth { .. } | SessionError::Certificate { .. } => true,
        // Only PLAIN offered: the editor's "Allow sending the password in plain form".
        SessionError::InsecureLogin { detail } => {
            crate::session::insecure::Insecure::from_detail(detail)
                == Some(crate::session::insecure::Insecure::PlainOnly)
        }
        _ => false,
    }
}

/// The error the account is stuck on, if any.
pub fn account_error(state: &AccountState) -> Option<&SessionError> {
    if !state.account.enabled {
        return None;
    }
    match &state.connection {
        Connection::Failed(error) | Connection::Disconnected { error, .. } => Some(error),
        _ => None,
    }
}

/// What a person can do about the account's state from a button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// Open the account editor (wrong password, untrusted certificate).
    Fix,
    /// Start a fresh session now.
    Reconnect,
}

pub fn remedy(state: &AccountState) -> Option<Remedy> {
    let error = account_error(state)?;
    if needs_fix(error) {
        Some(Remedy::Fix)
    } else if state.password.is_some() {
        Some(Remedy::Reconnect)
    } else {
        None
    }
}

type TextStyle = fn(&Theme) -> text::Style;

/// The connection of an account in plain words, with the style that fits it.
pub fn connection_line(lang: Lang, state: &AccountState) -> (String, TextStyle) {
    if !state.account.enabled {
        return (tr(lang, T::ConnDisabled).into(), theme::muted);
    }
    match &state.connection {
        Connection::WaitingForPassword => (tr(lang, T::ConnWaiting).into(), theme::muted),
        Connection::Connecting { .. } => (tr(lang, T::ConnConnecting).into(), theme::warning_text),
        Connection::Online { .. } => (tr(lang, T::ConnOnline).into(), theme::good_text),
        Connection::Disconnected {
            error,
            retry_in_secs: Some(secs),
        } => (
            trf(
                lang,
                T::ConnRetrying,
                &[
                    ("error", &session_error_text(lang, error)),
                    ("secs", &secs.to_string()),
                ],
            ),
            theme::warning_text,
        ),
        Connection::Disconnected { error, .. } => (
            trf(
                lang,
                T::ConnDisconnected,
                &[("error", &session_error_text(lang, error))],
            ),
            theme::error_text,
        ),
        Connection::Failed(error) => (
            trf(
                lang,
                T::ConnFailed,
                &[("error", &session_error_text(lang, error))],
            ),
            theme::error_text,
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::ui::widgets::short;

    #[test]
    fn labels_are_cut_with_an_ellipsis() {
        assert_eq!(short("Work", 10), "Work");
        assert_eq!(short("alice@example.org", 8), "alice@e…");
        assert_eq!(short("工作帐号很长的名字", 4), "工作帐…");
    }
}
