//! The left panel, one inbox across accounts: the account filter, each account's
//! connection and own presence, contact requests, recent conversations and group chat
//! rooms together (rooms marked "#", with unread and mention counts) and contacts of
//! every account (each line says which account it belongs to), with adding, renaming
//! and removing contacts, and the way to join a room.

mod cards;
pub mod groups;
pub mod lazy;
mod lists;
mod requests;

use crate::ids::AccountId;
use crate::model::Show;
use crate::session::Command;
use crate::ui::app::account_state::AccountState;
use crate::ui::i18n::{Lang, T, tr};
use crate::ui::screen::onboarding::parse_address;
use iced::widget::{column, container, scrollable};
use iced::{Element, Length};
use std::collections::HashMap;
use std::fmt;
use xmpp_parsers::jid::BareJid;

pub use cards::{account_card_id, filter_id};

/// The widget id of the sidebar's scrolling part.
pub const SCROLL_ID: &str = "sidebar-scroll";
pub use lists::room_label;

#[derive(Debug, Clone)]
pub enum Message {
    /// Show every account (`None`) or one.
    Filter(Option<AccountId>),
    /// A conversation line: that account, that peer.
    Open(AccountId, BareJid),
    /// A contact line: the app picks the account to write from.
    OpenContact(BareJid),
    /// The "Join a group chat" button of the conversation list.
    JoinRoom,
    OpenAccounts,
    Fix(AccountId),
    Enable(AccountId),
    PasswordInput(AccountId, String),
    SubmitPassword(AccountId),
    Reconnect(AccountId),
    ShowPicked(AccountId, ShowChoice),
    ShowPickedForAll(ShowChoice),
    StatusInput(AccountId, String),
    SubmitStatus(AccountId),
    StartAdd,
    AddAccountPicked(AccountId),
    AddJidInput(String),
    AddNameInput(String),
    SubmitAdd,
    StartEdit(AccountId, BareJid, String),
    EditAccountPicked(AccountId),
    EditNameInput(String),
    /// The contact's groups as typed in its edit form (comma-separated).
    EditGroupsInput(String),
    SubmitRename,
    AskRemove,
    ConfirmRemove,
    CancelForm,
    Answer(AccountId, BareJid, bool),
    /// An action on a request from a stranger (a chat or a contact request).
    Request(AccountId, BareJid, RequestAction),
    DismissError(AccountId),
    /// Contact groups: open/close a section, rename a group.
    Groups(groups::Message),
    /// A contact's profile (from its edit form).
    OpenProfile(AccountId, BareJid),
    /// A chunk of a long list came near the screen or left it (`lazy.rs`).
    Lines(lazy::Seen),
}

/// What the user does with a request (the quiet box, `crate::quiet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestAction {
    /// Add them as a contact (with a subscription): their chat moves to the inbox.
    Accept,
    /// Block them, with a spam report where the server takes them.
    Block { report: bool },
    /// Delete their conversation on this device.
    Delete,
}

/// What the sidebar asks of the app.
#[derive(Debug, Clone)]
pub enum Event {
    Open {
        account: AccountId,
        peer: BareJid,
    },
    /// Open a contact that may be in several accounts: the app chooses which.
    OpenContact(BareJid),
    /// Open the join dialog (from the account the list is filtered to, if any).
    JoinRoom(Option<AccountId>),
    /// Send this command to the account's session.
    Command {
        account: AccountId,
        command: Command,
    },
    /// Show this contact's profile.
    OpenProfile {
        account: AccountId,
        jid: BareJid,
    },
    /// Send these commands, each to its account's session (a group renamed in every
    /// shown account).
    Commands(Vec<(AccountId, Command)>),
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
    /// The same availability for every account (each keeps its status message).
    PresenceForAll(Show),
    /// A contact request was answered (also sent as a command).
    Answered {
        account: AccountId,
        jid: BareJid,
        accept: bool,
    },
    /// An action on a request from a stranger.
    Request {
        account: AccountId,
        jid: BareJid,
        action: RequestAction,
    },
    /// Settings > Accounts.
    OpenAccounts,
    /// Settings > Accounts with this account's editor open.
    Fix(AccountId),
    /// Turn a disabled account back on.
    Enable(AccountId),
    /// The filter changed (the app remembers it).
    FilterChanged(Option<AccountId>),
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

impl ShowChoice {
    /// Every availability a person can choose, most available first.
    pub fn all(lang: Lang) -> Vec<ShowChoice> {
        [
            Show::Chat,
            Show::Online,
            Show::Away,
            Show::ExtendedAway,
            Show::DoNotDisturb,
            Show::Offline,
        ]
        .into_iter()
        .map(|show| ShowChoice { show, lang })
        .collect()
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
    /// Its groups as typed, and as they were when the form opened.
    groups: String,
    groups_before: String,
}

/// What the borrowed view needs to know.
pub struct Context<'a> {
    pub lang: Lang,
    /// Every account, in the user's order.
    pub accounts: &'a [AccountState],
    /// The conversation or room on screen.
    pub open: Option<(&'a AccountId, &'a BareJid)>,
}

impl Context<'_> {
    /// Several accounts: lines name their account and the filter shows.
    fn multi(&self) -> bool {
        self.accounts.len() > 1
    }
}

#[derive(Debug, Default)]
pub struct State {
    filter: Option<AccountId>,
    add: Option<AddForm>,
    edit: Option<EditForm>,
    passwords: HashMap<AccountId, String>,
    statuses: HashMap<AccountId, String>,
    /// A problem with one account (e.g. "not connected"), shown on its card only.
    errors: HashMap<AccountId, T>,
    /// Contact group sections (collapsed ones, a rename).
    groups: groups::Groups,
    /// The chunks of the long lists built now (near the screen).
    near: lazy::Near,
}

impl State {
    pub fn new() -> Self {
        State::default()
    }

    /// The sidebar as it was left: showing all accounts or one.
    pub fn with_filter(filter: Option<AccountId>) -> Self {
        State {
            filter,
            ..State::default()
        }
    }

    /// The add-contact form, when open: the address and name typed so far.
    pub fn adding(&self) -> Option<(&str, &str)> {
        self.add.as_ref().map(|f| (f.jid.as_str(), f.name.as_str()))
    }

    pub fn filter(&self) -> Option<&AccountId> {
        self.filter.as_ref()
    }

    /// Shows a problem on the account's card (e.g. "not connected").
    pub fn set_error(&mut self, account: AccountId, error: T) {
        self.errors.insert(account, error);
    }

    /// The account is gone: forget everything about it.
    pub fn forget(&mut self, account: &AccountId) {
        if self.filter.as_ref() == Some(account) {
            self.filter = None;
        }
        if self.add.as_ref().and_then(|f| f.account.as_ref()) == Some(account) {
            self.add = None;
        }
        if self.edit.as_ref().is_some_and(|f| &f.account == account) {
            self.edit = None;
        }
        self.passwords.remove(account);
        self.statuses.remove(account);
        self.errors.remove(account);
    }

    /// The accounts whose things the sidebar shows.
    fn visible<'a>(&self, accounts: &'a [AccountState]) -> Vec<&'a AccountState> {
        accounts
            .iter()
            .filter(|a| self.filter.as_ref().is_none_or(|f| &a.account.id == f))
            .collect()
    }

    pub fn update(&mut self, message: Message, accounts: &[AccountState]) -> Option<Event> {
        match message {
            Message::Filter(filter) => {
                if filter
                    .as_ref()
                    .is_some_and(|f| !accounts.iter().any(|a| &a.account.id == f))
                {
                    return None;
                }
                self.filter = filter.clone();
                self.add = None;
                self.edit = None;
                return Some(Event::FilterChanged(filter));
            }
            Message::Open(account, peer) => return Some(Event::Open { account, peer }),
            Message::OpenContact(peer) => {
                // Filtered to one account: write from that one.
                if let Some(account) = &self.filter
                    && accounts
                        .iter()
                        .any(|a| &a.account.id == account && a.in_roster(&peer))
                {
                    return Some(Event::Open {
                        account: account.clone(),
                        peer,
                    });
                }
                return Some(Event::OpenContact(peer));
            }
            Message::JoinRoom => return Some(Event::JoinRoom(self.filter.clone())),
            Message::OpenAccounts => return Some(Event::OpenAccounts),
            Message::Fix(account) => return Some(Event::Fix(account)),
            Message::Enable(account) => return Some(Event::Enable(account)),
            Message::PasswordInput(account, value) => {
                self.passwords.insert(account, value);
            }
            Message::SubmitPassword(account) => {
                let password = self.passwords.remove(&account).unwrap_or_default();
                if !password.is_empty() {
                    return Some(Event::Password { account, password });
                }
            }
            Message::Reconnect(account) => {
                self.errors.remove(&account);
                return Some(Event::Reconnect(account));
            }
            Message::ShowPicked(account, choice) => {
                let status = self.status_of(&account, accounts);
                return Some(Event::OwnPresence {
                    account,
                    show: choice.show,
                    status,
                });
            }
            Message::ShowPickedForAll(choice) => return Some(Event::PresenceForAll(choice.show)),
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
            Message::StartAdd => {
                self.edit = None;
                let account = self.filter.clone().or_else(|| default_account(accounts));
                self.add = Some(AddForm {
                    account,
                    ..AddForm::default()
                });
            }
            Message::AddAccountPicked(account) => {
                if let Some(form) = &mut self.add {
                    form.account = Some(account);
                }
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
                let groups = accounts
                    .iter()
                    .find(|a| a.account.id == account)
                    .and_then(|a| a.contacts.get(&jid))
                    .map(|c| groups::join(&c.groups))
                    .unwrap_or_default();
                self.edit = Some(EditForm {
                    account,
                    jid,
                    name,
                    confirm_remove: false,
                    groups_before: groups.clone(),
                    groups,
                });
            }
            Message::EditGroupsInput(value) => {
                if let Some(form) = &mut self.edit {
                    form.groups = value;
                }
            }
            Message::OpenProfile(account, jid) => {
                self.edit = None;
                return Some(Event::OpenProfile { account, jid });
            }
            Message::Groups(message) => {
                let visible = self.visible(accounts);
                return self.groups.update(message, &visible);
            }
            Message::Lines(seen) => self.near.update(seen),
            Message::EditAccountPicked(account) => {
                if let Some(form) = &mut self.edit {
                    form.account = account;
                    form.confirm_remove = false;
                }
            }
            Message::EditNameInput(value) => {
                if let Some(form) = &mut self.edit {
                    form.name = value;
                }
            }
            Message::SubmitRename => {
                let form = self.edit.take()?;
                let name = form.name.trim();
                let groups = groups::parse(&form.groups);
                if groups != groups::parse(&form.groups_before) {
                    return Some(Event::Command {
                        account: form.account,
                        command: Command::SetContactGroups {
                            jid: form.jid,
                            name: (!name.is_empty()).then(|| name.to_string()),
                            groups,
                        },
                    });
                }
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
            Message::Request(account, jid, action) => {
                self.edit = None;
                return Some(Event::Request {
                    account,
                    jid,
                    action,
                });
            }
            Message::DismissError(account) => {
                self.errors.remove(&account);
            }
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
        let visible = self.visible(cx.accounts);
        let mut content = column![].spacing(14).padding(12);
        if cx.multi() {
            content = content.push(cards::top_bar(cx, self.filter.as_ref()));
        }
        for state in &visible {
            content = content.push(cards::account_card(
                cx,
                state,
                self.passwords.get(&state.account.id),
                self.statuses.get(&state.account.id),
                self.errors.get(&state.account.id).copied(),
            ));
        }
        if requests::count(&visible) > 0 {
            content = content.push(requests::view(cx, &visible));
        }
        content = content.push(lists::conversations(cx, &visible, &self.near));
        content = content.push(lists::contacts(
            cx,
            &visible,
            self.add.as_ref(),
            self.edit.as_ref(),
            &self.groups,
            &self.near,
        ));
        container(scrollable(content).height(Length::Fill).id(SCROLL_ID))
            .width(300)
            .height(Length::Fill)
            .style(crate::ui::theme::sidebar)
            .into()
    }
}

/// The account new contacts go to by default: the first one online, else the first.
fn default_account(accounts: &[AccountState]) -> Option<AccountId> {
    accounts
        .iter()
        .find(|a| a.is_online())
        .or_else(|| accounts.first())
        .map(|a| a.account.id.clone())
}
