//! The left panel: per account its connection and own presence, contact requests,
//! recent conversations and contacts, with adding, renaming and removing contacts.

mod lists;

use super::account::{AccountState, Connection};
use super::i18n::{Lang, T, tr, trf};
use super::onboarding::{parse_address, session_error_text};
use super::theme;
use crate::ids::AccountId;
use crate::model::Show;
use crate::session::Command;
use iced::widget::{button, column, container, pick_list, row, scrollable, text, text_input};
use iced::{Alignment, Element, Length};
use std::collections::HashMap;
use std::fmt;
use xmpp_parsers::jid::BareJid;

#[derive(Debug, Clone)]
pub enum Message {
    Open(AccountId, BareJid),
    PasswordInput(AccountId, String),
    SubmitPassword(AccountId),
    Reconnect(AccountId),
    ShowPicked(AccountId, ShowChoice),
    StatusInput(AccountId, String),
    SubmitStatus(AccountId),
    StartAdd(AccountId),
    AddJidInput(String),
    AddNameInput(String),
    SubmitAdd,
    StartEdit(AccountId, BareJid, String),
    EditNameInput(String),
    SubmitRename,
    AskRemove,
    ConfirmRemove,
    CancelForm,
    Answer(AccountId, BareJid, bool),
    DismissError,
}

/// What the sidebar asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    Open {
        account: AccountId,
        peer: BareJid,
    },
    /// Send this command to the account's session.
    Command {
        account: AccountId,
        command: Command,
    },
    Reconnect(AccountId),
    Password {
        account: AccountId,
        password: String,
    },
    /// Our own presence changed (also sent as a command).
    OwnPresence {
        account: AccountId,
        show: Show,
        status: String,
    },
    /// A contact request was answered (also sent as a command).
    Answered {
        account: AccountId,
        jid: BareJid,
        accept: bool,
    },
}

/// An availability as offered by the presence picker, in the interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShowChoice {
    pub show: Show,
    pub lang: Lang,
}

impl fmt::Display for ShowChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(tr(self.lang, show_text(self.show)))
    }
}

/// The name of an availability.
pub fn show_text(show: Show) -> T {
    match show {
        Show::Chat => T::ShowChat,
        Show::Online => T::ShowOnline,
        Show::Away => T::ShowAway,
        Show::ExtendedAway => T::ShowXa,
        Show::DoNotDisturb => T::ShowDnd,
        Show::Offline => T::ShowOffline,
    }
}

#[derive(Debug, Clone, Default)]
struct AddForm {
    account: Option<AccountId>,
    jid: String,
    name: String,
    invalid: bool,
}

#[derive(Debug, Clone)]
struct EditForm {
    account: AccountId,
    jid: BareJid,
    name: String,
    confirm_remove: bool,
}

/// What the borrowed view needs to know.
pub struct Context<'a> {
    pub lang: Lang,
    pub accounts: &'a [AccountState],
    pub open: Option<(&'a AccountId, &'a BareJid)>,
}

#[derive(Debug, Default)]
pub struct State {
    add: Option<AddForm>,
    edit: Option<EditForm>,
    passwords: HashMap<AccountId, String>,
    statuses: HashMap<AccountId, String>,
    error: Option<T>,
}

impl State {
    pub fn new() -> Self {
        State::default()
    }

    /// Shows a problem under the account section (e.g. "not connected").
    pub fn set_error(&mut self, error: T) {
        self.error = Some(error);
    }

    pub fn update(&mut self, message: Message, accounts: &[AccountState]) -> Option<Event> {
        match message {
            Message::Open(account, peer) => return Some(Event::Open { account, peer }),
            Message::PasswordInput(account, value) => {
                self.passwords.insert(account, value);
            }
            Message::SubmitPassword(account) => {
                let password = self.passwords.remove(&account).unwrap_or_default();
                if !password.is_empty() {
                    return Some(Event::Password { account, password });
                }
            }
            Message::Reconnect(account) => return Some(Event::Reconnect(account)),
            Message::ShowPicked(account, choice) => {
                let status = self.status_of(&account, accounts);
                return Some(Event::OwnPresence {
                    account,
                    show: choice.show,
                    status,
                });
            }
            Message::StatusInput(account, value) => {
                self.statuses.insert(account, value);
            }
            Message::SubmitStatus(account) => {
                let status = self.status_of(&account, accounts);
                let show = accounts
                    .iter()
                    .find(|a| a.account.id == account)
                    .map(|a| a.own_show)
                    .unwrap_or(Show::Online);
                self.statuses.remove(&account);
                return Some(Event::OwnPresence {
                    account,
                    show,
                    status,
                });
            }
            Message::StartAdd(account) => {
                self.edit = None;
                self.add = Some(AddForm {
                    account: Some(account),
                    ..AddForm::default()
                });
            }
            Message::AddJidInput(value) => {
                if let Some(form) = &mut self.add {
                    form.jid = value;
                    form.invalid = false;
                }
            }
            Message::AddNameInput(value) => {
                if let Some(form) = &mut self.add {
                    form.name = value;
                }
            }
            Message::SubmitAdd => return self.submit_add(),
            Message::StartEdit(account, jid, name) => {
                self.add = None;
                self.edit = Some(EditForm {
                    account,
                    jid,
                    name,
                    confirm_remove: false,
                });
            }
            Message::EditNameInput(value) => {
                if let Some(form) = &mut self.edit {
                    form.name = value;
                }
            }
            Message::SubmitRename => {
                let form = self.edit.take()?;
                let name = form.name.trim();
                return Some(Event::Command {
                    account: form.account,
                    command: Command::AddContact {
                        jid: form.jid,
                        name: (!name.is_empty()).then(|| name.to_string()),
                        subscribe: false,
                    },
                });
            }
            Message::AskRemove => {
                if let Some(form) = &mut self.edit {
                    form.confirm_remove = true;
                }
            }
            Message::ConfirmRemove => {
                let form = self.edit.take()?;
                return Some(Event::Command {
                    account: form.account,
                    command: Command::RemoveContact { jid: form.jid },
                });
            }
            Message::CancelForm => {
                self.add = None;
                self.edit = None;
            }
            Message::Answer(account, jid, accept) => {
                return Some(Event::Answered {
                    account,
                    jid,
                    accept,
                });
            }
            Message::DismissError => self.error = None,
        }
        None
    }

    fn status_of(&self, account: &AccountId, accounts: &[AccountState]) -> String {
        match self.statuses.get(account) {
            Some(typed) => typed.trim().to_string(),
            None => accounts
                .iter()
                .find(|a| &a.account.id == account)
                .map(|a| a.own_status.clone())
                .unwrap_or_default(),
        }
    }

    fn submit_add(&mut self) -> Option<Event> {
        let form = self.add.as_mut()?;
        let Some(jid) = parse_address(&form.jid) else {
            form.invalid = true;
            return None;
        };
        let account = form.account.clone()?;
        let name = form.name.trim().to_string();
        self.add = None;
        Some(Event::Command {
            account,
            command: Command::AddContact {
                jid,
                name: (!name.is_empty()).then_some(name),
                subscribe: true,
            },
        })
    }

    pub fn view<'a>(&'a self, cx: &Context<'a>) -> Element<'a, Message> {
        let mut content = column![].spacing(14).padding(12);
        if let Some(error) = self.error {
            content = content.push(
                container(
                    row![
                        text(tr(cx.lang, error)).size(13).width(Length::Fill),
                        button(text(tr(cx.lang, T::Dismiss)).size(13))
                            .style(theme::link_button)
                            .on_press(Message::DismissError),
                    ]
                    .align_y(Alignment::Center),
                )
                .padding(8)
                .style(theme::error_box),
            );
        }
        for state in cx.accounts {
            content = content.push(self.account_view(cx, state));
            if !state.requests.is_empty() {
                content = content.push(lists::requests(cx.lang, state));
            }
            content = content.push(lists::conversations(cx, state));
            content = content.push(lists::contacts(
                cx,
                state,
                self.add.as_ref(),
                self.edit.as_ref(),
            ));
        }
        container(scrollable(content).height(Length::Fill))
            .width(300)
            .height(Length::Fill)
            .style(theme::sidebar)
            .into()
    }

    fn account_view<'a>(
        &'a self,
        cx: &Context<'a>,
        state: &'a AccountState,
    ) -> Element<'a, Message> {
        let lang = cx.lang;
        let id = &state.account.id;
        let (line, style): (String, fn(&iced::Theme) -> text::Style) = match &state.connection {
            Connection::WaitingForPassword => (tr(lang, T::ConnWaiting).into(), theme::muted),
            Connection::Connecting { .. } => {
                (tr(lang, T::ConnConnecting).into(), theme::warning_text)
            }
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
        };

        let mut card = column![
            text(state.account.label()).size(16).style(theme::heading),
            text(line).size(13).style(style),
        ]
        .spacing(6);

        let stopped = matches!(
            state.connection,
            Connection::Failed(_)
                | Connection::Disconnected {
                    retry_in_secs: None,
                    ..
                }
        );
        if stopped && state.password.is_some() {
            card = card.push(
                button(text(tr(lang, T::Reconnect)).size(13))
                    .style(theme::secondary_button)
                    .on_press(Message::Reconnect(id.clone())),
            );
        }

        if state.needs_password() {
            let typed = self.passwords.get(id).map(String::as_str).unwrap_or("");
            card = card
                .push(
                    text(trf(
                        lang,
                        T::PasswordNeeded,
                        &[("jid", state.account.jid.as_str())],
                    ))
                    .size(13),
                )
                .push(
                    row![
                        text_input(tr(lang, T::PasswordPlaceholder), typed)
                            .secure(true)
                            .on_input(|v| Message::PasswordInput(id.clone(), v))
                            .on_submit(Message::SubmitPassword(id.clone()))
                            .padding(6)
                            .style(theme::input),
                        button(text(tr(lang, T::Connect)).size(13))
                            .style(theme::primary_button)
                            .on_press(Message::SubmitPassword(id.clone())),
                    ]
                    .spacing(6)
                    .align_y(Alignment::Center),
                );
        }

        let choices: Vec<ShowChoice> = [
            Show::Chat,
            Show::Online,
            Show::Away,
            Show::ExtendedAway,
            Show::DoNotDisturb,
            Show::Offline,
        ]
        .into_iter()
        .map(|show| ShowChoice { show, lang })
        .collect();
        let selected = ShowChoice {
            show: state.own_show,
            lang,
        };
        let status = self
            .statuses
            .get(id)
            .map(String::as_str)
            .unwrap_or(&state.own_status);
        card = card.push(
            row![
                container(lists::presence_dot(state.own_show)).padding([0, 2]),
                pick_list(choices, Some(selected), |choice| Message::ShowPicked(
                    id.clone(),
                    choice
                ))
                .text_size(13)
                .padding([4, 8]),
            ]
            .spacing(6)
            .align_y(Alignment::Center),
        );
        card = card.push(
            text_input(tr(lang, T::StatusPlaceholder), status)
                .on_input(|v| Message::StatusInput(id.clone(), v))
                .on_submit(Message::SubmitStatus(id.clone()))
                .size(13)
                .padding(6)
                .style(theme::input),
        );

        container(card)
            .padding(10)
            .width(Length::Fill)
            .style(theme::card)
            .into()
    }
}
