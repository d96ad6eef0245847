//! The editor of one account: display name, colour, password, server and trust.
//! It only says what changed; the app decides what needs a reconnect.

use crate::model::{Account, ServerOverride, Trust};
use crate::session::SessionError;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::screen::onboarding::{group_fingerprint, parse_port};
use crate::ui::theme;
use crate::ui::widgets;
use iced::widget::{button, checkbox, column, container, row, space, text, text_input};
use iced::{Alignment, Element, Length, Task};

/// The widget id of the password field (focused when fixing a refused password).
pub const PASSWORD_ID: &str = "account-edit-password";
/// The widget id of the display name field.
pub const NAME_ID: &str = "account-edit-name";

#[derive(Debug, Clone)]
pub enum Message {
    NameChanged(String),
    ColourPicked(Option<[u8; 3]>),
    PasswordChanged(String),
    HostChanged(String),
    PortChanged(String),
    DirectTlsToggled(bool),
    /// "Allow sending the password in plain form (PLAIN)" for this account.
    AllowPlainToggled(bool),
    CaPathChanged(String),
    ForgetCa,
    ForgetPinned,
    /// Trust the certificate the account failed on, and save.
    TrustCertificate(String),
    Save,
    Cancel,
    CaRead(Result<String, String>),
}

/// The edited account and, when typed, its new password.
#[derive(Debug, Clone)]
pub struct Saved {
    pub account: Account,
    pub password: Option<String>,
    /// PLAIN login allowed when the server offers no SCRAM (a store preference, see
    /// `session::connect::allow_plain_pref`).
    pub allow_plain: bool,
}

/// How the editor ended.
#[derive(Debug, Clone)]
pub enum Event {
    Saved(Box<Saved>),
    Cancelled,
}

#[derive(Debug, Clone, PartialEq)]
enum EditError {
    InvalidPort,
    CaFile(String),
    CaNotPem,
}

#[derive(Debug)]
pub struct Form {
    original: Account,
    name: String,
    colour: Option<[u8; 3]>,
    password: String,
    host: String,
    port: String,
    direct_tls: bool,
    allow_plain: bool,
    ca_path: String,
    keep_ca: bool,
    pinned: Vec<String>,
    reading: bool,
    error: Option<EditError>,
}

impl Form {
    /// The editor of `account`, whose PLAIN login is allowed or not (`allow_plain`).
    pub fn new(account: &Account, allow_plain: bool) -> Self {
        Form {
            original: account.clone(),
            name: account.display_name.clone().unwrap_or_default(),
            colour: account.color,
            password: String::new(),
            host: account.server.host.clone().unwrap_or_default(),
            port: account
                .server
                .port
                .map(|p| p.to_string())
                .unwrap_or_default(),
            direct_tls: account.server.direct_tls,
            allow_plain,
            ca_path: String::new(),
            keep_ca: account.trust.extra_roots_pem.is_some(),
            pinned: account.trust.pinned_sha256.clone(),
            reading: false,
            error: None,
        }
    }

    pub fn account(&self) -> &crate::ids::AccountId {
        &self.original.id
    }

    pub fn update(&mut self, message: Message) -> (Task<Message>, Option<Event>) {
        match message {
            Message::NameChanged(value) => self.name = value,
            Message::ColourPicked(colour) => self.colour = colour,
            Message::PasswordChanged(value) => self.password = value,
            Message::HostChanged(value) => self.host = value,
            Message::PortChanged(value) => {
                self.port = value;
                if self.error == Some(EditError::InvalidPort) {
                    self.error = None;
                }
            }
            Message::DirectTlsToggled(value) => self.direct_tls = value,
            Message::AllowPlainToggled(value) => self.allow_plain = value,
            Message::CaPathChanged(value) => self.ca_path = value,
            Message::ForgetCa => self.keep_ca = false,
            Message::ForgetPinned => self.pinned.clear(),
            Message::TrustCertificate(fingerprint) => {
                if !self.pinned.contains(&fingerprint) {
                    self.pinned.push(fingerprint);
                }
                return self.save();
            }
            Message::Save => return self.save(),
            Message::Cancel => return (Task::none(), Some(Event::Cancelled)),
            Message::CaRead(result) => {
                if !self.reading {
                    return (Task::none(), None);
                }
                self.reading = false;
                return match result {
                    Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => {
                        (Task::none(), self.finish(Some(pem)))
                    }
                    Ok(_) => {
                        self.error = Some(EditError::CaNotPem);
                        (Task::none(), None)
                    }
                    Err(detail) => {
                        self.error = Some(EditError::CaFile(detail));
                        (Task::none(), None)
                    }
                };
            }
        }
        (Task::none(), None)
    }

    fn save(&mut self) -> (Task<Message>, Option<Event>) {
        if self.reading {
            return (Task::none(), None);
        }
        self.error = None;
        if parse_port(&self.port).is_err() {
            self.error = Some(EditError::InvalidPort);
            return (Task::none(), None);
        }
        let path = self.ca_path.trim().to_string();
        if path.is_empty() {
            let kept = self
                .keep_ca
                .then(|| self.original.trust.extra_roots_pem.clone())
                .flatten();
            return (Task::none(), self.finish(kept));
        }
        // The file is read off the UI thread.
        self.reading = true;
        let task = Task::perform(
            async move {
                tokio::fs::read_to_string(path)
                    .await
                    .map_err(|e| e.to_string())
            },
            Message::CaRead,
        );
        (task, None)
    }

    fn finish(&mut self, extra_roots_pem: Option<String>) -> Option<Event> {
        let port = parse_port(&self.port).ok()?;
        let mut account = self.original.clone();
        let name = self.name.trim();
        account.display_name = (!name.is_empty()).then(|| name.to_string());
        account.color = self.colour;
        let host = self.host.trim();
        account.server = ServerOverride {
            host: (!host.is_empty()).then(|| host.to_string()),
            port,
            direct_tls: self.direct_tls,
        };
        account.trust = Trust {
            extra_roots_pem,
            pinned_sha256: self.pinned.clone(),
        };
        Some(Event::Saved(Box::new(Saved {
            account,
            password: (!self.password.is_empty()).then(|| self.password.clone()),
            allow_plain: self.allow_plain,
        })))
    }

    /// The editor; `problem` is the error the account is stuck on, to say how to fix it.
    pub fn view<'a>(
        &'a self,
        lang: Lang,
        problem: Option<&'a SessionError>,
    ) -> Element<'a, Message> {
        let input = |placeholder: &str, value: &str, on_input: fn(String) -> Message| {
            text_input(placeholder, value)
                .on_input(on_input)
                .on_submit(Message::Save)
                .padding(6)
                .size(14)
                .style(theme::input)
        };
        let label = |key: T| text(tr(lang, key)).size(13);

        let mut form = column![].spacing(8);
        if let Some(problem) = problem {
            form = form.push(fix_hint(lang, problem));
        }
        form = form
            .push(label(T::DisplayNameLabel))
            .push(
                input(
                    tr(lang, T::DisplayNamePlaceholder),
                    &self.name,
                    Message::NameChanged,
                )
                .id(NAME_ID),
            )
            .push(label(T::ColourLabel))
            .push(self.colours(lang))
            .push(label(T::NewPasswordLabel))
            .push(
                input(
                    tr(lang, T::NewPasswordPlaceholder),
                    &self.password,
                    Message::PasswordChanged,
                )
                .secure(true)
                .id(PASSWORD_ID),
            );

        let host = column![
            label(T::ServerHostLabel),
            input(
                tr(lang, T::ServerHostPlaceholder),
                &self.host,
                Message::HostChanged
            ),
        ]
        .spacing(6)
        .width(Length::Fill);
        let port = column![
            label(T::PortLabel),
            input(
                tr(lang, T::PortPlaceholder),
                &self.port,
                Message::PortChanged
            ),
        ]
        .spacing(6)
        .width(110);
        form = form.push(row![host, port].spacing(10)).push(
            checkbox(self.direct_tls)
                .label(tr(lang, T::DirectTls))
                .text_size(13)
                .on_toggle(Message::DirectTlsToggled),
        );
        form = form
            .push(
                checkbox(self.allow_plain)
                    .label(tr(lang, T::AllowPlain))
                    .text_size(13)
                    .on_toggle(Message::AllowPlainToggled),
            )
            .push(
                text(tr(lang, T::AllowPlainNote))
                    .size(12)
                    .style(theme::muted),
            );
        if self.keep_ca && self.original.trust.extra_roots_pem.is_some() {
            form = form.push(
                row![
                    text(tr(lang, T::CaTrusted)).size(13).width(Length::Fill),
                    button(text(tr(lang, T::CaForget)).size(13))
                        .padding([2, 4])
                        .style(theme::link_button)
                        .on_press(Message::ForgetCa),
                ]
                .align_y(Alignment::Center),
            );
        }
        form = form.push(label(T::CaFileLabel)).push(input(
            tr(lang, T::CaFilePlaceholder),
            &self.ca_path,
            Message::CaPathChanged,
        ));
        if !self.pinned.is_empty() {
            form = form.push(
                row![
                    text(trf(
                        lang,
                        T::PinnedCertificates,
                        &[("count", &self.pinned.len().to_string())]
                    ))
                    .size(13)
                    .width(Length::Fill),
                    button(text(tr(lang, T::ForgetPinned)).size(13))
                        .padding([2, 4])
                        .style(theme::link_button)
                        .on_press(Message::ForgetPinned),
                ]
                .align_y(Alignment::Center),
            );
        }
        form = form.push(
            text(tr(lang, T::EditReconnectNote))
                .size(12)
                .style(theme::muted),
        );
        if let Some(error) = &self.error {
            let line = match error {
                EditError::InvalidPort => tr(lang, T::ErrInvalidPort).to_string(),
                EditError::CaFile(detail) => trf(lang, T::ErrCaFile, &[("detail", detail)]),
                EditError::CaNotPem => tr(lang, T::ErrCaNotPem).to_string(),
            };
            form = form.push(text(line).size(13).style(theme::error_text));
        }
        form = form.push(
            row![
                button(text(tr(lang, T::Save)).size(14))
                    .padding([6, 16])
                    .style(theme::primary_button)
                    .on_press_maybe((!self.reading).then_some(Message::Save)),
                button(text(tr(lang, T::Cancel)).size(14))
                    .padding([6, 12])
                    .style(theme::secondary_button)
                    .on_press(Message::Cancel),
            ]
            .spacing(8),
        );
        container(form).padding([10, 0]).width(Length::Fill).into()
    }

    /// "Automatic" (the XEP-0392 colour of the address) and a small palette.
    fn colours(&self, lang: Lang) -> Element<'_, Message> {
        let automatic = crate::colors::consistent_color(self.original.jid.as_str());
        let mut swatches = row![
            button(
                row![
                    widgets::chip(automatic, 16),
                    text(tr(lang, T::ColourAutomatic)).size(13)
                ]
                .spacing(6)
                .align_y(Alignment::Center),
            )
            .padding([3, 6])
            .style(theme::swatch(self.colour.is_none()))
            .on_press(Message::ColourPicked(None)),
            space().width(6),
        ]
        .spacing(4)
        .align_y(Alignment::Center);
        for colour in theme::ACCOUNT_PALETTE {
            swatches = swatches.push(
                button(widgets::chip(colour, 18))
                    .padding(3)
                    .style(theme::swatch(self.colour == Some(colour)))
                    .on_press(Message::ColourPicked(Some(colour))),
            );
        }
        swatches.wrap().vertical_spacing(4).into()
    }
}

/// What is wrong and how to fix it, for the errors the editor can fix.
fn fix_hint<'a>(lang: Lang, problem: &'a SessionError) -> Element<'a, Message> {
    let body: Element<'a, Message> = match problem {
        SessionError::Auth { .. } => text(tr(lang, T::FixPassword)).size(13).into(),
        SessionError::InsecureLogin { detail }
            if crate::session::insecure::Insecure::from_detail(detail)
                == Some(crate::session::insecure::Insecure::PlainOnly) =>
        {
            text(tr(lang, T::FixPlain)).size(13).into()
        }
        // The reason itself is on the account's status line just above.
        SessionError::Certificate {
            fingerprint_sha256,
            names,
            ..
        } => column![
            text(tr(lang, T::FixCertificate)).size(13),
            text(trf(
                lang,
                T::CertFingerprint,
                &[("fingerprint", &group_fingerprint(fingerprint_sha256))],
            ))
            .size(12)
            .font(iced::Font::MONOSPACE)
            .wrapping(text::Wrapping::WordOrGlyph),
            text(if names.is_empty() {
                tr(lang, T::CertNoNames).to_string()
            } else {
                trf(lang, T::CertNames, &[("names", &names.join(", "))])
            })
            .size(13),
            button(text(tr(lang, T::TrustCertificate)).size(13))
                .style(theme::secondary_button)
                .on_press(Message::TrustCertificate(fingerprint_sha256.clone())),
        ]
        .spacing(6)
        .into(),
        _ => return space().into(),
    };
    container(body)
        .padding(10)
        .width(Length::Fill)
        .style(theme::error_box)
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use xmpp_parsers::jid::BareJid;

    fn account() -> Account {
        let mut account = Account::new(BareJid::new("me@example.org").unwrap());
        account.trust.extra_roots_pem = Some("-----BEGIN CERTIFICATE-----".into());
        account
    }

    fn saved(form: &mut Form) -> Saved {
        match form.update(Message::Save).1 {
            Some(Event::Saved(saved)) => *saved,
            other => panic!("expected a save, got {other:?}"),
        }
    }

    #[test]
    fn an_untouched_form_saves_the_same_account() {
        let original = account();
        let mut form = Form::new(&original, false);
        let saved = saved(&mut form);
        assert_eq!(saved.account, original);
        assert!(saved.password.is_none());
        assert!(!saved.allow_plain, "PLAIN stays off unless ticked");
    }

    #[test]
    fn allowing_plain_is_saved_both_ways() {
        let mut form = Form::new(&account(), false);
        let _ = form.update(Message::AllowPlainToggled(true));
        assert!(saved(&mut form).allow_plain);
        let mut form = Form::new(&account(), true);
        assert!(saved(&mut form).allow_plain, "kept when untouched");
        let _ = form.update(Message::AllowPlainToggled(false));
        assert!(!saved(&mut form).allow_plain);
    }

    #[test]
    fn fields_map_onto_the_account() {
        let mut form = Form::new(&account(), false);
        let _ = form.update(Message::NameChanged("  Work ".into()));
        let _ = form.update(Message::ColourPicked(Some([1, 2, 3])));
        let _ = form.update(Message::PasswordChanged("new".into()));
        let _ = form.update(Message::HostChanged("127.0.0.1".into()));
        let _ = form.update(Message::PortChanged("5223".into()));
        let _ = form.update(Message::DirectTlsToggled(true));
        let _ = form.update(Message::ForgetCa);
        let saved = saved(&mut form);
        assert_eq!(saved.account.display_name.as_deref(), Some("Work"));
        assert_eq!(saved.account.color, Some([1, 2, 3]));
        assert_eq!(saved.password.as_deref(), Some("new"));
        assert_eq!(saved.account.server.host.as_deref(), Some("127.0.0.1"));
        assert_eq!(saved.account.server.port, Some(5223));
        assert!(saved.account.server.direct_tls);
        assert!(saved.account.trust.extra_roots_pem.is_none());
    }

    #[test]
    fn a_bad_port_is_refused_and_trusting_pins_and_saves() {
        let mut form = Form::new(&account(), false);
        let _ = form.update(Message::PortChanged("99999".into()));
        assert!(form.update(Message::Save).1.is_none());
        assert_eq!(form.error, Some(EditError::InvalidPort));
        let _ = form.update(Message::PortChanged(String::new()));
        match form.update(Message::TrustCertificate("ab12".into())).1 {
            Some(Event::Saved(saved)) => {
                assert_eq!(saved.account.trust.pinned_sha256, ["ab12"]);
            }
            other => panic!("expected a save, got {other:?}"),
        }
    }
}
