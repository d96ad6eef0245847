//! Banners in plain words (keyring unavailable, a download finished, no file dialog...).
//!
//! On the screens a person works in (the inbox, a conversation, settings) they live in a
//! strip of fixed height at the bottom of the window that is there even when empty: a
//! notice that comes or goes never moves the messages (the next click lands where the
//! person aimed) and never covers anything (a header's Leave button, the sign-in card).
//! The strip shows the newest notice; "All notices" opens the full list just above it,
//! on demand. Before sign-in there is nothing to misclick, and the notices sit above the
//! form where they are read first.

use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use iced::widget::{button, column, container, row, scrollable, text};
use iced::{Alignment, Element, Length};

/// The strip's height: one line of notice text with its padding, like a status bar.
/// Fixed, so nothing above it moves when a notice comes or goes; a longer notice is cut
/// here and read in full in the list ("Read all").
pub const STRIP_HEIGHT: f32 = 30.0;

#[derive(Debug, Clone)]
pub enum Message {
    Dismiss(usize),
    /// Open or close the full list above the strip.
    Toggle,
}

#[derive(Debug, Default)]
pub struct State {
    shown: Vec<String>,
    open: bool,
}

impl State {
    pub fn new(shown: Vec<String>) -> Self {
        State { shown, open: false }
    }

    /// Adds a notice unless the same one is already showing.
    pub fn push(&mut self, text: String) {
        if !self.shown.contains(&text) {
            self.shown.push(text);
        }
    }

    pub fn update(&mut self, message: Message) {
        match message {
            Message::Dismiss(index) => {
                if index < self.shown.len() {
                    self.shown.remove(index);
                }
                if self.shown.is_empty() {
                    self.open = false;
                }
            }
            Message::Toggle => self.open = !self.open && !self.shown.is_empty(),
        }
    }

    /// Above a screen that has nothing to misclick (loading, sign-in): in the flow.
    pub fn above<'a, M: 'a>(
        &'a self,
        lang: Lang,
        body: Element<'a, M>,
        wrap: fn(Message) -> M,
    ) -> Element<'a, M> {
        if self.shown.is_empty() {
            return body;
        }
        let mut list = column![].spacing(6).padding([8, 12]);
        for (index, notice) in self.shown.iter().enumerate() {
            list = list.push(card(lang, index, notice));
        }
        column![Element::from(list).map(wrap), body].into()
    }

    /// Under a working screen: the fixed strip, and the full list over the bottom of
    /// the screen only while the person has it open.
    pub fn under<'a, M: 'a>(
        &'a self,
        lang: Lang,
        body: Element<'a, M>,
        wrap: fn(Message) -> M,
    ) -> Element<'a, M> {
        let strip: Element<'a, Message> = match self.shown.last() {
            None => container(column![])
                .height(STRIP_HEIGHT)
                .width(Length::Fill)
                .style(theme::sidebar)
                .into(),
            Some(newest) => {
                let index = self.shown.len() - 1;
                let mut line = row![
                    container(
                        text(newest)
                            .size(13)
                            .wrapping(iced::widget::text::Wrapping::None)
                    )
                    .width(Length::Fill)
                    .height(Length::Fill)
                    .align_y(Alignment::Center)
                    .clip(true),
                ]
                .spacing(10)
                .align_y(Alignment::Center);
                let all = if self.open {
                    tr(lang, T::HideNotices).to_owned()
                } else if self.shown.len() > 1 {
                    trf(
                        lang,
                        T::AllNotices,
                        &[("count", &self.shown.len().to_string())],
                    )
                } else {
                    tr(lang, T::ReadNotice).to_owned()
                };
                line = line.push(
                    button(text(all).size(13))
                        .style(theme::link_button)
                        .on_press(Message::Toggle),
                );
                line = line.push(
                    button(text(tr(lang, T::Dismiss)).size(13))
                        .style(theme::link_button)
                        .on_press(Message::Dismiss(index)),
                );
                container(line)
                    .padding([2, 12])
                    .height(STRIP_HEIGHT)
                    .width(Length::Fill)
                    .style(theme::notice_box)
                    .into()
            }
        };
        let body: Element<'a, M> = if self.open {
            let mut list = column![].spacing(6).padding([8, 12]);
            for (index, notice) in self.shown.iter().enumerate() {
                list = list.push(card(lang, index, notice));
            }
            let list: Element<'a, Message> =
                container(container(scrollable(list)).style(theme::card))
                    .width(Length::Fill)
                    .height(Length::Fill)
                    .align_bottom(Length::Fill)
                    .into();
            iced::widget::stack![body, list.map(wrap)].into()
        } else {
            body
        };
        column![container(body).height(Length::Fill), strip.map(wrap)].into()
    }
}

/// One notice in full, with its own Dismiss.
fn card<'a>(lang: Lang, index: usize, notice: &'a str) -> Element<'a, Message> {
    container(
        row![
            text(notice).size(13).width(Length::Fill),
            button(text(tr(lang, T::Dismiss)).size(13))
                .style(theme::link_button)
                .on_press(Message::Dismiss(index)),
        ]
        .spacing(8)
        .align_y(Alignment::Center),
    )
    .padding([6, 10])
    .width(Length::Fill)
    .style(theme::notice_box)
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_notice_shows_once_and_the_list_closes_with_its_last_notice() {
        let mut state = State::new(vec!["a".into()]);
        state.push("a".into());
        state.push("b".into());
        assert_eq!(state.shown, vec!["a".to_owned(), "b".to_owned()]);
        state.update(Message::Toggle);
        assert!(state.open);
        state.update(Message::Dismiss(1));
        state.update(Message::Dismiss(0));
        assert!(!state.open, "nothing left to list");
        state.update(Message::Toggle);
        assert!(!state.open, "an empty list does not open");
    }
}
