//! The sign-in form: address, password and advanced connection settings, checked by a
//! verify-only session before anything is saved.

use crate::ids::AccountId;
use crate::model::{Account, ServerOverride, Trust};
use crate::session::handover::Handover;
use crate::session::{SessionError, SessionParams, UpdateKind};
use crate::store::Store;
use crate::ui::app::session_bridge::{CheckReport, check_login};
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use iced::task;
use iced::widget::{button, checkbox, column, container, row, scrollable, space, text, text_input};
use iced::{Alignment, Element, Length, Task};
use xmpp_parsers::jid::BareJid;

pub mod register;

pub const ADDRESS_ID: &str = "onboarding-address";
pub const PASSWORD_ID: &str = "onboarding-password";

#[derive(Debug, Clone)]
pub enum Message {
    AddressChanged(String),
    PasswordChanged(String),
    ToggleAdvanced,
    HostChanged(String),
    PortChanged(String),
    DirectTlsToggled(bool),
    AllowPlainToggled(bool),
    CaPathChanged(String),
    Submit,
    Cancel,
    /// Leave the form without adding an account (only when adding another one).
    Close,
    CaRead(Result<String, String>),
    Checked(CheckReport),
    TrustCertificate(String),
    /// "Create a new account on a server" (XEP-0077), and back to signing in.
    StartCreating,
    StopCreating,
    Register(register::Message),
}

/// What the form asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    /// The server accepted the login: save and show the main screen.
    SignedIn {
        account: Box<Account>,
        password: String,
        /// PLAIN login was allowed for it (see `session::connect::allow_plain_pref`).
        allow_plain: bool,
        /// The signed-in session, for the account to go on with (empty when the
        /// report came without one).
        session: Handover,
    },
    /// The person left the "add another account" form.
    Closed,
}

/// Why the form cannot go on, shown inline.
#[derive(Debug, Clone, PartialEq)]
pub enum FormError {
    InvalidAddress,
    /// The address is one of the accounts already set up.
    AlreadyAdded,
    EmptyPassword,
    InvalidPort,
    CaFile(String),
    CaNotPem,
    Session(SessionError),
    CheckEnded,
}

#[derive(Debug, Default)]
enum Phase {
    #[default]
    Editing,
    ReadingCa,
    Checking {
        account: Account,
        abort: task::Handle,
    },
    Done,
}

#[derive(Debug, Default)]
pub struct State {
    /// Set when adding another account: the addresses already set up.
    existing: Option<Vec<BareJid>>,
    address: String,
    password: String,
    advanced: bool,
    host: String,
    port: String,
    direct_tls: bool,
    /// "Allow sending the password in plain form (PLAIN)", off unless ticked.
    allow_plain: bool,
    ca_path: String,
    /// Certificates the user chose to trust from this form.
    pinned: Vec<String>,
    phase: Phase,
    error: Option<FormError>,
    /// The app's store, for the checked session (see `update`).
    store: StoreSlot,
    /// Creating the account on its server first (`register`), when chosen.
    creating: Option<register::Registration>,
}

#[derive(Default)]
struct StoreSlot(Option<Store>);

impl std::fmt::Debug for StoreSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "store"
        } else {
            "no store"
        })
    }
}

impl State {
    pub fn new() -> Self {
        State::default()
    }

    /// The form for one more account, next to the accounts already set up.
    pub fn adding(existing: Vec<BareJid>) -> Self {
        State {
            existing: Some(existing),
            ..State::default()
        }
    }

    /// Is this the "add another account" form (with a way back)?
    pub fn is_adding(&self) -> bool {
        self.existing.is_some()
    }

    /// The account whose login is being checked, if any.
    pub fn pending(&self) -> Option<&AccountId> {
        match &self.phase {
            Phase::Checking { account, .. } => Some(&account.id),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<&FormError> {
        self.error.as_ref()
    }

    fn busy(&self) -> bool {
        matches!(
            self.phase,
            Phase::ReadingCa | Phase::Checking { .. } | Phase::Done
        ) || self
            .creating
            .as_ref()
            .is_some_and(register::Registration::busy)
    }

    /// `store`: where the new account's session keeps what it receives (the checked
    /// session goes on as the account's own).
    pub fn update(
        &mut self,
        message: Message,
        store: Option<&Store>,
    ) -> (Task<Message>, Option<Event>) {
        self.store = StoreSlot(store.cloned());
        match message {
            Message::AddressChanged(value) => {
                self.address = value;
                self.pinned.clear();
                if matches!(
                    self.error,
                    Some(FormError::InvalidAddress | FormError::AlreadyAdded)
                ) {
                    self.error = None;
                }
            }
            Message::PasswordChanged(value) => self.password = value,
            Message::ToggleAdvanced => self.advanced = !self.advanced,
            Message::HostChanged(value) => self.host = value,
            Message::PortChanged(value) => self.port = value,
            Message::DirectTlsToggled(value) => self.direct_tls = value,
            Message::AllowPlainToggled(value) => self.allow_plain = value,
            Message::CaPathChanged(value) => self.ca_path = value,
            Message::Submit if self.creating.is_some() => return (self.submit_create(), None),
            Message::Submit => return (self.submit(), None),
            Message::StartCreating => {
                if !self.busy() {
                    self.creating = Some(register::Registration::default());
                    self.error = None;
                }
            }
            Message::StopCreating => {
                if !self.busy() {
                    self.creating = None;
                }
            }
            // The server's certificate was not trusted while asking for its form: pinned
            // as at sign-in, and asked again.
            Message::Register(register::Message::TrustCertificate(fingerprint)) => {
                if !self.pinned.contains(&fingerprint) {
                    self.pinned.push(fingerprint);
                }
                return (self.submit_create(), None);
            }
            Message::Register(message) => {
                let node = parse_address(&self.address)
                    .and_then(|j| j.node().map(|n| n.as_str().to_owned()))
                    .unwrap_or_default();
                let next = match self.creating.as_mut() {
                    Some(reg) => reg.update(message, &node, &self.password),
                    None => register::Next::Nothing,
                };
                return (self.registration_next(next), None);
            }
            Message::Cancel => {
                if let Phase::Checking { abort, .. } = &self.phase {
                    abort.abort();
                }
                self.phase = Phase::Editing;
            }
            Message::Close => {
                if let Phase::Checking { abort, .. } = &self.phase {
                    abort.abort();
                }
                self.phase = Phase::Editing;
                return (Task::none(), Some(Event::Closed));
            }
            Message::CaRead(result) => {
                if matches!(self.phase, Phase::ReadingCa) {
                    self.phase = Phase::Editing;
                    return match result {
                        Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => {
                            (self.start_check(Some(pem)), None)
                        }
                        Ok(_) => self.fail(FormError::CaNotPem),
                        Err(e) => self.fail(FormError::CaFile(e)),
                    };
                }
            }
            Message::Checked(report) => return (Task::none(), self.checked(report)),
            Message::TrustCertificate(fingerprint) => {
                if !self.pinned.contains(&fingerprint) {
                    self.pinned.push(fingerprint);
                }
                return (self.submit(), None);
            }
        }
        (Task::none(), None)
    }

    fn fail(&mut self, error: FormError) -> (Task<Message>, Option<Event>) {
        self.error = Some(error);
        (Task::none(), None)
    }

    /// The address, password and port are usable (else the form says why).
    fn inputs_ok(&mut self) -> Option<BareJid> {
        self.error = None;
        let Some(jid) = parse_address(&self.address) else {
            self.error = Some(FormError::InvalidAddress);
            return None;
        };
        if self.existing.as_ref().is_some_and(|e| e.contains(&jid)) {
            self.error = Some(FormError::AlreadyAdded);
            return None;
        }
        if self.password.is_empty() {
            self.error = Some(FormError::EmptyPassword);
            return None;
        }
        if parse_port(&self.port).is_err() {
            self.error = Some(FormError::InvalidPort);
            return None;
        }
        Some(jid)
    }

    /// "Create account": the server's form first (see `register`), then a sign-in.
    fn submit_create(&mut self) -> Task<Message> {
        if self.busy() {
            return Task::none();
        }
        let Some(jid) = self.inputs_ok() else {
            return Task::none();
        };
        let node = jid
            .node()
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default();
        let next = match self.creating.as_mut() {
            Some(reg) => reg.submit(&node, &self.password),
            None => register::Next::Nothing,
        };
        self.registration_next(next)
    }

    fn registration_next(&mut self, next: register::Next) -> Task<Message> {
        match next {
            register::Next::Nothing => Task::none(),
            register::Next::SignIn => {
                self.creating = None;
                self.submit()
            }
            register::Next::Send(registrar, form) => {
                Task::perform(async move { registrar.submit(*form).await }, |result| {
                    Message::Register(register::Message::Sent(result))
                })
            }
            register::Next::Ask => {
                let (Some(jid), Ok(port)) = (parse_address(&self.address), parse_port(&self.port))
                else {
                    return Task::none();
                };
                if let Some(reg) = self.creating.as_mut() {
                    reg.asking();
                }
                let host = self.host.trim();
                let server = ServerOverride {
                    host: (!host.is_empty()).then(|| host.to_string()),
                    port,
                    direct_tls: self.direct_tls,
                };
                let pinned = self.pinned.clone();
                let ca_path = self.ca_path.trim().to_owned();
                let domain = jid.domain().as_str().to_owned();
                Task::perform(
                    async move {
                        let extra_roots_pem = if ca_path.is_empty() {
                            None
                        } else {
                            Some(tokio::fs::read_to_string(&ca_path).await.map_err(|e| {
                                crate::xmpp::register::RegisterError::Connection(e.to_string())
                            })?)
                        };
                        let trust = Trust {
                            extra_roots_pem,
                            pinned_sha256: pinned,
                        };
                        crate::session::register::open_with_picture(&domain, &server, &trust).await
                    },
                    |result| Message::Register(register::Message::Opened(result)),
                )
            }
        }
    }

    fn submit(&mut self) -> Task<Message> {
        if self.busy() {
            return Task::none();
        }
        if self.inputs_ok().is_none() {
            return Task::none();
        }
        let path = self.ca_path.trim().to_string();
        if path.is_empty() {
            return self.start_check(None);
        }
        self.phase = Phase::ReadingCa;
        Task::perform(
            async move {
                tokio::fs::read_to_string(path)
                    .await
                    .map_err(|e| e.to_string())
            },
            Message::CaRead,
        )
    }

    fn start_check(&mut self, extra_roots_pem: Option<String>) -> Task<Message> {
        let (Some(jid), Ok(port)) = (parse_address(&self.address), parse_port(&self.port)) else {
            self.error = Some(FormError::InvalidAddress);
            return Task::none();
        };
        let host = self.host.trim();
        let mut account = Account::new(jid);
        account.server = ServerOverride {
            host: (!host.is_empty()).then(|| host.to_string()),
            port,
            direct_tls: self.direct_tls,
        };
        account.trust = Trust {
            extra_roots_pem,
            pinned_sha256: self.pinned.clone(),
        };
        let params = SessionParams {
            account: account.id.clone(),
            jid: account.jid.clone(),
            password: self.password.clone(),
            server: account.server.clone(),
            trust: account.trust.clone(),
            // As the account's sessions will ask (`session_bridge::params_for`): this
            // one goes on as the account's session when the login works.
            resource: Some(crate::session::stable_resource(&account.id)),
            store: self.store.0.clone(),
            verify_only: true,
            allow_plain: self.allow_plain,
            omemo_key: None,
        };
        let (task, abort) = Task::run(check_login(params), Message::Checked).abortable();
        self.phase = Phase::Checking { account, abort };
        task
    }

    fn checked(&mut self, report: CheckReport) -> Option<Event> {
        let Phase::Checking { account, .. } = &self.phase else {
            return None;
        };
        match report {
            CheckReport::Ended(id) if id == account.id => {
                self.phase = Phase::Editing;
                self.error = Some(FormError::CheckEnded);
                None
            }
            CheckReport::SignedIn { update, session } if update.account == account.id => {
                let account = Box::new(account.clone());
                self.phase = Phase::Done;
                Some(Event::SignedIn {
                    account,
                    password: self.password.clone(),
                    allow_plain: self.allow_plain,
                    session,
                })
            }
            CheckReport::Update(update) if update.account == account.id => match update.kind {
                UpdateKind::Online { .. } => {
                    let account = Box::new(account.clone());
                    self.phase = Phase::Done;
                    Some(Event::SignedIn {
                        account,
                        password: self.password.clone(),
                        allow_plain: self.allow_plain,
                        session: Handover::default(),
                    })
                }
                UpdateKind::Failed(error) | UpdateKind::Disconnected { error, .. } => {
                    self.phase = Phase::Editing;
                    // Only PLAIN offered: show where to allow it.
                    if matches!(&error, SessionError::InsecureLogin { detail }
                        if crate::session::insecure::Insecure::from_detail(detail)
                            == Some(crate::session::insecure::Insecure::PlainOnly))
                    {
                        self.advanced = true;
                    }
                    self.error = Some(FormError::Session(error));
                    None
                }
                _ => None,
            },
            _ => None,
        }
    }

    pub fn view(&self, lang: Lang) -> Element<'_, Message> {
        let editable = !self.busy();
        let input = |placeholder: T, value: &str, on_input: fn(String) -> Message| {
            text_input(tr(lang, placeholder), value)
                .on_input_maybe(editable.then_some(on_input))
                .on_submit(Message::Submit)
                .padding(8)
                .style(theme::input)
        };

        let (title, intro) = if self.creating.is_some() {
            (T::CreateAccountTitle, T::CreateAccountIntro)
        } else if self.is_adding() {
            (T::AddAccountTitle, T::AddAccountIntro)
        } else {
            (T::OnboardingTitle, T::OnboardingIntro)
        };
        let mut form = column![
            text(tr(lang, title)).size(24).style(theme::heading),
            text(tr(lang, intro)).size(14).style(theme::muted),
            space().height(8),
            label(lang, T::AddressLabel),
            input(
                T::AddressPlaceholder,
                &self.address,
                Message::AddressChanged
            )
            .id(ADDRESS_ID),
        ]
        .spacing(6);

        if let Some(error @ (FormError::InvalidAddress | FormError::AlreadyAdded)) = &self.error {
            form = form.push(
                text(error_text(lang, error))
                    .size(13)
                    .style(theme::error_text),
            );
        }

        form = form.push(label(lang, T::PasswordLabel)).push(
            input(
                T::PasswordPlaceholder,
                &self.password,
                Message::PasswordChanged,
            )
            .secure(true)
            .id(PASSWORD_ID),
        );
        if let Some(reg) = &self.creating {
            form = form.push(reg.view(lang, editable).map(Message::Register));
        }

        let advanced_label = if self.advanced {
            T::AdvancedHide
        } else {
            T::AdvancedShow
        };
        form = form.push(
            button(text(tr(lang, advanced_label)).size(14))
                .padding([4, 0])
                .style(theme::link_button)
                .on_press(Message::ToggleAdvanced),
        );
        if self.advanced {
            form = form.push(self.advanced_view(lang, editable));
        }

        if let Some(error) = self
            .error
            .as_ref()
            .filter(|e| !matches!(e, FormError::InvalidAddress | FormError::AlreadyAdded))
        {
            form = form.push(error_view(lang, error, editable));
        }

        let submit_label = if self.creating.is_some() {
            T::CreateAccountSubmit
        } else {
            T::SignIn
        };
        let sign_in = button(text(tr(lang, submit_label)))
            .padding([8, 18])
            .style(theme::primary_button)
            .on_press_maybe(editable.then_some(Message::Submit));
        let mut actions = row![sign_in].spacing(12).align_y(Alignment::Center);
        if self.busy() {
            actions = actions.push(text(tr(lang, T::Checking)).style(theme::muted));
            if matches!(self.phase, Phase::Checking { .. }) {
                actions = actions.push(
                    button(text(tr(lang, T::Cancel)))
                        .style(theme::link_button)
                        .on_press(Message::Cancel),
                );
            }
        }
        if self.is_adding() && !matches!(self.phase, Phase::Checking { .. } | Phase::Done) {
            actions = actions.push(
                button(text(tr(lang, T::Cancel)))
                    .style(theme::link_button)
                    .on_press(Message::Close),
            );
        }
        form = form.push(space().height(6)).push(actions);
        let (switch, to) = if self.creating.is_some() {
            (T::CreateAccountBack, Message::StopCreating)
        } else {
            (T::CreateAccountLink, Message::StartCreating)
        };
        form = form.push(
            button(text(tr(lang, switch)).size(14))
                .padding([4, 0])
                .style(theme::link_button)
                .on_press_maybe(editable.then_some(to)),
        );

        let card = container(form)
            .padding(28)
            .max_width(480)
            .style(theme::card);
        // Scrollable, so the button stays reachable in a small window.
        scrollable(container(card).center_x(Length::Fill).padding([48, 24]))
            .height(Length::Fill)
            .into()
    }

    fn advanced_view(&self, lang: Lang, editable: bool) -> Element<'_, Message> {
        let field = |placeholder: T, value: &str, on_input: fn(String) -> Message| {
            text_input(tr(lang, placeholder), value)
                .on_input_maybe(editable.then_some(on_input))
                .on_submit(Message::Submit)
                .padding(8)
                .style(theme::input)
        };
        let host = column![
            label(lang, T::ServerHostLabel),
            field(T::ServerHostPlaceholder, &self.host, Message::HostChanged),
        ]
        .spacing(6)
        .width(Length::Fill);
        let port = column![
            label(lang, T::PortLabel),
            field(T::PortPlaceholder, &self.port, Message::PortChanged),
        ]
        .spacing(6)
        .width(110);
        let mut advanced = column![
            row![host, port].spacing(10),
            checkbox(self.direct_tls)
                .label(tr(lang, T::DirectTls))
                .text_size(14)
                .on_toggle_maybe(editable.then_some(Message::DirectTlsToggled)),
            checkbox(self.allow_plain)
                .label(tr(lang, T::AllowPlain))
                .text_size(14)
                .on_toggle_maybe(editable.then_some(Message::AllowPlainToggled)),
            text(tr(lang, T::AllowPlainNote))
                .size(12)
                .style(theme::muted),
            label(lang, T::CaFileLabel),
            field(T::CaFilePlaceholder, &self.ca_path, Message::CaPathChanged),
        ]
        .spacing(8);
        if self.error == Some(FormError::InvalidPort) {
            advanced = advanced.push(
                text(tr(lang, T::ErrInvalidPort))
                    .size(13)
                    .style(theme::error_text),
            );
        }
        advanced.into()
    }
}

fn label(lang: Lang, key: T) -> Element<'static, Message> {
    text(tr(lang, key)).size(14).into()
}

/// An untrusted certificate in words: why, its fingerprint, the names it was issued
/// for, and "Trust this certificate" (`trust`, or disabled while busy).
pub(crate) fn certificate_view<'a, M: Clone + 'a>(
    lang: Lang,
    reason: &str,
    fingerprint_sha256: &str,
    names: &[String],
    trust: Option<M>,
) -> iced::widget::Column<'a, M> {
    let line = |s: String| text(s).size(14);
    column![
        line(trf(lang, T::ErrCertificate, &[("reason", reason)])),
        line(trf(
            lang,
            T::CertFingerprint,
            &[("fingerprint", &group_fingerprint(fingerprint_sha256))],
        ))
        .size(12)
        .font(iced::Font::MONOSPACE)
        .wrapping(text::Wrapping::WordOrGlyph),
        line(if names.is_empty() {
            tr(lang, T::CertNoNames).to_string()
        } else {
            trf(lang, T::CertNames, &[("names", &names.join(", "))])
        }),
        button(text(tr(lang, T::TrustCertificate)))
            .style(theme::secondary_button)
            .on_press_maybe(trust),
    ]
    .spacing(6)
}

fn error_view(lang: Lang, error: &FormError, editable: bool) -> Element<'_, Message> {
    let lines = match error {
        FormError::Session(SessionError::Certificate {
            reason,
            fingerprint_sha256,
            names,
        }) => certificate_view(
            lang,
            reason,
            fingerprint_sha256,
            names,
            editable.then(|| Message::TrustCertificate(fingerprint_sha256.clone())),
        ),
        other => column![text(error_text(lang, other)).size(14)].spacing(6),
    };
    container(lines)
        .padding(12)
        .width(Length::Fill)
        .style(theme::error_box)
        .into()
}

/// The error in plain words.
pub fn error_text(lang: Lang, error: &FormError) -> String {
    match error {
        FormError::InvalidAddress => tr(lang, T::ErrInvalidAddress).into(),
        FormError::AlreadyAdded => tr(lang, T::ErrAlreadyAdded).into(),
        FormError::EmptyPassword => tr(lang, T::ErrPasswordEmpty).into(),
        FormError::InvalidPort => tr(lang, T::ErrInvalidPort).into(),
        FormError::CaFile(detail) => trf(lang, T::ErrCaFile, &[("detail", detail)]),
        FormError::CaNotPem => tr(lang, T::ErrCaNotPem).into(),
        FormError::Session(error) => session_error_text(lang, error),
        FormError::CheckEnded => tr(lang, T::ErrCheckEnded).into(),
    }
}

/// A session error in plain words (also used by the sidebar's connection line).
pub fn session_error_text(lang: Lang, error: &SessionError) -> String {
    match error {
        SessionError::Auth { condition } => {
            trf(lang, T::ErrWrongPassword, &[("condition", condition)])
        }
        SessionError::Certificate { reason, .. } => {
            trf(lang, T::ErrCertificate, &[("reason", reason)])
        }
        SessionError::Unreachable { detail } => trf(lang, T::ErrUnreachable, &[("detail", detail)]),
        SessionError::InsecureLogin { detail } => trf(
            lang,
            T::ErrInsecure,
            &[("detail", &insecure_text(lang, detail))],
        ),
        SessionError::Protocol { detail } => trf(lang, T::ErrProtocol, &[("detail", detail)]),
        SessionError::Timeout => tr(lang, T::ErrTimeout).into(),
    }
}

/// Why a login was refused, in the user's language (the session's English words
/// when they are not a known reason).
fn insecure_text(lang: Lang, detail: &str) -> String {
    use crate::session::insecure::Insecure as I;
    match I::from_detail(detail) {
        Some(I::PlainOnly) => tr(lang, T::InsecurePlainOnly).into(),
        Some(I::NoStarttls) => tr(lang, T::InsecureNoStarttls).into(),
        Some(I::StarttlsRefused) => tr(lang, T::InsecureStarttlsRefused).into(),
        Some(I::NoMechanism) => tr(lang, T::InsecureNoMechanism).into(),
        Some(I::OnlyOffers(list)) => trf(lang, T::InsecureOnlyOffers, &[("list", &list)]),
        Some(I::Unsupported(name)) => trf(lang, T::InsecureUnsupported, &[("name", &name)]),
        Some(I::Iterations(count)) => trf(
            lang,
            T::InsecureIterations,
            &[
                ("count", &count.to_string()),
                ("max", &crate::session::insecure::MAX_ITERATIONS.to_string()),
            ],
        ),
        Some(I::NotProven(why)) => trf(lang, T::InsecureNotProven, &[("why", &why)]),
        Some(I::BoundAs(jid)) => trf(lang, T::InsecureBoundAs, &[("jid", &jid)]),
        None => detail.to_owned(),
    }
}

/// A bare JID with a node part ("name@domain"), or nothing.
pub fn parse_address(input: &str) -> Option<BareJid> {
    let jid = BareJid::new(input.trim()).ok()?;
    jid.node()?;
    Some(jid)
}

/// An optional port: empty is `None`, otherwise 1 to 65535.
pub(crate) fn parse_port(input: &str) -> Result<Option<u16>, ()> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    match input.parse::<u16>() {
        Ok(0) | Err(_) => Err(()),
        Ok(port) => Ok(Some(port)),
    }
}

/// "ab12cd…" as "AB:12:CD:…" so people can compare it with what the admin says.
pub(crate) fn group_fingerprint(hex: &str) -> String {
    let chars: Vec<char> = hex.chars().collect();
    chars
        .chunks(2)
        .map(|pair| pair.iter().collect::<String>().to_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason a login is refused as unsafe reads in Chinese, not in the
    /// session's English words.
    #[test]
    fn insecure_login_reasons_are_translated() {
        use crate::session::insecure::Insecure as I;
        for r in [
            I::PlainOnly,
            I::NoStarttls,
            I::StarttlsRefused,
            I::NoMechanism,
            I::OnlyOffers("ANONYMOUS".into()),
            I::Unsupported("X-FOO".into()),
            I::Iterations(4_294_967_295),
            I::NotProven("wrong server signature".into()),
            I::BoundAs("mallory@evil.example/x".into()),
        ] {
            let zh = session_error_text(Lang::ZhCn, &r.error());
            assert!(!zh.contains(&r.detail()), "{r:?}: {zh}");
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{zh}"
            );
            let en = session_error_text(Lang::En, &r.error());
            assert!(en.contains(&r.detail()), "{r:?}: {en}");
        }
        assert!(session_error_text(Lang::ZhCn, &I::Iterations(7).error()).contains("1000000"));
    }

    #[test]
    fn addresses_need_a_node() {
        assert!(parse_address("alice@example.org").is_some());
        assert!(parse_address("  alice@example.org ").is_some());
        assert!(parse_address("not-a-jid").is_none());
        assert!(parse_address("example.org").is_none());
        assert!(parse_address("@example.org").is_none());
        assert!(parse_address("").is_none());
    }

    #[test]
    fn ports_are_optional_but_valid() {
        assert_eq!(parse_port(""), Ok(None));
        assert_eq!(parse_port("5223"), Ok(Some(5223)));
        assert!(parse_port("0").is_err());
        assert!(parse_port("70000").is_err());
        assert!(parse_port("abc").is_err());
    }

    #[test]
    fn fingerprints_are_grouped() {
        assert_eq!(group_fingerprint("ab12cd"), "AB:12:CD");
    }
}
