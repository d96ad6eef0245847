//! What the app does for several accounts: the account settings (edit, enable, order,
//! remove), presence for all accounts, the inbox filter, and which account writes to a
//! contact that is in more than one roster.

use crate::ids::AccountId;
use crate::model::{Account, Show};
use crate::session::Command;
use crate::ui::app::account_state::AccountState;
use crate::ui::app::startup::{FILTER_KEY, blocking, send_as_key};
use crate::ui::i18n::{T, tr, trf};
use crate::ui::screen::onboarding;
use crate::ui::screen::settings::{self, Direction};
use crate::ui::{App, Message, Screen};
use iced::Task;
use xmpp_parsers::jid::BareJid;

impl App {
    pub(in crate::ui) fn on_settings(&mut self, event: settings::Event) -> Task<Message> {
        match event {
            settings::Event::Back => self.screen = Screen::Main,
            settings::Event::General => self.open_general(),
            settings::Event::AddAccount => {
                let existing = self
                    .accounts
                    .iter()
                    .map(|a| a.account.jid.clone())
                    .collect();
                self.onboarding = onboarding::State::adding(existing);
                self.screen = Screen::Onboarding;
                return iced::widget::operation::focus(onboarding::ADDRESS_ID);
            }
            settings::Event::Save(saved) => return self.save_edit(saved),
            settings::Event::SetEnabled(account, enabled) => {
                return self.set_enabled(&account, enabled);
            }
            settings::Event::Remove {
                account,
                delete_history,
            } => return self.remove(account, delete_history),
            settings::Event::Reconnect(account) => self.reconnect(&account),
            settings::Event::Unblock(account, jid) => {
                let command = Command::Unblock { jids: vec![jid] };
                if self.send(&account, command).is_err() {
                    self.notice(tr(self.lang, T::CommandNotConnected).to_owned());
                }
            }
            settings::Event::ChooseAvatar(account) => return self.choose_avatar(account),
            settings::Event::Move(account, direction) => {
                return self.move_account(&account, direction);
            }
            settings::Event::PresenceForAll { show, status } => self.presence_for_all(show, status),
            settings::Event::Server(event) => return self.on_account_server(event),
            settings::Event::Profile(event) => return self.on_own_profile(event),
            settings::Event::PublishAvatar(account, png) => self.publish_avatar(account, png),
            settings::Event::RemoveAvatar(account) => return self.remove_avatar(account),
            settings::Event::AvatarFiles(account, paths) => {
                return self.avatar_files(account, paths);
            }
            settings::Event::AvatarRemoved(account, result) => self.avatar_removed(account, result),
        }
        Task::none()
    }

    /// Drops the account's session and starts a fresh one (new subscription key).
    pub(in crate::ui) fn reconnect(&mut self, account: &AccountId) {
        self.handles.remove(account);
        if let Some(state) = self.account_mut(account) {
            state.reconnect();
        }
    }

    /// Ends the session now: its subscription goes away with the next
    /// `subscription()`; the Disconnect lets it say goodbye if it gets there first.
    fn stop_session(&mut self, account: &AccountId) {
        if let Some(handle) = self.handles.remove(account) {
            let _ = handle.send(Command::Disconnect);
        }
        if let Some(state) = self.account_mut(account) {
            state.clear_presences();
        }
    }

    /// The same availability on every enabled account; `status` replaces each status
    /// message when given. Accounts not online get it when they come online.
    pub(in crate::ui) fn presence_for_all(&mut self, show: Show, status: Option<String>) {
        let mut failed = Vec::new();
        for state in self.accounts.iter_mut().filter(|a| a.account.enabled) {
            state.own_show = show;
            if let Some(status) = &status {
                state.own_status = status.clone();
            }
            if !state.is_online() {
                continue;
            }
            let command = Command::SetPresence {
                show,
                status: (!state.own_status.is_empty()).then(|| state.own_status.clone()),
            };
            let sent = self
                .handles
                .get(&state.account.id)
                .is_some_and(|handle| handle.send(command).is_ok());
            if !sent {
                failed.push(state.account.id.clone());
            }
        }
        for account in failed {
            self.sidebar.set_error(account, T::CommandNotConnected);
        }
    }

    /// Saves what the editor changed. Name and colour apply at once without touching
    /// the session; a new password, server or trust starts a fresh session.
    fn save_edit(&mut self, saved: settings::edit::Saved) -> Task<Message> {
        let id = saved.account.id.clone();
        let Some(state) = self.account_mut(&id) else {
            return Task::none();
        };
        let edited = saved.account;
        let plain_changed = state.allow_plain != saved.allow_plain;
        let reconnect = saved.password.is_some()
            || plain_changed
            || state.account.server != edited.server
            || state.account.trust != edited.trust;
        state.allow_plain = saved.allow_plain;
        // Only the editable fields: position and enabled may have changed meanwhile.
        state.account.display_name = edited.display_name;
        state.account.color = edited.color;
        state.account.server = edited.server;
        state.account.trust = edited.trust;
        let account = state.account.clone();
        let mut tasks = vec![self.save_account_task(vec![account])];
        if plain_changed {
            tasks.push(self.save_allow_plain_task(&id, saved.allow_plain));
        }
        if let Some(password) = saved.password {
            if let Some(state) = self.account_mut(&id) {
                state.password = Some(password.clone());
            }
            tasks.push(self.save_password_task(&id, password));
        }
        if reconnect {
            self.reconnect(&id);
        }
        Task::batch(tasks)
    }

    pub(in crate::ui) fn save_password_task(
        &mut self,
        id: &AccountId,
        password: String,
    ) -> Task<Message> {
        match self.secrets.clone() {
            Some(secrets) => {
                let id = id.clone();
                Task::perform(
                    blocking(move || secrets.set(&id, &password).map_err(|e| e.to_string())),
                    |result| Message::PasswordSaved(result.and_then(|r| r)),
                )
            }
            None => {
                let detail = self
                    .keyring_error
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "no keyring".into());
                self.notice(trf(
                    self.lang,
                    T::KeyringUnavailable,
                    &[("detail", &detail)],
                ));
                Task::none()
            }
        }
    }

    /// Writes the account's "allow PLAIN login" preference off the UI thread (the
    /// session reads it when it connects).
    pub(in crate::ui) fn save_allow_plain_task(
        &self,
        id: &AccountId,
        allow: bool,
    ) -> Task<Message> {
        let Some(store) = self.store.clone() else {
            return Task::none();
        };
        let key = crate::session::connect::allow_plain_pref(id);
        Task::perform(
            blocking(move || {
                if allow {
                    store.set_pref(&key, "true")
                } else {
                    store.remove_pref(&key)
                }
                .map_err(|e| e.to_string())
            }),
            |result| Message::PrefSaved(result.and_then(|r| r)),
        )
    }

    /// Writes account records off the UI thread.
    fn save_account_task(&self, accounts: Vec<Account>) -> Task<Message> {
        let Some(store) = self.store.clone() else {
            return Task::none();
        };
        Task::perform(
            blocking(move || {
                accounts
                    .iter()
                    .try_for_each(|account| store.save_account(account))
                    .map_err(|e| e.to_string())
            }),
            |result| Message::AccountSaved(result.and_then(|r| r)),
        )
    }

    /// Disabling drops the account's subscription, so its session ends; enabling
    /// starts a fresh one.
    pub(in crate::ui) fn set_enabled(
        &mut self,
        account: &AccountId,
        enabled: bool,
    ) -> Task<Message> {
        if !enabled {
            self.stop_session(account);
        }
        let Some(state) = self.account_mut(account) else {
            return Task::none();
        };
        state.account.enabled = enabled;
        if enabled {
            state.reconnect();
        }
        let saved = state.account.clone();
        self.save_account_task(vec![saved])
    }

    /// Moves an account up or down the list; positions are renumbered and saved.
    fn move_account(&mut self, account: &AccountId, direction: Direction) -> Task<Message> {
        let Some(index) = self.accounts.iter().position(|a| &a.account.id == account) else {
            return Task::none();
        };
        let other = match direction {
            Direction::Up => index.checked_sub(1),
            Direction::Down => Some(index + 1).filter(|i| *i < self.accounts.len()),
        };
        let Some(other) = other else {
            return Task::none();
        };
        self.accounts.swap(index, other);
        let mut changed = Vec::new();
        for (position, state) in self.accounts.iter_mut().enumerate() {
            let position = u32::try_from(position).unwrap_or(u32::MAX);
            if state.account.position != position {
                state.account.position = position;
                changed.push(state.account.clone());
            }
        }
        self.save_account_task(changed)
    }

    /// Stops the account's session, then removes its keyring entry and records (and
    /// history when asked) off the UI thread; the account leaves the screen once that
    /// worked.
    fn remove(&mut self, account: AccountId, delete_history: bool) -> Task<Message> {
        let Some(was_enabled) = self.account_state(&account).map(|s| s.account.enabled) else {
            return Task::none();
        };
        self.stop_session(&account);
        if let Some(state) = self.account_mut(&account) {
            state.account.enabled = false;
        }
        self.settings.set_removing(&account, true);
        let (store, secrets, id) = (self.store.clone(), self.secrets.clone(), account.clone());
        Task::perform(
            blocking(move || match &store {
                Some(store) => {
                    crate::accounts::remove_account(store, secrets.as_deref(), &id, delete_history)
                        .map_err(|e| e.to_string())
                }
                None => match &secrets {
                    Some(secrets) => secrets.delete(&id).map_err(|e| e.to_string()),
                    None => Ok(()),
                },
            }),
            move |result| Message::AccountRemoved {
                account: account.clone(),
                was_enabled,
                result: result.and_then(|r| r),
            },
        )
    }

    pub(in crate::ui) fn account_removed(
        &mut self,
        account: AccountId,
        was_enabled: bool,
        result: Result<(), String>,
    ) -> Task<Message> {
        self.settings.set_removing(&account, false);
        if let Err(detail) = result {
            if let Some(state) = self.account_mut(&account) {
                state.account.enabled = was_enabled;
                if was_enabled {
                    state.reconnect();
                }
            }
            let text = trf(self.lang, T::RemoveFailed, &[("detail", &detail)]);
            self.settings.set_error(account, text);
            return Task::none();
        }
        self.accounts.retain(|a| a.account.id != account);
        self.handles.remove(&account);
        if self.main.chat().is_some_and(|c| c.account == account) {
            self.main.close_chat();
        }
        self.sidebar.forget(&account);
        self.settings.forget(&account);
        self.send_as
            .retain(|_, chosen| chosen.as_ref() != Some(&account));
        if self.accounts.is_empty() {
            self.onboarding = onboarding::State::new();
            self.screen = Screen::Onboarding;
            return iced::widget::operation::focus(onboarding::ADDRESS_ID);
        }
        Task::none()
    }

    /// Remembers the inbox filter, off the UI thread.
    pub(in crate::ui) fn filter_changed(&self, filter: Option<AccountId>) -> Task<Message> {
        let Some(store) = self.store.clone() else {
            return Task::none();
        };
        Task::perform(
            blocking(move || {
                match &filter {
                    Some(account) => store.set_pref(FILTER_KEY, &account.0),
                    None => store.remove_pref(FILTER_KEY),
                }
                .map_err(|e| e.to_string())
            }),
            |result| Message::PrefSaved(result.and_then(|r| r)),
        )
    }

    /// The accounts with this contact in their roster, in the user's order.
    fn rosters_with(&self, peer: &BareJid) -> Vec<&AccountState> {
        self.accounts.iter().filter(|a| a.in_roster(peer)).collect()
    }

    /// Opens a contact from the contact list: from the account last chosen for it,
    /// else the first account that is online, else the first that has it.
    pub(in crate::ui) fn open_contact(&mut self, peer: BareJid) -> Task<Message> {
        let candidates = self.rosters_with(&peer);
        let Some(first) = candidates.first() else {
            return Task::none();
        };
        if let Some((open, _)) = self.current_conversation().filter(|(_, p)| *p == &peer)
            && candidates.iter().any(|c| &c.account.id == open)
        {
            return Task::none();
        }
        let account = if candidates.len() == 1 {
            first.account.id.clone()
        } else {
            match self.send_as.get(&peer) {
                Some(Some(chosen)) if candidates.iter().any(|c| &c.account.id == chosen) => {
                    chosen.clone()
                }
                None if self.store.is_some() => return self.load_send_as(peer),
                _ => candidates
                    .iter()
                    .find(|c| c.is_online())
                    .unwrap_or(first)
                    .account
                    .id
                    .clone(),
            }
        };
        self.open_conversation(account, peer)
    }

    /// Reads the remembered choice for a contact off the UI thread, then opens it.
    fn load_send_as(&self, peer: BareJid) -> Task<Message> {
        let Some(store) = self.store.clone() else {
            return Task::none();
        };
        let key = send_as_key(&peer);
        Task::perform(
            blocking(move || store.pref(&key).map_err(|e| e.to_string())),
            move |result| {
                let account = match result.and_then(|r| r) {
                    Ok(value) => value.map(AccountId),
                    Err(e) => {
                        log::warn!("send-as preference of {peer}: {e}");
                        None
                    }
                };
                Message::SendAsLoaded {
                    peer: peer.clone(),
                    account,
                }
            },
        )
    }

    pub(in crate::ui) fn send_as_loaded(
        &mut self,
        peer: BareJid,
        account: Option<AccountId>,
    ) -> Task<Message> {
        let known = account.filter(|a| self.account_state(a).is_some_and(|s| s.in_roster(&peer)));
        self.send_as.insert(peer.clone(), known);
        self.open_contact(peer)
    }

    /// Continues the open conversation from another account (its draft comes along),
    /// and remembers the choice for this contact.
    pub(in crate::ui) fn write_as(&mut self, account: AccountId) -> Task<Message> {
        let Some(open) = self.main.chat() else {
            return Task::none();
        };
        let peer = open.conversation.jid().clone();
        let draft = open.composer_text();
        let from = open.account.clone();
        if !self
            .account_state(&account)
            .is_some_and(|s| s.in_roster(&peer))
        {
            return Task::none();
        }
        self.send_as.insert(peer.clone(), Some(account.clone()));
        let opened = self.open_conversation(account.clone(), peer.clone());
        if let Some(open) = self.main.chat_mut() {
            open.set_draft(&draft);
        }
        // The draft moved with the conversation.
        self.forget_draft(&from, &peer);
        let Some(store) = self.store.clone() else {
            return opened;
        };
        let remember = Task::perform(
            blocking(move || {
                store
                    .set_pref(&send_as_key(&peer), &account.0)
                    .map_err(|e| e.to_string())
            }),
            |result| Message::PrefSaved(result.and_then(|r| r)),
        );
        Task::batch([opened, remember])
    }
}
