//! What the app does with the quiet box's actions (see `crate::quiet`): accept a
//! stranger (add them with a subscription, answer their contact request), block them
//! (with a spam report where the server takes them), or delete their conversation here.

use crate::ids::{AccountId, ConversationId};
use crate::session::Command;
use crate::ui::app::startup::blocking;
use crate::ui::i18n::T;
use crate::ui::screen::sidebar::RequestAction;
use crate::ui::{App, Message};
use iced::Task;
use xmpp_parsers::jid::{BareJid, Jid};

impl App {
    pub(in crate::ui) fn on_request(
        &mut self,
        account: AccountId,
        jid: BareJid,
        action: RequestAction,
    ) -> Task<Message> {
        let asked = self
            .account_mut(&account)
            .is_some_and(|s| s.requests.contains(&jid));
        let commands = match action {
            RequestAction::Accept => {
                let mut commands = vec![Command::AddContact {
                    jid: jid.clone(),
                    name: None,
                    subscribe: true,
                }];
                if asked {
                    commands.push(Command::AnswerSubscription {
                        jid: jid.clone(),
                        accept: true,
                    });
                }
                commands
            }
            RequestAction::Block { report } => vec![Command::Block {
                jids: vec![Jid::from(jid.clone())],
                report,
            }],
            RequestAction::Delete => {
                if let Some(state) = self.account_mut(&account) {
                    state.forget_conversation(&jid);
                }
                if self.main.chat().is_some_and(|c| {
                    c.account == account && c.conversation == ConversationId::Chat(jid.clone())
                }) {
                    self.main.close_chat();
                }
                let Some(store) = self.store.clone() else {
                    return Task::none();
                };
                let conversation = ConversationId::Chat(jid);
                return Task::perform(
                    blocking(move || {
                        store
                            .delete_conversation(&account, &conversation)
                            .map_err(|e| e.to_string())
                    }),
                    |result| Message::Background(result.and_then(|r| r)),
                );
            }
        };
        for command in commands {
            if self.send(&account, command).is_err() {
                self.sidebar.set_error(account, T::CommandNotConnected);
                return Task::none();
            }
        }
        if let Some(state) = self.account_mut(&account) {
            state.remove_request(&jid);
        }
        Task::none()
    }
}
