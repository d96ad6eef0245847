//! What the app does for the profile panel (`screen::profile`): opens it in the main
//! area, fetches the profile on the account's session, and carries out its actions.

use crate::ids::AccountId;
use crate::ui::i18n::T;
use crate::ui::screen::main_area::MainArea;
use crate::ui::screen::profile::{self, Event};
use crate::ui::{App, Message};
use iced::Task;
use xmpp_parsers::jid::BareJid;

impl App {
    /// Shows `jid`'s profile as `account` knows it and asks for the rest.
    pub(in crate::ui) fn open_profile(
        &mut self,
        account: AccountId,
        jid: BareJid,
    ) -> Task<Message> {
        self.main = MainArea::Profile(Box::new(profile::State::new(account.clone(), jid.clone())));
        let clients = self
            .account_state(&account)
            .map(|s| s.online_clients(&jid))
            .unwrap_or_default();
        let Some(handle) = self.handles.get(&account).cloned() else {
            let empty = crate::session::profile::Profile {
                not_connected: true,
                ..Default::default()
            };
            return Task::done(Message::Profile(profile::Message::Loaded(
                account,
                jid,
                Box::new(empty),
            )));
        };
        Task::perform(
            async move {
                let p = crate::session::profile::fetch(&handle, &jid, &clients).await;
                (account, jid, p)
            },
            |(account, jid, p)| {
                Message::Profile(profile::Message::Loaded(account, jid, Box::new(p)))
            },
        )
    }

    pub(in crate::ui) fn on_profile(&mut self, message: profile::Message) -> Task<Message> {
        let MainArea::Profile(panel) = &mut self.main else {
            return Task::none();
        };
        match panel.update(message) {
            None => Task::none(),
            Some(Event::Close) => {
                self.main = MainArea::Nothing;
                Task::none()
            }
            Some(Event::StartChat(account, jid)) => self.open_conversation(account, jid),
            Some(Event::Edit(account, jid)) => {
                let name = self
                    .account_state(&account)
                    .and_then(|s| s.contacts.get(&jid))
                    .and_then(|c| c.name.clone())
                    .unwrap_or_default();
                let message = crate::ui::screen::sidebar::Message::StartEdit(account, jid, name);
                let _ = self.sidebar.update(message, &self.accounts);
                Task::none()
            }
            Some(Event::Command(account, command)) => {
                if self.send(&account, command).is_err() {
                    self.sidebar.set_error(account, T::CommandNotConnected);
                }
                Task::none()
            }
        }
    }
}
