//! Settings > General: appearance (theme, language), notifications and muted
//! conversations, downloads, and window behaviour. Every change applies at once; the
//! app saves it.

use crate::config::{LanguageChoice, Settings, ThemeChoice};
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::theme;
use iced::widget::{
    Column, button, checkbox, column, container, row, scrollable, space, text, text_input,
};
use iced::{Alignment, Element, Length};
use std::path::PathBuf;
use xmpp_parsers::jid::BareJid;

/// Widget ids (tests type into them).
pub const DOWNLOAD_ID: &str = "settings-download-folder";
pub const IMAGE_MAX_ID: &str = "settings-image-max";
pub const MUTE_ID: &str = "settings-mute-address";

const MIB: u64 = 1024 * 1024;

#[derive(Debug, Clone)]
pub enum Message {
    Back,
    Accounts,
    Theme(ThemeChoice),
    Language(LanguageChoice),
    Notifications(bool),
    MuteInput(String),
    Mute,
    Unmute(BareJid),
    DownloadInput(String),
    ImageMaxInput(String),
    CloseToTray(bool),
    StartMinimised(bool),
    /// Tell people when I am typing (XEP-0085).
    ChatStates(bool),
    /// Draw with the graphics card from the next start.
    Gpu(bool),
    /// Index all stored history again for search.
    RebuildSearch,
    /// OMEMO: encrypt only to verified devices.
    RequireVerification(bool),
}

/// What the page asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    Back,
    Accounts,
    /// Apply and save these settings.
    Changed(Settings),
    RebuildSearch,
}

#[derive(Debug, Clone, Default)]
pub struct State {
    mute_input: String,
    mute_error: bool,
    download_input: String,
    image_input: String,
    image_error: bool,
}

impl State {
    /// The page as it opens, its fields filled from the settings.
    pub fn open(settings: &Settings) -> Self {
        State {
            download_input: settings
                .download_dir
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            image_input: (settings.auto_image_max / MIB).to_string(),
            ..State::default()
        }
    }

    pub fn update(&mut self, message: Message, current: &Settings) -> Option<Event> {
        let mut s = current.clone();
        match message {
            Message::Back => return Some(Event::Back),
            Message::Accounts => return Some(Event::Accounts),
            Message::RebuildSearch => return Some(Event::RebuildSearch),
            Message::Theme(choice) => s.theme = choice,
            Message::Language(choice) => s.language = choice,
            Message::Notifications(on) => s.notifications = on,
            Message::MuteInput(value) => {
                self.mute_input = value;
                self.mute_error = false;
                return None;
            }
            Message::Mute => match BareJid::new(self.mute_input.trim()) {
                Ok(jid) => {
                    self.mute_input.clear();
                    s.muted.insert(jid);
                }
                Err(_) => {
                    self.mute_error = true;
                    return None;
                }
            },
            Message::Unmute(jid) => {
                s.muted.remove(&jid);
            }
            Message::DownloadInput(value) => {
                let trimmed = value.trim();
                s.download_dir = (!trimmed.is_empty()).then(|| PathBuf::from(trimmed));
                self.download_input = value;
            }
            Message::ImageMaxInput(value) => {
                let parsed = value.trim().parse::<u64>().ok();
                self.image_input = value;
                self.image_error = parsed.is_none();
                match parsed.and_then(|mib| mib.checked_mul(MIB)) {
                    Some(bytes) => s.auto_image_max = bytes,
                    None => return None,
                }
            }
            Message::CloseToTray(on) => s.close_to_tray = on,
            Message::StartMinimised(on) => s.start_minimised = on,
            Message::ChatStates(on) => s.chat_states = on,
            Message::Gpu(on) => s.gpu = on,
            Message::RequireVerification(on) => s.omemo_require_verification = on,
        }
        (s != *current).then_some(Event::Changed(s))
    }

    /// `indexing`: how far a rebuild of the search index is, if one runs.
    pub fn view<'a>(
        &'a self,
        lang: Lang,
        s: &'a Settings,
        indexing: Option<(u64, u64)>,
    ) -> Element<'a, Message> {
        let top = row![
            button(text(tr(lang, T::BackToChats)).size(14))
                .padding([4, 0])
                .style(theme::link_button)
                .on_press(Message::Back),
            space().width(Length::Fill),
            button(text(tr(lang, T::ManageAccounts)).size(14))
                .padding([6, 14])
                .style(theme::secondary_button)
                .on_press(Message::Accounts),
        ]
        .align_y(Alignment::Center);

        let themes = ThemeChoice::ALL.map(|c| {
            let label = match c {
                ThemeChoice::System => T::ThemeSystem,
                ThemeChoice::Light => T::ThemeLight,
                ThemeChoice::Dark => T::ThemeDark,
            };
            pill(tr(lang, label), s.theme == c, Message::Theme(c))
        });
        let languages = LanguageChoice::ALL.map(|c| {
            let label = match c {
                LanguageChoice::System => T::LanguageSystem,
                LanguageChoice::English => T::LanguageEnglish,
                LanguageChoice::ChineseSimplified => T::LanguageChinese,
            };
            pill(tr(lang, label), s.language == c, Message::Language(c))
        });
        let appearance = section(
            lang,
            T::AppearanceSection,
            column![
                labelled(lang, T::ThemeLabel, row(themes).spacing(6).into()),
                labelled(lang, T::LanguageLabel, row(languages).spacing(6).into()),
            ]
            .spacing(10),
        );

        let mut muted = column![text(tr(lang, T::MutedTitle)).size(14)].spacing(6);
        if s.muted.is_empty() {
            muted = muted.push(text(tr(lang, T::NoneMuted)).size(13).style(theme::muted));
        }
        for jid in &s.muted {
            muted = muted.push(
                row![
                    text(jid.as_str()).size(13).width(Length::Fill),
                    button(text(tr(lang, T::Unmute)).size(13))
                        .style(theme::link_button)
                        .on_press(Message::Unmute(jid.clone())),
                ]
                .align_y(Alignment::Center),
            );
        }
        muted = muted.push(
            row![
                text_input(tr(lang, T::MutePlaceholder), &self.mute_input)
                    .id(MUTE_ID)
                    .on_input(Message::MuteInput)
                    .on_submit(Message::Mute)
                    .size(13)
                    .padding(6)
                    .style(theme::input),
                button(text(tr(lang, T::Mute)).size(13))
                    .style(theme::secondary_button)
                    .on_press(Message::Mute),
            ]
            .spacing(8)
            .align_y(Alignment::Center),
        );
        if self.mute_error {
            muted = muted.push(
                text(tr(lang, T::InvalidAddress))
                    .size(12)
                    .style(theme::error_text),
            );
        }
        let notifications = section(
            lang,
            T::NotificationsSection,
            column![
                checkbox(s.notifications)
                    .label(tr(lang, T::NotificationsToggle))
                    .text_size(14)
                    .on_toggle(Message::Notifications),
                checkbox(s.chat_states)
                    .label(tr(lang, T::ChatStatesToggle))
                    .text_size(14)
                    .on_toggle(Message::ChatStates),
                muted,
            ]
            .spacing(12),
        );

        let mut image = column![
            text(tr(lang, T::ImageMaxLabel)).size(14),
            text_input("10", &self.image_input)
                .id(IMAGE_MAX_ID)
                .on_input(Message::ImageMaxInput)
                .size(13)
                .padding(6)
                .width(120)
                .style(theme::input),
        ]
        .spacing(4);
        if self.image_error {
            image = image.push(
                text(tr(lang, T::NotANumber))
                    .size(12)
                    .style(theme::error_text),
            );
        }
        let placeholder = s
            .download_folder()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let downloads = section(
            lang,
            T::DownloadsSection,
            column![
                column![
                    text(tr(lang, T::DownloadFolderLabel)).size(14),
                    text_input(&placeholder, &self.download_input)
                        .id(DOWNLOAD_ID)
                        .on_input(Message::DownloadInput)
                        .size(13)
                        .padding(6)
                        .style(theme::input),
                ]
                .spacing(4),
                image,
            ]
            .spacing(12),
        );

        let window = section(
            lang,
            T::WindowSection,
            column![
                checkbox(s.close_to_tray)
                    .label(tr(lang, T::CloseToTray))
                    .text_size(14)
                    .on_toggle(Message::CloseToTray),
                checkbox(s.gpu)
                    .label(tr(lang, T::GpuToggle))
                    .text_size(14)
                    .on_toggle(Message::Gpu),
                checkbox(s.start_minimised)
                    .label(tr(lang, T::StartMinimised))
                    .text_size(14)
                    .on_toggle(Message::StartMinimised),
            ]
            .spacing(8),
        );

        let rebuild = button(text(tr(lang, T::RebuildSearch)).size(14))
            .padding([6, 14])
            .style(theme::secondary_button)
            .on_press_maybe(indexing.is_none().then_some(Message::RebuildSearch));
        let search = section(
            lang,
            T::SearchSection,
            column![
                text(tr(lang, T::RebuildSearchHint))
                    .size(13)
                    .style(theme::muted),
                row![rebuild]
                    .push(indexing.map(|(done, total)| {
                        text(crate::ui::screen::search::indexing_words(lang, done, total))
                            .size(13)
                            .style(theme::muted)
                    }))
                    .spacing(12)
                    .align_y(Alignment::Center),
            ]
            .spacing(8),
        );

        let encryption = section(
            lang,
            T::EncryptionSection,
            column![
                checkbox(s.omemo_require_verification)
                    .label(tr(lang, T::SettingsRequireVerification))
                    .text_size(14)
                    .on_toggle(Message::RequireVerification),
                text(tr(lang, T::SettingsRequireVerificationHint))
                    .size(12)
                    .style(theme::muted),
            ]
            .spacing(4),
        );

        let page = column![
            top,
            text(tr(lang, T::SettingsTitle))
                .size(24)
                .style(theme::heading),
            appearance,
            notifications,
            downloads,
            window,
            search,
            encryption,
        ]
        .spacing(12);
        scrollable(
            container(container(page).max_width(760))
                .center_x(Length::Fill)
                .padding([24, 24]),
        )
        .height(Length::Fill)
        .into()
    }
}

fn pill<'a>(label: &'a str, selected: bool, message: Message) -> Element<'a, Message> {
    button(text(label).size(13))
        .padding([4, 12])
        .style(theme::pill(selected))
        .on_press(message)
        .into()
}

fn labelled<'a>(lang: Lang, key: T, content: Element<'a, Message>) -> Element<'a, Message> {
    row![text(tr(lang, key)).size(14).width(90), content]
        .spacing(8)
        .align_y(Alignment::Center)
        .into()
}

fn section<'a>(lang: Lang, title: T, body: Column<'a, Message>) -> Element<'a, Message> {
    container(column![text(tr(lang, title)).size(17).style(theme::heading), body].spacing(10))
        .padding(14)
        .width(Length::Fill)
        .style(theme::card)
        .into()
}
