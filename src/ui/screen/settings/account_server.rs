//! Settings > Accounts: what an account does on its server (XEP-0077): change its
//! password there (asked twice; the keyring learns it only after the server agreed,
//! see `session::register::change_password_and_save`) and delete it there, after the
//! address is typed out, then from this computer.

use crate::ids::AccountId;
use crate::session::register::{ChangeError, RemoveError};
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::theme;
use crate::xmpp::register::RegisterError;
use iced::widget::{button, column, container, row, text, text_input};
use iced::{Alignment, Element, Length};
use std::collections::HashMap;

pub const NEW_PASSWORD_ID: &str = "account-server-new-password";
pub const REPEAT_ID: &str = "account-server-repeat";
pub const CONFIRM_ID: &str = "account-server-confirm";

#[derive(Debug, Clone)]
pub enum Message {
    OpenPassword(AccountId),
    OpenDelete(AccountId),
    Close,
    NewInput(String),
    RepeatInput(String),
    TypedInput(String),
    SubmitPassword,
    SubmitDelete,
    /// The server (then the keyring) answered the password change.
    Changed(AccountId, Result<(), ChangeError>),
    /// The server (then this computer) answered the removal.
    Deleted(AccountId, Result<(), RemoveError>),
}

/// What the panel asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    ChangePassword {
        account: AccountId,
        password: String,
    },
    Delete {
        account: AccountId,
    },
    /// The server took the new password: sessions from now on use it.
    PasswordChanged {
        account: AccountId,
        password: String,
    },
    /// Gone from the server and from here: the account leaves the screen.
    Deleted(AccountId),
}

#[derive(Debug, Clone)]
enum Panel {
    Password { new: String, repeat: String },
    Delete { typed: String },
}

#[derive(Debug, Clone)]
enum Problem {
    Differs,
    Change(ChangeError),
    Remove(RemoveError),
}

#[derive(Debug, Clone)]
enum Done {
    Changed,
    NotSaved(String),
}

#[derive(Debug)]
struct Open {
    account: AccountId,
    panel: Panel,
    busy: bool,
    problem: Option<Problem>,
}

#[derive(Debug, Default)]
pub struct State {
    open: Option<Open>,
    /// What the last password change came to, per account.
    done: HashMap<AccountId, Done>,
}

impl State {
    /// Esc: closes the open panel. False when none was open (or it is busy).
    pub fn escape(&mut self) -> bool {
        if self.open.as_ref().is_some_and(|o| !o.busy) {
            self.open = None;
            return true;
        }
        false
    }

    pub fn forget(&mut self, account: &AccountId) {
        self.done.remove(account);
        if self.open.as_ref().is_some_and(|o| &o.account == account) {
            self.open = None;
        }
    }

    pub fn update(
        &mut self,
        message: Message,
        accounts: &[AccountState],
    ) -> (iced::Task<Message>, Option<Event>) {
        let focus = |id: &'static str| iced::widget::operation::focus(id);
        match message {
            Message::OpenPassword(account) => {
                self.done.remove(&account);
                self.open = Some(Open {
                    account,
                    panel: Panel::Password {
                        new: String::new(),
                        repeat: String::new(),
                    },
                    busy: false,
                    problem: None,
                });
                return (focus(NEW_PASSWORD_ID), None);
            }
            Message::OpenDelete(account) => {
                self.done.remove(&account);
                self.open = Some(Open {
                    account,
                    panel: Panel::Delete {
                        typed: String::new(),
                    },
                    busy: false,
                    problem: None,
                });
                return (focus(CONFIRM_ID), None);
            }
            Message::Close => {
                if self.open.as_ref().is_some_and(|o| !o.busy) {
                    self.open = None;
                }
            }
            Message::NewInput(value) | Message::RepeatInput(value) | Message::TypedInput(value)
                if self.open.as_ref().is_some_and(|o| o.busy) =>
            {
                let _ = value;
            }
            Message::NewInput(value) => {
                if let Some(Open {
                    panel: Panel::Password { new, .. },
                    problem,
                    ..
                }) = &mut self.open
                {
                    *new = value;
                    *problem = None;
                }
            }
            Message::RepeatInput(value) => {
                if let Some(Open {
                    panel: Panel::Password { repeat, .. },
                    problem,
                    ..
                }) = &mut self.open
                {
                    *repeat = value;
                    *problem = None;
                }
            }
            Message::TypedInput(value) => {
                if let Some(Open {
                    panel: Panel::Delete { typed },
                    ..
                }) = &mut self.open
                {
                    *typed = value;
                }
            }
            Message::SubmitPassword => {
                let Some(open) = self.open.as_mut().filter(|o| !o.busy) else {
                    return (iced::Task::none(), None);
                };
                let Panel::Password { new, repeat } = &open.panel else {
                    return (iced::Task::none(), None);
                };
                if new.is_empty() {
                    return (iced::Task::none(), None);
                }
                if new != repeat {
                    open.problem = Some(Problem::Differs);
                    return (iced::Task::none(), None);
                }
                open.busy = true;
                open.problem = None;
                return (
                    iced::Task::none(),
                    Some(Event::ChangePassword {
                        account: open.account.clone(),
                        password: new.clone(),
                    }),
                );
            }
            Message::SubmitDelete => {
                let confirmed = self.open.as_ref().is_some_and(|o| {
                    accounts
                        .iter()
                        .find(|a| a.account.id == o.account)
                        .is_some_and(|a| self.confirmed(&o.account, a.account.jid.as_str()))
                });
                let Some(open) = self.open.as_mut().filter(|o| !o.busy && confirmed) else {
                    return (iced::Task::none(), None);
                };
                open.busy = true;
                open.problem = None;
                return (
                    iced::Task::none(),
                    Some(Event::Delete {
                        account: open.account.clone(),
                    }),
                );
            }
            Message::Changed(account, result) => {
                let Some(open) = self.open.as_mut().filter(|o| o.account == account) else {
                    return (iced::Task::none(), None);
                };
                let password = match &open.panel {
                    Panel::Password { new, .. } => new.clone(),
                    Panel::Delete { .. } => String::new(),
                };
                match result {
                    Ok(()) => {
                        self.open = None;
                        self.done.insert(account.clone(), Done::Changed);
                        return (
                            iced::Task::none(),
                            Some(Event::PasswordChanged { account, password }),
                        );
                    }
                    Err(ChangeError::NotSaved(detail)) => {
                        self.open = None;
                        self.done.insert(account.clone(), Done::NotSaved(detail));
                        return (
                            iced::Task::none(),
                            Some(Event::PasswordChanged { account, password }),
                        );
                    }
                    Err(e) => {
                        open.busy = false;
                        open.problem = Some(Problem::Change(e));
                    }
                }
            }
            Message::Deleted(account, result) => {
                let Some(open) = self.open.as_mut().filter(|o| o.account == account) else {
                    return (iced::Task::none(), None);
                };
                match result {
                    Ok(()) => {
                        self.open = None;
                        return (iced::Task::none(), Some(Event::Deleted(account)));
                    }
                    Err(e) => {
                        open.busy = false;
                        open.problem = Some(Problem::Remove(e));
                    }
                }
            }
        }
        (iced::Task::none(), None)
    }

    /// The typed confirmation matches the account's address (case and spaces aside).
    pub fn confirmed(&self, account: &AccountId, address: &str) -> bool {
        matches!(&self.open, Some(Open { account: a, panel: Panel::Delete { typed }, .. })
            if a == account && typed.trim().eq_ignore_ascii_case(address))
    }

    pub fn view<'a, M: Clone + 'a>(
        &'a self,
        lang: Lang,
        state: &'a AccountState,
        wrap: fn(Message) -> M,
    ) -> Element<'a, M> {
        self.inner(lang, state).map(wrap)
    }

    fn inner<'a>(&'a self, lang: Lang, state: &'a AccountState) -> Element<'a, Message> {
        let id = &state.account.id;
        let address: &'a str = state.account.jid.as_str();
        let mut col = column![
            text(tr(lang, T::ServerActions))
                .size(14)
                .style(theme::heading)
        ]
        .spacing(6);
        match self.done.get(id) {
            Some(Done::Changed) => {
                col = col.push(text(tr(lang, T::PasswordChanged)).size(13));
            }
            Some(Done::NotSaved(detail)) => {
                col = col.push(
                    text(trf(lang, T::PasswordChangedNotSaved, &[("detail", detail)]))
                        .size(13)
                        .style(theme::error_text),
                );
            }
            None => {}
        }
        let Some(open) = self.open.as_ref().filter(|o| &o.account == id) else {
            let online = state.is_online();
            col = col.push(
                row![
                    button(text(tr(lang, T::ChangePasswordOpen)).size(13))
                        .style(theme::secondary_button)
                        .on_press_maybe(online.then(|| Message::OpenPassword(id.clone()))),
                    button(text(tr(lang, T::DeleteOnServerOpen)).size(13))
                        .style(theme::danger_button)
                        .on_press_maybe(online.then(|| Message::OpenDelete(id.clone()))),
                ]
                .spacing(8),
            );
            return container(col).width(Length::Fill).into();
        };
        let editable = !open.busy;
        let input = |placeholder: &'a str, value: &'a str, on: fn(String) -> Message| {
            text_input(placeholder, value)
                .on_input_maybe(editable.then_some(on))
                .size(14)
                .padding(6)
                .style(theme::input)
        };
        let cancel = button(text(tr(lang, T::Cancel)).size(13))
            .style(theme::secondary_button)
            .on_press_maybe(editable.then_some(Message::Close));
        let mut panel = column![].spacing(8);
        match &open.panel {
            Panel::Password { new, repeat } => {
                let ready = editable && !new.is_empty() && !repeat.is_empty();
                panel = panel
                    .push(
                        text(tr(lang, T::ChangePasswordNote))
                            .size(13)
                            .style(theme::muted),
                    )
                    .push(
                        input(tr(lang, T::ServerNewPasswordLabel), new, Message::NewInput)
                            .secure(true)
                            .id(NEW_PASSWORD_ID),
                    )
                    .push(
                        input(
                            tr(lang, T::RepeatPasswordLabel),
                            repeat,
                            Message::RepeatInput,
                        )
                        .secure(true)
                        .id(REPEAT_ID)
                        .on_submit(Message::SubmitPassword),
                    )
                    .push(
                        row![
                            button(text(tr(lang, T::ChangePasswordSubmit)).size(13))
                                .style(theme::primary_button)
                                .on_press_maybe(ready.then_some(Message::SubmitPassword)),
                            cancel,
                        ]
                        .spacing(8)
                        .align_y(Alignment::Center),
                    );
                if open.busy {
                    panel = panel.push(
                        text(tr(lang, T::PasswordChanging))
                            .size(13)
                            .style(theme::muted),
                    );
                }
            }
            Panel::Delete { typed } => {
                let ready = editable && typed.trim().eq_ignore_ascii_case(address);
                panel = panel
                    .push(
                        text(trf(lang, T::DeleteOnServerWarning, &[("account", address)])).size(13),
                    )
                    .push(input(address, typed, Message::TypedInput).id(CONFIRM_ID))
                    .push(
                        row![
                            button(text(tr(lang, T::DeleteOnServerSubmit)).size(13))
                                .style(theme::danger_button)
                                .on_press_maybe(ready.then_some(Message::SubmitDelete)),
                            cancel,
                        ]
                        .spacing(8)
                        .align_y(Alignment::Center),
                    );
                if open.busy {
                    panel = panel.push(
                        text(tr(lang, T::DeletingOnServer))
                            .size(13)
                            .style(theme::muted),
                    );
                }
            }
        }
        if let Some(problem) = &open.problem {
            panel = panel.push(
                container(text(problem_text(lang, problem)).size(13))
                    .padding(8)
                    .width(Length::Fill)
                    .style(theme::error_box),
            );
        }
        col = col.push(
            container(panel)
                .padding(10)
                .width(Length::Fill)
                .style(theme::notice_box),
        );
        container(col).width(Length::Fill).into()
    }
}

fn problem_text(lang: Lang, problem: &Problem) -> String {
    match problem {
        Problem::Differs => tr(lang, T::PasswordsDiffer).to_owned(),
        Problem::Change(ChangeError::Refused(e)) | Problem::Remove(RemoveError::Refused(e)) => {
            register_error_text(lang, e)
        }
        Problem::Change(ChangeError::NotSaved(detail)) => {
            trf(lang, T::PasswordChangedNotSaved, &[("detail", detail)])
        }
        Problem::Remove(RemoveError::NotRemovedHere(detail)) => {
            trf(lang, T::DeletedNotHere, &[("detail", detail)])
        }
    }
}

/// Why the server did not do it, in plain words (also for creating an account).
pub fn register_error_text(lang: Lang, e: &RegisterError) -> String {
    let detail = |d: &Option<String>| d.clone().unwrap_or_default();
    match e {
        RegisterError::Conflict => tr(lang, T::RegConflict).to_owned(),
        RegisterError::NotAcceptable(d) => {
            trf(lang, T::RegNotAcceptable, &[("detail", &detail(d))])
        }
        RegisterError::NotAllowed(d) => trf(lang, T::RegNotAllowed, &[("detail", &detail(d))]),
        RegisterError::NotAuthorized => tr(lang, T::RegNotAuthorized).to_owned(),
        RegisterError::Unsupported => tr(lang, T::RegUnsupported).to_owned(),
        RegisterError::Limited(d) => trf(lang, T::RegLimited, &[("detail", &detail(d))]),
        RegisterError::Other { condition, text } => trf(
            lang,
            T::RegRefused,
            &[("condition", condition), ("detail", &detail(text))],
        ),
        RegisterError::Malformed => tr(lang, T::RegMalformed).to_owned(),
        RegisterError::NoAnswer => tr(lang, T::ErrTimeout).to_owned(),
        RegisterError::NotConnected => tr(lang, T::CommandNotConnected).to_owned(),
        RegisterError::Connection(detail) => trf(lang, T::ErrUnreachable, &[("detail", detail)]),
        RegisterError::Certificate { reason, .. } => {
            trf(lang, T::ErrCertificate, &[("reason", reason)])
        }
    }
}
