//! Settings > Accounts: the account's own avatar (issue #18). A picture chosen with
//! "Choose a picture…", dropped on the window or pasted (Ctrl+V) while Settings is shown
//! is cropped to its centre square and scaled by the app (`ui::app::own_avatar`), then
//! previewed here with "Publish" and "Cancel"; "Remove avatar" takes it away.
//!
//! A dropped or pasted picture goes to the account whose preview is open, else the
//! first account that is online (see [`State::target`]).

use super::Message;
use crate::ids::AccountId;
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use crate::ui::widgets::avatar;
use iced::widget::{button, column, container, image, row, text};
use iced::{Alignment, ContentFit, Element};
use std::sync::Arc;

/// Side of the face on the card.
const SIDE: f32 = 48.0;
/// Side of the preview.
const PREVIEW: f32 = 96.0;

/// A picture made ready to publish, shown before it is.
#[derive(Debug, Clone)]
pub struct Preview {
    pub account: AccountId,
    /// The PNG that will be published (square, [`crate::avatar::OWN_PX`]).
    pub png: Arc<Vec<u8>>,
    handle: image::Handle,
}

#[derive(Debug, Default)]
pub struct State {
    preview: Option<Preview>,
    /// Why the last picture could not be used.
    problem: Option<(AccountId, String)>,
}

impl State {
    /// The picture waiting for "Publish".
    pub fn preview(&self) -> Option<&Preview> {
        self.preview.as_ref()
    }

    pub fn show(&mut self, account: AccountId, made: Result<Arc<Vec<u8>>, String>) {
        match made {
            Ok(png) => {
                self.problem = None;
                self.preview = Some(Preview {
                    account,
                    handle: image::Handle::from_bytes(png.as_ref().clone()),
                    png,
                });
            }
            Err(why) => {
                self.preview = None;
                self.problem = Some((account, why));
            }
        }
    }

    /// Takes the preview to publish it (or drop it).
    pub fn take(&mut self) -> Option<Preview> {
        self.preview.take()
    }

    pub fn forget(&mut self, account: &AccountId) {
        if self.preview.as_ref().is_some_and(|p| &p.account == account) {
            self.preview = None;
        }
        if self.problem.as_ref().is_some_and(|(a, _)| a == account) {
            self.problem = None;
        }
    }

    /// Which account a dropped or pasted picture is for: the one whose preview is
    /// open, else the first account online.
    pub fn target(&self, accounts: &[AccountState]) -> Option<AccountId> {
        self.preview
            .as_ref()
            .map(|p| p.account.clone())
            .or_else(|| {
                accounts
                    .iter()
                    .find(|a| a.is_online())
                    .map(|a| a.account.id.clone())
            })
    }

    pub fn view<'a>(&'a self, lang: Lang, state: &'a AccountState) -> Element<'a, Message> {
        let own = &state.account.jid;
        let id = &state.account.id;
        let current = state.avatars.get(own);
        let face = avatar::face(
            &state.account.label(),
            own.as_str(),
            current.map(|p| p.as_path()),
            SIDE,
        );
        let mut buttons = row![
            button(text(tr(lang, T::ChooseAvatar)).size(12))
                .padding([2, 8])
                .style(theme::secondary_button)
                .on_press(Message::ChooseAvatar(id.clone())),
        ]
        .spacing(6);
        if current.is_some() {
            buttons = buttons.push(
                button(text(tr(lang, T::RemoveAvatar)).size(12))
                    .padding([2, 8])
                    .style(theme::danger_button)
                    .on_press(Message::RemoveAvatar(id.clone())),
            );
        }
        let mut part = column![
            row![
                face,
                column![
                    text(tr(lang, T::AvatarTitle))
                        .size(14)
                        .style(theme::heading),
                    buttons,
                    text(tr(lang, T::AvatarDropHint))
                        .size(12)
                        .style(theme::muted),
                ]
                .spacing(4),
            ]
            .spacing(10)
            .align_y(Alignment::Center)
        ]
        .spacing(8);
        if let Some((_, why)) = self.problem.as_ref().filter(|(a, _)| a == id) {
            part = part.push(
                text(trf(lang, T::AvatarNotRead, &[("why", why)]))
                    .size(13)
                    .style(theme::error_text),
            );
        }
        if let Some(preview) = self.preview.as_ref().filter(|p| &p.account == id) {
            part = part.push(
                container(
                    column![
                        text(tr(lang, T::AvatarPreviewHint)).size(13),
                        row![
                            image(preview.handle.clone())
                                .width(PREVIEW)
                                .height(PREVIEW)
                                .content_fit(ContentFit::Cover),
                            column![
                                button(text(tr(lang, T::PublishAvatar)).size(13))
                                    .padding([4, 12])
                                    .style(theme::primary_button)
                                    .on_press(Message::PublishAvatar),
                                button(text(tr(lang, T::Cancel)).size(13))
                                    .padding([4, 12])
                                    .style(theme::secondary_button)
                                    .on_press(Message::CancelAvatar),
                            ]
                            .spacing(6),
                        ]
                        .spacing(12)
                        .align_y(Alignment::Center),
                    ]
                    .spacing(6),
                )
                .padding(10)
                .style(theme::notice_box),
            );
        }
        part.into()
    }
}
