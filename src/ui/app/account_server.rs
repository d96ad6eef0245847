//! What the app does for Settings > Accounts > "On the server" (XEP-0077): runs the
//! password change and the deletion on the account's session, and acts on the outcome
//! (the new password for the next sessions; a deleted account leaves the app).

use crate::session::register::{self, ChangeError, RemoveError};
use crate::ui::screen::settings::{self, account_server};
use crate::ui::{App, Message};
use crate::xmpp::register::RegisterError;
use iced::Task;

fn back(message: account_server::Message) -> Message {
    Message::Settings(settings::Message::Server(message))
}

impl App {
    pub(in crate::ui) fn on_account_server(
        &mut self,
        event: account_server::Event,
    ) -> Task<Message> {
        use account_server::{Event, Message as M};
        match event {
            Event::ChangePassword { account, password } => {
                let handle = self.handles.get(&account).cloned();
                let own = self.account_state(&account).map(|s| s.account.jid.clone());
                let (Some(handle), Some(own)) = (handle, own) else {
                    return Task::done(back(M::Changed(
                        account,
                        Err(ChangeError::Refused(RegisterError::NotConnected)),
                    )));
                };
                let secrets = self.secrets.clone();
                let id = account.clone();
                Task::perform(
                    async move {
                        register::change_password_and_save(&handle, &own, &password, secrets, &id)
                            .await
                    },
                    move |result| back(M::Changed(account.clone(), result)),
                )
            }
            Event::Delete { account } => {
                let handle = self.handles.get(&account).cloned();
                let own = self.account_state(&account).map(|s| s.account.jid.clone());
                let (Some(handle), Some(own)) = (handle, own) else {
                    return Task::done(back(M::Deleted(
                        account,
                        Err(RemoveError::Refused(RegisterError::NotConnected)),
                    )));
                };
                let (store, secrets, id) =
                    (self.store.clone(), self.secrets.clone(), account.clone());
                Task::perform(
                    async move { register::remove_everywhere(&handle, &own, store, secrets, &id).await },
                    move |result| back(M::Deleted(account.clone(), result)),
                )
            }
            Event::PasswordChanged { account, password } => {
                // The session signed in with the old one: the next ones use the new one.
                if let Some(state) = self.account_mut(&account) {
                    state.password = Some(password);
                }
                self.reconnect(&account);
                Task::none()
            }
            Event::Deleted(account) => {
                if let Some(handle) = self.handles.remove(&account) {
                    let _ = handle.send(crate::session::Command::Disconnect);
                }
                self.account_removed(account, false, Ok(()))
            }
        }
    }
}
