//! Settings > Accounts: every account in order with its live state and what to do about
//! a problem, adding, editing, disabling, reordering and removing accounts, and the
//! presence of all accounts at once.

pub mod account_server;
pub mod avatar;
mod blocked;
pub mod edit;
pub mod general;
pub mod profile;

use crate::ids::AccountId;
use crate::model::Show;
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{Lang, T, tr, trf};
use crate::ui::screen::sidebar::ShowChoice;
use crate::ui::theme;
use crate::ui::widgets::{self, Remedy};
use iced::widget::{
    Id, button, checkbox, column, container, pick_list, row, scrollable, space, text, text_input,
};
use iced::{Alignment, Element, Length, Task};
use std::collections::{HashMap, HashSet};

/// The widget id of an account's card on this screen.
pub fn card_id(account: &AccountId) -> Id {
    Id::from(format!("settings-account-{account}"))
}

#[derive(Debug, Clone)]
pub enum Message {
    Back,
    /// Settings > General.
    General,
    AddAccount,
    Edit(AccountId),
    Form(edit::Message),
    SetEnabled(AccountId, bool),
    AskRemove(AccountId),
    DeleteHistoryToggled(bool),
    ConfirmRemove,
    CancelRemove,
    Reconnect(AccountId),
    Move(AccountId, Direction),
    AllShowPicked(ShowChoice),
    AllStatusInput(String),
    ApplyToAll,
    DismissError(AccountId),
    /// Unblock this address on this account (XEP-0191).
    Unblock(AccountId, xmpp_parsers::jid::Jid),
    /// The account on its server: password change, deletion (XEP-0077).
    Server(account_server::Message),
    /// Choose and publish a picture as this account's avatar.
    ChooseAvatar(AccountId),
    /// Our own profile (vCard), see `profile`.
    Profile(profile::Message),
    /// A picture chosen, dropped or pasted, made square and small (or why not): shown
    /// before it is published.
    AvatarPreview(AccountId, Result<std::sync::Arc<Vec<u8>>, String>),
    PublishAvatar,
    CancelAvatar,
    RemoveAvatar(AccountId),
    /// Picture files for an account's avatar (chosen, dropped or pasted).
    AvatarFiles(AccountId, Vec<std::path::PathBuf>),
    /// The server's answer to "Remove avatar".
    AvatarRemoved(AccountId, Result<(), String>),
}

/// Up or down the account list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// What the screen asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    Back,
    General,
    AddAccount,
    Save(edit::Saved),
    SetEnabled(AccountId, bool),
    Remove {
        account: AccountId,
        delete_history: bool,
    },
    Reconnect(AccountId),
    Move(AccountId, Direction),
    PresenceForAll {
        show: Show,
        status: Option<String>,
    },
    /// Unblock this address on this account.
    Unblock(AccountId, xmpp_parsers::jid::Jid),
    /// The account on its server (see `account_server`).
    Server(account_server::Event),
    ChooseAvatar(AccountId),
    /// Our own profile: load it, save it.
    Profile(profile::Event),
    /// Publish this PNG (made from the picture shown in the preview) as our avatar.
    PublishAvatar(AccountId, std::sync::Arc<Vec<u8>>),
    RemoveAvatar(AccountId),
    AvatarFiles(AccountId, Vec<std::path::PathBuf>),
    AvatarRemoved(AccountId, Result<(), String>),
}

#[derive(Debug, Clone)]
struct RemoveAsk {
    account: AccountId,
    delete_history: bool,
}

/// What the view borrows.
pub struct Context<'a> {
    pub lang: Lang,
    pub accounts: &'a [AccountState],
}

#[derive(Debug, Default)]
pub struct State {
    edit: Option<edit::Form>,
    remove: Option<RemoveAsk>,
    removing: HashSet<AccountId>,
    /// Problems of one account (saving, removing), shown on its card.
    errors: HashMap<AccountId, String>,
    all_show: Option<Show>,
    all_status: String,
    /// Password change and deletion on the server.
    server: account_server::State,
    /// Our own profile's form.
    profile: profile::State,
    /// Our own avatar's preview.
    avatar: avatar::State,
}

impl State {
    pub fn new() -> Self {
        State::default()
    }

    /// Opens the editor of an account (the "Fix" of a refused password focuses the
    /// password field).
    pub fn open_editor(&mut self, state: &AccountState) -> Task<Message> {
        self.remove = None;
        self.edit = Some(edit::Form::new(&state.account, state.allow_plain));
        let focus = match widgets::account_error(state) {
            Some(crate::session::SessionError::Auth { .. }) => edit::PASSWORD_ID,
            _ => edit::NAME_ID,
        };
        iced::widget::operation::focus(focus)
    }

    /// Esc: closes the open editor or removal question. False when none was open.
    pub fn escape(&mut self) -> bool {
        self.edit.take().is_some()
            || self.remove.take().is_some()
            || self.server.escape()
            || self.profile.escape()
    }

    /// Our own profile's form (for tests).
    pub fn profile(&self) -> &profile::State {
        &self.profile
    }

    /// Our own avatar's preview.
    pub fn avatar(&self) -> &avatar::State {
        &self.avatar
    }

    pub fn is_editing(&self, account: &AccountId) -> bool {
        self.edit.as_ref().is_some_and(|f| f.account() == account)
    }

    pub fn set_error(&mut self, account: AccountId, error: String) {
        self.errors.insert(account, error);
    }

    pub fn set_removing(&mut self, account: &AccountId, removing: bool) {
        if removing {
            self.removing.insert(account.clone());
        } else {
            self.removing.remove(account);
        }
    }

    /// The account is gone.
    pub fn forget(&mut self, account: &AccountId) {
        self.server.forget(account);
        self.profile.forget(account);
        self.avatar.forget(account);
        self.removing.remove(account);
        self.errors.remove(account);
        if self.is_editing(account) {
            self.edit = None;
        }
        if self.remove.as_ref().is_some_and(|r| &r.account == account) {
            self.remove = None;
        }
    }

    pub fn update(
        &mut self,
        message: Message,
        accounts: &[AccountState],
    ) -> (Task<Message>, Option<Event>) {
        let event = match message {
            Message::Back => Some(Event::Back),
            Message::General => Some(Event::General),
            Message::AddAccount => Some(Event::AddAccount),
            Message::Edit(account) => {
                if self.is_editing(&account) {
                    self.edit = None;
                    None
                } else if let Some(state) = accounts.iter().find(|a| a.account.id == account) {
                    return (self.open_editor(state), None);
                } else {
                    None
                }
            }
            Message::Form(message) => {
                let Some(form) = self.edit.as_mut() else {
                    return (Task::none(), None);
                };
                let (task, outcome) = form.update(message);
                let task = task.map(Message::Form);
                let event = match outcome {
                    Some(edit::Event::Saved(saved)) => {
                        self.edit = None;
                        self.errors.remove(&saved.account.id);
                        Some(Event::Save(*saved))
                    }
                    Some(edit::Event::Cancelled) => {
                        self.edit = None;
                        None
                    }
                    None => None,
                };
                return (task, event);
            }
            Message::SetEnabled(account, enabled) => Some(Event::SetEnabled(account, enabled)),
            Message::AskRemove(account) => {
                self.edit = None;
                self.remove = Some(RemoveAsk {
                    account,
                    delete_history: false,
                });
                None
            }
            Message::DeleteHistoryToggled(value) => {
                if let Some(ask) = &mut self.remove {
                    ask.delete_history = value;
                }
                None
            }
            Message::ConfirmRemove => self.remove.take().map(|ask| Event::Remove {
                account: ask.account,
                delete_history: ask.delete_history,
            }),
            Message::CancelRemove => {
                self.remove = None;
                None
            }
            Message::Reconnect(account) => Some(Event::Reconnect(account)),
            Message::Move(account, direction) => Some(Event::Move(account, direction)),
            Message::AllShowPicked(choice) => {
                self.all_show = Some(choice.show);
                None
            }
            Message::AllStatusInput(value) => {
                self.all_status = value;
                None
            }
            Message::ApplyToAll => {
                let show = self.all_show.unwrap_or(Show::Online);
                let status = self.all_status.trim().to_string();
                Some(Event::PresenceForAll {
                    show,
                    status: Some(status),
                })
            }
            Message::DismissError(account) => {
                self.errors.remove(&account);
                None
            }
            Message::Unblock(account, jid) => Some(Event::Unblock(account, jid)),
            Message::Server(message) => {
                let (task, event) = self.server.update(message, accounts);
                return (task.map(Message::Server), event.map(Event::Server));
            }
            Message::ChooseAvatar(account) => Some(Event::ChooseAvatar(account)),
            Message::AvatarPreview(account, made) => {
                self.avatar.show(account, made);
                None
            }
            Message::PublishAvatar => self
                .avatar
                .take()
                .map(|p| Event::PublishAvatar(p.account, p.png)),
            Message::CancelAvatar => {
                self.avatar.take();
                None
            }
            Message::RemoveAvatar(account) => Some(Event::RemoveAvatar(account)),
            Message::AvatarFiles(account, paths) => Some(Event::AvatarFiles(account, paths)),
            Message::AvatarRemoved(account, result) => Some(Event::AvatarRemoved(account, result)),
            Message::Profile(message) => {
                let (task, event) = self.profile.update(message);
                return (task.map(Message::Profile), event.map(Event::Profile));
            }
        };
        (Task::none(), event)
    }

    pub fn view<'a>(&'a self, cx: Context<'a>) -> Element<'a, Message> {
        let lang = cx.lang;
        let count = cx.accounts.len();
        let editing = self.edit.as_ref().and_then(|form| {
            cx.accounts
                .iter()
                .position(|a| &a.account.id == form.account())
        });
        let page = match editing {
            // The editor gets the page to itself, so it opens in view (also from
            // "Fix" in the sidebar) instead of below the fold of a long list.
            Some(index) => {
                let back = button(text(tr(lang, T::BackToAccounts)).size(14))
                    .padding([4, 0])
                    .style(theme::link_button)
                    .on_press(Message::Form(edit::Message::Cancel));
                let mut page = column![back].spacing(12);
                if let Some(state) = cx.accounts.get(index) {
                    page = page.push(self.account_card(lang, state, index, count));
                }
                page
            }
            None => {
                let mut page = column![
                    row![
                        button(text(tr(lang, T::BackToChats)).size(14))
                            .padding([4, 0])
                            .style(theme::link_button)
                            .on_press(Message::Back),
                        space().width(Length::Fill),
                        button(text(tr(lang, T::GeneralSettings)).size(14))
                            .padding([6, 14])
                            .style(theme::secondary_button)
                            .on_press(Message::General),
                        button(text(tr(lang, T::AddAccount)).size(14))
                            .padding([6, 14])
                            .style(theme::primary_button)
                            .on_press(Message::AddAccount),
                    ]
                    .spacing(8)
                    .align_y(Alignment::Center),
                    text(tr(lang, T::AccountsTitle))
                        .size(24)
                        .style(theme::heading),
                    text(tr(lang, T::AccountsIntro))
                        .size(14)
                        .style(theme::muted),
                ]
                .spacing(12);
                if count > 1 {
                    page = page.push(self.presence_for_all(lang));
                }
                for (index, state) in cx.accounts.iter().enumerate() {
                    page = page.push(self.account_card(lang, state, index, count));
                }
                page
            }
        };
        scrollable(
            container(container(page).max_width(760))
                .center_x(Length::Fill)
                .padding([24, 24]),
        )
        .height(Length::Fill)
        .into()
    }

    fn presence_for_all(&self, lang: Lang) -> Element<'_, Message> {
        let selected = Some(ShowChoice {
            show: self.all_show.unwrap_or(Show::Online),
            lang,
        });
        container(
            column![
                text(tr(lang, T::PresenceForAll)).size(14),
                row![
                    pick_list(ShowChoice::all(lang), selected, Message::AllShowPicked)
                        .placeholder(tr(lang, T::ShowOnline))
                        .text_size(14)
                        .padding([5, 8]),
                    text_input(tr(lang, T::StatusPlaceholder), &self.all_status)
                        .on_input(Message::AllStatusInput)
                        .on_submit(Message::ApplyToAll)
                        .size(14)
                        .padding(6)
                        .style(theme::input),
                    button(text(tr(lang, T::ApplyToAll)).size(14))
                        .padding([6, 12])
                        .style(theme::secondary_button)
                        .on_press(Message::ApplyToAll),
                ]
                .spacing(8)
                .align_y(Alignment::Center),
            ]
            .spacing(8),
        )
        .padding(12)
        .width(Length::Fill)
        .style(theme::card)
        .into()
    }

    fn account_card<'a>(
        &'a self,
        lang: Lang,
        state: &'a AccountState,
        index: usize,
        count: usize,
    ) -> Element<'a, Message> {
        let account = &state.account;
        let id = &account.id;
        let label = account.label();
        let mut names = column![text(label.clone()).size(17).style(theme::heading)].spacing(2);
        if label != account.jid.as_str() {
            names = names.push(text(account.jid.as_str()).size(12).style(theme::muted));
        }
        let mut title = row![
            widgets::chip(account.colour(), 14),
            names.width(Length::Fill)
        ]
        .spacing(10)
        .align_y(Alignment::Center);
        let unread = state.unread_total();
        if unread > 0 {
            title = title.push(widgets::unread(unread, false));
        }
        let small = |key: T, message: Option<Message>| {
            button(text(tr(lang, key)).size(13))
                .padding([2, 6])
                .style(theme::link_button)
                .on_press_maybe(message)
        };
        let editing = self.is_editing(id);
        if count > 1 && !editing {
            title = title
                .push(small(
                    T::MoveUp,
                    (index > 0).then(|| Message::Move(id.clone(), Direction::Up)),
                ))
                .push(small(
                    T::MoveDown,
                    (index + 1 < count).then(|| Message::Move(id.clone(), Direction::Down)),
                ));
        }

        let (line, style) = widgets::connection_line(lang, state);
        let mut status = row![text(line).size(14).style(style).width(Length::Fill)]
            .spacing(8)
            .align_y(Alignment::Center);
        match widgets::remedy(state) {
            Some(Remedy::Fix) if !editing => {
                status = status.push(
                    button(text(tr(lang, T::Fix)).size(13))
                        .padding([4, 12])
                        .style(theme::primary_button)
                        .on_press(Message::Edit(id.clone())),
                );
            }
            Some(Remedy::Reconnect) => {
                status = status.push(
                    button(text(tr(lang, T::Reconnect)).size(13))
                        .padding([4, 12])
                        .style(theme::secondary_button)
                        .on_press(Message::Reconnect(id.clone())),
                );
            }
            _ => {}
        }
        let mut card = column![title, status].spacing(8);

        if let Some(error) = self.errors.get(id) {
            card = card.push(
                container(
                    row![
                        text(error).size(13).width(Length::Fill),
                        button(text(tr(lang, T::Dismiss)).size(13))
                            .style(theme::link_button)
                            .on_press(Message::DismissError(id.clone())),
                    ]
                    .align_y(Alignment::Center),
                )
                .padding(8)
                .style(theme::error_box),
            );
        }

        let removing = self.removing.contains(id);
        if editing {
            // The editor below has its own Save / Cancel.
        } else if removing {
            card = card.push(text(tr(lang, T::Removing)).size(13).style(theme::muted));
        } else if let Some(ask) = self.remove.as_ref().filter(|r| &r.account == id) {
            card = card.push(
                container(
                    column![
                        text(trf(lang, T::RemoveAccountQuestion, &[("account", &label)])).size(14),
                        checkbox(ask.delete_history)
                            .label(tr(lang, T::AlsoDeleteHistory))
                            .text_size(13)
                            .on_toggle(Message::DeleteHistoryToggled),
                        crate::ui::widgets::confirm_buttons(
                            lang,
                            T::RemoveAccount,
                            Message::ConfirmRemove,
                            Message::CancelRemove,
                        ),
                    ]
                    .spacing(8),
                )
                .padding(10)
                .width(Length::Fill)
                .style(theme::notice_box),
            );
        } else {
            let (toggle, enabled) = if account.enabled {
                (T::Disable, false)
            } else {
                (T::Enable, true)
            };
            card = card.push(
                row![
                    button(text(tr(lang, T::Edit)).size(13))
                        .style(theme::secondary_button)
                        .on_press(Message::Edit(id.clone())),
                    button(text(tr(lang, toggle)).size(13))
                        .style(theme::secondary_button)
                        .on_press(Message::SetEnabled(id.clone(), enabled)),
                    button(text(tr(lang, T::RemoveAccount)).size(13))
                        .style(theme::danger_button)
                        .on_press(Message::AskRemove(id.clone())),
                ]
                .spacing(8),
            );
        }
        if !editing && !removing && state.is_online() {
            card = card.push(self.avatar.view(lang, state));
            card = card.push(self.profile.view(lang, state, Message::Profile));
            card = card.push(blocked::view(lang, state));
        }
        if !editing && !removing {
            card = card.push(self.server.view(lang, state, Message::Server));
        }
        if let Some(form) = self.edit.as_ref().filter(|f| f.account() == id) {
            let problem = widgets::account_error(state).filter(|e| widgets::needs_fix(e));
            card = card.push(form.view(lang, problem).map(Message::Form));
        }

        container(card)
            .id(card_id(id))
            .padding(14)
            .width(Length::Fill)
            .style(if widgets::account_error(state).is_some() {
                theme::card_error
            } else {
                theme::card
            })
            .into()
    }
}
