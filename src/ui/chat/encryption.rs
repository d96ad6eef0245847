//! The chat's lock (issue #17): whether the conversation is encrypted with OMEMO, and,
//! when clicked, a panel under the header with the per-conversation switch (automatic /
//! always on / off; turning it off asks first, in plain words) and the devices with their
//! fingerprints and "Verified" marks (`devices.rs`).
//!
//! The choice is stored by the app (`session::omemo::set_choice`) and obeyed by the
//! session; the devices come from the session (`Command::OmemoStatus` →
//! `UpdateKind::Omemo`).

use crate::session::omemo::Choice;
use crate::session::omemo::trust::Report;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use iced::widget::{Id, button, column, container, row, scrollable, text, tooltip};
use iced::{Alignment, Element, Length};
use xmpp_parsers::jid::BareJid;

/// The panel is at most this tall; its devices scroll beyond.
const PANEL_MAX_HEIGHT: f32 = 460.0;

/// The widget id of the lock (tests click it).
pub const LOCK_ID: &str = "chat-encryption-lock";

#[derive(Debug, Clone)]
pub enum Message {
    /// The lock: open or close the panel.
    Toggle,
    /// "Show devices" on a notice: open the panel.
    Open,
    /// One of the switch's three choices (Off asks first).
    Choose(Choice),
    /// "Turn off" in the warning.
    ConfirmOff,
    /// "Keep encryption" in the warning.
    KeepOn,
    /// Mark a device verified with the fingerprint shown (`Some`), or not (`None`).
    Verify {
        jid: BareJid,
        device: u32,
        fingerprint: Option<String>,
    },
    /// Accept the changed key of a device, the one whose fingerprint was shown.
    AcceptKey {
        jid: BareJid,
        device: u32,
        fingerprint: String,
    },
    /// The stored choice and the verification setting, read when the chat opened.
    Loaded {
        whose: (crate::ids::AccountId, BareJid),
        choice: Choice,
        require: bool,
    },
}

/// What the panel asks of the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Store this choice for the conversation.
    SetChoice(Choice),
    /// Store (or clear) a device's verification, then ask for a fresh report.
    Verify {
        jid: BareJid,
        device: u32,
        fingerprint: Option<String>,
    },
    /// Ask the session to accept a device's changed key (then it reports again).
    AcceptKey {
        jid: BareJid,
        device: u32,
        fingerprint: String,
    },
    /// Ask the session for a fresh report (the panel opened).
    Refresh,
}

/// What the lock says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Automatic, and the contact publishes OMEMO devices.
    Auto,
    /// Turned on by the person.
    Forced,
    /// Turned on, but the contact has no device: nothing can be sent.
    ForcedNoDevice,
    /// Turned off by the person.
    Off,
    /// Automatic, and the contact publishes no device: plain, as Conversations does.
    NoDevices,
    /// OMEMO does not run on this account (no keyring).
    Unavailable,
    /// This account's OMEMO state did not open on this device: nothing is sent, neither
    /// encrypted nor plain, until it does (or the person turns encryption off here).
    Broken,
    /// Not known yet.
    Checking,
    /// A room that cannot be encrypted: not members-only, or members do not see each
    /// other's addresses.
    NotPrivate,
}

impl Lock {
    pub fn encrypted(self) -> bool {
        matches!(self, Lock::Auto | Lock::Forced | Lock::ForcedNoDevice)
    }
}

#[derive(Debug, Default, Clone)]
pub struct State {
    pub choice: Choice,
    pub report: Option<Report>,
    /// The panel is open.
    pub open: bool,
    /// The warning before turning encryption off is showing.
    pub confirm_off: bool,
    /// Verification is required (the setting): said in the panel.
    pub require: bool,
    /// The account and contact this chat is (set by the app when it opens).
    pub whose: Option<(crate::ids::AccountId, BareJid)>,
    /// The stored choice was read (or chosen here): until then `choice` is only the
    /// default, and a file is not sent (`file_encryption`).
    pub loaded: bool,
}

impl State {
    pub fn update(&mut self, message: Message) -> Option<Event> {
        match message {
            Message::Toggle => {
                self.open = !self.open;
                self.confirm_off = false;
                self.open.then_some(Event::Refresh)
            }
            Message::Open => {
                self.open = true;
                self.confirm_off = false;
                Some(Event::Refresh)
            }
            Message::Choose(Choice::Off) if self.choice != Choice::Off => {
                self.confirm_off = true;
                None
            }
            Message::Choose(choice) => {
                self.confirm_off = false;
                self.choice = choice;
                self.loaded = true;
                Some(Event::SetChoice(choice))
            }
            Message::ConfirmOff => {
                self.confirm_off = false;
                self.choice = Choice::Off;
                self.loaded = true;
                Some(Event::SetChoice(Choice::Off))
            }
            Message::KeepOn => {
                self.confirm_off = false;
                None
            }
            Message::Verify {
                jid,
                device,
                fingerprint,
            } => Some(Event::Verify {
                jid,
                device,
                fingerprint,
            }),
            Message::AcceptKey {
                jid,
                device,
                fingerprint,
            } => Some(Event::AcceptKey {
                jid,
                device,
                fingerprint,
            }),
            Message::Loaded {
                whose,
                choice,
                require,
            } => {
                // Read for another chat than this one (switched meanwhile): not ours.
                if self.whose.as_ref() == Some(&whose) {
                    self.choice = choice;
                    self.require = require;
                    self.loaded = true;
                }
                None
            }
        }
    }

    /// What the lock says now.
    pub fn lock(&self) -> Lock {
        let report = self.report.as_ref();
        if report.is_some_and(|r| !r.available) {
            return if self.choice == Choice::Off {
                Lock::Off
            } else if report.is_some_and(|r| r.broken) {
                Lock::Broken
            } else {
                Lock::Unavailable
            };
        }
        // A room: encrypted only when private; said before anything else.
        match report.and_then(|r| r.room.as_ref()).map(|r| r.private) {
            Some(Some(false)) => return Lock::NotPrivate,
            Some(None) if self.choice != Choice::Off => return Lock::Checking,
            _ => {}
        }
        match self.choice {
            Choice::Off => Lock::Off,
            Choice::On
                if report.is_some_and(|r| r.contact.is_some() && !r.contact_has_devices()) =>
            {
                Lock::ForcedNoDevice
            }
            Choice::On => Lock::Forced,
            Choice::Auto => match report {
                Some(r) if r.contact_has_devices() => Lock::Auto,
                Some(r) if r.contact.is_some() => Lock::NoDevices,
                _ => Lock::Checking,
            },
        }
    }

    /// Whether a file sent now is encrypted before upload (XEP-0454): `None` while that
    /// is not known (the stored choice not read yet, or the lock still checking); the
    /// file then waits, as the session holds a text message until the devices are known.
    pub fn file_encryption(&self) -> Option<bool> {
        if !self.loaded {
            return None;
        }
        match self.lock() {
            Lock::Checking => None,
            lock => Some(lock.encrypted()),
        }
    }

    /// A file must not be sent at all: encryption applies but this account's OMEMO
    /// state did not open (a plain upload would put the file on the server unencrypted).
    pub fn file_refused(&self) -> bool {
        self.loaded && self.lock() == Lock::Broken
    }

    /// The lock button for the header.
    pub fn lock_view<'a>(&self, lang: Lang) -> Element<'a, Message> {
        let lock = self.lock();
        // A coloured dot and a word: the fonts we ship have no lock glyph.
        let (label, style): (T, fn(&iced::Theme) -> text::Style) = match lock {
            l if l.encrypted() => (T::LockEncrypted, theme::good_text),
            Lock::Checking => (T::LockChecking, theme::muted),
            Lock::NotPrivate => (T::LockRoomNotPrivate, theme::warning_text),
            _ => (T::LockNotEncrypted, theme::warning_text),
        };
        let face = row![
            container(iced::widget::space())
                .width(8)
                .height(8)
                .style(move |t: &iced::Theme| lock_dot(t, lock)),
            text(tr(lang, label)).size(12).style(style),
        ]
        .spacing(6)
        .align_y(Alignment::Center);
        let lock_button = container(
            button(face)
                .padding([4, 8])
                .style(theme::pill(self.open))
                .on_press(Message::Toggle),
        )
        .id(Id::new(LOCK_ID));
        tooltip(
            lock_button,
            container(text(tr(lang, T::LockHint)).size(12))
                .padding(6)
                .style(theme::tag),
            tooltip::Position::Bottom,
        )
        .into()
    }

    /// The panel under the header, when open.
    pub fn panel<'a>(&'a self, lang: Lang, name: &str) -> Option<Element<'a, Message>> {
        if !self.open {
            return None;
        }
        let room = self.report.as_ref().is_some_and(|r| r.room.is_some());
        let words = match self.lock() {
            Lock::NotPrivate => tr(lang, T::EncRoomNotPrivate).to_owned(),
            Lock::Auto if room => tr(lang, T::EncRoomAuto).to_owned(),
            Lock::NoDevices if room => tr(lang, T::EncRoomNoDevices).to_owned(),
            Lock::Checking if room => tr(lang, T::EncRoomChecking).to_owned(),
            Lock::Auto => trf(lang, T::EncAuto, &[("name", name)]),
            Lock::Forced => tr(lang, T::EncForced).to_owned(),
            Lock::ForcedNoDevice => trf(lang, T::EncForcedNoDevice, &[("name", name)]),
            Lock::Off => tr(lang, T::EncOff).to_owned(),
            Lock::NoDevices => trf(lang, T::EncNoDevices, &[("name", name)]),
            Lock::Unavailable => tr(lang, T::EncUnavailable).to_owned(),
            Lock::Broken => tr(lang, T::EncBroken).to_owned(),
            Lock::Checking => trf(lang, T::EncChecking, &[("name", name)]),
        };
        let mut choices = row![text(tr(lang, T::EncChoiceLabel)).size(13)]
            .spacing(6)
            .align_y(Alignment::Center);
        for (choice, label) in [
            (Choice::Auto, T::EncChoiceAuto),
            (Choice::On, T::EncChoiceOn),
            (Choice::Off, T::EncChoiceOff),
        ] {
            choices = choices.push(
                button(text(tr(lang, label)).size(13))
                    .padding([3, 10])
                    .style(theme::pill(self.choice == choice))
                    .on_press(Message::Choose(choice)),
            );
        }
        choices = choices
            .push(iced::widget::space().width(Length::Fill))
            .push(
                button(text(tr(lang, T::EncClose)).size(12))
                    .style(theme::link_button)
                    .on_press(Message::Toggle),
            );
        // Nothing to choose, and no devices to show, in a room that cannot be encrypted.
        if self.lock() == Lock::NotPrivate {
            let close = button(text(tr(lang, T::EncClose)).size(12))
                .style(theme::link_button)
                .on_press(Message::Toggle);
            let line = row![text(words).size(13).width(Length::Fill), close]
                .spacing(6)
                .align_y(Alignment::Center);
            return Some(
                container(container(line).padding([10, 16]))
                    .width(Length::Fill)
                    .style(theme::card)
                    .into(),
            );
        }
        let mut panel = column![text(words).size(13), choices].spacing(10);
        if self.confirm_off {
            panel = panel.push(
                container(
                    column![
                        text(tr(lang, T::EncOffTitle))
                            .size(14)
                            .style(theme::heading),
                        text(trf(lang, T::EncOffWarning, &[("name", name)])).size(13),
                        row![
                            button(text(tr(lang, T::EncOffConfirm)).size(13))
                                .padding([4, 12])
                                .style(theme::danger_button)
                                .on_press(Message::ConfirmOff),
                            button(text(tr(lang, T::EncOffKeep)).size(13))
                                .padding([4, 12])
                                .style(theme::secondary_button)
                                .on_press(Message::KeepOn),
                        ]
                        .spacing(8),
                    ]
                    .spacing(6),
                )
                .padding(10)
                .width(Length::Fill)
                .style(theme::error_box),
            );
        }
        if self.require {
            panel = panel.push(text(tr(lang, T::EncRequireOn)).size(12).style(theme::muted));
        }
        if let Some(report) = &self.report {
            panel = panel.push(super::devices::view(lang, name, report));
        }
        // Many devices scroll inside the panel rather than push the messages away.
        Some(
            container(scrollable(container(panel).padding([10, 16])).spacing(2))
                .max_height(PANEL_MAX_HEIGHT)
                .width(Length::Fill)
                .style(theme::card)
                .into(),
        )
    }
}

/// A message as the timeline shows it: a new-device notice (stored by the session as a
/// message with a marker body) becomes a notice line in words.
pub fn entry<'a>(
    lang: Lang,
    name: &str,
    message: &'a crate::model::ChatMessage,
) -> crate::ui::timeline::Entry<'a> {
    match new_device_words(lang, name, &message.body) {
        Some(words) => crate::ui::timeline::Entry::DevicesNote(words),
        None => crate::ui::timeline::Entry::Message(message),
    }
}

/// The words of a new-device or changed-key notice's body (`None` for any other body).
/// `name` is the conversation's contact, used unless the notice names the account.
pub fn new_device_words(lang: Lang, name: &str, body: &str) -> Option<String> {
    if let Some((id, fp, jid)) = crate::session::omemo::trust::key_changed(body) {
        return Some(trf(
            lang,
            T::EncKeyChangedNotice,
            &[
                ("name", jid.as_str()),
                ("id", &id.to_string()),
                ("fingerprint", &fp),
            ],
        ));
    }
    let (id, fp) = crate::session::omemo::trust::new_device(body)?;
    let fp = fp.unwrap_or_else(|| tr(lang, T::EncUnknownFingerprint).to_owned());
    // In a room, the notice names the member.
    let member = crate::session::omemo::trust::new_device_member(body);
    Some(trf(
        lang,
        T::EncNewDevice,
        &[
            ("name", member.as_ref().map_or(name, |m| m.as_str())),
            ("id", &id.to_string()),
            ("fingerprint", &fp),
        ],
    ))
}

fn lock_dot(theme: &iced::Theme, lock: Lock) -> container::Style {
    let palette = theme.extended_palette();
    let colour = match lock {
        l if l.encrypted() => palette.success.base.color,
        Lock::Checking => palette.background.strong.color,
        _ => palette.danger.base.color,
    };
    container::Style {
        background: Some(colour.into()),
        border: iced::border::rounded(4),
        ..container::Style::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::omemo::trust::Device;

    fn report(devices: Option<Vec<u32>>, available: bool) -> Report {
        let bob = BareJid::new("bob@example.org").unwrap();
        Report {
            peer: bob.clone(),
            available,
            broken: false,
            ours: None,
            own_others: Vec::new(),
            contact: devices.map(|l| {
                l.into_iter()
                    .map(|id| Device {
                        jid: bob.clone(),
                        id,
                        fingerprint: None,
                        verified: false,
                        changed: None,
                    })
                    .collect()
            }),
            room: None,
        }
    }

    #[test]
    fn the_lock_follows_the_choice_and_the_contacts_devices() {
        let mut s = State::default();
        assert_eq!(s.lock(), Lock::Checking);
        s.report = Some(report(Some(vec![1]), true));
        assert_eq!(s.lock(), Lock::Auto);
        s.report = Some(report(Some(vec![]), true));
        assert_eq!(s.lock(), Lock::NoDevices);
        s.choice = Choice::On;
        assert_eq!(s.lock(), Lock::ForcedNoDevice);
        s.report = Some(report(Some(vec![1]), false));
        assert_eq!(s.lock(), Lock::Unavailable);
        s.choice = Choice::Off;
        assert_eq!(s.lock(), Lock::Off);
    }

    /// A file waits while the stored choice is unread or the lock checks: a report of
    /// "no devices" arriving before a stored "Always on" is read must not send it plain.
    #[test]
    fn a_file_waits_until_the_choice_and_the_devices_are_known() {
        let bob = BareJid::new("bob@example.org").unwrap();
        let whose = (crate::ids::AccountId("a".into()), bob);
        let mut s = State {
            whose: Some(whose.clone()),
            ..State::default()
        };
        assert_eq!(s.file_encryption(), None);
        s.report = Some(report(Some(vec![]), true));
        assert_eq!(
            s.file_encryption(),
            None,
            "the stored choice is not read yet"
        );
        s.update(Message::Loaded {
            whose,
            choice: Choice::On,
            require: false,
        });
        assert_eq!(s.file_encryption(), Some(true));
        s.update(Message::Choose(Choice::Auto));
        s.report = Some(report(None, true));
        assert_eq!(s.file_encryption(), None, "checking");
        s.report = Some(report(Some(vec![]), true));
        assert_eq!(s.file_encryption(), Some(false), "no devices: as it is");
    }

    #[test]
    fn turning_encryption_off_asks_first() {
        let mut s = State::default();
        assert_eq!(s.update(Message::Toggle), Some(Event::Refresh));
        assert_eq!(s.update(Message::Choose(Choice::Off)), None);
        assert!(s.confirm_off);
        assert_eq!(s.choice, Choice::Auto, "not yet");
        assert_eq!(s.update(Message::KeepOn), None);
        assert_eq!(s.choice, Choice::Auto);
        s.update(Message::Choose(Choice::Off));
        assert_eq!(
            s.update(Message::ConfirmOff),
            Some(Event::SetChoice(Choice::Off))
        );
        assert_eq!(s.choice, Choice::Off);
        // Turning it back on needs no question.
        assert_eq!(
            s.update(Message::Choose(Choice::On)),
            Some(Event::SetChoice(Choice::On))
        );
    }
}
